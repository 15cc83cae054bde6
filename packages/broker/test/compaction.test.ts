/**
 * Log compaction through broker nodes following a fake controller quorum, over real gRPC: a topic
 * altered from delete to compact starts being cleaned by the broker's background cleaner; a
 * compacted topic refuses records without a key (INVALID_RECORD); a consumer reading it from the
 * beginning gets exactly the latest value of every key at its original offset; and a follower
 * that joins after the leader compacted replicates the compacted log.
 */
import { join } from 'node:path';
import { type MetadataRecord } from '@samsa/metadata';
import {
  CHANNEL_OPTIONS,
  ErrorCode,
  clientProto,
  decodeRecordBatch,
  encodeRecordBatch,
  grpc,
  iterateBatches,
  type FetchResponse__Output,
  type ProduceResponse__Output,
  type SamsaClient,
} from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startBrokerNode, type BrokerNode } from '../src/index.js';
import { readCleanerCheckpoint, type Log } from '../src/log/index.js';
import { waitFor } from '@samsa/testkit';
import { FakeController, startFakeQuorum, topicRecords } from './helpers/fakeController.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const fakeQuorum = () => startFakeQuorum('samsa-compaction-', cleanups);

async function broker(c: { controller: FakeController; root: string }, nodeId: number): Promise<BrokerNode> {
  const node = await startBrokerNode({
    nodeId,
    listenHost: '127.0.0.1',
    listenPort: 0,
    dataDir: join(c.root, `broker-${nodeId}`),
    logger,
    controllers: [c.controller.address],
    heartbeatIntervalMs: 100,
    replicaFetch: { maxWaitMs: 100, backoffMs: 20, backoffMaxMs: 200 },
    logCleaner: { backoffMs: 50 },
  });
  cleanups.push(() => node.close());
  return node;
}

function samsaClient(node: BrokerNode): SamsaClient {
  const client = new (clientProto().samsa.v1.Samsa)(`127.0.0.1:${node.port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  cleanups.push(() => client.close());
  return client;
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

type KV = [key: string | null, value: string | null];

async function produce(client: SamsaClient, topic: string, records: KV[]) {
  const batch = encodeRecordBatch(
    records.map(([k, v], i) => ({
      key: k === null ? null : Buffer.from(k),
      value: v === null ? null : Buffer.from(v),
      timestamp: 1_000n + BigInt(i),
    })),
  );
  const res = await call<ProduceResponse__Output>(client, 'Produce', {
    acks: -1,
    timeoutMs: 5_000,
    topics: [{ name: topic, partitions: [{ partition: 0, records: batch }] }],
  });
  return res.topics[0]!.partitions[0]!;
}

/** Reads the partition from offset 0 to its high watermark the way a consumer does: whole batches, on from each batch's end. */
async function consumeAll(client: SamsaClient, topic: string): Promise<string[]> {
  const out: string[] = [];
  let offset = 0n;
  for (let i = 0; i < 100; i++) {
    const res = await call<FetchResponse__Output>(client, 'Fetch', {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [
        { name: topic, partitions: [{ partition: 0, fetchOffset: String(offset), partitionMaxBytes: 300, currentLeaderEpoch: -1 }] },
      ],
    });
    const p = res.topics[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    for (const { pos, header } of iterateBatches(p.records)) {
      for (const r of decodeRecordBatch(p.records, pos).records) {
        if (r.offset >= offset) out.push(`${r.offset}:${r.key?.toString() ?? 'null'}=${r.value?.toString() ?? 'null'}`);
      }
      offset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
    }
    if (offset >= BigInt(p.highWatermark) || p.records.length === 0) break;
  }
  return out;
}

function logOf(node: BrokerNode, topic: string): Log {
  return node.replicaManager.getPartition(topic, 0)!.log;
}

/** Offset the cleaner has cleaned up to (its checkpoint), -1 when it has not cleaned the log. */
function cleanedUpTo(node: BrokerNode, topic: string): bigint {
  return readCleanerCheckpoint(logOf(node, topic).dir)?.firstDirtyOffset ?? -1n;
}

const configRecord = (topic: string, name: string, value: string): MetadataRecord => ({
  type: 'Config',
  resourceType: 'topic',
  resourceName: topic,
  name,
  value,
});

/** Three rounds of writes: k0..k4, k0..k4, then k0, a tombstone for k1, k2; each batch its own segment (segment.bytes 100). */
async function writeRounds(client: SamsaClient, topic: string): Promise<bigint[]> {
  const bases: bigint[] = [];
  for (let round = 0; round < 2; round++) {
    const res = await produce(
      client,
      topic,
      [0, 1, 2, 3, 4].map((k): KV => [`k${k}`, `r${round}-k${k}`]),
    );
    expect(res.errorCode).toBe(0);
    bases.push(BigInt(res.baseOffset));
  }
  const last = await produce(client, topic, [
    ['k0', 'r2-k0'],
    ['k1', null],
    ['k2', 'r2-k2'],
  ]);
  expect(last.errorCode).toBe(0);
  bases.push(BigInt(last.baseOffset));
  return bases;
}

describe('compacted topics on a broker', () => {
  it('a topic altered to compact is cleaned in the background; a consumer from the beginning sees the latest value per key at its offset', async () => {
    const c = await fakeQuorum();
    const node = await broker(c, 1);
    c.quorum.append([
      ...topicRecords('kv', [{ replicas: [1] }]),
      configRecord('kv', 'segment.bytes', '100'),
      configRecord('kv', 'min.cleanable.dirty.ratio', '0.01'),
    ]);
    await waitFor('the partition to open', () => node.replicaManager.getPartition('kv', 0)?.isLeader === true, 5_000);
    const client = samsaClient(node);

    // Under cleanup.policy=delete a record without a key is fine, and nothing is compacted.
    expect((await produce(client, 'kv', [[null, 'no-key']])).errorCode).toBe(0);
    expect(await writeRounds(client, 'kv')).toEqual([1n, 6n, 11n]);
    expect((await produce(client, 'kv', [['end', 'active']])).baseOffset).toBe('14');
    // A cleaner pass now (the broker's own cleaner, beside its background timer) finds nothing to clean.
    expect(await node.replicaManager.cleaner.runOnce()).toBeUndefined();
    expect(cleanedUpTo(node, 'kv')).toBe(-1n);
    const before = await consumeAll(client, 'kv');
    expect(before).toHaveLength(15);

    c.quorum.append([configRecord('kv', 'cleanup.policy', 'compact')]);
    await waitFor('the config change', () => node.replicaManager.getPartition('kv', 0)!.config['cleanup.policy'] === 'compact', 5_000);
    // The cleaner takes it within a few passes: everything below the active segment (offset 14) is cleaned.
    await waitFor('the cleaner to compact the topic', () => cleanedUpTo(node, 'kv') === 14n, 10_000);

    // A compacted topic refuses a record without a key, and writes nothing.
    const refused = await produce(client, 'kv', [
      ['k9', 'x'],
      [null, 'no-key'],
    ]);
    expect(refused.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(refused.errorMessage).toContain('without a key');
    expect(logOf(node, 'kv').logEndOffset).toBe(15n);

    // The keyless record at 0 and every superseded value are gone; the tombstone of k1 stays (delete.retention.ms).
    expect(await consumeAll(client, 'kv')).toEqual([
      '9:k3=r1-k3',
      '10:k4=r1-k4',
      '11:k0=r2-k0',
      '12:k1=null',
      '13:k2=r2-k2',
      '14:end=active',
    ]);
    // Every record the consumer sees is the one produced at that offset.
    const original = new Set(before);
    for (const r of await consumeAll(client, 'kv')) expect(original.has(r)).toBe(true);
  });

  it('a follower that joins after the leader compacted replicates the compacted log, offsets and gaps included', async () => {
    const c = await fakeQuorum();
    const leader = await broker(c, 1);
    c.quorum.append([
      ...topicRecords('kv2', [{ replicas: [1, 2], isr: [1], leader: 1 }]),
      configRecord('kv2', 'cleanup.policy', 'compact'),
      configRecord('kv2', 'segment.bytes', '100'),
      configRecord('kv2', 'min.cleanable.dirty.ratio', '0.01'),
    ]);
    await waitFor('the partition to open', () => leader.replicaManager.getPartition('kv2', 0)?.isLeader === true, 5_000);
    const client = samsaClient(leader);
    await writeRounds(client, 'kv2');
    await produce(client, 'kv2', [['end', 'active']]);
    await waitFor('the leader to compact', () => cleanedUpTo(leader, 'kv2') === 13n, 10_000);
    const leaderRecords = await consumeAll(client, 'kv2');
    expect(leaderRecords).toEqual(['8:k3=r1-k3', '9:k4=r1-k4', '10:k0=r2-k0', '11:k1=null', '12:k2=r2-k2', '13:end=active']);

    const follower = await broker(c, 2);
    await waitFor('the follower to catch up', () => follower.replicaManager.getPartition('kv2', 0)?.logEndOffset === 14n, 10_000);
    const followerLog = logOf(follower, 'kv2');
    // read() answers one segment at a time: walk them all.
    const all: string[] = [];
    let offset = 0n;
    while (offset < followerLog.logEndOffset) {
      const { records: bytes } = followerLog.read(offset, 1 << 20);
      if (bytes.length === 0) break;
      for (const { pos, header } of iterateBatches(bytes)) {
        for (const r of decodeRecordBatch(bytes, pos).records)
          all.push(`${r.offset}:${r.key?.toString() ?? 'null'}=${r.value?.toString() ?? 'null'}`);
        offset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      }
    }
    expect(all).toEqual(leaderRecords);
  });
});
