/**
 * Seeded fuzzing of the decoders that read bytes from outside: `_schemas` records (any producer
 * can write to the topic) and Confluent's wire framing. Garbage is skipped or refused with a typed
 * error; it never throws anything else and never breaks the state machine.
 */
import { seededRandom } from '@samsa/client';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, schemaKey } from '../src/records.js';
import { WireFormatError, decodeFrame, decodeMessageIndexes, encodeMessageIndexes } from '../src/serdes.js';
import { RegistryState } from '../src/state.js';

const SEED = 4242;

function randomJson(random: () => number, depth = 0): unknown {
  const r = random();
  if (depth > 3 || r < 0.3)
    return [null, true, 1, -1, 2 ** 40, 'x', '', 'SCHEMA', 'CONFIG', 'MODE', 'WRITER', 1.5][Math.floor(random() * 12)];
  if (r < 0.5) return Array.from({ length: Math.floor(random() * 3) }, () => randomJson(random, depth + 1));
  const keys = [
    'keytype',
    'subject',
    'version',
    'id',
    'schema',
    'deleted',
    'epoch',
    'mode',
    'compatibilityLevel',
    'instanceId',
    'url',
    'leaseMs',
    'references',
    'magic',
  ];
  return Object.fromEntries(
    Array.from({ length: Math.floor(random() * 8) }, () => [keys[Math.floor(random() * keys.length)]!, randomJson(random, depth + 1)]),
  );
}

function mutate(random: () => number, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < 1 + Math.floor(random() * 4) && out.length > 0; i++)
    out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
  return random() < 0.2 ? out.subarray(0, Math.floor(random() * out.length)) : out;
}

describe('fuzz', () => {
  it('decodeRecord + apply: random and mutated records never throw and leave a consistent state', () => {
    const random = seededRandom(SEED);
    const state = new RegistryState();
    const valid = encodeRecord({ key: schemaKey('s', 1), value: { subject: 's', version: 1, id: 1, schema: '"int"', deleted: false } });
    for (let i = 0; i < 5000; i++) {
      let key: Buffer | null;
      let value: Buffer | null;
      if (random() < 0.5) {
        key = Buffer.from(JSON.stringify(randomJson(random)));
        value = random() < 0.1 ? null : Buffer.from(JSON.stringify(randomJson(random)));
      } else {
        key = mutate(random, valid.key);
        value = mutate(random, valid.value!);
      }
      const decoded = decodeRecord(key, value);
      if (decoded) expect(() => state.apply(decoded, i)).not.toThrow();
    }
    for (const versions of state.subjects.values()) for (const v of versions.values()) expect(typeof v.schema).toBe('string');
    expect(Number.isSafeInteger(state.maxId)).toBe(true);
  });

  it('decodeFrame refuses every malformed frame with WireFormatError', () => {
    const random = seededRandom(SEED + 1);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * (random() < 0.3 ? 2 : 256))));
      try {
        const { id, payload } = decodeFrame(bytes);
        expect(bytes[0]).toBe(0);
        expect(id).toBe(bytes.readUInt32BE(1));
        expect(payload.length).toBe(bytes.length - 5);
      } catch (err) {
        expect(err).toBeInstanceOf(WireFormatError);
      }
    }
  });

  it('decodeMessageIndexes: random bytes decode to valid indexes or WireFormatError; encode/decode round-trips', () => {
    const random = seededRandom(SEED + 2);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 8) }, () => Math.floor(random() * 256)));
      try {
        const { indexes, length } = decodeMessageIndexes(bytes);
        expect(length).toBeLessThanOrEqual(bytes.length);
        for (const x of indexes) expect(Number.isInteger(x) && x >= 0).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(WireFormatError);
      }
      const idx = Array.from({ length: 1 + Math.floor(random() * 4) }, () => Math.floor(random() * 100_000));
      const encoded = encodeMessageIndexes(idx);
      expect(decodeMessageIndexes(encoded)).toEqual({ indexes: idx, length: encoded.length });
    }
  });
});
