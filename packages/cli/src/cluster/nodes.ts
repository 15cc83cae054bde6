/**
 * One node of a recorded local cluster, by itself: find it by the name `cluster status` prints or
 * by its node id, start it as `cluster up` does (its own process group, output appended to its
 * node.log) and record the new PID in the state file, so `status` and `down` know every process
 * whoever started it. Kafka has no such tool (its quickstart runs one shell per node); this is the
 * `docker compose stop|start|restart|kill SERVICE` of a `samsa cluster`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { readState, writeState, type ClusterState, type NodeRecord } from './state.js';

/** The node `ref` names: its name (broker-4) or its node id (4). */
export function findNode(state: ClusterState, ref: string): NodeRecord {
  const byName = state.nodes.find((n) => n.name === ref);
  const node = byName ?? (/^\d+$/.test(ref) ? state.nodes.find((n) => n.nodeId === Number(ref)) : undefined);
  if (!node)
    throw new UsageError(
      `no node '${ref}' in this cluster; its nodes are ${state.nodes.map((n) => `${n.name} (id ${n.nodeId})`).join(', ')}`,
    );
  return node;
}

/** Starts the node's recorded command line; returns the child and where its new output starts in node.log. */
export function spawnNode(node: NodeRecord): { child: ChildProcess; logOffset: number } {
  mkdirSync(node.dataDir, { recursive: true });
  const fd = openSync(node.logFile, 'a');
  const logOffset = fstatSync(fd).size;
  // Its own process group: a Ctrl-C in the terminal reaches only `cluster up`, which stops the nodes in order.
  const child = spawn(node.argv[0]!, node.argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid !== undefined) node.pid = child.pid;
  return { child, logOffset };
}

/**
 * Updates one node's record in the state file as it is on disk now (another command may have
 * recorded other nodes' PIDs since this one read it).
 */
export function recordNode(dataDir: string, node: NodeRecord, fallback: ClusterState): void {
  const current = readState(dataDir) ?? fallback;
  const i = current.nodes.findIndex((n) => n.name === node.name);
  if (i < 0) return;
  current.nodes[i] = { ...node };
  writeState(dataDir, current);
}

/**
 * The last error a node wrote to its log (why it exited), if any: its `samsa: ...` line, or the
 * message of its last pino entry at level error (50) or fatal (60).
 */
export function lastError(logFile: string): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync(logFile, 'utf8').slice(-16_384).split('\n').reverse();
  } catch {
    return undefined;
  }
  for (const line of lines) {
    if (line.startsWith('samsa: ')) return line.slice('samsa: '.length);
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) >= 50) return [entry.msg, entry.err?.message].filter(Boolean).join(': ');
    } catch {
      // a torn last line
    }
  }
  return undefined;
}

/** Whether `logFile` got a "broker started" line past `offset`: proof the broker answering is the one we started. */
export function brokerStarted(logFile: string, offset: number): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(logFile, 'r');
    const size = fstatSync(fd).size;
    if (size <= offset) return false;
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.includes('"msg":"broker started"');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
