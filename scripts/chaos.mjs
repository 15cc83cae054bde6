#!/usr/bin/env node
/**
 * The CI chaos run: `samsa chaos` with a fixed seed for 60 s of kill, pause, controller-kill and
 * (where the machine allows a network namespace) partition, against 3 controllers and 3 brokers
 * as local processes; at most about 2 minutes in all. Exits non-zero on any violation.
 * Extra arguments are passed on (a later flag wins), e.g. `node scripts/chaos.mjs --seed 7`.
 *   node scripts/chaos.mjs [--duration 60s] [--seed 3] [--nemesis ...] [--report DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
if (!existsSync(cli)) {
  const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/cli'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const defaults = ['--duration', '60s', '--seed', '3', '--nemesis', 'kill,pause,controller-kill,partition', '--report', 'chaos-report/ci'];
const run = spawnSync(process.execPath, [cli, 'chaos', ...defaults, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  timeout: 240_000,
  killSignal: 'SIGINT',
});
process.exit(run.status ?? 1);
