/**
 * The task runners, after Kafka's `WorkerSourceTask` and `WorkerSinkTask`, with the error handling
 * of KIP-298 (`RetryWithToleranceOperator`, `DeadLetterQueueReporter`) and KIP-610's errant record
 * reporter for sinks.
 *
 * Source: poll → transforms → converters → producer (acks=all). A record's source offset becomes
 * committable only when it and every record polled before it for the same source partition were
 * acknowledged; the committable offsets are written every `offset.flush.interval.ms` and on stop.
 * No transactions yet, so at-least-once.
 *
 * Sink: a consumer in group `connect-<connector>` → converters → transforms → put. A
 * RetriableError from put redelivers the same records after a backoff; consumer offsets are
 * committed only as preCommit returns them (after put and flush succeeded).
 */
import type { Admin, Clock, GroupConsumer, Logger, Message, Producer, Samsa, ConsumerRecord } from '@samsa/client';
import type {
  ConnectRecord,
  SinkRecord,
  SinkTask,
  SourceOffset,
  SourcePartition,
  SourceRecord,
  SourceTask,
  TopicPartition,
} from './api.js';
import { RetriableError, tpKey } from './api.js';
import { TransactionAbortedError } from '@samsa/client';
import { decideBoundary, onStop, taskTransactionalId, type ConnectorExactlyOnceConfig, type ConnectorRequest } from './exactlyOnce.js';
import { createConverter, subConfig, type Converter } from './converters.js';
import type { ConnectMetrics } from './metrics.js';
import type { OffsetBackingStore } from './offsetStore.js';
import { offsetKey } from './offsetStore.js';
import { transformationChain, type Transform } from './transforms.js';
import { onlyTopicsExist } from './topicExists.js';

export type TaskState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'STOPPED' | 'RESTARTING';

export interface TaskStatusListener {
  onStateChange(state: TaskState, trace?: string): void;
}

/** What an exactly-once source task needs of its distributed worker (KIP-618). */
export interface ExactlyOnceTaskDeps {
  groupId: string;
  /** The worker's global offset topic (offset.storage.topic). */
  globalOffsetsTopic: string;
  /** Reads the global offset topic up to its last stable offset (read_committed), into `offsets`. */
  readGlobalOffsets(): Promise<void>;
  /** Reads a connector's own offsets topic (created when missing) up to its last stable offset. */
  readConnectorOffsets(topic: string): Promise<OffsetBackingStore>;
}

export interface WorkerTaskDeps {
  exactlyOnce?: ExactlyOnceTaskDeps;
  samsa: Samsa;
  producer: Producer;
  admin: Admin;
  clock: Clock;
  logger: Logger;
  metrics: ConnectMetrics;
  offsets: OffsetBackingStore;
  workerConfig: Record<string, string>;
}

export interface TaskId {
  connector: string;
  task: number;
}

/** Converters and error settings of one connector: its own keys win over the worker's. */
export class TaskSettings {
  readonly keyConverter: Converter;
  readonly valueConverter: Converter;
  readonly transform: Transform;
  readonly tolerateAll: boolean;
  readonly logErrors: boolean;
  readonly dlqTopic: string | undefined;
  readonly dlqContextHeaders: boolean;
  readonly dlqReplicationFactor: number;
  readonly retryBackoffMs: number;

  constructor(connectorConfig: Record<string, string>, workerConfig: Record<string, string>) {
    const pick = (k: string): Record<string, string> => ({ ...subConfig(workerConfig, k), ...subConfig(connectorConfig, k) });
    const keyClass = connectorConfig['key.converter'] ?? workerConfig['key.converter'] ?? 'org.apache.kafka.connect.json.JsonConverter';
    const valueClass =
      connectorConfig['value.converter'] ?? workerConfig['value.converter'] ?? 'org.apache.kafka.connect.json.JsonConverter';
    this.keyConverter = createConverter(keyClass, pick('key.converter'));
    this.valueConverter = createConverter(valueClass, pick('value.converter'));
    this.transform = transformationChain(connectorConfig);
    this.tolerateAll = (connectorConfig['errors.tolerance'] ?? 'none') === 'all';
    this.logErrors = (connectorConfig['errors.log.enable'] ?? 'false') === 'true';
    const dlq = connectorConfig['errors.deadletterqueue.topic.name'] ?? '';
    this.dlqTopic = dlq === '' ? undefined : dlq;
    this.dlqContextHeaders = (connectorConfig['errors.deadletterqueue.context.headers.enable'] ?? 'false') === 'true';
    this.dlqReplicationFactor = Number(connectorConfig['errors.deadletterqueue.topic.replication.factor'] ?? '3');
    this.retryBackoffMs = Number(connectorConfig['retry.backoff.ms'] ?? workerConfig['retry.backoff.ms'] ?? '1000');
  }
}

export function stackOf(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

function headersOut(h: ConnectRecord['headers']): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== null) out[k] = v;
  return out;
}

abstract class WorkerTask {
  protected readonly abort = new AbortController();
  protected paused = false;
  private done: Promise<void> | undefined;
  protected readonly settings: TaskSettings;

  constructor(
    readonly id: TaskId,
    protected readonly connectorConfig: Record<string, string>,
    protected readonly taskConfig: Record<string, string>,
    protected readonly deps: WorkerTaskDeps,
    protected readonly status: TaskStatusListener,
  ) {
    this.settings = new TaskSettings(connectorConfig, deps.workerConfig);
  }

  start(): void {
    this.done = this.run().then(
      () => undefined,
      (err: unknown) => {
        this.deps.metrics.inc('task_error_total', this.id.connector, this.id.task);
        this.deps.logger.error(`task ${this.id.connector}-${this.id.task} failed`, { error: stackOf(err) });
        this.status.onStateChange('FAILED', stackOf(err));
      },
    );
  }

  pause(): void {
    this.paused = true;
    this.status.onStateChange('PAUSED');
  }

  resume(): void {
    this.paused = false;
    this.status.onStateChange('RUNNING');
  }

  /** Stops the loop, commits what is committable, stops the task; never throws. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('task stopping'));
    await this.done;
  }

  protected get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  protected async sleep(ms: number): Promise<void> {
    try {
      await this.deps.clock.sleep(ms, this.abort.signal);
    } catch {
      // Stopping.
    }
  }

  protected abstract run(): Promise<void>;

  /** Kafka's RetryWithToleranceOperator for one stage: the result, or undefined when tolerated. */
  protected tolerate<T>(stage: string, fn: () => T, onTolerated?: (err: unknown) => void): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.deps.metrics.inc('task_error_total', this.id.connector, this.id.task);
      if (!this.settings.tolerateAll) throw err;
      this.deps.metrics.inc('record_skipped_total', this.id.connector, this.id.task);
      if (this.settings.logErrors)
        this.deps.logger.error(`error in stage ${stage} tolerated`, {
          connector: this.id.connector,
          task: this.id.task,
          error: String(err),
        });
      onTolerated?.(err);
      return undefined;
    }
  }
}

/** A source record through transforms and converters: what to produce, or undefined when filtered or tolerated. */
function toProducerMessage(
  record: SourceRecord,
  settings: TaskSettings,
  tolerate: <T>(stage: string, fn: () => T) => T | undefined,
): { topic: string; message: Message<Buffer | null, Buffer | null> } | undefined {
  const transformed = tolerate('TRANSFORMATION', () => settings.transform(record));
  if (!transformed) return undefined;
  const bytes = tolerate('VALUE_CONVERTER', () => ({
    key: settings.keyConverter.fromConnectData(transformed.topic, transformed.keySchema, transformed.key),
    value: settings.valueConverter.fromConnectData(transformed.topic, transformed.valueSchema, transformed.value),
  }));
  if (!bytes) return undefined;
  return {
    topic: transformed.topic,
    message: {
      ...(bytes.key === null ? {} : { key: bytes.key }),
      value: bytes.value,
      headers: headersOut(transformed.headers),
      ...(transformed.kafkaPartition === undefined ? {} : { partition: transformed.kafkaPartition }),
      ...(transformed.timestamp === undefined ? {} : { timestamp: transformed.timestamp }),
    },
  };
}

interface PendingOffset {
  offset: SourceOffset;
  acked: boolean;
}

/** One SourceTask.poll(): a RetriableError waits the backoff and yields nothing (the caller polls again). */
async function pollSource(task: SourceTask, signal: AbortSignal, backoff: () => Promise<void>): Promise<SourceRecord[] | undefined> {
  try {
    return await task.poll(signal);
  } catch (err) {
    if (!(err instanceof RetriableError)) throw err;
    await backoff();
    return undefined;
  }
}

export class WorkerSourceTask extends WorkerTask {
  /** Per source partition, offsets of records sent and not yet known acknowledged, in poll order. */
  private readonly pending = new Map<string, { partition: SourcePartition; queue: PendingOffset[] }>();
  private readonly committable = new Map<string, { partition: SourcePartition; offset: SourceOffset }>();
  private failure: unknown;

  constructor(
    id: TaskId,
    connectorConfig: Record<string, string>,
    taskConfig: Record<string, string>,
    deps: WorkerTaskDeps,
    status: TaskStatusListener,
    private readonly task: SourceTask,
  ) {
    super(id, connectorConfig, taskConfig, deps, status);
  }

  protected async run(): Promise<void> {
    const store = this.deps.offsets;
    const connector = this.id.connector;
    this.task.initialize({ offsetStorageReader: { offset: (p) => store.get(connector, p) } });
    await this.task.start(this.taskConfig);
    this.status.onStateChange('RUNNING');
    const flushEvery = Number(this.deps.workerConfig['offset.flush.interval.ms'] ?? '60000');
    let lastFlush = this.deps.clock.now();
    try {
      while (!this.stopping) {
        if (this.failure !== undefined) throw this.failure;
        if (this.paused) {
          await this.sleep(100);
          continue;
        }
        const records = await pollSource(this.task, this.abort.signal, () => this.sleep(this.settings.retryBackoffMs));
        if (records === undefined) continue;
        this.deps.metrics.inc('source_record_poll_total', connector, this.id.task, records.length);
        for (const record of records) this.send(record);
        if (this.deps.clock.now() - lastFlush >= flushEvery) {
          await this.commitOffsets();
          lastFlush = this.deps.clock.now();
        }
      }
    } finally {
      await this.deps.producer.flush().catch(() => undefined);
      await this.commitOffsets().catch((err: unknown) => this.deps.logger.error('offset commit on stop failed', { error: String(err) }));
      await this.task.stop();
    }
  }

  private send(record: SourceRecord): void {
    const key = offsetKey(this.id.connector, record.sourcePartition);
    let entry = this.pending.get(key);
    if (!entry) this.pending.set(key, (entry = { partition: record.sourcePartition, queue: [] }));
    const pending: PendingOffset = { offset: record.sourceOffset, acked: false };
    entry.queue.push(pending);
    const acked = (): void => {
      pending.acked = true;
      const q = entry.queue;
      let last: PendingOffset | undefined;
      while (q.length > 0 && q[0]!.acked) last = q.shift();
      if (last) this.committable.set(key, { partition: entry.partition, offset: last.offset });
    };
    const transformed = this.tolerate('TRANSFORMATION', () => this.settings.transform(record));
    if (!transformed) {
      acked(); // Filtered or tolerated: nothing to wait for.
      return;
    }
    const bytes = this.tolerate('VALUE_CONVERTER', () => ({
      key: this.settings.keyConverter.fromConnectData(transformed.topic, transformed.keySchema, transformed.key),
      value: this.settings.valueConverter.fromConnectData(transformed.topic, transformed.valueSchema, transformed.value),
    }));
    if (!bytes) {
      acked();
      return;
    }
    this.deps.producer
      .send({
        topic: transformed.topic,
        messages: [
          {
            ...(bytes.key === null ? {} : { key: bytes.key }),
            value: bytes.value,
            headers: headersOut(transformed.headers),
            ...(transformed.kafkaPartition === undefined ? {} : { partition: transformed.kafkaPartition }),
            ...(transformed.timestamp === undefined ? {} : { timestamp: transformed.timestamp }),
          },
        ],
      })
      .then(
        async () => {
          acked();
          this.deps.metrics.inc('source_record_write_total', this.id.connector, this.id.task);
          await this.task.commitRecord(record);
        },
        (err: unknown) => {
          // A record the producer gave up on: the task fails and its offset is never committed.
          this.failure = err;
        },
      )
      .catch((err: unknown) => {
        this.failure = err;
      });
  }

  private async commitOffsets(): Promise<void> {
    if (this.committable.size === 0) return;
    const batch = [...this.committable.values()];
    this.committable.clear();
    await this.deps.offsets.set(this.id.connector, batch);
    this.deps.metrics.inc('offset_commit_total', this.id.connector, this.id.task);
    await this.task.commit();
  }
}

/**
 * Kafka's `ExactlyOnceWorkerSourceTask` (KIP-618): one transactional producer per task
 * (transactional.id `${group.id}-${connector}-${task}`); the records of a boundary and the task's
 * source offsets (written to the offsets topic with the same producer) commit in one transaction.
 * It starts with initTransactions, which fences every older producer of its id (a zombie of this
 * task) and aborts its open transaction, and only then reads the offsets, to their last stable
 * offset, so it resumes from committed offsets only.
 */
export class ExactlyOnceWorkerSourceTask extends WorkerTask {
  private producer: Producer | undefined;
  private failure: unknown;
  /** The open transaction: records polled into it, their latest offset per source partition, when it began. */
  private inTxn = 0;
  private readonly txnRecords: SourceRecord[] = [];
  private readonly txnOffsets = new Map<string, { partition: SourcePartition; offset: SourceOffset }>();
  private txnStartedAt = 0;
  private batchRequest: ConnectorRequest;
  private readonly recordRequests = new Map<SourceRecord, 'commit' | 'abort'>();

  constructor(
    id: TaskId,
    connectorConfig: Record<string, string>,
    taskConfig: Record<string, string>,
    deps: WorkerTaskDeps,
    status: TaskStatusListener,
    private readonly task: SourceTask,
    private readonly eos: ConnectorExactlyOnceConfig,
  ) {
    super(id, connectorConfig, taskConfig, deps, status);
  }

  private get offsetsTopic(): string {
    return this.eos.offsetsTopic ?? this.deps.exactlyOnce!.globalOffsetsTopic;
  }

  protected async run(): Promise<void> {
    const eosDeps = this.deps.exactlyOnce;
    if (!eosDeps) throw new Error('exactly-once source tasks need a distributed worker with exactly.once.source.support=enabled');
    const connector = this.id.connector;
    const transactionalId = taskTransactionalId(eosDeps.groupId, connector, this.id.task);
    const producer = this.deps.samsa.producer({
      transactionalId,
      transactionTimeoutMs: Number(
        this.connectorConfig['producer.override.transaction.timeout.ms'] ??
          this.deps.workerConfig['producer.transaction.timeout.ms'] ??
          '60000',
      ),
      lingerMs: Number(this.deps.workerConfig['producer.linger.ms'] ?? '5'),
    });
    this.producer = producer;
    try {
      // Fence first, read second: after initTransactions no older instance can commit, so the offsets read are final.
      await producer.initTransactions();
      await eosDeps.readGlobalOffsets();
      const own = this.eos.offsetsTopic === undefined ? undefined : await eosDeps.readConnectorOffsets(this.eos.offsetsTopic);
      const global = this.deps.offsets;
      this.task.initialize({
        offsetStorageReader: { offset: (p) => own?.get(connector, p) ?? global.get(connector, p) },
        ...(this.eos.boundary === 'connector'
          ? {
              transactionContext: {
                commitTransaction: (record?: SourceRecord) => this.request('commit', record),
                abortTransaction: (record?: SourceRecord) => this.request('abort', record),
              },
            }
          : {}),
      });
      await this.task.start(this.taskConfig);
      this.status.onStateChange('RUNNING');
      let stopped = false;
      try {
        await this.loop();
        stopped = true;
      } finally {
        await this.finish(stopped && this.failure === undefined);
      }
    } finally {
      await producer.close().catch(() => undefined);
    }
  }

  private request(kind: 'commit' | 'abort', record?: SourceRecord): void {
    if (record === undefined) this.batchRequest = { kind };
    else this.recordRequests.set(record, kind);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.failure !== undefined) throw this.failure;
      if (this.paused) {
        // A paused task holds no transaction open.
        if (this.inTxn > 0 && this.eos.boundary !== 'connector') await this.commitTransaction();
        await this.sleep(100);
        continue;
      }
      const records = await pollSource(this.task, this.abort.signal, () => this.sleep(this.settings.retryBackoffMs));
      if (records === undefined) continue;
      this.deps.metrics.inc('source_record_poll_total', this.id.connector, this.id.task, records.length);
      for (const record of records) {
        this.send(record);
        const asked = this.recordRequests.get(record);
        if (asked !== undefined) {
          this.recordRequests.delete(record);
          if (asked === 'commit') await this.commitTransaction();
          else await this.abortTransaction();
        }
      }
      if (this.failure !== undefined) throw this.failure;
      const decision = decideBoundary({
        boundary: this.eos.boundary,
        recordsInTxn: this.inTxn,
        txnStartedAt: this.txnStartedAt,
        now: this.deps.clock.now(),
        intervalMs: this.eos.intervalMs,
        request: this.batchRequest,
      });
      this.batchRequest = undefined;
      if (decision === 'commit') await this.commitTransaction();
      else if (decision === 'abort') await this.abortTransaction();
    }
  }

  private send(record: SourceRecord): void {
    const producer = this.producer!;
    if (this.inTxn === 0) {
      producer.beginTransaction();
      this.txnStartedAt = this.deps.clock.now();
    }
    this.inTxn++;
    this.txnRecords.push(record);
    this.txnOffsets.set(offsetKey(this.id.connector, record.sourcePartition), {
      partition: record.sourcePartition,
      offset: record.sourceOffset,
    });
    const out = toProducerMessage(record, this.settings, (stage, fn) => this.tolerate(stage, fn));
    if (!out) return; // Filtered or tolerated: its offset still commits with the transaction.
    producer.send({ topic: out.topic, messages: [out.message] }).then(
      () => this.deps.metrics.inc('source_record_write_total', this.id.connector, this.id.task),
      (err: unknown) => {
        // An abort we asked for rejects the unsent records; anything else fails the task.
        if (!(err instanceof TransactionAbortedError)) this.failure ??= err;
      },
    );
  }

  /** The offsets of the transaction go to the offsets topic inside it, then EndTxn(commit). */
  private async commitTransaction(): Promise<void> {
    if (this.inTxn === 0) return;
    const producer = this.producer!;
    const offsets = [...this.txnOffsets.values()];
    if (offsets.length > 0)
      void producer
        .send({
          topic: this.offsetsTopic,
          messages: offsets.map(({ partition, offset }) => ({
            key: Buffer.from(offsetKey(this.id.connector, partition)),
            value: Buffer.from(JSON.stringify(offset)),
          })),
        })
        .catch((err: unknown) => {
          this.failure ??= err;
        });
    await producer.commitTransaction();
    const records = this.txnRecords.splice(0);
    this.inTxn = 0;
    this.txnOffsets.clear();
    this.txnStartedAt = this.deps.clock.now();
    this.deps.metrics.inc('offset_commit_total', this.id.connector, this.id.task);
    this.deps.metrics.inc('transaction_commit_total', this.id.connector, this.id.task);
    for (const r of records) await this.task.commitRecord(r);
    await this.task.commit();
  }

  private async abortTransaction(): Promise<void> {
    if (this.inTxn === 0) return;
    await this.producer!.abortTransaction();
    this.txnRecords.length = 0;
    this.inTxn = 0;
    this.txnOffsets.clear();
    this.txnStartedAt = this.deps.clock.now();
    this.deps.metrics.inc('transaction_abort_total', this.id.connector, this.id.task);
  }

  /** A clean stop commits (poll/interval) or aborts (connector) the open transaction; a failure leaves it to be aborted by the fence. */
  private async finish(clean: boolean): Promise<void> {
    try {
      if (clean) {
        const what = onStop(this.eos.boundary, this.inTxn);
        if (what === 'commit') await this.commitTransaction();
        else if (what === 'abort') await this.abortTransaction();
      } else if (this.inTxn > 0) {
        await this.producer!.abortTransaction().catch(() => undefined);
      }
    } catch (err) {
      this.deps.logger.error('transaction end on stop failed', { connector: this.id.connector, task: this.id.task, error: String(err) });
    } finally {
      await this.task.stop();
    }
  }
}

export class WorkerSinkTask extends WorkerTask {
  private consumer: GroupConsumer | undefined;
  /** Next offset to read per partition, for records put successfully. */
  private readonly currentOffsets = new Map<string, { tp: TopicPartition; offset: bigint }>();
  private readonly rewinds = new Map<string, bigint>();
  private dlqReady: Promise<void> | undefined;

  constructor(
    id: TaskId,
    connectorConfig: Record<string, string>,
    taskConfig: Record<string, string>,
    deps: WorkerTaskDeps,
    status: TaskStatusListener,
    private readonly task: SinkTask,
  ) {
    super(id, connectorConfig, taskConfig, deps, status);
  }

  /** KIP-610's ErrantRecordReporter: the record goes to the DLQ (or fails the task without tolerance). */
  async report(record: SinkRecord, error: Error): Promise<void> {
    this.deps.metrics.inc('task_error_total', this.id.connector, this.id.task);
    if (!this.settings.tolerateAll) throw error;
    this.deps.metrics.inc('record_skipped_total', this.id.connector, this.id.task);
    const raw = (record as SinkRecord & { raw?: ConsumerRecord<Buffer | null, Buffer | null> }).raw;
    if (raw) await this.sendToDlq(raw, 'TASK_PUT', this.task.constructor.name, error);
  }

  protected async run(): Promise<void> {
    const connector = this.id.connector;
    // Kafka's worker-level `consumer.*` settings, overridden per connector by `consumer.override.*`.
    const consumerSetting = (key: string): string | undefined =>
      this.connectorConfig[`consumer.override.${key}`] ?? this.deps.workerConfig[`consumer.${key}`];
    const sessionTimeout = consumerSetting('session.timeout.ms');
    const heartbeat = consumerSetting('heartbeat.interval.ms');
    const consumer = this.deps.samsa.consumer({
      groupId: `connect-${connector}`,
      autoCommit: false,
      autoOffsetReset: (consumerSetting('auto.offset.reset') ?? 'earliest') as 'earliest' | 'latest',
      ...(sessionTimeout === undefined ? {} : { sessionTimeoutMs: Number(sessionTimeout) }),
      ...(heartbeat === undefined ? {} : { heartbeatIntervalMs: Number(heartbeat) }),
      clientId: `connector-consumer-${connector}-${this.id.task}`,
      rebalanceListener: {
        assigned: async (partitions) => {
          await this.task.open(partitions);
        },
        revoked: async (partitions) => {
          await this.commitOffsets();
          for (const tp of partitions) this.currentOffsets.delete(tpKey(tp));
          await this.task.close(partitions);
        },
        lost: async (partitions) => {
          for (const tp of partitions) this.currentOffsets.delete(tpKey(tp));
          await this.task.close(partitions);
        },
      },
    });
    this.consumer = consumer;
    this.task.initialize({
      offset: (offsets) => {
        for (const [k, v] of offsets) this.rewinds.set(k, v);
      },
      errantRecordReporter: (r, e) => this.report(r, e),
    });
    await this.task.start(this.taskConfig);
    const regex = this.connectorConfig['topics.regex'];
    consumer.subscribe(
      regex
        ? new RegExp(`^(?:${regex})$`)
        : (this.connectorConfig.topics ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    );
    this.status.onStateChange('RUNNING');
    const flushEvery = Number(this.deps.workerConfig['offset.flush.interval.ms'] ?? '60000');
    let lastFlush = this.deps.clock.now();
    try {
      while (!this.stopping) {
        if (this.paused) {
          await this.sleep(100);
          continue;
        }
        await this.applyRewinds();
        const polled = await consumer.poll({ maxWaitMs: 500 });
        if (this.stopping) break;
        this.deps.metrics.inc('sink_record_read_total', connector, this.id.task, polled.length);
        const records: SinkRecord[] = [];
        for (const raw of polled) {
          const converted = await this.convert(raw);
          if (converted) records.push(converted);
        }
        if (polled.length > 0) await this.deliver(records);
        for (const raw of polled)
          this.currentOffsets.set(tpKey(raw), { tp: { topic: raw.topic, partition: raw.partition }, offset: raw.offset + 1n });
        if (this.deps.clock.now() - lastFlush >= flushEvery) {
          await this.commitOffsets();
          lastFlush = this.deps.clock.now();
        }
      }
      await this.commitOffsets();
    } finally {
      await this.task.stop();
      await consumer.close();
    }
  }

  private async applyRewinds(): Promise<void> {
    for (const [k, offset] of this.rewinds) {
      const cut = k.lastIndexOf('-');
      await this.consumer!.seek({ topic: k.slice(0, cut), partition: Number(k.slice(cut + 1)), offset });
    }
    this.rewinds.clear();
  }

  /** put, and on a RetriableError the same records again after a backoff, until it succeeds or the task stops. */
  private async deliver(records: SinkRecord[]): Promise<void> {
    for (;;) {
      try {
        await this.task.put(records);
        this.deps.metrics.inc('sink_record_send_total', this.id.connector, this.id.task, records.length);
        return;
      } catch (err) {
        if (!(err instanceof RetriableError) || this.stopping) throw err;
        this.deps.logger.warn('sink task asked for a retry; redelivering the batch', {
          connector: this.id.connector,
          task: this.id.task,
          error: err.message,
        });
        await this.sleep(this.settings.retryBackoffMs);
        if (this.stopping) throw err;
      }
    }
  }

  private async convert(raw: ConsumerRecord<Buffer | null, Buffer | null>): Promise<SinkRecord | undefined> {
    let failedStage = '';
    let failure: unknown;
    const onTolerated = (stage: string) => (err: unknown) => {
      failedStage = stage;
      failure = err;
    };
    const key = this.tolerate(
      'KEY_CONVERTER',
      () => this.settings.keyConverter.toConnectData(raw.topic, raw.key),
      onTolerated('KEY_CONVERTER'),
    );
    const value =
      key &&
      this.tolerate(
        'VALUE_CONVERTER',
        () => this.settings.valueConverter.toConnectData(raw.topic, raw.value),
        onTolerated('VALUE_CONVERTER'),
      );
    let out: SinkRecord | null | undefined;
    if (key && value) {
      const record: SinkRecord & { raw: typeof raw } = {
        topic: raw.topic,
        kafkaPartition: raw.partition,
        kafkaOffset: raw.offset,
        timestamp: Number(raw.timestamp),
        keySchema: key.schema,
        key: key.value,
        valueSchema: value.schema,
        value: value.value,
        headers: { ...raw.headers },
        raw,
      };
      out = this.tolerate('TRANSFORMATION', () => this.settings.transform(record), onTolerated('TRANSFORMATION'));
      if (out === null) return undefined; // Filtered.
    }
    if (out) return out;
    if (failure !== undefined) await this.sendToDlq(raw, failedStage, 'converter', failure);
    return undefined;
  }

  private async sendToDlq(
    raw: ConsumerRecord<Buffer | null, Buffer | null>,
    stage: string,
    className: string,
    err: unknown,
  ): Promise<void> {
    const topic = this.settings.dlqTopic;
    if (!topic) return;
    this.dlqReady ??= this.ensureDlqTopic(topic);
    await this.dlqReady;
    const headers: Record<string, string | Buffer> = {};
    for (const [k, v] of Object.entries(raw.headers)) if (v !== null) headers[k] = v;
    if (this.settings.dlqContextHeaders) {
      const e = err instanceof Error ? err : new Error(String(err));
      Object.assign(headers, {
        '__connect.errors.topic': raw.topic,
        '__connect.errors.partition': String(raw.partition),
        '__connect.errors.offset': String(raw.offset),
        '__connect.errors.connector.name': this.id.connector,
        '__connect.errors.task.id': String(this.id.task),
        '__connect.errors.stage': stage,
        '__connect.errors.class.name': className,
        '__connect.errors.exception.class.name': e.name,
        '__connect.errors.exception.message': e.message,
        '__connect.errors.exception.stacktrace': stackOf(e),
      });
    }
    await this.deps.producer.send({ topic, messages: [{ ...(raw.key === null ? {} : { key: raw.key }), value: raw.value, headers }] });
    this.deps.metrics.inc('deadletterqueue_produce_total', this.id.connector, this.id.task);
  }

  private async ensureDlqTopic(topic: string): Promise<void> {
    const existing = await this.deps.admin.listTopics();
    if (existing.includes(topic)) return;
    const brokers = (await this.deps.admin.describeCluster()).brokers.length;
    await this.deps.admin
      .createTopics([{ topic, numPartitions: 1, replicationFactor: Math.max(1, Math.min(this.settings.dlqReplicationFactor, brokers)) }])
      .catch((err: unknown) => {
        if (!onlyTopicsExist(err)) throw err;
      });
  }

  private async commitOffsets(): Promise<void> {
    if (!this.consumer || this.currentOffsets.size === 0) return;
    const offsets = new Map([...this.currentOffsets].map(([k, v]) => [k, v.offset]));
    const approved = await this.task.preCommit(offsets);
    const commits = [...approved].flatMap(([k, offset]) => {
      const entry = this.currentOffsets.get(k);
      return entry ? [{ topic: entry.tp.topic, partition: entry.tp.partition, offset }] : [];
    });
    if (commits.length === 0) return;
    await this.consumer.commit(commits);
    this.deps.metrics.inc('offset_commit_total', this.id.connector, this.id.task);
  }
}
