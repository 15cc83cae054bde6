#!/usr/bin/env node
/**
 * How long `samsa cluster up` takes to report ready, run after run: each run starts
 * `cluster up --detach` into a fresh temp data dir on a free port block, reads the "ready in N ms"
 * it prints, and stops the cluster by the PIDs its state file records (SIGTERM, then SIGKILL after
 * a grace period; never a PID it did not start). Prints each run, then min/median/max, the CPU
 * model and the load average before and after (the reference machine is shared, so say how busy
 * it was).
 *
 *   node scripts/bench-readiness.mjs [--runs N] [--services] [--dist] [-- extra cluster up flags]
 *
 * It runs the bundled build (packages/cli/bundle, what `npm start` runs) when there is one; --dist
 * runs tsc's output (packages/cli/dist) instead, for a before/after comparison.
 *
 * Without --services the schema registry and the console are left out (--no-schema-registry
 * --no-console): the figure is the cluster's (active controller, every broker unfenced, internal
 * topics led). With --services it is what a plain `cluster up` prints (they answer HTTP too).
 * For where the time goes per node (CPU, milestones), see scripts/startup-profile.mjs.
 *
 * Run `node scripts/bootstrap.mjs` first (it uses packages/cli/dist).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The bundled build (scripts/bundle.mjs, what `npm start` runs) unless --dist asks for tsc's output.
const BUNDLE = fileURLToPath(new URL('../packages/cli/bundle/main.js', import.meta.url));
const DIST = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const CLI = process.argv.includes('--dist') || !existsSync(BUNDLE) ? DIST : BUNDLE;
console.log(`running ${CLI === BUNDLE ? 'the bundle' : "tsc's output"}: ${CLI}`);
const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const args = dashes < 0 ? argv : argv.slice(0, dashes);
const passThrough = dashes < 0 ? [] : argv.slice(dashes + 1);
const runsAt = args.indexOf('--runs');
const runs = runsAt < 0 ? 5 : Number(args[runsAt + 1]);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('bench-readiness: --runs takes a whole number >= 1');
  process.exit(2);
}
const services = args.includes('--services');

/** A base port whose block (+0..+403, and the services' +80/+81) is probably free: from a free ephemeral port. */
async function freeBase() {
  const port = await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  return 20_000 + (port % 12_000);
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops every process the state file records, by PID: SIGTERM, then SIGKILL after 10 s. Bounded. */
async function stopRecorded(dataDir) {
  let state;
  try {
    state = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8'));
  } catch {
    return 0;
  }
  const pids = [...(state.services ?? []), ...state.nodes].map((n) => n.pid).filter((pid) => Number.isInteger(pid));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const killed = pids.filter(alive);
  for (const pid of killed) process.kill(pid, 'SIGKILL');
  return killed.length;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
const times = [];
for (let run = 1; run <= runs; run++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-readiness-'));
  try {
    const t0 = Date.now();
    const up = spawnSync(
      process.execPath,
      [
        CLI,
        'cluster',
        'up',
        '--detach',
        ...(services ? [] : ['--no-schema-registry', '--no-console']),
        '--data-dir',
        dataDir,
        '--base-port',
        String(await freeBase()),
        ...passThrough,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const wall = Date.now() - t0;
    const ready = Number(/ready in (\d+) ms/.exec(up.stdout ?? '')?.[1]);
    if (up.status !== 0 || !Number.isFinite(ready)) {
      console.error(`run ${run}: cluster up failed (exit ${up.status}): ${(up.stderr ?? '').trim()}`);
      process.exitCode = 1;
    } else {
      times.push(ready);
      console.log(`run ${run}: ready in ${ready} ms (the command exited after ${wall} ms)`);
    }
  } finally {
    const killed = await stopRecorded(dataDir);
    if (killed > 0) console.log(`  ${killed} process(es) needed SIGKILL`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
if (times.length > 0) {
  const sorted = [...times].sort((a, b) => a - b);
  const median =
    sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : Math.round((sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2);
  console.log(
    `ready in ms over ${times.length} run(s): min ${sorted[0]}, median ${median}, max ${sorted[sorted.length - 1]}` +
      `${services ? ' (with the schema registry and the console)' : ''}`,
  );
}
console.log(`cpu: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}; load average before ${loadBefore}, after ${load()}`);
