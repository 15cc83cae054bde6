/**
 * QuorumMetadataSource against in-process fake controllers over real gRPC: registration and
 * heartbeats, waiting to be unfenced, applying entries and snapshots, following NOT_CONTROLLER,
 * re-registering on STALE_BROKER_EPOCH, failing over between controllers, and answering topic
 * admin only once the local image shows the change — or with a retriable code when no controller
 * answers in time.
 */
import { ErrorCode, errorInfo } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterIdOf } from '../src/metadata/imageView.js';
import type { MetadataChange } from '../src/metadata/image.js';
import { QuorumMetadataSource, type QuorumMetadataOptions } from '../src/metadata/quorumMetadata.js';
import { realTimers } from '../src/timers.js';
import { waitFor } from '@samsa/testkit';
import { FakeController, FakeQuorum, topicRecords } from './helpers/fakeController.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function quorumOf(n: number, leaderId = 1): Promise<{ quorum: FakeQuorum; controllers: FakeController[] }> {
  const quorum = new FakeQuorum();
  quorum.leaderId = leaderId;
  const controllers: FakeController[] = [];
  for (let id = 1; id <= n; id++) controllers.push(await FakeController.start(id, quorum));
  cleanups.push(() => {
    for (const c of controllers) c.stop();
    quorum.close();
  });
  return { quorum, controllers };
}

function source(controllers: FakeController[], overrides: Partial<QuorumMetadataOptions> = {}): QuorumMetadataSource {
  const s = new QuorumMetadataSource({
    brokerId: 1, host: '127.0.0.1', port: 19092, controllers: controllers.map((c) => c.address), logger, timers: realTimers,
    heartbeatIntervalMs: 100, fetchMaxWaitMs: 300, requestTimeoutMs: 1_000, retryBackoffMs: 20, retryBackoffMaxMs: 100,
    controlledShutdownTimeoutMs: 500,
    ...overrides,
  });
  cleanups.push(() => s.close());
  return s;
}

describe('registration and heartbeats', () => {
  it('registers with a fresh incarnation, then heartbeats carrying the applied metadata offset', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    expect(quorum.registrations).toHaveLength(1);
    const reg = quorum.registrations[0]!;
    expect(reg).toMatchObject({ brokerId: 1, host: '127.0.0.1', port: 19092, incarnationId: s.incarnationId });
    expect(s.status.brokerEpoch).toBe(reg.brokerEpoch);

    const offset = quorum.append(topicRecords('t', [{ replicas: [1] }]));
    await waitFor('a heartbeat reporting the new offset', () => quorum.heartbeats.some((h) => Number(h.currentMetadataOffset) >= offset), 3_000);
    expect(s.appliedOffset).toBeGreaterThanOrEqual(offset);
    // Every heartbeat carries the registration's epoch and an offset that never goes back.
    const offsets = quorum.heartbeats.map((h) => Number(h.currentMetadataOffset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(quorum.heartbeats.map((h) => h.brokerEpoch))).toEqual(new Set([reg.brokerEpoch]));
  });

  it('ready() waits until the controller unfences the broker', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.autoUnfence = false;
    const s = source(controllers);
    s.start();
    await waitFor('caught up but fenced', () => s.phase === 'fenced', 3_000);
    // Heartbeats go on and are answered "fenced": after several, ready() has still not resolved.
    let isReady = false;
    void s.ready().then(() => { isReady = true; });
    const seen = quorum.heartbeats.length;
    await waitFor('three more heartbeats while fenced', () => quorum.heartbeats.length >= seen + 3, 5_000, 10);
    expect(isReady).toBe(false);
    expect(s.brokers()).toEqual([]); // a fenced broker is not offered to clients
    quorum.autoUnfence = true;
    await s.ready();
    expect(s.phase).toBe('running');
    expect(s.brokers()).toEqual([{ nodeId: 1, host: '127.0.0.1', port: 19092 }]);
  });

  it('registers again after STALE_BROKER_EPOCH, keeping its incarnation', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    const first = quorum.registrations[0]!.brokerEpoch;
    quorum.staleOnce.add(1);
    await waitFor('re-registration', () => quorum.registrations.length === 2, 3_000);
    expect(quorum.registrations[1]!.incarnationId).toBe(s.incarnationId);
    expect(quorum.registrations[1]!.brokerEpoch).not.toBe(first);
    await waitFor('running again', () => s.status.brokerEpoch === quorum.registrations[1]!.brokerEpoch && s.phase === 'running', 3_000);
  });

  it('follows the NOT_CONTROLLER leader hint when registering', async () => {
    const { quorum, controllers } = await quorumOf(2, 2);
    const s = source(controllers);
    s.start();
    await s.ready();
    expect(quorum.calls.filter((c) => c.method === 'RegisterBroker').map((c) => c.controllerId)).toEqual([1, 2]);
    expect(s.controllerId).toBe(2);
  });

  it('retries while the quorum has no leader, and registers once one is elected', async () => {
    const { quorum, controllers } = await quorumOf(2, -1);
    const s = source(controllers);
    s.start();
    await waitFor('several attempts', () => quorum.calls.filter((c) => c.method === 'RegisterBroker').length >= 4, 3_000);
    expect(s.phase).toBe('registering');
    expect(s.controllerId).toBe(-1);
    quorum.leaderId = 2;
    await s.ready();
    expect(s.controllerId).toBe(2);
  });

  it('close() asks for a controlled shutdown', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    await s.close();
    expect(quorum.heartbeats.at(-1)).toMatchObject({ brokerId: 1, wantShutDown: true });
  });

  it('close() before ready rejects ready() and is bounded with every controller down', async () => {
    const { controllers } = await quorumOf(1);
    controllers[0]!.stop();
    const s = source(controllers);
    s.start();
    const ready = s.ready();
    await new Promise((r) => setTimeout(r, 200));
    // Bounded: close() resolves although no controller answers (a hang fails at the test's timeout).
    await s.close();
    await expect(ready).rejects.toThrow(/closed before it was ready/);
  });
});

describe('following the metadata log', () => {
  it('applies a snapshot, then entries (empty ones only advance the offset), and emits events', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.append([{ type: 'RegisterBroker', brokerId: 2, incarnationId: 'x', brokerEpoch: '1', host: 'h2', port: 2, fenced: false }]);
    quorum.append(topicRecords('before-snapshot', [{ replicas: [1] }, { replicas: [2] }]));
    quorum.append(topicRecords('deleted-later', [{ replicas: [1] }]));
    const snapshotOffset = quorum.takeSnapshot();
    quorum.append([]); // a Raft no-op
    quorum.append(topicRecords('after-snapshot', [{ replicas: [1] }]));
    const last = quorum.append([{ type: 'RemoveTopic', topicId: 'id-deleted-later' }]);

    const s = source(controllers);
    const changes: MetadataChange[] = [];
    s.subscribe((c) => changes.push(c));
    s.start();
    await s.ready();
    expect(s.appliedOffset).toBeGreaterThanOrEqual(last);
    expect(s.topics().map((t) => t.name)).toEqual(['after-snapshot', 'before-snapshot']);
    expect(s.topic('before-snapshot')!.partitions.map((p) => p.replicas)).toEqual([[1], [2]]);
    expect(s.topic('deleted-later')).toBeUndefined();
    // The snapshot's topics arrive as creations (the image was empty before it); a topic created
    // and deleted within what one batch applied produces no event at all.
    expect(changes.filter((c) => c.type === 'topicCreated').map((c) => c.topic.name).sort()).toEqual(['after-snapshot', 'before-snapshot']);
    expect(changes.filter((c) => c.type === 'topicDeleted')).toEqual([]);
    expect(snapshotOffset).toBeLessThan(last);
    expect(s.brokers().map((b) => b.nodeId)).toEqual([1, 2]);

    const removal = quorum.append([{ type: 'RemoveTopic', topicId: 'id-after-snapshot' }]);
    await waitFor('the removal', () => s.appliedOffset >= removal, 3_000);
    expect(changes.at(-1)).toMatchObject({ type: 'topicDeleted', topic: { name: 'after-snapshot', partitions: [{ partition: 0, replicas: [1] }] } });
  });

  it('emits partitionsChanged with only the changed partitions', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.append(topicRecords('p', [{ replicas: [1, 2], isr: [1] }, { replicas: [1] }]));
    const s = source(controllers);
    const changes: MetadataChange[] = [];
    s.subscribe((c) => changes.push(c));
    s.start();
    await s.ready();
    changes.length = 0;
    quorum.append([{ type: 'PartitionChange', topicId: 'id-p', partition: 0, leader: 2, isr: [2] }]);
    await waitFor('a change', () => changes.length > 0, 3_000);
    expect(changes).toHaveLength(1);
    const change = changes[0]!;
    expect(change.type).toBe('partitionsChanged');
    if (change.type !== 'partitionsChanged') return;
    expect(change.partitions).toEqual([{ partition: 0, leader: 2, leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2], isr: [2] }]);
    expect(change.topic.partitions[0]!.leader).toBe(2);
  });

  it('fails over to another controller when the one it fetches from goes down', async () => {
    const { quorum, controllers } = await quorumOf(2, 1);
    const s = source(controllers);
    s.start();
    await s.ready();
    controllers[0]!.stop();
    quorum.leaderId = 2;
    const offset = quorum.append(topicRecords('after-failover', [{ replicas: [1] }]));
    await waitFor('the entry via controller 2', () => s.appliedOffset >= offset, 5_000);
    expect(s.topic('after-failover')).toBeDefined();
    await waitFor('heartbeats to controller 2', () => quorum.heartbeats.at(-1)?.controllerId === 2, 3_000);
  });
});

describe('topic admin', () => {
  it('createTopics follows NOT_CONTROLLER to the active controller', async () => {
    const { quorum, controllers } = await quorumOf(2, 2);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.leaderId = 1; // s still believes 2 leads
    quorum.calls.length = 0;
    const [result] = await s.createTopics([{ name: 'moved', numPartitions: 2, replicationFactor: 1, configs: {} }], false, 5_000);
    expect(result).toMatchObject({ name: 'moved', errorCode: 0 });
    const creates = quorum.calls.filter((c) => c.method === 'CreateTopics').map((c) => c.controllerId);
    expect(creates).toEqual([2, 1]);
    expect(s.controllerId).toBe(1);
  });

  it('createTopics follows a leader named in the NOT_CONTROLLER sentence without asking DescribeQuorum', async () => {
    const { quorum, controllers } = await quorumOf(3, 3);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.leaderId = 2;
    quorum.hintInMessage = true;
    quorum.calls.length = 0;
    const [result] = await s.createTopics([{ name: 'hinted', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 5_000);
    expect(result!.errorCode).toBe(0);
    expect(quorum.calls.filter((c) => c.method === 'CreateTopics').map((c) => c.controllerId)).toEqual([3, 2]);
    expect(quorum.calls.some((c) => c.method === 'DescribeQuorum')).toBe(false);
  });

  it('createTopics resolves only once the local image has the topic', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.fetchLagMs = 400;
    const t0 = Date.now();
    const [result] = await s.createTopics([{ name: 'lagging', numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '1000' } }], false, 5_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(result!.errorCode).toBe(0);
    expect(s.topic('lagging')).toBeDefined();
    if (result!.errorCode === 0 && 'topic' in result!) {
      expect(result.topic.partitions).toHaveLength(3);
      expect(result.topic.configs).toEqual({ 'retention.ms': '1000' });
    }
  });

  it('createTopics maps controller errors and validate_only answers', async () => {
    const { controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    const results = await s.createTopics([
      { name: 'ok', numPartitions: 1, replicationFactor: 1, configs: {} },
      { name: 'too-many-replicas', numPartitions: 1, replicationFactor: 3, configs: {} },
    ], false, 5_000);
    expect(results.map((r) => r.errorCode)).toEqual([0, ErrorCode.INVALID_REPLICATION_FACTOR]);
    const again = await s.createTopics([{ name: 'ok', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 5_000);
    expect(again[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    const validated = await s.createTopics([{ name: 'dry', numPartitions: 4, replicationFactor: 1, configs: {} }], true, 5_000);
    expect(validated[0]!.errorCode).toBe(0);
    expect(s.topic('dry')).toBeUndefined();
  });

  it('deleteTopics resolves once the local image no longer has the topic', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.append(topicRecords('doomed', [{ replicas: [1] }]));
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.fetchLagMs = 300;
    const results = await s.deleteTopics(['doomed', 'never-was'], 5_000);
    expect(results.map((r) => r.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(s.topic('doomed')).toBeUndefined();
  });

  it('with every controller down, createTopics fails with a retriable code within its timeout', async () => {
    const { controllers } = await quorumOf(2);
    const s = source(controllers);
    s.start();
    await s.ready();
    for (const c of controllers) c.stop();
    const t0 = Date.now();
    const [result] = await s.createTopics([{ name: 'nowhere', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 800);
    // It waited out its timeout, then answered (rather than hanging) with a retriable code.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(result!.errorCode).toBe(ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE);
    expect(errorInfo(result!.errorCode).retriable).toBe(true);
    expect('errorMessage' in result! && result.errorMessage).toMatch(/was not created: no active controller answered in time/);
  });

  it('with a leaderless quorum, createTopics fails with CONTROLLER_QUORUM_UNAVAILABLE', async () => {
    const { quorum, controllers } = await quorumOf(2);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.leaderId = -1;
    const [result] = await s.createTopics([{ name: 'leaderless', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 600);
    expect(result!.errorCode).toBe(ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE);
  });
});

describe('identity', () => {
  it('derives a stable cluster id from the voter list, whatever its order', () => {
    const a = clusterIdOf([{ id: 2, host: 'b', port: 2 }, { id: 1, host: 'a', port: 1 }]);
    const b = clusterIdOf([{ id: 1, host: 'a', port: 1 }, { id: 2, host: 'b', port: 2 }]);
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{22}$/);
    expect(clusterIdOf([{ id: 1, host: 'a', port: 1 }])).not.toBe(a);
  });
});
