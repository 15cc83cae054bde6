import { describe, expect, it } from 'vitest';
import {
  Attributes,
  ControlRecordType,
  SamsaProtocolError,
  decodeControlBatch,
  decodeControlRecordType,
  decodeEndTxnMarkerValue,
  decodeRecords,
  encodeControlBatch,
  encodeRecordBatch,
  readBatchHeader,
  verifyBatchCrc,
} from '../src/index.js';
import { expectProtocolError } from './helpers/errors.js';
import { Rng } from './helpers/rng.js';

describe('control batches (transaction markers)', () => {
  it('lays out a COMMIT marker as Kafka does: key version+type, value version+coordinatorEpoch', () => {
    const buf = encodeControlBatch({
      type: ControlRecordType.COMMIT,
      coordinatorEpoch: 7,
      producerId: 42n,
      producerEpoch: 3,
      timestamp: 1000n,
      baseOffset: 10n,
    });
    const header = readBatchHeader(buf);
    expect(header.attributes & (Attributes.CONTROL | Attributes.TRANSACTIONAL)).toBe(Attributes.CONTROL | Attributes.TRANSACTIONAL);
    expect(header.isControl).toBe(true);
    expect(header.producerId).toBe(42n);
    expect(header.producerEpoch).toBe(3);
    expect(header.baseSequence).toBe(-1);
    expect(header.recordCount).toBe(1);
    expect(verifyBatchCrc(buf)).toBe(true);
    const m = decodeControlBatch(buf);
    expect(m.type).toBe(ControlRecordType.COMMIT);
    expect(m.coordinatorEpoch).toBe(7);
    expect(m.header.baseOffset).toBe(10n);
  });

  it('decodes the key and value bytes literally', () => {
    expect(decodeControlRecordType(Buffer.from([0, 0, 0, 0]))).toBe(ControlRecordType.ABORT);
    expect(decodeControlRecordType(Buffer.from([0, 0, 0, 1]))).toBe(ControlRecordType.COMMIT);
    // A newer key version with extra trailing fields is read by what we know.
    expect(decodeControlRecordType(Buffer.from([0, 1, 0, 1, 9, 9]))).toBe(ControlRecordType.COMMIT);
    expect(decodeEndTxnMarkerValue(Buffer.from([0, 0, 0, 0, 1, 2]))).toBe(258);
  });

  it('is skipped by decodeRecords, as consumers never see markers', () => {
    const data = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1n }], {
      producerId: 1n,
      producerEpoch: 0,
      baseSequence: 0,
      isTransactional: true,
    });
    const marker = encodeControlBatch({
      type: ControlRecordType.ABORT,
      coordinatorEpoch: 0,
      producerId: 1n,
      producerEpoch: 0,
      timestamp: 2n,
      baseOffset: 1n,
    });
    const records = decodeRecords(Buffer.concat([data, marker]));
    expect(records.map((r) => r.value?.toString())).toEqual(['x']);
  });

  it('refuses a non-control batch, a short key, an unknown type, a null value', () => {
    const plain = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1n }]);
    expectProtocolError(() => decodeControlBatch(plain));
    expectProtocolError(() => decodeControlRecordType(Buffer.from([0, 0, 0])));
    expectProtocolError(() => decodeControlRecordType(null));
    expectProtocolError(() => decodeControlRecordType(Buffer.from([0, 0, 0, 2])));
    expectProtocolError(() => decodeControlRecordType(Buffer.from([0xff, 0xff, 0, 1])));
    expectProtocolError(() => decodeEndTxnMarkerValue(null));
    expectProtocolError(() => decodeEndTxnMarkerValue(Buffer.from([0, 0, 0, 0, 1])));
  });

  it('round-trips random markers (seeded)', () => {
    const rng = new Rng(18);
    for (let i = 0; i < 500; i++) {
      const type = rng.int(2) === 0 ? ControlRecordType.ABORT : ControlRecordType.COMMIT;
      const coordinatorEpoch = rng.int(0x7fffffff);
      const producerId = BigInt(rng.int(1 << 30));
      const producerEpoch = rng.int(0x7fff);
      const baseOffset = BigInt(rng.int(1 << 30));
      const m = decodeControlBatch(
        encodeControlBatch({ type, coordinatorEpoch, producerId, producerEpoch, timestamp: BigInt(rng.int(1 << 30)), baseOffset }),
      );
      expect([m.type, m.coordinatorEpoch, m.header.producerId, m.header.producerEpoch, m.header.baseOffset]).toEqual([
        type,
        coordinatorEpoch,
        producerId,
        producerEpoch,
        baseOffset,
      ]);
    }
  });

  it('fuzz: a mutated marker decodes or throws CORRUPT_MESSAGE, never anything else (seeded)', () => {
    const rng = new Rng(1818);
    const base = encodeControlBatch({
      type: ControlRecordType.COMMIT,
      coordinatorEpoch: 5,
      producerId: 9n,
      producerEpoch: 1,
      timestamp: 3n,
    });
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(base);
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) buf[rng.int(buf.length)] = rng.int(256);
      const cut = rng.chance(0.2) ? buf.subarray(0, rng.int(buf.length)) : buf;
      try {
        const m = decodeControlBatch(cut);
        expect([0, 1]).toContain(m.type);
      } catch (err) {
        expect(err).toBeInstanceOf(SamsaProtocolError);
      }
    }
  });
});
