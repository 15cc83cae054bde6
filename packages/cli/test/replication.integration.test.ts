/**
 * Replication with real processes: 3 controllers and 3 brokers as child processes, RF=3,
 * min.insync.replicas=2, acks=all. A SIGKILLed leader loses no acknowledged write; replicas hold
 * the same bytes below the high watermark; with two of three replicas down acks=all is refused
 * (NOT_ENOUGH_REPLICAS) while acks=1 still works, and once they return they catch up and rejoin
 * the ISR. Prints the failover and catch-up times.
 */
import { NotEnoughReplicasError, Samsa, serdes } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type ClusterNode, type TestCluster } from './helpers/cluster.js';
import { committedBytes, produceAll, readAll } from './helpers/records.js';

const SESSION_TIMEOUT_MS = 2_000;
const REPLICA_LAG_TIME_MAX_MS = 1_000;

describe('replication between broker processes', () => {
  let cluster: TestCluster;
  let samsa: Samsa;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 3,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      brokerArgs: ['--replica-lag-time-max-ms', String(REPLICA_LAG_TIME_MAX_MS)],
    });
    // Quick retries: a produce to a killed leader is retried until the controller fences it.
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

  const partitionsOf = async (topic: string) => (await samsa.admin().describeTopics([topic]))[0]!.partitions;
  const brokerById = (id: number): ClusterNode => cluster.brokers.find((b) => b.nodeId === id)!;

  it('loses no acknowledged write when the leader is SIGKILLed; replicas match byte for byte below the HW', async () => {
    const topic = 'replicated';
    const partitions = 3;
    await samsa.admin().createTopics([{ topic, numPartitions: partitions, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const producer = samsa.producer({ value: serdes.string, acks: -1, timeoutMs: 5_000, deliveryTimeoutMs: 30_000 });
    const acked = new Map<string, string>();
    await produceAll(
      producer,
      topic,
      Array.from({ length: 600 }, (_, i) => `before-${i}`),
      partitions,
      acked,
    );

    // (A follower slowed by a loaded machine may have dropped out for a moment; it comes back.)
    const before = await waitFor(
      'a full ISR everywhere',
      async () => {
        const now = await partitionsOf(topic);
        return now.every((p) => p.isr.length === 3) ? now : undefined;
      },
      10_000,
      100,
    );
    const victim = brokerById(before[0]!.leader);

    // Writers on every partition keep going across the kill: whatever they were acknowledged must survive.
    let stop = false;
    let killedAt = Infinity;
    let failoverAt = Infinity;
    const failures: unknown[] = [];
    const writers = Array.from({ length: partitions }, async (_, partition) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const value = `live-${partition}-${i}`;
        try {
          const [meta] = await producer.send({ topic, messages: [{ value, partition }] });
          acked.set(`${meta!.partition}@${meta!.offset}`, value);
          if (partition === 0 && Date.now() > killedAt && failoverAt === Infinity) failoverAt = Date.now();
        } catch (err) {
          failures.push(err);
        }
      }
    });
    // The writers are under way (live writes acknowledged) when the leader dies.
    const ackedBefore = acked.size;
    await waitFor('live writes acknowledged before the kill', () => acked.size >= ackedBefore + 30, 20_000, 10);
    killedAt = Date.now();
    await cluster.kill(victim);
    // Partition 0 takes acks=all writes again once a new leader is elected from the ISR and replicates them.
    await waitFor('an acknowledged write to partition 0 after the kill', () => failoverAt !== Infinity || undefined, 20_000, 20);
    const failoverMs = failoverAt - killedAt;
    // And they keep going on the new leader for a while.
    const ackedAtFailover = acked.size;
    await waitFor('live writes acknowledged after the failover', () => acked.size >= ackedAtFailover + 30, 20_000, 10);
    stop = true;
    await Promise.all(writers);
    expect(failures).toEqual([]);
    await produceAll(
      producer,
      topic,
      Array.from({ length: 300 }, (_, i) => `after-${i}`),
      partitions,
      acked,
    );
    const during = await partitionsOf(topic);
    expect(during[0]!.leader).not.toBe(victim.nodeId);
    expect(during[0]!.leaderEpoch).toBeGreaterThan(before[0]!.leaderEpoch);

    const t1 = Date.now();
    await cluster.start(victim);
    const restartedMs = Date.now() - t1;
    await waitFor(
      'the restarted broker to rejoin every ISR',
      async () => (await partitionsOf(topic)).every((p) => p.isr.includes(victim.nodeId)),
      30_000,
      100,
    );
    const rejoinedMs = Date.now() - t1;
    console.log(
      `${acked.size} acknowledged records; leader failover: broker ${victim.nodeId} SIGKILLed under load; first acks=all write to its partition acknowledged ${failoverMs} ms later ` +
        `(session timeout ${SESSION_TIMEOUT_MS} ms); after a restart (${restartedMs} ms to start) it rejoined every ISR ${rejoinedMs} ms after the restart began`,
    );

    const stored = await readAll(samsa, topic, partitions);
    const missing = [...acked].filter(([at, value]) => stored.get(at) !== value);
    expect(missing).toEqual([]);
    expect(acked.size).toBeGreaterThan(900);

    // Every replica holds the same bytes below the HW (the restarted one included).
    const ends = await samsa.admin().listOffsets(
      topic,
      Array.from({ length: partitions }, (_, partition) => ({ partition, timestamp: 'latest' as const })),
    );
    for (const { partition, offset: highWatermark } of ends) {
      expect(highWatermark).toBeGreaterThan(0n);
      // A follower's files can trail the leader's HW by a fetch: wait until each holds it all.
      await waitFor(
        `replicas of ${topic}-${partition} to hold everything below ${highWatermark}`,
        () => {
          const copies = cluster.brokers.map((b) => committedBytes(b, topic, partition, highWatermark));
          return copies.every((c) => c.equals(copies[0]!) && c.length > 0) || undefined;
        },
        10_000,
        100,
      );
    }
  }, 90_000);

  it('with two of three replicas down acks=all answers NOT_ENOUGH_REPLICAS and acks=1 works; they catch up and rejoin', async () => {
    const topic = 'min-isr';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const all = samsa.producer({ value: serdes.string, acks: -1, timeoutMs: 5_000, deliveryTimeoutMs: 30_000 });
    const acked = new Map<string, string>();
    await produceAll(
      all,
      topic,
      Array.from({ length: 90 }, (_, i) => `three-${i}`),
      1,
      acked,
    );

    const leaderId = (await partitionsOf(topic))[0]!.leader;
    const down = cluster.brokers.filter((b) => b.nodeId !== leaderId);
    const t0 = Date.now();
    await Promise.all(down.map((b) => cluster.kill(b)));
    // acks=1 needs only the leader; the write also leaves the dead followers behind the leader's
    // LEO, so the leader sees them lag (an idle partition's followers count as caught up, as in Kafka).
    const one = samsa.producer({ value: serdes.string, acks: 1, deliveryTimeoutMs: 30_000 });
    const [alone] = await one.send({ topic, messages: [{ value: 'acks=1 while two are down' }] });
    acked.set(`0@${alone!.offset}`, 'acks=1 while two are down');
    await waitFor(
      'the ISR to shrink to the leader',
      async () => {
        const [p] = await partitionsOf(topic);
        return p!.leader === leaderId && p!.isr.length === 1;
      },
      15_000,
      100,
    );
    const shrinkMs = Date.now() - t0;
    // Whichever came first: the leader dropping them after replica.lag.time.max.ms, or the controller fencing them.
    const byLeader = brokerById(leaderId)
      .output.split('\n')
      .some((line) => line.includes('shrinking the ISR') && line.includes(`"${topic}-0"`));

    const strict = samsa.producer({ value: serdes.string, acks: -1, timeoutMs: 5_000, retries: 0 });
    const refused = await strict.send({ topic, messages: [{ value: 'refused' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NotEnoughReplicasError);
    const [written] = await one.send({ topic, messages: [{ value: 'acks=1 alone' }] });
    acked.set(`0@${written!.offset}`, 'acks=1 alone');

    const t1 = Date.now();
    await Promise.all(down.map((b) => cluster.start(b)));
    await waitFor('both to rejoin the ISR', async () => (await partitionsOf(topic))[0]!.isr.length === 3, 30_000, 100);
    const rejoinMs = Date.now() - t1;
    await produceAll(
      all,
      topic,
      Array.from({ length: 30 }, (_, i) => `again-${i}`),
      1,
      acked,
    );
    console.log(
      `min.insync.replicas: ISR shrank to the leader ${shrinkMs} ms after two SIGKILLs ` +
        `(${byLeader ? `the leader's AlterPartition, replica.lag.time.max.ms=${REPLICA_LAG_TIME_MAX_MS}` : 'the controller fencing them'}); ` +
        `the two rejoined the ISR ${rejoinMs} ms after their restart began; acks=all works again`,
    );

    const stored = await readAll(samsa, topic, 1);
    expect([...acked].filter(([at, value]) => stored.get(at) !== value)).toEqual([]);
    expect([...stored.values()]).not.toContain('refused');
  }, 90_000);
});
