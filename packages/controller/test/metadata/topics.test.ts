import { describe, expect, it } from 'vitest';
import { ErrorCode, protocolError } from '@samsa/protocol';
import { QuorumController } from '../../src/index.js';
import { type MetadataRecord } from '@samsa/metadata';
import { Harness } from './harness.js';

function cluster(brokers = [1, 2, 3], options: ConstructorParameters<typeof QuorumController>[0] = {}): Harness {
  const h = new Harness(options);
  h.startBrokers(brokers);
  return h;
}

function leaderCounts(h: Harness, topic: string): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const p of h.image.topic(topic)!.partitions) counts[p.leader] = (counts[p.leader] ?? 0) + 1;
  return counts;
}

describe('createTopics', () => {
  it('writes a Topic record, its Configs and one Partition record per partition', () => {
    const h = cluster();
    const result = h.controller.createTopics([
      { name: 'orders', numPartitions: 2, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
    ]);
    const topicId = result.response[0]!.errorCode === 0 ? result.response[0]!.topicId! : '';
    expect(topicId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result.response).toEqual([
      { name: 'orders', errorCode: 0, topicId, numPartitions: 2, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
    ]);
    expect(result.records.map((r) => r.type)).toEqual(['Topic', 'Config', 'Partition', 'Partition']);
    expect(result.records[0]).toEqual({ type: 'Topic', name: 'orders', topicId });
    for (const record of result.records.slice(2)) {
      const p = record as Extract<MetadataRecord, { type: 'Partition' }>;
      expect(p.isr).toEqual(p.replicas);
      expect(p.leader).toBe(p.replicas[0]);
      expect([p.leaderEpoch, p.partitionEpoch]).toEqual([0, 0]);
    }
    h.commit(result);
    expect(h.image.topic('orders')!.configs.get('min.insync.replicas')).toBe('2');
    expect(h.image.topic('orders')!.partitions).toHaveLength(2);
  });

  it('spreads leaders evenly: 3 brokers × 6 partitions RF3 → each broker leads 2, replicas distinct', () => {
    const h = cluster();
    h.createTopic('spread', 6, 3);
    expect(leaderCounts(h, 'spread')).toEqual({ 1: 2, 2: 2, 3: 2 });
    for (const p of h.image.topic('spread')!.partitions) expect(new Set(p.replicas).size).toBe(3);
  });

  it('spreads leaders across topics too: each new topic starts at the least-loaded broker', () => {
    const h = cluster();
    for (const name of ['a', 'b', 'c', 'd']) h.createTopic(name, 1, 2);
    expect(['a', 'b', 'c', 'd'].map((t) => h.partition(t, 0).leader)).toEqual([1, 2, 3, 1]);
    // Within one request as well.
    const h2 = cluster();
    h2.commit(h2.controller.createTopics(['x', 'y', 'z'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1 }))));
    expect(['x', 'y', 'z'].map((t) => h2.partition(t, 0).leader)).toEqual([1, 2, 3]);
  });

  it('uses the defaults for -1', () => {
    const h = cluster([1, 2, 3], { defaultNumPartitions: 4, defaultReplicationFactor: 2 });
    const [result] = h.commit(h.controller.createTopics([{ name: 'd', numPartitions: -1, replicationFactor: -1 }]));
    expect(result).toMatchObject({ errorCode: 0, numPartitions: 4, replicationFactor: 2 });
    expect(h.image.topic('d')!.partitions.map((p) => p.replicas.length)).toEqual([2, 2, 2, 2]);
  });

  it('with validateOnly answers as if created but writes nothing', () => {
    const h = cluster();
    const result = h.controller.createTopics([{ name: 'v', numPartitions: 3, replicationFactor: 3 }], true);
    expect(result.records).toEqual([]);
    expect(result.response).toEqual([{ name: 'v', errorCode: 0, numPartitions: 3, replicationFactor: 3, configs: {} }]);
  });

  it.each([
    ['', 'INVALID_TOPIC_EXCEPTION'],
    ['.', 'INVALID_TOPIC_EXCEPTION'],
    ['..', 'INVALID_TOPIC_EXCEPTION'],
    ['has space', 'INVALID_TOPIC_EXCEPTION'],
    ['ünïcode', 'INVALID_TOPIC_EXCEPTION'],
    ['x'.repeat(250), 'INVALID_TOPIC_EXCEPTION'],
  ] as const)('refuses the topic name %j with %s', (name, code) => {
    const h = cluster();
    const result = h.controller.createTopics([{ name, numPartitions: 1, replicationFactor: 1 }]);
    expect(result.response[0]).toMatchObject({ name, errorCode: ErrorCode[code] });
    expect(result.records).toEqual([]);
  });

  it('accepts a 249-character name of legal characters', () => {
    const h = cluster();
    const name = 'a.B_9-'.repeat(41) + 'abc';
    expect(name).toHaveLength(249);
    expect(h.controller.createTopics([{ name, numPartitions: 1, replicationFactor: 1 }]).response[0]!.errorCode).toBe(0);
  });

  it('refuses an existing topic (TOPIC_ALREADY_EXISTS) and a name that collides on . and _', () => {
    const h = cluster();
    h.createTopic('a.b', 1, 1);
    const result = h.controller.createTopics([
      { name: 'a.b', numPartitions: 1, replicationFactor: 1 },
      { name: 'a_b', numPartitions: 1, replicationFactor: 1 },
    ]);
    expect(result.response.map((r) => r.errorCode)).toEqual([ErrorCode.TOPIC_ALREADY_EXISTS, ErrorCode.INVALID_TOPIC_EXCEPTION]);
    expect(result.records).toEqual([]);
  });

  it('refuses a name given twice in one request (INVALID_REQUEST) but creates the others', () => {
    const h = cluster();
    const result = h.controller.createTopics([
      { name: 'dup', numPartitions: 1, replicationFactor: 1 },
      { name: 'ok', numPartitions: 1, replicationFactor: 1 },
      { name: 'dup', numPartitions: 1, replicationFactor: 1 },
    ]);
    expect(result.response.map((r) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, 0, ErrorCode.INVALID_REQUEST]);
    expect(result.records.filter((r) => r.type === 'Topic')).toEqual([expect.objectContaining({ name: 'ok' })]);
  });

  it.each([0, -2, 1.5, 100_001])('refuses %s partitions with INVALID_PARTITIONS', (numPartitions) => {
    const h = cluster();
    const result = h.controller.createTopics([{ name: 't', numPartitions, replicationFactor: 1 }]);
    expect(result.response[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(result.records).toEqual([]);
  });

  it.each([0, -2, 4])(
    'refuses replication factor %s on 3 brokers with INVALID_REPLICATION_FACTOR and writes nothing',
    (replicationFactor) => {
      const h = cluster();
      const result = h.controller.createTopics([{ name: 't', numPartitions: 1, replicationFactor }]);
      expect(result.response[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICATION_FACTOR });
      expect(result.records).toEqual([]);
    },
  );

  it('counts only unfenced brokers that are not shutting down', () => {
    const h = cluster([1, 2, 3, 4]);
    h.register(5); // registered but never caught up: fenced
    h.heartbeat(4, 0, { wantShutDown: true });
    const rf4 = h.controller.createTopics([{ name: 't', numPartitions: 1, replicationFactor: 4 }]);
    expect(rf4.response[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    expect(rf4.records).toEqual([]);
    h.createTopic('t', 3, 3);
    for (const p of h.image.topic('t')!.partitions) expect([...p.replicas].sort()).toEqual([1, 2, 3]);
  });

  it('refuses with INVALID_REPLICATION_FACTOR when no broker is registered', () => {
    const h = new Harness();
    expect(h.controller.createTopics([{ name: 't', numPartitions: 1, replicationFactor: 1 }]).response[0]!.errorCode).toBe(
      ErrorCode.INVALID_REPLICATION_FACTOR,
    );
  });

  it('refuses unknown or malformed configs with INVALID_CONFIG and normalises good ones', () => {
    const h = cluster();
    const result = h.controller.createTopics([
      { name: 'a', numPartitions: 1, replicationFactor: 1, configs: { 'no.such.key': '1' } },
      { name: 'b', numPartitions: 1, replicationFactor: 1, configs: { 'min.insync.replicas': 'two' } },
      { name: 'c', numPartitions: 1, replicationFactor: 1, configs: { 'min.insync.replicas': '0' } },
      {
        name: 'd',
        numPartitions: 1,
        replicationFactor: 1,
        configs: { 'cleanup.policy': 'delete, compact', 'unclean.leader.election.enable': 'TRUE' },
      },
      { name: 'e', numPartitions: 1, replicationFactor: 1, configs: { toString: 'x' } },
    ]);
    expect(result.response.map((r) => r.errorCode)).toEqual([
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      0,
      ErrorCode.INVALID_CONFIG,
    ]);
    expect(result.response[3]).toMatchObject({ configs: { 'cleanup.policy': 'compact,delete', 'unclean.leader.election.enable': 'true' } });
    expect(result.records.filter((r) => r.type === 'Topic').map((r) => (r as { name: string }).name)).toEqual(['d']);
  });

  it('uses an injected config validator, mapping its plain errors to INVALID_CONFIG', () => {
    const h = cluster([1], {
      validateTopicConfigs: (configs) => {
        if ('boom' in configs) throw new Error('boom is not allowed');
        if ('policy' in configs) throw protocolError('POLICY_VIOLATION', 'no');
        return { ...configs, normalised: 'yes' };
      },
    });
    const result = h.controller.createTopics([
      { name: 'a', numPartitions: 1, replicationFactor: 1, configs: { boom: '1' } },
      { name: 'b', numPartitions: 1, replicationFactor: 1, configs: { policy: '1' } },
      { name: 'c', numPartitions: 1, replicationFactor: 1, configs: { anything: 'goes' } },
    ]);
    expect(result.response[0]).toEqual({ name: 'a', errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'boom is not allowed' });
    expect(result.response[1]).toMatchObject({ errorCode: ErrorCode.POLICY_VIOLATION });
    expect(result.response[2]).toMatchObject({ errorCode: 0, configs: { anything: 'goes', normalised: 'yes' } });
  });

  it('never changes the image itself', () => {
    const h = cluster();
    const before = h.image.toSnapshot();
    const offset = h.image.lastAppliedOffset;
    h.controller.createTopics([{ name: 'x', numPartitions: 3, replicationFactor: 3 }]);
    h.controller.deleteTopics(['x']);
    expect(h.image.toSnapshot()).toEqual(before);
    expect(h.image.lastAppliedOffset).toBe(offset);
    expect(h.image.topic('x')).toBeUndefined();
  });
});

describe('deleteTopics', () => {
  it('writes RemoveTopic, or answers UNKNOWN_TOPIC_OR_PARTITION', () => {
    const h = cluster();
    const id = h.createTopic('t', 2, 2);
    const result = h.controller.deleteTopics(['t', 'missing']);
    expect(result.response).toEqual([
      { name: 't', errorCode: 0, topicId: id },
      { name: 'missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: expect.any(String) },
    ]);
    expect(result.records).toEqual([{ type: 'RemoveTopic', topicId: id }]);
    h.commit(result);
    expect(h.image.topic('t')).toBeUndefined();
  });

  it('refuses a name given twice', () => {
    const h = cluster();
    h.createTopic('t', 1, 1);
    const result = h.controller.deleteTopics(['t', 't']);
    expect(result.response.map((r) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
    expect(result.records).toEqual([]);
  });

  it('gives a re-created topic a new id', () => {
    const h = cluster();
    const first = h.createTopic('t', 1, 1);
    h.commit(h.controller.deleteTopics(['t']));
    expect(h.createTopic('t', 1, 1)).not.toBe(first);
  });
});

describe('incrementalAlterConfigs', () => {
  it('sets and deletes topic configs with Config records', () => {
    const h = cluster();
    h.createTopic('t', 1, 3, { 'retention.ms': '1000' });
    const result = h.controller.incrementalAlterConfigs([
      {
        resourceType: 'topic',
        resourceName: 't',
        configs: [
          { name: 'min.insync.replicas', op: 'set', value: '2' },
          { name: 'retention.ms', op: 'delete' },
        ],
      },
    ]);
    expect(result.response).toEqual([{ resourceType: 'topic', resourceName: 't', errorCode: 0 }]);
    expect(result.records).toEqual([
      { type: 'Config', resourceType: 'topic', resourceName: 't', name: 'min.insync.replicas', value: '2' },
      { type: 'Config', resourceType: 'topic', resourceName: 't', name: 'retention.ms', value: null },
    ]);
    h.commit(result);
    expect(h.image.topic('t')!.configs).toEqual(new Map([['min.insync.replicas', '2']]));
    // Setting the same value again, or deleting an unset key, changes nothing.
    const again = h.controller.incrementalAlterConfigs([
      {
        resourceType: 'topic',
        resourceName: 't',
        configs: [
          { name: 'min.insync.replicas', op: 'set', value: '2' },
          { name: 'retention.ms', op: 'delete' },
        ],
      },
    ]);
    expect(again.records).toEqual([]);
  });

  it('answers errors per resource', () => {
    const h = cluster();
    h.createTopic('t', 1, 1);
    const result = h.controller.incrementalAlterConfigs([
      { resourceType: 'topic', resourceName: 'missing', configs: [{ name: 'retention.ms', op: 'set', value: '1' }] },
      { resourceType: 'topic', resourceName: 't', configs: [{ name: 'min.insync.replicas', op: 'set', value: 'x' }] },
      { resourceType: 'broker', resourceName: 'one', configs: [{ name: 'log.retention.ms', op: 'set', value: '1' }] },
    ]);
    expect(result.response.map((r) => r.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_REQUEST,
    ]);
    expect(result.records).toEqual([]);
    const dupKey = h.controller.incrementalAlterConfigs([
      {
        resourceType: 'topic',
        resourceName: 't',
        configs: [
          { name: 'retention.ms', op: 'set', value: '1' },
          { name: 'retention.ms', op: 'delete' },
        ],
      },
    ]);
    expect(dupKey.response[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const noValue = h.controller.incrementalAlterConfigs([
      { resourceType: 'topic', resourceName: 't', configs: [{ name: 'retention.ms', op: 'set' }] },
    ]);
    expect(noValue.response[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('stores dynamic broker configs, per broker and cluster-wide, as Config records of resource type broker', () => {
    const h = cluster();
    const set = h.controller.incrementalAlterConfigs([
      { resourceType: 'broker', resourceName: '', configs: [{ name: 'log.retention.ms', op: 'set', value: '60000' }] },
      {
        resourceType: 'broker',
        resourceName: '2',
        configs: [
          { name: 'min.insync.replicas', op: 'set', value: '2' },
          { name: 'log.segment.bytes', op: 'delete' },
        ],
      },
    ]);
    expect(set.response.map((r) => r.errorCode)).toEqual([0, 0]);
    // Deleting what is not set writes nothing.
    expect(set.records).toEqual([
      { type: 'Config', resourceType: 'broker', resourceName: '', name: 'log.retention.ms', value: '60000' },
      { type: 'Config', resourceType: 'broker', resourceName: '2', name: 'min.insync.replicas', value: '2' },
    ]);
    h.commit(set);
    const del = h.controller.incrementalAlterConfigs([
      { resourceType: 'broker', resourceName: '', configs: [{ name: 'log.retention.ms', op: 'delete' }] },
    ]);
    expect(del.records).toEqual([{ type: 'Config', resourceType: 'broker', resourceName: '', name: 'log.retention.ms', value: null }]);

    for (const [resourceName, config, message] of [
      ['', { name: 'retention.ms', op: 'set', value: '1' }, "unknown or non-dynamic broker config 'retention.ms'"],
      ['1', { name: 'log.retention.ms', op: 'set', value: 'soon' }, "log.retention.ms must be an integer, got 'soon'"],
      [
        '',
        { name: 'unclean.leader.election.enable', op: 'set', value: 'true' },
        'unclean.leader.election.enable is not a dynamic broker config here',
      ],
      ['', { name: 'log.retention.hours', op: 'delete' }, 'unknown or non-dynamic broker config(s): log.retention.hours'],
    ] as const) {
      const bad = h.controller.incrementalAlterConfigs([{ resourceType: 'broker', resourceName, configs: [config] }]);
      expect(bad.response[0]).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
      expect(bad.response[0]!.errorCode === 0 ? '' : bad.response[0]!.errorMessage).toContain(message);
      expect(bad.records).toEqual([]);
    }
  });

  it('with validateOnly writes nothing', () => {
    const h = cluster();
    h.createTopic('t', 1, 1);
    const result = h.controller.incrementalAlterConfigs(
      [{ resourceType: 'topic', resourceName: 't', configs: [{ name: 'retention.ms', op: 'set', value: '5' }] }],
      true,
    );
    expect(result.response[0]!.errorCode).toBe(0);
    expect(result.records).toEqual([]);
  });
});
