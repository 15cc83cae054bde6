/**
 * Transaction administration for Admin (Kafka's Admin listTransactions / describeTransactions,
 * KIP-664; kafka-transactions.sh list and describe). ListTransactions is per broker (each answers
 * for the `__transaction_state` partitions it leads), so list asks every broker and tags each
 * transaction with the broker that answered. Describe finds each id's coordinator with
 * FindCoordinator key type 1 and asks it, finding it again when it moved or was loading.
 */
import { ErrorCode, toBigInt, toWire } from '@samsa/protocol';
import type { Cluster } from '../cluster/cluster.js';
import type { GroupRouter } from '../consumer/group/coordinator.js';
import { InvalidRequestError, SamsaAggregateError, SamsaError, errorFromCode, needsMetadataRefresh } from '../errors.js';
import type { BrokerConnection } from '../connection/connection.js';
import type { Retrier } from '../retry.js';

export interface ListedTransaction {
  transactionalId: string;
  producerId: bigint;
  /** Kafka's TransactionState: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence, Dead. */
  state: string;
  /** The broker coordinating it. */
  coordinator: number;
}

export interface TransactionDescription {
  transactionalId: string;
  coordinator: number;
  state: string;
  producerId: bigint;
  producerEpoch: number;
  transactionTimeoutMs: number;
  /** When the open transaction started (ms since the epoch); undefined when none is open. */
  transactionStartTimeMs: number | undefined;
  topicPartitions: Array<{ topic: string; partition: number }>;
}

export interface ListTransactionsOptions {
  /** Only these states (none: every state). */
  states?: readonly string[];
  /** Only these producer ids (none: every id). */
  producerIds?: readonly bigint[];
}

export interface TransactionAdminDeps {
  cluster: Cluster;
  groups: GroupRouter;
  retrier: Retrier;
}

export async function listTransactions(deps: TransactionAdminDeps, options: ListTransactionsOptions = {}): Promise<ListedTransaction[]> {
  await deps.retrier.run(() => deps.cluster.refreshMetadata([]), { what: 'listTransactions' });
  const brokers = deps.cluster.info().brokers;
  const request = { stateFilters: [...(options.states ?? [])], producerIdFilters: (options.producerIds ?? []).map(toWire) };
  const out = new Map<string, ListedTransaction>();
  await Promise.all(
    brokers.map(async (b) => {
      const r = await deps.retrier.run(
        async () => {
          const connection = await deps.cluster.connectionFor(b.nodeId);
          const res = await connection.listTransactions(request, deps.cluster.requestOptions());
          if (res.errorCode !== ErrorCode.NONE) throw errorFromCode(res.errorCode, res.errorMessage);
          return res;
        },
        { what: `listTransactions on broker ${b.nodeId}` },
      );
      for (const t of r.transactions)
        out.set(t.transactionalId, {
          transactionalId: t.transactionalId,
          producerId: toBigInt(t.producerId),
          state: t.transactionState,
          coordinator: b.nodeId,
        });
    }),
  );
  return [...out.values()].sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0));
}

/** Codes after which the id's coordinator is looked up again. */
function coordinatorMoved(error: unknown): boolean {
  return (
    error instanceof SamsaError &&
    (error.code === ErrorCode.NOT_COORDINATOR ||
      error.code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
      error.code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
      error.code === ErrorCode.NETWORK_EXCEPTION ||
      error.code === ErrorCode.REQUEST_TIMED_OUT)
  );
}

async function describeOne(deps: TransactionAdminDeps, transactionalId: string): Promise<TransactionDescription> {
  let coordinator: number | undefined;
  return deps.retrier.run(
    async () => {
      if (coordinator === undefined) {
        const found = await deps.groups.anyBroker((c) =>
          c.findCoordinator({ keyType: 1, key: transactionalId }, { timeoutMs: deps.cluster.requestTimeoutMs }),
        );
        if (found.errorCode !== ErrorCode.NONE)
          throw errorFromCode(found.errorCode, found.errorMessage || `no coordinator for transactional id ${transactionalId} yet`);
        coordinator = found.nodeId;
      }
      const connection = await deps.cluster.connectionFor(coordinator);
      const res = await connection.describeTransactions({ transactionalIds: [transactionalId] }, deps.cluster.requestOptions());
      const d = res.transactions.find((t) => t.transactionalId === transactionalId);
      if (!d) throw new SamsaError(ErrorCode.UNKNOWN_SERVER_ERROR, `the coordinator did not describe transactional id ${transactionalId}`);
      if (d.errorCode !== ErrorCode.NONE) throw errorFromCode(d.errorCode, d.errorMessage);
      const start = Number(toBigInt(d.transactionStartTimeMs, -1n));
      return {
        transactionalId,
        coordinator,
        state: d.transactionState,
        producerId: toBigInt(d.producerId),
        producerEpoch: d.producerEpoch,
        transactionTimeoutMs: d.transactionTimeoutMs,
        transactionStartTimeMs: start >= 0 ? start : undefined,
        topicPartitions: d.topicPartitions.map((tp) => ({ topic: tp.topic, partition: tp.partition })),
      };
    },
    {
      what: `describeTransactions ${transactionalId}`,
      onRetriableError: (error) => {
        if (coordinatorMoved(error)) coordinator = undefined;
      },
    },
  );
}

/** Each id's description from its coordinator; throws the typed errors (TRANSACTIONAL_ID_NOT_FOUND, ...) of those that failed. */
export async function describeTransactions(
  deps: TransactionAdminDeps,
  transactionalIds: readonly string[],
): Promise<TransactionDescription[]> {
  if (!Array.isArray(transactionalIds) || transactionalIds.length === 0)
    throw new InvalidRequestError('describeTransactions needs at least one transactional id');
  for (const id of transactionalIds)
    if (typeof id !== 'string' || id.length === 0)
      throw new InvalidRequestError('describeTransactions: transactional ids must be non-empty strings');
  const results = await Promise.allSettled(transactionalIds.map((id) => describeOne(deps, id)));
  const errors = results.flatMap((r) =>
    r.status === 'rejected' ? [r.reason instanceof SamsaError ? r.reason : toSamsaError(r.reason)] : [],
  );
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new SamsaAggregateError(errors);
  return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}

function toSamsaError(e: unknown): SamsaError {
  return new SamsaError(ErrorCode.UNKNOWN_SERVER_ERROR, e instanceof Error ? e.message : String(e));
}

/** Kafka's ProducerState (DescribeProducers): a transactional producer a partition's leader knows. */
export interface ProducerState {
  producerId: bigint;
  producerEpoch: number;
  /** -1 until a marker of this producer was written to the partition. */
  coordinatorEpoch: number;
  /** The first offset of its open transaction; undefined when none is open. */
  currentTransactionStartOffset: bigint | undefined;
}

/** Kafka's AbortTransactionSpec: the open transaction of `producerId` on one partition. */
export interface AbortTransactionSpec {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
}

/** Runs `op` at the partition's leader, refreshing its metadata and retrying when the leader moved. */
function atLeader<T>(
  deps: TransactionAdminDeps,
  topic: string,
  partition: number,
  what: string,
  op: (c: BrokerConnection) => Promise<T>,
): Promise<T> {
  return deps.retrier.run(
    async () => {
      const route = deps.cluster.cachedLeader(topic, partition) ?? (await deps.cluster.leaderFor(topic, partition));
      return op(route.connection);
    },
    {
      what,
      onRetriableError: (error) => {
        if (needsMetadataRefresh(error)) deps.cluster.invalidateTopics([topic]);
      },
    },
  );
}

/** Kafka's describeProducers for one partition, from its leader. */
export async function describeProducers(deps: TransactionAdminDeps, topic: string, partition: number): Promise<ProducerState[]> {
  if (typeof topic !== 'string' || topic.length === 0 || !Number.isInteger(partition) || partition < 0)
    throw new InvalidRequestError('describeProducers needs a topic and a non-negative partition');
  return atLeader(deps, topic, partition, `describeProducers ${topic}-${partition}`, async (c) => {
    const r = await c.describeProducers({ topics: [{ name: topic, partitions: [partition] }] }, deps.cluster.requestOptions());
    const p = r.partitions.find((x) => x.topic === topic && x.partition === partition);
    if (!p) throw new SamsaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeProducers did not answer for ${topic}-${partition}`);
    if (p.errorCode !== ErrorCode.NONE) throw errorFromCode(p.errorCode, p.errorMessage, undefined, { topic, partition });
    return p.activeProducers.map((s) => {
      const start = toBigInt(s.currentTxnStartOffset, -1n);
      return {
        producerId: toBigInt(s.producerId),
        producerEpoch: s.producerEpoch,
        coordinatorEpoch: s.coordinatorEpoch,
        currentTransactionStartOffset: start >= 0n ? start : undefined,
      };
    });
  });
}

/**
 * Kafka's Admin.abortTransaction (kafka-transactions abort): writes an ABORT marker for the
 * producer's open transaction to the partition's leader (WriteTxnMarkers; CLUSTER_ACTION), so a
 * hanging transaction stops holding the last stable offset. The coordinator is not involved.
 */
export async function abortTransaction(deps: TransactionAdminDeps, spec: AbortTransactionSpec): Promise<void> {
  const { topic, partition } = spec;
  if (typeof topic !== 'string' || topic.length === 0 || !Number.isInteger(partition) || partition < 0)
    throw new InvalidRequestError('abortTransaction needs a topic and a non-negative partition');
  if (spec.producerId < 0n || !Number.isInteger(spec.producerEpoch) || spec.producerEpoch < 0)
    throw new InvalidRequestError('abortTransaction needs a producer id >= 0 and an epoch >= 0');
  await atLeader(deps, topic, partition, `abortTransaction ${topic}-${partition}`, async (c) => {
    const r = await c.writeTxnMarkers(
      {
        markers: [
          {
            topic,
            partition,
            producerId: toWire(spec.producerId),
            producerEpoch: spec.producerEpoch,
            coordinatorEpoch: Math.max(spec.coordinatorEpoch, 0),
            committed: false,
          },
        ],
        timeoutMs: deps.cluster.requestTimeoutMs,
      },
      deps.cluster.requestOptions(),
    );
    const res = r.results.find((x) => x.topic === topic && x.partition === partition);
    if (!res) throw new SamsaError(ErrorCode.UNKNOWN_SERVER_ERROR, `WriteTxnMarkers did not answer for ${topic}-${partition}`);
    if (res.errorCode !== ErrorCode.NONE) throw errorFromCode(res.errorCode, res.errorMessage, undefined, { topic, partition });
  });
}
