/**
 * Serdes the DSL needs beyond @samsa/client's (bytes, string, json): Kafka's `Serdes.Long()`,
 * `Serdes.Integer()`, `Serdes.Double()`, and `WindowedSerdes` for windowed keys. Numbers are
 * big-endian as in Kafka so other clients read them; `long` carries a JS number (counts and sums stay
 * below 2^53) and rejects anything else.
 */
import type { Serde } from '@samsa/client';
import type { Windowed } from './record.js';

export class SerializationError extends Error {
  readonly code = 'SERIALIZATION_ERROR';
}

const long: Serde<number | null> = {
  serialize(value) {
    if (value === null) return null;
    if (!Number.isSafeInteger(value)) throw new SerializationError(`long serde: ${value} is not a safe integer`);
    const out = Buffer.alloc(8);
    out.writeBigInt64BE(BigInt(value));
    return out;
  },
  deserialize(bytes) {
    if (bytes === null) return null;
    if (bytes.length !== 8) throw new SerializationError(`long serde: expected 8 bytes, got ${bytes.length}`);
    const n = bytes.readBigInt64BE();
    // A JS number would round it silently; say so instead.
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
      throw new SerializationError(`long serde: ${n} does not fit a safe integer`);
    return Number(n);
  },
};

const int: Serde<number | null> = {
  serialize(value) {
    if (value === null) return null;
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31)
      throw new SerializationError(`int serde: ${value} is not an int32`);
    const out = Buffer.alloc(4);
    out.writeInt32BE(value);
    return out;
  },
  deserialize(bytes) {
    if (bytes === null) return null;
    if (bytes.length !== 4) throw new SerializationError(`int serde: expected 4 bytes, got ${bytes.length}`);
    return bytes.readInt32BE();
  },
};

const double: Serde<number | null> = {
  serialize(value) {
    if (value === null) return null;
    const out = Buffer.alloc(8);
    out.writeDoubleBE(value);
    return out;
  },
  deserialize(bytes) {
    if (bytes === null) return null;
    if (bytes.length !== 8) throw new SerializationError(`double serde: expected 8 bytes, got ${bytes.length}`);
    return bytes.readDoubleBE();
  },
};

/**
 * A windowed key as inner key bytes + 8-byte start + 8-byte end (Kafka's time-windowed serde writes
 * only the start; writing the end too lets one serde serve time and session windows).
 */
function windowed<K>(inner: Serde<K>): Serde<Windowed<K>> {
  return {
    serialize(value) {
      const key = inner.serialize(value.key) ?? Buffer.alloc(0);
      const out = Buffer.alloc(key.length + 16);
      key.copy(out, 0);
      out.writeBigInt64BE(BigInt(value.window.start), key.length);
      out.writeBigInt64BE(BigInt(value.window.end), key.length + 8);
      return out;
    },
    deserialize(bytes) {
      if (bytes === null || bytes.length < 16) throw new SerializationError('windowed serde: a windowed key has at least 16 bytes');
      const n = bytes.length - 16;
      return {
        key: inner.deserialize(bytes.subarray(0, n)),
        window: { start: Number(bytes.readBigInt64BE(n)), end: Number(bytes.readBigInt64BE(n + 8)) },
      };
    },
  };
}

export const streamsSerdes = { long, int, double, windowed } as const;
