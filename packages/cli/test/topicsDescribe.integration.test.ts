/**
 * `samsa topics --describe --under-replicated-partitions | --unavailable-partitions` against a real
 * cluster (3 controller and 3 broker processes): a healthy RF=3 topic lists nothing; after one
 * broker is SIGKILLed and fenced, its RF=3 partitions are listed as under-replicated and the RF=1
 * partition it hosted as unavailable (Leader: -1). Every wait is bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type ClusterNode, type TestCluster } from './helpers/cluster.js';
import { runCliAsync, stopAll, type CliResult } from './helpers/processes.js';

interface PartitionLine {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Parses kafka-topics style partition lines ("\tTopic: t\tPartition: 0\tLeader: 4\t..."). */
function partitionLines(stdout: string): PartitionLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('\tTopic: '))
    .map((line) => {
      const field = (name: string): string => new RegExp(`\\t${name}: ([^\\t]*)`).exec(line)?.[1] ?? '';
      const ids = (s: string): number[] => (s === '' ? [] : s.split(',').map(Number));
      return {
        topic: field('Topic'),
        partition: Number(field('Partition')),
        leader: Number(field('Leader')),
        replicas: ids(field('Replicas')),
        isr: ids(field('Isr')),
      };
    });
}

describe('topics --describe partition filters', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 3,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: ['--replica-lag-time-max-ms', '1000'],
    });
  }, 90_000);

  afterAll(async () => {
    await stopAll();
    await cluster?.stop();
  });

  const topics = async (bootstrap: string[], ...args: string[]): Promise<CliResult> => {
    const r = await runCliAsync(['topics', '--bootstrap-server', bootstrap.join(','), ...args], { timeoutMs: 20_000 });
    return r;
  };
  const ok = (r: CliResult): string => {
    if (r.status !== 0) throw new Error(`samsa topics exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };

  it('filters need --describe', async () => {
    const r = await topics(cluster.bootstrap, '--list', '--under-replicated-partitions');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--describe');
  });

  it('lists under-replicated and unavailable partitions once a broker is killed and fenced', async () => {
    ok(await topics(cluster.bootstrap, '--create', '--topic', 'rf3', '--partitions', '3', '--replication-factor', '3'));
    ok(await topics(cluster.bootstrap, '--create', '--topic', 'rf1', '--partitions', '3', '--replication-factor', '1'));

    // Healthy: every partition has a leader and a full ISR, so both filters print nothing.
    await waitFor(
      'a full ISR and a leader everywhere',
      async () => {
        const all = partitionLines(ok(await topics(cluster.bootstrap, '--describe')));
        return all.length === 6 && all.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length);
      },
      20_000,
      200,
    );
    expect(ok(await topics(cluster.bootstrap, '--describe', '--under-replicated-partitions'))).toBe('');
    expect(ok(await topics(cluster.bootstrap, '--describe', '--unavailable-partitions'))).toBe('');
    // Unfiltered output still carries the topic header lines.
    expect(ok(await topics(cluster.bootstrap, '--describe', '--topic', 'rf3'))).toMatch(
      /^Topic: rf3\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 3/,
    );

    // Kill the broker that hosts rf1's partition 0.
    const rf1 = partitionLines(ok(await topics(cluster.bootstrap, '--describe', '--topic', 'rf1')));
    const victimId = rf1.find((p) => p.partition === 0)!.replicas[0]!;
    const victim: ClusterNode = cluster.brokers.find((b) => b.nodeId === victimId)!;
    const survivors = cluster.brokers.filter((b) => b !== victim).map((b) => `127.0.0.1:${b.port}`);
    const killedAt = Date.now();
    await cluster.kill(victim, 'SIGKILL');

    // After fencing (session timeout 2 s) every rf3 partition has lost the victim from its ISR.
    const underReplicated = await waitFor(
      'rf3 partitions to be under-replicated',
      async () => {
        const lines = partitionLines(ok(await topics(survivors, '--describe', '--under-replicated-partitions', '--topic', 'rf3')));
        return lines.length === 3 ? lines : undefined;
      },
      30_000,
      250,
    );
    for (const p of underReplicated) {
      expect(p.replicas).toHaveLength(3);
      expect(p.isr).not.toContain(victimId);
      expect(p.isr.length).toBeLessThan(p.replicas.length);
      expect(p.leader).not.toBe(victimId);
      expect(p.leader).toBeGreaterThanOrEqual(0);
    }

    // The RF=1 partitions that lived only on the victim have no leader; nothing else is unavailable.
    const expectedUnavailable = rf1
      .filter((p) => p.replicas.includes(victimId))
      .map((p) => `rf1-${p.partition}`)
      .sort();
    const unavailable = await waitFor(
      'rf1 partitions on the killed broker to be unavailable',
      async () => {
        const lines = partitionLines(ok(await topics(survivors, '--describe', '--unavailable-partitions')));
        return lines.length === expectedUnavailable.length ? lines : undefined;
      },
      30_000,
      250,
    );
    expect(unavailable.map((p) => `${p.topic}-${p.partition}`).sort()).toEqual(expectedUnavailable);
    for (const p of unavailable) expect(p.leader).toBe(-1);
    console.log(`fenced broker ${victimId}: partitions reported after ${Date.now() - killedAt} ms`);

    // Both filters together print the union (Kafka prints each matching partition once).
    const both = partitionLines(ok(await topics(survivors, '--describe', '--under-replicated-partitions', '--unavailable-partitions')));
    const keys = both.map((p) => `${p.topic}-${p.partition}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(expect.arrayContaining([...expectedUnavailable, 'rf3-0', 'rf3-1', 'rf3-2']));
  }, 120_000);
});
