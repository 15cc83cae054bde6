import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@samsa/protocol';
import { Harness } from './harness.js';

/** Brokers 1..3, topic `t` with 3 partitions at RF 3; broker 1 is fenced and comes back, so the partitions it preferred are led elsewhere. */
function displaced() {
  const h = new Harness();
  h.startBrokers([1, 2, 3]);
  const topicId = h.createTopic('t', 3, 3);
  const prefers1 = h.image.topic('t')!.partitions.findIndex((p) => p.replicas[0] === 1);
  h.heartbeat(1, 1, { wantFence: true });
  expect(h.partition('t', prefers1).leader).not.toBe(1);
  h.heartbeat(1, 2);
  expect(h.image.broker(1)!.fenced).toBe(false);
  return { h, topicId, prefers1 };
}

/** Puts broker `b` back into the ISR of `partition` (what the leader's AlterPartition does once it caught up). */
function rejoinIsr(h: Harness, partition: number, b: number) {
  const p = h.partition('t', partition);
  const response = h.commit(
    h.controller.alterPartition({
      brokerId: p.leader,
      brokerEpoch: h.epochs.get(p.leader)!,
      topic: 't',
      partition,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: p.partitionEpoch,
      newIsr: [...p.isr, b],
    }),
  );
  expect(response.errorCode).toBe(0);
}

describe('electLeaders (preferred)', () => {
  it('makes the preferred replica the leader with a PartitionChange that bumps the leader epoch', () => {
    const { h, topicId, prefers1 } = displaced();
    rejoinIsr(h, prefers1, 1);
    const before = h.partition('t', prefers1);
    const result = h.controller.electLeaders({ electionType: 'preferred', partitions: [{ topic: 't', partition: prefers1 }] });
    expect(result.records).toEqual([{ type: 'PartitionChange', topicId, partition: prefers1, leader: 1 }]);
    expect(result.response.results).toEqual([{ topic: 't', partition: prefers1, errorCode: 0, leader: 1 }]);
    h.commit(result);
    const after = h.partition('t', prefers1);
    expect(after.leader).toBe(1);
    expect(after.leaderEpoch).toBe(before.leaderEpoch + 1);
    expect(after.isr).toEqual(before.isr);
  });

  it('answers ELECTION_NOT_NEEDED when the preferred replica already leads, and elects nothing', () => {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 2, 3);
    const result = h.controller.electLeaders({ electionType: 'preferred' });
    expect(result.records).toEqual([]);
    expect(result.response.results.map((r) => [r.topic, r.partition, r.errorCode])).toEqual([
      ['t', 0, ErrorCode.ELECTION_NOT_NEEDED],
      ['t', 1, ErrorCode.ELECTION_NOT_NEEDED],
    ]);
  });

  it('answers PREFERRED_LEADER_NOT_AVAILABLE when the preferred replica is out of the ISR or fenced', () => {
    const { h, prefers1 } = displaced();
    // Unfenced but not back in the ISR yet.
    let [r] = h.controller.electLeaders({ electionType: 'preferred', partitions: [{ topic: 't', partition: prefers1 }] }).response.results;
    expect(r!.errorCode).toBe(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    expect(r!.errorCode !== 0 && r!.errorMessage).toMatch(/not in its ISR/);
    // In the ISR but fenced: fencing takes it out of the ISR, so build the state by hand with a replayed record.
    rejoinIsr(h, prefers1, 1);
    h.commit({ response: undefined, records: [{ type: 'FenceBroker', brokerId: 1, brokerEpoch: h.epochs.get(1)! }] });
    expect(h.partition('t', prefers1).isr).toContain(1);
    const result = h.controller.electLeaders({ electionType: 'preferred', partitions: [{ topic: 't', partition: prefers1 }] });
    [r] = result.response.results;
    expect(result.records).toEqual([]);
    expect(r!.errorCode).toBe(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    expect(r!.errorCode !== 0 && r!.errorMessage).toMatch(/fenced/);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION and refuses duplicates and unknown election types', () => {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 1, 3);
    const result = h.controller.electLeaders({
      electionType: 'preferred',
      partitions: [
        { topic: 'nope', partition: 0 },
        { topic: 't', partition: 5 },
        { topic: 't', partition: 0 },
        { topic: 't', partition: 0 },
      ],
    });
    expect(result.response.results.map((r) => r.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.ELECTION_NOT_NEEDED,
      ErrorCode.INVALID_REQUEST,
    ]);
    const bogus = h.controller.electLeaders({ electionType: 'bogus' as 'unclean', partitions: [{ topic: 't', partition: 0 }] });
    expect(bogus.records).toEqual([]);
    expect(bogus.response.results[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});

describe('electLeaders (unclean, KIP-460)', () => {
  /** Topic `t` (1 partition, RF 2, unclean election off) whose ISR shrank to its leader, which is then fenced: offline. */
  function offline() {
    const h = new Harness();
    h.startBrokers([1, 2]);
    const topicId = h.createTopic('t', 1, 2);
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
    h.heartbeat(leader, 1, { wantFence: true });
    expect(h.partition('t', 0)).toMatchObject({ leader: -1, isr: [leader] });
    return { h, topicId, leader, follower };
  }

  it('elects an out-of-sync live replica of an offline partition on request, even with the topic setting off, and marks it', () => {
    const { h, topicId, follower } = offline();
    const result = h.controller.electLeaders({ electionType: 'unclean', partitions: [{ topic: 't', partition: 0 }] });
    expect(result.records).toEqual([{ type: 'PartitionChange', topicId, partition: 0, leader: follower, isr: [follower], unclean: true }]);
    expect(result.response.results).toEqual([{ topic: 't', partition: 0, errorCode: 0, leader: follower }]);
    h.commit(result);
    expect(h.partition('t', 0)).toMatchObject({ leader: follower, isr: [follower] });
    expect(h.deltas.at(-1)!.partitionsChanged[0]!.unclean).toBe(true);
  });

  it('answers ELECTION_NOT_NEEDED for a partition with a leader and ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is alive', () => {
    const h = new Harness();
    h.startBrokers([1, 2]);
    h.createTopic('t', 1, 2);
    const led = h.controller.electLeaders({ electionType: 'unclean', partitions: [{ topic: 't', partition: 0 }] });
    expect(led.records).toEqual([]);
    expect(led.response.results[0]!.errorCode).toBe(ErrorCode.ELECTION_NOT_NEEDED);
    const { h: h2, follower } = offline();
    h2.heartbeat(follower, 1, { wantFence: true });
    const none = h2.controller.electLeaders({ electionType: 'unclean', partitions: [{ topic: 't', partition: 0 }] });
    expect(none.records).toEqual([]);
    expect(none.response.results[0]!.errorCode).toBe(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE);
  });
});

describe('automatic leader rebalancing', () => {
  it('picks the partitions whose eligible preferred replica does not lead, once its broker is imbalanced beyond the percentage', () => {
    const { h, prefers1 } = displaced();
    // Broker 1 prefers 1 of 3 partitions and leads none of them: ratio 1.0, but it is not in the ISR yet.
    expect(h.controller.imbalancedPartitions(10)).toEqual([]);
    rejoinIsr(h, prefers1, 1);
    expect(h.controller.imbalancedPartitions(10)).toEqual([{ topic: 't', partition: prefers1 }]);
    // At 100 % no broker is ever imbalanced enough.
    expect(h.controller.imbalancedPartitions(100)).toEqual([]);
    h.commit(h.controller.rebalanceLeaders(10));
    expect(h.partition('t', prefers1).leader).toBe(1);
    expect(h.controller.imbalancedPartitions(10)).toEqual([]);
    expect(h.controller.rebalanceLeaders(10).records).toEqual([]);
  });

  it('leaves a broker alone while its imbalance ratio stays within the percentage', () => {
    const h = new Harness();
    h.startBrokers([1, 2, 3]);
    h.createTopic('t', 30, 3);
    const prefers1 = h.image
      .topic('t')!
      .partitions.map((p, i) => [p, i] as const)
      .filter(([p]) => p.replicas[0] === 1)
      .map(([, i]) => i);
    expect(prefers1.length).toBe(10);
    h.heartbeat(1, 1, { wantFence: true });
    h.heartbeat(1, 2);
    for (const i of prefers1) rejoinIsr(h, i, 1);
    // Give 9 of the 10 back with manual elections: 1 of 10 displaced is 10 %, not above 10 %.
    h.commit(
      h.controller.electLeaders({
        electionType: 'preferred',
        partitions: prefers1.slice(1).map((partition) => ({ topic: 't', partition })),
      }),
    );
    expect(h.controller.imbalancedPartitions(10)).toEqual([]);
    expect(h.controller.imbalancedPartitions(5)).toEqual([{ topic: 't', partition: prefers1[0] }]);
  });
});
