import { describe, expect, it } from 'vitest';
import { ControlRecordType, SamsaProtocolError, decodeRecordsReadCommitted, encodeControlBatch, encodeRecordBatch } from '../src/index.js';
import { Rng } from './helpers/rng.js';

const txn = (pid: bigint, offset: bigint, value: string) =>
  encodeRecordBatch([{ value: Buffer.from(value), timestamp: 1n }], {
    baseOffset: offset,
    producerId: pid,
    producerEpoch: 0,
    baseSequence: 0,
    isTransactional: true,
  });
const plain = (offset: bigint, value: string) => encodeRecordBatch([{ value: Buffer.from(value), timestamp: 1n }], { baseOffset: offset });
const end = (pid: bigint, offset: bigint, commit: boolean) =>
  encodeControlBatch({
    type: commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
    coordinatorEpoch: 0,
    producerId: pid,
    producerEpoch: 0,
    timestamp: 1n,
    baseOffset: offset,
  });

describe('decodeRecordsReadCommitted', () => {
  it('drops an aborted producer from its first offset up to its ABORT marker, and keeps its later transaction', () => {
    const buf = Buffer.concat([
      plain(0n, 'p0'),
      txn(1n, 1n, 'a1'),
      txn(2n, 2n, 'c2'),
      end(1n, 3n, false),
      end(2n, 4n, true),
      txn(1n, 5n, 'c5'),
      end(1n, 6n, true),
    ]);
    const values = decodeRecordsReadCommitted(buf, [{ producerId: 1n, firstOffset: 1n }]).map((r) => r.value?.toString());
    expect(values).toEqual(['p0', 'c2', 'c5']);
    // read_uncommitted-like input (no aborted list) keeps everything but the markers.
    expect(decodeRecordsReadCommitted(buf, []).map((r) => r.value?.toString())).toEqual(['p0', 'a1', 'c2', 'c5']);
  });

  it('an aborted transaction that began before the fetch offset still drops its batches in range', () => {
    const buf = Buffer.concat([txn(1n, 10n, 'a10'), end(1n, 11n, false), plain(12n, 'p12')]);
    expect(decodeRecordsReadCommitted(buf, [{ producerId: 1n, firstOffset: 3n }]).map((r) => r.value?.toString())).toEqual(['p12']);
  });

  it('fuzz: mutated input decodes or throws a SamsaProtocolError (seeded)', () => {
    const rng = new Rng(447);
    const base = Buffer.concat([txn(1n, 0n, 'a'), end(1n, 1n, false), plain(2n, 'b')]);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(base);
      for (let f = 0; f < 1 + rng.int(3); f++) b[rng.int(b.length)] = rng.int(256);
      try {
        decodeRecordsReadCommitted(b.subarray(0, rng.int(b.length + 1)), [{ producerId: 1n, firstOffset: 0n }]);
      } catch (err) {
        expect(err).toBeInstanceOf(SamsaProtocolError);
      }
    }
  });
});
