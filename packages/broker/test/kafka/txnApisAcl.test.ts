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
