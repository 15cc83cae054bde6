/**
 * `samsa cluster up|down|status`: a local cluster of `samsa node` processes on one machine.
 *
 * `up` starts controllers and brokers as separate processes (or --combined nodes with both roles)
 * on 127.0.0.1. Brokers listen on base-port, +100, +200, ...; controllers on base-port+1, +101,
 * ...; metrics on +2 (brokers and combined nodes) and +3 (controllers). It records them in
 * `<data-dir>/cluster.json` (cluster/state.ts) and waits until the cluster is ready: every broker
 * registered and unfenced, an active controller, and every internal-topic partition led. Then it
 * prints `bootstrap-server: ...` and the status table. In the foreground it stops every node on
 * Ctrl-C or SIGTERM; with --detach it exits 0 and the nodes run on (each node is its own process
 * group, its output in `<data-dir>/<node>/node.log`).
 *
 * Once the nodes are ready, `up` starts the schema registry and the console (cluster/services.ts;
 * --no-schema-registry, --no-console) against them, records them in the state file beside the
 * nodes, waits until each answers HTTP and prints their URLs with the bootstrap line.
 *
 * `down` stops a recorded cluster by PID (services first, then brokers, SIGKILL after a grace period, never a PID
 * that is no longer ours) and removes the state file. `status` shows the nodes and the cluster's
 * health, once or every interval with --watch.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Samsa } from '@samsa/client';
import type { Command } from 'commander';
import {
  STATE_FILE,
  STATE_VERSION,
  claimState,
  lockHolder,
  processState,
  readState,
  removeState,
  runningProcesses,
  statePath,
  systemProbe,
  writeState,
  type ClusterState,
  type NodeRecord,
  type ServiceRecord,
} from '../cluster/state.js';
import { recordService, servicePorts, serviceRecords, spawnService, waitServing } from '../cluster/services.js';
import { brokerStarted, lastError, recordNode, spawnNode } from '../cluster/nodes.js';
import { registerNodeCommands } from '../cluster/nodeCommands.js';
import { stopNodes, waitAllGone } from '../cluster/stop.js';
import { CLI_ENTRY } from '../entry.js';
import { UsageError } from '../errors.js';
import { NODE_V8_FLAGS } from '../nodeRuntime.js';
import { parseBootstrap, parseDurationMs, parseInteger } from '../options.js';

export { formatTable } from '../cluster/table.js';

interface ClusterUpOptions {
  brokers: string;
  controllers: string;
  combined?: boolean;
  dataDir: string;
  basePort: string;
  host: string;
  logLevel: string;
  readyTimeoutMs: string;
  detach?: boolean;
  metrics: boolean;
  schemaRegistry: boolean;
  console: boolean;
  schemaRegistryPort?: string;
  consolePort?: string;
  /** --tls / --sasl: a CLIENT listener (brokerPort + 4) with SSL, SASL_PLAINTEXT or SASL_SSL. */
  tls?: boolean;
  sasl?: boolean;
}

/** A secured cluster's client listener: its protocol and, with TLS, the broker keystore. */
export interface ClientListenerSecurity {
  protocol: 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  keystoreLocation?: string;
}

/** Where a broker's secured CLIENT listener goes: clear of the +1..+3 of controller and metrics. */
export const CLIENT_PORT_OFFSET = 4;

export interface NodeSpec {
  name: string;
  nodeId: number;
  roles: string;
  brokerPort?: number;
  /** The secured CLIENT listener (cluster up --tls / --sasl). */
  clientPort?: number;
  controllerPort?: number;
  metricsPort?: number;
  dataDir: string;
}

const CLI = CLI_ENTRY;

/** The nodes of a cluster: ids, roles and ports, derived from the counts and the base port. */
export function planCluster(
  brokers: number,
  controllers: number,
  combined: boolean,
  basePort: number,
  dataDir: string,
  metrics = true,
): NodeSpec[] {
  if (combined) {
    const n = Math.max(brokers, controllers);
    // Named as `cluster status --bootstrap-server` names what the cluster reports: by node id.
    return Array.from({ length: n }, (_, i) => ({
      name: i < controllers ? `node-${i + 1}` : `broker-${i + 1}`,
      nodeId: i + 1,
      roles: i < controllers ? 'broker,controller' : 'broker',
      brokerPort: basePort + 100 * i,
      ...(i < controllers ? { controllerPort: basePort + 100 * i + 1 } : {}),
      ...(metrics ? { metricsPort: basePort + 100 * i + 2 } : {}),
      dataDir: join(dataDir, i < controllers ? `node-${i + 1}` : `broker-${i + 1}`),
    }));
  }
  // Separate processes: controllers take ids 1..C, brokers C+1..C+B (Kafka's examples do the same);
  // each is named by its id (broker-4), the one name the cluster itself can report.
  const controllerNodes = Array.from({ length: controllers }, (_, i) => ({
    name: `controller-${i + 1}`,
    nodeId: i + 1,
    roles: 'controller',
    controllerPort: basePort + 100 * i + 1,
    ...(metrics ? { metricsPort: basePort + 100 * i + 3 } : {}),
    dataDir: join(dataDir, `controller-${i + 1}`),
  }));
  const brokerNodes = Array.from({ length: brokers }, (_, i) => ({
    name: `broker-${controllers + i + 1}`,
    nodeId: controllers + i + 1,
    roles: 'broker',
    brokerPort: basePort + 100 * i,
    ...(metrics ? { metricsPort: basePort + 100 * i + 2 } : {}),
    dataDir: join(dataDir, `broker-${controllers + i + 1}`),
  }));
  return [...controllerNodes, ...brokerNodes];
}

/** The `samsa node` command line of each planned node. */
export function nodeRecords(
  plan: readonly NodeSpec[],
  host: string,
  logLevel: string,
  cli = CLI,
  node = process.execPath,
  security?: ClientListenerSecurity,
): NodeRecord[] {
  const voters = plan
    .filter((n) => n.controllerPort !== undefined)
    .map((n) => `${n.nodeId}@${host}:${n.controllerPort}`)
    .join(',');
  // Kafka's default offsets.topic.replication.factor (3) could never be met by a smaller cluster.
  const brokers = plan.filter((n) => n.brokerPort !== undefined).length;
  return plan.map((spec) => {
    const argv = [
      node,
      ...NODE_V8_FLAGS,
      cli,
      'node',
      '--roles',
      spec.roles,
      '--node-id',
      String(spec.nodeId),
      '--controller-quorum-voters',
      voters,
      '--data-dir',
      spec.dataDir,
      '--log-level',
      logLevel,
    ];
    if (spec.brokerPort !== undefined && spec.clientPort !== undefined && security) {
      // PLAINTEXT stays for replication and administration (inter-broker authentication is not built).
      argv.push(
        '--listen',
        `PLAINTEXT://${host}:${spec.brokerPort},CLIENT://${host}:${spec.clientPort}`,
        '--listener-security-protocol-map',
        `CLIENT:${security.protocol}`,
        '--inter-broker-listener-name',
        'PLAINTEXT',
      );
      if (security.keystoreLocation !== undefined) argv.push('--ssl-keystore-location', security.keystoreLocation);
    } else if (spec.brokerPort !== undefined) argv.push('--listen', `${host}:${spec.brokerPort}`);
    if (spec.brokerPort !== undefined && brokers < 3) argv.push('--offsets-topic-replication-factor', String(brokers));
    if (spec.metricsPort !== undefined) argv.push('--metrics-port', String(spec.metricsPort), '--metrics-host', host);
    return { ...spec, logFile: join(spec.dataDir, 'node.log'), argv };
  });
}

/** The planned ports some other process already listens on (a cluster already running there, say). */
export async function portsInUse(nodes: readonly NodeRecord[], host: string, services: readonly ServiceRecord[] = []): Promise<string[]> {
  const planned: Array<{ port: number; what: string }> = [];
  for (const n of nodes) {
    for (const [what, port] of [
      ['broker', n.brokerPort],
      ['client', n.clientPort],
      ['controller', n.controllerPort],
      ['metrics', n.metricsPort],
    ] as const) {
      if (port !== undefined) planned.push({ port, what: `${n.name} ${what}` });
    }
  }
  for (const s of services) planned.push({ port: s.port, what: s.name });
  const taken: string[] = [];
  for (const { port, what } of planned) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (!free) taken.push(`${host}:${port} (${what})`);
  }
  return taken;
}

/** Ready: every broker registered and unfenced, an active controller, and every internal-topic partition led. */
async function clusterReady(samsa: Samsa, brokers: number): Promise<boolean> {
  const admin = samsa.admin();
  const cluster = await admin.describeCluster();
  if (cluster.brokers.length < brokers || cluster.controllerId < 0) return false;
  const internal = (await admin.describeTopics()).filter((t) => t.isInternal);
  return internal.every((t) => t.partitions.every((p) => p.leader >= 0));
}

/**
 * A closed stdout (`cluster up | head -1`) must not crash a command that supervises nodes or has
 * recorded state: output is dropped instead.
 */
function ignoreClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

async function up(opts: ClusterUpOptions): Promise<void> {
  const t0 = Date.now();
  ignoreClosedStdout();
  const brokers = parseInteger(opts.brokers, '--brokers', 1);
  const controllers = parseInteger(opts.controllers, '--controllers', 1);
  const basePort = parseInteger(opts.basePort, '--base-port', 1);
  const readyTimeoutMs = parseInteger(opts.readyTimeoutMs, '--ready-timeout-ms', 1);
  const secured = opts.tls === true || opts.sasl === true;
  if (basePort + 100 * (Math.max(brokers, controllers) - 1) + (secured ? CLIENT_PORT_OFFSET : 3) > 65535)
    throw new UsageError(`--base-port ${basePort} leaves no room for ${Math.max(brokers, controllers)} nodes below port 65535`);
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const plan = planCluster(brokers, controllers, opts.combined ?? false, basePort, dataDir, opts.metrics).map((n) =>
    secured && n.brokerPort !== undefined ? { ...n, clientPort: n.brokerPort + CLIENT_PORT_OFFSET } : n,
  );
  const security = secured ? await securedClusterFiles(dataDir, opts) : undefined;
  const ports = servicePorts({
    basePort,
    schemaRegistry: opts.schemaRegistry,
    console: opts.console,
    ...(opts.schemaRegistryPort === undefined
      ? {}
      : { schemaRegistryPort: parseInteger(opts.schemaRegistryPort, '--schema-registry-port', 1) }),
    ...(opts.consolePort === undefined ? {} : { consolePort: parseInteger(opts.consolePort, '--console-port', 1) }),
  });
  const nodes = nodeRecords(plan, opts.host, opts.logLevel, CLI, process.execPath, security);
  const bootstrap = plan.filter((n) => n.brokerPort !== undefined).map((n) => `${opts.host}:${n.brokerPort}`);
  const services = serviceRecords(ports, nodes, opts.host, bootstrap, dataDir, opts.logLevel, CLI);
  const state: ClusterState = {
    version: STATE_VERSION,
    mode: opts.detach ? 'detached' : 'foreground',
    host: opts.host,
    bootstrap,
    startedAt: new Date().toISOString(),
    supervisor: { pid: process.pid, argv: systemProbe.cmdline(process.pid) ?? process.argv },
    nodes,
    // Recorded before they start (no PID yet), so a failed start still leaves a state `down` understands.
    ...(services.length > 0 ? { services } : {}),
  };

  // A cluster partly running here is completed, as `docker compose up` does: its missing nodes start.
  const existing = readState(dataDir);
  if (existing && runningProcesses(existing).length > 0) {
    await startMissing(dataDir, existing, state, readyTimeoutMs, t0);
    return;
  }

  // The state file is the claim on the data dir: a second `up` racing this one is refused here, before it starts anything.
  const { replaced } = claimState(dataDir, state);
  if (replaced) process.stdout.write(`replacing ${statePath(dataDir)}: the cluster it records is no longer running\n`);
  for (const node of state.nodes) {
    const holder = lockHolder(node.dataDir);
    if (holder !== undefined) {
      removeState(dataDir);
      throw new Error(
        `${node.dataDir} is in use by process ${holder} (a node this cluster did not start); stop it first or choose another --data-dir`,
      );
    }
  }
  // Another cluster on these ports would answer our readiness checks: refuse before starting anything.
  const taken = await portsInUse(state.nodes, opts.host, services);
  if (taken.length > 0) {
    removeState(dataDir);
    throw new Error(`port(s) already in use: ${taken.join(', ')}; stop what listens there or choose another --base-port`);
  }

  const children: ChildProcess[] = [];
  let stopping = false;
  let detached = false;
  let ready = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping the cluster...\n');
    // As recorded now: `cluster start|restart --node` may have started nodes after us.
    const current = readState(dataDir) ?? state;
    const log = (line: string) => process.stdout.write(`${line}\n`);
    // The services first: they are clients of the brokers.
    const first = await stopNodes(
      (current.services ?? []).filter((s) => s.pid !== undefined),
      { graceMs: 10_000, log },
    );
    const report = await stopNodes(current.nodes, { graceMs: 10_000, log });
    if (report.survivors.length === 0 && first.survivors.length === 0) removeState(dataDir);
    process.exit(code);
  };
  const onSignal = () => void shutdown(0);
  // SIGHUP too: a closed terminal stops the cluster in order rather than orphaning the nodes.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);

  // Where each node's output starts in its (appended) log: readiness looks for its own "broker started" past it.
  const logOffsets = new Map<string, number>();
  const exits = new Map<number, string>();
  for (const node of state.nodes) {
    const { child, logOffset } = spawnNode(node);
    logOffsets.set(node.name, logOffset);
    children.push(child);
    child.once('error', (err) => {
      process.stderr.write(`samsa: cannot start ${node.name}: ${err.message}\n`);
      void shutdown(1);
    });
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) exits.set(child.pid, signal ?? String(code));
      if (stopping || detached || ready) return; // once ready, the watch below reports exits and the rest serve on
      const why = lastError(node.logFile);
      process.stderr.write(
        `samsa: ${node.name} (pid ${child.pid}) exited (${signal ?? code}) while the cluster was starting${why ? `: ${why}` : ''}; see ${node.logFile}\n`,
      );
      void shutdown(1);
    });
    writeState(dataDir, state);
  }

  const samsa = lazyClient(state.bootstrap);
  const deadline = Date.now() + readyTimeoutMs;
  ready = await waitReady(samsa, state, opts.logLevel, logOffsets, deadline, () => stopping);
  if (stopping || !ready) await samsa.close();
  if (stopping) return;
  if (!ready) {
    process.stderr.write(`samsa: the cluster was not ready within ${readyTimeoutMs} ms; node logs are under ${dataDir}\n`);
    await shutdown(1);
    return;
  }

  // The services need a ready cluster (the registry creates its topic at start); each is ready when
  // it answers HTTP. They start together and are waited for together: one after the other, the
  // console's start-up (its modules, its first metadata request) came after the registry's and
  // added ~1.5 s to every `cluster up` on the 2-vCPU machine (scripts/bench-readiness.mjs).
  const serviceExits = services.map((service) => {
    const child = spawnService(service);
    children.push(child);
    let exit: string | undefined;
    child.once('error', (err) => {
      exit = err.message;
    });
    child.once('exit', (code, signal) => {
      exit = signal ?? String(code);
      if (child.pid !== undefined) exits.set(child.pid, exit);
    });
    return () => exit;
  });
  if (services.length > 0) writeState(dataDir, state);
  const failures = await Promise.all(services.map((service, i) => waitServing(service, deadline, serviceExits[i]!, () => stopping)));
  if (stopping) {
    await samsa.close();
    return;
  }
  const failedAt = failures.findIndex((f) => f !== undefined);
  if (failedAt >= 0) {
    await samsa.close();
    const service = services[failedAt]!;
    const why = lastError(service.logFile);
    process.stderr.write(
      `samsa: ${service.name} (pid ${service.pid ?? '-'}) ${failures[failedAt]} while the cluster was starting${why ? `: ${why}` : ''}; ` +
        `see ${service.logFile} (--no-${service.name} skips it)\n`,
    );
    await shutdown(1);
    return;
  }
  const readyMs = Date.now() - t0;

  if (opts.detach) {
    // The nodes run on without us: forget them, so this process can exit.
    detached = true;
    delete state.supervisor;
    writeState(dataDir, state);
    for (const child of children) child.unref();
    for (const signal of signals) process.off(signal, onSignal);
  }
  const { formatStatus, gatherStatus } = await import('../cluster/status.js');
  const status = await gatherStatus({ state, bootstrap: state.bootstrap, samsa: await samsa.get() });
  await samsa.close();
  process.stdout.write(formatStatus(status));
  if (security) await printSecuredAccess(dataDir, opts, security, plan);
  process.stdout.write(
    opts.detach
      ? `ready in ${readyMs} ms; logs under ${dataDir}; stop it with: samsa cluster down --data-dir ${dataDir}\n`
      : `ready in ${readyMs} ms; logs under ${dataDir}; Ctrl-C stops every node\n`,
  );
  if (!opts.detach)
    watchNodes(dataDir, state, exits, new Set(children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]))), () => stopping);
}

/** Every recorded process `watchNodes` reports on: the nodes, then the services. */
function watched(state: ClusterState): Array<NodeRecord | ServiceRecord> {
  return [...state.nodes, ...(state.services ?? [])];
}

/**
 * Foreground: reports each recorded node that stops running (with its exit and last error line)
 * and each that runs again, from the state file, so nodes started by `cluster start --node` count
 * too. The other nodes serve on; only Ctrl-C (or `cluster down`) stops the cluster.
 */
function watchNodes(
  dataDir: string,
  initial: ClusterState,
  exits: Map<number, string>,
  ours: ReadonlySet<number>,
  stopping: () => boolean,
): void {
  const seen = new Map<string, number | undefined>(watched(initial).map((n) => [n.name, n.pid]));
  // A child of ours that died is a zombie (no cmdline) before Node delivers its 'exit' event: wait
  // up to 2 s for that event so the report can say how it exited (SIGKILL, 1, ...).
  const waitingSince = new Map<number, number>();
  const timer = setInterval(() => {
    if (stopping()) return clearInterval(timer);
    let state: ClusterState | undefined;
    try {
      state = readState(dataDir);
    } catch {
      return; // being rewritten; next tick
    }
    if (!state) return;
    for (const node of watched(state)) {
      const running = processState(node.pid, node.argv) === 'running';
      const was = seen.get(node.name);
      if (running && was !== node.pid) {
        process.stdout.write(`${node.name} (pid ${node.pid}) is running\n`);
        seen.set(node.name, node.pid);
      } else if (!running && was !== undefined) {
        if (ours.has(was) && !exits.has(was) && !node.stopped) {
          const since = waitingSince.get(was) ?? Date.now();
          waitingSince.set(was, since);
          if (Date.now() - since < 2_000) continue;
        }
        waitingSince.delete(was);
        seen.set(node.name, undefined);
        if (node.stopped) {
          process.stdout.write(`${node.name} (pid ${was}) stopped (cluster stop|kill)\n`);
          continue;
        }
        const why = lastError(node.logFile);
        const how = exits.get(was);
        const rest = 'nodeId' in node ? 'the other nodes serve on' : 'the cluster serves on';
        process.stderr.write(
          `samsa: ${node.name} (pid ${was}) exited${how ? ` (${how})` : ''}${why ? `: ${why}` : ''}; ${rest}; ` +
            `restart it with: samsa cluster start --node ${node.name} --data-dir ${dataDir}\n`,
        );
      }
    }
  }, 250);
}

/** A client made at its first use. */
interface LazyClient {
  get(): Promise<Samsa>;
  close(): Promise<void>;
}

/**
 * The client `up` asks for readiness and status, loaded only when it is first asked for: after the
 * brokers logged "broker started" (waitReady reads their logs first). Loading it (gRPC, protocol:
 * ~250 ms of CPU) while the nodes load theirs took a share of the two cores they wait for.
 */
function lazyClient(brokers: string[]): LazyClient {
  let made: Promise<Samsa> | undefined;
  return {
    get: () =>
      (made ??= import('@samsa/client').then(({ Samsa }) => new Samsa({ brokers, requestTimeoutMs: 2_000, retry: { retries: 0 } }))),
    close: async () => {
      if (made) await (await made).close();
    },
  };
}

/**
 * Ready: every broker of `state` logged its "broker started" past its offset (when it logs at
 * info) and registered unfenced, an active controller, and every internal-topic partition led.
 */
async function waitReady(
  samsa: LazyClient,
  state: ClusterState,
  logLevel: string,
  logOffsets: Map<string, number>,
  deadline: number,
  stopping: () => boolean,
): Promise<boolean> {
  // The "broker started" line is logged at info: above that level (warn, error, silent) only the
  // metadata check proves readiness (the ports were free when we started, checked above).
  const startLineLogged = ['trace', 'debug', 'info'].includes(logLevel);
  while (!stopping() && Date.now() < deadline) {
    try {
      const started = state.nodes.every(
        (n) =>
          n.brokerPort === undefined || !startLineLogged || !logOffsets.has(n.name) || brokerStarted(n.logFile, logOffsets.get(n.name)!),
      );
      if (started && (await clusterReady(await samsa.get(), state.bootstrap.length))) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** `cluster up` on a data dir whose cluster is partly running: start the recorded nodes that are not. */
async function startMissing(
  dataDir: string,
  existing: ClusterState,
  planned: ClusterState,
  readyTimeoutMs: number,
  t0: number,
): Promise<void> {
  const layout = (s: ClusterState) => s.nodes.map((n) => `${n.name}:${n.brokerPort ?? ''}:${n.controllerPort ?? ''}`).join(',');
  if (layout(existing) !== layout(planned)) {
    throw new UsageError(
      `${statePath(dataDir)} records another cluster layout (${existing.nodes.map((n) => n.name).join(', ')}); ` +
        `run cluster up with the flags it was started with, or cluster down --data-dir ${dataDir} first`,
    );
  }
  const missing = existing.nodes.filter((n) => processState(n.pid, n.argv) !== 'running');
  const missingServices = (existing.services ?? []).filter((s) => processState(s.pid, s.argv) !== 'running');
  const servicesTaken = await portsInUse([], existing.host, missingServices);
  if (servicesTaken.length > 0) throw new Error(`port(s) already in use: ${servicesTaken.join(', ')}; stop what listens there first`);
  if (missing.length === 0) {
    process.stdout.write(`every node of the cluster in ${dataDir} is running already\n`);
  } else {
    for (const node of missing) {
      const holder = lockHolder(node.dataDir);
      if (holder !== undefined)
        throw new Error(`${node.dataDir} is in use by process ${holder} (not the recorded ${node.name}); stop it first`);
    }
    const taken = await portsInUse(missing, existing.host);
    if (taken.length > 0) throw new Error(`port(s) already in use: ${taken.join(', ')}; stop what listens there first`);
  }
  const logOffsets = new Map<string, number>();
  for (const node of missing) {
    const { child, logOffset } = spawnNode(node);
    delete node.stopped;
    logOffsets.set(node.name, logOffset);
    child.unref();
    recordNode(dataDir, node, existing);
    process.stdout.write(`${node.name} (pid ${node.pid}) starting\n`);
  }
  const samsa = lazyClient(existing.bootstrap);
  try {
    const ready = await waitReady(
      samsa,
      existing,
      existing.nodes[0]!.argv[existing.nodes[0]!.argv.indexOf('--log-level') + 1] ?? 'info',
      logOffsets,
      Date.now() + readyTimeoutMs,
      () => false,
    );
    if (!ready) throw new Error(`the cluster was not ready within ${readyTimeoutMs} ms; node logs are under ${dataDir}`);
    for (const service of missingServices) {
      const child = spawnService(service);
      delete service.stopped;
      let exit: string | undefined;
      child.once('exit', (code, signal) => {
        exit = signal ?? String(code);
      });
      child.unref();
      recordService(dataDir, service, existing);
      process.stdout.write(`${service.name} (pid ${service.pid}) starting\n`);
      const failed = await waitServing(service, t0 + readyTimeoutMs, () => exit);
      if (failed !== undefined) throw new Error(`${service.name} (pid ${service.pid}) ${failed}; see ${service.logFile}`);
    }
    const { formatStatus, gatherStatus } = await import('../cluster/status.js');
    process.stdout.write(
      formatStatus(await gatherStatus({ state: readState(dataDir) ?? existing, bootstrap: existing.bootstrap, samsa: await samsa.get() })),
    );
    process.stdout.write(
      `ready in ${Date.now() - t0} ms (${missing.length} node(s)${missingServices.length > 0 ? ` and ${missingServices.length} service(s)` : ''} started; the cluster runs ${existing.mode === 'foreground' ? 'under its first cluster up' : 'detached'}); ` +
        `stop it with: samsa cluster down --data-dir ${dataDir}\n`,
    );
  } finally {
    await samsa.close();
  }
}

interface ClusterDownOptions {
  dataDir: string;
  timeoutMs: string;
}

async function down(opts: ClusterDownOptions): Promise<void> {
  const dataDir = resolve(opts.dataDir);
  const graceMs = parseInteger(opts.timeoutMs, '--timeout-ms', 0);
  const state = readState(dataDir);
  if (!state) throw new UsageError(`no cluster is recorded in ${dataDir} (no ${STATE_FILE}); nothing to stop`);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const supervisor = state.supervisor;
  let nodes = state.nodes;
  if (supervisor && processState(supervisor.pid, supervisor.argv) === 'running') {
    // A foreground `cluster up` stops its nodes itself, in order, and removes the state file.
    log(`cluster up (pid ${supervisor.pid}) runs this cluster in the foreground; sending it SIGTERM`);
    const running = [...(state.services ?? []), ...nodes].filter((n) => processState(n.pid, n.argv) === 'running');
    process.kill(supervisor.pid, 'SIGTERM');
    if (await waitAllGone(running, 2 * graceMs + 5_000)) log(`cluster up (pid ${supervisor.pid}) stopped ${running.length} process(es)`);
    else log('some nodes are still running; stopping them by PID');
    nodes = nodes.filter((n) => !running.includes(n) || processState(n.pid, n.argv) === 'running');
    state.services = (state.services ?? []).filter((s) => processState(s.pid, s.argv) === 'running');
  }
  // The services first: they are clients of the brokers (a foreground `up` stopped them already when it ran).
  const serviceReport = await stopNodes(
    (state.services ?? []).filter((s) => s.pid !== undefined),
    { graceMs, log },
  );
  const report = await stopNodes(nodes, { graceMs, log });
  const survivors = [...serviceReport.survivors, ...report.survivors];
  if (survivors.length > 0) {
    throw new Error(`${survivors.join(', ')} still running after SIGKILL; ${statePath(dataDir)} is kept`);
  }
  removeState(dataDir);
  const stopped = report.stopped.length + report.killed.length;
  const services = serviceReport.stopped.length + serviceReport.killed.length;
  const summary =
    nodes.length === 0
      ? ''
      : `stopped ${stopped} node(s)${report.killed.length > 0 ? ` (${report.killed.length} with SIGKILL)` : ''}` +
        `${report.gone.length > 0 ? `, ${report.gone.length} already gone` : ''}${services > 0 ? ` and ${services} service(s)` : ''}; `;
  log(`${summary}removed ${statePath(dataDir)}`);
}

interface ClusterStatusOptions {
  dataDir?: string;
  bootstrapServer?: string;
  watch?: string | boolean;
}

async function status(opts: ClusterStatusOptions): Promise<void> {
  const dataDir = opts.dataDir === undefined && opts.bootstrapServer !== undefined ? undefined : resolve(opts.dataDir ?? './data');
  const explicit = opts.bootstrapServer === undefined ? undefined : parseBootstrap(opts.bootstrapServer);
  const intervalMs =
    opts.watch === undefined || opts.watch === false ? undefined : opts.watch === true ? 2_000 : parseDurationMs(opts.watch, '--watch');
  if (intervalMs !== undefined && intervalMs < 100) throw new UsageError('--watch interval must be at least 100ms');

  const once = async (): Promise<{ text: string; ok: boolean }> => {
    const state = dataDir === undefined ? undefined : readState(dataDir);
    if (!state && !explicit) {
      throw new UsageError(
        `no cluster is recorded in ${dataDir} (no ${STATE_FILE}); give --bootstrap-server HOST:PORT to ask a running cluster`,
      );
    }
    const { formatStatus, gatherStatus } = await import('../cluster/status.js');
    const s = await gatherStatus({ ...(state ? { state } : {}), bootstrap: explicit ?? state!.bootstrap });
    const head = state
      ? `cluster in ${dataDir} (${state.mode}, started ${state.startedAt})${s.clusterId ? `, cluster id ${s.clusterId}` : ''}\n`
      : s.clusterId
        ? `cluster id ${s.clusterId}\n`
        : '';
    return { text: head + formatStatus(s), ok: s.reachable };
  };

  if (intervalMs === undefined) {
    const { text, ok } = await once();
    process.stdout.write(text);
    if (!ok) process.exitCode = 1;
    return;
  }
  ignoreClosedStdout();
  process.on('SIGINT', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  const tty = process.stdout.isTTY === true;
  for (;;) {
    let text: string;
    try {
      text = (await once()).text;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      text = `status failed: ${(err as Error).message}\n`;
    }
    const stamp = `${new Date().toISOString()}  (every ${intervalMs} ms; Ctrl-C to stop)\n`;
    process.stdout.write(tty ? `\x1b[H\x1b[2J${stamp}${text}` : `--- ${stamp}${text}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('run a local Samsa cluster (up, down, status)');
  cluster
    .command('up')
    .description('start a local cluster, wait until it is ready and print its bootstrap address and nodes')
    .option('--brokers <n>', 'number of brokers', '3')
    .option('--controllers <n>', 'number of controllers (the Raft quorum)', '3')
    .option('--combined', 'run nodes with both roles instead of separate controllers and brokers')
    .option('--data-dir <dir>', "root of every node's data directory (the state file is <dir>/cluster.json)", './data')
    .option('--base-port <port>', 'first broker port', '9092')
    .option('--host <host>', 'address every node listens on', '127.0.0.1')
    .option('--log-level <level>', 'node log level (logs go to <data-dir>/<node>/node.log)', 'info')
    .option('--ready-timeout-ms <ms>', 'give up when the cluster is not ready within this', '60000')
    .option('--detach', 'leave the nodes running in the background and exit once ready (stop with cluster down)')
    .option('--tls', 'a TLS client listener on each broker (broker port + 4), with a throwaway CA under <data-dir>/tls (needs openssl)')
    .option('--sasl', 'a SASL client listener on each broker (SASL_SSL with --tls) and a SCRAM user admin; prints how to connect')
    .option('--no-metrics', 'do not serve Prometheus metrics (default: each node on its own port, see the METRICS column)')
    .option('--no-schema-registry', 'do not start the schema registry (default: on base-port - 1011, 8081 for the default base port)')
    .option('--schema-registry-port <port>', "the schema registry's port instead of base-port - 1011")
    .option('--no-console', 'do not start the Samsa Console (default: on base-port - 1012, 8080 for the default base port)')
    .option('--console-port <port>', "the console's port instead of base-port - 1012")
    .action(up);
  cluster
    .command('down')
    .description('stop the cluster recorded in the data dir: brokers first, then controllers')
    .option('--data-dir <dir>', 'the data dir given to cluster up', './data')
    .option('--timeout-ms <ms>', 'how long each node may take after SIGTERM before it gets SIGKILL', '15000')
    .action(down);
  cluster
    .command('status')
    .description('the nodes, the active controller and quorum, and under-replicated and offline partitions')
    .option('--data-dir <dir>', 'the data dir given to cluster up (default ./data)')
    .option('--bootstrap-server <host:port>', 'ask this cluster (without --data-dir: no PIDs, nodes as the cluster reports them)')
    .option('--watch [interval]', 'redraw every interval (default 2s) until Ctrl-C')
    .action(status);
  registerNodeCommands(cluster);
}

/** --tls: the CA and broker keystore under <data-dir>/tls (kept across restarts of the same data dir). */
async function securedClusterFiles(dataDir: string, opts: ClusterUpOptions): Promise<ClientListenerSecurity> {
  const protocol = opts.tls && opts.sasl ? 'SASL_SSL' : opts.tls ? 'SSL' : 'SASL_PLAINTEXT';
  if (!opts.tls) return { protocol };
  const tlsDir = join(dataDir, 'tls');
  const { makeClusterCertificates } = await import('../cluster/certificates.js');
  const keystoreLocation = join(tlsDir, 'broker.keystore.pem');
  if (!existsSync(keystoreLocation)) makeClusterCertificates(tlsDir, opts.host);
  return { protocol, keystoreLocation };
}

/**
 * Once ready: with --sasl an admin SCRAM user (a random password, kept only in the files below);
 * then <data-dir>/client.properties (Kafka's client configs: samsa --command-config, Kafka's tools)
 * and <data-dir>/kcat.conf (librdkafka's names: kcat -F), and how to connect.
 */
async function printSecuredAccess(
  dataDir: string,
  opts: ClusterUpOptions,
  security: ClientListenerSecurity,
  plan: readonly NodeSpec[],
): Promise<void> {
  const clients = plan.flatMap((n) => (n.clientPort === undefined ? [] : [`${opts.host}:${n.clientPort}`]));
  const plaintext = plan.flatMap((n) => (n.brokerPort === undefined ? [] : [`${opts.host}:${n.brokerPort}`]));
  const ca = join(dataDir, 'tls', 'ca.pem');
  const props = [`bootstrap.servers=${clients.join(',')}`, `security.protocol=${security.protocol}`];
  const kcat = [`bootstrap.servers=${clients.join(',')}`, `security.protocol=${security.protocol.toLowerCase()}`];
  let sdk = `new Samsa({ brokers: ${JSON.stringify(clients)}`;
  if (opts.tls) {
    props.push('ssl.truststore.type=PEM', `ssl.truststore.location=${ca}`);
    kcat.push(`ssl.ca.location=${ca}`);
    sdk += `, ssl: { ca: [readFileSync(${JSON.stringify(ca)}, 'utf8')] }`;
  }
  if (opts.sasl) {
    const password = randomBytes(18).toString('hex');
    const { upsertScramUser } = await import('./configs.js');
    await upsertScramUser(plaintext[0]!, 'admin', password);
    props.push(
      'sasl.mechanism=SCRAM-SHA-256',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${password}";`,
    );
    kcat.push('sasl.mechanisms=SCRAM-SHA-256', 'sasl.username=admin', `sasl.password=${password}`);
    sdk += `, sasl: { mechanism: 'scram-sha-256', username: 'admin', password: '<sasl.jaas.config in client.properties>' }`;
  }
  sdk += ' })';
  const propsFile = join(dataDir, 'client.properties');
  const kcatFile = join(dataDir, 'kcat.conf');
  writeFileSync(propsFile, `${props.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(kcatFile, `${kcat.join('\n')}\n`, { mode: 0o600 });
  process.stdout.write(
    [
      `${security.protocol} client listeners: ${clients.join(',')} (PLAINTEXT ${plaintext.join(',')} stays for replication and admin: keep it local)`,
      ...(opts.sasl ? ['SCRAM user admin created (SCRAM-SHA-256 and SCRAM-SHA-512); its password is in the files below'] : []),
      ...(opts.tls ? [`CA certificate: ${ca}`] : []),
      `samsa / Kafka tools: samsa topics --bootstrap-server ${clients[0]} --list --command-config ${propsFile}`,
      `kcat:                kcat -F ${kcatFile} -L`,
      `SDK / KafkaJS:       ${sdk}`,
      '',
    ].join('\n'),
  );
}
