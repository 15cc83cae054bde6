/**
 * The log of one partition replica, Kafka's (Unified)Log: an ordered list of segments, the last
 * of which (the active segment) takes appends.
 *
 * ## On disk: the partition directory `<topic>-<partition>/`
 *
 *   00000000000000000000.log        RecordBatch v2 bytes back to back, verbatim as produced
 *                                   (baseOffset and partitionLeaderEpoch stamped by the leader).
 *                                   Any Kafka RecordBatch v2 decoder can read it.
 *   00000000000000000000.index      sparse offset index: (relative base offset int32, position int32)
 *                                   every index.interval.bytes (offsetIndex.ts)
 *   00000000000000000000.timeindex  sparse time index: (max timestamp so far int64, relative offset int32)
 *                                   at the same points, when the timestamp grew (timeIndex.ts)
 *   00000000000000004711.log ...    the next segment; the name is its base offset, 20 digits
 *   leader-epoch-checkpoint         epoch -> start offset, Kafka's text format (leaderEpochCache.ts)
 *   log-offsets-checkpoint          recovery point, log start offset, clean-shutdown flag (logCheckpoint.ts)
 *   cleaner-offset-checkpoint       compacted logs: first dirty offset, next tombstone horizon (cleaner.ts)
 *   *.cleaned, *.swap               a log cleaning's output on its way in; opening discards or completes it (cleanerFiles.ts)
 *
 * ## Offsets and states
 *
 *   first segment's base <= logStartOffset <= logEndOffset,   recoveryPoint <= logEndOffset
 *
 * - logEndOffset (LEO): the offset the next appended record gets.
 * - logStartOffset: the first readable offset. Moves up by retention (whole segments deleted) and
 *   advanceLogStartOffset (DeleteRecords); reads below it are OFFSET_OUT_OF_RANGE.
 * - recoveryPoint: everything below it has been fsynced; on open, segments wholly below the
 *   segment holding it are trusted (cheap index sanity checks only), the rest are recovered.
 * - A log is open or closed; after close() every operation throws.
 *
 * ## I/O model
 *
 * Appends and reads are synchronous (fs.writeSync / fs.readSync on descriptors kept open per
 * segment): they only touch the page cache, cost a few microseconds, and because Node runs them
 * on one thread an append is atomic with respect to every other operation on the log, with no
 * locks. Durability is separate and asynchronous: flush() fsyncs dirty segments, their indexes and
 * the checkpoints, then advances the recovery point. Flushes happen when the caller asks (flush.ms
 * is the caller's schedule), after flush.messages records, and after every roll (the old segment,
 * as Kafka does); one flush round runs at a time and requests made meanwhile are merged into the
 * next. fsyncEveryAppend makes each append fdatasync before it returns, blocking. A crash can lose
 * what was not flushed; replication restores it from the other replicas. Rare, state-changing
 * operations (truncation, opening after a clean shutdown) write their checkpoints durably at once.
 *
 * Reads copy the batches into one new Buffer (one readSync); there is no sendfile in Node.
 *
 * Log.open is synchronous too: it runs once per partition at startup, before any traffic.
 *
 * ## Recovery (on open)
 *
 * After a clean close (flag in the checkpoint) nothing is rescanned: only the last segment's tail
 * after its last index entry is walked to find the log end offset. Otherwise every segment from
 * the one holding the recovery point onward is scanned batch by batch (header, length, CRC32C,
 * increasing offsets), its indexes are rebuilt and leader epochs re-derived. At the first bad batch:
 *   - if nothing after it in the file parses as a valid batch, it is a torn tail: the file is cut
 *     there with a warning (in a segment that is not the last, only if all later segments are
 *     empty, the trace of a crash right after a roll; those are deleted);
 *   - otherwise (valid data after the damage, or a damaged segment followed by non-empty ones) the
 *     log refuses to load: KAFKA_STORAGE_ERROR naming the file and byte position.
 * (Kafka instead truncates at the first bad batch wherever it is. Refusing is the safer reading
 * of damage that is not a torn tail, at the price of an operator step if a crash ever leaves a
 * hole followed by data, which page-cache writeback order does not strictly rule out.)
 * The recovered log end is the end of the last valid batch, or the last segment's base offset when
 * it holds none; if that is below the checkpointed log start offset, the log restarts empty there.
 * Index files that are missing, or fail a sanity check (whole entries, last entry inside the
 * log), are rebuilt by recovering their segment; indexes that turn out inconsistent when first
 * loaded are rebuilt from the batch headers.
 */
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  SamsaProtocolError,
  protocolError,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateProducedBatch,
  verifyBatchCrc,
  type RecordBatchHeader,
} from '@samsa/protocol';
import { completeInterruptedCleaning, lowerCleanerCheckpoint, swapInCleanedFiles, type SwapStep } from './cleanerFiles.js';
import { INT32_MAX, hasDeletePolicy, resolveLogConfig, segmentRollMs, type LogConfig, type ResolvedLogConfig } from './config.js';
import { INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TMP_FILE_SUFFIX, fsyncPath, parseOffsetFileName } from './files.js';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochFileCache, type EpochEndOffset, type EpochEntry } from './leaderEpochCache.js';
import { logCheckpointPath, readLogCheckpoint, writeLogCheckpoint } from './logCheckpoint.js';
import { LogSegment, type SegmentOptions } from './logSegment.js';

/** What the log logs through (pino's Logger fits). */
export interface LogLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LogDeps {
  /** Wall-clock milliseconds (segment.ms, retention.ms). */
  clock: () => number;
  logger?: LogLogger;
  /**
   * Told of a background write that failed (a flush after a roll or flush.messages), which no
   * caller sees: the broker's LogDirFailureChannel takes the directory offline (README.md).
   */
  onBackgroundFailure?: (err: unknown) => void;
}

export interface LogAppendInfo {
  baseOffset: bigint;
  lastOffset: bigint;
  /** The batch's timestamp when it is LogAppendTime-typed, else -1 (Kafka's NO_TIMESTAMP). */
  logAppendTime: bigint;
}

export interface LogReadInfo {
  /** Whole batches; the first is the one holding the fetch offset, so it may start before it. */
  records: Buffer;
  /** Base offset of the first batch returned; absent when nothing is returned. */
  firstOffset?: bigint;
}

export interface SegmentInfo {
  baseOffset: bigint;
  /** Offset after the segment's last batch (for inactive segments loaded without recovery: the next segment's base). */
  nextOffset: bigint;
  sizeInBytes: number;
  /** Largest batch maxTimestamp, -1 when unknown. */
  maxTimestamp: bigint;
  logPath: string;
}

export interface TimestampAndOffset {
  offset: bigint;
  timestamp: bigint;
}

/** Inactive segments whose indexes stay in memory at once (others are read back on use). */
const MAX_LOADED_INACTIVE_SEGMENTS = 4;
const NOOP_LOGGER: LogLogger = { info() {}, warn() {}, error() {} };

export class Log {
  readonly dir: string;
  private currentConfig: ResolvedLogConfig;
  private readonly clock: () => number;
  private readonly logger: LogLogger;
  private readonly onBackgroundFailure: ((err: unknown) => void) | undefined;
  private segmentOptions: SegmentOptions;
  private segs: LogSegment[] = [];
  private nextOffset = 0n;
  private startOffset = 0n;
  private recoveryPointOffset = 0n;
  private epochCache!: LeaderEpochFileCache;
  private unflushedRecords = 0;
  /** Bumped by every truncation, so a flush that started before one does not advance the recovery point past it. */
  private truncations = 0;
  /** A segment file was created since the directory was last fsynced. */
  private dirDirty = false;
  /** The highest offset a flush was asked for that no flush round has taken up yet (-1: none). */
  private flushRequested = -1n;
  /** The running flush rounds, if any: one at a time, later requests merged into the next round. */
  private flushLoop: Promise<void> | undefined;
  private closed = false;
  private readonly loadedInactive: LogSegment[] = [];

  private constructor(dir: string, config: ResolvedLogConfig, deps: LogDeps) {
    this.dir = dir;
    this.currentConfig = config;
    this.clock = deps.clock;
    this.logger = deps.logger ?? NOOP_LOGGER;
    this.onBackgroundFailure = deps.onBackgroundFailure;
    this.segmentOptions = {
      indexIntervalBytes: config.indexIntervalBytes,
      clock: deps.clock,
      warn: (message) => this.logger.warn({ dir }, message),
    };
  }

  /**
   * Opens (creating if needed) the log in `dir`, recovering it as described above. Synchronous.
   * Throws RangeError for a bad config and KAFKA_STORAGE_ERROR for corruption it will not repair.
   */
  static open(dir: string, config: LogConfig, deps: LogDeps): Log {
    const log = new Log(dir, resolveLogConfig(config), deps);
    mkdirSync(dir, { recursive: true });
    try {
      log.load();
    } catch (err) {
      for (const segment of log.segs) segment.close();
      log.closed = true;
      if (err instanceof SamsaProtocolError) throw err;
      throw protocolError('KAFKA_STORAGE_ERROR', `cannot load the log in ${dir}: ${(err as Error).message}`, err);
    }
    return log;
  }

  /** The settings in force; replaced (never mutated) by updateConfig. */
  get config(): ResolvedLogConfig {
    return this.currentConfig;
  }

  /**
   * Applies changed settings to the open log (a topic config altered at runtime): size and age
   * limits, retention, max.message.bytes and flushing apply from the next append, roll check or
   * retention run; index.interval.bytes to segments created from now on. Throws RangeError for a
   * bad config, changing nothing.
   */
  updateConfig(config: LogConfig): void {
    const resolved = resolveLogConfig(config);
    this.currentConfig = resolved;
    this.segmentOptions = { ...this.segmentOptions, indexIntervalBytes: resolved.indexIntervalBytes };
  }

  // ---- state ----

  get logStartOffset(): bigint {
    return this.startOffset;
  }

  get logEndOffset(): bigint {
    return this.nextOffset;
  }

  get recoveryPoint(): bigint {
    return this.recoveryPointOffset;
  }

  /** Bytes of all segments. */
  get size(): number {
    let total = 0;
    for (const segment of this.segs) total += segment.size;
    return total;
  }

  get segments(): SegmentInfo[] {
    return this.segs.map((s) => ({
      baseOffset: s.baseOffset,
      nextOffset: s.nextOffset,
      sizeInBytes: s.size,
      maxTimestamp: s.maxTimestampSoFar,
      logPath: s.logPath,
    }));
  }

  get latestEpoch(): number | undefined {
    return this.epochCache.latestEpoch;
  }

  get leaderEpochEntries(): readonly EpochEntry[] {
    return this.epochCache.entries;
  }

  /** OffsetsForLeaderEpoch: see LeaderEpochFileCache.endOffsetFor. */
  endOffsetForEpoch(leaderEpoch: number): EpochEndOffset {
    return this.epochCache.endOffsetFor(leaderEpoch);
  }

  /**
   * A new leader records its epoch as starting at its log end offset before anything is appended
   * in it (Kafka's maybeAssignEpochStartOffset), so the end offset of every older epoch is known
   * to followers checking for divergence. Ignored unless `leaderEpoch` is newer than every epoch
   * the log holds (replaying old metadata must not rewrite the cache).
   */
  assignEpochStartOffset(leaderEpoch: number, startOffset: bigint): void {
    this.checkOpen();
    const latest = this.epochCache.latestEpoch;
    if (leaderEpoch < 0 || (latest !== undefined && leaderEpoch <= latest) || startOffset !== this.nextOffset) return;
    this.epochCache.assign(leaderEpoch, startOffset);
  }

  /** Base offset of the active segment (it changes when the log rolls). */
  get activeSegmentBaseOffset(): bigint {
    return this.active.baseOffset;
  }

  private get active(): LogSegment {
    return this.segs[this.segs.length - 1]!;
  }

  // ---- append ----

  /**
   * Appends one produced batch as leader: validates it (CORRUPT_MESSAGE; MESSAGE_TOO_LARGE over
   * maxMessageBytes), stamps baseOffset = logEndOffset and `leaderEpoch` into `batch` in place,
   * rolls first if needed, and writes the bytes verbatim. Invalid input changes nothing.
   */
  /** `validated`: the header the caller already got from validateProducedBatch (CRC checked), so it is not checked twice. */
  appendAsLeader(batch: Buffer, leaderEpoch: number, validated?: RecordBatchHeader): LogAppendInfo {
    this.checkOpen();
    if (!Number.isInteger(leaderEpoch) || leaderEpoch < 0 || leaderEpoch > INT32_MAX) {
      throw new RangeError(`leader epoch must be an int32 >= 0, got ${leaderEpoch}`);
    }
    if (batch.length > this.config.maxMessageBytes) {
      throw protocolError(
        'MESSAGE_TOO_LARGE',
        `record batch of ${batch.length} bytes exceeds max.message.bytes (${this.config.maxMessageBytes})`,
      );
    }
    const header = validated ?? validateProducedBatch(batch);
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + BigInt(header.lastOffsetDelta);
    const segment = this.maybeRoll(batch.length, header.maxTimestamp, lastOffset);
    setBaseOffset(batch, 0, baseOffset);
    setPartitionLeaderEpoch(batch, 0, leaderEpoch);
    if (leaderEpoch !== this.epochCache.latestEpoch) this.epochCache.assign(leaderEpoch, baseOffset);
    const position = segment.size;
    segment.append(batch, 0, batch.length, this.config.fsyncEveryAppend);
    segment.onBatchAppended(position, batch.length, baseOffset, lastOffset, header.maxTimestamp);
    this.nextOffset = lastOffset + 1n;
    this.afterAppend(header.recordCount);
    return { baseOffset, lastOffset, logAppendTime: header.timestampType === 'LogAppendTime' ? header.maxTimestamp : -1n };
  }

  /**
   * Appends batches fetched from the leader verbatim, keeping their offsets and leader epochs.
   * Every batch must be a whole v2 batch with a valid CRC and offsets that increase from at least
   * logEndOffset (else CORRUPT_MESSAGE / INVALID_RECORD and nothing is written). A partial batch at
   * the end (a fetch cut at max bytes) is ignored, as Kafka does. Empty input appends nothing and
   * returns firstOffset = logEndOffset, lastOffset = logEndOffset - 1.
   */
  appendAsFollower(batches: Buffer): { firstOffset: bigint; lastOffset: bigint } {
    this.checkOpen();
    // Pass 1: check everything before writing anything.
    let position = 0;
    let firstOffset: bigint | undefined;
    let lastOffset = this.nextOffset - 1n;
    let maxTimestamp = -1n;
    let records = 0;
    while (batches.length - position >= RECORD_BATCH_OVERHEAD) {
      const header = readBatchHeader(batches, position);
      const size = LOG_OVERHEAD + header.batchLength;
      if (position + size > batches.length) break;
      if (!verifyBatchCrc(batches, position)) {
        throw protocolError(
          'CORRUPT_MESSAGE',
          `replicated record batch at offset ${header.baseOffset} (byte ${position}) failed its CRC check`,
        );
      }
      if (header.lastOffsetDelta < 0) {
        throw protocolError(
          'CORRUPT_MESSAGE',
          `replicated record batch at offset ${header.baseOffset} has a negative lastOffsetDelta ${header.lastOffsetDelta}`,
        );
      }
      if (header.baseOffset <= lastOffset) {
        throw protocolError(
          'INVALID_RECORD',
          `replicated record batch at offset ${header.baseOffset} does not follow offset ${lastOffset} (log end offset ${this.nextOffset})`,
        );
      }
      firstOffset ??= header.baseOffset;
      lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
      if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
      records += header.recordCount;
      position += size;
    }
    if (firstOffset === undefined) return { firstOffset: this.nextOffset, lastOffset: this.nextOffset - 1n };
    const validBytes = position;
    // Pass 2: one write, then per-batch index and epoch bookkeeping.
    const segment = this.maybeRoll(validBytes, maxTimestamp, lastOffset, firstOffset);
    const segmentStart = segment.size;
    try {
      segment.append(batches, 0, validBytes, this.config.fsyncEveryAppend);
    } catch (err) {
      // A segment rolled at a later base offset for this append must not outlive it.
      if (segment.size === 0 && segment.baseOffset !== this.nextOffset && this.segs.length > 1) {
        this.segs.pop();
        this.deleteSegments([segment], 'append failed');
      }
      throw err;
    }
    position = 0;
    while (position < validBytes) {
      const header = readBatchHeader(batches, position);
      const size = LOG_OVERHEAD + header.batchLength;
      const last = header.baseOffset + BigInt(header.lastOffsetDelta);
      segment.onBatchAppended(segmentStart + position, size, header.baseOffset, last, header.maxTimestamp);
      this.maybeAssignEpoch(header.partitionLeaderEpoch, header.baseOffset);
      position += size;
    }
    this.nextOffset = lastOffset + 1n;
    this.afterAppend(records);
    return { firstOffset, lastOffset };
  }

  private maybeAssignEpoch(epoch: number, startOffset: bigint): void {
    const latest = this.epochCache.latestEpoch;
    if (epoch >= 0 && (latest === undefined || epoch !== latest)) this.epochCache.assign(epoch, startOffset);
  }

  private afterAppend(records: number): void {
    this.unflushedRecords += records;
    if (this.unflushedRecords >= this.config.flushIntervalMessages) {
      this.unflushedRecords = 0;
      this.flushInBackground(this.nextOffset, 'flush.messages reached');
    }
  }

  /**
   * Kafka's maybeRoll: a new segment when the active one is not empty and the append would take
   * it past segmentBytes, or it is older than segmentMs (measured from its first batch's
   * timestamp to the incoming batches' max timestamp; from its creation time by the clock when
   * the first batch has no timestamp), or the offsets would not fit its relative int32 index.
   */
  private maybeRoll(bytes: number, maxTimestamp: bigint, lastOffset: bigint, firstOffset: bigint = this.nextOffset): LogSegment {
    const segment = this.active;
    if (segment.size === 0) return segment;
    let reason: string | undefined;
    if (segment.size + bytes > this.config.segmentBytes) {
      reason = `segment.bytes ${this.config.segmentBytes} reached`;
    } else if (lastOffset - segment.baseOffset > BigInt(INT32_MAX)) {
      reason = 'relative offsets would overflow the index';
    } else {
      const first = segment.firstTimestamp();
      const waited = first !== undefined && first >= 0n ? Number(maxTimestamp - first) : this.clock() - segment.created;
      const rollMs = segmentRollMs(this.config);
      if (waited > rollMs)
        reason = rollMs === this.config.segmentMs ? `segment.ms ${rollMs} reached` : `max.compaction.lag.ms ${rollMs} reached`;
    }
    return reason === undefined ? segment : this.rollAt(firstOffset, reason);
  }

  /** Starts a new active segment at logEndOffset (no-op when the active segment is empty). */
  roll(): void {
    this.checkOpen();
    this.rollAt(this.nextOffset, 'requested');
  }

  /**
   * Makes a new active segment at `baseOffset` (logEndOffset, or a follower's first offset past
   * a gap); the old one is flushed in the background, as Kafka does.
   */
  private rollAt(baseOffset: bigint, reason: string): LogSegment {
    const old = this.active;
    if (old.size === 0) return old;
    old.becomeInactive();
    const segment = LogSegment.create(this.dir, baseOffset, this.segmentOptions);
    this.segs.push(segment);
    this.dirDirty = true;
    this.touchInactive(old);
    this.logger.info({ dir: this.dir, baseOffset: String(segment.baseOffset), reason }, 'rolled a new log segment');
    this.flushInBackground(segment.baseOffset, 'segment rolled');
    return segment;
  }

  // ---- read ----

  /**
   * Whole batches starting with the one that holds `fetchOffset`, at most `maxBytes` of them (but
   * the first batch whole even if bigger, when `minOneBatch`: KIP-74), none reaching `maxOffset`
   * (exclusive, e.g. the high watermark), all from one segment. Throws OFFSET_OUT_OF_RANGE when
   * `fetchOffset` is outside [logStartOffset, logEndOffset]. An empty result has no firstOffset.
   */
  read(fetchOffset: bigint, maxBytes: number, maxOffset?: bigint, minOneBatch = true): LogReadInfo {
    this.checkOpen();
    if (fetchOffset < this.startOffset || fetchOffset > this.nextOffset) {
      throw protocolError(
        'OFFSET_OUT_OF_RANGE',
        `fetch offset ${fetchOffset} is out of range: the log holds [${this.startOffset}, ${this.nextOffset}) (log start offset ${this.startOffset}, log end offset ${this.nextOffset})`,
      );
    }
    const limit = maxOffset === undefined || maxOffset > this.nextOffset ? this.nextOffset : maxOffset;
    if (fetchOffset >= limit) return { records: EMPTY };
    for (let i = this.floorSegmentIndex(fetchOffset); i < this.segs.length; i++) {
      const segment = this.segs[i]!;
      this.touchInactive(segment);
      const first = segment.locate(fetchOffset);
      if (!first) continue;
      const records = segment.read(first, maxBytes, limit, minOneBatch);
      return records.length === 0 ? { records } : { records, firstOffset: first.baseOffset };
    }
    return { records: EMPTY };
  }

  /**
   * ListOffsets by timestamp: the first record (offset >= logStartOffset) whose timestamp is >=
   * `timestamp`, exact to the record (its batch is decoded; a batch whose compression has no codec
   * answers with its first offset). -2 = earliest and -1 = latest give the log start/end offset,
   * -3 the record with the largest timestamp. Null when no record is that recent.
   */
  offsetForTimestamp(timestamp: bigint): TimestampAndOffset | null {
    this.checkOpen();
    if (timestamp === -2n) return { offset: this.startOffset, timestamp: -1n };
    if (timestamp === -1n) return { offset: this.nextOffset, timestamp: -1n };
    if (timestamp === -3n) return this.maxTimestampAndOffset();
    if (timestamp < 0n) return null;
    for (const segment of this.segs) {
      if (segment.maxTimestampSoFar < timestamp || segment.nextOffset <= this.startOffset) continue;
      this.touchInactive(segment);
      const found = segment.findOffsetByTimestamp(timestamp, this.startOffset);
      if (found) return found;
    }
    return null;
  }

  /** ListOffsets MAX_TIMESTAMP (KIP-734): the first record carrying the largest timestamp; null when the log is empty. */
  maxTimestampAndOffset(): TimestampAndOffset | null {
    this.checkOpen();
    let best: LogSegment | undefined;
    for (const segment of this.segs) {
      if (segment.nextOffset <= this.startOffset || segment.size === 0) continue;
      if (!best || segment.maxTimestampSoFar > best.maxTimestampSoFar) best = segment;
    }
    if (!best || best.maxTimestampSoFar < 0n) return null;
    this.touchInactive(best);
    return best.findOffsetByTimestamp(best.maxTimestampSoFar, this.startOffset) ?? null;
  }

  // ---- truncation and start offset ----

  /**
   * Removes everything at or after `offset` (followers, after OffsetsForLeaderEpoch). A batch that
   * holds `offset` is removed whole, and logEndOffset becomes the end of the last batch left (so
   * it may end below `offset`: at the start of the batch that held it, or before an offset gap).
   * Kafka sets it to `offset`; the two agree whenever `offset` is a batch boundary, as epoch end
   * offsets are. No-op (false) when `offset` >= logEndOffset.
   */
  truncateTo(offset: bigint): boolean {
    this.checkOpen();
    if (offset < 0n) throw new RangeError(`cannot truncate to negative offset ${offset}`);
    if (offset >= this.nextOffset) return false;
    if (offset < this.segs[0]!.baseOffset) {
      this.truncateFullyAndStartAt(offset);
      return true;
    }
    this.truncations++;
    let keep = this.segs.length;
    while (keep > 1 && this.segs[keep - 1]!.baseOffset > offset) keep--;
    this.deleteSegments(this.segs.slice(keep), 'truncation');
    this.segs.length = keep;
    const segment = this.active;
    this.removeFromLoadedInactive(segment);
    segment.truncateTo(offset);
    this.nextOffset = segment.nextOffset;
    if (this.recoveryPointOffset > this.nextOffset) this.recoveryPointOffset = this.nextOffset;
    if (this.startOffset > this.nextOffset) this.startOffset = this.nextOffset;
    this.epochCache.truncateFromEnd(this.nextOffset);
    this.writeCheckpoint(true);
    lowerCleanerCheckpoint(this.dir, this.nextOffset);
    this.logger.info({ dir: this.dir, offset: String(offset), logEndOffset: String(this.nextOffset) }, 'truncated the log');
    return true;
  }

  /** Deletes every segment and starts empty at `offset` (log start = end = recovery point = offset). */
  truncateFullyAndStartAt(offset: bigint): void {
    this.checkOpen();
    if (offset < 0n) throw new RangeError(`cannot start the log at negative offset ${offset}`);
    this.truncations++;
    this.deleteSegments(this.segs, 'truncated fully');
    this.loadedInactive.length = 0;
    this.segs = [LogSegment.create(this.dir, offset, this.segmentOptions)];
    this.dirDirty = true;
    this.nextOffset = offset;
    this.startOffset = offset;
    this.recoveryPointOffset = offset;
    this.unflushedRecords = 0;
    this.epochCache.clear();
    this.writeCheckpoint(true);
    lowerCleanerCheckpoint(this.dir, offset);
    this.logger.info({ dir: this.dir, offset: String(offset) }, 'truncated the log fully');
  }

  /**
   * Moves logStartOffset up to `offset` (DeleteRecords). Segments wholly below it are deleted by
   * the next deleteRetentionSegments, as in Kafka. OFFSET_OUT_OF_RANGE past logEndOffset.
   * Returns whether it moved.
   */
  advanceLogStartOffset(offset: bigint): boolean {
    this.checkOpen();
    if (offset > this.nextOffset) {
      throw protocolError('OFFSET_OUT_OF_RANGE', `cannot move the log start offset to ${offset}: the log end offset is ${this.nextOffset}`);
    }
    if (offset <= this.startOffset) return false;
    this.startOffset = offset;
    this.epochCache.truncateFromStart(offset);
    this.writeCheckpoint(false);
    return true;
  }

  // ---- retention ----

  /**
   * Kafka's deleteOldSegments: deletes the oldest whole segments that are past retention.ms
   * (largest timestamp older than now - retentionMs), beyond retention.bytes (while the log
   * without them is still >= retentionBytes), or wholly below logStartOffset. Only segments
   * wholly below `highWatermark` (default logEndOffset) go. The active segment counts too once
   * the high watermark reaches the log end (Kafka's deletableSegments): an idle topic's expired
   * last segment is rolled first and then deleted, so the log start moves to the log end and the
   * log keeps one empty active segment. Advances logStartOffset to the first remaining segment.
   * Returns how many were deleted.
   */
  deleteRetentionSegments(highWatermark: bigint = this.nextOffset): number {
    this.checkOpen();
    let deleted = 0;
    const now = BigInt(this.clock());
    // A compact-only log keeps its records whatever their age or size (Kafka's config.delete).
    const deletes = hasDeletePolicy(this.config);
    if (deletes && this.config.retentionMs >= 0) {
      const cutoff = now - BigInt(this.config.retentionMs);
      deleted += this.deleteOldestWhile(highWatermark, 'retention.ms', (s) => s.largestTimestamp() < cutoff);
    }
    if (deletes && this.config.retentionBytes >= 0) {
      let excess = this.size - this.config.retentionBytes;
      deleted += this.deleteOldestWhile(highWatermark, 'retention.bytes', (s) => {
        if (excess - s.size < 0) return false;
        excess -= s.size;
        return true;
      });
    }
    deleted += this.deleteOldestWhile(highWatermark, 'log start offset', (_s, nextBaseOffset) => nextBaseOffset <= this.startOffset);
    return deleted;
  }

  /** `predicate` gets each segment and the offset just past it (the next segment's base, or the log end for the active one). */
  private deleteOldestWhile(
    highWatermark: bigint,
    reason: string,
    predicate: (segment: LogSegment, nextBaseOffset: bigint) => boolean,
  ): number {
    let n = 0;
    while (n < this.segs.length) {
      const segment = this.segs[n]!;
      const isActive = n === this.segs.length - 1;
      if (isActive && segment.size === 0) break;
      const nextBaseOffset = isActive ? this.nextOffset : this.segs[n + 1]!.baseOffset;
      if (highWatermark < nextBaseOffset || !predicate(segment, nextBaseOffset)) break;
      n++;
    }
    if (n === 0) return 0;
    // The active segment is deletable: roll a new empty one first (Kafka's deleteSegments does), so
    // appends always have a segment and the log start can move to the log end.
    if (n === this.segs.length) this.rollAt(this.nextOffset, `${reason}: the active segment is deletable`);
    const doomed = this.segs.slice(0, n);
    this.segs = this.segs.slice(n);
    this.deleteSegments(doomed, reason);
    if (this.segs[0]!.baseOffset > this.startOffset) {
      this.startOffset = this.segs[0]!.baseOffset;
      this.epochCache.truncateFromStart(this.startOffset);
    }
    this.writeCheckpoint(false);
    return n;
  }

  private deleteSegments(segments: readonly LogSegment[], reason: string): void {
    for (const segment of segments) {
      this.removeFromLoadedInactive(segment);
      segment.deleteFiles();
      this.logger.info({ dir: this.dir, baseOffset: String(segment.baseOffset), sizeInBytes: segment.size, reason }, 'deleted log segment');
    }
  }

  // ---- compaction (cleaner.ts) ----

  /** Bumped by every truncation: a cleaning that read the log at another count must not swap in its output. */
  get truncationCount(): number {
    return this.truncations;
  }

  /**
   * Puts the cleaner's output (`<base>.*.cleaned`, fsynced) in place of the segments it cleaned,
   * in one synchronous step, so appends, reads, retention and truncation never see a half-swapped
   * log. `cleaned` lists those segments as the cleaner read them, at `truncationCount`; if the log
   * has moved since (one of them deleted or truncated, or the last one now active, or the log
   * closed) nothing changes and the answer is false: the caller deletes its files. The files go
   * through .swap (cleanerFiles.ts); `onStep` sees each file step first (crash tests). An I/O
   * error after the commit point closes the log (KAFKA_STORAGE_ERROR): opening it again completes
   * the swap.
   */
  replaceWithCleaned(
    cleaned: ReadonlyArray<{ baseOffset: bigint; sizeInBytes: number }>,
    truncationCount: number,
    onStep?: (step: SwapStep) => void,
  ): boolean {
    if (this.closed || truncationCount !== this.truncations || cleaned.length === 0) return false;
    const first = this.segs.findIndex((s) => s.baseOffset === cleaned[0]!.baseOffset);
    if (first < 0 || first + cleaned.length >= this.segs.length) return false;
    for (let i = 0; i < cleaned.length; i++) {
      const s = this.segs[first + i]!;
      if (s.baseOffset !== cleaned[i]!.baseOffset || s.size !== cleaned[i]!.sizeInBytes) return false;
    }
    const old = this.segs.slice(first, first + cleaned.length);
    const base = old[0]!.baseOffset;
    let committed = false;
    try {
      swapInCleanedFiles(
        this.dir,
        base,
        old.map((s) => () => this.deleteSegments([s], 'replaced by its cleaned segment')),
        () => {
          committed = true;
        },
        onStep,
      );
      const segment = LogSegment.open(this.dir, base, this.segmentOptions);
      segment.nextOffset = this.segs[first + cleaned.length]!.baseOffset;
      this.segs.splice(first, cleaned.length, segment);
      this.dirDirty = true;
    } catch (err) {
      if (!committed) throw err;
      this.logger.error(
        { dir: this.dir, err },
        'swapping in a cleaned segment failed after its commit point; closing the log (reopening completes the swap)',
      );
      this.closed = true;
      for (const segment of this.segs) segment.close();
      throw protocolError(
        'KAFKA_STORAGE_ERROR',
        `swapping in the cleaned segment ${base} in ${this.dir} failed: ${(err as Error).message}`,
        err,
      );
    }
    return true;
  }

  // ---- durability ----

  /** fsyncs everything written so far (segments, indexes, epoch checkpoint), then advances the recovery point to logEndOffset. */
  async flush(): Promise<void> {
    this.checkOpen();
    this.unflushedRecords = 0;
    await this.flushUpTo(this.nextOffset);
  }

  private flushInBackground(upTo: bigint, why: string): void {
    this.flushUpTo(upTo).catch((err: unknown) => {
      this.logger.error({ dir: this.dir, err, why }, 'background log flush failed');
      // A flush that failed because the log was closed or deleted meanwhile says nothing of the disk.
      if (!this.closed) this.onBackgroundFailure?.(err);
    });
  }

  /**
   * Flushes up to `upTo`. Rounds run one at a time (as Kafka's flush scheduler does): a request
   * made while a round runs is merged into the next, so rolls in quick succession cannot pile up
   * fsyncs. The promise settles when no request is left, so it covers the caller's request.
   */
  private flushUpTo(upTo: bigint): Promise<void> {
    if (upTo > this.flushRequested) this.flushRequested = upTo;
    this.flushLoop ??= this.runFlushRounds();
    return this.flushLoop;
  }

  private async runFlushRounds(): Promise<void> {
    try {
      // The first round must wait a tick: flushLoop is assigned only when this function returns.
      await Promise.resolve();
      for (;;) {
        const upTo = this.flushRequested;
        if (upTo < 0n || this.closed) {
          this.flushLoop = undefined; // in the same synchronous step as the check, so no request slips by
          return;
        }
        this.flushRequested = -1n;
        await this.flushRound(upTo);
      }
    } catch (err) {
      this.flushLoop = undefined;
      throw err;
    }
  }

  private async flushRound(upTo: bigint): Promise<void> {
    const truncations = this.truncations;
    const dirty = this.segs.filter((s) => s.dirty && s.baseOffset < upTo);
    for (const segment of dirty) segment.dirty = false;
    const syncDir = this.dirDirty;
    this.dirDirty = false;
    try {
      await Promise.all([...dirty.map((s) => s.flush()), this.epochCache.flush(), syncDir ? fsyncPath(this.dir) : undefined]);
    } catch (err) {
      for (const segment of dirty) if (!segment.isClosed) segment.dirty = true;
      if (syncDir) this.dirDirty = true;
      throw protocolError('KAFKA_STORAGE_ERROR', `fsync in ${this.dir} failed: ${(err as Error).message}`, err);
    }
    if (this.closed || truncations !== this.truncations || upTo <= this.recoveryPointOffset) return;
    this.recoveryPointOffset = upTo < this.nextOffset ? upTo : this.nextOffset;
    this.writeCheckpoint(false);
    await fsyncPath(logCheckpointPath(this.dir));
    await fsyncPath(this.dir);
  }

  /**
   * Closes the log durably and synchronously: writes pending index entries, fsyncs what is dirty,
   * and marks the checkpoint clean so the next open skips recovery. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const segment of this.segs) {
        // A background fsync may still be running: the clean mark must not get ahead of it.
        if (segment !== this.active && !segment.dirty && !segment.syncInFlight) continue;
        // The active segment gets its final time index entry, so the next open needs no scan.
        if (segment === this.active) segment.becomeInactive();
        segment.flushSync();
      }
      this.epochCache.flushSync();
      this.recoveryPointOffset = this.nextOffset;
      writeLogCheckpoint(this.dir, { recoveryPoint: this.nextOffset, logStartOffset: this.startOffset, cleanShutdown: true }, true);
    } finally {
      for (const segment of this.segs) segment.close();
      this.loadedInactive.length = 0;
    }
  }

  /**
   * Kafka's closeHandlers: closes the files and writes nothing (no pending index entries, no
   * checkpoint, no clean-shutdown mark), for a log whose directory went offline (README.md). The
   * next open recovers it as after a crash. Idempotent; every later operation throws.
   */
  closeHandles(): void {
    if (this.closed) return;
    this.closed = true;
    for (const segment of this.segs) {
      try {
        segment.close();
      } catch (err) {
        this.logger.warn({ dir: this.dir, err }, 'closing a segment of an offline log failed');
      }
    }
    this.loadedInactive.length = 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private writeCheckpoint(durable: boolean): void {
    writeLogCheckpoint(
      this.dir,
      { recoveryPoint: this.recoveryPointOffset, logStartOffset: this.startOffset, cleanShutdown: false },
      durable,
    );
  }

  private checkOpen(): void {
    if (this.closed) throw protocolError('KAFKA_STORAGE_ERROR', `the log in ${this.dir} is closed`);
  }

  // ---- segment bookkeeping ----

  /** Index of the last segment whose base offset is <= `offset` (0 when all are above). */
  private floorSegmentIndex(offset: bigint): number {
    let lo = 0;
    let hi = this.segs.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segs[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Keeps the indexes of at most a few recently used inactive segments in memory. */
  private touchInactive(segment: LogSegment): void {
    if (segment === this.active) return;
    const i = this.loadedInactive.indexOf(segment);
    if (i >= 0) this.loadedInactive.splice(i, 1);
    this.loadedInactive.push(segment);
    while (this.loadedInactive.length > MAX_LOADED_INACTIVE_SEGMENTS) this.loadedInactive.shift()!.unloadIndexes();
  }

  private removeFromLoadedInactive(segment: LogSegment): void {
    const i = this.loadedInactive.indexOf(segment);
    if (i >= 0) this.loadedInactive.splice(i, 1);
  }

  // ---- loading and recovery ----

  private load(): void {
    const warn = (message: string, fields: object = {}): void => this.logger.warn({ dir: this.dir, ...fields }, message);
    let checkpoint;
    try {
      checkpoint = readLogCheckpoint(this.dir);
    } catch (err) {
      warn(`unreadable offsets checkpoint, recovering every segment: ${(err as Error).message}`);
    }
    let recoveryPoint = checkpoint?.recoveryPoint ?? 0n;
    let logStartOffset = checkpoint?.logStartOffset ?? 0n;
    let clean = checkpoint?.cleanShutdown ?? false;

    try {
      this.epochCache = LeaderEpochFileCache.load(
        this.dir,
        () => this.nextOffset,
        (m) => warn(m),
      );
    } catch (err) {
      warn(`${(err as Error).message}; rebuilding leader epochs from every segment`);
      unlinkSync(join(this.dir, LEADER_EPOCH_CHECKPOINT_FILE));
      this.epochCache = LeaderEpochFileCache.load(
        this.dir,
        () => this.nextOffset,
        (m) => warn(m),
      );
      recoveryPoint = 0n;
      clean = false;
    }

    completeInterruptedCleaning(this.dir, (m) => warn(m));
    const bases: bigint[] = [];
    const indexFiles: { name: string; base: bigint }[] = [];
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith(TMP_FILE_SUFFIX)) {
        unlinkSync(join(this.dir, name)); // an interrupted atomic write
        continue;
      }
      const logBase = parseOffsetFileName(name, LOG_FILE_SUFFIX);
      if (logBase !== undefined) bases.push(logBase);
      const indexBase = parseOffsetFileName(name, INDEX_FILE_SUFFIX) ?? parseOffsetFileName(name, TIME_INDEX_FILE_SUFFIX);
      if (indexBase !== undefined) indexFiles.push({ name, base: indexBase });
    }
    bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const baseSet = new Set(bases);
    for (const { name, base } of indexFiles) {
      if (!baseSet.has(base)) {
        warn(`deleting index file ${name} that has no log segment`);
        unlinkSync(join(this.dir, name));
      }
    }
    for (const base of bases) this.segs.push(LogSegment.open(this.dir, base, this.segmentOptions));

    if (this.segs.length === 0) {
      this.segs.push(LogSegment.create(this.dir, logStartOffset, this.segmentOptions));
      this.dirDirty = true;
      this.nextOffset = logStartOffset;
      recoveryPoint = logStartOffset;
    } else {
      this.loadSegments(recoveryPoint, clean);
      this.nextOffset = this.active.nextOffset;
    }

    if (this.nextOffset < logStartOffset) {
      warn(`log end offset ${this.nextOffset} is below the checkpointed log start offset ${logStartOffset}; deleting all segments`);
      this.deleteSegments(this.segs, 'below log start offset');
      this.segs = [LogSegment.create(this.dir, logStartOffset, this.segmentOptions)];
      this.dirDirty = true;
      this.nextOffset = logStartOffset;
    }
    const firstBase = this.segs[0]!.baseOffset;
    this.startOffset = logStartOffset > firstBase ? logStartOffset : firstBase;
    if (recoveryPoint > this.nextOffset) {
      warn(`recovery point ${recoveryPoint} is past the log end offset ${this.nextOffset}`);
      recoveryPoint = this.nextOffset;
    }
    this.recoveryPointOffset = recoveryPoint;
    this.epochCache.truncateFromEnd(this.nextOffset);
    this.epochCache.truncateFromStart(this.startOffset);
    this.active.ensureIndexes();
    // Durable when it clears a clean-shutdown flag: appends must not follow a stale "clean" mark.
    this.writeCheckpoint(clean);
    this.logger.info(
      { dir: this.dir, logStartOffset: String(this.startOffset), logEndOffset: String(this.nextOffset), segments: this.segs.length, clean },
      'loaded log',
    );
  }

  private loadSegments(recoveryPoint: bigint, clean: boolean): void {
    const count = this.segs.length;
    const recoverFrom = clean ? count : this.floorSegmentIndex(recoveryPoint);
    for (let i = 0; i < count; i++) {
      const segment = this.segs[i]!;
      const next = this.segs[i + 1];
      const isLast = i === count - 1;
      let recover = i >= recoverFrom;
      if (!recover) {
        const reason = segment.sanityCheckIndexes();
        if (reason) {
          this.logger.warn({ dir: this.dir }, `${reason}; recovering ${segment.logPath}`);
          recover = true;
        } else if (isLast && !segment.loadTailFromIndex()) {
          this.logger.warn({ dir: this.dir }, `${segment.logPath} does not end on a batch boundary after a clean shutdown; recovering it`);
          recover = true;
        }
      }
      if (!recover) {
        if (next) segment.nextOffset = next.baseOffset;
        segment.unloadIndexes();
        continue;
      }
      if (!this.recoverSegment(i)) break;
      if (!isLast) {
        segment.becomeInactive();
        segment.unloadIndexes();
      }
    }
  }

  /**
   * Recovers segment `i`. Returns false when it had a torn tail that was cut (later, empty,
   * segments are then deleted); throws KAFKA_STORAGE_ERROR for damage it will not repair.
   */
  private recoverSegment(i: number): boolean {
    const segment = this.segs[i]!;
    const next = this.segs[i + 1];
    const outcome = segment.recover(next?.baseOffset, (epoch, baseOffset) => {
      const latest = this.epochCache.latestEpoch;
      if (epoch >= 0 && (latest === undefined || epoch > latest)) this.epochCache.assign(epoch, baseOffset);
    });
    if (!outcome.problem) return true;
    const { position, reason } = outcome.problem;
    const validAfter = segment.findValidBatchAfter(position + 1, segment.nextOffset);
    if (validAfter >= 0) {
      throw protocolError(
        'KAFKA_STORAGE_ERROR',
        `corrupt record batch in ${segment.logPath} at byte position ${position} (${reason}), followed by a valid batch at byte ${validAfter}: ` +
          'the damage is not a torn tail, refusing to load the log',
      );
    }
    const later = this.segs.slice(i + 1);
    const nonEmptyLater = later.find((s) => s.fileBytes > 0);
    if (nonEmptyLater) {
      throw protocolError(
        'KAFKA_STORAGE_ERROR',
        `corrupt record batch in ${segment.logPath} at byte position ${position} (${reason}), but later segment ${nonEmptyLater.logPath} holds data: ` +
          'refusing to load the log',
      );
    }
    this.logger.warn(
      { dir: this.dir, file: segment.logPath, position, fileBytes: outcome.fileBytes, reason },
      `truncating torn tail of ${segment.logPath} at byte ${position} (${outcome.fileBytes - position} bytes: ${reason})`,
    );
    segment.truncateFile(position);
    if (later.length > 0) {
      this.deleteSegments(later, 'empty segment after a torn tail');
      this.segs.length = i + 1;
    }
    return false;
  }
}

const EMPTY = Buffer.alloc(0);
