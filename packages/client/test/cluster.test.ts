import { describe, expect, it } from 'vitest';
import {
  BrokerNotAvailableError,
  Cluster,
  ConnectionPool,
  LeaderNotAvailableError,
  SamsaConnectionError,
  UnknownTopicOrPartitionError,
  noopLogger,
} from '../src/index.js';
import { FakeClock, FakeCluster } from './fakes.js';

function makeCluster(fake: FakeCluster, seeds: string[], clock = new FakeClock()) {
  const pool = new ConnectionPool(fake.connectionFactory);
  return { cluster: new Cluster({ brokers: seeds, metadataMaxAgeMs: 60_000 }, { pool, clock, logger: noopLogger }), clock, pool };
}

describe('Cluster', () => {
  it('bootstraps from the first reachable seed', async () => {
    const fake = new FakeCluster([1, 2]);
    const { cluster } = makeCluster(fake, ['nowhere:1', fake.addressOf(2)]);
    await cluster.connect();
    expect(cluster.info()).toMatchObject({ clusterId: 'fake-cluster', controllerId: 1 });
    expect(cluster.info().brokers.map((b) => b.address)).toEqual(['broker1:9092', 'broker2:9092']);
    expect(fake.callsOf('metadata').map((c) => c.nodeId)).toEqual([2]);
  });

  it('fails with a SamsaConnectionError naming every broker tried when none answers', async () => {
    const fake = new FakeCluster([1]);
    fake.down.add(fake.addressOf(1));
    const { cluster } = makeCluster(fake, ['broker1:9092', 'other:9']);
    const error = await cluster.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SamsaConnectionError);
    expect((error as Error).message).toMatch(/broker1:9092, other:9/);
    expect((error as Error).cause).toBeInstanceOf(SamsaConnectionError);
  });

  it('creates one connection per broker address and reuses it', async () => {
    const fake = new FakeCluster([1, 2]);
    fake.createTopic('t', 4, [1, 2, 1, 2]);
    const { cluster } = makeCluster(fake, [fake.addressOf(1)]);
    for (let p = 0; p < 4; p++) await cluster.leaderFor('t', p);
    await cluster.refreshMetadata(['t']);
    expect(fake.connectionsMade.sort()).toEqual(['broker1:9092', 'broker2:9092']);
  });

  it('routes a partition to its leader and caches the metadata', async () => {
    const fake = new FakeCluster([1, 2, 3]);
    fake.createTopic('t', 3, [3, 1, 2]);
    const { cluster } = makeCluster(fake, [fake.addressOf(1)]);
    const routes = await Promise.all([0, 1, 2].map((p) => cluster.leaderFor('t', p)));
    expect(routes.map((r) => [r.nodeId, r.connection.address])).toEqual([
      [3, 'broker3:9092'],
      [1, 'broker1:9092'],
      [2, 'broker2:9092'],
    ]);
    // Concurrent lookups of one topic share one Metadata request.
    expect(fake.callsOf('metadata')).toHaveLength(1);
    expect(cluster.cachedLeader('t', 0)?.nodeId).toBe(3);
  });

  it('refreshes stale or expired topics, applies newer leader hints, and drops deleted topics', async () => {
    const fake = new FakeCluster([1, 2]);
    fake.createTopic('t', 1, [1]);
    const { cluster, clock } = makeCluster(fake, [fake.addressOf(1)]);
    await cluster.topic('t');
    fake.moveLeader('t', 0, 2);
    expect(cluster.cachedLeader('t', 0)?.nodeId).toBe(1);
    cluster.invalidateTopics(['t']);
    expect(cluster.cachedLeader('t', 0)).toBeUndefined();
    expect((await cluster.leaderFor('t', 0)).nodeId).toBe(2);

    cluster.updateLeader('t', 0, { leaderId: 1, leaderEpoch: 0 }); // older epoch: ignored
    expect(cluster.cachedLeader('t', 0)?.nodeId).toBe(2);
    cluster.updateLeader('t', 0, { leaderId: 1, leaderEpoch: 7 });
    expect(cluster.cachedLeader('t', 0)).toMatchObject({ nodeId: 1, leaderEpoch: 7 });

    clock.time += 61_000; // past metadataMaxAgeMs
    expect(cluster.cachedTopic('t')).toBeUndefined();
    fake.topics.delete('t');
    await expect(cluster.topic('t')).rejects.toBeInstanceOf(UnknownTopicOrPartitionError);
  });

  it('reports a partition without a leader and an unknown broker as retriable errors', async () => {
    const fake = new FakeCluster([1]);
    fake.createTopic('t', 2, [1, 9]);
    fake.topics.get('t')![0]!.leader = -1;
    const { cluster } = makeCluster(fake, [fake.addressOf(1)]);
    const noLeader = await cluster.leaderFor('t', 0).catch((e: unknown) => e);
    expect(noLeader).toBeInstanceOf(LeaderNotAvailableError);
    expect(noLeader).toMatchObject({ retriable: true, topic: 't', partition: 0 });
    await expect(cluster.leaderFor('t', 1)).rejects.toBeInstanceOf(BrokerNotAvailableError);
    await expect(cluster.leaderFor('t', 5)).rejects.toBeInstanceOf(UnknownTopicOrPartitionError);
  });

  it('validates seed addresses', () => {
    const fake = new FakeCluster([1]);
    expect(() => makeCluster(fake, [])).toThrow(/at least one/);
    expect(() => makeCluster(fake, ['no-port'])).toThrow(/host:port/);
  });

  it('keeps a newer leader epoch than a lagging Metadata answer of the same topic id (Kafka: never back to an older epoch)', async () => {
    const fake = new FakeCluster([1, 2]);
    fake.createTopic('t', 2, [1, 1]);
    fake.topicIds.set('t', 'id-1');
    fake.moveLeader('t', 0, 2); // epoch 1 at broker 2
    const { cluster } = makeCluster(fake, [fake.addressOf(1)]);
    await cluster.refreshMetadata(['t']);
    expect(cluster.cachedLeader('t', 0)).toMatchObject({ nodeId: 2, leaderEpoch: 1 });
    // A broker whose metadata lags answers the old registration of t-0 (and t-1 unchanged).
    const p0 = fake.topics.get('t')![0]!;
    p0.leader = 1;
    p0.leaderEpoch = 0;
    fake.moveLeader('t', 1, 2); // t-1 moves on: epoch 1
    await cluster.refreshMetadata(['t']);
    expect(cluster.cachedLeader('t', 0)).toMatchObject({ nodeId: 2, leaderEpoch: 1 });
    expect(cluster.cachedLeader('t', 1)).toMatchObject({ nodeId: 2, leaderEpoch: 1 });
    // A re-created topic (a new id) starts again at epoch 0: taken as answered.
    fake.topicIds.set('t', 'id-2');
    await cluster.refreshMetadata(['t']);
    expect(cluster.cachedLeader('t', 0)).toMatchObject({ nodeId: 1, leaderEpoch: 0 });
    // Without topic ids the answer is taken as it is too.
    fake.topicIds.delete('t');
    fake.moveLeader('t', 0, 2);
    await cluster.refreshMetadata(['t']);
    p0.leader = 1;
    p0.leaderEpoch = 0;
    await cluster.refreshMetadata(['t']);
    expect(cluster.cachedLeader('t', 0)).toMatchObject({ nodeId: 1, leaderEpoch: 0 });
  });
});
