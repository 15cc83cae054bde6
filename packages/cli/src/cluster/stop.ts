/**
 * Stopping recorded nodes by PID, gracefully: SIGTERM to the brokers first (their controlled
 * shutdown needs the controllers), then to the nodes with the controller role; a node still
 * running after the grace period gets SIGKILL, and the report says so. A PID is signalled only
 * while it is still the command we recorded (state.ts), never after it was reused.
 */
import { processState, systemProbe, type NodeRecord, type ProcessProbe } from './state.js';

export interface StopOptions {
  /** How long a node may take after SIGTERM before it gets SIGKILL. */
  graceMs: number;
  probe?: ProcessProbe;
  /** Progress lines ("broker-1 (pid 123) stopped"). */
  log?: (line: string) => void;
  /** Sends a signal (default process.kill). */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  pollMs?: number;
}

export interface StopReport {
  /** Exited after SIGTERM. */
  stopped: string[];
  /** Needed SIGKILL. */
  killed: string[];
  /** Not running when we came to them. */
  gone: string[];
  /** The PID now belongs to another process: left alone. */
  replaced: string[];
  /** Still running even after SIGKILL (should not happen). */
  survivors: string[];
}

/** Brokers first, then nodes with the controller role (combined nodes included). */
export function stopOrder(nodes: readonly NodeRecord[]): NodeRecord[][] {
  const controller = (n: NodeRecord) => n.roles.split(',').includes('controller');
  return [nodes.filter((n) => !controller(n)), nodes.filter(controller)].filter((g) => g.length > 0);
}

export async function stopNodes(nodes: readonly NodeRecord[], opts: StopOptions): Promise<StopReport> {
  const probe = opts.probe ?? systemProbe;
  const log = opts.log ?? (() => undefined);
  const kill = opts.kill ?? ((pid, signal) => process.kill(pid, signal));
  const pollMs = opts.pollMs ?? 50;
  const report: StopReport = { stopped: [], killed: [], gone: [], replaced: [], survivors: [] };
  const state = (n: NodeRecord) => processState(n.pid, n.argv, probe);
  const send = (n: NodeRecord, signal: NodeJS.Signals): boolean => {
    try {
      kill(n.pid!, signal);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw err;
    }
  };
  const waitGone = async (n: NodeRecord, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (state(n) !== 'running') return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };

  for (const group of stopOrder(nodes)) {
    await Promise.all(
      group.map(async (n) => {
        const label = `${n.name} (pid ${n.pid ?? '-'})`;
        const s = state(n);
        if (s === 'gone') {
          report.gone.push(n.name);
          log(`${label} is not running`);
          return;
        }
        if (s === 'replaced') {
          report.replaced.push(n.name);
          log(`${label}: that PID is now another process; not signalling it`);
          return;
        }
        if (!send(n, 'SIGTERM') || (await waitGone(n, opts.graceMs))) {
          report.stopped.push(n.name);
          log(`${label} stopped`);
          return;
        }
        if (state(n) === 'running' && send(n, 'SIGKILL')) {
          log(`${label} did not stop within ${opts.graceMs} ms of SIGTERM; sent SIGKILL`);
        }
        if (await waitGone(n, 5_000)) {
          report.killed.push(n.name);
        } else {
          report.survivors.push(n.name);
          log(`${label} is still running after SIGKILL`);
        }
      }),
    );
  }
  return report;
}

/** Waits (bounded) until no recorded node runs; true when none does. */
export async function waitAllGone(nodes: readonly NodeRecord[], ms: number, probe: ProcessProbe = systemProbe): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (nodes.every((n) => processState(n.pid, n.argv, probe) !== 'running')) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
