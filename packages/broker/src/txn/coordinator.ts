/**
 * The I/O shell around TransactionCoordinatorState for one `__transaction_state` partition
 * (Kafka's TransactionCoordinator + TransactionMarkerChannelManager): it persists each
 * transition through `hooks.persist` before answering, writes the COMMIT/ABORT markers every
 * PrepareCommit/PrepareAbort transaction owes through `hooks.writeMarker`, retrying each
 * partition after `markerRetryBackoffMs` until it is written, then persists the Complete* state.
 * A periodic tick aborts timed-out transactions and expires idle ids. Time and timers come from
 * the injected Timers; nothing here knows about gRPC or the log.
 *
 * Hosted per led `__transaction_state` partition by transactionStateManager.ts.
 */
import { ErrorCode } from '@samsa/protocol';
import type { Timers } from '@samsa/server';
import {
  TransactionCoordinatorState,
  type AddOffsetsRequest,
  type AddPartitionsRequest,
  type EndTxnRequest,
  type ErrorResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  type TopicPartition,
  type TransactionLogRecord,
  type TxnMarkerRequest,
  type TxnResult,
} from './transactionCoordinatorState.js';

export interface TxnMarker {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  result: 'COMMIT' | 'ABORT';
}

export interface TransactionCoordinatorHooks {
  /** Appends `records` (one batch) to this `__transaction_state` partition with acks=all. */
  persist(records: TransactionLogRecord[], done: (errorCode: number, errorMessage: string) => void): void;
  /** Has the leader of `partition` append `marker` (WriteTxnMarkers); `done(NONE)` once it is in the log. */
  writeMarker(partition: TopicPartition, marker: TxnMarker, done: (errorCode: number, errorMessage: string) => void): void;
  onEvent?(event: string, fields: Record<string, unknown>): void;
}

export interface TransactionCoordinatorOptions {
  /** Wait before re-sending a marker that failed (Kafka retries on its channel's backoff). */
  markerRetryBackoffMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms (Kafka 10000). */
  abortTimedOutTransactionsIntervalMs: number;
}

/** Kafka's TransactionStateManager maps an append's error onto what the producer may retry. */
export function appendErrorToCoordinatorError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

function markerKey(m: TxnMarkerRequest): string {
  return `${m.transactionalId}\u0000${m.producerId}\u0000${m.producerEpoch}\u0000${m.result}`;
}

export class TransactionCoordinator {
  /** Marker requests being written, so a new pass does not send them twice. */
  private readonly inFlight = new Set<string>();
  private readonly pendingTimers = new Set<unknown>();
  private ticker: unknown;
  private stopped = false;

  constructor(
    readonly state: TransactionCoordinatorState,
    private readonly hooks: TransactionCoordinatorHooks,
    private readonly timers: Timers,
    private readonly options: TransactionCoordinatorOptions,
  ) {}

  /** After a load (the state replayed from the log): finish in-flight transactions, start the tick. */
  start(): void {
    this.ticker = this.timers.setInterval(() => this.tick(), this.options.abortTimedOutTransactionsIntervalMs);
    this.sendMarkers();
  }

  /** Leadership moved away: stop retrying; answers already promised are dropped by the caller. */
  stop(): void {
    this.stopped = true;
    if (this.ticker !== undefined) this.timers.clearInterval(this.ticker);
    for (const t of this.pendingTimers) this.timers.clearTimeout(t);
    this.pendingTimers.clear();
  }

  initProducerId(req: InitProducerIdRequest, reply: (r: InitProducerIdResponse) => void): void {
    this.run(req.transactionalId, this.state.initProducerId(req, this.timers.now()), reply, (code, message) => ({
      errorCode: code,
      errorMessage: message,
      producerId: -1n,
      producerEpoch: -1,
    }));
  }

  addPartitionsToTxn(req: AddPartitionsRequest, reply: (r: ErrorResponse) => void): void {
    this.run(req.transactionalId, this.state.addPartitionsToTxn(req, this.timers.now()), reply, (errorCode, errorMessage) => ({
      errorCode,
      errorMessage,
    }));
  }

  addOffsetsToTxn(req: AddOffsetsRequest, reply: (r: ErrorResponse) => void): void {
    this.run(req.transactionalId, this.state.addOffsetsToTxn(req, this.timers.now()), reply, (errorCode, errorMessage) => ({
      errorCode,
      errorMessage,
    }));
  }

  endTxn(req: EndTxnRequest, reply: (r: ErrorResponse) => void): void {
    this.run(req.transactionalId, this.state.endTxn(req, this.timers.now()), reply, (errorCode, errorMessage) => ({
      errorCode,
      errorMessage,
    }));
  }

  /** Aborts timed-out transactions and expires idle ids (also called by the interval). */
  tick(): void {
    if (this.stopped) return;
    for (const record of this.state.tick(this.timers.now())) {
      this.persist(
        record.transactionalId,
        [record],
        () => this.sendMarkers(),
        () => undefined,
      );
    }
  }

  private run<R>(
    transactionalId: string,
    result: TxnResult<R>,
    reply: (r: R) => void,
    failure: (code: number, message: string) => R,
  ): void {
    if (result.records.length === 0) {
      reply(result.response);
      return;
    }
    this.persist(
      transactionalId,
      result.records,
      () => {
        reply(result.response);
        this.sendMarkers();
      },
      (code, message) => reply(failure(appendErrorToCoordinatorError(code), message)),
    );
  }

  private persist(
    transactionalId: string,
    records: TransactionLogRecord[],
    ok: () => void,
    failed: (code: number, message: string) => void,
  ): void {
    this.hooks.persist(records, (code, message) => {
      if (code !== ErrorCode.NONE || this.stopped) {
        this.state.writeFailed(transactionalId);
        failed(
          code === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : code,
          code === ErrorCode.NONE ? 'the coordinator stopped while the write was in flight' : message,
        );
        return;
      }
      for (const r of records) this.state.replay(r);
      ok();
    });
  }

  /** Starts writing the markers of every Prepare* transaction not already being written. */
  private sendMarkers(): void {
    if (this.stopped) return;
    for (const request of this.state.markerRequests()) {
      const key = markerKey(request);
      if (this.inFlight.has(key)) continue;
      this.inFlight.add(key);
      const remaining = new Set(request.partitions.map((tp) => `${tp.topic}\u0000${tp.partition}`));
      const marker: TxnMarker = {
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
        coordinatorEpoch: request.coordinatorEpoch,
        result: request.result,
      };
      const finish = (): void => this.complete(request, key);
      if (remaining.size === 0) {
        finish();
        continue;
      }
      for (const tp of request.partitions) this.writeMarker(tp, marker, remaining, finish);
    }
  }

  private writeMarker(tp: TopicPartition, marker: TxnMarker, remaining: Set<string>, finish: () => void): void {
    if (this.stopped) return;
    this.hooks.writeMarker(tp, marker, (code, message) => {
      if (this.stopped) return;
      if (code !== ErrorCode.NONE) {
        this.hooks.onEvent?.('marker retry', { topic: tp.topic, partition: tp.partition, errorCode: code, errorMessage: message });
        this.later(() => this.writeMarker(tp, marker, remaining, finish));
        return;
      }
      remaining.delete(`${tp.topic}\u0000${tp.partition}`);
      if (remaining.size === 0) finish();
    });
  }

  /** Every marker is in: persist Complete*, retrying the write until it lands. */
  private complete(request: TxnMarkerRequest, key: string): void {
    if (this.stopped) return;
    const records = this.state.markersWritten(request.transactionalId, request.producerId, request.producerEpoch, this.timers.now());
    if (records.length === 0) {
      this.inFlight.delete(key);
      return;
    }
    this.persist(
      request.transactionalId,
      records,
      () => {
        this.inFlight.delete(key);
        this.sendMarkers();
      },
      () => this.later(() => this.complete(request, key)),
    );
  }

  private later(fn: () => void): void {
    const handle = this.timers.setTimeout(() => {
      this.pendingTimers.delete(handle);
      fn();
    }, this.options.markerRetryBackoffMs);
    this.pendingTimers.add(handle);
  }
}
