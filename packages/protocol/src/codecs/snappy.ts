/**
 * Snappy as Kafka frames it. Kafka's Java client wraps snappy in snappy-java's "xerial" stream
 * format: a 16-byte header (0x82 'SNAPPY' 0x00, int32 version 1, int32 compatible version 1) then
 * blocks of [int32 compressed length][raw snappy block], each block at most 32 KiB of input.
 * We write that framing (so Java consumers of old versions read us) and read both it and a bare
 * raw snappy block (librdkafka and some clients send raw). The block codec is `snappy` (napi-rs).
 */
import type * as SnappyModule from 'snappy';
import type { CompressionCodec } from '../compression.js';
import { lazyNative } from './native.js';

const snappyLib = lazyNative<typeof SnappyModule>('snappy', 'snappy');

/** 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00 */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
export const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size, which Kafka's SnappyOutputStream uses. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

function rawCompress(data: Buffer): Buffer {
  return snappyLib().compressSync(data);
}

function rawDecompress(data: Buffer): Buffer {
  return snappyLib().uncompressSync(data, { asBuffer: true }) as Buffer;
}

/** Xerial-framed snappy, as Kafka's Java producer writes it. */
export function xerialCompress(data: Buffer, blockSize = XERIAL_BLOCK_SIZE): Buffer {
  const blocks: Buffer[] = [];
  const header = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  blocks.push(header);
  for (let pos = 0; pos < data.length; pos += blockSize) {
    const block = rawCompress(data.subarray(pos, Math.min(data.length, pos + blockSize)));
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length, 0);
    blocks.push(length, block);
  }
  return Buffer.concat(blocks);
}

export function xerialDecompress(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) throw new Error(`xerial snappy: truncated block length at byte ${pos}`);
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || length > data.length - pos)
      throw new Error(`xerial snappy: block at byte ${pos - 4} declares ${length} bytes, ${data.length - pos} remain`);
    out.push(rawDecompress(data.subarray(pos, pos + length)));
    pos += length;
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

export const snappyCodec: CompressionCodec = {
  compress: (data) => xerialCompress(data),
  decompress: (data) => (isXerialFramed(data) ? xerialDecompress(data) : rawDecompress(data)),
};
