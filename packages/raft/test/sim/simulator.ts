// A deterministic simulation of a Raft cluster: one seeded event queue drives ticks, message
// deliveries, disk writes, crashes, restarts, partitions, leadership transfers and client proposals.
// Every RaftNode's Ready is persisted only when its `persist` event fires; a crash before that loses
// it. The SafetyChecker runs after every event; a run ends with a liveness check.
import { MemoryStorage, RaftNode } from '../../src/index.js';
import type { Message, NodeId, Ready } from '../../src/index.js';
import { SeededRng } from '@samsa/protocol';
import { InvariantViolation, SafetyChecker } from './invariants.js';
import type { CheckedNode } from './invariants.js';
import { EventQueue } from './queue.js';
import { describeMessage } from '../helpers/format.js';

/**
 * Deliberate driver bugs, to prove the checker catches real violations:
 * - `sendBeforePersist`: messages leave when the Ready is taken, before its state is durable;
 * - `forgetVote`: the hard state is persisted without the vote;
 * - `skipEntries`: a Ready's entries are never written (but acknowledged).
 */
export type SimBug = 'sendBeforePersist' | 'forgetVote' | 'skipEntries';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Events in the chaos phase (the liveness phase comes on top). */
  readonly events: number;
  readonly bug?: SimBug;
  /** How many of the last events a failure report shows (default 40). */
  readonly traceLength?: number;
}

export interface SimStats {
  readonly seed: number;
  readonly nodes: number;
  readonly events: number;
  readonly simTimeMs: number;
  readonly elections: number;
  readonly committed: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly snapshotsSent: number;
  readonly profile: string;
}

/** A failed run: the seed, the violation, and the last events before it. */
export class SimulationFailure extends Error {
  override readonly name = 'SimulationFailure';
  constructor(
    readonly seed: number,
    readonly nodes: number,
    readonly events: number,
    readonly violation: unknown,
    readonly recent: readonly string[],
  ) {
    super(
      `seed ${seed} (${nodes} nodes): ${violation instanceof Error ? `${violation.name}: ${violation.message}` : String(violation)}\n` +
        `  replay: RAFT_SEED=${seed} RAFT_NODES=${nodes} RAFT_EVENTS=${events} node node_modules/vitest/vitest.mjs run --project raft test/sim\n` +
        `  last ${recent.length} events (RAFT_TRACE=<n> shows more):\n    ${recent.join('\n    ')}`,
      { cause: violation },
    );
  }
}

type SimEvent =
  | { readonly kind: 'tick'; readonly node: NodeId; readonly inc: number }
  | { readonly kind: 'deliver'; readonly msg: Message }
  | { readonly kind: 'persist'; readonly node: NodeId; readonly inc: number }
  | { readonly kind: 'restart'; readonly node: NodeId }
  | { readonly kind: 'chaos' }
  | { readonly kind: 'client' };

interface SimNode extends CheckedNode {
  raft: RaftNode | undefined;
  /** Bumped on crash so events of a dead incarnation are ignored. */
  inc: number;
  /** The Ready being written to disk. */
  pending: Ready | undefined;
  /** The state machine: last applied index and a digest of everything applied. */
  smIndex: number;
  smDigest: number;
  /** The role-term and commit index last seen, to spot elections and commits for adversarial crashes. */
  seenLeaderTerm: number;
  seenCommit: number;
}

interface Profile {
  preVote: boolean;
  checkQuorum: boolean;
  heartbeatTicks: number;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  minDelay: number;
  maxDelay: number;
  /** Occasionally a message is held much longer (reordering across heartbeats and elections). */
  longDelayRate: number;
  dropRate: number;
  dupRate: number;
  maxDiskDelay: number;
  chaosEveryMs: number;
  clientEveryMs: number;
  compactEvery: number;
  compactKeep: number;
  /**
   * Adversarial crash timing: the chance that a leader crashes right as it is elected or as its
   * commit index moves — the moments when old-term entries are most exposed (Figure 8).
   */
  crashLeaderRate: number;
}

const TICK_MS = 10;
const ELECTION_TICKS = 10;
const RECENT = 40;
const LIVENESS_MS = 60_000;
const enc = new TextEncoder();

export class Simulation {
  private readonly rng: SeededRng;
  private readonly netRng: SeededRng;
  private readonly nodeRngs: SeededRng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes: SimNode[] = [];
  private readonly ids: NodeId[];
  private readonly proposed = new Set<string>();
  private readonly checker: SafetyChecker;
  private readonly profile: Profile;
  /** Directed links that drop everything: `${from}>${to}`. */
  private readonly cut = new Set<string>();
  /** The last events, formatted only if the run fails. */
  private readonly recent: { time: number; what: string | Message | (() => string) }[] = [];
  private now = 0;
  private events = 0;
  private proposals = 0;
  private crashes = 0;
  private partitions = 0;
  private snapshotsSent = 0;
  private chaos = true;

  constructor(private readonly opts: SimOptions) {
    // The cluster size is part of the seed so 3- and 5-node runs of one seed differ in profile too.
    this.rng = new SeededRng(opts.seed * 16 + opts.nodes);
    this.netRng = this.rng.fork();
    this.nodeRngs = this.rng.fork();
    this.profile = this.pickProfile();
    this.ids = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    for (const id of this.ids) {
      this.nodes.push({
        id,
        storage: new MemoryStorage(this.ids),
        raft: undefined,
        inc: 0,
        pending: undefined,
        smIndex: 0,
        smDigest: 0,
        seenLeaderTerm: 0,
        seenCommit: 0,
      });
    }
    this.checker = new SafetyChecker(this.nodes, this.proposed);
  }

  private pickProfile(): Profile {
    const r = this.rng;
    const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
    return {
      preVote: r.chance(0.7),
      checkQuorum: r.chance(0.7),
      heartbeatTicks: pick([1, 2, 3]),
      maxSizePerMsg: pick([Infinity, Infinity, 200, 1]), // 1: a single entry per append
      maxInflightMsgs: pick([256, 4, 1]),
      minDelay: 1,
      maxDelay: pick([3, 10, 30, 60]),
      longDelayRate: pick([0, 0.01, 0.05]),
      dropRate: pick([0, 0.01, 0.05, 0.15]),
      dupRate: pick([0, 0.02, 0.1]),
      maxDiskDelay: pick([1, 4, 15]),
      chaosEveryMs: pick([80, 200, 500]),
      clientEveryMs: pick([5, 20, 60]),
      compactEvery: pick([4, 10, 40]),
      compactKeep: pick([0, 2, 10]),
      crashLeaderRate: pick([0, 0, 0.05, 0.2]),
    };
  }

  run(): SimStats {
    try {
      for (const n of this.nodes) this.start(n);
      this.queue.push(this.profile.chaosEveryMs, { kind: 'chaos' });
      this.queue.push(this.profile.clientEveryMs, { kind: 'client' });
      while (this.events < this.opts.events) this.processNext();
      this.checkLiveness();
    } catch (e) {
      throw new SimulationFailure(this.opts.seed, this.opts.nodes, this.opts.events, e, this.recentEvents());
    }
    return {
      seed: this.opts.seed,
      nodes: this.opts.nodes,
      events: this.events,
      simTimeMs: this.now,
      elections: this.checker.leaderElections,
      committed: this.checker.highestCommitted,
      crashes: this.crashes,
      partitions: this.partitions,
      snapshotsSent: this.snapshotsSent,
      profile: JSON.stringify(this.profile),
    };
  }

  // ---- the event loop ----

  private processNext(): void {
    const next = this.queue.pop();
    if (!next) throw new Error('event queue ran dry');
    this.now = next.time;
    this.events++;
    const ev = next.event;
    switch (ev.kind) {
      case 'tick': {
        const n = this.node(ev.node);
        if (n.inc !== ev.inc || !n.raft) return;
        n.raft.tick();
        this.queue.push(this.now + TICK_MS, ev);
        this.afterInput(n);
        return;
      }
      case 'deliver': {
        const m = ev.msg;
        const n = this.node(m.to);
        if (!n.raft || this.cut.has(`${m.from}>${m.to}`)) return;
        this.note(m);
        n.raft.step(m);
        this.afterInput(n);
        return;
      }
      case 'persist': {
        const n = this.node(ev.node);
        if (n.inc !== ev.inc || !n.pending) return;
        this.persist(n, n.pending);
        return;
      }
      case 'restart': {
        const n = this.node(ev.node);
        if (n.raft) return;
        this.note(`restart ${n.id}`);
        this.start(n);
        return;
      }
      case 'chaos':
        if (!this.chaos) return;
        this.injectFault();
        this.queue.push(this.now + 1 + this.rng.int(2 * this.profile.chaosEveryMs), ev);
        return;
      case 'client':
        if (!this.chaos) return;
        this.clientPropose();
        this.queue.push(this.now + 1 + this.rng.int(2 * this.profile.clientEveryMs), ev);
        return;
    }
  }

  private node(id: NodeId): SimNode {
    return this.nodes[id - 1]!;
  }

  /** (Re)start a node from whatever its storage holds. */
  private start(n: SimNode): void {
    const p = this.profile;
    const snap = n.storage.snapshot();
    if (snap.metadata.index > 0) {
      const image = JSON.parse(new TextDecoder().decode(snap.data)) as { index: number; digest: number };
      n.smIndex = image.index;
      n.smDigest = image.digest;
      this.checker.onRestoreState(n, image.index, image.digest);
    } else {
      n.smIndex = 0;
      n.smDigest = 0;
    }
    n.raft = new RaftNode({
      id: n.id,
      voters: this.ids,
      storage: n.storage,
      rng: this.nodeRngs.fork(),
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: p.heartbeatTicks,
      preVote: p.preVote,
      checkQuorum: p.checkQuorum,
      maxSizePerMsg: p.maxSizePerMsg,
      maxInflightMsgs: p.maxInflightMsgs,
    });
    n.pending = undefined;
    this.checker.onRestart(n.id);
    this.queue.push(this.now + 1 + this.rng.int(TICK_MS), { kind: 'tick', node: n.id, inc: n.inc });
    this.afterInput(n);
  }

  private crash(n: SimNode): void {
    if (!n.raft) return;
    this.note(`crash ${n.id}${n.pending ? ' (losing an unpersisted Ready)' : ''}`);
    this.crashes++;
    n.raft = undefined;
    n.pending = undefined;
    n.inc++;
    this.queue.push(this.now + 20 + this.rng.int(400), { kind: 'restart', node: n.id });
  }

  /** After any input to a node: check invariants, then hand its next Ready to the "disk". */
  private afterInput(n: SimNode): void {
    this.checker.afterEvent(n);
    if (this.chaos && this.profile.crashLeaderRate > 0 && n.raft && this.leaderMoved(n) && this.rng.chance(this.profile.crashLeaderRate)) {
      this.crash(n);
      return;
    }
    if (!n.raft || n.pending || !n.raft.hasReady()) return;
    const rd = n.raft.ready()!;
    n.pending = rd;
    if (this.opts.bug === 'sendBeforePersist') this.send(rd.messages);
    this.queue.push(this.now + 1 + this.rng.int(this.profile.maxDiskDelay), { kind: 'persist', node: n.id, inc: n.inc });
  }

  /** Whether `n` just became leader or, as leader, advanced its commit index. */
  private leaderMoved(n: SimNode): boolean {
    const st = n.raft!.status();
    if (st.role !== 'leader') return false;
    const moved = st.term !== n.seenLeaderTerm || st.commit !== n.seenCommit;
    n.seenLeaderTerm = st.term;
    n.seenCommit = st.commit;
    return moved;
  }

  /** The driver's side of the Ready contract: persist, then send, then apply, then advance. */
  private persist(n: SimNode, rd: Ready): void {
    const raft = n.raft!;
    this.note(() => {
      const parts = [`persist ${n.id}:`];
      if (rd.snapshot) parts.push(`snapshot ${rd.snapshot.metadata.index}:${rd.snapshot.metadata.term}`);
      if (rd.entries.length) parts.push(`entries ${rd.entries[0]!.index}..${rd.entries[rd.entries.length - 1]!.index}`);
      if (rd.hardState) parts.push(`hs t${rd.hardState.term} vote=${rd.hardState.vote} commit=${rd.hardState.commit}`);
      if (rd.committedEntries.length) parts.push(`apply ..${rd.committedEntries[rd.committedEntries.length - 1]!.index}`);
      if (rd.softState) parts.push(`now ${rd.softState.role} (leader ${rd.softState.leaderId})`);
      if (rd.messages.length) parts.push(`send ${rd.messages.length} messages`);
      return parts.join(' ');
    });
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      this.checker.onPersistSnapshot(n, rd.snapshot);
      const image = JSON.parse(new TextDecoder().decode(rd.snapshot.data)) as { index: number; digest: number };
      this.checker.onRestoreState(n, image.index, image.digest);
      n.smIndex = image.index;
      n.smDigest = image.digest;
    }
    if (this.opts.bug !== 'skipEntries') {
      this.checker.beforePersistEntries(n, rd.entries);
      n.storage.append(rd.entries);
      this.checker.onPersistEntries(n, rd.entries);
    }
    if (rd.hardState) n.storage.setHardState(this.opts.bug === 'forgetVote' ? { ...rd.hardState, vote: 0 } : rd.hardState);
    if (this.opts.bug !== 'sendBeforePersist') this.send(rd.messages);
    for (const e of rd.committedEntries) {
      n.smDigest = this.checker.onApply(n, n.smIndex, n.smDigest, e);
      n.smIndex = e.index;
    }
    raft.advance(rd);
    n.pending = undefined;
    this.maybeCompact(n);
    this.afterInput(n);
  }

  /** The application snapshots its state machine and compacts the log behind it. */
  private maybeCompact(n: SimNode): void {
    const p = this.profile;
    if (n.smIndex - n.storage.firstIndex() + 1 < p.compactEvery) return;
    if (n.smIndex <= n.storage.snapshot().metadata.index) return;
    if (n.storage.term(n.smIndex) === undefined) return;
    const image = enc.encode(JSON.stringify({ index: n.smIndex, digest: n.smDigest }));
    n.storage.createSnapshot(n.smIndex, image);
    n.storage.compact(Math.max(n.storage.firstIndex() - 1, n.smIndex - p.compactKeep));
  }

  // ---- the network ----

  private send(msgs: readonly Message[]): void {
    const p = this.profile;
    const r = this.netRng;
    for (const m of msgs) {
      if (m.type === 'snapshot') this.snapshotsSent++;
      if (this.chaos && r.chance(p.dropRate)) continue;
      const copies = this.chaos && r.chance(p.dupRate) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        let delay = p.minDelay + r.int(p.maxDelay - p.minDelay + 1);
        if (this.chaos && r.chance(p.longDelayRate)) delay += r.int(300);
        this.queue.push(this.now + delay, { kind: 'deliver', msg: m });
      }
    }
  }

  // ---- faults and clients ----

  private injectFault(): void {
    const r = this.rng;
    const x = r.next();
    const up = this.nodes.filter((n) => n.raft);
    if (x < 0.2) {
      const victim = up[r.int(up.length)];
      if (victim) this.crash(victim);
    } else if (x < 0.35) {
      // Crash the leader (the most disruptive crash).
      const leader = up.find((n) => n.raft!.status().role === 'leader');
      if (leader) this.crash(leader);
    } else if (x < 0.45) {
      this.partitions++;
      this.cut.clear();
      const side = this.ids.map(() => r.chance(0.5));
      for (const a of this.ids) for (const b of this.ids) if (side[a - 1] !== side[b - 1]) this.cut.add(`${a}>${b}`);
      this.note(`partition ${this.ids.filter((id) => side[id - 1]).join(',')} | ${this.ids.filter((id) => !side[id - 1]).join(',')}`);
    } else if (x < 0.55) {
      this.partitions++;
      const lone = this.ids[r.int(this.ids.length)]!;
      for (const other of this.ids) {
        if (other === lone) continue;
        this.cut.add(`${lone}>${other}`);
        this.cut.add(`${other}>${lone}`);
      }
      this.note(`isolate ${lone}`);
    } else if (x < 0.62) {
      this.partitions++;
      const a = this.ids[r.int(this.ids.length)]!;
      const b = this.ids[r.int(this.ids.length)]!;
      if (a !== b) this.cut.add(`${a}>${b}`);
      this.note(`cut one way ${a}>${b}`);
    } else if (x < 0.85) {
      this.cut.clear();
      this.note('heal');
    } else {
      const from = up[r.int(up.length)];
      const to = this.ids[r.int(this.ids.length)]!;
      if (from) {
        this.note(`transfer leadership via ${from.id} to ${to}`);
        from.raft!.transferLeadership(to);
        this.afterInput(from);
      }
    }
  }

  private clientPropose(): void {
    const up = this.nodes.filter((n) => n.raft);
    let target = up[this.rng.int(up.length)];
    if (!target) return;
    const value = `v${this.opts.seed}-${this.proposals++}`;
    this.proposed.add(value);
    let result = target.raft!.propose(enc.encode(value));
    if (!result.ok && result.reason === 'notLeader' && result.leaderId !== 0) {
      // The client retries at the leader it was pointed to.
      const leader = this.node(result.leaderId);
      if (leader.raft) {
        target = leader;
        result = leader.raft.propose(enc.encode(value));
      }
    }
    if (result.ok) this.note(`propose ${value} at ${target.id} → index ${result.index}`);
    this.afterInput(target);
  }

  // ---- liveness ----

  /** Heal everything, restart every node, stop faults: a leader must emerge and commit a proposal. */
  private checkLiveness(): void {
    this.chaos = false;
    this.cut.clear();
    this.note('--- liveness: heal all, restart all, reliable network ---');
    for (const n of this.nodes) if (!n.raft) this.start(n);
    // Generous: a follower may be hundreds of entries behind with one entry per append.
    const deadline = this.now + LIVENESS_MS;
    // Each attempt proposes a distinct value (Raft does not deduplicate a client's retries).
    const attempts: string[] = [];
    let nextTry = this.now;
    const applied = (): number | undefined => {
      for (const v of attempts) {
        const index = this.checker.appliedIndexOf(v);
        if (index !== undefined) return index;
      }
      return undefined;
    };
    for (;;) {
      const index = applied();
      if (index !== undefined && this.nodes.every((n) => n.smIndex >= index)) break;
      if (this.now > deadline) {
        const states = this.nodes.map((n) => {
          const s = n.raft!.status();
          return `${n.id}:${s.role}@${s.term} lead=${s.leaderId} commit=${s.commit} applied=${n.smIndex}`;
        });
        throw new InvariantViolation(
          `liveness: ${index !== undefined ? `the final proposal (index ${index}) was not applied everywhere` : 'no final proposal was applied'} ` +
            `within ${LIVENESS_MS} ms after healing [${states.join(', ')}]`,
        );
      }
      if (index === undefined && this.now >= nextTry) {
        nextTry = this.now + 500;
        const leader = this.nodes.find((n) => n.raft!.status().role === 'leader');
        if (leader) {
          const value = `final-${this.opts.seed}-${attempts.length}`;
          attempts.push(value);
          this.proposed.add(value);
          leader.raft!.propose(enc.encode(value));
          this.afterInput(leader);
        }
      }
      this.processNext();
    }
    // Quiesce: the leader's whole log is committed and every node has applied all of it.
    for (;;) {
      const leader = this.nodes.find((n) => n.raft!.status().role === 'leader');
      const end = leader?.raft!.status().lastIndex;
      if (end !== undefined && this.nodes.every((n) => n.smIndex === end)) break;
      if (this.now > deadline) {
        const applied = this.nodes.map((n) => `${n.id}:${n.smIndex}`).join(', ');
        throw new InvariantViolation(`liveness: the cluster did not quiesce (applied ${applied}, leader log end ${end ?? 'no leader'})`);
      }
      this.processNext();
    }
    const [first, ...rest] = this.nodes;
    for (const n of rest) {
      if (n.smDigest !== first!.smDigest)
        throw new InvariantViolation(`after quiescence node ${n.id}'s state differs from node ${first!.id}'s`);
    }
  }

  private note(what: string | Message | (() => string)): void {
    this.recent.push({ time: this.now, what });
    if (this.recent.length > (this.opts.traceLength ?? RECENT)) this.recent.shift();
  }

  private recentEvents(): string[] {
    return this.recent.map(({ time, what }) => {
      const text = typeof what === 'string' ? what : typeof what === 'function' ? what() : `deliver ${describeMessage(what)}`;
      return `t=${time} ${text}`;
    });
  }
}

export function runSimulation(opts: SimOptions): SimStats {
  return new Simulation(opts).run();
}
