/**
 * The state file of a local cluster, `<data-dir>/cluster.json`: which `samsa node` processes
 * `cluster up` started (PID, exact command line, ports, roles), so `cluster status` and
 * `cluster down` find them after `up --detach` has exited.
 *
 * Claiming: `up` creates the file exclusively (O_EXCL) before it starts anything. If the file
 * exists and any process it records still runs, the data dir is in use and `up` is refused; if
 * none runs (a crash, a reboot), the file is stale and is replaced.
 *
 * A recorded PID counts as ours only while /proc/<pid>/cmdline is exactly the command we
 * started: PIDs are reused, and `down` must never signal a process it did not start.
 *
 * Besides the nodes, `services` records the cluster's HTTP services that `up` starts once the
 * cluster is ready (the schema registry and the console, each a `samsa schema-registry|console`
 * process): the same PID and command-line rules, stopped before the brokers. The field is
 * optional, so a state file written before services existed still reads.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_FILE = 'cluster.json';
export const STATE_VERSION = 1;

export interface NodeRecord {
  name: string;
  nodeId: number;
  /** 'broker', 'controller' or 'broker,controller'. */
  roles: string;
  brokerPort?: number;
  /** The secured CLIENT listener (cluster up --tls / --sasl). */
  clientPort?: number;
  controllerPort?: number;
  metricsPort?: number;
  dataDir: string;
  logFile: string;
  /** Set once the process is started. */
  pid?: number;
  /** The exact command line it was started with (argv[0] is the node binary). */
  argv: string[];
  /** Stopped on purpose (`cluster stop|kill --node`): status says stopped, not gone; `start` clears it. */
  stopped?: boolean;
}

/** One of the cluster's services (`schema-registry`, `console`): a `samsa` process that is a client of the cluster. */
export interface ServiceRecord {
  /** 'schema-registry' or 'console': also the name `cluster stop|start|restart --node` takes. */
  name: string;
  port: number;
  /** What clients and browsers use (http://host:port). */
  url: string;
  logFile: string;
  pid?: number;
  argv: string[];
  /** Stopped on purpose (`cluster stop|kill --node`). */
  stopped?: boolean;
}

export interface ClusterState {
  version: number;
  /** 'foreground': the `cluster up` process (supervisor) runs until Ctrl-C; 'detached': the nodes run on their own. */
  mode: 'foreground' | 'detached';
  host: string;
  bootstrap: string[];
  startedAt: string;
  /** The `cluster up` process while it supervises (always in foreground mode; until ready when detached). */
  supervisor?: { pid: number; argv: string[] };
  nodes: NodeRecord[];
  /** Started after the nodes were ready; absent when none was (`--no-schema-registry --no-console`). */
  services?: ServiceRecord[];
}

/** How a PID is looked at: injectable so the rules can be tested without real processes. */
export interface ProcessProbe {
  /** The command line of a live process; undefined when there is none (exited, or a zombie). */
  cmdline(pid: number): string[] | undefined;
}

export type ProcessState = 'running' | 'gone' | 'replaced';

/** Linux's /proc; `ps` where there is no /proc (macOS). */
export const systemProbe: ProcessProbe = {
  cmdline(pid) {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    if (existsSync('/proc/self/cmdline')) {
      try {
        // A zombie (exited, not yet reaped) has state Z after the command name: it is gone.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
        const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const argv = raw.split('\0');
        if (argv.at(-1) === '') argv.pop();
        return argv;
      } catch {
        return undefined;
      }
    }
    const ps = spawnSync('ps', ['-p', String(pid), '-o', 'stat=,args='], { encoding: 'utf8' });
    const line = ps.status === 0 ? ps.stdout.trim() : '';
    if (line === '' || line.startsWith('Z')) return undefined;
    return [line.slice(line.indexOf(' ') + 1).trim()];
  },
};

/** Whether `pid` is still the process started with `argv` (ps gives one space-joined string). */
export function processState(pid: number | undefined, argv: readonly string[], probe: ProcessProbe = systemProbe): ProcessState {
  if (pid === undefined) return 'gone';
  const actual = probe.cmdline(pid);
  if (actual === undefined) return 'gone';
  const same =
    actual.length === 1 && argv.length > 1
      ? actual[0] === argv.join(' ')
      : actual.length === argv.length && actual.every((a, i) => a === argv[i]);
  return same ? 'running' : 'replaced';
}

/** The recorded processes (supervisor included) that still run as recorded. */
export function runningProcesses(state: ClusterState, probe: ProcessProbe = systemProbe): Array<{ name: string; pid: number }> {
  const out: Array<{ name: string; pid: number }> = [];
  if (state.supervisor && processState(state.supervisor.pid, state.supervisor.argv, probe) === 'running') {
    out.push({ name: 'cluster up', pid: state.supervisor.pid });
  }
  for (const n of [...state.nodes, ...(state.services ?? [])]) {
    if (n.pid !== undefined && processState(n.pid, n.argv, probe) === 'running') out.push({ name: n.name, pid: n.pid });
  }
  return out;
}

export function statePath(dataDir: string): string {
  return join(dataDir, STATE_FILE);
}

/** The recorded state, or undefined when there is no state file. A malformed file is an error naming it. */
export function readState(dataDir: string): ClusterState | undefined {
  const file = statePath(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseState(text, file);
}

function badProcess(n: unknown): boolean {
  const r = n as Partial<NodeRecord> | null;
  return (
    typeof r !== 'object' ||
    r === null ||
    typeof r.name !== 'string' ||
    !Array.isArray(r.argv) ||
    (r.pid !== undefined && !Number.isInteger(r.pid))
  );
}

export function parseState(text: string, file: string): ClusterState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); if no cluster runs there, remove it`);
  }
  const s = value as Partial<ClusterState>;
  if (
    typeof s !== 'object' ||
    s === null ||
    s.version !== STATE_VERSION ||
    !Array.isArray(s.nodes) ||
    !Array.isArray(s.bootstrap) ||
    s.nodes.some(badProcess) ||
    (s.services !== undefined && (!Array.isArray(s.services) || s.services.some(badProcess)))
  ) {
    throw new Error(`${file} is not a samsa cluster state file (version ${STATE_VERSION}); if no cluster runs there, remove it`);
  }
  return s as ClusterState;
}

/** Replaces the state file atomically (write a temporary file, then rename over it). */
export function writeState(dataDir: string, state: ClusterState): void {
  const file = statePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function removeState(dataDir: string): void {
  rmSync(statePath(dataDir), { force: true });
}

export class ClusterInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly running: Array<{ name: string; pid: number }>,
  ) {
    super(
      `data directory ${dataDir} is in use by a running cluster (${running.map((r) => `${r.name} pid ${r.pid}`).join(', ')}); ` +
        `stop it with 'samsa cluster down --data-dir ${dataDir}' or choose another --data-dir`,
    );
    this.name = 'ClusterInUseError';
  }
}

/**
 * Creates the state file exclusively. When one exists: refused (ClusterInUseError) if any process
 * it records still runs, replaced if none does; the stale state is returned so the caller can say so.
 */
export function claimState(dataDir: string, state: ClusterState, probe: ProcessProbe = systemProbe): { replaced?: ClusterState } {
  const file = statePath(dataDir);
  let replaced: ClusterState | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
      } finally {
        closeSync(fd);
      }
      return replaced === undefined ? {} : { replaced };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let existing: ClusterState;
    try {
      existing = parseState(readFileSync(file, 'utf8'), file);
    } catch (err) {
      // Being written right now by another `up` (empty or half-written): in use.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const running = runningProcesses(existing, probe);
    if (running.length > 0) throw new ClusterInUseError(dataDir, running);
    replaced = existing;
    rmSync(file, { force: true });
  }
  throw new Error(`could not claim ${file}: another 'samsa cluster up' is starting on ${dataDir}`);
}

/** A node data dir held by a live process (its `.lock`, written by the node itself), or undefined. */
export function lockHolder(nodeDataDir: string, probe: ProcessProbe = systemProbe): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(nodeDataDir, '.lock'), 'utf8'), 10);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && probe.cmdline(pid) !== undefined ? pid : undefined;
}
