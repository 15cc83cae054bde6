/**
 * ListTransactions and DescribeTransactions on the gRPC client API (Kafka's KafkaApis
 * handleListTransactionsRequest / handleDescribeTransactionsRequest, KIP-664), answered from the
 * broker's TransactionStateManager: list covers the `__transaction_state` partitions this broker
 * leads (a client asks every broker, as Kafka's Admin does); describe answers for ids this broker
 * coordinates and NOT_COORDINATOR for the others.
 *
 * ACLs as Kafka: DescribeTransactions needs DESCRIBE on each TRANSACTIONAL_ID
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED per id otherwise); ListTransactions silently leaves out
 * the ids the caller may not DESCRIBE. The functions take the coordinator view and the authorizer
 * as arguments so they are tested with fakes.
 */
import { AclOperation, AclResourceType } from '@samsa/metadata';
import {
  ErrorCode,
  toBigInt,
  toWire,
  type DescribeTransactionsRequest__Output,
  type DescribeTransactionsResponse__Output as DescribeTransactionsResponse,
  type ListTransactionsRequest__Output,
  type ListTransactionsResponse__Output as ListTransactionsResponse,
  type TransactionDescription__Output as TransactionDescriptionWire,
} from '@samsa/protocol';
import type { RequestAuthorizer, RequestIdentity } from '../security/authorizerService.js';
import { TXN_STATES, type TransactionDescription, type TxnState } from '../txn/transactionCoordinatorState.js';

/** What the handlers read of the TransactionStateManager. */
export interface TransactionsView {
  describe(transactionalId: string): { errorCode: number; errorMessage: string; description?: TransactionDescription };
  list(
    stateFilters: readonly TxnState[],
    producerIdFilters: readonly bigint[],
  ): { errorCode: number; errorMessage: string; transactions: TransactionDescription[] };
}

const isTxnState = (s: string): s is TxnState => (TXN_STATES as readonly string[]).includes(s);

export function listTransactions(
  view: TransactionsView | undefined,
  authorizer: RequestAuthorizer,
  req: ListTransactionsRequest__Output,
  who: RequestIdentity,
): ListTransactionsResponse {
  const known = req.stateFilters.filter(isTxnState);
  const unknownStateFilters = req.stateFilters.filter((s) => !isTxnState(s));
  if (view === undefined)
    return {
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: 'this broker runs no transaction coordinator',
      transactions: [],
      unknownStateFilters,
    };
  // Only unknown filters: nothing can match (Kafka answers them and an empty list).
  if (req.stateFilters.length > 0 && known.length === 0)
    return { errorCode: ErrorCode.NONE, errorMessage: '', unknownStateFilters, transactions: [] };
  let producerIds: bigint[];
  try {
    producerIds = req.producerIdFilters.map((p) => toBigInt(p));
  } catch {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'producer id filters must be integers',
      unknownStateFilters,
      transactions: [],
    };
  }
  const r = view.list(known, producerIds);
  if (r.errorCode !== ErrorCode.NONE)
    return { errorCode: r.errorCode, errorMessage: r.errorMessage, unknownStateFilters, transactions: [] };
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: '',
    unknownStateFilters,
    transactions: r.transactions
      // Kafka lists only what the caller may describe, without an error for the rest.
      .filter((t) => authorizer.authorize(who, AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, t.transactionalId, false))
      .sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0))
      .map((t) => ({ transactionalId: t.transactionalId, producerId: toWire(t.producerId), transactionState: t.state })),
  };
}

export function describeTransactions(
  view: TransactionsView | undefined,
  authorizer: RequestAuthorizer,
  req: DescribeTransactionsRequest__Output,
  who: RequestIdentity,
): DescribeTransactionsResponse {
  const failed = (transactionalId: string, errorCode: number, errorMessage: string): TransactionDescriptionWire => ({
    errorCode,
    errorMessage,
    transactionalId,
    transactionState: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: '-1',
    producerId: '-1',
    producerEpoch: -1,
    topicPartitions: [],
  });
  return {
    transactions: req.transactionalIds.map((id) => {
      if (id === '') return failed(id, ErrorCode.INVALID_REQUEST, 'a transactional id must not be empty');
      if (!authorizer.transactionalId(who, AclOperation.DESCRIBE, id))
        return failed(id, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, `not authorized to describe transactional id '${id}'`);
      if (view === undefined) return failed(id, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'this broker runs no transaction coordinator');
      const r = view.describe(id);
      const d = r.description;
      if (r.errorCode !== ErrorCode.NONE || d === undefined) return failed(id, r.errorCode, r.errorMessage);
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: '',
        transactionalId: id,
        transactionState: d.state,
        transactionTimeoutMs: d.txnTimeoutMs,
        transactionStartTimeMs: String(d.txnStartTimestamp),
        producerId: toWire(d.producerId),
        producerEpoch: d.producerEpoch,
        topicPartitions: [...d.topicPartitions]
          .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
          .map((tp) => ({ topic: tp.topic, partition: tp.partition })),
      };
    }),
  };
}
