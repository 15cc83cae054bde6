/**
 * The partition nemesis' network: a network namespace the harness creates and runs inside.
 *
 * Addresses alone cannot cut loopback traffic (the kernel gives every connection on lo the source
 * 127.0.0.1), so each node binds its own 127.0.0.x and runs as its own uid, and iptables' owner
 * match in the namespace's OUTPUT chain drops, for the isolated node, what it sends to the other
 * nodes' addresses and what their uids send to its address. Only the namespace's rules are ever
 * changed; the host's namespace is left alone.
 */
import { spawn, spawnSync } from 'node:child_process';

/** Set in the environment of the harness re-run inside the namespace. */
export const NETNS_ENV = 'SAMSA_CHAOS_NETNS';

/** The uid a node runs as inside the namespace. */
export const nodeUid = (nodeId: number): number => 61_000 + nodeId;

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stderr ?? ''}${r.stdout ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/**
 * Creates a namespace with lo up and checks that iptables' owner match works in it. On success
 * the caller owns the namespace and deletes it with deleteNetns; on failure nothing is left.
 */
export function createNetns(name: string): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces need Linux' };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'network namespaces and iptables need root (run as root, or leave out partition)' };
  const add = run('ip', ['netns', 'add', name]);
  if (!add.ok) return { ok: false, reason: `ip netns add failed: ${add.out || 'not permitted'}` };
  const steps: [string, string[]][] = [
    ['ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']],
    [
      'ip',
      [
        'netns',
        'exec',
        name,
        'iptables',
        '-w',
        '-A',
        'OUTPUT',
        '-m',
        'owner',
        '--uid-owner',
        String(nodeUid(0)),
        '-d',
        '127.0.0.254',
        '-j',
        'DROP',
      ],
    ],
    ['ip', ['netns', 'exec', name, 'iptables', '-w', '-F', 'OUTPUT']],
  ];
  for (const [cmd, args] of steps) {
    const r = run(cmd, args);
    if (!r.ok) {
      deleteNetns(name);
      return { ok: false, reason: `${args.slice(3).join(' ')} failed in the namespace: ${r.out || 'not permitted'}` };
    }
  }
  return { ok: true };
}

export function deleteNetns(name: string): void {
  run('ip', ['netns', 'del', name]);
}

/**
 * Runs this same command again inside the namespace (every node and client of the run lives
 * there), forwarding SIGINT/SIGTERM, and resolves with its exit code. The namespace is deleted
 * afterwards.
 */
export async function rerunInside(name: string, argv: string[]): Promise<number> {
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, ...process.execArgv, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_ENV]: name },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', () => resolve(1));
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    // Whatever the inner run left behind (it was killed, say) lives in our namespace: stop it by PID.
    for (const pid of run('ip', ['netns', 'pids', name])
      .out.split(/\s+/)
      .filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    deleteNetns(name);
  }
}

export interface Endpoint {
  host: string;
  uid: number;
}

/** iptables in the namespace the current process runs in (only ever used inside ours). */
export class NetnsFirewall {
  private cuts = 0;

  /** Drops traffic between `node` and every one of `others`, both ways. */
  isolate(node: Endpoint, others: readonly Endpoint[]): void {
    for (const o of others) {
      this.iptables(['-A', 'OUTPUT', '-m', 'owner', '--uid-owner', String(node.uid), '-d', o.host, '-j', 'DROP']);
      this.iptables(['-A', 'OUTPUT', '-m', 'owner', '--uid-owner', String(o.uid), '-d', node.host, '-j', 'DROP']);
    }
    this.cuts++;
  }

  heal(): void {
    if (this.cuts === 0) return;
    this.iptables(['-F', 'OUTPUT']);
    this.cuts = 0;
  }

  private iptables(args: string[]): void {
    const r = run('iptables', ['-w', ...args]);
    if (!r.ok) throw new Error(`iptables ${args.join(' ')} failed: ${r.out}`);
  }
}
