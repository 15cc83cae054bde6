/**
 * A controller node: the Raft driver (LevelDB storage, gRPC transport) with the metadata state
 * machine applied on top, the write queue, and the Raft and Controller gRPC services on one port.
 * The design (states, message flow, persistence order) is in ../README.md.
 */
import { randomInt } from 'node:crypto';
import { realTimers, type Timers } from '@samsa/server';
import { join } from 'node:path';
import { MetadataImage, decodeMetadataEntry, encodeMetadataEntry } from '@samsa/metadata';
import { CHANNEL_OPTIONS, ErrorCode, SeededRng, controllerProto, grpc, raftProto } from '@samsa/protocol';
import { PipelineHub, instrumentServer, pipelinedHandler } from '@samsa/server';
import type { MetadataDelta } from '@samsa/metadata';
import type { RaftEnvelope__Output, RaftHandlers, RaftSendResponse } from '@samsa/protocol';
import { NO_NODE, RaftNode } from '@samsa/raft';
import type { Entry, NodeId, ProposeResult, Snapshot } from '@samsa/raft';
import type { Registry } from 'prom-client';
import { QuorumController } from '../metadata/index.js';
import { RaftDriver } from '../raft/driver.js';
import type { StateMachine } from '../raft/driver.js';
import { LevelRaftStorage } from '../raft/levelStorage.js';
import { RaftTransport } from '../raft/transport.js';
import { fromWireMessage } from '../raft/wire.js';
import { controllerServiceHandlers } from './controllerService.js';
import type { ControllerServiceContext, MetadataLogRead, QuorumDescription } from './controllerService.js';
import type { ControllerLogger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { WriteQueue } from './writeQueue.js';
import type { ActiveState, WriteContext, WriteFailure } from './writeQueue.js';

export interface ControllerVoter {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface ControllerNodeConfig {
  readonly nodeId: number;
  readonly listenHost: string;
  /** 0 picks a free port (only useful when the other voters learn it some other way). */
  readonly listenPort: number;
  readonly advertisedHost?: string;
  readonly advertisedPort?: number;
  /** LevelDB lives under <dataDir>/raft (hard state, entries, snapshot). */
  readonly dataDir: string;
  /** Every voter, this node included (--controller-quorum-voters 1@h:p,2@h:p,3@h:p). */
  readonly voters: readonly ControllerVoter[];
  /** pino's Logger fits. */
  readonly logger: ControllerLogger;
  /** Default 50; electionTicks 10, heartbeatTicks 1. */
  readonly tickMs?: number;
  /** Kafka's broker.session.timeout.ms; default 9000. */
  readonly brokerSessionTimeoutMs?: number;
  /** Default 1000: snapshot the image and compact the Raft log this often (in applied entries). */
  readonly snapshotEveryEntries?: number;
  readonly defaultNumPartitions?: number;
  readonly defaultReplicationFactor?: number;
  /** Seeds the election-timeout randomness; random by default. */
  readonly rngSeed?: number;
  /** Kafka's auto.leader.rebalance.enable; default true. */
  readonly autoLeaderRebalanceEnable?: boolean;
  /** Kafka's leader.imbalance.check.interval.seconds, in ms; default 300000. */
  readonly leaderImbalanceCheckIntervalMs?: number;
  /** Kafka's leader.imbalance.per.broker.percentage; default 10. */
  readonly leaderImbalancePerBrokerPercentage?: number;
  /** Registers the controller's metrics (metrics.ts) and instruments its gRPC services; none without it. */
  readonly metrics?: Registry;
  /**
   * The node's one clock: Raft ticks, broker sessions, fencing and rebalancing intervals, write
   * and long-poll timeouts. Real time by default; tests pass their own to drive or observe it.
   */
  readonly timers?: Timers;
}

export interface CloseOptions {
  /**
   * Hand leadership to the most caught-up voter first (bounded by ~1 s). Default true; false stops
   * at once, as a crash right after the last completed write would (for tests and chaos).
   */
  readonly transferLeadership?: boolean;
}

export interface ControllerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  /** This node is the Raft leader and has applied its own term's first entry. */
  isActive(): boolean;
  /** The Raft leader as this node knows it; -1 when unknown. */
  leaderId(): number;
  /** The committed metadata image. */
  image(): MetadataImage;
  close(options?: CloseOptions): Promise<void>;
}

export const DEFAULT_TICK_MS = 50;
export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 1;
export const DEFAULT_BROKER_SESSION_TIMEOUT_MS = 9_000;
export const DEFAULT_SNAPSHOT_EVERY_ENTRIES = 1_000;
export const DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_MS = 300_000;
export const DEFAULT_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE = 10;
/** FetchMetadata never holds a call longer than this. */
export const MAX_FETCH_WAIT_MS = 5_000;
const DEFAULT_FETCH_MAX_ENTRIES = 1_000;
const FETCH_MAX_BYTES = 4 * 1024 * 1024;
const TRANSFER_WAIT_MS = 1_000;

export async function startControllerNode(config: ControllerNodeConfig): Promise<ControllerNode> {
  validateConfig(config);
  const voterIds = config.voters.map((v) => v.id);
  const storage = await LevelRaftStorage.open(join(config.dataDir, 'raft'), voterIds);
  let node: ControllerNodeImpl;
  try {
    node = new ControllerNodeImpl(config, storage);
    // prom-client is loaded only when metrics are asked for (it costs ~100 ms of start-up CPU).
    if (config.metrics) node.useMetrics(new (await import('./metrics.js')).ControllerMetrics(config.metrics, node));
  } catch (err) {
    await storage.close();
    throw err;
  }
  try {
    await node.start();
  } catch (err) {
    await node.close({ transferLeadership: false }).catch(() => undefined);
    throw err;
  }
  return node;
}

function validateConfig(config: ControllerNodeConfig): void {
  const ids = config.voters.map((v) => v.id);
  if (!Number.isInteger(config.nodeId) || config.nodeId <= 0)
    throw new Error(`controller node id must be a positive integer, got ${config.nodeId}`);
  if (ids.some((id) => !Number.isInteger(id) || id <= 0))
    throw new Error(`controller quorum voter ids must be positive integers, got ${ids.join(',')}`);
  if (new Set(ids).size !== ids.length) throw new Error(`controller quorum voters name an id twice: ${ids.join(',')}`);
  if (!ids.includes(config.nodeId)) throw new Error(`node ${config.nodeId} is not among the controller quorum voters (${ids.join(',')})`);
}

interface ProposalWaiter {
  readonly term: number;
  readonly resolve: (applied: boolean) => void;
}

interface AppliedWaiter {
  readonly index: number;
  readonly resolve: () => void;
}

class ControllerNodeImpl implements ControllerNode, StateMachine, WriteContext, ControllerServiceContext {
  readonly nodeId: number;
  host: string;
  port = 0;
  readonly logger: ControllerLogger;
  readonly controller: QuorumController;
  readonly queue: WriteQueue;
  private readonly sessionTimeoutMs: number;
  private readonly voterIds: readonly NodeId[];
  private readonly raft: RaftNode;
  private readonly driver: RaftDriver;
  private readonly transport: RaftTransport;
  private readonly server: grpc.Server;
  /** Open Raft SendStreams from peers, ended on shutdown so tryShutdown can finish. */
  private readonly pipelines = new PipelineHub();

  /** The term this node leads (undefined when not leader). */
  private leaderTerm: number | undefined;
  private active = false;
  private lastAppliedTerm: number;
  private leaderHint: NodeId = NO_NODE;
  private closing: Promise<void> | undefined;
  private readonly timers: Timers;
  private fenceTimer: unknown;
  private fenceQueued = false;
  private rebalanceTimer: unknown;
  private rebalanceQueued = false;
  private readonly proposals = new Map<number, ProposalWaiter>();
  private metrics: ControllerMetrics | undefined;
  /** With metrics: when each of this leader's proposals was made (Raft index → term and hrtime). */
  private readonly proposedAt = new Map<number, { term: number; at: bigint }>();
  private activeWaiters = new Set<() => void>();
  private appliedWaiters = new Set<AppliedWaiter>();

  constructor(
    private readonly config: ControllerNodeConfig,
    private readonly storage: LevelRaftStorage,
  ) {
    this.nodeId = config.nodeId;
    this.host = config.advertisedHost ?? config.listenHost;
    this.logger = config.logger;
    this.timers = config.timers ?? realTimers;
    this.sessionTimeoutMs = config.brokerSessionTimeoutMs ?? DEFAULT_BROKER_SESSION_TIMEOUT_MS;
    this.voterIds = config.voters.map((v) => v.id);
    this.controller = new QuorumController({
      ...(config.defaultNumPartitions === undefined ? {} : { defaultNumPartitions: config.defaultNumPartitions }),
      ...(config.defaultReplicationFactor === undefined ? {} : { defaultReplicationFactor: config.defaultReplicationFactor }),
    });
    const snapshot = storage.snapshot();
    this.lastAppliedTerm = snapshot.metadata.term;
    if (snapshot.metadata.index > 0) this.restoreImage(snapshot);
    this.raft = new RaftNode({
      id: this.nodeId,
      voters: this.voterIds,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      rng: new SeededRng(config.rngSeed ?? randomInt(2 ** 31)),
      storage,
      preVote: true,
      checkQuorum: true,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 64,
    });
    this.transport = new RaftTransport({
      selfId: this.nodeId,
      peers: config.voters,
      logger: this.logger,
      reports: {
        unreachable: (peer) => this.driver.reportUnreachable(peer),
        snapshotSent: (peer, ok) => this.driver.reportSnapshot(peer, ok),
      },
    });
    this.driver = new RaftDriver({
      node: this.raft,
      storage,
      transport: this.transport,
      stateMachine: this,
      voters: this.voterIds,
      tickMs: config.tickMs ?? DEFAULT_TICK_MS,
      timers: this.timers,
      snapshotEveryEntries: config.snapshotEveryEntries ?? DEFAULT_SNAPSHOT_EVERY_ENTRIES,
      logger: this.logger,
      onFatal: () => this.loseLeadership('the raft driver stopped on a fatal error'),
    });
    this.queue = new WriteQueue(this, this.timers);
    this.server = new grpc.Server(CHANNEL_OPTIONS);
  }

  /** Before start(): report to these metrics and instrument the gRPC services. */
  useMetrics(metrics: ControllerMetrics): void {
    this.metrics = metrics;
    instrumentServer(this.server, metrics.rpc);
  }

  get selfId(): number {
    return this.nodeId;
  }

  async start(): Promise<void> {
    this.server.addService(raftProto().samsa.v1.Raft.service, this.raftHandlers());
    this.server.addService(controllerProto().samsa.v1.Controller.service, controllerServiceHandlers(this));
    const { listenHost, listenPort } = this.config;
    const bound = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${listenHost}:${listenPort}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new Error(`controller ${this.nodeId} cannot listen on ${listenHost}:${listenPort}: ${err.message}`)) : resolve(port),
      ),
    );
    this.port = this.config.advertisedPort ?? bound;
    this.driver.start();
    // The first election at once rather than one randomized election timeout (0.5-1 s) after
    // start: when the voters start together (`samsa cluster up`, compose), the last of them to
    // come up finds the others listening and no leader, and its pre-vote wins; a voter that finds
    // its peers not up yet (or a live leader, whose followers refuse a pre-vote while in its
    // lease) stays where it was and campaigns again after its randomized timeout, as before. Only
    // liveness timing changes: votes and terms follow Raft as always (pre-vote does not move the term).
    if (this.voterIds.includes(this.nodeId)) this.driver.campaign();
    const hs = this.storage.hardState();
    this.logger.info(
      {
        nodeId: this.nodeId,
        port: bound,
        voters: this.voterIds,
        term: hs.term,
        commit: hs.commit,
        snapshotIndex: this.storage.snapshot().metadata.index,
        lastIndex: this.storage.lastIndex(),
      },
      'controller started',
    );
  }

  // ---- ControllerNode ----

  isActive(): boolean {
    return this.active;
  }

  leaderId(): number {
    const leader = this.driver.status().leaderId;
    return leader === NO_NODE ? -1 : leader;
  }

  image(): MetadataImage {
    return this.controller.image;
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.transferLeadership ?? true);
    return this.closing;
  }

  private async shutdown(transfer: boolean): Promise<void> {
    if (transfer) await this.transferLeadershipAway();
    this.loseLeadership('the controller is shutting down');
    this.wakeAppliedWaiters(true);
    await this.driver.stop();
    this.transport.close();
    this.pipelines.drain();
    await new Promise<void>((resolve) => {
      const force = this.timers.setTimeout(
        () => {
          this.server.forceShutdown();
          resolve();
        },
        transfer ? 500 : 0,
      );
      this.server.tryShutdown(() => {
        this.timers.clearTimeout(force);
        resolve();
      });
    });
    await this.storage.close();
    this.logger.info({ nodeId: this.nodeId }, 'controller stopped');
  }

  /** Hands leadership to the voter with the most of the log, waiting at most ~1 s for it to take over. */
  private async transferLeadershipAway(): Promise<void> {
    const status = this.driver.status();
    if (status.role !== 'leader') return;
    const target = status.progress.filter((p) => p.id !== this.nodeId).sort((a, b) => b.match - a.match || a.id - b.id)[0];
    if (target === undefined) return;
    const started = this.timers.now();
    this.logger.info(
      { to: target.id, match: target.match, lastIndex: status.lastIndex },
      'transferring controller leadership before shutdown',
    );
    this.driver.transferLeadership(target.id);
    while (this.timers.now() - started < TRANSFER_WAIT_MS && this.driver.status().role === 'leader') await this.sleep(5);
    const handedOver = this.driver.status().role !== 'leader';
    this.logger.info(
      { to: target.id, ms: this.timers.now() - started, handedOver },
      handedOver ? 'leadership transferred' : 'leadership transfer did not finish in time',
    );
  }

  // ---- StateMachine (called by the driver's ready loop) ----

  restore(snapshot: Snapshot): void {
    this.restoreImage(snapshot);
    this.lastAppliedTerm = snapshot.metadata.term;
    // Whatever we proposed at or below the snapshot: its fate is unknown here.
    for (const [index, waiter] of this.proposals) {
      if (index <= snapshot.metadata.index) {
        this.proposals.delete(index);
        waiter.resolve(false);
      }
    }
    this.logger.info({ index: snapshot.metadata.index, term: snapshot.metadata.term }, 'installed a metadata snapshot from the leader');
  }

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (this.proposedAt.size > 0) this.observeCommit(entry);
      if (entry.type === 'normal' && entry.data.byteLength > 0) this.replayEntry(entry);
      this.lastAppliedTerm = entry.term;
      const waiter = this.proposals.get(entry.index);
      if (waiter !== undefined) {
        this.proposals.delete(entry.index);
        waiter.resolve(waiter.term === entry.term);
      }
    }
  }

  /** Commit latency of this leader's own proposal (the driver applies an entry in the Ready that commits it). */
  private observeCommit(entry: Entry): void {
    const proposed = this.proposedAt.get(entry.index);
    if (proposed === undefined) return;
    this.proposedAt.delete(entry.index);
    if (proposed.term === entry.term) this.metrics?.commitLatency.observe(Number(process.hrtime.bigint() - proposed.at) / 1e9);
  }

  snapshotData(): Uint8Array {
    return encodeMetadataEntry(this.controller.image.toSnapshot());
  }

  afterReady(): void {
    this.syncLeadership();
    this.wakeAppliedWaiters(false);
  }

  private replayEntry(entry: Entry): void {
    let records;
    try {
      records = decodeMetadataEntry(entry.data);
    } catch (err) {
      this.logger.error({ err, index: entry.index }, 'undecodable metadata entry skipped');
      return;
    }
    for (const record of records) {
      try {
        const delta = this.controller.replay(record, entry.index, entry.term);
        if (this.active) this.warnUnclean(delta);
      } catch (err) {
        // The active controller validated these records against the same image, so this is a bug;
        // the image is unchanged by a failed replay, and every controller skips the same record.
        this.logger.error({ err, index: entry.index, record: record.type }, 'metadata record failed to replay; skipped');
      }
    }
  }

  /** DESIGN.md: an unclean leader election is logged as a warning (acknowledged writes may be lost). */
  private warnUnclean(delta: MetadataDelta): void {
    for (const p of delta.partitionsChanged) {
      if (!p.unclean || !p.after) continue;
      this.logger.warn(
        {
          topic: p.topic,
          partition: p.partition,
          leader: p.after.leader,
          leaderEpoch: p.after.leaderEpoch,
          replicas: p.after.replicas,
          previousLeader: p.before?.leader,
          previousIsr: p.before?.isr,
          offset: delta.offset,
        },
        'unclean leader election: the new leader was not in the ISR; acknowledged records it lacks are lost (the brokers log the offsets)',
      );
    }
  }

  private restoreImage(snapshot: Snapshot): void {
    this.controller.loadSnapshot(decodeMetadataEntry(snapshot.data), snapshot.metadata.index, snapshot.metadata.term);
  }

  // ---- leadership ----

  private syncLeadership(): void {
    const status = this.driver.status();
    this.leaderHint = status.leaderId;
    const leading = status.role === 'leader' && this.driver.healthy && this.closing === undefined;
    if (this.leaderTerm !== undefined && (!leading || status.term !== this.leaderTerm)) {
      this.loseLeadership(`no longer the raft leader (role ${status.role}, term ${status.term})`);
    }
    if (leading && this.leaderTerm === undefined) {
      this.leaderTerm = status.term;
      this.logger.info({ term: status.term }, 'elected controller leader; waiting for the no-op of its term to commit');
    }
    if (leading && !this.active && this.lastAppliedTerm === status.term) this.activate(status.term);
  }

  private activate(term: number): void {
    this.active = true;
    this.controller.activate(this.timers.now());
    this.logger.info({ term, applied: this.driver.applied }, 'this controller is active');
    const period = Math.max(10, Math.floor(this.sessionTimeoutMs / 4));
    this.fenceTimer = this.timers.setInterval(() => this.fenceStaleBrokers(), period);
    if (this.config.autoLeaderRebalanceEnable ?? true) {
      const interval = Math.max(10, this.config.leaderImbalanceCheckIntervalMs ?? DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_MS);
      this.rebalanceTimer = this.timers.setInterval(() => this.rebalanceLeaders(), interval);
    }
    this.wakeActiveWaiters();
  }

  private loseLeadership(reason: string): void {
    if (this.fenceTimer !== undefined) this.timers.clearInterval(this.fenceTimer);
    this.fenceTimer = undefined;
    if (this.rebalanceTimer !== undefined) this.timers.clearInterval(this.rebalanceTimer);
    this.rebalanceTimer = undefined;
    if (this.active) this.logger.info({ reason }, 'this controller is no longer active');
    this.active = false;
    this.leaderTerm = undefined;
    for (const waiter of this.proposals.values()) waiter.resolve(false);
    this.proposals.clear();
    this.proposedAt.clear();
    this.wakeActiveWaiters();
  }

  private fenceStaleBrokers(): void {
    if (!this.active || this.fenceQueued) return;
    this.fenceQueued = true;
    void this.queue
      .submit('FenceStaleBrokers', () => this.controller.fenceStaleBrokers(this.timers.now(), this.sessionTimeoutMs), this.sessionTimeoutMs)
      .then((outcome) => {
        if (outcome.ok && outcome.response.fencedBrokers.length > 0) {
          this.logger.info(
            { brokers: outcome.response.fencedBrokers, sessionTimeoutMs: this.sessionTimeoutMs },
            'fenced brokers whose session expired',
          );
        }
      })
      .finally(() => {
        this.fenceQueued = false;
      });
  }

  /**
   * Automatic preferred-leader rebalancing (Kafka's auto.leader.rebalance.enable): a preferred
   * election for the partitions QuorumController.imbalancedPartitions picks.
   */
  private rebalanceLeaders(): void {
    if (!this.active || this.rebalanceQueued) return;
    this.rebalanceQueued = true;
    const percentage = this.config.leaderImbalancePerBrokerPercentage ?? DEFAULT_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE;
    void this.queue
      .submit('RebalanceLeaders', () => this.controller.rebalanceLeaders(percentage), this.sessionTimeoutMs)
      .then((outcome) => {
        if (!outcome.ok || outcome.response.results.length === 0) return;
        const elected = outcome.response.results.filter((r) => r.errorCode === 0).map((r) => `${r.topic}-${r.partition}`);
        if (elected.length > 0)
          this.logger.info({ partitions: elected, percentage }, 'automatic rebalancing moved leadership back to preferred replicas');
      })
      .finally(() => {
        this.rebalanceQueued = false;
      });
  }

  // ---- WriteContext (the write queue's view) ----

  isLeader(): boolean {
    return this.closing === undefined && this.driver.healthy && this.driver.status().role === 'leader';
  }

  awaitActive(deadline: number): Promise<ActiveState> {
    if (this.active) return Promise.resolve('active');
    if (!this.isLeader()) return Promise.resolve('notActive');
    return new Promise<ActiveState>((resolve) => {
      const wake = (): void => {
        this.timers.clearTimeout(timer);
        this.activeWaiters.delete(wake);
        resolve(this.active ? 'active' : this.isLeader() ? 'timeout' : 'notActive');
      };
      const timer = this.timers.setTimeout(wake, Math.max(0, deadline - this.timers.now()));
      this.activeWaiters.add(wake);
    });
  }

  propose(data: Uint8Array): ProposeResult {
    if (!this.active) return { ok: false, reason: 'notLeader', leaderId: this.leaderHint };
    const result = this.driver.propose(data);
    if (result.ok && this.metrics) this.proposedAt.set(result.index, { term: result.term, at: process.hrtime.bigint() });
    return result;
  }

  awaitApplied(index: number, term: number): Promise<boolean> {
    if (!this.active) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => this.proposals.set(index, { term, resolve }));
  }

  notActive(): WriteFailure {
    const leader = this.driver.status().leaderId;
    const leaderEpoch = this.leaderEpoch();
    if (leader === NO_NODE) {
      return {
        errorCode: ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE,
        leaderId: -1,
        leaderEpoch,
        errorMessage: 'the controller quorum has no leader right now; try again shortly',
      };
    }
    if (leader === this.nodeId) {
      // Elected but not (or no longer) serving: not yet active, handing over, or shutting down.
      return {
        errorCode: ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE,
        leaderId: -1,
        leaderEpoch,
        errorMessage: `controller ${this.nodeId} is not serving writes right now (election, handover or shutdown); try again shortly`,
      };
    }
    // The sentence is for people; brokers follow leader_id and leader_epoch.
    return {
      errorCode: ErrorCode.NOT_CONTROLLER,
      leaderId: leader,
      leaderEpoch,
      errorMessage: `controller ${this.nodeId} is not the active controller; the active controller is node ${leader}`,
    };
  }

  now(): number {
    return this.timers.now();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, ms));
  }

  leaderEpoch(): number {
    return this.driver.status().term;
  }

  private wakeActiveWaiters(): void {
    const waiters = this.activeWaiters;
    this.activeWaiters = new Set();
    for (const wake of waiters) wake();
  }

  // ---- reads ----

  /** Raft's log end (the next write lands at lastIndex + 1: a registering broker's epoch). */
  raftLastIndex(): number {
    return this.driver.status().lastIndex;
  }

  describeQuorum(): QuorumDescription {
    const status = this.driver.status();
    if (status.role !== 'leader') {
      const failure = this.notActive();
      return { ...failure, leaderEpoch: status.term, highWatermark: status.commit, voters: [] };
    }
    const voters = [...status.progress].sort((a, b) => a.id - b.id).map((p) => ({ voterId: p.id, logEndOffset: p.match + 1, lag: p.lag }));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: '',
      leaderId: this.nodeId,
      leaderEpoch: status.term,
      highWatermark: status.commit,
      voters,
    };
  }

  /**
   * The committed (applied) log from `fromOffset`: waits up to `maxWaitMs` for an entry at or after
   * it, then answers with a snapshot if `fromOffset` was compacted away, and the entries after.
   */
  async readMetadataLog(fromOffset: number, maxWaitMs: number, maxEntries: number, cancelled: Promise<void>): Promise<MetadataLogRead> {
    const wait = Math.min(Math.max(0, maxWaitMs), MAX_FETCH_WAIT_MS);
    if (fromOffset > this.driver.applied && wait > 0 && this.closing === undefined) {
      await this.awaitAppliedIndex(fromOffset, wait, cancelled);
    }
    const applied = this.driver.applied;
    const snapshot = this.storage.snapshot();
    const first = this.storage.firstIndex();
    const read: MetadataLogRead = {
      hasSnapshot: false,
      snapshotOffset: 0,
      snapshot: new Uint8Array(0),
      entries: [],
      highWatermark: applied,
    };
    let start = Math.max(fromOffset, first);
    if (fromOffset < first && snapshot.metadata.index > 0) {
      read.hasSnapshot = true;
      read.snapshotOffset = snapshot.metadata.index;
      read.snapshot = snapshot.data;
      start = snapshot.metadata.index + 1;
    }
    const end = Math.min(applied, this.storage.lastIndex(), start + (maxEntries > 0 ? maxEntries : DEFAULT_FETCH_MAX_ENTRIES) - 1);
    if (start <= end) {
      read.entries = this.storage.entries(start, end + 1, FETCH_MAX_BYTES).map((e) => ({ offset: e.index, term: e.term, data: e.data }));
    }
    return read;
  }

  private awaitAppliedIndex(index: number, waitMs: number, cancelled: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter: AppliedWaiter = {
        index,
        resolve: () => {
          this.timers.clearTimeout(timer);
          this.appliedWaiters.delete(waiter);
          resolve();
        },
      };
      const timer = this.timers.setTimeout(waiter.resolve, waitMs);
      this.appliedWaiters.add(waiter);
      void cancelled.then(waiter.resolve);
    });
  }

  private wakeAppliedWaiters(all: boolean): void {
    if (this.appliedWaiters.size === 0) return;
    const applied = this.driver.applied;
    for (const waiter of [...this.appliedWaiters]) if (all || waiter.index <= applied) waiter.resolve();
  }

  // ---- the Raft service ----

  private raftHandlers(): RaftHandlers {
    const voters = new Set(this.voterIds);
    const receive = (envelope: RaftEnvelope__Output): RaftSendResponse => {
      if (envelope.to !== this.nodeId || !voters.has(envelope.from)) {
        return {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `this is controller ${this.nodeId}; a batch from ${envelope.from} to ${envelope.to} is not for it`,
        };
      }
      try {
        for (const wire of envelope.messages) {
          const m = fromWireMessage(wire);
          if (m !== undefined && m.from === envelope.from && m.to === this.nodeId) this.driver.step(m);
        }
        return { errorCode: ErrorCode.NONE };
      } catch (err) {
        this.logger.warn({ err, from: envelope.from }, 'malformed raft batch dropped');
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: err instanceof Error ? err.message : String(err) };
      }
    };
    return {
      Send: (call, callback) => callback(null, receive(call.request)),
      // The same batches over one stream per peer (proto/samsa/v1/pipeline.proto); ended on shutdown.
      SendStream: pipelinedHandler('SendStream', receive, { hub: this.pipelines }),
    };
  }
}
