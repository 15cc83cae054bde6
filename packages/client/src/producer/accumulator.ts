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
  /** Idempotence (idempotence.ts): sent with the producer's id, epoch and a sequence. */
  idempotent = false;
  producerId = -1n;
  producerEpoch = -1;
  /** -1 until the batch is first drained (or again after an epoch bump). */
  baseSequence = -1;
  /** Place in its partition's sequence order. */
  order = -1;
  /** An earlier batch of the partition was unanswered when this one was last sent. */
  sentBehindUnanswered = false;
  /** The broker this batch was last sent to (-1: not sent). */
  sentToNode = -1;
  /** sendBatch: one answer for the whole batch instead of per-record ones. */
  onBatch: { resolve: (result: ProduceBatchResult) => void; reject: (error: unknown) => void } | undefined;
  private bytes: Buffer | undefined;
  private settled = false;
  private readonly builder: RecordBatchBuilder;
  private resolveDone!: () => void;
  /** Resolves once every record of the batch is answered, either way. */
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(
    readonly queueKey: string,
    readonly topic: string,
    readonly partition: number,
    readonly acks: Acks,
    readonly timeoutMs: number,
    readonly createdMs: number,
    compression: CompressionType,
    capacity: number,
    /** The create time of records appended without one (sendBatch). */
    now?: () => bigint,
    /** A transactional producer's batch: attributes bit 4 (KIP-98). */
    isTransactional = false,
  ) {
    this.builder = new RecordBatchBuilder({ compression, initialCapacity: capacity, isTransactional, ...(now ? { now } : {}) });
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

  append(
    record: RecordInput & { timestamp: bigint },
    reservedBytes: number,
    resolve: PendingRecord['resolve'],
    reject: PendingRecord['reject'],
  ): void {
    this.builder.append(record);
    this.records.push({ timestamp: record.timestamp, resolve, reject });
    this.reservedBytes += reservedBytes;
  }

  /** The RecordBatch v2 bytes; closes the batch. Built once, so a retry resends the same bytes. */
  build(): Buffer {
    this.closed = true;
    return (this.bytes ??= this.builder.build());
  }

  /** Appends a record that has no per-record answer (sendBatch). */
  appendRecord(record: RecordInput): void {
    this.builder.append(record);
  }

  succeed(result: ProduceBatchResult): void {
    if (this.settled) return;
    this.settled = true;
    this.onBatch?.resolve(result);
    this.records.forEach((r, i) =>
      r.resolve({
        partition: this.partition,
        offset: result.baseOffset < 0n ? -1n : result.baseOffset + BigInt(i),
        timestamp: result.logAppendTime >= 0n ? result.logAppendTime : r.timestamp,
      }),
    );
    this.resolveDone();
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    for (const r of this.records) r.reject(error);
    this.onBatch?.reject(error);
    this.resolveDone();
  }
}

export interface AccumulatorOptions {
  batchSize: number;
  compression: CompressionType;
  /** Batches with acks=all carry the producer's id and sequences (acks 0/1 batches never do). */
  idempotent?: boolean;
  /** Every batch is transactional (a producer with a transactionalId). */
  transactional?: boolean;
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
  append(
    topic: string,
    partition: number,
    acks: Acks,
    timeoutMs: number,
    nowMs: number,
    record: RecordInput & { timestamp: bigint },
    size: number,
    resolve: (r: RecordResult) => void,
    reject: (e: unknown) => void,
  ): ProducerBatch {
    const key = RecordAccumulator.queueKey(topic, partition, acks, timeoutMs);
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = []));
    let batch = queue[queue.length - 1];
    if (batch === undefined || !batch.hasRoomFor(size, this.options.batchSize)) {
      if (batch) batch.closed = true;
      const capacity = Math.max(this.options.batchSize, RECORD_BATCH_OVERHEAD + size);
      batch = new ProducerBatch(
        key,
        topic,
        partition,
        acks,
        timeoutMs,
        nowMs,
        this.options.compression,
        capacity,
        undefined,
        this.options.transactional === true,
      );
      batch.idempotent = this.options.idempotent === true && acks === -1;
      queue.push(batch);
    }
    batch.append(record, size, resolve, reject);
    return batch;
  }

  /**
   * Puts a batch back at the head of its queue for a retry (it keeps its bytes). A sequenced
   * batch goes among the other retried ones in sequence order, ahead of every unsequenced one.
   */
  reenqueue(batch: ProducerBatch): void {
    let queue = this.queues.get(batch.queueKey);
    if (!queue) this.queues.set(batch.queueKey, (queue = []));
    if (batch.order < 0) {
      queue.unshift(batch);
      return;
    }
    let i = 0;
    while (i < queue.length && queue[i]!.order >= 0 && queue[i]!.order < batch.order) i++;
    queue.splice(i, 0, batch);
  }

  /** A new closed batch at the tail of its partition's queue, filled by the caller (sendBatch). */
  appendClosedBatch(
    topic: string,
    partition: number,
    acks: Acks,
    timeoutMs: number,
    nowMs: number,
    capacity: number,
    now: () => bigint,
  ): ProducerBatch {
    const key = RecordAccumulator.queueKey(topic, partition, acks, timeoutMs);
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = []));
    const last = queue[queue.length - 1];
    if (last) last.closed = true;
    const batch = new ProducerBatch(
      key,
      topic,
      partition,
      acks,
      timeoutMs,
      nowMs,
      this.options.compression,
      capacity,
      now,
      this.options.transactional === true,
    );
    batch.closed = true;
    batch.idempotent = this.options.idempotent === true && acks === -1;
    queue.push(batch);
    return batch;
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
