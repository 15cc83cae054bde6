/**
 * Seeded decoder fuzzing. Tens of thousands of frames — real KafkaJS and kcat requests and random
 * well-formed requests of every API version, mutated (bit flips, byte overwrites, truncation,
 * insertions, length fields set negative or huge, varints made endless), plus pure noise — go
 * through decodeRequestHeader + decodeRequest (and responses through decodeResponse). Each either
 * decodes or throws KafkaDecodeError; nothing else is thrown, and a decoded body never holds more
 * array elements or string bytes than the frame had bytes (no allocation from a forged count).
 * A failure prints its seed and case number; the seed replays it.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  API_SPECS,
  KafkaDecodeError,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  parseVersions,
  type ApiSpec,
} from '../src/index.js';
import { captureKafkaJs } from './helpers/kafkajsCapture.js';
import { randomStruct, rng, type Rand } from './helpers/randomBody.js';

const SEED = Number(process.env.KAFKA_FUZZ_SEED ?? 20261207);
// Each case takes seconds on a loaded 2-core machine; the bound only stops a hang.
const FUZZ_TIMEOUT_MS = 180_000;

const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function mutate(src: Buffer, r: Rand): Buffer {
  let b = Buffer.from(src);
  const rounds = int(r, 1, 4);
  for (let i = 0; i < rounds && b.length > 0; i++) {
    const at = int(r, 0, b.length - 1);
    switch (int(r, 0, 7)) {
      case 0:
        b[at]! ^= 1 << int(r, 0, 7);
        break;
      case 1:
        b[at] = int(r, 0, 255);
        break;
      case 2:
        b = b.subarray(0, at);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: int(r, 1, 8) }, () => int(r, 0, 255))), b.subarray(at)]);
        break;
      case 4:
        if (at + 2 <= b.length) b.writeInt16BE([-1, -2, 0x7fff, -32768][int(r, 0, 3)]!, at);
        break;
      case 5:
        if (at + 4 <= b.length) b.writeInt32BE([-1, -2, 0x7fffffff, -0x80000000, 0x00ffffff][int(r, 0, 4)]!, at);
        break;
      case 6:
        b.fill(0xff, at, Math.min(b.length, at + int(r, 1, 12)));
        break; // endless varints, -1s
      case 7:
        b = Buffer.concat([b.subarray(0, at), b.subarray(int(r, 0, b.length))]);
        break; // splice a copy of another part
    }
  }
  return b;
}

/** Counts array elements and string/bytes lengths in a decoded value. */
function weight(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return v.length; // UTF-16 units: never more than the UTF-8 bytes read
  if (Buffer.isBuffer(v)) return v.length;
  if (Array.isArray(v)) return v.length + v.reduce((s: number, x) => s + weight(x), 0);
  if (typeof v === 'object') return Object.entries(v).reduce((s, [k, x]) => s + (k === 'topicId' || k === 'uuid' ? 0 : weight(x)), 0);
  return 0;
}

type Outcome = 'decoded' | 'rejected';

function tryRequest(frame: Buffer, label: string): Outcome {
  try {
    const { header, bodyOffset } = decodeRequestHeader(frame);
    const body = decodeRequest(header.apiKey, header.apiVersion, frame, bodyOffset);
    // Every element and byte of the body came from the frame; uuids (fixed 16 bytes) are skipped.
    expect(weight(body), label).toBeLessThanOrEqual(frame.length);
    return 'decoded';
  } catch (err) {
    if (!(err instanceof KafkaDecodeError)) throw new Error(`${label}: ${String(err)}`, { cause: err });
    expect([35, 42], label).toContain(err.errorCode);
    return 'rejected';
  }
}

function versionsOf(spec: ApiSpec): number[] {
  const r = parseVersions(spec.validVersions);
  return Array.from({ length: r.max - r.min + 1 }, (_, i) => r.min + i);
}

let kafkajsFrames: Buffer[] = [];

beforeAll(async () => {
  const capture = await captureKafkaJs();
  const kcat = JSON.parse(readFileSync(new URL('./fixtures/kcat-frames.json', import.meta.url), 'utf8')) as {
    steps: { frames: { hex: string }[] }[];
  };
  // Real requests of two clients: KafkaJS live, librdkafka (kcat) from the committed capture.
  kafkajsFrames = [
    ...capture.broker.frames.map((f) => f.frame),
    ...kcat.steps.flatMap((s) => s.frames.map((f) => Buffer.from(f.hex, 'hex'))),
  ];
}, 90_000);

describe('decoder fuzzing (seed ' + SEED + ')', () => {
  it(
    'mutated KafkaJS and kcat requests decode or throw KafkaDecodeError',
    () => {
      expect(kafkajsFrames.length).toBeGreaterThan(20);
      const r = rng(SEED);
      const seen: Record<Outcome, number> = { decoded: 0, rejected: 0 };
      for (let i = 0; i < 20_000; i++) {
        const src = kafkajsFrames[i % kafkajsFrames.length]!;
        seen[tryRequest(mutate(src, r), `seed ${SEED} kafkajs case ${i}`)]++;
      }
      // Both outcomes occur: the mutations reach past the header, and some survive.
      expect(seen.rejected).toBeGreaterThan(1000);
      expect(seen.decoded).toBeGreaterThan(100);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated random requests of every API version decode or throw KafkaDecodeError',
    () => {
      const r = rng(SEED + 1);
      let cases = 0;
      for (const spec of API_SPECS as readonly ApiSpec[]) {
        for (const version of versionsOf(spec)) {
          for (let j = 0; j < 4; j++) {
            const wire = encodeRequest(
              { apiKey: spec.apiKey, apiVersion: version, correlationId: j, clientId: 'fuzz' },
              randomStruct(spec.request, version, r),
            );
            const frame = wire.subarray(4);
            expect(tryRequest(frame, `${spec.name} v${version} unmutated`)).toBe('decoded');
            for (let k = 0; k < 40; k++) tryRequest(mutate(frame, r), `seed ${SEED + 1} ${spec.name} v${version} case ${j}/${k}`), cases++;
          }
        }
      }
      expect(cases).toBeGreaterThan(30_000);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'random noise frames (with and without a plausible header) throw only KafkaDecodeError',
    () => {
      const r = rng(SEED + 2);
      const keys = (API_SPECS as readonly ApiSpec[]).map((s) => s.apiKey);
      for (let i = 0; i < 10_000; i++) {
        const noise = Buffer.from(Array.from({ length: int(r, 0, 64) }, () => int(r, 0, 255)));
        if (i % 2 === 0 && noise.length >= 4) {
          noise.writeInt16BE(keys[int(r, 0, keys.length - 1)]!, 0);
          noise.writeInt16BE(int(r, 0, 13), 2);
        }
        tryRequest(noise, `seed ${SEED + 2} noise case ${i}`);
      }
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated responses of every API version decode or throw KafkaDecodeError',
    () => {
      const r = rng(SEED + 3);
      for (const spec of API_SPECS as readonly ApiSpec[]) {
        for (const version of versionsOf(spec)) {
          const frame = encodeResponse(spec.apiKey, version, 9, randomStruct(spec.response, version, r)).subarray(4);
          for (let k = 0; k < 60; k++) {
            const m = mutate(frame, r);
            try {
              const { body } = decodeResponse(spec.apiKey, version, m);
              expect(weight(body)).toBeLessThanOrEqual(m.length);
            } catch (err) {
              if (!(err instanceof KafkaDecodeError))
                throw new Error(`seed ${SEED + 3} ${spec.name} v${version} case ${k}: ${String(err)}`, { cause: err });
            }
          }
        }
      }
    },
    FUZZ_TIMEOUT_MS,
  );
});
