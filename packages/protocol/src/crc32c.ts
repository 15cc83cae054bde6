/** CRC32C (Castagnoli), as Kafka's RecordBatch v2 uses, computed natively by @node-rs/crc32. */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC32C of `data`, continuing from `initial` (0 for a fresh checksum); an unsigned 32-bit number. */
export function crc32c(data: Uint8Array, initial = 0): number {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return nativeCrc32c(buf, initial) >>> 0;
}
