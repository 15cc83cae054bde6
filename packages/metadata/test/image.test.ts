import { describe, expect, it } from 'vitest';
import {
  MetadataImage,
  MetadataReplayError,
  NO_OFFSET,
  decodeMetadataRecord,
  encodeMetadataRecord,
  localChanges,
  type MetadataDelta,
  type MetadataRecord,
} from '../src/index.js';

const T = 'topic-id-orders';

/** A small cluster's log: three brokers, one topic of two partitions, then some changes. */
const LOG: MetadataRecord[] = [
  { type: 'RegisterBroker', brokerId: 1, incarnationId: 'i1', brokerEpoch: '1', host: 'h1', port: 9092, rack: 'a', fenced: true },
  { type: 'RegisterBroker', brokerId: 2, incarnationId: 'i2', brokerEpoch: '2', host: 'h2', port: 9092, fenced: true },
  { type: 'RegisterBroker', brokerId: 3, incarnationId: 'i3', brokerEpoch: '3', host: 'h3', port: 9092, fenced: true },
  { type: 'UnfenceBroker', brokerId: 1, brokerEpoch: '1' },
  { type: 'UnfenceBroker', brokerId: 2, brokerEpoch: '2' },
  { type: 'UnfenceBroker', brokerId: 3, brokerEpoch: '3' },
  { type: 'Topic', name: 'orders', topicId: T },
  { type: 'Config', resourceType: 'topic', resourceName: 'orders', name: 'min.insync.replicas', value: '2' },
  { type: 'Partition', topicId: T, partition: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
  { type: 'Partition', topicId: T, partition: 1, replicas: [2, 3, 1], isr: [2, 3, 1], leader: 2, leaderEpoch: 0, partitionEpoch: 0 },
  { type: 'FenceBroker', brokerId: 1, brokerEpoch: '1' },
  { type: 'PartitionChange', topicId: T, partition: 0, leader: 2, isr: [2, 3] },
  { type: 'PartitionChange', topicId: T, partition: 1, isr: [2, 3] },
  { type: 'BrokerControlledShutdown', brokerId: 3, brokerEpoch: '3' },
  { type: 'Config', resourceType: 'broker', resourceName: '2', name: 'log.cleaner.threads', value: '2' },
  { type: 'ProducerIdsBlock', brokerId: 2, brokerEpoch: '2', nextProducerId: '1000' },
  { type: 'Topic', name: 'gone', topicId: 'topic-id-gone' },
  { type: 'Partition', topicId: 'topic-id-gone', partition: 0, replicas: [2], isr: [2], leader: 2, leaderEpoch: 0, partitionEpoch: 0 },
  { type: 'RemoveTopic', topicId: 'topic-id-gone' },
  {
    type: 'UserScramCredential',
    name: 'alice',
    mechanism: 'SCRAM-SHA-256',
    salt: 'czE=',
    storedKey: 'azE=',
    serverKey: 'djE=',
    iterations: 4096,
  },
  {
    type: 'UserScramCredential',
    name: 'alice',
    mechanism: 'SCRAM-SHA-512',
    salt: 'czI=',
    storedKey: 'azI=',
    serverKey: 'djI=',
    iterations: 8192,
  },
  {
    type: 'UserScramCredential',
    name: 'bob',
    mechanism: 'SCRAM-SHA-256',
    salt: 'czM=',
    storedKey: 'azM=',
    serverKey: 'djM=',
    iterations: 4096,
  },
  {
    type: 'UserScramCredential',
    name: 'alice',
    mechanism: 'SCRAM-SHA-256',
    salt: 'czQ=',
    storedKey: 'azQ=',
    serverKey: 'djQ=',
    iterations: 16384,
  },
  { type: 'RemoveUserScramCredential', name: 'bob', mechanism: 'SCRAM-SHA-256' },
];

function replayAll(records: readonly MetadataRecord[], image = new MetadataImage()): { image: MetadataImage; deltas: MetadataDelta[] } {
  const deltas = records.map((r, i) => image.replay(r, i + 1, 3));
  return { image, deltas };
}

describe('MetadataImage.replay', () => {
  it('keeps the latest SCRAM credential per user and mechanism, and forgets removed ones', () => {
    const { image } = replayAll(LOG);
    expect(image.scramCredential('alice', 'SCRAM-SHA-256')).toEqual({
      mechanism: 'SCRAM-SHA-256',
      salt: 'czQ=',
      storedKey: 'azQ=',
      serverKey: 'djQ=',
      iterations: 16384,
    });
    expect(image.scramCredential('alice', 'SCRAM-SHA-512')?.iterations).toBe(8192);
    expect(image.scramCredential('bob', 'SCRAM-SHA-256')).toBeUndefined();
    expect(image.scramUsers().map((u) => [u.name, u.credentials.map((c) => c.mechanism)])).toEqual([
      ['alice', ['SCRAM-SHA-256', 'SCRAM-SHA-512']],
    ]);
  });

  it('refuses to remove a SCRAM credential that does not exist, and changes nothing', () => {
    const { image } = replayAll(LOG);
    expect(() => image.replay({ type: 'RemoveUserScramCredential', name: 'bob', mechanism: 'SCRAM-SHA-256' }, 1000)).toThrow(
      MetadataReplayError,
    );
    expect(image.scramCredential('alice', 'SCRAM-SHA-512')).toBeDefined();
  });

  it('builds the image the log describes', () => {
    const { image } = replayAll(LOG);
    expect(image.lastAppliedOffset).toBe(LOG.length);
    expect(image.lastAppliedEpoch).toBe(3);
    expect(image.brokers().map((b) => [b.brokerId, b.fenced, b.inControlledShutdown])).toEqual([
      [1, true, false],
      [2, false, false],
      [3, false, true],
    ]);
    expect(image.broker(1)).toEqual({
      brokerId: 1,
      incarnationId: 'i1',
      brokerEpoch: '1',
      host: 'h1',
      port: 9092,
      rack: 'a',
      fenced: true,
      inControlledShutdown: false,
    });
    expect(image.topics().map((t) => t.name)).toEqual(['orders']);
    expect(image.topic('gone')).toBeUndefined();
    expect(image.topicById('topic-id-gone')).toBeUndefined();
    const orders = image.topic('orders')!;
    expect(image.topicById(T)).toBe(orders);
    expect(orders.configs).toEqual(new Map([['min.insync.replicas', '2']]));
    // A present leader bumps the leader epoch; every change bumps the partition epoch.
    expect(orders.partitions[0]).toEqual({
      replicas: [1, 2, 3],
      isr: [2, 3],
      leader: 2,
      leaderEpoch: 1,
      partitionEpoch: 1,
      addingReplicas: [],
      removingReplicas: [],
    });
    expect(orders.partitions[1]).toEqual({
      replicas: [2, 3, 1],
      isr: [2, 3],
      leader: 2,
      leaderEpoch: 0,
      partitionEpoch: 1,
      addingReplicas: [],
      removingReplicas: [],
    });
    expect(image.brokerConfigs('2')).toEqual(new Map([['log.cleaner.threads', '2']]));
    expect(image.brokerConfigs('1').size).toBe(0);
    expect(image.nextProducerId).toBe('1000');
  });

  it('describes each change as a delta', () => {
    const { deltas } = replayAll(LOG);
    const at = (i: number) => deltas[i]!;
    expect(at(0).brokersChanged).toEqual([{ brokerId: 1, before: undefined, after: expect.objectContaining({ fenced: true }) }]);
    expect(at(6).topicsCreated).toEqual([{ name: 'orders', topicId: T }]);
    expect(at(7).configsChanged).toEqual([
      { resourceType: 'topic', resourceName: 'orders', name: 'min.insync.replicas', before: undefined, after: '2' },
    ]);
    expect(at(8).partitionsChanged).toEqual([
      { topic: 'orders', topicId: T, partition: 0, before: undefined, after: expect.objectContaining({ leader: 1 }), unclean: false },
    ]);
    expect(at(11).partitionsChanged[0]).toMatchObject({
      partition: 0,
      before: { leader: 1, leaderEpoch: 0 },
      after: { leader: 2, leaderEpoch: 1 },
    });
    expect(at(15).nextProducerId).toBe('1000');
    expect(at(18).topicsDeleted).toEqual([{ name: 'gone', topicId: 'topic-id-gone' }]);
    expect(at(18).partitionsChanged).toEqual([
      {
        topic: 'gone',
        topicId: 'topic-id-gone',
        partition: 0,
        before: expect.objectContaining({ leader: 2 }),
        after: undefined,
        unclean: false,
      },
    ]);
    expect(at(18).offset).toBe(19);
    expect(at(18).record).toBe(LOG[18]);
  });

  it('hands out frozen values that later replays replace rather than change', () => {
    const image = new MetadataImage();
    replayAll(LOG.slice(0, 10), image);
    const before = image.topic('orders')!;
    const p0 = before.partitions[0]!;
    expect(Object.isFrozen(p0)).toBe(true);
    expect(Object.isFrozen(p0.isr)).toBe(true);
    image.replay({ type: 'PartitionChange', topicId: T, partition: 0, isr: [1, 2] }, 20);
    expect(p0.isr).toEqual([1, 2, 3]);
    expect(before.partitions[0]).toBe(p0);
    expect(image.topic('orders')!.partitions[0]!.isr).toEqual([1, 2]);
  });

  it('refuses records that contradict the image, leaving it unchanged', () => {
    const { image } = replayAll(LOG);
    const snapshot = image.toSnapshot();
    const bad: MetadataRecord[] = [
      { type: 'FenceBroker', brokerId: 9, brokerEpoch: '1' },
      { type: 'UnfenceBroker', brokerId: 2, brokerEpoch: '7' },
      { type: 'Topic', name: 'orders', topicId: 'other' },
      { type: 'Topic', name: 'other', topicId: T },
      { type: 'Partition', topicId: T, partition: 5, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
      { type: 'PartitionChange', topicId: T, partition: 9, isr: [2] },
      { type: 'PartitionChange', topicId: T, partition: 0, isr: [] },
      { type: 'PartitionChange', topicId: T, partition: 0, isr: [2, 7] },
      { type: 'PartitionChange', topicId: T, partition: 0, leader: 1 },
      { type: 'Config', resourceType: 'topic', resourceName: 'nope', name: 'x', value: '1' },
      { type: 'RemoveTopic', topicId: 'nope' },
      { type: 'ProducerIdsBlock', brokerId: 1, brokerEpoch: '1', nextProducerId: '1000' },
    ];
    for (const record of bad) expect(() => image.replay(record, 100), record.type).toThrow(MetadataReplayError);
    expect(() => image.replay(LOG[0]!, 1)).toThrow(/offset 1 replayed after/);
    expect(image.toSnapshot()).toEqual(snapshot);
    expect(image.lastAppliedOffset).toBe(LOG.length);
  });

  it('lets the records of one entry share an offset', () => {
    const image = new MetadataImage();
    expect(image.lastAppliedOffset).toBe(NO_OFFSET);
    image.replay(LOG[0]!, 5);
    image.replay(LOG[1]!, 5);
    expect(image.lastAppliedOffset).toBe(5);
  });
});

describe('snapshots', () => {
  it('toSnapshot → fromSnapshot recreates the image', () => {
    const { image } = replayAll(LOG);
    const records = image.toSnapshot();
    const restored = MetadataImage.fromSnapshot(
      records.map((r) => decodeMetadataRecord(encodeMetadataRecord(r))),
      image.lastAppliedOffset,
      image.lastAppliedEpoch,
    );
    expect(restored).toEqual(image);
    expect(restored.toSnapshot()).toEqual(records);
  });

  it('recovery from snapshot + log tail equals replaying the whole log', () => {
    const cut = 12;
    const { image: whole } = replayAll(LOG);
    const { image: head } = replayAll(LOG.slice(0, cut));
    const recovered = MetadataImage.fromSnapshot(head.toSnapshot(), head.lastAppliedOffset, head.lastAppliedEpoch);
    LOG.slice(cut).forEach((r, i) => recovered.replay(r, cut + i + 1, 3));
    expect(recovered).toEqual(whole);
  });

  it('of an empty image is empty', () => {
    expect(new MetadataImage().toSnapshot()).toEqual([]);
    expect(MetadataImage.fromSnapshot([])).toEqual(new MetadataImage());
  });

  it('clone() is independent of the original', () => {
    const { image } = replayAll(LOG);
    const copy = image.clone();
    copy.replay({ type: 'RemoveTopic', topicId: T }, 100);
    copy.replay({ type: 'UnfenceBroker', brokerId: 1, brokerEpoch: '1' }, 100);
    expect(image.topic('orders')).toBeDefined();
    expect(image.broker(1)!.fenced).toBe(true);
    expect(image.lastAppliedOffset).toBe(LOG.length);
  });
});

describe('localChanges', () => {
  it('tells a broker which partitions it leads, follows and must delete', () => {
    const { deltas } = replayAll(LOG);
    const created = deltas.slice(6, 10);
    expect(localChanges(created, 1).leaders.map((c) => c.partition)).toEqual([0]);
    expect(localChanges(created, 1).followers.map((c) => c.partition)).toEqual([1]);
    // Broker 2 took over partition 0 after broker 1 was fenced.
    const failover = deltas.slice(10, 13);
    expect(localChanges(failover, 2).leaders.map((c) => [c.partition, c.registration.leaderEpoch])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(localChanges(failover, 3).followers.map((c) => c.partition)).toEqual([0, 1]);
    // The deleted topic.
    expect(localChanges(deltas.slice(16), 2)).toEqual({ leaders: [], followers: [], deletes: [] });
    expect(localChanges(deltas.slice(18), 2).deletes).toEqual([
      { topic: 'gone', topicId: 'topic-id-gone', partition: 0, topicDeleted: true },
    ]);
  });

  it('reports a replica moved away as a delete', () => {
    const image = new MetadataImage();
    replayAll(LOG.slice(0, 10), image);
    const delta = image.replay({ type: 'PartitionChange', topicId: T, partition: 0, replicas: [1, 2], isr: [1, 2] }, 50);
    expect(localChanges([delta], 3).deletes).toEqual([{ topic: 'orders', topicId: T, partition: 0, topicDeleted: false }]);
    expect(localChanges([delta], 1).leaders).toHaveLength(1);
  });
});
