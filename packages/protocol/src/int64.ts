/**
 * Offsets, timestamps and producer ids are int64. Inside Samsa they are bigint; on the gRPC wire
 * the generated types carry them as decimal strings (proto-loader `longs: String`). These helpers
 * are the only place the two meet, so no offset is ever squeezed through a lossy JS number.
 */

export type Int64Wire = string | number | bigint | { toString(): string };

export const INT64_MAX = (1n << 63n) - 1n;
export const INT64_MIN = -(1n << 63n);

/** Parses a wire int64 (string, safe number, bigint or Long) into a bigint; throws on junk or overflow. */
export function toBigInt(value: Int64Wire | null | undefined, fallback = 0n): bigint {
  if (value === null || value === undefined || value === '') return fallback;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`int64 value ${value} is not a safe integer`);
    return BigInt(value);
  }
  const parsed = BigInt(value.toString());
  if (parsed > INT64_MAX || parsed < INT64_MIN) throw new RangeError(`int64 value ${parsed} is out of range`);
  return parsed;
}

/** Formats a bigint for the wire. */
export function toWire(value: bigint): string {
  return value.toString();
}
