/**
 * Topic configs after creation, through a broker node following a fake controller quorum over
 * real gRPC: IncrementalAlterConfigs is forwarded to the active controller (following
 * NOT_CONTROLLER) and answers once the broker's own metadata shows the change; DescribeConfigs
 * answers from that metadata and the broker's defaults; and a changed min.insync.replicas governs
 * the very next acks=all produce.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHANNEL_OPTIONS,
  ErrorCode,
  clientProto,
  encodeRecordBatch,
  grpc,
  type DescribeConfigsResponse__Output,
  type IncrementalAlterConfigsResponse__Output,
  type ProduceResponse__Output,
  type SamsaClient,
} from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startBrokerNode, type BrokerNode, type BrokerNodeConfig } from '../src/index.js';
import type { MetadataChange } from '../src/metadata/image.js';
import { waitFor } from '@samsa/testkit';
import { FakeController, FakeQuorum, topicRecords } from './helpers/fakeController.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function cluster(voters: number, leaderId: number): Promise<{ quorum: FakeQuorum; controllers: FakeController[]; dir: string }> {
  const quorum = new FakeQuorum();
  quorum.leaderId = leaderId;
  const controllers: FakeController[] = [];
  for (let id = 1; id <= voters; id++) controllers.push(await FakeController.start(id, quorum));
  const dir = mkdtempSync(join(tmpdir(), 'samsa-topic-configs-'));
  cleanups.push(() => {
    for (const c of controllers) c.stop();
    quorum.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { quorum, controllers, dir };
}

async function startNode(
  c: { controllers: FakeController[]; dir: string },
  extra: Partial<BrokerNodeConfig> = {},
): Promise<{ node: BrokerNode; client: SamsaClient }> {
  const node = await startBrokerNode({
    nodeId: 1,
    listenHost: '127.0.0.1',
    listenPort: 0,
    dataDir: c.dir,
    logger,
    controllers: c.controllers.map((x) => x.address),
    heartbeatIntervalMs: 100,
    ...extra,
  });
  const client = new (clientProto().samsa.v1.Samsa)(`127.0.0.1:${node.port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  cleanups.push(async () => {
    client.close();
    await node.close();
  });
  return { node, client };
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

async function produceAll(client: SamsaClient, topic: string, value: string) {
  const res = await call<ProduceResponse__Output>(client, 'Produce', {
    acks: -1,
    timeoutMs: 5_000,
    topics: [
      {
        name: topic,
        partitions: [{ partition: 0, records: encodeRecordBatch([{ key: null, value: Buffer.from(value), timestamp: 1_000n }]) }],
      },
    ],
  });
  return res.topics[0]!.partitions[0]!;
}

type Op = { name: string; set?: string };

async function alter(client: SamsaClient, topic: string, ops: Op[], validateOnly = false) {
  const res = await call<IncrementalAlterConfigsResponse__Output>(client, 'IncrementalAlterConfigs', {
    resources: [
      {
        resourceType: 2,
        resourceName: topic,
        configs: ops.map((o) =>
          o.set === undefined ? { name: o.name, configOperation: 1 } : { name: o.name, configOperation: 0, value: o.set },
        ),
      },
    ],
    validateOnly,
    timeoutMs: 5_000,
  });
  return res.responses[0]!;
}

async function describeConfigs(client: SamsaClient, topic: string, keys: string[] = []) {
  const res = await call<DescribeConfigsResponse__Output>(client, 'DescribeConfigs', {
    resources: [{ resourceType: 2, resourceName: topic, configurationKeys: keys }],
  });
  return res.results[0]!;
}

describe('topic configs after creation', () => {
  it('min.insync.replicas raised above the ISR refuses acks=all produce; lowered again it succeeds', async () => {
    const c = await cluster(1, 1);
    c.quorum.append(topicRecords('orders', [{ replicas: [1] }]));
    const { node, client } = await startNode(c);
    const changes: MetadataChange[] = [];
    node.metadata.subscribe((change) => changes.push(change));
    expect((await produceAll(client, 'orders', 'a')).errorCode).toBe(0);

    expect(
      await alter(client, 'orders', [
        { name: 'min.insync.replicas', set: '2' },
        { name: 'retention.ms', set: '60000' },
      ]),
    ).toMatchObject({ errorCode: 0, resourceType: 2, resourceName: 'orders' });
    // Answered only once this broker applied it: the partition and its log have the new config now.
    const partition = node.replicaManager.getPartition('orders', 0)!;
    expect(partition.config['min.insync.replicas']).toBe(2);
    expect(partition.log.config.retentionMs).toBe(60_000);
    expect(changes.filter((ch) => ch.type === 'topicConfigChanged').map((ch) => ch.topic.configs)).toEqual([
      { 'min.insync.replicas': '2', 'retention.ms': '60000' },
    ]);

    const refused = await produceAll(client, 'orders', 'b');
    expect(refused.errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(refused.errorMessage).toContain('min.insync.replicas=2');

    const described = await describeConfigs(client, 'orders', ['min.insync.replicas', 'cleanup.policy']);
    expect(described.errorCode).toBe(0);
    expect(described.configs.map((cfg) => [cfg.name, cfg.value, cfg.configSource, cfg.readOnly])).toEqual([
      ['cleanup.policy', 'delete', 5, false],
      ['min.insync.replicas', '2', 1, false],
    ]);
    expect(described.configs[1]!.synonyms.map((s) => [s.value, s.source])).toEqual([
      ['2', 1],
      ['1', 5],
    ]);

    expect((await alter(client, 'orders', [{ name: 'min.insync.replicas' }])).errorCode).toBe(0);
    expect(partition.config['min.insync.replicas']).toBe(1);
    expect(partition.config['retention.ms']).toBe(60_000);
    const accepted = await produceAll(client, 'orders', 'c');
    expect(accepted).toMatchObject({ errorCode: 0, baseOffset: '1' });
    expect((await describeConfigs(client, 'orders', ['min.insync.replicas'])).configs[0]).toMatchObject({ value: '1', configSource: 5 });
  });

  it('describes every topic config, with broker defaults as STATIC_BROKER_CONFIG', async () => {
    const c = await cluster(1, 1);
    c.quorum.append(topicRecords('d', [{ replicas: [1] }]));
    const { client } = await startNode(c, { topicDefaults: { 'retention.ms': 1_000 } });
    const described = await describeConfigs(client, 'd');
    expect(described.configs.map((cfg) => cfg.name)).toContain('unclean.leader.election.enable');
    expect(described.configs.find((cfg) => cfg.name === 'retention.ms')).toMatchObject({
      value: '1000',
      configSource: 4,
      isSensitive: false,
    });
    expect(described.configs.find((cfg) => cfg.name === 'unclean.leader.election.enable')).toMatchObject({
      value: 'false',
      configSource: 5,
    });
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION and INVALID_CONFIG, and validate_only changes nothing', async () => {
    const c = await cluster(1, 1);
    c.quorum.append(topicRecords('v', [{ replicas: [1] }]));
    const { node, client } = await startNode(c);
    expect((await alter(client, 'missing', [{ name: 'retention.ms', set: '1' }])).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await describeConfigs(client, 'missing')).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const badKey = await alter(client, 'v', [{ name: 'no.such.config', set: '1' }]);
    expect(badKey.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(badKey.errorMessage).toContain('no.such.config');
    expect((await alter(client, 'v', [{ name: 'min.insync.replicas', set: 'two' }])).errorCode).toBe(ErrorCode.INVALID_CONFIG);
    // Deleting a name that is no topic config is refused by the broker itself (the controller would ignore it).
    const badDelete = await alter(client, 'v', [{ name: 'no.such.config' }]);
    expect(badDelete.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(c.quorum.calls.filter((x) => x.method === 'IncrementalAlterConfigs')).toHaveLength(3);

    expect((await alter(client, 'v', [{ name: 'min.insync.replicas', set: '3' }], true)).errorCode).toBe(0);
    expect(c.quorum.image.topic('v')!.configs.size).toBe(0);
    expect(node.replicaManager.getPartition('v', 0)!.config['min.insync.replicas']).toBe(1);
  });

  it('is forwarded to the active controller, following NOT_CONTROLLER', async () => {
    // A long heartbeat interval, so the broker still believes controller 2 leads when it is asked.
    const c = await cluster(2, 2);
    c.quorum.append(topicRecords('f', [{ replicas: [1] }]));
    const { node, client } = await startNode(c, { heartbeatIntervalMs: 5_000 });
    c.quorum.leaderId = 1;
    c.quorum.calls.length = 0;
    expect((await alter(client, 'f', [{ name: 'min.insync.replicas', set: '2' }])).errorCode).toBe(0);
    const alters = c.quorum.calls.filter((x) => x.method === 'IncrementalAlterConfigs').map((x) => x.controllerId);
    expect(alters).toEqual([2, 1]);
    expect(alters.length).toBeLessThanOrEqual(2);
    expect(node.replicaManager.getPartition('f', 0)!.config['min.insync.replicas']).toBe(2);
  });

  it('answers REQUEST_TIMED_OUT when the change does not reach the broker in time', async () => {
    const c = await cluster(1, 1);
    c.quorum.append(topicRecords('slow', [{ replicas: [1] }]));
    const { node } = await startNode(c);
    c.quorum.fetchLagMs = 1_500;
    const [result] = await node.metadata.incrementalAlterConfigs(
      [{ resourceType: 2, resourceName: 'slow', configs: [{ name: 'retention.ms', operation: 0, value: '5' }] }],
      false,
      300,
    );
    expect(result).toMatchObject({ errorCode: ErrorCode.REQUEST_TIMED_OUT });
    await waitFor('the change to arrive', () => node.replicaManager.getPartition('slow', 0)!.config['retention.ms'] === 5, 5_000);
  });
});
