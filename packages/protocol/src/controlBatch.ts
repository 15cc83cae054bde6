/**
 * Control batches: the COMMIT/ABORT transaction markers a transaction coordinator has every
 * partition leader append (KIP-98; Kafka's ControlRecordType and EndTransactionMarker). A control
 * batch has attributes TRANSACTIONAL|CONTROL, the producer's id and epoch, and one record:
 *
 *   key:   version int16 (0), type int16 (0 = ABORT, 1 = COMMIT)
 *   value: version int16 (0), coordinatorEpoch int32
 *
 * Readers accept a newer key/value version as Kafka does (fields they know come first) but never
 * a short one, and an unknown type is refused rather than guessed.
 */
import { CompressionType, type RecordBatchHeader } from './batchHeader.js';
import { protocolError } from './errors.js';
import { decodeRecordBatch, encodeRecordBatch } from './recordBatch.js';

export const ControlRecordType = { ABORT: 0, COMMIT: 1 } as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

export const CONTROL_RECORD_KEY_VERSION = 0;
export const END_TXN_MARKER_VALUE_VERSION = 0;

export interface EndTxnMarker {
  type: ControlRecordType;
  coordinatorEpoch: number;
}

export interface ControlBatchOptions extends EndTxnMarker {
  producerId: bigint;
  producerEpoch: number;
  /** The append time of the marker, epoch ms (the caller's clock). */
  timestamp: bigint;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}

export function encodeControlRecordKey(type: ControlRecordType): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(CONTROL_RECORD_KEY_VERSION, 0);
  key.writeInt16BE(type, 2);
  return key;
}

export function encodeEndTxnMarkerValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.alloc(6);
  value.writeInt16BE(END_TXN_MARKER_VALUE_VERSION, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

/** Reads a control record's type from its key; CORRUPT_MESSAGE on a short key or unknown type. */
export function decodeControlRecordType(key: Buffer | null): ControlRecordType {
  if (key === null || key.length < 4)
    throw protocolError('CORRUPT_MESSAGE', `control record key needs 4 bytes (version, type), got ${key === null ? 'null' : key.length}`);
  const version = key.readInt16BE(0);
  if (version < 0) throw protocolError('CORRUPT_MESSAGE', `control record key version ${version} is negative`);
  const type = key.readInt16BE(2);
  if (type !== ControlRecordType.ABORT && type !== ControlRecordType.COMMIT) {
    throw protocolError('CORRUPT_MESSAGE', `control record type ${type} is neither ABORT (0) nor COMMIT (1)`);
  }
  return type;
}

/** Reads the coordinator epoch of an end-transaction marker value. */
export function decodeEndTxnMarkerValue(value: Buffer | null): number {
  if (value === null || value.length < 6)
    throw protocolError(
      'CORRUPT_MESSAGE',
      `transaction marker value needs 6 bytes (version, coordinatorEpoch), got ${value === null ? 'null' : value.length}`,
    );
  const version = value.readInt16BE(0);
  if (version < 0) throw protocolError('CORRUPT_MESSAGE', `transaction marker value version ${version} is negative`);
  return value.readInt32BE(2);
}

/** One COMMIT or ABORT marker as a control batch ready to append (baseOffset stamped by the log). */
export function encodeControlBatch(opts: ControlBatchOptions): Buffer {
  return encodeRecordBatch(
    [{ key: encodeControlRecordKey(opts.type), value: encodeEndTxnMarkerValue(opts.coordinatorEpoch), timestamp: opts.timestamp }],
    {
      compression: CompressionType.NONE,
      baseOffset: opts.baseOffset ?? 0n,
      partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
      producerId: opts.producerId,
      producerEpoch: opts.producerEpoch,
      baseSequence: -1,
      isTransactional: true,
      isControl: true,
    },
  );
}

/**
 * The marker in the control batch at `pos`. CORRUPT_MESSAGE when the batch is not a control batch,
 * is not transactional, holds other than one record, or its key/value are malformed.
 */
export function decodeControlBatch(buf: Buffer, pos = 0): EndTxnMarker & { header: RecordBatchHeader } {
  const { header, records } = decodeRecordBatch(buf, pos);
  if (!header.isControl) throw protocolError('CORRUPT_MESSAGE', `batch at offset ${header.baseOffset} is not a control batch`);
  if (!header.isTransactional) throw protocolError('CORRUPT_MESSAGE', `control batch at offset ${header.baseOffset} is not transactional`);
  if (records.length !== 1)
    throw protocolError(
      'CORRUPT_MESSAGE',
      `control batch at offset ${header.baseOffset} holds ${records.length} records, a transaction marker holds one`,
    );
  const record = records[0]!;
  return { header, type: decodeControlRecordType(record.key), coordinatorEpoch: decodeEndTxnMarkerValue(record.value) };
}
