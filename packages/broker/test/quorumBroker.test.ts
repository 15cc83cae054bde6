/**
 * A broker node following a (fake) controller quorum, over real gRPC on both sides: leadership
 * moves make produce and fetch answer NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH /
 * UNKNOWN_LEADER_EPOCH, topics created through the broker are usable at once, deleted or
 * reassigned replicas lose their logs, and with every controller down the open partitions keep
 * serving while topic creation fails with a retriable code within its timeout.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHANNEL_OPTIONS,
  ErrorCode,
  clientProto,
  decodeRecords,
  encodeRecordBatch,
  errorInfo,
  grpc,
  type FetchResponse__Output,
  type MetadataResponse__Output,
  type ProduceResponse__Output,
  type SamsaClient,
} from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startBrokerNode, type BrokerNode, type BrokerNodeConfig } from '../src/index.js';
import { freePort, waitFor } from '@samsa/testkit';
import { FakeController, FakeQuorum, topicRecords } from './helpers/fakeController.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Cluster {
  quorum: FakeQuorum;
  controllers: FakeController[];
  dir: string;
}

async function cluster(voters = 1): Promise<Cluster> {
  const quorum = new FakeQuorum();
  quorum.leaderId = 1;
  const controllers: FakeController[] = [];
  for (let id = 1; id <= voters; id++) controllers.push(await FakeController.start(id, quorum));
  const dir = mkdtempSync(join(tmpdir(), 'samsa-quorum-broker-'));
  cleanups.push(() => {
    for (const c of controllers) c.stop();
    quorum.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { quorum, controllers, dir };
}

function nodeConfig(c: Cluster, extra: Partial<BrokerNodeConfig> = {}): BrokerNodeConfig {
  return {
    nodeId: 1,
    listenHost: '127.0.0.1',
    listenPort: 0,
    dataDir: c.dir,
    logger,
    controllers: c.controllers.map((x) => x.address),
    heartbeatIntervalMs: 100,
    ...extra,
  };
}

async function startNode(c: Cluster, extra: Partial<BrokerNodeConfig> = {}): Promise<{ node: BrokerNode; client: SamsaClient }> {
  const node = await startBrokerNode(nodeConfig(c, extra));
  const client = connect(node.port);
  cleanups.push(async () => {
    client.close();
    await node.close();
  });
  return { node, client };
}

function connect(port: number): SamsaClient {
  const Ctor = clientProto().samsa.v1.Samsa;
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
}

function call<Res>(client: SamsaClient, method: string, request: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: unknown, o: grpc.CallOptions, cb: (e: Error | null, res: Res) => void) => void>)[method]!(
      request,
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

const batch = (values: string[]) =>
  encodeRecordBatch(values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1_000n + BigInt(i) })));

async function produce(client: SamsaClient, topic: string, values: string[], partition = 0) {
  const res = await call<ProduceResponse__Output>(client, 'Produce', {
    acks: 1,
    timeoutMs: 5_000,
    topics: [{ name: topic, partitions: [{ partition, records: batch(values) }] }],
  });
  return res.topics[0]!.partitions[0]!;
}

async function fetch(client: SamsaClient, topic: string, fetchOffset: bigint, currentLeaderEpoch = -1) {
  const res = await call<FetchResponse__Output>(client, 'Fetch', {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [
      { name: topic, partitions: [{ partition: 0, fetchOffset: String(fetchOffset), partitionMaxBytes: 1 << 20, currentLeaderEpoch }] },
    ],
  });
  const p = res.topics[0]!.partitions[0]!;
  return { errorCode: p.errorCode, values: decodeRecords(p.records).map((r) => r.value?.toString()) };
}

async function createTopic(client: SamsaClient, name: string, timeoutMs = 5_000) {
  const res = await call<{ topics: Array<{ errorCode: number; errorMessage: string }> }>(client, 'CreateTopics', {
    topics: [{ name, numPartitions: 1, replicationFactor: 1, configs: {} }],
    timeoutMs,
  });
  return res.topics[0]!;
}

describe('leadership from the metadata log', () => {
  it('moving leadership away makes produce answer NOT_LEADER_OR_FOLLOWER; moving it back leads again with the new epoch', async () => {
    const c = await cluster();
    c.quorum.append(topicRecords('moving', [{ replicas: [1, 2], isr: [1], leader: 1 }]));
    const { node, client } = await startNode(c);
    const first = await produce(client, 'moving', ['a', 'b']);
    expect(first).toMatchObject({ errorCode: 0, baseOffset: '0', currentLeader: { leaderId: 1, leaderEpoch: 0 } });

    c.quorum.append([{ type: 'PartitionChange', topicId: 'id-moving', partition: 0, leader: 2, isr: [2] }]);
    await waitFor('leadership to move to broker 2', () => node.replicaManager.getPartition('moving', 0)?.leaderId === 2, 5_000);
    const refused = await produce(client, 'moving', ['c']);
    expect(refused.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(refused.currentLeader).toEqual({ leaderId: 2, leaderEpoch: 1 });
    expect((await fetch(client, 'moving', 0n, 1)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect((await fetch(client, 'moving', 0n, 0)).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    // The follower keeps its log: it is still there when leadership returns.
    expect(existsSync(join(c.dir, 'moving-0'))).toBe(true);

    c.quorum.append([{ type: 'PartitionChange', topicId: 'id-moving', partition: 0, leader: 1, isr: [1] }]);
    await waitFor('leadership to return', () => node.replicaManager.getPartition('moving', 0)?.isLeader === true, 5_000);
    const p = node.replicaManager.getPartition('moving', 0)!;
    expect(p.leaderEpoch).toBe(2);
    const again = await produce(client, 'moving', ['c']);
    expect(again).toMatchObject({ errorCode: 0, baseOffset: '2', currentLeader: { leaderId: 1, leaderEpoch: 2 } });
    expect(await fetch(client, 'moving', 0n, 2)).toEqual({ errorCode: 0, values: ['a', 'b', 'c'] });
    expect((await fetch(client, 'moving', 0n, 1)).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect((await fetch(client, 'moving', 0n, 3)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect(p.log.latestEpoch).toBe(2);
  });

  it('opens a follower replica without leading it, and deletes a replica reassigned away', async () => {
    const c = await cluster();
    c.quorum.append(topicRecords('followed', [{ replicas: [2, 1], isr: [2, 1], leader: 2 }]));
    const { node, client } = await startNode(c);
    expect(node.replicaManager.getPartition('followed', 0)?.isLeader).toBe(false);
    expect(existsSync(join(c.dir, 'followed-0'))).toBe(true);
    expect((await produce(client, 'followed', ['x'])).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);

    c.quorum.append([{ type: 'PartitionChange', topicId: 'id-followed', partition: 0, replicas: [2], isr: [2] }]);
    await waitFor('the reassigned replica to be deleted', () => !existsSync(join(c.dir, 'followed-0')), 5_000);
    expect(node.replicaManager.getPartition('followed', 0)).toBeUndefined();
    expect((await produce(client, 'followed', ['x'])).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });
});

describe('topic admin through the broker', () => {
  it('a created topic is in Metadata and takes produce at once, even when the metadata log lags', async () => {
    const c = await cluster();
    const { client } = await startNode(c);
    c.quorum.fetchLagMs = 300;
    expect(await createTopic(client, 'fresh')).toMatchObject({ errorCode: 0 });
    const md = await call<MetadataResponse__Output>(client, 'Metadata', { topics: ['fresh'], allTopics: false });
    expect(md.topics[0]).toMatchObject({ errorCode: 0, name: 'fresh', partitions: [{ leaderId: 1, leaderEpoch: 0 }] });
    expect(md.brokers.map((b) => b.nodeId)).toEqual([1]);
    expect(md.controllerId).toBe(1);
    expect((await produce(client, 'fresh', ['now'])).errorCode).toBe(0);
  });

  it('deleting a topic removes its local logs', async () => {
    const c = await cluster();
    const { node, client } = await startNode(c);
    expect((await createTopic(client, 'short-lived')).errorCode).toBe(0);
    expect((await produce(client, 'short-lived', ['x'])).errorCode).toBe(0);
    expect(existsSync(join(c.dir, 'short-lived-0'))).toBe(true);
    const res = await call<{ topics: Array<{ name: string; errorCode: number }> }>(client, 'DeleteTopics', {
      names: ['short-lived'],
      timeoutMs: 5_000,
    });
    expect(res.topics).toEqual([{ name: 'short-lived', errorCode: 0, errorMessage: '' }]);
    expect(existsSync(join(c.dir, 'short-lived-0'))).toBe(false);
    expect(node.replicaManager.getPartition('short-lived', 0)).toBeUndefined();
    expect((await produce(client, 'short-lived', ['y'])).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('with the controller quorum unreachable', () => {
  it('existing partitions keep serving produce and fetch; createTopics fails retriably within its timeout', async () => {
    const c = await cluster(2);
    const { client } = await startNode(c);
    expect((await createTopic(client, 'survivor')).errorCode).toBe(0);
    for (const controller of c.controllers) controller.stop();

    expect((await produce(client, 'survivor', ['still', 'here'])).errorCode).toBe(0);
    expect(await fetch(client, 'survivor', 0n)).toEqual({ errorCode: 0, values: ['still', 'here'] });

    const t0 = Date.now();
    const failed = await createTopic(client, 'orphan', 1_000);
    // It waited out its 1 s timeout, then answered with its own retriable error (a broker that
    // hung instead would fail at the call's deadline with DEADLINE_EXCEEDED).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(failed.errorCode).toBe(ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE);
    expect(errorInfo(failed.errorCode).retriable).toBe(true);
    expect(failed.errorMessage).toMatch(/not created/);

    // The quorum comes back: the broker finds it again.
    for (const controller of c.controllers) await controller.restart();
    expect((await createTopic(client, 'orphan', 10_000)).errorCode).toBe(0);
    expect((await produce(client, 'orphan', ['found'])).errorCode).toBe(0);
  });
});

describe('startup and shutdown', () => {
  it('answers UNAVAILABLE until registered, caught up and unfenced', async () => {
    const c = await cluster();
    c.quorum.autoUnfence = false;
    const port = await freePort();
    const starting = startBrokerNode(nodeConfig(c, { listenPort: port }));
    await waitFor('registration', () => c.quorum.registrations.length === 1, 5_000);
    const early = connect(port);
    cleanups.push(() => early.close());
    await expect(call(early, 'Metadata', { topics: [], allTopics: true })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    c.quorum.autoUnfence = true;
    const node = await starting;
    cleanups.push(() => node.close());
    const md = await call<MetadataResponse__Output>(early, 'Metadata', { topics: [], allTopics: true });
    expect(md.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port, rack: '' }]);
  });

  it('a start waiting for the quorum can be aborted, and releases the data dir', async () => {
    const c = await cluster();
    c.controllers[0]!.stop();
    const abort = new AbortController();
    const port = await freePort();
    const starting = startBrokerNode(nodeConfig(c, { listenPort: port, signal: abort.signal }));
    // Abort once it waits for the quorum: its gate answers UNAVAILABLE, saying it is registering.
    const probe = connect(port);
    cleanups.push(() => probe.close());
    await waitFor(
      'the broker to wait for the quorum',
      async () => {
        const err = await call(probe, 'Metadata', { topics: [], allTopics: true }).then(
          () => undefined,
          (e: grpc.ServiceError) => e,
        );
        return err?.code === grpc.status.UNAVAILABLE && err.details.includes('registering');
      },
      15_000,
    );
    abort.abort();
    await expect(starting).rejects.toThrow(/aborted while registering/);
    await c.controllers[0]!.restart();
    const { node } = await startNode(c); // the lock was released
    expect(node.metadata.controllerId).toBe(1);
  });

  it('close() asks the controller for a controlled shutdown', async () => {
    const c = await cluster();
    const node = await startBrokerNode(nodeConfig(c));
    await node.close();
    expect(c.quorum.heartbeats.at(-1)).toMatchObject({ brokerId: 1, wantShutDown: true });
  });
});
