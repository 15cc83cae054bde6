#!/usr/bin/env node
// The registry's benchmark, reproducibly: one combined Samsa node and one `samsa schema-registry`
// on 127.0.0.1 (temp dir, stopped by PID at the end), then
//   - register latency (new schema each time: append to _schemas + read-back) and lookup latency
//     (POST /subjects/{s}) and GET /schemas/ids/{id}, p50/p99 over N sequential calls;
//   - serialize+deserialize throughput per format for ~1 KiB records, against JSON.stringify/parse
//     without a registry.
// Needs `node scripts/bootstrap.mjs` first.   node packages/registry/bench/bench.mjs [--n 500]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_V8_FLAGS, arg, cli, freePort, root } from '../../../scripts/benchUtil.mjs';

const n = arg('--n', 500);
const reg = await import(join(root, 'packages/registry/dist/index.js'));

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function call(url, method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${text}`);
  return JSON.parse(text);
}

const dataDir = mkdtempSync(join(tmpdir(), 'samsa-registry-bench-'));
const port = await freePort();
const controllerPort = await freePort();
const registryPort = await freePort();
const children = [];
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
children.push(node);
try {
  const bootstrap = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(process.execPath, [cli, 'topics', '--list', '--bootstrap-server', bootstrap], { encoding: 'utf8' });
    if (r.status === 0) break;
    if (Date.now() > deadline) throw new Error(`the node did not come up: ${r.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = `http://127.0.0.1:${registryPort}`;
  const registry = spawn(
    process.execPath,
    [cli, 'schema-registry', '--bootstrap-server', bootstrap, '--listeners', url, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(registry);
  for (let i = 0; ; i++) {
    try {
      await call(url, 'POST', '/subjects/warmup/versions', { schema: '"string"' });
      break;
    } catch (err) {
      if (i > 150) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${n} calls each`);

  const schemaOf = (i) =>
    JSON.stringify({
      type: 'record',
      name: `R${i}`,
      namespace: 'bench',
      fields: [
        { name: 'a', type: 'long' },
        { name: 'b', type: 'string' },
      ],
    });
  const time = async (fn) => {
    const xs = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await fn(i);
      xs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return `p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms`;
  };
  const ids = [];
  console.log(
    `register (new schema):  ${await time(async (i) => ids.push((await call(url, 'POST', `/subjects/s${i}/versions`, { schema: schemaOf(i) })).id))}`,
  );
  console.log(`register (same again):  ${await time(async (i) => call(url, 'POST', `/subjects/s${i}/versions`, { schema: schemaOf(i) }))}`);
  console.log(`lookup POST /subjects/s: ${await time(async (i) => call(url, 'POST', `/subjects/s${i}`, { schema: schemaOf(i) }))}`);
  console.log(`GET /schemas/ids/{id}:  ${await time(async (i) => call(url, 'GET', `/schemas/ids/${ids[i]}`))}`);

  // Serde throughput, ~1 KiB records.
  const client = new reg.SchemaRegistryClient({ url });
  const text = 'x'.repeat(900);
  const value = { id: 123456789, name: 'order-0001', note: text, qty: 3, price: 12.5, tags: ['a', 'b', 'c'] };
  const avroSchema = {
    type: 'record',
    name: 'Big',
    namespace: 'bench',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string' },
      { name: 'note', type: 'string' },
      { name: 'qty', type: 'int' },
      { name: 'price', type: 'double' },
      { name: 'tags', type: { type: 'array', items: 'string' } },
    ],
  };
  const jsonSchema = {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      note: { type: 'string' },
      qty: { type: 'integer' },
      price: { type: 'number' },
      tags: { type: 'array', items: { type: 'string' } },
    },
    required: ['id'],
  };
  const proto =
    'syntax = "proto3"; package bench; message Big { int64 id = 1; string name = 2; string note = 3; int32 qty = 4; double price = 5; repeated string tags = 6; }';
  const serdes = {
    'JSON, no registry': { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) },
    avro: await reg.avro({ client, topic: 'bench-avro', schema: avroSchema }),
    'json schema': await reg.jsonSchema({ client, topic: 'bench-json', schema: jsonSchema }),
    protobuf: await reg.protobufSerde({ client, topic: 'bench-proto', schema: proto }),
  };
  for (const [name, serde] of Object.entries(serdes)) {
    const size = serde.serialize(value).length;
    const count = 50_000;
    let t = process.hrtime.bigint();
    let last;
    for (let i = 0; i < count; i++) last = serde.serialize(value);
    const ser = count / (Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    for (let i = 0; i < count; i++) serde.deserialize(last);
    const de = count / (Number(process.hrtime.bigint() - t) / 1e9);
    console.log(
      `${name.padEnd(18)} ${String(size).padStart(5)} B/record  serialize ${Math.round(ser).toLocaleString('en')} records/s  deserialize ${Math.round(de).toLocaleString('en')} records/s`,
    );
  }
} finally {
  for (const c of children.reverse()) {
    c.kill('SIGTERM');
    await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', r)));
  }
  rmSync(dataDir, { recursive: true, force: true });
}
