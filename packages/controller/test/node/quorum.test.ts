/**
 * Three controllers over real gRPC: one active controller is elected and serves writes; followers
 * redirect; the quorum fails over when the active controller goes (gracefully or abruptly); writes
 * need a majority and never half-apply; a restarted controller recovers from LevelDB.
 */
import { ErrorCode, errorInfo } from '@samsa/protocol';
import type { DescribeQuorumResponse__Output, RegisterBrokerResponse__Output } from '@samsa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { TestCluster, registerAndUnfence } from './helpers.js';
import type { ClusterOptions } from './helpers.js';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  cluster = await TestCluster.create(3, options);
  await cluster.startAll();
  return cluster;
}

/** Waits until every running controller's image is the same (compared as snapshot records). */
async function imagesConverge(c: TestCluster, timeoutMs = 5_000): Promise<unknown[]> {
  return waitFor(
    'identical images on every running controller',
    () => {
      const images = [...c.snapshots().values()].map((s) => JSON.stringify(s));
      return images.every((i) => i === images[0]) ? c.snapshots().values().next().value : undefined;
    },
    timeoutMs,
  );
}

function others(c: TestCluster, id: number): number[] {
  return [...c.nodes.keys()].filter((n) => n !== id);
}

describe('a three-controller quorum', () => {
  it('elects exactly one active controller, and a topic created through it reaches every image', async () => {
    const c = await startCluster();
    const active = await c.waitForActive();
    const followers = others(c, active.nodeId);
    await waitFor('followers to know the leader', () => followers.every((id) => c.node(id).leaderId() === active.nodeId), 3_000);
    expect(followers.map((id) => c.node(id).isActive())).toEqual([false, false]);

    await registerAndUnfence(c, active.nodeId, [101, 102, 103]);
    const created = await c.createTopic(active.nodeId, 'orders', 6, 3);
    expect(created.topics[0]).toMatchObject({ name: 'orders', errorCode: 0, numPartitions: 6, replicationFactor: 3 });
    // The answer comes after the entry is applied on the active controller.
    expect(active.image().topic('orders')?.partitions).toHaveLength(6);

    const image = await imagesConverge(c);
    expect(JSON.stringify(image)).toContain('"orders"');
    const leaders = active
      .image()
      .topic('orders')!
      .partitions.map((p) => p.leader);
    expect(new Set(leaders)).toEqual(new Set([101, 102, 103])); // leaders spread over the brokers

    const quorum = await c.call<DescribeQuorumResponse__Output>(active.nodeId, 'DescribeQuorum', {});
    expect(quorum).toMatchObject({ errorCode: 0, leaderId: active.nodeId });
    expect(quorum.voters.map((v) => v.voterId)).toEqual([1, 2, 3]);
    expect(Number(quorum.highWatermark)).toBeGreaterThan(0);
    expect(Number(quorum.leaderEpoch)).toBeGreaterThan(0);
    await waitFor(
      'every voter caught up in DescribeQuorum',
      async () => {
        const q = await c.call<DescribeQuorumResponse__Output>(active.nodeId, 'DescribeQuorum', {});
        return q.voters.every((v) => v.lag === '0' && Number(v.logEndOffset) === Number(q.highWatermark) + 1);
      },
      3_000,
    );
  });

  it('answers a write sent to a follower with NOT_CONTROLLER naming the active controller', async () => {
    const c = await startCluster();
    const active = await c.waitForActive();
    const follower = others(c, active.nodeId)[0]!;
    await waitFor('the follower to know the leader', () => c.node(follower).leaderId() === active.nodeId, 3_000);

    const registered = await c.call<RegisterBrokerResponse__Output>(follower, 'RegisterBroker', {
      brokerId: 1,
      incarnationId: 'x',
      host: 'h',
      port: 9092,
    });
    expect(registered).toMatchObject({ errorCode: ErrorCode.NOT_CONTROLLER, leaderId: active.nodeId });
    expect(errorInfo(registered.errorCode).retriable).toBe(true);

    const created = await c.createTopic(follower, 'nope');
    expect(created.topics[0]).toMatchObject({ errorCode: ErrorCode.NOT_CONTROLLER });
    // The redirect is in fields, not in the sentence: leader_id and the term it leads in.
    expect(created.leaderId).toBe(active.nodeId);

    const quorum = await c.call<DescribeQuorumResponse__Output>(follower, 'DescribeQuorum', {});
    expect(quorum).toMatchObject({ errorCode: ErrorCode.NOT_CONTROLLER, leaderId: active.nodeId });
    expect(created.leaderEpoch).toBe(Number(quorum.leaderEpoch));
    expect(registered.leaderEpoch).toBe(Number(quorum.leaderEpoch));
    expect(active.image().topic('nope')).toBeUndefined();
  });

  it('fails over when the active controller closes or crashes, and serves writes again', async () => {
    const c = await startCluster();
    let active = await c.waitForActive();
    await registerAndUnfence(c, active.nodeId, [101]);
    expect((await c.createTopic(active.nodeId, 'before')).topics[0]!.errorCode).toBe(0);

    for (const crash of [false, true]) {
      const old = active.nodeId;
      const started = Date.now();
      await c.stop(old, crash);
      active = await c.waitForActive(5_000);
      const failoverMs = Date.now() - started;
      console.log(
        `failover after ${crash ? 'a crash' : 'a graceful close'} of controller ${old}: controller ${active.nodeId} active after ${failoverMs} ms`,
      );
      expect(active.nodeId).not.toBe(old);

      const name = crash ? 'after-crash' : 'after-close';
      expect((await c.createTopic(active.nodeId, name)).topics[0]!.errorCode).toBe(0);
      await c.start(old); // back on the same data dir; it catches up
      const image = await imagesConverge(c);
      expect(JSON.stringify(image)).toContain(`"${name}"`);
    }
  });

  it('commits with one controller down, fails retriably with two down, and never half-creates a topic', async () => {
    const c = await startCluster();
    let active = await c.waitForActive();
    await registerAndUnfence(c, active.nodeId, [101, 102, 103]);

    /** Stops both followers of the active controller and sends it a CreateTopics it cannot commit. */
    const createWithoutMajority = async (name: string) => {
      const [f1, f2] = others(c, active.nodeId) as [number, number];
      await c.stop(f1, true);
      expect((await c.createTopic(active.nodeId, `${name}-one-down`, 3, 3)).topics[0]!.errorCode).toBe(0);
      await c.stop(f2, true);
      const started = Date.now();
      const failed = await c.createTopic(active.nodeId, name, 8, 3, 2_000);
      const elapsed = Date.now() - started;
      const { errorCode } = failed.topics[0]!;
      console.log(`CreateTopics with two of three controllers down: ${errorInfo(errorCode).name} after ${elapsed} ms`);
      expect([ErrorCode.NOT_CONTROLLER, ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE, ErrorCode.REQUEST_TIMED_OUT]).toContain(errorCode);
      expect(errorInfo(errorCode).retriable).toBe(true);
      // Without a majority the lone controller steps down (check-quorum) and stops serving writes.
      await waitFor('the lone controller to step down', () => !c.node(active.nodeId).isActive(), 3_000);
      return [f1, f2] as const;
    };

    // 1. Everyone returns: the old leader's log is the longest, so its pending entry may commit now.
    const [a1, a2] = await createWithoutMajority('pending-1');
    await Promise.all([c.start(a1), c.start(a2)]);
    active = await c.waitForActive(5_000);
    await imagesConverge(c);
    const first = active.image().topic('pending-1');
    if (first !== undefined) expect(first.partitions).toHaveLength(8);
    console.log(
      `with the old leader back, the topic proposed without a majority is ${first === undefined ? 'absent' : 'present with all 8 partitions'}`,
    );
    expect([0, ErrorCode.TOPIC_ALREADY_EXISTS]).toContain((await c.createTopic(active.nodeId, 'pending-1', 8, 3)).topics[0]!.errorCode);

    // 2. The old leader stays away while the others elect: its pending entry is dropped, and when it
    //    returns, the conflicting suffix of its log (LevelDB included) is replaced.
    const oldLeader = active.nodeId;
    const [b1, b2] = await createWithoutMajority('pending-2');
    await c.stop(oldLeader, true);
    await Promise.all([c.start(b1), c.start(b2)]);
    active = await c.waitForActive(5_000);
    expect(active.image().topic('pending-2')).toBeUndefined();
    expect((await c.createTopic(active.nodeId, 'recovered', 2, 2)).topics[0]!.errorCode).toBe(0);
    await c.start(oldLeader);
    const images = JSON.stringify(await imagesConverge(c));
    expect(images).not.toContain('"pending-2"');
    expect(images).toContain('"recovered"');
    expect(images).toContain('"pending-2-one-down"');
  });

  it('recovers a restarted controller from LevelDB (hard state, log and snapshot) and catches it up', async () => {
    const c = await startCluster({ snapshotEveryEntries: 4 });
    const active = await c.waitForActive();
    await registerAndUnfence(c, active.nodeId, [101, 102]);
    for (let i = 0; i < 6; i++) expect((await c.createTopic(active.nodeId, `t${i}`, 2, 2)).topics[0]!.errorCode).toBe(0);
    const before = await imagesConverge(c);

    // Stop everything, then start one controller alone: without a quorum nothing new can commit,
    // so its image can only come from its own disk.
    await Promise.all([...c.nodes.keys()].map((id) => c.stop(id)));
    const alone = await c.start(3);
    await waitFor('the image recovered from LevelDB', () => JSON.stringify(alone.image().toSnapshot()) === JSON.stringify(before), 3_000);
    expect(alone.isActive()).toBe(false);

    await Promise.all([c.start(1), c.start(2)]);
    const leader = await c.waitForActive(5_000);
    expect((await c.createTopic(leader.nodeId, 'after-restart', 1, 2)).topics[0]!.errorCode).toBe(0);
    const after = await imagesConverge(c);
    expect(JSON.stringify(after)).toContain('"after-restart"');
  });
});
