/**
 * Offsets committed inside a transaction (KIP-98 TxnOffsetCommit, KIP-447) as one consumer group
 * holds them until the transaction ends: Kafka's GroupMetadata pendingTransactionalOffsetCommits.
 * TxnOffsetCommit appends its offset records to `__consumer_offsets` as a transactional batch;
 * they stay pending (invisible to OffsetFetch) until the coordinator's marker reaches the
 * partition: COMMIT makes them the group's committed offsets, ABORT drops them. While any are
 * pending for a partition, an OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT.
 * PURE: the group coordinator feeds it appends, append failures and markers (live or replayed).
 */

export interface TxnOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

/** A committed offset with where its record sits in `__consumer_offsets` (Kafka's CommitRecordMetadataAndOffset). */
export interface CommittedOffset extends TxnOffset {
  /** Offset of the record's batch in `__consumer_offsets`; undefined while the append is in flight. */
  appendedBatchOffset: bigint | undefined;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class PendingTxnOffsets {
  /** producerId → partition key → offset. */
  private readonly pending = new Map<bigint, Map<string, CommittedOffset>>();

  /** TxnOffsetCommit accepted: the offsets are pending before their append is even written. */
  prepare(producerId: bigint, offsets: readonly TxnOffset[]): void {
    let byPartition = this.pending.get(producerId);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.pending.set(producerId, byPartition);
    }
    for (const o of offsets) byPartition.set(key(o.topic, o.partition), { ...o, appendedBatchOffset: undefined });
  }

  /** The offset record was written at `batchOffset` (live append, or read back on load). */
  onAppended(producerId: bigint, offset: TxnOffset, batchOffset: bigint): void {
    let byPartition = this.pending.get(producerId);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.pending.set(producerId, byPartition);
    }
    byPartition.set(key(offset.topic, offset.partition), { ...offset, appendedBatchOffset: batchOffset });
  }

  /** The append failed: the offsets that had no record yet are dropped. */
  failAppend(producerId: bigint, offsets: ReadonlyArray<{ topic: string; partition: number }>): void {
    const byPartition = this.pending.get(producerId);
    if (byPartition === undefined) return;
    for (const o of offsets) {
      const k = key(o.topic, o.partition);
      if (byPartition.get(k)?.appendedBatchOffset === undefined) byPartition.delete(k);
    }
    if (byPartition.size === 0) this.pending.delete(producerId);
  }

  /**
   * The producer's marker reached `__consumer_offsets`. On COMMIT returns the offsets to make
   * visible: each written one, unless the group already holds a commit whose record is later in
   * the log (Kafka: a newer plain commit wins). ABORT returns nothing. Either way they stop pending.
   */
  complete(
    producerId: bigint,
    committed: boolean,
    current: (topic: string, partition: number) => CommittedOffset | undefined,
  ): CommittedOffset[] {
    const byPartition = this.pending.get(producerId);
    this.pending.delete(producerId);
    if (!committed || byPartition === undefined) return [];
    const out: CommittedOffset[] = [];
    for (const o of byPartition.values()) {
      if (o.appendedBatchOffset === undefined) continue;
      const existing = current(o.topic, o.partition);
      if (existing?.appendedBatchOffset !== undefined && existing.appendedBatchOffset > o.appendedBatchOffset) continue;
      out.push({ ...o });
    }
    return out;
  }

  hasPendingFromProducer(producerId: bigint): boolean {
    return this.pending.has(producerId);
  }

  /** OffsetFetch with require_stable: UNSTABLE_OFFSET_COMMIT while this is true. */
  hasPendingForPartition(topic: string, partition: number): boolean {
    const k = key(topic, partition);
    for (const byPartition of this.pending.values()) if (byPartition.has(k)) return true;
    return false;
  }

  /** Producers with pending offsets (the coordinator must not expire the group while any). */
  producers(): bigint[] {
    return [...this.pending.keys()];
  }
}
