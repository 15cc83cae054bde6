/**
 * The transactional half of Kafka's TransactionManager (KIP-98, KIP-447): the producer's
 * transaction states and the coordinator RPCs that move between them. The design, with the state
 * diagram, is in packages/client/README.md ("Transactional producer").
 *
 * The producer calls `checkSend()` before a send, `addPartition()` before a partition's first
 * record of the transaction enters the accumulator, and `recordFailed()` when a record of the
 * transaction fails; flushing and discarding queued batches are its callbacks (`flush`,
 * `discardQueued`), so this class knows nothing of batches.
 */
import { ErrorCode, toBigInt, toWire } from '@samsa/protocol';
import type { Clock } from '../clock.js';
import type { Cluster } from '../cluster/cluster.js';
import type { BrokerConnection } from '../connection/connection.js';
import type { GroupRouter } from '../consumer/group/coordinator.js';
import {
  InvalidRequestError,
  InvalidTxnStateError,
  ProducerFencedError,
  SamsaConnectionError,
  SamsaError,
  TransactionAbortedError,
  errorFromCode,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { Retrier } from '../retry.js';
import type { IdempotenceManager } from './idempotence.js';

export type TransactionState =
  | 'UNINITIALIZED'
  | 'INITIALIZING'
  | 'READY'
  | 'IN_TRANSACTION'
  | 'COMMITTING_TRANSACTION'
  | 'ABORTING_TRANSACTION'
  | 'ABORTABLE_ERROR'
  | 'FATAL_ERROR';

/** Kafka's ConsumerGroupMetadata (KIP-447): a group consumer's `groupMetadata()` fits. */
export interface ConsumerGroupMetadata {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string | undefined;
}

/** The offsets to commit with the transaction: the next offset to read, per partition. */
export interface TransactionOffsets {
  consumerGroupId?: string;
  consumerGroupMetadata?: ConsumerGroupMetadata;
  offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint | number | string; metadata?: string }>;
}

export interface TransactionManagerDeps {
  transactionalId: string;
  transactionTimeoutMs: number;
  cluster: Cluster;
  groups: GroupRouter;
  retrier: Retrier;
  logger: Logger;
  clock: Clock;
  idempotence: IdempotenceManager;
  /** Resolves when every record sent so far is answered, either way. */
  flush: () => Promise<void>;
  /** Fails every batch not yet sent with `error`. */
  discardQueued: (error: Error) => Promise<void>;
}

/** Kafka's TransactionManager: the pause before retrying the first AddPartitionsToTxn of a transaction answered CONCURRENT_TRANSACTIONS. */
const ADD_PARTITIONS_RETRY_BACKOFF_MS = 20;
/** Quick retries of that case before the retrier's own backoff takes over (20 x 20 ms). */
const CONCURRENT_QUICK_RETRIES = 20;

/** Codes after which the transaction coordinator is looked up again. */
function coordinatorMoved(error: unknown): boolean {
  if (error instanceof SamsaConnectionError) return true;
  return (
    error instanceof SamsaError &&
    (error.code === ErrorCode.NOT_COORDINATOR ||
      error.code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
      error.code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
  );
}

/** Codes that end a transactional producer for good (Kafka's fatal errors). */
function isFatal(error: unknown): boolean {
  return (
    error instanceof SamsaError &&
    (error.code === ErrorCode.PRODUCER_FENCED ||
      error.code === ErrorCode.INVALID_PRODUCER_EPOCH ||
      error.code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
      error.code === ErrorCode.INVALID_PRODUCER_ID_MAPPING)
  );
}

export class TransactionManager {
  private current: TransactionState = 'UNINITIALIZED';
  private coordinatorId: number | undefined;
  /** `topic\0partition` of the partitions added to the open transaction. */
  private readonly added = new Set<string>();
  private readonly adding = new Map<string, Promise<void>>();
  /** Whether the coordinator knows of the open transaction (a partition or offsets were added). */
  private started = false;
  /** The error that made the state ABORTABLE_ERROR or FATAL_ERROR. */
  private lastError: Error | undefined;

  constructor(private readonly deps: TransactionManagerDeps) {
    if (typeof deps.transactionalId !== 'string' || deps.transactionalId.length === 0)
      throw new InvalidRequestError('transactionalId must be a non-empty string');
    if (!Number.isInteger(deps.transactionTimeoutMs) || deps.transactionTimeoutMs <= 0)
      throw new InvalidRequestError(`transactionTimeoutMs must be a positive integer, got ${deps.transactionTimeoutMs}`);
  }

  get state(): TransactionState {
    return this.current;
  }

  get transactionalId(): string {
    return this.deps.transactionalId;
  }

  /**
   * Kafka's initTransactions: InitProducerId at the coordinator, which fences older producers of
   * the id and completes or aborts their open transaction first (CONCURRENT_TRANSACTIONS meanwhile,
   * retried).
   */
  async initTransactions(): Promise<void> {
    this.throwIfFatal();
    if (this.current !== 'UNINITIALIZED')
      throw new InvalidTxnStateError(`initTransactions: the producer is ${this.current}, not UNINITIALIZED`);
    this.current = 'INITIALIZING';
    try {
      const { producerId, epoch } = await this.initProducerId(-1n, -1);
      this.deps.idempotence.setProducer(producerId, epoch);
      this.current = 'READY';
      this.deps.logger.info('transactional producer initialized', {
        transactionalId: this.deps.transactionalId,
        producerId: String(producerId),
        epoch,
      });
    } catch (error) {
      if (isFatal(error)) throw this.fatal(error);
      this.current = 'UNINITIALIZED';
      throw error;
    }
  }

  beginTransaction(): void {
    this.throwIfFatal();
    if (this.current !== 'READY') throw new InvalidTxnStateError(`beginTransaction: the producer is ${this.current}, not READY`);
    this.current = 'IN_TRANSACTION';
    this.started = false;
    this.added.clear();
  }

  /** Throws unless records may be sent now (only inside a transaction). */
  checkSend(): void {
    this.throwIfFatal();
    if (this.current === 'ABORTABLE_ERROR')
      throw new InvalidTxnStateError('the transaction failed and must be aborted (abortTransaction) before sending again', {
        ...(this.lastError ? { cause: this.lastError } : {}),
      });
    if (this.current !== 'IN_TRANSACTION')
      throw new InvalidTxnStateError(`a transactional producer sends only inside a transaction (beginTransaction); it is ${this.current}`);
  }

  /** Adds the partition to the open transaction (AddPartitionsToTxn) unless it is in already. */
  addPartition(topic: string, partition: number): Promise<void> | undefined {
    const key = `${topic}\u0000${partition}`;
    if (this.added.has(key)) return undefined;
    let pending = this.adding.get(key);
    if (!pending) {
      pending = this.addPartitionNow(topic, partition, key).finally(() => this.adding.delete(key));
      this.adding.set(key, pending);
    }
    return pending;
  }

  private async addPartitionNow(topic: string, partition: number, key: string): Promise<void> {
    try {
      await this.withCoordinator(
        `AddPartitionsToTxn ${topic}-${partition}`,
        async (c) => {
          const r = await c.addPartitionsToTxn(
            {
              transactionalId: this.deps.transactionalId,
              producerId: toWire(this.deps.idempotence.producerId),
              producerEpoch: this.deps.idempotence.epoch,
              topics: [{ name: topic, partitions: [partition] }],
            },
            this.deps.cluster.requestOptions(),
          );
          const p = r.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partition === partition);
          if (!p) throw new SamsaError(ErrorCode.UNKNOWN_SERVER_ERROR, `AddPartitionsToTxn did not answer for ${topic}-${partition}`);
          if (p.errorCode !== ErrorCode.NONE) throw errorFromCode(p.errorCode, p.errorMessage, undefined, { topic, partition });
        },
        ADD_PARTITIONS_RETRY_BACKOFF_MS,
      );
      this.added.add(key);
      this.started = true;
    } catch (error) {
      throw this.failed(error);
    }
  }

  /** A record of the open transaction failed: the transaction can only be aborted now (or the producer is fenced). */
  recordFailed(error: unknown): void {
    if (this.current === 'IN_TRANSACTION' || this.current === 'COMMITTING_TRANSACTION') this.failed(error);
  }

  /**
   * Kafka's sendOffsetsToTransaction: AddOffsetsToTxn at the transaction coordinator, then
   * TxnOffsetCommit at the group's coordinator; the offsets become visible when the transaction
   * commits.
   */
  async sendOffsetsToTransaction(request: TransactionOffsets): Promise<void> {
    this.checkSend();
    const meta = request.consumerGroupMetadata;
    const groupId = meta?.groupId ?? request.consumerGroupId;
    if (typeof groupId !== 'string' || groupId.length === 0)
      throw new InvalidRequestError('sendOffsetsToTransaction needs consumerGroupId or consumerGroupMetadata');
    if (!Array.isArray(request.offsets)) throw new InvalidRequestError('sendOffsetsToTransaction: offsets must be an array');
    const offsets = request.offsets.map((o) => {
      if (typeof o?.topic !== 'string' || !Number.isInteger(o.partition) || o.partition < 0)
        throw new InvalidRequestError('sendOffsetsToTransaction: each offset needs a topic and a non-negative partition');
      let offset: bigint;
      try {
        offset = toBigInt(String(o.offset));
      } catch {
        throw new InvalidRequestError(`sendOffsetsToTransaction: offset ${String(o.offset)} is not an integer`);
      }
      return { topic: o.topic, partition: o.partition, offset, metadata: o.metadata ?? '' };
    });
    try {
      await this.withCoordinator(`AddOffsetsToTxn ${groupId}`, async (c) => {
        const r = await c.addOffsetsToTxn(
          {
            transactionalId: this.deps.transactionalId,
            producerId: toWire(this.deps.idempotence.producerId),
            producerEpoch: this.deps.idempotence.epoch,
            groupId,
          },
          this.deps.cluster.requestOptions(),
        );
        if (r.errorCode !== ErrorCode.NONE) throw errorFromCode(r.errorCode, r.errorMessage);
      });
      this.started = true;
      const byTopic = new Map<string, typeof offsets>();
      for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
      await this.deps.groups.withCoordinator(groupId, this.deps.retrier, async (c) => {
        const r = await c.connection.txnOffsetCommit(
          {
            transactionalId: this.deps.transactionalId,
            groupId,
            producerId: toWire(this.deps.idempotence.producerId),
            producerEpoch: this.deps.idempotence.epoch,
            generationId: meta?.generationId ?? -1,
            memberId: meta?.memberId ?? '',
            groupInstanceId: meta?.groupInstanceId ?? '',
            topics: [...byTopic].map(([name, ps]) => ({
              name,
              partitions: ps.map((p) => ({
                partition: p.partition,
                committedOffset: toWire(p.offset),
                committedLeaderEpoch: -1,
                committedMetadata: p.metadata,
              })),
            })),
          },
          this.deps.cluster.requestOptions(),
        );
        for (const t of r.topics)
          for (const p of t.partitions)
            if (p.errorCode !== ErrorCode.NONE)
              throw errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: t.name, partition: p.partition });
      });
    } catch (error) {
      throw this.failed(error);
    }
  }

  /** Kafka's commitTransaction: every record of the transaction acknowledged, then EndTxn(commit). */
  async commitTransaction(): Promise<void> {
    this.throwIfFatal();
    if (this.current === 'ABORTABLE_ERROR')
      throw new InvalidTxnStateError('the transaction failed and can only be aborted', {
        ...(this.lastError ? { cause: this.lastError } : {}),
      });
    if (this.current !== 'IN_TRANSACTION')
      throw new InvalidTxnStateError(`commitTransaction: the producer is ${this.current}, not IN_TRANSACTION`);
    this.current = 'COMMITTING_TRANSACTION';
    await this.deps.flush();
    await Promise.allSettled([...this.adding.values()]);
    // A record that failed (recordFailed) moved the state on: the commit must not go ahead.
    if ((this.current as TransactionState) !== 'COMMITTING_TRANSACTION') {
      this.throwIfFatal();
      throw new InvalidTxnStateError('a record of the transaction failed; abort the transaction', {
        ...(this.lastError ? { cause: this.lastError } : {}),
      });
    }
    try {
      if (this.started) await this.endTxn(true);
    } catch (error) {
      throw this.failed(error);
    }
    this.completed();
  }

  /** Kafka's abortTransaction: unsent records are discarded, those in flight answered, then EndTxn(abort). */
  async abortTransaction(): Promise<void> {
    this.throwIfFatal();
    if (this.current !== 'IN_TRANSACTION' && this.current !== 'ABORTABLE_ERROR')
      throw new InvalidTxnStateError(`abortTransaction: the producer is ${this.current}, with no transaction open`);
    this.current = 'ABORTING_TRANSACTION';
    await this.deps.discardQueued(new TransactionAbortedError());
    await this.deps.flush();
    await Promise.allSettled([...this.adding.values()]);
    try {
      if (this.started) await this.endTxn(false);
      // A sequence broke in this transaction: the coordinator bumps the epoch (KIP-360) so the next
      // transaction starts clean.
      if (this.deps.idempotence.epochBumpNeeded || this.deps.idempotence.bumpPending) {
        const { producerId, epoch } = await this.initProducerId(this.deps.idempotence.producerId, this.deps.idempotence.epoch);
        this.deps.idempotence.setProducer(producerId, epoch);
      }
    } catch (error) {
      if (isFatal(error)) throw this.fatal(error);
      this.current = 'ABORTABLE_ERROR';
      this.lastError = error as Error;
      throw error;
    }
    this.completed();
  }

  private completed(): void {
    this.current = 'READY';
    this.started = false;
    this.added.clear();
  }

  private async endTxn(committed: boolean): Promise<void> {
    await this.withCoordinator(committed ? 'EndTxn(commit)' : 'EndTxn(abort)', async (c) => {
      const r = await c.endTxn(
        {
          transactionalId: this.deps.transactionalId,
          producerId: toWire(this.deps.idempotence.producerId),
          producerEpoch: this.deps.idempotence.epoch,
          committed,
        },
        this.deps.cluster.requestOptions(),
      );
      if (r.errorCode !== ErrorCode.NONE) throw errorFromCode(r.errorCode, r.errorMessage);
    });
  }

  private async initProducerId(producerId: bigint, epoch: number): Promise<{ producerId: bigint; epoch: number }> {
    return this.withCoordinator('InitProducerId', async (c) => {
      const r = await c.initProducerId(
        {
          transactionalId: this.deps.transactionalId,
          transactionTimeoutMs: this.deps.transactionTimeoutMs,
          producerId: toWire(producerId),
          producerEpoch: epoch,
        },
        this.deps.cluster.requestOptions(),
      );
      if (r.errorCode !== ErrorCode.NONE) throw errorFromCode(r.errorCode, r.errorMessage);
      return { producerId: toBigInt(r.producerId), epoch: r.producerEpoch };
    });
  }

  /**
   * Runs `op` at the transaction coordinator, finding it again and retrying when it moved or is
   * loading. With `concurrentBackoffMs`, CONCURRENT_TRANSACTIONS before the transaction has any
   * partition is retried after that short pause first (a few times, then the retrier's backoff):
   * it almost always means the coordinator is still writing the previous transaction's markers,
   * a few milliseconds of work, and Kafka's producer retries that case after 20 ms rather than its
   * full retry.backoff.ms (KAFKA-5477).
   */
  private withCoordinator<T>(what: string, op: (c: BrokerConnection) => Promise<T>, concurrentBackoffMs?: number): Promise<T> {
    const { cluster, groups, retrier, transactionalId } = this.deps;
    const attempt =
      concurrentBackoffMs === undefined
        ? op
        : async (c: BrokerConnection): Promise<T> => {
            for (let i = 0; ; i++) {
              try {
                return await op(c);
              } catch (error) {
                const concurrent = error instanceof SamsaError && error.code === ErrorCode.CONCURRENT_TRANSACTIONS;
                if (!concurrent || this.started || i >= CONCURRENT_QUICK_RETRIES) throw error;
                await this.deps.clock.sleep(concurrentBackoffMs);
              }
            }
          };
    return retrier.run(
      async () => {
        if (this.coordinatorId === undefined) {
          const found = await groups.anyBroker((c) => c.findCoordinator({ keyType: 1, key: transactionalId }, cluster.requestOptions()));
          if (found.errorCode !== ErrorCode.NONE)
            throw errorFromCode(found.errorCode, found.errorMessage || `no coordinator for transactional id ${transactionalId} yet`);
          this.coordinatorId = found.nodeId;
        }
        return attempt(await cluster.connectionFor(this.coordinatorId));
      },
      {
        what: `${what} (transactional id ${transactionalId})`,
        onRetriableError: (error) => {
          if (coordinatorMoved(error)) this.coordinatorId = undefined;
        },
      },
    );
  }

  /** A failure inside the transaction: FATAL_ERROR for fencing, else ABORTABLE_ERROR. Returns the error to throw. */
  private failed(error: unknown): Error {
    if (isFatal(error)) return this.fatal(error);
    if (this.current !== 'FATAL_ERROR') {
      this.current = 'ABORTABLE_ERROR';
      this.lastError = error as Error;
    }
    return error as Error;
  }

  private fatal(error: unknown): Error {
    const e =
      error instanceof SamsaError && (error.code === ErrorCode.PRODUCER_FENCED || error.code === ErrorCode.INVALID_PRODUCER_EPOCH)
        ? error instanceof ProducerFencedError
          ? error
          : new ProducerFencedError(
              `transactional id ${this.deps.transactionalId}: a newer producer with the same id fenced this one (${error.errorName})`,
              { cause: error },
            )
        : (error as Error);
    if (this.current !== 'FATAL_ERROR') {
      this.current = 'FATAL_ERROR';
      this.lastError = e;
      this.deps.logger.error('transactional producer failed for good', { transactionalId: this.deps.transactionalId, error: e.message });
    }
    return e;
  }

  private throwIfFatal(): void {
    if (this.current === 'FATAL_ERROR') throw this.lastError ?? new InvalidTxnStateError('the transactional producer failed for good');
  }
}
