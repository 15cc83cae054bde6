#!/usr/bin/env node
// The README's benchmark, reproducibly: one combined node (broker + one-voter controller quorum)
// on 127.0.0.1 in a temp dir, a 6-partition topic, then `samsa perf produce` (100-byte records,
// acks=1, one producer process) and `samsa perf consume`. Stops the node it started, by PID.
//   node scripts/bench.mjs [--records N] [--runs N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_V8_FLAGS, arg, cli, freePort } from './benchUtil.mjs';

const records = arg('--records', 3_000_000);
const runs = arg('--runs', 3);

function samsa(args) {
  // The perf clients run with the node's V8 flags too (packages/cli/src/nodeRuntime.ts).
  const r = spawnSync(process.execPath, [...NODE_V8_FLAGS, cli, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`samsa ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim();
}

const dataDir = mkdtempSync(join(tmpdir(), 'samsa-bench-'));
const port = await freePort();
const controllerPort = await freePort();
const node = spawn(
  process.execPath,
  [
    ...NODE_V8_FLAGS,
    cli,
    'node',
    '--roles',
    'broker,controller',
    '--node-id',
    '1',
    '--listen',
    `127.0.0.1:${port}`,
    '--controller-quorum-voters',
    `1@127.0.0.1:${controllerPort}`,
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
try {
  const bootstrap = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(process.execPath, [cli, 'topics', '--list', '--bootstrap-server', bootstrap], { encoding: 'utf8' });
    if (r.status === 0) break;
    if (Date.now() > deadline) throw new Error(`the node did not come up: ${r.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  for (let run = 1; run <= runs; run++) {
    const topic = `perf-${run}`;
    samsa(['topics', '--create', '--bootstrap-server', bootstrap, '--topic', topic, '--partitions', '6', '--replication-factor', '1']);
    console.log(
      `run ${run}: ${samsa(['perf', 'produce', '--bootstrap-server', bootstrap, '--topic', topic, '--num-records', String(records), '--record-size', '100', '--acks', '1'])}`,
    );
    console.log(
      `run ${run}: ${samsa(['perf', 'consume', '--bootstrap-server', bootstrap, '--topic', topic, '--messages', String(records)])}`,
    );
  }
} finally {
  node.kill('SIGTERM');
  await new Promise((r) => node.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
