/**
 * The `_schemas` topic as the registry's log (mirrors Confluent's `KafkaStore` and
 * `KafkaStoreReaderThread`, with the log-ordered writer election of README "One writer" in place of
 * Confluent's group-protocol leader election):
 *
 * - a reader loop polls partition 0 from the start and applies every record to the state, in order;
 * - an election tick claims the next epoch when no writer has been heard from for `leaseMs`, and
 *   heartbeats while this instance is the writer;
 * - `append` stamps the writer's epoch, produces with acks=all and resolves only when the reader
 *   loop has applied those offsets and they were not fenced (read-your-writes).
 *
 * Only @samsa/client's public API is used.
 */
import { randomUUID } from 'node:crypto';
import {
  noopLogger,
  systemClock,
  TopicAlreadyExistsError,
  type Admin,
  type Clock,
  type Consumer,
  type Logger,
  type Producer,
  type Samsa,
} from '@samsa/client';
import { ErrorCode, RegistryError } from './errors.js';
import { NotWriterError, type RegistryLog } from './log.js';
import { WRITER_KEY, decodeRecord, encodeRecord, type RegistryRecord } from './records.js';
import type { RegistryState } from './state.js';

export interface SamsaLogOptions {
  topic?: string;
  /** This instance's URL, given to other instances so they can forward writes here. */
  url: string;
  instanceId?: string;
  /** A writer not heard from for this long is replaced. Default 10 s. */
  leaseMs?: number;
  /** Bound on waiting for the log (sync, read-back). Default 30 s. */
  timeoutMs?: number;
  /** Replication factor when this instance creates the topic. Default min(3, brokers). */
  replicationFactor?: number;
  clock?: Clock;
  logger?: Logger;
}

interface Waiter {
  offset: bigint;
  resolve: () => void;
}

export class SamsaLog implements RegistryLog {
  readonly topic: string;
  readonly instanceId: string;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private admin!: Admin;
  private producer!: Producer;
  private consumer!: Consumer;
  /** The next offset the reader loop will apply. */
  private nextOffset = 0n;
  private readonly waiters: Waiter[] = [];
  /** Recently read offsets → applied (true) or fenced (false), for `append` to learn its outcome. */
  private readonly outcomes = new Map<bigint, boolean>();
  private closed = false;
  private readerDone: Promise<void> = Promise.resolve();
  private electionTimer: NodeJS.Timeout | null = null;
  private lastHeartbeatAt = 0;
  private claiming = false;

  constructor(
    private readonly samsa: Samsa,
    private readonly state: RegistryState,
    private readonly options: SamsaLogOptions,
  ) {
    this.topic = options.topic ?? '_schemas';
    this.instanceId = options.instanceId ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  private startedPromise: Promise<void> | null = null;

  /** Creates the topic if needed, replays it, then starts the reader loop and the election. */
  start(): Promise<void> {
    this.startedPromise ??= this.doStart();
    return this.startedPromise;
  }

  private async doStart(): Promise<void> {
    this.admin = this.samsa.admin();
    await this.ensureTopic();
    this.producer = this.samsa.producer({ acks: -1 });
    this.consumer = this.samsa.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 });
    this.consumer.assign([{ topic: this.topic, partition: 0 }]);
    await this.consumer.seek({ topic: this.topic, partition: 0, offset: 'earliest' });
    this.readerDone = this.readLoop();
    await this.syncToEnd();
    this.electionTimer = setInterval(() => void this.electionTick(), Math.max(50, Math.floor(this.leaseMs / 3)));
    await this.electionTick();
  }

  private async ensureTopic(): Promise<void> {
    const existing = await this.admin
      .describeTopics()
      .then((ts) => ts.find((t) => t.name === this.topic))
      .catch(() => undefined);
    if (existing) return;
    const brokers = (await this.admin.describeCluster()).brokers.length;
    try {
      await this.admin.createTopics([
        {
          topic: this.topic,
          numPartitions: 1,
          replicationFactor: this.options.replicationFactor ?? Math.min(3, Math.max(1, brokers)),
          configs: { 'cleanup.policy': 'compact' },
        },
      ]);
    } catch (err) {
      if (!(err instanceof TopicAlreadyExistsError)) throw err;
    }
  }

  private async readLoop(): Promise<void> {
    while (!this.closed) {
      let records;
      try {
        records = await this.consumer.poll({ maxWaitMs: 200 });
      } catch (err) {
        if (this.closed) return;
        this.logger.warn('schema registry: reading the log failed; retrying', { error: String(err) });
        await this.clock.sleep(200);
        continue;
      }
      for (const r of records) {
        const decoded = decodeRecord(r.key, r.value);
        const applied = decoded ? this.state.apply(decoded, this.clock.now()) : false;
        this.outcomes.set(r.offset, applied);
        if (this.outcomes.size > 10_000) this.outcomes.delete(this.outcomes.keys().next().value!);
        this.nextOffset = r.offset + 1n;
      }
      if (records.length === 0) {
        // Compaction may leave gaps: what the consumer's position says is what we have read.
        const position = this.consumer.position({ topic: this.topic, partition: 0 });
        if (position !== undefined && position > this.nextOffset) this.nextOffset = position;
      }
      this.wake();
    }
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.nextOffset >= w.offset) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once every offset below `offset` has been applied; 50002 after timeoutMs. */
  private waitUntil(offset: bigint): Promise<void> {
    if (this.nextOffset >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(
          new RegistryError(
            ErrorCode.OPERATION_TIMEOUT,
            `Timed out after ${this.timeoutMs} ms reading ${this.topic} up to offset ${offset}`,
          ),
        );
      }, this.timeoutMs);
      const waiter: Waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  async sync(): Promise<void> {
    if (!this.startedPromise) throw new RegistryError(ErrorCode.STORE_ERROR, 'The schema registry store is not started');
    await this.startedPromise;
    await this.syncToEnd();
  }

  private async syncToEnd(): Promise<void> {
    const [end] = await this.admin.listOffsets(this.topic, [{ partition: 0, timestamp: 'latest' }]);
    await this.waitUntil(end?.offset ?? 0n);
  }

  isWriter(): boolean {
    return this.state.writer?.instanceId === this.instanceId;
  }

  writerUrl(): string | null {
    return this.isWriter() ? null : (this.state.writer?.url ?? null);
  }

  async append(records: RegistryRecord[]): Promise<void> {
    await this.startedPromise;
    const writer = this.state.writer;
    if (!writer || writer.instanceId !== this.instanceId) throw new NotWriterError(writer?.url ?? null);
    const stamped = records.map((r) =>
      r.value === null ? r : { key: r.key, value: { ...r.value, epoch: writer.epoch } as RegistryRecord['value'] },
    );
    const sent = await this.produce(stamped);
    await this.waitUntil(sent[sent.length - 1]! + 1n);
    if (sent.some((o) => this.outcomes.get(o) === false)) {
      // Another instance claimed the next epoch before our records: they changed nothing.
      throw new NotWriterError(this.state.writer?.url ?? null);
    }
  }

  private async produce(records: RegistryRecord[]): Promise<bigint[]> {
    const messages = records.map((r) => {
      const { key, value } = encodeRecord(r);
      return { key, value, partition: 0 };
    });
    const meta = await this.producer.send({ topic: this.topic, messages, acks: -1 });
    return meta.map((m) => m.offset);
  }

  /** Heartbeat while writer; claim the next epoch when the writer's lease has run out. */
  private async electionTick(): Promise<void> {
    if (this.closed || this.claiming) return;
    this.claiming = true;
    try {
      const now = this.clock.now();
      const writer = this.state.writer;
      const value = { epoch: 0, instanceId: this.instanceId, url: this.options.url, leaseMs: this.leaseMs };
      if (writer && writer.instanceId === this.instanceId) {
        if (now - this.lastHeartbeatAt >= this.leaseMs / 3) {
          this.lastHeartbeatAt = now;
          await this.produce([{ key: WRITER_KEY, value: { ...value, epoch: writer.epoch } }]);
        }
        return;
      }
      if (writer && now - writer.lastSeenAt < writer.leaseMs) return;
      // Claim epoch+1: the first claim in log order wins; read back to learn whether it was ours.
      const epoch = (writer?.epoch ?? 0) + 1;
      this.logger.info('schema registry: claiming the writer role', { epoch, instanceId: this.instanceId });
      const [offset] = await this.produce([{ key: WRITER_KEY, value: { ...value, epoch } }]);
      await this.waitUntil(offset! + 1n);
      if (this.isWriter()) {
        this.lastHeartbeatAt = this.clock.now();
        this.logger.info('schema registry: this instance is the writer', { epoch });
      }
    } catch (err) {
      if (!this.closed) this.logger.warn('schema registry: election tick failed', { error: String(err) });
    } finally {
      this.claiming = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.electionTimer) clearInterval(this.electionTimer);
    await this.consumer?.close().catch(() => {});
    await this.readerDone.catch(() => {});
    await this.producer?.close().catch(() => {});
  }
}
