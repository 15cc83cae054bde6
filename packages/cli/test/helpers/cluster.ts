/**
 * A real cluster for tests: controllers and brokers as separate `samsa node` child processes on
 * 127.0.0.1, each one killable and restartable by itself. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { MetadataImage, decodeMetadataEntry, type MetadataRecord } from '@samsa/metadata';
import {
  CHANNEL_OPTIONS,
  clientProto,
  controllerProto,
  grpc,
  type DescribeQuorumResponse__Output,
  type FetchMetadataResponse__Output,
} from '@samsa/protocol';
import { giveUp, waitFor } from '@samsa/testkit';
import { NODE_V8_FLAGS } from '../../src/nodeRuntime.js';
import { CLI, freePort, stopProcess, tempDir, removeDir } from './processes.js';

export interface ClusterNode {
  name: string;
  nodeId: number;
  roles: 'controller' | 'broker';
  port: number;
  /** With ClusterOptions.metrics: the node's Prometheus port (http://127.0.0.1:PORT/metrics). */
  metricsPort?: number;
  dataDir: string;
  child?: ChildProcess;
  output: string;
}

export interface TestCluster {
  root: string;
  controllers: ClusterNode[];
  brokers: ClusterNode[];
  voters: string;
  bootstrap: string[];
  start(node: ClusterNode): Promise<void>;
  kill(node: ClusterNode, signal?: NodeJS.Signals): Promise<void>;
  /** Freezes a running node with SIGSTOP (its timers, heartbeats and fetches stop; sockets stay open). */
  pause(node: ClusterNode): void;
  /** Lets a paused node run again (SIGCONT). */
  resume(node: ClusterNode): void;
  describeQuorum(): Promise<DescribeQuorumResponse__Output>;
  activeController(timeoutMs?: number): Promise<ClusterNode>;
  controllerImage(node: ClusterNode): Promise<{ records: MetadataRecord[]; offset: number }>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  controllers?: number;
  brokers?: number;
  heartbeatIntervalMs?: number;
  sessionTimeoutMs?: number;
  /** Extra `samsa node` arguments for every broker (e.g. ['--replica-lag-time-max-ms', '1000']). */
  brokerArgs?: string[];
  /** Extra `samsa node` arguments for every controller (e.g. ['--num-partitions', '3']). */
  controllerArgs?: string[];
  /** Give every node a metrics port (--metrics-port). */
  metrics?: boolean;
  /** Called with the nodes before any starts (e.g. to mount a small file system at a broker's data dir). */
  prepare?: (nodes: { controllers: ClusterNode[]; brokers: ClusterNode[] }) => void;
}

type Unary<Res> = (req: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void;

async function callController<Res>(port: number, method: string, req: object, timeoutMs = 3_000): Promise<Res> {
  const client = new (controllerProto().samsa.v1.Controller)(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  try {
    const fn = (client as unknown as Record<string, Unary<Res>>)[method]!.bind(client);
    return await new Promise<Res>((resolve, reject) =>
      fn(req, { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r!))),
    );
  } finally {
    client.close();
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const root = tempDir('cluster');
  const controllers: ClusterNode[] = [];
  const brokers: ClusterNode[] = [];
  for (let i = 0; i < (opts.controllers ?? 3); i++) {
    controllers.push({
      name: `controller-${i + 1}`,
      nodeId: i + 1,
      roles: 'controller',
      port: await freePort(),
      dataDir: join(root, `controller-${i + 1}`),
      output: '',
    });
    if (opts.metrics) controllers[i]!.metricsPort = await freePort();
  }
  for (let i = 0; i < (opts.brokers ?? 3); i++) {
    const nodeId = controllers.length + i + 1;
    brokers.push({
      name: `broker-${i + 1}`,
      nodeId,
      roles: 'broker',
      port: await freePort(),
      dataDir: join(root, `broker-${i + 1}`),
      output: '',
    });
    if (opts.metrics) brokers[i]!.metricsPort = await freePort();
  }
  const voters = controllers.map((c) => `${c.nodeId}@127.0.0.1:${c.port}`).join(',');
  opts.prepare?.({ controllers, brokers });

  const start = async (node: ClusterNode) => {
    const args = [
      ...NODE_V8_FLAGS,
      CLI,
      'node',
      '--roles',
      node.roles,
      '--node-id',
      String(node.nodeId),
      '--controller-quorum-voters',
      voters,
      '--data-dir',
      node.dataDir,
      '--log-level',
      'info',
    ];
    if (node.metricsPort !== undefined) args.push('--metrics-port', String(node.metricsPort));
    if (node.roles === 'broker') {
      args.push('--listen', `127.0.0.1:${node.port}`);
      if (opts.heartbeatIntervalMs) args.push('--heartbeat-interval-ms', String(opts.heartbeatIntervalMs));
      // As cluster up does: fewer than 3 brokers could never meet the default offsets.topic.replication.factor.
      if ((opts.brokers ?? 3) < 3) args.push('--offsets-topic-replication-factor', String(opts.brokers));
      if (opts.brokerArgs) args.push(...opts.brokerArgs);
    } else {
      if (opts.sessionTimeoutMs) args.push('--session-timeout-ms', String(opts.sessionTimeoutMs));
      if (opts.controllerArgs) args.push(...opts.controllerArgs);
    }
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    node.output = '';
    child.stdout!.on('data', (d: Buffer) => {
      node.output += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      node.output += d.toString();
    });
    if (node.roles === 'broker') {
      await waitFor(
        `${node.name} to start`,
        () => {
          if (child.exitCode !== null) giveUp(`${node.name} exited ${child.exitCode}:\n${node.output}`);
          return node.output.includes('"broker started"');
        },
        30_000,
      );
    } else {
      await waitFor(
        `${node.name} to listen`,
        async () => {
          if (child.exitCode !== null) giveUp(`${node.name} exited ${child.exitCode}:\n${node.output}`);
          await callController(node.port, 'FetchMetadata', { fromOffset: '1', maxWaitMs: 0, maxEntries: 1, brokerId: -1 }, 1_000);
          return true;
        },
        30_000,
      );
    }
  };

  const cluster: TestCluster = {
    root,
    controllers,
    brokers,
    voters,
    bootstrap: brokers.map((b) => `127.0.0.1:${b.port}`),
    start,
    async kill(node, signal = 'SIGKILL') {
      if (node.child) await stopProcess(node.child, signal);
      node.child = undefined;
    },
    pause(node) {
      if (!node.child?.pid) throw new Error(`${node.name} is not running`);
      process.kill(node.child.pid, 'SIGSTOP');
    },
    resume(node) {
      if (!node.child?.pid) throw new Error(`${node.name} is not running`);
      process.kill(node.child.pid, 'SIGCONT');
    },
    async describeQuorum() {
      let last: unknown;
      for (const c of controllers.filter((n) => n.child)) {
        try {
          const res = await callController<DescribeQuorumResponse__Output>(c.port, 'DescribeQuorum', {});
          if (res.errorCode === 0) return res;
          last = new Error(`code ${res.errorCode}: ${res.errorMessage}`);
        } catch (err) {
          last = err;
        }
      }
      throw last ?? new Error('no controller is running');
    },
    async activeController(timeoutMs = 20_000) {
      return waitFor(
        'an active controller',
        async () => {
          const q = await cluster.describeQuorum();
          return controllers.find((c) => c.nodeId === q.leaderId && c.child);
        },
        timeoutMs,
      );
    },
    async controllerImage(node) {
      // Replays the controller's committed metadata log into a fresh image.
      let image = new MetadataImage();
      let next = 1;
      for (let round = 0; round < 10_000; round++) {
        const res = await callController<FetchMetadataResponse__Output>(node.port, 'FetchMetadata', {
          fromOffset: String(next),
          maxWaitMs: 0,
          maxEntries: 1000,
          brokerId: -1,
        });
        if (res.hasSnapshot) {
          image = MetadataImage.fromSnapshot(decodeMetadataEntry(res.snapshot), Number(res.snapshotOffset), 0);
          next = Number(res.snapshotOffset) + 1;
        }
        for (const entry of res.entries) {
          if (entry.data.length > 0) for (const r of decodeMetadataEntry(entry.data)) image.replay(r, Number(entry.offset));
          next = Number(entry.offset) + 1;
        }
        if (next > Number(res.highWatermark)) break;
      }
      return { records: image.toSnapshot(), offset: next - 1 };
    },
    async stop() {
      for (const b of brokers) await cluster.kill(b, 'SIGKILL');
      for (const c of controllers) await cluster.kill(c, 'SIGKILL');
      removeDir(root);
    },
  };
  try {
    await Promise.all(controllers.map(start));
    await cluster.activeController();
    await Promise.all(brokers.map(start));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

export function clientConnection(address: string) {
  return new (clientProto().samsa.v1.Samsa)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
}
