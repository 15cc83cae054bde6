/**
 * Volume, not speed: a producer-sized stream of records through the builder and back through
 * decodeRecords, as a fetch answer would carry it. Deliberately untimed (no assertions on
 * throughput; machines differ) — it guards the growth, concatenation and offset arithmetic paths.
 */
import { describe, expect, it } from 'vitest';
import { CompressionType, RecordBatchBuilder, decodeRecords, iterateBatches, validateProducedBatch } from '../src/index.js';

const RECORDS = 200_000;
const PER_BATCH = 5_000;

function produce(compression: CompressionType): Buffer {
  const value = Buffer.alloc(100);
  const key = Buffer.alloc(8);
  const batches: Buffer[] = [];
  let clock = 1_700_000_000_000n;
  for (let base = 0; base < RECORDS; base += PER_BATCH) {
    const builder = new RecordBatchBuilder({ compression, baseOffset: BigInt(base), now: () => clock++ });
    for (let i = base; i < base + PER_BATCH; i++) {
      key.writeUInt32BE(i, 4);
      value.writeUInt32BE(i, 0);
      builder.append({ key, value });
    }
    const batch = builder.build();
    validateProducedBatch(batch);
    batches.push(batch);
  }
  return Buffer.concat(batches);
}

describe.each([
  ['none', CompressionType.NONE],
  ['gzip', CompressionType.GZIP],
])('200,000 records of 100 bytes (%s)', (_name, compression) => {
  it('come back whole and in order from a concatenated fetch answer', () => {
    const fetched = produce(compression);
    expect([...iterateBatches(fetched)]).toHaveLength(RECORDS / PER_BATCH);
    const records = decodeRecords(fetched);
    expect(records).toHaveLength(RECORDS);
    for (let i = 0; i < RECORDS; i++) {
      const r = records[i]!;
      if (
        r.offset !== BigInt(i) ||
        r.value!.readUInt32BE(0) !== i ||
        r.key!.readUInt32BE(4) !== i ||
        r.timestamp !== 1_700_000_000_000n + BigInt(i)
      ) {
        expect.fail(`record ${i} came back as offset ${r.offset}, timestamp ${r.timestamp}`);
      }
    }
  });
});
