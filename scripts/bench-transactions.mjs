#!/usr/bin/env node
// The README's transactions benchmark: 3 controllers + 3 brokers as separate `samsa node`
// processes on 127.0.0.1 (free ports, temp dirs), a 6-partition topic with RF=3 and
// min.insync.replicas=2, and in this process one SDK producer at a time (100-byte records, acks=all):
//   transactional: beginTransaction, N records spread round-robin over the 6 partitions (so a
//     transaction of N >= 6 touches every partition: one AddPartitionsToTxn each, one marker each),
//     commitTransaction; the next transaction once the commit is answered (a transactional
//     producer has one transaction open at a time). Transactions/s, records/s, commit latency.
//   idempotent: the same N records per round (same partitions) with an idempotent, non-transactional
//     producer, the next round once every record is acknowledged: the cost of the transaction
//     itself is the difference.
// For each N in --sizes (default 1,10,100), each mode for --seconds (default 10) after a 2 s warm-up.
// Stops every process it started, by PID.
//   node scripts/bench-transactions.mjs [--sizes 1,10,100] [--seconds S]
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { arg, root, startReplicatedCluster } from './benchUtil.mjs';

const { Samsa } = await import(join(root, 'packages/client/dist/index.js'));

const seconds = arg('--seconds', 10);
const warmupSeconds = 2;
const sizesAt = process.argv.indexOf('--sizes');
const sizes = (sizesAt > 0 ? process.argv[sizesAt + 1] : '1,10,100').split(',').map(Number);
const PARTITIONS = 6;
const TOPIC = 'bench-txn';
const payload = Buffer.alloc(100, 'x');

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/**
 * Runs `round()` back to back: `warmupSeconds` unmeasured, then `seconds` measured. Returns rounds/s,
 * records/s and round latency p50/p99 (ms) of the measured part.
 */
async function measure(perRound, round) {
  const warmEnd = performance.now() + warmupSeconds * 1000;
  while (performance.now() < warmEnd) await round();
  const latencies = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await round();
    latencies.push(performance.now() - t0);
  }
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    roundsPerSec: latencies.length / elapsed,
    recordsPerSec: (latencies.length * perRound) / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

const cluster = await startReplicatedCluster({ prefix: 'samsa-bench-txn-' });
const client = new Samsa({ brokers: cluster.bootstrap.split(','), clientId: 'bench-txn', retry: { retries: 10 } });
try {
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(
    `cluster: 3 controllers + 3 brokers (separate processes, 127.0.0.1), topic ${PARTITIONS} partitions RF=3 min.insync.replicas=2, 100-byte records, acks=all; ${seconds} s per figure after ${warmupSeconds} s warm-up`,
  );
  await client
    .admin()
    .createTopics([{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
  const messages = (n) => Array.from({ length: n }, (_, i) => ({ value: payload, partition: i % PARTITIONS }));
  const rows = [];
  for (const n of sizes) {
    const txnProducer = client.producer({ transactionalId: `bench-txn-${n}`, lingerMs: 0 });
    await txnProducer.initTransactions();
    // Where a transaction's time goes: the sends (AddPartitionsToTxn for each new partition, then
    // the produce) and the commit (flush, then EndTxn, answered once PrepareCommit is logged).
    const sendMs = [];
    const commitMs = [];
    const txn = await measure(n, async () => {
      const t0 = performance.now();
      txnProducer.beginTransaction();
      await txnProducer.send({ topic: TOPIC, messages: messages(n) });
      const t1 = performance.now();
      await txnProducer.commitTransaction();
      sendMs.push(t1 - t0);
      commitMs.push(performance.now() - t1);
    });
    const median = (xs) =>
      quantile(
        [...xs].sort((a, b) => a - b),
        0.5,
      );
    await txnProducer.close();
    const idemProducer = client.producer({ enableIdempotence: true, acks: -1, lingerMs: 0 });
    const idem = await measure(n, async () => {
      await idemProducer.send({ topic: TOPIC, messages: messages(n) });
    });
    await idemProducer.close();
    rows.push([
      String(n),
      txn.roundsPerSec.toFixed(1),
      Math.round(txn.recordsPerSec).toString(),
      `${txn.p50.toFixed(1)} / ${txn.p99.toFixed(1)}`,
      `${median(sendMs).toFixed(1)} / ${median(commitMs).toFixed(1)}`,
      Math.round(idem.recordsPerSec).toString(),
      `${idem.p50.toFixed(1)} / ${idem.p99.toFixed(1)}`,
      `${((txn.recordsPerSec / idem.recordsPerSec) * 100).toFixed(0)} %`,
    ]);
    console.log(
      `records/txn ${n}: transactional ${txn.roundsPerSec.toFixed(1)} txn/s, ${Math.round(txn.recordsPerSec)} records/s, txn p50 ${txn.p50.toFixed(1)} ms p99 ${txn.p99.toFixed(1)} ms (send p50 ${median(sendMs).toFixed(1)} ms, commit p50 ${median(commitMs).toFixed(1)} ms); idempotent ${Math.round(idem.recordsPerSec)} records/s, round p50 ${idem.p50.toFixed(1)} ms p99 ${idem.p99.toFixed(1)} ms`,
    );
  }
  const header = [
    'records/txn',
    'txn/s',
    'records/s (txn)',
    'txn p50 / p99 ms',
    'send / commit p50 ms',
    'records/s (idempotent)',
    'round p50 / p99 ms',
    'txn vs idempotent',
  ];
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  await client.close();
  await cluster.stop();
}
