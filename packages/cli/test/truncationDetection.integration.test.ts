/**
 * KIP-320 end to end: an unclean election of a stale follower truncates the log under a consumer;
 * the SDK consumer validates its position with OffsetForLeaderEpoch and, with autoOffsetReset
 * 'none', raises LogTruncationError at the divergence point.
 */
import { LogTruncationError, Samsa, serdes } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type ClusterNode, type TestCluster } from './helpers/cluster.js';

describe('truncation detection (KIP-320) across an unclean election', () => {
  let cluster: TestCluster;
  let samsa: Samsa;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 1,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: ['--replica-lag-time-max-ms', '1000'],
    });
    samsa = new Samsa({
      brokers: cluster.bootstrap,
      requestTimeoutMs: 10_000,
      retry: { retries: 40, initialRetryTimeMs: 50, maxRetryTimeMs: 300 },
    });
  }, 90_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  it('the consumer raises LogTruncationError with the offset it read up to and the divergence point', async () => {
    const topic = 'trunc';
    const tp = { topic, partition: 0 };
    const partition = async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions[0]!;
    const brokerById = (id: number): ClusterNode => cluster.brokers.find((b) => b.nodeId === id)!;
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 2, configs: { 'min.insync.replicas': '1' } }]);
    const full = await waitFor('a full ISR', async () => ((await partition()).isr.length === 2 ? partition() : undefined), 30_000, 100);
    const leader = brokerById(full.leader);
    const follower = brokerById(full.replicas.find((r) => r !== full.leader)!);

    const all = samsa.producer({ value: serdes.string, acks: -1, timeoutMs: 5_000 });
    for (let i = 0; i < 5; i++) await all.send({ topic, messages: [{ value: `a${i}`, partition: 0 }] });
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'none', maxWaitMs: 200 });
    consumer.assign([tp]);
    await consumer.seek({ ...tp, offset: 0n });
    const read: string[] = [];
    await waitFor(
      'the first five records',
      async () => (read.push(...(await consumer.poll()).map((r) => r.value!)), read.length >= 5 || undefined),
      30_000,
      10,
    );

    // acks=1 writes the follower never sees.
    await cluster.kill(follower);
    await waitFor('the ISR shrinks to the leader', async () => (await partition()).isr.length === 1 || undefined, 30_000, 100);
    const one = samsa.producer({ value: serdes.string, acks: 1, timeoutMs: 5_000 });
    for (let i = 0; i < 5; i++) await one.send({ topic, messages: [{ value: `b${i}`, partition: 0 }] });
    await waitFor(
      'ten records read',
      async () => (read.push(...(await consumer.poll()).map((r) => r.value!)), read.length >= 10 || undefined),
      30_000,
      10,
    );
    expect(consumer.position(tp)).toBe(10n);

    // The leader dies; the stale follower comes back and is elected uncleanly.
    await cluster.kill(leader);
    await cluster.start(follower);
    await waitFor(
      'the stale follower leads',
      async () => {
        await samsa
          .admin()
          .electLeaders({ type: 'unclean', partitions: [tp] })
          .catch(() => undefined);
        return (await partition()).leader === follower.nodeId || undefined;
      },
      60_000,
      500,
    );

    let error: unknown;
    await waitFor(
      'the consumer detects the truncation',
      async () => {
        error = await consumer.poll().then(
          () => undefined,
          (e: unknown) => e,
        );
        return error !== undefined || undefined;
      },
      60_000,
      10,
    );
    expect(error).toBeInstanceOf(LogTruncationError);
    expect(error).toMatchObject({ topic, partition: 0, offset: 10n, divergentOffset: 5n });
    await consumer.close();
    await all.close();
    await one.close();
  }, 240_000);
});
