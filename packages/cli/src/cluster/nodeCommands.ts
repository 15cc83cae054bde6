/**
 * `samsa cluster stop|start|restart|kill --node NAME|ID`: one node of the cluster recorded in a
 * data dir, whether `cluster up` runs in the foreground or detached. Each records what it did in
 * the state file (the new PID, or that the node is stopped on purpose), so `status` shows it and
 * `down` (or Ctrl-C on a foreground `up`) stops every process, restarted ones included. The
 * cluster's services (`schema-registry`, `console`) are named the same way and handled alike;
 * a service is up again when it answers HTTP.
 */
import { connect } from 'node:net';
import { resolve } from 'node:path';

import type { Samsa } from '@samsa/client';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseInteger } from '../options.js';
import { brokerStarted, findNode, lastError, recordNode, spawnNode } from './nodes.js';
import { findService, recordService, spawnService, waitServing } from './services.js';
import { STATE_FILE, lockHolder, processState, readState, type ClusterState, type NodeRecord, type ServiceRecord } from './state.js';
import { stopNodes } from './stop.js';

interface NodeCommandOptions {
  dataDir: string;
  node?: string;
  timeoutMs: string;
  readyTimeoutMs: string;
}

function load(opts: NodeCommandOptions): { dataDir: string; state: ClusterState; nodes: NodeRecord[]; services: ServiceRecord[] } {
  if (!opts.node) throw new UsageError('--node is required (a name as cluster status prints it, or a node id; several with commas)');
  const dataDir = resolve(opts.dataDir);
  const state = readState(dataDir);
  if (!state) throw new UsageError(`no cluster is recorded in ${dataDir} (no ${STATE_FILE}); start one with cluster up`);
  const refs = opts.node
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const services = refs.map((ref) => findService(state, ref)).filter((s): s is ServiceRecord => s !== undefined);
  const nodes = refs.filter((ref) => !services.some((s) => s.name === ref)).map((ref) => findNode(state, ref));
  return { dataDir, state, nodes, services };
}

async function stop(opts: NodeCommandOptions, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const { dataDir, state, nodes: nodeRecords, services } = load(opts);
  const graceMs = parseInteger(opts.timeoutMs, '--timeout-ms', 0);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  // Marked first: a foreground `cluster up` watching the state file then reports a stop, not a crash.
  for (const node of nodeRecords) recordNode(dataDir, { ...node, stopped: true }, state);
  for (const service of services) recordService(dataDir, { ...service, stopped: true }, state);
  const nodes = [...services, ...nodeRecords];
  if (signal === 'SIGKILL') {
    for (const node of nodes) {
      if (processState(node.pid, node.argv) !== 'running') {
        log(`${node.name} (pid ${node.pid ?? '-'}) is not running`);
        continue;
      }
      process.kill(node.pid!, 'SIGKILL');
      log(`${node.name} (pid ${node.pid}) killed (SIGKILL)`);
    }
    // Bounded wait until the kernel has them gone, so a `start` right after finds the ports free.
    await stopNodes(nodes, { graceMs: 5_000 });
    return;
  }
  const report = await stopNodes(nodes, { graceMs, log });
  if (report.survivors.length > 0) throw new Error(`${report.survivors.join(', ')} still running after SIGKILL`);
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function start(opts: NodeCommandOptions): Promise<void> {
  const { dataDir, state, nodes, services } = load(opts);
  const readyTimeoutMs = parseInteger(opts.readyTimeoutMs, '--ready-timeout-ms', 1);
  const t0 = Date.now();
  await startNodes(dataDir, state, nodes, t0, readyTimeoutMs);
  for (const service of services) {
    if (processState(service.pid, service.argv) === 'running') {
      process.stdout.write(`${service.name} (pid ${service.pid}) is running already\n`);
      continue;
    }
    const child = spawnService(service);
    let exit: string | undefined;
    child.once('exit', (code, signal) => {
      exit = signal ?? String(code);
    });
    child.unref();
    const record = { ...service };
    delete record.stopped;
    recordService(dataDir, record, state);
    process.stdout.write(`${service.name} (pid ${service.pid}) starting\n`);
    const failed = await waitServing(service, t0 + readyTimeoutMs, () => exit);
    if (failed !== undefined) {
      const why = lastError(service.logFile);
      throw new Error(`${service.name} (pid ${service.pid}) ${failed}${why ? `: ${why}` : ''}; see ${service.logFile}`);
    }
    process.stdout.write(`${service.name} (pid ${service.pid}) serving ${service.url} in ${Date.now() - t0} ms\n`);
  }
}

async function startNodes(dataDir: string, state: ClusterState, nodes: NodeRecord[], t0: number, readyTimeoutMs: number): Promise<void> {
  const started: Array<{ node: NodeRecord; logOffset: number; exited: () => string | undefined }> = [];
  for (const node of nodes) {
    if (processState(node.pid, node.argv) === 'running') {
      process.stdout.write(`${node.name} (pid ${node.pid}) is running already\n`);
      continue;
    }
    const holder = lockHolder(node.dataDir);
    if (holder !== undefined)
      throw new Error(`${node.dataDir} is in use by process ${holder} (not the recorded ${node.name}); stop it first`);
    const { child, logOffset } = spawnNode(node);
    let exit: string | undefined;
    child.once('exit', (code, signal) => {
      exit = signal ?? String(code);
    });
    child.unref();
    const record = { ...node };
    delete record.stopped;
    recordNode(dataDir, record, state);
    process.stdout.write(`${node.name} (pid ${node.pid}) starting\n`);
    started.push({ node, logOffset, exited: () => exit });
  }
  if (started.length === 0) return;
  const { Samsa } = await import('@samsa/client');
  const samsa = new Samsa({ brokers: state.bootstrap, requestTimeoutMs: 2_000, retry: { retries: 0 } });
  try {
    for (const { node, logOffset, exited } of started) {
      const deadline = t0 + readyTimeoutMs;
      for (;;) {
        const exit = exited();
        if (exit !== undefined) {
          const why = lastError(node.logFile);
          throw new Error(`${node.name} (pid ${node.pid}) exited (${exit}) while starting${why ? `: ${why}` : ''}; see ${node.logFile}`);
        }
        if (await nodeUp(samsa, state, node, logOffset)) break;
        if (Date.now() >= deadline) throw new Error(`${node.name} was not up within ${readyTimeoutMs} ms; see ${node.logFile}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const what = node.roles.includes('broker') ? 'registered and unfenced' : 'listening';
      process.stdout.write(`${node.name} (pid ${node.pid}) ${what} in ${Date.now() - t0} ms\n`);
    }
  } finally {
    await samsa.close();
  }
}

/**
 * A broker: this process logged "broker started" (when it logs at info; the old one may still be
 * registered until its session times out) and it is registered and unfenced. A controller: its
 * port accepts connections.
 */
async function nodeUp(samsa: Samsa, state: ClusterState, node: NodeRecord, logOffset: number): Promise<boolean> {
  if (node.roles.split(',').includes('broker')) {
    const level = node.argv[node.argv.indexOf('--log-level') + 1] ?? 'info';
    if (['trace', 'debug', 'info'].includes(level) && !brokerStarted(node.logFile, logOffset)) return false;
    try {
      const cluster = await samsa.admin().describeCluster();
      return cluster.brokers.some((b) => b.nodeId === node.nodeId);
    } catch {
      return false;
    }
  }
  return node.controllerPort !== undefined && portOpen(state.host, node.controllerPort);
}

export function registerNodeCommands(cluster: Command): void {
  const common = (c: Command) =>
    c
      .option(
        '--node <name|id>',
        'the node: its name as cluster status prints it (broker-4) or its node id, or a service (schema-registry, console); several with commas',
      )
      .option('--data-dir <dir>', 'the data dir given to cluster up', './data');
  common(cluster.command('stop').description('stop one node (SIGTERM, SIGKILL after --timeout-ms); the others serve on'))
    .option('--timeout-ms <ms>', 'how long the node may take after SIGTERM before it gets SIGKILL', '15000')
    .action((opts: NodeCommandOptions) => stop(opts, 'SIGTERM'));
  common(cluster.command('kill').description('SIGKILL one node, as a crash would (no controlled shutdown)')).action(
    (opts: NodeCommandOptions) => stop({ ...opts, timeoutMs: '0' }, 'SIGKILL'),
  );
  common(cluster.command('start').description('start a stopped node with the command line it was recorded with; waits until it is up'))
    .option('--ready-timeout-ms <ms>', 'give up when the node is not up within this', '60000')
    .action((opts: NodeCommandOptions) => start(opts));
  common(cluster.command('restart').description('stop (SIGTERM) and start one node'))
    .option('--timeout-ms <ms>', 'how long the node may take after SIGTERM before it gets SIGKILL', '15000')
    .option('--ready-timeout-ms <ms>', 'give up when the node is not up within this', '60000')
    .action(async (opts: NodeCommandOptions) => {
      await stop(opts, 'SIGTERM');
      await start(opts);
    });
}
