/**
 * Raising `__consumer_offsets` to replication factor 3 with `samsa reassign-partitions` (KIP-455;
 * issue #16). The brokers run with offsets.topic.replication.factor 1, so the group coordinator
 * creates the offsets topic with one replica per partition at first use. A group commits offsets,
 * every offsets partition is reassigned onto all three brokers (its current replica first, so no
 * leader moves), and once `--verify` reports completion every partition has three in-sync
 * replicas and the group's offsets are unchanged. Then the broker coordinating the group is killed:
 * the group's offsets partition gets a new leader from its ISR, which loads the group, and the
 * offsets are still there.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa, serdes } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { runCliAsync } from './helpers/processes.js';

const OFFSETS_TOPIC = '__consumer_offsets';

describe('raising __consumer_offsets to replication factor 3 against real processes', () => {
  let cluster: TestCluster;
  let samsa: Samsa;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 1,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 3_000,
      brokerArgs: ['--offsets-topic-replication-factor', '1'],
    });
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000 });
  }, 120_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  it("keeps a group's committed offsets through the reassignment and through SIGKILL of its coordinator", async () => {
    const admin = samsa.admin();
    const topic = 'orders';
    const group = 'offsets-rf-group';
    await admin.createTopics([{ topic, numPartitions: 3, replicationFactor: 3 }]);
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    for (let i = 0; i < 30; i++) await producer.send({ topic, messages: [{ value: `o-${i}`, partition: i % 3 }] });
    await producer.close();

    // The first commit creates __consumer_offsets, with one replica per partition.
    const committed = [
      { topic, partition: 0, offset: 4n },
      { topic, partition: 1, offset: 7n },
      { topic, partition: 2, offset: 10n },
    ];
    await waitFor(
      'the group commits its offsets',
      () =>
        admin.resetOffsets(group, committed).then(
          () => true,
          () => undefined,
        ),
      60_000,
      250,
    );
    const expected = committed.map((c) => ({ ...c, metadata: '' }));
    expect(await admin.fetchOffsets(group)).toEqual(expected);

    const [before] = await admin.describeTopics([OFFSETS_TOPIC]);
    expect(before!.isInternal).toBe(true);
    expect(before!.partitions.length).toBeGreaterThan(0);
    for (const p of before!.partitions) expect(p.replicas).toHaveLength(1);

    // Every partition onto all three brokers, its current replica first (it stays the leader).
    const ids = cluster.brokers.map((b) => b.nodeId);
    const partitions = before!.partitions.map((p) => ({
      topic: OFFSETS_TOPIC,
      partition: p.partition,
      replicas: [p.replicas[0]!, ...ids.filter((id) => id !== p.replicas[0])],
    }));
    const file = join(cluster.root, 'offsets-rf3.json');
    writeFileSync(file, JSON.stringify({ version: 1, partitions }));
    const bootstrap = cluster.bootstrap.join(',');
    const run = await runCliAsync(['reassign-partitions', '--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--execute'], {
      timeoutMs: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Successfully started partition reassignments for ${OFFSETS_TOPIC}-0`);

    // --verify exits 1 while any partition is still moving, 0 once all are done.
    const verify = await waitFor(
      '--verify reports every partition completed',
      async () => {
        const r = await runCliAsync(
          ['reassign-partitions', '--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--verify'],
          {
            timeoutMs: 30_000,
          },
        );
        return r.status === 0 ? r : undefined;
      },
      180_000,
      500,
    );
    for (const p of partitions) expect(verify.stdout).toContain(`Reassignment of partition ${OFFSETS_TOPIC}-${p.partition} is completed.`);

    const after = await waitFor(
      'every offsets partition has three replicas, all in the ISR',
      async () => {
        const [t] = await admin.describeTopics([OFFSETS_TOPIC]);
        const full = t!.partitions.every((p) => p.replicas.length === 3 && p.isr.length === 3 && p.leader >= 0);
        return full ? t : undefined;
      },
      60_000,
      250,
    );
    for (const p of after!.partitions) {
      expect([...p.isr].sort()).toEqual([...p.replicas].sort());
      expect(p.replicas).toEqual(partitions[p.partition]!.replicas);
    }
    expect(await admin.fetchOffsets(group)).toEqual(expected);

    // Kill the broker that coordinates the group (leads its offsets partition).
    const [description] = await admin.describeGroups([group]);
    const coordinator = cluster.brokers.find((b) => b.nodeId === description!.coordinator)!;
    expect(coordinator).toBeDefined();
    await cluster.kill(coordinator, 'SIGKILL');
    const survivors = cluster.brokers.filter((b) => b !== coordinator).map((b) => `127.0.0.1:${b.port}`);
    const fresh = new Samsa({ brokers: survivors, requestTimeoutMs: 10_000 });
    try {
      const fetched = await waitFor(
        "the group's offsets from the new coordinator",
        () =>
          fresh
            .admin()
            .fetchOffsets(group)
            .catch(() => undefined),
        60_000,
        250,
      );
      expect(fetched).toEqual(expected);
      const [moved] = await fresh.admin().describeGroups([group]);
      expect(moved!.coordinator).not.toBe(coordinator.nodeId);
    } finally {
      await fresh.close();
    }
  }, 360_000);
});
