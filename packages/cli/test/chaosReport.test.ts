/**
 * The chaos report and the compose driver's docker commands: the summary names every check's
 * verdict and the seed of a failing run; the SVG marks nemesis windows; the compose driver issues
 * `docker compose kill -s SIGKILL`, `pause`, `unpause`, `restart` for the right service (a fake
 * `docker` on PATH records what it was asked).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHistory } from '../src/chaos/checker.js';
import { ComposeCluster } from '../src/chaos/composeDriver.js';
import { encodeValue, type HistoryEvent } from '../src/chaos/history.js';
import { perSecond, summaryTable, svgPlot, type Report } from '../src/chaos/report.js';
import { checkTransactions } from '../src/chaos/txnChecker.js';
import { removeDir, tempDir } from './helpers/processes.js';

const value = encodeValue({ p: 0, k: 'p0-k0', s: 0 });
const history: HistoryEvent[] = [
  { type: 'phase', t: 0, phase: 'workload-start' },
  { type: 'send', t: 10, producer: 0, key: 'p0-k0', value, seq: 0 },
  { type: 'ack', t: 20, value, partition: 0, offset: '0', latencyMs: 10 },
  { type: 'nemesis', t: 500, id: 0, phase: 'start', nemesis: 'kill', node: 'broker-1' },
  { type: 'send', t: 600, producer: 0, key: 'p0-k0', value: encodeValue({ p: 0, k: 'p0-k0', s: 1 }), seq: 1 },
  { type: 'fail', t: 1_700, value: encodeValue({ p: 0, k: 'p0-k0', s: 1 }), error: 'NOT_ENOUGH_REPLICAS', message: 'x', latencyMs: 1_100 },
  { type: 'nemesis', t: 2_500, id: 0, phase: 'end', nemesis: 'kill', node: 'broker-1' },
  { type: 'phase', t: 3_000, phase: 'workload-end' },
  // The drain finds nothing at the acknowledged offset: a lost write.
  { type: 'drain', t: 3_100, partition: 0, highWatermark: '0', complete: true },
];

function reportOf(idempotence: boolean): Report {
  const result = checkHistory(history, { idempotence });
  return {
    run: {
      seed: 1234,
      command: 'samsa chaos --seed 1234',
      durationMs: 3_000,
      nemeses: ['kill', 'partition'],
      cluster: 'processes',
      idempotence,
      partition: { supported: false, reason: 'needs root' },
      schedule: [],
      elapsedMs: 4_000,
      notes: [],
    },
    result,
    series: perSecond(history),
  };
}

describe('chaos report', () => {
  it('prints the transactions workload: its counts and each exactly-once check, an aborted read as a violation', () => {
    const report = reportOf(false);
    const txnHistory: HistoryEvent[] = [
      { type: 'txn', t: 0, worker: 0, txn: 'w0-0', phase: 'begin', intent: 'abort' },
      { type: 'txn', t: 1, worker: 0, txn: 'w0-0', phase: 'aborted' },
      { type: 'out-read', t: 2, reader: 'uncommitted', partition: 0, offset: '0', value: '{"src":"0@0","v":"x","txn":"w0-0"}' },
      { type: 'out-read', t: 3, reader: 'live', partition: 0, offset: '0', value: '{"src":"0@0","v":"x","txn":"w0-0"}' },
    ];
    report.result.transactions = checkTransactions(txnHistory);
    const table = summaryTable(report);
    expect(table).toMatch(/aborted \(as the client was told\)\s+1/);
    expect(table).toMatch(/aborted records read \(read_committed\)\s+1\s+VIOLATION/);
    expect(table).toMatch(/committed transactions lost\s+0\s+ok/);
    expect(table).toMatch(/offsets committed without their output\s+-\s+not checked/);
    expect(table).toContain('aborted records read (read_committed): {"reader":"live"');
  });

  it('prints each check with its verdict, the failures by error, the skipped partition and the seed', () => {
    const table = summaryTable(reportOf(false));
    expect(table).toMatch(/lost writes\s+1\s+VIOLATION/);
    expect(table).toMatch(/duplicates\s+0\s+ok/);
    expect(table).toMatch(/NOT_ENOUGH_REPLICAS\s+1/);
    expect(table).toMatch(/kill\s+1\s+0\s+/);
    expect(table).toContain('partition nemesis SKIPPED: needs root');
    expect(table).toContain('FAIL: 1 violation(s); seed 1234 replays this nemesis schedule');
  });

  it('shows the group read gaps check and the live reader when the reader was a consumer group', () => {
    expect(summaryTable(reportOf(false))).not.toContain('group read gaps');
    // The drain finds the acknowledged record (no lost write), but the group never read it.
    const grouped: HistoryEvent[] = [
      { type: 'reader', t: 0, kind: 'group', groupId: 'chaos-readers', members: 2 },
      ...history,
      { type: 'read', t: 3_050, reader: 'drain', partition: 0, offset: '0', key: 'p0-k0', value },
    ];
    const report: Report = { ...reportOf(true), result: checkHistory(grouped, { idempotence: true }) };
    report.run.reader = 'consumer group chaos-readers, 2 members';
    const table = summaryTable(report);
    expect(table).toMatch(/lost writes\s+0\s+ok/);
    expect(table).toMatch(/group read gaps\s+1\s+VIOLATION/);
    expect(table).toContain('live reader: consumer group chaos-readers, 2 members');
    expect(table).toContain('group read gap: {"value":');
    expect(table).toMatch(/records read by the consumer group\s+0/);
  });

  it('draws throughput and latency with the nemesis window shaded', () => {
    const svg = svgPlot(reportOf(false), history);
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('<title>kill broker-1 0.5-2.5 s</title>');
    expect(svg.match(/<polyline/g)!.length).toBeGreaterThanOrEqual(2);
  });

  it('counts acks and failures per second', () => {
    const series = perSecond(history);
    expect(series[0]).toMatchObject({ t: 0, acks: 1, p50Ms: 10 });
    expect(series[1]).toMatchObject({ t: 1, acks: 0, failures: 1, p50Ms: null });
  });
});

describe('compose driver', () => {
  let dir = '';
  const oldPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = oldPath;
    if (dir) removeDir(dir);
  });

  it('drives services with docker compose kill, pause, unpause, restart and reads segments with exec', async () => {
    dir = tempDir('fake-docker');
    const calls = join(dir, 'calls');
    writeFileSync(join(dir, 'docker'), `#!/bin/sh\necho "$*" >> ${calls}\ncase "$*" in *" exec "*) printf 'segment-bytes';; esac\n`);
    chmodSync(join(dir, 'docker'), 0o755);
    process.env.PATH = `${dir}:${oldPath}`;
    const driver = new ComposeCluster({ file: '/x/compose.yml', project: 'samsa', bootstrap: ['127.0.0.1:9092'], dataDir: '/data' });
    expect(driver.brokers.map((b) => `${b.name}:${b.nodeId}`)).toEqual(['broker-1:4', 'broker-2:5', 'broker-3:6']);
    expect(driver.partition.supported).toBe(false);
    await driver.kill(driver.brokers[1]!);
    await driver.pause(driver.brokers[0]!);
    await driver.resume(driver.brokers[0]!);
    await driver.gracefulRestart(driver.controllers[2]!);
    expect((await driver.readPartitionLog(driver.brokers[2]!, 'chaos', 4)).toString()).toBe('segment-bytes');
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines).toEqual([
      'compose -f /x/compose.yml -p samsa kill -s SIGKILL broker-2',
      'compose -f /x/compose.yml -p samsa pause broker-1',
      'compose -f /x/compose.yml -p samsa unpause broker-1',
      'compose -f /x/compose.yml -p samsa restart controller-3',
      'compose -f /x/compose.yml -p samsa exec -T broker-3 sh -c cat /data/chaos-4/[0-9]*.log 2>/dev/null || true',
    ]);
  });
});
