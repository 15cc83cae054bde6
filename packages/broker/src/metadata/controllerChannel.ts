/**
 * How a broker reaches the controller quorum (Kafka's NodeToControllerChannelManager, simplified):
 * one gRPC channel per controller, the active controller as last learned, and `callActive`, which
 * sends a request to the active controller and keeps at it — following NOT_CONTROLLER hints,
 * moving on when a controller is unreachable, backing off while the quorum has no leader — until
 * it has an answer or its deadline passes. Reads of the committed log (FetchMetadata) may go to
 * any controller through `call`.
 */
import {
  CHANNEL_OPTIONS,
  ErrorCode,
  controllerProto,
  grpc,
  type BrokerHeartbeatRequest,
  type BrokerHeartbeatResponse__Output,
  type ControllerClient,
  type CreateTopicsRequest,
  type CreateTopicsResponse__Output,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse__Output,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse__Output,
  type DescribeQuorumRequest,
  type DescribeQuorumResponse__Output,
  type FetchMetadataRequest,
  type FetchMetadataResponse__Output,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse__Output,
  type AlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsResponse__Output,
  type ElectLeadersRequest,
  type ElectLeadersResponse__Output,
  type RegisterBrokerRequest,
  type RegisterBrokerResponse__Output,
  type AlterPartitionRequest,
  type AlterPartitionResponse__Output,
  type AllocateProducerIdsRequest,
  type AllocateProducerIdsResponse__Output,
  type CreateAclsRequest,
  type CreateAclsResponse__Output,
  type DeleteAclsRequest,
  type DeleteAclsResponse__Output,
  type AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsResponse__Output,
} from '@samsa/protocol';
import type { Logger } from 'pino';
import type { Timers } from '@samsa/server';

/** One controller quorum voter, as in Kafka's controller.quorum.voters (`id@host:port`). */
export interface ControllerAddress {
  id: number;
  host: string;
  port: number;
}

/** The controller RPCs a broker uses: request and answer types. */
export interface ControllerMethods {
  RegisterBroker: [RegisterBrokerRequest, RegisterBrokerResponse__Output];
  BrokerHeartbeat: [BrokerHeartbeatRequest, BrokerHeartbeatResponse__Output];
  FetchMetadata: [FetchMetadataRequest, FetchMetadataResponse__Output];
  CreateTopics: [CreateTopicsRequest, CreateTopicsResponse__Output];
  DeleteTopics: [DeleteTopicsRequest, DeleteTopicsResponse__Output];
  CreatePartitions: [CreatePartitionsRequest, CreatePartitionsResponse__Output];
  IncrementalAlterConfigs: [IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse__Output];
  DescribeQuorum: [DescribeQuorumRequest, DescribeQuorumResponse__Output];
  ElectLeaders: [ElectLeadersRequest, ElectLeadersResponse__Output];
  AlterPartitionReassignments: [AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse__Output];
  AlterPartition: [AlterPartitionRequest, AlterPartitionResponse__Output];
  AllocateProducerIds: [AllocateProducerIdsRequest, AllocateProducerIdsResponse__Output];
  CreateAcls: [CreateAclsRequest, CreateAclsResponse__Output];
  DeleteAcls: [DeleteAclsRequest, DeleteAclsResponse__Output];
  AlterUserScramCredentials: [AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse__Output];
}
export type ControllerMethod = keyof ControllerMethods;

/** How an answer from a controller reads: done, or sent to the wrong / a leaderless controller. */
export type Verdict =
  | { kind: 'answer' }
  /** NOT_CONTROLLER; leaderId is the hint (-1: unknown) in leaderEpoch (0: unknown). */
  | { kind: 'notController'; leaderId: number; leaderEpoch: number }
  /** CONTROLLER_QUORUM_UNAVAILABLE: reachable, but the quorum cannot serve writes right now. */
  | { kind: 'quorumUnavailable'; message: string };

/** A controller answer's redirect fields (every Controller RPC answer carries them). */
export interface LeaderHint {
  errorCode?: number;
  errorMessage?: string;
  leaderId: number;
  leaderEpoch: number;
}

/** NOT_CONTROLLER → follow leader_id; CONTROLLER_QUORUM_UNAVAILABLE → try elsewhere; anything else is the answer. */
export function verdictOf(res: LeaderHint): Verdict {
  if (res.errorCode === ErrorCode.NOT_CONTROLLER) return { kind: 'notController', leaderId: res.leaderId, leaderEpoch: res.leaderEpoch };
  if (res.errorCode === ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE) return { kind: 'quorumUnavailable', message: res.errorMessage ?? '' };
  return { kind: 'answer' };
}

/**
 * The same for answers whose errors are per item (CreateTopics, DeleteTopics, ...): any item
 * NOT_CONTROLLER / CONTROLLER_QUORUM_UNAVAILABLE means the request went to the wrong place; the
 * answer's own leader_id and leader_epoch say where to send it.
 */
export function verdictOfItems(res: LeaderHint, items: ReadonlyArray<{ errorCode: number; errorMessage: string }>): Verdict {
  for (const r of items) {
    const verdict = verdictOf({
      leaderId: res.leaderId,
      leaderEpoch: res.leaderEpoch,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    });
    if (verdict.kind !== 'answer') return verdict;
  }
  return { kind: 'answer' };
}

/** No controller answered before the deadline. `code` is what callers report (both retriable). */
export class ControllerUnavailableError extends Error {
  constructor(
    readonly code: typeof ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE | typeof ErrorCode.REQUEST_TIMED_OUT,
    message: string,
  ) {
    super(message);
    this.name = 'ControllerUnavailableError';
  }
}

/** The channel was closed while a call was waiting. */
export class ControllerChannelClosedError extends Error {
  constructor() {
    super('the controller channel is closed');
    this.name = 'ControllerChannelClosedError';
  }
}

export interface ControllerChannelOptions {
  controllers: readonly ControllerAddress[];
  logger: Logger;
  timers: Timers;
  /** Bound on one RPC (the long poll adds its wait). Default 5000. */
  requestTimeoutMs?: number;
  /** First retry backoff, doubled per failed round up to retryBackoffMaxMs (Kafka: 100 / 1000). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  random?: () => number;
}

/** gRPC reconnects with exponential backoff up to 120 s by default; a controller that comes back must be found sooner. */
const CONTROLLER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...CHANNEL_OPTIONS,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

export class ControllerChannel {
  readonly controllers: readonly ControllerAddress[];
  private readonly clients = new Map<number, ControllerClient>();
  private readonly inFlight = new Set<grpc.ClientUnaryCall>();
  private readonly sleeping = new Set<() => void>();
  /** The backoffs of callActive, cut short when a new active controller becomes known. */
  private readonly awaitingLeader = new Set<() => void>();
  private readonly requestTimeoutMs: number;
  private readonly retryBackoffMs: number;
  private readonly retryBackoffMaxMs: number;
  private readonly random: () => number;
  private activeId = -1;
  /** The newest controller epoch (Raft term) a hint came with; older hints are stale. */
  private knownEpoch = 0;
  private nextIndex = 0;
  private closed = false;

  constructor(private readonly options: ControllerChannelOptions) {
    if (options.controllers.length === 0) throw new Error('the controller quorum needs at least one voter');
    const ids = new Set(options.controllers.map((c) => c.id));
    if (ids.size !== options.controllers.length) throw new Error('controller voter ids must be distinct');
    this.controllers = [...options.controllers].sort((a, b) => a.id - b.id);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.retryBackoffMaxMs = options.retryBackoffMaxMs ?? 1_000;
    this.random = options.random ?? Math.random;
  }

  /** The active controller as last learned; -1 when unknown. */
  get activeControllerId(): number {
    return this.activeId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Records a leader hint from any answer (every controller answer carries leader_id and
   * leader_epoch). A hint from an epoch older than one already seen is ignored: a lagging
   * controller may still name the leader of a term that has ended. Epoch 0 means unknown and is
   * taken as it is. Returns whether the hint was taken.
   */
  learnLeader(leaderId: number, leaderEpoch = 0): boolean {
    if (leaderEpoch > 0 && leaderEpoch < this.knownEpoch) return false;
    if (leaderId !== -1 && !this.byId(leaderId)) return false;
    if (leaderEpoch > this.knownEpoch) this.knownEpoch = leaderEpoch;
    const learned = leaderId >= 0 && leaderId !== this.activeId;
    this.activeId = leaderId;
    // A request backing off because no controller was active (a broker registering while the
    // quorum elects its first leader) goes to the new one at once, not up to a backoff (1 s) later.
    if (learned) for (const wake of [...this.awaitingLeader]) wake();
    return true;
  }

  /** Forgets the active controller if it is `id` (it failed us). */
  forget(id: number): void {
    if (this.activeId === id) this.activeId = -1;
  }

  /** `target` failed us: forget it as the active controller, and try the voter after it next. */
  failed(target: ControllerAddress): void {
    this.forget(target.id);
    this.advancePast(target);
  }

  byId(id: number): ControllerAddress | undefined {
    return this.controllers.find((c) => c.id === id);
  }

  /** The active controller when known, else the next voter in turn. */
  pickTarget(): ControllerAddress {
    const active = this.activeId >= 0 ? this.byId(this.activeId) : undefined;
    if (active) return active;
    return this.rotate();
  }

  /** The next voter in turn. */
  private rotate(): ControllerAddress {
    const target = this.controllers[this.nextIndex % this.controllers.length]!;
    this.nextIndex = (this.nextIndex + 1) % this.controllers.length;
    return target;
  }

  /** One RPC to one controller, bounded by `timeoutMs`; rejects with the gRPC error. */
  call<M extends ControllerMethod>(
    target: ControllerAddress,
    method: M,
    request: ControllerMethods[M][0],
    timeoutMs = this.requestTimeoutMs,
  ): Promise<ControllerMethods[M][1]> {
    if (this.closed) return Promise.reject(new ControllerChannelClosedError());
    const client = this.client(target);
    return new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, UnaryFn>)[method]!.bind(client);
      const call = fn(request, { deadline: Date.now() + Math.max(1, timeoutMs) }, (err, res) => {
        this.inFlight.delete(call);
        if (this.closed) reject(new ControllerChannelClosedError());
        else if (err) reject(err);
        else resolve(res as ControllerMethods[M][1]);
      });
      this.inFlight.add(call);
    });
  }

  /**
   * Sends a request to the active controller until one answers it (per `judge`) or `deadline`
   * (timers.now() based) passes. `describe` names the request in logs; `makeRequest` gets the time
   * left, for requests that carry their own timeout. Throws ControllerUnavailableError at the
   * deadline, ControllerChannelClosedError on close.
   */
  async callActive<M extends ControllerMethod>(
    method: M,
    makeRequest: (remainingMs: number) => ControllerMethods[M][0],
    judge: (res: ControllerMethods[M][1]) => Verdict,
    deadline: number,
  ): Promise<ControllerMethods[M][1]> {
    const { timers, logger } = this.options;
    let failures = 0;
    let lastProblem = 'no controller was tried';
    let timedOut = false;
    for (;;) {
      if (this.closed) throw new ControllerChannelClosedError();
      const remaining = deadline - timers.now();
      if (remaining <= 0) {
        throw new ControllerUnavailableError(
          timedOut ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE,
          timedOut
            ? `the active controller did not answer in time (${lastProblem})`
            : `no active controller answered in time (${lastProblem})`,
        );
      }
      const target = this.pickTarget();
      const believedActive = this.activeId === target.id;
      let res: ControllerMethods[M][1];
      try {
        res = await this.call(target, method, makeRequest(remaining), Math.min(remaining, this.requestTimeoutMs));
      } catch (err) {
        if (err instanceof ControllerChannelClosedError || this.closed) throw new ControllerChannelClosedError();
        const grpcErr = err as grpc.ServiceError;
        // Only a known active controller that got the request and did not answer makes the
        // outcome unknown (REQUEST_TIMED_OUT); anything else means no controller had it.
        timedOut = grpcErr.code === grpc.status.DEADLINE_EXCEEDED && believedActive;
        lastProblem = `${method} to controller ${describe(target)}: ${grpcErr.details || grpcErr.message}`;
        logger.debug({ controller: target.id, err: grpcErr.details || grpcErr.message }, `${method}: controller unreachable`);
        this.failed(target);
        if (++failures % this.controllers.length === 0) await this.backoff(failures / this.controllers.length, deadline);
        continue;
      }
      timedOut = false;
      const verdict = judge(res);
      if (verdict.kind === 'answer') {
        this.activeId = target.id;
        return res;
      }
      failures++;
      if (verdict.kind === 'notController') {
        const hinted = verdict.leaderId >= 0 && verdict.leaderId !== target.id ? this.byId(verdict.leaderId) : undefined;
        if (hinted && this.learnLeader(hinted.id, verdict.leaderEpoch)) {
          lastProblem = `controller ${target.id} is not the active controller; it named ${hinted.id}`;
          // Follow the hint at once; a hint that keeps bouncing still backs off.
          if (failures > this.controllers.length) await this.backoff(failures - this.controllers.length, deadline);
          continue;
        }
        lastProblem = hinted
          ? `controller ${target.id} is not the active controller; it named ${hinted.id} from an older epoch (${verdict.leaderEpoch})`
          : `controller ${target.id} is not the active controller and knows of none (the quorum has no leader)`;
        this.failed(target);
      } else {
        // That controller sees no leader; another voter may know better.
        lastProblem = `controller ${target.id}: ${verdict.message}`;
        this.failed(target);
      }
      await this.backoff(Math.ceil(failures / this.controllers.length), deadline);
    }
  }

  /** Waits `ms` (cut short by close, and by a call of any waker put in `alsoWokenBy`). */
  sleep(ms: number, alsoWokenBy?: Set<() => void>): Promise<void> {
    if (this.closed || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.sleeping.delete(done);
        alsoWokenBy?.delete(done);
        this.options.timers.clearTimeout(handle);
        resolve();
      };
      const handle = this.options.timers.setTimeout(done, ms);
      this.sleeping.add(done);
      alsoWokenBy?.add(done);
    });
  }

  /** Capped exponential backoff with jitter, never past the deadline. */
  backoffMs(round: number): number {
    const base = Math.min(this.retryBackoffMaxMs, this.retryBackoffMs * 2 ** Math.max(0, Math.min(round - 1, 16)));
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of this.inFlight) call.cancel();
    this.inFlight.clear();
    for (const wake of [...this.sleeping]) wake();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  /** Backs off, cut short by close or by learnLeader learning a new active controller. */
  private async backoff(round: number, deadline: number): Promise<void> {
    await this.sleep(Math.min(this.backoffMs(round), Math.max(0, deadline - this.options.timers.now())), this.awaitingLeader);
  }

  private advancePast(target: ControllerAddress): void {
    const i = this.controllers.indexOf(target);
    if (i >= 0) this.nextIndex = (i + 1) % this.controllers.length;
  }

  private client(target: ControllerAddress): ControllerClient {
    let client = this.clients.get(target.id);
    if (!client) {
      const Ctor = controllerProto().samsa.v1.Controller;
      client = new Ctor(`${target.host}:${target.port}`, grpc.credentials.createInsecure(), CONTROLLER_CHANNEL_OPTIONS);
      this.clients.set(target.id, client);
    }
    return client;
  }
}

type UnaryFn = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, res?: unknown) => void,
) => grpc.ClientUnaryCall;

export function describe(c: ControllerAddress): string {
  return `${c.id} at ${c.host}:${c.port}`;
}

/** The sentence of a failed controller call, for logs (gRPC puts it in `details`). */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'details' in err && typeof err.details === 'string' && err.details) return err.details;
  return err instanceof Error ? err.message : String(err);
}
