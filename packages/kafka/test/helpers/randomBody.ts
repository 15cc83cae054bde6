/**
 * Seeded random bodies for any schema and version, and an independent walk that checks a decoded
 * body against the body that was encoded: fields of the version come back equal, fields the
 * version lacks come back as their default.
 */
import { seededRandom } from '@samsa/protocol';
import { expect } from 'vitest';
import { inRange, uuidToString, type FieldSpec, type PrimitiveType } from '../../src/index.js';

/** The project's one seeded PRNG (mulberry32), so every failure replays from its seed. */
export const rng = seededRandom;

export type Rand = () => number;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz-_.0123456789é€';

function randomPrimitive(p: PrimitiveType, r: Rand): unknown {
  switch (p) {
    case 'int8':
      return int(r, -128, 127);
    case 'int16':
      return int(r, -32768, 32767);
    case 'uint16':
      return int(r, 0, 65535);
    case 'int32':
      return int(r, -2147483648, 2147483647);
    case 'uint32':
      return int(r, 0, 0xffffffff);
    case 'int64':
      return BigInt(int(r, -2147483648, 2147483647)) * BigInt(int(r, 1, 0x7fffffff));
    case 'float64':
      return r() * 1e6 - 5e5;
    case 'bool':
      return r() < 0.5;
    case 'uuid':
      return uuidToString(Buffer.from(Array.from({ length: 16 }, () => int(r, 0, 255))));
    case 'string':
      return Array.from({ length: int(r, 0, 12) }, () => ALPHABET[int(r, 0, ALPHABET.length - 1)]).join('');
    case 'bytes':
    case 'records':
      return Buffer.from(Array.from({ length: int(r, 0, 40) }, () => int(r, 0, 255)));
  }
}

export function randomStruct(fields: readonly FieldSpec[], version: number, r: Rand, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (inRange(version, f.nullableVersions) && r() < 0.2) {
      out[f.name] = null;
      continue;
    }
    if (r() < 0.1) continue; // left out: the encoder must use the default
    if (f.type === 'struct') out[f.name] = randomStruct(f.fields!, version, r, depth + 1);
    else if (f.type === '[]struct') {
      out[f.name] = Array.from({ length: int(r, 0, depth > 2 ? 1 : 3) }, () => randomStruct(f.fields!, version, r, depth + 1));
    } else if (f.type.startsWith('[]')) {
      out[f.name] = Array.from({ length: int(r, 0, 4) }, () => randomPrimitive(f.type.slice(2) as PrimitiveType, r));
    } else out[f.name] = randomPrimitive(f.type as PrimitiveType, r);
  }
  return out;
}

/**
 * Checks `decoded` against `input` for one version: present fields come back equal, a left-out
 * field and a field the version lacks come back as the default `defaultsOf(fields)` gives.
 */
export function expectRoundTrip(
  fields: readonly FieldSpec[],
  version: number,
  input: Record<string, unknown>,
  decoded: Record<string, unknown>,
  defaultsOf: (fields: readonly FieldSpec[]) => Record<string, unknown>,
  path = '',
): void {
  const defaults = defaultsOf(fields);
  for (const f of fields) {
    const at = `${path}${f.name}`;
    const want = input[f.name];
    const got = decoded[f.name];
    if (!inRange(version, f.versions) || want === undefined) {
      expect(got, `${at} (absent in v${version} or left out) takes its default`).toEqual(defaults[f.name]);
      continue;
    }
    if (want === null) {
      expect(got, at).toBeNull();
      continue;
    }
    if (f.type === 'struct') {
      expectRoundTrip(f.fields!, version, want as Record<string, unknown>, got as Record<string, unknown>, defaultsOf, `${at}.`);
    } else if (f.type === '[]struct') {
      const w = want as Record<string, unknown>[];
      const g = got as Record<string, unknown>[];
      expect(g, at).toHaveLength(w.length);
      w.forEach((el, i) => expectRoundTrip(f.fields!, version, el, g[i]!, defaultsOf, `${at}[${i}].`));
    } else {
      expect(got, at).toEqual(want);
    }
  }
}
