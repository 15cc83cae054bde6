import { describe, expect, it } from 'vitest';
import { KafkaDecodeError, Reader, Writer, ZERO_UUID, uuidToBytes, uuidToString } from '../src/index.js';

function roundTrip<T>(write: (w: Writer) => void, read: (r: Reader) => T): { value: T; bytes: Buffer } {
  const w = new Writer(1);
  write(w);
  const bytes = Buffer.from(w.finish());
  const r = new Reader(bytes);
  const value = read(r);
  expect(r.remaining).toBe(0);
  return { value, bytes };
}

describe('primitive types', () => {
  it('fixed-width ints are big-endian; int64 is a bigint', () => {
    expect(
      roundTrip(
        (w) => w.int16(-2),
        (r) => r.int16(),
      ).bytes,
    ).toEqual(Buffer.from([0xff, 0xfe]));
    expect(
      roundTrip(
        (w) => w.int32(0x01020304),
        (r) => r.int32(),
      ).bytes,
    ).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(
      roundTrip(
        (w) => w.int64(-1n),
        (r) => r.int64(),
      ).value,
    ).toBe(-1n);
    expect(
      roundTrip(
        (w) => w.int64(2n ** 62n + 5n),
        (r) => r.int64(),
      ).value,
    ).toBe(2n ** 62n + 5n);
    expect(
      roundTrip(
        (w) => w.uint32(0xfffffffe),
        (r) => r.uint32(),
      ).value,
    ).toBe(0xfffffffe);
    expect(
      roundTrip(
        (w) => w.float64(1.5),
        (r) => r.float64(),
      ).value,
    ).toBe(1.5);
    expect(
      roundTrip(
        (w) => w.bool(true),
        (r) => r.bool(),
      ).value,
    ).toBe(true);
  });

  it('unsigned varints are LEB128 up to 32 bits', () => {
    expect(
      roundTrip(
        (w) => w.unsignedVarint(300),
        (r) => r.unsignedVarint(),
      ).bytes,
    ).toEqual(Buffer.from([0xac, 0x02]));
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 0xffffffff]) {
      expect(
        roundTrip(
          (w) => w.unsignedVarint(v),
          (r) => r.unsignedVarint(),
        ).value,
      ).toBe(v);
    }
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).unsignedVarint()).toThrow(KafkaDecodeError);
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])).unsignedVarint()).toThrow(/longer than 32 bits/);
    expect(() => new Reader(Buffer.from([0x80])).unsignedVarint()).toThrow(/truncated/);
  });

  it('varint and varlong are zigzag', () => {
    expect(
      roundTrip(
        (w) => w.varint(-1),
        (r) => r.varint(),
      ).bytes,
    ).toEqual(Buffer.from([0x01]));
    expect(
      roundTrip(
        (w) => w.varint(1),
        (r) => r.varint(),
      ).bytes,
    ).toEqual(Buffer.from([0x02]));
    for (const v of [0, -64, 63, -2147483648, 2147483647])
      expect(
        roundTrip(
          (w) => w.varint(v),
          (r) => r.varint(),
        ).value,
      ).toBe(v);
    for (const v of [0n, -1n, 1n, -(2n ** 63n), 2n ** 63n - 1n, 123456789012345n]) {
      expect(
        roundTrip(
          (w) => w.varlong(v),
          (r) => r.varlong(),
        ).value,
      ).toBe(v);
    }
    expect(() => new Reader(Buffer.alloc(11, 0xff)).varlong()).toThrow(KafkaDecodeError);
  });

  it('classic and compact strings, nullable and not', () => {
    expect(
      roundTrip(
        (w) => w.nullableString('hé', false),
        (r) => r.string(false),
      ).bytes,
    ).toEqual(Buffer.from([0, 3, 0x68, 0xc3, 0xa9]));
    expect(
      roundTrip(
        (w) => w.nullableString('ab', true),
        (r) => r.string(true),
      ).bytes,
    ).toEqual(Buffer.from([3, 0x61, 0x62]));
    expect(
      roundTrip(
        (w) => w.nullableString(null, false),
        (r) => r.nullableString(false),
      ).bytes,
    ).toEqual(Buffer.from([0xff, 0xff]));
    expect(
      roundTrip(
        (w) => w.nullableString(null, true),
        (r) => r.nullableString(true),
      ).bytes,
    ).toEqual(Buffer.from([0]));
    expect(() => new Reader(Buffer.from([0xff, 0xff])).string(false)).toThrow(/non-nullable/);
    expect(() => new Reader(Buffer.from([0xff, 0xfe])).nullableString(false)).toThrow(/string length -2/);
    expect(() => new Reader(Buffer.from([0, 9, 1])).string(false)).toThrow(/truncated/);
  });

  it('classic and compact bytes; a null is -1 / 0', () => {
    expect(
      roundTrip(
        (w) => w.nullableBytes(Buffer.from([7]), false),
        (r) => r.bytes(false),
      ).bytes,
    ).toEqual(Buffer.from([0, 0, 0, 1, 7]));
    expect(
      roundTrip(
        (w) => w.nullableBytes(Buffer.from([7]), true),
        (r) => r.bytes(true),
      ).bytes,
    ).toEqual(Buffer.from([2, 7]));
    expect(
      roundTrip(
        (w) => w.nullableBytes(null, false),
        (r) => r.nullableBytes(false),
      ).value,
    ).toBeNull();
    expect(
      roundTrip(
        (w) => w.nullableBytes(null, true),
        (r) => r.nullableBytes(true),
      ).value,
    ).toBeNull();
  });

  it('array counts larger than the remaining bytes are refused before allocation', () => {
    const huge = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    expect(() => new Reader(huge).arrayLength(false, 4)).toThrow(/cannot fit/);
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xfe])).arrayLength(false, 4)).toThrow(/array length -2/);
    expect(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])).arrayLength(false, 4)).toBe(-1);
    expect(new Reader(Buffer.from([0])).arrayLength(true, 4)).toBe(-1);
    expect(new Reader(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0])).arrayLength(true, 4)).toBe(2);
  });

  it('uuids are 22-character base64url text, as Kafka prints them', () => {
    const bytes = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const text = uuidToString(bytes);
    expect(text).toHaveLength(22);
    expect(uuidToBytes(text)).toEqual(bytes);
    expect(uuidToString(Buffer.alloc(16))).toBe(ZERO_UUID);
    expect(
      roundTrip(
        (w) => w.uuid(text),
        (r) => r.uuid(),
      ).value,
    ).toBe(text);
    expect(() => uuidToBytes('not-a-uuid')).toThrow(/not a Kafka uuid/);
  });
});
