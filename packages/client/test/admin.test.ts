import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import {
  InvalidPartitionsError,
  InvalidTopicError,
  NotControllerError,
  SamsaAggregateError,
  TopicAlreadyExistsError,
  UnknownTopicOrPartitionError,
  serdes,
} from '../src/index.js';
import type { CreateTopicsRequest } from '../src/index.js';
import { setup } from './helpers.js';

describe('Admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const { fake, samsa } = setup([1, 2]);
    const admin = samsa.admin();
    const created = await admin.createTopics([{ topic: 'b', numPartitions: 2, configs: { 'cleanup.policy': 'compact' } }, { topic: 'a' }]);
    expect(created).toEqual([
      { topic: 'b', numPartitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
      { topic: 'a', numPartitions: 1, replicationFactor: 1, configs: {} },
    ]);
    const request = fake.callsOf('createTopics')[0]!.request as CreateTopicsRequest;
    expect(request.topics!.map((t) => [t.name, t.numPartitions, t.replicationFactor])).toEqual([
      ['b', 2, -1],
      ['a', -1, -1],
    ]);
    expect(await admin.listTopics()).toEqual(['a', 'b']);

    const [b] = await admin.describeTopics(['b']);
    expect(b).toEqual({
      name: 'b',
      topicId: '',
      isInternal: false,
      configs: { 'retention.ms': '604800000' },
      partitions: [
        { partition: 0, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] },
        { partition: 1, leader: 2, leaderEpoch: 0, replicas: [2], isr: [2], offlineReplicas: [] },
      ],
    });
    expect((await admin.describeTopics()).map((t) => t.name)).toEqual(['a', 'b']);

    await admin.deleteTopics(['a']);
    expect(await admin.listTopics()).toEqual(['b']);
    await expect(admin.describeTopics(['a'])).rejects.toBeInstanceOf(UnknownTopicOrPartitionError);
  });

  it('createPartitions grows a topic; a count that is not larger throws InvalidPartitionsError; describe sees the new count at once', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 1);
    const admin = samsa.admin();
    expect((await admin.describeTopics(['t']))[0]!.partitions).toHaveLength(1);
    await admin.createPartitions([{ topic: 't', count: 3 }]);
    expect(fake.callsOf('createPartitions')[0]!.request).toMatchObject({ topics: [{ name: 't', count: 3 }], validateOnly: false });
    expect((await admin.describeTopics(['t']))[0]!.partitions.map((p) => p.leader)).toEqual([1, 2, 1]);
    const error = await admin.createPartitions([{ topic: 't', count: 2 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPartitionsError);
    expect((error as Error).message).toContain('has 3 partitions');
    await expect(admin.createPartitions([{ topic: 't', count: 0 }])).rejects.toThrow('count must be a positive integer');
    await expect(admin.createPartitions([{ topic: 'ghost', count: 2 }])).rejects.toBeInstanceOf(UnknownTopicOrPartitionError);
  });

  it('throws the typed error of the one failed topic', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('exists', 1);
    const error = await samsa
      .admin()
      .createTopics([{ topic: 'exists' }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopicAlreadyExistsError);
    expect(error).toMatchObject({ topic: 'exists', errorName: 'TOPIC_ALREADY_EXISTS', message: "Topic 'exists' already exists." });
  });

  it('throws a SamsaAggregateError listing each failed topic, and keeps the ones that succeeded', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('exists', 1);
    const error = await samsa
      .admin()
      .createTopics([{ topic: 'exists' }, { topic: 'ok' }, { topic: 'bad name!' }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SamsaAggregateError);
    const errors = (error as SamsaAggregateError).errors;
    expect(errors.map((e) => [e.constructor, e.topic])).toEqual([
      [TopicAlreadyExistsError, 'exists'],
      [InvalidTopicError, 'bad name!'],
    ]);
    expect(fake.topics.has('ok')).toBe(true);
  });

  it('retries retriable topic errors (NOT_CONTROLLER) for the pending topics only', async () => {
    const { fake, clock, samsa } = setup([1]);
    fake.failOnce(
      (c) => c.method === 'createTopics',
      () => ({
        topics: [
          { name: 'x', errorCode: 0, errorMessage: '', numPartitions: 1, replicationFactor: 1, configs: {} },
          { name: 'y', errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'moved', numPartitions: 0, replicationFactor: 0, configs: {} },
        ],
      }),
    );
    const created = await samsa.admin().createTopics([{ topic: 'x' }, { topic: 'y' }]);
    expect(created.map((c) => c.topic)).toEqual(['x', 'y']);
    const second = fake.callsOf('createTopics')[1]!.request as CreateTopicsRequest;
    expect(second.topics!.map((t) => t.name)).toEqual(['y']);
    expect(clock.sleeps).toEqual([10]);
    expect(NotControllerError).toBeDefined();
  });

  it('validates the shape of input before sending anything', async () => {
    const { fake, samsa } = setup([1]);
    const admin = samsa.admin();
    await expect(admin.createTopics([{ topic: 'x', numPartitions: 1.5 }])).rejects.toMatchObject({ errorName: 'INVALID_REQUEST' });
    await expect(admin.createTopics([])).rejects.toMatchObject({ errorName: 'INVALID_REQUEST' });
    expect(fake.callsOf('createTopics')).toHaveLength(0);
  });

  it('leaves partition-count rules to the broker, which answers INVALID_PARTITIONS', async () => {
    const { fake, samsa } = setup([1]);
    await expect(samsa.admin().createTopics([{ topic: 'x', numPartitions: 0 }])).rejects.toBeInstanceOf(InvalidPartitionsError);
    expect(fake.callsOf('createTopics')).toHaveLength(1);
  });

  it('deleteTopics reports an unknown topic without retrying', async () => {
    const { fake, samsa } = setup([1]);
    const error = await samsa
      .admin()
      .deleteTopics(['ghost'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTopicOrPartitionError);
    expect(error).toMatchObject({ topic: 'ghost', retriable: false });
    expect(fake.callsOf('deleteTopics')).toHaveLength(1);
  });

  it('describes the cluster', async () => {
    const { samsa } = setup([1, 2, 3]);
    const cluster = await samsa.admin().describeCluster();
    expect(cluster.controllerId).toBe(1);
    expect(cluster.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack])).toEqual([
      [1, 'broker1', 9092, null],
      [2, 'broker2', 9092, null],
      [3, 'broker3', 9092, null],
    ]);
  });

  it('lists earliest, latest and by-timestamp offsets from each leader', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 2, [1, 2]);
    const producer = samsa.producer({ value: serdes.string });
    await producer.send({ topic: 't', messages: [0, 1, 2].map((i) => ({ partition: 0, value: `v${i}`, timestamp: 100 + i })) });
    await producer.send({ topic: 't', messages: [{ partition: 1, value: 'w', timestamp: 50 }] });
    const offsets = await samsa.admin().listOffsets('t', [
      { partition: 0, timestamp: 'earliest' },
      { partition: 0, timestamp: 'latest' },
      { partition: 1, timestamp: 'latest' },
    ]);
    expect(offsets.map((o) => [o.partition, o.offset])).toEqual([
      [0, 0n],
      [0, 3n],
      [1, 1n],
    ]);
    const [byTime] = await samsa.admin().listOffsets('t', [{ partition: 0, timestamp: 101n }]);
    expect(byTime).toMatchObject({ offset: 1n, timestamp: 101n });
    expect(new Set(fake.callsOf('listOffsets').map((c) => c.nodeId))).toEqual(new Set([1, 2]));
    // read_committed asks for the last stable offset (isolation level 1); the default asks for the high watermark.
    expect(fake.callsOf('listOffsets').map((c) => (c.request as { isolationLevel: number }).isolationLevel)).not.toContain(1);
    await samsa.admin().listOffsets('t', [{ partition: 0, timestamp: 'latest' }], { isolationLevel: 'read_committed' });
    expect((fake.callsOf('listOffsets').at(-1)!.request as { isolationLevel: number }).isolationLevel).toBe(1);
  });
});
