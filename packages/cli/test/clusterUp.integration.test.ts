/**
 * `samsa cluster up|status|down` as a user runs them: in the foreground, three controllers and
 * three brokers become ready, the bootstrap line comes first and SIGTERM stops every node; with
 * --detach the command exits once ready, status reports the nodes, a second up on the same data
 * dir is refused, and down leaves no recorded process behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterState } from '../src/cluster/state.js';
import { freePortBlock, giveUp, waitFor } from '@samsa/testkit';
import { CLI, removeDir, runCliAsync, stopProcess, tempDir } from './helpers/processes.js';
import { RawKafkaConnection } from './helpers/kafkaWire.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An exited child not yet reaped by its parent is gone too.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function recordedPids(dataDir: string): number[] {
  const state = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as ClusterState;
  return state.nodes.map((n) => n.pid!);
}

/**
 * A base port with room above it: brokers at +0/+100/+200, controllers at +1/+101/+201, metrics at
 * +2/+3: 204 ports, all leased from @samsa/testkit.
 */
async function basePort(): Promise<number> {
  return freePortBlock(204);
}

describe('samsa cluster up', () => {
  const dirs: string[] = [];
  const pids: number[] = [];

  afterAll(() => {
    // Only PIDs our own `cluster up` recorded, and only if still alive.
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const d of dirs) removeDir(d);
  });

  it('starts 3 controllers and 3 brokers, prints the bootstrap line, and stops them all on SIGTERM', async () => {
    const dataDir = tempDir('cluster-up');
    dirs.push(dataDir);
    const base = await basePort();
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, 'cluster', 'up', '--data-dir', dataDir, '--base-port', String(base)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await waitFor(
        'the cluster to be ready',
        () => {
          if (child.exitCode !== null) giveUp(`cluster up exited ${child.exitCode}:\n${out}`);
          return out.includes('ready in');
        },
        60_000,
        50,
      );
      console.log(`cluster up: ready ${Date.now() - t0} ms after start (${/ready in (\d+) ms/.exec(out)![1]} ms by its own clock)`);
      const lines = out.split('\n');
      const first = lines.findIndex((l) => l.startsWith('bootstrap-server: '));
      expect(first).toBe(0);
      expect(lines[first]).toBe(`bootstrap-server: 127.0.0.1:${base},127.0.0.1:${base + 100},127.0.0.1:${base + 200}`);
      expect(lines[first + 1]).toBe(
        `kafka bootstrap.servers: 127.0.0.1:${base},127.0.0.1:${base + 100},127.0.0.1:${base + 200} (same ports: the Kafka protocol and the Samsa SDK)`,
      );
      // The first broker's port answers a Kafka ApiVersions too.
      const kafka = await RawKafkaConnection.connect(base);
      const versions = await kafka.request<{ errorCode: number }>(18, 3, 1, {
        clientSoftwareName: 'cluster-up-test',
        clientSoftwareVersion: '1',
      });
      kafka.close();
      expect(versions.errorCode).toBe(0);
      const rows = lines.slice(first + 2).filter((l) => /^(controller|broker)-\d/.test(l));
      expect(rows).toHaveLength(6);
      expect(rows.filter((r) => r.endsWith('active controller'))).toHaveLength(1);
      expect(rows.filter((r) => r.endsWith('unfenced'))).toHaveLength(3);
      expect(rows[3]).toMatch(
        new RegExp(
          `^broker-4\\s+4\\s+broker\\s+127\\.0\\.0\\.1:${base}\\s+-\\s+127\\.0\\.0\\.1:${base + 2}\\s+\\d+\\s+running\\s+unfenced$`,
        ),
      );
      pids.push(...recordedPids(dataDir));
      expect(pids).toHaveLength(6);
      expect(pids.every(alive)).toBe(true);
      for (const pid of pids) expect(rows.some((r) => r.includes(` ${pid} `))).toBe(true);
    } finally {
      await stopProcess(child, 'SIGTERM', 30_000);
    }
    await waitFor('every node to exit', () => pids.every((pid) => !alive(pid)), 20_000);
    expect(existsSync(join(dataDir, 'cluster.json'))).toBe(false);
  }, 120_000);

  it('--detach exits once ready; status shows the nodes; a second up is refused; down leaves nothing behind', async () => {
    const dataDir = tempDir('cluster-detach');
    dirs.push(dataDir);
    const base = await basePort();
    const t0 = Date.now();
    const upResult = await runCliAsync(['cluster', 'up', '--detach', '--data-dir', dataDir, '--base-port', String(base)], {
      timeoutMs: 60_000,
    });
    const wallMs = Date.now() - t0;
    expect(upResult.stderr).toBe('');
    expect(upResult.status).toBe(0);
    const mine = recordedPids(dataDir);
    pids.push(...mine);
    console.log(`cluster up --detach: exited 0 after ${wallMs} ms (${/ready in (\d+) ms/.exec(upResult.stdout)![1]} ms by its own clock)`);
    expect(upResult.stdout.split('\n')[0]).toBe(`bootstrap-server: 127.0.0.1:${base},127.0.0.1:${base + 100},127.0.0.1:${base + 200}`);
    expect(upResult.stdout).toContain(`samsa cluster down --data-dir ${dataDir}`);
    // The nodes outlive the command that started them.
    expect(mine.every(alive)).toBe(true);
    const state = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as ClusterState;
    expect(state.mode).toBe('detached');
    expect(state.supervisor).toBeUndefined();

    const status = await runCliAsync(['cluster', 'status', '--data-dir', dataDir], { timeoutMs: 30_000 });
    expect(status.status).toBe(0);
    for (const pid of mine) expect(status.stdout).toMatch(new RegExp(` ${pid}\\s+running\\s`));
    expect(status.stdout).toMatch(/^active controller: [123] \(epoch \d+/m);
    expect(status.stdout).toContain('brokers: 3 registered and unfenced [4,5,6]\n');
    expect(status.stdout).toContain('partitions: 0 in 0 topic(s), 0 under-replicated, 0 offline\n');

    const viaBroker = await runCliAsync(['cluster', 'status', '--bootstrap-server', `127.0.0.1:${base + 100}`], { timeoutMs: 30_000 });
    expect(viaBroker.status).toBe(0);
    expect(viaBroker.stdout).toContain('brokers: 3 registered and unfenced [4,5,6]\n');
    expect(viaBroker.stdout).not.toContain('PID');

    // Every view names the nodes alike (by node id).
    expect(viaBroker.stdout).toMatch(/^broker-5\s+5\s+broker\s/m);
    expect(status.stdout).toMatch(/^broker-5\s+5\s+broker\s/m);

    // A second up on the same data dir with another layout: refused before it starts anything, the first cluster untouched.
    const before = readFileSync(join(dataDir, 'cluster.json'), 'utf8');
    const second = await runCliAsync(['cluster', 'up', '--detach', '--data-dir', dataDir, '--base-port', String(base + 5)], {
      timeoutMs: 30_000,
    });
    expect(second.status).toBe(2);
    expect(second.stderr).toContain('records another cluster layout');
    expect(second.stderr).toContain(`cluster down --data-dir ${dataDir}`);
    expect(readFileSync(join(dataDir, 'cluster.json'), 'utf8')).toBe(before);
    expect(mine.every(alive)).toBe(true);
    // With the same layout and every node running: nothing to start.
    const same = await runCliAsync(['cluster', 'up', '--detach', '--data-dir', dataDir, '--base-port', String(base)], {
      timeoutMs: 30_000,
    });
    expect(same.status).toBe(0);
    expect(same.stdout).toContain('is running already');
    expect(recordedPids(dataDir)).toEqual(mine);

    // --watch redraws until interrupted.
    const watch = spawn(process.execPath, [CLI, 'cluster', 'status', '--data-dir', dataDir, '--watch', '300ms'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let watched = '';
    watch.stdout!.on('data', (d: Buffer) => {
      watched += d.toString();
    });
    try {
      await waitFor('two redraws', () => (watched.match(/^--- /gm) ?? []).length >= 2, 20_000);
    } finally {
      expect(await stopProcess(watch, 'SIGINT', 10_000)).toBe(0);
    }
    expect((watched.match(/^bootstrap-server: /gm) ?? []).length).toBeGreaterThanOrEqual(2);

    const down = await runCliAsync(['cluster', 'down', '--data-dir', dataDir], { timeoutMs: 60_000 });
    expect(down.stderr).toBe('');
    expect(down.status).toBe(0);
    expect(down.stdout).toMatch(/broker-4 \(pid \d+\) stopped/);
    expect(down.stdout).toContain(`stopped 6 node(s); removed ${join(dataDir, 'cluster.json')}`);
    // Brokers were stopped before controllers.
    const order = down.stdout
      .split('\n')
      .filter((l) => l.endsWith(' stopped'))
      .map((l) => l.split(' ')[0]!);
    expect(order.slice(0, 3).every((n) => n.startsWith('broker-'))).toBe(true);
    expect(mine.filter(alive)).toEqual([]);
    expect(existsSync(join(dataDir, 'cluster.json'))).toBe(false);

    // Nothing recorded any more: status and down say so.
    const after = await runCliAsync(['cluster', 'status', '--data-dir', dataDir], { timeoutMs: 30_000 });
    expect(after.status).toBe(2);
    expect(after.stderr).toContain('no cluster is recorded');
    // And the data dir can be used again; also above the info level, where no "broker started"
    // line is logged (readiness then rests on the metadata check alone).
    const again = await runCliAsync(
      [
        'cluster',
        'up',
        '--detach',
        '--combined',
        '--brokers',
        '1',
        '--controllers',
        '1',
        '--data-dir',
        dataDir,
        '--base-port',
        String(base),
        '--log-level',
        'warn',
        '--ready-timeout-ms',
        '30000',
      ],
      { timeoutMs: 60_000 },
    );
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    pids.push(...recordedPids(dataDir));
    const downAgain = await runCliAsync(['cluster', 'down', '--data-dir', dataDir], { timeoutMs: 60_000 });
    expect(downAgain.status).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  }, 180_000);

  it('--combined runs nodes with both roles', async () => {
    const base = await basePort();
    const dir = tempDir('cluster-combined');
    dirs.push(dir);
    const child = spawn(
      process.execPath,
      [CLI, 'cluster', 'up', '--combined', '--brokers', '1', '--controllers', '1', '--data-dir', dir, '--base-port', String(base)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    let mine: number[] = [];
    try {
      await waitFor(
        'the combined node to be ready',
        () => {
          if (child.exitCode !== null) giveUp(`cluster up exited ${child.exitCode}:\n${out}`);
          return out.includes('ready in');
        },
        60_000,
        50,
      );
      expect(out).toContain(`bootstrap-server: 127.0.0.1:${base}\n`);
      expect(out).toMatch(
        new RegExp(
          `node-1\\s+1\\s+broker,controller\\s+127\\.0\\.0\\.1:${base}\\s+127\\.0\\.0\\.1:${base + 1}\\s+127\\.0\\.0\\.1:${base + 2}\\s+\\d+\\s+running\\s+active controller, unfenced`,
        ),
      );
      mine = recordedPids(dir);
      pids.push(...mine);
    } finally {
      await stopProcess(child, 'SIGTERM', 30_000);
    }
    await waitFor('the node to exit', () => mine.every((p) => !alive(p)), 20_000);
  }, 90_000);
});
