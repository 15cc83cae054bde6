/**
 * Transactions with the Samsa SDK over gRPC on a real cluster (one controller, three brokers;
 * `__transaction_state` RF 3): a transaction across two topics plus sendOffsets is invisible to a
 * read_committed SDK consumer (and its offsets to the group) before the commit and whole after; an
 * aborted one is never seen by read_committed (which reads past it to a later committed record)
 * but is seen by read_uncommitted; a second producer with the same transactionalId fences the
 * first, whose commit fails with ProducerFencedError and whose records are aborted; `samsa
 * transactions --abort --topic --partition --start-offset` (DescribeProducers, then
 * WriteTxnMarkers at the leader) aborts a hanging transaction so read_committed readers get past it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProducerFencedError, Samsa, serdes, type Consumer } from '@samsa/client';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { runCliAsync } from './helpers/processes.js';

describe('SDK transactions over gRPC', () => {
  let cluster: TestCluster;
  let samsa: Samsa;

  beforeAll(async () => {
    // Sessions of 6 s, as in the KafkaJS transactions test: creating __transaction_state on a loaded
    // 2-core machine starved shorter ones.
    cluster = await startCluster({ controllers: 1, brokers: 3, heartbeatIntervalMs: 500, sessionTimeoutMs: 6_000 });
    samsa = new Samsa({ brokers: cluster.bootstrap, retry: { retries: 15, initialRetryTimeMs: 100, maxRetryTimeMs: 2_000 } });
    await samsa.admin().createTopics(
      ['sdk-a:2', 'sdk-b:1', 'sdk-in:1', 'sdk-abort:1', 'sdk-zombie:1', 'sdk-hang:1'].map((s) => {
        const [topic, n] = s.split(':');
        return { topic: topic!, numPartitions: Number(n), replicationFactor: 3 };
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  function reader(readCommitted: boolean, topics: Array<{ topic: string; partition: number }>): Consumer<Buffer | null, string | null> {
    const c = samsa.consumer<Buffer | null, string | null>({
      value: serdes.string,
      isolationLevel: readCommitted ? 'read_committed' : 'read_uncommitted',
      autoOffsetReset: 'earliest',
      maxWaitMs: 200,
    });
    c.assign(topics);
    return c;
  }

  /** Polls until `done(values)` holds (at most 60 s). */
  async function readUntil(c: Consumer<Buffer | null, string | null>, done: (values: string[]) => boolean): Promise<string[]> {
    const values: string[] = [];
    await waitFor(
      'the consumer to read the expected records',
      async () => {
        for (const r of await c.poll()) values.push(r.value ?? '');
        return done(values);
      },
      60_000,
      0,
    );
    return values;
  }

  it('a committed transaction across two topics with offsets is invisible before the commit and whole after', async () => {
    const producer = samsa.producer<Buffer | null, string | null>({ value: serdes.string, transactionalId: 'sdk-tx-commit', lingerMs: 0 });
    await producer.initTransactions();
    producer.beginTransaction();
    const sent = await Promise.all([
      producer.send({ topic: 'sdk-a', messages: [{ value: 'a0', partition: 0 }] }),
      producer.send({ topic: 'sdk-a', messages: [{ value: 'a1', partition: 1 }] }),
      producer.send({ topic: 'sdk-b', messages: [{ value: 'b0', partition: 0 }] }),
    ]);
    expect(sent.flat()).toHaveLength(3);
    await producer.sendOffsetsToTransaction({ consumerGroupId: 'sdk-txn-group', offsets: [{ topic: 'sdk-in', partition: 0, offset: 7n }] });

    const tps = [
      { topic: 'sdk-a', partition: 0 },
      { topic: 'sdk-a', partition: 1 },
      { topic: 'sdk-b', partition: 0 },
    ];
    // The records are written (acks=all answered, and read_uncommitted sees them) ...
    const uncommitted = reader(false, tps);
    expect((await readUntil(uncommitted, (v) => v.length >= 3)).sort()).toEqual(['a0', 'a1', 'b0']);
    await uncommitted.close();
    // ... but a read_committed fetch stops at the last stable offset, before them, and the offsets
    // are pending in the group.
    const committed = reader(true, tps);
    for (let i = 0; i < 3; i++) expect(await committed.poll({ maxWaitMs: 300 })).toEqual([]);
    for (const tp of tps) expect(committed.position(tp)).toBe(0n);
    const before = await samsa.admin().fetchOffsets('sdk-txn-group', ['sdk-in']);
    expect(before.filter((o) => o.offset >= 0n)).toEqual([]);
    // KIP-447 require_stable: a read_committed group member is told the offset is unstable (and
    // retries) instead of reading the offset before the transaction; a read_uncommitted one is not.
    const inTp = [{ topic: 'sdk-in', partition: 0 }];
    const member = (isolationLevel: 'read_committed' | 'read_uncommitted') =>
      samsa.consumer({ groupId: 'sdk-txn-group', isolationLevel, retry: { retries: 1, initialRetryTimeMs: 50, maxRetryTimeMs: 100 } });
    const stable = member('read_committed');
    await expect(stable.committedOffsets(inTp)).rejects.toMatchObject({ errorName: 'UNSTABLE_OFFSET_COMMIT' });
    const unstable = member('read_uncommitted');
    expect((await unstable.committedOffsets(inTp)).get('sdk-in-0')).toBe(-1n);

    await producer.commitTransaction();
    expect(producer.transactionState).toBe('READY');
    expect((await readUntil(committed, (v) => v.length >= 3)).sort()).toEqual(['a0', 'a1', 'b0']);
    await committed.close();
    await waitFor(
      'the transactional offset to become visible',
      async () => (await samsa.admin().fetchOffsets('sdk-txn-group', ['sdk-in'])).some((o) => o.partition === 0 && o.offset === 7n),
      30_000,
      100,
    );
    await waitFor(
      'the stable offset for a read_committed member',
      async () => ((await stable.committedOffsets(inTp).catch(() => new Map())).get('sdk-in-0') === 7n ? true : undefined),
      30_000,
      100,
    );
    await stable.close();
    await unstable.close();
    await producer.close();
  }, 180_000);

  it('an aborted transaction is never seen by read_committed and is seen by read_uncommitted', async () => {
    const producer = samsa.producer<Buffer | null, string | null>({ value: serdes.string, transactionalId: 'sdk-tx-abort', lingerMs: 0 });
    const txn = await producer.transaction();
    await txn.send({ topic: 'sdk-abort', messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await txn.abort();
    expect(producer.transactionState).toBe('READY');
    // A later committed record: read_committed reads past the aborted ones to reach it.
    producer.beginTransaction();
    await producer.send({ topic: 'sdk-abort', messages: [{ value: 'after' }] });
    await producer.commitTransaction();

    const tp = [{ topic: 'sdk-abort', partition: 0 }];
    const committed = reader(true, tp);
    expect(await readUntil(committed, (v) => v.includes('after'))).toEqual(['after']);
    await committed.close();
    const uncommitted = reader(false, tp);
    expect(await readUntil(uncommitted, (v) => v.includes('after'))).toEqual(['aborted-1', 'aborted-2', 'after']);
    await uncommitted.close();
    await producer.close();
  }, 180_000);

  it('a second producer with the same transactionalId fences the first', async () => {
    const zombie = samsa.producer<Buffer | null, string | null>({ value: serdes.string, transactionalId: 'sdk-tx-zombie', lingerMs: 0 });
    await zombie.initTransactions();
    zombie.beginTransaction();
    await zombie.send({ topic: 'sdk-zombie', messages: [{ value: 'zombie-1' }] });

    // The new producer's InitProducerId bumps the epoch and aborts the zombie's open transaction.
    const winner = samsa.producer<Buffer | null, string | null>({ value: serdes.string, transactionalId: 'sdk-tx-zombie', lingerMs: 0 });
    await winner.initTransactions();

    await expect(zombie.commitTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
    expect(zombie.transactionState).toBe('FATAL_ERROR');
    expect(() => zombie.beginTransaction()).toThrow(ProducerFencedError);

    winner.beginTransaction();
    await winner.send({ topic: 'sdk-zombie', messages: [{ value: 'winner' }] });
    await winner.commitTransaction();

    const committed = reader(true, [{ topic: 'sdk-zombie', partition: 0 }]);
    expect(await readUntil(committed, (v) => v.includes('winner'))).toEqual(['winner']);
    await committed.close();
    await zombie.close();
    await winner.close();
  }, 180_000);

  it('samsa transactions --abort ends a hanging transaction found by its start offset', async () => {
    // A transaction left open (its producer never commits; the coordinator would abort it only
    // after the ten-minute timeout).
    const hanging = samsa.producer<Buffer | null, string | null>({
      value: serdes.string,
      transactionalId: 'sdk-tx-hang',
      transactionTimeoutMs: 600_000,
      lingerMs: 0,
    });
    await hanging.initTransactions();
    hanging.beginTransaction();
    const [written] = await hanging.send({ topic: 'sdk-hang', messages: [{ value: 'hanging' }] });
    expect(written!.offset).toBe(0n);
    const [open] = (await samsa.admin().describeProducers('sdk-hang', 0)).filter((p) => p.currentTransactionStartOffset !== undefined);
    expect(open?.currentTransactionStartOffset).toBe(0n);

    const bootstrap = cluster.bootstrap.join(',');
    const missing = await runCliAsync([
      'transactions',
      '--bootstrap-server',
      bootstrap,
      '--abort',
      '--topic',
      'sdk-hang',
      '--partition',
      '0',
      '--start-offset',
      '5',
    ]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('no open transaction starts at offset 5');
    const r = await runCliAsync([
      'transactions',
      '--bootstrap-server',
      bootstrap,
      '--abort',
      '--topic',
      'sdk-hang',
      '--partition',
      '0',
      '--start-offset',
      '0',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`aborted the transaction of producer ${open!.producerId}`);
    expect((await samsa.admin().describeProducers('sdk-hang', 0)).filter((p) => p.currentTransactionStartOffset !== undefined)).toEqual([]);

    // A later record: read_committed reads it, past the aborted one.
    const plain = samsa.producer<Buffer | null, string | null>({ value: serdes.string, lingerMs: 0 });
    await plain.send({ topic: 'sdk-hang', messages: [{ value: 'later' }] });
    const committed = reader(true, [{ topic: 'sdk-hang', partition: 0 }]);
    expect(await readUntil(committed, (v) => v.includes('later'))).toEqual(['later']);
    await committed.close();
    await plain.close();
    await hanging.close();
  }, 180_000);
});
