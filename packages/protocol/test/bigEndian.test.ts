/**
 * BigEndianWriter/Reader (Kafka's classic encoding): every field round-trips, and any truncation or
 * garbage (seeded) fails with the caller's error naming the structure, never another exception.
 */
import { describe, expect, it } from 'vitest';
import { BigEndianReader, BigEndianWriter, SeededRng } from '../src/index.js';

class BadInput extends Error {}
const fail = (message: string): Error => new BadInput(message);

function sample(): Buffer {
  return new BigEndianWriter('sample', fail)
    .int16(-2)
    .int32(70_000)
    .int64(-(1n << 40n))
    .string('héllo')
    .string(null)
    .bytes(Buffer.from([1, 2, 3]))
    .bytes(null)
    .int32(2)
    .int32(7)
    .int32(9)
    .build();
}

function readSample(buf: Buffer): unknown[] {
  const r = new BigEndianReader(buf, 'sample', fail);
  const out: unknown[] = [r.int16(), r.int32(), r.int64(), r.string(), r.nullableString(), r.bytes(), r.nullableBytes()];
  const items: number[] = [];
  for (let i = r.count(4); i > 0; i--) items.push(r.int32());
  out.push(items, r.remaining);
  return out;
}

describe('BigEndianWriter and BigEndianReader', () => {
  it('round-trip every field in order', () => {
    expect(readSample(sample())).toEqual([-2, 70_000, -(1n << 40n), 'héllo', null, Buffer.from([1, 2, 3]), null, [7, 9], 0]);
  });

  it('refuse a string longer than int16 with the caller error', () => {
    expect(() => new BigEndianWriter('sample', fail).string('x'.repeat(0x8000))).toThrow(BadInput);
    expect(() => new BigEndianWriter().string('x'.repeat(0x8000))).toThrow(RangeError);
  });

  it('refuse a null where a value is required, and a count that cannot fit', () => {
    const nulls = new BigEndianWriter().string(null).bytes(null).build();
    const r = new BigEndianReader(nulls, 'thing', fail);
    expect(() => r.string()).toThrow(/thing: null where a string is required/);
    expect(() => r.bytes()).toThrow(BadInput);
    expect(() => new BigEndianReader(new BigEndianWriter().int32(1000).build(), 'list', fail).count(2)).toThrow(
      /list: bad array length 1000/,
    );
  });

  it('fail every truncation and seeded garbage with the caller error only (seeded)', () => {
    const whole = sample();
    for (let cut = 0; cut < whole.length; cut++) expect(() => readSample(whole.subarray(0, cut)), `cut ${cut}`).toThrow(BadInput);
    const rng = new SeededRng(13);
    for (let i = 0; i < 2000; i++) {
      const garbage = rng.bytes(rng.int(64));
      try {
        readSample(garbage);
      } catch (err) {
        expect(err, `seed 13 case ${i}`).toBeInstanceOf(BadInput);
      }
    }
  });
});
