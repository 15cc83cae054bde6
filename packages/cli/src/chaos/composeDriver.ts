/**
 * The docker compose cluster as a chaos target, driven through the docker CLI: `docker compose
 * kill -s SIGKILL`, `pause` / `unpause`, `restart`, `start`. Services are named as the process
 * cluster's nodes (controller-1..3 with node ids 1..3, broker-1..3 with 4..6) and brokers publish
 * their client ports on the host. The partition nemesis is not implemented here (it is reported
 * as skipped). Replica logs are read with `docker compose exec <broker> cat` under --compose-data-dir.
 */
import { spawn } from 'node:child_process';
import { Samsa } from '@samsa/client';
import { CHANNEL_OPTIONS, clientProto, grpc, type DescribeQuorumResponse__Output } from '@samsa/protocol';
import type { ChaosNode, ClusterDriver, PartitionSupport } from './driver.js';
import { waitUntil } from './processDriver.js';

export interface ComposeClusterOptions {
  /** The compose file (docker compose -f). */
  file: string;
  /** The compose project name (docker compose -p). */
  project?: string;
  /** Broker addresses as published on this host. */
  bootstrap: string[];
  controllers?: number;
  brokers?: number;
  /** The brokers' data directory inside their containers. */
  dataDir: string;
}

function docker(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr });
    });
  });
}

type DescribeClient = grpc.Client & {
  DescribeQuorum(
    req: object,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: DescribeQuorumResponse__Output) => void,
  ): void;
};

export class ComposeCluster implements ClusterDriver {
  readonly kind = 'compose' as const;
  readonly controllers: ChaosNode[];
  readonly brokers: ChaosNode[];
  readonly partition: PartitionSupport = { supported: false, reason: 'the partition nemesis is not implemented for --compose' };

  constructor(private readonly o: ComposeClusterOptions) {
    const c = o.controllers ?? 3;
    this.controllers = Array.from({ length: c }, (_, i) => ({ name: `controller-${i + 1}`, nodeId: i + 1, role: 'controller' as const }));
    this.brokers = Array.from({ length: o.brokers ?? 3 }, (_, i) => ({
      name: `broker-${i + 1}`,
      nodeId: c + i + 1,
      role: 'broker' as const,
    }));
  }

  get bootstrap(): string[] {
    return this.o.bootstrap;
  }

  private async compose(args: string[], timeoutMs?: number): Promise<Buffer> {
    const base = ['compose', '-f', this.o.file, ...(this.o.project ? ['-p', this.o.project] : [])];
    const r = await docker([...base, ...args], timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${[...base, ...args].join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  private async brokersRegistered(timeoutMs: number): Promise<void> {
    const samsa = new Samsa({ brokers: this.bootstrap, requestTimeoutMs: 2_000, retry: { retries: 0 } });
    try {
      await waitUntil(
        'every broker registered',
        async () => (await samsa.admin().describeCluster()).brokers.length === this.brokers.length,
        timeoutMs,
        500,
      );
    } finally {
      await samsa.close();
    }
  }

  async start(): Promise<void> {
    await this.compose(['up', '-d', '--wait'], 180_000).catch(() => this.compose(['up', '-d'], 180_000));
    await this.brokersRegistered(120_000);
  }

  async kill(node: ChaosNode): Promise<void> {
    await this.compose(['kill', '-s', 'SIGKILL', node.name]);
  }

  async restart(node: ChaosNode): Promise<void> {
    await this.compose(['start', node.name]);
    if (node.role === 'broker') await this.brokersRegistered(60_000);
  }

  async gracefulRestart(node: ChaosNode): Promise<void> {
    await this.compose(['restart', node.name], 120_000);
    if (node.role === 'broker') await this.brokersRegistered(60_000);
  }

  async pause(node: ChaosNode): Promise<void> {
    await this.compose(['pause', node.name]);
  }

  async resume(node: ChaosNode): Promise<void> {
    await this.compose(['unpause', node.name]).catch(() => undefined);
  }

  async activeController(timeoutMs = 20_000): Promise<ChaosNode> {
    // Brokers forward DescribeQuorum to the active controller.
    return waitUntil(
      'an active controller',
      async () => {
        for (const address of this.bootstrap) {
          const client = new (clientProto().samsa.v1.Samsa)(
            address,
            grpc.credentials.createInsecure(),
            CHANNEL_OPTIONS,
          ) as unknown as DescribeClient;
          try {
            const q = await new Promise<DescribeQuorumResponse__Output>((resolve, reject) =>
              client.DescribeQuorum({}, { deadline: Date.now() + 1_500 }, (err, res) => (err ? reject(err) : resolve(res!))),
            );
            const leader = this.controllers.find((c) => c.nodeId === q.leaderId);
            if (q.errorCode === 0 && leader) return leader;
          } catch {
            // next broker
          } finally {
            client.close();
          }
        }
        return undefined;
      },
      timeoutMs,
      200,
    );
  }

  async isolate(): Promise<void> {
    throw new Error(this.partition.reason);
  }

  async heal(): Promise<void> {}

  readonly diskFull: PartitionSupport = { supported: false, reason: 'the disk-full nemesis is not implemented for --compose' };

  async fillDisk(): Promise<void> {
    throw new Error(this.diskFull.reason);
  }

  async freeDisk(): Promise<void> {}

  async readPartitionLog(broker: ChaosNode, topic: string, partition: number): Promise<Buffer> {
    const dir = `${this.o.dataDir}/${topic}-${partition}`;
    // The shell sorts the glob, and 20-digit segment names sort by offset.
    return this.compose(['exec', '-T', broker.name, 'sh', '-c', `cat ${dir}/[0-9]*.log 2>/dev/null || true`]);
  }

  async stop(): Promise<void> {
    for (const n of [...this.brokers, ...this.controllers]) await this.resume(n);
    await this.compose(['down', '-v'], 180_000);
  }

  unexpectedExits(): string[] {
    // Containers restart by their compose policy; a crash shows in `docker compose ps` and the logs.
    return [];
  }

  describe(): string[] {
    return [...this.controllers, ...this.brokers].map(
      (n) => `${n.name} (node ${n.nodeId}) docker compose -f ${this.o.file} logs ${n.name}`,
    );
  }
}
