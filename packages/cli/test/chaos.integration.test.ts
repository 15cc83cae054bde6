/**
 * `samsa chaos` end to end with a fixed seed: 3 controllers and 3 brokers as processes, acks=all
 * producers, SIGKILLed and SIGSTOPped brokers, a SIGKILLed active controller and (where this
 * machine allows a network namespace and iptables) a partitioned broker. The run must report zero
 * violations, duplicates included (the producers are idempotent), and the live reader, a consumer
 * group of two members, must have read every acknowledged record (group read gaps 0).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/chaos/report.js';
import { removeDir, runCliAsync, stopAll, tempDir } from './helpers/processes.js';

/** Seed 3 over 45 s plans pause, partition, kill, controller-kill, controller-kill (chaosSchedule.test.ts checks plans are seeded). */
const SEED = 3;

describe('samsa chaos', () => {
  const dir = tempDir('chaos-report');
  afterAll(async () => {
    await stopAll();
    removeDir(dir);
  });

  it('finds no violation under kill, pause, controller-kill and partition with a fixed seed', async () => {
    const result = await runCliAsync(
      [
        'chaos',
        '--duration',
        '45s',
        '--seed',
        String(SEED),
        '--nemesis',
        'kill,pause,controller-kill,partition',
        '--rate',
        '200',
        '--report',
        dir,
      ],
      { timeoutMs: 150_000 },
    );
    const out = result.stdout + result.stderr;
    expect(result.status, out).toBe(0);
    expect(out).toContain('PASS: 0 violations (seed 3)');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    const r = report.result;
    expect(report.run.seed).toBe(SEED);
    expect(r.lostWrites.count).toBe(0);
    expect(r.inconsistentOffsets.count).toBe(0);
    expect(r.perKeyOrder.count).toBe(0);
    expect(r.divergentReplicas.count).toBe(0);
    expect(r.incompleteDrain).toEqual([]);
    expect(r.duplicates.judged).toBe(true);
    expect(r.duplicates.count).toBe(0);
    // The consumer group (the default reader) read every acknowledged record at least once.
    expect(r.groupReadGaps).toMatchObject({ count: 0, judged: true });
    expect(r.stats.liveReads).toBeGreaterThanOrEqual(r.stats.acks);
    // The run did something: writes were acknowledged and drained, and the faults happened.
    expect(r.stats.acks).toBeGreaterThan(1_000);
    expect(r.stats.drainReads).toBeGreaterThanOrEqual(r.stats.acks);
    expect(r.stats.unanswered).toBe(0);
    for (const type of ['kill', 'pause', 'controller-kill'] as const) expect(r.stats.nemesisEvents[type], type).toBeGreaterThanOrEqual(1);
    if (report.run.partition.supported) {
      expect(r.stats.nemesisEvents.partition).toBe(1);
    } else {
      // Skipped with a reason, and the console said so.
      expect(report.run.partition.reason).toBeTruthy();
      expect(out).toContain('the partition nemesis is SKIPPED');
    }
    // One replica comparison per partition, all identical.
    const history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; identical?: boolean; reader?: string; member?: string; change?: string });
    expect(history.filter((e) => e.type === 'replicas')).toHaveLength(6);
    // Both members of the group got partitions and read records, each read naming its member.
    const members = new Set(history.filter((e) => e.type === 'read' && e.reader === 'live').map((e) => e.member));
    expect(
      [...members].every((m) => typeof m === 'string' && m.startsWith('chaos-reader-')),
      [...members].join(', '),
    ).toBe(true);
    expect(new Set([...members].map((m) => m!.slice(0, 'chaos-reader-N'.length))).size).toBe(2);
    expect(history.some((e) => e.type === 'rebalance' && e.change === 'assigned')).toBe(true);
    expect(existsSync(join(dir, 'report.svg'))).toBe(true);
    expect(readFileSync(join(dir, 'report.svg'), 'utf8')).toMatch(/^<svg /);
  }, 160_000);
});
