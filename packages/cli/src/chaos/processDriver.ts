/**
 * The default chaos cluster: controllers and brokers as `samsa node` child processes of the
 * harness, each killable, pausable and restartable by its PID. Node logs go straight from the
 * child to `<logDir>/<node>.log` (no pipe through the harness, so a busy harness never slows a
 * node). Inside the harness' network namespace each node binds its own 127.0.0.x and runs as its
 * own uid, which is what the partition nemesis cuts by (netns.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Samsa } from '@samsa/client';
import { CHANNEL_OPTIONS, controllerProto, grpc, type DescribeQuorumResponse__Output } from '@samsa/protocol';
import type { ChaosNode, ClusterDriver, PartitionSupport } from './driver.js';
import { NetnsFirewall, nodeUid } from './netns.js';
import { mountTinyFs, type TinyFs } from './tinyFs.js';
import { NODE_V8_FLAGS } from '../nodeRuntime.js';
import { CLI_ENTRY } from '../entry.js';

const CLI = CLI_ENTRY;

/** A broker's tmpfs size outside the disk-full nemesis: more than a chaos run writes. */
const DISK_ROOMY_BYTES = 1024 * 1024 * 1024;

export interface ProcessClusterOptions {
  /** Node data directories go under here. */
  dataRoot: string;
  /** Node logs go here. */
  logDir: string;
  controllers?: number;
  brokers?: number;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  replicaLagTimeMaxMs: number;
  /** Brokers' group.min.session.timeout.ms: low enough for the reader group's short session. */
  groupMinSessionTimeoutMs?: number;
  /** Brokers' group.initial.rebalance.delay.ms: short, the reader group's members start together. */
  groupInitialRebalanceDelayMs?: number;
  /** Inside the harness' network namespace: distinct addresses and uids, iptables cuts. */
  netns?: string;
  /** Why partitions are not possible, when netns is not given. */
  noPartitionReason?: string;
  /** Put every broker's data directory on its own tmpfs, for the disk-full nemesis (root only). */
  diskFull?: boolean;
  logLevel?: string;
}

interface ProcessNode extends ChaosNode {
  host: string;
  port: number;
  dataDir: string;
  logPath: string;
  uid?: number;
  child?: ChildProcess;
  paused: boolean;
  /** Set while the harness itself stops the node; any other exit is a crash worth reporting. */
  stopping: boolean;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value (not undefined/false), at most `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

type DescribeClient = grpc.Client & {
  DescribeQuorum(
    req: object,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: DescribeQuorumResponse__Output) => void,
  ): void;
};

async function describeQuorum(address: string, timeoutMs = 1_500): Promise<DescribeQuorumResponse__Output> {
  const client = new (controllerProto().samsa.v1.Controller)(
    address,
    grpc.credentials.createInsecure(),
    CHANNEL_OPTIONS,
  ) as unknown as DescribeClient;
  try {
    return await new Promise((resolve, reject) =>
      client.DescribeQuorum({}, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!))),
    );
  } finally {
    client.close();
  }
}

/** The concatenated segment files of `<dataDir>/<topic>-<partition>/`, in offset order. */
export function readSegments(dataDir: string, topic: string, partition: number): Buffer {
  const dir = join(dataDir, `${topic}-${partition}`);
  if (!existsSync(dir)) return Buffer.alloc(0);
  const files = readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort();
  return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
}

export class ProcessCluster implements ClusterDriver {
  readonly kind = 'process' as const;
  readonly controllers: ProcessNode[] = [];
  readonly brokers: ProcessNode[] = [];
  readonly partition: PartitionSupport;
  private readonly firewall: NetnsFirewall | undefined;
  private readonly crashes: string[] = [];
  private voters = '';

  diskFull: PartitionSupport = { supported: false, reason: 'not asked for' };
  /** Each broker's tmpfs (disk-full nemesis), by node name. */
  private readonly disks = new Map<string, TinyFs>();

  constructor(private readonly o: ProcessClusterOptions) {
    this.partition = o.netns
      ? { supported: true }
      : { supported: false, reason: o.noPartitionReason ?? 'not inside a network namespace of the harness' };
    this.firewall = o.netns ? new NetnsFirewall() : undefined;
  }

  get bootstrap(): string[] {
    return this.brokers.map((b) => `${b.host}:${b.port}`);
  }

  private get nodes(): ProcessNode[] {
    return [...this.controllers, ...this.brokers];
  }

  async start(): Promise<void> {
    const { controllers = 3, brokers = 3 } = this.o;
    mkdirSync(this.o.dataRoot, { recursive: true });
    mkdirSync(this.o.logDir, { recursive: true });
    // Nodes under their own uids must be able to reach their directories.
    if (this.o.netns) chmodSync(this.o.dataRoot, 0o755);
    const plan = async (role: 'controller' | 'broker', i: number, nodeId: number): Promise<ProcessNode> => {
      const name = `${role}-${i + 1}`;
      // In the namespace every node has its own address (controllers .11.., brokers .21..) and the fixed Kafka ports.
      const host = this.o.netns ? `127.0.0.${(role === 'controller' ? 11 : 21) + i}` : '127.0.0.1';
      const port = this.o.netns ? (role === 'controller' ? 9093 : 9092) : await freePort(host);
      const dataDir = join(this.o.dataRoot, name);
      mkdirSync(dataDir, { recursive: true });
      if (role === 'broker' && this.o.diskFull && (this.diskFull.supported || i === 0)) {
        // Roomy until the nemesis shrinks it to what is used (tmpfs holds only what is written).
        const mounted = mountTinyFs(dataDir, DISK_ROOMY_BYTES);
        if (mounted.ok) {
          this.disks.set(name, mounted.fs);
          this.diskFull = { supported: true };
        } else this.diskFull = { supported: false, reason: mounted.reason };
      }
      // A fresh log per run (a report directory may be reused); restarts within the run append.
      writeFileSync(join(this.o.logDir, `${name}.log`), '');
      const uid = this.o.netns ? nodeUid(nodeId) : undefined;
      if (uid !== undefined) chownSync(dataDir, uid, uid);
      return {
        name,
        nodeId,
        role,
        host,
        port,
        dataDir,
        logPath: join(this.o.logDir, `${name}.log`),
        ...(uid === undefined ? {} : { uid }),
        paused: false,
        stopping: false,
      };
    };
    for (let i = 0; i < controllers; i++) this.controllers.push(await plan('controller', i, i + 1));
    for (let i = 0; i < brokers; i++) this.brokers.push(await plan('broker', i, controllers + i + 1));
    this.voters = this.controllers.map((c) => `${c.nodeId}@${c.host}:${c.port}`).join(',');
    await Promise.all(this.controllers.map((c) => this.spawnNode(c)));
    await this.activeController(30_000);
    await Promise.all(this.brokers.map((b) => this.spawnNode(b)));
    const samsa = new Samsa({ brokers: this.bootstrap, requestTimeoutMs: 2_000, retry: { retries: 0 } });
    try {
      await waitUntil(
        'every broker registered',
        async () => (await samsa.admin().describeCluster()).brokers.length === brokers,
        60_000,
        200,
      );
    } finally {
      await samsa.close();
    }
  }

  private async spawnNode(node: ProcessNode): Promise<void> {
    if (node.child) throw new Error(`${node.name} is already running (pid ${node.child.pid})`);
    const logStart = existsSync(node.logPath) ? statSync(node.logPath).size : 0;
    const fd = openSync(node.logPath, 'a');
    const args = [
      ...NODE_V8_FLAGS,
      CLI,
      'node',
      '--roles',
      node.role,
      '--node-id',
      String(node.nodeId),
      '--controller-quorum-voters',
      this.voters,
      '--data-dir',
      node.dataDir,
      '--log-level',
      this.o.logLevel ?? 'info',
    ];
    if (node.role === 'broker') {
      args.push(
        '--listen',
        `${node.host}:${node.port}`,
        '--heartbeat-interval-ms',
        String(this.o.heartbeatIntervalMs),
        '--replica-lag-time-max-ms',
        String(this.o.replicaLagTimeMaxMs),
      );
      if (this.o.groupMinSessionTimeoutMs !== undefined)
        args.push('--group-min-session-timeout-ms', String(this.o.groupMinSessionTimeoutMs));
      if (this.o.groupInitialRebalanceDelayMs !== undefined)
        args.push('--group-initial-rebalance-delay-ms', String(this.o.groupInitialRebalanceDelayMs));
    } else {
      args.push('--session-timeout-ms', String(this.o.sessionTimeoutMs));
    }
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, {
        stdio: ['ignore', fd, fd],
        ...(node.uid === undefined ? {} : { uid: node.uid, gid: node.uid, env: { ...process.env, HOME: node.dataDir } }),
      });
    } finally {
      closeSync(fd);
    }
    node.child = child;
    node.paused = false;
    node.stopping = false;
    child.once('exit', (code, signal) => {
      if (!node.stopping)
        this.crashes.push(`${node.name} (pid ${child.pid}) exited by itself (${signal ?? `code ${code}`}); see ${node.logPath}`);
      if (node.child === child) node.child = undefined;
    });
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    if (node.role === 'broker') {
      await waitUntil(
        `${node.name} to start (see ${node.logPath})`,
        () => {
          if (exited()) throw new Error(`${node.name} exited (${child.exitCode ?? child.signalCode})`);
          return this.logSince(node.logPath, logStart).includes('"broker started"');
        },
        30_000,
        100,
      );
    } else {
      await waitUntil(
        `${node.name} to listen (see ${node.logPath})`,
        async () => {
          if (exited()) throw new Error(`${node.name} exited (${child.exitCode ?? child.signalCode})`);
          await describeQuorum(`${node.host}:${node.port}`, 1_000);
          return true;
        },
        30_000,
        100,
      );
    }
  }

  private logSince(path: string, from: number): string {
    const size = statSync(path).size;
    if (size <= from) return '';
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(size - from);
      readSync(fd, buf, 0, buf.length, from);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  private of(node: ChaosNode): ProcessNode {
    const n = this.nodes.find((x) => x.name === node.name);
    if (!n) throw new Error(`no node ${node.name}`);
    return n;
  }

  private async signalAndWait(n: ProcessNode, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = n.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      n.child = undefined;
      return;
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    n.stopping = true;
    if (n.paused) {
      child.kill('SIGCONT');
      n.paused = false;
    }
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    n.child = undefined;
  }

  async kill(node: ChaosNode): Promise<void> {
    await this.signalAndWait(this.of(node), 'SIGKILL', 5_000);
  }

  async restart(node: ChaosNode): Promise<void> {
    const n = this.of(node);
    if (n.child) return;
    await this.spawnNode(n);
  }

  async gracefulRestart(node: ChaosNode): Promise<void> {
    const n = this.of(node);
    await this.signalAndWait(n, 'SIGTERM', 15_000);
    await this.spawnNode(n);
  }

  async pause(node: ChaosNode): Promise<void> {
    const n = this.of(node);
    if (!n.child?.pid) throw new Error(`${n.name} is not running`);
    process.kill(n.child.pid, 'SIGSTOP');
    n.paused = true;
  }

  async resume(node: ChaosNode): Promise<void> {
    const n = this.of(node);
    if (n.child?.pid && n.paused) process.kill(n.child.pid, 'SIGCONT');
    n.paused = false;
  }

  async activeController(timeoutMs = 20_000): Promise<ChaosNode> {
    return waitUntil(
      'an active controller',
      async () => {
        for (const c of this.controllers.filter((x) => x.child && !x.paused)) {
          try {
            const q = await describeQuorum(`${c.host}:${c.port}`);
            const leader = this.controllers.find((x) => x.nodeId === q.leaderId && x.child);
            if (q.errorCode === 0 && leader) return leader;
          } catch {
            // this one is down or slow; ask the next
          }
        }
        return undefined;
      },
      timeoutMs,
      100,
    );
  }

  async isolate(node: ChaosNode): Promise<void> {
    if (!this.firewall) throw new Error(`partition is not possible: ${this.partition.reason}`);
    const n = this.of(node);
    const others = this.nodes.filter((x) => x !== n).map((x) => ({ host: x.host, uid: x.uid! }));
    this.firewall.isolate({ host: n.host, uid: n.uid! }, others);
  }

  async heal(): Promise<void> {
    this.firewall?.heal();
  }

  async readPartitionLog(broker: ChaosNode, topic: string, partition: number): Promise<Buffer> {
    return readSegments(this.of(broker).dataDir, topic, partition);
  }

  async stop(): Promise<void> {
    this.firewall?.heal();
    for (const n of this.nodes) if (n.paused) await this.resume(n);
    await Promise.all(this.brokers.map((b) => this.signalAndWait(b, 'SIGTERM', 5_000)));
    await Promise.all(this.controllers.map((c) => this.signalAndWait(c, 'SIGTERM', 5_000)));
    this.unmountDisks();
  }

  async fillDisk(node: ChaosNode): Promise<void> {
    const n = this.of(node);
    const disk = this.disks.get(n.name);
    if (!disk) throw new Error(`${n.name} has no disk of its own: ${this.diskFull.reason ?? 'disk-full not set up'}`);
    const fs = statfsSync(n.dataDir);
    const used = (fs.blocks - fs.bfree) * fs.bsize;
    // A few pages over what is used: the next segment growth fails with ENOSPC.
    disk.resize(used + 64 * 1024);
  }

  async freeDisk(node: ChaosNode): Promise<void> {
    this.disks.get(this.of(node).name)?.resize(DISK_ROOMY_BYTES);
  }

  /** Unmounts the brokers' tmpfs disks (after stop: their data is gone). */
  unmountDisks(): void {
    for (const [name, disk] of this.disks) {
      try {
        disk.unmount();
        this.disks.delete(name);
      } catch {
        // Left mounted: a node may still hold it; the next attempt (or the operator) unmounts it.
      }
    }
  }

  unexpectedExits(): string[] {
    return [...this.crashes];
  }

  describe(): string[] {
    return this.nodes.map(
      (n) => `${n.name} (node ${n.nodeId}) ${n.host}:${n.port}${n.uid === undefined ? '' : ` uid ${n.uid}`} log ${n.logPath}`,
    );
  }
}
