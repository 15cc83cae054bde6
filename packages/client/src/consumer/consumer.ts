/**
 * A consumer without groups: the caller assigns partitions and seeks; poll() long-polls each
 * partition's leader with Fetch and hands back typed records. Fetches to different leaders run
 * independently (a slow broker does not hold up records from a fast one); a response is decoded
 * into a per-partition buffer that poll() drains, so `position` only moves past records actually
 * returned. Consumer groups (consumer/group/) build on assign/seek/position/pause.
 *
 * Truncation detection (KIP-320), after Kafka's SubscriptionState.FetchPosition {offset,
 * offsetEpoch, currentLeader}: each position keeps `offsetEpoch`, the partitionLeaderEpoch of the
 * batch of the last record consumed (or the committed epoch a seek brought), and `currentLeaderEpoch`,
 * the leader epoch it was last fetched or validated under. States of a position:
 *   FETCHING           currentLeaderEpoch equals the metadata's leader epoch: fetch with it.
 *   AWAIT_VALIDATION   entered when metadata shows a newer leader epoch while offsetEpoch is known,
 *                      when a fetch answers FENCED_LEADER_EPOCH, or on seek with a leaderEpoch
 *                      (a position restored from a commit). No fetch is sent; instead
 *                      OffsetForLeaderEpoch {current_leader_epoch, leader_epoch = offsetEpoch} goes
 *                      to the leader, which answers where that epoch ends on its log {end_offset, epoch}.
 *   - end_offset >= position: the log still holds what we read; back to FETCHING under the new epoch.
 *   - end_offset < position: the log was truncated under us (an unclean election, or acks=1 writes
 *     lost with the old leader). The divergence point is end_offset: with autoOffsetReset
 *     'earliest'/'latest' the position moves there, as Kafka does when it knows where the logs
 *     diverge (logged); with 'none' poll() raises LogTruncationError {topic, partition, offset,
 *     divergentOffset} and the position stays.
 *   - undefined epoch / end offset (-1): the leader has nothing at or before our epoch; reset per
 *     autoOffsetReset, or LogTruncationError without divergentOffset under 'none'.
 * A position without offsetEpoch (seek to an offset, a reset from ListOffsets) cannot be validated
 * and fetches at once, as in Kafka.
 * Requests go one per leader, but current_leader_epoch is per partition (the epoch Metadata gave
 * for it): partitions sharing a leader need not share an epoch. UNKNOWN_LEADER_EPOCH and
 * FENCED_LEADER_EPOCH answers make the topic's metadata stale and back the partition off, so the
 * retry is built from a fresh Metadata answer.
 */
import {
  ErrorCode,
  SamsaProtocolError,
  decodeRecordBatch,
  decodeRecordsReadCommitted,
  groupByTopic,
  iterateBatches,
  lastOffsetOf,
  nestByTopic,
  toBigInt,
  topicPartitionKey as tpKey,
  toWire,
} from '@samsa/protocol';
import { SLEEP_CANCELLED, type Clock, type Random } from '../clock.js';
import type { Cluster, LeaderRoute } from '../cluster/cluster.js';
import { listOffsets } from '../cluster/offsets.js';
import type { OffsetSpec } from '../cluster/offsets.js';
import {
  CorruptMessageError,
  InvalidRequestError,
  LogTruncationError,
  OffsetOutOfRangeError,
  SamsaClosedError,
  SamsaError,
  errorFromCode,
  isRetriable,
  needsMetadataRefresh,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { Retrier, backoffMs, resolveRetryOptions } from '../retry.js';
import type { ResolvedRetryOptions, RetryOptions } from '../retry.js';
import { serdes } from '../serdes.js';
import type { Serde } from '../serdes.js';
import type { FetchPartitionDataWire, FetchRequest } from '../wire.js';
import { unlimitedListeners } from '../signals.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface ConsumerRecord<K, V> {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: K;
  value: V;
  /** Record headers by key (a repeated key keeps its last value; headerList has them all). */
  headers: Record<string, Buffer | null>;
  /** Every header in record order, repeated keys included (Kafka's Headers). */
  headerList?: Array<{ key: string; value: Buffer | null }>;
}

/** An absolute offset, the log start or end, or the first record at or after a time (ms). */
export type SeekOffset = bigint | 'earliest' | 'latest' | { timestamp: bigint };

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

/** Kafka's isolation.level: read_committed reads up to the last stable offset and skips aborted transactions. */
export type IsolationLevel = 'read_uncommitted' | 'read_committed';

export interface ConsumerOptions<K, V> {
  key?: Serde<K>;
  value?: Serde<V>;
  /** Where to start when a partition has no position or its position fell out of range. Default 'latest' (as Kafka). */
  autoOffsetReset?: AutoOffsetReset;
  /**
   * Default 'read_uncommitted', as Kafka's Java consumer (KafkaJS defaults to read_committed):
   * a consumer of topics without transactions pays nothing for it, and one that wants
   * exactly-once reads asks for it by name.
   */
  isolationLevel?: IsolationLevel;
  /** Default long-poll wait of poll(). Default 500 ms. */
  maxWaitMs?: number;
  /** The broker answers once this many bytes are available (or maxWaitMs passed). Default 1. */
  minBytes?: number;
  /** Cap on a Fetch response. Default 50 MiB. */
  maxBytes?: number;
  /** Cap per partition in a Fetch response. Default 1 MiB. */
  maxPartitionBytes?: number;
  /** Default cap on records per poll(). Default 500. */
  maxPollRecords?: number;
  /** Overrides the client's retry options (ListOffsets retries and per-partition error backoff). */
  retry?: RetryOptions;
  /**
   * Start the next fetch of drained partitions before poll() returns, so it runs while the caller
   * processes the records. Default false (the group consumer turns it on).
   */
  prefetch?: boolean;
}

export interface ConsumerDeps {
  cluster: Cluster;
  clock: Clock;
  random: Random;
  logger: Logger;
  retry: ResolvedRetryOptions;
}

export interface PollOptions {
  maxWaitMs?: number;
  maxRecords?: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  position: bigint | undefined;
  highWatermark: bigint | undefined;
  logStartOffset: bigint | undefined;
  /** highWatermark - position, when both are known. */
  lag: bigint | undefined;
}

interface DecodedRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  /** The partitionLeaderEpoch of the record's batch (KIP-320); -1 when the producer's broker did not stamp one. */
  leaderEpoch: number;
}

interface PartitionState {
  tp: TopicPartition;
  /** The next offset poll() returns; undefined until seek or auto reset. */
  position: bigint | undefined;
  /** A pending seek/reset to resolve through ListOffsets before the next fetch. */
  reset: OffsetSpec | undefined;
  buffer: DecodedRecord[];
  bufferIndex: number;
  /** Where the position goes once the buffer is drained (after the last fetched batch). */
  fetchedEnd: bigint;
  /** Offset of the fetch in flight, if any. */
  fetching: bigint | undefined;
  highWatermark: bigint | undefined;
  logStartOffset: bigint | undefined;
  errorCount: number;
  backoffUntil: number;
  /** Grows when a batch did not fit partitionMaxBytes. */
  maxBytes: number;
  /** KIP-320: epoch of the record before `position` (FetchPosition.offsetEpoch); undefined when unknown. */
  offsetEpoch: number | undefined;
  /** The leader epoch the position was last fetched or validated under (FetchPosition.currentLeader). */
  currentLeaderEpoch: number | undefined;
  /** AWAIT_VALIDATION: no fetch until OffsetForLeaderEpoch confirms the position. */
  awaitingValidation: boolean;
}

/** A partition in a request to its leader, with the leader epoch Metadata gave for that partition. */
interface EpochTarget {
  state: PartitionState;
  leaderEpoch: number;
}

export class Consumer<K = Buffer | null, V = Buffer | null> {
  private readonly keySerde: Serde<K>;
  private readonly valueSerde: Serde<V>;
  private readonly autoOffsetReset: AutoOffsetReset;
  private readonly readCommitted: boolean;
  private readonly maxWaitMs: number;
  private readonly minBytes: number;
  private readonly maxBytes: number;
  private readonly maxPartitionBytes: number;
  private readonly maxPollRecords: number;
  private readonly prefetch: boolean;
  private readonly retry: ResolvedRetryOptions;
  private readonly retrier: Retrier;
  private readonly states = new Map<string, PartitionState>();
  private readonly pausedKeys = new Set<string>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private routeLookup: Promise<void> | undefined;
  /** Every fetch or wait in flight listens on it: more than Node's warning threshold of 10 is expected. */
  private readonly closing = unlimitedListeners(new AbortController());
  private pendingError: unknown;
  private drainStart = 0;
  private polling = false;
  private closed = false;

  constructor(
    options: ConsumerOptions<K, V>,
    private readonly deps: ConsumerDeps,
  ) {
    this.keySerde = options.key ?? (serdes.bytes as unknown as Serde<K>);
    this.valueSerde = options.value ?? (serdes.bytes as unknown as Serde<V>);
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest';
    this.readCommitted = options.isolationLevel === 'read_committed';
    if (!['earliest', 'latest', 'none'].includes(this.autoOffsetReset))
      throw new RangeError(`autoOffsetReset must be earliest, latest or none, got ${this.autoOffsetReset}`);
    this.maxWaitMs = positiveInt('maxWaitMs', options.maxWaitMs ?? 500, 0);
    this.minBytes = positiveInt('minBytes', options.minBytes ?? 1, 0);
    this.maxBytes = positiveInt('maxBytes', options.maxBytes ?? 50 * 1024 * 1024, 1);
    this.maxPartitionBytes = positiveInt('maxPartitionBytes', options.maxPartitionBytes ?? 1024 * 1024, 1);
    this.maxPollRecords = positiveInt('maxPollRecords', options.maxPollRecords ?? 500, 1);
    this.prefetch = options.prefetch ?? false;
    this.retry = options.retry ? resolveRetryOptions({ ...deps.retry, ...options.retry }) : deps.retry;
    this.retrier = new Retrier({ retry: this.retry, clock: deps.clock, random: deps.random, logger: deps.logger });
  }

  /** Replaces the assignment. Partitions kept keep their position; new ones start per autoOffsetReset unless seeked. */
  assign(partitions: readonly TopicPartition[]): void {
    this.checkOpen();
    const next = new Map<string, PartitionState>();
    for (const tp of partitions) {
      if (typeof tp?.topic !== 'string' || tp.topic === '' || !Number.isInteger(tp.partition) || tp.partition < 0) {
        throw new InvalidRequestError(`invalid topic-partition ${JSON.stringify(tp)}`);
      }
      const key = tpKey(tp.topic, tp.partition);
      next.set(
        key,
        this.states.get(key) ?? {
          tp: { topic: tp.topic, partition: tp.partition },
          position: undefined,
          reset: undefined,
          buffer: [],
          bufferIndex: 0,
          fetchedEnd: -1n,
          fetching: undefined,
          highWatermark: undefined,
          logStartOffset: undefined,
          errorCount: 0,
          backoffUntil: 0,
          maxBytes: this.maxPartitionBytes,
          offsetEpoch: undefined,
          currentLeaderEpoch: undefined,
          awaitingValidation: false,
        },
      );
    }
    this.states.clear();
    for (const [k, v] of next) this.states.set(k, v);
    for (const k of [...this.pausedKeys]) if (!this.states.has(k)) this.pausedKeys.delete(k);
  }

  /** Stops fetching and returning records of these assigned partitions until resume(); their positions stay. */
  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.pausedKeys.add(tpKey(this.stateOf(tp).tp.topic, tp.partition));
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.pausedKeys.delete(tpKey(this.stateOf(tp).tp.topic, tp.partition));
  }

  paused(): TopicPartition[] {
    return [...this.pausedKeys].map((k) => ({ ...this.states.get(k)!.tp }));
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map((s) => ({ ...s.tp }));
  }

  /**
   * Moves the position of an assigned partition. 'earliest', 'latest' and timestamps are resolved
   * through ListOffsets before this resolves (a timestamp after the last record means the end).
   * `leaderEpoch` (KIP-320: the epoch committed with an offset) makes the consumer validate the
   * position with OffsetForLeaderEpoch before fetching from it.
   */
  async seek(target: TopicPartition & { offset: SeekOffset; leaderEpoch?: number }): Promise<void> {
    this.checkOpen();
    const state = this.stateOf(target);
    const { offset } = target;
    let position: bigint;
    if (typeof offset === 'bigint') {
      if (offset < 0n) throw new InvalidRequestError(`offset must be >= 0, got ${offset}`);
      position = offset;
    } else {
      const spec: OffsetSpec = offset === 'earliest' || offset === 'latest' ? offset : checkTimestamp(offset);
      position = await this.resolveOffset(state.tp, spec);
    }
    this.setPosition(state, position);
    if (typeof offset === 'bigint' && target.leaderEpoch !== undefined && target.leaderEpoch >= 0) {
      state.offsetEpoch = target.leaderEpoch;
      state.awaitingValidation = true;
    }
  }

  /** KIP-320: the epoch of the record before the position (committed with the offset); undefined when unknown. */
  positionLeaderEpoch(tp: TopicPartition): number | undefined {
    return this.stateOf(tp).offsetEpoch;
  }

  /** The next offset poll() returns for a partition; undefined until it is known. */
  position(tp: TopicPartition): bigint | undefined {
    return this.stateOf(tp).position;
  }

  /** Position, high watermark and lag per assigned partition, as of the last fetch. */
  lag(): PartitionLag[] {
    return [...this.states.values()].map((s) => ({
      ...s.tp,
      position: s.position,
      highWatermark: s.highWatermark,
      logStartOffset: s.logStartOffset,
      lag:
        s.position !== undefined && s.highWatermark !== undefined
          ? s.highWatermark > s.position
            ? s.highWatermark - s.position
            : 0n
          : undefined,
    }));
  }

  /**
   * Returns buffered records, or long-polls the leaders for up to maxWaitMs. Resolves with an empty
   * array when nothing arrived in time (or the consumer is closed). Not reentrant.
   */
  async poll(options: PollOptions = {}): Promise<ConsumerRecord<K, V>[]> {
    if (this.closed) return [];
    if (this.polling) throw new InvalidRequestError('poll() is already running; await it before polling again');
    const maxWaitMs = options.maxWaitMs ?? this.maxWaitMs;
    const maxRecords = options.maxRecords ?? this.maxPollRecords;
    if (!(maxRecords >= 1)) throw new InvalidRequestError(`maxRecords must be >= 1, got ${maxRecords}`);
    this.polling = true;
    try {
      const deadline = this.deps.clock.now() + maxWaitMs;
      for (;;) {
        this.throwPendingError();
        const records = this.drain(maxRecords);
        if (records.length > 0 || this.closed) {
          // Pipelining: partitions just drained fetch their next records while the caller processes these.
          if (this.prefetch && records.length > 0 && !this.closed) this.startFetches(maxWaitMs);
          return records;
        }
        await this.resolveResets();
        await this.validatePositions();
        this.throwPendingError();
        this.startFetches(Math.max(0, deadline - this.deps.clock.now()));
        const remaining = deadline - this.deps.clock.now();
        if (remaining <= 0) return this.drain(maxRecords);
        await this.waitForProgress(remaining);
      }
    } finally {
      this.polling = false;
    }
  }

  /** Yields records until close(). */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord<K, V>, void, undefined> {
    while (!this.closed) {
      const records = await this.poll();
      for (const record of records) {
        yield record;
        if (this.closed) return;
      }
    }
  }

  /** Cancels fetches in flight and ends poll() and the iterator. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort(new SamsaClosedError('the consumer is closed'));
    await Promise.allSettled([...this.inFlight.values(), this.routeLookup]);
  }

  // ---- internals ----

  private checkOpen(): void {
    if (this.closed) throw new SamsaClosedError('the consumer is closed');
  }

  private stateOf(tp: TopicPartition): PartitionState {
    const state = this.states.get(tpKey(tp.topic, tp.partition));
    if (!state) throw new InvalidRequestError(`${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return state;
  }

  private setPosition(state: PartitionState, position: bigint): void {
    state.position = position;
    state.reset = undefined;
    state.buffer = [];
    state.bufferIndex = 0;
    state.fetchedEnd = position;
    state.errorCount = 0;
    state.backoffUntil = 0;
    state.offsetEpoch = undefined;
    state.currentLeaderEpoch = undefined;
    state.awaitingValidation = false;
  }

  /**
   * KIP-320: moves partitions whose leader epoch changed since their last fetch into
   * AWAIT_VALIDATION and validates them with OffsetForLeaderEpoch, one request per leader.
   */
  private async validatePositions(): Promise<void> {
    const now = this.deps.clock.now();
    const byLeader = new Map<number, { route: LeaderRoute; targets: EpochTarget[] }>();
    for (const [key, state] of this.states) {
      if (state.position === undefined || state.fetching !== undefined || state.backoffUntil > now || this.pausedKeys.has(key)) continue;
      const route = this.deps.cluster.cachedLeader(state.tp.topic, state.tp.partition);
      if (!route) continue;
      if (
        !state.awaitingValidation &&
        state.offsetEpoch !== undefined &&
        state.currentLeaderEpoch !== undefined &&
        route.leaderEpoch > state.currentLeaderEpoch
      ) {
        state.awaitingValidation = true;
      }
      if (!state.awaitingValidation) continue;
      if (state.offsetEpoch === undefined) {
        // Nothing to validate against (e.g. the position was reset meanwhile).
        state.awaitingValidation = false;
        continue;
      }
      let group = byLeader.get(route.nodeId);
      if (!group) byLeader.set(route.nodeId, (group = { route, targets: [] }));
      group.targets.push({ state, leaderEpoch: route.leaderEpoch });
    }
    await Promise.all([...byLeader.values()].map(({ route, targets }) => this.validateWith(route, targets)));
  }

  /**
   * One OffsetForLeaderEpoch to one leader. Each partition carries its own current leader epoch:
   * partitions that share a leader need not share an epoch (one may have moved here and back).
   */
  private async validateWith(route: LeaderRoute, targets: EpochTarget[]): Promise<void> {
    const states = targets.map((t) => t.state);
    const asked = new Map(
      targets.map(({ state, leaderEpoch }) => [state, { position: state.position!, epoch: state.offsetEpoch!, leaderEpoch }]),
    );
    try {
      const response = await route.connection.offsetForLeaderEpoch(
        {
          topics: nestByTopic(
            targets.map((target) => ({ topic: target.state.tp.topic, target })),
            ({ target: { state, leaderEpoch } }) => ({
              partition: state.tp.partition,
              currentLeaderEpoch: leaderEpoch,
              leaderEpoch: state.offsetEpoch!,
            }),
          ),
        },
        this.deps.cluster.requestOptions(undefined, this.closing.signal),
      );
      if (this.closed) return;
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const state = this.states.get(tpKey(t.name, p.partition));
          const before = state && asked.get(state);
          // Skip partitions unassigned or seeked meanwhile.
          if (!state || !before || state.position !== before.position || state.offsetEpoch !== before.epoch) continue;
          this.completeValidation(state, before.leaderEpoch, p.errorCode, p.errorMessage, p.leaderEpoch, toBigInt(p.endOffset, -1n));
        }
      }
    } catch (error) {
      if (this.closed) return;
      if (!isRetriable(error)) {
        this.pendingError = error;
        return;
      }
      if (needsMetadataRefresh(error)) this.deps.cluster.invalidateTopics(new Set(states.map((s) => s.tp.topic)));
      for (const state of states) this.backoff(state, (error as Error).message);
    }
  }

  /** Kafka's SubscriptionState.maybeCompleteValidation. */
  private completeValidation(
    state: PartitionState,
    leaderEpoch: number,
    errorCode: number,
    errorMessage: string,
    endEpoch: number,
    endOffset: bigint,
  ): void {
    const { topic, partition } = state.tp;
    if (errorCode !== ErrorCode.NONE) {
      const error = errorFromCode(errorCode, errorMessage, undefined, { topic, partition });
      if (!error.retriable) {
        this.pendingError = error;
        return;
      }
      // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH / NOT_LEADER: learn the leader again, then validate again.
      if (needsMetadataRefresh(error) || errorCode === ErrorCode.FENCED_LEADER_EPOCH || errorCode === ErrorCode.UNKNOWN_LEADER_EPOCH)
        this.deps.cluster.invalidateTopics([topic]);
      this.backoff(state, error.message);
      return;
    }
    const offset = state.position!;
    if (endEpoch < 0 || endOffset < 0n) {
      // The leader holds nothing at or before our epoch: where the logs agree is unknown.
      if (this.autoOffsetReset === 'none') {
        this.pendingError = new LogTruncationError(
          `${topic}-${partition}: the leader has no record at or before epoch ${state.offsetEpoch}; position ${offset} cannot be validated`,
          { topic, partition, offset, divergentOffset: undefined },
        );
        return;
      }
      this.deps.logger.warn('truncation detected with no divergence point; resetting', {
        topic,
        partition,
        offset,
        to: this.autoOffsetReset,
      });
      state.position = undefined;
      state.reset = this.autoOffsetReset;
      state.awaitingValidation = false;
      return;
    }
    if (endOffset < offset) {
      if (this.autoOffsetReset === 'none') {
        this.pendingError = new LogTruncationError(
          `${topic}-${partition}: the log was truncated below position ${offset}; it diverges at offset ${endOffset} (epoch ${endEpoch})`,
          { topic, partition, offset, divergentOffset: endOffset },
        );
        return;
      }
      this.deps.logger.warn('truncation detected; resetting to the first offset known to diverge', {
        topic,
        partition,
        offset,
        divergentOffset: endOffset,
      });
      this.setPosition(state, endOffset);
      state.offsetEpoch = endEpoch;
      state.currentLeaderEpoch = leaderEpoch;
      return;
    }
    state.awaitingValidation = false;
    state.currentLeaderEpoch = leaderEpoch;
  }

  private throwPendingError(): void {
    if (this.pendingError !== undefined) {
      const error = this.pendingError;
      this.pendingError = undefined;
      throw error;
    }
  }

  private async resolveOffset(tp: TopicPartition, spec: OffsetSpec): Promise<bigint> {
    const [result] = await listOffsets({ cluster: this.deps.cluster, retrier: this.retrier }, tp.topic, [
      { partition: tp.partition, spec },
    ]);
    if (result!.offset >= 0n) return result!.offset;
    // A timestamp after every record: Kafka's offsetsForTimes finds nothing; consume from the end.
    const [latest] = await listOffsets({ cluster: this.deps.cluster, retrier: this.retrier }, tp.topic, [
      { partition: tp.partition, spec: 'latest' },
    ]);
    return latest!.offset;
  }

  /** Resolves positions of partitions that have none (never seeked, or reset after OFFSET_OUT_OF_RANGE). */
  private async resolveResets(): Promise<void> {
    const resets: Array<{ topic: string; state: PartitionState; spec: OffsetSpec }> = [];
    for (const state of this.states.values()) {
      if (state.position !== undefined) continue;
      let spec = state.reset;
      if (spec === undefined) {
        if (this.autoOffsetReset === 'none') {
          throw new OffsetOutOfRangeError(
            `${state.tp.topic}-${state.tp.partition} has no position and autoOffsetReset is 'none'; seek first`,
            { ...state.tp, retriable: false },
          );
        }
        spec = this.autoOffsetReset;
      }
      resets.push({ topic: state.tp.topic, state, spec });
    }
    await Promise.all(
      [...groupByTopic(resets)].map(async ([topic, items]) => {
        const offsets = await listOffsets(
          { cluster: this.deps.cluster, retrier: this.retrier },
          topic,
          items.map((i) => ({ partition: i.state.tp.partition, spec: i.spec })),
        );
        items.forEach((item, k) => {
          // Skip partitions seeked or unassigned meanwhile.
          if (item.state.position === undefined && this.states.get(tpKey(topic, item.state.tp.partition)) === item.state) {
            this.setPosition(item.state, offsets[k]!.offset);
          }
        });
      }),
    );
  }

  /** Starts a Fetch to every leader that has fetchable partitions and no fetch in flight. */
  private startFetches(maxWaitMs: number): void {
    const now = this.deps.clock.now();
    const byLeader = new Map<number, { route: LeaderRoute; targets: EpochTarget[] }>();
    const needMetadata = new Set<string>();
    for (const [key, state] of this.states) {
      if (
        state.position === undefined ||
        state.fetching !== undefined ||
        state.bufferIndex < state.buffer.length ||
        state.backoffUntil > now
      )
        continue;
      if (this.pausedKeys.has(key)) continue;
      const route = this.deps.cluster.cachedLeader(state.tp.topic, state.tp.partition);
      if (!route) {
        needMetadata.add(state.tp.topic);
        continue;
      }
      // AWAIT_VALIDATION, or a newer leader epoch with a known offsetEpoch: validatePositions goes first.
      if (state.awaitingValidation) continue;
      if (state.offsetEpoch !== undefined && state.currentLeaderEpoch !== undefined && route.leaderEpoch > state.currentLeaderEpoch)
        continue;
      if (this.inFlight.has(route.nodeId)) continue;
      let group = byLeader.get(route.nodeId);
      if (!group) byLeader.set(route.nodeId, (group = { route, targets: [] }));
      group.targets.push({ state, leaderEpoch: route.leaderEpoch });
    }
    for (const [nodeId, { route, targets }] of byLeader) {
      const fetch = this.fetchFrom(route, targets, maxWaitMs).finally(() => this.inFlight.delete(nodeId));
      this.inFlight.set(nodeId, fetch);
    }
    if (needMetadata.size > 0 && !this.routeLookup) {
      // Routing is unknown: look it up in the background, like a fetch, so poll() waits on it.
      this.routeLookup = this.refreshRoutes([...needMetadata]).finally(() => (this.routeLookup = undefined));
    }
  }

  private async refreshRoutes(topics: string[]): Promise<void> {
    try {
      await this.deps.cluster.refreshMetadata(topics);
      for (const state of this.states.values()) {
        if (!topics.includes(state.tp.topic)) continue;
        const route = this.deps.cluster.cachedLeader(state.tp.topic, state.tp.partition);
        if (!route) this.backoff(state, `no leader known for ${state.tp.topic}-${state.tp.partition}`);
      }
    } catch (error) {
      if (this.closed) return;
      if (!isRetriable(error)) {
        this.pendingError = error;
        return;
      }
      for (const state of this.states.values()) if (topics.includes(state.tp.topic)) this.backoff(state, (error as Error).message);
    }
  }

  /**
   * One Fetch to one leader. Each partition carries the leader epoch Metadata gave for it, not the
   * first partition's: two partitions led by one broker can be at different epochs, and the broker
   * answers UNKNOWN_LEADER_EPOCH to an epoch it never had for that partition.
   */
  private async fetchFrom(route: LeaderRoute, targets: EpochTarget[], maxWaitMs: number): Promise<void> {
    const states = targets.map((t) => t.state);
    const request: FetchRequest = {
      maxWaitMs,
      minBytes: this.minBytes,
      maxBytes: this.maxBytes,
      isolationLevel: this.readCommitted ? 1 : 0,
      topics: [],
    };
    for (const { state, leaderEpoch } of targets) {
      state.fetching = state.position!;
      state.currentLeaderEpoch = leaderEpoch;
    }
    request.topics = nestByTopic(
      targets.map((target) => ({ topic: target.state.tp.topic, target })),
      ({ target: { state, leaderEpoch } }) => ({
        partition: state.tp.partition,
        fetchOffset: toWire(state.position!),
        partitionMaxBytes: state.maxBytes,
        currentLeaderEpoch: leaderEpoch,
      }),
    );
    try {
      const response = await route.connection.fetch(request, this.deps.cluster.requestOptions(maxWaitMs, this.closing.signal));
      if (this.closed) return;
      if (response.errorCode !== 0) throw errorFromCode(response.errorCode, response.errorMessage);
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const state = this.states.get(tpKey(t.name, p.partition));
          if (!state || !states.includes(state)) continue;
          this.handlePartition(state, p);
        }
      }
      for (const state of states) state.fetching = undefined;
    } catch (error) {
      for (const state of states) state.fetching = undefined;
      if (this.closed) return;
      if (!isRetriable(error)) {
        this.pendingError = error;
        return;
      }
      if (needsMetadataRefresh(error)) this.deps.cluster.invalidateTopics(new Set(states.map((s) => s.tp.topic)));
      for (const state of states) this.backoff(state, (error as Error).message);
    }
  }

  /** Applies one partition's Fetch answer, unless the position moved since the fetch was sent. */
  private handlePartition(state: PartitionState, p: FetchPartitionDataWire): void {
    const fetchOffset = state.fetching;
    state.fetching = undefined;
    if (fetchOffset === undefined || state.position !== fetchOffset || state.bufferIndex < state.buffer.length) return;
    const { topic, partition } = state.tp;
    if (p.errorCode !== ErrorCode.NONE) {
      const error = errorFromCode(p.errorCode, p.errorMessage, undefined, { topic, partition });
      if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        if (this.autoOffsetReset === 'none') {
          this.pendingError = error;
        } else {
          this.deps.logger.info('fetch offset out of range; resetting', {
            topic,
            partition,
            offset: fetchOffset,
            to: this.autoOffsetReset,
          });
          state.position = undefined;
          state.reset = this.autoOffsetReset;
        }
        return;
      }
      if (!error.retriable) {
        this.pendingError = error;
        return;
      }
      if (needsMetadataRefresh(error)) {
        this.deps.cluster.updateLeader(topic, partition, p.currentLeader);
        this.deps.cluster.invalidateTopics([topic]);
      }
      // KIP-320: our epoch is stale; validate the position under the new leader before fetching.
      if (p.errorCode === ErrorCode.FENCED_LEADER_EPOCH && state.offsetEpoch !== undefined) state.awaitingValidation = true;
      this.backoff(state, error.message);
      return;
    }
    state.errorCount = 0;
    state.highWatermark = toBigInt(p.highWatermark, -1n);
    state.logStartOffset = toBigInt(p.logStartOffset, -1n);
    try {
      this.decodeInto(
        state,
        fetchOffset,
        p.records,
        this.readCommitted
          ? (p.abortedTransactions ?? []).map((t) => ({ producerId: toBigInt(t.producerId), firstOffset: toBigInt(t.firstOffset) }))
          : undefined,
      );
    } catch (error) {
      // Corrupt data will not heal by refetching: surface it (the position stays, so seek past it).
      this.pendingError =
        error instanceof SamsaProtocolError
          ? errorFromCode(error.code, `${topic}-${partition}: ${error.message}`, error, { topic, partition, retriable: false })
          : new CorruptMessageError(`cannot decode records of ${topic}-${partition}: ${(error as Error).message}`, {
              cause: error,
              topic,
              partition,
              retriable: false,
            });
    }
  }

  /** Decodes whole batches into the partition buffer, skipping records below the fetch offset. */
  /** `aborted` (read_committed): the fetch's aborted transactions, whose records are skipped (KIP-98). */
  private decodeInto(
    state: PartitionState,
    fetchOffset: bigint,
    data: Buffer,
    aborted?: Array<{ producerId: bigint; firstOffset: bigint }>,
  ): void {
    const buffer: DecodedRecord[] = [];
    let end = fetchOffset;
    let pos = 0;
    if (aborted !== undefined) {
      // Records come back in offset order without their batch: match them to batch ranges for the epoch.
      const ranges = [...iterateBatches(data)].map((b) => ({ last: lastOffsetOf(b.header), epoch: b.header.partitionLeaderEpoch }));
      let k = 0;
      for (const r of decodeRecordsReadCommitted(data, aborted)) {
        while (k < ranges.length - 1 && ranges[k]!.last < r.offset) k++;
        if (r.offset >= fetchOffset) buffer.push({ ...r, leaderEpoch: ranges[k]?.epoch ?? -1 });
      }
    }
    // A partial trailing batch (the broker cut at max bytes) is left for the next fetch.
    for (const batch of iterateBatches(data)) {
      pos = batch.pos + batch.size;
      // A batch may start below the fetch offset (the broker returns whole batches).
      const batchEnd = lastOffsetOf(batch.header) + 1n;
      if (batchEnd <= fetchOffset) continue;
      if (aborted === undefined && !batch.header.isControl) {
        const leaderEpoch = batch.header.partitionLeaderEpoch;
        for (const r of decodeRecordBatch(data, batch.pos).records) {
          if (r.offset >= fetchOffset) buffer.push({ ...r, leaderEpoch });
        }
      }
      if (batchEnd > end) end = batchEnd;
    }
    if (pos === 0 && data.length > 0) {
      // Not even one whole batch fit: the next fetch asks for more.
      state.maxBytes = Math.min(this.maxBytes, state.maxBytes * 2);
      this.deps.logger.warn('a record batch is larger than the partition fetch size; growing it', {
        ...state.tp,
        maxPartitionBytes: state.maxBytes,
      });
      return;
    }
    state.buffer = buffer;
    state.bufferIndex = 0;
    state.fetchedEnd = end;
    if (buffer.length === 0 && end > state.position!) state.position = end;
  }

  private backoff(state: PartitionState, reason: string): void {
    const delay = backoffMs(Math.min(state.errorCount, 30), this.retry, this.deps.random);
    state.errorCount++;
    state.backoffUntil = this.deps.clock.now() + delay;
    this.deps.logger.debug('partition backing off', { topic: state.tp.topic, partition: state.tp.partition, delayMs: delay, reason });
  }

  /** Takes up to `max` buffered records, rotating the starting partition for fairness. */
  private drain(max: number): ConsumerRecord<K, V>[] {
    const out: ConsumerRecord<K, V>[] = [];
    const states =
      this.pausedKeys.size === 0 ? [...this.states.values()] : [...this.states].filter(([k]) => !this.pausedKeys.has(k)).map(([, s]) => s);
    if (states.length === 0) return out;
    const start = this.drainStart++ % states.length;
    for (let n = 0; n < states.length && out.length < max; n++) {
      const state = states[(start + n) % states.length]!;
      // The position moves past the last record handed out; set once per partition, not per
      // record (a BigInt addition allocates). Nothing can observe it in between: drain is synchronous.
      let last: DecodedRecord | undefined;
      while (state.bufferIndex < state.buffer.length && out.length < max) {
        const r = state.buffer[state.bufferIndex]!;
        let record: ConsumerRecord<K, V>;
        try {
          record = this.toConsumerRecord(state.tp, r);
        } catch (error) {
          if (last) {
            state.position = last.offset + 1n;
            if (last.leaderEpoch >= 0) state.offsetEpoch = last.leaderEpoch;
          }
          // Hand out what decoded; the bad record stays first in line and throws on the next poll.
          if (out.length > 0) return out;
          throw error;
        }
        out.push(record);
        state.bufferIndex++;
        last = r;
      }
      if (last) {
        state.position = last.offset + 1n;
        if (last.leaderEpoch >= 0) state.offsetEpoch = last.leaderEpoch;
      }
      if (state.bufferIndex >= state.buffer.length && state.buffer.length > 0) {
        state.buffer = [];
        state.bufferIndex = 0;
        if (state.fetchedEnd > state.position!) state.position = state.fetchedEnd;
      }
    }
    return out;
  }

  private toConsumerRecord(tp: TopicPartition, r: DecodedRecord): ConsumerRecord<K, V> {
    const headers: Record<string, Buffer | null> = {};
    for (const h of r.headers) headers[h.key] = h.value;
    let key: K;
    let value: V;
    try {
      key = this.keySerde.deserialize(r.key);
      value = this.valueSerde.deserialize(r.value);
    } catch (error) {
      throw new DeserializationError(`cannot deserialize the record at ${tp.topic}-${tp.partition}@${r.offset}; seek past it to skip`, {
        cause: error,
        topic: tp.topic,
        partition: tp.partition,
        offset: r.offset,
      });
    }
    return {
      topic: tp.topic,
      partition: tp.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key,
      value,
      headers,
      headerList: r.headers.map((h) => ({ key: h.key, value: h.value })),
    };
  }

  /** Waits until a fetch or lookup in flight settles, a partition's backoff ends, or `ms` pass. */
  private async waitForProgress(ms: number): Promise<void> {
    const now = this.deps.clock.now();
    let wait = ms;
    for (const state of this.states.values()) {
      if (state.backoffUntil > now && state.fetching === undefined) wait = Math.min(wait, state.backoffUntil - now);
    }
    const timer = new AbortController();
    const onClose = (): void => timer.abort();
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    try {
      await Promise.race([
        ...this.inFlight.values(),
        ...(this.routeLookup ? [this.routeLookup] : []),
        this.deps.clock.sleep(Math.max(0, wait), timer.signal).catch(() => {}),
      ]);
    } finally {
      this.closing.signal.removeEventListener('abort', onClose);
      timer.abort(SLEEP_CANCELLED);
    }
  }
}

/** A record's key or value could not be deserialized; the position stays on it. */
export class DeserializationError extends SamsaError {
  readonly offset: bigint;

  constructor(message: string, options: { cause: unknown; topic: string; partition: number; offset: bigint }) {
    super(ErrorCode.INVALID_RECORD, message, {
      cause: options.cause,
      topic: options.topic,
      partition: options.partition,
      retriable: false,
    });
    this.offset = options.offset;
  }
}

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function checkTimestamp(offset: { timestamp: bigint }): bigint {
  if (typeof offset?.timestamp !== 'bigint' || offset.timestamp < 0n)
    throw new InvalidRequestError('seek timestamp must be a non-negative bigint (ms)');
  return offset.timestamp;
}
