/**
 * ListTransactions / DescribeTransactions on the gRPC API over a fake coordinator view: wire
 * conversion, filters, NOT_COORDINATOR passed through, and Kafka's ACL rules (describe: per-id
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED; list: ids the caller may not DESCRIBE left out).
 */
import { AclOperation, AclPatternType, AclPermissionType, AclResourceType, type AclBinding } from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { RequestAuthorizer, allowAllAuthorizer, type RequestIdentity } from '../../src/security/authorizerService.js';
import { describeTransactions, listTransactions, type TransactionsView } from '../../src/server/transactionsService.js';
import type { TransactionDescription, TxnState } from '../../src/txn/transactionCoordinatorState.js';

const alice: RequestIdentity = { principal: { principalType: 'User', name: 'alice' }, clientAddress: '127.0.0.1', api: 'test' };

const d = (
  transactionalId: string,
  state: TxnState,
  producerId: bigint,
  extra: Partial<TransactionDescription> = {},
): TransactionDescription => ({
  transactionalId,
  state,
  pendingState: null,
  producerId,
  producerEpoch: 1,
  txnTimeoutMs: 30_000,
  txnStartTimestamp: -1,
  topicPartitions: [],
  ...extra,
});

/** Coordinates the ids in `mine`; another broker coordinates everything else. */
function view(
  mine: TransactionDescription[],
  listError: number = ErrorCode.NONE,
): TransactionsView & { listed: Array<[readonly TxnState[], readonly bigint[]]> } {
  const listed: Array<[readonly TxnState[], readonly bigint[]]> = [];
  return {
    listed,
    describe(id) {
      const found = mine.find((t) => t.transactionalId === id);
      return found
        ? { errorCode: ErrorCode.NONE, errorMessage: '', description: found }
        : { errorCode: ErrorCode.NOT_COORDINATOR, errorMessage: 'not here' };
    },
    list(states, producerIds) {
      listed.push([states, producerIds]);
      if (listError !== ErrorCode.NONE) return { errorCode: listError, errorMessage: 'loading', transactions: [] };
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: '',
        transactions: mine.filter(
          (t) => (states.length === 0 || states.includes(t.state)) && (producerIds.length === 0 || producerIds.includes(t.producerId)),
        ),
      };
    },
  };
}

function aclAuthorizer(acls: AclBinding[]): RequestAuthorizer {
  return new RequestAuthorizer({
    config: { superUsers: [], allowEveryoneIfNoAclFound: false },
    acls: () => acls,
    logger: { warn: () => {} },
    now: () => 0,
  });
}

const describeAcl = (name: string, patternType: number = AclPatternType.LITERAL): AclBinding => ({
  resourceType: AclResourceType.TRANSACTIONAL_ID,
  resourceName: name,
  patternType,
  principal: 'User:alice',
  host: '*',
  operation: AclOperation.DESCRIBE,
  permissionType: AclPermissionType.ALLOW,
});

describe('ListTransactions (gRPC)', () => {
  const txns = [d('b', 'Ongoing', 7n), d('a', 'CompleteCommit', 9n), d('c', 'Empty', 3n)];

  it('lists what this broker coordinates, sorted, with int64 as strings; passes known filters through', () => {
    const v = view(txns);
    const all = listTransactions(v, allowAllAuthorizer(), { stateFilters: [], producerIdFilters: [] }, alice);
    expect(all.errorCode).toBe(ErrorCode.NONE);
    expect(all.transactions).toEqual([
      { transactionalId: 'a', producerId: '9', transactionState: 'CompleteCommit' },
      { transactionalId: 'b', producerId: '7', transactionState: 'Ongoing' },
      { transactionalId: 'c', producerId: '3', transactionState: 'Empty' },
    ]);
    const filtered = listTransactions(v, allowAllAuthorizer(), { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: ['7'] }, alice);
    expect(filtered.unknownStateFilters).toEqual(['Bogus']);
    expect(filtered.transactions.map((t) => t.transactionalId)).toEqual(['b']);
    expect(v.listed.at(-1)).toEqual([['Ongoing'], [7n]]);
  });

  it('only unknown state filters match nothing; a bad producer id is INVALID_REQUEST; a loading coordinator says so', () => {
    const v = view(txns);
    const none = listTransactions(v, allowAllAuthorizer(), { stateFilters: ['Bogus'], producerIdFilters: [] }, alice);
    expect(none).toMatchObject({ errorCode: ErrorCode.NONE, transactions: [], unknownStateFilters: ['Bogus'] });
    expect(v.listed).toHaveLength(0);
    const bad = listTransactions(v, allowAllAuthorizer(), { stateFilters: [], producerIdFilters: ['x1'] }, alice);
    expect(bad.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const loading = listTransactions(
      view(txns, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS),
      allowAllAuthorizer(),
      { stateFilters: [], producerIdFilters: [] },
      alice,
    );
    expect(loading.errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(listTransactions(undefined, allowAllAuthorizer(), { stateFilters: [], producerIdFilters: [] }, alice).errorCode).toBe(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
  });

  it('leaves out the ids the caller may not DESCRIBE (no error, as Kafka)', () => {
    const r = listTransactions(
      view(txns),
      aclAuthorizer([describeAcl('a'), describeAcl('c', AclPatternType.PREFIXED)]),
      { stateFilters: [], producerIdFilters: [] },
      alice,
    );
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.transactions.map((t) => t.transactionalId)).toEqual(['a', 'c']);
  });
});

describe('DescribeTransactions (gRPC)', () => {
  const open = d('t', 'Ongoing', 42n, {
    producerEpoch: 3,
    txnStartTimestamp: 1_700_000_000_000,
    topicPartitions: [
      { topic: 'y', partition: 1 },
      { topic: 'x', partition: 2 },
      { topic: 'x', partition: 0 },
    ],
  });

  it('describes an id it coordinates, partitions sorted; NOT_COORDINATOR for the others; empty ids refused', () => {
    const r = describeTransactions(view([open]), allowAllAuthorizer(), { transactionalIds: ['t', 'elsewhere', ''] }, alice);
    expect(r.transactions[0]).toEqual({
      errorCode: ErrorCode.NONE,
      errorMessage: '',
      transactionalId: 't',
      transactionState: 'Ongoing',
      transactionTimeoutMs: 30_000,
      transactionStartTimeMs: '1700000000000',
      producerId: '42',
      producerEpoch: 3,
      topicPartitions: [
        { topic: 'x', partition: 0 },
        { topic: 'x', partition: 2 },
        { topic: 'y', partition: 1 },
      ],
    });
    expect(r.transactions[1]).toMatchObject({ transactionalId: 'elsewhere', errorCode: ErrorCode.NOT_COORDINATOR, producerId: '-1' });
    expect(r.transactions[2]).toMatchObject({ transactionalId: '', errorCode: ErrorCode.INVALID_REQUEST });
  });

  it('needs DESCRIBE on the transactional id, per id', () => {
    const r = describeTransactions(
      view([open, d('u', 'Empty', 5n)]),
      aclAuthorizer([describeAcl('t')]),
      { transactionalIds: ['t', 'u'] },
      alice,
    );
    expect(r.transactions.map((t) => t.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);
    expect(r.transactions[1]!.transactionState).toBe('');
  });
});
