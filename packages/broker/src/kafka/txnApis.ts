/**
 * Transactions over the Kafka wire protocol (KIP-98, KIP-447; Kafka's KafkaApis
 * handleAddPartitionToTxnRequest, handleAddOffsetsToTxnRequest, handleEndTxnRequest,
 * handleTxnOffsetCommitRequest, handleDescribeTransactionsRequest, handleListTransactionsRequest):
 * each calls the transaction coordinator (txn/transactionStateManager.ts) or, for
 * TxnOffsetCommit, the group coordinator. FindCoordinator key type 1 and InitProducerId with a
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

  const addPartitionsToTxn: KafkaApiHandler = {
    apiKey: ApiKey.AddPartitionsToTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: AddPartitionsToTxnRequest, ctx) {
      const partitions = req.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
      // Kafka's rules: WRITE on the transactional id, then WRITE on every topic; a denied topic fails
      // the request (TOPIC_AUTHORIZATION_FAILED for it, OPERATION_NOT_ATTEMPTED for the others).
      const answer = (codeOf: (tp: { topic: string; partition: number }) => number) => ({
        throttleTimeMs: 0,
        results: req.topics.map((t) => ({
          name: t.name,
          results: t.partitions.map((partition) => ({ partitionIndex: partition, errorCode: codeOf({ topic: t.name, partition }) })),
        })),
      });
      if (!authorizer.transactionalId(ctx.identity, AclOperation.WRITE, req.transactionalId))
        return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      const deniedTopics = new Set(
        req.topics.filter((t) => !authorizer.topic(ctx.identity, AclOperation.WRITE, t.name)).map((t) => t.name),
      );
      if (deniedTopics.size > 0)
        return answer((tp) => (deniedTopics.has(tp.topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED));
      // Kafka: a partition that does not exist fails the request (UNKNOWN_TOPIC_OR_PARTITION for it,
      // OPERATION_NOT_ATTEMPTED for the others), before the coordinator sees it.
      const unknown = partitions.filter((tp) => {
        return !transactions.partitionExists(tp.topic, tp.partition);
      });
      let codeOf: (tp: { topic: string; partition: number }) => number;
      if (unknown.length > 0) {
        const bad = new Set(unknown.map((tp) => `${tp.topic}\u0000${tp.partition}`));
        codeOf = (tp) =>
          bad.has(`${tp.topic}\u0000${tp.partition}`) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED;
      } else {
        const r = await transactions.addPartitionsToTxn({
          transactionalId: req.transactionalId,
          producerId: req.producerId,
          producerEpoch: req.producerEpoch,
          partitions,
        });
        const code = fencedFor(r.errorCode, ctx.header.apiVersion, 2);
        codeOf = () => code;
      }
      return answer(codeOf);
    },
  };

  const addOffsetsToTxn: KafkaApiHandler = {
    apiKey: ApiKey.AddOffsetsToTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: AddOffsetsToTxnRequest, ctx) {
      // Kafka's rules: WRITE on the transactional id, READ on the group.
      if (!authorizer.transactionalId(ctx.identity, AclOperation.WRITE, req.transactionalId))
        return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      if (!authorizer.group(ctx.identity, AclOperation.READ, req.groupId))
        return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
      const r = await transactions.addOffsetsToTxn({
        transactionalId: req.transactionalId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        groupId: req.groupId,
      });
      return { throttleTimeMs: 0, errorCode: fencedFor(r.errorCode, ctx.header.apiVersion, 2) };
    },
  };

  const endTxn: KafkaApiHandler = {
    apiKey: ApiKey.EndTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: EndTxnRequest, ctx) {
      // Kafka's rule: WRITE on the transactional id.
      if (!authorizer.transactionalId(ctx.identity, AclOperation.WRITE, req.transactionalId))
        return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      const r = await transactions.endTxn({
        transactionalId: req.transactionalId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        committed: req.committed,
      });
      return { throttleTimeMs: 0, errorCode: fencedFor(r.errorCode, ctx.header.apiVersion, 2) };
    },
  };

  const txnOffsetCommit: KafkaApiHandler = {
    apiKey: ApiKey.TxnOffsetCommit,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: TxnOffsetCommitRequest, ctx) {
      // Kafka's rules: WRITE on the transactional id, READ on the group, READ on each topic; a denied
      // request or topic is answered per partition and nothing of it is committed.
      const every = (errorCode: number) => ({
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
        })),
      });
      if (!authorizer.transactionalId(ctx.identity, AclOperation.WRITE, req.transactionalId))
        return every(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      if (!authorizer.group(ctx.identity, AclOperation.READ, req.groupId)) return every(ErrorCode.GROUP_AUTHORIZATION_FAILED);
      const deniedTopics = req.topics.filter((t) => !authorizer.topic(ctx.identity, AclOperation.READ, t.name));
      const allowedTopics = req.topics.filter((t) => !deniedTopics.includes(t));
      const refused = deniedTopics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
      }));
      if (allowedTopics.length === 0) return { throttleTimeMs: 0, topics: refused };
      const results = await groups.txnCommitOffsets({
        groupId: req.groupId,
        generationId: req.generationId ?? -1,
        memberId: req.memberId ?? '',
        groupInstanceId: req.groupInstanceId ?? '',
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        offsets: allowedTopics.flatMap((t) =>
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
        topics: [
          ...refused,
          ...[...groupByTopic(results)].map(([name, ps]) => ({
            name,
            partitions: ps.map((r) => ({ partitionIndex: r.partition, errorCode: r.errorCode })),
          })),
        ],
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
