/** dump-log's formatting of segment bytes: batches, records, a CRC mismatch and a torn tail. */
import { encodeRecordBatch } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { dumpSegment } from '../src/dumpLog/format.js';

const batch = (baseOffset: bigint, values: string[]) =>
  encodeRecordBatch(
    values.map((v, i) => ({
      key: i === 0 ? Buffer.from('k') : null,
      value: Buffer.from(v),
      timestamp: 1_000n + BigInt(i),
      headers: i === 0 ? [{ key: 'h', value: Buffer.from('x') }] : [],
    })),
    { baseOffset, partitionLeaderEpoch: 3 },
  );

describe('dump-log', () => {
  it('prints one line per batch and, with printData, one per record', () => {
    const { text, invalidBatches } = dumpSegment(Buffer.concat([batch(0n, ['a', 'b']), batch(2n, ['c'])]), { printData: true });
    expect(invalidBatches).toBe(0);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Log starting offset: 0');
    expect(lines[1]).toMatch(
      /^baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 3 isTransactional: false isControl: false position: 0 CreateTime: 1001 size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/,
    );
    expect(lines[2]).toBe('| offset: 0 CreateTime: 1000 keySize: 1 valueSize: 1 sequence: -1 headerKeys: [h] key: k payload: a');
    expect(lines[3]).toBe('| offset: 1 CreateTime: 1001 keySize: -1 valueSize: 1 sequence: -1 headerKeys: [] payload: b');
    expect(lines[4]).toMatch(/^baseOffset: 2 lastOffset: 2 count: 1 .* position: \d+ /);
    expect(
      dumpSegment(batch(0n, ['a']), { printData: false })
        .text.split('\n')
        .filter(Boolean),
    ).toHaveLength(2);
  });

  it('marks a batch whose CRC does not match and reports a torn tail without throwing', () => {
    const second = batch(1n, ['tampered']);
    second[second.length - 1] ^= 0xff;
    const bytes = Buffer.concat([batch(0n, ['a']), second, Buffer.from([0, 0, 0])]);
    const { text, invalidBatches } = dumpSegment(bytes, { printData: true });
    expect(invalidBatches).toBe(1);
    expect(text).toMatch(/^baseOffset: 1 .* isvalid: false$/m);
    expect(text).not.toContain('tampered');
    expect(text).toContain('Found 3 invalid bytes at the end of the segment (a partial batch header)');
  });
});
