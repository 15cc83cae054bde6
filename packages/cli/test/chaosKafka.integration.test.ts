/**
 * `samsa chaos --workload kafka` end to end: KafkaJS 2.2.4 idempotent acks=-1 producers and a
 * KafkaJS consumer group, through the brokers' Kafka listener, while brokers are SIGKILLed (seed
 * 15, 20 s). Every check must be 0 (lost writes, duplicates, offsets, per-key order, replicas,
 * group read gaps), and the history must show the Kafka path did the work.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/chaos/report.js';
import { removeDir, runCliAsync, stopAll, tempDir } from './helpers/processes.js';

const SEED = 15;

describe('samsa chaos --workload kafka', () => {
  const dir = tempDir('chaos-kafka-report');
  afterAll(async () => {
    await stopAll();
    removeDir(dir);
  });

  it('finds no violation with KafkaJS producers and a KafkaJS consumer group under broker kills', async () => {
    const result = await runCliAsync(
      ['chaos', '--workload', 'kafka', '--duration', '20s', '--seed', String(SEED), '--nemesis', 'kill', '--rate', '200', '--report', dir],
      { timeoutMs: 200_000 },
    );
    const out = result.stdout + result.stderr;
    expect(result.status, out).toBe(0);
    expect(out).toContain(`PASS: 0 violations (seed ${SEED})`);
    expect(out).toContain('workload: KafkaJS over the Kafka listener');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    const r = report.result;
    expect(r.ok).toBe(true);
    expect(r.lostWrites.count).toBe(0);
    expect(r.duplicates).toMatchObject({ count: 0, judged: true });
    expect(r.inconsistentOffsets.count).toBe(0);
    expect(r.perKeyOrder.count).toBe(0);
    expect(r.divergentReplicas.count).toBe(0);
    expect(r.incompleteDrain).toEqual([]);
    expect(r.groupReadGaps).toMatchObject({ count: 0, judged: true });
    expect(r.stats.unanswered).toBe(0);
    // The run did something: writes acknowledged through KafkaJS, read by the group and drained, brokers killed.
    expect(r.stats.acks).toBeGreaterThan(500);
    expect(r.stats.liveReads).toBeGreaterThanOrEqual(r.stats.acks);
    expect(r.stats.drainReads).toBeGreaterThanOrEqual(r.stats.acks);
    expect(r.stats.nemesisEvents.kill).toBeGreaterThanOrEqual(1);
    const history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; reader?: string; member?: string; assignor?: string; identical?: boolean });
    // The live reader was the KafkaJS group (its assignor, its member ids) and every replica comparison agreed.
    expect(history.find((e) => e.type === 'reader')).toMatchObject({ kind: 'group', assignor: 'RoundRobinAssigner' });
    const members = new Set(history.filter((e) => e.type === 'read' && e.reader === 'live').map((e) => e.member));
    expect(
      [...members].every((m) => typeof m === 'string' && m.startsWith('chaos-reader-')),
      [...members].join(', '),
    ).toBe(true);
    expect(history.filter((e) => e.type === 'replicas')).toHaveLength(6);
    expect(history.filter((e) => e.type === 'replicas').every((e) => e.identical)).toBe(true);
  }, 220_000);
});
