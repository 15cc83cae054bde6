#!/usr/bin/env node
// Per-request cost of the replicated produce path (issue 17): where a produce request's CPU and
// time go at Kafka's default batch size. The cluster is bench-replicated.mjs's (3 controllers +
// 3 brokers, separate processes on 127.0.0.1, benchUtil.startReplicatedCluster); one topic, RF=3,
// min.insync.replicas=2 (one partition by default, so the leader and its two followers are three
// distinct processes). One `samsa perf produce` process sends a fixed number of produce requests
// of one 16 KiB batch each (batch.size=16384, linger.ms=5, acks=all, 100-byte records).
//
// Prints, per 1,000 produce requests:
//   - CPU ms (user+sys) of the client, the leader, each follower and the controllers: /proc/<pid>/stat
//     before and after the run for the nodes, process.cpuUsage from the first request to exit for
//     the client (its start-up left out);
//   - the per-hop breakdown from the in-process timers of @samsa/protocol requestCost.ts (enabled
//     by SAMSA_BENCH_REQUEST_COST_DIR, which this script sets): count per request, mean and log2-bucket
//     p50/p99, and the hop's total time per 1,000 requests.
// Wall-clock figures on a shared machine are noisy: the CPU columns are the ones to compare, with
// the load average printed next to them. `perf stat` instruction counts are printed when the
// kernel exposes the counter (many VMs do not).
//   node scripts/request-cost.mjs [--requests N] [--warmup-requests N] [--partitions P] [--in-flight N] [--runs N] [--idle-seconds S] [--cpu-prof DIR]
// --cpu-prof DIR: every node and the measured client write a V8 CPU profile into DIR at exit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_V8_FLAGS, arg, cli, startReplicatedCluster } from './benchUtil.mjs';

const requests = arg('--requests', 5_000);
const warmupRequests = arg('--warmup-requests', 1_000);
const partitions = arg('--partitions', 1);
const inFlight = arg('--in-flight', 32);
const runs = arg('--runs', 1);
// Seconds of idle CPU measured before the run: the nodes' time-driven work (heartbeats, metadata
// fetches, timers) at that rate is subtracted from their CPU in the "above idle" column.
const idleSeconds = arg('--idle-seconds', 5);
const batchSize = 16_384;
const recordSize = 100;
// perf produce's records per batch: about 8 bytes of record overhead for small null-key records.
const perBatch = Math.floor(batchSize / (recordSize + 8));

const costDir = mkdtempSync(join(tmpdir(), 'samsa-request-cost-'));
const cpuProfAt = process.argv.indexOf('--cpu-prof');
const profArgs = cpuProfAt > 0 ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[cpuProfAt + 1]}`] : [];
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** user+sys CPU ms of a process so far (fields 14 and 15 of /proc/<pid>/stat). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/** Asks a node for a fresh dump of its hop counters (SIGUSR2) and reads it. */
async function hopSnapshot(child) {
  const file = join(costDir, `${child.pid}.json`);
  rmSync(file, { force: true });
  child.kill('SIGUSR2');
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 20; i++) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      await new Promise((r) => setTimeout(r, 50)); // being written
    }
  }
  throw new Error(`node ${child.pid} wrote no request-cost dump (is SAMSA_BENCH_REQUEST_COST_DIR reaching it?)`);
}

function hopDelta(after, before) {
  const out = {};
  for (const [name, a] of Object.entries(after.hops)) {
    const b = before?.hops[name];
    out[name] = {
      count: a.count - (b?.count ?? 0),
      totalNs: a.totalNs - (b?.totalNs ?? 0),
      buckets: a.buckets.map((n, i) => n - (b?.buckets[i] ?? 0)),
    };
  }
  return out;
}

/** The bucket holding quantile q, as its geometric middle (log2 buckets: within a factor of 1.4). */
function quantileUs(h, q) {
  let seen = 0;
  const target = q * h.count;
  for (let i = 0; i < h.buckets.length; i++) {
    seen += h.buckets[i];
    if (seen >= target && h.buckets[i] > 0) return (2 ** i * Math.SQRT2) / 1000;
  }
  return 0;
}

function perfStatAvailable() {
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'instructions:u', 'true'], { encoding: 'utf8' });
  return r.status === 0 && !/not supported|<not counted>/.test(r.stderr);
}

function lscpuModel() {
  const r = spawnSync('lscpu', [], { encoding: 'utf8' });
  return /Model name:\s*(.+)/.exec(r.stdout ?? '')?.[1]?.trim() ?? cpus()[0]?.model ?? 'cpu';
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const pad = (s, n) => String(s).padEnd(n);
const padL = (s, n) => String(s).padStart(n);

const cluster = await startReplicatedCluster({
  env: { SAMSA_BENCH_REQUEST_COST_DIR: costDir },
  prefix: 'samsa-request-cost-data-',
  nodeArgs: profArgs,
});
const { bootstrap, samsa } = cluster;
try {
  const withPerf = perfStatAvailable();
  console.log(`machine: ${cpus().length} x ${lscpuModel()}, node ${process.version}`);
  console.log(
    `cluster: 3 controllers + 3 brokers (separate processes, 127.0.0.1), topic ${partitions} partition(s) RF=3 min.insync.replicas=2; ` +
      `perf produce: ${recordSize}-byte records, batch.size=${batchSize} (${perBatch} records/batch), linger.ms=5, acks=all, ${inFlight} batches in flight`,
  );
  if (!withPerf) console.log('perf stat: no instruction counter on this machine (VM); CPU time only');
  for (let run = 1; run <= runs; run++) {
    const topic = `request-cost-${run}`;
    samsa([
      'topics',
      '--create',
      '--bootstrap-server',
      bootstrap,
      '--topic',
      topic,
      '--partitions',
      String(partitions),
      '--replication-factor',
      '3',
      '--config',
      'min.insync.replicas=2',
    ]);
    // Every partition led and fully replicated before the run.
    let leaders = [];
    for (let i = 0; i < 100; i++) {
      const lines = samsa(['topics', '--describe', '--bootstrap-server', bootstrap, '--topic', topic])
        .split('\n')
        .filter((l) => l.includes('Partition:'));
      if (lines.length === partitions && lines.every((l) => /Leader: \d+/.test(l) && /Isr: \d+,\d+,\d+/.test(l))) {
        leaders = lines.map((l) => Number(/Leader: (\d+)/.exec(l)[1]));
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (leaders.length === 0) throw new Error(`topic ${topic} did not become fully replicated`);
    const produceArgs = (n) => [
      ...NODE_V8_FLAGS,
      cli,
      'perf',
      'produce',
      '--bootstrap-server',
      bootstrap,
      '--topic',
      topic,
      '--record-size',
      String(recordSize),
      '--num-records',
      String(n * perBatch),
      '--batch-size',
      String(batchSize),
      '--in-flight',
      String(inFlight),
      '--producer-props',
      'acks=all',
      'linger.ms=5',
    ];
    // Warm-up: JIT compilation, connections and fetch sessions, outside the measurement.
    const warm = spawnSync(process.execPath, produceArgs(warmupRequests), { encoding: 'utf8', timeout: 300_000 });
    if (warm.status !== 0) throw new Error(`warm-up produce failed:\n${warm.stderr}`);

    const nodes = [...cluster.controllers, ...cluster.brokers];
    const idle0 = new Map(nodes.map((n) => [n.id, cpuMs(n.child.pid)]));
    const idleStarted = performance.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleWallMs = performance.now() - idleStarted;
    const idleRate = new Map(nodes.map((n) => [n.id, (cpuMs(n.child.pid) - idle0.get(n.id)) / idleWallMs]));
    const load0 = loadavg();
    const cpu0 = new Map(nodes.map((n) => [n.id, cpuMs(n.child.pid)]));
    const hops0 = new Map();
    for (const n of nodes) hops0.set(n.id, await hopSnapshot(n.child));
    const started = performance.now();
    const client = spawn(process.execPath, [...profArgs, ...produceArgs(requests)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SAMSA_BENCH_REQUEST_COST_DIR: costDir },
    });
    cluster.children.push(client);
    let out = '';
    client.stdout.on('data', (d) => {
      out += d;
    });
    const code = await new Promise((r) => client.once('exit', r));
    const wallMs = performance.now() - started;
    if (code !== 0) throw new Error(`perf produce exited ${code}`);
    const cpu1 = new Map(nodes.map((n) => [n.id, cpuMs(n.child.pid)]));
    const hops1 = new Map();
    for (const n of nodes) hops1.set(n.id, await hopSnapshot(n.child));
    const load1 = loadavg();
    const clientDump = JSON.parse(readFileSync(join(costDir, `${client.pid}.json`), 'utf8'));
    const clientCpuMs =
      (clientDump.cpu.user + clientDump.cpu.system - clientDump.cpuAtFirstHop.user - clientDump.cpuAtFirstHop.system) / 1000;

    const deltas = new Map(nodes.map((n) => [n.id, hopDelta(hops1.get(n.id), hops0.get(n.id))]));
    const served = cluster.brokers.reduce((s, b) => s + (deltas.get(b.id)['ProduceStream.serve']?.count ?? 0), 0);
    const per1k = 1000 / served;
    const summary = out.split('\n').findLast((l) => l.includes('records sent')) ?? '';
    console.log(
      `\nrun ${run}: ${served} produce requests (leader count), wall ${fmt(wallMs / 1000, 1)} s; perf produce: ${summary.trim()}`,
    );
    console.log(`load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}`);

    const leaderSet = new Set(leaders);
    const role = (n) =>
      cluster.controllers.includes(n)
        ? 'controller'
        : partitions === 1
          ? leaderSet.has(n.id)
            ? 'leader'
            : 'follower'
          : `broker (leads ${leaders.filter((l) => l === n.id).length}/${partitions})`;
    console.log(`\nCPU ms per 1,000 produce requests (user+sys; the controllers' is time-driven: heartbeats, not requests)`);
    console.log(
      `${pad('process', 28)}${padL('CPU ms/1k req', 14)}${padL('above idle', 12)}${padL('CPU ms total', 14)}${padL('% of a core', 13)}`,
    );
    const rows = [['client (perf produce)', clientCpuMs, 0]];
    for (const n of [...cluster.brokers, ...cluster.controllers])
      rows.push([`${role(n)} ${n.id}`, cpu1.get(n.id) - cpu0.get(n.id), idleRate.get(n.id) * wallMs]);
    let total = 0;
    let totalAbove = 0;
    for (const [name, ms, idleMs] of rows) {
      total += ms;
      totalAbove += ms - idleMs;
      console.log(
        `${pad(name, 28)}${padL(fmt(ms * per1k), 14)}${padL(fmt((ms - idleMs) * per1k), 12)}${padL(fmt(ms, 0), 14)}${padL(fmt((100 * ms) / wallMs), 13)}`,
      );
    }
    console.log(`${pad('all processes', 28)}${padL(fmt(total * per1k), 14)}${padL(fmt(totalAbove * per1k), 12)}${padL(fmt(total, 0), 14)}`);

    // Hops: the client's, then the brokers' summed (a follower's hops come from both followers).
    const hopRows = [];
    const addHops = (who, d) => {
      for (const [name, h] of Object.entries(d)) {
        if (h.count <= 0) continue;
        hopRows.push({ who, name, h });
      }
    };
    addHops('client', hopDelta(clientDump, undefined));
    const brokerHops = {};
    for (const b of cluster.brokers) {
      for (const [name, h] of Object.entries(deltas.get(b.id))) {
        const key = `${name}@${role(b).split(' ')[0]}`;
        const acc = (brokerHops[key] ??= { count: 0, totalNs: 0, buckets: new Array(h.buckets.length).fill(0) });
        acc.count += h.count;
        acc.totalNs += h.totalNs;
        h.buckets.forEach((n, i) => {
          acc.buckets[i] += n;
        });
      }
    }
    for (const [key, h] of Object.entries(brokerHops)) {
      const [name, who] = key.split('@');
      if (h.count > 0) hopRows.push({ who, name, h });
    }
    console.log(`\nPer hop (in-process timers; times include waiting, not only CPU)`);
    console.log(
      `${pad('where', 12)}${pad('hop', 30)}${padL('per req', 9)}${padL('mean us', 10)}${padL('p50 us', 10)}${padL('p99 us', 10)}${padL('ms/1k req', 11)}`,
    );
    const order = ['client', 'leader', 'follower', 'broker', 'controller'];
    hopRows.sort((a, b) => order.indexOf(a.who) - order.indexOf(b.who) || a.name.localeCompare(b.name));
    for (const { who, name, h } of hopRows) {
      const countOnly = h.totalNs === 0;
      console.log(
        `${pad(who, 12)}${pad(name, 30)}${padL(fmt((h.count * per1k) / 1000, 2), 9)}` +
          (countOnly
            ? `${padL('-', 10)}${padL('-', 10)}${padL('-', 10)}${padL('-', 11)}`
            : `${padL(fmt(h.totalNs / h.count / 1000), 10)}${padL(fmt(quantileUs(h, 0.5)), 10)}${padL(fmt(quantileUs(h, 0.99)), 10)}${padL(fmt((h.totalNs / 1e6) * per1k), 11)}`),
      );
    }
    // Transport: the client's round trip less the leader's time serving it (the socket, HTTP/2
    // and protobuf framing both ways, and the time queued behind other work in either process).
    const rtt = clientDump.hops['client.Produce.rtt'];
    const serve = brokerHops['ProduceStream.serve@leader'] ?? brokerHops['ProduceStream.serve@broker'];
    if (rtt && serve) {
      console.log(
        `\ntransport (client round trip ${fmt(rtt.totalNs / rtt.count / 1000)} us - leader serve ${fmt(serve.totalNs / serve.count / 1000)} us): ` +
          `${fmt((rtt.totalNs / rtt.count - serve.totalNs / serve.count) / 1000)} us per request`,
      );
    }
  }
} finally {
  await cluster.stop();
  rmSync(costDir, { recursive: true, force: true });
}
