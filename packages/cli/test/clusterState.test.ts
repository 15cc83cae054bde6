/**
 * The local cluster's bookkeeping without real processes: the state file claims a data dir (a
 * second `up` is refused while a recorded process runs, a stale file is replaced), a PID counts
 * as ours only while its command line is the one recorded, and `down` signals brokers before
 * controllers, escalates to SIGKILL after the grace period, and leaves reused PIDs alone.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClusterInUseError,
  STATE_VERSION,
  claimState,
  lockHolder,
  processState,
  readState,
  removeState,
  runningProcesses,
  statePath,
  writeState,
  type ClusterState,
  type NodeRecord,
  type ProcessProbe,
} from '../src/cluster/state.js';
import { stopNodes, stopOrder } from '../src/cluster/stop.js';
import { nodeRecords, planCluster, portsInUse } from '../src/commands/cluster.js';
import { NODE_V8_FLAGS } from '../src/nodeRuntime.js';
import { freePort, removeDir, tempDir } from './helpers/processes.js';

/** A fake process table: pid → command line. */
class FakeProcesses implements ProcessProbe {
  readonly table = new Map<number, string[]>();
  readonly signals: Array<{ pid: number; signal: NodeJS.Signals }> = [];
  /** Pids that ignore SIGTERM. */
  readonly stubborn = new Set<number>();

  cmdline(pid: number): string[] | undefined {
    return this.table.get(pid);
  }

  kill = (pid: number, signal: NodeJS.Signals): void => {
    if (!this.table.has(pid)) throw Object.assign(new Error('no such process'), { code: 'ESRCH' });
    this.signals.push({ pid, signal });
    if (signal === 'SIGKILL' || !this.stubborn.has(pid)) this.table.delete(pid);
  };
}

function node(name: string, roles: string, pid: number | undefined): NodeRecord {
  return {
    name,
    nodeId: pid ?? 0,
    roles,
    dataDir: `/d/${name}`,
    logFile: `/d/${name}/node.log`,
    ...(pid === undefined ? {} : { pid }),
    argv: ['/usr/bin/node', '/cli/main.js', 'node', '--roles', roles, '--data-dir', `/d/${name}`],
  };
}

function state(nodes: NodeRecord[], supervisor?: { pid: number; argv: string[] }): ClusterState {
  return {
    version: STATE_VERSION,
    mode: supervisor ? 'foreground' : 'detached',
    host: '127.0.0.1',
    bootstrap: ['127.0.0.1:9092'],
    startedAt: '2024-01-01T00:00:00.000Z',
    ...(supervisor ? { supervisor } : {}),
    nodes,
  };
}

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('state');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

describe('processState', () => {
  it('is running only while the PID runs the recorded command line', () => {
    const procs = new FakeProcesses();
    const n = node('broker-1', 'broker', 100);
    expect(processState(100, n.argv, procs)).toBe('gone');
    procs.table.set(100, [...n.argv]);
    expect(processState(100, n.argv, procs)).toBe('running');
    // The PID was reused by something else: not ours any more.
    procs.table.set(100, ['/usr/bin/vim', 'notes.txt']);
    expect(processState(100, n.argv, procs)).toBe('replaced');
    // Another samsa node on another data dir is not ours either.
    procs.table.set(
      100,
      n.argv.map((a) => (a === '/d/broker-1' ? '/d/broker-2' : a)),
    );
    expect(processState(100, n.argv, procs)).toBe('replaced');
    expect(processState(undefined, n.argv, procs)).toBe('gone');
  });

  it("accepts ps's single space-joined command line", () => {
    const n = node('broker-1', 'broker', 7);
    expect(processState(7, n.argv, { cmdline: () => [n.argv.join(' ')] })).toBe('running');
    expect(processState(7, n.argv, { cmdline: () => ['/usr/bin/node other.js'] })).toBe('replaced');
  });

  it('the real probe sees this process and not a PID that does not exist', async () => {
    const { systemProbe } = await import('../src/cluster/state.js');
    const self = systemProbe.cmdline(process.pid);
    expect(self?.length).toBeGreaterThan(0);
    expect(processState(process.pid, self!)).toBe('running');
    expect(systemProbe.cmdline(2 ** 22 + 12345)).toBeUndefined();
  });
});

describe('the state file', () => {
  it('round-trips and is replaced atomically', () => {
    const d = dir();
    expect(readState(d)).toBeUndefined();
    const s = state([node('controller-1', 'controller', 1), node('broker-1', 'broker', 2)]);
    writeState(d, s);
    expect(readState(d)).toEqual(s);
    s.nodes[1]!.pid = 3;
    writeState(d, s);
    expect(readState(d)!.nodes[1]!.pid).toBe(3);
    removeState(d);
    expect(existsSync(statePath(d))).toBe(false);
  });

  it('a malformed file is an error that names it', () => {
    const d = dir();
    writeFileSync(statePath(d), '{ not json');
    expect(() => readState(d)).toThrow(/cluster\.json is not valid JSON/);
    writeFileSync(statePath(d), JSON.stringify({ version: 99, nodes: [] }));
    expect(() => readState(d)).toThrow(/not a samsa cluster state file/);
  });

  it('claims a free data dir', () => {
    const d = dir();
    const s = state([node('broker-1', 'broker', undefined)], { pid: 50, argv: ['node', 'main.js', 'cluster', 'up'] });
    expect(claimState(d, s, new FakeProcesses())).toEqual({});
    expect(readState(d)).toEqual(s);
  });

  it('refuses a second claim while any recorded process runs, and changes nothing', () => {
    const d = dir();
    const procs = new FakeProcesses();
    const first = state([node('controller-1', 'controller', 10), node('broker-1', 'broker', 11)]);
    writeState(d, first);
    procs.table.set(11, [...first.nodes[1]!.argv]);
    const before = readFileSync(statePath(d), 'utf8');
    let error: unknown;
    try {
      claimState(d, state([node('broker-1', 'broker', undefined)]), procs);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ClusterInUseError);
    expect((error as ClusterInUseError).running).toEqual([{ name: 'broker-1', pid: 11 }]);
    expect((error as Error).message).toContain(`samsa cluster down --data-dir ${d}`);
    expect(readFileSync(statePath(d), 'utf8')).toBe(before);
  });

  it('a running foreground supervisor also holds the data dir', () => {
    const d = dir();
    const procs = new FakeProcesses();
    const supervisor = { pid: 20, argv: ['node', 'main.js', 'cluster', 'up'] };
    writeState(d, state([node('broker-1', 'broker', undefined)], supervisor));
    procs.table.set(20, [...supervisor.argv]);
    expect(() => claimState(d, state([]), procs)).toThrow(ClusterInUseError);
    expect(runningProcesses(readState(d)!, procs)).toEqual([{ name: 'cluster up', pid: 20 }]);
  });

  it('replaces a stale file whose processes are gone or whose PIDs were reused', () => {
    const d = dir();
    const procs = new FakeProcesses();
    const stale = state([node('controller-1', 'controller', 10), node('broker-1', 'broker', 11)]);
    writeState(d, stale);
    procs.table.set(11, ['/usr/sbin/sshd']);
    const next = state([node('broker-1', 'broker', undefined)]);
    expect(claimState(d, next, procs)).toEqual({ replaced: stale });
    expect(readState(d)).toEqual(next);
  });

  it('lockHolder names the live owner of a node data dir', () => {
    const d = dir();
    const nodeDir = join(d, 'broker-1');
    mkdirSync(nodeDir);
    const procs = new FakeProcesses();
    expect(lockHolder(nodeDir, procs)).toBeUndefined();
    writeFileSync(join(nodeDir, '.lock'), '4242');
    expect(lockHolder(nodeDir, procs)).toBeUndefined();
    procs.table.set(4242, ['node']);
    expect(lockHolder(nodeDir, procs)).toBe(4242);
  });
});

describe('stopping recorded nodes', () => {
  it('orders brokers before controllers, combined nodes with the controllers', () => {
    const nodes = [
      node('controller-1', 'controller', 1),
      node('broker-1', 'broker', 2),
      node('node-1', 'broker,controller', 3),
      node('broker-2', 'broker', 4),
    ];
    expect(stopOrder(nodes).map((g) => g.map((n) => n.name))).toEqual([
      ['broker-1', 'broker-2'],
      ['controller-1', 'node-1'],
    ]);
  });

  it('sends SIGTERM to every broker before any controller and waits for them', async () => {
    const procs = new FakeProcesses();
    const nodes = [
      node('controller-1', 'controller', 1),
      node('controller-2', 'controller', 2),
      node('broker-1', 'broker', 3),
      node('broker-2', 'broker', 4),
    ];
    for (const n of nodes) procs.table.set(n.pid!, [...n.argv]);
    const report = await stopNodes(nodes, { graceMs: 1_000, probe: procs, kill: procs.kill, pollMs: 1 });
    expect(procs.signals.map((s) => s.signal)).toEqual(['SIGTERM', 'SIGTERM', 'SIGTERM', 'SIGTERM']);
    expect(
      procs.signals
        .slice(0, 2)
        .map((s) => s.pid)
        .sort(),
    ).toEqual([3, 4]);
    expect(
      procs.signals
        .slice(2)
        .map((s) => s.pid)
        .sort(),
    ).toEqual([1, 2]);
    expect(report.stopped.sort()).toEqual(['broker-1', 'broker-2', 'controller-1', 'controller-2']);
    expect(procs.table.size).toBe(0);
  });

  it('sends SIGKILL after the grace period and says so', async () => {
    const procs = new FakeProcesses();
    const nodes = [node('broker-1', 'broker', 3), node('controller-1', 'controller', 1)];
    for (const n of nodes) procs.table.set(n.pid!, [...n.argv]);
    procs.stubborn.add(3);
    const lines: string[] = [];
    const report = await stopNodes(nodes, { graceMs: 30, probe: procs, kill: procs.kill, pollMs: 1, log: (l) => lines.push(l) });
    expect(procs.signals).toEqual([
      { pid: 3, signal: 'SIGTERM' },
      { pid: 3, signal: 'SIGKILL' },
      { pid: 1, signal: 'SIGTERM' },
    ]);
    expect(report.killed).toEqual(['broker-1']);
    expect(report.stopped).toEqual(['controller-1']);
    expect(lines).toContain('broker-1 (pid 3) did not stop within 30 ms of SIGTERM; sent SIGKILL');
  });

  it('never signals a PID that now runs something else, and skips exited nodes', async () => {
    const procs = new FakeProcesses();
    const nodes = [node('broker-1', 'broker', 3), node('broker-2', 'broker', 4), node('controller-1', 'controller', undefined)];
    procs.table.set(3, ['/usr/bin/postgres']);
    const report = await stopNodes(nodes, { graceMs: 100, probe: procs, kill: procs.kill, pollMs: 1 });
    expect(procs.signals).toEqual([]);
    expect(report.replaced).toEqual(['broker-1']);
    expect(report.gone.sort()).toEqual(['broker-2', 'controller-1']);
    expect(procs.table.get(3)).toEqual(['/usr/bin/postgres']);
  });
});

describe('planning a local cluster', () => {
  it('gives separate controllers and brokers their ports, metrics ports included', () => {
    const plan = planCluster(3, 3, false, 9092, '/data');
    expect(plan.map((n) => [n.name, n.nodeId, n.roles, n.brokerPort, n.controllerPort, n.metricsPort])).toEqual([
      ['controller-1', 1, 'controller', undefined, 9093, 9095],
      ['controller-2', 2, 'controller', undefined, 9193, 9195],
      ['controller-3', 3, 'controller', undefined, 9293, 9295],
      ['broker-4', 4, 'broker', 9092, undefined, 9094],
      ['broker-5', 5, 'broker', 9192, undefined, 9194],
      ['broker-6', 6, 'broker', 9292, undefined, 9294],
    ]);
    // Named by node id, as the cluster reports its nodes; combined nodes past the quorum are brokers.
    expect(planCluster(3, 1, true, 9092, '/data').map((n) => [n.name, n.nodeId, n.roles])).toEqual([
      ['node-1', 1, 'broker,controller'],
      ['broker-2', 2, 'broker'],
      ['broker-3', 3, 'broker'],
    ]);
    const ports = plan.flatMap((n) => [n.brokerPort, n.controllerPort, n.metricsPort]).filter((p) => p !== undefined);
    expect(new Set(ports).size).toBe(ports.length);
    expect(planCluster(1, 1, false, 9092, '/data', false).every((n) => n.metricsPort === undefined)).toBe(true);
  });

  it("writes each node's samsa node command line", () => {
    const records = nodeRecords(planCluster(1, 1, true, 9092, '/data'), '127.0.0.1', 'info', '/cli/main.js', '/usr/bin/node');
    expect(records).toHaveLength(1);
    expect(records[0]!.argv).toEqual([
      '/usr/bin/node',
      ...NODE_V8_FLAGS,
      '/cli/main.js',
      'node',
      '--roles',
      'broker,controller',
      '--node-id',
      '1',
      '--controller-quorum-voters',
      '1@127.0.0.1:9093',
      '--data-dir',
      '/data/node-1',
      '--log-level',
      'info',
      '--listen',
      '127.0.0.1:9092',
      '--offsets-topic-replication-factor',
      '1',
      '--metrics-port',
      '9094',
      '--metrics-host',
      '127.0.0.1',
    ]);
    // Three brokers meet Kafka's default offsets.topic.replication.factor: nothing is added.
    const three = nodeRecords(planCluster(3, 1, false, 9092, '/data'), '127.0.0.1', 'info');
    expect(three.every((r) => !r.argv.includes('--offsets-topic-replication-factor'))).toBe(true);
    expect(records[0]!.logFile).toBe('/data/node-1/node.log');
  });

  it('finds planned ports another process already listens on', async () => {
    const port = await freePort();
    // The combined node's controller listens on base + 1.
    const records = nodeRecords(planCluster(1, 1, true, port - 1, '/data'), '127.0.0.1', 'info');
    const entry = `127.0.0.1:${port} (node-1 controller)`;
    expect(await portsInUse(records, '127.0.0.1')).not.toContain(entry);
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    try {
      expect(await portsInUse(records, '127.0.0.1')).toContain(entry);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
