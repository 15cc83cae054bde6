/**
 * The Kafka listener at the byte level, against a real broker process (one controller, one broker,
 * connections.max.idle.ms 5 s): the address that serves gRPC also serves Kafka frames; ApiVersions
 * v0-v3, and v99 answered with UNSUPPORTED_VERSION in a v0 body with header v0; pipelined requests
 * answered in request order while a Fetch long-polls; an unknown API key, an unsupported version,
 * an undecodable body and an oversized frame close the connection and leave the broker serving;
 * Metadata, Fetch, Produce, group and admin semantics per version; idle connections closed;
 * per-API request metrics on /metrics.
 */
import { ApiKey, decodeResponse, encodeRequest } from '@samsa/kafka';
import { GrpcConnection, Samsa, serdes } from '@samsa/client';
import { encodeRecordBatch } from '@samsa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { RawKafkaConnection } from './helpers/kafkaWire.js';

/** ApiVersions in a v0 body: int16 error, int32 count, {int16 key, int16 min, int16 max}... (read by hand, not with the codecs). */
function readApiVersionsV0(frame: Buffer): { correlationId: number; errorCode: number; apis: Map<number, [number, number]> } {
  const correlationId = frame.readInt32BE(0);
  const errorCode = frame.readInt16BE(4);
  const count = frame.readInt32BE(6);
  const apis = new Map<number, [number, number]>();
  for (let i = 0; i < count; i++) {
    const at = 10 + i * 6;
    apis.set(frame.readInt16BE(at), [frame.readInt16BE(at + 2), frame.readInt16BE(at + 4)]);
  }
  expect(frame.length).toBe(10 + count * 6);
  return { correlationId, errorCode, apis };
}

/** A v0-header request written by hand: size, api key, version, correlation id, client id. */
function handFrame(apiKey: number, apiVersion: number, correlationId: number, body = Buffer.alloc(0)): Buffer {
  const clientId = Buffer.from('hand');
  const payload = Buffer.alloc(10 + clientId.length);
  payload.writeInt16BE(apiKey, 0);
  payload.writeInt16BE(apiVersion, 2);
  payload.writeInt32BE(correlationId, 4);
  payload.writeInt16BE(clientId.length, 8);
  clientId.copy(payload, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length + body.length, 0);
  return Buffer.concat([size, payload, body]);
}

/** connections.max.idle.ms of the test broker: longer than any pause inside a test. */
const IDLE_MS = 5_000;

describe('the Kafka listener on the broker address', () => {
  let cluster: TestCluster;
  let port: number;
  let samsa: Samsa;
  const open: RawKafkaConnection[] = [];
  const connect = async () => {
    const c = await RawKafkaConnection.connect(port);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    cluster = await startCluster({ controllers: 1, brokers: 1, metrics: true, brokerArgs: ['--connections-max-idle-ms', String(IDLE_MS)] });
    port = cluster.brokers[0]!.port;
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000 });
    await samsa.admin().createTopics([{ topic: 'wire', numPartitions: 1, replicationFactor: 1 }]);
    await waitFor(
      'wire has a leader',
      async () => (await samsa.admin().describeTopics(['wire']))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );
  }, 90_000);

  afterAll(async () => {
    for (const c of open) c.close();
    await samsa?.close();
    await cluster?.stop();
  });

  it('answers ApiVersions v0 to v3 with the served ranges', async () => {
    const c = await connect();
    for (let v = 0; v <= 3; v++) {
      const body = v >= 3 ? { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' } : {};
      const r = await c.request<{ errorCode: number; apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }> }>(
        ApiKey.ApiVersions,
        v,
        100 + v,
        body,
      );
      expect(r.errorCode).toBe(0);
      const byKey = new Map(r.apiKeys.map((a) => [a.apiKey, [a.minVersion, a.maxVersion]]));
      expect(byKey.get(ApiKey.ApiVersions)).toEqual([0, 3]);
      expect(byKey.get(ApiKey.Produce)).toEqual([3, 9]);
      expect(byKey.get(ApiKey.Fetch)).toEqual([4, 12]);
      expect(byKey.get(ApiKey.Metadata)).toEqual([0, 12]);
    }
    // The hand-read v0 layout agrees with the codec.
    c.write(handFrame(ApiKey.ApiVersions, 0, 7));
    const v0 = readApiVersionsV0(await c.nextFrame());
    expect(v0).toMatchObject({ correlationId: 7, errorCode: 0 });
    expect(v0.apis.get(ApiKey.Fetch)).toEqual([4, 12]);
  });

  it('answers ApiVersions v99 with UNSUPPORTED_VERSION (35) in a v0 body with header v0, and keeps the connection', async () => {
    const c = await connect();
    c.write(handFrame(ApiKey.ApiVersions, 99, 4242));
    const r = readApiVersionsV0(await c.nextFrame());
    expect(r.correlationId).toBe(4242);
    expect(r.errorCode).toBe(35);
    expect(r.apis.get(ApiKey.ApiVersions)).toEqual([0, 3]);
    const again = await c.request<{ errorCode: number }>(ApiKey.ApiVersions, 2, 4243, {});
    expect(again.errorCode).toBe(0);
  });

  it('answers pipelined requests in request order while a Fetch long-polls', async () => {
    const c = await connect();
    const metadata = await c.request<{ topics: Array<{ name: string; partitions: Array<{ partitionIndex: number }> }> }>(
      ApiKey.Metadata,
      12,
      1,
      {
        topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'wire' }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      },
    );
    expect(metadata.topics[0]!.name).toBe('wire');
    c.write(encodeFetch(2, 0n, 0));
    const probe = decodeResponse(ApiKey.Fetch, 12, await c.nextFrame()).body as {
      responses: Array<{ partitions: Array<{ highWatermark: bigint }> }>;
    };
    const at = probe.responses[0]!.partitions[0]!.highWatermark;
    // One write: a Fetch at the end of the log that waits up to 1.5 s for a byte, then three quick requests.
    const frames = Buffer.concat([encodeFetch(10, at, 1_500), encodeApiVersions(11), encodeMetadata(12), encodeApiVersions(13)]);
    c.write(frames);
    const order: number[] = [];
    for (let i = 0; i < 4; i++) order.push((await c.nextFrame()).readInt32BE(0));
    expect(order).toEqual([10, 11, 12, 13]);

    // The same with data arriving during the wait: the Fetch answers with it, still first.
    c.write(Buffer.concat([encodeFetch(20, at, 10_000), encodeApiVersions(21)]));
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    await producer.send({ topic: 'wire', messages: [{ partition: 0, value: 'woke the fetch' }] });
    await producer.close();
    const first = await c.nextFrame();
    expect(first.readInt32BE(0)).toBe(20);
    const second = await c.nextFrame();
    expect(second.readInt32BE(0)).toBe(21);
    const fetched = decodeResponse(ApiKey.Fetch, 12, first).body as {
      responses: Array<{ partitions: Array<{ errorCode: number; records: Buffer | null }> }>;
    };
    expect(fetched.responses[0]!.partitions[0]!.errorCode).toBe(0);
    expect(fetched.responses[0]!.partitions[0]!.records!.includes(Buffer.from('woke the fetch'))).toBe(true);
  });

  it('closes the connection on an unknown API key, an unsupported version, an undecodable body and an oversized frame; the broker keeps serving', async () => {
    const unknown = await connect();
    unknown.write(handFrame(9_999, 0, 1));
    expect(await unknown.waitClosed()).toBe(true);

    const version = await connect();
    version.write(handFrame(ApiKey.Metadata, 99, 1));
    expect(await version.waitClosed()).toBe(true);

    const truncated = await connect();
    // Metadata v1: a topics array claiming 1,000,000 entries with no bytes behind it.
    const body = Buffer.alloc(4);
    body.writeInt32BE(1_000_000, 0);
    truncated.write(handFrame(ApiKey.Metadata, 1, 1, body));
    expect(await truncated.waitClosed()).toBe(true);

    const oversized = await connect();
    const size = Buffer.alloc(4);
    size.writeInt32BE(200 * 1024 * 1024, 0);
    oversized.write(size);
    expect(await oversized.waitClosed()).toBe(true);

    const negative = await connect();
    negative.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    expect(await negative.waitClosed()).toBe(true);

    // Still serving both protocols on the address.
    const c = await connect();
    const r = await c.request<{ errorCode: number }>(ApiKey.ApiVersions, 3, 5, { clientSoftwareName: 'after', clientSoftwareVersion: '1' });
    expect(r.errorCode).toBe(0);
    expect((await samsa.admin().describeTopics(['wire']))[0]!.name).toBe('wire');
  });

  it("refuses an ApiVersions v3 whose client software name is not KIP-511's form with INVALID_REQUEST (42)", async () => {
    const c = await connect();
    const r = await c.request<{ errorCode: number }>(ApiKey.ApiVersions, 3, 9, {
      clientSoftwareName: '-bad name-',
      clientSoftwareVersion: '1',
    });
    expect(r.errorCode).toBe(42);
  });

  it('answers Metadata per version: v0 empty list = every topic, v1+ empty = none and null = every topic; leader epochs from v7, topic ids from v10', async () => {
    const c = await connect();
    type Md = {
      controllerId: number;
      brokers: Array<{ nodeId: number; host: string; port: number }>;
      topics: Array<{ name: string; errorCode: number; topicId?: string; partitions: Array<{ leaderId: number; leaderEpoch?: number }> }>;
    };
    const v0 = await c.request<Md>(ApiKey.Metadata, 0, 1, { topics: [] });
    expect(v0.topics.map((t) => t.name)).toContain('wire');
    const v1 = await c.request<Md>(ApiKey.Metadata, 1, 2, { topics: [] });
    expect(v1.topics).toEqual([]);
    const all = await c.request<Md>(ApiKey.Metadata, 12, 3, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const wire = all.topics.find((t) => t.name === 'wire')!;
    expect(wire.errorCode).toBe(0);
    // The controller's topic id (Kafka's text form) and a real leader epoch.
    expect(wire.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(wire.topicId).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
    // The same id `samsa topics --describe` prints (TopicId), through the gRPC path.
    expect((await samsa.admin().describeTopics(['wire']))[0]!.topicId).toBe(wire.topicId);
    expect(wire.partitions[0]!.leaderEpoch).toBeGreaterThanOrEqual(0);
    expect(all.brokers).toEqual([{ nodeId: cluster.brokers[0]!.nodeId, host: '127.0.0.1', port, rack: null }]);
    // The answering broker stands in for the controller (admin requests sent there are forwarded).
    expect(all.controllerId).toBe(cluster.brokers[0]!.nodeId);
    // By topic id (v10+: a null name).
    const byId = await c.request<Md>(ApiKey.Metadata, 12, 4, {
      topics: [{ topicId: wire.topicId, name: null }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(byId.topics[0]!.name).toBe('wire');
    const unknownId = await c.request<Md>(ApiKey.Metadata, 12, 5, {
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', name: null }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(unknownId.topics[0]!.errorCode).toBe(100);
  });

  it('auto-creates an unknown topic asked for in Metadata (auto.create.topics.enable, allow_auto_topic_creation)', async () => {
    const c = await connect();
    type Md = { topics: Array<{ name: string; errorCode: number; partitions: unknown[] }> };
    const refused = await c.request<Md>(ApiKey.Metadata, 9, 1, {
      topics: [{ name: 'auto-no' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(refused.topics[0]!.errorCode).toBe(3);
    const first = await c.request<Md>(ApiKey.Metadata, 9, 2, {
      topics: [{ name: 'auto-yes' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    // Being created: LEADER_NOT_AVAILABLE (retriable), then the topic with its partitions.
    expect([0, 5]).toContain(first.topics[0]!.errorCode);
    const created = await waitFor(
      'the auto-created topic',
      async () => {
        const r = await c.request<Md>(ApiKey.Metadata, 9, 3, {
          topics: [{ name: 'auto-yes' }],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        });
        return r.topics[0]!.errorCode === 0 ? r.topics[0] : undefined;
      },
      20_000,
      100,
    );
    expect(created.partitions.length).toBeGreaterThan(0);
    const illegal = await c.request<Md>(ApiKey.Metadata, 9, 4, {
      topics: [{ name: 'no spaces allowed' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(illegal.topics[0]!.errorCode).toBe(17);
    expect((await samsa.admin().describeTopics()).map((t) => t.name)).not.toContain('auto-no');
  });

  it('fetches: the whole first batch past max_bytes (KIP-74), empty records as length 0, OFFSET_OUT_OF_RANGE past the log end, unknown fetch sessions refused', async () => {
    const c = await connect();
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    const [big] = await producer.send({ topic: 'wire', messages: [{ partition: 0, value: 'x'.repeat(2_000) }] });
    await producer.close();
    type Fr = {
      errorCode: number;
      responses: Array<{ partitions: Array<{ errorCode: number; highWatermark: bigint; logStartOffset: bigint; records: Buffer | null }> }>;
    };
    const fetchAt = (id: number, offset: bigint, maxBytes: number, sessionId = 0) => {
      c.send(ApiKey.Fetch, 12, id, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes,
        isolationLevel: 1,
        sessionId,
        sessionEpoch: sessionId === 0 ? -1 : 1,
        topics: [
          {
            topic: 'wire',
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: offset,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: maxBytes,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
    };
    fetchAt(1, big!.offset, 100);
    const small = decodeResponse(ApiKey.Fetch, 12, await c.nextFrame()).body as Fr;
    const p = small.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    expect(p.records!.length).toBeGreaterThan(2_000);
    fetchAt(2, p.highWatermark, 1024);
    const empty = decodeResponse(ApiKey.Fetch, 12, await c.nextFrame()).body as Fr;
    expect(empty.responses[0]!.partitions[0]!.records).toEqual(Buffer.alloc(0));
    fetchAt(3, p.highWatermark + 1000n, 1024);
    const past = decodeResponse(ApiKey.Fetch, 12, await c.nextFrame()).body as Fr;
    expect(past.responses[0]!.partitions[0]!.errorCode).toBe(1);
    fetchAt(4, 0n, 1024, 12345);
    const session = decodeResponse(ApiKey.Fetch, 12, await c.nextFrame()).body as Fr;
    expect(session.errorCode).toBe(70);
  });

  it('answers nothing to an acks=0 Produce, and closes the connection when one fails (the client then refreshes its metadata)', async () => {
    const c = await connect();
    const hw = async () => (await samsa.admin().listOffsets('wire', [{ partition: 0, timestamp: 'latest' }]))[0]!.offset;
    const before = await hw();
    // A well-formed batch from the SDK's codec, sent with acks=0, then an ApiVersions: only the ApiVersions answers.
    const batch = encodeRecordBatch([{ value: Buffer.from('acks0') }]);
    c.send(ApiKey.Produce, 9, 1, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 1000,
      topicData: [{ name: 'wire', partitionData: [{ index: 0, records: batch }] }],
    });
    c.send(ApiKey.ApiVersions, 3, 2, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    expect((await c.nextFrame()).readInt32BE(0)).toBe(2);
    expect(await hw()).toBe(before + 1n);
    // The transaction lives in the batch header (producer id, epoch, transactional bit), not in the
    // request's transactional id: a plain batch under one is written as a plain batch.
    const txn = await c.request<{ responses: Array<{ partitionResponses: Array<{ errorCode: number }> }> }>(ApiKey.Produce, 9, 4, {
      transactionalId: 'tx',
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 'wire', partitionData: [{ index: 0, records: encodeRecordBatch([{ value: Buffer.from('plain') }]) }] }],
    });
    expect(txn.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    expect(await hw()).toBe(before + 2n);
    c.send(ApiKey.Produce, 9, 3, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 1000,
      topicData: [{ name: 'no-such-topic', partitionData: [{ index: 0, records: batch }] }],
    });
    expect(await c.waitClosed()).toBe(true);
  });

  it('answers a batch with refused records with record_errors and error_message from Produce v8 and writes none of it; a corrupt batch with CORRUPT_MESSAGE', async () => {
    // A compacted topic whose records may not lie more than a minute in the future (KIP-937).
    await samsa.admin().createTopics([
      {
        topic: 'wire-strict',
        numPartitions: 1,
        replicationFactor: 1,
        configs: { 'cleanup.policy': 'compact', 'message.timestamp.after.max.ms': '60000' },
      },
    ]);
    await waitFor(
      'wire-strict has a leader',
      async () => (await samsa.admin().describeTopics(['wire-strict']))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );
    const end = async () => (await samsa.admin().listOffsets('wire-strict', [{ partition: 0, timestamp: 'latest' }]))[0]!.offset;
    type PR = {
      errorCode: number;
      baseOffset: bigint;
      recordErrors?: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }>;
      errorMessage?: string | null;
    };
    type ProduceAnswer = { responses: Array<{ name: string; partitionResponses: PR[] }> };
    const c = await connect();
    let id = 1;
    const produce = async (version: number, records: Buffer): Promise<PR> =>
      (
        await c.request<ProduceAnswer>(ApiKey.Produce, version, id++, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: 'wire-strict', partitionData: [{ index: 0, records }] }],
        })
      ).responses[0]!.partitionResponses[0]!;
    const now = BigInt(Date.now());
    const k = (s: string) => Buffer.from(s);

    // Records 1 and 3 have no key: INVALID_RECORD (87) naming both; nothing written.
    const keyless = encodeRecordBatch([
      { key: k('a'), value: k('1'), timestamp: now },
      { key: null, value: k('2'), timestamp: now },
      { key: k('c'), value: k('3'), timestamp: now },
      { key: null, value: k('4'), timestamp: now },
    ]);
    const r1 = await produce(9, keyless);
    expect(r1.errorCode).toBe(87);
    expect(r1.baseOffset).toBe(-1n);
    expect(r1.recordErrors!.map((e) => e.batchIndex)).toEqual([1, 3]);
    expect(r1.recordErrors![0]!.batchIndexErrorMessage).toContain('without a key');
    expect(r1.errorMessage).toContain('wire-strict-0');
    expect(await end()).toBe(0n);

    // Record 1 is an hour ahead of the broker's clock: INVALID_TIMESTAMP (32), at v8 too.
    const future = encodeRecordBatch([
      { key: k('a'), value: k('1'), timestamp: now },
      { key: k('b'), value: k('2'), timestamp: now + 3_600_000n },
    ]);
    const r2 = await produce(8, future);
    expect(r2.errorCode).toBe(32);
    expect(r2.recordErrors!.map((e) => e.batchIndex)).toEqual([1]);
    expect(r2.recordErrors![0]!.batchIndexErrorMessage).toContain('out of range');
    expect(r2.errorMessage).not.toBeNull();
    expect(await end()).toBe(0n);

    // Produce v7 has no record errors on the wire (they decode as the defaults): the partition error alone.
    const r3 = await produce(7, future);
    expect(r3.errorCode).toBe(32);
    expect(r3.recordErrors).toEqual([]);
    expect(r3.errorMessage).toBeNull();

    // A batch whose CRC does not match: CORRUPT_MESSAGE (2), a message, no record errors.
    const corrupt = encodeRecordBatch([{ key: k('a'), value: k('1'), timestamp: now }]);
    corrupt[corrupt.length - 1]! ^= 0xff;
    const r4 = await produce(9, corrupt);
    expect(r4.errorCode).toBe(2);
    expect(r4.recordErrors).toEqual([]);
    expect(r4.errorMessage).toContain('CRC');
    expect(await end()).toBe(0n);

    // A valid batch then goes in at offset 0, with no errors.
    const r5 = await produce(9, encodeRecordBatch([{ key: k('a'), value: k('1'), timestamp: now }]));
    expect(r5).toMatchObject({ errorCode: 0, baseOffset: 0n, recordErrors: [], errorMessage: null });
    expect(await end()).toBe(1n);
  });

  it('deletes a committed offset with OffsetDelete (KIP-496) and OffsetFetch then shows none', async () => {
    const c = await connect();
    let id = 1;
    await waitFor(
      'the group coordinator',
      async () => {
        const r = await c.request<{ coordinators: Array<{ errorCode: number }> }>(ApiKey.FindCoordinator, 4, id++, {
          keyType: 0,
          coordinatorKeys: ['wire-group'],
        });
        return r.coordinators[0]!.errorCode === 0 || undefined;
      },
      30_000,
      200,
    );
    const commit = await c.request<{ topics: Array<{ partitions: Array<{ errorCode: number }> }> }>(ApiKey.OffsetCommit, 8, id++, {
      groupId: 'wire-group',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        { name: 'wire', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] },
      ],
    });
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(0);
    type Of = { groups: Array<{ errorCode: number; topics: Array<{ partitions: Array<{ committedOffset: bigint }> }> }> };
    const fetchOffset = async () =>
      (
        await c.request<Of>(ApiKey.OffsetFetch, 8, id++, {
          groups: [{ groupId: 'wire-group', topics: [{ name: 'wire', partitionIndexes: [0] }] }],
          requireStable: false,
        })
      ).groups[0]!.topics[0]!.partitions[0]!.committedOffset;
    expect(await fetchOffset()).toBe(1n);
    const del = await c.request<{ errorCode: number; topics: Array<{ partitions: Array<{ errorCode: number }> }> }>(
      ApiKey.OffsetDelete,
      0,
      id++,
      {
        groupId: 'wire-group',
        topics: [{ name: 'wire', partitions: [{ partitionIndex: 0 }] }],
      },
    );
    expect(del.errorCode).toBe(0);
    expect(del.topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect(await fetchOffset()).toBe(-1n);
    const missing = await c.request<{ errorCode: number }>(ApiKey.OffsetDelete, 0, id++, { groupId: 'no-such-group', topics: [] });
    expect(missing.errorCode).toBe(69);
  });

  it('reads a frame that arrives one byte at a time', async () => {
    const c = await connect();
    const frame = encodeRequest(
      { apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 77, clientId: 'slow' },
      { clientSoftwareName: 'slow', clientSoftwareVersion: '1' },
    );
    for (const byte of frame) {
      c.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect((await c.nextFrame()).readInt32BE(0)).toBe(77);
  });

  it('serves the admin APIs over raw frames: configs, leader election, log dirs, cluster, records deletion; CreatePartitions forwarded', async () => {
    const c = await connect();
    const alter = await c.request<{ responses: Array<{ errorCode: number }> }>(ApiKey.IncrementalAlterConfigs, 1, 1, {
      resources: [{ resourceType: 2, resourceName: 'wire', configs: [{ name: 'retention.ms', configOperation: 0, value: '123456789' }] }],
      validateOnly: false,
    });
    expect(alter.responses[0]!.errorCode).toBe(0);
    type Dc = {
      results: Array<{
        errorCode: number;
        configs: Array<{ name: string; value: string; configSource: number; synonyms: Array<{ source: number }> }>;
      }>;
    };
    const described = await waitFor<Dc>(
      'the altered config',
      async () => {
        const d = await c.request<Dc>(ApiKey.DescribeConfigs, 4, 2, {
          resources: [{ resourceType: 2, resourceName: 'wire', configurationKeys: null }],
          includeSynonyms: true,
          includeDocumentation: false,
        });
        return d.results[0]!.configs.find((x) => x.name === 'retention.ms')?.value === '123456789' ? d : undefined;
      },
      20_000,
      100,
    );
    const retention = described.results[0]!.configs.find((x) => x.name === 'retention.ms')!;
    // Set on the topic (DYNAMIC_TOPIC_CONFIG), with the default behind it as a synonym.
    expect(retention.configSource).toBe(1);
    expect(retention.synonyms.map((x) => x.source)).toEqual([1, 5]);
    expect(described.results[0]!.configs.find((x) => x.name === 'cleanup.policy')).toMatchObject({ value: 'delete', configSource: 5 });

    const elect = await c.request<{ errorCode: number; replicaElectionResults: Array<{ partitionResult: Array<{ errorCode: number }> }> }>(
      ApiKey.ElectLeaders,
      2,
      3,
      {
        electionType: 0,
        topicPartitions: [{ topic: 'wire', partitions: [0] }],
        timeoutMs: 10_000,
      },
    );
    expect(elect.errorCode).toBe(0);
    // The preferred replica already leads: ELECTION_NOT_NEEDED.
    expect(elect.replicaElectionResults[0]!.partitionResult[0]!.errorCode).toBe(84);

    const dirs = await c.request<{
      results: Array<{
        logDir: string;
        topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; partitionSize: bigint }> }>;
      }>;
    }>(ApiKey.DescribeLogDirs, 4, 4, { topics: [{ topic: 'wire', partitions: [0] }] });
    expect(dirs.results[0]!.logDir).toBe(cluster.brokers[0]!.dataDir);
    expect(dirs.results[0]!.topics[0]!.partitions[0]!.partitionSize).toBeGreaterThan(0n);

    const described2 = await c.request<{ clusterId: string; controllerId: number; brokers: Array<{ brokerId: number; port: number }> }>(
      ApiKey.DescribeCluster,
      1,
      5,
      { includeClusterAuthorizedOperations: false, endpointType: 1 },
    );
    expect(described2.brokers).toEqual([expect.objectContaining({ brokerId: cluster.brokers[0]!.nodeId, port })]);
    expect(described2.clusterId.length).toBeGreaterThan(0);

    // The controller's rules come back over the wire; validateOnly and a refused count change nothing.
    type Cp = { results: Array<{ errorCode: number; errorMessage: string }> };
    const same = await c.request<Cp>(ApiKey.CreatePartitions, 3, 6, {
      topics: [{ name: 'wire', count: 1, assignments: null }],
      timeoutMs: 5_000,
      validateOnly: false,
    });
    expect(same.results[0]!.errorCode).toBe(37);
    expect(same.results[0]!.errorMessage).toContain('already has 1 partitions');
    const validated = await c.request<Cp>(ApiKey.CreatePartitions, 3, 6, {
      topics: [{ name: 'wire', count: 5, assignments: null }],
      timeoutMs: 5_000,
      validateOnly: true,
    });
    expect(validated.results[0]!.errorCode).toBe(0);
    const manual = await c.request<Cp>(ApiKey.CreatePartitions, 3, 6, {
      topics: [{ name: 'wire', count: 2, assignments: [{ brokerIds: [1] }] }],
      timeoutMs: 5_000,
      validateOnly: false,
    });
    expect(manual.results[0]!.errorCode).toBe(42);
    expect((await samsa.admin().describeTopics(['wire']))[0]!.partitions.length).toBe(1);

    type Dr = { topics: Array<{ partitions: Array<{ errorCode: number; lowWatermark: bigint }> }> };
    const beyond = await c.request<Dr>(ApiKey.DeleteRecords, 2, 7, {
      topics: [{ name: 'wire', partitions: [{ partitionIndex: 0, offset: 1_000_000n }] }],
      timeoutMs: 5_000,
    });
    expect(beyond.topics[0]!.partitions[0]!.errorCode).toBe(1);
    const deleted = await c.request<Dr>(ApiKey.DeleteRecords, 2, 8, {
      topics: [{ name: 'wire', partitions: [{ partitionIndex: 0, offset: 1n }] }],
      timeoutMs: 5_000,
    });
    expect(deleted.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 1n });
    expect((await samsa.admin().listOffsets('wire', [{ partition: 0, timestamp: 'earliest' }]))[0]!.offset).toBe(1n);
  });

  it('serves the old group versions (JoinGroup v2 without the member-id round, SyncGroup, Heartbeat, LeaveGroup v1), OffsetForLeaderEpoch and ListOffsets v0', async () => {
    const c = await connect();
    let id = 100;
    await waitFor(
      'the group coordinator',
      async () => {
        const r = await c.request<{ errorCode: number }>(ApiKey.FindCoordinator, 1, id++, { key: 'old-group', keyType: 0 });
        return r.errorCode === 0 || undefined;
      },
      30_000,
      200,
    );
    const join = await c.request<{ errorCode: number; generationId: number; memberId: string; leader: string; protocolName: string }>(
      ApiKey.JoinGroup,
      2,
      id++,
      {
        groupId: 'old-group',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0]) }],
      },
    );
    expect(join.errorCode).toBe(0);
    expect(join.memberId).not.toBe('');
    expect(join.leader).toBe(join.memberId);
    expect(join.protocolName).toBe('range');
    const sync = await c.request<{ errorCode: number; assignment: Buffer }>(ApiKey.SyncGroup, 1, id++, {
      groupId: 'old-group',
      generationId: join.generationId,
      memberId: join.memberId,
      assignments: [{ memberId: join.memberId, assignment: Buffer.from('mine') }],
    });
    expect(sync).toMatchObject({ errorCode: 0, assignment: Buffer.from('mine') });
    expect(
      (
        await c.request<{ errorCode: number }>(ApiKey.Heartbeat, 1, id++, {
          groupId: 'old-group',
          generationId: join.generationId,
          memberId: join.memberId,
        })
      ).errorCode,
    ).toBe(0);
    expect(
      (await c.request<{ errorCode: number }>(ApiKey.LeaveGroup, 1, id++, { groupId: 'old-group', memberId: join.memberId })).errorCode,
    ).toBe(0);
    // The member left: a heartbeat with its id is UNKNOWN_MEMBER_ID (25).
    expect(
      (
        await c.request<{ errorCode: number }>(ApiKey.Heartbeat, 1, id++, {
          groupId: 'old-group',
          generationId: join.generationId,
          memberId: join.memberId,
        })
      ).errorCode,
    ).toBe(25);

    type Md = { topics: Array<{ partitions: Array<{ leaderEpoch: number }> }> };
    const epoch = (
      await c.request<Md>(ApiKey.Metadata, 12, id++, {
        topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'wire' }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      })
    ).topics[0]!.partitions[0]!.leaderEpoch;
    const end = (await samsa.admin().listOffsets('wire', [{ partition: 0, timestamp: 'latest' }]))[0]!.offset;
    const ofle = await c.request<{ topics: Array<{ partitions: Array<{ errorCode: number; leaderEpoch: number; endOffset: bigint }> }> }>(
      ApiKey.OffsetForLeaderEpoch,
      4,
      id++,
      {
        replicaId: -1,
        topics: [{ topic: 'wire', partitions: [{ partition: 0, currentLeaderEpoch: epoch, leaderEpoch: epoch }] }],
      },
    );
    expect(ofle.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderEpoch: epoch, endOffset: end });
    const fenced = await c.request<{ topics: Array<{ partitions: Array<{ errorCode: number }> }> }>(ApiKey.OffsetForLeaderEpoch, 4, id++, {
      replicaId: -1,
      topics: [{ topic: 'wire', partitions: [{ partition: 0, currentLeaderEpoch: epoch + 5, leaderEpoch: epoch }] }],
    });
    // A client ahead of the broker's epoch: UNKNOWN_LEADER_EPOCH (75).
    expect(fenced.topics[0]!.partitions[0]!.errorCode).toBe(75);

    // The same answers on the gRPC client API (KIP-320 validation by the SDK consumer).
    const grpc = new GrpcConnection(`127.0.0.1:${port}`, { requestTimeoutMs: 10_000 });
    try {
      const ask = async (currentLeaderEpoch: number) =>
        (
          await grpc.offsetForLeaderEpoch({
            topics: [{ name: 'wire', partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch: epoch }] }],
          })
        ).topics[0]!.partitions[0]!;
      expect(await ask(epoch)).toMatchObject({ errorCode: 0, leaderEpoch: epoch, endOffset: String(end) });
      expect((await ask(epoch + 5)).errorCode).toBe(75);
    } finally {
      grpc.close();
    }

    const v0 = await c.request<{ topics: Array<{ partitions: Array<{ errorCode: number; oldStyleOffsets: bigint[] }> }> }>(
      ApiKey.ListOffsets,
      0,
      id++,
      {
        replicaId: -1,
        topics: [{ name: 'wire', partitions: [{ partitionIndex: 0, timestamp: -1n, maxNumOffsets: 1 }] }],
      },
    );
    expect(v0.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, oldStyleOffsets: [end] });
  });

  it('closes connections idle for connections.max.idle.ms, silent ones included', async () => {
    const silent = await connect();
    const used = await connect();
    expect((await used.request<{ errorCode: number }>(ApiKey.ApiVersions, 2, 1, {})).errorCode).toBe(0);
    expect(await silent.waitClosed(IDLE_MS * 6)).toBe(true);
    expect(await used.waitClosed(IDLE_MS * 6)).toBe(true);
  });

  it('counts Kafka requests by API and version on /metrics', async () => {
    const c = await connect();
    await c.request(ApiKey.ApiVersions, 1, 1, {});
    // A series's value, whatever other labels (node_id) it carries.
    const valueOf = (text: string, name: string, labels: string[]) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const text = await waitFor('the Kafka request metrics', async () => {
      const body = await (await fetch(`http://127.0.0.1:${cluster.brokers[0]!.metricsPort}/metrics`)).text();
      return (valueOf(body, 'samsa_kafka_requests_total', ['api="ApiVersions"', 'version="1"', 'outcome="ok"']) ?? 0) >= 1
        ? body
        : undefined;
    });
    // The pipelined test's long polls and the closed connections are there too.
    expect(valueOf(text, 'samsa_kafka_request_duration_seconds_count', ['api="Fetch"', 'version="12"'])).toBeGreaterThanOrEqual(3);
    expect(valueOf(text, 'samsa_kafka_requests_total', ['api="api-9999"', 'outcome="closed"'])).toBeGreaterThanOrEqual(1);
  });
});

function encodeApiVersions(correlationId: number): Buffer {
  return encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 2, correlationId, clientId: 'pipe' }, {});
}

function encodeMetadata(correlationId: number): Buffer {
  return encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 1, correlationId, clientId: 'pipe' }, { topics: [{ name: 'wire' }] });
}

function encodeFetch(correlationId: number, offset: bigint, maxWaitMs: number): Buffer {
  return encodeRequest(
    { apiKey: ApiKey.Fetch, apiVersion: 12, correlationId, clientId: 'pipe' },
    {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'wire',
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1024 * 1024,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
  );
}
