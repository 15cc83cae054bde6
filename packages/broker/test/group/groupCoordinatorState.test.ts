/**
 * The pure group state machine: every transition of Empty / PreparingRebalance /
 * CompletingRebalance / Stable / Dead and every error the coordinator answers, with time driven
 * by hand and the `__consumer_offsets` writes recorded (completed at once, later, or failed).
 */
import { ErrorCode } from '@samsa/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  GroupCoordinatorState,
  type CommitPartitionResult,
  type ErrorResult,
  type GroupCoordinatorConfig,
  type JoinRequest,
  type JoinResult,
  type SyncRequest,
  type SyncResult,
} from '../../src/group/groupCoordinatorState.js';
import type { CoordinatorRecord } from '../../src/group/records.js';

interface Write {
  groupId: string;
  records: CoordinatorRecord[];
  done: (code: number, message: string, baseOffset: bigint) => void;
}

class Harness {
  now = 1_000_000;
  /** Complete writes at once (else they wait in `pending`). */
  autoPersist = true;
  failWith = 0;
  readonly writes: Write[] = [];
  readonly pending: Write[] = [];
  private logOffset = 0n;
  private ids = 0;
  readonly state: GroupCoordinatorState;

  constructor(config: Partial<GroupCoordinatorConfig> = {}) {
    this.state = new GroupCoordinatorState(
      {
        persist: (groupId, records, done) => {
          const w = { groupId, records, done };
          this.writes.push(w);
          if (this.autoPersist) this.complete(w);
          else this.pending.push(w);
        },
        newMemberId: (clientId) => `${clientId}-${++this.ids}`,
      },
      { groupInitialRebalanceDelayMs: 0, groupMinSessionTimeoutMs: 1_000, ...config },
    );
  }

  complete(w: Write, code = this.failWith): void {
    const base = this.logOffset;
    this.logOffset += BigInt(w.records.length);
    w.done(code, code === 0 ? '' : 'failed', base);
  }

  join(req: Partial<JoinRequest> & { memberId?: string }): { result?: JoinResult } {
    const box: { result?: JoinResult } = {};
    this.state.join(
      {
        groupId: 'g',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 30_000,
        memberId: '',
        groupInstanceId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from('m') }],
        clientId: 'c',
        clientHost: '/127.0.0.1',
        ...req,
      },
      this.now,
      (r) => {
        box.result = r;
      },
    );
    return box;
  }

  /** Two-step join of a dynamic member; returns the pending join (answered when the join completes). */
  joinNew(req: Partial<JoinRequest> = {}): { memberId: string; box: { result?: JoinResult } } {
    const first = this.join(req).result!;
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    return { memberId: first.memberId, box: this.join({ ...req, memberId: first.memberId }) };
  }

  sync(req: Partial<SyncRequest> & { memberId: string; generationId: number }): { result?: SyncResult } {
    const box: { result?: SyncResult } = {};
    this.state.sync({ groupId: 'g', groupInstanceId: '', protocolType: '', protocolName: '', assignments: [], ...req }, this.now, (r) => {
      box.result = r;
    });
    return box;
  }

  heartbeat(memberId: string, generationId: number, groupInstanceId = ''): ErrorResult {
    return this.state.heartbeat({ groupId: 'g', memberId, generationId, groupInstanceId }, this.now);
  }

  commit(
    memberId: string,
    generationId: number,
    offsets: Array<[string, number, bigint]>,
    extra: { metadata?: string; groupInstanceId?: string } = {},
  ): { result?: CommitPartitionResult[] } {
    const box: { result?: CommitPartitionResult[] } = {};
    this.state.commitOffsets(
      {
        groupId: 'g',
        generationId,
        memberId,
        groupInstanceId: extra.groupInstanceId ?? '',
        offsets: offsets.map(([topic, partition, offset]) => ({
          topic,
          partition,
          offset,
          leaderEpoch: -1,
          metadata: extra.metadata ?? '',
        })),
      },
      this.now,
      (r) => {
        box.result = r;
      },
    );
    return box;
  }

  advance(ms: number): void {
    this.now += ms;
    this.state.tick(this.now);
  }

  get groupState() {
    return this.state.stateOf('g');
  }

  /** One member joined and synced: Stable at generation 1. */
  stableWithOne(assignment = 'a1'): string {
    const { memberId, box } = this.joinNew();
    expect(box.result).toMatchObject({ errorCode: 0, generationId: 1, leader: memberId });
    const s = this.sync({ memberId, generationId: 1, assignments: [{ memberId, assignment: Buffer.from(assignment) }] });
    expect(s.result?.errorCode).toBe(0);
    expect(this.groupState).toBe('Stable');
    return memberId;
  }
}

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('JoinGroup', () => {
  it('refuses an empty group id and session timeouts outside the broker bounds', () => {
    expect(h.join({ groupId: '' }).result!.errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect(h.join({ sessionTimeoutMs: 999 }).result!.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(h.join({ sessionTimeoutMs: 1_800_001 }).result!.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(h.state.hasGroup('g')).toBe(false);
  });

  it('asks a dynamic member for its member id first (KIP-394), then completes the join', () => {
    const first = h.join({}).result!;
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toBe('c-1');
    expect(h.groupState).toBe('Empty');
    const second = h.join({ memberId: 'c-1' });
    expect(second.result).toMatchObject({
      errorCode: 0,
      generationId: 1,
      memberId: 'c-1',
      leader: 'c-1',
      protocolType: 'consumer',
      protocolName: 'range',
    });
    expect(second.result!.members).toEqual([{ memberId: 'c-1', groupInstanceId: '', metadata: Buffer.from('m') }]);
    expect(h.groupState).toBe('CompletingRebalance');
  });

  it('answers UNKNOWN_MEMBER_ID to a made-up member id', () => {
    expect(h.join({ memberId: 'ghost' }).result!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    h.stableWithOne();
    expect(h.join({ memberId: 'ghost' }).result!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('refuses a different protocol type, no common protocol, and no protocols (INCONSISTENT_GROUP_PROTOCOL)', () => {
    h.stableWithOne();
    expect(h.join({ protocolType: 'connect' }).result!.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(h.join({ protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] }).result!.errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect(h.join({ protocols: [] }).result!.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(h.groupState).toBe('Stable');
  });

  it('refuses members past group.max.size', () => {
    h = new Harness({ groupMaxSize: 1 });
    h.stableWithOne();
    expect(h.join({}).result!.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  it('rebalances when a member joins a Stable group and completes once every member rejoined', () => {
    const m1 = h.stableWithOne();
    const m2 = h.joinNew({ clientId: 'd' });
    expect(h.groupState).toBe('PreparingRebalance');
    expect(m2.box.result).toBeUndefined();
    expect(h.heartbeat(m1, 1).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = h.join({ memberId: m1 });
    expect(h.groupState).toBe('CompletingRebalance');
    expect(rejoin.result).toMatchObject({ errorCode: 0, generationId: 2, leader: m1 });
    expect(rejoin.result!.members.map((m) => m.memberId)).toEqual([m1, m2.memberId]);
    expect(m2.box.result).toMatchObject({ errorCode: 0, generationId: 2, leader: m1, members: [] });

    // The follower waits for the leader's assignment; a member the leader leaves out gets an empty one.
    const follower = h.sync({ memberId: m2.memberId, generationId: 2 });
    expect(follower.result).toBeUndefined();
    const leader = h.sync({ memberId: m1, generationId: 2, assignments: [{ memberId: m1, assignment: Buffer.from('x') }] });
    expect(leader.result).toMatchObject({ errorCode: 0, assignment: Buffer.from('x'), protocolName: 'range' });
    expect(follower.result).toMatchObject({ errorCode: 0, assignment: Buffer.alloc(0) });
    expect(h.groupState).toBe('Stable');
    const stored = h.writes.at(-1)!.records[0]!;
    expect(stored.type === 'group' && stored.value?.members.map((m) => [m.memberId, m.assignment.toString()])).toEqual([
      [m1, 'x'],
      [m2.memberId, ''],
    ]);
  });

  it('removes members that do not rejoin within the rebalance timeout', () => {
    const m1 = h.stableWithOne();
    h.advance(5_000);
    expect(h.heartbeat(m1, 1).errorCode).toBe(0);
    const m2 = h.joinNew({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000 });
    // m1 keeps heartbeating but never rejoins; m1's rebalance timeout (30 s) is the group's.
    for (const step of [9_000, 9_000, 9_000, 2_999]) {
      h.advance(step);
      expect(h.groupState).toBe('PreparingRebalance');
      expect(h.heartbeat(m1, 1).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    h.advance(1);
    expect(h.groupState).toBe('CompletingRebalance');
    expect(m2.box.result).toMatchObject({ errorCode: 0, generationId: 2, leader: m2.memberId });
    expect(h.heartbeat(m1, 2).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('waits group.initial.rebalance.delay.ms for more members, extending it per new member up to the rebalance timeout', () => {
    h = new Harness({ groupInitialRebalanceDelayMs: 3_000 });
    const a = h.joinNew({ rebalanceTimeoutMs: 7_000 });
    h.advance(2_000);
    expect(a.box.result).toBeUndefined();
    const b = h.joinNew({ rebalanceTimeoutMs: 7_000 });
    h.advance(1_000); // first delay over, but a member arrived: another 3 s
    expect(h.groupState).toBe('PreparingRebalance');
    h.advance(2_999);
    expect(a.box.result).toBeUndefined();
    const c = h.joinNew({ rebalanceTimeoutMs: 7_000 });
    h.advance(1); // second delay over with a new member, but only 1 s of the rebalance timeout is left
    expect(h.groupState).toBe('PreparingRebalance');
    h.advance(1_000);
    expect(h.groupState).toBe('CompletingRebalance');
    for (const m of [a, b, c]) expect(m.box.result).toMatchObject({ errorCode: 0, generationId: 1, leader: a.memberId });
    expect(a.box.result!.members).toHaveLength(3);
  });

  it('answers a lost join again in CompletingRebalance, and a Stable follower without a rebalance', () => {
    const m1 = h.stableWithOne();
    const m2 = h.joinNew();
    h.join({ memberId: m1 });
    expect(h.groupState).toBe('CompletingRebalance');
    const again = h.join({ memberId: m2.memberId });
    expect(again.result).toMatchObject({ errorCode: 0, generationId: 2 });
    h.sync({ memberId: m1, generationId: 2, assignments: [] });
    expect(h.groupState).toBe('Stable');
    const follower = h.join({ memberId: m2.memberId });
    expect(follower.result).toMatchObject({ errorCode: 0, generationId: 2, members: [] });
    expect(h.groupState).toBe('Stable');
    // The leader rejoining (or changed metadata) rebalances.
    h.join({ memberId: m1 });
    expect(h.groupState).toBe('PreparingRebalance');
  });

  it('rebalances on changed subscription metadata', () => {
    const m1 = h.stableWithOne();
    const m2 = h.joinNew();
    h.join({ memberId: m1 });
    h.sync({ memberId: m1, generationId: 2, assignments: [] });
    h.join({ memberId: m2.memberId, protocols: [{ name: 'range', metadata: Buffer.from('other topics') }] });
    expect(h.groupState).toBe('PreparingRebalance');
  });

  it('selects the protocol every member supports with the most first-choice votes', () => {
    const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
    const a = h.joinNew({ protocols: p('roundrobin', 'range', 'sticky') });
    const b = h.joinNew({ protocols: p('range', 'roundrobin') });
    const c = h.joinNew({ protocols: p('range', 'roundrobin') });
    void b;
    void c;
    // a's join completed generation 1 alone; b and c joined later: everyone rejoins for generation 2.
    const rejoin = h.join({ memberId: a.memberId, protocols: p('roundrobin', 'range', 'sticky') });
    expect(rejoin.result).toMatchObject({ errorCode: 0, protocolName: 'range' });
    expect(rejoin.result!.members.map((m) => m.metadata.toString())).toEqual(['range', 'range', 'range']);
  });
});

describe('SyncGroup', () => {
  it('answers UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL and REBALANCE_IN_PROGRESS', () => {
    expect(h.sync({ memberId: 'x', generationId: 0 }).result!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const m1 = h.stableWithOne();
    expect(h.sync({ memberId: 'x', generationId: 1 }).result!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.sync({ memberId: m1, generationId: 7 }).result!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(h.sync({ memberId: m1, generationId: 1, protocolName: 'roundrobin' }).result!.errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect(h.sync({ memberId: m1, generationId: 1, protocolType: 'connect' }).result!.errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect(h.sync({ memberId: m1, generationId: 1 }).result).toMatchObject({ errorCode: 0, assignment: Buffer.from('a1') });
    h.joinNew();
    expect(h.sync({ memberId: m1, generationId: 1 }).result!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('answers waiting syncs REBALANCE_IN_PROGRESS when a rebalance starts before the leader assigns', () => {
    const m1 = h.stableWithOne();
    const m2 = h.joinNew();
    h.join({ memberId: m1 });
    const waiting = h.sync({ memberId: m2.memberId, generationId: 2 });
    expect(waiting.result).toBeUndefined();
    h.joinNew(); // a third member
    expect(waiting.result!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.groupState).toBe('PreparingRebalance');
  });

  it('removes members that never sync within the rebalance timeout', () => {
    const m1 = h.stableWithOne();
    const m2 = h.joinNew();
    h.join({ memberId: m1 });
    h.sync({ memberId: m1, generationId: 2, assignments: [] });
    expect(h.groupState).toBe('Stable');
    for (const step of [9_000, 9_000, 9_000, 2_999]) {
      h.advance(step);
      expect(h.heartbeat(m1, 2).errorCode).toBe(0);
      // m2 heartbeats (so its session lives) but never syncs.
      expect(h.heartbeat(m2.memberId, 2).errorCode).toBe(0);
    }
    expect(h.groupState).toBe('Stable');
    h.advance(1);
    // m2 never sent SyncGroup within the rebalance timeout (30 s): removed, and m1 must rejoin.
    expect(h.groupState).toBe('PreparingRebalance');
    expect(h.heartbeat(m1, 2).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.heartbeat(m2.memberId, 2).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('answers every waiting sync with the error when storing the assignment fails, and rebalances', () => {
    const { memberId, box } = h.joinNew();
    expect(box.result!.errorCode).toBe(0);
    h.failWith = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const s = h.sync({ memberId, generationId: 1, assignments: [{ memberId, assignment: Buffer.from('a') }] });
    expect(s.result!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.groupState).toBe('PreparingRebalance');
  });
});

describe('Heartbeat, sessions and LeaveGroup', () => {
  it('answers UNKNOWN_MEMBER_ID for unknown groups and members, ILLEGAL_GENERATION for an old generation', () => {
    expect(h.heartbeat('m', 0).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const m1 = h.stableWithOne();
    expect(h.heartbeat('other', 1).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.heartbeat(m1, 0).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(h.heartbeat(m1, 1).errorCode).toBe(0);
  });

  it('expires a silent member after its session timeout; heartbeats keep it', () => {
    const m1 = h.stableWithOne();
    for (let i = 0; i < 5; i++) {
      h.advance(9_000);
      expect(h.heartbeat(m1, 1).errorCode).toBe(0);
    }
    h.advance(9_999);
    expect(h.groupState).toBe('Stable');
    h.advance(1);
    // The last member gone: the join completes empty, generation 2, and the group is stored.
    expect(h.groupState).toBe('Empty');
    expect(h.state.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: 2, members: [] });
    const last = h.writes.at(-1)!.records[0]!;
    expect(last.type === 'group' && last.value).toMatchObject({ generation: 2, members: [], protocol: null });
  });

  it('keeps members waiting in JoinGroup alive and forgets member ids nobody used', () => {
    const m1 = h.stableWithOne();
    const pendingId = h.join({ clientId: 'p' }).result!.memberId;
    expect(h.groupState).toBe('Stable'); // MEMBER_ID_REQUIRED alone does not rebalance
    h.join({ memberId: m1 }); // the leader rejoins: PreparingRebalance, waits for the pending member
    expect(h.groupState).toBe('PreparingRebalance');
    h.advance(9_999);
    expect(h.groupState).toBe('PreparingRebalance');
    h.advance(1); // the pending member id expires (session timeout): the join completes
    expect(h.groupState).toBe('CompletingRebalance');
    expect(h.join({ memberId: pendingId }).result!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('leaves: unknown members get UNKNOWN_MEMBER_ID, the leader is replaced', () => {
    const m1 = h.stableWithOne();
    const m2 = h.joinNew();
    h.join({ memberId: m1 });
    h.sync({ memberId: m1, generationId: 2, assignments: [] });
    const r = h.state.leave(
      {
        groupId: 'g',
        members: [
          { memberId: m1, groupInstanceId: '', reason: 'bye' },
          { memberId: 'nobody', groupInstanceId: '', reason: '' },
        ],
      },
      h.now,
    );
    expect(r.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(h.groupState).toBe('PreparingRebalance');
    const rejoin = h.join({ memberId: m2.memberId });
    expect(rejoin.result).toMatchObject({ errorCode: 0, generationId: 3, leader: m2.memberId });
    expect(
      h.state.leave({ groupId: 'unknown', members: [{ memberId: 'x', groupInstanceId: '', reason: '' }] }, h.now).members[0]!.errorCode,
    ).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('static membership (KIP-345)', () => {
  const stat = (instance: string, extra: Partial<JoinRequest> = {}) => ({ groupInstanceId: instance, clientId: instance, ...extra });

  it('joins without MEMBER_ID_REQUIRED and is replaced without a rebalance when it rejoins unchanged', () => {
    const a = h.join(stat('a'));
    expect(a.result).toMatchObject({ errorCode: 0, generationId: 1, leader: 'a-1' });
    h.sync({ memberId: 'a-1', generationId: 1, groupInstanceId: 'a', assignments: [{ memberId: 'a-1', assignment: Buffer.from('A') }] });
    const b = h.join(stat('b'));
    h.join({ ...stat('a'), memberId: 'a-1' });
    expect(b.result).toMatchObject({ errorCode: 0, generationId: 2 });
    h.sync({
      memberId: 'a-1',
      generationId: 2,
      groupInstanceId: 'a',
      assignments: [
        { memberId: 'a-1', assignment: Buffer.from('A') },
        { memberId: 'b-2', assignment: Buffer.from('B') },
      ],
    });
    expect(h.groupState).toBe('Stable');

    // b restarts: new member id, same generation, its old assignment back, no rebalance.
    const restarted = h.join(stat('b'));
    expect(restarted.result).toMatchObject({
      errorCode: 0,
      memberId: 'b-3',
      generationId: 2,
      leader: 'a-1',
      skipAssignment: false,
      members: [],
    });
    expect(h.groupState).toBe('Stable');
    expect(h.sync({ memberId: 'b-3', generationId: 2, groupInstanceId: 'b' }).result).toMatchObject({
      errorCode: 0,
      assignment: Buffer.from('B'),
    });
    // The old process is fenced everywhere.
    expect(h.heartbeat('b-2', 2, 'b').errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(h.sync({ memberId: 'b-2', generationId: 2, groupInstanceId: 'b' }).result!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(h.join({ ...stat('b'), memberId: 'b-2' }).result!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(h.commit('b-2', 2, [['t', 0, 1n]], { groupInstanceId: 'b' }).result![0]!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    // The replacement was stored.
    const stored = h.writes.at(-1)!.records[0]!;
    expect(stored.type === 'group' && stored.value!.members.map((m) => m.memberId)).toEqual(['a-1', 'b-3']);

    // A static leader restarting is told to skip the assignment (KIP-814) and sees the members.
    const leader = h.join(stat('a'));
    expect(leader.result).toMatchObject({ errorCode: 0, memberId: 'a-4', leader: 'a-4', generationId: 2, skipAssignment: true });
    expect(leader.result!.members.map((m) => m.memberId)).toEqual(['a-4', 'b-3']);
  });

  it('rebalances when a static member rejoins with changed protocols', () => {
    h.join(stat('a'));
    h.sync({ memberId: 'a-1', generationId: 1, groupInstanceId: 'a', assignments: [] });
    const changed = h.join(stat('a', { protocols: [{ name: 'range', metadata: Buffer.from('new subscription') }] }));
    expect(h.groupState).toBe('CompletingRebalance'); // alone in the group, the rebalance completes at once
    expect(changed.result).toMatchObject({ errorCode: 0, memberId: 'a-2', generationId: 2 });
  });

  it('fences the old member id waiting in JoinGroup', () => {
    h.join(stat('a'));
    h.sync({ memberId: 'a-1', generationId: 1, groupInstanceId: 'a', assignments: [] });
    h.join(stat('b'));
    expect(h.groupState).toBe('PreparingRebalance');
    const waitingB = h.join({ ...stat('b'), memberId: 'b-2' });
    expect(waitingB.result).toBeUndefined();
    h.join(stat('b')); // b restarted while its old process waits
    expect(waitingB.result!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  it('leaves only by an explicit LeaveGroup, with FENCED_INSTANCE_ID for a stale member id', () => {
    h.join(stat('a'));
    h.sync({ memberId: 'a-1', generationId: 1, groupInstanceId: 'a', assignments: [] });
    const stale = h.state.leave({ groupId: 'g', members: [{ memberId: 'a-0', groupInstanceId: 'a', reason: '' }] }, h.now);
    expect(stale.members[0]!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(
      h.state.leave({ groupId: 'g', members: [{ memberId: '', groupInstanceId: 'zz', reason: '' }] }, h.now).members[0]!.errorCode,
    ).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const byInstance = h.state.leave({ groupId: 'g', members: [{ memberId: '', groupInstanceId: 'a', reason: 'admin' }] }, h.now);
    expect(byInstance.members[0]).toMatchObject({ errorCode: 0, memberId: 'a-1' });
    expect(h.groupState).toBe('Empty');
  });
});

describe('OffsetCommit / OffsetFetch', () => {
  it('validates the member and generation, and refuses commits while completing a rebalance', () => {
    // No group: generation -1 creates one; another generation is illegal.
    expect(h.commit('', 3, [['t', 0, 1n]]).result![0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(h.commit('', -1, [['t', 0, 5n]]).result![0]!.errorCode).toBe(0);
    expect(h.state.fetchOffsets('g', [{ topic: 't', partitions: [0] }])[0]!.offset).toBe(5n);

    const m1 = h.stableWithOne();
    expect(h.commit('', -1, [['t', 0, 6n]]).result![0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.commit('nobody', 1, [['t', 0, 6n]]).result![0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.commit(m1, 0, [['t', 0, 6n]]).result![0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(h.commit(m1, 1, [['t', 0, 6n]]).result![0]!.errorCode).toBe(0);
    h.joinNew();
    expect(h.groupState).toBe('PreparingRebalance');
    // Members of the current generation may still commit while the group prepares (eager revoke).
    expect(h.commit(m1, 1, [['t', 0, 7n]]).result![0]!.errorCode).toBe(0);
    h.join({ memberId: m1 });
    expect(h.groupState).toBe('CompletingRebalance');
    expect(h.commit(m1, 2, [['t', 0, 8n]]).result![0]!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.state.fetchOffsets('g', [{ topic: 't', partitions: [0, 1] }]).map((o) => o.offset)).toEqual([7n, -1n]);
  });

  it('refuses metadata over offset.metadata.max.bytes per partition', () => {
    h = new Harness({ offsetMetadataMaxBytes: 4 });
    const r = h.commit('', -1, [['t', 0, 1n]], { metadata: 'toolong' }).result!;
    expect(r[0]!.errorCode).toBe(ErrorCode.OFFSET_METADATA_TOO_LARGE);
    expect(h.writes).toHaveLength(0);
  });

  it('shows an offset only after its write completes, maps append errors, and never lets an older write win', () => {
    h.autoPersist = false;
    const first = h.commit('', -1, [['t', 0, 10n]]);
    const second = h.commit('', -1, [['t', 0, 20n]]);
    expect(first.result).toBeUndefined();
    expect(h.state.fetchOffsets('g', undefined)).toEqual([]);
    const [w1, w2] = h.pending;
    h.complete(w1!); // offsets 0
    h.complete(w2!); // offset 1
    expect(h.state.fetchOffsets('g', undefined).map((o) => o.offset)).toEqual([20n]);
    expect(first.result![0]!.errorCode).toBe(0);
    expect(second.result![0]!.errorCode).toBe(0);

    // Completions out of log order: the later record still wins.
    h.pending.length = 0;
    h.commit('', -1, [['t', 1, 1n]]);
    h.commit('', -1, [['t', 1, 2n]]);
    const [a, b] = h.pending;
    (h as unknown as { logOffset: bigint }).logOffset = 100n;
    const aDone = a!.done;
    const bDone = b!.done;
    bDone(0, '', 101n);
    aDone(0, '', 100n);
    expect(h.state.fetchOffsets('g', [{ topic: 't', partitions: [1] }])[0]!.offset).toBe(2n);

    for (const [appendError, answered] of [
      [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_COORDINATOR],
      [ErrorCode.REQUEST_TIMED_OUT, ErrorCode.COORDINATOR_NOT_AVAILABLE],
      [ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.COORDINATOR_NOT_AVAILABLE],
      [ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.INVALID_COMMIT_OFFSET_SIZE],
    ] as const) {
      h.pending.length = 0;
      const c = h.commit('', -1, [['t', 2, 1n]]);
      h.complete(h.pending[0]!, appendError);
      expect(c.result![0]!.errorCode).toBe(answered);
    }
    expect(h.state.fetchOffsets('g', [{ topic: 't', partitions: [2] }])[0]!.offset).toBe(-1n);
  });
});

describe('DeleteGroups and offsets expiry', () => {
  it('deletes only an empty group, writing tombstones for its offsets and itself', () => {
    expect(captureDelete('g').errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    const m1 = h.stableWithOne();
    h.commit(m1, 1, [
      ['t', 0, 3n],
      ['u', 1, 4n],
    ]);
    expect(captureDelete('g').errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    h.state.leave({ groupId: 'g', members: [{ memberId: m1, groupInstanceId: '', reason: '' }] }, h.now);
    expect(h.groupState).toBe('Empty');
    expect(captureDelete('g').errorCode).toBe(0);
    expect(h.state.hasGroup('g')).toBe(false);
    const tombstones = h.writes.at(-1)!.records;
    expect(tombstones.map((r) => [r.type, r.type === 'offset' ? `${r.topic}-${r.partition}` : r.group, r.value])).toEqual([
      ['offset', 't-0', null],
      ['offset', 'u-1', null],
      ['group', 'g', null],
    ]);
    expect(h.state.fetchOffsets('g', [{ topic: 't', partitions: [0] }])[0]!.offset).toBe(-1n);
  });

  it('expires all offsets of a group empty for offsets.retention, then the group', () => {
    h = new Harness({ offsetsRetentionMs: 60_000 });
    const m1 = h.stableWithOne();
    h.commit(m1, 1, [['t', 0, 3n]]);
    h.advance(10_000); // no heartbeat: m1 expires, the group is Empty from now
    expect(h.groupState).toBe('Empty');
    h.advance(59_999);
    expect(h.state.expireOffsets(h.now)).toBe(0);
    expect(h.writes.at(-1)!.records[0]!.type).toBe('group'); // nothing written since the Empty group record
    h.advance(1);
    expect(h.state.expireOffsets(h.now)).toBe(1);
    expect(h.state.hasGroup('g')).toBe(false);
    expect(h.writes.at(-1)!.records.map((r) => [r.type, r.value])).toEqual([
      ['offset', null],
      ['group', null],
    ]);
  });

  it('does not expire an empty group while one of its commits is being written', () => {
    h = new Harness({ offsetsRetentionMs: 60_000 });
    h.autoPersist = false;
    const c = h.commit('', -1, [['t', 0, 1n]]);
    expect(h.state.expireOffsets(h.now)).toBe(0);
    expect(h.writes).toHaveLength(1); // no group tombstone
    expect(h.state.hasGroup('g')).toBe(true);
    h.complete(h.pending[0]!);
    expect(c.result![0]!.errorCode).toBe(0);
    expect(h.state.fetchOffsets('g', undefined).map((o) => o.offset)).toEqual([1n]);
    // An old offset is not tombstoned while a newer commit of it is in flight (the tombstone would follow it in the log).
    h.now += 60_000;
    h.pending.length = 0;
    const newer = h.commit('', -1, [['t', 0, 2n]]);
    expect(h.state.expireOffsets(h.now)).toBe(0);
    h.complete(h.pending[0]!);
    expect(newer.result![0]!.errorCode).toBe(0);
    expect(h.state.fetchOffsets('g', undefined).map((o) => o.offset)).toEqual([2n]);
    expect(h.writes.flatMap((w) => w.records).every((r) => r.value !== null)).toBe(true);
  });

  it("keeps a Stable group's offsets and expires standalone commits one by one by commit time", () => {
    h = new Harness({ offsetsRetentionMs: 60_000 });
    h.commit('', -1, [['t', 0, 1n]]);
    h.now += 30_000;
    h.commit('', -1, [['t', 1, 2n]]);
    h.now += 30_000;
    expect(h.state.expireOffsets(h.now)).toBe(1);
    expect(h.state.fetchOffsets('g', undefined).map((o) => o.partition)).toEqual([1]);
    expect(h.groupState).toBe('Empty');

    const s = new Harness({ offsetsRetentionMs: 60_000 });
    const m = s.stableWithOne();
    s.commit(m, 1, [['t', 0, 1n]]);
    for (let i = 0; i < 20; i++) {
      s.advance(9_000);
      s.heartbeat(m, 1);
    }
    expect(s.state.expireOffsets(s.now)).toBe(0);
  });
});

describe('load and unload', () => {
  it('resumes a loaded group Stable with its members, and an unload answers waiting requests NOT_COORDINATOR', () => {
    h.state.loadGroup(
      'g',
      {
        protocolType: 'consumer',
        generation: 4,
        protocol: 'range',
        leader: 'm-1',
        currentStateTimestamp: 5,
        members: [
          {
            memberId: 'm-1',
            groupInstanceId: null,
            clientId: 'c',
            clientHost: '/h',
            rebalanceTimeoutMs: 30_000,
            sessionTimeoutMs: 10_000,
            subscription: Buffer.from('s1'),
            assignment: Buffer.from('A'),
          },
          {
            memberId: 'm-2',
            groupInstanceId: 'i2',
            clientId: 'c',
            clientHost: '/h',
            rebalanceTimeoutMs: 30_000,
            sessionTimeoutMs: 10_000,
            subscription: Buffer.from('s2'),
            assignment: Buffer.from('B'),
          },
        ],
      },
      [{ topic: 't', partition: 0, value: { offset: 9n, leaderEpoch: 1, metadata: 'x', commitTimestamp: 5 }, recordOffset: 3n }],
      h.now,
    );
    expect(h.groupState).toBe('Stable');
    expect(h.heartbeat('m-1', 4).errorCode).toBe(0);
    expect(h.sync({ memberId: 'm-2', generationId: 4, groupInstanceId: 'i2' }).result).toMatchObject({
      errorCode: 0,
      assignment: Buffer.from('B'),
    });
    expect(h.state.fetchOffsets('g', undefined)).toEqual([{ topic: 't', partition: 0, offset: 9n, leaderEpoch: 1, metadata: 'x' }]);
    expect(h.state.describeGroup('g').members.map((m) => [m.memberId, m.metadata.toString(), m.assignment.toString()])).toEqual([
      ['m-1', 's1', 'A'],
      ['m-2', 's2', 'B'],
    ]);

    // m-1 (leader) rejoins: PreparingRebalance; m-2 still to rejoin. Then the partition moves away.
    const waiting = h.join({ memberId: 'm-1', protocols: [{ name: 'range', metadata: Buffer.from('s1') }] });
    h.autoPersist = false;
    const commit = h.commit('m-2', 4, [['t', 0, 10n]], { groupInstanceId: 'i2' });
    h.state.unloadGroup('g');
    expect(waiting.result!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    h.complete(h.pending[0]!);
    expect(commit.result![0]!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.state.hasGroup('g')).toBe(false);
  });

  it('forgets KIP-394 pending member ids on unload and failover: their join answers UNKNOWN_MEMBER_ID, a join without an id works', () => {
    // Kafka's handleJoinGroup: a member id for a group that does not exist is refused (the client
    // resets its id and joins again); pending ids are not written to __consumer_offsets.
    const first = h.join({}).result!;
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    h.state.unloadGroup('g');
    h.state.loadGroup('g', null, [], h.now); // the partition reloaded here (new leader epoch): nothing in the log
    expect(h.join({ memberId: first.memberId }).result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, memberId: first.memberId });

    const other = new Harness(); // the coordinator moved to another broker, which never saw the id
    const gone = other.join({ memberId: first.memberId }).result!;
    expect(gone.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(gone.errorMessage).toContain('the group does not exist');
    expect(other.state.hasGroup('g')).toBe(false);
    const { memberId, box } = other.joinNew();
    expect(box.result).toMatchObject({ errorCode: 0, memberId, leader: memberId, generationId: 1 });
  });

  it('lists and describes groups by state', () => {
    h.stableWithOne();
    h.commit('', -1, [['t', 0, 1n]]);
    h.state.commitOffsets(
      {
        groupId: 'solo',
        generationId: -1,
        memberId: '',
        groupInstanceId: '',
        offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: '' }],
      },
      h.now,
      () => {},
    );
    expect(h.state.listGroups().map((g) => [g.groupId, g.state, g.protocolType])).toEqual([
      ['g', 'Stable', 'consumer'],
      ['solo', 'Empty', ''],
    ]);
    expect(h.state.listGroups(['empty']).map((g) => g.groupId)).toEqual(['solo']);
    expect(h.state.describeGroup('nope')).toMatchObject({ state: 'Dead', members: [] });
    expect(h.state.committedOffsets().find((g) => g.groupId === 'solo')!.offsets).toEqual([
      { topic: 't', partition: 0, offset: 1n, commitTimestamp: h.now },
    ]);
  });
});

function captureDelete(groupId: string): ErrorResult {
  let out: ErrorResult | undefined;
  h.state.deleteGroup(groupId, (r) => {
    out = r;
  });
  return out!;
}

describe('OffsetDelete (KIP-496)', () => {
  /** A ConsumerProtocol Subscription v0 naming `topics`. */
  function subscription(topics: string[]): Buffer {
    const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
    parts[1]!.writeInt32BE(topics.length, 0);
    for (const t of topics) {
      const len = Buffer.alloc(2);
      len.writeInt16BE(Buffer.byteLength(t), 0);
      parts.push(len, Buffer.from(t));
    }
    return Buffer.concat([...parts, Buffer.alloc(4)]);
  }

  function deleteOffsets(partitions: Array<[string, number]>, groupId = 'g') {
    let result: Parameters<Parameters<GroupCoordinatorState['deleteOffsets']>[2]>[0] | undefined;
    h.state.deleteOffsets(
      groupId,
      partitions.map(([topic, partition]) => ({ topic, partition })),
      (r) => {
        result = r;
      },
    );
    return result!;
  }

  it('refuses an unknown group with GROUP_ID_NOT_FOUND and writes nothing', () => {
    const writes = h.writes.length;
    expect(deleteOffsets([['t', 0]], 'nobody').errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect(h.writes.length).toBe(writes);
  });

  it('keeps the offsets of a topic a member subscribes to, deletes the others with tombstones, and deletes any once the group is empty', () => {
    const { memberId, box } = h.joinNew({ protocols: [{ name: 'range', metadata: subscription(['t']) }] });
    expect(box.result!.errorCode).toBe(0);
    expect(h.sync({ memberId, generationId: 1, assignments: [{ memberId, assignment: Buffer.from('a') }] }).result!.errorCode).toBe(0);
    expect(
      h
        .commit(memberId, 1, [
          ['t', 0, 5n],
          ['u', 0, 7n],
        ])
        .result!.every((r) => r.errorCode === 0),
    ).toBe(true);

    const writes = h.writes.length;
    const r = deleteOffsets([
      ['t', 0],
      ['u', 0],
      ['u', 1],
    ]);
    expect(r.errorCode).toBe(0);
    expect(r.partitions).toEqual([
      { topic: 't', partition: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC },
      { topic: 'u', partition: 0, errorCode: 0 },
      { topic: 'u', partition: 1, errorCode: 0 },
    ]);
    // One tombstone, for the one offset that existed.
    expect(h.writes.slice(writes).flatMap((w) => w.records)).toEqual([
      { type: 'offset', group: 'g', topic: 'u', partition: 0, value: null },
    ]);
    expect(
      h.state
        .fetchOffsets('g', [
          { topic: 'u', partitions: [0] },
          { topic: 't', partitions: [0] },
        ])
        .map((o) => o.offset),
    ).toEqual([-1n, 5n]);

    h.state.leave({ groupId: 'g', members: [{ memberId, groupInstanceId: '', reason: '' }] }, h.now);
    expect(h.groupState).toBe('Empty');
    expect(deleteOffsets([['t', 0]]).partitions[0]!.errorCode).toBe(0);
    expect(h.state.fetchOffsets('g', [{ topic: 't', partitions: [0] }])[0]!.offset).toBe(-1n);
  });

  it('a deleted topic loses its offsets in every group, subscribed or not, with tombstones; other topics keep theirs', () => {
    const { memberId } = h.joinNew({ protocols: [{ name: 'range', metadata: subscription(['t']) }] });
    expect(h.sync({ memberId, generationId: 1, assignments: [{ memberId, assignment: Buffer.from('a') }] }).result!.errorCode).toBe(0);
    expect(
      h
        .commit(memberId, 1, [
          ['t', 0, 5n],
          ['t', 1, 6n],
          ['u', 0, 7n],
        ])
        .result!.every((r) => r.errorCode === 0),
    ).toBe(true);
    const writes = h.writes.length;
    expect(h.state.removeTopicOffsets('t')).toBe(2);
    expect(h.writes.slice(writes).flatMap((w) => w.records)).toEqual([
      { type: 'offset', group: 'g', topic: 't', partition: 0, value: null },
      { type: 'offset', group: 'g', topic: 't', partition: 1, value: null },
    ]);
    expect(
      h.state
        .fetchOffsets('g', [
          { topic: 't', partitions: [0, 1] },
          { topic: 'u', partitions: [0] },
        ])
        .map((o) => o.offset),
    ).toEqual([-1n, -1n, 7n]);
    expect(h.state.removeTopicOffsets('gone')).toBe(0);
  });

  it('refuses a group with members whose protocol type is not consumer (NON_EMPTY_GROUP)', () => {
    const { memberId } = h.joinNew({ protocolType: 'connect' });
    h.sync({ memberId, generationId: 1, assignments: [{ memberId, assignment: Buffer.from('a') }] });
    expect(deleteOffsets([['t', 0]]).errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
  });
});
