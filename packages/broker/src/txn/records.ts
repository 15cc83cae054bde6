/**
 * The records of `__transaction_state` (layouts in README.md "Records out"): key = the
 * transactional id (Kafka's TransactionLogKey v0: version int16 0, transactional_id string), value
 * = the id's TransactionMetadata, null for the tombstone of an expired id. The value layout is
 * Samsa's own (it keeps lastProducerId and lastProducerEpoch, which a KIP-360 retry needs after a
 * failover). Integers big-endian; strings int16 length + UTF-8 (protocol's BigEndianWriter).
 */
import { BigEndianReader, BigEndianWriter } from '@samsa/protocol';
import { TXN_STATES, type TransactionLogRecord, type TransactionLogValue } from './transactionCoordinatorState.js';

export const TXN_KEY_VERSION = 0;
export const TXN_VALUE_VERSION = 0;

const WHAT = 'transaction log record';

export function encodeTransactionLogRecord(record: TransactionLogRecord): { key: Buffer; value: Buffer | null } {
  const key = new BigEndianWriter(WHAT).int16(TXN_KEY_VERSION).string(record.transactionalId).build();
  const v = record.value;
  if (v === null) return { key, value: null };
  const w = new BigEndianWriter(WHAT)
    .int16(TXN_VALUE_VERSION)
    .int64(v.producerId)
    .int64(v.lastProducerId)
    .int16(v.producerEpoch)
    .int16(v.lastProducerEpoch)
    .int32(v.txnTimeoutMs)
    .int16(TXN_STATES.indexOf(v.state))
    .int32(v.topicPartitions.length);
  for (const tp of v.topicPartitions) w.string(tp.topic).int32(tp.partition);
  w.int64(BigInt(v.txnStartTimestamp)).int64(BigInt(v.txnLastUpdateTimestamp));
  return { key, value: w.build() };
}

/** Decodes one record; throws RangeError on an unknown version, a bad state, trailing bytes or a short buffer. */
export function decodeTransactionLogRecord(key: Buffer, value: Buffer | null): TransactionLogRecord {
  const k = new BigEndianReader(key, WHAT);
  const keyVersion = k.int16();
  if (keyVersion !== TXN_KEY_VERSION) throw new RangeError(`${WHAT}: unknown key version ${keyVersion}`);
  const transactionalId = k.string();
  if (k.remaining !== 0) throw new RangeError(`${WHAT}: ${k.remaining} byte(s) after the key`);
  if (value === null) return { transactionalId, value: null };
  const r = new BigEndianReader(value, WHAT);
  const version = r.int16();
  if (version !== TXN_VALUE_VERSION) throw new RangeError(`${WHAT}: unknown value version ${version}`);
  const producerId = r.int64();
  const lastProducerId = r.int64();
  const producerEpoch = r.int16();
  const lastProducerEpoch = r.int16();
  const txnTimeoutMs = r.int32();
  const stateIndex = r.int16();
  const state = TXN_STATES[stateIndex];
  if (state === undefined) throw new RangeError(`${WHAT}: unknown transaction state ${stateIndex}`);
  const count = r.count(6);
  const topicPartitions = [];
  for (let i = 0; i < count; i++) topicPartitions.push({ topic: r.string(), partition: r.int32() });
  const txnStartTimestamp = Number(r.int64());
  const txnLastUpdateTimestamp = Number(r.int64());
  if (r.remaining !== 0) throw new RangeError(`${WHAT}: ${r.remaining} byte(s) after the value`);
  const out: TransactionLogValue = {
    producerId,
    lastProducerId,
    producerEpoch,
    lastProducerEpoch,
    txnTimeoutMs,
    state,
    topicPartitions,
    txnStartTimestamp,
    txnLastUpdateTimestamp,
  };
  return { transactionalId, value: out };
}
