/**
 * The producer: serializes typed messages, picks each one's partition, builds one RecordBatch v2
 * per partition and hands the batches to the Sender (one Produce request per leader broker,
 * retries with metadata refresh). `send` answers per record; `sendBatch` is the lean path for
 * many records to one partition (one batch, one promise, no per-record results).
 */
import { CompressionType, RECORD_BATCH_OVERHEAD, RecordBatchBuilder, maxRecordSize } from '@samsa/protocol';
import type { RecordInput } from '@samsa/protocol';
import type { Clock, Random } from '../clock.js';
import type { Cluster } from '../cluster/cluster.js';
import type { TopicInfo } from '../cluster/metadata.js';
import { InvalidRequestError, SamsaClosedError, UnknownTopicOrPartitionError } from '../errors.js';
import type { Logger } from '../logger.js';
import { Retrier, resolveRetryOptions } from '../retry.js';
import type { ResolvedRetryOptions, RetryOptions } from '../retry.js';
import { serdes } from '../serdes.js';
import type { Serde } from '../serdes.js';
import { defaultPartitioner } from './partitioner.js';
import type { Partitioner } from './partitioner.js';
import { Sender } from './sender.js';
import type { Acks, ProduceBatch } from './sender.js';

export interface Message<K, V> {
  /** Omitted or undefined: a null key (round-robin partitioning). */
  key?: K;
  value: V;
  headers?: Record<string, string | Buffer>;
  /** Explicit partition; otherwise the partitioner decides. */
  partition?: number;
  /** Create time in ms since the epoch; defaults to the clock's now. */
  timestamp?: bigint | number;
}

export interface ProducerRecord<K, V> {
  topic: string;
  messages: readonly Message<K, V>[];
  acks?: Acks;
  /** How long the broker may wait for replication (acks=-1). */
  timeoutMs?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1n with acks=0. */
  offset: bigint;
  /** The create time sent, or the broker's LogAppendTime when the topic uses it. */
  timestamp: bigint;
}

export interface BatchRecord<K, V> {
  topic: string;
  /** Default: round-robin over the topic's partitions, one pick per batch. */
  partition?: number;
  /** `partition` on a message is ignored here. */
  messages: readonly Message<K, V>[];
  acks?: Acks;
  timeoutMs?: number;
}

export interface BatchMetadata {
  topic: string;
  partition: number;
  /** Offset of the first record (the rest follow contiguously); -1n with acks=0. */
  baseOffset: bigint;
  count: number;
  /** -1n unless the topic uses LogAppendTime. */
  logAppendTime: bigint;
}

export interface ProducerOptions<K, V> {
  key?: Serde<K>;
  value?: Serde<V>;
  /** Default -1 (all in-sync replicas). */
  acks?: Acks;
  /** Broker-side replication wait. Default 30 s. */
  timeoutMs?: number;
  /** Default none. */
  compression?: CompressionType;
  partitioner?: Partitioner;
  /** Overrides the client's retry options for this producer. */
  retry?: RetryOptions;
  /** Produce requests in flight per broker. Default 5. */
  maxInFlightRequests?: number;
}

export interface ProducerDeps {
  cluster: Cluster;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** The client's retry options (ProducerOptions.retry overrides them). */
  retry: ResolvedRetryOptions;
}

interface Prepared {
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[] | undefined;
  timestamp: bigint;
}

function checkAcks(acks: unknown): Acks {
  if (acks !== 0 && acks !== 1 && acks !== -1) throw new InvalidRequestError(`acks must be 0, 1 or -1, got ${String(acks)}`);
  return acks;
}

export class Producer<K = Buffer | null, V = Buffer | null> {
  private readonly keySerde: Serde<K>;
  private readonly valueSerde: Serde<V>;
  private readonly acks: Acks;
  private readonly timeoutMs: number;
  private readonly compression: CompressionType;
  private readonly partitioner: Partitioner;
  private readonly retrier: Retrier;
  private readonly sender: Sender;
  private readonly pending = new Set<Promise<unknown>>();
  /** The value serde passes Buffers through unchanged (serdes.bytes, the default). */
  private readonly valueIsBytes: boolean;
  private closed = false;

  constructor(options: ProducerOptions<K, V>, private readonly deps: ProducerDeps) {
    this.keySerde = options.key ?? (serdes.bytes as unknown as Serde<K>);
    this.valueSerde = options.value ?? (serdes.bytes as unknown as Serde<V>);
    this.valueIsBytes = (this.valueSerde as unknown) === serdes.bytes;
    this.acks = checkAcks(options.acks ?? -1);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.compression = options.compression ?? CompressionType.NONE;
    this.partitioner = options.partitioner ?? defaultPartitioner(deps.random);
    const retry = options.retry ? resolveRetryOptions({ ...deps.retry, ...options.retry }) : deps.retry;
    this.retrier = new Retrier({ retry, clock: deps.clock, random: deps.random, logger: deps.logger });
    const maxInFlightRequests = options.maxInFlightRequests ?? 5;
    if (!Number.isInteger(maxInFlightRequests) || maxInFlightRequests < 1) throw new RangeError(`maxInFlightRequests must be a positive integer, got ${maxInFlightRequests}`);
    this.sender = new Sender({ cluster: deps.cluster, retrier: this.retrier, logger: deps.logger, maxInFlightRequests });
  }

  /**
   * Writes `messages` to `topic` and resolves with each record's partition and offset, in input
   * order. Records for one partition travel as one batch and keep their relative order.
   */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata[]> {
    return this.track(this.doSend(record));
  }

  /** Writes many records to one partition as one batch: one request, one result. */
  sendBatch(batch: BatchRecord<K, V>): Promise<BatchMetadata> {
    return this.track(this.doSendBatch(batch));
  }

  /** Stops accepting sends and waits for those in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = (): void => void this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private async doSend(record: ProducerRecord<K, V>): Promise<RecordMetadata[]> {
    const { topic, messages } = this.checkRecord(record);
    const acks = checkAcks(record.acks ?? this.acks);
    const now = BigInt(this.deps.clock.now());
    const prepared = messages.map((m) => this.prepare(m, now));
    if (prepared.length === 0) return [];

    const info = await this.topicInfo(topic);
    const available = info.partitions.filter((p) => p.leader >= 0).map((p) => p.partition);
    const partitionCount = info.partitions.length;
    const partitions = new Array<number>(prepared.length);
    for (let i = 0; i < prepared.length; i++) {
      const explicit = messages[i]!.partition;
      partitions[i] = explicit ?? this.partitioner({ topic, key: prepared[i]!.key, partitionCount, availablePartitions: available });
    }
    await this.checkPartitions(topic, info, partitions);

    // One batch per partition, records in input order within it.
    const byPartition = new Map<number, number[]>();
    partitions.forEach((p, i) => {
      const list = byPartition.get(p);
      if (list) list.push(i);
      else byPartition.set(p, [i]);
    });
    const groups = [...byPartition];
    const batches: ProduceBatch[] = groups.map(([partition, indices]) => ({
      topic, partition, records: this.build(indices.map((i) => prepared[i]!)), recordCount: indices.length,
    }));
    const results = await this.sender.send(batches, { acks, timeoutMs: record.timeoutMs ?? this.timeoutMs });

    const out = new Array<RecordMetadata>(prepared.length);
    groups.forEach(([partition, indices], g) => {
      const result = results[g]!;
      indices.forEach((i, k) => {
        out[i] = {
          topic,
          partition,
          offset: result.baseOffset < 0n ? -1n : result.baseOffset + BigInt(k),
          timestamp: result.logAppendTime >= 0n ? result.logAppendTime : prepared[i]!.timestamp,
        };
      });
    });
    return out;
  }

  private async doSendBatch(batch: BatchRecord<K, V>): Promise<BatchMetadata> {
    const { topic, messages } = this.checkRecord(batch);
    const acks = checkAcks(batch.acks ?? this.acks);
    if (messages.length === 0) throw new InvalidRequestError('sendBatch needs at least one message');
    const now = BigInt(this.deps.clock.now());
    // Serialize everything first so the batch buffer is sized once: growing it by doubling
    // allocated and copied ~2x the batch, and those large Buffers drove most of the producer's GC.
    const inputs = new Array<RecordInput>(messages.length);
    let capacity = RECORD_BATCH_OVERHEAD;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      // Fast path: a plain { value } under the pass-through bytes serde is already a RecordInput
      // (null key, no headers, the builder stamps `now`); skip the per-record Prepared object.
      const input = this.valueIsBytes && m.key === undefined && m.headers === undefined && m.timestamp === undefined && m.partition === undefined
        ? (m as unknown as RecordInput)
        : this.prepare(m, now);
      inputs[i] = input;
      capacity += maxRecordSize(input);
    }
    const builder = new RecordBatchBuilder({ compression: this.compression, initialCapacity: capacity, now: () => now });
    for (let i = 0; i < inputs.length; i++) builder.append(inputs[i]!);
    const records = builder.build();
    const info = await this.topicInfo(topic);
    let partition = batch.partition;
    if (partition === undefined) {
      const available = info.partitions.filter((p) => p.leader >= 0).map((p) => p.partition);
      partition = this.partitioner({ topic, key: null, partitionCount: info.partitions.length, availablePartitions: available });
    }
    await this.checkPartitions(topic, info, [partition]);
    const [result] = await this.sender.send([{ topic, partition, records, recordCount: messages.length }], {
      acks, timeoutMs: batch.timeoutMs ?? this.timeoutMs,
    });
    return { topic, partition, baseOffset: result!.baseOffset, count: messages.length, logAppendTime: result!.logAppendTime };
  }

  private checkRecord<R extends { topic: string; messages: readonly Message<K, V>[] }>(record: R): R {
    if (this.closed) throw new SamsaClosedError('the producer is closed');
    if (typeof record?.topic !== 'string' || record.topic.length === 0) throw new InvalidRequestError('topic must be a non-empty string');
    if (!Array.isArray(record.messages)) throw new InvalidRequestError('messages must be an array');
    return record;
  }

  private prepare(m: Message<K, V>, now: bigint): Prepared {
    if (m.partition !== undefined && (!Number.isInteger(m.partition) || m.partition < 0)) {
      throw new InvalidRequestError(`partition must be a non-negative integer, got ${m.partition}`);
    }
    let timestamp = now;
    if (m.timestamp !== undefined) {
      if (typeof m.timestamp === 'bigint') timestamp = m.timestamp;
      else if (Number.isSafeInteger(m.timestamp)) timestamp = BigInt(m.timestamp);
      else throw new InvalidRequestError(`timestamp must be an integer (ms), got ${m.timestamp}`);
    }
    let headers: Prepared['headers'];
    if (m.headers) {
      headers = [];
      for (const key of Object.keys(m.headers)) {
        const v = m.headers[key]!;
        headers.push({ key, value: typeof v === 'string' ? Buffer.from(v, 'utf8') : v });
      }
    }
    return {
      key: m.key === undefined ? null : this.keySerde.serialize(m.key),
      value: this.valueSerde.serialize(m.value),
      headers,
      timestamp,
    };
  }

  private build(records: readonly Prepared[]): Buffer {
    let capacity = RECORD_BATCH_OVERHEAD;
    for (const r of records) capacity += maxRecordSize(r);
    const builder = new RecordBatchBuilder({ compression: this.compression, initialCapacity: capacity });
    for (const r of records) builder.append(r);
    return builder.build();
  }

  private topicInfo(topic: string): Promise<TopicInfo> {
    const cached = this.deps.cluster.cachedTopic(topic);
    if (cached) return Promise.resolve(cached);
    return this.retrier.run(() => this.deps.cluster.topic(topic), { what: `metadata of ${topic}` });
  }

  /** An explicit partition beyond the topic's count gets one metadata refresh (it may have grown), then fails. */
  private async checkPartitions(topic: string, info: TopicInfo, partitions: readonly number[]): Promise<void> {
    let count = info.partitions.length;
    let max = -1;
    for (const p of partitions) if (p > max) max = p;
    if (max < count) return;
    this.deps.cluster.invalidateTopics([topic]);
    count = (await this.topicInfo(topic)).partitions.length;
    if (max >= count) {
      throw new UnknownTopicOrPartitionError(`partition ${max} of topic ${topic} does not exist (it has ${count})`, { topic, partition: max, retriable: false });
    }
  }
}
