// RaftNode: the synchronous Raft state machine. Ticks and messages go in through tick()/step();
// ready() hands out what to persist, send and apply; advance() acknowledges it. See DESIGN.md for
// roles, messages and the contract with the driver.
import { NO_NODE, hardStateEqual } from './messages.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  Entry,
  EntryType,
  HardState,
  HeartbeatMessage,
  Message,
  NodeId,
  Role,
  Snapshot,
  SnapshotMessage,
  SoftState,
  TransferLeaderMessage,
  VoteMessage,
} from './messages.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import type { ProgressState } from './progress.js';
import { randomInt } from './rng.js';
import type { Rng } from './rng.js';
import type { RaftStorage } from './storage.js';

export interface RaftConfig {
  readonly id: NodeId;
  /** Every voter's id, including this node's (unless it only observes). */
  readonly voters: readonly NodeId[];
  /** Ticks without hearing from a leader before campaigning; the timeout is drawn from [n, 2n). */
  readonly electionTicks: number;
  /** Ticks between a leader's heartbeats; must be less than electionTicks. */
  readonly heartbeatTicks: number;
  /** The only source of randomness (election timeouts). */
  readonly rng: Rng;
  /** What this node persisted before (empty for a new node). */
  readonly storage: RaftStorage;
  /** Ask "would you vote for me?" before bumping the term (§9.6). */
  readonly preVote: boolean;
  /** A leader steps down without a quorum of responses each election timeout; followers honour a lease. */
  readonly checkQuorum: boolean;
  /** Byte budget for the entries of one append (at least one entry is always sent). Default: unlimited. */
  readonly maxSizePerMsg?: number;
  /** Unacknowledged appends in flight per follower while replicating. Default 256. */
  readonly maxInflightMsgs?: number;
  /** The last index the application had applied before a restart. Default: the snapshot's index. */
  readonly applied?: number;
}

export class RaftConfigError extends Error {
  override readonly name = 'RaftConfigError';
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  /** Not the leader; `leaderId` is the leader this node knows of (0 if none). */
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leaderId: NodeId }
  /** The leader is handing over to `transferee` and accepts no proposals meanwhile. */
  | { readonly ok: false; readonly reason: 'transferring'; readonly leaderId: NodeId; readonly transferee: NodeId };

/** Work for the driver: persist `snapshot`, `entries` and `hardState`, then send `messages`, then apply. */
export interface Ready {
  /** Present when the leader or role changed since the last Ready. */
  readonly softState?: SoftState;
  /** Present when term, vote or commit changed since the last Ready. */
  readonly hardState?: HardState;
  /** A snapshot from the leader to persist and install (it replaces the whole log). */
  readonly snapshot?: Snapshot;
  /** Entries to append to durable storage (truncating any conflicting suffix). */
  readonly entries: readonly Entry[];
  /** Committed entries to apply, in order, after persisting. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once this Ready's state is durable. */
  readonly messages: readonly Message[];
}

export interface ProgressStatus {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  /** Entries the follower is behind the leader's last index. */
  readonly lag: number;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly role: Role;
  readonly leaderId: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  /** The log end (last index) of this node's log. */
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  /** On the leader: one entry per voter (including itself); empty elsewhere. */
  readonly progress: readonly ProgressStatus[];
}

type CampaignKind = 'preElection' | 'election' | 'transfer';
type VoteResult = 'won' | 'lost' | 'pending';

const EMPTY = new Uint8Array(0);

export class RaftNode {
  readonly id: NodeId;
  private readonly voters: readonly NodeId[];
  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly rng: Rng;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxSizePerMsg: number;
  private readonly maxInflight: number;
  private readonly log: RaftLog;

  private term = 0;
  private vote: NodeId = NO_NODE;
  private lead: NodeId = NO_NODE;
  private role: Role = 'follower';
  private votes = new Map<NodeId, boolean>();
  private prs = new Map<NodeId, Progress>();
  private msgs: Message[] = [];
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = NO_NODE;

  private stepRole: (m: Message) => void = (m) => this.stepFollower(m);
  private tickRole: () => void = () => this.tickElection();

  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyOutstanding = false;

  constructor(config: RaftConfig) {
    validate(config);
    this.id = config.id;
    this.voters = [...new Set(config.voters)];
    this.electionTimeout = config.electionTicks;
    this.heartbeatTimeout = config.heartbeatTicks;
    this.rng = config.rng;
    this.preVote = config.preVote;
    this.checkQuorum = config.checkQuorum;
    this.maxSizePerMsg = config.maxSizePerMsg ?? Infinity;
    this.maxInflight = config.maxInflightMsgs ?? 256;
    this.log = new RaftLog(config.storage);

    const hs = config.storage.hardState();
    if (hs.commit > this.log.lastIndex()) {
      throw new RaftConfigError(`hard state commit ${hs.commit} is beyond the stored log (last index ${this.log.lastIndex()})`);
    }
    this.log.commitTo(hs.commit);
    this.term = hs.term;
    this.vote = hs.vote;
    // The application restores its state machine from the latest snapshot, so by default it has
    // applied up to the snapshot (which may lie above the compaction point).
    const applied = config.applied ?? config.storage.snapshot().metadata.index;
    if (applied > this.log.applied) this.log.appliedTo(applied);

    this.becomeFollower(this.term, NO_NODE);
    this.prevHardState = hs;
    this.prevSoftState = this.softState();
  }

  // ---- the driver's interface ----

  /** One logical clock tick (the driver decides how long a tick is). */
  tick(): void {
    this.tickRole();
  }

  /** Start an election now (as if the election timer fired). */
  campaign(): void {
    this.step({ type: 'hup', from: this.id, to: this.id, term: 0 });
  }

  /** Append `data` to the log if this node is the leader. */
  propose(data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader', leaderId: this.lead };
    if (this.leadTransferee !== NO_NODE) {
      return { ok: false, reason: 'transferring', leaderId: this.id, transferee: this.leadTransferee };
    }
    this.step({ type: 'propose', from: this.id, to: this.id, term: 0, entries: [{ type: 'normal', data }] });
    return { ok: true, index: this.log.lastIndex(), term: this.term };
  }

  /** Hand leadership to `to` (on a follower: forwarded to the known leader). */
  transferLeadership(to: NodeId): void {
    this.step({ type: 'transferLeader', from: this.id, to: this.id, term: 0, transferee: to });
  }

  /** The transport failed to reach `id`. */
  reportUnreachable(id: NodeId): void {
    this.step({ type: 'unreachable', from: id, to: this.id, term: 0 });
  }

  /** The transport finished sending a snapshot to `id` (`ok: false` if it failed). */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.step({ type: 'snapshotStatus', from: id, to: this.id, term: 0, reject: !ok });
  }

  /** Whether ready() has work. False while a Ready is outstanding (handed out, not yet advanced). */
  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    return (
      this.msgs.length > 0 ||
      this.log.unstable.entries.length > 0 ||
      this.log.unstable.snapshot !== undefined ||
      this.log.hasNextCommittedEntries() ||
      !hardStateEqual(this.hardState(), this.prevHardState) ||
      !softStateEqual(this.softState(), this.prevSoftState)
    );
  }

  /**
   * The next batch of work, or null. Call advance(ready) once it is done before calling ready()
   * again; tick/step/propose may be called meanwhile.
   */
  ready(): Ready | null {
    if (this.readyOutstanding) throw new Error('ready() called again before advance()');
    if (!this.hasReady()) return null;
    const soft = this.softState();
    const hard = this.hardState();
    const rd: {
      -readonly [K in keyof Ready]: Ready[K];
    } = {
      entries: [...this.log.unstable.entries],
      committedEntries: this.log.nextCommittedEntries(),
      messages: this.msgs,
    };
    if (!softStateEqual(soft, this.prevSoftState)) {
      rd.softState = soft;
      this.prevSoftState = soft;
    }
    if (!hardStateEqual(hard, this.prevHardState)) rd.hardState = hard;
    if (this.log.unstable.snapshot) rd.snapshot = this.log.unstable.snapshot;
    this.msgs = [];
    this.readyOutstanding = true;
    return rd;
  }

  /** The driver persisted, sent and applied `rd`. */
  advance(rd: Ready): void {
    if (!this.readyOutstanding) throw new Error('advance() without an outstanding Ready');
    this.readyOutstanding = false;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.snapshot) {
      const index = rd.snapshot.metadata.index;
      this.log.stableSnapTo(index);
      if (index > this.log.applied) this.log.appliedTo(index);
    }
    const lastNew = rd.entries[rd.entries.length - 1];
    if (lastNew) this.log.stableTo(lastNew.index, lastNew.term);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) this.log.appliedTo(lastApplied.index);
  }

  status(): Status {
    const lastIndex = this.log.lastIndex();
    const progress: ProgressStatus[] = [];
    if (this.role === 'leader') {
      for (const pr of this.prs.values()) {
        progress.push({
          id: pr.id,
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.id === this.id || pr.recentActive,
          lag: lastIndex - pr.match,
        });
      }
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leaderId: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex,
      leadTransferee: this.leadTransferee,
      progress,
    };
  }

  /** The term of this node's log entry at `index` (persisted or not), if it still has it. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  // ---- step: term comparison once, then the role ----

  step(m: Message): void {
    if (m.term === 0) {
      // A local event.
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease = this.checkQuorum && this.lead !== NO_NODE && this.electionElapsed < this.electionTimeout;
        // We heard from a live leader within the minimum election timeout: ignore the disruptor.
        if (inLease && !m.transfer) return;
      }
      if (m.type === 'preVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'preVoteResponse' && !m.reject) {
        // Granted at the term we would campaign at; the term moves only once a quorum grants.
      } else {
        const leader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' ? m.from : NO_NODE;
        this.becomeFollower(m.term, leader);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // A deposed leader (perhaps partitioned away) learns our term from this and steps down;
        // without it, it could keep a node that ignores its stale term from ever hearing a leader.
        this.send({
          type: 'appendResponse',
          from: this.id,
          to: m.from,
          term: this.term,
          index: 0,
          reject: false,
          hintIndex: 0,
          hintTerm: 0,
        });
      } else if (m.type === 'preVote') {
        // Answer so the sender learns our term instead of pre-campaigning at a stale one forever.
        this.send({ type: 'preVoteResponse', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'hup':
        this.hup(false);
        return;
      case 'vote':
      case 'preVote':
        this.handleVote(m);
        return;
      default:
        this.stepRole(m);
    }
  }

  private handleVote(m: VoteMessage): void {
    const respType = m.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    const canVote =
      this.vote === m.from || (this.vote === NO_NODE && this.lead === NO_NODE) || (m.type === 'preVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      // Answer at the candidate's term: for a pre-vote that is our future term.
      this.send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  // ---- roles ----

  private becomeFollower(term: number, leader: NodeId): void {
    this.stepRole = (m) => this.stepFollower(m);
    this.tickRole = () => this.tickElection();
    this.reset(term);
    this.lead = leader;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') throw new Error('invalid transition leader → preCandidate');
    // Neither term nor vote changes: a pre-candidate has not started an election yet.
    this.stepRole = (m) => this.stepCandidate(m);
    this.tickRole = () => this.tickElection();
    this.votes.clear();
    this.lead = NO_NODE;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new Error('invalid transition leader → candidate');
    this.stepRole = (m) => this.stepCandidate(m);
    this.tickRole = () => this.tickElection();
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    if (this.role === 'follower') throw new Error('invalid transition follower → leader');
    this.stepRole = (m) => this.stepLeader(m);
    this.tickRole = () => this.tickHeartbeat();
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.prs.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Entries of earlier terms commit only together with one of ours (§5.4.2): append one now.
    this.appendEntries([{ type: 'noop', data: EMPTY }]);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + randomInt(this.rng, this.electionTimeout);
    this.leadTransferee = NO_NODE;
    this.votes.clear();
    const lastIndex = this.log.lastIndex();
    this.prs = new Map();
    for (const id of this.voters) {
      const pr = new Progress(id, lastIndex + 1, this.maxInflight);
      if (id === this.id) pr.match = lastIndex;
      this.prs.set(id, pr);
    }
  }

  private promotable(): boolean {
    return this.voters.includes(this.id) && !this.log.hasPendingSnapshot();
  }

  // ---- ticks ----

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step({ type: 'hup', from: this.id, to: this.id, term: 0 });
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, NO_NODE);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.leadTransferee !== NO_NODE) this.leadTransferee = NO_NODE;
    }
    for (const pr of this.prs.values()) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.electionTimeout) {
        // The snapshot (or its acknowledgement) was probably lost: probe again, which resends it.
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
        this.sendAppend(pr.id);
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step({ type: 'beat', from: this.id, to: this.id, term: 0 });
    }
  }

  /** Whether a quorum of voters (counting us) was heard from since the last check; resets the marks. */
  private quorumActive(): boolean {
    let active = 0;
    for (const pr of this.prs.values()) {
      if (pr.id === this.id || pr.recentActive) active++;
      if (pr.id !== this.id) pr.recentActive = false;
    }
    return active >= this.quorum();
  }

  // ---- elections ----

  private hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // A transfer means the leader asked us to take over: no partition to guard against, skip pre-vote.
    this.startCampaign(transfer ? 'transfer' : this.preVote ? 'preElection' : 'election');
  }

  private startCampaign(kind: CampaignKind): void {
    let term: number;
    let type: 'vote' | 'preVote';
    if (kind === 'preElection') {
      this.becomePreCandidate();
      type = 'preVote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = 'vote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single-voter cluster.
      if (kind === 'preElection') this.startCampaign('election');
      else this.becomeLeader();
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const to of this.voters) {
      if (to === this.id) continue;
      this.send({ type, from: this.id, to, term, lastLogIndex, lastLogTerm, transfer: kind === 'transfer' });
    }
  }

  private poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    let yes = 0;
    let no = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) yes++;
      else if (v === false) no++;
    }
    const q = this.quorum();
    if (yes >= q) return 'won';
    if (no > this.voters.length - q) return 'lost';
    return 'pending';
  }

  private quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  // ---- role step functions ----

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'propose':
        return; // No leader here; propose() reports notLeader.
      case 'append':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'transferLeader':
        if (this.lead !== NO_NODE) this.send({ ...m, from: this.id, to: this.lead });
        return;
      case 'timeoutNow':
        this.hup(true);
        return;
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const respType = this.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
    switch (m.type) {
      case 'append':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'voteResponse':
      case 'preVoteResponse': {
        if (m.type !== respType) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.role === 'preCandidate') {
            this.startCampaign('election');
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NO_NODE);
        }
        return;
      }
      default:
        return; // propose, timeoutNow, transferLeader: nothing to do without a leader.
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'beat':
        this.bcastHeartbeat();
        return;
      case 'propose':
        if (!this.prs.has(this.id) || this.leadTransferee !== NO_NODE) return;
        this.appendEntries(m.entries);
        this.bcastAppend();
        return;
      case 'transferLeader':
        this.handleTransferLeader(m);
        return;
      default:
        break;
    }
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'appendResponse':
        this.handleAppendResponse(m, pr);
        return;
      case 'heartbeatResponse':
        pr.recentActive = true;
        pr.probeSent = false;
        // A lost append may have left the window full with nothing coming back to drain it.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(pr.id);
        return;
      case 'snapshotStatus':
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the next heartbeat response before probing, so a failing peer is not flooded.
        pr.probeSent = true;
        return;
      case 'unreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  // ---- follower handlers ----

  private handleAppend(m: AppendMessage): void {
    const reply = (index: number, reject: boolean, hintIndex = 0, hintTerm = 0): void =>
      this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this.term, index, reject, hintIndex, hintTerm });
    if (m.prevLogIndex < this.log.committed) {
      reply(this.log.committed, false);
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      reply(lastNew, false);
      return;
    }
    // Tell the leader where our log could match, so it skips a whole divergent term at a time.
    const hint = this.log.findConflictByTerm(Math.min(m.prevLogIndex, this.log.lastIndex()), m.prevLogTerm);
    reply(m.prevLogIndex, true, hint.index, hint.term);
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    this.log.commitTo(m.commit);
    this.send({ type: 'heartbeatResponse', from: this.id, to: m.from, term: this.term });
  }

  private handleSnapshot(m: SnapshotMessage): void {
    const index = this.restore(m.snapshot) ? this.log.lastIndex() : this.log.committed;
    this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this.term, index, reject: false, hintIndex: 0, hintTerm: 0 });
  }

  /** Install a leader's snapshot unless we already have (and committed) what it covers. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // Our log already has the snapshot's last entry: just fast-forward the commit index.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    return true;
  }

  // ---- leader handlers ----

  private appendEntries(entries: readonly { readonly type: EntryType; readonly data: Uint8Array }[]): void {
    const last = this.log.lastIndex();
    const full: Entry[] = entries.map((e, i) => ({ term: this.term, index: last + 1 + i, type: e.type, data: e.data }));
    this.log.append(full);
    this.prs.get(this.id)?.maybeUpdate(this.log.lastIndex());
    this.maybeCommit();
  }

  private handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      const next = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index : m.hintIndex;
      if (pr.maybeDecrTo(m.index, next)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(pr.id);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      // The follower can be served from the log again.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else if (wasPaused) {
      this.sendAppend(pr.id);
    }
    while (this.sendAppend(pr.id, false)) {
      // Keep the pipeline full.
    }
    if (pr.id === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(pr.id);
  }

  private handleTransferLeader(m: TransferLeaderMessage): void {
    const transferee = m.transferee;
    const pr = this.prs.get(transferee);
    if (!pr) return;
    if (this.leadTransferee !== NO_NODE) {
      if (this.leadTransferee === transferee) return;
      this.leadTransferee = NO_NODE;
    }
    if (transferee === this.id) return;
    // The transfer must finish within an election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.term });
  }

  private maybeCommit(): boolean {
    const matches: number[] = [];
    for (const id of this.voters) matches.push(this.prs.get(id)!.match);
    matches.sort((a, b) => b - a);
    const quorumMatch = matches[this.quorum() - 1]!;
    return this.log.maybeCommit(quorumMatch, this.term);
  }

  private bcastAppend(): void {
    for (const id of this.voters) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(): void {
    for (const pr of this.prs.values()) {
      if (pr.id === this.id) continue;
      // Never tell a follower to commit past what it is known to match.
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ type: 'heartbeat', from: this.id, to: pr.id, term: this.term, commit });
    }
  }

  /**
   * Send `to` the entries it is missing (or a snapshot if they are compacted). Returns whether a
   * message was sent; with `sendIfEmpty` false, an append without entries is not sent.
   */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevLogIndex = pr.next - 1;
    if (prevLogIndex > this.log.lastIndex()) {
      throw new Error(`progress of ${to} is past our log: next ${pr.next}, last index ${this.log.lastIndex()}`);
    }
    const prevLogTerm = this.log.term(prevLogIndex);
    const entries = prevLogTerm === undefined ? undefined : this.log.entriesFrom(pr.next, this.maxSizePerMsg);
    if (prevLogTerm === undefined || entries === undefined) return this.sendSnapshot(pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'append', from: this.id, to, term: this.term, prevLogIndex, prevLogTerm, entries, commit: this.log.committed });
    pr.sentEntries(entries.length > 0 ? entries[entries.length - 1]!.index : undefined);
    return true;
  }

  private sendSnapshot(pr: Progress): boolean {
    // A follower we have not heard from lately is probably down: do not ship it a snapshot.
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    if (snapshot.metadata.index === 0) throw new Error(`follower ${pr.id} needs compacted entries but there is no snapshot`);
    this.send({ type: 'snapshot', from: this.id, to: pr.id, term: this.term, snapshot });
    pr.becomeSnapshot(snapshot.metadata.index);
    return true;
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }

  private softState(): SoftState {
    return { leaderId: this.lead, role: this.role };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role;
}

function validate(c: RaftConfig): void {
  if (!Number.isInteger(c.id) || c.id <= 0) throw new RaftConfigError(`id must be a positive integer, got ${c.id}`);
  if (c.voters.length === 0) throw new RaftConfigError('voters must not be empty');
  for (const v of c.voters) {
    if (!Number.isInteger(v) || v <= 0) throw new RaftConfigError(`voter ids must be positive integers, got ${v}`);
  }
  if (!Number.isInteger(c.heartbeatTicks) || c.heartbeatTicks < 1) {
    throw new RaftConfigError(`heartbeatTicks must be ≥ 1, got ${c.heartbeatTicks}`);
  }
  if (!Number.isInteger(c.electionTicks) || c.electionTicks <= c.heartbeatTicks) {
    throw new RaftConfigError(`electionTicks (${c.electionTicks}) must exceed heartbeatTicks (${c.heartbeatTicks})`);
  }
  if (c.maxInflightMsgs !== undefined && c.maxInflightMsgs < 1) {
    throw new RaftConfigError(`maxInflightMsgs must be ≥ 1, got ${c.maxInflightMsgs}`);
  }
}
