#!/usr/bin/env node
// Samsa Connect's README benchmark: one combined node and a throwaway PostgreSQL cluster on
// 127.0.0.1 (temp dirs, stopped by PID / pg_ctl), a standalone worker in this process.
//  1. FileStream source → Samsa → PostgreSQL sink: N JSON lines, records/s until all N rows are in.
//  2. CDC at a steady insert rate: each row's commit time (clock_timestamp() in the insert's
//     transaction) to the moment its change record is read from Samsa: p50/p99.
//   node scripts/bench-connect.mjs [--records N] [--cdc-rows N] [--cdc-rate rows/s]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_V8_FLAGS, arg, cli, freePort, root } from './benchUtil.mjs';

const records = arg('--records', 50_000);
const cdcRows = arg('--cdc-rows', 3_000);
const cdcRate = arg('--cdc-rate', 500);
const { Samsa, noopLogger } = await import(join(root, 'packages/client/dist/index.js'));
const { startStandaloneWorker } = await import(join(root, 'packages/connect/dist/index.js'));
// pg is @samsa/connect's dependency: resolve it from there.
const pgMod = createRequire(join(root, 'packages/connect/package.json'))('pg');

const dir = mkdtempSync(join(tmpdir(), 'samsa-bench-connect-'));
const asRoot = process.getuid?.() === 0;
const pgRoot = '/usr/lib/postgresql';
const bin = join(
  pgRoot,
  readdirSync(pgRoot)
    .filter((v) => existsSync(join(pgRoot, v, 'bin/initdb')))
    .sort((a, b) => b - a)[0],
  'bin',
);
const pgDir = join(dir, 'pg');
const asPg = (cmd, args) => {
  const r = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stdout}${r.stderr}`);
};
if (asRoot)
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
const pgPort = await freePort();
asPg(join(bin, 'initdb'), ['-D', pgDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
asPg(join(bin, 'pg_ctl'), [
  '-D',
  pgDir,
  '-w',
  '-l',
  join(dir, 'pg.log'),
  '-o',
  `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1 -c wal_level=logical`,
  'start',
]);
const port = await freePort();
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
    `1@127.0.0.1:${await freePort()}`,
    '--data-dir',
    join(dir, 'node'),
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
// Interrupted (Ctrl-C, a timeout): still stop the node and PostgreSQL this script started.
for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
let worker;
let samsa;
const db = new pgMod.Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', database: 'postgres' });
try {
  const bootstrap = `127.0.0.1:${port}`;
  samsa = new Samsa({ brokers: [bootstrap] });
  for (let i = 0; ; i++) {
    try {
      await samsa.admin().listTopics();
      break;
    } catch (err) {
      if (i > 150) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await samsa.admin().createTopics([
    { topic: 'bench_rows', numPartitions: 1, replicationFactor: 1 },
    { topic: 'cdc.public.ticks', numPartitions: 1, replicationFactor: 1 },
  ]);
  await db.connect();
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  worker = await startStandaloneWorker(
    {
      'bootstrap.servers': bootstrap,
      'rest.port': String(await freePort()),
      'offset.storage.file.filename': join(dir, 'offsets.json'),
      'offset.flush.interval.ms': '1000',
    },
    [],
    noopLogger,
  );

  const file = join(dir, 'rows.jsonl');
  writeFileSync(
    file,
    Array.from({ length: records }, (_, i) => JSON.stringify({ id: i, name: `row ${i}`, amount: i % 1000 })).join('\n') + '\n',
  );
  const t0 = performance.now();
  await worker.herder.putConnectorConfig(
    'file-src',
    {
      'connector.class': 'FileStreamSource',
      file,
      topic: 'bench_rows',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    },
    false,
  );
  await worker.herder.putConnectorConfig(
    'pg-sink',
    {
      'connector.class': 'PostgresSink',
      topics: 'bench_rows',
      'connection.url': `jdbc:postgresql://127.0.0.1:${pgPort}/postgres`,
      'auto.create': 'true',
      'batch.size': '500',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    },
    false,
  );
  for (;;) {
    const r = await db
      .query("SELECT to_regclass('bench_rows') IS NOT NULL AS t")
      .then((x) => (x.rows[0].t ? db.query('SELECT count(*)::int AS n FROM bench_rows') : { rows: [{ n: 0 }] }));
    if (r.rows[0].n >= records) break;
    if (performance.now() - t0 > 600_000) throw new Error('file → postgres did not finish in 10 minutes');
    await new Promise((res) => setTimeout(res, 100));
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `FileStream source → Samsa → PostgreSQL sink: ${records} records in ${secs.toFixed(1)} s: ${Math.round(records / secs)} records/s (including the consumer group join)`,
  );

  await db.query('CREATE TABLE ticks (id SERIAL PRIMARY KEY, committed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())');
  await worker.herder.putConnectorConfig(
    'cdc',
    {
      'connector.class': 'PostgresCdc',
      'connection.url': `jdbc:postgresql://127.0.0.1:${pgPort}/postgres`,
      'topic.prefix': 'cdc',
      'table.include.list': 'public.ticks',
      'slot.name': 'bench',
      'publication.name': 'bench',
      'poll.interval.ms': '20',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
    },
    false,
  );
  const consumer = samsa.consumer();
  consumer.assign([{ topic: 'cdc.public.ticks', partition: 0 }]);
  await consumer.seek({ topic: 'cdc.public.ticks', partition: 0, offset: 0n });
  const latencies = [];
  let inserted = 0;
  const started = performance.now();
  const inserter = (async () => {
    while (inserted < cdcRows) {
      const due = Math.floor(((performance.now() - started) / 1000) * cdcRate) - inserted;
      for (let i = 0; i < due && inserted < cdcRows; i++, inserted++) await db.query('INSERT INTO ticks DEFAULT VALUES');
      await new Promise((res) => setTimeout(res, 5));
    }
  })();
  const cdcStart = performance.now();
  // Rows inserted before the slot existed arrive in the snapshot (op r): counted, but not timed.
  const seen = new Set();
  while (seen.size < cdcRows) {
    for (const r of await consumer.poll({ maxWaitMs: 200 })) {
      if (r.value === null) continue;
      const v = JSON.parse(r.value.toString());
      if (seen.has(v.after.id)) continue;
      seen.add(v.after.id);
      if (v.op === 'c') latencies.push(Date.now() - v.after.committed_at);
    }
    if (performance.now() - cdcStart > 120_000)
      throw new Error(
        `CDC delivered ${seen.size} of ${cdcRows} rows in 2 minutes: ${JSON.stringify(worker.herder.connectorStatus('cdc'))}`,
      );
  }
  await inserter;
  await consumer.close();
  latencies.sort((a, b) => a - b);
  const cdcSecs = (performance.now() - cdcStart) / 1000;
  console.log(
    `CDC at ${cdcRate} inserts/s: ${cdcRows} rows (${latencies.length} timed changes), ${Math.round(cdcRows / cdcSecs)} records/s, latency row committed → record in Samsa: p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms`,
  );
} finally {
  await cleanup();
}

async function cleanup() {
  await worker?.stop().catch(() => undefined);
  await samsa?.close().catch(() => undefined);
  await db.end().catch(() => undefined);
  node.kill('SIGKILL');
  try {
    asPg(join(bin, 'pg_ctl'), ['-D', pgDir, '-w', '-m', 'immediate', 'stop']);
  } catch {}
  rmSync(dir, { recursive: true, force: true });
}
