#!/usr/bin/env node
// The README's replicated benchmark: 3 controllers + 3 brokers as separate `samsa node` processes
// on 127.0.0.1 (free ports, temp dirs), a 6-partition topic with RF=3 and min.insync.replicas=2,
// then one `samsa perf produce --acks all` process (100-byte records):
//   (a) unlimited: records/s, MB/s and batch latency p50/p99;
//   (b) --throughput 50000 for about --seconds s after --warmup-seconds (3) of the same rate:
//       batch latency p50/p99 at a fixed offered rate, for the whole run and for the steady state
//       after the warm-up (Kafka's --warmup-records: connection set-up and JIT compilation excluded);
//   (c) end to end at the same rate on a fresh topic: a `perf consume --end-to-end-latency` process
//       started first reads what the paced producer writes, and prints record timestamp (set at
//       send) to consumption, p50/p99, whole run and steady state.
// Stops every process it started, by PID.
//   node scripts/bench-replicated.mjs [--records N] [--seconds S] [--warmup-seconds W] [--rate R] [--paced-in-flight N] [--runs N] [--compression lz4]
// The producer is idempotent (Kafka's default with acks=all). Every process, the perf clients
// included, runs with the nodes' V8 flags (packages/cli/src/nodeRuntime.ts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_V8_FLAGS, arg, cli, freePort } from './benchUtil.mjs';

const records = arg('--records', 2_000_000);
const seconds = arg('--seconds', 10);
const warmupSeconds = arg('--warmup-seconds', 3);
const rate = arg('--rate', 50_000);
const runs = arg('--runs', 1);
// Batches in flight for the fixed-rate run (perf produce's default with --throughput is 32).
const pacedInFlight = arg('--paced-in-flight', 32);
const compressionAt = process.argv.indexOf('--compression');
const compression = compressionAt > 0 ? ['--producer-props', `compression.type=${process.argv[compressionAt + 1]}`] : [];

// The load generators (`samsa perf`) run with the nodes' V8 flags too: on a small machine their
// default four V8 helper threads each would take cores from the cluster being measured.
function samsa(args) {
  const r = spawnSync(process.execPath, [...NODE_V8_FLAGS, cli, ...args], { encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`samsa ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout.trim();
}

const dataDir = mkdtempSync(join(tmpdir(), 'samsa-bench-repl-'));
const children = [];
const controllers = [];
const brokers = [];
for (let i = 1; i <= 3; i++) controllers.push({ id: i, port: await freePort() });
for (let i = 4; i <= 6; i++) brokers.push({ id: i, port: await freePort() });
const voters = controllers.map((c) => `${c.id}@127.0.0.1:${c.port}`).join(',');

function startNode(roles, id, port) {
  const args = [
    ...NODE_V8_FLAGS,
    cli,
    'node',
    '--roles',
    roles,
    '--node-id',
    String(id),
    '--controller-quorum-voters',
    voters,
    '--data-dir',
    join(dataDir, `node-${id}`),
    '--log-level',
    'warn',
  ];
  if (roles === 'broker') args.push('--listen', `127.0.0.1:${port}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

async function stopAll() {
  // Brokers first (they deregister from a live quorum), then controllers; each by its own PID.
  for (const child of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

try {
  for (const c of controllers) startNode('controller', c.id, c.port);
  for (const b of brokers) startNode('broker', b.id, b.port);
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
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(
    'cluster: 3 controllers + 3 brokers (separate processes, 127.0.0.1), topic 6 partitions RF=3 min.insync.replicas=2, 100-byte records, acks=all',
  );
  for (let run = 1; run <= runs; run++) {
    const topic = `perf-repl-${run}`;
    samsa([
      'topics',
      '--create',
      '--bootstrap-server',
      bootstrap,
      '--topic',
      topic,
      '--partitions',
      '6',
      '--replication-factor',
      '3',
      '--config',
      'min.insync.replicas=2',
    ]);
    const produce = (extra, to = topic) =>
      samsa([
        'perf',
        'produce',
        '--bootstrap-server',
        bootstrap,
        '--topic',
        to,
        '--record-size',
        '100',
        '--acks',
        'all',
        ...compression,
        ...extra,
      ]);
    console.log(`run ${run} unlimited: ${produce(['--num-records', String(records)])}`);
    const pacedRecords = rate * (seconds + warmupSeconds);
    const warmupRecords = rate * warmupSeconds;
    const pacedArgs = [
      '--num-records',
      String(pacedRecords),
      '--warmup-records',
      String(warmupRecords),
      '--throughput',
      String(rate),
      '--in-flight',
      String(pacedInFlight),
    ];
    console.log(`run ${run} --throughput ${rate} (first ${warmupSeconds} s warm-up): ${produce(pacedArgs)}`);
    const e2eTopic = `perf-e2e-${run}`;
    samsa([
      'topics',
      '--create',
      '--bootstrap-server',
      bootstrap,
      '--topic',
      e2eTopic,
      '--partitions',
      '6',
      '--replication-factor',
      '3',
      '--config',
      'min.insync.replicas=2',
    ]);
    // Every partition led and fully replicated before the consumer looks up its offsets.
    const fullyReplicated = () =>
      samsa(['topics', '--describe', '--bootstrap-server', bootstrap, '--topic', e2eTopic])
        .split('\n')
        .filter((l) => l.includes('Partition:'))
        .every((l) => /Leader: \d+/.test(l) && /Isr: \d+,\d+,\d+/.test(l));
    for (let i = 0; i < 100 && !fullyReplicated(); i++) await new Promise((r) => setTimeout(r, 100));
    const consumer = spawn(
      process.execPath,
      [
        ...NODE_V8_FLAGS,
        cli,
        'perf',
        'consume',
        '--bootstrap-server',
        bootstrap,
        '--topic',
        e2eTopic,
        '--messages',
        String(pacedRecords),
        '--warmup-records',
        String(warmupRecords),
        '--end-to-end-latency',
        '--timeout-ms',
        '20000',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(consumer);
    let consumed = '';
    consumer.stdout.on('data', (d) => {
      consumed += d;
    });
    const consumerDone = new Promise((r) => consumer.once('exit', r));
    await new Promise((r) => setTimeout(r, 2_000)); // assigned and polling before the first record
    const paced = produce(pacedArgs, e2eTopic);
    await consumerDone;
    const lines = paced.split('\n');
    console.log(
      `run ${run} end to end at ${rate} records/s: producer ${lines.find((l) => l.startsWith(`${pacedRecords} records sent`)) ?? paced}`,
    );
    console.log(`run ${run} end to end at ${rate} records/s: producer ${lines.find((l) => l.startsWith('steady state:')) ?? ''}`);
    console.log(`run ${run} end to end: ${consumed.trim()}`);
  }
} finally {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
