/**
 * The client API of one in-process broker node (with a one-voter controller quorum) over real gRPC: every kind of bad input gets its
 * Kafka code, writes nothing, and leaves the node serving; fetch long-polls; ListOffsets answers
 * earliest, latest and by timestamp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHANNEL_OPTIONS,
  ErrorCode,
  clientProto,
  decodeRecords,
  encodeRecordBatch,
  grpc,
  type FetchResponse__Output,
  type ProduceResponse__Output,
  type SamsaClient,
} from '@samsa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerNode, type BrokerNode } from '@samsa/broker';
import { startControllerNode, type ControllerNode } from '@samsa/controller';
import { RecordingTimers, waitFor } from '@samsa/testkit';
import { freePort } from './helpers/processes.js';

let dir: string;
let node: BrokerNode;
let controller: ControllerNode;
let client: SamsaClient;
/** The broker's clock: real time, with the timers it arms recorded (to see a fetch held). */
const timers = new RecordingTimers();
/** The broker's cap on max_wait_ms, raised far past any test timeout. */
const LONG_POLL_MS = 600_000;

function call<Req, Res>(method: string, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Req, cb: (e: Error | null, res: Res) => void) => void>)[method]!(request, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

const batch = (values: string[], timestamp = 1_000n) =>
  encodeRecordBatch(values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: timestamp + BigInt(i) })));

async function produce(topic: string, partition: number, records: Buffer, acks = 1): Promise<ProduceResponse__Output> {
  return call('Produce', { acks, timeoutMs: 5_000, topics: [{ name: topic, partitions: [{ partition, records }] }] });
}

async function fetch(topic: string, partition: number, fetchOffset: bigint, maxWaitMs = 0): Promise<FetchResponse__Output> {
  return call('Fetch', {
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [
      { name: topic, partitions: [{ partition, fetchOffset: String(fetchOffset), partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }] },
    ],
  });
}

async function latest(topic: string, partition = 0, timestamp = -1n): Promise<{ offset: bigint; errorCode: number }> {
  const res = await call<unknown, { topics: { partitions: { offset: string; errorCode: number }[] }[] }>('ListOffsets', {
    topics: [{ name: topic, partitions: [{ partition, timestamp: String(timestamp), currentLeaderEpoch: -1 }] }],
  });
  const p = res.topics[0]!.partitions[0]!;
  return { offset: BigInt(p.offset), errorCode: p.errorCode };
}

async function createTopic(name: string, numPartitions = 1, configs: Record<string, string> = {}) {
  const res = await call<unknown, { topics: { errorCode: number; errorMessage: string }[] }>('CreateTopics', {
    topics: [{ name, numPartitions, replicationFactor: 1, configs }],
  });
  return res.topics[0]!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-server-'));
  const logger = pino({ level: 'silent' });
  const controllerPort = await freePort();
  const voters = [{ id: 100, host: '127.0.0.1', port: controllerPort }];
  controller = await startControllerNode({
    nodeId: 100,
    listenHost: '127.0.0.1',
    listenPort: controllerPort,
    dataDir: join(dir, 'controller'),
    voters,
    logger,
  });
  node = await startBrokerNode({
    nodeId: 1,
    listenHost: '127.0.0.1',
    listenPort: 0,
    dataDir: join(dir, 'broker'),
    logger,
    controllers: voters,
    maxFetchWaitMs: LONG_POLL_MS,
    timers,
  });
  const Ctor = clientProto().samsa.v1.Samsa;
  client = new Ctor(`127.0.0.1:${node.port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  expect((await createTopic('events', 2)).errorCode).toBe(0);
  expect((await createTopic('small', 1, { 'max.message.bytes': '1000' })).errorCode).toBe(0);
});

afterAll(async () => {
  client?.close();
  await node?.close();
  await controller?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('produce and fetch', () => {
  it('assigns offsets, and fetch returns the same records', async () => {
    const res = await produce('events', 0, batch(['a', 'b', 'c']));
    const p = res.topics[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    expect(p.baseOffset).toBe('0');
    expect(p.currentLeader).toEqual({ leaderId: 1, leaderEpoch: 0 });
    const fetched = await fetch('events', 0, 1n);
    const data = fetched.topics[0]!.partitions[0]!;
    expect(data.highWatermark).toBe('3');
    const records = decodeRecords(data.records);
    expect(records.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [0n, 'a'],
      [1n, 'b'],
      [2n, 'c'],
    ]);
  });

  it('long-polls until data arrives, and answers at max_wait when none does', async () => {
    const start = (await latest('events', 1)).offset;
    // max_wait far beyond the test's timeout: an answer at all means the data woke the fetch.
    const held = timers.armedFor(LONG_POLL_MS);
    let answered = false;
    const waiting = fetch('events', 1, start, LONG_POLL_MS).finally(() => (answered = true));
    // The write goes out once the broker holds the poll (it armed the poll's max_wait timer).
    await waitFor('the broker to hold the long poll', () => timers.armedFor(LONG_POLL_MS) > held, 10_000, 10);
    expect(answered).toBe(false);
    await produce('events', 1, batch(['late']));
    const res = await waiting;
    expect(decodeRecords(res.topics[0]!.partitions[0]!.records).map((r) => r.value?.toString())).toEqual(['late']);

    const t1 = Date.now();
    const empty = await fetch('events', 1, start + 1n, 400);
    expect(empty.topics[0]!.partitions[0]!.records.length).toBe(0);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(350);
  });

  it('acks=0 answers with nothing but still writes', async () => {
    const before = (await latest('events', 1)).offset;
    const res = await produce('events', 1, batch(['fire', 'forget']), 0);
    expect(res.topics).toEqual([]);
    expect((await latest('events', 1)).offset).toBe(before + 2n);
  });

  it('acks=0 answers the partitions it could not write, so a client that does not wait still learns', async () => {
    const res = await produce('events', 99, batch(['lost']), 0);
    expect(res.topics).toHaveLength(1);
    expect(res.topics[0]!.partitions).toHaveLength(1);
    expect(res.topics[0]!.partitions[0]).toMatchObject({ partition: 99, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
  });

  it('ListOffsets answers earliest, latest and by timestamp', async () => {
    await createTopic('times');
    await produce('times', 0, batch(['t0', 't1', 't2'], 5_000n));
    await produce('times', 0, batch(['t3'], 9_000n));
    expect((await latest('times', 0, -2n)).offset).toBe(0n);
    expect((await latest('times', 0, -1n)).offset).toBe(4n);
    expect((await latest('times', 0, 5_001n)).offset).toBe(1n);
    expect((await latest('times', 0, 8_000n)).offset).toBe(3n);
    expect((await latest('times', 0, 10_000n)).offset).toBe(-1n);
  });
});

describe('bad input is refused with its code, writes nothing, and the node keeps serving', () => {
  async function expectNothingWritten(topic: string, fn: () => Promise<number>, code: number) {
    const before = (await latest(topic)).offset;
    expect(await fn()).toBe(code);
    expect((await latest(topic)).offset).toBe(before);
  }

  it('MESSAGE_TOO_LARGE for a batch over max.message.bytes', async () => {
    await expectNothingWritten(
      'small',
      async () => (await produce('small', 0, batch(['x'.repeat(2_000)]))).topics[0]!.partitions[0]!.errorCode,
      ErrorCode.MESSAGE_TOO_LARGE,
    );
  });

  it('CORRUPT_MESSAGE for a CRC mismatch and for a malformed header', async () => {
    const tampered = batch(['hello']);
    tampered[tampered.length - 2] ^= 0xff;
    await expectNothingWritten(
      'events',
      async () => (await produce('events', 0, tampered)).topics[0]!.partitions[0]!.errorCode,
      ErrorCode.CORRUPT_MESSAGE,
    );
    await expectNothingWritten(
      'events',
      async () => (await produce('events', 0, Buffer.from('not a batch'))).topics[0]!.partitions[0]!.errorCode,
      ErrorCode.CORRUPT_MESSAGE,
    );
    const twoBatches = Buffer.concat([batch(['a']), batch(['b'])]);
    await expectNothingWritten(
      'events',
      async () => (await produce('events', 0, twoBatches)).topics[0]!.partitions[0]!.errorCode,
      ErrorCode.CORRUPT_MESSAGE,
    );
  });

  it('UNKNOWN_TOPIC_OR_PARTITION for a missing topic or partition', async () => {
    expect((await produce('missing', 0, batch(['a']))).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await produce('events', 7, batch(['a']))).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await fetch('missing', 0, 0n)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('OFFSET_OUT_OF_RANGE for a fetch past the log end or below the log start', async () => {
    const end = (await latest('events', 0)).offset;
    expect((await fetch('events', 0, end + 1n)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect((await fetch('events', 0, -5n)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect((await fetch('events', 0, end)).topics[0]!.partitions[0]!.errorCode).toBe(0);
  });

  it('INVALID_REQUIRED_ACKS for acks outside 0, 1, -1', async () => {
    await expectNothingWritten(
      'events',
      async () => (await produce('events', 0, batch(['a']), 2)).topics[0]!.partitions[0]!.errorCode,
      ErrorCode.INVALID_REQUIRED_ACKS,
    );
  });

  it('INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, TOPIC_ALREADY_EXISTS on create', async () => {
    expect((await createTopic('bad/name')).errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect((await createTopic('x'.repeat(250))).errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect((await createTopic('..')).errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect((await createTopic('zero', 0)).errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    expect((await createTopic('cfg', 1, { 'no.such.config': '1' })).errorCode).toBe(ErrorCode.INVALID_CONFIG);
    const rf = await call<unknown, { topics: { errorCode: number }[] }>('CreateTopics', {
      topics: [{ name: 'rf', numPartitions: 1, replicationFactor: 2 }],
    });
    expect(rf.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    expect((await createTopic('events')).errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    const meta = await call<unknown, { topics: { name: string }[] }>('Metadata', { allTopics: true });
    expect(meta.topics.map((t) => t.name).sort()).toEqual(['events', 'small', 'times']);
  });
});
