/**
 * `samsa cluster up`: a local cluster in the foreground — controllers and brokers as separate
 * child processes (or --combined nodes with both roles) on 127.0.0.1. Brokers listen on
 * base-port, +100, +200, ...; controllers on base-port+1, +101, +201, .... It waits until every
 * broker is registered and unfenced, prints `bootstrap-server: ...` and a status table, and stops
 * every node gracefully (SIGTERM by PID, SIGKILL after a grace period) on Ctrl-C or SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Samsa } from '@samsa/client';
import type { Command } from 'commander';
import { parseInteger } from '../options.js';

interface ClusterUpOptions {
  brokers: string;
  controllers: string;
  combined?: boolean;
  dataDir: string;
  basePort: string;
  host: string;
  logLevel: string;
  readyTimeoutMs: string;
}

interface NodeSpec {
  name: string;
  nodeId: number;
  roles: string;
  brokerPort?: number;
  controllerPort?: number;
  dataDir: string;
}

interface Started extends NodeSpec {
  child: ChildProcess;
}

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

/** The nodes of a cluster: ids, roles and ports, derived from the counts and the base port. */
export function planCluster(brokers: number, controllers: number, combined: boolean, basePort: number, dataDir: string): NodeSpec[] {
  if (combined) {
    const n = Math.max(brokers, controllers);
    return Array.from({ length: n }, (_, i) => ({
      name: `node-${i + 1}`, nodeId: i + 1, roles: i < controllers ? 'broker,controller' : 'broker',
      brokerPort: basePort + 100 * i, ...(i < controllers ? { controllerPort: basePort + 100 * i + 1 } : {}),
      dataDir: join(dataDir, `node-${i + 1}`),
    }));
  }
  // Separate processes: controllers take ids 1..C, brokers C+1..C+B (Kafka's examples do the same).
  const controllerNodes = Array.from({ length: controllers }, (_, i) => ({
    name: `controller-${i + 1}`, nodeId: i + 1, roles: 'controller', controllerPort: basePort + 100 * i + 1,
    dataDir: join(dataDir, `controller-${i + 1}`),
  }));
  const brokerNodes = Array.from({ length: brokers }, (_, i) => ({
    name: `broker-${i + 1}`, nodeId: controllers + i + 1, roles: 'broker', brokerPort: basePort + 100 * i,
    dataDir: join(dataDir, `broker-${i + 1}`),
  }));
  return [...controllerNodes, ...brokerNodes];
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

async function stopNodes(nodes: Started[], graceMs = 10_000): Promise<void> {
  // Brokers first: their controlled shutdown needs the controllers.
  const order = [...nodes.filter((n) => !n.roles.includes('controller')), ...nodes.filter((n) => n.roles.includes('controller'))];
  for (const group of [order.filter((n) => !n.roles.includes('controller')), order.filter((n) => n.roles.includes('controller'))]) {
    await Promise.all(group.map(async (n) => {
      if (n.child.exitCode !== null || n.child.signalCode !== null) return;
      const exited = new Promise<void>((r) => n.child.once('exit', () => r()));
      n.child.kill('SIGTERM');
      const timer = setTimeout(() => n.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }));
  }
}

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('run a local Samsa cluster');
  cluster
    .command('up')
    .description('start a local cluster in the foreground and print its bootstrap address')
    .option('--brokers <n>', 'number of brokers', '3')
    .option('--controllers <n>', 'number of controllers (the Raft quorum)', '3')
    .option('--combined', 'run nodes with both roles instead of separate controllers and brokers')
    .option('--data-dir <dir>', 'root of every node\'s data directory', './data')
    .option('--base-port <port>', 'first broker port', '9092')
    .option('--host <host>', 'address every node listens on', '127.0.0.1')
    .option('--log-level <level>', 'node log level (logs go to <data-dir>/<node>/node.log)', 'info')
    .option('--ready-timeout-ms <ms>', 'give up when the cluster is not ready within this', '60000')
    .action(async (opts: ClusterUpOptions) => {
      const brokers = parseInteger(opts.brokers, '--brokers', 1);
      const controllers = parseInteger(opts.controllers, '--controllers', 1);
      const basePort = parseInteger(opts.basePort, '--base-port', 1);
      const readyTimeoutMs = parseInteger(opts.readyTimeoutMs, '--ready-timeout-ms', 1);
      const dataDir = resolve(opts.dataDir);
      const plan = planCluster(brokers, controllers, opts.combined ?? false, basePort, dataDir);
      const voters = plan.filter((n) => n.controllerPort !== undefined).map((n) => `${n.nodeId}@${opts.host}:${n.controllerPort}`).join(',');
      const bootstrap = plan.filter((n) => n.brokerPort !== undefined).map((n) => `${opts.host}:${n.brokerPort}`);

      const started: Started[] = [];
      let stopping = false;
      const shutdown = async (code: number) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write('stopping the cluster...\n');
        await stopNodes(started);
        process.exit(code);
      };
      process.on('SIGINT', () => void shutdown(0));
      process.on('SIGTERM', () => void shutdown(0));

      for (const spec of plan) {
        mkdirSync(spec.dataDir, { recursive: true });
        const log = createWriteStream(join(spec.dataDir, 'node.log'), { flags: 'a' });
        const args = [CLI, 'node', '--roles', spec.roles, '--node-id', String(spec.nodeId), '--controller-quorum-voters', voters,
          '--data-dir', spec.dataDir, '--log-level', opts.logLevel];
        if (spec.brokerPort !== undefined) args.push('--listen', `${opts.host}:${spec.brokerPort}`);
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout!.pipe(log);
        child.stderr!.pipe(log);
        child.once('exit', (code, signal) => {
          if (!stopping) {
            process.stderr.write(`samsa: ${spec.name} (pid ${child.pid}) exited (${signal ?? code}); see ${join(spec.dataDir, 'node.log')}\n`);
            void shutdown(1);
          }
        });
        started.push({ ...spec, child });
      }

      // Ready: every broker registered and unfenced, as seen through the client API.
      const samsa = new Samsa({ brokers: bootstrap, requestTimeoutMs: 2_000, retry: { retries: 0 } });
      const deadline = Date.now() + readyTimeoutMs;
      const t0 = Date.now();
      let ready = false;
      while (!ready && !stopping && Date.now() < deadline) {
        try {
          const description = await samsa.admin().describeCluster();
          ready = description.brokers.length === brokers && description.controllerId >= 0;
        } catch {
          // not up yet
        }
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      await samsa.close();
      if (!ready) {
        if (!stopping) {
          process.stderr.write(`samsa: the cluster was not ready within ${readyTimeoutMs} ms; node logs are under ${dataDir}\n`);
          await shutdown(1);
        }
        return;
      }
      process.stdout.write(`bootstrap-server: ${bootstrap.join(',')}\n`);
      process.stdout.write(formatTable([
        ['NODE', 'ID', 'ROLES', 'BROKER', 'CONTROLLER', 'PID'],
        ...started.map((n) => [
          n.name, String(n.nodeId), n.roles, n.brokerPort === undefined ? '-' : `${opts.host}:${n.brokerPort}`,
          n.controllerPort === undefined ? '-' : `${opts.host}:${n.controllerPort}`, String(n.child.pid),
        ]),
      ]));
      process.stdout.write(`ready in ${Date.now() - t0} ms; logs under ${dataDir}; Ctrl-C stops every node\n`);
    });
}
