/**
 * Kafka's classic (non-flexible) big-endian encoding, as its generated messages write it before
 * KIP-482's compact forms: int16/int32/int64, strings as int16 length + UTF-8 (-1 = null), bytes as
 * int32 length (-1 = null), arrays as int32 count. Used for what Kafka stores or passes as opaque
 * bytes in this layout: the __consumer_offsets records (broker) and the ConsumerProtocol
 * subscription and assignment (client). Each user names what it reads and the error it throws, so
 * bad bytes fail with that package's error and a sentence saying where.
 */

/** Makes the error thrown for malformed input (default: RangeError). */
export type FailWith = (message: string) => Error;

const rangeError: FailWith = (message) => new RangeError(message);

export class BigEndianWriter {
  private readonly chunks: Buffer[] = [];

  /** `what` names the structure in the error thrown for a string too long for int16. */
  constructor(
    private readonly what = 'value',
    private readonly fail: FailWith = rangeError,
  ) {}

  int16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(v);
    return this.raw(b);
  }

  int32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(v);
    return this.raw(b);
  }

  int64(v: bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(v);
    return this.raw(b);
  }

  /** int16 length + UTF-8; null as length -1. */
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > 0x7fff) throw this.fail(`string of ${bytes.length} bytes is too long for ${this.what}`);
    return this.int16(bytes.length).raw(bytes);
  }

  /** int32 length + bytes; null as length -1. */
  bytes(b: Uint8Array | null): this {
    return b === null ? this.int32(-1) : this.int32(b.length).raw(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  raw(b: Buffer): this {
    this.chunks.push(b);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export class BigEndianReader {
  private pos = 0;

  /** `what` names the structure in error messages. */
  constructor(
    private readonly buf: Buffer,
    private readonly what = 'value',
    private readonly fail: FailWith = rangeError,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw this.fail(`${this.what} truncated: needs ${n} byte(s) at ${this.pos} of ${this.buf.length}`);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw this.fail(`${this.what}: null where a string is required`);
    return s;
  }

  /** A copy of the bytes (the buffer may be a pooled network or file buffer), or null for length -1. */
  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) return null;
    this.need(n);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  bytes(): Buffer {
    const b = this.nullableBytes();
    if (b === null) throw this.fail(`${this.what}: null where bytes are required`);
    return b;
  }

  /**
   * An array's int32 count (-1, null, as 0). A count whose elements, at `minElementBytes` each,
   * cannot fit in what is left is garbage, not a reason to allocate.
   */
  count(minElementBytes = 1): number {
    const n = this.int32();
    if (n < 0) return 0;
    if (n * minElementBytes > this.remaining) throw this.fail(`${this.what}: bad array length ${n} with ${this.remaining} byte(s) left`);
    return n;
  }
}
