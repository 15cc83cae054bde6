/**
 * encodeRetainedBatch: what the log cleaner writes for a batch it keeps only some records of (the
 * compaction topic configs are tested in metadata's topicConfig.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  CompressionType,
  DELETE_HORIZON_FLAG,
  decodeRecordBatch,
  deleteHorizonOf,
  encodeRecordBatch,
  encodeRetainedBatch,
  hasCodec,
  setBaseOffset,
  setPartitionLeaderEpoch,
  verifyBatchCrc,
} from '../src/index.js';

function original(compression: CompressionType = CompressionType.NONE): Buffer {
  const batch = encodeRecordBatch(
    [
      { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 1_000n, headers: [{ key: 'h', value: Buffer.from('x') }] },
      { key: Buffer.from('b'), value: null, timestamp: 1_005n },
      { key: Buffer.from('c'), value: Buffer.from('3'), timestamp: 990n },
      { key: Buffer.from('d'), value: Buffer.from('4'), timestamp: 1_010n },
    ],
    { compression, producerId: 77n, producerEpoch: 2, baseSequence: 100 },
  );
  setBaseOffset(batch, 0, 500n);
  setPartitionLeaderEpoch(batch, 0, 9);
  return batch;
}

describe('encodeRetainedBatch', () => {
  it.each(
    [CompressionType.NONE, CompressionType.GZIP, CompressionType.LZ4, CompressionType.ZSTD, CompressionType.SNAPPY].filter((c) =>
      hasCodec(c),
    ),
  )('keeps offsets, timestamps, headers and the batch fields with codec %i', (compression) => {
    const { header, records } = decodeRecordBatch(original(compression));
    const out = encodeRetainedBatch(header, [records[1]!, records[2]!]);
    expect(verifyBatchCrc(out)).toBe(true);
    const decoded = decodeRecordBatch(out);
    expect(decoded.header).toMatchObject({
      baseOffset: 500n,
      lastOffsetDelta: 3,
      recordCount: 2,
      partitionLeaderEpoch: 9,
      producerId: 77n,
      producerEpoch: 2,
      baseSequence: 100,
      compression,
      timestampType: 'CreateTime',
      maxTimestamp: 1_005n,
    });
    expect(deleteHorizonOf(decoded.header)).toBeUndefined();
    expect(decoded.records.map((r) => [r.offset, r.key!.toString(), r.value?.toString() ?? null, r.timestamp])).toEqual([
      [501n, 'b', null, 1_005n],
      [502n, 'c', '3', 990n],
    ]);
    const withHeaders = decodeRecordBatch(encodeRetainedBatch(header, [records[0]!])).records[0]!;
    expect(withHeaders.headers).toEqual([{ key: 'h', value: Buffer.from('x') }]);
  });

  it('stamps a delete horizon into baseTimestamp with attributes bit 6, keeping every record timestamp', () => {
    const { header, records } = decodeRecordBatch(original());
    const out = decodeRecordBatch(encodeRetainedBatch(header, records, { deleteHorizonMs: 90_000_000n }));
    expect(out.header.attributes & DELETE_HORIZON_FLAG).toBe(DELETE_HORIZON_FLAG);
    expect(deleteHorizonOf(out.header)).toBe(90_000_000n);
    expect(out.records.map((r) => r.timestamp)).toEqual([1_000n, 1_005n, 990n, 1_010n]);
    expect(out.header.maxTimestamp).toBe(1_010n);
    // Rewriting again keeps the horizon.
    expect(deleteHorizonOf(decodeRecordBatch(encodeRetainedBatch(out.header, out.records.slice(1))).header)).toBe(90_000_000n);
  });

  it('with no records is the empty header: same offsets and producer fields, no compression', () => {
    const { header } = decodeRecordBatch(original(CompressionType.GZIP));
    const out = encodeRetainedBatch(header, []);
    expect(out.length).toBe(61);
    expect(decodeRecordBatch(out).header).toMatchObject({
      baseOffset: 500n,
      lastOffsetDelta: 3,
      recordCount: 0,
      compression: CompressionType.NONE,
      producerId: 77n,
      baseSequence: 100,
      baseTimestamp: 1_010n,
      maxTimestamp: 1_010n,
    });
  });

  it('refuses records out of order or outside the batch', () => {
    const { header, records } = decodeRecordBatch(original());
    expect(() => encodeRetainedBatch(header, [records[2]!, records[1]!])).toThrow(RangeError);
    expect(() => encodeRetainedBatch(header, [{ ...records[0]!, offset: 504n }])).toThrow(RangeError);
  });
});
