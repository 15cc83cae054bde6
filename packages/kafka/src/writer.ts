/**
 * Writes the protocol's primitive types (Kafka's `Writable`) into one growing buffer, so an encoded
 * message is a single allocation plus doublings rather than a chunk per field. With a zero-copy
 * threshold, raw byte ranges at least that large (record sets) are not copied: they become chunks
 * of their own between the written bytes, for a socket write of several buffers (Kafka's
 * `MultiRecordsSend` does the same with its record sends).
 */
import { KafkaEncodeError } from './errors.js';
import { uuidToBytes } from './uuid.js';

export class Writer {
  private buf: Buffer;
  /** Bytes written into `buf`; `length` counts the flushed chunks too. */
  pos = 0;
  private readonly chunks: Buffer[] = [];
  private flushed = 0;

  constructor(
    initialSize = 256,
    private readonly zeroCopyThreshold = Infinity,
  ) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.flushed + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }
  bool(v: boolean): void {
    this.int8(v ? 1 : 0);
  }
  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }
  uint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }
  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
  int64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.pos);
    this.pos += 8;
  }
  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  uuid(v: string): void {
    this.raw(uuidToBytes(v));
  }

  unsignedVarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new KafkaEncodeError(`unsigned varint out of range: ${v}`);
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  varint(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new KafkaEncodeError(`varint out of range: ${v}`);
    this.unsignedVarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  private writeLength(n: number, compact: boolean, wide: boolean): void {
    if (compact) this.unsignedVarint(n + 1);
    else if (wide) this.int32(n);
    else this.int16(n);
  }

  nullableString(v: string | null, compact: boolean): void {
    if (v === null) return this.writeLength(-1, compact, false);
    const n = Buffer.byteLength(v, 'utf8');
    if (!compact && n > 0x7fff) throw new KafkaEncodeError(`string of ${n} bytes is longer than int16 allows`);
    this.writeLength(n, compact, false);
    this.ensure(n);
    this.buf.write(v, this.pos, n, 'utf8');
    this.pos += n;
  }

  nullableBytes(v: Buffer | null, compact: boolean): void {
    if (v === null) return this.writeLength(-1, compact, true);
    this.writeLength(v.length, compact, true);
    this.raw(v);
  }

  arrayLength(n: number, compact: boolean): void {
    this.writeLength(n, compact, true);
  }

  raw(b: Buffer | Uint8Array): void {
    if (b.length >= this.zeroCopyThreshold) {
      this.chunks.push(this.buf.subarray(0, this.pos), Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.flushed += this.pos + b.length;
      this.buf = Buffer.allocUnsafe(256);
      this.pos = 0;
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Reserves 4 bytes at the very start for a size written later (the frame's size prefix). */
  reserveInt32(): number {
    if (this.length !== 0) throw new Error('reserveInt32 only at the start of a writer');
    this.ensure(4);
    this.pos += 4;
    return 0;
  }

  patchInt32(at: number, v: number): void {
    // Chunks are views of the buffers they were cut from, so the first one is patched in place.
    (this.chunks[0] ?? this.buf).writeInt32BE(v, at);
  }

  /** The written bytes as one buffer (a view when nothing was flushed; the writer is done). */
  finish(): Buffer {
    if (this.chunks.length === 0) return this.buf.subarray(0, this.pos);
    return Buffer.concat([...this.chunks, this.buf.subarray(0, this.pos)], this.length);
  }

  /** The written bytes as chunks, large raw ranges uncopied (the writer is done). */
  finishChunks(): Buffer[] {
    const out = [...this.chunks];
    if (this.pos > 0) out.push(this.buf.subarray(0, this.pos));
    return out;
  }
}
