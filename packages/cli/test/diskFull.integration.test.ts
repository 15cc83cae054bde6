/**
 * A disk that fills mid-produce (issue 16 item 11; packages/broker/src/log/README.md): 3
 * controllers and 3 brokers as child processes, one broker's data directory on a 2 MiB tmpfs the
 * test mounts. An acks=all producer writes until that disk is full and on. The full broker takes
 * its log directory offline without exiting: its partitions answer KAFKA_STORAGE_ERROR, the
 * controller fences it and moves leadership and ISR membership away, writes go on, and no
 * acknowledged record is lost. Once space returns (the tmpfs grown in place) and the broker is
 * restarted, it recovers its logs, rejoins every ISR and holds the same bytes as the others.
 *
 * Mounting needs root; where it is impossible the suite is skipped with the reason printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Samsa, serdes } from '@samsa/client';
import { ErrorCode, type FetchResponse__Output, type grpc } from '@samsa/protocol';
import { waitFor } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountTinyFs, type TinyFs } from '../src/chaos/tinyFs.js';
import { clientConnection, startCluster, type ClusterNode, type TestCluster } from './helpers/cluster.js';
import { committedBytes, readAll } from './helpers/records.js';

const TINY_BYTES = 2 * 1024 * 1024;

/** Whether this machine lets the test mount a tmpfs (probed once, unmounted at once). */
function probeMount(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-diskfull-probe-'));
  try {
    const probe = mountTinyFs(dir, 1024 * 1024);
    if (!probe.ok) return probe.reason;
    probe.fs.unmount();
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cannotMount = probeMount();
if (cannotMount !== undefined) console.warn(`diskFull.integration: skipped, a small file system cannot be mounted here: ${cannotMount}`);

describe.skipIf(cannotMount !== undefined)('a broker whose disk fills mid-produce', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let tiny: TinyFs | undefined;
  let full: ClusterNode;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 3,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 3_000,
      brokerArgs: ['--replica-lag-time-max-ms', '2000'],
      prepare: ({ brokers }) => {
        const mounted = mountTinyFs(brokers[0]!.dataDir, TINY_BYTES);
        if (!mounted.ok) throw new Error(mounted.reason);
        tiny = mounted.fs;
      },
    });
    full = cluster.brokers[0]!;
    samsa = new Samsa({
      brokers: cluster.bootstrap,
      requestTimeoutMs: 10_000,
      retry: { retries: 60, initialRetryTimeMs: 50, maxRetryTimeMs: 500 },
    });
  }, 120_000);

  afterAll(async () => {
    await samsa?.close();
    // The brokers first: nothing may hold the mount when it goes.
    if (cluster) for (const b of cluster.brokers) await cluster.kill(b);
    tiny?.unmount();
    await cluster?.stop();
  });

  const partitionsOf = async (topic: string) => (await samsa.admin().describeTopics([topic]))[0]!.partitions;

  it('loses no acknowledged record, keeps the broker alive, moves leadership away, and the restarted broker rejoins', async () => {
    const topic = 'filling';
    const partitions = 3;
    await samsa.admin().createTopics([{ topic, numPartitions: partitions, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    await waitFor(
      'a full ISR everywhere',
      async () => (await partitionsOf(topic)).every((p) => p.isr.length === 3) || undefined,
      20_000,
      100,
    );
    const ledBefore = (await partitionsOf(topic)).filter((p) => p.leader === full.nodeId).length;

    const producer = samsa.producer({ value: serdes.string, acks: -1, timeoutMs: 5_000, deliveryTimeoutMs: 60_000 });
    const acked = new Map<string, string>();
    const padding = 'x'.repeat(1000);
    const offlineSeen = () => full.output.includes('is offline');
    // ~30 KiB per chunk: the 2 MiB disk fills after ~70 chunks; go on well past it.
    let chunksAfterOffline = 0;
    for (let chunk = 0; chunk < 600 && chunksAfterOffline < 40; chunk++) {
      const values = Array.from({ length: 30 }, (_, k) => `v-${chunk}-${k}-${padding}`);
      const sent = await producer.send({ topic, messages: values.map((value, k) => ({ value, partition: k % partitions })) });
      sent.forEach((meta, k) => acked.set(`${meta.partition}@${meta.offset}`, values[k]!));
      if (offlineSeen()) chunksAfterOffline++;
    }
    expect(offlineSeen()).toBe(true);
    expect(chunksAfterOffline).toBe(40);

    // The broker is alive, fenced, and out of every leadership and ISR.
    expect(full.child?.exitCode).toBeNull();
    expect(full.child?.signalCode).toBeNull();
    const after = await waitFor(
      `broker ${full.nodeId} out of every ISR and leadership`,
      async () => {
        const now = await partitionsOf(topic);
        return now.every((p) => p.leader !== full.nodeId && !p.isr.includes(full.nodeId) && p.leader >= 0) ? now : undefined;
      },
      20_000,
      100,
    );
    expect(after).toHaveLength(partitions);
    expect(full.output).toContain('the controller fenced this broker: its log directory is offline');

    // Asked directly, the full broker answers KAFKA_STORAGE_ERROR for its replicas.
    const client = clientConnection(`127.0.0.1:${full.port}`);
    try {
      const res = await new Promise<FetchResponse__Output>((resolve, reject) =>
        (
          client as unknown as {
            Fetch: (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: FetchResponse__Output) => void) => void;
          }
        ).Fetch(
          {
            maxWaitMs: 0,
            minBytes: 1,
            maxBytes: 1 << 20,
            isolationLevel: 0,
            topics: [{ name: topic, partitions: [{ partition: 0, fetchOffset: '0', partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }] }],
          },
          { deadline: Date.now() + 10_000 },
          (e, r) => (e ? reject(e) : resolve(r!)),
        ),
      );
      const p0 = res.topics[0]!.partitions[0]!;
      expect(p0.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      expect(p0.errorMessage).toContain('is offline');
    } finally {
      client.close();
    }

    // Nothing acknowledged is lost.
    const stored = await readAll(samsa, topic, partitions);
    const missing = [...acked].filter(([at, value]) => stored.get(at) !== value);
    expect(missing).toEqual([]);
    expect(acked.size).toBeGreaterThan(2_000);

    // Space returns; the broker restarts, recovers and rejoins every ISR.
    tiny!.resize(64 * 1024 * 1024);
    await cluster.kill(full, 'SIGTERM');
    await cluster.start(full);
    await waitFor(
      `broker ${full.nodeId} back in every ISR`,
      async () => (await partitionsOf(topic)).every((p) => p.isr.includes(full.nodeId)) || undefined,
      60_000,
      200,
    );
    // It takes writes again as a replica, and holds the same bytes as the others below the HW.
    const more = await producer.send({
      topic,
      messages: Array.from({ length: 30 }, (_, k) => ({ value: `after-${k}`, partition: k % partitions })),
    });
    more.forEach((meta, k) => acked.set(`${meta.partition}@${meta.offset}`, `after-${k}`));
    const ends = await samsa.admin().listOffsets(
      topic,
      Array.from({ length: partitions }, (_, partition) => ({ partition, timestamp: 'latest' as const })),
    );
    for (const { partition, offset: highWatermark } of ends) {
      await waitFor(
        `replicas of ${topic}-${partition} to hold everything below ${highWatermark}`,
        () => {
          const copies = cluster.brokers.map((b) => committedBytes(b, topic, partition, highWatermark));
          return copies.every((c) => c.equals(copies[0]!) && c.length > 0) || undefined;
        },
        30_000,
        200,
      );
    }
    console.log(
      `${acked.size} acknowledged records; broker ${full.nodeId} led ${ledBefore} partition(s) before its ${TINY_BYTES}-byte disk filled; none lost`,
    );
  }, 240_000);
});
