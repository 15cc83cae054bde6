// A cluster of in-process controller nodes over real gRPC on 127.0.0.1, with pre-picked free
// ports (leased from @samsa/testkit) and temporary data directories (removed by `destroy`). Every wait is bounded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNEL_OPTIONS, controllerProto, grpc } from '@samsa/protocol';
import { RecordingTimers, freePorts, waitFor, type ManualTimers } from '@samsa/testkit';
import type { ControllerClient, CreateTopicsResponse__Output } from '@samsa/protocol';
import { startControllerNode } from '../../src/index.js';
import type { ControllerLogger, ControllerNode, ControllerNodeConfig } from '../../src/index.js';

const noop = (): void => undefined;
export const silentLogger: ControllerLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** A logger that keeps every message (for asserting that a code path ran). */
export function recordingLogger(): ControllerLogger & { readonly messages: string[] } {
  const messages: string[] = [];
  const log = (objOrMsg: object | string, msg?: string): void => {
    messages.push(typeof objOrMsg === 'string' ? objOrMsg : (msg ?? ''));
  };
  return { messages, debug: log, info: log, warn: log, error: log };
}

/**
 * Resolves once every promise continuation queued so far (and any it queues) has run: for code
 * driven only by promises and a manual clock (testkit's manualTimers), whatever can happen now has happened.
 */
export function quiescent(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export type ClusterOptions = Partial<
  Pick<
    ControllerNodeConfig,
    | 'tickMs'
    | 'brokerSessionTimeoutMs'
    | 'snapshotEveryEntries'
    | 'defaultReplicationFactor'
    | 'defaultNumPartitions'
    | 'autoLeaderRebalanceEnable'
    | 'leaderImbalanceCheckIntervalMs'
    | 'leaderImbalancePerBrokerPercentage'
  >
>;

export class TestCluster {
  readonly nodes = new Map<number, ControllerNode>();
  /** Each node's clock (real time, timers recorded), kept across restarts of that node. */
  readonly timers = new Map<number, RecordingTimers>();
  private readonly clients = new Map<number, ControllerClient>();

  private constructor(
    readonly ids: readonly number[],
    readonly ports: ReadonlyMap<number, number>,
    readonly dirs: ReadonlyMap<number, string>,
    readonly options: ClusterOptions,
    /** One clock the test moves for every node (testkit's manualTimers), or real time when absent. */
    readonly clock: ManualTimers | undefined,
  ) {}

  static async create(size: number, options: ClusterOptions = {}, clock?: ManualTimers): Promise<TestCluster> {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const ports = await freePorts(size);
    return new TestCluster(
      ids,
      new Map(ids.map((id, i) => [id, ports[i]!])),
      new Map(ids.map((id) => [id, mkdtempSync(join(tmpdir(), `samsa-controller-${id}-`))])),
      options,
      clock,
    );
  }

  /** Starts every node (in parallel). */
  async startAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.start(id)));
  }

  async start(id: number, logger: ControllerLogger = silentLogger): Promise<ControllerNode> {
    const node = await startControllerNode({
      nodeId: id,
      listenHost: '127.0.0.1',
      listenPort: this.ports.get(id)!,
      dataDir: this.dirs.get(id)!,
      voters: this.ids.map((v) => ({ id: v, host: '127.0.0.1', port: this.ports.get(v)! })),
      logger,
      tickMs: this.options.tickMs ?? 30,
      // Long by default: tests that register brokers without heartbeating must not see them fenced.
      brokerSessionTimeoutMs: this.options.brokerSessionTimeoutMs ?? 60_000,
      ...(this.options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: this.options.snapshotEveryEntries }),
      ...(this.options.defaultReplicationFactor === undefined ? {} : { defaultReplicationFactor: this.options.defaultReplicationFactor }),
      ...(this.options.defaultNumPartitions === undefined ? {} : { defaultNumPartitions: this.options.defaultNumPartitions }),
      ...(this.options.autoLeaderRebalanceEnable === undefined
        ? {}
        : { autoLeaderRebalanceEnable: this.options.autoLeaderRebalanceEnable }),
      ...(this.options.leaderImbalanceCheckIntervalMs === undefined
        ? {}
        : { leaderImbalanceCheckIntervalMs: this.options.leaderImbalanceCheckIntervalMs }),
      ...(this.options.leaderImbalancePerBrokerPercentage === undefined
        ? {}
        : { leaderImbalancePerBrokerPercentage: this.options.leaderImbalancePerBrokerPercentage }),
      rngSeed: id * 7919,
      timers: this.clock ?? this.clockOf(id),
    });
    this.nodes.set(id, node);
    return node;
  }

  private clockOf(id: number): RecordingTimers {
    let timers = this.timers.get(id);
    if (timers === undefined) {
      timers = new RecordingTimers();
      this.timers.set(id, timers);
    }
    return timers;
  }

  /** Graceful close (leadership handed over first), or `crash: true` for an abrupt stop. */
  async stop(id: number, crash = false): Promise<void> {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    this.nodes.delete(id);
    await node.close({ transferLeadership: !crash });
  }

  node(id: number): ControllerNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`controller ${id} is not running`);
    return node;
  }

  /** The one running active controller, once there is exactly one. */
  async waitForActive(timeoutMs = 5_000): Promise<ControllerNode> {
    return waitFor(
      'exactly one active controller',
      () => {
        const active = [...this.nodes.values()].filter((n) => n.isActive());
        return active.length === 1 ? active[0] : undefined;
      },
      timeoutMs,
    );
  }

  client(id: number): ControllerClient {
    let client = this.clients.get(id);
    if (client === undefined) {
      const Ctor = controllerProto().samsa.v1.Controller;
      client = new Ctor(`127.0.0.1:${this.ports.get(id)}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.clients.set(id, client);
    }
    return client;
  }

  /** A unary call on controller `id`'s Controller service, bounded by a deadline. */
  call<Res>(id: number, method: string, request: unknown, deadlineMs = 10_000): Promise<Res> {
    const client = this.client(id) as unknown as Record<
      string,
      (req: unknown, opts: grpc.CallOptions, cb: (err: Error | null, res: Res) => void) => void
    >;
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  createTopic(
    id: number,
    name: string,
    numPartitions = 1,
    replicationFactor = 1,
    timeoutMs = 5_000,
  ): Promise<CreateTopicsResponse__Output> {
    return this.call(
      id,
      'CreateTopics',
      { topics: [{ name, numPartitions, replicationFactor, configs: {} }], timeoutMs },
      timeoutMs + 5_000,
    );
  }

  /** Every running node's image, as snapshot records (comparable with toEqual). */
  snapshots(): Map<number, unknown[]> {
    return new Map([...this.nodes].map(([id, n]) => [id, n.image().toSnapshot()]));
  }

  async destroy(): Promise<void> {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    const stopped = Promise.all([...this.nodes.keys()].map((id) => this.stop(id, true)));
    // On a manual clock a closing node's force-shutdown timer fires only as the clock moves.
    if (this.clock !== undefined) {
      let done = false;
      const settle = (): void => void (done = true);
      stopped.then(settle, settle);
      await waitFor('the nodes to close on the manual clock', () => {
        this.clock!.advance(100);
        return done;
      });
    }
    await stopped;
    for (const dir of this.dirs.values()) rmSync(dir, { recursive: true, force: true });
  }
}

/** Registers broker ids as if they were brokers and heartbeats them until unfenced, via gRPC. */
export async function registerAndUnfence(
  cluster: TestCluster,
  controllerId: number,
  brokerIds: readonly number[],
): Promise<Map<number, string>> {
  const epochs = new Map<number, string>();
  for (const brokerId of brokerIds) {
    const res = await cluster.call<{ errorCode: number; errorMessage: string; brokerEpoch: string }>(controllerId, 'RegisterBroker', {
      brokerId,
      incarnationId: `inc-${brokerId}-${Date.now()}`,
      host: `broker-${brokerId}.test`,
      port: 9092,
    });
    if (res.errorCode !== 0) throw new Error(`RegisterBroker ${brokerId}: ${res.errorCode} ${res.errorMessage}`);
    epochs.set(brokerId, res.brokerEpoch);
  }
  for (const brokerId of brokerIds) {
    const res = await cluster.call<{ errorCode: number; isFenced: boolean }>(controllerId, 'BrokerHeartbeat', {
      brokerId,
      brokerEpoch: epochs.get(brokerId),
      currentMetadataOffset: '1000000',
      wantFence: false,
      wantShutDown: false,
    });
    if (res.errorCode !== 0 || res.isFenced) throw new Error(`BrokerHeartbeat ${brokerId}: ${res.errorCode}, fenced ${res.isFenced}`);
  }
  return epochs;
}
