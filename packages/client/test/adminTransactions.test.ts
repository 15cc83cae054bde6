import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { SamsaError, type GroupsConnection } from '../src/index.js';
import type { TransactionDescription__Output as TransactionDescriptionWire } from '@samsa/protocol';
import { setup } from './helpers.js';

const txn = (
  id: string,
  state: string,
  producerId: string,
  extra: Partial<TransactionDescriptionWire> = {},
): TransactionDescriptionWire => ({
  errorCode: 0,
  errorMessage: '',
  transactionalId: id,
  transactionState: state,
  transactionTimeoutMs: 60_000,
  transactionStartTimeMs: '-1',
  producerId,
  producerEpoch: 0,
  topicPartitions: [],
  ...extra,
});

/** A Groups service whose FindCoordinator (key type 1) answers from `answers` in turn, then the last one. */
function groupsFactory(fakeAddress: (nodeId: number) => string, answers: number[], asked: Array<{ keyType: number; key: string }>) {
  return (address: string): GroupsConnection =>
    ({
      address,
      findCoordinator(r: { keyType: number; key: string }) {
        asked.push(r);
        const nodeId = answers.length > 1 ? answers.shift()! : answers[0]!;
        const [host, port] = fakeAddress(nodeId).split(':');
        return Promise.resolve({ errorCode: 0, errorMessage: '', nodeId, host: host!, port: Number(port) });
      },
      close() {},
    }) as unknown as GroupsConnection;
}

describe('Admin transactions', () => {
  it('listTransactions asks every broker and names the one that answered as coordinator', async () => {
    const asked: Array<{ keyType: number; key: string }> = [];
    let addressOf: (n: number) => string = () => '';
    const { fake, samsa } = setup([1, 2], { groupsConnectionFactory: groupsFactory((n) => addressOf(n), [1], asked) });
    addressOf = (n) => fake.addressOf(n);
    fake.transactions.set(1, [txn('b', 'Ongoing', '7')]);
    fake.transactions.set(2, [txn('a', 'CompleteCommit', '9'), txn('c', 'Empty', '3')]);
    const listed = await samsa.admin().listTransactions();
    expect(listed).toEqual([
      { transactionalId: 'a', producerId: 9n, state: 'CompleteCommit', coordinator: 2 },
      { transactionalId: 'b', producerId: 7n, state: 'Ongoing', coordinator: 1 },
      { transactionalId: 'c', producerId: 3n, state: 'Empty', coordinator: 2 },
    ]);
    expect(new Set(fake.callsOf('listTransactions').map((c) => c.nodeId))).toEqual(new Set([1, 2]));
    await samsa.close();
  });

  it('describeTransactions finds the coordinator with key type 1 and finds it again after NOT_COORDINATOR', async () => {
    const asked: Array<{ keyType: number; key: string }> = [];
    let addressOf: (n: number) => string = () => '';
    // The first answer is stale (broker 1), the second the real coordinator (broker 2).
    const { fake, samsa } = setup([1, 2], { groupsConnectionFactory: groupsFactory((n) => addressOf(n), [1, 2], asked) });
    addressOf = (n) => fake.addressOf(n);
    fake.transactions.set(2, [
      txn('t', 'Ongoing', '42', {
        producerEpoch: 3,
        transactionStartTimeMs: '1700000000000',
        topicPartitions: [
          { topic: 'x', partition: 0 },
          { topic: 'y', partition: 2 },
        ],
      }),
    ]);
    const [d] = await samsa.admin().describeTransactions(['t']);
    expect(d).toEqual({
      transactionalId: 't',
      coordinator: 2,
      state: 'Ongoing',
      producerId: 42n,
      producerEpoch: 3,
      transactionTimeoutMs: 60_000,
      transactionStartTimeMs: 1_700_000_000_000,
      topicPartitions: [
        { topic: 'x', partition: 0 },
        { topic: 'y', partition: 2 },
      ],
    });
    expect(asked).toEqual([
      { keyType: 1, key: 't' },
      { keyType: 1, key: 't' },
    ]);
    expect(fake.callsOf('describeTransactions').map((c) => c.nodeId)).toEqual([1, 2]);
    await samsa.close();
  });

  it('describeTransactions throws the typed error of an unknown id without retrying, and refuses empty input', async () => {
    const asked: Array<{ keyType: number; key: string }> = [];
    let addressOf: (n: number) => string = () => '';
    const { fake, samsa } = setup([1, 2], { groupsConnectionFactory: groupsFactory((n) => addressOf(n), [1], asked) });
    addressOf = (n) => fake.addressOf(n);
    fake.failOnce(
      (c) => c.method === 'describeTransactions',
      () => ({ transactions: [{ ...txn('gone', '', '-1'), errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, errorMessage: 'no such id' }] }),
    );
    const err = await samsa
      .admin()
      .describeTransactions(['gone'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SamsaError);
    expect((err as SamsaError).code).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    expect(fake.callsOf('describeTransactions')).toHaveLength(1);
    await expect(samsa.admin().describeTransactions([])).rejects.toThrow(/at least one/);
    await expect(samsa.admin().describeTransactions([''])).rejects.toThrow(/non-empty/);
    await samsa.close();
  });
});
