/**
 * The group member's state machine, pure (Kafka's AbstractCoordinator/ConsumerCoordinator member
 * state and rebalance decisions; the broker's side is groupCoordinatorState.ts): events in, actions
 * out, time passed in as `now`. No I/O, no timers, no promises: GroupConsumer (the shell) performs
 * the actions (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, commits, listener calls, which
 * partitions the fetcher reads) and feeds the answers back as events. States and events are in
 * README.md next to this file.
 *
 * What it guarantees, and the seeded tests in memberState.test.ts check:
 * - the fetcher is only ever told to read partitions the member owns (`fetch` actions);
 * - a commit carries the current generation and member id, and there is none outside a generation;
 * - an eager member joins holding nothing; a cooperative one declares exactly what it owns;
 * - heartbeats go out only in STABLE / REBALANCING, and an answer about an older generation
 *   changes nothing.
 */
import { ErrorCode } from '@samsa/protocol';
import type { TopicPartition } from '../consumer.js';
import type { RebalanceProtocol } from './assignors.js';

export type MemberState = 'unjoined' | 'joining' | 'syncing' | 'stable' | 'rebalancing';

export interface MemberConfig {
  readonly protocol: RebalanceProtocol;
  readonly sessionTimeoutMs: number;
  readonly maxPollIntervalMs: number;
  /** A static member (KIP-345) does not send LeaveGroup when its poll interval expires. */
  readonly staticMember: boolean;
}

/** What the shell must do, in order. */
export type MemberAction =
  /** Read exactly these partitions (always a subset of what the member owns). */
  | { readonly type: 'fetch'; readonly partitions: readonly TopicPartition[] }
  /** Partitions lost without a rebalance: tell the listener; commit nothing. */
  | { readonly type: 'lost'; readonly partitions: readonly TopicPartition[] }
  /** LeaveGroup for this member id. */
  | { readonly type: 'leave'; readonly memberId: string; readonly reason: string }
  /** Whoever the shell talks to is not the coordinator any more: find it again. */
  | { readonly type: 'findCoordinator' }
  | {
      readonly type: 'log';
      readonly level: 'debug' | 'info' | 'warn';
      readonly message: string;
      readonly fields?: Record<string, unknown>;
    };

/** An assignment from SyncGroup, waiting for the next safe point (poll) to be applied. */
export interface PendingAssignment {
  readonly generationId: number;
  readonly partitions: readonly TopicPartition[];
}

/** A JoinGroup to send. */
export interface JoinRequest {
  readonly memberId: string;
  /** Cooperative: the partitions owned and the generation they are from; eager: none and -1. */
  readonly ownedPartitions: readonly TopicPartition[];
  readonly ownedGeneration: number;
}

/** What to do after a JoinGroup answer. */
export type JoinVerdict =
  /** MEMBER_ID_REQUIRED: send JoinGroup again at once with the member id given; UNKNOWN_MEMBER_ID: at once without one. */
  | { readonly next: 'rejoin' }
  /** Joined: send SyncGroup, with the leader's assignment when `assign`. */
  | { readonly next: 'sync'; readonly assign: boolean }
  /** A retriable error: back off (re-finding the coordinator if it moved), then join again. */
  | { readonly next: 'retry' }
  /** Stop joining: fatal (surfaced by poll) or fenced (partitions lost; the next poll joins again). */
  | { readonly next: 'stop' };

/** What to do after a SyncGroup answer. */
export type SyncVerdict = { readonly next: 'done' | 'retry' | 'stop' };

/**
 * What a Heartbeat answer means: `coordinatorError` (it may have moved: the shell re-finds it when
 * the code says so), `fatal` (FENCED_INSTANCE_ID: the shell records the error), and actions.
 */
export interface HeartbeatVerdict {
  readonly coordinatorError: boolean;
  readonly fatal: boolean;
  readonly actions: MemberAction[];
}

const FATAL_JOIN_CODES = new Set<number>([
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  ErrorCode.INVALID_SESSION_TIMEOUT,
  ErrorCode.GROUP_MAX_SIZE_REACHED,
  ErrorCode.INVALID_GROUP_ID,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
]);

const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;

export class MemberStateMachine {
  private current: MemberState = 'unjoined';
  private member = '';
  private generation = -1;
  private protocol = '';
  private leader = false;
  private readonly ownedMap = new Map<string, TopicPartition>();
  private rejoinNeeded = false;
  private lostPending = false;
  private pending: PendingAssignment | undefined;
  private joinInFlight = false;
  private fatalError: unknown;
  private pollInProgress = false;
  private lastPollAt: number;
  private lastHeartbeatOkAt: number;
  private isClosed = false;

  constructor(
    private readonly config: MemberConfig,
    now: number,
  ) {
    this.lastPollAt = now;
    this.lastHeartbeatOkAt = now;
  }

  // ---- what the shell reads ----

  get state(): MemberState {
    return this.current;
  }

  get memberId(): string {
    return this.member;
  }

  get generationId(): number {
    return this.generation;
  }

  get protocolName(): string {
    return this.protocol;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** A fatal error (FENCED_INSTANCE_ID, a non-retriable join failure): every later poll throws it. */
  get fatal(): unknown {
    return this.fatalError;
  }

  get joining(): boolean {
    return this.joinInFlight;
  }

  get rejoinRequested(): boolean {
    return this.rejoinNeeded;
  }

  /** Partitions were lost (fenced, removed) and the next safe point drops them: fetched records of them are not handed out. */
  get lostAwaiting(): boolean {
    return this.lostPending;
  }

  owns(tp: TopicPartition): boolean {
    return this.ownedMap.has(key(tp));
  }

  owned(): TopicPartition[] {
    return [...this.ownedMap.values()];
  }

  /** The generation and member id a commit must carry; undefined outside an active generation. */
  commitGeneration(): { generationId: number; memberId: string } | undefined {
    return this.generation < 0 || !this.member ? undefined : { generationId: this.generation, memberId: this.member };
  }

  // ---- events: the application ----

  /** A rebalance is wanted (subscription or metadata changed, a commit said REBALANCE_IN_PROGRESS, ...). */
  requestRejoin(reason: string): MemberAction[] {
    const actions: MemberAction[] = this.rejoinNeeded
      ? []
      : [{ type: 'log', level: 'debug', message: 'rejoin requested', fields: { reason } }];
    this.rejoinNeeded = true;
    if (this.current === 'stable') this.current = 'rebalancing';
    return actions;
  }

  pollStarted(now: number): void {
    this.pollInProgress = true;
    this.lastPollAt = now;
  }

  /** Records were handed to the application (the poll interval restarts). */
  recordsReturned(now: number): void {
    this.lastPollAt = now;
  }

  pollEnded(now: number): void {
    this.pollInProgress = false;
    this.lastPollAt = now;
  }

  close(): void {
    this.isClosed = true;
  }

  /** After close(): nothing owned, not in the group. */
  closedOut(): MemberAction[] {
    this.ownedMap.clear();
    this.current = 'unjoined';
    return [{ type: 'fetch', partitions: [] }];
  }

  // ---- events: the safe point (inside poll) ----

  /** Safe point, step 1: partitions lost since the last poll (fenced, poll interval): drop them, tell the listener. */
  takeLost(): MemberAction[] {
    if (!this.lostPending) return [];
    this.lostPending = false;
    // The assignment pending at the loss was dropped then; one pending now came from a later join
    // (a member removed mid-join rejoins at once) and is the member's new assignment.
    const lost = this.owned();
    this.ownedMap.clear();
    return lost.length > 0
      ? [
          { type: 'fetch', partitions: [] },
          { type: 'lost', partitions: lost },
        ]
      : [{ type: 'fetch', partitions: [] }];
  }

  /**
   * Safe point, step 2: the assignment SyncGroup brought, once no join is running. The shell looks
   * up committed offsets of `added`, revokes `revoked` (partitionsRevoked), then calls assignmentApplied.
   */
  takeAssignment(): { pending: PendingAssignment; added: TopicPartition[]; revoked: TopicPartition[] } | undefined {
    if (this.pending === undefined || this.joinInFlight) return undefined;
    const pending = this.pending;
    this.pending = undefined;
    const next = new Set(pending.partitions.map(key));
    return {
      pending,
      revoked: this.owned().filter((tp) => !next.has(key(tp))),
      added: pending.partitions.filter((tp) => !this.ownedMap.has(key(tp))),
    };
  }

  /** Applying the assignment failed before anything changed (retriable): keep it for the next poll unless superseded. */
  assignmentFailed(pending: PendingAssignment): void {
    if (this.pending === undefined && !this.lostPending) this.pending = pending;
  }

  /** Partitions given up (their processed offsets committed, the listener told): stop fetching them. */
  partitionsRevoked(partitions: readonly TopicPartition[]): MemberAction[] {
    for (const tp of partitions) this.ownedMap.delete(key(tp));
    return [{ type: 'fetch', partitions: this.owned() }];
  }

  /** The assignment is in force: fetch it. Cooperative: having revoked anything, rejoin (KIP-429). */
  assignmentApplied(partitions: readonly TopicPartition[], revokedAny: boolean): MemberAction[] {
    for (const tp of partitions) this.ownedMap.set(key(tp), { topic: tp.topic, partition: tp.partition });
    const actions: MemberAction[] = [{ type: 'fetch', partitions: this.owned() }];
    if (this.config.protocol === 'cooperative' && revokedAny)
      actions.push(...this.requestRejoin('revoked partitions in a cooperative rebalance'));
    return actions;
  }

  /**
   * Safe point, step 3: whether to start a JoinGroup now, and (eager) which partitions to revoke
   * first. The shell revokes them (partitionsRevoked), then calls joinStarted.
   */
  joinNeeded(): { revokeFirst: TopicPartition[] } | undefined {
    if (!this.rejoinNeeded || this.joinInFlight || this.isClosed) return undefined;
    return { revokeFirst: this.config.protocol === 'eager' ? this.owned() : [] };
  }

  joinStarted(): void {
    this.joinInFlight = true;
  }

  joinEnded(): void {
    this.joinInFlight = false;
  }

  // ---- events: JoinGroup / SyncGroup ----

  /** One JoinGroup attempt begins. */
  joinAttempt(): JoinRequest {
    this.rejoinNeeded = false;
    this.current = 'joining';
    const cooperative = this.config.protocol === 'cooperative';
    return {
      memberId: this.member,
      ownedPartitions: cooperative ? this.owned() : [],
      ownedGeneration: cooperative ? this.generation : -1,
    };
  }

  joinAnswered(res: {
    errorCode: number;
    memberId: string;
    generationId: number;
    protocolName: string;
    leader: string;
    skipAssignment: boolean;
  }): JoinVerdict {
    if (res.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      // KIP-394: the coordinator handed out our id; join again with it at once.
      this.member = res.memberId;
      return { next: 'rejoin' };
    }
    if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID && this.member !== '') {
      // Kafka's JoinGroupResponseHandler: forget the id and join again at once. The coordinator does
      // not know the id when it moved or reloaded the group between the two KIP-394 joins (pending
      // ids are kept in memory only) or removed the member: not an error for the consumer. A member
      // that still owns partitions (cooperative) was removed from the group, so they may be someone
      // else's already: lost at the next safe point, as Kafka's onJoinPrepare does after a reset
      // generation, never fetched on under an empty member id.
      this.member = '';
      if (this.ownedMap.size > 0) {
        this.generation = -1;
        this.lostPending = true;
        this.pending = undefined;
      }
      return { next: 'rejoin' };
    }
    if (res.errorCode !== ErrorCode.NONE) {
      // UNKNOWN_MEMBER_ID for a join without an id cannot be cured by rejoining: no loop on it.
      return FATAL_JOIN_CODES.has(res.errorCode) ? { next: 'stop' } : { next: 'retry' };
    }
    this.member = res.memberId;
    this.generation = res.generationId;
    this.protocol = res.protocolName;
    this.leader = res.leader === res.memberId;
    this.current = 'syncing';
    return { next: 'sync', assign: this.leader && !res.skipAssignment };
  }

  /** A JoinGroup answer with a fatal code: record the error (poll throws it). */
  failed(error: unknown): void {
    this.fatalError = error;
    this.current = 'unjoined';
  }

  syncAnswered(
    res: { errorCode: number; partitions: readonly TopicPartition[] },
    now: number,
  ): { verdict: SyncVerdict; actions: MemberAction[] } {
    if (res.errorCode !== ErrorCode.NONE) {
      if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || res.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.member = '';
        return {
          verdict: { next: 'stop' },
          actions: this.fenced(
            `SyncGroup said ${res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID ? 'UNKNOWN_MEMBER_ID' : 'ILLEGAL_GENERATION'}`,
          ),
        };
      }
      return { verdict: { next: res.errorCode === ErrorCode.FENCED_INSTANCE_ID ? 'stop' : 'retry' }, actions: [] };
    }
    this.pending = {
      generationId: this.generation,
      partitions: res.partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition })),
    };
    this.lastHeartbeatOkAt = now;
    this.current = this.rejoinNeeded ? 'rebalancing' : 'stable';
    return {
      verdict: { next: 'done' },
      actions: [
        {
          type: 'log',
          level: 'info',
          message: 'joined group',
          fields: { memberId: this.member, generationId: this.generation, leader: this.leader, protocol: this.protocol },
        },
      ],
    };
  }

  // ---- events: timers ----

  /** The heartbeat timer fired: the request to send, if any. */
  heartbeatDue(): { generationId: number; memberId: string } | undefined {
    if (this.current !== 'stable' && this.current !== 'rebalancing') return undefined;
    return { generationId: this.generation, memberId: this.member };
  }

  /** A Heartbeat answer for the generation it was sent in. */
  heartbeatAnswered(sentGeneration: number, errorCode: number, now: number): HeartbeatVerdict {
    // A join may have started meanwhile: an answer about the old generation is stale.
    if (sentGeneration !== this.generation || (this.current !== 'stable' && this.current !== 'rebalancing'))
      return { coordinatorError: false, fatal: false, actions: [] };
    switch (errorCode) {
      case ErrorCode.NONE:
        this.lastHeartbeatOkAt = now;
        return { coordinatorError: false, fatal: false, actions: [] };
      case ErrorCode.REBALANCE_IN_PROGRESS:
        this.lastHeartbeatOkAt = now;
        return { coordinatorError: false, fatal: false, actions: this.requestRejoin('the coordinator is rebalancing') };
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.member = '';
        return { coordinatorError: false, fatal: false, actions: this.fenced('heartbeat said UNKNOWN_MEMBER_ID') };
      case ErrorCode.ILLEGAL_GENERATION:
        return { coordinatorError: false, fatal: false, actions: this.fenced('heartbeat said ILLEGAL_GENERATION') };
      case ErrorCode.FENCED_INSTANCE_ID:
        // Another consumer took our group instance id: the shell records the error (failed()).
        return { coordinatorError: false, fatal: true, actions: [] };
      default:
        return { coordinatorError: true, fatal: false, actions: [] };
    }
  }

  /** After every heartbeat attempt: long without an answer, whoever we talk to is not our coordinator any more. */
  sessionCheck(now: number): MemberAction[] {
    return !this.isClosed && now - this.lastHeartbeatOkAt > this.config.sessionTimeoutMs ? [{ type: 'findCoordinator' }] : [];
  }

  /** The poll-interval timer fired: no poll() for maxPollIntervalMs leaves the group and loses the partitions. */
  pollIntervalCheck(now: number): MemberAction[] {
    if (this.pollInProgress || (this.current !== 'stable' && this.current !== 'rebalancing')) return [];
    if (now - this.lastPollAt < this.config.maxPollIntervalMs) return [];
    const actions: MemberAction[] = [
      {
        type: 'log',
        level: 'warn',
        message:
          'poll() was not called within maxPollIntervalMs; leaving the group (process faster, lower maxPollRecords or raise maxPollIntervalMs)',
        fields: { memberId: this.member, maxPollIntervalMs: this.config.maxPollIntervalMs },
      },
    ];
    if (!this.config.staticMember && this.member)
      actions.push({ type: 'leave', memberId: this.member, reason: 'consumer poll timeout has expired' });
    this.member = '';
    actions.push(...this.fenced('the poll interval expired'));
    return actions;
  }

  /** When the poll-interval timer should next look: when the interval would expire. */
  pollIntervalDelay(now: number): number {
    return Math.max(1, this.lastPollAt + this.config.maxPollIntervalMs - now);
  }

  /** A commit answered REBALANCE_IN_PROGRESS for a partition. */
  commitRefused(errorCode: number): MemberAction[] {
    return errorCode === ErrorCode.REBALANCE_IN_PROGRESS ? this.requestRejoin('commit answered REBALANCE_IN_PROGRESS') : [];
  }

  /** Removed from the group without a rebalance: partitions are lost (handled at the next poll). */
  private fenced(reason: string): MemberAction[] {
    this.generation = -1;
    this.current = 'unjoined';
    this.lostPending = true;
    this.pending = undefined;
    this.rejoinNeeded = true;
    return [
      { type: 'log', level: 'warn', message: 'removed from the group; partitions are lost and the member joins again', fields: { reason } },
    ];
  }
}
