/**
 * Reads the protocol's primitive types (Kafka's `Readable`/`ByteBufferAccessor`): big-endian fixed
 * ints, zigzag varints, unsigned varints, classic (int16/int32 length) and compact (unsigned varint
 * length + 1) strings, bytes and array counts, and 16-byte UUIDs.
 *
 * Every length is checked against the bytes that remain before anything is allocated, so a frame
 * that claims a 2 GiB string or a billion array elements fails fast with a KafkaDecodeError.
 */
// The varint module alone: pure, so the codec does not load gRPC or the compression codecs.
import { Reader as RecordReader } from '@samsa/protocol/varint';
import { KafkaDecodeError } from './errors.js';
import { uuidToString } from './uuid.js';

/**
 * The fixed-width and zigzag reads are @samsa/protocol's (one big-endian reader for the record
 * format and the wire format); this class adds the wire format's own types and answers malformed
 * input with a KafkaDecodeError instead of CORRUPT_MESSAGE.
 */
export class Reader extends RecordReader {
  constructor(buf: Buffer, start = 0, end = buf.length) {
    // A start or end past the buffer (a size prefix that lies) reads as truncated, not as a RangeError.
    const last = Math.min(end, buf.length);
    super(buf, Math.min(start, last), last);
  }

  protected override corrupt(kind: 'truncated' | 'invalid', message: string): Error {
    return kind === 'truncated'
      ? new KafkaDecodeError('truncated', `truncated: ${message}`)
      : new KafkaDecodeError('invalid-varint', message);
  }

  int8(): number {
    return this.readInt8();
  }
  bool(): boolean {
    return this.readInt8() !== 0;
  }
  int16(): number {
    return this.readInt16();
  }
  uint16(): number {
    return this.readUint16();
  }
  int32(): number {
    return this.readInt32();
  }
  uint32(): number {
    return this.readUint32();
  }
  int64(): bigint {
    return this.readInt64();
  }
  float64(): number {
    return this.readFloat64();
  }

  uuid(): string {
    this.need(16, 'uuid');
    const s = uuidToString(this.buf.subarray(this.pos, this.pos + 16));
    this.pos += 16;
    return s;
  }

  /** Unsigned LEB128 of at most 32 bits (5 bytes); a sixth byte or bits past 32 are invalid. */
  unsignedVarint(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new KafkaDecodeError('truncated', `truncated unsigned varint at offset ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (i === 4 && b > 0x0f)
        throw new KafkaDecodeError('invalid-varint', `unsigned varint longer than 32 bits at offset ${this.pos - 1}`);
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new KafkaDecodeError('invalid-varint', `unsigned varint longer than 5 bytes at offset ${this.pos}`);
  }

  /** Zigzag-encoded signed 32-bit varint (the record format's varint). */
  varint(): number {
    return this.readVarint();
  }

  /** Zigzag-encoded signed 64-bit varint (varlong), at most 10 bytes. */
  varlong(): bigint {
    return this.readVarlong();
  }

  private take(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Length of a classic (int16) or compact (uvarint N+1) string; -1 means null. */
  private stringLength(compact: boolean): number {
    if (compact) return this.unsignedVarint() - 1;
    return this.int16();
  }

  nullableString(compact: boolean): string | null {
    const n = this.stringLength(compact);
    if (n < 0) {
      if (n === -1) return null;
      throw new KafkaDecodeError('negative-length', `string length ${n} at offset ${this.pos}`);
    }
    return this.take(n, 'string').toString('utf8');
  }

  string(compact: boolean): string {
    const s = this.nullableString(compact);
    if (s === null) throw new KafkaDecodeError('invalid-value', `null where a non-nullable string is required (offset ${this.pos})`);
    return s;
  }

  /** Bytes are returned as a view of the frame (no copy): records go to the log verbatim. */
  nullableBytes(compact: boolean): Buffer | null {
    const n = compact ? this.unsignedVarint() - 1 : this.int32();
    if (n < 0) {
      if (n === -1) return null;
      throw new KafkaDecodeError('negative-length', `bytes length ${n} at offset ${this.pos}`);
    }
    return this.take(n, 'bytes');
  }

  bytes(compact: boolean): Buffer {
    const b = this.nullableBytes(compact);
    if (b === null) throw new KafkaDecodeError('invalid-value', `null where non-nullable bytes are required (offset ${this.pos})`);
    return b;
  }

  /**
   * An array count (-1 = null). Each element takes at least `minElementSize` bytes, so a count the
   * remaining bytes cannot hold is rejected before any element is allocated.
   */
  arrayLength(compact: boolean, minElementSize: number): number {
    const n = compact ? this.unsignedVarint() - 1 : this.int32();
    if (n < -1) throw new KafkaDecodeError('negative-length', `array length ${n} at offset ${this.pos}`);
    if (n > 0 && n * Math.max(1, minElementSize) > this.remaining) {
      throw new KafkaDecodeError(
        'oversized',
        `array of ${n} elements cannot fit in the ${this.remaining} bytes that remain (offset ${this.pos})`,
      );
    }
    return n;
  }

  raw(n: number): Buffer {
    return this.take(n, 'raw bytes');
  }
}
