/**
 * Partition reassignment (KIP-455) with real processes: 3 controllers and 6 brokers. A partition's
 * three replicas move entirely onto the three other brokers with `samsa reassign-partitions
 * --execute` while an acks=all producer keeps writing: no acknowledged record is lost, the new
 * replicas form the ISR and lead, and the old replicas' log directories are deleted. Then a topic's
 * replication factor goes from 1 to 3 the same way, and the tool's refusals are checked. Last,
 * unmodified KafkaJS drives AlterPartitionReassignments (45) and ListPartitionReassignments (46)
 * through the Kafka listener. And a reassignment waiting for a stopped broker survives SIGKILL of
 * the active controller and completes once that broker restarts.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa, serdes } from '@samsa/client';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { runCliAsync } from './helpers/processes.js';
import { readAll } from './helpers/records.js';

describe('samsa reassign-partitions against real processes', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let bootstrap: string;

  beforeAll(async () => {
    cluster = await startCluster({ controllers: 3, brokers: 6, heartbeatIntervalMs: 250, sessionTimeoutMs: 4_000 });
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000 });
    bootstrap = cluster.bootstrap.join(',');
  }, 120_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  const partitionOf = async (topic: string) => (await samsa.admin().describeTopics([topic]))[0]!.partitions[0]!;
  const reassignmentFile = (name: string, topic: string, replicas: number[]) => {
    const file = join(cluster.root, name);
    writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas }] }));
    return file;
  };

  it("moves a partition's three replicas onto three other brokers under acks=all load, losing nothing", async () => {
    const topic = 'moving';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const before = await waitFor(
      'all three replicas in the ISR',
      async () => {
        const p = await partitionOf(topic);
        return p.leader >= 0 && p.isr.length === 3 ? p : undefined;
      },
      30_000,
      100,
    );
    const original = [...before.replicas];
    const target = cluster.brokers.map((b) => b.nodeId).filter((id) => !original.includes(id));
    expect(target).toHaveLength(3);

    // A steady acks=all producer: every acknowledged offset is noted with its value.
    const producer = samsa.producer({ value: serdes.string, acks: -1, timeoutMs: 5_000, deliveryTimeoutMs: 60_000 });
    const acked = new Map<string, string>();
    const errors: unknown[] = [];
    let stop = false;
    let n = 0;
    const load = (async () => {
      while (!stop && n < 100_000) {
        const value = `v-${n++}`;
        try {
          const [meta] = await producer.send({ topic, messages: [{ value, partition: 0 }] });
          acked.set(`${meta!.partition}@${meta!.offset}`, value);
        } catch (err) {
          errors.push(err);
          if (errors.length > 50) return;
        }
      }
    })();
    try {
      await waitFor('50 records acknowledged before the move', () => acked.size >= 50 || undefined, 30_000, 20);

      const file = reassignmentFile('move.json', topic, target);
      const run = await runCliAsync(
        ['reassign-partitions', '--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--execute'],
        {
          timeoutMs: 60_000,
        },
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('Current partition replica assignment');
      expect(run.stdout).toContain(`"replicas":[${original.join(',')}]`);
      expect(run.stdout).toContain(`Successfully started partition reassignments for ${topic}-0`);

      const moved = await waitFor(
        'the partition on the target replicas only, all in the ISR',
        async () => {
          const p = await partitionOf(topic);
          const done = p.replicas.join(',') === target.join(',') && [...p.isr].sort().join(',') === [...target].sort().join(',');
          return done && target.includes(p.leader) ? p : undefined;
        },
        90_000,
        200,
      );
      expect(await samsa.admin().listPartitionReassignments()).toEqual([]);
      const ackedAtMove = acked.size;
      await waitFor('30 more records acknowledged after the move', () => acked.size >= ackedAtMove + 30 || undefined, 60_000, 20);
      stop = true;
      await load;

      const verify = await runCliAsync([
        'reassign-partitions',
        '--bootstrap-server',
        bootstrap,
        '--reassignment-json-file',
        file,
        '--verify',
      ]);
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stdout).toContain(`Reassignment of partition ${topic}-0 is completed.`);

      // Every acknowledged record is there, at the offset it was acknowledged at.
      const stored = await readAll(samsa, topic, 1);
      const lost = [...acked].filter(([at, value]) => stored.get(at) !== value);
      expect(lost).toEqual([]);
      expect(errors).toEqual([]);

      // The old replicas stopped and deleted their logs; the new ones hold the partition.
      for (const id of original) {
        const node = cluster.brokers.find((b) => b.nodeId === id)!;
        await waitFor(`broker ${id} deletes ${topic}-0`, () => !existsSync(join(node.dataDir, `${topic}-0`)) || undefined, 30_000, 100);
      }
      for (const id of moved.replicas)
        expect(existsSync(join(cluster.brokers.find((b) => b.nodeId === id)!.dataDir, `${topic}-0`))).toBe(true);
    } finally {
      stop = true;
      await load;
      await producer.close();
    }
  }, 240_000);

  it('raises a replication factor from 1 to 3, and refuses what it cannot do', async () => {
    const topic = 'growing';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const before = await waitFor(
      'the partition has a leader',
      async () => {
        const p = await partitionOf(topic);
        return p.leader >= 0 ? p : undefined;
      },
      30_000,
      100,
    );
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    const acked = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const [meta] = await producer.send({ topic, messages: [{ value: `g-${i}`, partition: 0 }] });
      acked.set(`0@${meta!.offset}`, `g-${i}`);
    }
    await producer.close();

    // --generate proposes the topic's current replication factor over the listed brokers.
    const topicsFile = join(cluster.root, 'topics.json');
    writeFileSync(topicsFile, JSON.stringify({ topics: [{ topic }], version: 1 }));
    const ids = cluster.brokers.map((b) => b.nodeId);
    const generated = await runCliAsync([
      'reassign-partitions',
      '--bootstrap-server',
      bootstrap,
      '--generate',
      '--topics-to-move-json-file',
      topicsFile,
      '--broker-list',
      ids.slice(0, 3).join(','),
    ]);
    expect(generated.status, generated.stderr).toBe(0);
    const proposed = JSON.parse(generated.stdout.split('Proposed partition reassignment configuration\n')[1]!.trim()) as {
      partitions: { replicas: number[] }[];
    };
    expect(proposed.partitions[0]!.replicas).toHaveLength(1);
    expect(ids.slice(0, 3)).toContain(proposed.partitions[0]!.replicas[0]);

    // Cancel with nothing running, and a target naming an unknown broker: refused, nothing changes.
    const others = ids.filter((id) => id !== before.leader).slice(0, 2);
    const target = [before.leader, ...others];
    const file = reassignmentFile('grow.json', topic, target);
    const cancel = await runCliAsync([
      'reassign-partitions',
      '--bootstrap-server',
      bootstrap,
      '--reassignment-json-file',
      file,
      '--cancel',
    ]);
    expect(cancel.status).toBe(1);
    expect(cancel.stderr).toContain('NO_REASSIGNMENT_IN_PROGRESS');
    const badFile = reassignmentFile('bad.json', topic, [before.leader, 999]);
    const bad = await runCliAsync([
      'reassign-partitions',
      '--bootstrap-server',
      bootstrap,
      '--reassignment-json-file',
      badFile,
      '--execute',
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('INVALID_REPLICA_ASSIGNMENT');
    expect((await partitionOf(topic)).replicas).toEqual([before.leader]);

    const run = await runCliAsync(['reassign-partitions', '--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--execute'], {
      timeoutMs: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const grown = await waitFor(
      'three replicas, all in the ISR',
      async () => {
        const p = await partitionOf(topic);
        return p.replicas.length === 3 && p.isr.length === 3 ? p : undefined;
      },
      60_000,
      200,
    );
    expect(grown.replicas).toEqual(target);
    expect(grown.leader).toBe(before.leader);
    const verify = await runCliAsync([
      'reassign-partitions',
      '--bootstrap-server',
      bootstrap,
      '--reassignment-json-file',
      file,
      '--verify',
    ]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`Reassignment of partition ${topic}-0 is completed.`);
    for (const id of target) expect(existsSync(join(cluster.brokers.find((b) => b.nodeId === id)!.dataDir, `${topic}-0`))).toBe(true);
    const stored = await readAll(samsa, topic, 1);
    expect([...acked].filter(([at, value]) => stored.get(at) !== value)).toEqual([]);
  }, 180_000);

  it('serves AlterPartitionReassignments and ListPartitionReassignments to KafkaJS', async () => {
    const topic = 'wire-moved';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const before = await waitFor(
      'the partition has a leader',
      async () => {
        const p = await partitionOf(topic);
        return p.leader >= 0 ? p : undefined;
      },
      30_000,
      100,
    );
    // A stopped broker cannot catch up, so a reassignment onto it stays in progress while it is down
    // (it stays registered, so the target is valid).
    const stopped = cluster.brokers.find((b) => b.nodeId !== before.leader)!;
    await cluster.kill(stopped, 'SIGKILL');
    const kafka = new Kafka({
      clientId: 'reassign-test',
      brokers: cluster.brokers.filter((b) => b !== stopped).map((b) => `127.0.0.1:${b.port}`),
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.alterPartitionReassignments({
        topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [before.leader, stopped.nodeId] }] }],
      });
      const listed = await admin.listPartitionReassignments({ topics: [{ topic, partitions: [0] }] });
      // KafkaJS names them `name` and `partition`.
      expect(listed.topics as unknown).toEqual([
        {
          name: topic,
          partitions: [{ partition: 0, replicas: [before.leader, stopped.nodeId], addingReplicas: [stopped.nodeId], removingReplicas: [] }],
        },
      ]);
      // Kafka's error for a broker that does not exist, per partition.
      await expect(
        admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [999] }] }] }),
      ).rejects.toMatchObject({ errors: [{ code: 39, topic, partition: 0 }] }); // INVALID_REPLICA_ASSIGNMENT
      // Cancel (KafkaJS cannot send null replicas; the SDK can): back to the original replica.
      const [cancelled] = await samsa.admin().alterPartitionReassignments([{ topic, partition: 0, replicas: null }]);
      expect(cancelled).toEqual({ topic, partition: 0, errorCode: 0 });
      expect((await partitionOf(topic)).replicas).toEqual([before.leader]);
      expect((await admin.listPartitionReassignments({})).topics).toEqual([]);
    } finally {
      await cluster.start(stopped);
    }
    // With the broker running, the same move completes.
    await admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [stopped.nodeId] }] }] });
    await waitFor(
      `${topic}-0 moved to broker ${stopped.nodeId}`,
      async () => {
        const p = await partitionOf(topic);
        return p.replicas.join(',') === String(stopped.nodeId) && p.leader === stopped.nodeId ? p : undefined;
      },
      60_000,
      200,
    );
    await admin.disconnect();
  }, 120_000);

  it('a reassignment in progress survives the active controller being killed and completes after the broker restarts', async () => {
    const topic = 'failover-moved';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const before = await waitFor(
      'the partition has a leader',
      async () => {
        const p = await partitionOf(topic);
        return p.leader >= 0 ? p : undefined;
      },
      30_000,
      100,
    );
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    const acked = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const [meta] = await producer.send({ topic, messages: [{ value: `f-${i}`, partition: 0 }] });
      acked.set(`0@${meta!.offset}`, `f-${i}`);
    }
    await producer.close();

    const target = cluster.brokers.find((b) => b.nodeId !== before.leader)!;
    await cluster.kill(target, 'SIGKILL');
    const [started] = await samsa.admin().alterPartitionReassignments([{ topic, partition: 0, replicas: [target.nodeId] }]);
    expect(started).toEqual({ topic, partition: 0, errorCode: 0 });
    expect(await samsa.admin().listPartitionReassignments({ partitions: [{ topic, partition: 0 }] })).toEqual([
      { topic, partition: 0, replicas: [target.nodeId, before.leader], addingReplicas: [target.nodeId], removingReplicas: [before.leader] },
    ]);

    const active = await cluster.activeController();
    await cluster.kill(active, 'SIGKILL');
    const next = await waitFor(
      'another controller becomes active',
      async () => {
        const c = await cluster.activeController().catch(() => undefined);
        return c !== undefined && c !== active ? c : undefined;
      },
      30_000,
      200,
    );
    expect(next).not.toBe(active);
    // The new active controller knows the reassignment from the log.
    expect((await samsa.admin().listPartitionReassignments()).map((r) => `${r.topic}-${r.partition}`)).toContain(`${topic}-0`);

    await cluster.start(target);
    const moved = await waitFor(
      `${topic}-0 moved to broker ${target.nodeId}`,
      async () => {
        const p = await partitionOf(topic);
        return p.replicas.join(',') === String(target.nodeId) && p.leader === target.nodeId ? p : undefined;
      },
      60_000,
      200,
    );
    expect(moved.isr).toEqual([target.nodeId]);
    const old = cluster.brokers.find((b) => b.nodeId === before.leader)!;
    await waitFor(`broker ${old.nodeId} deletes ${topic}-0`, () => !existsSync(join(old.dataDir, `${topic}-0`)) || undefined, 30_000, 100);
    const stored = await readAll(samsa, topic, 1);
    expect([...acked].filter(([at, value]) => stored.get(at) !== value)).toEqual([]);
    await cluster.start(active);
  }, 180_000);
});
