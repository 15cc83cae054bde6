/**
 * The Kafka protocol's DescribeTransactions and ListTransactions apply Kafka's TRANSACTIONAL_ID
 * ACLs: describe answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED for an id without DESCRIBE, list
 * leaves such ids out. The coordinator is a fake answering two ids.
 */
import { AclOperation, AclPatternType, AclPermissionType, AclResourceType } from '@samsa/metadata';
import { ApiKey } from '@samsa/kafka';
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import type { GroupCoordinator } from '../../src/group/coordinator.js';
import type { KafkaRequestContext } from '../../src/kafka/kafkaApis.js';
import { txnApis } from '../../src/kafka/txnApis.js';
import { RequestAuthorizer } from '../../src/security/authorizerService.js';
import type { TransactionDescription } from '../../src/txn/transactionCoordinatorState.js';
import type { TransactionStateManager } from '../../src/txn/transactionStateManager.js';

const txns: TransactionDescription[] = ['mine', 'theirs'].map((transactionalId, i) => ({
  transactionalId,
  state: 'Ongoing',
  pendingState: null,
  producerId: BigInt(10 + i),
  producerEpoch: 0,
  txnTimeoutMs: 60_000,
  txnStartTimestamp: 5,
  topicPartitions: [{ topic: 't', partition: i }],
}));

const fakeCoordinator = {
  describe: (id: string) => {
    const description = txns.find((t) => t.transactionalId === id);
    return description
      ? { errorCode: 0, errorMessage: '', description }
      : { errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, errorMessage: '' };
  },
  list: () => ({ errorCode: 0, errorMessage: '', transactions: txns }),
} as unknown as TransactionStateManager;

const authorizer = new RequestAuthorizer({
  config: { superUsers: [], allowEveryoneIfNoAclFound: false },
  acls: () => [
    {
      resourceType: AclResourceType.TRANSACTIONAL_ID,
      resourceName: 'mine',
      patternType: AclPatternType.LITERAL,
      principal: 'User:alice',
      host: '*',
      operation: AclOperation.DESCRIBE,
      permissionType: AclPermissionType.ALLOW,
    },
  ],
  logger: { warn: () => {} },
  now: () => 0,
});

const ctx = {
  identity: { principal: { principalType: 'User', name: 'alice' }, clientAddress: '127.0.0.1', api: 'test' },
} as unknown as KafkaRequestContext;

const handlers = txnApis({ transactions: fakeCoordinator, groups: {} as GroupCoordinator, authorizer });
const handler = (apiKey: number) => handlers.find((h) => h.apiKey === apiKey)!;

describe('Kafka DescribeTransactions/ListTransactions ACLs', () => {
  it('describe: DESCRIBE on the transactional id, per id', async () => {
    const r = (await handler(ApiKey.DescribeTransactions).handle({ transactionalIds: ['mine', 'theirs'] }, ctx)) as {
      transactionStates: Array<{ transactionalId: string; errorCode: number; producerId: bigint }>;
    };
    expect(r.transactionStates.map((t) => [t.transactionalId, t.errorCode, t.producerId])).toEqual([
      ['mine', ErrorCode.NONE, 10n],
      ['theirs', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1n],
    ]);
  });

  it('list: ids without DESCRIBE are left out, without an error', async () => {
    const r = (await handler(ApiKey.ListTransactions).handle({ stateFilters: [], producerIdFilters: [] }, ctx)) as {
      errorCode: number;
      transactionStates: Array<{ transactionalId: string }>;
    };
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.transactionStates.map((t) => t.transactionalId)).toEqual(['mine']);
  });
});

describe('Kafka transaction writes: Kafka ACL rules, nothing reaches the coordinator on a denial', () => {
  const allow = (resourceType: number, resourceName: string, operation: number) => ({
    resourceType,
    resourceName,
    patternType: AclPatternType.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation,
    permissionType: AclPermissionType.ALLOW,
  });
  // The coordinators record what reaches them: a denied request must not.
  const reached: string[] = [];
  const coordinator = {
    partitionExists: () => true,
    addPartitionsToTxn: async () => (reached.push('addPartitions'), { errorCode: 0 }),
    addOffsetsToTxn: async () => (reached.push('addOffsets'), { errorCode: 0 }),
    endTxn: async () => (reached.push('endTxn'), { errorCode: 0 }),
  } as unknown as TransactionStateManager;
  const groups = {
    txnCommitOffsets: async (r: { offsets: Array<{ topic: string; partition: number }> }) => {
      reached.push(`commit:${r.offsets.map((o) => o.topic).join(',')}`);
      return r.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode: 0 }));
    },
  } as unknown as GroupCoordinator;
  // alice may WRITE transactional id 'mine' and topic 'ok', READ group 'g' and topic 'ok'; nothing else.
  const writer = new RequestAuthorizer({
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
  const apis = txnApis({ transactions: coordinator, groups, authorizer: writer });
  const call = async (apiKey: number, req: unknown) =>
    apis.find((h) => h.apiKey === apiKey)!.handle(req, { ...ctx, header: { apiVersion: 3 } } as unknown as KafkaRequestContext);
  const ids = { producerId: 10n, producerEpoch: 0 };

  it('EndTxn and AddOffsetsToTxn need WRITE on the transactional id; AddOffsetsToTxn READ on the group', async () => {
    reached.length = 0;
    expect(await call(ApiKey.EndTxn, { transactionalId: 'theirs', committed: true, ...ids })).toMatchObject({
      errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    });
    expect(await call(ApiKey.AddOffsetsToTxn, { transactionalId: 'theirs', groupId: 'g', ...ids })).toMatchObject({
      errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    });
    expect(await call(ApiKey.AddOffsetsToTxn, { transactionalId: 'mine', groupId: 'other', ...ids })).toMatchObject({
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    });
    expect(reached).toEqual([]);
    expect(await call(ApiKey.EndTxn, { transactionalId: 'mine', committed: true, ...ids })).toMatchObject({ errorCode: 0 });
    expect(reached).toEqual(['endTxn']);
  });

  it('AddPartitionsToTxn: a topic without WRITE fails the request, the others are not attempted', async () => {
    reached.length = 0;
    const r = (await call(ApiKey.AddPartitionsToTxn, {
      transactionalId: 'mine',
      ...ids,
      topics: [
        { name: 'ok', partitions: [0] },
        { name: 'secret', partitions: [0] },
      ],
    })) as { results: Array<{ name: string; results: Array<{ errorCode: number }> }> };
    expect(r.results.map((t) => [t.name, t.results[0]!.errorCode])).toEqual([
      ['ok', ErrorCode.OPERATION_NOT_ATTEMPTED],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    const other = (await call(ApiKey.AddPartitionsToTxn, {
      transactionalId: 'theirs',
      ...ids,
      topics: [{ name: 'ok', partitions: [0] }],
    })) as {
      results: Array<{ results: Array<{ errorCode: number }> }>;
    };
    expect(other.results[0]!.results[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect(reached).toEqual([]);
  });

  it('TxnOffsetCommit: WRITE on the id, READ on the group, and only readable topics are committed', async () => {
    reached.length = 0;
    const req = (transactionalId: string, groupId: string) => ({
      transactionalId,
      groupId,
      ...ids,
      topics: [
        { name: 'ok', partitions: [{ partitionIndex: 0, committedOffset: 5n }] },
        { name: 'secret', partitions: [{ partitionIndex: 0, committedOffset: 5n }] },
      ],
    });
    type Answer = { topics: Array<{ name: string; partitions: Array<{ errorCode: number }> }> };
    const codes = (a: Answer) => a.topics.map((t) => [t.name, t.partitions[0]!.errorCode]);
    expect(codes((await call(ApiKey.TxnOffsetCommit, req('theirs', 'g'))) as Answer)).toEqual([
      ['ok', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ['secret', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    ]);
    expect(codes((await call(ApiKey.TxnOffsetCommit, req('mine', 'other'))) as Answer)).toEqual([
      ['ok', ErrorCode.GROUP_AUTHORIZATION_FAILED],
      ['secret', ErrorCode.GROUP_AUTHORIZATION_FAILED],
    ]);
    expect(reached).toEqual([]);
    expect(codes((await call(ApiKey.TxnOffsetCommit, req('mine', 'g'))) as Answer)).toEqual([
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['ok', 0],
    ]);
    expect(reached).toEqual(['commit:ok']);
  });
});
