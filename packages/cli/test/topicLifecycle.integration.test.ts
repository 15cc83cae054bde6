/**
 * Topic lifecycle (issue 16) with real processes, 1 controller + 3 brokers: `topics --alter
 * --partitions` while an SDK producer and an SDK group consumer run (nothing acknowledged is lost,
 * the new partitions get records and are consumed after the group rejoins), the refusals (fewer
 * partitions, internal topics).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MaxBlockTimeoutError, Samsa, UnknownTopicOrPartitionError, serdes } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type ClusterNode, type TestCluster } from './helpers/cluster.js';
import { removeDir, runCliAsync, tempDir } from './helpers/processes.js';

// Short group timings so the rebalance after the partition count changes takes seconds.
// Retention runs every half second so an idle topic's expiry is seen in seconds.
const BROKER_ARGS = [
  '--group-initial-rebalance-delay-ms',
  '300',
  '--group-min-session-timeout-ms',
  '1000',
  '--log-retention-check-interval-ms',
  '500',
];

describe('topic lifecycle against real processes', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let bootstrap: string;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 1,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: BROKER_ARGS,
      // The controller's defaults for topics created without counts (auto-created ones).
      controllerArgs: ['--num-partitions', '2', '--default-replication-factor', '3'],
    });
    bootstrap = cluster.bootstrap.join(',');
    // Metadata refreshed every second: the producer and the group's leader see new partitions soon.
    samsa = new Samsa({
      brokers: cluster.bootstrap,
      requestTimeoutMs: 10_000,
      metadataMaxAgeMs: 1_000,
      retry: { retries: 10, maxRetryTimeMs: 1_000 },
    });
  }, 90_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  it('adds partitions while a producer and a group consumer run: nothing acknowledged is lost and the new partitions are consumed', async () => {
    const topic = 'grow';
    await samsa.admin().createTopics([{ topic, numPartitions: 2, replicationFactor: 3 }]);
    await waitFor(
      `${topic} has leaders`,
      async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );

    const consumer = samsa.consumer({
      groupId: 'g-grow',
      key: serdes.string,
      value: serdes.string,
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      metadataMaxAgeMs: 1_000,
      fetchMaxWaitMs: 200,
    });
    consumer.subscribe(topic);
    const consumed = new Map<string, number>();
    let consuming = true;
    const consumeLoop = (async () => {
      while (consuming) {
        for (const r of await consumer.poll({ maxWaitMs: 200 })) consumed.set(r.value!, r.partition);
      }
    })();

    const producer = samsa.producer({ key: serdes.string, value: serdes.string, acks: -1 });
    const acked = new Map<string, number>();
    let producing = true;
    let n = 0;
    const produceLoop = (async () => {
      while (producing) {
        const batch = Array.from({ length: 10 }, () => n++);
        const results = await producer.send({ topic, messages: batch.map((i) => ({ key: `k${i}`, value: `v${i}` })) });
        results.forEach((r, j) => acked.set(`v${batch[j]}`, r.partition));
      }
    })();

    try {
      await waitFor(
        'records acknowledged and consumed on the first two partitions',
        () => acked.size >= 100 && consumed.size >= 50,
        60_000,
        100,
      );

      // kafka-topics --alter refuses fewer partitions and names the current count.
      const shrink = await runCliAsync(['topics', '--bootstrap-server', bootstrap, '--alter', '--topic', topic, '--partitions', '1']);
      expect(shrink.status).not.toBe(0);
      expect(shrink.stderr).toContain('has 2 partitions');

      const alter = await runCliAsync(['topics', '--bootstrap-server', bootstrap, '--alter', '--topic', topic, '--partitions', '4']);
      expect(alter.stderr).toBe('');
      expect(alter.stdout).toContain(`Topic ${topic} now has 4 partitions.`);
      const [described] = await samsa.admin().describeTopics([topic]);
      expect(described!.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
      expect(described!.partitions.every((p) => p.replicas.length === 3)).toBe(true);
      // New leaders are spread: the four partitions have leaders on all three brokers.
      await waitFor(
        'leaders on every broker',
        async () => new Set((await samsa.admin().describeTopics([topic]))[0]!.partitions.map((p) => p.leader)).size === 3,
        20_000,
        100,
      );

      // The producer picks the new partitions on its next metadata refresh.
      await waitFor(
        'records acknowledged on partitions 2 and 3',
        () => [...acked.values()].some((p) => p === 2) && [...acked.values()].some((p) => p === 3),
        60_000,
        100,
      );
      // The group's leader notices the new count and the group rejoins: the consumer is assigned all four.
      await waitFor('the consumer owns four partitions', () => consumer.assignment().length === 4, 60_000, 100);
    } finally {
      producing = false;
      await produceLoop;
    }
    try {
      await waitFor('every acknowledged record consumed', () => [...acked.keys()].every((v) => consumed.has(v)), 60_000, 100);
    } finally {
      consuming = false;
      await consumeLoop;
      await consumer.close();
      await producer.close();
    }
    const missing = [...acked.keys()].filter((v) => !consumed.has(v));
    expect(missing).toEqual([]);
    for (const [value, partition] of acked) expect(consumed.get(value)).toBe(partition);
    expect(new Set(consumed.values())).toEqual(new Set([0, 1, 2, 3]));
  }, 240_000);

  it('refuses to delete or grow an internal topic', async () => {
    // A group commit makes the brokers create __consumer_offsets.
    const consumer = samsa.consumer({
      groupId: 'g-internal',
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
    });
    try {
      await samsa.admin().createTopics([{ topic: 'small', numPartitions: 1, replicationFactor: 1 }]);
      consumer.subscribe('small');
      await waitFor(
        'the group has joined',
        async () => {
          await consumer.poll({ maxWaitMs: 100 });
          return consumer.assignment().length === 1;
        },
        60_000,
        0,
      );
    } finally {
      await consumer.close();
    }
    const del = await runCliAsync(['topics', '--bootstrap-server', bootstrap, '--delete', '--topic', '__consumer_offsets']);
    expect(del.status).not.toBe(0);
    expect(del.stderr).toContain("topic '__consumer_offsets' is internal");
    const grow = await runCliAsync([
      'topics',
      '--bootstrap-server',
      bootstrap,
      '--alter',
      '--topic',
      '__consumer_offsets',
      '--partitions',
      '100',
    ]);
    expect(grow.status).not.toBe(0);
    expect(grow.stderr).toContain("topic '__consumer_offsets' is internal");
    expect(await samsa.admin().listTopics()).toContain('__consumer_offsets');
  }, 120_000);

  it('delete-records moves the log start: a consumer from earliest starts there; past the high watermark is refused', async () => {
    const topic = 'trim';
    await samsa.admin().createTopics([{ topic, numPartitions: 2, replicationFactor: 3 }]);
    await waitFor(
      `${topic} has leaders`,
      async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    for (let p = 0; p < 2; p++) {
      await producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ partition: p, value: `p${p}-${i}` })) });
    }
    await producer.close();

    const dir = tempDir('samsa-delete-records-');
    try {
      const file = join(dir, 'offsets.json');
      writeFileSync(
        file,
        JSON.stringify({
          partitions: [
            { topic, partition: 0, offset: 60 },
            { topic, partition: 1, offset: -1 },
          ],
          version: 1,
        }),
      );
      const run = await runCliAsync(['delete-records', '--bootstrap-server', bootstrap, '--offset-json-file', file]);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(
        `Records delete operation completed:\npartition: ${topic}-0\tlow_watermark: 60\npartition: ${topic}-1\tlow_watermark: 100\n`,
      );

      writeFileSync(file, JSON.stringify({ partitions: [{ topic, partition: 0, offset: 500 }], version: 1 }));
      const beyond = await runCliAsync(['delete-records', '--bootstrap-server', bootstrap, '--offset-json-file', file]);
      expect(beyond.status).not.toBe(0);
      expect(beyond.stderr).toContain('high watermark is 100');
      writeFileSync(file, '{"partitions":[{"topic":"trim","partition":0}]}');
      const bad = await runCliAsync(['delete-records', '--bootstrap-server', bootstrap, '--offset-json-file', file]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('"offset" must be an integer');
    } finally {
      removeDir(dir);
    }

    const earliest = await samsa.admin().listOffsets(topic, [
      { partition: 0, timestamp: 'earliest' },
      { partition: 1, timestamp: 'earliest' },
    ]);
    expect(earliest.map((o) => o.offset)).toEqual([60n, 100n]);
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    const seen: Array<{ partition: number; offset: bigint; value: string | null }> = [];
    try {
      await waitFor(
        'the 40 records left',
        async () => {
          for (const r of await consumer.poll({ maxWaitMs: 200 })) seen.push({ partition: r.partition, offset: r.offset, value: r.value });
          return seen.length >= 40;
        },
        30_000,
        0,
      );
    } finally {
      await consumer.close();
    }
    expect(seen).toHaveLength(40);
    expect(seen.every((r) => r.partition === 0)).toBe(true);
    expect(seen[0]).toEqual({ partition: 0, offset: 60n, value: 'p0-60' });
    expect(seen[39]).toEqual({ partition: 0, offset: 99n, value: 'p0-99' });
  }, 120_000);

  it("deleting a topic removes the groups' committed offsets: a re-created topic of the same name is read from its start", async () => {
    const topic = 'again';
    const group = 'g-again';
    const fill = async (values: string[]) => {
      await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 3 }]);
      await waitFor(
        `${topic} has a leader`,
        async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0),
        20_000,
        100,
      );
      const producer = samsa.producer({ value: serdes.string, acks: -1 });
      await producer.send({ topic, messages: values.map((value) => ({ partition: 0, value })) });
      await producer.close();
    };
    const consumeAll = async (count: number) => {
      const consumer = samsa.consumer({
        groupId: group,
        value: serdes.string,
        autoOffsetReset: 'earliest',
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 500,
        autoCommit: false,
      });
      consumer.subscribe(topic);
      const seen: Array<{ offset: bigint; value: string | null }> = [];
      try {
        await waitFor(
          `${count} records`,
          async () => {
            for (const r of await consumer.poll({ maxWaitMs: 200 })) seen.push({ offset: r.offset, value: r.value });
            return seen.length >= count;
          },
          60_000,
          0,
        );
        await consumer.commit();
      } finally {
        await consumer.close();
      }
      return seen;
    };

    await fill(Array.from({ length: 10 }, (_, i) => `old-${i}`));
    expect((await consumeAll(10)).map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => `old-${i}`));
    expect((await samsa.admin().fetchOffsets(group)).filter((o) => o.topic === topic)).toEqual([
      expect.objectContaining({ topic, partition: 0, offset: 10n }),
    ]);

    await samsa.admin().deleteTopics([topic]);
    // The coordinator writes tombstones for the deleted topic's offsets.
    await waitFor(
      'the committed offsets gone',
      async () => (await samsa.admin().fetchOffsets(group)).every((o) => o.topic !== topic || o.offset < 0n),
      30_000,
      200,
    );
    const described = await runCliAsync(['groups', '--bootstrap-server', bootstrap, '--describe', '--group', group]);
    expect(described.status).toBe(0);

    // Re-created with 3 records: without the removal the group would resume at the stale offset 10 and see none of them.
    await fill(['new-0', 'new-1', 'new-2']);
    const again = await consumeAll(3);
    expect(again).toEqual([
      { offset: 0n, value: 'new-0' },
      { offset: 1n, value: 'new-1' },
      { offset: 2n, value: 'new-2' },
    ]);
  }, 180_000);

  it('an idle topic is emptied by a short retention.ms: the log start moves to the end and new records follow', async () => {
    const topic = 'idle';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 3, configs: { 'retention.ms': '2000' } }]);
    await waitFor(
      `${topic} has a leader`,
      async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `v${i}` })) });
    // All 20 records sit in the one (active) segment; once older than 2 s they all go.
    await waitFor(
      'the log start at the log end',
      async () => {
        const [earliest, latest] = await samsa.admin().listOffsets(topic, [
          { partition: 0, timestamp: 'earliest' },
          { partition: 0, timestamp: 'latest' },
        ]);
        return earliest!.offset === 20n && latest!.offset === 20n;
      },
      60_000,
      250,
    );
    await producer.send({ topic, messages: [{ partition: 0, value: 'after' }] });
    await producer.close();
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([{ topic, partition: 0 }]);
    try {
      const first = await waitFor(
        'the record written after the expiry',
        async () => (await consumer.poll({ maxWaitMs: 200 }))[0],
        30_000,
        0,
      );
      expect({ offset: first.offset, value: first.value }).toEqual({ offset: 20n, value: 'after' });
    } finally {
      await consumer.close();
    }
  }, 120_000);

  it('auto-creates a topic a producer sends to (num.partitions, default.replication.factor), by the SDK and by samsa produce', async () => {
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    try {
      const sent = await producer.send({ topic: 'made-by-send', messages: [{ value: 'first' }] });
      expect(sent[0]!.offset).toBe(0n);
    } finally {
      await producer.close();
    }
    const [made] = await samsa.admin().describeTopics(['made-by-send']);
    expect(made!.partitions).toHaveLength(2);
    expect(made!.partitions.every((p) => p.replicas.length === 3)).toBe(true);

    const cli = await runCliAsync(['produce', '--bootstrap-server', bootstrap, '--topic', 'made-by-cli'], { input: 'a\nb\n' });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const [byCli] = await samsa.admin().describeTopics(['made-by-cli']);
    expect(byCli!.partitions).toHaveLength(2);

    // A producer that does not allow it creates nothing: the broker answers UNKNOWN_TOPIC_OR_PARTITION, not LEADER_NOT_AVAILABLE.
    const refusing = samsa.producer({ allowAutoTopicCreation: false, maxBlockMs: 1_000 });
    try {
      await expect(refusing.partitionsFor('never-made')).rejects.toBeInstanceOf(MaxBlockTimeoutError);
    } finally {
      await refusing.close();
    }
    await expect(samsa.admin().describeTopics(['never-made'])).rejects.toBeInstanceOf(UnknownTopicOrPartitionError);
  }, 120_000);

  it('groups --delete-offsets removes committed offsets, refused with GROUP_SUBSCRIBED_TO_TOPIC while the group consumes the topic', async () => {
    const topic = 'forget';
    const group = 'g-forget';
    await samsa.admin().createTopics([{ topic, numPartitions: 2, replicationFactor: 3 }]);
    await waitFor(
      `${topic} has leaders`,
      async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    for (let p = 0; p < 2; p++) await producer.send({ topic, messages: [0, 1, 2].map((i) => ({ partition: p, value: `p${p}-${i}` })) });
    await producer.close();
    const consumer = samsa.consumer({
      groupId: group,
      value: serdes.string,
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
    });
    consumer.subscribe(topic);
    const cmd = ['groups', '--bootstrap-server', bootstrap, '--delete-offsets', '--group', group, '--topic', topic];
    const committed = async () => (await samsa.admin().fetchOffsets(group)).filter((o) => o.topic === topic && o.offset >= 0n).length;
    try {
      let seen = 0;
      await waitFor(
        'the 6 records consumed',
        async () => {
          seen += (await consumer.poll({ maxWaitMs: 200 })).length;
          return seen >= 6;
        },
        60_000,
        0,
      );
      await consumer.commit();
      expect(await committed()).toBe(2);

      const refused = await runCliAsync(cmd);
      expect(refused.status).not.toBe(0);
      expect(refused.stdout).toContain('GROUP_SUBSCRIBED_TO_TOPIC');
      expect(await committed()).toBe(2);
    } finally {
      await consumer.close();
    }
    // The member left: the group is empty and its offsets of the topic can go, partition 0 by the SDK first.
    const [one] = await samsa.admin().deleteOffsets(group, [{ topic, partition: 0 }]);
    expect(one!.error).toBeUndefined();
    expect(await committed()).toBe(1);
    const deleted = await runCliAsync(cmd);
    expect(deleted.stderr).toBe('');
    expect(deleted.status).toBe(0);
    expect(deleted.stdout).toContain(`Request succeed for deleting offsets with topic ${topic} group ${group}`);
    expect(deleted.stdout.match(/Successful/g)).toHaveLength(2);
    expect(await committed()).toBe(0);
  }, 120_000);

  it("acks=0: after a leader move the SDK learns from the old leader's error answer and sends to the new leader", async () => {
    const topic = 'noack';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 3 }]);
    const partitionOf = async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions[0]!;
    const first = await waitFor(
      `${topic} has a leader`,
      async () => {
        const p = await partitionOf();
        return p.leader >= 0 ? p : undefined;
      },
      20_000,
      100,
    );
    const oldLeader: ClusterNode = cluster.brokers.find((b) => b.nodeId === first.leader)!;
    const latest = async () => (await samsa.admin().listOffsets(topic, [{ partition: 0, timestamp: 'latest' }]))[0]!.offset;

    // Kafka's default metadata.max.age.ms (5 min): only the error answer can make this client look again in time.
    const client = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000 });
    const producer = client.producer({ value: serdes.string, acks: 0, lingerMs: 0 });
    try {
      const before = await producer.send({ topic, messages: [{ partition: 0, value: 'before' }] });
      expect(before[0]!.offset).toBe(-1n); // acks=0: no offset, no wait
      await waitFor('the first record written', async () => (await latest()) === 1n, 20_000, 100);

      // Move the leadership away while this client sends nothing, then bring the old leader back as a follower.
      await cluster.kill(oldLeader, 'SIGTERM');
      await waitFor(
        'a new leader',
        async () => {
          const p = await partitionOf();
          return p.leader >= 0 && p.leader !== oldLeader.nodeId;
        },
        30_000,
        200,
      );
      await cluster.start(oldLeader);
      await waitFor('the old leader back in the ISR', async () => (await partitionOf()).isr.includes(oldLeader.nodeId), 60_000, 200);
      expect((await partitionOf()).leader).not.toBe(oldLeader.nodeId);

      // The cached leader is the old one, alive and a follower now. Each send goes without waiting;
      // its NOT_LEADER_OR_FOLLOWER answer marks the metadata stale, so a later send reaches the new leader.
      let n = 0;
      await waitFor(
        'an acks=0 record on the new leader',
        async () => {
          await producer.send({ topic, messages: [{ partition: 0, value: `probe-${n++}` }] });
          return (await latest()) > 1n;
        },
        30_000,
        200,
      );
      const base = await latest();
      for (let i = 0; i < 50; i++) await producer.send({ topic, messages: [{ partition: 0, value: `after-${i}` }] });
      await producer.flush();
      await waitFor('the 50 records after the move', async () => (await latest()) >= base + 50n, 30_000, 100);
    } finally {
      await producer.close();
      await client.close();
    }
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([{ topic, partition: 0 }]);
    const values: string[] = [];
    try {
      await waitFor(
        'every record after the move read back',
        async () => {
          for (const r of await consumer.poll({ maxWaitMs: 200 })) values.push(r.value!);
          return values.filter((v) => v.startsWith('after-')).length >= 50;
        },
        30_000,
        0,
      );
    } finally {
      await consumer.close();
    }
    expect(values[0]).toBe('before');
    expect(values.filter((v) => v.startsWith('after-'))).toEqual(Array.from({ length: 50 }, (_, i) => `after-${i}`));
  }, 180_000);
});
