import { describe, expect, it } from 'vitest';
import { SeededRng } from '@samsa/protocol';
import { decodeTransactionLogRecord, encodeTransactionLogRecord } from '../../src/txn/records.js';
import { TXN_STATES, type TransactionLogRecord } from '../../src/txn/transactionCoordinatorState.js';

const sample: TransactionLogRecord = {
  transactionalId: 'orders-tx-1',
  value: {
    producerId: 4242n,
    lastProducerId: -1n,
    producerEpoch: 7,
    lastProducerEpoch: 6,
    txnTimeoutMs: 60_000,
    state: 'PrepareCommit',
    topicPartitions: [
      { topic: 'orders', partition: 3 },
      { topic: '__consumer_offsets', partition: 17 },
    ],
    txnStartTimestamp: 1_700_000_000_000,
    txnLastUpdateTimestamp: 1_700_000_000_500,
  },
};

describe('__transaction_state records', () => {
  it("round-trip a value and a tombstone; the key is Kafka's TransactionLogKey v0", () => {
    const { key, value } = encodeTransactionLogRecord(sample);
    expect(key.readInt16BE(0)).toBe(0);
    expect(key.readInt16BE(2)).toBe(Buffer.byteLength('orders-tx-1'));
    expect(decodeTransactionLogRecord(key, value)).toEqual(sample);
    const tomb = encodeTransactionLogRecord({ transactionalId: 'x', value: null });
    expect(tomb.value).toBeNull();
    expect(decodeTransactionLogRecord(tomb.key, null)).toEqual({ transactionalId: 'x', value: null });
  });

  it('round-trips every state (seeded)', () => {
    const rng = new SeededRng(98);
    for (let i = 0; i < 300; i++) {
      const record: TransactionLogRecord = {
        transactionalId: `t${rng.int(1000)}`,
        value: {
          producerId: BigInt(rng.int(1 << 30)),
          lastProducerId: rng.chance(0.5) ? -1n : BigInt(rng.int(1000)),
          producerEpoch: rng.int(32767),
          lastProducerEpoch: rng.int(32767) - 1,
          txnTimeoutMs: rng.int(900_000),
          state: TXN_STATES[rng.int(TXN_STATES.length)]!,
          topicPartitions: Array.from({ length: rng.int(4) }, () => ({ topic: `topic-${rng.int(9)}`, partition: rng.int(100) })),
          txnStartTimestamp: rng.int(1 << 30) - 1,
          txnLastUpdateTimestamp: rng.int(1 << 30),
        },
      };
      const { key, value } = encodeTransactionLogRecord(record);
      expect(decodeTransactionLogRecord(key, value)).toEqual(record);
    }
  });

  it('fuzz: a mutated or cut record decodes or throws RangeError, never anything else (seeded)', () => {
    const rng = new SeededRng(890);
    const { key, value } = encodeTransactionLogRecord(sample);
    for (let i = 0; i < 3000; i++) {
      const k = Buffer.from(key);
      const v = Buffer.from(value!);
      const target = rng.chance(0.3) ? k : v;
      target[rng.int(target.length)] = rng.int(256);
      try {
        decodeTransactionLogRecord(
          k.subarray(0, rng.chance(0.1) ? rng.int(k.length) : k.length),
          v.subarray(0, rng.chance(0.2) ? rng.int(v.length) : v.length),
        );
      } catch (err) {
        expect(err).toBeInstanceOf(RangeError);
      }
    }
    expect(() => decodeTransactionLogRecord(Buffer.concat([key, Buffer.from([0])]), value)).toThrow(RangeError);
    const badState = Buffer.from(value!);
    badState.writeInt16BE(99, 2 + 8 + 8 + 2 + 2 + 4);
    expect(() => decodeTransactionLogRecord(key, badState)).toThrow(/unknown transaction state 99/);
  });
});
