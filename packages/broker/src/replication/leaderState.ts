/**
 * The leader-side replication rules of one partition, pure: what the leader knows of each
 * follower, the ISR state (committed, or a change in flight to the controller), and the high
 * watermark. No log, no clock, no I/O: callers pass the leader's log end offset and the time, and
 * send the ISR changes this returns. Kafka's Partition / Replica / PartitionState, in one place so
 * the rules can be unit-tested and simulated (see README.md in this folder).
 */
import type { AlterPartitionFailure } from './alterPartition.js';

/** What the leader knows of one follower (Kafka's ReplicaState). */
export interface FollowerState {
  readonly brokerId: number;
  /** The follower's LEO as of its last fetch; -1n until it fetched in this leader epoch. */
  logEndOffset: bigint;
  logStartOffset: bigint;
  /** The last time the follower was known to have everything the leader had (its caught-up clock). */
  lastCaughtUpTimeMs: number;
  /** The leader's LEO at the follower's previous fetch; -1n when none. */
  lastFetchLeaderLogEndOffset: bigint;
  lastFetchTimeMs: number;
  /** The broker epoch the follower fetched with; -1n when unknown. */
  brokerEpoch: bigint;
}

/**
 * How an ISR change in flight stands. `retryAtMs` is set once its AlterPartition failed: at that
 * time a change known not to be committed is dropped, and one whose outcome is unknown
 * (`outcomeUnknown`: an attempt timed out, so the controller may have committed it) is sent again
 * — never dropped, until an answer or metadata settles it (Infinity: only metadata can).
 */
interface Pending {
  readonly isr: readonly number[];
  readonly proposal: IsrChangeProposal;
  readonly retryAtMs?: number;
  readonly outcomeUnknown: boolean;
}

/** The ISR as the leader holds it (Kafka's PartitionState). */
export type IsrState =
  | { readonly kind: 'committed'; readonly isr: readonly number[] }
  /** An AlterPartition adding `adding` is in flight. */
  | (Pending & { readonly kind: 'pendingExpand'; readonly adding: number })
  /** An AlterPartition removing `removing` is in flight. */
  | (Pending & { readonly kind: 'pendingShrink'; readonly removing: readonly number[] });

/** An ISR change to send to the controller (with the partition's current epochs). */
export interface IsrChangeProposal {
  readonly kind: 'expand' | 'shrink';
  readonly newIsr: readonly number[];
  /** The brokers added or removed. */
  readonly brokers: readonly number[];
}

export interface LeaderStateConfig {
  readonly localBrokerId: number;
  /** Kafka's replica.lag.time.max.ms. */
  readonly replicaLagTimeMaxMs: number;
  /** How long after a failed ISR change it is sent again (outcome unknown) or dropped (refused). */
  readonly alterPartitionRetryBackoffMs: number;
  /** Registered, unfenced, not shutting down, and fetching with its current broker epoch (KIP-903). */
  readonly isReplicaIsrEligible: (brokerId: number, brokerEpoch: bigint) => boolean;
}

export interface LeaderStateInit {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** The HW the replica had when it became leader; it never goes down from here. */
  readonly highWatermark: bigint;
  /** The LEO when this leader epoch began (Kafka's leaderEpochStartOffsetOpt). */
  readonly leaderEpochStartOffset: bigint;
  readonly nowMs: number;
}

export interface FollowerFetch {
  /** The follower's LEO. */
  readonly fetchOffset: bigint;
  readonly logStartOffset: bigint;
  readonly brokerEpoch: bigint;
}

export const UNKNOWN_OFFSET = -1n;

export class LeaderState {
  private readonly followers = new Map<number, FollowerState>();
  private isrState: IsrState;
  private hw: bigint;
  readonly leaderEpochStartOffset: bigint;

  constructor(
    private readonly config: LeaderStateConfig,
    init: LeaderStateInit,
  ) {
    this.isrState = { kind: 'committed', isr: [...init.isr] };
    this.hw = init.highWatermark;
    this.leaderEpochStartOffset = init.leaderEpochStartOffset;
    // A new leader knows no follower's LEO; ISR members get a full lag window to show up.
    for (const id of init.replicas) {
      if (id !== config.localBrokerId) this.followers.set(id, freshFollower(id, init.isr.includes(id) ? init.nowMs : 0));
    }
  }

  // ---- views ----

  /** The committed ISR: what min.insync.replicas counts. */
  get isr(): readonly number[] {
    return this.isrState.isr;
  }

  /** The committed ISR plus a replica being added: what the high watermark waits for. */
  get maximalIsr(): readonly number[] {
    const s = this.isrState;
    return s.kind === 'pendingExpand' ? [...s.isr, s.adding] : s.isr;
  }

  get state(): IsrState {
    return this.isrState;
  }

  get isrChangeInFlight(): boolean {
    return this.isrState.kind !== 'committed';
  }

  get highWatermark(): bigint {
    return this.hw;
  }

  follower(brokerId: number): Readonly<FollowerState> | undefined {
    return this.followers.get(brokerId);
  }

  // ---- events ----

  /**
   * The controller's registration changed within this leader epoch (metadata): the committed ISR
   * is replaced and any pending change is over (it either committed or lost the race). Follower
   * state is kept; replicas that appear start fresh, replicas that went are forgotten.
   */
  updateAssignment(replicas: readonly number[], isr: readonly number[]): void {
    this.isrState = { kind: 'committed', isr: [...isr] };
    for (const id of [...this.followers.keys()]) if (!replicas.includes(id)) this.followers.delete(id);
    for (const id of replicas) {
      if (id !== this.config.localBrokerId && !this.followers.has(id)) this.followers.set(id, freshFollower(id, 0));
    }
  }

  /**
   * A follower fetched at `fetch.fetchOffset` while the leader's LEO was `leaderLogEndOffset`
   * (Kafka's updateFollowerFetchState): updates its caught-up clock and LEO, then the HW, then
   * whether it should join the ISR. Returns whether the HW moved and the ISR change to send.
   */
  onFollowerFetch(
    brokerId: number,
    fetch: FollowerFetch,
    leaderLogEndOffset: bigint,
    nowMs: number,
  ): { highWatermarkChanged: boolean; proposal?: IsrChangeProposal } {
    const f = this.followers.get(brokerId);
    if (!f) return { highWatermarkChanged: false };
    if (fetch.fetchOffset >= leaderLogEndOffset) {
      f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, nowMs);
    } else if (fetch.fetchOffset >= f.lastFetchLeaderLogEndOffset && f.lastFetchLeaderLogEndOffset >= 0n) {
      // It now has what the leader had at its previous fetch: it was caught up then.
      f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    }
    f.logEndOffset = fetch.fetchOffset;
    f.logStartOffset = fetch.logStartOffset;
    f.brokerEpoch = fetch.brokerEpoch;
    f.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    f.lastFetchTimeMs = nowMs;
    const highWatermarkChanged = this.maybeIncrementHighWatermark(leaderLogEndOffset);
    const proposal = this.maybeRetryAfterFailure(nowMs) ?? this.maybeExpandIsr(brokerId);
    return proposal ? { highWatermarkChanged, proposal } : { highWatermarkChanged };
  }

  /**
   * HW = min LEO over the maximal ISR (the leader's own for itself), if that is higher than the
   * current one; a follower whose LEO is unknown holds it. Returns whether it moved.
   */
  maybeIncrementHighWatermark(leaderLogEndOffset: bigint): boolean {
    let candidate = leaderLogEndOffset;
    for (const id of this.maximalIsr) {
      if (id === this.config.localBrokerId) continue;
      const leo = this.followers.get(id)?.logEndOffset ?? UNKNOWN_OFFSET;
      if (leo < candidate) candidate = leo;
    }
    if (candidate <= this.hw) return false;
    this.hw = candidate;
    return true;
  }

  /**
   * Kafka's maybeShrinkIsr: ISR followers that have not caught up within the lag time, when no
   * change is in flight, become a PendingShrink; returns the change to send (or a failed change
   * to send again, when its retry time came).
   */
  maybeShrinkIsr(leaderLogEndOffset: bigint, nowMs: number): IsrChangeProposal | undefined {
    const resend = this.maybeRetryAfterFailure(nowMs);
    if (resend) return resend;
    if (this.isrState.kind !== 'committed') return undefined;
    const outOfSync = this.outOfSyncReplicas(leaderLogEndOffset, nowMs);
    if (outOfSync.length === 0) return undefined;
    const isr = this.isrState.isr;
    const proposal: IsrChangeProposal = { kind: 'shrink', newIsr: isr.filter((id) => !outOfSync.includes(id)), brokers: outOfSync };
    this.isrState = { kind: 'pendingShrink', isr, removing: outOfSync, proposal, outcomeUnknown: false };
    return proposal;
  }

  /** ISR followers (of the committed ISR) that are not caught up. */
  outOfSyncReplicas(leaderLogEndOffset: bigint, nowMs: number): number[] {
    return this.isrState.isr.filter((id) => {
      if (id === this.config.localBrokerId) return false;
      const f = this.followers.get(id);
      return f === undefined || !this.isCaughtUp(f, leaderLogEndOffset, nowMs);
    });
  }

  /** Kafka's ReplicaState.isCaughtUp: has the leader's LEO, or had it within the lag time. */
  isCaughtUp(f: Readonly<FollowerState>, leaderLogEndOffset: bigint, nowMs: number): boolean {
    return f.logEndOffset === leaderLogEndOffset || nowMs - f.lastCaughtUpTimeMs <= this.config.replicaLagTimeMaxMs;
  }

  /**
   * The controller committed `isr` for this partition (AlterPartition answered, or metadata showed
   * it): it becomes the committed ISR. Returns whether the HW moved.
   */
  onIsrCommitted(isr: readonly number[], leaderLogEndOffset: bigint): boolean {
    this.isrState = { kind: 'committed', isr: [...isr] };
    return this.maybeIncrementHighWatermark(leaderLogEndOffset);
  }

  /**
   * The change in flight failed. It stays pending — the maximal ISR still guards the HW — until
   * the retry backoff passes; then a change known not to be committed is dropped (the rules may
   * propose again), and one whose outcome is unknown is sent again: dropping an expansion the
   * controller did commit would let the HW pass a replica the controller counts as in sync. An
   * unknown outcome becomes known only through an answer that checked the partition epoch
   * ('refused': nothing committed) or through metadata; after a 'stale' answer (the epoch moved,
   * maybe by our own earlier attempt) only metadata can tell, so nothing is sent until it does.
   */
  onIsrChangeFailed(nowMs: number, failure: AlterPartitionFailure): void {
    const s = this.isrState;
    if (s.kind === 'committed') return;
    const outcomeUnknown = failure === 'unknown' || (s.outcomeUnknown && failure !== 'refused');
    const retryAtMs = outcomeUnknown && failure === 'stale' ? Infinity : nowMs + this.config.alterPartitionRetryBackoffMs;
    this.isrState = { ...s, retryAtMs, outcomeUnknown };
  }

  // ---- rules ----

  private maybeExpandIsr(brokerId: number): IsrChangeProposal | undefined {
    if (this.isrState.kind !== 'committed') return undefined;
    const isr = this.isrState.isr;
    if (isr.includes(brokerId)) return undefined;
    const f = this.followers.get(brokerId);
    if (!f || !this.isFollowerInSync(f)) return undefined;
    if (!this.config.isReplicaIsrEligible(brokerId, f.brokerEpoch)) return undefined;
    const proposal: IsrChangeProposal = { kind: 'expand', newIsr: [...isr, brokerId], brokers: [brokerId] };
    this.isrState = { kind: 'pendingExpand', isr, adding: brokerId, proposal, outcomeUnknown: false };
    return proposal;
  }

  /** Kafka's isFollowerInSync: has everything below the HW, and has reached this leader epoch. */
  private isFollowerInSync(f: Readonly<FollowerState>): boolean {
    return f.logEndOffset >= 0n && f.logEndOffset >= this.hw && f.logEndOffset >= this.leaderEpochStartOffset;
  }

  /** A failed change whose backoff passed: dropped (refused), or returned to be sent again (outcome unknown). */
  private maybeRetryAfterFailure(nowMs: number): IsrChangeProposal | undefined {
    const s = this.isrState;
    if (s.kind === 'committed' || s.retryAtMs === undefined || nowMs < s.retryAtMs) return undefined;
    if (!s.outcomeUnknown) {
      this.isrState = { kind: 'committed', isr: s.isr };
      return undefined;
    }
    const { retryAtMs: _due, ...inFlight } = s;
    this.isrState = inFlight;
    return s.proposal;
  }
}

function freshFollower(brokerId: number, lastCaughtUpTimeMs: number): FollowerState {
  return {
    brokerId,
    logEndOffset: UNKNOWN_OFFSET,
    logStartOffset: UNKNOWN_OFFSET,
    lastCaughtUpTimeMs,
    lastFetchLeaderLogEndOffset: UNKNOWN_OFFSET,
    lastFetchTimeMs: 0,
    brokerEpoch: -1n,
  };
}
