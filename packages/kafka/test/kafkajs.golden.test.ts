/**
 * Golden bytes from a real client: KafkaJS 2.2.4 talks to a fake broker built on these codecs. Its
 * requests are decoded with our schemas and their fields checked; its successful flows (admin,
 * idempotent produce, group join, fetch and consume) check our response encodings, because KafkaJS
 * decodes every response we send.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, decodeRequest, type ApiKeyNumber, type ProduceRequest } from '../src/index.js';
import { ADMIN_TOPIC, GROUP, PRODUCED, TOPIC, captureKafkaJs, type Capture } from './helpers/kafkajsCapture.js';

let capture: Capture;

beforeAll(async () => {
  capture = await captureKafkaJs();
}, 90_000);

function decoded<K extends ApiKeyNumber>(apiKey: K) {
  return capture.broker.framesOf(apiKey).map((f) => ({
    version: f.header.apiVersion,
    clientId: f.header.clientId,
    body: decodeRequest(apiKey, f.header.apiVersion, f.frame, f.bodyOffset),
  }));
}

describe('KafkaJS 2.2.4 requests decode with our schemas', () => {
  it('the fake broker answered every request without a decode or encode error', () => {
    expect(capture.broker.errors).toEqual([]);
    expect(capture.broker.frames.length).toBeGreaterThan(20);
    for (const f of capture.broker.frames) expect(f.header.clientId).toBe('golden-client');
  });

  it('ApiVersions and Metadata', () => {
    const av = decoded(ApiKey.ApiVersions);
    expect(av.length).toBeGreaterThan(0);
    expect(av[0]!.version).toBe(2);
    const md = capture.broker
      .framesOf(ApiKey.Metadata)
      .map((f) => decodeRequest(ApiKey.Metadata, f.header.apiVersion, f.frame, f.bodyOffset));
    expect(md.some((m) => m.topics?.some((t) => t.name === TOPIC))).toBe(true);
  });

  it('Produce: topic, partition, acks and the verbatim RecordBatch bytes', () => {
    const produces = capture.broker.framesOf(ApiKey.Produce).map((f) => ({
      version: f.header.apiVersion,
      body: decodeRequest(ApiKey.Produce, f.header.apiVersion, f.frame, f.bodyOffset) as ProduceRequest,
    }));
    expect(produces.map((p) => p.body.acks)).toEqual([-1, 1, 0]);
    for (const { version, body } of produces) {
      expect(version).toBe(7); // KafkaJS's highest Produce version
      expect(body.transactionalId).toBeNull();
      expect(body.topicData).toHaveLength(1);
      expect(body.topicData[0]!.name).toBe(TOPIC);
      expect(body.topicData[0]!.partitionData[0]!.index).toBe(0);
      const records = body.topicData[0]!.partitionData[0]!.records!;
      // A RecordBatch: batchLength (bytes 8..11) counts everything after itself; magic (byte 16) is 2.
      expect(records.length).toBe(records.readInt32BE(8) + 12);
      expect(records[16]).toBe(2);
    }
    const idem = produces[0]!.body.topicData[0]!.partitionData[0]!.records!;
    expect(idem.readBigInt64BE(43)).toBe(4242n); // producerId from our InitProducerId answer
    expect(idem.readInt32BE(23) + 1).toBe(PRODUCED.length); // lastOffsetDelta + 1 records
    const gz = produces[1]!.body.topicData[0]!.partitionData[0]!.records!;
    expect(gz.readInt16BE(21) & 0x07).toBe(1); // gzip codec in the attributes
  });

  it('InitProducerId for the idempotent producer', () => {
    const init = decoded(ApiKey.InitProducerId);
    expect(init).toHaveLength(1);
    expect(init[0]!.body.transactionalId).toBeNull();
  });

  it('admin requests: CreateTopics, CreatePartitions, configs, ACLs, DeleteRecords, DeleteGroups, DeleteTopics', () => {
    const ct = decoded(ApiKey.CreateTopics)[0]!.body;
    expect(ct.topics.map((t) => [t.name, t.numPartitions])).toEqual([
      [TOPIC, 1],
      [ADMIN_TOPIC, 3],
    ]);
    expect(ct.topics[1]!.configs).toEqual([{ name: 'retention.ms', value: '60000' }]);
    expect(decoded(ApiKey.CreatePartitions)[0]!.body.topics[0]).toMatchObject({ name: ADMIN_TOPIC, count: 4, assignments: null });
    const dc = decoded(ApiKey.DescribeConfigs)[0]!.body;
    expect(dc.resources[0]).toMatchObject({ resourceType: 2, resourceName: ADMIN_TOPIC, configurationKeys: ['cleanup.policy'] });
    const ac = decoded(ApiKey.AlterConfigs)[0]!.body;
    expect(ac.resources[0]!.configs).toEqual([{ name: 'cleanup.policy', value: 'compact' }]);
    expect(decoded(ApiKey.CreateAcls)[0]!.body.creations[0]).toMatchObject({
      principal: 'User:alice',
      resourceName: ADMIN_TOPIC,
      operation: 3,
    });
    expect(decoded(ApiKey.DescribeAcls)[0]!.body).toMatchObject({ principalFilter: 'User:alice', resourceNameFilter: ADMIN_TOPIC });
    expect(decoded(ApiKey.DeleteAcls)[0]!.body.filters[0]).toMatchObject({ principalFilter: 'User:alice', hostFilter: '*' });
    expect(decoded(ApiKey.DeleteRecords)[0]!.body.topics[0]).toEqual({
      name: ADMIN_TOPIC,
      partitions: [{ partitionIndex: 0, offset: 0n }],
    });
    expect(decoded(ApiKey.DeleteGroups)[0]!.body.groupsNames).toEqual(['old-group']);
    expect(decoded(ApiKey.DeleteTopics)[0]!.body.topicNames).toEqual([ADMIN_TOPIC]);
    expect(decoded(ApiKey.ListOffsets).some((l) => l.body.topics[0]!.name === ADMIN_TOPIC)).toBe(true);
    expect(decoded(ApiKey.DescribeGroups)[0]!.body.groups).toEqual([GROUP]);
    expect(decoded(ApiKey.ListGroups)).toHaveLength(1);
  });

  it('group requests: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, OffsetCommit', () => {
    expect(decoded(ApiKey.FindCoordinator).some((f) => f.body.key === GROUP && f.body.keyType === 0)).toBe(true);
    const join = decoded(ApiKey.JoinGroup)[0]!.body;
    expect(join).toMatchObject({ groupId: GROUP, memberId: '', protocolType: 'consumer', sessionTimeoutMs: 10_000 });
    expect(join.protocols[0]!.name).toBe('RoundRobinAssigner');
    // ConsumerProtocol Subscription: int16 version, then topics[] (int32 count, int16-length strings).
    expect(join.protocols[0]!.metadata.includes(Buffer.from(TOPIC))).toBe(true);
    const sync = decoded(ApiKey.SyncGroup)[0]!.body;
    expect(sync).toMatchObject({ groupId: GROUP, generationId: 1, memberId: 'member-1' });
    expect(sync.assignments[0]!.memberId).toBe('member-1');
    expect(decoded(ApiKey.OffsetFetch)[0]!.body).toMatchObject({ groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0] }] });
    const commits = decoded(ApiKey.OffsetCommit).map((c) => c.body);
    expect(commits.length).toBeGreaterThan(0);
    expect(commits[0]).toMatchObject({ groupId: GROUP, generationId: 1, memberId: 'member-1' });
  });

  it('Fetch: the consumer reads back, through our Fetch response, exactly what was produced', () => {
    const fetches = decoded(ApiKey.Fetch);
    expect(fetches[0]!.version).toBe(11);
    expect(fetches[0]!.body).toMatchObject({ replicaId: -1, maxWaitMs: 100, isolationLevel: 1 });
    expect(fetches[0]!.body.topics[0]).toMatchObject({ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: 0n }] });
    expect(capture.consumed.map((m) => [m.key, m.value, m.offset])).toEqual([
      ['k1', 'first value', '0'],
      ['k2', 'second value', '1'],
      [null, 'third value, no key', '2'],
      ['gz', 'gzipped value', '3'],
      ['fire', 'and forget', '4'],
    ]);
    expect(capture.consumed[0]!.headers).toEqual({ trace: 'abc' });
  });
});
