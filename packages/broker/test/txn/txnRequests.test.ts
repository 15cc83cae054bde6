/**
 * The transactional requests both front ends share (txn/txnRequests.ts): Kafka's ACL rules
 * (WRITE on the transactional id, WRITE on AddPartitionsToTxn's topics, READ on the group and on
 * TxnOffsetCommit's topics), unknown partitions failing AddPartitionsToTxn before the coordinator
 * sees it, and the coordinator's answers passed through unchanged (PRODUCER_FENCED,
 * CONCURRENT_TRANSACTIONS...). The coordinator and group coordinator are fakes that record calls.
 */
import { AclOperation, AclPatternType, AclPermissionType, AclResourceType } from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { RequestAuthorizer, type RequestIdentity } from '../../src/security/authorizerService.js';
import {
  addOffsetsToTxn,
  addPartitionsToTxn,
  endTxn,
  initTransactionalProducerId,
  txnOffsetCommit,
  type TxnCoordinatorCalls,
} from '../../src/txn/txnRequests.js';

const allow = (resourceType: number, resourceName: string, operation: number) => ({
  resourceType,
  resourceName,
  patternType: AclPatternType.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation,
  permissionType: AclPermissionType.ALLOW,
});

const authorizer = new RequestAuthorizer({
  config: { superUsers: [], allowEveryoneIfNoAclFound: false },
  acls: () => [
    allow(AclResourceType.TRANSACTIONAL_ID, 'mine', AclOperation.WRITE),
    allow(AclResourceType.TOPIC, 'ok', AclOperation.WRITE),
    allow(AclResourceType.TOPIC, 'ok', AclOperation.READ),
    allow(AclResourceType.GROUP, 'g', AclOperation.READ),
  ],
  logger: { warn: () => {} },
  now: () => 0,
});

const alice = { principal: { principalType: 'User', name: 'alice' }, clientAddress: '127.0.0.1', api: 'test' } as RequestIdentity;

function fakes(answer: { errorCode: number; errorMessage: string } = { errorCode: ErrorCode.NONE, errorMessage: '' }) {
  const calls: Array<{ method: string; request: unknown }> = [];
  const transactions: TxnCoordinatorCalls = {
    initProducerId: (r) => (
      calls.push({ method: 'initProducerId', request: r }), Promise.resolve({ ...answer, producerId: 5n, producerEpoch: 1 })
    ),
    addPartitionsToTxn: (r) => (calls.push({ method: 'addPartitionsToTxn', request: r }), Promise.resolve(answer)),
    addOffsetsToTxn: (r) => (calls.push({ method: 'addOffsetsToTxn', request: r }), Promise.resolve(answer)),
    endTxn: (r) => (calls.push({ method: 'endTxn', request: r }), Promise.resolve(answer)),
    partitionExists: (topic, partition) => topic === 'ok' && partition < 2,
  };
  const groups = {
    txnCommitOffsets: (r: { offsets: Array<{ topic: string; partition: number }> }) => {
      calls.push({ method: 'txnCommitOffsets', request: r });
      return Promise.resolve(r.offsets.map((o) => ({ topic: o.topic, partition: o.partition, ...answer })));
    },
  };
  return { calls, deps: { transactions, authorizer }, groups };
}

const ids = { producerId: 5n, producerEpoch: 1 };

describe('transactional requests: ACLs and checks shared by the Kafka and gRPC handlers', () => {
  it('InitProducerId needs WRITE on the transactional id; without a coordinator the id is refused', async () => {
    const { calls, deps } = fakes();
    const req = { transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 };
    expect((await initTransactionalProducerId(deps, alice, { ...req, transactionalId: 'theirs' })).errorCode).toBe(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    expect(calls).toEqual([]);
    expect(await initTransactionalProducerId(deps, alice, { ...req, transactionalId: 'mine' })).toMatchObject({
      errorCode: ErrorCode.NONE,
      producerId: 5n,
      producerEpoch: 1,
    });
    expect(
      (await initTransactionalProducerId({ ...deps, transactions: undefined }, alice, { ...req, transactionalId: 'mine' })).errorCode,
    ).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('AddPartitionsToTxn: a denied topic or an unknown partition fails the whole request before the coordinator', async () => {
    const { calls, deps } = fakes();
    const codes = async (transactionalId: string, partitions: Array<{ topic: string; partition: number }>) =>
      (await addPartitionsToTxn(deps, alice, { transactionalId, ...ids, partitions })).map((r) => [r.topic, r.partition, r.errorCode]);
    expect(await codes('theirs', [{ topic: 'ok', partition: 0 }])).toEqual([['ok', 0, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]]);
    expect(
      await codes('mine', [
        { topic: 'ok', partition: 0 },
        { topic: 'secret', partition: 0 },
      ]),
    ).toEqual([
      ['ok', 0, ErrorCode.OPERATION_NOT_ATTEMPTED],
      ['secret', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    expect(
      await codes('mine', [
        { topic: 'ok', partition: 0 },
        { topic: 'ok', partition: 9 },
      ]),
    ).toEqual([
      ['ok', 0, ErrorCode.OPERATION_NOT_ATTEMPTED],
      ['ok', 9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(calls).toEqual([]);
    expect(await codes('mine', [{ topic: 'ok', partition: 1 }])).toEqual([['ok', 1, ErrorCode.NONE]]);
    expect(calls.map((c) => c.method)).toEqual(['addPartitionsToTxn']);
  });

  it("passes the coordinator's codes through (PRODUCER_FENCED, CONCURRENT_TRANSACTIONS)", async () => {
    const fenced = fakes({ errorCode: ErrorCode.PRODUCER_FENCED, errorMessage: 'fenced' });
    expect((await endTxn(fenced.deps, alice, { transactionalId: 'mine', ...ids, committed: true })).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    const busy = fakes({ errorCode: ErrorCode.CONCURRENT_TRANSACTIONS, errorMessage: 'busy' });
    expect(
      (await addPartitionsToTxn(busy.deps, alice, { transactionalId: 'mine', ...ids, partitions: [{ topic: 'ok', partition: 0 }] }))[0]!
        .errorCode,
    ).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
  });

  it('AddOffsetsToTxn and EndTxn need WRITE on the id; AddOffsetsToTxn also READ on the group', async () => {
    const { calls, deps } = fakes();
    expect((await addOffsetsToTxn(deps, alice, { transactionalId: 'theirs', ...ids, groupId: 'g' })).errorCode).toBe(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    expect((await addOffsetsToTxn(deps, alice, { transactionalId: 'mine', ...ids, groupId: 'other' })).errorCode).toBe(
      ErrorCode.GROUP_AUTHORIZATION_FAILED,
    );
    expect((await endTxn(deps, alice, { transactionalId: 'theirs', ...ids, committed: false })).errorCode).toBe(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    expect(calls).toEqual([]);
    expect((await addOffsetsToTxn(deps, alice, { transactionalId: 'mine', ...ids, groupId: 'g' })).errorCode).toBe(ErrorCode.NONE);
    expect((await endTxn(deps, alice, { transactionalId: 'mine', ...ids, committed: false })).errorCode).toBe(ErrorCode.NONE);
    expect(calls.map((c) => c.method)).toEqual(['addOffsetsToTxn', 'endTxn']);
  });

  it('TxnOffsetCommit: WRITE on the id, READ on the group, and a denied topic is answered without being committed', async () => {
    const { calls, deps, groups } = fakes();
    const offsets = [
      { topic: 'ok', partition: 0, offset: 3n, leaderEpoch: -1, metadata: '' },
      { topic: 'secret', partition: 0, offset: 4n, leaderEpoch: -1, metadata: '' },
    ];
    const req = { transactionalId: 'mine', groupId: 'g', ...ids, generationId: -1, memberId: '', groupInstanceId: '', offsets };
    const codes = async (r: typeof req) => (await txnOffsetCommit(deps.authorizer, groups, alice, r)).map((x) => [x.topic, x.errorCode]);
    expect(await codes({ ...req, transactionalId: 'theirs' })).toEqual([
      ['ok', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ['secret', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    ]);
    expect(await codes({ ...req, groupId: 'other' })).toEqual([
      ['ok', ErrorCode.GROUP_AUTHORIZATION_FAILED],
      ['secret', ErrorCode.GROUP_AUTHORIZATION_FAILED],
    ]);
    expect(calls).toEqual([]);
    expect(await codes(req)).toEqual([
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['ok', ErrorCode.NONE],
    ]);
    expect((calls[0]!.request as { offsets: Array<{ topic: string }> }).offsets.map((o) => o.topic)).toEqual(['ok']);
  });
});
