/**
 * A topic read from the beginning and followed, after Kafka Connect's `KafkaBasedLog`: the
 * distributed worker's config, offset and status topics are each one of these. Every record is
 * handed to `onRecord` in partition order; `readToEnd()` waits until everything written before the
 * call has been handed over.
 */
import type { Admin, Consumer, Logger, Producer, Samsa } from '@samsa/client';

export class KafkaBasedLog {
  private consumer: Consumer | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly samsa: Samsa,
    private readonly admin: Admin,
    private readonly producer: Producer,
    readonly topic: string,
    private readonly partitions: number,
    private readonly onRecord: (key: string | null, value: Buffer | null, timestamp: number, offset: bigint) => void,
    private readonly logger: Logger,
    /**
     * read_committed for the offset topic under exactly-once sources (KIP-618): offsets of aborted
     * transactions are never applied, and the end is the last stable offset.
     */
    private readonly isolationLevel: 'read_uncommitted' | 'read_committed' = 'read_uncommitted',
  ) {}

  async start(): Promise<void> {
    const consumer = this.samsa.consumer({ autoOffsetReset: 'earliest', isolationLevel: this.isolationLevel });
    this.consumer = consumer;
    const tps = Array.from({ length: this.partitions }, (_, partition) => ({ topic: this.topic, partition }));
    consumer.assign(tps);
    for (const tp of tps) await consumer.seek({ ...tp, offset: 'earliest' });
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const records = await consumer.poll({ maxWaitMs: 200 });
          for (const r of records) this.onRecord(r.key === null ? null : r.key.toString('utf8'), r.value, Number(r.timestamp), r.offset);
        } catch (err) {
          if (this.stopped) return;
          this.logger.warn('reading an internal topic failed; retrying', { topic: this.topic, error: String(err) });
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
    await this.readToEnd();
  }

  async readToEnd(timeoutMs = 30_000): Promise<void> {
    const ends = await this.admin.listOffsets(
      this.topic,
      Array.from({ length: this.partitions }, (_, partition) => ({ partition, timestamp: 'latest' as const })),
      { isolationLevel: this.isolationLevel },
    );
    const deadline = Date.now() + timeoutMs;
    for (const end of ends) {
      while ((this.consumer!.position({ topic: this.topic, partition: end.partition }) ?? 0n) < end.offset) {
        if (Date.now() > deadline) throw new Error(`timed out reading ${this.topic} to its end`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  async send(key: string, value: unknown): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      messages: [{ key: Buffer.from(key), value: value === null ? null : Buffer.from(JSON.stringify(value)) }],
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.close();
    await this.loop;
  }
}
