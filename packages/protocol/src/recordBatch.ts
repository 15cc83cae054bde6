/**
 * Record v2 and RecordBatch v2, every field, as Kafka defines them (see batchHeader.ts for the
 * 61-byte header). Each record inside the records section is:
 *
 *   length: varint            bytes after this field
 *   attributes: int8          unused, 0
 *   timestampDelta: varlong   relative to the batch's baseTimestamp
 *   offsetDelta: varint       relative to the batch's baseOffset
 *   keyLength: varint (-1 = null), key
 *   valueLength: varint (-1 = null), value
 *   headersCount: varint, then per header: keyLength varint + UTF-8 key, valueLength varint (-1 = null) + value
 *
 * The producer encodes with RecordBatchBuilder (records written straight into one growing Buffer);
 * consumers decode with decodeRecords. The broker never decodes records (batchHeader.ts suffices).
 */
import {
  Attributes,
  BatchField,
  CompressionType,
  LOG_OVERHEAD,
  MAGIC_V2,
  RECORD_BATCH_OVERHEAD,
  batchSizeAt,
  computeBatchCrc,
  readBatchHeader,
  type RecordBatchHeader,
} from './batchHeader.js';
import { codecFor, compressionName } from './compression.js';
import { SamsaProtocolError, protocolError } from './errors.js';
import { INT64_MAX, INT64_MIN } from './int64.js';
import { Reader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

export interface RecordHeaderInput {
  key: string;
  value: Uint8Array | null;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record as a producer hands it over. A missing timestamp means "now" by the builder's clock. */
export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: RecordHeaderInput[];
  timestamp?: bigint;
}

/**
 * A decoded record. key, value and header values are views into the decoded buffer (or into the
 * decompressed records section), not copies: copy them if the buffer is reused or mutated.
 */
export interface Record {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  attributes: number;
}

export interface RecordBatchBuilderOptions {
  compression?: CompressionType;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  /** -1 when the producer is not idempotent. */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  /** A control batch (attributes bit 5): transaction markers only (controlBatch.ts). */
  isControl?: boolean;
  /** baseTimestamp of the batch; defaults to the first record's timestamp. */
  firstTimestamp?: bigint;
  /** Clock for records without a timestamp, in epoch milliseconds; defaults to Date.now(). */
  now?: () => bigint;
  /** Initial buffer size in bytes; the buffer doubles as records are appended. */
  initialCapacity?: number;
}

export interface DecodeOptions {
  /** Check each batch's CRC32C before decoding it (default true). */
  verifyCrc?: boolean;
}

const INT32_MAX = 0x7fffffff;
const DEFAULT_CAPACITY = 16 * 1024;
/** Smallest possible encoded record: length, attributes, timestampDelta, offsetDelta, key, value, headers count. */
const MIN_RECORD_SIZE = 7;

const systemClock = (): bigint => BigInt(Date.now());

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
}

function checkInt64(name: string, value: bigint): void {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX)
    throw new RangeError(`${name} must be an int64 bigint, got ${String(value)}`);
}

// Header keys are short and nearly always ASCII; a JS loop beats a native call for those.
const SHORT_STRING = 64;

function utf8Length(s: string): number {
  if (s.length <= SHORT_STRING) {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
    return s.length;
  }
  return Buffer.byteLength(s, 'utf8');
}

/** Writes `s` (whose UTF-8 length is `n`) at `pos`; returns the offset after it. */
function writeUtf8(buf: Buffer, pos: number, s: string, n: number): number {
  if (n === s.length && n <= SHORT_STRING) {
    for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + n;
  }
  return pos + buf.write(s, pos, n, 'utf8');
}

/**
 * Builds one RecordBatch v2. append() writes each record's bytes straight into a growing Buffer;
 * build() fills in the header, compresses the records section if asked, and stamps the CRC.
 * After build() the builder is closed: its buffer belongs to the returned batch.
 */
export class RecordBatchBuilder {
  private buf: Buffer;
  private pos = RECORD_BATCH_OVERHEAD;
  private recordCount = 0;
  private baseTimestamp = 0n;
  private maxTimestamp = 0n;
  private built: Buffer | null = null;
  // The previous record's timestamp and its delta: producers stamp a whole batch with one "now",
  // and reusing the delta saves a BigInt subtraction (a heap allocation) and range checks per record.
  private lastTimestamp: bigint | undefined;
  private lastDelta = 0n;

  private readonly compression: CompressionType;
  private readonly baseOffset: bigint;
  private readonly partitionLeaderEpoch: number;
  private readonly producerId: bigint;
  private readonly producerEpoch: number;
  private readonly baseSequence: number;
  private readonly isTransactional: boolean;
  private readonly isControl: boolean;
  private readonly firstTimestamp: bigint | undefined;
  private readonly now: () => bigint;

  constructor(opts: RecordBatchBuilderOptions = {}) {
    this.compression = opts.compression ?? CompressionType.NONE;
    this.baseOffset = opts.baseOffset ?? 0n;
    this.partitionLeaderEpoch = opts.partitionLeaderEpoch ?? -1;
    this.producerId = opts.producerId ?? -1n;
    this.producerEpoch = opts.producerEpoch ?? -1;
    this.baseSequence = opts.baseSequence ?? -1;
    this.isTransactional = opts.isTransactional ?? false;
    this.isControl = opts.isControl ?? false;
    this.firstTimestamp = opts.firstTimestamp;
    this.now = opts.now ?? systemClock;

    // Fail at construction, not at build(), so a bad option never costs a batch of appends.
    codecFor(this.compression);
    checkInt64('baseOffset', this.baseOffset);
    checkInt64('producerId', this.producerId);
    if (this.firstTimestamp !== undefined) checkInt64('firstTimestamp', this.firstTimestamp);
    checkInt('partitionLeaderEpoch', this.partitionLeaderEpoch, -0x80000000, INT32_MAX);
    checkInt('producerEpoch', this.producerEpoch, -0x8000, 0x7fff);
    checkInt('baseSequence', this.baseSequence, -0x80000000, INT32_MAX);
    const capacity = opts.initialCapacity ?? DEFAULT_CAPACITY;
    checkInt('initialCapacity', capacity, 0, INT32_MAX);
    this.buf = Buffer.allocUnsafe(Math.max(capacity, RECORD_BATCH_OVERHEAD));
  }

  /** Records appended so far. */
  get count(): number {
    return this.recordCount;
  }

  /** Uncompressed size of the batch so far, header included. */
  get estimatedSizeInBytes(): number {
    return this.pos;
  }

  /** Appends one record. Throws (and appends nothing) on a bad timestamp or once built. */
  append(record: RecordInput): void {
    if (this.built !== null) throw new Error('RecordBatchBuilder.append after build(): start a new builder');
    const offsetDelta = this.recordCount;
    if (offsetDelta === INT32_MAX) throw new RangeError('a record batch holds at most 2^31-1 records');

    const timestamp = record.timestamp === undefined ? this.now() : record.timestamp;
    let timestampDelta: bigint;
    let baseTimestamp: bigint;
    if (offsetDelta > 0 && timestamp === this.lastTimestamp) {
      // Same value as the previous record's: already checked, same delta.
      baseTimestamp = this.baseTimestamp;
      timestampDelta = this.lastDelta;
    } else {
      if (record.timestamp !== undefined) checkInt64('record timestamp', timestamp);
      baseTimestamp = offsetDelta === 0 ? (this.firstTimestamp ?? timestamp) : this.baseTimestamp;
      timestampDelta = timestamp - baseTimestamp;
    }

    const key = record.key ?? null;
    const value = record.value ?? null;
    const headers = record.headers;
    const keyLength = key === null ? -1 : key.length;
    const valueLength = value === null ? -1 : value.length;

    // sizeOfVarlong throws RangeError for a delta outside int64, before anything is written.
    let bodySize = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
    bodySize += key === null ? 1 : sizeOfVarint(keyLength) + keyLength;
    bodySize += value === null ? 1 : sizeOfVarint(valueLength) + valueLength;
    const headerCount = headers === undefined ? 0 : headers.length;
    bodySize += sizeOfVarint(headerCount);
    if (headers !== undefined) {
      for (let i = 0; i < headerCount; i++) {
        const h = headers[i]!;
        const n = utf8Length(h.key);
        bodySize += sizeOfVarint(n) + n;
        bodySize += h.value === null ? 1 : sizeOfVarint(h.value.length) + h.value.length;
      }
    }
    if (bodySize > INT32_MAX - this.pos) throw new RangeError('record batch would exceed 2 GiB');
    this.ensureCapacity(sizeOfVarint(bodySize) + bodySize);

    const buf = this.buf;
    let pos = writeVarint(buf, this.pos, bodySize);
    buf[pos++] = 0; // record attributes: unused in v2
    pos = writeVarlong(buf, pos, timestampDelta);
    pos = writeVarint(buf, pos, offsetDelta);
    pos = writeVarint(buf, pos, keyLength);
    if (key !== null) {
      buf.set(key, pos);
      pos += keyLength;
    }
    pos = writeVarint(buf, pos, valueLength);
    if (value !== null) {
      buf.set(value, pos);
      pos += valueLength;
    }
    pos = writeVarint(buf, pos, headerCount);
    if (headers !== undefined) {
      for (let i = 0; i < headerCount; i++) {
        const h = headers[i]!;
        const n = utf8Length(h.key);
        pos = writeVarint(buf, pos, n);
        pos = writeUtf8(buf, pos, h.key, n);
        if (h.value === null) {
          pos = writeVarint(buf, pos, -1);
        } else {
          pos = writeVarint(buf, pos, h.value.length);
          buf.set(h.value, pos);
          pos += h.value.length;
        }
      }
    }

    this.pos = pos;
    this.lastTimestamp = timestamp;
    this.lastDelta = timestampDelta;
    if (offsetDelta === 0) {
      this.baseTimestamp = baseTimestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    this.recordCount = offsetDelta + 1;
  }

  /** The finished batch. Throws on an empty batch (Kafka rejects those). Idempotent. */
  build(): Buffer {
    if (this.built !== null) return this.built;
    if (this.recordCount === 0) throw new RangeError('cannot build a record batch with no records');

    let out: Buffer;
    if (this.compression === CompressionType.NONE) {
      out = this.buf.subarray(0, this.pos);
    } else {
      const compressed = codecFor(this.compression).compress(this.buf.subarray(RECORD_BATCH_OVERHEAD, this.pos));
      out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length);
      out.set(compressed, RECORD_BATCH_OVERHEAD);
    }

    let attributes = this.compression & Attributes.COMPRESSION_MASK;
    if (this.isTransactional) attributes |= Attributes.TRANSACTIONAL;
    if (this.isControl) attributes |= Attributes.CONTROL;
    out.writeBigInt64BE(this.baseOffset, BatchField.BASE_OFFSET);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.BATCH_LENGTH);
    out.writeInt32BE(this.partitionLeaderEpoch, BatchField.PARTITION_LEADER_EPOCH);
    out.writeInt8(MAGIC_V2, BatchField.MAGIC);
    out.writeInt16BE(attributes, BatchField.ATTRIBUTES);
    out.writeInt32BE(this.recordCount - 1, BatchField.LAST_OFFSET_DELTA);
    out.writeBigInt64BE(this.baseTimestamp, BatchField.BASE_TIMESTAMP);
    out.writeBigInt64BE(this.maxTimestamp, BatchField.MAX_TIMESTAMP);
    out.writeBigInt64BE(this.producerId, BatchField.PRODUCER_ID);
    out.writeInt16BE(this.producerEpoch, BatchField.PRODUCER_EPOCH);
    out.writeInt32BE(this.baseSequence, BatchField.BASE_SEQUENCE);
    out.writeInt32BE(this.recordCount, BatchField.RECORDS_COUNT);
    out.writeUInt32BE(computeBatchCrc(out, 0, out.length), BatchField.CRC);
    this.built = out;
    return out;
  }

  private ensureCapacity(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/**
 * An upper bound on the bytes `record` takes in a batch (every varint at its widest), so a caller
 * can size a RecordBatchBuilder once (initialCapacity) instead of letting it double and copy.
 */
export function maxRecordSize(record: RecordInput): number {
  // length (5) + attributes (1) + timestampDelta (10) + offsetDelta (5) + two lengths (5 each) + header count (5)
  let size = 36;
  if (record.key) size += record.key.length;
  if (record.value) size += record.value.length;
  const headers = record.headers;
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      size += 10 + utf8Length(h.key) + (h.value === null ? 0 : h.value.length);
    }
  }
  return size;
}

/** Encodes `records` as one batch. */
export function encodeRecordBatch(records: readonly RecordInput[], opts: RecordBatchBuilderOptions = {}): Buffer {
  let estimate = RECORD_BATCH_OVERHEAD;
  for (const r of records) estimate += 24 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  const builder = new RecordBatchBuilder({ initialCapacity: estimate, ...opts });
  for (const r of records) builder.append(r);
  return builder.build();
}

/**
 * Decodes the whole batch at `pos`: header, CRC check (unless verifyCrc is false), decompression,
 * every record. Throws CORRUPT_MESSAGE on a short, malformed or tampered batch, and
 * UNSUPPORTED_COMPRESSION_TYPE when no codec is registered for its compression.
 */
export function decodeRecordBatch(buf: Buffer, pos = 0, opts: DecodeOptions = {}): { header: RecordBatchHeader; records: Record[] } {
  const header = readBatchHeader(buf, pos);
  const size = LOG_OVERHEAD + header.batchLength;
  if (buf.length - pos < size) {
    throw protocolError('CORRUPT_MESSAGE', `record batch at byte ${pos} declares ${size} bytes but only ${buf.length - pos} remain`);
  }
  return { header, records: decodeBatchRecords(buf, pos, size, header, opts.verifyCrc ?? true) };
}

/**
 * Every whole batch in `buf` (e.g. a fetch answer's records), in order. Stops quietly at a partial
 * trailing batch, which Kafka's fetch may return when it cuts at max bytes; throws CORRUPT_MESSAGE
 * on a malformed batch before that.
 */
export function* iterateBatches(buf: Buffer): Generator<{ pos: number; size: number; header: RecordBatchHeader }> {
  let pos = 0;
  for (;;) {
    const size = batchSizeAt(buf, pos);
    if (size < 0) return;
    if (size < RECORD_BATCH_OVERHEAD) {
      throw protocolError(
        'CORRUPT_MESSAGE',
        `record batch at byte ${pos} declares ${size} bytes, less than the ${RECORD_BATCH_OVERHEAD}-byte header`,
      );
    }
    if (buf.length - pos < size) return;
    yield { pos, size, header: readBatchHeader(buf, pos) };
    pos += size;
  }
}

/** All records of all whole batches in `buf`, skipping control batches and a partial trailing batch. */
export function decodeRecords(buf: Buffer, opts: DecodeOptions = {}): Record[] {
  const verifyCrc = opts.verifyCrc ?? true;
  const out: Record[] = [];
  for (const { pos, size, header } of iterateBatches(buf)) {
    if (header.isControl) continue;
    const records = decodeBatchRecords(buf, pos, size, header, verifyCrc);
    for (let i = 0; i < records.length; i++) out.push(records[i]!);
  }
  return out;
}

function decodeBatchRecords(buf: Buffer, pos: number, size: number, header: RecordBatchHeader, verifyCrc: boolean): Record[] {
  if (verifyCrc) {
    const crc = computeBatchCrc(buf, pos, size);
    if (crc !== header.crc) {
      throw protocolError(
        'CORRUPT_MESSAGE',
        `record batch at offset ${header.baseOffset} failed its CRC check: stored ${header.crc.toString(16)}, computed ${crc.toString(16)}`,
      );
    }
  }
  if (header.recordCount < 0)
    throw protocolError('CORRUPT_MESSAGE', `record batch at offset ${header.baseOffset} has a negative record count ${header.recordCount}`);

  let section = buf.subarray(pos + RECORD_BATCH_OVERHEAD, pos + size);
  if (header.compression !== CompressionType.NONE) {
    const codec = codecFor(header.compression);
    try {
      section = codec.decompress(section);
    } catch (err) {
      if (err instanceof SamsaProtocolError) throw err;
      throw protocolError(
        'CORRUPT_MESSAGE',
        `record batch at offset ${header.baseOffset} failed to decompress (${compressionName(header.compression)}): ${(err as Error).message}`,
        err,
      );
    }
  }
  // Bounds the loop before it starts, so a forged count cannot make us spin or allocate.
  if (header.recordCount > section.length / MIN_RECORD_SIZE) {
    throw protocolError(
      'CORRUPT_MESSAGE',
      `record batch at offset ${header.baseOffset} claims ${header.recordCount} records in ${section.length} bytes`,
    );
  }

  const reader = new Reader(section);
  const logAppendTime = header.timestampType === 'LogAppendTime';
  const records: Record[] = new Array<Record>(header.recordCount);
  for (let i = 0; i < header.recordCount; i++) {
    const recordStart = reader.pos;
    const length = reader.readVarint();
    if (length < 0 || length > reader.remaining) {
      throw protocolError(
        'CORRUPT_MESSAGE',
        `record ${i} of the batch at offset ${header.baseOffset} declares ${length} bytes, ${reader.remaining} remain`,
      );
    }
    const bodyStart = reader.pos;
    const recordEnd = bodyStart + length;
    const sectionEnd = reader.end;
    reader.end = recordEnd; // no field may read past its own record
    const attributes = reader.readInt8();
    const timestampDelta = reader.readVarlong();
    const offsetDelta = reader.readVarint();
    const key = reader.readVarintBytes();
    const value = reader.readVarintBytes();
    const headerCount = reader.readVarint();
    if (headerCount < 0 || headerCount > reader.remaining / 2) {
      throw protocolError(
        'CORRUPT_MESSAGE',
        `record ${i} of the batch at offset ${header.baseOffset} has an invalid header count ${headerCount}`,
      );
    }
    const headers: RecordHeader[] = new Array<RecordHeader>(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const headerKey = reader.readVarintString();
      headers[h] = { key: headerKey, value: reader.readVarintBytes() };
    }
    if (reader.pos !== recordEnd) {
      throw protocolError(
        'CORRUPT_MESSAGE',
        `record ${i} at byte ${recordStart} of the batch at offset ${header.baseOffset} declares ${length} bytes but its fields take ${reader.pos - bodyStart}`,
      );
    }
    reader.end = sectionEnd;
    records[i] = {
      offset: header.baseOffset + BigInt(offsetDelta),
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      attributes,
    };
  }
  if (reader.remaining !== 0) {
    throw protocolError(
      'CORRUPT_MESSAGE',
      `record batch at offset ${header.baseOffset} has ${reader.remaining} bytes after its ${header.recordCount} records`,
    );
  }
  return records;
}
