/**
 * One segment of a partition log, Kafka's LogSegment: `<baseOffset>.log` holding RecordBatch v2
 * bytes back to back, with its sparse `.index` and `.timeindex`.
 *
 * The segment keeps three file descriptors open. Appends and reads are synchronous positional
 * writes/reads (page cache); flush() fsyncs asynchronously, and a close() during an fsync waits
 * for it before closing the descriptors (so a descriptor number is never reused under an fsync).
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import {
  Attributes,
  BatchField,
  LOG_OVERHEAD,
  MAGIC_V2,
  RECORD_BATCH_OVERHEAD,
  computeBatchCrc,
  decodeRecordBatch,
  protocolError,
} from '@samsa/protocol';
import { INT32_MAX } from './config.js';
import { OPEN_RW_CREATE, OPEN_RW_TRUNCATE, fsyncAsync, readFully, segmentPaths, writeFully } from './files.js';
import { HeaderReader } from './headerReader.js';
import { OffsetIndex } from './offsetIndex.js';
import { TimeIndex } from './timeIndex.js';

/** Where one batch sits in a segment. */
export interface BatchLocation {
  position: number;
  size: number;
  baseOffset: bigint;
  lastOffset: bigint;
}

/** What recovery found: the bytes that hold whole valid batches, and the first problem after them. */
export interface RecoveryOutcome {
  validBytes: number;
  fileBytes: number;
  problem?: { position: number; reason: string };
}

export interface SegmentOptions {
  indexIntervalBytes: number;
  clock: () => number;
  warn: (message: string) => void;
}

const EMPTY = Buffer.alloc(0);
/** Recovery reads whole batches in chunks of this size (larger batches get their own buffer). */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;
let recoveryChunk: Buffer | undefined;

export class LogSegment {
  readonly baseOffset: bigint;
  readonly logPath: string;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  private readonly fd: number;
  private readonly options: SegmentOptions;

  /** Bytes of whole batches (the file may be longer only during recovery). */
  size: number;
  /**
   * Offset after the last batch. Exact for the active segment and for recovered segments; for
   * other inactive segments the log sets it to the next segment's base offset (an upper bound).
   */
  nextOffset: bigint;
  /** Largest batch maxTimestamp in the segment, -1 when unknown; and the base offset of the first batch carrying it. */
  maxTimestampSoFar = -1n;
  offsetOfMaxTimestampSoFar: bigint;
  /** maxTimestamp of the first batch (Kafka's rollingBasedTimestamp); null = not read yet. */
  private firstBatchTimestamp: bigint | undefined | null = null;
  /** Creation (or open) time by the log's clock, for segment.ms when batches carry no timestamp. */
  created: number;
  private bytesSinceLastIndexEntry = 0;
  /** Written since the last fsync started. */
  dirty = false;
  private indexesVerified = false;
  /** Which index files did not exist when the segment was opened. */
  private readonly missingIndexFiles: string[] = [];
  private pendingSyncs = 0;
  private closeRequested = false;

  private constructor(dir: string, baseOffset: bigint, options: SegmentOptions, create: boolean) {
    const paths = segmentPaths(dir, baseOffset);
    this.baseOffset = baseOffset;
    this.logPath = paths.log;
    this.options = options;
    if (!create) for (const path of [paths.index, paths.timeIndex]) if (!existsSync(path)) this.missingIndexFiles.push(path);
    this.fd = openSync(paths.log, create ? OPEN_RW_TRUNCATE : OPEN_RW_CREATE);
    try {
      this.offsetIndex = new OffsetIndex(paths.index, create);
      try {
        this.timeIndex = new TimeIndex(paths.timeIndex, create);
      } catch (err) {
        this.offsetIndex.close();
        throw err;
      }
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
    this.size = create ? 0 : fstatSync(this.fd).size;
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
    this.created = options.clock();
    if (create) {
      this.indexesVerified = true;
      this.firstBatchTimestamp = undefined;
    }
  }

  /** A new, empty segment (existing files of that name are truncated). */
  static create(dir: string, baseOffset: bigint, options: SegmentOptions): LogSegment {
    return new LogSegment(dir, baseOffset, options, true);
  }

  /** An existing segment, trusted as is until recover() or a sanity check says otherwise. */
  static open(dir: string, baseOffset: bigint, options: SegmentOptions): LogSegment {
    const segment = new LogSegment(dir, baseOffset, options, false);
    const last = segment.timeIndex.lastEntry();
    if (last) {
      segment.maxTimestampSoFar = last.timestamp;
      segment.offsetOfMaxTimestampSoFar = baseOffset + BigInt(last.relativeOffset);
    }
    return segment;
  }

  get fileBytes(): number {
    return fstatSync(this.fd).size;
  }

  private relative(offset: bigint): number {
    const rel = offset - this.baseOffset;
    return rel > BigInt(INT32_MAX) ? INT32_MAX : rel < 0n ? 0 : Number(rel);
  }

  // ---- append ----

  /** Writes `buf[offset, offset + length)` (whole batches) at the end. On failure the file is cut back and the error rethrown. */
  append(buf: Buffer, offset: number, length: number, fsyncNow: boolean): void {
    const position = this.size;
    try {
      writeFully(this.fd, buf, offset, length, position);
      if (fsyncNow) fdatasyncSync(this.fd);
    } catch (err) {
      try {
        ftruncateSync(this.fd, position);
      } catch {
        // The original error is the one to report; recovery cuts a torn tail anyway.
      }
      throw protocolError(
        'KAFKA_STORAGE_ERROR',
        `writing ${length} bytes to ${this.logPath} at byte ${position} failed: ${(err as Error).message}`,
        err,
      );
    }
    this.size = position + length;
    this.dirty = true;
  }

  /** Updates indexes and timestamps for a batch just written (or found by recovery) at `position`. */
  onBatchAppended(position: number, size: number, baseOffset: bigint, lastOffset: bigint, maxTimestamp: bigint): void {
    if (position === 0) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = maxTimestamp;
      this.offsetOfMaxTimestampSoFar = baseOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.options.indexIntervalBytes) {
      this.offsetIndex.append(Number(baseOffset - this.baseOffset), position);
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, Number(this.offsetOfMaxTimestampSoFar - this.baseOffset));
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1n;
  }

  /** maxTimestamp of the first batch, or undefined when the segment is empty. */
  firstTimestamp(): bigint | undefined {
    if (this.firstBatchTimestamp === null) {
      const reader = new HeaderReader(this.fd, this.size);
      this.firstBatchTimestamp = reader.load(0) ? reader.maxTimestamp : undefined;
    }
    return this.firstBatchTimestamp;
  }

  /** Kafka's largestTimestamp: the largest batch timestamp, or the file's mtime when none is known. */
  largestTimestamp(): bigint {
    if (this.maxTimestampSoFar >= 0n) return this.maxTimestampSoFar;
    return BigInt(Math.floor(fstatSync(this.fd).mtimeMs));
  }

  /** The segment stops being active: its time index gets a last entry with the segment's largest timestamp. */
  becomeInactive(): void {
    this.addFinalTimeIndexEntry();
    this.persistIndexes();
  }

  private addFinalTimeIndexEntry(): void {
    if (this.maxTimestampSoFar >= 0n)
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, Number(this.offsetOfMaxTimestampSoFar - this.baseOffset));
  }

  persistIndexes(): void {
    this.offsetIndex.persist();
    this.timeIndex.persist();
  }

  unloadIndexes(): void {
    this.offsetIndex.unload();
    this.timeIndex.unload();
  }

  // ---- indexes ----

  /** Cheap checks of the index files, for segments loaded without recovery. Returns a reason or undefined. */
  sanityCheckIndexes(): string | undefined {
    if (this.missingIndexFiles.length > 0) return `index file ${this.missingIndexFiles.join(' and ')} is missing`;
    // Every non-empty segment with timestamps gets a time index entry when it stops being active.
    if (this.size > 0 && this.timeIndex.entries === 0) return `time index ${this.timeIndex.path} is empty but the segment is not`;
    return this.offsetIndex.sanityCheck(this.size) ?? this.timeIndex.sanityCheck();
  }

  /** Loads and fully checks the indexes once; rebuilds them from the log (with a warning) when they are inconsistent. */
  ensureIndexes(): void {
    if (this.indexesVerified) return;
    const reason = this.offsetIndex.validate(this.size) ?? this.timeIndex.validate();
    if (reason) {
      this.options.warn(`${reason}; rebuilding the indexes of ${this.logPath}`);
      this.rebuildIndexes();
    }
    this.indexesVerified = true;
  }

  private resetIndexState(): void {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestampSoFar = -1n;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.firstBatchTimestamp = undefined;
    this.nextOffset = this.baseOffset;
  }

  /** Rebuilds both indexes by walking the batch headers (no CRC checks: the data is trusted). */
  rebuildIndexes(): void {
    this.resetIndexState();
    const reader = new HeaderReader(this.fd, this.size);
    let position = 0;
    while (reader.load(position)) {
      const size = reader.size;
      if (size < RECORD_BATCH_OVERHEAD || position + size > this.size) break;
      this.onBatchAppended(position, size, reader.baseOffset, reader.lastOffset, reader.maxTimestamp);
      position += size;
    }
    this.addFinalTimeIndexEntry();
    this.persistIndexes();
    this.indexesVerified = true;
  }

  // ---- recovery ----

  /**
   * Kafka's LogSegment.recover: rebuilds the indexes from the log, verifying every batch (header,
   * length, CRC32C, offsets increasing, below `maxOffsetExclusive` = the next segment's base).
   * Stops at the first problem and reports it; the file is not modified (see truncateFile).
   * `onBatch` sees each valid batch (the log re-derives leader epochs from them).
   */
  recover(maxOffsetExclusive: bigint | undefined, onBatch: (partitionLeaderEpoch: number, baseOffset: bigint) => void): RecoveryOutcome {
    this.resetIndexState();
    const fileBytes = fstatSync(this.fd).size;
    this.size = fileBytes;
    const chunk = (recoveryChunk ??= Buffer.allocUnsafeSlow(RECOVERY_CHUNK_BYTES));
    let chunkStart = 0;
    let chunkLength = 0;
    let position = 0;
    let previousLast = this.baseOffset - 1n;
    const fail = (reason: string): RecoveryOutcome => {
      this.size = position;
      this.addFinalTimeIndexEntry();
      this.persistIndexes();
      this.indexesVerified = true;
      return { validBytes: position, fileBytes, problem: { position, reason } };
    };
    while (position < fileBytes) {
      const remaining = fileBytes - position;
      if (remaining < RECORD_BATCH_OVERHEAD) return fail(`${remaining} trailing bytes are too few for a batch header`);
      if (position + RECORD_BATCH_OVERHEAD > chunkStart + chunkLength) {
        chunkStart = position;
        chunkLength = readFully(this.fd, chunk, 0, Math.min(RECOVERY_CHUNK_BYTES, remaining), position);
        if (chunkLength < RECORD_BATCH_OVERHEAD) return fail(`could not read the batch header`);
      }
      let buf = chunk;
      let at = position - chunkStart;
      const magic = buf.readInt8(at + BatchField.MAGIC);
      if (magic !== MAGIC_V2) return fail(`batch magic is ${magic}, expected ${MAGIC_V2}`);
      const batchLength = buf.readInt32BE(at + BatchField.BATCH_LENGTH);
      if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) return fail(`batch length ${batchLength} is smaller than the v2 header`);
      const size = LOG_OVERHEAD + batchLength;
      if (size > remaining) return fail(`batch of ${size} bytes runs past the end of the file (${remaining} bytes remain)`);
      if (position + size > chunkStart + chunkLength) {
        at = 0;
        if (size <= RECOVERY_CHUNK_BYTES) {
          chunkStart = position;
          chunkLength = readFully(this.fd, chunk, 0, Math.min(RECOVERY_CHUNK_BYTES, remaining), position);
          if (chunkLength < size) return fail(`could not read the ${size}-byte batch`);
        } else {
          buf = Buffer.allocUnsafe(size);
          if (readFully(this.fd, buf, 0, size, position) < size) return fail(`could not read the ${size}-byte batch`);
        }
      }
      const storedCrc = buf.readUInt32BE(at + BatchField.CRC);
      const crc = computeBatchCrc(buf, at, size);
      if (crc !== storedCrc) return fail(`CRC mismatch: stored ${storedCrc.toString(16)}, computed ${crc.toString(16)}`);
      const baseOffset = buf.readBigInt64BE(at + BatchField.BASE_OFFSET);
      const lastOffsetDelta = buf.readInt32BE(at + BatchField.LAST_OFFSET_DELTA);
      if (baseOffset <= previousLast) return fail(`batch base offset ${baseOffset} is not above the previous last offset ${previousLast}`);
      if (lastOffsetDelta < 0) return fail(`batch lastOffsetDelta ${lastOffsetDelta} is negative`);
      const lastOffset = baseOffset + BigInt(lastOffsetDelta);
      if (maxOffsetExclusive !== undefined && lastOffset >= maxOffsetExclusive) {
        return fail(`batch last offset ${lastOffset} reaches the next segment's base offset ${maxOffsetExclusive}`);
      }
      if (lastOffset - this.baseOffset > BigInt(INT32_MAX))
        return fail(`batch last offset ${lastOffset} does not fit a relative offset of the segment`);
      this.onBatchAppended(position, size, baseOffset, lastOffset, buf.readBigInt64BE(at + BatchField.MAX_TIMESTAMP));
      onBatch(buf.readInt32BE(at + BatchField.PARTITION_LEADER_EPOCH), baseOffset);
      previousLast = lastOffset;
      position += size;
    }
    this.size = position;
    this.addFinalTimeIndexEntry();
    this.persistIndexes();
    this.indexesVerified = true;
    return { validBytes: position, fileBytes };
  }

  /**
   * After a failed recovery: the position of a valid batch (plausible header, CRC matching, base
   * offset >= `minBaseOffset`) somewhere in [from, end of file), or -1. A valid batch after the
   * problem means the damage is in the middle, not a torn tail.
   */
  findValidBatchAfter(from: number, minBaseOffset: bigint): number {
    const fileBytes = fstatSync(this.fd).size;
    const chunk = (recoveryChunk ??= Buffer.allocUnsafeSlow(RECOVERY_CHUNK_BYTES));
    let start = from;
    while (start + RECORD_BATCH_OVERHEAD <= fileBytes) {
      const n = readFully(this.fd, chunk, 0, Math.min(RECOVERY_CHUNK_BYTES, fileBytes - start), start);
      for (let i = 0; i + RECORD_BATCH_OVERHEAD <= n; i++) {
        if (chunk[i + BatchField.MAGIC] !== MAGIC_V2) continue;
        const batchLength = chunk.readInt32BE(i + BatchField.BATCH_LENGTH);
        const size = LOG_OVERHEAD + batchLength;
        if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || start + i + size > fileBytes) continue;
        if (chunk.readInt32BE(i + BatchField.LAST_OFFSET_DELTA) < 0) continue;
        if (chunk.readBigInt64BE(i + BatchField.BASE_OFFSET) < minBaseOffset) continue;
        let batch = chunk;
        let at = i;
        if (i + size > n) {
          batch = Buffer.allocUnsafe(size);
          at = 0;
          if (readFully(this.fd, batch, 0, size, start + i) < size) continue;
        }
        if (computeBatchCrc(batch, at, size) === batch.readUInt32BE(at + BatchField.CRC)) return start + i;
      }
      if (n < RECORD_BATCH_OVERHEAD) break;
      start += n - RECORD_BATCH_OVERHEAD + 1;
    }
    return -1;
  }

  /** Cuts the file to `bytes` (a torn tail found by recovery). */
  truncateFile(bytes: number): void {
    ftruncateSync(this.fd, bytes);
    this.size = bytes;
    this.dirty = true;
  }

  /**
   * For a segment closed cleanly: walks headers from the last offset index entry to the end of the
   * file to find the next offset and the timestamps after the last time index entry. False when
   * the headers do not chain exactly to the end of the file (then the caller recovers).
   */
  loadTailFromIndex(): boolean {
    const last = this.offsetIndex.lastEntry();
    let position = last ? last.position : 0;
    const reader = new HeaderReader(this.fd, this.size);
    let next = this.baseOffset;
    while (position < this.size) {
      if (!reader.load(position) || reader.magic !== MAGIC_V2) return false;
      const size = reader.size;
      if (size < RECORD_BATCH_OVERHEAD || position + size > this.size) return false;
      const maxTimestamp = reader.maxTimestamp;
      if (maxTimestamp > this.maxTimestampSoFar) {
        this.maxTimestampSoFar = maxTimestamp;
        this.offsetOfMaxTimestampSoFar = reader.baseOffset;
      }
      next = reader.lastOffset + 1n;
      position += size;
    }
    this.nextOffset = next;
    this.bytesSinceLastIndexEntry = last ? this.size - last.position : this.size;
    return true;
  }

  // ---- reads ----

  /** The first batch whose last offset is >= `target`, found via the index and a short header walk. */
  locate(target: bigint): BatchLocation | undefined {
    this.ensureIndexes();
    let position = target <= this.baseOffset ? 0 : this.offsetIndex.lookup(this.relative(target));
    const reader = new HeaderReader(this.fd, this.size);
    while (reader.load(position)) {
      const size = reader.size;
      const lastOffset = reader.lastOffset;
      if (lastOffset >= target) return { position, size, baseOffset: reader.baseOffset, lastOffset };
      position += size;
    }
    return undefined;
  }

  /**
   * Whole batches from `first` on, up to `maxBytes` (but always `first` itself when
   * `minOneBatch`), none reaching `limitOffset`. One read into one Buffer.
   */
  read(first: BatchLocation, maxBytes: number, limitOffset: bigint, minOneBatch: boolean): Buffer {
    if (first.lastOffset >= limitOffset) return EMPTY;
    let want = Math.min(Math.max(maxBytes, 0), this.size - first.position);
    if (first.size > want) {
      if (!minOneBatch) return EMPTY;
      want = first.size;
    }
    const buf = Buffer.allocUnsafe(want);
    const got = readFully(this.fd, buf, 0, want, first.position);
    if (got < want)
      throw protocolError('KAFKA_STORAGE_ERROR', `${this.logPath} ended at byte ${first.position + got}, expected ${this.size} bytes`);
    // Every batch of this segment ends below nextOffset, so the limit only needs checking when it is lower.
    const checkLimit = limitOffset < this.nextOffset;
    let end = first.size;
    while (end + RECORD_BATCH_OVERHEAD <= want) {
      const size = LOG_OVERHEAD + buf.readInt32BE(end + BatchField.BATCH_LENGTH);
      if (end + size > want) break;
      if (checkLimit) {
        const lastOffset = buf.readBigInt64BE(end + BatchField.BASE_OFFSET) + BigInt(buf.readInt32BE(end + BatchField.LAST_OFFSET_DELTA));
        if (lastOffset >= limitOffset) break;
      }
      end += size;
    }
    return end === want ? buf : buf.subarray(0, end);
  }

  /** Reads one whole batch. */
  readBatch(location: BatchLocation): Buffer {
    const buf = Buffer.allocUnsafe(location.size);
    if (readFully(this.fd, buf, 0, location.size, location.position) < location.size) {
      throw protocolError('KAFKA_STORAGE_ERROR', `${this.logPath} is shorter than its batch at byte ${location.position}`);
    }
    return buf;
  }

  /**
   * Kafka's findOffsetByTimestamp: the first record at or after `startingOffset` whose timestamp
   * is >= `timestamp`. The time index gives where to start; the header walk finds the first batch
   * whose maxTimestamp reaches it; decoding that batch finds the record.
   */
  findOffsetByTimestamp(timestamp: bigint, startingOffset: bigint): { offset: bigint; timestamp: bigint } | undefined {
    this.ensureIndexes();
    const rel = this.timeIndex.lookup(timestamp);
    let from = rel < 0 ? this.baseOffset : this.baseOffset + BigInt(rel);
    if (startingOffset > from) from = startingOffset;
    let position = this.offsetIndex.lookup(this.relative(from));
    const reader = new HeaderReader(this.fd, this.size);
    while (reader.load(position)) {
      const size = reader.size;
      const lastOffset = reader.lastOffset;
      if (lastOffset >= startingOffset && reader.maxTimestamp >= timestamp) {
        const location = { position, size, baseOffset: reader.baseOffset, lastOffset };
        const found = this.findRecordByTimestamp(location, reader.maxTimestamp, reader.attributes, timestamp, startingOffset);
        if (found) return found;
      }
      position += size;
    }
    return undefined;
  }

  private findRecordByTimestamp(
    location: BatchLocation,
    maxTimestamp: bigint,
    attributes: number,
    timestamp: bigint,
    startingOffset: bigint,
  ): { offset: bigint; timestamp: bigint } | undefined {
    const firstOffset = location.baseOffset > startingOffset ? location.baseOffset : startingOffset;
    // Every record of a LogAppendTime batch has the batch's timestamp.
    if (attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND) return { offset: firstOffset, timestamp: maxTimestamp };
    let records;
    try {
      records = decodeRecordBatch(this.readBatch(location), 0, { verifyCrc: false }).records;
    } catch {
      // Cannot decode (e.g. no codec for its compression): answer at batch granularity.
      return { offset: firstOffset, timestamp: maxTimestamp };
    }
    for (const record of records) {
      if (record.offset >= startingOffset && record.timestamp >= timestamp) return { offset: record.offset, timestamp: record.timestamp };
    }
    return undefined;
  }

  // ---- truncation ----

  /**
   * Removes every batch whose last offset is >= `offset` (a batch holding `offset` goes whole).
   * Returns the bytes removed. nextOffset becomes the end of the last remaining batch (the
   * segment's base offset when none remains): always what a reopen would derive from the data.
   */
  truncateTo(offset: bigint): number {
    this.ensureIndexes();
    const location = this.locate(offset);
    let removed = 0;
    if (location) {
      removed = this.size - location.position;
      ftruncateSync(this.fd, location.position);
      this.size = location.position;
      this.dirty = true;
      this.offsetIndex.truncateToPosition(location.position);
      this.timeIndex.truncateToRelativeOffset(Number(location.baseOffset - this.baseOffset));
    }
    // The segment becomes the active one: its end must be exact (it may have been an upper bound),
    // and so must its largest timestamp. Index entries left all describe remaining batches, so
    // only the batches from the last offset index entry on need a look.
    const lastTime = this.timeIndex.lastEntry();
    this.maxTimestampSoFar = lastTime ? lastTime.timestamp : -1n;
    this.offsetOfMaxTimestampSoFar = lastTime ? this.baseOffset + BigInt(lastTime.relativeOffset) : this.baseOffset;
    this.nextOffset = this.baseOffset;
    const lastIndexed = this.offsetIndex.lastEntry();
    const reader = new HeaderReader(this.fd, this.size);
    let position = lastIndexed ? lastIndexed.position : 0;
    while (reader.load(position)) {
      if (reader.maxTimestamp > this.maxTimestampSoFar) {
        this.maxTimestampSoFar = reader.maxTimestamp;
        this.offsetOfMaxTimestampSoFar = reader.baseOffset;
      }
      this.nextOffset = reader.lastOffset + 1n;
      position += reader.size;
    }
    this.bytesSinceLastIndexEntry = lastIndexed ? this.size - lastIndexed.position : this.size;
    if (this.size === 0) {
      this.firstBatchTimestamp = undefined;
      this.created = this.options.clock();
    }
    return removed;
  }

  // ---- durability and lifetime ----

  /** fsyncs the log and both indexes (writing pending index entries first). */
  async flush(): Promise<void> {
    if (this.closeRequested) return;
    this.persistIndexes();
    this.pendingSyncs++;
    try {
      await Promise.all([fsyncAsync(this.fd), this.offsetIndex.fsync(), this.timeIndex.fsync()]);
    } finally {
      this.pendingSyncs--;
      if (this.closeRequested && this.pendingSyncs === 0) this.closeNow();
    }
  }

  flushSync(): void {
    this.persistIndexes();
    fsyncSync(this.fd);
    this.offsetIndex.fsyncSync();
    this.timeIndex.fsyncSync();
    this.dirty = false;
  }

  get isClosed(): boolean {
    return this.closeRequested;
  }

  /** An fsync started by flush() has not finished yet. */
  get syncInFlight(): boolean {
    return this.pendingSyncs > 0;
  }

  /** Closes the files (after any fsync in flight). */
  close(): void {
    if (this.closeRequested) return;
    this.closeRequested = true;
    if (this.pendingSyncs === 0) this.closeNow();
  }

  private closeNow(): void {
    closeSync(this.fd);
    this.offsetIndex.close();
    this.timeIndex.close();
  }

  /** Closes and unlinks the segment's three files. */
  deleteFiles(): void {
    this.close();
    for (const path of [this.logPath, this.offsetIndex.path, this.timeIndex.path]) {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
}
