/**
 * The broker's metrics as a scraper sees them: gauges computed from the local replicas at scrape
 * time (under-replicated counts only partitions this broker leads), counters bumped by the data
 * path, per-topic series dropped with their topic, and the consumer-group lag gauge empty until a
 * provider is set.
 */
import { rpcObserver } from '@samsa/server';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BrokerMetrics, summarizeTransactions } from '../src/metrics.js';
import type { Partition } from '../src/partition.js';
import { ReplicaFetchSessionCache } from '../src/replication/fetchSessions.js';

interface FakeReplica {
  topic: string;
  partition: number;
  isLeader: boolean;
  isr: number[];
  replicas: number[];
  log: { isClosed: boolean; size: number };
  highWatermark: bigint;
  lastStableOffset: bigint;
  ongoing: Array<{ producerId: bigint; firstOffset: bigint }>;
  ongoingTransactions(): Array<{ producerId: bigint; firstOffset: bigint }>;
}

function replica(topic: string, partition: number, isLeader: boolean, isr: number[], replicas = [1, 2, 3], size = 100): FakeReplica {
  return {
    topic,
    partition,
    isLeader,
    isr,
    replicas,
    log: { isClosed: false, size },
    highWatermark: 0n,
    lastStableOffset: 0n,
    ongoing: [],
    ongoingTransactions() {
      return this.ongoing;
    },
  };
}

async function values(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (metric.values as Array<{ labels: Record<string, string | number>; value: number }>).map(({ labels, value }) => ({
    labels,
    value,
  }));
}

async function value(registry: Registry, name: string): Promise<number> {
  return (await values(registry, name)).reduce((n, v) => n + v.value, 0);
}

function setup(replicas: FakeReplica[]) {
  const registry = new Registry();
  const metrics = new BrokerMetrics(registry, () => replicas as unknown as Partition[]);
  return { registry, metrics };
}

describe('BrokerMetrics', () => {
  it('counts under-replicated partitions among those this broker leads, when scraped', async () => {
    const replicas = [
      replica('a', 0, true, [1, 2, 3]),
      replica('a', 1, true, [1, 2]),
      replica('a', 2, false, [2]), // led elsewhere: the leader reports it, not us
      replica('b', 0, true, [1], [1]), // RF 1 with its one replica in sync: fine
    ];
    const { registry } = setup(replicas);
    expect(await value(registry, 'samsa_broker_under_replicated_partitions')).toBe(1);
    expect(await value(registry, 'samsa_broker_leader_partitions')).toBe(3);
    expect(await value(registry, 'samsa_broker_partitions')).toBe(4);
    replicas[0]!.isr = [1];
    expect(await value(registry, 'samsa_broker_under_replicated_partitions')).toBe(2);
    replicas[0]!.isr = [1, 2, 3];
    replicas[1]!.isr = [1, 2, 3];
    expect(await value(registry, 'samsa_broker_under_replicated_partitions')).toBe(0);
  });

  it("reports each open replica's log size and drops replicas that went away", async () => {
    const replicas = [replica('a', 0, true, [1], [1], 1234), replica('a', 1, false, [2], [2], 99)];
    const { registry } = setup(replicas);
    expect(await values(registry, 'samsa_broker_log_size_bytes')).toEqual([
      { labels: { topic: 'a', partition: '0' }, value: 1234 },
      { labels: { topic: 'a', partition: '1' }, value: 99 },
    ]);
    replicas[0]!.log.isClosed = true;
    replicas.pop();
    expect(await values(registry, 'samsa_broker_log_size_bytes')).toEqual([]);
  });

  it('counts bytes in and out per topic, ISR changes, and forgets a deleted topic', async () => {
    const { registry, metrics } = setup([]);
    metrics.bytesIn('a', 100);
    metrics.bytesIn('a', 50);
    metrics.bytesIn('b', 7);
    metrics.bytesOut('a', 30);
    metrics.bytesOut('b', 0);
    metrics.isrChanged('shrink');
    metrics.isrChanged('shrink');
    metrics.isrChanged('expand');
    expect(await values(registry, 'samsa_broker_topic_bytes_in_total')).toEqual([
      { labels: { topic: 'a' }, value: 150 },
      { labels: { topic: 'b' }, value: 7 },
    ]);
    expect(await values(registry, 'samsa_broker_topic_bytes_out_total')).toEqual([{ labels: { topic: 'a' }, value: 30 }]);
    expect(await value(registry, 'samsa_broker_isr_shrinks_total')).toBe(2);
    expect(await value(registry, 'samsa_broker_isr_expands_total')).toBe(1);
    metrics.topicDeleted('a');
    expect(await values(registry, 'samsa_broker_topic_bytes_in_total')).toEqual([{ labels: { topic: 'b' }, value: 7 }]);
  });

  it('has no consumer-group lag series until a provider is set, then reports what it gives', async () => {
    const { registry, metrics } = setup([]);
    expect(await values(registry, 'samsa_consumer_group_lag')).toEqual([]);
    metrics.setGroupLagProvider(async () => [
      { group: 'g', topic: 'a', partition: 0, lag: 5n },
      { group: 'g', topic: 'a', partition: 1, lag: 0 },
    ]);
    expect(await values(registry, 'samsa_consumer_group_lag')).toEqual([
      { labels: { group: 'g', topic: 'a', partition: '0' }, value: 5 },
      { labels: { group: 'g', topic: 'a', partition: '1' }, value: 0 },
    ]);
    metrics.setGroupLagProvider(undefined);
    expect(await values(registry, 'samsa_consumer_group_lag')).toEqual([]);
  });

  it('reports the fetch sessions the Replication service holds, and their partitions, when scraped', async () => {
    const { registry, metrics } = setup([]);
    expect(await value(registry, 'samsa_broker_incremental_fetch_sessions')).toBe(0);
    const sessions = new ReplicaFetchSessionCache({ now: () => 0, random: Math.random });
    metrics.setFetchSessions(sessions);
    const req = (partition: number) => ({
      topic: 't',
      partition,
      currentLeaderEpoch: 0,
      fetchOffset: 0n,
      lastFetchedEpoch: -1,
      logStartOffset: 0n,
      maxBytes: 1,
    });
    sessions.begin({ replicaId: 2, sessionId: 0, sessionEpoch: 0, partitions: [req(0), req(1)] });
    sessions.begin({ replicaId: 3, sessionId: 0, sessionEpoch: 0, partitions: [req(0)] });
    expect(await value(registry, 'samsa_broker_incremental_fetch_sessions')).toBe(2);
    expect(await value(registry, 'samsa_broker_incremental_fetch_partitions_cached')).toBe(3);
  });

  it("the RPC metrics are registered once per registry, shared by a combined node's roles", async () => {
    const registry = new Registry();
    const a = new BrokerMetrics(registry, () => []);
    const b = rpcObserver(registry);
    a.rpc.observe('samsa.v1.Samsa', 'Produce', 'OK', 0.002);
    b.observe('samsa.v1.Samsa', 'Produce', 'OK', 0.004);
    b.observe('samsa.v1.Samsa', 'Produce', 'UNAVAILABLE', 0.001);
    expect(await values(registry, 'samsa_rpc_requests_total')).toEqual([
      { labels: { service: 'samsa.v1.Samsa', method: 'Produce', code: 'OK' }, value: 2 },
      { labels: { service: 'samsa.v1.Samsa', method: 'Produce', code: 'UNAVAILABLE' }, value: 1 },
    ]);
    const count = (await values(registry, 'samsa_rpc_request_duration_seconds')).filter(
      (v) => (v.labels as { le?: unknown }).le === '+Inf',
    );
    expect(count.map((c) => c.value)).toEqual([3]);
  });

  it('LSO lag: high watermark minus last stable offset of each led partition, read at scrape', async () => {
    const open = { ...replica('t', 0, true, [1]), highWatermark: 10n, lastStableOffset: 4n };
    const settled = { ...replica('t', 1, true, [1]), highWatermark: 7n, lastStableOffset: 7n };
    const follower = { ...replica('t', 2, false, [1]), highWatermark: 9n, lastStableOffset: 1n };
    const { registry } = setup([open, settled, follower]);
    expect(await values(registry, 'samsa_broker_partition_lso_lag')).toEqual([
      { labels: { topic: 't', partition: '0' }, value: 6 },
      { labels: { topic: 't', partition: '1' }, value: 0 },
    ]);
    open.lastStableOffset = 10n;
    expect(await value(registry, 'samsa_broker_partition_lso_lag')).toBe(0);
  });

  it('open transactions per led partition, read at scrape; followers and closed logs have no series', async () => {
    const two = replica('t', 0, true, [1]);
    two.ongoing = [
      { producerId: 7n, firstOffset: 3n },
      { producerId: 9n, firstOffset: 5n },
    ];
    const none = replica('t', 1, true, [1]);
    const follower = replica('t', 2, false, [1]);
    follower.ongoing = [{ producerId: 7n, firstOffset: 0n }]; // its leader reports it
    const closed = replica('u', 0, true, [1]);
    closed.log.isClosed = true;
    const { registry } = setup([two, none, follower, closed]);
    expect(await values(registry, 'samsa_broker_partition_open_transactions')).toEqual([
      { labels: { topic: 't', partition: '0' }, value: 2 },
      { labels: { topic: 't', partition: '1' }, value: 0 },
    ]);
    // A marker ends one transaction; leadership moving away drops the series.
    two.ongoing = [{ producerId: 9n, firstOffset: 5n }];
    none.isLeader = false;
    expect(await values(registry, 'samsa_broker_partition_open_transactions')).toEqual([
      { labels: { topic: 't', partition: '0' }, value: 1 },
    ]);
  });

  it('transaction coordinator gauges: open transactions per coordinator partition and ids per state, empty without a provider', async () => {
    const { registry, metrics } = setup([]);
    expect(await values(registry, 'samsa_txn_coordinator_transactions')).toEqual([]);
    let coordinators = [
      { partition: 3, states: ['Ongoing', 'PrepareCommit', 'CompleteCommit', 'Empty'] },
      { partition: 9, states: ['Ongoing', 'CompleteAbort', 'PrepareEpochFence'] },
      { partition: 11, states: ['Empty'] },
    ];
    metrics.setTransactionStatesProvider(() => coordinators);
    expect(await values(registry, 'samsa_txn_coordinator_open_transactions')).toEqual([
      { labels: { partition: '3' }, value: 2 },
      { labels: { partition: '9' }, value: 2 },
      { labels: { partition: '11' }, value: 0 },
    ]);
    const byState = Object.fromEntries(
      (await values(registry, 'samsa_txn_coordinator_transactions')).map((v) => [v.labels.state, v.value]),
    );
    // All eight states, those with no id at 0.
    expect(byState).toEqual({
      Empty: 2,
      Ongoing: 2,
      PrepareCommit: 1,
      PrepareAbort: 0,
      CompleteCommit: 1,
      CompleteAbort: 1,
      Dead: 0,
      PrepareEpochFence: 1,
    });
    // A partition that moved away drops its series.
    coordinators = [{ partition: 9, states: ['CompleteCommit'] }];
    expect(await values(registry, 'samsa_txn_coordinator_open_transactions')).toEqual([{ labels: { partition: '9' }, value: 0 }]);
    expect(await value(registry, 'samsa_txn_coordinator_transactions')).toBe(1);
    // No coordinator partition led: every state still has its series, at 0.
    expect([...summarizeTransactions([]).byState.values()]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(summarizeTransactions([]).byState.size).toBe(8);
  });
});
