/**
 * The record accumulator: one queue of batches per (topic, partition, acks, timeout), each batch a
 * RecordBatchBuilder filled up to batchSize bytes. send() appends records here; the SendLoop drains
 * ready batches (full, lingered long enough, or flushed) into Produce requests.
 */
import { RECORD_BATCH_OVERHEAD, RecordBatchBuilder } from '@samsa/protocol';
import type { CompressionType, RecordInput } from '@samsa/protocol';
import type { Acks, ProduceBatchResult } from './sender.js';

export interface RecordResult {
  partition: number;
  offset: bigint;
  timestamp: bigint;
}

/** A record's place in a batch and how to answer its send(). */
interface PendingRecord {
  timestamp: bigint;
  resolve: (result: RecordResult) => void;
  reject: (error: unknown) => void;
}

export class ProducerBatch {
  readonly records: PendingRecord[] = [];
  /** Bytes of buffer memory this batch holds (released when it completes). */
  reservedBytes = 0;
  /** Send attempts made so far. */
  attempts = 0;
  /** Not to be sent again before this time (retry backoff). */
  retryAtMs = 0;
  /** No more appends: full, or drained. */
  closed = false;
  lastError: unknown;
  private bytes: Buffer | undefined;
  private settled = false;
  private readonly builder: RecordBatchBuilder;
  private resolveDone!: () => void;
  /** Resolves once every record of the batch is answered, either way. */
  readonly done = new Promise<void>((resolve) => { this.resolveDone = resolve; });

  constructor(
    readonly queueKey: string,
    readonly topic: string,
    readonly partition: number,
    readonly acks: Acks,
    readonly timeoutMs: number,
    readonly createdMs: number,
    compression: CompressionType,
    capacity: number,
  ) {
    this.builder = new RecordBatchBuilder({ compression, initialCapacity: capacity });
  }

  get count(): number {
    return this.builder.count;
  }

  /** Uncompressed size so far (an upper bound of what goes on the wire). */
  get sizeInBytes(): number {
    return this.bytes?.length ?? this.builder.estimatedSizeInBytes;
  }

  /** True when `size` more bytes fit under `batchSize` (an empty batch always takes one record). */
  hasRoomFor(size: number, batchSize: number): boolean {
    return !this.closed && (this.builder.count === 0 || this.builder.estimatedSizeInBytes + size <= batchSize);
  }

  append(record: RecordInput & { timestamp: bigint }, reservedBytes: number, resolve: PendingRecord['resolve'], reject: PendingRecord['reject']): void {
    this.builder.append(record);
    this.records.push({ timestamp: record.timestamp, resolve, reject });
    this.reservedBytes += reservedBytes;
  }

  /** The RecordBatch v2 bytes; closes the batch. Built once, so a retry resends the same bytes. */
  build(): Buffer {
    this.closed = true;
    return (this.bytes ??= this.builder.build());
  }

  succeed(result: ProduceBatchResult): void {
    if (this.settled) return;
    this.settled = true;
    this.records.forEach((r, i) => r.resolve({
      partition: this.partition,
      offset: result.baseOffset < 0n ? -1n : result.baseOffset + BigInt(i),
      timestamp: result.logAppendTime >= 0n ? result.logAppendTime : r.timestamp,
    }));
    this.resolveDone();
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    for (const r of this.records) r.reject(error);
    this.resolveDone();
  }
}

export interface AccumulatorOptions {
  batchSize: number;
  compression: CompressionType;
}

export class RecordAccumulator {
  /** Queues by key, in insertion order (the drain order). */
  readonly queues = new Map<string, ProducerBatch[]>();

  constructor(private readonly options: AccumulatorOptions) {}

  static queueKey(topic: string, partition: number, acks: Acks, timeoutMs: number): string {
    return `${acks}/${timeoutMs}/${partition}/${topic}`;
  }

  /** True when appending `size` bytes to this partition would start a new batch. */
  wouldStartNewBatch(topic: string, partition: number, acks: Acks, timeoutMs: number, size: number): boolean {
    const queue = this.queues.get(RecordAccumulator.queueKey(topic, partition, acks, timeoutMs));
    const last = queue?.[queue.length - 1];
    return last === undefined || !last.hasRoomFor(size, this.options.batchSize);
  }

  /** Appends to the partition's open batch, or a new one; returns the batch. */
  append(topic: string, partition: number, acks: Acks, timeoutMs: number, nowMs: number, record: RecordInput & { timestamp: bigint }, size: number,
    resolve: (r: RecordResult) => void, reject: (e: unknown) => void): ProducerBatch {
    const key = RecordAccumulator.queueKey(topic, partition, acks, timeoutMs);
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = []));
    let batch = queue[queue.length - 1];
    if (batch === undefined || !batch.hasRoomFor(size, this.options.batchSize)) {
      if (batch) batch.closed = true;
      const capacity = Math.max(this.options.batchSize, RECORD_BATCH_OVERHEAD + size);
      batch = new ProducerBatch(key, topic, partition, acks, timeoutMs, nowMs, this.options.compression, capacity);
      queue.push(batch);
    }
    batch.append(record, size, resolve, reject);
    return batch;
  }

  /** Puts a batch back at the head of its queue for a retry (it keeps its bytes). */
  reenqueue(batch: ProducerBatch): void {
    let queue = this.queues.get(batch.queueKey);
    if (!queue) this.queues.set(batch.queueKey, (queue = []));
    queue.unshift(batch);
  }

  /** Every batch not yet handed to the network. */
  *batches(): Generator<ProducerBatch> {
    for (const queue of this.queues.values()) yield* queue;
  }

  get isEmpty(): boolean {
    for (const queue of this.queues.values()) if (queue.length > 0) return false;
    return true;
  }
}
