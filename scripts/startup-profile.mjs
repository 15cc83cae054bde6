#!/usr/bin/env node
/**
 * Where `samsa cluster up`'s time goes: starts a detached cluster in a temp data dir (3 controllers,
 * 3 brokers by default), and as soon as it is ready reads, per node, the CPU it used so far
 * (/proc/<pid>/stat utime+stime) and the times of its milestones (process start, first log line,
 * controller active / broker registered, unfenced and started) relative to when `cluster up`
 * started. Then stops the cluster. Linux only (/proc).
 *
 *   node scripts/startup-profile.mjs [--runs N] [--combined] [--brokers B] [--controllers C] [--dist]
 *
 * As bench-readiness.mjs, it runs the bundle when there is one, tsc's output with --dist.
 *
 * Run `node scripts/bootstrap.mjs` first (it uses packages/cli/dist).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The bundled build (scripts/bundle.mjs, what `npm start` runs) unless --dist asks for tsc's output.
const BUNDLE = fileURLToPath(new URL('../packages/cli/bundle/main.js', import.meta.url));
const DIST = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const CLI = process.argv.includes('--dist') || !existsSync(BUNDLE) ? DIST : BUNDLE;
console.log(`running ${CLI === BUNDLE ? 'the bundle' : "tsc's output"}: ${CLI}`);
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const runs = Number(flag('--runs', '3'));
const extra = [
  ...(args.includes('--combined') ? ['--combined'] : []),
  '--brokers',
  flag('--brokers', '3'),
  '--controllers',
  flag('--controllers', '3'),
];

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
/** Epoch ms of boot, from /proc/uptime (btime in /proc/stat is whole seconds, too coarse here). */
const bootTimeMs = () => Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is f[0]; utime 14th, stime 15th, starttime 22nd field overall.
  return { cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK, startMs: bootTimeMs() + (Number(f[19]) * 1000) / CLK_TCK };
}

const MILESTONES = [
  ['active', 'this controller is active'],
  ['registered', 'registered with'],
  ['unfenced', 'the controller unfenced this broker'],
  ['started', 'broker started'],
];

function milestones(logFile) {
  const out = {};
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    out.first ??= entry.time;
    for (const [name, text] of MILESTONES) if (out[name] === undefined && entry.msg?.includes(text)) out[name] = entry.time;
  }
  return out;
}

async function freeBase() {
  const port = await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  return 20_000 + (port % 12_000);
}

const pad = (s, n) => String(s).padEnd(n);
const ms = (v) => (v === undefined ? '-' : `${Math.round(v)}`);
const totals = [];
for (let run = 1; run <= runs; run++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-startup-'));
  const t0 = Date.now();
  const up = spawnSync(
    process.execPath,
    [
      CLI,
      'cluster',
      'up',
      '--detach',
      '--no-metrics',
      '--no-schema-registry',
      '--no-console',
      '--data-dir',
      dataDir,
      '--base-port',
      String(await freeBase()),
      ...extra,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const wall = Date.now() - t0;
  try {
    if (up.status !== 0) throw new Error(`cluster up failed (${up.status}): ${up.stderr}`);
    const state = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8'));
    const rows = state.nodes.map((n) => ({ n, stat: procStat(n.pid), m: milestones(n.logFile) }));
    const own = Number(/ready in (\d+) ms/.exec(up.stdout)?.[1]);
    console.log(
      `run ${run}: cluster up --detach exited after ${wall} ms (ready in ${own} ms by its clock); times in ms since cluster up started`,
    );
    console.log(
      `  ${pad('node', 14)}${pad('cpu', 7)}${pad('spawned', 9)}${pad('1st log', 9)}${pad('active', 8)}${pad('regist.', 9)}${pad('unfenced', 10)}started`,
    );
    for (const { n, stat, m } of rows) {
      const at = (t) => (t === undefined ? undefined : t - t0);
      console.log(
        `  ${pad(n.name, 14)}${pad(ms(stat.cpuMs), 7)}${pad(ms(at(stat.startMs)), 9)}${pad(ms(at(m.first)), 9)}${pad(ms(at(m.active)), 8)}` +
          `${pad(ms(at(m.registered)), 9)}${pad(ms(at(m.unfenced)), 10)}${ms(at(m.started))}`,
      );
    }
    const cpu = rows.reduce((a, r) => a + r.stat.cpuMs, 0);
    console.log(`  nodes' CPU before ready: ${Math.round(cpu)} ms in all, ${Math.round(cpu / rows.length)} ms per node`);
    totals.push({ wall, own, cpu });
  } finally {
    spawnSync(process.execPath, [CLI, 'cluster', 'down', '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median of ${runs}: ready in ${median(totals.map((t) => t.own))} ms, command exited after ${median(totals.map((t) => t.wall))} ms, nodes' CPU ${Math.round(median(totals.map((t) => t.cpu)))} ms`,
);
