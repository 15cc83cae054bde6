/**
 * Zigzag varints as Kafka's Record v2 uses them: `varint` for int32 fields, `varlong` for int64
 * fields (the timestamp delta). Zigzag maps small negatives to small unsigned values; the unsigned
 * value is then written 7 bits per byte, least significant group first, high bit = "more follows".
 *
 * Writers write into a caller-sized Buffer (use sizeOfVarint / sizeOfVarlong first) and return the
 * new offset; they do not grow or bounds-check, because the hot path sizes once per record.
 * The Reader bounds-checks every read and throws CORRUPT_MESSAGE, never a RangeError.
 */
import { protocolError } from './errors.js';
import { INT64_MAX, INT64_MIN } from './int64.js';

const BIG_INT32_MIN = -0x80000000n;
const BIG_INT32_MAX = 0x7fffffffn;

function isInt32(value: number): boolean {
  return (value | 0) === value;
}

/** Bytes needed for the zigzag varint of an int32. */
export function sizeOfVarint(value: number): number {
  let zz = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (zz > 0x7f) {
    size++;
    zz >>>= 7;
  }
  return size;
}

/** Bytes needed for the zigzag varlong of an int64; throws RangeError outside the int64 range. */
export function sizeOfVarlong(value: bigint): number {
  if (value >= BIG_INT32_MIN && value <= BIG_INT32_MAX) return sizeOfVarint(Number(value));
  let zz = zigzag64(value);
  let size = 1;
  while (zz > 0x7fn) {
    size++;
    zz >>= 7n;
  }
  return size;
}

/** Writes the zigzag varint of an int32 at `pos`; returns the offset after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  if (!isInt32(value)) throw new RangeError(`varint value ${value} is not an int32`);
  let zz = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zz > 0x7f) {
    buf[pos++] = (zz & 0x7f) | 0x80;
    zz >>>= 7;
  }
  buf[pos++] = zz;
  return pos;
}

/** Writes the zigzag varlong of an int64 at `pos`; returns the offset after it. */
export function writeVarlong(buf: Buffer, pos: number, value: bigint): number {
  // Nearly every timestamp delta fits an int32, whose zigzag bytes are the same as the int64's.
  if (value >= BIG_INT32_MIN && value <= BIG_INT32_MAX) return writeVarint(buf, pos, Number(value));
  let zz = zigzag64(value);
  while (zz > 0x7fn) {
    buf[pos++] = Number(zz & 0x7fn) | 0x80;
    zz >>= 7n;
  }
  buf[pos++] = Number(zz);
  return pos;
}

function zigzag64(value: bigint): bigint {
  if (value > INT64_MAX || value < INT64_MIN) throw new RangeError(`varlong value ${value} is outside the int64 range`);
  return BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
}

/**
 * A cursor over `buf[pos, end)`. Every read checks the bounds and throws CORRUPT_MESSAGE when the
 * data runs out or is malformed, so decoders built on it cannot crash on hostile input.
 */
export class Reader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    if (pos < 0 || end > buf.length || pos > end)
      throw new RangeError(`reader window [${pos}, ${end}) is outside a buffer of ${buf.length} bytes`);
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /**
   * The error for bytes that run out (`truncated`) or are malformed (`invalid`): CORRUPT_MESSAGE
   * here; a subclass that decodes another layer (the Kafka wire codec) answers with its own error.
   */
  protected corrupt(_kind: 'truncated' | 'invalid', message: string): Error {
    return protocolError('CORRUPT_MESSAGE', message);
  }

  need(n: number, what: string): void {
    if (this.end - this.pos < n)
      throw this.corrupt('truncated', `${what} at byte ${this.pos} needs ${n} bytes, ${this.end - this.pos} remain`);
  }

  /** Checks that `n` bytes remain and steps over them; returns where they start. */
  private advance(n: number, what: string): number {
    this.need(n, what);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  // The fixed-width big-endian reads Kafka's wire format and Record v2 both use.
  readInt8(): number {
    return this.buf.readInt8(this.advance(1, 'int8'));
  }
  readInt16(): number {
    return this.buf.readInt16BE(this.advance(2, 'int16'));
  }
  readUint16(): number {
    return this.buf.readUInt16BE(this.advance(2, 'uint16'));
  }
  readInt32(): number {
    return this.buf.readInt32BE(this.advance(4, 'int32'));
  }
  readUint32(): number {
    return this.buf.readUInt32BE(this.advance(4, 'uint32'));
  }
  readInt64(): bigint {
    return this.buf.readBigInt64BE(this.advance(8, 'int64'));
  }
  readFloat64(): number {
    return this.buf.readDoubleBE(this.advance(8, 'float64'));
  }

  readVarint(): number {
    const { buf, end } = this;
    let pos = this.pos;
    let zz = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) throw this.corrupt('truncated', `varint at byte ${this.pos} runs past the end of the data`);
      const b = buf[pos++]!;
      // The fifth byte carries only the top 4 bits of the 32.
      if (shift === 28 && b > 0x0f)
        throw this.corrupt('invalid', `varint at byte ${this.pos} is longer than 5 bytes or overflows an int32`);
      zz |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return (zz >>> 1) ^ -(zz & 1);
      }
    }
    throw this.corrupt('invalid', `varint at byte ${this.pos} is longer than 5 bytes`);
  }

  readVarlong(): bigint {
    const { buf, end } = this;
    let pos = this.pos;
    // Up to 7 bytes (49 bits) accumulate exactly in a number; longer values continue in bigint.
    let zz = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= end) throw this.corrupt('truncated', `varlong at byte ${this.pos} runs past the end of the data`);
      const b = buf[pos++]!;
      zz += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt(zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2);
      }
      scale *= 128;
    }
    let big = BigInt(zz);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (pos >= end) throw this.corrupt('truncated', `varlong at byte ${this.pos} runs past the end of the data`);
      const b = buf[pos++]!;
      // The tenth byte carries only the top bit of the 64.
      if (shift === 63n && b > 0x01)
        throw this.corrupt('invalid', `varlong at byte ${this.pos} is longer than 10 bytes or overflows an int64`);
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return (big >> 1n) ^ -(big & 1n);
      }
    }
    throw this.corrupt('invalid', `varlong at byte ${this.pos} is longer than 10 bytes`);
  }

  /** The next `n` bytes as a view into the underlying buffer (no copy). */
  readBytes(n: number): Buffer {
    if (n < 0) throw protocolError('CORRUPT_MESSAGE', `negative length ${n} at byte ${this.pos}`);
    this.need(n, 'bytes');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** varint length (-1 = null) then that many bytes, as a view. */
  readVarintBytes(): Buffer | null {
    const n = this.readVarint();
    if (n === -1) return null;
    return this.readBytes(n);
  }

  /** varint length then that many bytes of UTF-8 (null not allowed). */
  readVarintString(): string {
    const start = this.pos;
    const n = this.readVarint();
    if (n < 0) throw protocolError('CORRUPT_MESSAGE', `string at byte ${start} has invalid length ${n}`);
    this.need(n, 'string');
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
