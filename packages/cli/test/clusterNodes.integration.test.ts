/**
 * A local cluster you can break and mend: `cluster up` in the foreground survives a SIGKILLed
 * broker (it reports the exit, status shows the node down, an acks=all producer keeps being
 * served), a producer to a partition left without a leader warns while it waits and fails after
 * delivery.timeout.ms, `cluster restart --node` brings the broker back into the ISR, `cluster up`
 * on the partly running cluster starts the missing node, and `cluster down` leaves no process,
 * restarted ones included. One cluster for the whole file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterState } from '../src/cluster/state.js';
import { waitFor } from '@samsa/testkit';
import { CLI, freePort, removeDir, runCliAsync, stopProcess, tempDir } from './helpers/processes.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('a local cluster you can break and mend', () => {
  let dataDir: string;
  let base: number;
  let up: ChildProcess;
  let out = '';
  let samsa: Samsa;
  /** Every PID the cluster recorded at any time (killed only if still alive, in afterAll). */
  const seen = new Set<number>();
  const state = () => JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as ClusterState;
  const pidOf = (name: string) => state().nodes.find((n) => n.name === name)!.pid!;
  const remember = () => {
    for (const n of state().nodes) if (n.pid) seen.add(n.pid);
  };
  const cli = (...args: string[]) => runCliAsync([...args, '--data-dir', dataDir], { timeoutMs: 90_000 });
  const bootstrap = () => `127.0.0.1:${base}`;

  beforeAll(async () => {
    dataDir = tempDir('cluster-nodes');
    base = 20_000 + ((await freePort()) % 12_000);
    up = spawn(process.execPath, [CLI, 'cluster', 'up', '--data-dir', dataDir, '--base-port', String(base), '--no-metrics'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    up.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(
      'the cluster to be ready',
      () => {
        if (up.exitCode !== null) throw new Error(`cluster up exited ${up.exitCode}:\n${out}`);
        return out.includes('ready in');
      },
      90_000,
      50,
    );
    remember();
    samsa = new Samsa({
      brokers: [`127.0.0.1:${base}`, `127.0.0.1:${base + 100}`, `127.0.0.1:${base + 200}`],
      retry: { retries: 10, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
    });
    await samsa.connect();
  }, 120_000);

  afterAll(async () => {
    await samsa?.close();
    await stopProcess(up, 'SIGKILL');
    for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
    removeDir(dataDir);
  });

  it('survives a SIGKILLed broker, warns about the leaderless partition, restarts it into the ISR, and stops every process', async () => {
    const admin = samsa.admin();
    await admin.createTopics([{ topic: 'durable', numPartitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    await admin.createTopics([{ topic: 'solo', numPartitions: 3, replicationFactor: 1 }]);
    await waitFor('every partition led', async () =>
      (await admin.describeTopics(['durable', 'solo'])).every((t) => t.partitions.every((p) => p.leader >= 0)),
    );

    // An acks=all producer that keeps writing through the kill.
    const producer = samsa.producer({ acks: -1, lingerMs: 1, deliveryTimeoutMs: 60_000 });
    let acked = 0;
    let producing = true;
    const failures: unknown[] = [];
    const loop = (async () => {
      for (let i = 0; producing && i < 100_000; i++) {
        try {
          await producer.send({ topic: 'durable', messages: [{ key: Buffer.from(`k${i % 10}`), value: Buffer.from(`v${i}`) }] });
          acked++;
        } catch (err) {
          failures.push(err);
        }
      }
    })();
    await waitFor('acks before the kill', () => acked >= 20, 30_000);

    const victim = pidOf('broker-5');
    process.kill(victim, 'SIGKILL');
    await waitFor('cluster up to report the exit', () => out.includes(`samsa: broker-5 (pid ${victim}) exited (SIGKILL)`), 20_000);
    expect(out).toContain('the other nodes serve on; restart it with: samsa cluster start --node broker-5');
    expect(up.exitCode).toBeNull();
    const status = await cli('cluster', 'status');
    expect(status.stdout).toMatch(new RegExp(`^broker-5\\s+5\\s+broker\\s+\\S+\\s+-\\s+-\\s+${victim}\\s+gone\\s+-$`, 'm'));
    expect(status.stdout).toMatch(/^broker-4\s+4\s+broker\s.*running\s+unfenced$/m);

    // The others serve on: acks=all keeps being answered with broker-5 down.
    const afterKill = acked;
    await waitFor('acks after the kill', () => acked >= afterKill + 50, 60_000);

    // A partition whose only replica was broker-5: the console producer warns per partition while it waits, then gives up.
    const solo = (await admin.describeTopics(['solo']))[0]!.partitions.find((p) => p.replicas.includes(5))!;
    const stuck = await runCliAsync(
      [
        'produce',
        '--bootstrap-server',
        bootstrap(),
        '--topic',
        'solo',
        '--partition',
        String(solo.partition),
        '--producer-property',
        'delivery.timeout.ms=4000',
        '--producer-property',
        'retries=2147483647',
        '--timeout',
        '0',
      ],
      { input: 'lost\n', timeoutMs: 60_000 },
    );
    expect(stuck.status).toBe(1);
    expect(stuck.stderr).toMatch(
      new RegExp(
        `^WARN \\[Producer clientId=console-producer\\] .*topic-partition solo-${solo.partition}.*(LEADER_NOT_AVAILABLE|NOT_LEADER_OR_FOLLOWER|NETWORK_EXCEPTION)`,
        'm',
      ),
    );
    expect(stuck.stderr).toMatch(/^samsa: line 1: .*not acknowledged within deliveryTimeoutMs 4000/m);

    // Restart by name: the broker comes back and catches up into every ISR.
    const restarted = await cli('cluster', 'restart', '--node', 'broker-5');
    expect(restarted.stderr).toBe('');
    expect(restarted.status).toBe(0);
    expect(restarted.stdout).toMatch(/^broker-5 \(pid \d+\) registered and unfenced in \d+ ms$/m);
    remember();
    expect(pidOf('broker-5')).not.toBe(victim);
    await waitFor(
      'broker-5 back in every ISR of durable',
      async () => (await admin.describeTopics(['durable']))[0]!.partitions.every((p) => p.isr.includes(5)),
      60_000,
      250,
    );
    await waitFor('cluster up to see it running', () => out.includes(`broker-5 (pid ${pidOf('broker-5')}) is running`), 20_000);

    producing = false;
    await loop;
    await producer.close();
    expect(failures).toEqual([]);

    // Kill by node id, then `cluster up` with the same flags starts just the missing node.
    const killed = await cli('cluster', 'kill', '--node', '6');
    expect(killed.stdout).toMatch(/^broker-6 \(pid \d+\) killed \(SIGKILL\)$/m);
    expect((await cli('cluster', 'status')).stdout).toMatch(/^broker-6\s+6\s+broker\s.*\s+stopped\s+-$/m);
    const again = await runCliAsync(['cluster', 'up', '--data-dir', dataDir, '--base-port', String(base), '--no-metrics'], {
      timeoutMs: 90_000,
    });
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^broker-6 \(pid \d+\) starting$/m);
    expect(again.stdout).toContain('1 node(s) started');
    remember();
    expect(state().nodes.every((n) => alive(n.pid!))).toBe(true);

    // Usage errors: one line, exit 2.
    const unknown = await cli('cluster', 'stop', '--node', 'broker-9');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^samsa: no node 'broker-9' in this cluster; its nodes are controller-1 \(id 1\), /);

    // Down stops the foreground `cluster up` and every recorded process, the restarted ones included.
    const down = await cli('cluster', 'down');
    expect(down.status).toBe(0);
    await waitFor('cluster up to exit', () => up.exitCode !== null, 60_000);
    expect([...seen].filter(alive)).toEqual([]);
  }, 400_000);
});
