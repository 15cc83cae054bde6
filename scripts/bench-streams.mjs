#!/usr/bin/env node
// The README's Streams benchmark (packages/streams/README.md): 3 controllers + 3 brokers as separate
// `samsa node` processes on 127.0.0.1, 6-partition RF=3 topics, one SamsaStreams instance (one
// thread, at-least-once, commit every 1000 ms) in this process, for three topologies:
//   filter        stream → filter (half pass) → to
//   windowed      stream → groupByKey → 10 s tumbling count → toStream → to
//   join          stream → join(table of 1,000 keys) → to
// (a) throughput: N records produced first, then records/s from the first to the last record the
//     topology processed; (b) end to end: records sent at a fixed rate with their send time as the
//     timestamp, a consumer of the output topic (also in this process) records now - timestamp,
//     p50/p99 after a warm-up. Stops every process it started, by PID.
//   node scripts/bench-streams.mjs [--records N] [--rate R] [--seconds S] [--exactly-once]
//   (BENCH_ONLY=filter,join picks topologies). --exactly-once: processingGuarantee exactly_once_v2
//   with Kafka's EOS commit interval (100 ms), and the output read read_committed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_V8_FLAGS, arg, cli, freePort, root } from './benchUtil.mjs';

const { Samsa, serdes } = await import(join(root, 'packages/client/dist/index.js'));
const { SamsaStreams, StreamsBuilder, TimeWindows, streamsSerdes } = await import(join(root, 'packages/streams/dist/index.js'));

const records = arg('--records', 100_000);
const rate = arg('--rate', 2_000);
const seconds = arg('--seconds', 10);
const warmupSeconds = 3;
const exactlyOnce = process.argv.includes('--exactly-once');

const dataDir = mkdtempSync(join(tmpdir(), 'samsa-bench-streams-'));
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
    '--group-initial-rebalance-delay-ms',
    '0',
  ];
  if (roles === 'broker') args.push('--listen', `127.0.0.1:${port}`);
  else args.splice(args.indexOf('--group-initial-rebalance-delay-ms'), 2);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
}

async function stopAll() {
  for (const child of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const S = serdes.string;

async function createTopic(admin, topic) {
  await admin.createTopics([{ topic, numPartitions: 6, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
  for (let i = 0; i < 200; i++) {
    const [d] = await admin.describeTopics([topic]);
    if (d.partitions.every((p) => p.leader >= 0 && p.isr.length === 3)) return;
    await sleep(100);
  }
  throw new Error(`${topic} did not get leaders`);
}

function topologyFor(kind, suffix, counter) {
  const b = new StreamsBuilder();
  const s = b.stream(`in-${suffix}`, { keySerde: S, valueSerde: S }).peek(() => counter.tick());
  if (kind === 'filter') s.filter((k) => k.charCodeAt(k.length - 1) % 2 === 0).to(`out-${suffix}`);
  if (kind === 'windowed') {
    s.groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10_000, 1_000))
      .count()
      .toStream()
      .map((w, n) => [w.key, String(n)])
      .to(`out-${suffix}`, { keySerde: S, valueSerde: S });
  }
  if (kind === 'join') {
    const table = b.table(`table-${suffix}`, { keySerde: S, valueSerde: S }, { name: 'customers' });
    s.join(table, (v, t) => `${v}:${t}`).to(`out-${suffix}`, { valueSerde: S });
  }
  return b.build();
}

try {
  for (const c of controllers) startNode('controller', c.id, c.port);
  for (const b of brokers) startNode('broker', b.id, b.port);
  const bootstrap = brokers.map((b) => `127.0.0.1:${b.port}`);
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
        bootstrap.join(','),
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
    await sleep(300);
  }
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(
    `cluster: 3 controllers + 3 brokers, topics 6 partitions RF=3, acks=all; one SamsaStreams thread, ${exactlyOnce ? 'exactly_once_v2, commit 100 ms' : 'at_least_once, commit 1000 ms'}`,
  );
  const samsa = new Samsa({ brokers: bootstrap, requestTimeoutMs: 10_000 });
  const admin = samsa.admin();
  const producer = samsa.producer({ key: S, value: S, acks: -1, lingerMs: 5 });
  for (const kind of (process.env.BENCH_ONLY ?? 'filter,windowed,join').split(',')) {
    for (const phase of ['throughput', 'latency']) {
      const suffix = `${kind}-${phase}`;
      await createTopic(admin, `in-${suffix}`);
      await createTopic(admin, `out-${suffix}`);
      if (kind === 'join') {
        await createTopic(admin, `table-${suffix}`);
        const rows = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: `customer-${i}` }));
        await producer.send({ topic: `table-${suffix}`, messages: rows });
      }
      const counter = {
        n: 0,
        first: 0,
        last: 0,
        tick() {
          this.n++;
          const t = performance.now();
          if (this.n === 1) this.first = t;
          this.last = t;
        },
      };
      const streams = new SamsaStreams(topologyFor(kind, suffix, counter), {
        applicationId: `bench-${suffix}`,
        bootstrapServers: bootstrap,
        ...(exactlyOnce ? { processingGuarantee: 'exactly_once_v2', commitIntervalMs: 100 } : { commitIntervalMs: 1000 }),
        replicationFactor: 3,
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1000,
        client: { requestTimeoutMs: 10_000 },
      });
      if (phase === 'throughput') {
        const value = 'x'.repeat(90);
        for (let sent = 0; sent < records; sent += 1000) {
          await producer.send({
            topic: `in-${suffix}`,
            messages: Array.from({ length: 1000 }, (_, i) => ({ key: `k${(sent + i) % 1000}`, value })),
          });
        }
        await streams.start();
        for (let i = 0; i < 6000 && counter.n < records; i++) await sleep(100);
        const secs = (counter.last - counter.first) / 1000;
        console.log(`${kind}: throughput ${counter.n} records in ${secs.toFixed(2)} s = ${Math.round(counter.n / secs)} records/s`);
      } else {
        await streams.start();
        for (let i = 0; i < 300 && streams.state !== 'RUNNING'; i++) await sleep(100);
        const consumer = samsa.consumer({ key: S, value: S, ...(exactlyOnce ? { isolationLevel: 'read_committed' } : {}) });
        consumer.assign(Array.from({ length: 6 }, (_, p) => ({ topic: `out-${suffix}`, partition: p })));
        const latencies = [];
        let stop = false;
        const warmEnd = Date.now() + warmupSeconds * 1000;
        const reading = (async () => {
          while (!stop)
            for (const r of await consumer.poll({ maxWaitMs: 100 }))
              if (Date.now() > warmEnd) latencies.push(Date.now() - Number(r.timestamp));
        })();
        const total = rate * (seconds + warmupSeconds);
        const start = Date.now();
        for (let sent = 0; sent < total; sent += rate / 10) {
          const due = start + (sent / rate) * 1000;
          if (due > Date.now()) await sleep(due - Date.now());
          const now = Date.now();
          await producer.send({
            topic: `in-${suffix}`,
            messages: Array.from({ length: rate / 10 }, (_, i) => ({
              key: `k${(sent + i) % 1000}`,
              value: 'x'.repeat(90),
              timestamp: now,
            })),
          });
        }
        await sleep(3000);
        stop = true;
        await reading;
        await consumer.close();
        latencies.sort((a, b) => a - b);
        console.log(
          `${kind}: end to end at ${rate} records/s for ${seconds} s (after ${warmupSeconds} s warm-up): ${counter.n} inputs processed, ${latencies.length} outputs timed, p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms`,
        );
      }
      await streams.close();
    }
  }
  await producer.close();
  await samsa.close();
} finally {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
