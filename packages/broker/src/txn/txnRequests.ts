/**
 * The transactional requests as both front ends serve them (Kafka's KafkaApis
 * handleInitProducerIdRequest with a transactional id, handleAddPartitionToTxnRequest,
 * handleAddOffsetsToTxnRequest, handleEndTxnRequest, handleTxnOffsetCommitRequest): the ACL checks
 * and the coordinator calls, once. The Kafka wire handlers (kafka/txnApis.ts, kafka/dataApis.ts)
 * and the gRPC ones (server/clientService.ts, group/groupsService.ts) only translate their
 * messages into these and back; the Kafka side also maps PRODUCER_FENCED to INVALID_PRODUCER_EPOCH
 * for versions that predate it.
 */
import { ErrorCode } from '@samsa/protocol';
import { AclOperation } from '@samsa/metadata';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { RequestAuthorizer, RequestIdentity } from '../security/authorizerService.js';
import type { ErrorResponse, InitProducerIdResponse } from './transactionCoordinatorState.js';
import type { TransactionStateManager } from './transactionStateManager.js';

/** What these functions call of the TransactionStateManager (a fake in tests). */
export type TxnCoordinatorCalls = Pick<
  TransactionStateManager,
  'initProducerId' | 'addPartitionsToTxn' | 'addOffsetsToTxn' | 'endTxn' | 'partitionExists'
>;

export interface TxnRequestDeps {
  /** Undefined: this broker runs no transaction coordinator (transactional ids are refused). */
  transactions: TxnCoordinatorCalls | undefined;
  authorizer: RequestAuthorizer;
}

const TXN_ID_DENIED: ErrorResponse = {
  errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  errorMessage: 'Transactional id authorization failed: the principal lacks WRITE on the transactional id',
};
const NO_COORDINATOR: ErrorResponse = {
  // Kafka's answer of a broker that may not serve transactional ids.
  errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  errorMessage: 'this broker runs no transaction coordinator',
};

export interface TxnPartitionResult extends ErrorResponse {
  topic: string;
  partition: number;
}

/** InitProducerId with a non-empty transactional id: WRITE on it, then the coordinator. */
export async function initTransactionalProducerId(
  deps: TxnRequestDeps,
  who: RequestIdentity,
  req: { transactionalId: string; transactionTimeoutMs: number; producerId: bigint; producerEpoch: number },
): Promise<InitProducerIdResponse> {
  const fail = (e: ErrorResponse): InitProducerIdResponse => ({ ...e, producerId: -1n, producerEpoch: -1 });
  if (!deps.authorizer.transactionalId(who, AclOperation.WRITE, req.transactionalId)) return fail(TXN_ID_DENIED);
  if (!deps.transactions) return fail(NO_COORDINATOR);
  return deps.transactions.initProducerId(req);
}

/**
 * AddPartitionsToTxn, Kafka's rules: WRITE on the transactional id, then WRITE on every topic (a
 * denied topic fails the request: TOPIC_AUTHORIZATION_FAILED for it, OPERATION_NOT_ATTEMPTED for
 * the others); a partition that does not exist fails it the same way (UNKNOWN_TOPIC_OR_PARTITION),
 * before the coordinator sees it. Otherwise every partition gets the coordinator's answer.
 */
export async function addPartitionsToTxn(
  deps: TxnRequestDeps,
  who: RequestIdentity,
  req: { transactionalId: string; producerId: bigint; producerEpoch: number; partitions: Array<{ topic: string; partition: number }> },
): Promise<TxnPartitionResult[]> {
  const every = (e: ErrorResponse) => req.partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, ...e }));
  if (!deps.authorizer.transactionalId(who, AclOperation.WRITE, req.transactionalId)) return every(TXN_ID_DENIED);
  const transactions = deps.transactions;
  if (!transactions) return every(NO_COORDINATOR);
  const deniedTopics = new Set(
    [...new Set(req.partitions.map((tp) => tp.topic))].filter((t) => !deps.authorizer.topic(who, AclOperation.WRITE, t)),
  );
  const notAttempted = { errorCode: ErrorCode.OPERATION_NOT_ATTEMPTED, errorMessage: 'another partition of the request failed' };
  if (deniedTopics.size > 0)
    return req.partitions.map((tp) => ({
      topic: tp.topic,
      partition: tp.partition,
      ...(deniedTopics.has(tp.topic)
        ? {
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: `Topic authorization failed: the principal lacks WRITE on topic ${tp.topic}`,
          }
        : notAttempted),
    }));
  const unknown = req.partitions.filter((tp) => !transactions.partitionExists(tp.topic, tp.partition));
  if (unknown.length > 0)
    return req.partitions.map((tp) => ({
      topic: tp.topic,
      partition: tp.partition,
      ...(unknown.includes(tp)
        ? { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `no partition ${tp.topic}-${tp.partition}` }
        : notAttempted),
    }));
  const r = await transactions.addPartitionsToTxn(req);
  return every({ errorCode: r.errorCode, errorMessage: r.errorMessage });
}

/** AddOffsetsToTxn, Kafka's rules: WRITE on the transactional id, READ on the group. */
export async function addOffsetsToTxn(
  deps: TxnRequestDeps,
  who: RequestIdentity,
  req: { transactionalId: string; producerId: bigint; producerEpoch: number; groupId: string },
): Promise<ErrorResponse> {
  if (!deps.authorizer.transactionalId(who, AclOperation.WRITE, req.transactionalId)) return TXN_ID_DENIED;
  if (!deps.authorizer.group(who, AclOperation.READ, req.groupId))
    return {
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      errorMessage: `Group authorization failed: the principal lacks READ on group ${req.groupId}`,
    };
  if (!deps.transactions) return NO_COORDINATOR;
  return deps.transactions.addOffsetsToTxn(req);
}

/** EndTxn, Kafka's rule: WRITE on the transactional id. */
export async function endTxn(
  deps: TxnRequestDeps,
  who: RequestIdentity,
  req: { transactionalId: string; producerId: bigint; producerEpoch: number; committed: boolean },
): Promise<ErrorResponse> {
  if (!deps.authorizer.transactionalId(who, AclOperation.WRITE, req.transactionalId)) return TXN_ID_DENIED;
  if (!deps.transactions) return NO_COORDINATOR;
  return deps.transactions.endTxn(req);
}

export interface TxnOffsetCommitInput {
  transactionalId: string;
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  generationId: number;
  memberId: string;
  groupInstanceId: string;
  offsets: Array<{ topic: string; partition: number; offset: bigint; leaderEpoch: number; metadata: string }>;
}

/**
 * TxnOffsetCommit, Kafka's rules: WRITE on the transactional id, READ on the group, READ on each
 * topic; a denied request or topic is answered per partition and nothing of it is committed.
 * Results: the denied topics' partitions first, then the group coordinator's answers.
 */
export async function txnOffsetCommit(
  authorizer: RequestAuthorizer,
  groups: Pick<GroupCoordinator, 'txnCommitOffsets'>,
  who: RequestIdentity,
  req: TxnOffsetCommitInput,
): Promise<TxnPartitionResult[]> {
  const every = (e: ErrorResponse) => req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, ...e }));
  if (!authorizer.transactionalId(who, AclOperation.WRITE, req.transactionalId)) return every(TXN_ID_DENIED);
  if (!authorizer.group(who, AclOperation.READ, req.groupId))
    return every({
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      errorMessage: `Group authorization failed: the principal lacks READ on group ${req.groupId}`,
    });
  const readable = new Map<string, boolean>();
  for (const o of req.offsets) if (!readable.has(o.topic)) readable.set(o.topic, authorizer.topic(who, AclOperation.READ, o.topic));
  const refused = req.offsets
    .filter((o) => !readable.get(o.topic))
    .map((o) => ({
      topic: o.topic,
      partition: o.partition,
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      errorMessage: `Topic authorization failed: the principal lacks READ on topic ${o.topic}`,
    }));
  const allowed = req.offsets.filter((o) => readable.get(o.topic));
  if (allowed.length === 0) return refused;
  const results = await groups.txnCommitOffsets({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    producerId: req.producerId,
    producerEpoch: req.producerEpoch,
    offsets: allowed,
  });
  return [...refused, ...results];
}
