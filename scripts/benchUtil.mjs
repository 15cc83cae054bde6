// Small helpers the benchmark scripts share.
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const cli = join(root, 'packages/cli/dist/main.js');
/** The V8 flags every `samsa node` is started with (packages/cli/src/nodeRuntime.ts). */
export const { NODE_V8_FLAGS } = await import(join(root, 'packages/cli/dist/nodeRuntime.js'));

/** A numeric `--name N` flag of this script, or the fallback. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
  });
}

/**
 * Starts 3 controllers + 3 brokers as separate `samsa node` processes on 127.0.0.1 (free ports, a
 * temp data dir) and waits until the cluster accepts an RF=3 topic. `env` is added to every node's
 * environment, `nodeArgs` to its node flags (e.g. --cpu-prof). Returns the nodes (id, port, child), the bootstrap list, `samsa(args)` (a CLI run
 * with the nodes' V8 flags) and `stop()`, which stops every process it started, by PID (brokers
 * first, so they deregister from a live quorum), and removes the data dir.
 */
export async function startReplicatedCluster({ env = {}, prefix = 'samsa-bench-', nodeArgs = [] } = {}) {
  const { spawn, spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const children = [];
  const controllers = [];
  const brokers = [];
  for (let i = 1; i <= 3; i++) controllers.push({ id: i, port: await freePort() });
  for (let i = 4; i <= 6; i++) brokers.push({ id: i, port: await freePort() });
  const voters = controllers.map((c) => `${c.id}@127.0.0.1:${c.port}`).join(',');
  const nodeEnv = { ...process.env, ...env };

  // The load generators (`samsa perf`) run with the nodes' V8 flags too: on a small machine their
  // default four V8 helper threads each would take cores from the cluster being measured.
  function samsa(args) {
    const r = spawnSync(process.execPath, [...NODE_V8_FLAGS, cli, ...args], { encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
    if (r.status !== 0) throw new Error(`samsa ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
    return r.stdout.trim();
  }

  function startNode(roles, node) {
    const args = [
      ...NODE_V8_FLAGS,
      ...nodeArgs,
      cli,
      'node',
      '--roles',
      roles,
      '--node-id',
      String(node.id),
      '--controller-quorum-voters',
      voters,
      '--data-dir',
      join(dataDir, `node-${node.id}`),
      '--log-level',
      'warn',
    ];
    if (roles === 'broker') args.push('--listen', `127.0.0.1:${node.port}`);
    node.child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: nodeEnv });
    children.push(node.child);
  }

  async function stop() {
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }

  try {
    for (const c of controllers) startNode('controller', c);
    for (const b of brokers) startNode('broker', b);
    const bootstrap = brokers.map((b) => `127.0.0.1:${b.port}`).join(',');
    // Up when the cluster accepts an RF=3 topic (all three brokers registered and unfenced).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = spawnSync(
        process.execPath,
        [
          cli,
          'topics',
          '--create',
          '--if-not-exists',
          '--bootstrap-server',
          bootstrap,
          '--topic',
          'warmup',
          '--partitions',
          '1',
          '--replication-factor',
          '3',
        ],
        { encoding: 'utf8' },
      );
      if (r.status === 0) break;
      if (Date.now() > deadline) throw new Error(`the cluster did not come up: ${r.stderr}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    return { controllers, brokers, bootstrap, children, samsa, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
