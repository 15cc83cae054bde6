/**
 * The runtime's record collector (Kafka's `RecordCollectorImpl` with its
 * `ProductionExceptionHandler`): sends through a producer, remembers the sends in flight so a commit
 * can wait for every ack, tracks the next offset of each partition written (changelog checkpoints),
 * and decides what a failed send does. A failed changelog or repartition send always fails the
 * thread: skipping it would corrupt restored state or lose records downstream. A failed send to an
 * output topic fails the thread, is skipped (logged, counted), or has its bytes copied to a
 * dead-letter topic, as configured. Under exactly_once_v2 `beforeSend` opens the transaction before
 * the first send, and `reset()` forgets an aborted transaction's sends and failure.
 */
import type { Logger, Producer } from '@samsa/client';
import type { Headers } from '../record.js';
import { StreamsError } from '../task.js';
import type { RecordCollector } from '../task.js';

export type ProductionHandler = 'fail' | 'continue' | { deadLetterQueue: string };

/** The part of a Producer the collector uses. */
export type CollectorProducer = Pick<Producer<Buffer | null, Buffer | null>, 'send' | 'flush'>;

export interface CollectorOptions {
  /** Called before every send (exactly_once_v2: begins the transaction if none is open). */
  beforeSend?: () => void;
}

export class ProducerCollector implements RecordCollector {
  private pending: Array<Promise<unknown>> = [];
  private failure: Error | null = null;
  /** Bumped by reset(): a send of an earlier (aborted) transaction that fails later changes nothing. */
  private epoch = 0;
  /** Sends to output topics the handler skipped. */
  skippedRecords = 0;
  /** Next offset per `topic\0partition` after the acked sends (changelog checkpoints). */
  readonly nextOffsets = new Map<string, bigint>();

  constructor(
    private producer: CollectorProducer,
    private readonly handler: ProductionHandler,
    /** Topics starting with this (`<applicationId>-`) are internal: their failures always fail. */
    private readonly internalPrefix: string,
    private readonly logger?: Logger,
    private readonly options: CollectorOptions = {},
  ) {}

  /** A replacement producer (exactly_once_v2, after the old one was fenced or could not abort). */
  setProducer(producer: CollectorProducer): void {
    this.producer = producer;
  }

  /**
   * Forget the sends of an aborted transaction and the failure they caused: they were discarded or
   * are invisible to read_committed readers. Their promises still settle; they no longer count.
   */
  reset(): void {
    const dropped = this.pending;
    this.pending = [];
    this.failure = null;
    this.epoch++;
    // Their rejections were already turned into `failure` by onFailure; nothing is left unhandled.
    void Promise.allSettled(dropped);
  }

  send(topic: string, partition: number | undefined, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): void {
    if (this.failure) throw this.failure;
    this.options.beforeSend?.();
    const h: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== null) h[k] = v;
    const epoch = this.epoch;
    const message = { key: key ?? undefined, value, timestamp, headers: h, ...(partition === undefined ? {} : { partition }) };
    const p = this.producer.send({ topic, messages: [message] }).then(
      (metas) => {
        for (const m of metas) {
          const k = `${m.topic}\0${m.partition}`;
          if (m.offset >= 0n && (this.nextOffsets.get(k) ?? -1n) < m.offset + 1n) this.nextOffsets.set(k, m.offset + 1n);
        }
      },
      (err: Error) => (epoch === this.epoch ? this.onFailure(topic, message, err) : undefined),
    );
    this.pending.push(p);
  }

  private onFailure(
    topic: string,
    message: { key?: Buffer; value: Buffer | null; timestamp: number; headers: Record<string, Buffer> },
    err: Error,
  ): Promise<void> | void {
    const internal = topic.startsWith(this.internalPrefix);
    if (internal || this.handler === 'fail') {
      this.failure ??= new StreamsError('PRODUCTION_ERROR', `could not produce to ${topic}: ${err.message}`, { cause: err });
      return;
    }
    this.skippedRecords++;
    this.logger?.warn(`skipping a record for ${topic} that could not be produced: ${err.message}`);
    if (this.handler === 'continue') return;
    const dlq = this.handler.deadLetterQueue;
    return this.producer
      .send({
        topic: dlq,
        messages: [
          {
            ...message,
            headers: {
              ...message.headers,
              '__streams.errors.exception': Buffer.from(err.message),
              '__streams.errors.topic': Buffer.from(topic),
            },
          },
        ],
      })
      .then(
        () => undefined,
        (dlqErr: Error) => {
          this.failure ??= new StreamsError(
            'PRODUCTION_ERROR',
            `could not produce to ${topic} nor to its dead-letter topic ${dlq}: ${dlqErr.message}`,
            { cause: dlqErr },
          );
        },
      );
  }

  /** Wait for every send so far; throws the first failure the handler did not skip. */
  async flush(): Promise<void> {
    const waiting = this.pending;
    this.pending = [];
    await this.producer.flush();
    await Promise.all(waiting);
    if (this.failure) throw this.failure;
  }
}
