/**
 * The idempotent producer's bookkeeping (the idempotence half of Kafka's TransactionManager).
 *
 * ## Producer id
 *
 * InitProducerId once, before the first idempotent batch leaves (retriable errors are retried
 * with backoff; a non-retriable one fails the batches waiting for it). The epoch starts at 0 and
 * is bumped locally, as Kafka's client does for a non-transactional producer (KIP-360), when a
 * partition's sequence can no longer be resolved; at epoch 32767 a new id is fetched instead.
 *
 * ## Sequences, per partition
 *
 *   nextSequence      the base sequence the next new batch gets (assigned when it is drained,
 *                     not when it is created, so batches that never leave leave no gap)
 *   inFlight          batches of the partition sent and not yet answered (at most 5, the number
 *                     the broker remembers for duplicate detection)
 *
 * A batch keeps its sequence across retries. A retried batch goes back to its queue in sequence
 * order and is sent again only when no earlier batch of its partition is in flight, so the
 * partition's batches reach the log in sequence order whatever was lost on the way.
 *
 * OUT_OF_ORDER_SEQUENCE_NUMBER means an earlier batch of the partition is missing on the broker.
 * If that batch was still unanswered when this one was sent, the earlier one's retry fills the
 * gap: this batch is retried (Kafka's canRetry). If not, the broker lost the producer's state
 * (or the earlier batch failed for good): this batch fails, and so does any sequenced batch that
 * fails for good (non-retriable error, delivery timeout) since it leaves a gap. Either way the
 * epoch is bumped: nothing more is sent until every batch in flight is answered, then every
 * partition restarts at sequence 0 under the new epoch and the batches still queued are
 * re-stamped (Kafka's bumpIdempotentEpochAndResetIdIfNeeded).
 */
import { ErrorCode, computeBatchCrc } from '@samsa/protocol';
import type { Clock, Random } from '../clock.js';
import type { Cluster } from '../cluster/cluster.js';
import { SamsaError, errorFromCode, isRetriable } from '../errors.js';
import type { Logger } from '../logger.js';
import { backoffMs } from '../retry.js';
import type { ResolvedRetryOptions } from '../retry.js';
import type { ProducerBatch } from './accumulator.js';

export const MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5;
const INT32_MAX = 0x7fffffff;
const INT16_MAX = 0x7fff;

/** Byte positions in a RecordBatch v2 header. */
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const BASE_SEQUENCE_AT = 53;
const CRC_AT = 17;

/** `seq + n`, wrapping past int32 max to 0 as Kafka's sequences do. */
export function incrementSequence(seq: number, n: number): number {
  return seq > INT32_MAX - n ? n - (INT32_MAX - seq) - 1 : seq + n;
}

/** Writes producer id, epoch and base sequence into built batch bytes and re-stamps the CRC. */
export function stampProducer(bytes: Buffer, producerId: bigint, producerEpoch: number, baseSequence: number): void {
  bytes.writeBigInt64BE(producerId, PRODUCER_ID_AT);
  bytes.writeInt16BE(producerEpoch, PRODUCER_EPOCH_AT);
  bytes.writeInt32BE(baseSequence, BASE_SEQUENCE_AT);
  bytes.writeUInt32BE(computeBatchCrc(bytes, 0, bytes.length), CRC_AT);
}

export interface PartitionSequences {
  nextSequence: number;
  /** Increases per batch sequenced: the order batches must reach the log in. */
  nextOrder: number;
  readonly inFlight: Set<ProducerBatch>;
  /** Sequenced batches not yet answered for good (in flight, or queued for a retry). */
  readonly unacked: Set<ProducerBatch>;
}

export interface IdempotenceDeps {
  /**
   * A transactional producer: its id and epoch come from the TransactionManager (setProducer), never
   * from an InitProducerId of its own, and a broken sequence is not repaired by a local epoch bump
   * but fails the transaction's batches until abortTransaction gets a new epoch from the
   * coordinator (Kafka's TransactionManager, KIP-360).
   */
  transactional?: boolean;
  cluster: Cluster;
  clock: Clock;
  random: Random;
  logger: Logger;
  backoff: ResolvedRetryOptions;
}

export class IdempotenceManager {
  producerId = -1n;
  epoch = -1;
  /** Set when a partition's sequence broke: no idempotent batch is sent until it is done. */
  bumpPending = false;
  /** A non-retriable InitProducerId failure: idempotent batches fail with it. */
  fatal: Error | undefined;
  private initializing: Promise<void> | undefined;
  private readonly partitions = new Map<string, PartitionSequences>();

  constructor(private readonly deps: IdempotenceDeps) {}

  get ready(): boolean {
    return this.producerId >= 0n;
  }

  /** Transactional: a sequence broke in this transaction; abortTransaction must fetch a new epoch. */
  epochBumpNeeded = false;

  /** Transactional: the id and epoch InitProducerId gave the TransactionManager; every partition restarts at sequence 0. */
  setProducer(producerId: bigint, epoch: number): void {
    this.producerId = producerId;
    this.epoch = epoch;
    this.fatal = undefined;
    this.epochBumpNeeded = false;
    this.bumpPending = false;
    for (const p of this.partitions.values()) {
      p.nextSequence = 0;
      p.unacked.clear();
    }
  }

  /** Starts InitProducerId if it is not done or running; `onDone` runs when it settles. */
  ensureInitialized(onDone: () => void): void {
    if (this.ready || this.fatal || this.deps.transactional) return;
    this.initializing ??= this.initialize().finally(() => {
      this.initializing = undefined;
      onDone();
    });
  }

  private async initialize(): Promise<void> {
    const { cluster, clock, random, logger, backoff } = this.deps;
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await cluster.withAnyBroker(async (connection) => {
          return connection.initProducerId(
            { transactionalId: '', transactionTimeoutMs: 60_000, producerId: '-1', producerEpoch: -1 },
            cluster.requestOptions(),
          );
        });
        if (response.errorCode !== ErrorCode.NONE) throw errorFromCode(response.errorCode, response.errorMessage);
        this.producerId = BigInt(response.producerId);
        this.epoch = response.producerEpoch;
        for (const p of this.partitions.values()) p.nextSequence = 0;
        logger.debug('idempotent producer initialized', { producerId: String(this.producerId), epoch: this.epoch });
        return;
      } catch (error) {
        if (!isRetriable(error)) {
          this.fatal = error as Error;
          logger.error('InitProducerId failed', { error: (error as Error).message });
          return;
        }
        const delay = backoffMs(attempt, backoff, random);
        logger.debug('InitProducerId failed, retrying', { attempt, delayMs: delay, error: (error as Error).message });
        await clock.sleep(delay);
      }
    }
  }

  partition(topic: string, partition: number): PartitionSequences {
    const key = `${partition}/${topic}`;
    let p = this.partitions.get(key);
    if (!p) this.partitions.set(key, (p = { nextSequence: 0, nextOrder: 0, inFlight: new Set(), unacked: new Set() }));
    return p;
  }

  /** Gives a batch that has none the partition's next sequence, and stamps its bytes. */
  sequence(batch: ProducerBatch, p: PartitionSequences): void {
    if (batch.baseSequence >= 0 && batch.producerEpoch === this.epoch && batch.producerId === this.producerId) return;
    batch.baseSequence = p.nextSequence;
    batch.producerId = this.producerId;
    batch.producerEpoch = this.epoch;
    batch.order = p.nextOrder++;
    p.unacked.add(batch);
    p.nextSequence = incrementSequence(p.nextSequence, batch.count);
    stampProducer(batch.build(), this.producerId, this.epoch, batch.baseSequence);
  }

  /**
   * Whether `batch` may be sent now. A retried batch: only once every earlier one is answered. A
   * new batch: only within 5 batches of the oldest unanswered one, so that if the oldest was
   * written (its answer lost), it is still among the 5 the broker remembers when it is retried —
   * a lost answer must never turn a duplicate into an OUT_OF_ORDER.
   */
  maySend(batch: ProducerBatch, p: PartitionSequences): boolean {
    if (p.inFlight.size >= MAX_IN_FLIGHT_FOR_IDEMPOTENCE) return false;
    if (batch.baseSequence < 0) {
      let oldest = p.nextOrder;
      for (const other of p.unacked) if (other.order < oldest) oldest = other.order;
      return p.nextOrder - oldest < MAX_IN_FLIGHT_FOR_IDEMPOTENCE;
    }
    for (const other of p.inFlight) if (other.order < batch.order) return false;
    return true;
  }

  /** The batch is answered for good (acknowledged, or failed). */
  done(batch: ProducerBatch): void {
    if (batch.order >= 0) this.partition(batch.topic, batch.partition).unacked.delete(batch);
  }

  /** Whether an earlier batch of the partition is unanswered (the moment `batch` is sent). */
  hasEarlierInFlight(batch: ProducerBatch, p: PartitionSequences): boolean {
    for (const other of p.inFlight) if (other.order < batch.order) return true;
    return false;
  }

  /**
   * Bumps the epoch (or asks for a new id past 32767) and restarts every partition at sequence 0;
   * `queued` batches lose their sequences and are re-stamped when next drained. Only call with
   * nothing in flight.
   */
  bumpEpoch(queued: Iterable<ProducerBatch>): void {
    this.bumpPending = false;
    if (this.deps.transactional) {
      // The coordinator owns the epoch: queued batches fail (the transaction must be aborted) and
      // abortTransaction asks for the bumped epoch (InitProducerId with the current id and epoch).
      this.epochBumpNeeded = true;
      this.fatal = new SamsaError(
        ErrorCode.INVALID_TXN_STATE,
        'a batch of this transaction failed for good, leaving a sequence gap: abort the transaction',
        { retriable: false },
      );
      return;
    }
    if (this.epoch >= INT16_MAX) {
      this.producerId = -1n;
      this.epoch = -1;
    } else {
      this.epoch++;
    }
    for (const p of this.partitions.values()) {
      p.nextSequence = 0;
      p.unacked.clear();
    }
    for (const batch of queued) batch.baseSequence = -1;
    this.deps.logger.info('idempotent producer epoch bumped after an unresolvable sequence', {
      producerId: String(this.producerId),
      epoch: this.epoch,
    });
  }
}
