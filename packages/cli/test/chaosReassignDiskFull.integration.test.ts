/**
 * `samsa chaos --nemesis reassign,disk-full` end to end with a fixed seed (issue 16): while the
 * workload runs, one partition's replica moves off a broker and back (AlterPartitionReassignments),
 * and a broker's disk fills (its data directory is a tmpfs the harness shrinks to what is used)
 * until it is given space again and restarted. The existing checks judge the run: zero
 * violations, every acknowledged record drained, no broker crashed. Where this machine cannot
 * mount a tmpfs, the disk-full nemesis must be reported skipped with its reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/chaos/report.js';
import { removeDir, runCliAsync, stopAll, tempDir } from './helpers/processes.js';

/** Seed 7 over 40 s plans disk-full, then reassign (chaosSchedule.test.ts checks plans are seeded). */
const SEED = 7;

describe('samsa chaos with the reassign and disk-full nemeses', () => {
  const dir = tempDir('chaos-reassign-diskfull');
  afterAll(async () => {
    await stopAll();
    removeDir(dir);
  });

  it('finds no violation while a replica moves away and back and a broker disk fills', async () => {
    const result = await runCliAsync(
      ['chaos', '--duration', '40s', '--seed', String(SEED), '--nemesis', 'reassign,disk-full', '--rate', '200', '--report', dir],
      { timeoutMs: 200_000 },
    );
    const out = result.stdout + result.stderr;
    expect(result.status, out).toBe(0);
    expect(out).toContain(`PASS: 0 violations (seed ${SEED})`);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    const r = report.result;
    expect(r.lostWrites.count).toBe(0);
    expect(r.inconsistentOffsets.count).toBe(0);
    expect(r.divergentReplicas.count).toBe(0);
    expect(r.incompleteDrain).toEqual([]);
    expect(r.duplicates.count).toBe(0);
    expect(r.stats.acks).toBeGreaterThan(1_000);
    expect(r.stats.drainReads).toBeGreaterThanOrEqual(r.stats.acks);
    expect(r.stats.nemesisEvents.reassign).toBeGreaterThanOrEqual(1);
    expect(out).toMatch(/move away: chaos-\d \[[\d,]+\] -> \[[\d,]+\]/);
    expect(out).toMatch(/move back: chaos-\d/);
    const history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; nemesis?: string; phase?: string; detail?: string });
    const diskFull = history.filter((e) => e.type === 'nemesis' && e.nemesis === 'disk-full');
    expect(diskFull.length).toBeGreaterThanOrEqual(1);
    const skipped = diskFull.filter((e) => e.phase === 'skipped');
    if (skipped.length > 0) {
      // Only where mounting is impossible, and then with the reason.
      expect(skipped[0]!.detail).toBeTruthy();
      expect(out).toContain('disk-full broker-');
    } else {
      expect(r.stats.nemesisEvents['disk-full']).toBeGreaterThanOrEqual(1);
      expect(diskFull.some((e) => e.phase === 'end' && e.detail === undefined)).toBe(true);
      // The full broker took its log directory offline and was fenced, without crashing.
      const brokerLogs = [1, 2, 3].map((i) => readFileSync(join(dir, 'nodes', `broker-${i}.log`), 'utf8')).join('\n');
      expect(brokerLogs).toContain('the controller fenced this broker: its log directory is offline');
    }
  }, 240_000);
});
