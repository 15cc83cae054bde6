/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) bit for bit, so a key lands on the
 * same partition as with the Java client's default partitioner. Java's int arithmetic wraps at 32
 * bits: Math.imul for `*`, `>>>` where Java uses `>>>`, and `| 0` keeps results signed.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

const utf8 = new TextEncoder();

/** The signed 32-bit murmur2 hash of `data` (a string is hashed as its UTF-8 bytes, like Java's getBytes(UTF_8)). */
export function murmur2(data: Uint8Array | string): number {
  const bytes = typeof data === 'string' ? utf8.encode(data) : data;
  const length = bytes.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = bytes[i4]! | (bytes[i4 + 1]! << 8) | (bytes[i4 + 2]! << 16) | (bytes[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // Java's switch falls through from 3 to 1; the ifs below mirror that.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= bytes[tail + 2]! << 16;
  if (rest >= 2) h ^= bytes[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= bytes[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit. Not Math.abs, which differs for negatives and for -2^31. */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array | string, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > 0x7fffffff) {
    throw new RangeError(`numPartitions must be an integer from 1 to 2^31-1, got ${numPartitions}`);
  }
  return toPositive(murmur2(key)) % numPartitions;
}
