/**
 * The Controller API as a broker sees it, over real gRPC against a three-controller quorum: a
 * registered broker starts fenced and is unfenced only once its metadata has caught up; a broker
 * that stops heartbeating is fenced after the session timeout and its leaderships move within the
 * ISR; FetchMetadata long-polls; the remaining writes (AlterPartition, configs, producer ids,
 * DeleteTopics) map their answers.
 */
import { decodeMetadataEntry } from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import type {
  AllocateProducerIdsResponse__Output,
  AlterPartitionResponse__Output,
  BrokerHeartbeatResponse__Output,
  DeleteTopicsResponse__Output,
  FetchMetadataResponse__Output,
  IncrementalAlterConfigsResponse__Output,
  RegisterBrokerResponse__Output,
} from '@samsa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giveUp, manualTimers, waitFor } from '@samsa/testkit';
import { TestCluster, registerAndUnfence } from './helpers.js';

// This quorum runs on the wall clock and these tests heartbeat by hand: at 1 s a loaded machine
// let registered brokers lapse before the calls that needed them unfenced (CreateTopics answered
// INVALID_REPLICATION_FACTOR). The fencing case below runs on a clock of its own instead.
const SESSION_TIMEOUT_MS = 4_000;
let c: TestCluster;
let activeId: number;
/** Brokers registered by earlier tests, which later tests keep alive. */
const registered = new Map<number, string>();

beforeAll(async () => {
  c = await TestCluster.create(3, { brokerSessionTimeoutMs: SESSION_TIMEOUT_MS });
  await c.startAll();
  activeId = (await c.waitForActive()).nodeId;
});

afterAll(async () => {
  await c?.destroy();
});

function heartbeat(
  brokerId: number,
  brokerEpoch: string,
  currentMetadataOffset: number | string,
): Promise<BrokerHeartbeatResponse__Output> {
  return c.call(activeId, 'BrokerHeartbeat', {
    brokerId,
    brokerEpoch,
    currentMetadataOffset: String(currentMetadataOffset),
    wantFence: false,
    wantShutDown: false,
  });
}

function fetchMetadata(id: number, fromOffset: number, maxWaitMs: number): Promise<FetchMetadataResponse__Output> {
  return c.call(id, 'FetchMetadata', { fromOffset, maxWaitMs, maxEntries: 0, brokerId: -1 });
}

describe('brokers against the controller quorum', () => {
  it('registers a broker fenced and unfences it only once its metadata offset reaches its registration', async () => {
    const reg = await c.call<RegisterBrokerResponse__Output>(activeId, 'RegisterBroker', {
      brokerId: 1,
      incarnationId: 'inc-a',
      host: 'b1.test',
      port: 9092,
      rack: 'r1',
    });
    expect(reg).toMatchObject({ errorCode: 0, leaderId: activeId });
    const epoch = reg.brokerEpoch;
    registered.set(1, epoch);
    // The epoch is the offset the RegisterBroker entry landed at.
    const log = await fetchMetadata(activeId, Number(epoch), 0);
    expect(decodeMetadataEntry(log.entries[0]!.data)[0]).toMatchObject({
      type: 'RegisterBroker',
      brokerId: 1,
      brokerEpoch: epoch,
      fenced: true,
    });
    expect(c.node(activeId).image().broker(1)).toMatchObject({ fenced: true, rack: 'r1' });

    const behind = await heartbeat(1, epoch, Number(epoch) - 1);
    expect(behind).toMatchObject({ errorCode: 0, isFenced: true, isCaughtUp: false, leaderId: activeId });
    const caughtUp = await heartbeat(1, epoch, epoch);
    expect(caughtUp).toMatchObject({ errorCode: 0, isFenced: false, isCaughtUp: true });
    await waitFor(
      'every image to show broker 1 unfenced',
      () => [...c.nodes.values()].every((n) => n.image().broker(1)?.fenced === false),
      3_000,
    );

    const stale = await heartbeat(1, String(Number(epoch) - 1), epoch);
    expect(stale.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });

  it('serves FetchMetadata from any controller, no-ops included, and long-polls until an entry commits', async () => {
    // The earlier tests' brokers no longer heartbeat: once all are fenced, no FenceBroker entry can
    // commit behind this test's back (one woke the long poll below instead of the write). The
    // follower asked below must have applied the fencing too, or its high watermark stops short
    // of it and the idle poll receives it.
    const follower = [...c.nodes.keys()].find((id) => id !== activeId)!;
    await waitFor(
      'the earlier brokers to be fenced, on the active controller and the follower',
      () =>
        [activeId, follower].every((id) =>
          c
            .node(id)
            .image()
            .brokers()
            .every((b) => b.fenced),
        ),
      SESSION_TIMEOUT_MS * 4,
    );
    const all = await fetchMetadata(follower, 1, 0);
    expect(all).toMatchObject({ errorCode: 0, hasSnapshot: false, leaderId: activeId });
    all.entries.forEach((e, i) => expect(Number(e.offset)).toBe(i + 1));
    expect(all.entries.some((e) => e.data.byteLength === 0)).toBe(true); // the leaders' no-ops
    const hw = Number(all.highWatermark);
    expect(Number(all.entries.at(-1)!.offset)).toBe(hw);

    // Nothing new: the poll ends after max_wait_ms with no entries.
    let started = Date.now();
    const idle = await fetchMetadata(follower, hw + 1, 200);
    expect(idle.entries).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    // Something new: the poll that is waiting when the write commits carries the new entry (an
    // expired poll answers empty). How soon after the write is printed, not asserted.
    started = Date.now();
    const armedBefore = c.timers.get(follower)!.armedFor(5_000);
    const poll = fetchMetadata(follower, hw + 1, 5_000);
    // The write goes out once the follower holds the poll (it arms the poll's 5 s wait), not after a guess.
    await waitFor('the follower to hold the long poll', () => c.timers.get(follower)!.armedFor(5_000) > armedBefore, 3_000);
    const writeAt = Date.now();
    // A registration commits whatever the other brokers' state (a topic would need an unfenced one).
    const registered = await c.call<{ errorCode: number }>(activeId, 'RegisterBroker', {
      brokerId: 31,
      incarnationId: `inc-31-${Date.now()}`,
      host: 'broker-31.test',
      port: 9092,
    });
    expect(registered.errorCode).toBe(0);
    const res = await poll;
    console.log(
      `FetchMetadata long-poll answered ${Date.now() - writeAt} ms after the write was sent (waited ${Date.now() - started} ms in all)`,
    );
    expect(Number(res.entries[0]!.offset)).toBe(hw + 1);
    const records = res.entries.filter((e) => e.data.byteLength > 0).flatMap((e) => decodeMetadataEntry(e.data));
    expect(records).toContainEqual(expect.objectContaining({ type: 'RegisterBroker', brokerId: 31 }));
  });

  it('maps AlterPartition, IncrementalAlterConfigs, AllocateProducerIds and DeleteTopics', async () => {
    const epochs = await registerAndUnfence(c, activeId, [21, 22]);
    await c.call(activeId, 'CreateTopics', {
      topics: [{ name: 'shrink', numPartitions: 1, replicationFactor: 2, configs: {} }],
      timeoutMs: 5_000,
    });
    const p = c.node(activeId).image().topic('shrink')!.partitions[0]!;
    const follower = p.replicas.find((r) => r !== p.leader)!;

    const altered = await c.call<AlterPartitionResponse__Output>(activeId, 'AlterPartition', {
      brokerId: p.leader,
      brokerEpoch: epochs.get(p.leader),
      topics: [
        {
          name: 'shrink',
          partitions: [{ partition: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, newIsr: [p.leader] }],
        },
      ],
    });
    expect(altered.errorCode).toBe(0);
    expect(altered.leaderId).toBe(activeId);
    expect(altered.leaderEpoch).toBeGreaterThan(0);
    expect(altered.topics[0]!.partitions[0]).toMatchObject({
      errorCode: 0,
      leaderId: p.leader,
      isr: [p.leader],
      partitionEpoch: p.partitionEpoch + 1,
    });
    expect(c.node(activeId).image().topic('shrink')!.partitions[0]!.isr).toEqual([p.leader]);

    const staleCas = await c.call<AlterPartitionResponse__Output>(activeId, 'AlterPartition', {
      brokerId: p.leader,
      brokerEpoch: epochs.get(p.leader),
      topics: [
        {
          name: 'shrink',
          partitions: [{ partition: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, newIsr: [p.leader, follower] }],
        },
      ],
    });
    expect(staleCas.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    const staleEpoch = await c.call<AlterPartitionResponse__Output>(activeId, 'AlterPartition', {
      brokerId: p.leader,
      brokerEpoch: '1',
      topics: [],
    });
    expect(staleEpoch.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);

    const configs = await c.call<IncrementalAlterConfigsResponse__Output>(activeId, 'IncrementalAlterConfigs', {
      resources: [
        { resourceType: 2, resourceName: 'shrink', configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }] },
        { resourceType: 2, resourceName: 'missing', configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }] },
        { resourceType: 99, resourceName: 'what', configs: [] },
      ],
      validateOnly: false,
    });
    expect(configs.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode])).toEqual([
      [2, 'shrink', 0],
      [2, 'missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [99, 'what', ErrorCode.INVALID_REQUEST],
    ]);
    expect(c.node(activeId).image().topic('shrink')!.configs.get('retention.ms')).toBe('1000');
    const append = await c.call<IncrementalAlterConfigsResponse__Output>(activeId, 'IncrementalAlterConfigs', {
      resources: [{ resourceType: 2, resourceName: 'shrink', configs: [{ name: 'retention.ms', configOperation: 2, value: '1' }] }],
      validateOnly: false,
    });
    expect(append.responses[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);

    const ids1 = await c.call<AllocateProducerIdsResponse__Output>(activeId, 'AllocateProducerIds', {
      brokerId: 21,
      brokerEpoch: epochs.get(21),
    });
    const ids2 = await c.call<AllocateProducerIdsResponse__Output>(activeId, 'AllocateProducerIds', {
      brokerId: 22,
      brokerEpoch: epochs.get(22),
    });
    expect(ids1.errorCode).toBe(0);
    expect(BigInt(ids2.producerIdStart)).toBe(BigInt(ids1.producerIdStart) + BigInt(ids1.producerIdLen));

    const deleted = await c.call<DeleteTopicsResponse__Output>(activeId, 'DeleteTopics', {
      names: ['shrink', 'never-was'],
      timeoutMs: 5_000,
    });
    expect(deleted.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['shrink', 0],
      ['never-was', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(c.node(activeId).image().topic('shrink')).toBeUndefined();
  });
});

/**
 * A session expiry across a three-controller quorum, on one manual clock for all three nodes
 * (Raft ticks, broker sessions, the fencing interval): the live brokers heartbeat at every tick,
 * the silent one never, and the clock, not the machine's speed, decides when its session is over.
 * Each tick waits for the heartbeats it carries to be answered, so the quorum's messages flow
 * between ticks as they would in real time.
 */
describe('a broker session expiring on a manual clock', () => {
  const TICK_MS = 50;
  const SESSION_MS = 2_000;
  const clock = manualTimers();
  let q: TestCluster;

  beforeAll(async () => {
    q = await TestCluster.create(3, { brokerSessionTimeoutMs: SESSION_MS, tickMs: TICK_MS, autoLeaderRebalanceEnable: false }, clock);
    await q.startAll();
  });

  afterAll(async () => {
    await q?.destroy();
  });

  /** The one active controller, ticking the clock until there is one. */
  const activeNode = () =>
    waitFor('one active controller as the clock ticks', () => {
      const active = [...q.nodes.values()].filter((n) => n.isActive());
      if (active.length === 1) return active[0];
      clock.advance(TICK_MS);
      return undefined;
    });

  it('fences a broker that stops heartbeating and elects a new leader for its partitions from the ISR', async () => {
    let active = (await activeNode()).nodeId;
    const epochs = await registerAndUnfence(q, active, [11, 12, 13]);
    const created = await q.call<{ topics: { errorCode: number }[] }>(active, 'CreateTopics', {
      topics: [{ name: 'fencing', numPartitions: 3, replicationFactor: 3, configs: {} }],
      timeoutMs: 5_000,
    });
    expect(created.topics[0]!.errorCode).toBe(0);
    const image = () => q.node(active).image();
    const before = image().topic('fencing')!.partitions;
    const silent = before[0]!.leader;
    const led = before.map((p, i) => ({ p, i })).filter(({ p }) => p.leader === silent);
    const live = [...epochs].filter(([id]) => id !== silent);

    // `silent` was last heard from before this instant (its heartbeat in registerAndUnfence).
    const heardAt = clock.now();
    const beat = (id: number, epoch: string) =>
      q.call<BrokerHeartbeatResponse__Output>(active, 'BrokerHeartbeat', {
        brokerId: id,
        brokerEpoch: epoch,
        currentMetadataOffset: '1000000',
        wantFence: false,
        wantShutDown: false,
      });
    // Every round: the live brokers heartbeat (answered), then the clock moves one tick.
    // Bounded: 4 sessions of ticks at most, and the wait as a whole.
    const fencedAt = await waitFor(
      `broker ${silent} to be fenced as the clock passes its session`,
      async () => {
        if (image().broker(silent)?.fenced === true) return clock.now();
        if (clock.now() - heardAt > 4 * SESSION_MS) giveUp(`still unfenced ${clock.now() - heardAt} ms after its last heartbeat`);
        if (!q.node(active).isActive()) active = (await activeNode()).nodeId;
        await Promise.all(live.map(([id, epoch]) => beat(id, epoch)));
        clock.advance(TICK_MS);
        return undefined;
      },
      60_000,
      5,
    );
    expect(fencedAt - heardAt).toBeGreaterThan(SESSION_MS);
    for (const { p, i } of led) {
      const now = image().topic('fencing')!.partitions[i]!;
      expect(now.leader).not.toBe(silent);
      expect(p.isr).toContain(now.leader);
      expect(now.isr).not.toContain(silent);
      expect(now.leaderEpoch).toBeGreaterThan(p.leaderEpoch);
    }
    for (const [id] of live) expect(image().broker(id)?.fenced).toBe(false);
    // Every controller agrees.
    await waitFor('identical images', () => {
      const images = [...q.nodes.values()].map((n) => JSON.stringify(n.image().toSnapshot()));
      return images.every((i) => i === images[0]);
    });
  });
});
