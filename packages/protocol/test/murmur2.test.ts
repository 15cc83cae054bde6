import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, toPositive } from '../src/index.js';

describe('murmur2', () => {
  // The vectors from Kafka's own UtilsTest.testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j to %i as the Java client does', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
    expect(murmur2(key)).toBe(expected);
  });

  it('hashes every tail length (0-3 trailing bytes) and high bytes as signed Java ints', () => {
    const hashes = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => murmur2(new Uint8Array(n).fill(0xff)));
    for (const h of hashes) expect(h).toBe(h | 0);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('hashes a string as its UTF-8 bytes', () => {
    expect(murmur2('grüße 🚀')).toBe(murmur2(Buffer.from('grüße 🚀', 'utf8')));
  });
});

describe('toPositive and partitionForKey', () => {
  it('clears the sign bit rather than taking the absolute value', () => {
    expect(toPositive(5)).toBe(5);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-(2 ** 31))).toBe(0);
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
    expect(toPositive(-973932308)).not.toBe(973932308);
  });

  it('picks toPositive(murmur2(key)) % numPartitions', () => {
    expect(partitionForKey(Buffer.from('21'), 7)).toBe((-973932308 & 0x7fffffff) % 7);
    expect(partitionForKey(Buffer.from('foobar'), 1)).toBe(0);
    expect(partitionForKey(new Uint8Array(0), 50)).toBe(toPositive(murmur2(new Uint8Array(0))) % 50);
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionForKey(Buffer.from('k'), 0)).toThrow(RangeError);
    expect(() => partitionForKey(Buffer.from('k'), 2.5)).toThrow(RangeError);
    expect(() => partitionForKey(Buffer.from('k'), -3)).toThrow(RangeError);
  });
});
