/** Partition reassignment (KIP-455): QuorumController.alterPartitionReassignments, listPartitionReassignments and completion on AlterPartition. */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@samsa/protocol';
import { MetadataImage, decodeMetadataEntry, encodeMetadataEntry, localChanges } from '@samsa/metadata';
import { Harness } from './harness.js';

function cluster(brokers = [1, 2, 3, 4, 5, 6]): Harness {
  const h = new Harness();
  h.startBrokers(brokers);
  return h;
}

/** The leader of t-0 reports `newIsr` (the next ISR change a leader would send). */
function alterIsr(h: Harness, newIsr: number[]) {
  const p = h.partition('t', 0);
  return h.commit(
    h.controller.alterPartition({
      brokerId: p.leader,
      brokerEpoch: h.epochs.get(p.leader)!,
      topic: 't',
      partition: 0,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: p.partitionEpoch,
      newIsr,
    }),
  );
}

function reassign(h: Harness, replicas: number[] | null, topic = 't', partition = 0) {
  return h.commit(h.controller.alterPartitionReassignments([{ topic, partition, replicas }]));
}

describe('partition reassignment', () => {
  it('adds the target replicas first, keeps the original ones until every target replica is in the ISR, then moves', () => {
    const h = cluster();
    h.createTopic('t', 1, 3);
    const original = [...h.partition('t', 0).replicas];
    const target = [1, 2, 3, 4, 5, 6].filter((b) => !original.includes(b));
    expect(reassign(h, target)).toEqual([{ topic: 't', partition: 0, errorCode: 0 }]);

    let p = h.partition('t', 0);
    expect(p.replicas).toEqual([...target, ...original]);
    expect(p.addingReplicas).toEqual(target);
    expect(p.removingReplicas).toEqual(original);
    expect(p.isr).toEqual(original);
    expect(p.leader).toBe(original[0]);
    expect(h.controller.listPartitionReassignments()).toEqual([
      { topic: 't', partition: 0, replicas: p.replicas, addingReplicas: target, removingReplicas: original },
    ]);
    // An adding broker is told to host (follow) the partition; the old ones are not told to delete yet.
    const local = localChanges(h.deltas.slice(-1), target[0]!);
    expect(local.followers.map((c) => c.partition)).toEqual([0]);

    // Two of the three new replicas caught up: still reassigning.
    expect(alterIsr(h, [...original, target[0]!, target[1]!])).toMatchObject({ errorCode: 0 });
    expect(h.partition('t', 0).addingReplicas).toEqual(target);

    // The last one catches up: the partition moves to the target, the leader hands over.
    const before = h.deltas.length;
    expect(alterIsr(h, [...original, ...target])).toMatchObject({ errorCode: 0 });
    p = h.partition('t', 0);
    expect(p.replicas).toEqual(target);
    expect(p.isr).toEqual(target);
    expect(p.addingReplicas).toEqual([]);
    expect(p.removingReplicas).toEqual([]);
    expect(p.leader).toBe(target[0]);
    expect(h.controller.listPartitionReassignments()).toEqual([]);
    // Each removed broker is told to delete its replica, the topic itself stays.
    for (const old of original) {
      expect(localChanges(h.deltas.slice(before), old).deletes).toEqual([
        { topic: 't', topicId: expect.any(String), partition: 0, topicDeleted: false },
      ]);
    }
  });

  it('raises the replication factor from 1 to 3, keeping the leader', () => {
    const h = cluster([1, 2, 3]);
    h.createTopic('t', 1, 1);
    const leader = h.partition('t', 0).leader;
    const others = [1, 2, 3].filter((b) => b !== leader);
    reassign(h, [leader, ...others]);
    expect(h.partition('t', 0)).toMatchObject({ replicas: [leader, ...others], addingReplicas: others, removingReplicas: [] });
    alterIsr(h, [leader, ...others]);
    expect(h.partition('t', 0)).toMatchObject({ replicas: [leader, ...others], isr: [leader, ...others], leader, addingReplicas: [] });
  });

  it('completes at once when the target is already in the ISR (lowering the replication factor)', () => {
    const h = cluster([1, 2, 3]);
    h.createTopic('t', 1, 3);
    const p0 = h.partition('t', 0);
    const keep = p0.replicas[2]!;
    const result = h.controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: [keep] }]);
    expect(result.records).toHaveLength(2);
    h.commit(result);
    expect(h.partition('t', 0)).toMatchObject({ replicas: [keep], isr: [keep], leader: keep, addingReplicas: [], removingReplicas: [] });
    expect(h.partition('t', 0).leaderEpoch).toBeGreaterThan(p0.leaderEpoch);
  });

  it('cancel restores the original replicas and takes the adding ones out of the ISR', () => {
    const h = cluster([1, 2, 3, 4]);
    h.createTopic('t', 1, 2);
    const original = [...h.partition('t', 0).replicas];
    const extra = [1, 2, 3, 4].filter((b) => !original.includes(b));
    reassign(h, extra);
    alterIsr(h, [...original, extra[0]!]);
    expect(reassign(h, null)).toEqual([{ topic: 't', partition: 0, errorCode: 0 }]);
    expect(h.partition('t', 0)).toMatchObject({ replicas: original, isr: original, addingReplicas: [], removingReplicas: [] });
    expect(reassign(h, null)).toEqual([
      { topic: 't', partition: 0, errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: expect.any(String) },
    ]);
  });

  it('a new target replaces the running one, computed from the original replicas', () => {
    const h = cluster([1, 2, 3, 4, 5]);
    h.createTopic('t', 1, 1);
    const original = h.partition('t', 0).replicas[0]!;
    const others = [1, 2, 3, 4, 5].filter((b) => b !== original);
    reassign(h, [others[0]!]);
    reassign(h, [others[1]!]);
    expect(h.partition('t', 0)).toMatchObject({
      replicas: [others[1], original],
      addingReplicas: [others[1]],
      removingReplicas: [original],
    });
    // Back to the original list is a cancel.
    reassign(h, [original]);
    expect(h.partition('t', 0)).toMatchObject({ replicas: [original], addingReplicas: [], removingReplicas: [] });
  });

  it('refuses bad targets with Kafka codes and writes nothing', () => {
    const h = cluster([1, 2, 3]);
    h.createTopic('t', 1, 1);
    const result = h.controller.alterPartitionReassignments([
      { topic: 'nope', partition: 0, replicas: [1] },
      { topic: 't', partition: 7, replicas: [1] },
      { topic: 't', partition: 0, replicas: [1, 1] },
      { topic: 't', partition: 0, replicas: [1, 9] },
    ]);
    expect(result.records).toEqual([]);
    expect(result.response.map((r) => r.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.INVALID_REQUEST,
    ]);
    const dup = h.controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: [1, 1] }]);
    expect(dup.response[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT });
    const unknown = h.controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: [1, 9] }]);
    expect(unknown.response[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage: expect.stringContaining('9'),
    });
    const empty = h.controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: [] }]);
    expect(empty.response[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT });
    expect(empty.records).toEqual([]);
  });

  it('survives a snapshot and the metadata encoding (a new active controller sees the same reassignment)', () => {
    const h = cluster([1, 2, 3, 4]);
    h.createTopic('t', 1, 2);
    const original = [...h.partition('t', 0).replicas];
    const target = [1, 2, 3, 4].filter((b) => !original.includes(b));
    reassign(h, target);
    const records = decodeMetadataEntry(encodeMetadataEntry(h.image.toSnapshot()));
    const restored = MetadataImage.fromSnapshot(records, h.image.lastAppliedOffset, 1);
    const p = restored.topic('t')!.partitions[0]!;
    expect(p).toMatchObject({ replicas: [...target, ...original], addingReplicas: target, removingReplicas: original });
  });

  it('the list filters to the asked partitions and leaves idle or unknown ones out', () => {
    const h = cluster([1, 2, 3, 4]);
    h.createTopic('t', 2, 1);
    const r1 = h.partition('t', 1).replicas[0]!;
    reassign(h, [r1 === 4 ? 3 : 4], 't', 1);
    expect(
      h.controller.listPartitionReassignments([
        { topic: 't', partition: 0 },
        { topic: 'x', partition: 0 },
      ]),
    ).toEqual([]);
    expect(h.controller.listPartitionReassignments([{ topic: 't', partition: 1 }]).map((r) => r.partition)).toEqual([1]);
  });
});
