import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@samsa/protocol';
import { localChanges, type MetadataRecord } from '@samsa/metadata';
import { Harness } from './harness.js';

const SESSION_MS = 9000;

describe('registerBroker', () => {
  it('registers a broker fenced at an epoch equal to the next metadata offset', () => {
    const h = new Harness();
    const result = h.controller.registerBroker({ brokerId: 1, incarnationId: 'x', host: 'h', port: 9092, rack: 'r' }, 0);
    expect(result.response).toEqual({ errorCode: 0, brokerEpoch: '0' });
    expect(result.records).toEqual([
      { type: 'RegisterBroker', brokerId: 1, incarnationId: 'x', brokerEpoch: '0', host: 'h', port: 9092, rack: 'r', fenced: true },
    ]);
    h.commit(result);
    expect(h.image.broker(1)).toMatchObject({ fenced: true, inControlledShutdown: false, brokerEpoch: '0' });
    // The wiring passes the offset the record will land at.
    expect(h.controller.registerBroker({ brokerId: 2, incarnationId: 'y', host: 'h', port: 1 }, 0, 42).response).toEqual({
      errorCode: 0,
      brokerEpoch: '42',
    });
  });

  it('refuses malformed registrations with INVALID_REQUEST', () => {
    const h = new Harness();
    const bad = [
      { brokerId: -1, incarnationId: 'x', host: 'h', port: 1 },
      { brokerId: 1.5, incarnationId: 'x', host: 'h', port: 1 },
      { brokerId: 1, incarnationId: '', host: 'h', port: 1 },
      { brokerId: 1, incarnationId: 'x', host: '', port: 1 },
      { brokerId: 1, incarnationId: 'x', host: 'h', port: 0 },
      { brokerId: 1, incarnationId: 'x', host: 'h', port: 65536 },
      { brokerId: 1, incarnationId: 'x', host: 'h', port: 1, rack: '' },
    ];
    for (const request of bad) {
      const result = h.controller.registerBroker(request, 0);
      expect(result.response.errorCode, JSON.stringify(request)).toBe(ErrorCode.INVALID_REQUEST);
      expect(result.records).toEqual([]);
    }
  });

  it('replaces an earlier incarnation at a higher epoch, fenced, and moves its leaderships away', () => {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 3, 3);
    const oldEpoch = h.epochs.get(1)!;
    const led = h.image.topic('t')!.partitions.findIndex((p) => p.leader === 1);
    const newEpoch = h.register(1, 5, 'restarted');
    expect(BigInt(newEpoch)).toBeGreaterThan(BigInt(oldEpoch));
    expect(h.image.broker(1)).toMatchObject({ incarnationId: 'restarted', fenced: true, brokerEpoch: newEpoch });
    const p = h.partition('t', led);
    expect(p.leader).not.toBe(1);
    expect(p.leaderEpoch).toBe(1);
    for (const q of h.image.topic('t')!.partitions) expect(q.isr).not.toContain(1);
    // The old incarnation's epoch is stale now.
    const stale = h.controller.brokerHeartbeat(
      { brokerId: 1, brokerEpoch: oldEpoch, currentMetadataOffset: h.offset, wantFence: false, wantShutDown: false },
      6,
    );
    expect(stale.response.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });

  it('keeps epochs rising even if the wiring passes a smaller offset', () => {
    const h = new Harness();
    h.commit(h.controller.registerBroker({ brokerId: 1, incarnationId: 'a', host: 'h', port: 1 }, 0, 10));
    expect(h.controller.registerBroker({ brokerId: 1, incarnationId: 'b', host: 'h', port: 1 }, 0, 3).response).toEqual({
      errorCode: 0,
      brokerEpoch: '11',
    });
  });
});

describe('brokerHeartbeat', () => {
  it('answers STALE_BROKER_EPOCH for a wrong epoch or an unknown broker', () => {
    const h = new Harness();
    const epoch = h.register(1);
    for (const request of [
      { brokerId: 1, brokerEpoch: String(BigInt(epoch) + 1n) },
      { brokerId: 7, brokerEpoch: epoch },
    ]) {
      const result = h.controller.brokerHeartbeat({ ...request, currentMetadataOffset: 100, wantFence: false, wantShutDown: false }, 0);
      expect(result.response.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
      expect(result.records).toEqual([]);
    }
    const junk = h.controller.brokerHeartbeat(
      { brokerId: 1, brokerEpoch: 'abc', currentMetadataOffset: 0, wantFence: false, wantShutDown: false },
      0,
    );
    expect(junk.response.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('does not unfence a broker that has not caught up to its own registration', () => {
    const h = new Harness();
    h.register(1);
    h.register(2);
    const epoch = BigInt(h.epochs.get(2)!);
    const behind = h.heartbeat(2, 0, { offset: Number(epoch) - 1 });
    expect(behind).toEqual({ errorCode: 0, isFenced: true, isCaughtUp: false, shouldShutDown: false });
    expect(h.image.broker(2)!.fenced).toBe(true);
    const result = h.controller.brokerHeartbeat(
      { brokerId: 2, brokerEpoch: epoch, currentMetadataOffset: epoch, wantFence: false, wantShutDown: false },
      0,
    );
    expect(result.records).toEqual([{ type: 'UnfenceBroker', brokerId: 2, brokerEpoch: String(epoch) }]);
    expect(result.response).toEqual({ errorCode: 0, isFenced: false, isCaughtUp: true, shouldShutDown: false });
  });

  it('keeps a caught-up broker fenced while it asks to be', () => {
    const h = new Harness();
    h.register(1);
    expect(h.heartbeat(1, 0, { wantFence: true })).toMatchObject({ isFenced: true, isCaughtUp: true });
    expect(h.image.broker(1)!.fenced).toBe(true);
  });

  it('fences an unfenced broker that asks to be fenced, moving its leaderships', () => {
    const h = new Harness();
    h.startBrokers([1, 2]);
    h.createTopic('t', 2, 2);
    expect(h.heartbeat(1, 0, { wantFence: true })).toMatchObject({ isFenced: true });
    for (const p of h.image.topic('t')!.partitions) expect([p.leader, p.isr]).toEqual([2, [2]]);
  });

  it('fences a broker that reports an offline log directory, moving leadership to the other ISR members', () => {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 3, 3);
    const led = h.image.topic('t')!.partitions.filter((p) => p.leader === 1).length;
    expect(led).toBeGreaterThan(0);
    expect(h.heartbeat(1, 0, { offlineLogDirs: ['/data/1'] })).toMatchObject({ errorCode: 0, isFenced: true });
    expect(h.image.broker(1)!.fenced).toBe(true);
    for (const p of h.image.topic('t')!.partitions) {
      expect(p.leader).not.toBe(1);
      expect(p.isr).not.toContain(1);
      expect([2, 3]).toContain(p.leader);
    }
    // Caught up, but the directory is still reported offline: never unfenced.
    expect(h.heartbeat(1, 1, { offlineLogDirs: ['/data/1'] })).toMatchObject({ isFenced: true, isCaughtUp: true });
    expect(h.image.broker(1)!.fenced).toBe(true);
  });

  it('unfences a broker re-registered after its log directory failed once its heartbeats report none offline', () => {
    const h = new Harness();
    h.startBrokers([1, 2]);
    h.createTopic('t', 1, 2);
    h.heartbeat(1, 0, { offlineLogDirs: ['/data/1'] });
    expect(h.image.broker(1)!.fenced).toBe(true);
    h.register(1, 1); // the restart
    expect(h.heartbeat(1, 2)).toMatchObject({ isFenced: false });
    expect(h.image.broker(1)!.fenced).toBe(false);
  });

  it('gives leaderless partitions whose ISR holds a returning broker that broker as leader', () => {
    const h = new Harness();
    h.startBrokers([1, 2]);
    h.createTopic('solo', 1, 1); // on broker 1
    h.createTopic('pair', 1, 2);
    const solo = h.partition('solo', 0);
    expect(solo.leader).toBe(1);
    h.commit(h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS)); // nobody heartbeats: both fenced
    expect(h.partition('solo', 0)).toMatchObject({ leader: -1, isr: [1], leaderEpoch: 1 });
    expect(h.partition('pair', 0).leader).toBe(-1);
    const back = h.controller.brokerHeartbeat(
      { brokerId: 1, brokerEpoch: h.epochs.get(1)!, currentMetadataOffset: h.offset, wantFence: false, wantShutDown: false },
      SESSION_MS + 2,
    );
    expect(back.records.map((r) => r.type)).toEqual(['UnfenceBroker', 'PartitionChange']);
    h.commit(back);
    expect(h.partition('solo', 0)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 2 });
    // 'pair' kept only its last ISR member; broker 1 returns to lead it only if that member was 1.
    const pair = h.partition('pair', 0);
    expect(pair.leader).toBe(pair.isr[0] === 1 ? 1 : -1);
  });
});

describe('fenceStaleBrokers', () => {
  function threeBrokersOneTopic() {
    const h = new Harness();
    h.startBrokers([1, 2, 3], 0);
    h.createTopic('t', 3, 3);
    return h;
  }

  it('does nothing while sessions are fresh', () => {
    const h = threeBrokersOneTopic();
    for (const id of [1, 2, 3]) h.heartbeat(id, 5000);
    expect(h.controller.fenceStaleBrokers(5000 + SESSION_MS, SESSION_MS)).toEqual({ response: { fencedBrokers: [] }, records: [] });
  });

  it('fences a silent broker, moves its leaderships to the next ISR member and removes it from ISRs', () => {
    const h = threeBrokersOneTopic();
    h.heartbeat(2, 5000);
    h.heartbeat(3, 5000);
    const before = h.image.topic('t')!.partitions;
    const result = h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS);
    expect(result.response).toEqual({ fencedBrokers: [1] });
    expect(result.records[0]).toEqual({ type: 'FenceBroker', brokerId: 1, brokerEpoch: h.epochs.get(1) });
    h.commit(result);
    h.image.topic('t')!.partitions.forEach((p, i) => {
      const was = before[i]!;
      expect(p.isr).toEqual(was.isr.filter((b) => b !== 1));
      expect(p.partitionEpoch).toBe(was.partitionEpoch + 1);
      if (was.leader === 1) {
        // Clean election: the first replica in replica order that is in the ISR and unfenced.
        expect(p.leader).toBe(was.replicas.find((b) => b !== 1));
        expect(p.leaderEpoch).toBe(was.leaderEpoch + 1);
      } else {
        expect(p.leader).toBe(was.leader);
        expect(p.leaderEpoch).toBe(was.leaderEpoch);
      }
    });
    // The broker that took over sees a become-leader delta.
    const deltas = h.deltas.slice(-result.records.length);
    const takenOver = before.findIndex((p) => p.leader === 1);
    const newLeader = h.image.topic('t')!.partitions[takenOver]!.leader;
    expect(localChanges(deltas, newLeader).leaders).toContainEqual(
      expect.objectContaining({ partition: takenOver, registration: expect.objectContaining({ leaderEpoch: 1 }) }),
    );
    expect(h.image.broker(1)!.fenced).toBe(true);
  });

  it('keeps the last ISR member when it goes, leaving the partition offline', () => {
    const h = new Harness();
    h.startBrokers([1, 2]);
    h.createTopic('t', 1, 2);
    const leader = h.partition('t', 0).leader;
    const follower = 3 - leader;
    // The leader shrinks the ISR to itself, then dies.
    h.commit(
      h.controller.alterPartition({
        brokerId: leader,
        brokerEpoch: h.epochs.get(leader)!,
        topic: 't',
        partition: 0,
        leaderEpoch: 0,
        partitionEpoch: 0,
        newIsr: [leader],
      }),
    );
    h.heartbeat(follower, SESSION_MS);
    h.commit(h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS));
    expect(h.partition('t', 0)).toMatchObject({ leader: -1, isr: [leader], leaderEpoch: 1 });
  });

  it('elects an out-of-sync replica only when unclean.leader.election.enable=true, and marks it', () => {
    for (const unclean of [false, true]) {
      const h = new Harness();
      h.startBrokers([1, 2]);
      h.createTopic('t', 1, 2, unclean ? { 'unclean.leader.election.enable': 'true' } : {});
      const leader = h.partition('t', 0).leader;
      const follower = 3 - leader;
      h.commit(
        h.controller.alterPartition({
          brokerId: leader,
          brokerEpoch: h.epochs.get(leader)!,
          topic: 't',
          partition: 0,
          leaderEpoch: 0,
          partitionEpoch: 0,
          newIsr: [leader],
        }),
      );
      h.heartbeat(follower, SESSION_MS);
      const result = h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS);
      h.commit(result);
      const change = result.records.find((r) => r.type === 'PartitionChange');
      if (unclean) {
        expect(change).toEqual({
          type: 'PartitionChange',
          topicId: h.image.topic('t')!.topicId,
          partition: 0,
          leader: follower,
          isr: [follower],
          unclean: true,
        });
        expect(h.partition('t', 0)).toMatchObject({ leader: follower, isr: [follower] });
        expect(h.deltas.at(-1)!.partitionsChanged[0]!.unclean).toBe(true);
      } else {
        expect(change).toEqual({ type: 'PartitionChange', topicId: h.image.topic('t')!.topicId, partition: 0, leader: -1 });
        expect(h.partition('t', 0)).toMatchObject({ leader: -1, isr: [leader] });
      }
    }
  });

  it('honours the cluster-wide unclean default, and enabling it on a topic elects its offline partitions', () => {
    const run = (clusterDefault: boolean) => {
      const h = new Harness({ uncleanLeaderElectionEnable: clusterDefault });
      h.startBrokers([1, 2]);
      h.createTopic('t', 1, 2);
      const leader = h.partition('t', 0).leader;
      h.commit(
        h.controller.alterPartition({
          brokerId: leader,
          brokerEpoch: h.epochs.get(leader)!,
          topic: 't',
          partition: 0,
          leaderEpoch: 0,
          partitionEpoch: 0,
          newIsr: [leader],
        }),
      );
      h.heartbeat(3 - leader, SESSION_MS);
      h.commit(h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS));
      return { h, follower: 3 - leader };
    };
    const on = run(true);
    expect(on.h.partition('t', 0).leader).toBe(on.follower);
    const off = run(false);
    expect(off.h.partition('t', 0).leader).toBe(-1);
    const enable = off.h.controller.incrementalAlterConfigs([
      { resourceType: 'topic', resourceName: 't', configs: [{ name: 'unclean.leader.election.enable', op: 'set', value: 'true' }] },
    ]);
    expect(enable.records.map((r) => r.type)).toEqual(['Config', 'PartitionChange']);
    off.h.commit(enable);
    expect(off.h.partition('t', 0)).toMatchObject({ leader: off.follower, isr: [off.follower] });
  });

  it('fences several brokers at once, each election seeing the ones before', () => {
    const h = threeBrokersOneTopic();
    h.heartbeat(3, 5000);
    const result = h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS);
    expect(result.response.fencedBrokers).toEqual([1, 2]);
    h.commit(result);
    for (const p of h.image.topic('t')!.partitions) expect([p.leader, p.isr]).toEqual([3, [3]]);
  });

  it('gives brokers a full session after the controller becomes active', () => {
    const h = threeBrokersOneTopic();
    h.controller.activate(100_000);
    expect(h.controller.fenceStaleBrokers(100_000 + SESSION_MS, SESSION_MS).records).toEqual([]);
    expect(h.controller.fenceStaleBrokers(100_001 + SESSION_MS, SESSION_MS).response.fencedBrokers).toEqual([1, 2, 3]);
  });
});

describe('controlled shutdown', () => {
  it('moves leadership away, then tells the broker to shut down once it leads nothing', () => {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 6, 3);
    const result = h.controller.brokerHeartbeat(
      { brokerId: 2, brokerEpoch: h.epochs.get(2)!, currentMetadataOffset: h.offset, wantFence: false, wantShutDown: true },
      1,
    );
    expect(result.records[0]).toEqual({ type: 'BrokerControlledShutdown', brokerId: 2, brokerEpoch: h.epochs.get(2) });
    expect(result.records.slice(1).every((r) => r.type === 'PartitionChange')).toBe(true);
    expect(result.response).toEqual({ errorCode: 0, isFenced: false, isCaughtUp: true, shouldShutDown: true });
    h.commit(result);
    for (const p of h.image.topic('t')!.partitions) {
      expect(p.leader).not.toBe(2);
      expect(p.isr).not.toContain(2);
    }
    expect(h.image.broker(2)).toMatchObject({ fenced: false, inControlledShutdown: true });
    // A repeated heartbeat writes nothing more.
    expect(
      h.controller.brokerHeartbeat(
        { brokerId: 2, brokerEpoch: h.epochs.get(2)!, currentMetadataOffset: h.offset, wantFence: false, wantShutDown: true },
        2,
      ),
    ).toEqual({ response: { errorCode: 0, isFenced: false, isCaughtUp: true, shouldShutDown: true }, records: [] });
    // A shutting-down broker is not elected: fence broker 1 and broker 3 leads everything.
    h.heartbeat(3, SESSION_MS);
    h.heartbeat(2, SESSION_MS, { wantShutDown: true });
    h.commit(h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS));
    for (const p of h.image.topic('t')!.partitions) expect(p.leader).toBe(3);
  });

  it('takes a sole replica offline and lets its broker go', () => {
    const h = new Harness();
    h.startBrokers([1]);
    h.createTopic('t', 1, 1);
    expect(h.heartbeat(1, 1, { wantShutDown: true })).toMatchObject({ shouldShutDown: true });
    expect(h.partition('t', 0)).toMatchObject({ leader: -1, isr: [1] });
  });

  it('lets a fenced broker shut down at once', () => {
    const h = new Harness();
    h.register(1);
    expect(h.heartbeat(1, 0, { wantShutDown: true })).toEqual({ errorCode: 0, isFenced: true, isCaughtUp: true, shouldShutDown: true });
  });
});

describe('unregisterBroker', () => {
  it('removes the registration and its leaderships', () => {
    const h = new Harness();
    h.startBrokers([1, 2]);
    h.createTopic('t', 2, 2);
    h.commit(h.controller.unregisterBroker(1));
    expect(h.image.broker(1)).toBeUndefined();
    for (const p of h.image.topic('t')!.partitions) expect([p.leader, p.isr]).toEqual([2, [2]]);
    expect(h.controller.lastHeartbeat(1)).toBeUndefined();
    expect(h.controller.unregisterBroker(1).response.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});

describe('alterPartition', () => {
  function setup() {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 1, 3);
    const p = h.partition('t', 0);
    const request = {
      brokerId: p.leader,
      brokerEpoch: h.epochs.get(p.leader)!,
      topic: 't',
      partition: 0,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: p.partitionEpoch,
      newIsr: [p.leader, p.replicas[1]!],
    };
    return { h, p, request };
  }

  it("applies the leader's ISR change and bumps the partition epoch only", () => {
    const { h, p, request } = setup();
    const result = h.controller.alterPartition(request);
    const topicId = h.image.topic('t')!.topicId;
    expect(result.records).toEqual([{ type: 'PartitionChange', topicId, partition: 0, isr: request.newIsr }]);
    expect(result.response).toEqual({
      errorCode: 0,
      topicId,
      partition: 0,
      leader: p.leader,
      leaderEpoch: 0,
      partitionEpoch: 1,
      isr: request.newIsr,
    });
    h.commit(result);
    expect(h.partition('t', 0)).toMatchObject({ isr: request.newIsr, leaderEpoch: 0, partitionEpoch: 1 });
  });

  it('is a compare-and-set on the partition epoch: the same request twice fails the second time', () => {
    const { h, request } = setup();
    h.commit(h.controller.alterPartition(request));
    const again = h.controller.alterPartition({ ...request, newIsr: [request.brokerId] });
    expect(again.response.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    expect(again.response.errorCode !== 0 && again.response.errorMessage).toMatch(/partition epoch 1/);
    expect(again.records).toEqual([]);
    // Expanding back with the current epoch works.
    const p = h.partition('t', 0);
    const expand = h.commit(h.controller.alterPartition({ ...request, partitionEpoch: 1, newIsr: [...p.replicas] }));
    expect(expand).toMatchObject({ errorCode: 0, partitionEpoch: 2, isr: p.replicas });
  });

  it('answers FENCED_LEADER_EPOCH for another leader epoch', () => {
    const { h, request } = setup();
    for (const leaderEpoch of [1, -1]) {
      const result = h.controller.alterPartition({ ...request, leaderEpoch });
      expect(result.response.errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
      expect(result.records).toEqual([]);
    }
  });

  it('accepts only the current leader', () => {
    const { h, p, request } = setup();
    const other = p.replicas[1]!;
    const result = h.controller.alterPartition({ ...request, brokerId: other, brokerEpoch: h.epochs.get(other)! });
    expect(result.response.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('answers STALE_BROKER_EPOCH for an old broker epoch', () => {
    const { h, request } = setup();
    expect(h.controller.alterPartition({ ...request, brokerEpoch: '-5' }).response.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });

  it('refuses ISRs that are empty, repeat, leave the replicas or drop the leader (INVALID_REQUEST), or hold fenced brokers (INELIGIBLE_REPLICA)', () => {
    const { h, p, request } = setup();
    for (const newIsr of [[], [p.leader, p.leader], [p.leader, 9], [p.replicas[1]!]]) {
      const result = h.controller.alterPartition({ ...request, newIsr });
      expect(result.response.errorCode, JSON.stringify(newIsr)).toBe(ErrorCode.INVALID_REQUEST);
      expect(result.records).toEqual([]);
    }
    // Fence the third replica (it never heartbeats again); the leader may not keep it in the ISR.
    const third = p.replicas[2]!;
    for (const id of p.replicas.slice(0, 2)) h.heartbeat(id, SESSION_MS);
    h.commit(h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS));
    const now = h.partition('t', 0);
    const withFenced = h.controller.alterPartition({ ...request, partitionEpoch: now.partitionEpoch, newIsr: [p.leader, third] });
    expect(withFenced.response.errorCode).toBe(ErrorCode.INELIGIBLE_REPLICA);
    expect(withFenced.records).toEqual([]);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID for what does not exist', () => {
    const { h, request } = setup();
    expect(h.controller.alterPartition({ ...request, topic: 'nope' }).response.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(h.controller.alterPartition({ ...request, partition: 5 }).response.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(h.controller.alterPartition({ ...request, topicId: 'nope' }).response.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('writes nothing when the ISR is unchanged', () => {
    const { h, p, request } = setup();
    const result = h.controller.alterPartition({ ...request, newIsr: [...p.isr] });
    expect(result.records).toEqual([]);
    expect(result.response).toMatchObject({ errorCode: 0, partitionEpoch: 0 });
  });
});

describe('allocateProducerIds', () => {
  it('hands out consecutive blocks of 1000', () => {
    const h = new Harness();
    h.startBrokers([1]);
    const epoch = h.epochs.get(1)!;
    const first = h.controller.allocateProducerIds(1, epoch);
    expect(first).toEqual({
      response: { errorCode: 0, producerIdStart: '0', producerIdLen: 1000 },
      records: [{ type: 'ProducerIdsBlock', brokerId: 1, brokerEpoch: epoch, nextProducerId: '1000' }],
    });
    h.commit(first);
    expect(h.commit(h.controller.allocateProducerIds(1, epoch))).toEqual({ errorCode: 0, producerIdStart: '1000', producerIdLen: 1000 });
    expect(h.image.nextProducerId).toBe('2000');
  });

  it('answers STALE_BROKER_EPOCH for a wrong epoch and UNKNOWN_SERVER_ERROR when ids run out', () => {
    const h = new Harness();
    h.startBrokers([1]);
    expect(h.controller.allocateProducerIds(1, '999').response.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
    h.controller.replay(
      { type: 'ProducerIdsBlock', brokerId: 1, brokerEpoch: h.epochs.get(1)!, nextProducerId: '9223372036854775000' },
      100,
    );
    const exhausted = h.controller.allocateProducerIds(1, h.epochs.get(1)!);
    expect(exhausted.response.errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    expect(exhausted.records).toEqual([]);
  });
});

describe('determinism', () => {
  function script(): MetadataRecord[][] {
    const h = new Harness({ clusterId: 'c1' });
    const out: MetadataRecord[][] = [];
    const run = <T>(result: { response: T; records: readonly MetadataRecord[] }) => {
      out.push([...result.records]);
      return h.commit(result);
    };
    for (const id of [3, 1, 2]) run(h.controller.registerBroker({ brokerId: id, incarnationId: `i${id}`, host: 'h', port: 1 }, 0));
    for (const id of [1, 2, 3]) {
      run(
        h.controller.brokerHeartbeat(
          {
            brokerId: id,
            brokerEpoch: h.image.broker(id)!.brokerEpoch,
            currentMetadataOffset: h.offset,
            wantFence: false,
            wantShutDown: false,
          },
          0,
        ),
      );
    }
    run(
      h.controller.createTopics([
        { name: 'a', numPartitions: 5, replicationFactor: 2 },
        { name: 'b', numPartitions: 3, replicationFactor: 3 },
      ]),
    );
    run(h.controller.fenceStaleBrokers(SESSION_MS + 1, SESSION_MS));
    run(h.controller.allocateProducerIds(1, h.image.broker(1)!.brokerEpoch));
    return out;
  }

  it('the same inputs give the same records, byte for byte', () => {
    expect(JSON.stringify(script())).toBe(JSON.stringify(script()));
    expect(script().flat().length).toBeGreaterThan(20);
  });

  it('different cluster ids mint different topic ids', () => {
    const ids = ['c1', 'c2'].map((clusterId) => {
      const h = new Harness({ clusterId });
      h.startBrokers([1]);
      return h.createTopic('t', 1, 1);
    });
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('a snapshot of a live cluster restores to an equal image', () => {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 4, 3, { 'retention.ms': '5' });
    h.heartbeat(2, 1, { wantShutDown: true });
    h.commit(h.controller.allocateProducerIds(1, h.epochs.get(1)!));
    const restored = new Harness();
    restored.controller.loadSnapshot(h.image.toSnapshot(), h.image.lastAppliedOffset, h.image.lastAppliedEpoch);
    expect(restored.image).toEqual(h.image);
  });
});
