/**
 * Rewriting a RecordBatch v2 with some of its records left out, as Kafka's log cleaner does
 * (MemoryRecords.filterTo / buildRetainedRecordsInto). The new batch covers the same offsets as
 * the original: it keeps baseOffset and lastOffsetDelta (so a producer's last sequence number,
 * baseSequence + lastOffsetDelta, is unchanged), partitionLeaderEpoch, producer id, epoch and
 * base sequence, the timestamp type, the transactional and control flags and the compression
 * codec. Each kept record keeps its offset and timestamp; recordsCount is the number kept, so a
 * cleaned batch has offset gaps that readers skip.
 *
 * KIP-534 delete horizon: once the cleaner has seen a batch holding tombstones it stamps
 * `now + delete.retention.ms` into the batch: attributes bit 6 is set and baseTimestamp holds the
 * horizon (record timestamp deltas are relative to it, so every record keeps its timestamp). A
 * later cleaning removes the batch's tombstones once the horizon has passed. The horizon travels
 * with the bytes, so followers and restarts see the same one.
 */
import {
  Attributes,
  BatchField,
  CompressionType,
  LOG_OVERHEAD,
  MAGIC_V2,
  RECORD_BATCH_OVERHEAD,
  computeBatchCrc,
  type RecordBatchHeader,
} from './batchHeader.js';
import { codecFor } from './compression.js';
import type { Record } from './recordBatch.js';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

/** Attributes bit 6: baseTimestamp holds the batch's delete horizon (KIP-534). */
export const DELETE_HORIZON_FLAG = 0x40;

/** The batch's KIP-534 delete horizon in epoch ms, or undefined when the cleaner has not stamped one. */
export function deleteHorizonOf(header: RecordBatchHeader): bigint | undefined {
  return header.attributes & DELETE_HORIZON_FLAG ? header.baseTimestamp : undefined;
}

export interface RetainedBatchOptions {
  /** Stamp this delete horizon (KIP-534); without it an existing horizon is kept. */
  deleteHorizonMs?: bigint;
}

/**
 * Encodes the records of `original` that survive cleaning as one batch (see above). `records`
 * must be in offset order inside [baseOffset, baseOffset + lastOffsetDelta] (RangeError
 * otherwise). With no records the result is Kafka's empty batch header: no records, no
 * compression, both timestamps the original maxTimestamp (kept for a producer's last sequence).
 */
export function encodeRetainedBatch(original: RecordBatchHeader, records: readonly Record[], opts: RetainedBatchOptions = {}): Buffer {
  const baseOffset = original.baseOffset;
  const lastOffset = baseOffset + BigInt(original.lastOffsetDelta);
  let previous = baseOffset - 1n;
  for (const r of records) {
    if (r.offset <= previous || r.offset > lastOffset) {
      throw new RangeError(`record offset ${r.offset} is out of order or outside the batch [${baseOffset}, ${lastOffset}]`);
    }
    previous = r.offset;
  }
  const logAppendTime = original.timestampType === 'LogAppendTime';
  let attributes = original.attributes & (Attributes.TIMESTAMP_TYPE_LOG_APPEND | Attributes.TRANSACTIONAL | Attributes.CONTROL);
  let baseTimestamp: bigint;
  let maxTimestamp: bigint;
  let compression: number = CompressionType.NONE;
  if (records.length === 0) {
    baseTimestamp = maxTimestamp = original.maxTimestamp;
  } else {
    compression = original.compression;
    const horizon = opts.deleteHorizonMs ?? deleteHorizonOf(original);
    if (horizon !== undefined) attributes |= DELETE_HORIZON_FLAG;
    baseTimestamp = horizon ?? records[0]!.timestamp;
    if (logAppendTime) {
      maxTimestamp = original.maxTimestamp;
    } else {
      maxTimestamp = records[0]!.timestamp;
      for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    }
  }
  attributes |= compression;

  const encoded = records.map((r) => encodeRecord(r, baseOffset, baseTimestamp));
  let sectionLength = 0;
  for (const e of encoded) sectionLength += e.length;
  let section: Buffer = Buffer.allocUnsafe(sectionLength);
  let pos = 0;
  for (const e of encoded) pos += e.copy(section, pos);
  if (compression !== CompressionType.NONE) section = codecFor(compression).compress(section);

  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + section.length);
  section.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeBigInt64BE(baseOffset, BatchField.BASE_OFFSET);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.BATCH_LENGTH);
  out.writeInt32BE(original.partitionLeaderEpoch, BatchField.PARTITION_LEADER_EPOCH);
  out.writeInt8(MAGIC_V2, BatchField.MAGIC);
  out.writeInt16BE(attributes, BatchField.ATTRIBUTES);
  out.writeInt32BE(original.lastOffsetDelta, BatchField.LAST_OFFSET_DELTA);
  out.writeBigInt64BE(baseTimestamp, BatchField.BASE_TIMESTAMP);
  out.writeBigInt64BE(maxTimestamp, BatchField.MAX_TIMESTAMP);
  out.writeBigInt64BE(original.producerId, BatchField.PRODUCER_ID);
  out.writeInt16BE(original.producerEpoch, BatchField.PRODUCER_EPOCH);
  out.writeInt32BE(original.baseSequence, BatchField.BASE_SEQUENCE);
  out.writeInt32BE(records.length, BatchField.RECORDS_COUNT);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), BatchField.CRC);
  return out;
}

/** One record v2 (see recordBatch.ts) with its offset and timestamp relative to the new batch. */
function encodeRecord(r: Record, baseOffset: bigint, baseTimestamp: bigint): Buffer {
  const offsetDelta = Number(r.offset - baseOffset);
  const timestampDelta = r.timestamp - baseTimestamp;
  const headerKeys = r.headers.map((h) => Buffer.from(h.key, 'utf8'));
  let body = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
  body += r.key === null ? 1 : sizeOfVarint(r.key.length) + r.key.length;
  body += r.value === null ? 1 : sizeOfVarint(r.value.length) + r.value.length;
  body += sizeOfVarint(r.headers.length);
  r.headers.forEach((h, i) => {
    body += sizeOfVarint(headerKeys[i]!.length) + headerKeys[i]!.length;
    body += h.value === null ? 1 : sizeOfVarint(h.value.length) + h.value.length;
  });
  const buf = Buffer.allocUnsafe(sizeOfVarint(body) + body);
  let pos = writeVarint(buf, 0, body);
  buf[pos++] = r.attributes & 0xff;
  pos = writeVarlong(buf, pos, timestampDelta);
  pos = writeVarint(buf, pos, offsetDelta);
  pos = writeBytes(buf, pos, r.key);
  pos = writeBytes(buf, pos, r.value);
  pos = writeVarint(buf, pos, r.headers.length);
  r.headers.forEach((h, i) => {
    pos = writeBytes(buf, pos, headerKeys[i]!);
    pos = writeBytes(buf, pos, h.value);
  });
  return buf;
}

function writeBytes(buf: Buffer, pos: number, bytes: Buffer | null): number {
  if (bytes === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, bytes.length);
  return pos + bytes.copy(buf, pos);
}
