import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SamsaProtocolError } from '@samsa/protocol';
import { Log, type LogConfig } from '../../src/log/index.js';
import { batchOf, manualClock, openLog, readAll, tempDir, type ManualClock } from './helpers.js';

let dir: string;
let cleanup: () => void;
const logs: Log[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  cleanup();
});

const BASE = 1_700_000_000_000n;
const THREE = batchOf(3, 'x', BASE).length;

/** 12 batches of 3 records, batch i at BASE + 1000 i: four segments of three batches (0, 9, 18, 27). */
function fill(config: LogConfig, clock: ManualClock): Log {
  const log = openLog(dir, { segmentBytes: 3 * THREE, ...config }, clock);
  logs.push(log);
  for (let i = 0; i < 12; i++) log.appendAsLeader(batchOf(3, 'x', BASE + 1000n * BigInt(i)), 0);
  expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 9n, 18n, 27n]);
  return log;
}

function segmentFile(base: bigint): string {
  return join(dir, base.toString().padStart(20, '0') + '.log');
}

describe('retention', () => {
  it('deletes whole segments whose newest timestamp is past retention.ms and advances the log start offset', () => {
    const clock = manualClock(Number(BASE) + 10_500); // cutoff BASE + 5500: segments 0 (max +2000) and 9 (max +5000) expire
    const log = fill({ retentionMs: 5000 }, clock);
    const sizeBefore = log.size;
    expect(log.deleteRetentionSegments()).toBe(2);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([18n, 27n]);
    expect(log.logStartOffset).toBe(18n);
    expect(log.size).toBe(sizeBefore - 6 * THREE);
    expect(existsSync(segmentFile(0n))).toBe(false);
    expect(existsSync(segmentFile(9n))).toBe(false);
    expect(existsSync(segmentFile(0n).replace('.log', '.index'))).toBe(false);
    expect(() => log.read(17n, 100)).toThrow(SamsaProtocolError);
    expect(readAll(log)[0]!.offset).toBe(18n);
    expect(log.deleteRetentionSegments()).toBe(0);
  });

  it('rolls and deletes an expired active segment once it is below the high watermark: an idle log empties', () => {
    const clock = manualClock(Number(BASE) + 10_000_000);
    const log = fill({ retentionMs: 5000 }, clock);
    // Below the high watermark only: with HW 30 the active segment (27..35) stays.
    expect(log.deleteRetentionSegments(30n)).toBe(3);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([27n]);
    expect(log.deleteRetentionSegments()).toBe(1);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([36n]);
    expect(log.size).toBe(0);
    expect(log.logStartOffset).toBe(36n);
    expect(log.logEndOffset).toBe(36n);
    expect(existsSync(segmentFile(27n))).toBe(false);
    expect(log.deleteRetentionSegments()).toBe(0); // an empty active segment is never rolled again
    expect(log.appendAsLeader(batchOf(1), 0).baseOffset).toBe(36n);
    expect(readAll(log).map((r) => r.offset)).toEqual([36n]);
  });

  it('retention.bytes counts the active segment too', () => {
    const log = fill({ retentionMs: -1, retentionBytes: 0 }, manualClock());
    expect(log.deleteRetentionSegments()).toBe(4);
    expect(log.size).toBe(0);
    expect(log.logStartOffset).toBe(36n);
  });

  it('keeps everything with retention.ms = -1', () => {
    const log = fill({ retentionMs: -1 }, manualClock(Number(BASE) + 10_000_000));
    expect(log.deleteRetentionSegments()).toBe(0);
  });

  it('deletes the oldest segments while the rest still holds retention.bytes', () => {
    const log = fill({ retentionMs: -1, retentionBytes: 5 * THREE }, manualClock());
    expect(log.deleteRetentionSegments()).toBe(2); // 12 -> 9 -> 6 batches; 3 would be below 5
    expect(log.size).toBe(6 * THREE);
    expect(log.logStartOffset).toBe(18n);
  });

  it('deletes only segments wholly below the high watermark', () => {
    const log = fill({ retentionMs: 0 }, manualClock(Number(BASE) + 10_000_000));
    expect(log.deleteRetentionSegments(10n)).toBe(1); // segment 9..17 reaches past 10
    expect(log.logStartOffset).toBe(9n);
  });

  it('advanceLogStartOffset hides offsets at once and lets retention delete segments wholly below it', () => {
    const log = fill({ retentionMs: -1 }, manualClock());
    expect(log.advanceLogStartOffset(20n)).toBe(true);
    expect(log.advanceLogStartOffset(5n)).toBe(false);
    expect(log.logStartOffset).toBe(20n);
    expect(() => log.read(19n, 100)).toThrow(/out of range/);
    expect(log.read(20n, 1).firstOffset).toBe(18n);
    expect(log.segments).toHaveLength(4);
    expect(log.deleteRetentionSegments()).toBe(2);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([18n, 27n]);
    expect(log.logStartOffset).toBe(20n);
    try {
      log.advanceLogStartOffset(37n);
      expect.unreachable();
    } catch (err) {
      expect((err as SamsaProtocolError).errorName).toBe('OFFSET_OUT_OF_RANGE');
    }
  });

  it('keeps the log start offset across a reopen', () => {
    const clock = manualClock();
    const log = fill({ retentionMs: -1 }, clock);
    log.advanceLogStartOffset(20n);
    log.deleteRetentionSegments();
    expect(readFileSync(join(dir, 'log-offsets-checkpoint'), 'utf8')).toContain('log-start-offset 20');
    log.close();
    logs.splice(0);
    const reopened = openLog(dir, { segmentBytes: 3 * THREE }, clock);
    logs.push(reopened);
    expect(reopened.logStartOffset).toBe(20n);
    expect(reopened.logEndOffset).toBe(36n);
  });

  it('moves the leader epoch cache start with the log start', () => {
    const log = openLog(dir, { segmentBytes: 3 * THREE, retentionMs: -1 }, manualClock());
    logs.push(log);
    for (let i = 0; i < 6; i++) log.appendAsLeader(batchOf(3, 'x', BASE), i < 2 ? 1 : 2);
    log.advanceLogStartOffset(10n);
    expect(log.leaderEpochEntries).toEqual([{ epoch: 2, startOffset: 10n }]);
  });
});
