/**
 * Transactions through the Kafka protocol with unmodified KafkaJS 2.2.4 on a real cluster (one
 * controller, three brokers; `__transaction_state` RF 3, min.insync.replicas 2): a transaction
 * with sends to three partitions of two topics plus sendOffsets is seen whole by a read_committed
 * consumer once committed, and its offsets appear only then; an aborted one is never seen by
 * read_committed and is seen by read_uncommitted (KafkaJS, and the Samsa SDK through `samsa consume
 * --isolation-level`); a second producer with the same transactional
 * id fences the first (the zombie's commit fails and its records are aborted); a transaction left
 * open by a producer that went away is aborted after its transaction.timeout.ms and the last stable
 * offset moves past it; after a SIGKILL of the coordinator's broker the new coordinator, loaded
 * from `__transaction_state`, fences and aborts the transaction left open there. A transaction
 * left open shows Ongoing with its partitions in `samsa transactions --list/--describe` (gRPC
 * ListTransactions/DescribeTransactions), with an open transaction and an LSO lag on the brokers'
 * /metrics; after the commit, CompleteCommit and no lag.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '@samsa/kafka';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { RawKafkaConnection } from './helpers/kafkaWire.js';
import { runCliAsync } from './helpers/processes.js';

describe('KafkaJS 2.2.4 transactions', () => {
  let cluster: TestCluster;
  let kafka: Kafka;
  const consumers = new Set<Consumer>();

  beforeAll(async () => {
    // A broker session of 6 s: creating __consumer_offsets and __transaction_state (100 partitions
    // x RF 3) on a loaded 2-core machine starved 2 s sessions, fencing brokers and moving the
    // coordinators mid-transaction (KafkaJS does not retry NOT_COORDINATOR on TxnOffsetCommit).
    cluster = await startCluster({ controllers: 1, brokers: 3, heartbeatIntervalMs: 500, sessionTimeoutMs: 6_000, metrics: true });
    kafka = new Kafka({
      clientId: 'kafkajs-txn-test',
      brokers: cluster.bootstrap,
      logLevel: logLevel.NOTHING,
      retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          { topic: 'txn-a', numPartitions: 2, replicationFactor: 3 },
          { topic: 'txn-b', numPartitions: 1, replicationFactor: 3 },
          { topic: 'txn-in', numPartitions: 1, replicationFactor: 3 },
          { topic: 'txn-abort', numPartitions: 1, replicationFactor: 3 },
          { topic: 'txn-zombie', numPartitions: 1, replicationFactor: 3 },
          { topic: 'txn-timeout', numPartitions: 1, replicationFactor: 3 },
          { topic: 'txn-failover', numPartitions: 1, replicationFactor: 3 },
          { topic: 'txn-observe', numPartitions: 2, replicationFactor: 3 },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await cluster?.stop();
  });

  /** Reads `topics` from the beginning until `done(values)` holds (bounded), then stops the consumer. */
  async function readUntil(
    groupId: string,
    topics: string[],
    readUncommitted: boolean,
    done: (values: string[]) => boolean,
  ): Promise<string[]> {
    const c = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 200, sessionTimeout: 6_000, heartbeatInterval: 500 });
    consumers.add(c);
    const values: string[] = [];
    await c.connect();
    for (const topic of topics) await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
      },
    });
    try {
      await waitFor(`${groupId} read what it waits for (has ${values.length})`, () => done(values), 60_000, 100);
    } finally {
      await c.disconnect();
      consumers.delete(c);
    }
    return values;
  }

  it('a committed transaction with sends and offsets is seen whole under read_committed; its offsets only after the commit', async () => {
    const producer = kafka.producer({ transactionalId: 'kjs-commit', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const txn = await producer.transaction();
      const expected: string[] = [];
      for (let i = 0; i < 6; i++) expected.push(`commit-a-${i}`);
      for (let i = 0; i < 3; i++) expected.push(`commit-b-${i}`);
      await txn.send({ topic: 'txn-a', messages: expected.slice(0, 6).map((value, i) => ({ value, partition: i % 2 })) });
      await txn.send({ topic: 'txn-b', messages: expected.slice(6).map((value) => ({ value })) });
      await txn.sendOffsets({
        consumerGroupId: 'kjs-txn-group',
        topics: [{ topic: 'txn-in', partitions: [{ partition: 0, offset: '5' }] }],
      });
      // The offsets are pending in the transaction: the group shows none yet.
      const before = await admin.fetchOffsets({ groupId: 'kjs-txn-group', topics: ['txn-in'] });
      expect(before[0]!.partitions[0]!.offset).toBe('-1');
      await txn.commit();
      const seen = await readUntil('kjs-rc-commit', ['txn-a', 'txn-b'], false, (v) => v.length >= expected.length);
      expect([...seen].sort()).toEqual([...expected].sort());
      await waitFor(
        'the committed offset is visible',
        async () => (await admin.fetchOffsets({ groupId: 'kjs-txn-group', topics: ['txn-in'] }))[0]!.partitions[0]!.offset === '5',
        20_000,
        100,
      );
    } finally {
      await admin.disconnect();
      await producer.disconnect();
    }
  }, 120_000);

  /** Every broker's samples of `metric` (`name{labels} value` lines of /metrics). */
  async function scrape(metric: string): Promise<Array<{ labels: string; value: number }>> {
    const out: Array<{ labels: string; value: number }> = [];
    for (const b of cluster.brokers) {
      if (b.metricsPort === undefined) throw new Error(`broker ${b.nodeId} has no metrics port`);
      const text = await (await fetch(`http://127.0.0.1:${b.metricsPort}/metrics`)).text();
      for (const line of text.split('\n')) {
        const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
        if (m && m[1] === metric) out.push({ labels: m[2] ?? '', value: Number(m[3]) });
      }
    }
    return out;
  }

  /** `samsa transactions ...` rows (the header dropped), split into columns. */
  async function transactionsCli(args: string[]): Promise<string[][]> {
    const r = await runCliAsync(['transactions', '--bootstrap-server', cluster.bootstrap.join(','), ...args]);
    if (r.status !== 0) throw new Error(`samsa transactions ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/));
  }

  it('samsa transactions --list/--describe and /metrics show an open transaction, then its commit', async () => {
    const producer = kafka.producer({ transactionalId: 'kjs-observe', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const txn = await producer.transaction();
      await txn.send({
        topic: 'txn-observe',
        messages: [
          { value: 'o-0', partition: 0 },
          { value: 'o-1', partition: 1 },
        ],
      });
      const listed = (await transactionsCli(['--list'])).find((r) => r[0] === 'kjs-observe');
      expect(listed?.[3]).toBe('Ongoing');
      const [described] = await transactionsCli(['--describe', '--transactional-id', 'kjs-observe']);
      // CoordinatorId TransactionalId ProducerId ProducerEpoch TransactionState TransactionTimeoutMs Start Duration TopicPartitions
      expect(described?.slice(1, 2)).toEqual(['kjs-observe']);
      expect(described?.[0]).toBe(listed?.[1]);
      expect(described?.[2]).toBe(listed?.[2]);
      expect(described?.[4]).toBe('Ongoing');
      expect(Number(described?.[6])).toBeGreaterThan(0);
      expect(described?.[8]?.split(',').sort()).toEqual(['txn-observe-0', 'txn-observe-1']);

      const open = async () => (await scrape('samsa_txn_coordinator_open_transactions')).reduce((n, s) => n + s.value, 0);
      const ongoing = async () =>
        (await scrape('samsa_txn_coordinator_transactions'))
          .filter((s) => s.labels.includes('state="Ongoing"'))
          .reduce((n, s) => n + s.value, 0);
      const lag = async (partition: number) =>
        // Series carry the node's default labels (node_id) after topic and partition.
        (await scrape('samsa_broker_partition_lso_lag')).filter((s) =>
          s.labels.startsWith(`{topic="txn-observe",partition="${partition}"`),
        );
      expect(await open()).toBeGreaterThanOrEqual(1);
      expect(await ongoing()).toBeGreaterThanOrEqual(1);
      // The leader's high watermark passes the open transaction's record once replicated.
      const lagIs = async (want: number) => {
        const seen = [await lag(0), await lag(1)];
        // Thrown, so a timeout says what the brokers showed.
        if (!seen.every((l) => l.length === 1 && l[0]!.value === want)) throw new Error(`LSO lag samples ${JSON.stringify(seen)}`);
        return true;
      };
      await waitFor('an LSO lag of 1 on both partitions', () => lagIs(1), 20_000, 200);
      // Each partition's leader has this producer's transaction open (one per partition).
      const openOn = async (want: number) => {
        const samples = await scrape('samsa_broker_partition_open_transactions');
        const seen = [0, 1].map((partition) => samples.filter((s) => s.labels.startsWith(`{topic="txn-observe",partition="${partition}"`)));
        if (!seen.every((l) => l.length === 1 && l[0]!.value === want)) throw new Error(`open transaction samples ${JSON.stringify(seen)}`);
        return true;
      };
      expect(await openOn(1)).toBe(true);

      await txn.commit();
      await waitFor(
        'the listing shows the commit',
        async () => (await transactionsCli(['--list'])).find((r) => r[0] === 'kjs-observe')?.[3] === 'CompleteCommit',
        20_000,
        200,
      );
      const [after] = await transactionsCli(['--describe', '--transactional-id', 'kjs-observe']);
      expect(after?.[4]).toBe('CompleteCommit');
      // The marker is one more offset on each partition; the LSO follows the high watermark to it.
      await waitFor('no LSO lag once the markers are replicated', () => lagIs(0), 20_000, 200);
      // The COMMIT marker on each partition closes the transaction there.
      await waitFor('no open transaction on either partition after the commit', () => openOn(0), 20_000, 200);
      expect(await ongoing()).toBe(0);
    } finally {
      await producer.disconnect();
    }
  }, 120_000);

  it('an aborted transaction is not seen under read_committed and is seen under read_uncommitted', async () => {
    const producer = kafka.producer({ transactionalId: 'kjs-abort', idempotent: true, maxInFlightRequests: 1 });
    const plain = kafka.producer();
    await producer.connect();
    await plain.connect();
    try {
      const txn = await producer.transaction();
      const aborted = ['abort-0', 'abort-1', 'abort-2'];
      await txn.send({ topic: 'txn-abort', messages: aborted.map((value) => ({ value })) });
      await txn.abort();
      // A later committed transaction and a plain record: both readers must get past the aborted one.
      const txn2 = await producer.transaction();
      await txn2.send({ topic: 'txn-abort', messages: [{ value: 'kept-in-txn' }] });
      await txn2.commit();
      await plain.send({ topic: 'txn-abort', messages: [{ value: 'sentinel' }] });

      const committed = await readUntil('kjs-rc-abort', ['txn-abort'], false, (v) => v.includes('sentinel'));
      expect(committed).toEqual(['kept-in-txn', 'sentinel']);
      const uncommitted = await readUntil('kjs-ru-abort', ['txn-abort'], true, (v) => v.includes('sentinel'));
      expect(uncommitted).toEqual([...aborted, 'kept-in-txn', 'sentinel']);

      // The Samsa SDK (gRPC Fetch) through `samsa consume --isolation-level`.
      const consume = (level: string, max: number) =>
        runCliAsync([
          'consume',
          '--bootstrap-server',
          cluster.bootstrap[0]!,
          '--topic',
          'txn-abort',
          '--from-beginning',
          '--isolation-level',
          level,
          '--max-messages',
          String(max),
          '--timeout-ms',
          '20000',
        ]);
      const rc = await consume('read_committed', 2);
      expect(rc.status).toBe(0);
      expect(rc.stdout.trim().split('\n')).toEqual(['kept-in-txn', 'sentinel']);
      const ru = await consume('read_uncommitted', 5);
      expect(ru.status).toBe(0);
      expect(ru.stdout.trim().split('\n')).toEqual([...aborted, 'kept-in-txn', 'sentinel']);
    } finally {
      await plain.disconnect();
      await producer.disconnect();
    }
  }, 120_000);

  it('a second producer with the same transactional id fences the first: the zombie cannot commit and its records are aborted', async () => {
    const zombie = kafka.producer({ transactionalId: 'kjs-zombie', idempotent: true, maxInFlightRequests: 1 });
    const successor = kafka.producer({ transactionalId: 'kjs-zombie', idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    try {
      const old = await zombie.transaction();
      await old.send({ topic: 'txn-zombie', messages: [{ value: 'zombie' }] });
      // KafkaJS sends InitProducerId at its first transaction(): the coordinator aborts the
      // zombie's open transaction with a bumped epoch before it answers.
      await successor.connect();
      const txn = await successor.transaction();
      const err = await old.commit().then(
        () => undefined,
        (e: unknown) => e as { type?: string },
      );
      expect(err).toBeDefined();
      expect(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']).toContain(err!.type);
      await txn.send({ topic: 'txn-zombie', messages: [{ value: 'successor' }] });
      await txn.commit();
      const seen = await readUntil('kjs-rc-zombie', ['txn-zombie'], false, (v) => v.includes('successor'));
      expect(seen).toEqual(['successor']);
    } finally {
      await zombie.disconnect().catch(() => undefined);
      await successor.disconnect();
    }
  }, 120_000);

  it('a transaction left open is aborted after its timeout and read_committed readers get past it', async () => {
    const abandoned = kafka.producer({
      transactionalId: 'kjs-timeout',
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 2_000,
    });
    const plain = kafka.producer();
    await abandoned.connect();
    await plain.connect();
    try {
      const txn = await abandoned.transaction();
      await txn.send({ topic: 'txn-timeout', messages: [{ value: 'left-open' }] });
      // The producer goes away without ending its transaction.
      await abandoned.disconnect();
      await plain.send({ topic: 'txn-timeout', messages: [{ value: 'after' }] });
      // Until the coordinator aborts it (timeout 2 s, checked every 10 s) the LSO stays at 'left-open'.
      const seen = await readUntil('kjs-rc-timeout', ['txn-timeout'], false, (v) => v.includes('after'));
      expect(seen).toEqual(['after']);
    } finally {
      await plain.disconnect();
    }
  }, 120_000);

  // Last: it kills a broker.
  it('the coordinator broker is SIGKILLed with a transaction open: the new coordinator loads it from the log and aborts it when a successor fences the producer', async () => {
    const id = 'kjs-failover';
    const raw = await RawKafkaConnection.connect(cluster.brokers[0]!.port);
    let coordinatorId = -1;
    try {
      let correlation = 1;
      await waitFor(
        'the transaction coordinator of kjs-failover',
        async () => {
          const r = await raw.request<{ coordinators: Array<{ errorCode: number; nodeId: number }> }>(
            ApiKey.FindCoordinator,
            4,
            correlation++,
            {
              keyType: 1,
              coordinatorKeys: [id],
            },
          );
          coordinatorId = r.coordinators[0]!.nodeId;
          return r.coordinators[0]!.errorCode === 0 || undefined;
        },
        30_000,
        200,
      );
    } finally {
      raw.close();
    }
    const zombie = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    const txn = await zombie.transaction();
    await txn.send({ topic: 'txn-failover', messages: [{ value: 'open-at-kill' }] });
    const coordinator = cluster.brokers.find((b) => b.nodeId === coordinatorId)!;
    await cluster.kill(coordinator, 'SIGKILL');
    await zombie.disconnect().catch(() => undefined);

    const successor = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await successor.connect();
    try {
      const next = await successor.transaction();
      await next.send({ topic: 'txn-failover', messages: [{ value: 'after-failover' }] });
      await next.commit();
      const seen = await readUntil('kjs-rc-failover', ['txn-failover'], false, (v) => v.includes('after-failover'));
      expect(seen).toEqual(['after-failover']);
    } finally {
      await successor.disconnect();
    }
  }, 180_000);
});
