/**
 * Idempotent-producer state of one partition replica (Kafka's ProducerStateManager).
 *
 * ## State
 *
 * For every producer id seen in the log: its latest producer epoch and the metadata of its last
 * 5 batches in that epoch (first/last sequence, first/last offset, max timestamp), oldest first.
 * `mapEndOffset`: the state reflects exactly the batches below this offset.
 *
 * ## Rules on a leader append (checkLeaderAppend; followers apply batches without checks)
 *
 *   producerId < 0                     not idempotent: nothing checked, nothing kept
 *   epoch < known epoch                INVALID_PRODUCER_EPOCH (a fenced, older producer instance)
 *   same epoch, batch equal to one of  duplicate: nothing is written, the produce answers success
 *     the last 5 (first and last seq)    with the ORIGINAL batch's offsets (Kafka since 0.11; the
 *                                        DUPLICATE_SEQUENCE_NUMBER error is not used)
 *   same epoch, firstSeq != lastSeq+1  OUT_OF_ORDER_SEQUENCE_NUMBER (a gap, or an old batch no longer
 *                                        in the 5 cached)
 *   newer epoch, firstSeq != 0         OUT_OF_ORDER_SEQUENCE_NUMBER (a bumped epoch starts at 0)
 *   unknown producer id, firstSeq 0    accepted
 *   unknown producer id, firstSeq != 0 UNKNOWN_PRODUCER_ID, as Kafka did before KIP-360 (2.5 accepts
 *                                        any sequence). Accepting it let a later batch that reached a
 *                                        new leader first become the producer's first while an
 *                                        earlier batch was still being retried (found by
 *                                        bench-replicated on a fresh topic). The client retries it
 *                                        behind an unanswered batch; otherwise (state gone through
 *                                        retention) it bumps its epoch and restarts at 0.
 * Sequences are int32 and wrap from 2^31-1 to 0, as in Kafka.
 *
 * ## Durability
 *
 * The state is derived from the log only, so it can always be rebuilt by scanning batch headers.
 * To keep that scan short, a snapshot `<mapEndOffset, 20 digits>.snapshot` is written when the
 * active segment rolls and on clean shutdown (as Kafka does); on load the newest snapshot at or
 * below the log end is read and the batches after it are replayed. Truncation (follower
 * divergence, torn tail) deletes snapshots above the new end and rebuilds the same way. A
 * snapshot is `crc32c\n{json}`; one that fails its check is ignored (an older one, or the log
 * itself, is used instead). Snapshots are not fsynced: losing one costs only a longer replay.
 *
 * Producers whose last batch is older than producer.id.expiration.ms (24 h, by batch timestamp)
 * are dropped when a snapshot is taken, as Kafka expires them.
 */
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_OVERHEAD, RECORD_BATCH_OVERHEAD, crc32c, protocolError, readBatchHeader, type RecordBatchHeader } from '@samsa/protocol';

export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot';
/** Batches remembered per producer for duplicate detection (Kafka: 5, matching max.in.flight). */
export const NUM_BATCHES_TO_RETAIN = 5;
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const INT32_MAX = 0x7fffffff;
/** Where producerId starts in a RecordBatch v2 header. */
const PRODUCER_ID_AT = 43;

export interface ProducerBatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: bigint;
  lastOffset: bigint;
  timestamp: bigint;
}

export interface ProducerEntry {
  producerId: bigint;
  epoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: ProducerBatchMetadata[];
}

/** What the manager reads from its log (Log fits). */
export interface ProducerStateLog {
  readonly dir: string;
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  read(fetchOffset: bigint, maxBytes: number, maxOffset?: bigint, minOneBatch?: boolean): { records: Buffer };
}

export interface ProducerStateLogger {
  warn(obj: object, msg?: string): void;
}

/** The last sequence of a batch, wrapping at int32 max (Kafka's DefaultRecordBatch.incrementSequence). */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

/** Whether `next` directly follows `last`. */
export function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === INT32_MAX);
}

export function snapshotFileName(offset: bigint): string {
  return `${offset.toString().padStart(20, '0')}${PRODUCER_SNAPSHOT_SUFFIX}`;
}

export class ProducerStateManager {
  private readonly producers = new Map<bigint, ProducerEntry>();
  private endOffset = 0n;

  private constructor(
    private readonly log: ProducerStateLog,
    private readonly logger?: ProducerStateLogger,
  ) {}

  /** Builds the state of `log` from its newest usable snapshot plus the batches after it. */
  static load(log: ProducerStateLog, logger?: ProducerStateLogger): ProducerStateManager {
    const manager = new ProducerStateManager(log, logger);
    manager.reload();
    return manager;
  }

  /** The state covers the batches below this offset. */
  get mapEndOffset(): bigint {
    return this.endOffset;
  }

  get producerCount(): number {
    return this.producers.size;
  }

  entry(producerId: bigint): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /**
   * Validates a produced batch (header of the bytes about to be appended as leader). Returns the
   * metadata of the original batch when this one is a duplicate of one of the last 5 (the caller
   * then writes nothing and answers with its offsets); undefined when the batch may be appended.
   * Throws INVALID_PRODUCER_EPOCH / OUT_OF_ORDER_SEQUENCE_NUMBER / INVALID_RECORD.
   */
  checkLeaderAppend(h: RecordBatchHeader, partition: string): ProducerBatchMetadata | undefined {
    if (h.producerId < 0n) return undefined;
    if (h.producerEpoch < 0 || h.baseSequence < 0) {
      throw protocolError(
        'INVALID_RECORD',
        `${partition}: a batch of producer ${h.producerId} must carry an epoch and a sequence >= 0 (epoch ${h.producerEpoch}, sequence ${h.baseSequence})`,
      );
    }
    const entry = this.producers.get(h.producerId);
    if (!entry) {
      // Kafka before KIP-360: an unknown producer must start at sequence 0. Accepting any
      // sequence (KIP-360) let a later batch that reached a new leader first be taken as the
      // producer's first while an earlier one was still being retried, which was then out of
      // order for good; the client retries UNKNOWN_PRODUCER_ID behind an unanswered batch.
      if (h.baseSequence !== 0) {
        throw protocolError(
          'UNKNOWN_PRODUCER_ID',
          `${partition}: producer ${h.producerId} is unknown here and sent sequence ${h.baseSequence}, not 0`,
        );
      }
      return undefined;
    }
    const firstSeq = h.baseSequence;
    if (h.producerEpoch < entry.epoch) {
      throw protocolError(
        'INVALID_PRODUCER_EPOCH',
        `${partition}: producer ${h.producerId} sent epoch ${h.producerEpoch}, older than its current epoch ${entry.epoch}`,
      );
    }
    if (h.producerEpoch > entry.epoch) {
      if (firstSeq !== 0) {
        throw protocolError(
          'OUT_OF_ORDER_SEQUENCE_NUMBER',
          `${partition}: producer ${h.producerId} started epoch ${h.producerEpoch} at sequence ${firstSeq}, not 0`,
        );
      }
      return undefined;
    }
    const lastSeq = lastSequenceOf(firstSeq, h.lastOffsetDelta);
    for (const b of entry.batches) if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return b;
    const last = entry.batches[entry.batches.length - 1];
    if (last !== undefined && !inSequence(last.lastSeq, firstSeq)) {
      throw protocolError(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `${partition}: producer ${h.producerId} epoch ${h.producerEpoch} sent sequence ${firstSeq}, expected ${last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1}`,
      );
    }
    return undefined;
  }

  /** Records a batch written at `baseOffset` (leader after its checks, or follower as replicated). */
  update(h: RecordBatchHeader, baseOffset: bigint): void {
    const lastOffset = baseOffset + BigInt(h.lastOffsetDelta);
    if (h.producerId >= 0n && h.baseSequence >= 0) {
      let entry = this.producers.get(h.producerId);
      if (!entry || entry.epoch !== h.producerEpoch) {
        entry = { producerId: h.producerId, epoch: h.producerEpoch, batches: [] };
        this.producers.set(h.producerId, entry);
      }
      entry.batches.push({
        firstSeq: h.baseSequence,
        lastSeq: lastSequenceOf(h.baseSequence, h.lastOffsetDelta),
        firstOffset: baseOffset,
        lastOffset,
        timestamp: h.maxTimestamp,
      });
      if (entry.batches.length > NUM_BATCHES_TO_RETAIN) entry.batches.shift();
    }
    if (lastOffset + 1n > this.endOffset) this.endOffset = lastOffset + 1n;
  }

  /** A batch without a producer id was written below `offset`. */
  advanceTo(offset: bigint): void {
    if (offset > this.endOffset) this.endOffset = offset;
  }

  /**
   * Applies every whole batch in `buf` (as appended, with their offsets) below `endOffset`, and
   * advances mapEndOffset past the last one applied — never further: `buf` may cover only part of
   * the range (a read stops at its segment's end and at maxBytes), and what it does not hold must
   * still be replayed. The follower's append then moves it to its log end with advanceTo.
   */
  applyBatches(buf: Buffer, endOffset: bigint): void {
    let pos = 0;
    while (buf.length - pos >= RECORD_BATCH_OVERHEAD) {
      const size = LOG_OVERHEAD + buf.readInt32BE(pos + 8);
      if (pos + size > buf.length) break;
      const baseOffset = buf.readBigInt64BE(pos);
      if (baseOffset >= endOffset) break;
      if (baseOffset >= this.endOffset) {
        if (buf.readBigInt64BE(pos + PRODUCER_ID_AT) >= 0n) {
          this.update(readBatchHeader(buf, pos), baseOffset);
        } else {
          const last = baseOffset + BigInt(buf.readInt32BE(pos + 23));
          if (last + 1n > this.endOffset) this.endOffset = last + 1n;
        }
      }
      pos += size;
    }
  }

  /**
   * Writes a snapshot at mapEndOffset (after expiring old producers) and keeps only the newest
   * two. A failure is logged, not thrown: the log remains the source of truth.
   */
  takeSnapshot(nowMs: number = Date.now(), expirationMs = DEFAULT_PRODUCER_ID_EXPIRATION_MS): void {
    const cutoff = BigInt(nowMs - expirationMs);
    for (const [id, entry] of this.producers) {
      const last = entry.batches[entry.batches.length - 1];
      if (last !== undefined && last.timestamp >= 0n && last.timestamp < cutoff) this.producers.delete(id);
    }
    const body = JSON.stringify({
      version: 1,
      offset: this.endOffset.toString(),
      producers: [...this.producers.values()].map((e) => [
        e.producerId.toString(),
        e.epoch,
        e.batches.map((b) => [b.firstSeq, b.lastSeq, b.firstOffset.toString(), b.lastOffset.toString(), b.timestamp.toString()]),
      ]),
    });
    const path = join(this.log.dir, snapshotFileName(this.endOffset));
    try {
      writeFileSync(`${path}.tmp`, `${crc32c(Buffer.from(body))}\n${body}`);
      renameSync(`${path}.tmp`, path);
      const offsets = this.snapshotOffsets();
      for (const offset of offsets.slice(0, -2)) this.deleteSnapshot(offset);
    } catch (err) {
      this.logger?.warn({ dir: this.log.dir, err }, 'writing a producer state snapshot failed');
    }
  }

  /** After the log was truncated to `offset`: drops snapshots above it and rebuilds. */
  truncateAndReload(): void {
    this.reload();
  }

  /** The log was emptied and restarted: forget everything. */
  truncateFully(): void {
    for (const offset of this.snapshotOffsets()) this.deleteSnapshot(offset);
    this.producers.clear();
    this.endOffset = this.log.logEndOffset;
  }

  private reload(): void {
    const end = this.log.logEndOffset;
    this.producers.clear();
    this.endOffset = this.log.logStartOffset;
    const offsets = this.snapshotOffsets();
    for (const offset of offsets) if (offset > end) this.deleteSnapshot(offset);
    for (const offset of offsets.filter((o) => o <= end).reverse()) {
      if (this.readSnapshot(offset)) break;
    }
    if (this.endOffset < this.log.logStartOffset) this.endOffset = this.log.logStartOffset;
    this.replay(end);
  }

  /** Applies the log's batches from mapEndOffset up to `end`. */
  private replay(end: bigint): void {
    let offset = this.endOffset;
    while (offset < end) {
      const { records } = this.log.read(offset, 1024 * 1024, end, true);
      if (records.length === 0) break;
      this.applyBatches(records, end);
      if (this.endOffset <= offset) break;
      offset = this.endOffset;
    }
    this.endOffset = end;
  }

  private readSnapshot(offset: bigint): boolean {
    const path = join(this.log.dir, snapshotFileName(offset));
    try {
      const text = readFileSync(path, 'utf8');
      const nl = text.indexOf('\n');
      const body = text.slice(nl + 1);
      if (nl < 0 || Number(text.slice(0, nl)) !== crc32c(Buffer.from(body))) throw new Error('checksum mismatch');
      const parsed = JSON.parse(body) as {
        version: number;
        offset: string;
        producers: [string, number, [number, number, string, string, string][]][];
      };
      if (parsed.version !== 1 || BigInt(parsed.offset) !== offset)
        throw new Error(`unexpected version ${parsed.version} or offset ${parsed.offset}`);
      for (const [id, epoch, batches] of parsed.producers) {
        const producerId = BigInt(id);
        this.producers.set(producerId, {
          producerId,
          epoch,
          batches: batches.map(([firstSeq, lastSeq, firstOffset, lastOffset, ts]) => ({
            firstSeq,
            lastSeq,
            firstOffset: BigInt(firstOffset),
            lastOffset: BigInt(lastOffset),
            timestamp: BigInt(ts),
          })),
        });
      }
      this.endOffset = offset;
      return true;
    } catch (err) {
      this.producers.clear();
      this.logger?.warn({ dir: this.log.dir, file: path, err: (err as Error).message }, 'ignoring an unreadable producer state snapshot');
      this.deleteSnapshot(offset);
      return false;
    }
  }

  /** Snapshot offsets on disk, ascending. */
  snapshotOffsets(): bigint[] {
    const out: bigint[] = [];
    for (const name of readdirSync(this.log.dir)) {
      if (!name.endsWith(PRODUCER_SNAPSHOT_SUFFIX)) continue;
      const digits = name.slice(0, -PRODUCER_SNAPSHOT_SUFFIX.length);
      if (/^\d{20}$/.test(digits)) out.push(BigInt(digits));
    }
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private deleteSnapshot(offset: bigint): void {
    try {
      unlinkSync(join(this.log.dir, snapshotFileName(offset)));
    } catch {
      // already gone
    }
  }
}
