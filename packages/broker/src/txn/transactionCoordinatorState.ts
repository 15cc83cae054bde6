/**
 * The transaction coordinator's state for the transactional ids of one `__transaction_state`
 * partition (README.md section 1; Kafka's TransactionCoordinator, TransactionStateManager and
 * TransactionMetadata, KIP-98/KIP-360/KIP-447). PURE: time comes in as `now` (epoch ms), producer
 * ids from an injected allocator, and nothing is written here. Each request returns
 * `{ response, records }`: the caller appends `records` to the partition (acks=all), then calls
 * `replay(record)` and sends `response`; if the append fails it calls `writeFailed(id)` and answers
 * with the append's error instead. While a record is in flight the id has a pending transition and
 * every other request for it gets CONCURRENT_TRANSACTIONS, as in Kafka.
 *
 * The state is only ever changed by `replay`, so the live path and a load after failover are the
 * same code. `markerRequests()` lists the COMMIT/ABORT markers owed by every PrepareCommit /
 * PrepareAbort transaction; once all are written the caller calls `markersWritten`.
 */
import { ErrorCode } from '@samsa/protocol';
import { kafkaAbs, javaStringHashCode } from '../group/hash.js';

export type TxnState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead'
  | 'PrepareEpochFence';

export const TXN_STATES: readonly TxnState[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
];

/** Kafka's transaction state topic partition count (transaction.state.log.num.partitions). */
export const TRANSACTION_STATE_PARTITIONS = 50;
/** Kafka bumps to a new producer id once the epoch reaches Short.MaxValue - 1. */
export const MAX_PRODUCER_EPOCH = 32_766;
const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;

/** Which `__transaction_state` partition holds a transactional id (Kafka's partitionFor). */
export function transactionStatePartitionFor(transactionalId: string, partitionCount = TRANSACTION_STATE_PARTITIONS): number {
  return kafkaAbs(javaStringHashCode(transactionalId)) % partitionCount;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The value of a `__transaction_state` record (Kafka's TransactionLogValue fields). */
export interface TransactionLogValue {
  producerId: bigint;
  lastProducerId: bigint;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TxnState;
  topicPartitions: TopicPartition[];
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
}

/** A `__transaction_state` record: key transactionalId, value null for the tombstone of an expired id. */
export interface TransactionLogRecord {
  transactionalId: string;
  value: TransactionLogValue | null;
}

export interface TransactionCoordinatorConfig {
  /** transaction.max.timeout.ms (Kafka 900000). */
  transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms (Kafka 604800000, 7 days). */
  transactionalIdExpirationMs: number;
  /** The leader epoch of this `__transaction_state` partition: stamped in every marker. */
  coordinatorEpoch: number;
  /** `__consumer_offsets` has this many partitions (offsets.topic.num.partitions). */
  offsetsTopicPartitions: number;
}

export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: Readonly<Omit<TransactionCoordinatorConfig, 'coordinatorEpoch'>> = {
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  offsetsTopicPartitions: 50,
};

export interface ErrorResponse {
  errorCode: number;
  errorMessage: string;
}

export interface InitProducerIdRequest {
  transactionalId: string;
  transactionTimeoutMs: number;
  /** KIP-360: the producer's current id and epoch when it re-initializes, else -1. */
  producerId: bigint;
  producerEpoch: number;
}

export interface InitProducerIdResponse extends ErrorResponse {
  producerId: bigint;
  producerEpoch: number;
}

export interface AddPartitionsRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  partitions: TopicPartition[];
}

export interface AddOffsetsRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  groupId: string;
}

export interface EndTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  /** true = commit, false = abort. */
  committed: boolean;
}

/** The markers one Prepare* transaction owes: one control batch per partition. */
export interface TxnMarkerRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  result: 'COMMIT' | 'ABORT';
  partitions: TopicPartition[];
}

export interface TxnResult<R> {
  response: R;
  records: TransactionLogRecord[];
}

export interface TransactionDescription {
  transactionalId: string;
  state: TxnState;
  /** The state being written, if a record is in flight. */
  pendingState: TxnState | null;
  producerId: bigint;
  producerEpoch: number;
  txnTimeoutMs: number;
  txnStartTimestamp: number;
  topicPartitions: TopicPartition[];
}

interface TxnMetadata {
  value: TransactionLogValue;
  /** The record in flight (Kafka's pendingState) and what to show meanwhile. */
  pending: { state: TxnState; shownAs: TxnState } | null;
}

function ok(): ErrorResponse {
  return { errorCode: ErrorCode.NONE, errorMessage: '' };
}

function err(code: number, errorMessage: string): ErrorResponse {
  return { errorCode: code, errorMessage };
}

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

function unionPartitions(a: TopicPartition[], b: TopicPartition[]): TopicPartition[] {
  const seen = new Set(a.map(tpKey));
  const out = [...a];
  for (const tp of b) {
    if (!seen.has(tpKey(tp))) {
      seen.add(tpKey(tp));
      out.push({ topic: tp.topic, partition: tp.partition });
    }
  }
  return out;
}

export class TransactionCoordinatorState {
  private readonly txns = new Map<string, TxnMetadata>();

  constructor(
    private readonly config: TransactionCoordinatorConfig,
    /** A fresh producer id (the controller's block in the broker; a counter in tests). */
    private readonly allocateProducerId: () => bigint,
  ) {}

  // ---- requests -------------------------------------------------------------------------------

  initProducerId(req: InitProducerIdRequest, now: number): TxnResult<InitProducerIdResponse> {
    const fail = (code: number, message: string): TxnResult<InitProducerIdResponse> => ({
      response: { ...err(code, message), producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH },
      records: [],
    });
    if (req.transactionalId === '') return fail(ErrorCode.INVALID_REQUEST, 'transactional id must not be empty');
    if (
      !Number.isInteger(req.transactionTimeoutMs) ||
      req.transactionTimeoutMs <= 0 ||
      req.transactionTimeoutMs > this.config.transactionMaxTimeoutMs
    ) {
      return fail(
        ErrorCode.INVALID_TRANSACTION_TIMEOUT,
        `transaction.timeout.ms ${req.transactionTimeoutMs} must be in [1, ${this.config.transactionMaxTimeoutMs}] (transaction.max.timeout.ms)`,
      );
    }
    const m = this.txns.get(req.transactionalId);
    if (m === undefined) {
      const producerId = this.allocateProducerId();
      const value: TransactionLogValue = {
        producerId,
        lastProducerId: NO_PRODUCER_ID,
        producerEpoch: 0,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
        txnTimeoutMs: req.transactionTimeoutMs,
        state: 'Empty',
        topicPartitions: [],
        txnStartTimestamp: -1,
        txnLastUpdateTimestamp: now,
      };
      // Registered now (pending) so a concurrent InitProducerId for the same id waits for this one.
      this.txns.set(req.transactionalId, {
        value: { ...value, producerEpoch: NO_PRODUCER_EPOCH, producerId: NO_PRODUCER_ID },
        pending: { state: 'Empty', shownAs: 'Empty' },
      });
      return { response: { ...ok(), producerId, producerEpoch: 0 }, records: [{ transactionalId: req.transactionalId, value }] };
    }
    if (m.pending !== null)
      return fail(
        ErrorCode.CONCURRENT_TRANSACTIONS,
        `transactional id ${req.transactionalId} has a ${m.pending.state} transition being written; retry`,
      );
    const v = m.value;
    if (v.state === 'PrepareCommit' || v.state === 'PrepareAbort') {
      return fail(
        ErrorCode.CONCURRENT_TRANSACTIONS,
        `transactional id ${req.transactionalId} is completing its transaction (${v.state}); retry`,
      );
    }
    if (v.state === 'Ongoing') {
      // A new producer instance: fence the old one (epoch bump) and abort its open transaction first.
      const record = this.fenceAndAbort(req.transactionalId, m, now);
      return {
        response: {
          ...err(
            ErrorCode.CONCURRENT_TRANSACTIONS,
            `transactional id ${req.transactionalId} had an open transaction; it is being aborted, retry`,
          ),
          producerId: NO_PRODUCER_ID,
          producerEpoch: NO_PRODUCER_EPOCH,
        },
        records: [record],
      };
    }
    // Empty, CompleteCommit, CompleteAbort.
    if (req.producerId !== NO_PRODUCER_ID || req.producerEpoch !== NO_PRODUCER_EPOCH) {
      const current = req.producerId === v.producerId && req.producerEpoch === v.producerEpoch;
      // A retried InitProducerId whose answer was lost: the caller already holds the bumped epoch.
      const retried = (req.producerId === v.lastProducerId || req.producerId === v.producerId) && req.producerEpoch === v.lastProducerEpoch;
      if (retried && !current) return { response: { ...ok(), producerId: v.producerId, producerEpoch: v.producerEpoch }, records: [] };
      if (!current)
        return fail(
          ErrorCode.PRODUCER_FENCED,
          `producer ${req.producerId} epoch ${req.producerEpoch} is not the current one of ${req.transactionalId} (${v.producerId} epoch ${v.producerEpoch})`,
        );
    }
    const bumped = this.bumpEpoch(v);
    const value: TransactionLogValue = {
      ...v,
      ...bumped,
      txnTimeoutMs: req.transactionTimeoutMs,
      state: 'Empty',
      topicPartitions: [],
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    };
    m.pending = { state: 'Empty', shownAs: v.state };
    return {
      response: { ...ok(), producerId: value.producerId, producerEpoch: value.producerEpoch },
      records: [{ transactionalId: req.transactionalId, value }],
    };
  }

  addPartitionsToTxn(req: AddPartitionsRequest, now: number): TxnResult<ErrorResponse> {
    if (req.partitions.length === 0)
      return { response: err(ErrorCode.INVALID_REQUEST, 'AddPartitionsToTxn names no partitions'), records: [] };
    return this.addToTxn(req.transactionalId, req.producerId, req.producerEpoch, req.partitions, now);
  }

  /** KIP-447: the group's `__consumer_offsets` partition joins the transaction, so it gets a marker too. */
  addOffsetsToTxn(req: AddOffsetsRequest, now: number): TxnResult<ErrorResponse> {
    if (req.groupId === '') return { response: err(ErrorCode.INVALID_GROUP_ID, 'group id must not be empty'), records: [] };
    const partition = kafkaAbs(javaStringHashCode(req.groupId)) % this.config.offsetsTopicPartitions;
    return this.addToTxn(req.transactionalId, req.producerId, req.producerEpoch, [{ topic: '__consumer_offsets', partition }], now);
  }

  endTxn(req: EndTxnRequest, now: number): TxnResult<ErrorResponse> {
    const m = this.txns.get(req.transactionalId);
    const check = this.checkProducer(req.transactionalId, m, req.producerId, req.producerEpoch);
    if (check !== null) return { response: check, records: [] };
    const v = m!.value;
    const wanted: TxnState = req.committed ? 'PrepareCommit' : 'PrepareAbort';
    const name = req.committed ? 'commit' : 'abort';
    switch (v.state) {
      case 'Ongoing': {
        const value: TransactionLogValue = { ...v, state: wanted, txnLastUpdateTimestamp: now };
        m!.pending = { state: wanted, shownAs: v.state };
        return { response: ok(), records: [{ transactionalId: req.transactionalId, value }] };
      }
      case 'CompleteCommit':
      case 'CompleteAbort':
        // A retry of the EndTxn that completed is answered as it was; the other result is a bug in the caller.
        if ((v.state === 'CompleteCommit') === req.committed) return { response: ok(), records: [] };
        return {
          response: err(ErrorCode.INVALID_TXN_STATE, `cannot ${name}: the last transaction of ${req.transactionalId} ended ${v.state}`),
          records: [],
        };
      case 'PrepareCommit':
      case 'PrepareAbort':
        if (v.state === wanted)
          return {
            response: err(ErrorCode.CONCURRENT_TRANSACTIONS, `transaction of ${req.transactionalId} is completing (${v.state}); retry`),
            records: [],
          };
        return {
          response: err(ErrorCode.INVALID_TXN_STATE, `cannot ${name}: the transaction of ${req.transactionalId} is in ${v.state}`),
          records: [],
        };
      default:
        return {
          response: err(ErrorCode.INVALID_TXN_STATE, `cannot ${name}: ${req.transactionalId} has no open transaction (${v.state})`),
          records: [],
        };
    }
  }

  /**
   * Every marker of `transactionalId`'s Prepare* transaction is written: record the Complete*
   * state. Stale calls (another epoch, not in Prepare*, a record in flight) return no record.
   */
  markersWritten(transactionalId: string, producerId: bigint, producerEpoch: number, now: number): TransactionLogRecord[] {
    const m = this.txns.get(transactionalId);
    if (m === undefined || m.pending !== null) return [];
    const v = m.value;
    if (v.producerId !== producerId || v.producerEpoch !== producerEpoch) return [];
    if (v.state !== 'PrepareCommit' && v.state !== 'PrepareAbort') return [];
    const state: TxnState = v.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort';
    m.pending = { state, shownAs: v.state };
    return [{ transactionalId, value: { ...v, state, topicPartitions: [], txnLastUpdateTimestamp: now } }];
  }

  /**
   * Time passes: open transactions past their timeout are aborted with an epoch bump, which fences
   * the producer that left them open (Kafka's abortTimedOutTransactions); idle ids past
   * transactional.id.expiration.ms get a tombstone (removeExpiredTransactionalIds).
   */
  tick(now: number): TransactionLogRecord[] {
    const records: TransactionLogRecord[] = [];
    for (const [id, m] of this.txns) {
      if (m.pending !== null) continue;
      const v = m.value;
      // Strictly past the timeout, as Kafka's timedOutTransactions.
      if (v.state === 'Ongoing' && v.txnStartTimestamp + v.txnTimeoutMs < now) {
        records.push(this.fenceAndAbort(id, m, now));
      } else if (
        (v.state === 'Empty' || v.state === 'CompleteCommit' || v.state === 'CompleteAbort') &&
        v.txnLastUpdateTimestamp + this.config.transactionalIdExpirationMs <= now
      ) {
        m.pending = { state: 'Dead', shownAs: 'Dead' };
        records.push({ transactionalId: id, value: null });
      }
    }
    return records;
  }

  // ---- the log --------------------------------------------------------------------------------

  /** Applies a `__transaction_state` record: written by us (live) or read back (load after failover). */
  replay(record: TransactionLogRecord): void {
    if (record.value === null) {
      this.txns.delete(record.transactionalId);
      return;
    }
    this.txns.set(record.transactionalId, {
      value: { ...record.value, topicPartitions: record.value.topicPartitions.map((tp) => ({ ...tp })) },
      pending: null,
    });
  }

  /** The append of the record in flight for `transactionalId` failed: nothing changed. */
  writeFailed(transactionalId: string): void {
    const m = this.txns.get(transactionalId);
    if (m === undefined || m.pending === null) return;
    if (m.value.producerId === NO_PRODUCER_ID) this.txns.delete(transactionalId);
    else m.pending = null;
  }

  /** The markers every PrepareCommit/PrepareAbort transaction still owes (after a load: all in-flight ones). */
  markerRequests(): TxnMarkerRequest[] {
    const out: TxnMarkerRequest[] = [];
    for (const [id, m] of this.txns) {
      const v = m.value;
      if (m.pending !== null || (v.state !== 'PrepareCommit' && v.state !== 'PrepareAbort')) continue;
      out.push({
        transactionalId: id,
        producerId: v.producerId,
        producerEpoch: v.producerEpoch,
        coordinatorEpoch: this.config.coordinatorEpoch,
        result: v.state === 'PrepareCommit' ? 'COMMIT' : 'ABORT',
        partitions: v.topicPartitions.map((tp) => ({ ...tp })),
      });
    }
    return out;
  }

  // ---- reads ----------------------------------------------------------------------------------

  describe(transactionalId: string): TransactionDescription | undefined {
    const m = this.txns.get(transactionalId);
    if (m === undefined || m.value.producerId === NO_PRODUCER_ID) return undefined;
    const v = m.value;
    return {
      transactionalId,
      state: m.pending?.shownAs ?? v.state,
      pendingState: m.pending?.state ?? null,
      producerId: v.producerId,
      producerEpoch: v.producerEpoch,
      txnTimeoutMs: v.txnTimeoutMs,
      txnStartTimestamp: v.txnStartTimestamp,
      topicPartitions: v.topicPartitions.map((tp) => ({ ...tp })),
    };
  }

  /** ListTransactions: filters are ignored when empty, as Kafka's. */
  list(stateFilters: readonly TxnState[] = [], producerIdFilters: readonly bigint[] = []): TransactionDescription[] {
    const out: TransactionDescription[] = [];
    for (const id of [...this.txns.keys()].sort()) {
      const d = this.describe(id);
      if (d === undefined) continue;
      if (stateFilters.length > 0 && !stateFilters.includes(d.state)) continue;
      if (producerIdFilters.length > 0 && !producerIdFilters.includes(d.producerId)) continue;
      out.push(d);
    }
    return out;
  }

  /** Every id with its persisted value (tests compare a rebuilt coordinator with the live one). */
  snapshot(): Map<string, TransactionLogValue> {
    const out = new Map<string, TransactionLogValue>();
    for (const [id, m] of this.txns)
      if (m.value.producerId !== NO_PRODUCER_ID)
        out.set(id, { ...m.value, topicPartitions: m.value.topicPartitions.map((tp) => ({ ...tp })) });
    return out;
  }

  // ---- internals ------------------------------------------------------------------------------

  private addToTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: TopicPartition[],
    now: number,
  ): TxnResult<ErrorResponse> {
    const m = this.txns.get(transactionalId);
    const check = this.checkProducer(transactionalId, m, producerId, producerEpoch);
    if (check !== null) return { response: check, records: [] };
    const v = m!.value;
    if (v.state === 'PrepareCommit' || v.state === 'PrepareAbort') {
      return {
        response: err(
          ErrorCode.CONCURRENT_TRANSACTIONS,
          `the previous transaction of ${transactionalId} is completing (${v.state}); retry`,
        ),
        records: [],
      };
    }
    if (v.state !== 'Ongoing' && v.state !== 'Empty' && v.state !== 'CompleteCommit' && v.state !== 'CompleteAbort') {
      return { response: err(ErrorCode.INVALID_TXN_STATE, `${transactionalId} cannot add partitions in state ${v.state}`), records: [] };
    }
    const merged = unionPartitions(v.state === 'Ongoing' ? v.topicPartitions : [], partitions);
    if (v.state === 'Ongoing' && merged.length === v.topicPartitions.length) return { response: ok(), records: [] };
    const value: TransactionLogValue = {
      ...v,
      state: 'Ongoing',
      topicPartitions: merged,
      txnStartTimestamp: v.state === 'Ongoing' ? v.txnStartTimestamp : now,
      txnLastUpdateTimestamp: now,
    };
    m!.pending = { state: 'Ongoing', shownAs: v.state };
    return { response: ok(), records: [{ transactionalId, value }] };
  }

  /** Kafka's checks shared by AddPartitions/AddOffsets/EndTxn; null when the caller is the current producer. */
  private checkProducer(
    transactionalId: string,
    m: TxnMetadata | undefined,
    producerId: bigint,
    producerEpoch: number,
  ): ErrorResponse | null {
    if (m === undefined || (m.value.producerId === NO_PRODUCER_ID && m.pending === null)) {
      return err(
        ErrorCode.INVALID_PRODUCER_ID_MAPPING,
        `transactional id ${transactionalId} has no producer id; call InitProducerId first`,
      );
    }
    if (m.pending !== null)
      return err(
        ErrorCode.CONCURRENT_TRANSACTIONS,
        `transactional id ${transactionalId} has a ${m.pending.state} transition being written; retry`,
      );
    const v = m.value;
    if (producerId !== v.producerId) {
      // An older producer id of this transactional id was fenced by an id change on epoch exhaustion.
      if (producerId === v.lastProducerId)
        return err(ErrorCode.PRODUCER_FENCED, `producer ${producerId} of ${transactionalId} was fenced by producer ${v.producerId}`);
      return err(ErrorCode.INVALID_PRODUCER_ID_MAPPING, `producer id ${producerId} is not the one of ${transactionalId} (${v.producerId})`);
    }
    if (producerEpoch < v.producerEpoch)
      return err(
        ErrorCode.PRODUCER_FENCED,
        `producer ${producerId} epoch ${producerEpoch} of ${transactionalId} was fenced by epoch ${v.producerEpoch}`,
      );
    if (producerEpoch > v.producerEpoch)
      return err(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${producerId} epoch ${producerEpoch} is newer than the coordinator's ${v.producerEpoch}`,
      );
    return null;
  }

  /** Epoch+1, or a new producer id at epoch 0 once the epoch is exhausted. */
  private bumpEpoch(
    v: TransactionLogValue,
  ): Pick<TransactionLogValue, 'producerId' | 'lastProducerId' | 'producerEpoch' | 'lastProducerEpoch'> {
    if (v.producerEpoch >= MAX_PRODUCER_EPOCH) {
      return {
        producerId: this.allocateProducerId(),
        lastProducerId: v.producerId,
        producerEpoch: 0,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
      };
    }
    return {
      producerId: v.producerId,
      lastProducerId: v.lastProducerId,
      producerEpoch: v.producerEpoch + 1,
      lastProducerEpoch: v.producerEpoch,
    };
  }

  /**
   * PrepareEpochFence: the open transaction is aborted under a bumped epoch so markers fence the
   * old producer on every partition. When the epoch is exhausted the abort keeps the epoch (Kafka
   * does the same: a new producer id would orphan the partitions' producer state).
   */
  private fenceAndAbort(transactionalId: string, m: TxnMetadata, now: number): TransactionLogRecord {
    const v = m.value;
    const epochs = v.producerEpoch >= MAX_PRODUCER_EPOCH ? {} : { producerEpoch: v.producerEpoch + 1, lastProducerEpoch: v.producerEpoch };
    m.pending = { state: 'PrepareAbort', shownAs: 'PrepareEpochFence' };
    return { transactionalId, value: { ...v, ...epochs, state: 'PrepareAbort', txnLastUpdateTimestamp: now } };
  }
}
