/**
 * A seeded random walk over the log's operations checked against a trivial in-memory model:
 * appends of random batches, reads with random bounds, truncations, log start moves, retention,
 * flushes, clean reopens and crash reopens (with and without a torn last batch). A failure names
 * its seed and step; rerun that seed to replay it.
 */
import { cpSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecordBatch, iterateBatches } from '@samsa/protocol';
import { Log, type LogConfig } from '../../src/log/index.js';
import { manualClock, tempDir } from './helpers.js';
import { seededRandom } from '@samsa/protocol';

interface ModelBatch {
  base: bigint;
  values: string[];
  size: number;
}

const cleanups: (() => void)[] = [];
let current: Log | undefined;
afterEach(() => {
  current?.close();
  current = undefined;
  for (const c of cleanups.splice(0)) c();
});

function runSeed(seed: number, steps: number): void {
  const rnd = seededRandom(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const config: LogConfig = { segmentBytes: 600 + int(1500), indexIntervalBytes: int(300), retentionMs: -1 };
  const clock = manualClock();
  let { dir, cleanup } = tempDir('samsa-model-');
  cleanups.push(cleanup);
  let log = (current = Log.open(dir, config, { clock }));
  let batches: ModelBatch[] = [];
  let logStart = 0n;
  let leo = 0n;
  let epoch = 0;
  let step = 0;
  const where = (): string => `seed ${seed} step ${step}`;

  const checkAll = (): void => {
    expect(log.logEndOffset, where()).toBe(leo);
    expect(log.logStartOffset, where()).toBe(logStart);
    const expected: [bigint, string][] = [];
    for (const b of batches) b.values.forEach((v, i) => b.base + BigInt(i) >= logStart && expected.push([b.base + BigInt(i), v]));
    const actual: [bigint, string][] = [];
    let offset = logStart;
    while (offset < leo) {
      // Past the last batch (a gap before an empty active segment) there is nothing to read.
      if (!batches.some((b) => b.base + BigInt(b.values.length) > offset)) {
        expect(log.read(offset, 1000).records.length, where()).toBe(0);
        break;
      }
      const { records } = log.read(offset, 1 + int(3000));
      expect(records.length, where()).toBeGreaterThan(0);
      for (const r of decodeRecords(records)) if (r.offset >= offset) actual.push([r.offset, r.value!.toString()]);
      offset = actual.length ? actual[actual.length - 1]![0] + 1n : offset;
    }
    expect(actual, where()).toEqual(expected);
  };

  const reopenFrom = (at: string): void => {
    log = current = Log.open(at, config, { clock });
    dir = at;
  };

  for (step = 0; step < steps; step++) {
    const op = rnd();
    if (op < 0.45) {
      const count = 1 + int(5);
      const values = Array.from({ length: count }, (_, i) => `s${step}-${i}-${'x'.repeat(int(200))}`);
      if (rnd() < 0.05) epoch++;
      const records = values.map((v) => ({ value: Buffer.from(v), timestamp: BigInt(clock.now) }));
      if (rnd() < 0.3) {
        // As a follower: the leader's offsets, sometimes past a gap (a compacted leader).
        const base = leo + BigInt(rnd() < 0.5 ? 0 : int(4));
        const batch = encodeRecordBatch(records, { baseOffset: base, partitionLeaderEpoch: epoch });
        expect(log.appendAsFollower(batch), where()).toEqual({ firstOffset: base, lastOffset: base + BigInt(count - 1) });
        batches.push({ base, values, size: batch.length });
        leo = base + BigInt(count);
      } else {
        const batch = encodeRecordBatch(records);
        const { baseOffset } = log.appendAsLeader(batch, epoch);
        expect(baseOffset, where()).toBe(leo);
        batches.push({ base: leo, values, size: batch.length });
        leo += BigInt(count);
      }
    } else if (op < 0.7) {
      if (leo === logStart) continue;
      const fetchOffset = logStart + BigInt(int(Number(leo - logStart) + 1));
      const maxBytes = int(2500);
      const maxOffset = rnd() < 0.5 ? undefined : logStart + BigInt(int(Number(leo - logStart) + 2));
      const { records, firstOffset } = log.read(fetchOffset, maxBytes, maxOffset);
      const limit = maxOffset === undefined || maxOffset > leo ? leo : maxOffset;
      const holding = batches.find((b) => b.base + BigInt(b.values.length) > fetchOffset);
      if (!holding || fetchOffset >= limit || holding.base + BigInt(holding.values.length) > limit) {
        expect(records.length, where()).toBe(0);
        continue;
      }
      expect(firstOffset, where()).toBe(holding.base);
      let pos = 0;
      let i = batches.indexOf(holding);
      for (const { size, header } of iterateBatches(records)) {
        expect(header.baseOffset, where()).toBe(batches[i]!.base);
        expect(header.baseOffset + BigInt(header.lastOffsetDelta), where()).toBeLessThan(limit);
        pos += size;
        i++;
      }
      expect(pos, where()).toBe(records.length);
      if (records.length > holding.size) expect(records.length, where()).toBeLessThanOrEqual(maxBytes);
    } else if (op < 0.76) {
      if (leo === logStart) continue;
      const target = logStart + BigInt(int(Number(leo - logStart)));
      log.truncateTo(target);
      // The batch holding the target (or the first after it, past a gap) goes whole with all later ones;
      // the log ends at the end of the last batch left, or at its segment's base.
      // (The target may also lie past the last batch, in a gap before an empty active segment.)
      const holding = batches.find((b) => b.base + BigInt(b.values.length) > target);
      if (holding) batches = batches.filter((b) => b.base < holding.base);
      const prev = batches[batches.length - 1];
      const prevEnd = prev ? prev.base + BigInt(prev.values.length) : 0n;
      expect(log.logEndOffset, where()).toBeGreaterThanOrEqual(prevEnd);
      expect(log.logEndOffset, where()).toBeLessThanOrEqual(holding && holding.base < target ? holding.base : target);
      leo = log.logEndOffset;
      if (logStart > leo) logStart = leo;
    } else if (op < 0.8) {
      const target = logStart + BigInt(int(Number(leo - logStart) + 1));
      log.advanceLogStartOffset(target);
      logStart = target;
    } else if (op < 0.84) {
      log.deleteRetentionSegments();
      const first = log.segments[0]!.baseOffset;
      if (first > logStart) logStart = first;
    } else if (op < 0.88) {
      log.close();
      reopenFrom(dir);
    } else if (op < 0.94) {
      // Crash: reopen a copy of the directory as it is now, optionally with the last batch torn.
      const image = tempDir('samsa-model-crash-');
      cleanups.push(image.cleanup);
      cpSync(dir, image.dir, { recursive: true });
      log.close();
      const lastSegment = log.segments[log.segments.length - 1]!;
      const lastBatch = batches[batches.length - 1];
      if (rnd() < 0.5 && lastSegment.sizeInBytes > 0 && lastBatch && lastBatch.base >= lastSegment.baseOffset) {
        const path = join(image.dir, lastSegment.logPath.split('/').pop()!);
        truncateSync(path, statSync(path).size - 1 - int(lastBatch.size - 1));
        batches.pop();
        const prev = batches[batches.length - 1];
        // The end of the batch before, or the segment's base when the torn batch was its first.
        leo = prev && prev.base >= lastSegment.baseOffset ? prev.base + BigInt(prev.values.length) : lastSegment.baseOffset;
        // As in Kafka, a log recovered to below its checkpointed start restarts empty at the start.
        if (leo < logStart) {
          batches = [];
          leo = logStart;
        }
      }
      reopenFrom(image.dir);
    } else if (op < 0.97) {
      log.flush().catch(() => {}); // may still run when the directory is gone
    } else {
      log.roll();
    }
    if (step % 25 === 0) checkAll();
  }
  checkAll();
  log.close();
}

describe('the log against a model', () => {
  const seeds = process.env.MODEL_SEEDS ? Array.from({ length: Number(process.env.MODEL_SEEDS) }, (_, i) => i + 1) : [1, 2, 3, 4, 5, 6];
  for (const seed of seeds) {
    // CPU and disk work (a second or two alone, ten times that on a loaded machine): the limit
    // catches a hang, it does not time the run.
    it(`agrees with the model for seed ${seed}`, () => runSeed(seed, Number(process.env.MODEL_STEPS ?? 400)), 120_000);
  }
});
