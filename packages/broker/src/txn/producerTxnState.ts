/**
 * The transaction side of one partition replica (README.md section 2): which producers have an
 * open transaction and from which offset, the last stable offset, and the aborted transaction
 * index. Mirrors the transaction part of Kafka's ProducerStateManager (ongoingTxns,
 * unreplicatedTxns, lastStableOffset(completedTxn)) and its TransactionIndex / AbortedTxn.
 * PURE: batches come in by header (as the log appends or replays them), nothing is read or
 * written here; `.txnindex` bytes are produced and parsed by the codec at the bottom.
 *
 * Sequence and idempotence checks stay in log/producerStateManager.ts; this adds what
 * transactions need: a marker from an older epoch or coordinator epoch is refused, and a
 * non-transactional write from a producer with an open transaction is refused.
 */
import { ErrorCode, decodeControlBatch, iterateBatches, type RecordBatchHeader } from '@samsa/protocol';

/** What the tracker reads of a batch (a RecordBatchHeader has all but `controlType`). */
export interface TxnBatch {
  producerId: bigint;
  producerEpoch: number;
  baseOffset: bigint;
  lastOffset: bigint;
  isTransactional: boolean;
  isControl: boolean;
  /** For a control batch: ABORT 0, COMMIT 1 (controlBatch.ts) and the marker's coordinator epoch. */
  controlType?: 0 | 1;
  coordinatorEpoch?: number;
}

/** Kafka's AbortedTxn: one `.txnindex` entry. */
export interface AbortedTxn {
  producerId: bigint;
  firstOffset: bigint;
  /** The offset of the ABORT marker. */
  lastOffset: bigint;
  /** The LSO right after this transaction completed: where a reader may stop looking further back. */
  lastStableOffset: bigint;
}

/** A transaction ended by a marker (Kafka's CompletedTxn). */
export interface CompletedTxn {
  producerId: bigint;
  firstOffset: bigint;
  lastOffset: bigint;
  isAborted: boolean;
}

export interface TxnCheck {
  errorCode: number;
  errorMessage: string;
}

interface ProducerTxnEntry {
  producerEpoch: number;
  coordinatorEpoch: number;
  /** First offset of the open transaction, undefined when none. */
  currentTxnFirstOffset: bigint | undefined;
}

/**
 * What the tracker needs of the stored batch at `pos`: the header, and for a control batch its
 * marker (type, coordinator epoch), which is the one record ever decoded on this path.
 */
export function txnBatchAt(buf: Buffer, pos: number, header: RecordBatchHeader): TxnBatch {
  const batch: TxnBatch = {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseOffset: header.baseOffset,
    lastOffset: header.baseOffset + BigInt(header.lastOffsetDelta),
    isTransactional: header.isTransactional,
    isControl: header.isControl,
  };
  if (header.isControl) {
    const marker = decodeControlBatch(buf, pos);
    batch.controlType = marker.type;
    batch.coordinatorEpoch = marker.coordinatorEpoch;
  }
  return batch;
}

export class ProducerTxnState {
  private readonly producers = new Map<bigint, ProducerTxnEntry>();
  /** producerId → firstOffset of its open transaction. */
  private readonly ongoing = new Map<bigint, bigint>();
  /** Completed, but the marker is not yet below the high watermark: still holds the LSO. */
  private unreplicated: CompletedTxn[] = [];
  private readonly aborted: AbortedTxn[] = [];

  /**
   * The checks a leader makes before appending `batch` (followers and recovery apply without
   * them). null when the batch may be appended.
   */
  checkLeaderAppend(batch: TxnBatch): TxnCheck | null {
    if (batch.producerId < 0n) return null;
    const entry = this.producers.get(batch.producerId);
    if (batch.isControl) {
      if (entry !== undefined && batch.producerEpoch < entry.producerEpoch) {
        return {
          errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
          errorMessage: `transaction marker for producer ${batch.producerId} has epoch ${batch.producerEpoch}, older than ${entry.producerEpoch}`,
        };
      }
      const coordinatorEpoch = batch.coordinatorEpoch ?? 0;
      if (entry !== undefined && coordinatorEpoch < entry.coordinatorEpoch) {
        return {
          errorCode: ErrorCode.TRANSACTION_COORDINATOR_FENCED,
          errorMessage: `transaction marker for producer ${batch.producerId} has coordinator epoch ${coordinatorEpoch}, older than ${entry.coordinatorEpoch}`,
        };
      }
      return null;
    }
    if (entry !== undefined && batch.producerEpoch < entry.producerEpoch) {
      return {
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        errorMessage: `producer ${batch.producerId} epoch ${batch.producerEpoch} is older than ${entry.producerEpoch} (fenced)`,
      };
    }
    if (!batch.isTransactional && entry?.currentTxnFirstOffset !== undefined) {
      return {
        errorCode: ErrorCode.INVALID_TXN_STATE,
        errorMessage: `producer ${batch.producerId} wrote a non-transactional batch while its transaction from offset ${entry.currentTxnFirstOffset} is open`,
      };
    }
    return null;
  }

  /**
   * Applies an appended batch (leader, follower or recovery). Returns the transaction a marker
   * completed, if any; an ABORT adds its `.txnindex` entry (also returned in `abortedTxn`).
   */
  append(batch: TxnBatch): { completed: CompletedTxn | null; abortedTxn: AbortedTxn | null } {
    if (batch.producerId < 0n) return { completed: null, abortedTxn: null };
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined) {
      entry = { producerEpoch: batch.producerEpoch, coordinatorEpoch: -1, currentTxnFirstOffset: undefined };
      this.producers.set(batch.producerId, entry);
    }
    if (batch.producerEpoch > entry.producerEpoch) entry.producerEpoch = batch.producerEpoch;
    if (!batch.isControl) {
      if (batch.isTransactional && entry.currentTxnFirstOffset === undefined) {
        entry.currentTxnFirstOffset = batch.baseOffset;
        this.ongoing.set(batch.producerId, batch.baseOffset);
      }
      return { completed: null, abortedTxn: null };
    }
    if (batch.coordinatorEpoch !== undefined && batch.coordinatorEpoch > entry.coordinatorEpoch)
      entry.coordinatorEpoch = batch.coordinatorEpoch;
    const firstOffset = entry.currentTxnFirstOffset;
    // A marker for a partition that got no data in this transaction ends nothing.
    if (firstOffset === undefined) return { completed: null, abortedTxn: null };
    entry.currentTxnFirstOffset = undefined;
    this.ongoing.delete(batch.producerId);
    const completed: CompletedTxn = {
      producerId: batch.producerId,
      firstOffset,
      lastOffset: batch.lastOffset,
      isAborted: batch.controlType === 0,
    };
    this.unreplicated.push(completed);
    if (!completed.isAborted) return { completed, abortedTxn: null };
    const abortedTxn: AbortedTxn = {
      producerId: batch.producerId,
      firstOffset,
      lastOffset: batch.lastOffset,
      lastStableOffset: this.firstOngoingOffset() ?? batch.lastOffset + 1n,
    };
    this.aborted.push(abortedTxn);
    return { completed, abortedTxn };
  }

  /**
   * Recovery: applies every whole batch of `buf` (stored batches, e.g. a segment read from its
   * start), so open transactions, the LSO and the aborted index are rebuilt from the log alone.
   */
  applyBatches(buf: Buffer): void {
    for (const { pos, header } of iterateBatches(buf)) this.append(txnBatchAt(buf, pos, header));
  }

  /** The high watermark moved: completed transactions whose marker is now below it stop holding the LSO. */
  onHighWatermarkUpdated(highWatermark: bigint): void {
    this.unreplicated = this.unreplicated.filter((t) => t.lastOffset >= highWatermark);
  }

  /** First offset of the earliest transaction not yet decided-and-replicated (Kafka's firstUnstableOffset). */
  firstUnstableOffset(): bigint | undefined {
    let min = this.firstOngoingOffset();
    for (const t of this.unreplicated) if (min === undefined || t.firstOffset < min) min = t.firstOffset;
    return min;
  }

  /** The last stable offset: read_committed fetches stop here. */
  lastStableOffset(highWatermark: bigint): bigint {
    const first = this.firstUnstableOffset();
    return first !== undefined && first < highWatermark ? first : highWatermark;
  }

  /** Kafka's collectAbortedTxns: every aborted transaction overlapping [fetchOffset, upperBound). */
  collectAbortedTxns(fetchOffset: bigint, upperBound: bigint): AbortedTxn[] {
    return this.aborted.filter((t) => t.lastOffset >= fetchOffset && t.firstOffset < upperBound).map((t) => ({ ...t }));
  }

  /** Kafka's DescribeProducers view of the producers with transactional batches here: epoch, coordinator epoch, open transaction start. */
  producerStates(): Array<{ producerId: bigint; producerEpoch: number; coordinatorEpoch: number; currentTxnStartOffset: bigint }> {
    return [...this.producers.entries()].map(([producerId, e]) => ({
      producerId,
      producerEpoch: e.producerEpoch,
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: this.ongoing.get(producerId) ?? -1n,
    }));
  }

  /** Open transactions (producerId, firstOffset), oldest first: for DescribeProducers and metrics. */
  ongoingTxns(): Array<{ producerId: bigint; firstOffset: bigint }> {
    return [...this.ongoing.entries()]
      .map(([producerId, firstOffset]) => ({ producerId, firstOffset }))
      .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  }

  /** Every `.txnindex` entry, in marker order. */
  abortedTxns(): AbortedTxn[] {
    return this.aborted.map((t) => ({ ...t }));
  }

  private firstOngoingOffset(): bigint | undefined {
    let min: bigint | undefined;
    for (const first of this.ongoing.values()) if (min === undefined || first < min) min = first;
    return min;
  }
}

// ---- .txnindex ----------------------------------------------------------------------------------

/** Kafka's AbortedTxn on disk: version int16 (0), producerId, firstOffset, lastOffset, lastStableOffset (int64s). */
export const ABORTED_TXN_ENTRY_SIZE = 34;
export const ABORTED_TXN_VERSION = 0;

export function encodeAbortedTxn(t: AbortedTxn): Buffer {
  const buf = Buffer.alloc(ABORTED_TXN_ENTRY_SIZE);
  buf.writeInt16BE(ABORTED_TXN_VERSION, 0);
  buf.writeBigInt64BE(t.producerId, 2);
  buf.writeBigInt64BE(t.firstOffset, 10);
  buf.writeBigInt64BE(t.lastOffset, 18);
  buf.writeBigInt64BE(t.lastStableOffset, 26);
  return buf;
}

/**
 * Parses a `.txnindex` file. A torn trailing entry (a crash mid-write) is dropped and reported in
 * `validBytes` so recovery can truncate the file there; an entry of an unknown version, or one
 * whose offsets contradict each other, ends the valid part too (the index is rebuilt from the log).
 */
export function decodeTxnIndex(buf: Buffer): { entries: AbortedTxn[]; validBytes: number } {
  const entries: AbortedTxn[] = [];
  let pos = 0;
  while (buf.length - pos >= ABORTED_TXN_ENTRY_SIZE) {
    const version = buf.readInt16BE(pos);
    const t: AbortedTxn = {
      producerId: buf.readBigInt64BE(pos + 2),
      firstOffset: buf.readBigInt64BE(pos + 10),
      lastOffset: buf.readBigInt64BE(pos + 18),
      lastStableOffset: buf.readBigInt64BE(pos + 26),
    };
    if (
      version !== ABORTED_TXN_VERSION ||
      t.producerId < 0n ||
      t.firstOffset < 0n ||
      t.lastOffset < t.firstOffset ||
      t.lastStableOffset < 0n
    )
      break;
    entries.push(t);
    pos += ABORTED_TXN_ENTRY_SIZE;
  }
  return { entries, validBytes: pos };
}
