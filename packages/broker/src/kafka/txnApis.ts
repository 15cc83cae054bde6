/**
 * Transactions over the Kafka wire protocol (KIP-98, KIP-447; Kafka's KafkaApis
 * handleAddPartitionToTxnRequest, handleAddOffsetsToTxnRequest, handleEndTxnRequest,
 * handleTxnOffsetCommitRequest, handleDescribeTransactionsRequest, handleListTransactionsRequest):
 * each translates its message for the ACL checks and coordinator calls it shares with the gRPC
 * API (txn/txnRequests.ts). FindCoordinator key type 1 and InitProducerId with a
 * transactional id are in groupApis.ts and dataApis.ts.
 *
 * PRODUCER_FENCED (KIP-588) is answered only to versions that know it (InitProducerId 4+,
 * AddPartitionsToTxn/AddOffsetsToTxn/EndTxn 2+, TxnOffsetCommit 3+); older ones get
 * INVALID_PRODUCER_EPOCH, as Kafka does.
 */
import { ApiKey } from '@samsa/kafka';
import { ErrorCode, groupByTopic } from '@samsa/protocol';
import { AclOperation, AclResourceType } from '@samsa/metadata';
import type { GroupCoordinator } from '../group/coordinator.js';
import { allowAllAuthorizer, type RequestAuthorizer } from '../security/authorizerService.js';
import { TXN_STATES, type TxnState } from '../txn/transactionCoordinatorState.js';
import type { TransactionStateManager } from '../txn/transactionStateManager.js';
import * as txnRequests from '../txn/txnRequests.js';
import type { KafkaApiHandler } from './kafkaApis.js';

export interface TxnApisDeps {
  transactions: TransactionStateManager;
  groups: GroupCoordinator;
  /** DescribeTransactions/ListTransactions need DESCRIBE on the TRANSACTIONAL_ID, as Kafka; default: allow all. */
  authorizer?: RequestAuthorizer;
}

interface AddPartitionsToTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  topics: Array<{ name: string; partitions: number[] }>;
}
interface AddOffsetsToTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  groupId: string;
}
interface EndTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  committed: boolean;
}
interface TxnOffsetCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
  topics: Array<{
    name: string;
    partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch?: number; committedMetadata: string | null }>;
  }>;
}

/** PRODUCER_FENCED for clients that know it, INVALID_PRODUCER_EPOCH for older versions. */
function fencedFor(code: number, version: number, knownFrom: number): number {
  return code === ErrorCode.PRODUCER_FENCED && version < knownFrom ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}

export function txnApis(deps: TxnApisDeps): KafkaApiHandler[] {
  const { transactions, groups } = deps;
  const authorizer = deps.authorizer ?? allowAllAuthorizer();

  const shared = { transactions, authorizer };

  const addPartitionsToTxn: KafkaApiHandler = {
    apiKey: ApiKey.AddPartitionsToTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: AddPartitionsToTxnRequest, ctx) {
      const results = await txnRequests.addPartitionsToTxn(shared, ctx.identity, {
        transactionalId: req.transactionalId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        partitions: req.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition }))),
      });
      return {
        throttleTimeMs: 0,
        results: [...groupByTopic(results)].map(([name, ps]) => ({
          name,
          results: ps.map((r) => ({ partitionIndex: r.partition, errorCode: fencedFor(r.errorCode, ctx.header.apiVersion, 2) })),
        })),
      };
    },
  };

  const addOffsetsToTxn: KafkaApiHandler = {
    apiKey: ApiKey.AddOffsetsToTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: AddOffsetsToTxnRequest, ctx) {
      const r = await txnRequests.addOffsetsToTxn(shared, ctx.identity, req);
      return { throttleTimeMs: 0, errorCode: fencedFor(r.errorCode, ctx.header.apiVersion, 2) };
    },
  };

  const endTxn: KafkaApiHandler = {
    apiKey: ApiKey.EndTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: EndTxnRequest, ctx) {
      const r = await txnRequests.endTxn(shared, ctx.identity, req);
      return { throttleTimeMs: 0, errorCode: fencedFor(r.errorCode, ctx.header.apiVersion, 2) };
    },
  };

  const txnOffsetCommit: KafkaApiHandler = {
    apiKey: ApiKey.TxnOffsetCommit,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: TxnOffsetCommitRequest, ctx) {
      const results = await txnRequests.txnOffsetCommit(authorizer, groups, ctx.identity, {
        transactionalId: req.transactionalId,
        groupId: req.groupId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        generationId: req.generationId ?? -1,
        memberId: req.memberId ?? '',
        groupInstanceId: req.groupInstanceId ?? '',
        offsets: req.topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch ?? -1,
            metadata: p.committedMetadata ?? '',
          })),
        ),
      });
      return {
        throttleTimeMs: 0,
        topics: [...groupByTopic(results)].map(([name, ps]) => ({
          name,
          partitions: ps.map((r) => ({ partitionIndex: r.partition, errorCode: fencedFor(r.errorCode, ctx.header.apiVersion, 3) })),
        })),
      };
    },
  };

  const describeTransactions: KafkaApiHandler = {
    apiKey: ApiKey.DescribeTransactions,
    minVersion: 0,
    maxVersion: 0,
    handle(req: { transactionalIds: string[] }, ctx) {
      return {
        throttleTimeMs: 0,
        transactionStates: req.transactionalIds.map((id) => {
          const r = authorizer.transactionalId(ctx.identity, AclOperation.DESCRIBE, id)
            ? transactions.describe(id)
            : { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, description: undefined };
          const d = r.description;
          return {
            errorCode: r.errorCode,
            transactionalId: id,
            transactionState: d?.state ?? '',
            transactionTimeoutMs: d?.txnTimeoutMs ?? 0,
            transactionStartTimeMs: BigInt(d?.txnStartTimestamp ?? -1),
            producerId: d?.producerId ?? -1n,
            producerEpoch: d?.producerEpoch ?? -1,
            topics: d ? [...groupByTopic(d.topicPartitions)].map(([topic, ps]) => ({ topic, partitions: ps.map((p) => p.partition) })) : [],
          };
        }),
      };
    },
  };

  const listTransactions: KafkaApiHandler = {
    apiKey: ApiKey.ListTransactions,
    minVersion: 0,
    maxVersion: 0,
    handle(req: { stateFilters: string[]; producerIdFilters: bigint[] }, ctx) {
      const known = req.stateFilters.filter((s): s is TxnState => (TXN_STATES as readonly string[]).includes(s));
      const unknownStateFilters = req.stateFilters.filter((s) => !(TXN_STATES as readonly string[]).includes(s));
      // Only unknown filters: nothing can match (Kafka answers them and an empty list).
      const r =
        req.stateFilters.length > 0 && known.length === 0
          ? { errorCode: ErrorCode.NONE, transactions: [] }
          : transactions.list(known, req.producerIdFilters);
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        unknownStateFilters,
        // Kafka lists only the ids the caller may describe, without an error for the rest.
        transactionStates: r.transactions
          .filter((t) =>
            authorizer.authorize(ctx.identity, AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, t.transactionalId, false),
          )
          .map((t) => ({
            transactionalId: t.transactionalId,
            producerId: t.producerId,
            transactionState: t.state,
          })),
      };
    },
  };

  return [addPartitionsToTxn, addOffsetsToTxn, endTxn, txnOffsetCommit, describeTransactions, listTransactions];
}
