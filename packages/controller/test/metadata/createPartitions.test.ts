/** QuorumController.createPartitions (Kafka's CreatePartitions, KIP-195) and the internal-topic rules. */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@samsa/protocol';
import { localChanges, type MetadataRecord } from '@samsa/metadata';
import { Harness } from './harness.js';

function cluster(brokers = [1, 2, 3]): Harness {
  const h = new Harness();
  h.startBrokers(brokers);
  return h;
}

type PartitionRecord = Extract<MetadataRecord, { type: 'Partition' }>;

describe('createPartitions', () => {
  it("appends one Partition record per new partition with the topic's replication factor and replays them", () => {
    const h = cluster();
    const topicId = h.createTopic('t', 2, 2);
    const result = h.controller.createPartitions([{ name: 't', count: 5 }]);
    expect(result.response).toEqual([{ name: 't', errorCode: 0, assignments: expect.any(Array) }]);
    const records = result.records as PartitionRecord[];
    expect(records.map((r) => [r.type, r.topicId, r.partition])).toEqual([
      ['Partition', topicId, 2],
      ['Partition', topicId, 3],
      ['Partition', topicId, 4],
    ]);
    for (const r of records) {
      expect(r.replicas).toHaveLength(2);
      expect(new Set(r.replicas).size).toBe(2);
      expect(r.isr).toEqual(r.replicas);
      expect(r.leader).toBe(r.replicas[0]);
    }
    const before = h.deltas.length;
    h.commit(result);
    expect(h.image.topic('t')!.partitions).toHaveLength(5);
    expect(h.image.topic('t')!.topicId).toBe(topicId);
    // A broker replaying the entry is told to host the new partitions, as for a new topic.
    const local = localChanges(h.deltas.slice(before), records[0]!.leader);
    expect(local.leaders.map((c) => c.partition)).toContain(2);
  });

  it('spreads the new leaders starting at the least loaded broker', () => {
    const h = cluster();
    h.createTopic('t', 1, 1); // broker 1 leads partition 0
    h.commit(h.controller.createPartitions([{ name: 't', count: 4 }]));
    const leaders = h.image.topic('t')!.partitions.map((p) => p.leader);
    const counts = new Map<number, number>();
    for (const l of leaders) counts.set(l, (counts.get(l) ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([1, 1, 2]);
    expect(leaders[1]).not.toBe(leaders[0]); // the first new leader is not the already loaded broker
  });

  it('refuses a count that is not larger, naming the current count, and writes nothing', () => {
    const h = cluster();
    h.createTopic('t', 3, 1);
    const smaller = h.controller.createPartitions([{ name: 't', count: 2 }]);
    expect(smaller.response[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_PARTITIONS,
      errorMessage: expect.stringContaining('has 3 partitions'),
    });
    expect(smaller.records).toEqual([]);
    const same = h.controller.createPartitions([{ name: 't', count: 3 }]);
    expect(same.response[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_PARTITIONS,
      errorMessage: expect.stringContaining('already has 3'),
    });
    expect(same.records).toEqual([]);
  });

  it('answers per topic: unknown, duplicate, too many brokers needed, validateOnly', () => {
    const h = cluster([1, 2]);
    h.createTopic('ok', 1, 2);
    h.createTopic('dup', 1, 1);
    const result = h.controller.createPartitions([
      { name: 'ghost', count: 2 },
      { name: 'dup', count: 2 },
      { name: 'dup', count: 3 },
      { name: 'ok', count: 2 },
    ]);
    expect(result.response.map((r) => r.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.NONE,
    ]);
    expect(result.records).toHaveLength(1);
    // Fence broker 2: an RF-2 topic cannot grow on one usable broker.
    h.heartbeat(2, 0, { wantFence: true });
    expect(h.controller.createPartitions([{ name: 'ok', count: 3 }]).response[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    const validated = h.controller.createPartitions([{ name: 'dup', count: 4 }], true);
    expect(validated.response[0]).toMatchObject({ errorCode: 0, assignments: [[1], [1], [1]] });
    expect(validated.records).toEqual([]);
  });

  it('refuses internal topics: no partitions added, no deletion', () => {
    const h = cluster();
    h.createTopic('__consumer_offsets', 2, 1);
    const grow = h.controller.createPartitions([{ name: '__consumer_offsets', count: 4 }]);
    expect(grow.response[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: expect.stringContaining('internal') });
    expect(grow.records).toEqual([]);
    const del = h.controller.deleteTopics(['__consumer_offsets']);
    expect(del.response[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: expect.stringContaining('internal') });
    expect(del.records).toEqual([]);
  });
});
