/**
 * Real processes: a 3-broker Samsa cluster and `samsa schema-registry` instances as child
 * processes on 127.0.0.1 sharing the `_schemas` topic. Concurrent registers through both instances
 * never give two ids to one schema; killing the writer (SIGKILL) moves writes to the other instance,
 * and every register that was acknowledged is still there, on the survivor and on a new instance
 * that replays the topic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from '../../cli/test/helpers/cluster.js';
import { CLI, freePort, stopProcess } from '../../cli/test/helpers/processes.js';
import { Samsa, defineTopic, serdes } from '@samsa/client';
import { SchemaRegistryClient } from '../src/client.js';
import { avro } from '../src/serdes.js';

interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
  output: string;
}

let cluster: TestCluster;
const instances: Instance[] = [];
const LEASE_MS = 2_000;

async function startRegistry(name: string): Promise<Instance> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      CLI,
      'schema-registry',
      '--bootstrap-server',
      cluster.bootstrap.join(','),
      '--listeners',
      url,
      '--instance-id',
      name,
      '--lease-ms',
      String(LEASE_MS),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const inst: Instance = { name, url, child, output: '' };
  child.stdout!.on('data', (d: Buffer) => {
    inst.output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    inst.output += d.toString();
  });
  instances.push(inst);
  await waitFor(
    `${name} to start`,
    () => {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}:\n${inst.output}`);
      return inst.output.includes('schema registry started');
    },
    60_000,
  );
  return inst;
}

async function call(inst: Instance, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(inst.url + path, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(45_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const schemaOf = (i: number) => JSON.stringify({ type: 'record', name: `R${i}`, namespace: 'it', fields: [{ name: 'f', type: 'int' }] });

function writerOf(): Instance | undefined {
  // The instance whose last election line says it is the writer, among the running ones.
  let best: { inst: Instance; epoch: number } | undefined;
  for (const inst of instances) {
    if (inst.child.exitCode !== null || inst.child.signalCode !== null) continue;
    for (const m of inst.output.matchAll(/"epoch":(\d+)[^\n]*this instance is the writer/g)) {
      const epoch = Number(m[1]);
      if (!best || epoch > best.epoch) best = { inst, epoch };
    }
  }
  return best?.inst;
}

beforeAll(async () => {
  cluster = await startCluster({ controllers: 1, brokers: 3, heartbeatIntervalMs: 250, sessionTimeoutMs: 2_000 });
}, 120_000);

afterAll(async () => {
  for (const inst of instances)
    if (inst.child.exitCode === null && inst.child.signalCode === null) await stopProcess(inst.child, 'SIGKILL');
  await cluster?.stop();
}, 60_000);

describe('two schema registry instances over one cluster', () => {
  it('agree on ids under concurrent registers, and keep every acknowledged register when the writer is killed', async () => {
    const a = await startRegistry('a');
    const b = await startRegistry('b');
    await waitFor('a writer', () => writerOf(), 30_000);

    // Concurrent: every schema registered through both instances at once, twice over.
    const ids = new Map<number, Set<number>>();
    await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(async (i) => {
        const results = await Promise.all(
          [a, b, a, b].map((inst, k) => call(inst, 'POST', `/subjects/${k % 2 ? 'x' : 'y'}-${i}/versions`, { schema: schemaOf(i) })),
        );
        for (const r of results) {
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          if (!ids.has(i)) ids.set(i, new Set());
          ids.get(i)!.add(r.body.id);
        }
      }),
    );
    for (const [i, set] of ids) expect([...set], `schema ${i}`).toHaveLength(1);
    const allIds = [...ids.values()].map((s) => [...s][0]!);
    expect(new Set(allIds).size).toBe(allIds.length);
    // Both instances read the same thing (read-your-writes through the other instance).
    for (const inst of [a, b]) {
      for (const [i, set] of ids) {
        const r = await call(inst, 'GET', `/schemas/ids/${[...set][0]}`);
        expect(JSON.parse(r.body.schema).name).toBe(`R${i}`);
      }
    }

    // Mid-stream: four workers keep registers in flight through both instances; the writer is
    // killed (SIGKILL) while requests are outstanding; the workers then go on through the survivor.
    const writer = writerOf()!;
    const survivor = writer === a ? b : a;
    const acknowledged = new Map<number, number>();
    let next = 100;
    let killed = false;
    let afterKill = 0;
    const worker = async (): Promise<void> => {
      while (next < 1000 && afterKill < 20) {
        const i = next++;
        const target = killed ? survivor : i % 2 ? a : b;
        try {
          const r = await call(target, 'POST', `/subjects/m-${i}/versions`, { schema: schemaOf(i) });
          if (r.status === 200) {
            acknowledged.set(i, r.body.id);
            if (killed) afterKill++;
          } else if (killed) {
            await new Promise((res) => setTimeout(res, 100)); // failing over: 50003/50004
          }
        } catch {
          // A connection cut by the kill: not acknowledged, so nothing is promised.
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    await waitFor('registers before the kill', () => acknowledged.size >= 10, 60_000);
    killed = true;
    await stopProcess(writer.child, 'SIGKILL');
    await Promise.all(workers);
    expect(afterKill, `writes after the kill; survivor log:\n${survivor.output.slice(-3000)}`).toBeGreaterThanOrEqual(20);
    expect(writerOf()).toBe(survivor);

    // Every acknowledged register is there on the survivor, and on a new instance that replays.
    const c = await startRegistry('c');
    for (const inst of [survivor, c]) {
      for (const [i, id] of acknowledged) {
        const r = await call(inst, 'GET', `/subjects/m-${i}/versions/1`);
        expect(r.status, `${inst.name} m-${i}`).toBe(200);
        expect(r.body.id).toBe(id);
      }
    }
    const ackIds = [...acknowledged.values()];
    expect(new Set(ackIds).size).toBe(ackIds.length);
    for (const id of ackIds) expect(allIds).not.toContain(id);
  }, 240_000);

  it('serdes.avro plugs into @samsa/client: a producer writes typed records, a consumer on an older schema reads them', async () => {
    const e = await startRegistry('e');
    interface OrderV2 {
      id: number;
      item: string;
      qty: number;
    }
    interface OrderV1 {
      id: number;
      item: string;
    }
    const v1 = {
      type: 'record',
      name: 'Order',
      namespace: 'e2e',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'item', type: 'string' },
      ],
    };
    const v2 = { ...v1, fields: [...v1.fields, { name: 'qty', type: 'int', default: 1 }] };
    const samsa = new Samsa({ brokers: cluster.bootstrap });
    try {
      await samsa.admin().createTopics([{ topic: 'orders-e2e', numPartitions: 1, replicationFactor: 3 }]);
      const readerSerde = await avro<OrderV1>({ client: new SchemaRegistryClient({ url: e.url }), topic: 'orders-e2e', schema: v1 });
      const writerSerde = await avro<OrderV2>({ client: new SchemaRegistryClient({ url: e.url }), topic: 'orders-e2e', schema: v2 });
      const orders = defineTopic('orders-e2e', { key: serdes.string, value: writerSerde });
      const producer = samsa.producer();
      await producer.send(orders, [
        { key: 'o1', value: { id: 1, item: 'tea', qty: 2 } },
        { key: 'o2', value: { id: 2, item: 'cake', qty: 1 } },
      ]);
      const consumer = samsa.consumer({ value: readerSerde, autoOffsetReset: 'earliest' });
      consumer.assign([{ topic: 'orders-e2e', partition: 0 }]);
      const seen: OrderV1[] = [];
      await waitFor(
        'two records',
        async () => {
          for (const r of await consumer.poll({ maxWaitMs: 500 })) seen.push({ ...r.value! });
          return seen.length >= 2;
        },
        30_000,
      );
      expect(seen).toEqual([
        { id: 1, item: 'tea' },
        { id: 2, item: 'cake' },
      ]);
    } finally {
      await samsa.close();
    }
  }, 120_000);
});
