/**
 * The follower side of replication (Kafka's ReplicaFetcherManager and fetcher threads): one
 * ReplicaFetcher per leader broker, each a loop of long-poll fetches covering every partition this
 * broker follows from that leader, in one incremental fetch session (KIP-227, fetchSessions.ts:
 * after the first full fetch only partitions whose position changed are named). Fetched batches
 * are appended verbatim; a divergence the leader reports is truncated at the point the two logs'
 * leader epochs agree (never at the HW alone).
 * See README.md in this folder for the states and rules.
 */
import { ErrorCode, SamsaProtocolError, errorInfo, hopEnd, hopStart } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { Partition } from '../partition.js';
import type { Timers } from '@samsa/server';
import { FetchSessionHandler } from './fetchSessions.js';
import type { EpochEndOffset, LeaderEndPoint, ReplicaFetchParams, ReplicaFetchPartitionResult } from './leaderEndPoint.js';

export interface ReplicaFetcherConfig {
  /** Kafka's replica.fetch.wait.max.ms (500). */
  maxWaitMs: number;
  /** Kafka's replica.fetch.min.bytes (1). */
  minBytes: number;
  /** Kafka's replica.fetch.response.max.bytes (10 MiB). */
  maxBytes: number;
  /** Kafka's replica.fetch.max.bytes (1 MiB), per partition. */
  partitionMaxBytes: number;
  /** Backoff after a partition error, and the first one after a failed fetch (doubling up to backoffMaxMs). */
  backoffMs: number;
  backoffMaxMs: number;
  /** How long a fetch may take beyond its long-poll wait before it counts as failed. */
  requestTimeoutMs: number;
}

export const DEFAULT_REPLICA_FETCHER_CONFIG: ReplicaFetcherConfig = {
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 10 * 1024 * 1024,
  partitionMaxBytes: 1024 * 1024,
  backoffMs: 100,
  backoffMaxMs: 1_000,
  requestTimeoutMs: 10_000,
};

export interface ReplicaFetcherDeps {
  brokerId: number;
  /** This broker's current registration epoch; -1n before it registered. */
  brokerEpoch: () => bigint;
  /** A new endpoint for the leader (from metadata); undefined while its address is unknown. */
  leaderEndPoint: (leaderId: number) => LeaderEndPoint | undefined;
  timers: Timers;
  logger: Logger;
  random: () => number;
  config: ReplicaFetcherConfig;
  /** Told of every error appending fetched data (a failed disk takes the log directory offline: log/README.md). */
  onAppendError?: (err: unknown) => void;
}

type FetchStatus = 'fetching' | 'delayed' | 'fenced';

interface PartitionFetchState {
  partition: Partition;
  leaderEpoch: number;
  status: FetchStatus;
  delayedUntil: number;
}

export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  /** key → leader id it is fetched from. */
  private readonly assignment = new Map<string, number>();
  private closed = false;

  constructor(private readonly deps: ReplicaFetcherDeps) {}

  /** Fetches `partition` from `leaderId` at `leaderEpoch` from now on (moving it from another leader's fetcher). */
  addPartition(partition: Partition, leaderId: number, leaderEpoch: number): void {
    if (this.closed) return;
    const key = partition.key;
    const current = this.assignment.get(key);
    if (current !== undefined && current !== leaderId) this.removePartition(key);
    let fetcher = this.fetchers.get(leaderId);
    if (!fetcher) {
      fetcher = new ReplicaFetcher(leaderId, this.deps, () => this.onIdle(leaderId));
      this.fetchers.set(leaderId, fetcher);
    }
    this.assignment.set(key, leaderId);
    fetcher.addPartition(partition, leaderEpoch);
  }

  removePartition(key: string): void {
    const leaderId = this.assignment.get(key);
    if (leaderId === undefined) return;
    this.assignment.delete(key);
    this.fetchers.get(leaderId)?.removePartition(key);
  }

  /** Which leader a partition is fetched from (tests, diagnostics). */
  leaderOf(key: string): number | undefined {
    return this.assignment.get(key);
  }

  get fetcherCount(): number {
    return this.fetchers.size;
  }

  /** Stops every fetcher and waits for their loops to end (no append happens after this resolves). */
  async shutdown(): Promise<void> {
    this.closed = true;
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    this.assignment.clear();
    await Promise.all(all.map((f) => f.stop()));
  }

  private onIdle(leaderId: number): void {
    const fetcher = this.fetchers.get(leaderId);
    if (fetcher && fetcher.partitionCount === 0) {
      this.fetchers.delete(leaderId);
      void fetcher.stop();
    }
  }
}

/** Fetches every partition this broker follows from one leader broker. */
export class ReplicaFetcher {
  private readonly partitions = new Map<string, PartitionFetchState>();
  private endpoint: LeaderEndPoint | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private sleeper: { done: () => void; wakeOnAdd: boolean } | undefined;
  private failures = 0;
  /** Rotates which partition comes first in a request: only the first may exceed its byte limit (KIP-74). */
  private rotation = 0;
  private readonly throttle = new Map<string, number>();
  /** The incremental fetch session with this leader (KIP-227, fetchSessions.ts). */
  private readonly session = new FetchSessionHandler();

  constructor(
    readonly leaderId: number,
    private readonly deps: ReplicaFetcherDeps,
    private readonly onIdle: () => void,
  ) {}

  get partitionCount(): number {
    return this.partitions.size;
  }

  addPartition(partition: Partition, leaderEpoch: number): void {
    if (this.stopped) return;
    this.partitions.set(partition.key, { partition, leaderEpoch, status: 'fetching', delayedUntil: 0 });
    this.deps.logger.info(
      { partition: partition.key, leader: this.leaderId, leaderEpoch, logEndOffset: String(partition.logEndOffset) },
      'following the leader',
    );
    this.ensureRunning();
    this.wake('add');
  }

  private ensureRunning(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = this.run()
      .catch((err: unknown) => this.deps.logger.error({ err, leader: this.leaderId }, 'the replica fetcher stopped unexpectedly'))
      .finally(() => {
        this.running = undefined;
        // A partition added while the loop was ending.
        if (this.partitions.size > 0) this.ensureRunning();
      });
  }

  removePartition(key: string): void {
    this.partitions.delete(key);
    if (this.partitions.size === 0) queueMicrotask(() => this.partitions.size === 0 && this.onIdle());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endpoint?.close();
    this.endpoint = undefined;
    this.wake('stop');
    await this.running;
  }

  private wake(why: 'add' | 'stop'): void {
    if (this.sleeper && (why === 'stop' || this.sleeper.wakeOnAdd)) this.sleeper.done();
  }

  /** Waits `ms`, or until stopped, or (when `wakeOnAdd`) until a partition is added. */
  private sleep(ms: number, wakeOnAdd: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.deps.timers.clearTimeout(handle);
        if (this.sleeper?.done === done) this.sleeper = undefined;
        resolve();
      };
      const handle = this.deps.timers.setTimeout(done, Math.max(0, ms));
      this.sleeper = { done, wakeOnAdd };
    });
  }

  private async run(): Promise<void> {
    const { config, timers } = this.deps;
    while (!this.stopped) {
      const now = timers.now();
      const ready: PartitionFetchState[] = [];
      let nextDelay = Infinity;
      for (const s of this.partitions.values()) {
        if (s.partition.log.isClosed) continue;
        if (s.status === 'delayed' && s.delayedUntil <= now) s.status = 'fetching';
        if (s.status === 'fetching') ready.push(s);
        else if (s.status === 'delayed') nextDelay = Math.min(nextDelay, s.delayedUntil - now);
      }
      if (ready.length === 0) {
        if (this.partitions.size === 0) break;
        await this.sleep(Number.isFinite(nextDelay) ? nextDelay : 60_000, true);
        continue;
      }
      this.endpoint ??= this.deps.leaderEndPoint(this.leaderId);
      if (!this.endpoint) {
        this.warnThrottled('resolve', { leader: this.leaderId }, `no address for leader broker ${this.leaderId} yet; waiting for metadata`);
        await this.sleep(this.backoff(++this.failures), true);
        continue;
      }
      // Every partition to fetch and its position; the session sends only what changed.
      const fetchable = this.buildRequest(ready);
      const params: ReplicaFetchParams = { ...fetchable, ...this.session.build(fetchable.partitions) };
      let results: ReplicaFetchPartitionResult[];
      try {
        const res = await this.endpoint.fetch(params, config.maxWaitMs + config.requestTimeoutMs);
        if (this.stopped) break;
        if (!this.session.onResponse(res.errorCode, res.sessionId)) {
          // The leader lost or refused our session (it restarted, or evicted it): a full fetch now.
          this.logThrottled(
            'session',
            'info',
            { leader: this.leaderId, reason: res.errorMessage },
            'fetch session reset; sending a full fetch',
          );
          continue;
        }
        if (res.errorCode !== ErrorCode.NONE) throw new SamsaProtocolError(res.errorCode as ErrorCode, res.errorMessage);
        results = res.partitions;
      } catch (err) {
        this.session.onFailure();
        if (this.stopped) break;
        const ms = this.backoff(++this.failures);
        this.warnThrottled(
          'fetch',
          { leader: this.leaderId, err: errorText(err), retryInMs: ms },
          `fetching from leader ${this.endpoint?.description ?? this.leaderId} failed`,
        );
        // Re-resolve the address next time: the leader may have moved or restarted.
        this.endpoint?.close();
        this.endpoint = undefined;
        await this.sleep(ms, false);
        continue;
      }
      if (this.failures > 0) this.deps.logger.info({ leader: this.leaderId }, `fetching from leader ${this.leaderId} again`);
      this.failures = 0;
      // What each answer was read at: the leader's view of the session, which is `fetchable`.
      const sent = new Map(fetchable.partitions.map((p) => [`${p.topic}-${p.partition}`, p]));
      const processing = hopStart();
      for (const result of results) {
        const key = `${result.topic}-${result.partition}`;
        const request = sent.get(key);
        const state = this.partitions.get(key);
        // Only if nothing moved under us since the request: same assignment, epoch and log end.
        if (
          !request ||
          !state ||
          state.leaderEpoch !== request.currentLeaderEpoch ||
          state.partition.log.isClosed ||
          state.partition.logEndOffset !== request.fetchOffset
        ) {
          // The leader counts this answer (its HW, its log start) as told; we dropped it, so the
          // next fetch is full and tells everything again.
          this.session.onFailure();
          continue;
        }
        try {
          this.processPartition(state, result);
        } catch (err) {
          this.deps.onAppendError?.(err);
          this.delay(state, `processing the fetched data failed: ${errorText(err)}`, 'error');
        }
      }
      hopEnd('follower.append', processing);
    }
    this.finish();
  }

  private finish(): void {
    this.endpoint?.close();
    this.endpoint = undefined;
  }

  private buildRequest(states: PartitionFetchState[]): ReplicaFetchParams {
    const { config, brokerId } = this.deps;
    const start = this.rotation++ % states.length;
    const ready = [...states.slice(start), ...states.slice(0, start)];
    return {
      replicaId: brokerId,
      replicaEpoch: this.deps.brokerEpoch(),
      maxWaitMs: config.maxWaitMs,
      minBytes: config.minBytes,
      maxBytes: config.maxBytes,
      partitions: ready.map(({ partition: p, leaderEpoch }) => ({
        topic: p.topic,
        partition: p.partition,
        currentLeaderEpoch: leaderEpoch,
        fetchOffset: p.log.logEndOffset,
        lastFetchedEpoch: p.log.latestEpoch ?? -1,
        logStartOffset: p.log.logStartOffset,
        maxBytes: config.partitionMaxBytes,
      })),
    };
  }

  /** Kafka's processFetchRequest for one partition. */
  private processPartition(state: PartitionFetchState, result: ReplicaFetchPartitionResult): void {
    const p = state.partition;
    switch (result.errorCode) {
      case ErrorCode.NONE:
        if (result.divergingEpoch) {
          this.truncateOnDivergence(p, result.divergingEpoch);
          return;
        }
        if (result.records.length > 0) p.appendRecordsAsFollower(result.records);
        p.updateFollowerHighWatermark(result.highWatermark);
        p.maybeIncrementLogStartOffset(result.logStartOffset);
        return;
      case ErrorCode.OFFSET_OUT_OF_RANGE:
        this.handleOutOfRange(state, result);
        return;
      case ErrorCode.FENCED_LEADER_EPOCH:
        // The leader is past our epoch: nothing to fetch until metadata names the new leader.
        state.status = 'fenced';
        this.deps.logger.info(
          { partition: p.key, leader: this.leaderId, leaderEpoch: state.leaderEpoch, reason: result.errorMessage },
          'our leader epoch is fenced; waiting for metadata',
        );
        return;
      default:
        // UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION: one side's metadata lags.
        this.delay(
          state,
          `${errorInfo(result.errorCode).name}: ${result.errorMessage}`,
          result.errorCode === ErrorCode.UNKNOWN_LEADER_EPOCH || result.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? 'info' : 'warn',
        );
    }
  }

  /**
   * Kafka's getOffsetTruncationState: the leader says our last fetched epoch ends at
   * `diverging.endOffset` on its side (as epoch `diverging.epoch`, the largest it has at or below
   * ours). Truncate to where both logs agree; if we lack that epoch, to the end of the largest
   * epoch below it, and fetch again (the leader checks again).
   */
  private truncateOnDivergence(p: Partition, diverging: EpochEndOffset): void {
    const leo = p.log.logEndOffset;
    let target: bigint;
    let complete = true;
    if (diverging.endOffset < 0n) {
      target = p.highWatermark; // the leader cannot place our epoch at all (not expected: it answers OFFSET_OUT_OF_RANGE)
    } else if (diverging.epoch < 0) {
      target = min(diverging.endOffset, leo);
    } else {
      const local = p.log.endOffsetForEpoch(diverging.epoch);
      if (local.leaderEpoch < 0 || local.endOffset < 0n) {
        target = min(diverging.endOffset, leo);
      } else if (local.leaderEpoch !== diverging.epoch) {
        target = min(local.endOffset, leo);
        complete = false;
      } else {
        target = min(min(local.endOffset, diverging.endOffset), leo);
      }
    }
    this.deps.logger.info(
      {
        partition: p.key,
        leader: this.leaderId,
        divergingEpoch: diverging.epoch,
        leaderEndOffset: String(diverging.endOffset),
        logEndOffset: String(leo),
        truncateTo: String(target),
        highWatermark: String(p.highWatermark),
        complete,
      },
      "our log diverges from the leader's: truncating",
    );
    p.truncateTo(target);
  }

  /** Kafka's handleOutOfRangeError, with the leader's offsets taken from the answer. */
  private handleOutOfRange(state: PartitionFetchState, result: ReplicaFetchPartitionResult): void {
    const p = state.partition;
    const leo = p.log.logEndOffset;
    if (result.logEndOffset >= 0n && result.logEndOffset < leo) {
      this.deps.logger.warn(
        { partition: p.key, leader: this.leaderId, leaderEndOffset: String(result.logEndOffset), logEndOffset: String(leo) },
        "the leader's log ends before ours (unclean leader election?): truncating to it",
      );
      p.truncateTo(result.logEndOffset);
    } else if (result.logStartOffset > leo) {
      this.deps.logger.info(
        { partition: p.key, leader: this.leaderId, leaderStartOffset: String(result.logStartOffset), logEndOffset: String(leo) },
        "the leader's log starts after ours ends: starting over at its log start offset",
      );
      p.truncateFullyAndStartAt(result.logStartOffset);
    } else {
      this.delay(state, `OFFSET_OUT_OF_RANGE: ${result.errorMessage}`, 'warn');
    }
  }

  private delay(state: PartitionFetchState, why: string, level: 'info' | 'warn' | 'error'): void {
    state.status = 'delayed';
    state.delayedUntil = this.deps.timers.now() + this.deps.config.backoffMs;
    const fields = { partition: state.partition.key, leader: this.leaderId, retryInMs: this.deps.config.backoffMs };
    this.logThrottled(`p:${state.partition.key}:${why.split(':')[0]}`, level, fields, `replica fetch: ${why}`);
  }

  private backoff(failures: number): number {
    const { backoffMs, backoffMaxMs } = this.deps.config;
    const base = Math.min(backoffMaxMs, backoffMs * 2 ** Math.min(failures - 1, 16));
    return Math.round(base * (0.8 + 0.4 * this.deps.random()));
  }

  private warnThrottled(key: string, fields: object, message: string): void {
    this.logThrottled(key, 'warn', fields, message);
  }

  private logThrottled(key: string, level: 'info' | 'warn' | 'error', fields: object, message: string): void {
    const now = this.deps.timers.now();
    const last = this.throttle.get(key);
    if (last !== undefined && now - last < 10_000) return;
    this.throttle.set(key, now);
    this.deps.logger[level](fields, message);
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'details' in err && typeof err.details === 'string' && err.details) return err.details;
  return err instanceof Error ? err.message : String(err);
}
