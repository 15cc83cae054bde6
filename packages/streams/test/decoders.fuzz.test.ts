/**
 * Seeded fuzzing of every byte decoder in the package: serdes and store changelog layouts. Random
 * bytes either decode or fail with a coded error (SERIALIZATION_ERROR / INVALID_STATE_STORE); never a
 * RangeError or TypeError from reading past the end.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, serdes } from '@samsa/client';
import { KeyValueStore, SessionStore, WindowStore, streamsSerdes, timestamped } from '@samsa/streams';
import { outerKeySerde, outerValueSerde } from '../src/dsl/joins.js';

const SEED = Number(process.env.STREAMS_FUZZ_SEED ?? 22);

function randomBytes(rnd: () => number): Buffer {
  const n = Math.floor(rnd() * 40);
  const bytes = Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  // Often start with zero bytes, as small big-endian numbers and timestamps do.
  if (rnd() < 0.3) bytes.fill(0, 0, Math.min(3, n));
  return bytes;
}

function decodesOrCodedError(fn: () => unknown): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    expect((err as { code?: string }).code, `${(err as Error).name}: ${(err as Error).message}`).toMatch(
      /^(SERIALIZATION_ERROR|INVALID_STATE_STORE)$/,
    );
    return 'error';
  }
}

describe(`decoders under random bytes (seed ${SEED})`, () => {
  it('serdes and changelog layouts decode or fail with a coded error', () => {
    const rnd = seededRandom(SEED);
    const S = serdes.string;
    const decoders: Record<string, (b: Buffer) => unknown> = {
      long: (b) => streamsSerdes.long.deserialize(b),
      int: (b) => streamsSerdes.int.deserialize(b),
      double: (b) => streamsSerdes.double.deserialize(b),
      windowed: (b) => streamsSerdes.windowed(S).deserialize(b),
      timestamped: (b) => timestamped(S).deserialize(b),
      outerKey: (b) => outerKeySerde(S).deserialize(b),
      outerValue: (b) => outerValueSerde(S, S).deserialize(b),
      kvRestore: (b) => new KeyValueStore('kv', S, S).restore(b, b),
      windowRestore: (b) => new WindowStore('w', S, S, { retentionMs: 10, windowSizeMs: 1, retainDuplicates: false }).restore(b, b),
      windowDupRestore: (b) => new WindowStore('w', S, S, { retentionMs: 10, windowSizeMs: 1, retainDuplicates: true }).restore(b, null),
      sessionRestore: (b) => new SessionStore('s', S, S, { retentionMs: 10 }).restore(b, b),
    };
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 3000; i++) {
      const bytes = randomBytes(rnd);
      for (const [name, decode] of Object.entries(decoders)) {
        const outcome = decodesOrCodedError(() => decode(bytes));
        if (!seen.has(name)) seen.set(name, new Set());
        seen.get(name)!.add(outcome);
      }
    }
    // Both outcomes happen for every decoder with a length rule, so the fuzz reaches both paths.
    for (const name of Object.keys(decoders).filter((n) => n !== 'kvRestore'))
      expect([...seen.get(name)!].sort(), name).toEqual(['error', 'ok']);
  });
});
