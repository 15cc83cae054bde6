/**
 * The transactional producer's client half (producer/transactionManager.ts, Kafka's
 * TransactionManager) against the fake cluster, whose transactional RPCs answer NONE unless a hook
 * says otherwise (the coordinator's rules are tested in packages/broker): the state machine (no
 * send outside a transaction, commit flushes before EndTxn, abort discards what was not sent,
 * fencing is fatal), the RPCs and their order, and the transactional bit on batches.
 */
import { ErrorCode, readBatchHeader } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { InvalidTxnStateError, ProducerFencedError, Samsa, TransactionAbortedError, seededRandom } from '../src/index.js';
import type { GroupsConnection } from '../src/index.js';
import { FakeCluster, ManualClock } from './fakes.js';

interface GroupCall {
  method: string;
  request: any;
}

/** FindCoordinator (both key types) answers broker 1; TxnOffsetCommit answers NONE. */
function fakeGroups(fake: FakeCluster, calls: GroupCall[]) {
  return (address: string): GroupsConnection =>
    ({
      address,
      findCoordinator(r: { keyType: number; key: string }) {
        calls.push({ method: 'findCoordinator', request: r });
        const [host, port] = fake.addressOf(1).split(':');
        return Promise.resolve({ errorCode: 0, errorMessage: '', nodeId: 1, host: host!, port: Number(port) });
      },
      txnOffsetCommit(r: any) {
        calls.push({ method: 'txnOffsetCommit', request: r });
        return Promise.resolve({
          topics: r.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: any) => ({ partition: p.partition, errorCode: 0, errorMessage: '' })),
          })),
        });
      },
      close() {},
    }) as unknown as GroupsConnection;
}

function setup(initialRetryTimeMs = 10) {
  const fake = new FakeCluster([1, 2]);
  fake.createTopic('a', 2);
  fake.createTopic('b', 1);
  const clock = new ManualClock();
  const groupCalls: GroupCall[] = [];
  const samsa = new Samsa({
    brokers: [fake.addressOf(1)],
    connectionFactory: fake.connectionFactory,
    groupsConnectionFactory: fakeGroups(fake, groupCalls),
    clock,
    random: seededRandom(1),
    retry: { retries: 5, initialRetryTimeMs, jitter: 0 },
  });
  const producer = samsa.producer({ transactionalId: 'tx-1', transactionTimeoutMs: 30_000, lingerMs: 60_000 });
  return { fake, samsa, producer, groupCalls, clock };
}

const TXN_METHODS = new Set(['initProducerId', 'addPartitionsToTxn', 'addOffsetsToTxn', 'endTxn', 'produce']);
const order = (fake: FakeCluster) => fake.calls.filter((c) => TXN_METHODS.has(c.method)).map((c) => c.method);
const bodies = (fake: FakeCluster, method: 'addPartitionsToTxn' | 'endTxn' | 'initProducerId' | 'addOffsetsToTxn') =>
  fake.callsOf(method).map((c) => c.request as any);

describe('transactional producer: state machine', () => {
  it('refuses sends before initTransactions and outside a transaction, and sends nothing', async () => {
    const { fake, producer } = setup();
    expect(producer.transactionState).toBe('UNINITIALIZED');
    await expect(producer.send({ topic: 'a', messages: [{ value: Buffer.from('x') }] })).rejects.toBeInstanceOf(InvalidTxnStateError);
    expect(() => producer.beginTransaction()).toThrow(InvalidTxnStateError);
    await producer.initTransactions();
    expect(producer.transactionState).toBe('READY');
    await expect(producer.send({ topic: 'a', messages: [{ value: Buffer.from('x') }] })).rejects.toBeInstanceOf(InvalidTxnStateError);
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(InvalidTxnStateError);
    await expect(producer.abortTransaction()).rejects.toBeInstanceOf(InvalidTxnStateError);
    expect(fake.callsOf('produce')).toHaveLength(0);
    expect(fake.callsOf('addPartitionsToTxn')).toHaveLength(0);
  });

  it('initTransactions finds the transaction coordinator and asks it for the id with the timeout', async () => {
    const { fake, producer, groupCalls } = setup();
    await producer.initTransactions();
    expect(groupCalls.filter((c) => c.method === 'findCoordinator').map((c) => c.request)).toContainEqual({ keyType: 1, key: 'tx-1' });
    expect(bodies(fake, 'initProducerId')).toEqual([
      { transactionalId: 'tx-1', transactionTimeoutMs: 30_000, producerId: '-1', producerEpoch: -1 },
    ]);
    await expect(producer.initTransactions()).rejects.toBeInstanceOf(InvalidTxnStateError);
  });

  it('adds each partition once before its first batch, marks batches transactional, and commits only after every record is acknowledged', async () => {
    const { fake, producer } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    expect(producer.transactionState).toBe('IN_TRANSACTION');
    const sent = [
      producer.send({ topic: 'a', messages: [{ value: Buffer.from('1'), partition: 0 }] }),
      producer.send({ topic: 'a', messages: [{ value: Buffer.from('2'), partition: 0 }] }),
      producer.send({ topic: 'b', messages: [{ value: Buffer.from('3'), partition: 0 }] }),
    ];
    // lingerMs is a minute on a manual clock: nothing is produced until the commit flushes.
    await producer.commitTransaction();
    const results = await Promise.all(sent);
    expect(results.flat().map((r) => r.offset)).toEqual([0n, 1n, 0n]);
    expect(producer.transactionState).toBe('READY');

    const calls = order(fake);
    expect(calls.filter((m) => m === 'addPartitionsToTxn')).toHaveLength(2);
    // Every partition added before any produce; EndTxn after every produce.
    expect(calls.lastIndexOf('addPartitionsToTxn')).toBeLessThan(calls.indexOf('produce'));
    expect(calls[calls.length - 1]).toBe('endTxn');
    expect(bodies(fake, 'addPartitionsToTxn').map((r) => r.topics)).toEqual([
      [{ name: 'a', partitions: [0] }],
      [{ name: 'b', partitions: [0] }],
    ]);
    expect(bodies(fake, 'endTxn')).toEqual([{ transactionalId: 'tx-1', producerId: '1000', producerEpoch: 0, committed: true }]);
    const batch = readBatchHeader(fake.topics.get('a')![0]!.log[0]!.bytes, 0);
    expect(batch.isTransactional).toBe(true);
    expect(batch.producerId).toBe(1000n);

    // The next transaction adds its partitions again.
    producer.beginTransaction();
    const again = producer.send({ topic: 'a', messages: [{ value: Buffer.from('4'), partition: 0 }] });
    await producer.commitTransaction();
    await again;
    expect(fake.callsOf('addPartitionsToTxn')).toHaveLength(3);
    expect(fake.callsOf('endTxn')).toHaveLength(2);
  });

  it('a transaction with nothing in it commits without EndTxn (the coordinator never saw it)', async () => {
    const { fake, producer } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    await producer.commitTransaction();
    expect(fake.callsOf('endTxn')).toHaveLength(0);
    expect(producer.transactionState).toBe('READY');
  });

  it('abort discards records not yet sent and ends the transaction with EndTxn(abort)', async () => {
    const { fake, producer } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    const queued = producer.send({ topic: 'a', messages: [{ value: Buffer.from('never'), partition: 1 }] });
    const outcome = queued.then(
      () => 'sent',
      (e: unknown) => e,
    );
    await producer.abortTransaction();
    expect(await outcome).toBeInstanceOf(TransactionAbortedError);
    expect(fake.callsOf('produce')).toHaveLength(0);
    expect(fake.topics.get('a')![1]!.log).toHaveLength(0);
    expect(bodies(fake, 'endTxn').map((r) => r.committed)).toEqual([false]);
    expect(producer.transactionState).toBe('READY');
  });

  it('a record that fails leaves the transaction abortable only; abort gets a new epoch when a sequence broke', async () => {
    const { fake, producer } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    fake.failOnce(
      (c) => c.method === 'produce',
      () => produceError('a', 0, ErrorCode.INVALID_RECORD),
    );
    const failed = producer.send({ topic: 'a', messages: [{ value: Buffer.from('bad'), partition: 0 }] }).catch((e: unknown) => e);
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(InvalidTxnStateError);
    expect((await failed) as { code: number }).toMatchObject({ code: ErrorCode.INVALID_RECORD });
    expect(producer.transactionState).toBe('ABORTABLE_ERROR');
    expect(fake.callsOf('endTxn')).toHaveLength(0);
    await expect(producer.send({ topic: 'a', messages: [{ value: Buffer.from('x') }] })).rejects.toBeInstanceOf(InvalidTxnStateError);
    await producer.abortTransaction();
    expect(bodies(fake, 'endTxn').map((r) => r.committed)).toEqual([false]);
    // KIP-360: the coordinator is asked for a bumped epoch with the current id and epoch.
    expect(bodies(fake, 'initProducerId').map((r) => [r.producerId, r.producerEpoch])).toEqual([
      ['-1', -1],
      ['1000', 0],
    ]);
    expect(producer.transactionState).toBe('READY');
  });

  it('sendOffsetsToTransaction adds the group to the transaction, then commits the offsets at the group coordinator with the member', async () => {
    const { fake, producer, groupCalls } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    await producer.sendOffsetsToTransaction({
      consumerGroupMetadata: { groupId: 'g', generationId: 7, memberId: 'm-1' },
      offsets: [
        { topic: 'in', partition: 0, offset: 42n },
        { topic: 'in', partition: 1, offset: 5 },
      ],
    });
    expect(bodies(fake, 'addOffsetsToTxn')).toEqual([{ transactionalId: 'tx-1', producerId: '1000', producerEpoch: 0, groupId: 'g' }]);
    const commit = groupCalls.find((c) => c.method === 'txnOffsetCommit')!.request;
    expect(commit).toMatchObject({ transactionalId: 'tx-1', groupId: 'g', producerId: '1000', generationId: 7, memberId: 'm-1' });
    expect(commit.topics[0].partitions.map((p: any) => [p.partition, p.committedOffset])).toEqual([
      [0, '42'],
      [1, '5'],
    ]);
    await producer.commitTransaction();
    expect(bodies(fake, 'endTxn').map((r) => r.committed)).toEqual([true]);
  });

  it('transaction() returns the KafkaJS-style object bound to one transaction', async () => {
    const { fake, producer } = setup();
    const txn = await producer.transaction();
    expect(txn.isActive()).toBe(true);
    const sent = txn.send({ topic: 'b', messages: [{ value: Buffer.from('k') }] });
    await txn.commit();
    await sent;
    expect(txn.isActive()).toBe(false);
    expect(fake.topics.get('b')![0]!.log).toHaveLength(1);
    expect(bodies(fake, 'endTxn').map((r) => r.committed)).toEqual([true]);
  });
});

describe('transactional producer: fencing is fatal', () => {
  it('PRODUCER_FENCED from EndTxn surfaces as ProducerFencedError and every later call throws it', async () => {
    const { fake, producer } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    const sent = producer.send({ topic: 'a', messages: [{ value: Buffer.from('1'), partition: 0 }] });
    fake.failOnce(
      (c) => c.method === 'endTxn',
      () => ({ errorCode: ErrorCode.PRODUCER_FENCED, errorMessage: 'a newer producer' }),
    );
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
    await sent;
    expect(producer.transactionState).toBe('FATAL_ERROR');
    expect(() => producer.beginTransaction()).toThrow(ProducerFencedError);
    await expect(producer.abortTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
    await expect(producer.send({ topic: 'a', messages: [{ value: Buffer.from('x') }] })).rejects.toBeInstanceOf(ProducerFencedError);
  });

  it('INVALID_PRODUCER_EPOCH on a produce fences the producer: the commit fails with ProducerFencedError and no EndTxn is sent', async () => {
    const { fake, producer } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    fake.failOnce(
      (c) => c.method === 'produce',
      () => produceError('a', 0, ErrorCode.INVALID_PRODUCER_EPOCH),
    );
    const sent = producer.send({ topic: 'a', messages: [{ value: Buffer.from('1'), partition: 0 }] }).catch((e: unknown) => e);
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
    expect(await sent).toMatchObject({ code: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(producer.transactionState).toBe('FATAL_ERROR');
    expect(fake.callsOf('endTxn')).toHaveLength(0);
  });

  it('PRODUCER_FENCED from AddPartitionsToTxn rejects the send with ProducerFencedError', async () => {
    const { fake, producer } = setup();
    await producer.initTransactions();
    producer.beginTransaction();
    fake.failOnce(
      (c) => c.method === 'addPartitionsToTxn',
      (c) => ({
        topics: (c.request as any).topics.map((t: any) => ({
          name: t.name,
          partitions: t.partitions.map((partition: number) => ({
            partition,
            errorCode: ErrorCode.PRODUCER_FENCED,
            errorMessage: 'fenced',
          })),
        })),
      }),
    );
    await expect(producer.send({ topic: 'a', messages: [{ value: Buffer.from('1'), partition: 0 }] })).rejects.toBeInstanceOf(
      ProducerFencedError,
    );
    expect(producer.transactionState).toBe('FATAL_ERROR');
    expect(fake.callsOf('produce')).toHaveLength(0);
  });
});

describe('transactional producer: CONCURRENT_TRANSACTIONS', () => {
  const concurrentOnce = (fake: FakeCluster) =>
    fake.failOnce(
      (c) => c.method === 'addPartitionsToTxn',
      (c) => ({
        topics: (c.request as any).topics.map((t: any) => ({
          name: t.name,
          partitions: t.partitions.map((partition: number) => ({
            partition,
            errorCode: ErrorCode.CONCURRENT_TRANSACTIONS,
            errorMessage: 'the previous transaction is completing',
          })),
        })),
      }),
    );

  it("the first AddPartitionsToTxn of a transaction answered CONCURRENT_TRANSACTIONS is retried after 20 ms, not the retry backoff (Kafka's KAFKA-5477)", async () => {
    // A 1 s retry backoff: only the short pause can send the second AddPartitionsToTxn by 20 ms.
    const { fake, producer, clock } = setup(1_000);
    await producer.initTransactions();
    producer.beginTransaction();
    concurrentOnce(fake);
    const sent = producer.send({ topic: 'a', messages: [{ value: Buffer.from('1'), partition: 0 }] });
    for (let i = 0; i < 20 && fake.callsOf('addPartitionsToTxn').length < 1; i++) await clock.advance(0);
    expect(fake.callsOf('addPartitionsToTxn')).toHaveLength(1);
    await clock.advance(19);
    expect(fake.callsOf('addPartitionsToTxn')).toHaveLength(1);
    await clock.advance(1);
    for (let i = 0; i < 20 && fake.callsOf('addPartitionsToTxn').length < 2; i++) await clock.advance(0);
    expect(fake.callsOf('addPartitionsToTxn')).toHaveLength(2);
    await producer.commitTransaction();
    expect((await sent).map((r) => r.offset)).toEqual([0n]);
    expect(producer.transactionState).toBe('READY');
  });

  it('once the transaction has a partition, CONCURRENT_TRANSACTIONS waits the retry backoff as any retriable error', async () => {
    const { fake, producer, clock } = setup(1_000);
    await producer.initTransactions();
    producer.beginTransaction();
    const first = producer.send({ topic: 'a', messages: [{ value: Buffer.from('1'), partition: 0 }] });
    for (let i = 0; i < 20 && fake.callsOf('addPartitionsToTxn').length < 1; i++) await clock.advance(0);
    concurrentOnce(fake);
    const second = producer.send({ topic: 'b', messages: [{ value: Buffer.from('2'), partition: 0 }] });
    for (let i = 0; i < 20 && fake.callsOf('addPartitionsToTxn').length < 2; i++) await clock.advance(0);
    await clock.advance(20);
    expect(fake.callsOf('addPartitionsToTxn')).toHaveLength(2);
    await clock.advance(1_000);
    for (let i = 0; i < 20 && fake.callsOf('addPartitionsToTxn').length < 3; i++) await clock.advance(0);
    expect(fake.callsOf('addPartitionsToTxn')).toHaveLength(3);
    await producer.commitTransaction();
    expect([...(await first), ...(await second)].map((r) => r.offset)).toEqual([0n, 0n]);
  });
});

describe('transactional producer: configuration', () => {
  it('refuses settings a transactional producer cannot have', () => {
    const { samsa } = setup();
    expect(() => samsa.producer({ transactionalId: 't', acks: 1 })).toThrow(/transactionalId conflicts with acks=1/);
    expect(() => samsa.producer({ transactionalId: 't', enableIdempotence: false })).toThrow(/needs idempotence/);
    expect(() => samsa.producer({ transactionalId: '' })).toThrow(/non-empty/);
    expect(() => samsa.producer({ transactionalId: 't', transactionTimeoutMs: 0 })).toThrow(/positive integer/);
  });

  it('a producer without a transactionalId refuses the transactional calls', async () => {
    const { samsa } = setup();
    const plain = samsa.producer();
    expect(plain.transactionState).toBeUndefined();
    await expect(plain.initTransactions()).rejects.toBeInstanceOf(InvalidTxnStateError);
  });
});

function produceError(topic: string, partition: number, code: number) {
  return {
    throttleTimeMs: 0,
    topics: [
      {
        name: topic,
        partitions: [
          {
            partition,
            errorCode: code,
            errorMessage: 'injected',
            baseOffset: '-1',
            logAppendTimeMs: '-1',
            logStartOffset: '-1',
            currentLeader: null,
          },
        ],
      },
    ],
  };
}
