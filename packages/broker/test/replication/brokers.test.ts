/**
 * Two broker nodes in one process, real gRPC between them, following a fake controller quorum
 * that commits AlterPartition with the controller's rules: the follower replicates over the
 * Replication service; acks=all answers once the follower has the batch; the leader drops a
 * silent follower from the ISR through AlterPartition after replica.lag.time.max.ms (a waiting
 * acks=all write then answers NOT_ENOUGH_REPLICAS_AFTER_APPEND, new ones NOT_ENOUGH_REPLICAS) and
 * adds it back once it catches up; without a controller to commit the shrink, acks=all times out
 * instead; a leader shutting down never acknowledges a write the follower lacks; a leadership
 * move loses nothing; and the Replication service answers epoch and
 * leadership errors as Kafka does.
 */
import { join } from 'node:path';
import { type MetadataRecord } from '@samsa/metadata';
import {
  CHANNEL_OPTIONS,
  ErrorCode,
  clientProto,
  encodeRecordBatch,
  grpc,
  replicationProto,
  type ProduceResponse__Output,
  type ReplicaFetchResponse__Output,
  type ReplicationClient,
  type SamsaClient,
} from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startBrokerNode, type BrokerNode } from '../../src/index.js';
import { waitFor } from '@samsa/testkit';
import { FakeController, FakeQuorum, startFakeQuorum, topicRecords } from '../helpers/fakeController.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/**
 * replica.lag.time.max.ms for these brokers. A follower leaves the ISR when it has not caught up
 * for this long, so it must be well above the gaps a loaded machine puts between one follower's
 * fetches (at 300 ms, a starved follower fell out of the ISR before the first acks=all write).
 */
const LAG_MS = 3_000;

const fakeQuorum = () => startFakeQuorum('samsa-replication-', cleanups);

async function broker(c: { controller: FakeController; root: string }, nodeId: number): Promise<BrokerNode> {
  const node = await startBrokerNode({
    nodeId,
    listenHost: '127.0.0.1',
    listenPort: 0,
    dataDir: join(c.root, `broker-${nodeId}`),
    logger,
    controllers: [c.controller.address],
    heartbeatIntervalMs: 100,
    replicaLagTimeMaxMs: LAG_MS,
    replicaFetch: { maxWaitMs: 100, backoffMs: 20, backoffMaxMs: 200 },
  });
  let closed = false;
  const close = node.close.bind(node);
  node.close = () => {
    closed = true;
    return close();
  };
  cleanups.push(async () => {
    if (!closed) await node.close();
  });
  return node;
}

function samsaClient(node: BrokerNode): SamsaClient {
  const client = new (clientProto().samsa.v1.Samsa)(`127.0.0.1:${node.port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  cleanups.push(() => client.close());
  return client;
}

function replicationClient(node: BrokerNode): ReplicationClient {
  const client = new (replicationProto().samsa.v1.Replication)(
    `127.0.0.1:${node.port}`,
    grpc.credentials.createInsecure(),
    CHANNEL_OPTIONS,
  );
  cleanups.push(() => client.close());
  return client;
}

function call<Res>(client: grpc.Client, method: string, request: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: unknown, o: grpc.CallOptions, cb: (e: Error | null, res: Res) => void) => void>)[method]!(
      request,
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

async function produce(client: SamsaClient, topic: string, values: string[], acks: number, timeoutMs = 5_000) {
  const records = encodeRecordBatch(values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1_000n + BigInt(i) })));
  const res = await call<ProduceResponse__Output>(client, 'Produce', {
    acks,
    timeoutMs,
    topics: [{ name: topic, partitions: [{ partition: 0, records }] }],
  });
  return res.topics[0]!.partitions[0]!;
}

/** A replicated topic with min.insync.replicas=2, led by broker 1. */
function replicatedTopic(quorum: FakeQuorum, name: string): void {
  const records: MetadataRecord[] = [
    ...topicRecords(name, [{ replicas: [1, 2], leader: 1 }]),
    { type: 'Config', resourceType: 'topic', resourceName: name, name: 'min.insync.replicas', value: '2' },
  ];
  quorum.append(records);
}

function logBytes(node: BrokerNode, topic: string): Buffer {
  const log = node.replicaManager.getPartition(topic, 0)!.log;
  return log.read(log.logStartOffset, 1 << 24, undefined, true).records;
}

describe('two brokers replicating a partition', () => {
  it('acks=all waits for the follower; a silent follower leaves the ISR through AlterPartition and rejoins when back', async () => {
    const c = await fakeQuorum();
    const leader = await broker(c, 1);
    let follower = await broker(c, 2);
    replicatedTopic(c.quorum, 'r');
    await waitFor('the follower to fetch from broker 1', () => follower.replicaManager.fetchingFrom('r', 0) === 1);
    const client = samsaClient(leader);

    expect(await produce(client, 'r', ['a', 'b'], -1)).toMatchObject({ errorCode: 0, baseOffset: '0' });
    // Acknowledged means on the follower too.
    expect(follower.replicaManager.getPartition('r', 0)!.logEndOffset).toBe(2n);
    await waitFor('the follower to learn the HW', () => follower.replicaManager.getPartition('r', 0)!.highWatermark === 2n);
    expect(logBytes(follower, 'r').equals(logBytes(leader, 'r'))).toBe(true);

    await follower.close();
    const t0 = Date.now();
    // Accepted (the ISR is still [1,2]); it waits for the HW, which waits for broker 2 until the
    // leader drops it; then the HW passes the batch with fewer in-sync replicas than min.insync.replicas.
    const p = leader.replicaManager.getPartition('r', 0)!;
    const waited = await produce(client, 'r', ['c'], -1, 30_000);
    expect(waited).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, baseOffset: '2' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(LAG_MS - 50);
    expect(p.isr).toEqual([1]);
    expect(c.quorum.alterPartitions).toEqual([{ topic: 'r', partition: 0, newIsr: [1] }]);
    expect(c.quorum.image.topic('r')!.partitions[0]!.isr).toEqual([1]);
    expect(p.highWatermark).toBe(3n);
    // Now refused before anything is written; acks=1 needs only the leader.
    expect((await produce(client, 'r', ['refused'], -1)).errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(p.logEndOffset).toBe(3n);
    expect(await produce(client, 'r', ['e'], 1)).toMatchObject({ errorCode: 0, baseOffset: '3' });
    expect(p.highWatermark).toBe(4n);

    follower = await broker(c, 2);
    await waitFor('the follower to rejoin the ISR', () => p.isr.length === 2);
    expect(c.quorum.alterPartitions.at(-1)).toEqual({ topic: 'r', partition: 0, newIsr: [1, 2] });
    expect(await produce(client, 'r', ['d'], -1)).toMatchObject({ errorCode: 0, baseOffset: '4' });
    expect(logBytes(follower, 'r').equals(logBytes(leader, 'r'))).toBe(true);
  }, 60_000);

  it('an ISR change counts only once committed: with the controller unreachable acks=all times out instead', async () => {
    const c = await fakeQuorum();
    const leader = await broker(c, 1);
    const follower = await broker(c, 2);
    replicatedTopic(c.quorum, 'q');
    await waitFor('the follower to fetch', () => follower.replicaManager.fetchingFrom('q', 0) === 1);
    const client = samsaClient(leader);
    expect((await produce(client, 'q', ['a'], -1)).errorCode).toBe(0);
    await follower.close();
    c.controller.stop();
    const p = leader.replicaManager.getPartition('q', 0)!;
    const pending = produce(client, 'q', ['b'], -1, LAG_MS + 1_500);
    // The leader proposes dropping the silent broker 2, but the proposal cannot commit.
    await waitFor('the leader to propose the ISR shrink', () => p.leaderState!.state.kind === 'pendingShrink');
    const res = await pending;
    expect(res.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    expect(p.isr).toEqual([1, 2]);
    expect(p.leaderState!.state.kind).toBe('pendingShrink');
    expect(p.highWatermark).toBe(1n);
  });

  it('a leader shutting down answers a waiting acks=all write with a retriable error, never success', async () => {
    const c = await fakeQuorum();
    const leader = await broker(c, 1);
    const follower = await broker(c, 2);
    replicatedTopic(c.quorum, 's');
    await waitFor('the follower to fetch', () => follower.replicaManager.fetchingFrom('s', 0) === 1);
    const client = samsaClient(leader);
    expect((await produce(client, 's', ['a'], -1)).errorCode).toBe(0);
    await follower.close();
    c.controller.stop(); // no ISR shrink can commit: the write waits for broker 2
    const p = leader.replicaManager.getPartition('s', 0)!;
    const waiting = produce(client, 's', ['b'], -1, 20_000);
    await waitFor('the write to be appended', () => p.logEndOffset === 2n);
    // Shutdown completes the waiting produce: offset 1 is on the leader only (HW 1), so it is not
    // acknowledged; the next leader may never have it.
    await leader.close();
    const res = await waiting;
    expect(p.highWatermark).toBe(1n);
    expect(res.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(res.errorMessage).toContain('shutting down');
  });

  it('leadership moves to the follower: the old leader follows the new one and nothing acknowledged is lost', async () => {
    const c = await fakeQuorum();
    const one = await broker(c, 1);
    const two = await broker(c, 2);
    replicatedTopic(c.quorum, 'm');
    await waitFor('broker 2 to follow', () => two.replicaManager.fetchingFrom('m', 0) === 1);
    for (let i = 0; i < 5; i++) expect((await produce(samsaClient(one), 'm', [`one-${i}`], -1)).errorCode).toBe(0);

    c.quorum.append([{ type: 'PartitionChange', topicId: 'id-m', partition: 0, leader: 2 }]);
    await waitFor('the move', () => one.replicaManager.fetchingFrom('m', 0) === 2 && two.replicaManager.getPartition('m', 0)!.isLeader);
    expect(await produce(samsaClient(two), 'm', ['two-0'], -1)).toMatchObject({ errorCode: 0, baseOffset: '5' });
    expect((await produce(samsaClient(one), 'm', ['stale'], -1)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(logBytes(one, 'm').equals(logBytes(two, 'm'))).toBe(true);
    expect(two.replicaManager.getPartition('m', 0)!.log.leaderEpochEntries).toEqual([
      { epoch: 0, startOffset: 0n },
      { epoch: 1, startOffset: 5n },
    ]);
  });
});

describe('the Replication service', () => {
  it('answers FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, OFFSET_OUT_OF_RANGE and diverging epochs', async () => {
    const c = await fakeQuorum();
    const one = await broker(c, 1);
    const two = await broker(c, 2);
    replicatedTopic(c.quorum, 'e');
    await waitFor('the topic', () => one.replicaManager.getPartition('e', 0)?.isLeader === true);
    expect((await produce(samsaClient(one), 'e', ['a', 'b', 'c'], 1)).errorCode).toBe(0);
    c.quorum.append([{ type: 'PartitionChange', topicId: 'id-e', partition: 0, leader: 1 }]); // leader epoch 1
    await waitFor('epoch 1', () => one.replicaManager.getPartition('e', 0)!.leaderEpoch === 1);
    expect((await produce(samsaClient(one), 'e', ['d'], 1)).errorCode).toBe(0);

    const fetchFrom = async (
      node: BrokerNode,
      partition: { currentLeaderEpoch: number; fetchOffset: string; lastFetchedEpoch: number },
    ) => {
      const res = await call<ReplicaFetchResponse__Output>(replicationClient(node), 'ReplicaFetch', {
        replicaId: node === one ? 2 : 1,
        replicaEpoch: '-1',
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ name: 'e', partitions: [{ partition: 0, logStartOffset: '0', partitionMaxBytes: 1 << 20, ...partition }] }],
      });
      return res.topics[0]!.partitions[0]!;
    };
    expect((await fetchFrom(one, { currentLeaderEpoch: 0, fetchOffset: '0', lastFetchedEpoch: -1 })).errorCode).toBe(
      ErrorCode.FENCED_LEADER_EPOCH,
    );
    expect((await fetchFrom(one, { currentLeaderEpoch: 2, fetchOffset: '0', lastFetchedEpoch: -1 })).errorCode).toBe(
      ErrorCode.UNKNOWN_LEADER_EPOCH,
    );
    expect((await fetchFrom(two, { currentLeaderEpoch: 1, fetchOffset: '0', lastFetchedEpoch: -1 })).errorCode).toBe(
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
    expect(await fetchFrom(one, { currentLeaderEpoch: 1, fetchOffset: '9', lastFetchedEpoch: -1 })).toMatchObject({
      errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
      logStartOffset: '0',
      logEndOffset: '4',
    });
    // A follower that fetched offsets 0..4 in epoch 0: epoch 0 ends at 3 here.
    expect(await fetchFrom(one, { currentLeaderEpoch: 1, fetchOffset: '5', lastFetchedEpoch: 0 })).toMatchObject({
      errorCode: 0,
      divergingEpoch: { epoch: 0, endOffset: '3' },
      records: Buffer.alloc(0),
    });
    const ok = await fetchFrom(one, { currentLeaderEpoch: 1, fetchOffset: '3', lastFetchedEpoch: 0 });
    expect(ok).toMatchObject({ errorCode: 0, divergingEpoch: null, logEndOffset: '4' });
    expect(ok.records.length).toBeGreaterThan(0);
  });
});
