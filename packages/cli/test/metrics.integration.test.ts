/**
 * The Prometheus endpoint of real `samsa node` processes: three controllers and three brokers
 * with metrics ports. Under-replicated partitions rise on the surviving leaders when a broker is
 * SIGKILLed (the ISR shrinks, counted) and return to 0 once it is back and caught up (the ISR
 * expands, counted); exactly one controller reports itself active; produce shows up as bytes in
 * and as RPC counts; every log line of every node carries its node id.
 */
import { Samsa, serdes } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type ClusterNode, type TestCluster } from './helpers/cluster.js';
import { removeDir, startNode, stopProcess, tempDir } from './helpers/processes.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, the lines we need: `name{a="x",b="y"} value`. */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

async function scrape(node: Pick<ClusterNode, 'metricsPort'>): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseMetrics(await res.text());
}

function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** The sum of one metric over the nodes (each scraped now). */
async function sumOver(nodes: ClusterNode[], name: string, labels: Record<string, string> = {}): Promise<number> {
  let n = 0;
  for (const node of nodes) n += total(await scrape(node), name, labels);
  return n;
}

describe('metrics on every node', () => {
  let cluster: TestCluster;
  let samsa: Samsa;

  beforeAll(async () => {
    cluster = await startCluster({
      metrics: true,
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 4_000,
      brokerArgs: ['--replica-lag-time-max-ms', '1000'],
    });
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 5_000 });
  }, 90_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  it('reports the active controller, bytes in and RPCs, and node ids on every series', async () => {
    await samsa
      .admin()
      .createTopics([{ topic: 'metered', numPartitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const producer = samsa.producer({ key: serdes.string, value: serdes.string });
    await producer.send({ topic: 'metered', messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `value-${i}` })) });

    await waitFor(
      'exactly one active controller',
      async () => (await sumOver(cluster.controllers, 'samsa_controller_active')) === 1,
      20_000,
    );
    const active = await cluster.activeController();
    const activeSamples = await scrape(active);
    expect(total(activeSamples, 'samsa_controller_active')).toBe(1);
    expect(total(activeSamples, 'samsa_controller_global_partitions')).toBe(3);
    expect(total(activeSamples, 'samsa_controller_offline_partitions')).toBe(0);
    expect(total(activeSamples, 'samsa_raft_commit_latency_seconds_count')).toBeGreaterThan(0);
    expect(
      total(activeSamples, 'samsa_rpc_requests_total', { service: 'samsa.v1.Controller', method: 'BrokerHeartbeat', code: 'OK' }),
    ).toBeGreaterThan(0);

    const brokerSamples = await Promise.all(cluster.brokers.map(scrape));
    const all = brokerSamples.flat();
    // Each batch's bytes are counted once, by its leader.
    expect(total(all, 'samsa_broker_topic_bytes_in_total', { topic: 'metered' })).toBeGreaterThan(30 * 'value-0'.length);
    expect(total(all, 'samsa_rpc_requests_total', { service: 'samsa.v1.Samsa', method: 'Produce', code: 'OK' })).toBeGreaterThan(0);
    expect(
      total(all, 'samsa_rpc_request_duration_seconds_count', { service: 'samsa.v1.Replication', method: 'ReplicaFetch' }),
    ).toBeGreaterThan(0);
    expect(total(all, 'samsa_broker_leader_partitions')).toBe(3);
    expect(total(all, 'samsa_broker_partitions')).toBe(9);
    // Every replica's log holds the records once replicated.
    await waitFor(
      'every replica to hold the records',
      async () => {
        const sizes = (await Promise.all(cluster.brokers.map(scrape)))
          .flat()
          .filter((s) => s.name === 'samsa_broker_log_size_bytes' && s.labels.topic === 'metered');
        return (
          sizes.length === 9 &&
          sizes.reduce((n, s) => n + s.value, 0) === 3 * total(all, 'samsa_broker_topic_bytes_in_total', { topic: 'metered' })
        );
      },
      20_000,
    );
    expect(total(all, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    // Each of the three leaders holds one incremental fetch session (KIP-227) per follower, each
    // with the one partition that follower fetches from it.
    await waitFor(
      'a fetch session per (follower, leader) pair',
      async () => (await sumOver(cluster.brokers, 'samsa_broker_incremental_fetch_sessions')) === 6,
      20_000,
    );
    expect(await sumOver(cluster.brokers, 'samsa_broker_incremental_fetch_partitions_cached')).toBe(6);
    for (const [i, samples] of brokerSamples.entries()) {
      expect(samples.every((s) => s.labels.node_id === String(cluster.brokers[i]!.nodeId))).toBe(true);
    }
  }, 60_000);

  it('under-replicated partitions rise when a broker is killed and return to 0 once it is back', async () => {
    expect(await sumOver(cluster.brokers, 'samsa_broker_under_replicated_partitions')).toBe(0);
    const victim = cluster.brokers[2]!;
    const survivors = cluster.brokers.filter((b) => b !== victim);
    const shrinksBefore = await sumOver(survivors, 'samsa_broker_isr_shrinks_total');
    await cluster.kill(victim, 'SIGKILL');

    // Every partition has the victim as a replica: the survivors' partitions lose it from the ISR.
    const urp = await waitFor(
      'under-replicated partitions on the surviving leaders',
      async () => {
        const n = await sumOver(survivors, 'samsa_broker_under_replicated_partitions');
        return n > 0 ? n : undefined;
      },
      20_000,
    );
    expect(urp).toBeGreaterThan(0);
    expect(await sumOver(survivors, 'samsa_broker_isr_shrinks_total')).toBeGreaterThan(shrinksBefore);
    // The controller fences it after the session timeout; RF=3 keeps every partition led.
    await waitFor(
      'the active controller to count the fenced broker',
      async () => (await sumOver(cluster.controllers, 'samsa_controller_fenced_brokers')) === 1,
      20_000,
    );
    expect(await sumOver(cluster.controllers, 'samsa_controller_offline_partitions')).toBe(0);
    await waitFor(
      'all 3 partitions under-replicated',
      async () => (await sumOver(survivors, 'samsa_broker_under_replicated_partitions')) === 3,
      20_000,
    );

    const expandsBefore = await sumOver(survivors, 'samsa_broker_isr_expands_total');
    await cluster.start(victim);
    await waitFor(
      'no under-replicated partition on any broker',
      async () => (await sumOver(cluster.brokers, 'samsa_broker_under_replicated_partitions')) === 0,
      30_000,
    );
    expect(await sumOver(cluster.brokers, 'samsa_broker_isr_expands_total')).toBeGreaterThan(expandsBefore);
    expect(await sumOver(cluster.controllers, 'samsa_controller_fenced_brokers')).toBe(0);
  }, 90_000);

  it('every log line of every node is JSON with its node id', () => {
    for (const node of [...cluster.controllers, ...cluster.brokers]) {
      const lines = node.output.split('\n').filter((l) => l.trim() !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const entry = JSON.parse(line) as { nodeId?: number };
        expect(entry.nodeId, `${node.name}: ${line}`).toBe(node.nodeId);
      }
    }
  });
});

describe('samsa node --metrics-port 0', () => {
  it('picks a free port, logs it, and serves both roles of a combined node from one registry', async () => {
    const dataDir = tempDir('metrics-combined');
    const node = await startNode({ dataDir, extraArgs: ['--metrics-port', '0'] });
    try {
      const logged = node
        .output()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; metricsPort?: number })
        .find((l) => l.metricsPort !== undefined);
      expect(logged?.msg).toBe(`metrics at http://127.0.0.1:${logged?.metricsPort}/metrics`);
      const port = logged!.metricsPort!;
      expect(port).toBeGreaterThan(0);
      await waitFor(
        'the combined node to be the active controller',
        async () => total(await scrape({ metricsPort: port }), 'samsa_controller_active') === 1,
        20_000,
      );
      const samples = await scrape({ metricsPort: port });
      expect(total(samples, 'samsa_broker_under_replicated_partitions')).toBe(0);
      // One series per service method, whichever role served it.
      expect(total(samples, 'samsa_rpc_requests_total', { service: 'samsa.v1.Controller', method: 'RegisterBroker' })).toBeGreaterThan(0);
      const notFound = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
      expect(notFound.status).toBe(404);
    } finally {
      await stopProcess(node.child, 'SIGTERM');
      removeDir(dataDir);
    }
  }, 60_000);
});
