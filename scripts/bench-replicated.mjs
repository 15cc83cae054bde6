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
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { NODE_V8_FLAGS, arg, cli, startReplicatedCluster } from './benchUtil.mjs';

const records = arg('--records', 2_000_000);
const seconds = arg('--seconds', 10);
const warmupSeconds = arg('--warmup-seconds', 3);
const rate = arg('--rate', 50_000);
const runs = arg('--runs', 1);
// Batches in flight for the fixed-rate run (perf produce's default with --throughput is 32).
const pacedInFlight = arg('--paced-in-flight', 32);
const compressionAt = process.argv.indexOf('--compression');
const compression = compressionAt > 0 ? ['--producer-props', `compression.type=${process.argv[compressionAt + 1]}`] : [];

const cluster = await startReplicatedCluster({ prefix: 'samsa-bench-repl-' });
const { bootstrap, children, samsa } = cluster;
try {
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
  await cluster.stop();
}
