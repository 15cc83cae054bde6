#!/usr/bin/env node
// The README's Kafka-vs-gRPC producer benchmark (issue 14): on one 3-broker cluster (3 controllers
// + 3 brokers as `samsa node` processes on 127.0.0.1, the layout `samsa cluster up` starts), per
// run a fresh 6-partition topic with RF=3 and min.insync.replicas=2, 100-byte records, acks=all,
// idempotent, one producer process at a time:
//   - the Samsa SDK over gRPC: `samsa perf produce`;
//   - librdkafka over the brokers' Kafka listener (the same address): scripts/bench/rdkafka-producer.c,
//     a driver of our own built here against Debian's librdkafka-dev;
// each with Kafka's default producer settings (batch.size 16384, linger.ms 5) and with large
// batches (batch.size 524288). Prints records/s, MB/s and p50/p99 latency for each.
//   node scripts/bench-kafka-vs-grpc.mjs [--records N] [--runs N]
// Latency: the SDK's is per batch (sendBatch to its acknowledgement, counted once per record: the
// batch is built before it is timed); librdkafka's is per record (rd_kafka_producev to its delivery
// report, so queueing and linger are included, as Kafka's own perf tool measures). Both keep the
// same window of records outstanding: the SDK 8 batches in flight (perf produce's default), the
// driver a local queue of 8 batches' worth of records (queue.buffering.max.messages).
// Stops every process it started, by PID.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_V8_FLAGS, arg, cli, freePort, root } from './benchUtil.mjs';

const records = arg('--records', 1_000_000);
const runs = arg('--runs', 1);

// ---- the C driver: built against librdkafka-dev (installed here when missing and we are root) ----
const source = join(root, 'scripts/bench/rdkafka-producer.c');
const driver = join(root, '.bench/rdkafka-producer');
function haveLibrdkafkaDev() {
  return existsSync('/usr/include/librdkafka/rdkafka.h');
}
if (!haveLibrdkafkaDev()) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) {
    console.error('this benchmark needs librdkafka-dev (Debian: apt-get install -y librdkafka-dev gcc) to build its C driver');
    process.exit(2);
  }
  console.log('installing librdkafka-dev (apt-get) for the C driver');
  const r = spawnSync('sh', ['-c', 'apt-get install -y librdkafka-dev gcc || (apt-get update && apt-get install -y librdkafka-dev gcc)'], {
    stdio: 'inherit',
  });
  if (r.status !== 0 || !haveLibrdkafkaDev()) {
    console.error('could not install librdkafka-dev: install it (and gcc) and run again');
    process.exit(2);
  }
}
if (!existsSync(driver) || statSync(driver).mtimeMs < statSync(source).mtimeMs) {
  mkdirSync(join(root, '.bench'), { recursive: true });
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', driver, source, '-lrdkafka'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('building scripts/bench/rdkafka-producer.c failed');
    process.exit(2);
  }
}

function samsa(args) {
  const r = spawnSync(process.execPath, [...NODE_V8_FLAGS, cli, ...args], { encoding: 'utf8', timeout: 600_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`samsa ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout.trim();
}

const dataDir = mkdtempSync(join(tmpdir(), 'samsa-bench-kafka-'));
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

/** `samsa perf produce`'s summary line → { recordsPerSec, mbPerSec, p50Ms, p99Ms }. */
function parsePerf(out) {
  const line = out.split('\n').find((l) => l.includes('99th'));
  const m = line && /([\d.]+) records\/sec \(([\d.]+) MB\/sec\).* ([\d.]+) ms 50th, [\d.]+ ms 95th, ([\d.]+) ms 99th/.exec(line);
  if (!m) throw new Error(`unexpected perf output:\n${out}`);
  return { recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]), p50Ms: Number(m[3]), p99Ms: Number(m[4]) };
}

function runRdkafka(bootstrap, topic, props) {
  const r = spawnSync(driver, [bootstrap, topic, String(records), '100', ...props], {
    encoding: 'utf8',
    timeout: 600_000,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) throw new Error(`rdkafka-producer failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const fmt = (x) =>
  `${Math.round(x.recordsPerSec).toLocaleString('en-US')} records/s (${x.mbPerSec.toFixed(1)} MB/s), p50 ${x.p50Ms.toFixed(1)} ms, p99 ${x.p99Ms.toFixed(1)} ms`;

try {
  for (const c of controllers) startNode('controller', c.id, c.port);
  for (const b of brokers) startNode('broker', b.id, b.port);
  const bootstrap = brokers.map((b) => `127.0.0.1:${b.port}`).join(',');
  const deadline = Date.now() + 90_000;
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
  const version = spawnSync(driver, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, librdkafka ${version ?? '?'}`);
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('cluster: 3 controllers + 3 brokers, topic 6 partitions RF=3 min.insync.replicas=2, 100-byte records, acks=all, idempotent');
  const settings = [
    { name: 'Kafka defaults (batch.size 16384, linger.ms 5)', batch: 16_384, linger: 5 },
    { name: 'large batches (batch.size 524288)', batch: 524_288, linger: 50 },
  ];
  let n = 0;
  for (let run = 1; run <= runs; run++) {
    for (const s of settings) {
      const topic = () => {
        const t = `bench-kafka-${++n}`;
        samsa([
          'topics',
          '--create',
          '--bootstrap-server',
          bootstrap,
          '--topic',
          t,
          '--partitions',
          '6',
          '--replication-factor',
          '3',
          '--config',
          'min.insync.replicas=2',
        ]);
        return t;
      };
      const grpc = parsePerf(
        samsa([
          'perf',
          'produce',
          '--bootstrap-server',
          bootstrap,
          '--topic',
          topic(),
          '--num-records',
          String(records),
          '--record-size',
          '100',
          '--acks',
          'all',
          '--producer-props',
          `batch.size=${s.batch}`,
          `linger.ms=${s.linger}`,
        ]),
      );
      console.log(`run ${run}, ${s.name}, Samsa SDK over gRPC:      ${fmt(grpc)}  [load ${loadavg()[0].toFixed(1)}]`);
      const kafka = runRdkafka(bootstrap, topic(), [
        'acks=all',
        'enable.idempotence=true',
        `batch.size=${s.batch}`,
        `linger.ms=${s.linger}`,
        // The same window as the SDK's: 8 batches' worth of records waiting or in flight, so
        // latency measures the cluster, not a queue the driver filled as fast as it could.
        `queue.buffering.max.messages=${8 * Math.floor(s.batch / 108)}`,
      ]);
      console.log(`run ${run}, ${s.name}, librdkafka over Kafka:     ${fmt(kafka)}  [load ${loadavg()[0].toFixed(1)}]`);
    }
  }
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
