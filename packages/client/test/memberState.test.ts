/**
 * The group member's pure state machine (src/consumer/group/memberState.ts): scenarios that read
 * like the protocol (MEMBER_ID_REQUIRED, fencing, the cooperative two-phase revoke, the poll
 * interval), then seeded random event sequences — joins, answers with every error the machine
 * branches on, heartbeats of current and stale generations, polls, timer ticks — checking after
 * every event the invariants in README.md. A failure names its seed and step.
 */
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { MemberStateMachine, type MemberAction, type MemberConfig } from '../src/consumer/group/memberState.js';
import type { TopicPartition } from '../src/index.js';
import { seededRandom } from '../src/index.js';

const tp = (partition: number, topic = 't'): TopicPartition => ({ topic, partition });
const names = (tps: readonly TopicPartition[]) => tps.map((p) => `${p.topic}-${p.partition}`).sort();
const CONFIG: MemberConfig = { protocol: 'eager', sessionTimeoutMs: 10_000, maxPollIntervalMs: 60_000, staticMember: false };

const joinOk = (memberId: string, generationId: number, leader = memberId) => ({
  errorCode: 0,
  memberId,
  generationId,
  protocolName: 'range',
  leader,
  skipAssignment: false,
});

/** Joins and syncs `m` into `generation` with `partitions`, and applies the assignment at a safe point. */
function joinWith(m: MemberStateMachine, generation: number, partitions: TopicPartition[], now = 0): MemberAction[] {
  const actions: MemberAction[] = [];
  const join = m.joinNeeded();
  if (join) {
    if (join.revokeFirst.length > 0) actions.push(...m.partitionsRevoked(join.revokeFirst));
    m.joinStarted();
  }
  m.joinAttempt();
  expect(m.joinAnswered(joinOk('m-1', generation)).next).toBe('sync');
  expect(m.syncAnswered({ errorCode: 0, partitions }, now).verdict.next).toBe('done');
  m.joinEnded();
  const taken = m.takeAssignment()!;
  if (taken.revoked.length > 0) actions.push(...m.partitionsRevoked(taken.revoked));
  actions.push(...m.assignmentApplied(taken.pending.partitions, taken.revoked.length > 0));
  return actions;
}

describe('MemberStateMachine scenarios', () => {
  it('a dynamic member joins twice on MEMBER_ID_REQUIRED, then syncs and owns its assignment', () => {
    const m = new MemberStateMachine(CONFIG, 0);
    m.requestRejoin('subscribed');
    expect(m.joinNeeded()).toEqual({ revokeFirst: [] });
    m.joinStarted();
    expect(m.joinAttempt()).toEqual({ memberId: '', ownedPartitions: [], ownedGeneration: -1 });
    expect(m.joinAnswered({ ...joinOk('m-1', -1), errorCode: ErrorCode.MEMBER_ID_REQUIRED })).toEqual({ next: 'rejoin' });
    expect(m.joinAttempt().memberId).toBe('m-1');
    expect(m.joinAnswered(joinOk('m-1', 1))).toEqual({ next: 'sync', assign: true });
    expect(m.state).toBe('syncing');
    m.syncAnswered({ errorCode: 0, partitions: [tp(0), tp(1)] }, 5);
    expect(m.state).toBe('stable');
    // Not applied until the safe point, and not while a join still runs.
    expect(m.takeAssignment()).toBeUndefined();
    m.joinEnded();
    const taken = m.takeAssignment()!;
    expect(names(taken.added)).toEqual(['t-0', 't-1']);
    expect(m.assignmentApplied(taken.pending.partitions, false)).toEqual([{ type: 'fetch', partitions: [tp(0), tp(1)] }]);
    expect(m.commitGeneration()).toEqual({ generationId: 1, memberId: 'm-1' });
  });

  it('a heartbeat that says ILLEGAL_GENERATION fences: partitions lost at the next poll, no commit until rejoined', () => {
    const m = new MemberStateMachine(CONFIG, 0);
    m.requestRejoin('subscribed');
    joinWith(m, 1, [tp(0)]);
    const hb = m.heartbeatDue()!;
    expect(m.heartbeatAnswered(hb.generationId, ErrorCode.ILLEGAL_GENERATION, 10).actions).toContainEqual(
      expect.objectContaining({ type: 'log', level: 'warn' }),
    );
    expect(m.state).toBe('unjoined');
    expect(m.commitGeneration()).toBeUndefined();
    expect(m.heartbeatDue()).toBeUndefined();
    expect(m.takeLost()).toEqual([
      { type: 'fetch', partitions: [] },
      { type: 'lost', partitions: [tp(0)] },
    ]);
    expect(m.owned()).toEqual([]);
    expect(m.joinNeeded()).toEqual({ revokeFirst: [] });
  });

  it('ignores a heartbeat answer about an older generation', () => {
    const m = new MemberStateMachine(CONFIG, 0);
    m.requestRejoin('subscribed');
    joinWith(m, 1, [tp(0)]);
    const old = m.heartbeatDue()!;
    m.requestRejoin('metadata');
    joinWith(m, 2, [tp(0)]);
    expect(m.heartbeatAnswered(old.generationId, ErrorCode.ILLEGAL_GENERATION, 10)).toEqual({
      coordinatorError: false,
      fatal: false,
      actions: [],
    });
    expect(m.state).toBe('stable');
    expect(m.commitGeneration()).toEqual({ generationId: 2, memberId: 'm-1' });
  });

  it('eager: every owned partition is revoked before JoinGroup, which declares none', () => {
    const m = new MemberStateMachine(CONFIG, 0);
    m.requestRejoin('subscribed');
    joinWith(m, 1, [tp(0), tp(1)]);
    m.requestRejoin('metadata');
    expect(m.state).toBe('rebalancing');
    expect(names(m.joinNeeded()!.revokeFirst)).toEqual(['t-0', 't-1']);
  });

  it('cooperative: JoinGroup declares what is owned; revoking part of it asks for the follow-up rebalance (KIP-429)', () => {
    const m = new MemberStateMachine({ ...CONFIG, protocol: 'cooperative' }, 0);
    m.requestRejoin('subscribed');
    joinWith(m, 1, [tp(0), tp(1)]);
    m.requestRejoin('a member joined');
    expect(m.joinNeeded()).toEqual({ revokeFirst: [] });
    m.joinStarted();
    expect(m.joinAttempt()).toEqual({ memberId: 'm-1', ownedPartitions: [tp(0), tp(1)], ownedGeneration: 1 });
    m.joinAnswered(joinOk('m-1', 2));
    m.syncAnswered({ errorCode: 0, partitions: [tp(0)] }, 0);
    m.joinEnded();
    const taken = m.takeAssignment()!;
    expect(names(taken.revoked)).toEqual(['t-1']);
    expect(m.partitionsRevoked(taken.revoked)).toEqual([{ type: 'fetch', partitions: [tp(0)] }]);
    m.assignmentApplied(taken.pending.partitions, true);
    expect(m.rejoinRequested).toBe(true);
    expect(m.state).toBe('rebalancing');
  });

  it('leaves the group when poll() is not called within maxPollIntervalMs (a static member does not send LeaveGroup)', () => {
    for (const staticMember of [false, true]) {
      const m = new MemberStateMachine({ ...CONFIG, staticMember }, 0);
      m.requestRejoin('subscribed');
      joinWith(m, 1, [tp(0)]);
      m.pollStarted(100);
      m.pollEnded(100);
      expect(m.pollIntervalCheck(60_099)).toEqual([]);
      expect(m.pollIntervalDelay(60_099)).toBe(1);
      const actions = m.pollIntervalCheck(60_100);
      expect(actions.some((a) => a.type === 'leave' && a.memberId === 'm-1')).toBe(!staticMember);
      expect(m.memberId).toBe('');
      expect(m.state).toBe('unjoined');
    }
  });

  it('asks to re-find the coordinator after a session without a good heartbeat', () => {
    const m = new MemberStateMachine(CONFIG, 0);
    m.requestRejoin('subscribed');
    joinWith(m, 1, [tp(0)], 1_000);
    expect(m.sessionCheck(11_000)).toEqual([]);
    expect(m.sessionCheck(11_001)).toEqual([{ type: 'findCoordinator' }]);
    m.heartbeatAnswered(1, ErrorCode.NONE, 11_001);
    expect(m.sessionCheck(12_000)).toEqual([]);
  });

  it('MEMBER_ID_REQUIRED, then UNKNOWN_MEMBER_ID for the pending id (the coordinator moved or reloaded): joins again at once without an id', () => {
    const m = new MemberStateMachine(CONFIG, 0);
    m.requestRejoin('subscribed');
    m.joinStarted();
    expect(m.joinAttempt().memberId).toBe('');
    expect(m.joinAnswered({ ...joinOk('m-1', -1), errorCode: ErrorCode.MEMBER_ID_REQUIRED })).toEqual({ next: 'rejoin' });
    expect(m.joinAttempt().memberId).toBe('m-1');
    // Kafka's JoinGroupResponseHandler: reset the member id and rejoin; not an error for the consumer.
    expect(m.joinAnswered({ ...joinOk('m-1', -1), errorCode: ErrorCode.UNKNOWN_MEMBER_ID })).toEqual({ next: 'rejoin' });
    expect(m.joinAttempt().memberId).toBe('');
    expect(m.joinAnswered({ ...joinOk('m-2', -1), errorCode: ErrorCode.MEMBER_ID_REQUIRED })).toEqual({ next: 'rejoin' });
    expect(m.joinAttempt().memberId).toBe('m-2');
    expect(m.joinAnswered(joinOk('m-2', 1))).toEqual({ next: 'sync', assign: true });
    expect(m.syncAnswered({ errorCode: ErrorCode.NONE, partitions: [{ topic: 't', partition: 0 }] }, 0).verdict).toEqual({ next: 'done' });
    expect(m.state).toBe('stable');
  });

  it('cooperative: a rejoin answered UNKNOWN_MEMBER_ID loses the owned partitions (removed from the group) and keeps the assignment of the join that follows', () => {
    const m = new MemberStateMachine({ ...CONFIG, protocol: 'cooperative' }, 0);
    m.requestRejoin('subscribed');
    joinWith(m, 1, [tp(0), tp(1)]);
    m.requestRejoin('a member joined');
    m.joinNeeded();
    m.joinStarted();
    expect(m.joinAttempt().memberId).toBe('m-1');
    expect(m.joinAnswered({ ...joinOk('m-1', -1), errorCode: ErrorCode.UNKNOWN_MEMBER_ID })).toEqual({ next: 'rejoin' });
    // No longer in the group: what it owns is no longer its own; the shell hands out no record of it.
    expect(m.lostAwaiting).toBe(true);
    expect(m.commitGeneration()).toBeUndefined();
    expect(m.joinAttempt().memberId).toBe('');
    expect(m.joinAnswered(joinOk('m-2', 2)).next).toBe('sync');
    expect(m.syncAnswered({ errorCode: 0, partitions: [tp(1)] }, 0).verdict.next).toBe('done');
    m.joinEnded();
    // The safe point: the old partitions are lost first, then the new assignment applies in full.
    expect(m.takeLost()).toEqual([
      { type: 'fetch', partitions: [] },
      { type: 'lost', partitions: [tp(0), tp(1)] },
    ]);
    expect(m.lostAwaiting).toBe(false);
    const taken = m.takeAssignment()!;
    expect(names(taken.added)).toEqual(['t-1']);
    expect(taken.revoked).toEqual([]);
  });

  it('a fatal join code stops joining; a retriable one retries; UNKNOWN_MEMBER_ID forgets the member id', () => {
    const m = new MemberStateMachine(CONFIG, 0);
    m.requestRejoin('subscribed');
    m.joinStarted();
    m.joinAttempt();
    expect(m.joinAnswered({ ...joinOk('m-1', 1), errorCode: ErrorCode.MEMBER_ID_REQUIRED })).toEqual({ next: 'rejoin' });
    m.joinAttempt();
    expect(m.joinAnswered({ ...joinOk('m-1', -1), errorCode: ErrorCode.UNKNOWN_MEMBER_ID })).toEqual({ next: 'rejoin' });
    expect(m.memberId).toBe('');
    m.joinAttempt();
    expect(m.joinAnswered({ ...joinOk('', -1), errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE })).toEqual({ next: 'retry' });
    m.joinAttempt();
    expect(m.joinAnswered({ ...joinOk('', -1), errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL })).toEqual({ next: 'stop' });
  });
});

// ---- seeded random sequences ----

const JOIN_CODES = [
  0,
  0,
  0,
  ErrorCode.MEMBER_ID_REQUIRED,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.REBALANCE_IN_PROGRESS,
];
const SYNC_CODES = [0, 0, 0, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION, ErrorCode.REBALANCE_IN_PROGRESS];
const HEARTBEAT_CODES = [
  0,
  0,
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.NOT_COORDINATOR,
];

/**
 * A shell stand-in that obeys the machine's actions the way GroupConsumer does, records what the
 * fetcher was told to read and what was sent, and checks the invariants after each step.
 */
class Harness {
  readonly m: MemberStateMachine;
  now = 0;
  generation = 0;
  fetching: TopicPartition[] = [];
  /**
   * What the member owns by the protocol, kept by the harness apart from the machine: the last
   * assignment applied, minus what was revoked or lost since.
   */
  model: TopicPartition[] = [];
  /** Heartbeats sent and not answered yet: the generation each carried. */
  readonly inFlightHeartbeats: number[] = [];
  joinPhase: 'none' | 'join' | 'sync' = 'none';
  readonly log: string[] = [];

  constructor(
    readonly rnd: () => number,
    readonly config: MemberConfig,
  ) {
    this.m = new MemberStateMachine(config, 0);
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rnd() * list.length)]!;
  }

  perform(actions: readonly MemberAction[]): void {
    for (const a of actions) {
      if (a.type === 'lost') {
        expect(names(a.partitions)).toEqual(names(this.model));
        this.model = [];
      }
      if (a.type === 'fetch') {
        // Invariant: the fetcher is only told to read owned partitions.
        for (const p of a.partitions) expect(this.m.owns(p), `fetch of unowned ${p.topic}-${p.partition}`).toBe(true);
        this.fetching = [...a.partitions];
      }
    }
  }

  randomAssignment(): TopicPartition[] {
    return [0, 1, 2, 3].filter(() => this.rnd() < 0.5).map((p) => tp(p));
  }

  step(): void {
    const m = this.m;
    const roll = this.rnd();
    if (roll < 0.1) {
      this.log.push('rejoin requested');
      this.perform(m.requestRejoin('test'));
    } else if (roll < 0.3) {
      this.log.push('safe point');
      this.safePoint();
    } else if (roll < 0.5) {
      this.advanceJoin();
    } else if (roll < 0.62) {
      const hb = m.heartbeatDue();
      this.log.push(`heartbeat due -> ${hb ? `gen ${hb.generationId}` : 'none'}`);
      if (hb) {
        // Invariant: heartbeats only in STABLE / REBALANCING, from a generation.
        expect(['stable', 'rebalancing']).toContain(m.state);
        expect(hb.generationId).toBeGreaterThanOrEqual(0);
        this.inFlightHeartbeats.push(hb.generationId);
      }
    } else if (roll < 0.75 && this.inFlightHeartbeats.length > 0) {
      const gen = this.inFlightHeartbeats.splice(Math.floor(this.rnd() * this.inFlightHeartbeats.length), 1)[0]!;
      const code = this.pick(HEARTBEAT_CODES);
      this.log.push(`heartbeat answer gen ${gen} code ${code}`);
      const stateBefore = m.state;
      const generationBefore = m.generationId;
      const verdict = m.heartbeatAnswered(gen, code, this.now);
      this.perform(verdict.actions);
      // Invariant: an answer about another generation changes nothing.
      if (gen !== generationBefore) expect([m.state, m.generationId]).toEqual([stateBefore, generationBefore]);
      this.perform(m.sessionCheck(this.now));
    } else if (roll < 0.85) {
      this.now += Math.floor(this.rnd() * 20_000);
      this.log.push(`time ${this.now}`);
      this.perform(m.pollIntervalCheck(this.now));
    } else if (roll < 0.95) {
      this.log.push('poll');
      m.pollStarted(this.now);
      this.safePoint();
      m.pollEnded(this.now);
    } else {
      const commit = m.commitGeneration();
      this.log.push(`commit -> ${commit ? `gen ${commit.generationId}` : 'refused'}`);
      // Invariant: a commit carries the current generation and member, and there is none outside one.
      if (commit) expect(commit).toEqual({ generationId: m.generationId, memberId: m.memberId });
      else expect(m.generationId < 0 || m.memberId === '').toBe(true);
      if (commit && this.rnd() < 0.3) this.perform(m.commitRefused(ErrorCode.REBALANCE_IN_PROGRESS));
    }
    this.check();
  }

  safePoint(): void {
    const m = this.m;
    this.perform(m.takeLost());
    const taken = m.takeAssignment();
    if (taken) {
      if (this.rnd() < 0.1) {
        m.assignmentFailed(taken.pending);
      } else {
        if (taken.revoked.length > 0) this.revoke(taken.revoked);
        this.perform(m.assignmentApplied(taken.pending.partitions, taken.revoked.length > 0));
        this.model = [...taken.pending.partitions];
      }
    }
    const join = m.joinNeeded();
    if (join) {
      if (this.config.protocol === 'eager') expect(names(join.revokeFirst)).toEqual(names(m.owned()));
      if (join.revokeFirst.length > 0) this.revoke(join.revokeFirst);
      m.joinStarted();
      this.joinPhase = 'join';
    }
  }

  revoke(partitions: readonly TopicPartition[]): void {
    const gone = new Set(names(partitions));
    this.model = this.model.filter((p) => !gone.has(names([p])[0]!));
    this.perform(this.m.partitionsRevoked(partitions));
  }

  advanceJoin(): void {
    const m = this.m;
    if (this.joinPhase === 'none') return;
    if (this.joinPhase === 'join') {
      const request = m.joinAttempt();
      // Invariant: eager joins hold nothing; cooperative ones declare exactly what is owned.
      if (this.config.protocol === 'eager') {
        expect(request.ownedPartitions).toEqual([]);
        expect(this.model).toEqual([]);
      } else {
        expect(names(request.ownedPartitions)).toEqual(names(this.model));
      }
      const code = this.pick(JOIN_CODES);
      this.log.push(`join answer ${code}`);
      const generation = code === 0 ? ++this.generation : -1;
      const verdict = m.joinAnswered({ ...joinOk(m.memberId || `m-${this.generation}`, generation), errorCode: code });
      if (verdict.next === 'sync') this.joinPhase = 'sync';
      else if (verdict.next === 'stop') this.endJoin();
      // rejoin / retry: another JoinGroup in the same background task.
      return;
    }
    const code = this.pick(SYNC_CODES);
    this.log.push(`sync answer ${code}`);
    const { verdict, actions } = m.syncAnswered({ errorCode: code, partitions: this.randomAssignment() }, this.now);
    this.perform(actions);
    if (verdict.next === 'retry') this.joinPhase = 'join';
    else this.endJoin();
  }

  endJoin(): void {
    this.m.joinEnded();
    this.joinPhase = 'none';
  }

  check(): void {
    const m = this.m;
    // The fetcher never reads a partition the member does not own (by the protocol, not only by its own account).
    const owned = new Set(names(this.model));
    for (const p of this.fetching) expect(owned.has(names([p])[0]!), `fetching unowned ${p.topic}-${p.partition}`).toBe(true);
    expect(names(m.owned())).toEqual(names(this.model));
    // Only a member in a generation can commit; an unjoined one is in none.
    if (m.state === 'unjoined') expect(m.commitGeneration()).toBeUndefined();
    if (m.state === 'stable') expect(m.commitGeneration()).toEqual({ generationId: m.generationId, memberId: m.memberId });
    expect(m.joining).toBe(this.joinPhase !== 'none');
  }
}

describe('MemberStateMachine under seeded random event sequences', () => {
  for (const protocol of ['eager', 'cooperative'] as const) {
    it(`keeps its invariants (${protocol}, 120 seeds x 300 events)`, () => {
      let joinedAtLeastOnce = 0;
      let lostAtLeastOnce = 0;
      for (let seed = 1; seed <= 120; seed++) {
        const h = new Harness(seededRandom(seed), { ...CONFIG, protocol, staticMember: seed % 3 === 0 });
        try {
          for (let i = 0; i < 300; i++) {
            h.step();
            if (h.m.state === 'stable' && h.m.owned().length > 0) joinedAtLeastOnce++;
          }
        } catch (err) {
          throw new Error(`seed ${seed}, after: ${h.log.slice(-12).join(' | ')}: ${(err as Error).message}`);
        }
        if (h.log.some((l) => l.startsWith('heartbeat answer') && /code (25|22)$/.test(l))) lostAtLeastOnce++;
      }
      // The sequences reach the interesting states (a generator stuck in UNJOINED would prove nothing).
      expect(joinedAtLeastOnce).toBeGreaterThan(600);
      expect(lostAtLeastOnce).toBeGreaterThan(30);
    });
  }
});
