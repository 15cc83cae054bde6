import { describe, expect, it } from 'vitest';
import { INT64_MAX, INT64_MIN, Reader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../src/index.js';
import { expectProtocolError } from './helpers/errors.js';
import { Rng } from './helpers/rng.js';

function varintBytes(value: number): number[] {
  const buf = Buffer.alloc(5);
  const end = writeVarint(buf, 0, value);
  expect(end).toBe(sizeOfVarint(value));
  return [...buf.subarray(0, end)];
}

function varlongBytes(value: bigint): number[] {
  const buf = Buffer.alloc(10);
  const end = writeVarlong(buf, 0, value);
  expect(end).toBe(sizeOfVarlong(value));
  return [...buf.subarray(0, end)];
}

const INT32_EDGES = [0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, 2 ** 31 - 1, -(2 ** 31)];
const INT64_EDGES = [
  0n,
  1n,
  -1n,
  63n,
  -64n,
  64n,
  -65n,
  (1n << 31n) - 1n,
  -(1n << 31n),
  1n << 31n,
  -(1n << 31n) - 1n,
  1n << 32n,
  -(1n << 32n),
  (1n << 53n) - 1n,
  1n << 53n,
  (1n << 53n) + 1n,
  -(1n << 53n),
  -(1n << 53n) - 1n,
  1n << 62n,
  -(1n << 62n),
  INT64_MAX,
  INT64_MIN,
  INT64_MAX - 1n,
  INT64_MIN + 1n,
];

describe('varint (zigzag int32)', () => {
  it('encodes the zigzag bytes Kafka specifies', () => {
    expect(varintBytes(0)).toEqual([0x00]);
    expect(varintBytes(-1)).toEqual([0x01]);
    expect(varintBytes(1)).toEqual([0x02]);
    expect(varintBytes(63)).toEqual([0x7e]);
    expect(varintBytes(-64)).toEqual([0x7f]);
    expect(varintBytes(64)).toEqual([0x80, 0x01]);
    expect(varintBytes(300)).toEqual([0xd8, 0x04]);
    expect(varintBytes(2 ** 31 - 1)).toEqual([0xfe, 0xff, 0xff, 0xff, 0x0f]);
    expect(varintBytes(-(2 ** 31))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it('round-trips the edges and random int32s', () => {
    const rng = new Rng(1);
    const values = [...INT32_EDGES];
    for (let i = 0; i < 5000; i++) values.push(rng.nextUint32() | 0, (rng.nextUint32() >> rng.int(32)) | 0);
    const buf = Buffer.alloc(values.length * 5);
    let pos = 0;
    for (const v of values) pos = writeVarint(buf, pos, v);
    const reader = new Reader(buf, 0, pos);
    for (const v of values) expect(reader.readVarint()).toBe(v);
    expect(reader.remaining).toBe(0);
  });

  it('rejects a value that is not an int32', () => {
    const buf = Buffer.alloc(10);
    expect(() => writeVarint(buf, 0, 2 ** 31)).toThrow(RangeError);
    expect(() => writeVarint(buf, 0, -(2 ** 31) - 1)).toThrow(RangeError);
    expect(() => writeVarint(buf, 0, 1.5)).toThrow(RangeError);
  });

  it('reports malformed or truncated varints as CORRUPT_MESSAGE', () => {
    expectProtocolError(() => new Reader(Buffer.from([])).readVarint());
    expectProtocolError(() => new Reader(Buffer.from([0x80, 0x80])).readVarint());
    // six bytes, and a fifth byte carrying more than 32 bits
    expectProtocolError(() => new Reader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).readVarint());
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])).readVarint());
    // the window ends before the buffer does
    expectProtocolError(() => new Reader(Buffer.from([0x80, 0x01]), 0, 1).readVarint());
  });
});

describe('varlong (zigzag int64)', () => {
  it('encodes the zigzag bytes Kafka specifies, up to 10 bytes', () => {
    expect(varlongBytes(0n)).toEqual([0x00]);
    expect(varlongBytes(-1n)).toEqual([0x01]);
    expect(varlongBytes(1n << 31n)).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(varlongBytes(INT64_MAX)).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(varlongBytes(INT64_MIN)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('matches varint bytes for every value in the int32 range', () => {
    for (const v of INT32_EDGES) expect(varlongBytes(BigInt(v))).toEqual(varintBytes(v));
  });

  it('round-trips the edges (0, -1, ±2^31, ±2^53, int64 min/max) and random int64s', () => {
    const rng = new Rng(2);
    const values = [...INT64_EDGES];
    for (let i = 0; i < 20000; i++) values.push(rng.int64());
    const buf = Buffer.alloc(values.length * 10);
    let pos = 0;
    for (const v of values) pos = writeVarlong(buf, pos, v);
    const reader = new Reader(buf, 0, pos);
    for (const v of values) expect(reader.readVarlong()).toBe(v);
    expect(reader.remaining).toBe(0);
  });

  it('sizes every length from 1 to 10 bytes at the right boundaries', () => {
    for (let bytes = 1; bytes <= 9; bytes++) {
      const largest = (1n << BigInt(7 * bytes - 1)) - 1n; // zigzag doubles, so one bit less
      expect(sizeOfVarlong(largest)).toBe(bytes);
      expect(sizeOfVarlong(-largest - 1n)).toBe(bytes);
      expect(sizeOfVarlong(largest + 1n)).toBe(bytes + 1);
    }
  });

  it('rejects values outside int64 instead of wrapping them', () => {
    const buf = Buffer.alloc(12);
    expect(() => writeVarlong(buf, 0, INT64_MAX + 1n)).toThrow(RangeError);
    expect(() => sizeOfVarlong(INT64_MIN - 1n)).toThrow(RangeError);
  });

  it('reports malformed or truncated varlongs as CORRUPT_MESSAGE', () => {
    expectProtocolError(() => new Reader(Buffer.from([])).readVarlong());
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).readVarlong());
    expectProtocolError(() => new Reader(Buffer.from(new Array(10).fill(0xff).concat([0x01]))).readVarlong());
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])).readVarlong());
  });
});

describe('Reader', () => {
  it('reads fixed-width fields, nullable bytes and strings, and never reads past its window', () => {
    const buf = Buffer.alloc(64);
    let pos = 0;
    pos = buf.writeInt8(-5, pos);
    pos = buf.writeInt16BE(-300, pos);
    pos = buf.writeInt32BE(-70000, pos);
    pos = buf.writeBigInt64BE(INT64_MIN, pos);
    pos = writeVarint(buf, pos, -1);
    pos = writeVarint(buf, pos, 3);
    pos += buf.write('abc', pos);
    pos = writeVarint(buf, pos, 4);
    pos += buf.write('héy', pos); // é is two bytes in UTF-8
    const r = new Reader(buf, 0, pos);
    expect(r.readInt8()).toBe(-5);
    expect(r.readInt16()).toBe(-300);
    expect(r.readInt32()).toBe(-70000);
    expect(r.readInt64()).toBe(INT64_MIN);
    expect(r.readVarintBytes()).toBeNull();
    expect(r.readVarintBytes()).toEqual(Buffer.from('abc'));
    expect(r.readVarintString()).toBe('héy');
    expect(r.remaining).toBe(0);
    expectProtocolError(() => r.readInt8());
    expectProtocolError(() => new Reader(buf, 0, 3).readInt32());
    expectProtocolError(() => new Reader(buf, 0, 7).readInt64());
    expectProtocolError(() => new Reader(Buffer.from([0x06, 0x61])).readVarintBytes()); // says 3 bytes, has 1
    expectProtocolError(() => new Reader(Buffer.from([0x01])).readVarintString()); // a null string
    expectProtocolError(() => new Reader(Buffer.from([0x03])).readVarintBytes()); // length -2
  });
});
