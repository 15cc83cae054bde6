/**
 * Log compaction, Kafka's LogCleaner: for logs with cleanup.policy=compact (or compact,delete),
 * a background cleaner keeps the latest record of every key and drops the rest, without ever
 * changing an offset.
 *
 * ## What is cleanable
 *
 *   logStartOffset      firstDirtyOffset              cleanableEndOffset           active segment    LEO
 *   |------ clean -------|----------- dirty -------------|------- not yet cleanable ----|-----------|
 *
 * - Only whole inactive segments are cleaned, those that end at or below the first uncleanable
 *   offset = min(active segment's base, high watermark, base of the first dirty segment whose
 *   largest timestamp is newer than now - min.compaction.lag.ms). Records above the HW may still
 *   be truncated, so they are never rewritten. Segments wholly below logStartOffset are left to
 *   retention.
 * - firstDirtyOffset comes from the cleaner checkpoint (cleanerFiles.ts), clamped to the log; a
 *   truncation lowers it. Everything below it has been cleaned before.
 * - dirty ratio = dirty bytes / (clean + dirty bytes) of the cleanable segments. A log is taken
 *   when its ratio is above min.cleanable.dirty.ratio, or a dirty record is older than
 *   max.compaction.lag.ms (which also caps segment.ms, so the active segment rolls and becomes
 *   cleanable), or a tombstone the last cleaning kept has reached its delete horizon. The cleaner
 *   takes the filthiest such log first.
 *
 * ## One cleaning
 *
 * 1. Offset map: every keyed record of the dirty section, key -> its latest offset, up to
 *    dedupeBufferBytes of (estimated) memory; when full it stops at a batch boundary, `endOffset`
 *    = where the map stops (else the cleanable end). The map keeps the key bytes (exact, no hash).
 * 2. The segments from the start of the log up to endOffset are rewritten in groups of adjacent
 *    segments (together at most segment.bytes, offsets fitting one index), each group into one
 *    new segment named after its first. A record is kept when its offset is at or past endOffset,
 *    or its key's latest offset in the map is not above its own (a key not in the map is kept),
 *    and it is not a tombstone whose batch's delete horizon has passed. Null-key records are
 *    dropped (a compacted topic refuses them at produce, as Kafka does; older ones can only come
 *    from a topic altered from delete to compact, and Kafka drops them too). Control batches are
 *    copied as they are (Samsa has no transactions yet, so no aborted data to remove).
 * 3. Batches: a batch keeping all its records (and needing no horizon stamp) is copied verbatim.
 *    Otherwise the kept records go into a new RecordBatch v2 with the original's base offset,
 *    last offset delta, partition leader epoch, producer id/epoch/base sequence, timestamp type
 *    and compression codec, each record with its offset and timestamp (encodeRetainedBatch in
 *    @samsa/protocol). A batch left empty is dropped, except the last batch of an idempotent
 *    producer (producerId >= 0) among the batches being cleaned, whose empty header stays so the
 *    producer's last sequence number survives (Kafka keeps it for the producer state; a later
 *    batch of the same producer beyond the cleaned range is not looked for, so a header may be
 *    kept that Kafka would drop — never the reverse).
 * 4. Tombstones (null value): the first cleaning that keeps a batch holding one stamps its delete
 *    horizon = now + delete.retention.ms into the batch (KIP-534, see compactedBatch.ts); a
 *    cleaning after the horizon drops them. The earliest horizon kept is checkpointed, so a log
 *    with nothing dirty is still taken when it passes.
 * 5. Offsets never change: cleaned batches keep their offset range, so a segment has gaps, and a
 *    read for an offset in a gap answers the next batch (Log.read finds the first batch whose last
 *    offset is >= the target). Followers fetch those batches verbatim (their log end offset is
 *    always a batch boundary of the leader's, since both hold the same batch ranges) and compact
 *    on their own schedule; truncation inside a cleaned segment cuts at a batch as before.
 *
 * ## Files (crash safety, cleanerFiles.ts)
 *
 * The new segment is written as `<base>.log.cleaned` (+ .index.cleaned, .timeindex.cleaned,
 * indexes built as it is written) and fsynced; then, in one synchronous step of the event loop,
 * the log checks that nothing it read has changed (Log.replaceWithCleaned), renames the indexes
 * and then the log file to `.swap` (the commit point; directory fsynced), deletes the old
 * segments (directory fsynced), and renames the .swap files to their final names. Opening a log
 * deletes any `.cleaned` file and completes any `.log.swap`. A crash anywhere loses no record.
 *
 * ## Running
 *
 * One LogCleaner per broker, on a timer: each pass cleans one log (the filthiest), then the next
 * pass starts at once if it cleaned something, else after log.cleaner.backoff.ms. A pass yields to
 * the event loop every yieldEveryBytes of data read, so appends, fetches and heartbeats keep
 * flowing; between yields it only reads its own file descriptors and writes its own files. A log
 * that is closed or truncated meanwhile, or the cleaner stopping, aborts the pass (its files are
 * deleted); a log whose segment list changed refuses the swap. A log whose cleaning fails with
 * an unexpected error is not taken again until the broker restarts (Kafka's uncleanable
 * partitions). Each replica compacts its own log; offsets are preserved, so the HW, the leader
 * epochs and replication are unaffected.
 *
 * Config (topic, as Kafka): cleanup.policy, min.cleanable.dirty.ratio (0.5),
 * min.compaction.lag.ms (0), max.compaction.lag.ms (unbounded), delete.retention.ms (1 day),
 * segment.ms / segment.bytes. Broker (LogCleanerConfig): log.cleaner.enable,
 * log.cleaner.backoff.ms, log.cleaner.dedupe.buffer.size, log.cleaner.io.buffer.size.
 */
import { closeSync, constants, fstatSync, openSync, statSync, utimesSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  BatchField,
  LOG_OVERHEAD,
  MAGIC_V2,
  RECORD_BATCH_OVERHEAD,
  SamsaProtocolError,
  computeBatchCrc,
  decodeRecordBatch,
  deleteHorizonOf,
  encodeRetainedBatch,
  protocolError,
  readBatchHeader,
  type Record,
  type RecordBatchHeader,
} from '@samsa/protocol';
import {
  CLEANED_FILE_SUFFIX,
  readCleanerCheckpoint,
  segmentFiles,
  unlinkIfExists,
  writeCleanerCheckpoint,
  type CleanerCheckpoint,
  type SwapStep,
} from './cleanerFiles.js';
import { INT32_MAX, isCompacted } from './config.js';
import { OPEN_RW_TRUNCATE, fsyncAsync, readFully, writeFully } from './files.js';
import { HeaderReader } from './headerReader.js';
import type { Log, LogLogger, SegmentInfo } from './log.js';
import { OffsetIndex } from './offsetIndex.js';
import { TimeIndex } from './timeIndex.js';

export interface LogCleanerConfig {
  /** log.cleaner.enable. */
  enabled: boolean;
  /** log.cleaner.backoff.ms: the pause when no log needs cleaning. */
  backoffMs: number;
  /** log.cleaner.dedupe.buffer.size: estimated memory the key -> offset map of one cleaning may take. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.size: bytes read from a segment at a time (a larger batch is read whole). */
  ioBufferBytes: number;
  /** Bytes of segment data processed between two yields to the event loop. */
  yieldEveryBytes: number;
}

export const DEFAULT_LOG_CLEANER_CONFIG: Readonly<LogCleanerConfig> = Object.freeze({
  enabled: true,
  backoffMs: 15_000,
  dedupeBufferBytes: 32 * 1024 * 1024,
  ioBufferBytes: 1024 * 1024,
  yieldEveryBytes: 128 * 1024,
});

/** What cleanLog needs besides the log. */
export interface CleanOptions {
  /** Wall-clock ms: min/max.compaction.lag.ms and delete horizons. */
  now: number;
  /** The partition's high watermark: nothing at or above it is cleaned. */
  highWatermark: bigint;
  dedupeBufferBytes?: number;
  ioBufferBytes?: number;
  yieldEveryBytes?: number;
  /** Checked after every yield: true aborts the cleaning (the cleaner is stopping). */
  shouldStop?: () => boolean;
  /** Sees each file step of a swap before it runs (crash tests). */
  onSwapStep?: (step: SwapStep) => void;
  logger?: LogLogger;
}

export interface CleanResult {
  /** 'cleaned': at least the checkpoint moved; 'aborted': the log changed under the cleaning; 'nothing': nothing cleanable. */
  outcome: 'cleaned' | 'aborted' | 'nothing';
  firstDirtyOffset: bigint;
  /** The new first dirty offset (the map's end). */
  endOffset: bigint;
  segmentsCleaned: number;
  segmentsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsKept: number;
  tombstonesRemoved: number;
  /** The earliest delete horizon of a tombstone kept, -1 when none. */
  nextDeleteHorizonMs: bigint;
}

/** The cleanable part of a log right now (see the top of this file). */
export interface CleanableRange {
  firstDirtyOffset: bigint;
  /** The end of the last cleanable segment (the next segment's base offset). */
  cleanableEndOffset: bigint;
  /** The cleanable segments, oldest first (none below logStartOffset). */
  segments: SegmentInfo[];
  cleanBytes: number;
  dirtyBytes: number;
  dirtyRatio: number;
  /** A dirty record is older than max.compaction.lag.ms. */
  needCompactionNow: boolean;
  /** A tombstone kept by the last cleaning has reached its delete horizon. */
  tombstonesDue: boolean;
}

const NO_HORIZON = -1n;
/** Bytes a batch header read counts for, towards yieldEveryBytes. */
const HEADER_WALK_COST = 4096;
/** Bytes a decoded record counts for besides its key and value (decoding and re-encoding it). */
const DECODED_RECORD_COST = 32;
/** Estimated bytes of one map entry besides its key: the Map slot, the string header, the bigint. */
const MAP_ENTRY_OVERHEAD = 96;

class CleaningAborted extends Error {}

/**
 * Kafka's cleanableOffsets + dirty ratio for one log. `checkpoint` is the cleaner checkpoint
 * (undefined: never cleaned). Reads only segment metadata, plus the first batch header of the
 * first dirty segment when max.compaction.lag.ms is set.
 */
export function cleanableRange(log: Log, checkpoint: CleanerCheckpoint | undefined, highWatermark: bigint, now: number): CleanableRange {
  const config = log.config;
  const segments = log.segments;
  const logStart = log.logStartOffset;
  let firstDirty = checkpoint?.firstDirtyOffset ?? logStart;
  if (firstDirty < logStart || firstDirty > log.logEndOffset) firstDirty = logStart;

  let bound = segments[segments.length - 1]!.baseOffset;
  if (highWatermark < bound) bound = highWatermark;
  if (config.minCompactionLagMs > 0) {
    const newest = BigInt(now - config.minCompactionLagMs);
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      if (segments[i + 1]!.baseOffset <= firstDirty) continue;
      if (largestTimestamp(s) > newest) {
        if (s.baseOffset < bound) bound = s.baseOffset;
        break;
      }
    }
  }

  const cleanable: SegmentInfo[] = [];
  let cleanableEnd = segments[0]!.baseOffset;
  let cleanBytes = 0;
  let dirtyBytes = 0;
  let firstDirtySegment: SegmentInfo | undefined;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    const next = segments[i + 1]!.baseOffset;
    if (next > bound) break;
    cleanableEnd = next;
    if (next <= logStart) continue;
    cleanable.push(s);
    if (next <= firstDirty) {
      cleanBytes += s.sizeInBytes;
    } else {
      dirtyBytes += s.sizeInBytes;
      firstDirtySegment ??= s;
    }
  }
  const total = cleanBytes + dirtyBytes;
  let needCompactionNow = false;
  if (firstDirtySegment && config.maxCompactionLagMs < Number.MAX_SAFE_INTEGER) {
    const first = firstBatchTimestamp(firstDirtySegment);
    needCompactionNow = first >= 0n && first < BigInt(now - config.maxCompactionLagMs);
  }
  const horizon = checkpoint?.nextDeleteHorizonMs ?? NO_HORIZON;
  return {
    firstDirtyOffset: firstDirty,
    cleanableEndOffset: cleanableEnd,
    segments: cleanable,
    cleanBytes,
    dirtyBytes,
    dirtyRatio: total === 0 ? 0 : dirtyBytes / total,
    needCompactionNow,
    tombstonesDue: horizon >= 0n && BigInt(now) >= horizon && cleanable.length > 0,
  };
}

/** Whether the cleaner should take a log with this range now (Kafka's grabFilthiestCompactedLog filter). */
export function needsCleaning(range: CleanableRange, minCleanableDirtyRatio: number): boolean {
  if (range.tombstonesDue) return true;
  if (range.dirtyBytes === 0) return false;
  return range.needCompactionNow || range.dirtyRatio > minCleanableDirtyRatio;
}

function largestTimestamp(s: SegmentInfo): bigint {
  if (s.maxTimestamp >= 0n) return s.maxTimestamp;
  try {
    return BigInt(Math.floor(statSync(s.logPath).mtimeMs));
  } catch {
    return -1n;
  }
}

function firstBatchTimestamp(s: SegmentInfo): bigint {
  let fd: number;
  try {
    fd = openSync(s.logPath, constants.O_RDONLY);
  } catch {
    return -1n;
  }
  try {
    const reader = new HeaderReader(fd, s.sizeInBytes);
    return reader.load(0) ? reader.maxTimestamp : -1n;
  } finally {
    closeSync(fd);
  }
}

// ---- one cleaning ----

/** Reads whole batches of one segment file in order, in chunks, checking each batch's CRC. */
class SegmentBatchReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  position = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly path: string,
    private readonly chunkBytes: number,
  ) {}

  /** The next batch (a view that stays valid), or undefined at the end. */
  next(): Buffer | undefined {
    if (this.position + RECORD_BATCH_OVERHEAD > this.size) return undefined;
    if (this.position + LOG_OVERHEAD > this.bufStart + this.buf.length) this.fill(this.chunkBytes);
    let at = this.position - this.bufStart;
    const batchSize = LOG_OVERHEAD + this.buf.readInt32BE(at + BatchField.BATCH_LENGTH);
    if (batchSize < RECORD_BATCH_OVERHEAD || this.position + batchSize > this.size) {
      throw protocolError(
        'KAFKA_STORAGE_ERROR',
        `${this.path}: the batch at byte ${this.position} declares ${batchSize} bytes, which do not fit the ${this.size}-byte segment`,
      );
    }
    if (this.position + batchSize > this.bufStart + this.buf.length) {
      this.fill(Math.max(this.chunkBytes, batchSize));
      at = 0;
    }
    const batch = this.buf.subarray(at, at + batchSize);
    if (batch.readInt8(BatchField.MAGIC) !== MAGIC_V2 || computeBatchCrc(batch, 0, batchSize) !== batch.readUInt32BE(BatchField.CRC)) {
      throw protocolError(
        'KAFKA_STORAGE_ERROR',
        `${this.path}: the batch at byte ${this.position} is corrupt (magic or CRC); not cleaning this log`,
      );
    }
    this.position += batchSize;
    return batch;
  }

  /** A fresh buffer from the current position (earlier views stay valid). */
  private fill(bytes: number): void {
    const want = Math.min(bytes, this.size - this.position);
    const buf = Buffer.allocUnsafe(want);
    const got = readFully(this.fd, buf, 0, want, this.position);
    if (got < want)
      throw protocolError('KAFKA_STORAGE_ERROR', `${this.path} ended at byte ${this.position + got}, expected ${this.size} bytes`);
    this.buf = buf;
    this.bufStart = this.position;
  }
}

/** Key -> latest offset of the dirty section. Keys are the exact bytes (latin1 maps bytes 1:1). */
class OffsetMap {
  private readonly map = new Map<string, bigint>();
  bytes = 0;

  put(key: Buffer, offset: bigint): void {
    const k = key.toString('latin1');
    if (!this.map.has(k)) this.bytes += k.length + MAP_ENTRY_OVERHEAD;
    this.map.set(k, offset);
  }

  /** The latest offset of `key`, -1 when the dirty section does not hold it. */
  get(key: Buffer): bigint {
    return this.map.get(key.toString('latin1')) ?? -1n;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Writes one cleaned segment (`<base>.*.cleaned`) and its indexes, as LogSegment builds them on append. */
class CleanedSegmentWriter {
  readonly files;
  private readonly fd: number;
  private readonly offsetIndex: OffsetIndex;
  private readonly timeIndex: TimeIndex;
  size = 0;
  private bytesSinceLastIndexEntry = 0;
  private maxTimestampSoFar = -1n;
  private offsetOfMaxTimestampSoFar: bigint;
  private closed = false;

  constructor(
    dir: string,
    readonly baseOffset: bigint,
    private readonly indexIntervalBytes: number,
  ) {
    this.files = segmentFiles(dir, baseOffset, CLEANED_FILE_SUFFIX);
    this.offsetOfMaxTimestampSoFar = baseOffset;
    this.fd = openSync(this.files.log, OPEN_RW_TRUNCATE);
    this.offsetIndex = new OffsetIndex(this.files.index, true);
    this.timeIndex = new TimeIndex(this.files.timeIndex, true);
  }

  append(batch: Buffer, baseOffset: bigint, maxTimestamp: bigint): void {
    const position = this.size;
    writeFully(this.fd, batch, 0, batch.length, position);
    this.size += batch.length;
    if (maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = maxTimestamp;
      this.offsetOfMaxTimestampSoFar = baseOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes) {
      this.offsetIndex.append(Number(baseOffset - this.baseOffset), position);
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, Number(this.offsetOfMaxTimestampSoFar - this.baseOffset));
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += batch.length;
  }

  /** The last time index entry (as an inactive segment gets), then everything fsynced and closed. */
  async finish(lastModifiedMs: number): Promise<void> {
    if (this.maxTimestampSoFar >= 0n) {
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, Number(this.offsetOfMaxTimestampSoFar - this.baseOffset));
    }
    this.offsetIndex.persist();
    this.timeIndex.persist();
    try {
      await Promise.all([fsyncAsync(this.fd), this.offsetIndex.fsync(), this.timeIndex.fsync()]);
    } finally {
      this.close();
    }
    // Kafka keeps the newest modification time of the segments cleaned (retention falls back to it).
    const seconds = lastModifiedMs / 1000;
    utimesSync(this.files.log, seconds, seconds);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    this.offsetIndex.close();
    this.timeIndex.close();
  }

  delete(): void {
    this.close();
    for (const path of [this.files.log, this.files.index, this.files.timeIndex]) unlinkIfExists(path);
  }
}

/** Groups adjacent segments whose total size fits segment.bytes and whose offsets fit one index (Kafka's groupSegmentsBySize). */
function groupSegments(segments: readonly SegmentInfo[], nextBaseOf: (s: SegmentInfo) => bigint, maxBytes: number): SegmentInfo[][] {
  const groups: SegmentInfo[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]!];
    let bytes = segments[i]!.sizeInBytes;
    const base = segments[i]!.baseOffset;
    i++;
    while (i < segments.length) {
      const s = segments[i]!;
      if (bytes + s.sizeInBytes > maxBytes || nextBaseOf(s) - 1n - base > BigInt(INT32_MAX)) break;
      group.push(s);
      bytes += s.sizeInBytes;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/**
 * Cleans `log` once (the steps at the top of this file), whatever its dirty ratio: the caller
 * decides whether it should (needsCleaning). Resolves with what it did; rejects only on an
 * unexpected error (I/O, corrupt data), leaving the log as it was or with some groups swapped.
 *
 * The steps are Kafka's Cleaner.doClean: build the offset map, group the segments, clean each
 * group into a new segment, swap it in; then checkpoint.
 */
export async function cleanLog(log: Log, opts: CleanOptions): Promise<CleanResult> {
  const range = cleanableRange(log, readCleanerCheckpoint(log.dir), opts.highWatermark, opts.now);
  const cleaning = new Cleaning(log, opts, range);
  if (range.segments.length === 0) return cleaning.result;
  try {
    const { map, endOffset } = await cleaning.buildOffsetMap();
    // Which segments are rewritten: every cleanable one starting below the map's end.
    const toClean = range.segments.filter((s) => s.baseOffset < endOffset);
    const lastBatchOfProducer = await cleaning.lastBatchOfEachProducer(toClean);
    for (const group of groupSegments(toClean, cleaning.nextBaseOf, log.config.segmentBytes)) {
      const writer = await cleaning.cleanSegmentsInto(group, map, endOffset, lastBatchOfProducer);
      if (writer !== undefined) await cleaning.swap(group, writer);
    }
    return cleaning.checkpoint(endOffset);
  } catch (err) {
    return cleaning.abandon(err);
  }
}

/** One cleaning of one log: its options, the yield accounting, the files it writes, what it did. */
class Cleaning {
  readonly result: CleanResult;
  /** The base offset of the segment after `s` (every cleanable segment has one: the active one at least). */
  readonly nextBaseOf: (s: SegmentInfo) => bigint;
  private readonly ioBufferBytes: number;
  private readonly yieldEvery: number;
  private readonly maxMapBytes: number;
  private readonly now: bigint;
  private readonly dir: string;
  /** The log's truncation count when the cleaning started: a truncation since aborts it. */
  private readonly truncations: number;
  private readonly writers: CleanedSegmentWriter[] = [];
  private sinceYield = 0;
  private decodedBytes = 0;
  /** The earliest delete horizon of a tombstone kept so far (NO_HORIZON: none). */
  private minHorizon = NO_HORIZON;

  constructor(
    private readonly log: Log,
    private readonly opts: CleanOptions,
    private readonly range: CleanableRange,
  ) {
    this.ioBufferBytes = opts.ioBufferBytes ?? DEFAULT_LOG_CLEANER_CONFIG.ioBufferBytes;
    this.yieldEvery = opts.yieldEveryBytes ?? DEFAULT_LOG_CLEANER_CONFIG.yieldEveryBytes;
    this.maxMapBytes = opts.dedupeBufferBytes ?? DEFAULT_LOG_CLEANER_CONFIG.dedupeBufferBytes;
    this.now = BigInt(opts.now);
    this.dir = log.dir;
    this.truncations = log.truncationCount;
    this.result = {
      outcome: 'nothing',
      firstDirtyOffset: range.firstDirtyOffset,
      endOffset: range.firstDirtyOffset,
      segmentsCleaned: 0,
      segmentsWritten: 0,
      bytesRead: 0,
      bytesWritten: 0,
      recordsRead: 0,
      recordsKept: 0,
      tombstonesRemoved: 0,
      nextDeleteHorizonMs: NO_HORIZON,
    };
    const all = log.segments;
    const nextBases = new Map(all.slice(0, -1).map((s, i) => [s.baseOffset, all[i + 1]!.baseOffset]));
    this.nextBaseOf = (s) => nextBases.get(s.baseOffset)!;
  }

  /**
   * Step 1: key -> latest offset over the dirty section, until the map is full (then it ends at
   * a batch boundary). `endOffset` is where the map ends: records from there on are kept as they are.
   */
  async buildOffsetMap(): Promise<{ map: OffsetMap; endOffset: bigint }> {
    const map = new OffsetMap();
    const firstDirty = this.range.firstDirtyOffset;
    let endOffset = this.range.cleanableEndOffset > firstDirty ? this.range.cleanableEndOffset : firstDirty;
    let full = false;
    for (const segment of this.range.segments) {
      if (full || this.nextBaseOf(segment) <= firstDirty) continue;
      await this.forEachBatch(segment, (batch, header) => {
        const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
        if (lastOffset < firstDirty) return;
        if (map.bytes >= this.maxMapBytes && map.size > 0) {
          full = true;
          endOffset = header.baseOffset > firstDirty ? header.baseOffset : firstDirty;
          return false;
        }
        if (header.isControl) return;
        const records = this.decode(batch, header);
        if (!records) return;
        for (const r of records) if (r.key !== null && r.offset >= firstDirty) map.put(r.key, r.offset);
      });
    }
    this.result.endOffset = endOffset;
    return { map, endOffset };
  }

  /** The base offset of the last batch of each idempotent producer among `segments` (its empty header is kept). */
  async lastBatchOfEachProducer(segments: readonly SegmentInfo[]): Promise<Map<bigint, bigint>> {
    const lastBatchOfProducer = new Map<bigint, bigint>();
    for (const segment of segments) {
      let fd: number;
      try {
        fd = openSync(segment.logPath, constants.O_RDONLY);
      } catch {
        throw new CleaningAborted();
      }
      try {
        const reader = new HeaderReader(fd, segment.sizeInBytes);
        let position = 0;
        while (reader.load(position)) {
          const size = reader.size;
          if (size < RECORD_BATCH_OVERHEAD) break;
          const pid = reader.producerId;
          if (pid >= 0n) lastBatchOfProducer.set(pid, reader.baseOffset);
          position += size;
          // A header costs about one small read: count it as such between yields.
          await this.checkpointYield(HEADER_WALK_COST);
        }
      } finally {
        closeSync(fd);
      }
    }
    return lastBatchOfProducer;
  }

  /**
   * Steps 2-4 for one group: every batch of its segments, filtered, into one new `.cleaned`
   * segment (finished and fsynced). Undefined when the result would be an identical copy of a
   * single segment (nothing to swap; its files are deleted).
   */
  async cleanSegmentsInto(
    group: readonly SegmentInfo[],
    map: OffsetMap,
    endOffset: bigint,
    lastBatchOfProducer: ReadonlyMap<bigint, bigint>,
  ): Promise<CleanedSegmentWriter | undefined> {
    const writer = new CleanedSegmentWriter(this.dir, group[0]!.baseOffset, this.log.config.indexIntervalBytes);
    this.writers.push(writer);
    let changed = group.length > 1;
    let lastModified = 0;
    for (const segment of group) {
      try {
        lastModified = Math.max(lastModified, statSync(segment.logPath).mtimeMs);
      } catch {
        throw new CleaningAborted();
      }
      await this.forEachBatch(segment, (batch, header) => {
        if (this.cleanBatchInto(writer, batch, header, map, endOffset, lastBatchOfProducer)) changed = true;
      });
    }
    if (!changed) {
      // Nothing to gain from swapping in an identical copy of a single segment.
      writer.delete();
      this.writers.pop();
      return undefined;
    }
    await writer.finish(lastModified);
    return writer;
  }

  /**
   * One batch of a group: copied verbatim, rewritten with the records it keeps (and its delete
   * horizon stamped), or dropped. Returns true when the output differs from the input.
   */
  private cleanBatchInto(
    writer: CleanedSegmentWriter,
    batch: Buffer,
    header: RecordBatchHeader,
    map: OffsetMap,
    endOffset: bigint,
    lastBatchOfProducer: ReadonlyMap<bigint, bigint>,
  ): boolean {
    const result = this.result;
    result.bytesRead += batch.length;
    const keep = (bytes: Buffer, maxTimestamp: bigint): void => {
      writer.append(bytes, header.baseOffset, maxTimestamp);
      result.bytesWritten += bytes.length;
    };
    if (header.isControl || header.baseOffset >= endOffset) {
      keep(batch, header.maxTimestamp);
      return false;
    }
    const records = this.decode(batch, header);
    if (!records) {
      keep(batch, header.maxTimestamp);
      return false;
    }
    result.recordsRead += records.length;
    const horizon = deleteHorizonOf(header);
    const { kept, tombstones } = this.retainedRecords(records, map, endOffset, horizon !== undefined && this.now >= horizon);
    result.recordsKept += kept.length;
    const lastOfProducer = header.producerId >= 0n && lastBatchOfProducer.get(header.producerId) === header.baseOffset;
    if (kept.length === 0 && !lastOfProducer) return true;
    const horizonForNew = this.now + BigInt(this.log.config.deleteRetentionMs);
    const stamp = tombstones > 0 && horizon === undefined;
    if (tombstones > 0) this.noteHorizon(stamp ? horizonForNew : horizon!);
    if (kept.length === records.length && !stamp) {
      keep(batch, header.maxTimestamp);
      return false;
    }
    const rewritten = encodeRetainedBatch(header, kept, stamp ? { deleteHorizonMs: horizonForNew } : {});
    keep(rewritten, rewritten.readBigInt64BE(BatchField.MAX_TIMESTAMP));
    return true;
  }

  /** Kafka's shouldRetainRecord over one batch: the records kept, and how many of them are tombstones. */
  private retainedRecords(
    records: readonly Record[],
    map: OffsetMap,
    endOffset: bigint,
    horizonPassed: boolean,
  ): { kept: Record[]; tombstones: number } {
    const kept: Record[] = [];
    let tombstones = 0;
    for (const r of records) {
      if (r.offset >= endOffset) {
        kept.push(r);
        continue;
      }
      if (r.key === null || r.offset < map.get(r.key)) continue;
      if (r.value === null) {
        if (horizonPassed) {
          this.result.tombstonesRemoved++;
          continue;
        }
        tombstones++;
      }
      kept.push(r);
    }
    return { kept, tombstones };
  }

  /** Swaps one cleaned group in (Log.replaceWithCleaned); aborts when the log changed under it. */
  async swap(group: readonly SegmentInfo[], writer: CleanedSegmentWriter): Promise<void> {
    if (!this.log.replaceWithCleaned(group, this.truncations, this.opts.onSwapStep)) throw new CleaningAborted();
    this.writers.splice(this.writers.indexOf(writer), 1);
    this.result.segmentsCleaned += group.length;
    this.result.segmentsWritten++;
    await this.checkpointYield(0);
  }

  /** Step 5: the cleaner checkpoint (first dirty offset, earliest horizon kept), then the result. */
  checkpoint(endOffset: bigint): CleanResult {
    const result = this.result;
    result.nextDeleteHorizonMs = this.minHorizon;
    if (this.log.isClosed || this.log.truncationCount !== this.truncations) throw new CleaningAborted();
    writeCleanerCheckpoint(this.dir, { firstDirtyOffset: endOffset, nextDeleteHorizonMs: this.minHorizon });
    result.outcome = 'cleaned';
    this.opts.logger?.info(
      {
        dir: this.dir,
        firstDirtyOffset: String(this.range.firstDirtyOffset),
        endOffset: String(endOffset),
        segmentsCleaned: result.segmentsCleaned,
        segmentsWritten: result.segmentsWritten,
        bytesRead: result.bytesRead,
        bytesWritten: result.bytesWritten,
        recordsRead: result.recordsRead,
        recordsKept: result.recordsKept,
        tombstonesRemoved: result.tombstonesRemoved,
      },
      'cleaned log',
    );
    return result;
  }

  /** Deletes the files not swapped in; an abort (or a log closed under it) is an 'aborted' result, anything else rethrown. */
  abandon(err: unknown): CleanResult {
    for (const writer of this.writers) writer.delete();
    // A log closed under the cleaning (shutdown, partition deleted) may fail it any way: an abort.
    if (err instanceof CleaningAborted || this.log.isClosed) {
      this.result.outcome = 'aborted';
      this.opts.logger?.info({ dir: this.dir }, 'log cleaning aborted: the log changed or the cleaner is stopping');
      return this.result;
    }
    throw err;
  }

  private noteHorizon(h: bigint): void {
    if (this.minHorizon < 0n || h < this.minHorizon) this.minHorizon = h;
  }

  /** Yields to the event loop every yieldEveryBytes; aborts if the log closed or truncated, or the cleaner is stopping. */
  private async checkpointYield(bytes: number): Promise<void> {
    this.sinceYield += bytes;
    if (this.sinceYield < this.yieldEvery) return;
    this.sinceYield = 0;
    await yieldToEventLoop();
    if (this.log.isClosed || this.log.truncationCount !== this.truncations || this.opts.shouldStop?.()) throw new CleaningAborted();
  }

  /** Calls `onBatch` for every batch of `segment` (false stops), reading it through a descriptor of our own. */
  private async forEachBatch(segment: SegmentInfo, onBatch: (batch: Buffer, header: RecordBatchHeader) => boolean | void): Promise<void> {
    let fd: number;
    try {
      fd = openSync(segment.logPath, constants.O_RDONLY);
    } catch (err) {
      // Deleted since (retention): the log moved under us.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CleaningAborted();
      throw err;
    }
    try {
      const reader = new SegmentBatchReader(fd, Math.min(segment.sizeInBytes, fstatSync(fd).size), segment.logPath, this.ioBufferBytes);
      for (let batch = reader.next(); batch; batch = reader.next()) {
        const stop = onBatch(batch, readBatchHeader(batch, 0)) === false;
        await this.checkpointYield(batch.length + this.decodedBytes);
        this.decodedBytes = 0;
        if (stop) return;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The records of a batch; undefined when this process has no codec for its compression (kept whole, keys unmapped). */
  private decode(batch: Buffer, header: RecordBatchHeader): Record[] | undefined {
    try {
      const { records } = decodeRecordBatch(batch, 0, { verifyCrc: false });
      // A compressed batch is much more work than its bytes: charge what was decoded.
      if (header.compression !== 0)
        for (const r of records) this.decodedBytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + DECODED_RECORD_COST;
      return records;
    } catch (err) {
      if (err instanceof SamsaProtocolError && err.errorName === 'UNSUPPORTED_COMPRESSION_TYPE') return undefined;
      throw protocolError(
        'KAFKA_STORAGE_ERROR',
        `cannot decode the batch at offset ${header.baseOffset} in ${this.dir}: ${(err as Error).message}`,
        err,
      );
    }
  }
}

// ---- the cleaner of a broker ----

/** A log the cleaner may take, with its partition's high watermark. */
export interface CleanableLog {
  key: string;
  log: Log;
  highWatermark(): bigint;
}

export interface LogCleanerDeps {
  /** The broker's clock and timers (Timers fits). */
  timers: { now(): number; setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
  logger: LogLogger;
  /** The broker's current logs (the cleaner takes only compacted, open ones). */
  logs: () => Iterable<CleanableLog>;
  /** Told of a cleaning that failed (a failed disk takes the log directory offline: README.md). */
  onCleaningFailure?: (err: unknown) => void;
}

/** One cleaner per broker: see "Running" at the top of this file. */
export class LogCleaner {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Logs whose cleaning failed unexpectedly: left alone until restart (Kafka's uncleanable partitions). */
  private readonly uncleanable = new WeakSet<Log>();

  constructor(
    readonly config: Readonly<LogCleanerConfig>,
    private readonly deps: LogCleanerDeps,
  ) {}

  start(): void {
    if (!this.config.enabled || this.stopped) return;
    this.schedule(this.config.backoffMs);
  }

  private schedule(ms: number): void {
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop();
    }, ms);
  }

  private async loop(): Promise<void> {
    let cleaned = false;
    try {
      cleaned = (await this.runOnce())?.result.outcome === 'cleaned';
    } catch (err) {
      this.deps.logger.error({ err }, 'log cleaner pass failed');
    } finally {
      this.running = undefined;
      if (!this.stopped) this.schedule(cleaned ? 0 : this.config.backoffMs);
    }
  }

  /**
   * Picks the filthiest log that needs cleaning and cleans it. Resolves with which log and what
   * happened, or undefined when none needs it. Errors of one log are logged and mark it uncleanable.
   */
  async runOnce(): Promise<{ key: string; result: CleanResult } | undefined> {
    const now = this.deps.timers.now();
    let best: { candidate: CleanableLog; score: number } | undefined;
    for (const candidate of this.deps.logs()) {
      const { log } = candidate;
      if (log.isClosed || !isCompacted(log.config) || this.uncleanable.has(log)) continue;
      try {
        const range = cleanableRange(log, readCleanerCheckpoint(log.dir), candidate.highWatermark(), now);
        if (!needsCleaning(range, log.config.minCleanableDirtyRatio)) continue;
        // Overdue logs first (max.compaction.lag.ms, tombstones), then by dirty ratio.
        const score = (range.needCompactionNow || range.tombstonesDue ? 1 : 0) + range.dirtyRatio;
        if (!best || score > best.score) best = { candidate, score };
      } catch (err) {
        this.deps.logger.error(
          { err, partition: candidate.key },
          'cannot measure the log for cleaning; leaving it uncleaned until restart',
        );
        this.uncleanable.add(log);
      }
    }
    if (!best) return undefined;
    const { key, log } = best.candidate;
    try {
      const result = await cleanLog(log, {
        now,
        highWatermark: best.candidate.highWatermark(),
        dedupeBufferBytes: this.config.dedupeBufferBytes,
        ioBufferBytes: this.config.ioBufferBytes,
        yieldEveryBytes: this.config.yieldEveryBytes,
        shouldStop: () => this.stopped,
        logger: this.deps.logger,
      });
      return { key, result };
    } catch (err) {
      if (!log.isClosed) {
        this.uncleanable.add(log);
        this.deps.logger.error({ err, partition: key }, 'cleaning the log failed; leaving it uncleaned until restart');
        this.deps.onCleaningFailure?.(err);
      }
      throw err;
    }
  }

  /** Stops the timer and waits for a running pass, which aborts at its next yield. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
