/**
 * The fixed 61-byte header of a Kafka RecordBatch v2, as the broker sees it on the hot path: read
 * the fields, check the CRC, stamp baseOffset and partitionLeaderEpoch (both outside the CRC).
 * Records themselves are never decoded here.
 *
 *   baseOffset: int64            @0
 *   batchLength: int32           @8   (bytes after this field: total size = 12 + batchLength)
 *   partitionLeaderEpoch: int32  @12
 *   magic: int8 (= 2)            @16
 *   crc: uint32                  @17  CRC32C over attributes..end
 *   attributes: int16            @21  bits 0-2 compression, 3 timestampType, 4 transactional, 5 control
 *   lastOffsetDelta: int32       @23
 *   baseTimestamp: int64         @27
 *   maxTimestamp: int64          @35
 *   producerId: int64            @43
 *   producerEpoch: int16         @51
 *   baseSequence: int32          @53
 *   recordsCount: int32          @57
 *   records                      @61
 */
import { crc32c } from './crc32c.js';
import { protocolError } from './errors.js';

export const BatchField = {
  BASE_OFFSET: 0,
  BATCH_LENGTH: 8,
  PARTITION_LEADER_EPOCH: 12,
  MAGIC: 16,
  CRC: 17,
  ATTRIBUTES: 21,
  LAST_OFFSET_DELTA: 23,
  BASE_TIMESTAMP: 27,
  MAX_TIMESTAMP: 35,
  PRODUCER_ID: 43,
  PRODUCER_EPOCH: 51,
  BASE_SEQUENCE: 53,
  RECORDS_COUNT: 57,
} as const;

/** Size of the header, i.e. of a batch with no records. */
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
export const MAGIC_V2 = 2;

export const CompressionType = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

export const Attributes = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_TYPE_LOG_APPEND: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
} as const;

export interface RecordBatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: CompressionType;
  timestampType: 'CreateTime' | 'LogAppendTime';
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Total size in bytes of the batch starting at `pos`, or -1 when fewer than 12 bytes remain. */
export function batchSizeAt(buf: Buffer, pos = 0): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1;
  return LOG_OVERHEAD + buf.readInt32BE(pos + BatchField.BATCH_LENGTH);
}

/** Reads the header at `pos`. Throws CORRUPT_MESSAGE when it is short or not a v2 batch. */
export function readBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  if (buf.length - pos < RECORD_BATCH_OVERHEAD) {
    throw protocolError('CORRUPT_MESSAGE', `record batch header needs ${RECORD_BATCH_OVERHEAD} bytes, ${buf.length - pos} remain`);
  }
  const magic = buf.readInt8(pos + BatchField.MAGIC);
  if (magic !== MAGIC_V2) throw protocolError('CORRUPT_MESSAGE', `record batch magic is ${magic}, only v2 (magic 2) is supported`);
  const batchLength = buf.readInt32BE(pos + BatchField.BATCH_LENGTH);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
    throw protocolError('CORRUPT_MESSAGE', `record batch length ${batchLength} is smaller than the v2 header`);
  }
  const attributes = buf.readInt16BE(pos + BatchField.ATTRIBUTES);
  return {
    baseOffset: buf.readBigInt64BE(pos + BatchField.BASE_OFFSET),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + BatchField.PARTITION_LEADER_EPOCH),
    magic,
    crc: buf.readUInt32BE(pos + BatchField.CRC),
    attributes,
    compression: (attributes & Attributes.COMPRESSION_MASK) as CompressionType,
    timestampType: attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND ? 'LogAppendTime' : 'CreateTime',
    isTransactional: (attributes & Attributes.TRANSACTIONAL) !== 0,
    isControl: (attributes & Attributes.CONTROL) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + BatchField.LAST_OFFSET_DELTA),
    baseTimestamp: buf.readBigInt64BE(pos + BatchField.BASE_TIMESTAMP),
    maxTimestamp: buf.readBigInt64BE(pos + BatchField.MAX_TIMESTAMP),
    producerId: buf.readBigInt64BE(pos + BatchField.PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + BatchField.PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BatchField.BASE_SEQUENCE),
    recordCount: buf.readInt32BE(pos + BatchField.RECORDS_COUNT),
  };
}

/** CRC32C over attributes..end of the batch at `pos` (whose total size is `size`). */
export function computeBatchCrc(buf: Buffer, pos: number, size: number): number {
  return crc32c(buf.subarray(pos + BatchField.ATTRIBUTES, pos + size));
}

/** True when the stored CRC matches the bytes. The batch must lie wholly inside `buf`. */
export function verifyBatchCrc(buf: Buffer, pos = 0): boolean {
  const size = batchSizeAt(buf, pos);
  if (size < RECORD_BATCH_OVERHEAD || pos + size > buf.length) return false;
  return computeBatchCrc(buf, pos, size) === buf.readUInt32BE(pos + BatchField.CRC);
}

/**
 * Everything a leader checks before appending a produced batch: exactly one whole v2 batch,
 * consistent length, a sane record count and lastOffsetDelta, and a matching CRC. Throws
 * CORRUPT_MESSAGE (with what was wrong) and never modifies `buf`.
 */
export function validateProducedBatch(buf: Buffer): RecordBatchHeader {
  const header = readBatchHeader(buf, 0);
  const size = LOG_OVERHEAD + header.batchLength;
  if (size !== buf.length) {
    throw protocolError(
      'CORRUPT_MESSAGE',
      `record batch length field says ${size} bytes but ${buf.length} bytes were sent (one batch per partition)`,
    );
  }
  if (header.recordCount <= 0)
    throw protocolError('CORRUPT_MESSAGE', `record batch holds ${header.recordCount} records; at least one is required`);
  if (header.lastOffsetDelta !== header.recordCount - 1) {
    throw protocolError(
      'CORRUPT_MESSAGE',
      `record batch lastOffsetDelta ${header.lastOffsetDelta} does not match its ${header.recordCount} records`,
    );
  }
  const crc = computeBatchCrc(buf, 0, size);
  if (crc !== header.crc) {
    throw protocolError('CORRUPT_MESSAGE', `record batch CRC mismatch: stored ${header.crc.toString(16)}, computed ${crc.toString(16)}`);
  }
  return header;
}

/** Stamps baseOffset (outside the CRC, so the CRC stays valid). */
export function setBaseOffset(buf: Buffer, pos: number, baseOffset: bigint): void {
  buf.writeBigInt64BE(baseOffset, pos + BatchField.BASE_OFFSET);
}

/** Stamps partitionLeaderEpoch (outside the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + BatchField.PARTITION_LEADER_EPOCH);
}

/**
 * Switches the batch to LogAppendTime with `timestamp` as its maxTimestamp and recomputes the CRC
 * (both fields are inside it), as Kafka's broker does for topics with
 * message.timestamp.type=LogAppendTime.
 */
export function setLogAppendTime(buf: Buffer, pos: number, size: number, timestamp: bigint): void {
  const attributes = buf.readInt16BE(pos + BatchField.ATTRIBUTES) | Attributes.TIMESTAMP_TYPE_LOG_APPEND;
  buf.writeInt16BE(attributes, pos + BatchField.ATTRIBUTES);
  buf.writeBigInt64BE(timestamp, pos + BatchField.MAX_TIMESTAMP);
  buf.writeUInt32BE(computeBatchCrc(buf, pos, size), pos + BatchField.CRC);
}

/** Last offset of the batch: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(header: RecordBatchHeader): bigint {
  return header.baseOffset + BigInt(header.lastOffsetDelta);
}
