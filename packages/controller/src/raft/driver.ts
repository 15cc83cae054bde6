// The Raft driver: real time and I/O around the pure RaftNode. A tick timer, inbound messages
// stepped as they arrive, and ONE async ready loop (never two Readys in flight) that honours the
// Ready contract: persist (one synced LevelDB batch) → send → apply → maybe snapshot → advance.
import type { Timers } from '@samsa/server';
import type { Entry, Message, NodeId, ProposeResult, RaftNode, Snapshot, Status } from '@samsa/raft';
import type { ControllerLogger } from '../node/logger.js';
import type { LevelRaftStorage } from './levelStorage.js';

/** The replicated state machine the driver applies committed entries to. */
export interface StateMachine {
  /** Replace the whole state by a snapshot received from the leader (already durable). */
  restore(snapshot: Snapshot): void;
  /** Apply committed entries, in index order (already durable). */
  apply(entries: readonly Entry[]): void;
  /** The state as of the last applied entry, for a local snapshot. */
  snapshotData(): Uint8Array;
  /** After every Ready: role, leader, commit or applied index may have changed. */
  afterReady(): void;
}

export interface RaftDriverOptions {
  readonly node: RaftNode;
  readonly storage: LevelRaftStorage;
  readonly transport: { send(messages: readonly Message[]): void };
  readonly stateMachine: StateMachine;
  readonly voters: readonly NodeId[];
  readonly tickMs: number;
  /** The node's clock: the tick interval runs on it. */
  readonly timers: Timers;
  /** Take a snapshot (and compact the log) every this many applied entries. */
  readonly snapshotEveryEntries: number;
  readonly logger: ControllerLogger;
  /** The store failed (nothing of the failed Ready was sent) or a core invariant broke: the node stops serving. */
  readonly onFatal: (err: unknown) => void;
}

export class RaftDriver {
  private readonly node: RaftNode;
  private timer: unknown;
  private scheduled = false;
  private running = false;
  private stopped = false;
  private failed = false;
  private loopDone: Promise<void> = Promise.resolve();
  private appliedIndex: number;

  constructor(private readonly options: RaftDriverOptions) {
    this.node = options.node;
    this.appliedIndex = options.storage.snapshot().metadata.index;
  }

  /** The last entry applied to the state machine (the snapshot's index right after a restore). */
  get applied(): number {
    return this.appliedIndex;
  }

  get healthy(): boolean {
    return !this.stopped && !this.failed;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = this.options.timers.setInterval(() => this.local('tick', () => this.node.tick()), this.options.tickMs);
    // Committed entries after the snapshot are re-applied on start.
    this.kick();
  }

  /** A message from a peer. A malformed one is logged and dropped; it never stops the driver. */
  step(m: Message): void {
    if (!this.healthy) return;
    try {
      this.node.step(m);
    } catch (err) {
      this.options.logger.error({ err, type: m.type, from: m.from }, 'raft rejected a message');
    }
    this.kick();
  }

  propose(data: Uint8Array): ProposeResult {
    let result: ProposeResult = { ok: false, reason: 'notLeader', leaderId: 0 };
    this.local('propose', () => {
      result = this.node.propose(data);
    });
    return result;
  }

  /** Starts an election now, as if the election timer had fired (pre-vote first, as configured). */
  campaign(): void {
    this.local('campaign', () => this.node.campaign());
  }

  transferLeadership(to: NodeId): void {
    this.local('transferLeadership', () => this.node.transferLeadership(to));
  }

  reportUnreachable(peer: NodeId): void {
    this.local('reportUnreachable', () => this.node.reportUnreachable(peer));
  }

  reportSnapshot(peer: NodeId, ok: boolean): void {
    this.local('reportSnapshot', () => this.node.reportSnapshot(peer, ok));
  }

  status(): Status {
    return this.node.status();
  }

  /** Stops ticking and waits for the Ready in flight (if any) to finish; nothing runs afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.timers.clearInterval(this.timer);
    this.timer = undefined;
    await this.loopDone;
  }

  /**
   * A local event (tick, proposal, transport report). The core throws only when one of its own
   * invariants breaks; going on could be unsafe, so that stops this node (fatal, logged), never
   * the process.
   */
  private local(what: string, event: () => void): void {
    if (!this.healthy) return;
    try {
      event();
    } catch (err) {
      this.options.logger.error({ err, event: what }, 'raft core invariant failed');
      this.fail(err);
      return;
    }
    this.kick();
  }

  private kick(): void {
    if (!this.healthy || this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate, not a microtask: messages that arrive together land in one Ready (one fsync).
    setImmediate(() => {
      this.scheduled = false;
      this.loopDone = this.loop();
    });
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.healthy && this.node.hasReady()) {
        const rd = this.node.ready()!;
        try {
          await this.options.storage.persist(rd);
        } catch (err) {
          this.fail(err);
          return;
        }
        if (this.stopped) return;
        this.options.transport.send(rd.messages);
        const sm = this.options.stateMachine;
        if (rd.snapshot) {
          sm.restore(rd.snapshot);
          this.appliedIndex = rd.snapshot.metadata.index;
        }
        if (rd.committedEntries.length > 0) {
          sm.apply(rd.committedEntries);
          this.appliedIndex = rd.committedEntries[rd.committedEntries.length - 1]!.index;
        }
        await this.maybeSnapshot();
        this.node.advance(rd);
        sm.afterReady();
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.running = false;
    }
  }

  private async maybeSnapshot(): Promise<void> {
    const { storage, snapshotEveryEntries, stateMachine, voters, logger } = this.options;
    const last = storage.snapshot().metadata.index;
    if (this.appliedIndex - last < snapshotEveryEntries) return;
    const index = this.appliedIndex;
    const started = this.options.timers.now();
    try {
      const snapshot = await storage.createSnapshot(index, stateMachine.snapshotData(), voters);
      logger.info(
        { index, term: snapshot.metadata.term, bytes: snapshot.data.byteLength, ms: this.options.timers.now() - started },
        'metadata snapshot taken; raft log compacted',
      );
    } catch (err) {
      // Not a safety problem (the log is still whole); the next Ready's write will tell if the store is gone.
      logger.error({ err, index }, 'taking a metadata snapshot failed');
    }
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    if (this.timer !== undefined) this.options.timers.clearInterval(this.timer);
    this.timer = undefined;
    this.options.logger.error({ err }, 'this controller stops: its raft log can no longer be trusted (restart it)');
    this.options.onFatal(err);
  }
}
