/**
 * The services `cluster up` starts once its nodes are ready: the schema registry (`samsa
 * schema-registry`, Confluent's Schema Registry API) and the console (`samsa console`), each its own
 * process and process group like the nodes, recorded in the state file so `status`, `down`, Ctrl-C
 * and `cluster stop|start|restart|kill --node NAME` treat them as they treat a node. Confluent's
 * `confluent local services start` starts the registry alongside the brokers the same way.
 *
 * Ports follow the base port as the nodes' do: the registry at base-port-1011 and the console at
 * base-port-1012, so the default 9092 gives Confluent's 8081 and the console's 8080.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { readState, writeState, type ClusterState, type NodeRecord, type ServiceRecord } from './state.js';

export const SCHEMA_REGISTRY = 'schema-registry';
export const CONSOLE = 'console';
export const SERVICE_NAMES = [SCHEMA_REGISTRY, CONSOLE] as const;

/** How far below the base port each service listens (9092 - 1011 = 8081, Confluent's registry port). */
const OFFSET = { [SCHEMA_REGISTRY]: 1011, [CONSOLE]: 1012 } as const;

export interface ServicePlanOptions {
  basePort: number;
  schemaRegistry: boolean;
  console: boolean;
  /** Explicit ports (--schema-registry-port, --console-port) instead of the derived ones. */
  schemaRegistryPort?: number;
  consolePort?: number;
}

/** The port of each enabled service; a derived port below 1 is a usage error naming the flag that avoids it. */
export function servicePorts(opts: ServicePlanOptions): Array<{ name: string; port: number }> {
  const out: Array<{ name: string; port: number }> = [];
  const pick = (name: typeof SCHEMA_REGISTRY | typeof CONSOLE, enabled: boolean, explicit: number | undefined, flag: string) => {
    if (!enabled) return;
    const port = explicit ?? opts.basePort - OFFSET[name];
    if (port < 1)
      throw new UsageError(
        `--base-port ${opts.basePort} leaves no port for the ${name} (base port - ${OFFSET[name]}); give ${flag} or --no-${name}`,
      );
    out.push({ name, port });
  };
  pick(SCHEMA_REGISTRY, opts.schemaRegistry, opts.schemaRegistryPort, '--schema-registry-port');
  pick(CONSOLE, opts.console, opts.consolePort, '--console-port');
  return out;
}

/** The `samsa schema-registry|console` command line of each service, against the cluster's brokers (and nodes' metrics). */
export function serviceRecords(
  ports: ReadonlyArray<{ name: string; port: number }>,
  nodes: readonly NodeRecord[],
  host: string,
  bootstrap: readonly string[],
  dataDir: string,
  logLevel: string,
  cli: string,
  node = process.execPath,
): ServiceRecord[] {
  // The registry logs through pino with these levels only; trace/silent map to the nearest.
  const registryLevel = logLevel === 'trace' ? 'debug' : logLevel === 'silent' || logLevel === 'fatal' ? 'error' : logLevel;
  const metrics = nodes.filter((n) => n.metricsPort !== undefined).map((n) => `${host}:${n.metricsPort}`);
  // The console's Schemas view asks the registry this cluster starts (when it starts one).
  const registry = ports.find((p) => p.name === SCHEMA_REGISTRY);
  return ports.map(({ name, port }) => {
    const argv =
      name === SCHEMA_REGISTRY
        ? [
            node,
            cli,
            'schema-registry',
            '--bootstrap-server',
            bootstrap.join(','),
            '--listeners',
            `http://${host}:${port}`,
            '--log-level',
            registryLevel,
          ]
        : [
            node,
            cli,
            'console',
            '--bootstrap-server',
            bootstrap.join(','),
            '--listen',
            `${host}:${port}`,
            ...(metrics.length > 0 ? ['--metrics-servers', metrics.join(',')] : []),
            ...(registry ? ['--schema-registry', `http://${host}:${registry.port}`] : []),
          ];
    return { name, port, url: `http://${host}:${port}`, logFile: join(dataDir, name, `${name}.log`), argv };
  });
}

/** Starts the service's recorded command line in its own process group, output appended to its log. */
export function spawnService(service: ServiceRecord): ChildProcess {
  mkdirSync(dirname(service.logFile), { recursive: true });
  const fd = openSync(service.logFile, 'a');
  const child = spawn(service.argv[0]!, service.argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid !== undefined) service.pid = child.pid;
  return child;
}

/** The path that proves a service serves: the registry's subject list, the console's overview (it asks the cluster). */
export function readinessPath(service: Pick<ServiceRecord, 'name'>): string {
  return service.name === SCHEMA_REGISTRY ? '/subjects' : '/api/overview';
}

/** Whether the service answers its readiness path with 200 (bounded by `timeoutMs`). */
export async function serviceAnswers(service: Pick<ServiceRecord, 'name' | 'url'>, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(`${service.url}${readinessPath(service)}`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Waits until the service answers, it exits (returns why) or the deadline passes (returns so).
 * `exited` reports the child's exit once it happened.
 */
export async function waitServing(
  service: ServiceRecord,
  deadline: number,
  exited: () => string | undefined,
  stopping: () => boolean = () => false,
): Promise<string | undefined> {
  while (!stopping()) {
    const exit = exited();
    if (exit !== undefined) return `exited (${exit})`;
    if (await serviceAnswers(service)) return undefined;
    if (Date.now() >= deadline) return 'did not answer in time';
    await new Promise((r) => setTimeout(r, 100));
  }
  return 'stopping';
}

/** The service named `ref`, or undefined. */
export function findService(state: ClusterState, ref: string): ServiceRecord | undefined {
  return (state.services ?? []).find((s) => s.name === ref);
}

/** Updates one service's record in the state file as it is on disk now. */
export function recordService(dataDir: string, service: ServiceRecord, fallback: ClusterState): void {
  const current = readState(dataDir) ?? fallback;
  const services = current.services ?? [];
  const i = services.findIndex((s) => s.name === service.name);
  if (i < 0) services.push({ ...service });
  else services[i] = { ...service };
  current.services = services;
  writeState(dataDir, current);
}
