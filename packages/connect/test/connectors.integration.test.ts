/**
 * The datagen source and the HTTP sink in a standalone worker (in this process) against a real
 * Samsa node, the HTTP sink against a local server that answers some requests with 503, stalls
 * some past the timeout, and refuses bad records with 400: every good record is delivered, every
 * bad one lands in the dead letter queue with the `__connect.errors.*` headers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Samsa, noopLogger, type ConsumerRecord } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneWorker, type StandaloneWorker } from '../src/index.js';
import { freePort, removeDir, startNode, stopAll, tempDir, type NodeProcess } from '../../cli/test/helpers/processes.js';
import { waitFor as waitUntil } from '@samsa/testkit';

/** testkit's one waitFor, with this file's generous default bound (connectors under load). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, 100);

async function readAll(samsa: Samsa, topic: string, count: number): Promise<ConsumerRecord<Buffer | null, Buffer | null>[]> {
  const consumer = samsa.consumer();
  try {
    consumer.assign([{ topic, partition: 0 }]);
    await consumer.seek({ topic, partition: 0, offset: 0n });
    const out: ConsumerRecord<Buffer | null, Buffer | null>[] = [];
    await waitFor(`${count} records in ${topic}`, async () => {
      out.push(...(await consumer.poll({ maxWaitMs: 300 })));
      return out.length >= count;
    });
    return out;
  } finally {
    await consumer.close();
  }
}

describe('datagen source and HTTP sink', () => {
  let dir: string;
  let node: NodeProcess;
  let samsa: Samsa;
  let worker: StandaloneWorker;
  let server: Server;
  let serverUrl = '';
  const accepted: number[] = [];
  let requests = 0;

  beforeAll(async () => {
    dir = tempDir('connectors');
    node = await startNode({ dataDir: join(dir, 'node') });
    samsa = new Samsa({ brokers: [node.address] });
    await samsa.admin().createTopics([
      { topic: 'tweets', numPartitions: 1, replicationFactor: 1 },
      { topic: 'events', numPartitions: 1, replicationFactor: 1 },
    ]);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        const n = ++requests;
        const values = JSON.parse(body) as Array<{ id: number; bad?: boolean }>;
        if (values.some((v) => v.bad)) {
          res.writeHead(400).end('bad record');
          return;
        }
        if (n % 3 === 0) {
          res.writeHead(503).end('try later');
          return;
        }
        if (n % 7 === 0) {
          // Past request.timeout.ms: the sink gives up on this attempt and retries; we accept nothing.
          setTimeout(() => res.writeHead(500).end('late'), 1500).unref();
          return;
        }
        accepted.push(...values.map((v) => v.id));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
    worker = await startStandaloneWorker(
      {
        'bootstrap.servers': node.address,
        'rest.port': String(await freePort()),
        'rest.host.name': '127.0.0.1',
        'offset.storage.file.filename': join(dir, 'offsets.json'),
        'offset.flush.interval.ms': '200',
        'consumer.session.timeout.ms': '6000',
        'consumer.heartbeat.interval.ms': '500',
      },
      [],
      noopLogger,
    );
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await samsa?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await stopAll();
    removeDir(dir);
  });

  it('datagen writes keyed, schema-described tweets at its rate limit and stores its position', async () => {
    await worker.herder.putConnectorConfig(
      'tweets',
      {
        'connector.class': 'DatagenConnector',
        'kafka.topic': 'tweets',
        quickstart: 'tweets',
        'max.interval': '20',
        iterations: '40',
        'random.seed': '7',
      },
      false,
    );
    const records = await readAll(samsa, 'tweets', 40);
    expect(records).toHaveLength(40);
    const first = JSON.parse(records[0]!.value!.toString()) as {
      schema: { name: string; fields: Array<{ field: string }> };
      payload: { id: number; text: string; user: { screen_name: string } };
    };
    expect(first.schema.name).toBe('samsa.datagen.Tweet');
    expect(first.schema.fields.map((f) => f.field)).toEqual(['id', 'created_at', 'text', 'lang', 'retweet_count', 'user']);
    expect(first.payload.id).toBe(1_000_000);
    expect(JSON.parse(records[0]!.key!.toString())).toEqual({
      schema: { type: 'string', optional: false },
      payload: first.payload.user.screen_name,
    });
    expect(new Set(records.map((r) => (JSON.parse(r.value!.toString()) as { payload: { id: number } }).payload.id)).size).toBe(40);
    // 40 records at one per 20 ms are made over at least 39 intervals.
    const createdAt = (r: ConsumerRecord<Buffer | null, Buffer | null>) =>
      (JSON.parse(r.value!.toString()) as { payload: { created_at: number } }).payload.created_at;
    expect(createdAt(records[39]!) - createdAt(records[0]!)).toBeGreaterThanOrEqual(39 * 20);
    await waitFor('the datagen position', async () => (await worker.herder.offsets('tweets')).offsets[0]?.offset?.position === 40);
  });

  it('HTTP sink: every good record delivered despite 503s and timeouts; every 400 in the DLQ with error headers', async () => {
    const producer = samsa.producer();
    const values = Array.from({ length: 60 }, (_, id) => ({ id, ...(id % 6 === 5 ? { bad: true } : {}) }));
    await producer.send({
      topic: 'events',
      messages: values.map((v) => ({ key: Buffer.from(String(v.id)), value: Buffer.from(JSON.stringify(v)) })),
    });
    await worker.herder.putConnectorConfig(
      'http',
      {
        'connector.class': 'io.samsa.connect.http.HttpSinkConnector',
        topics: 'events',
        'http.api.url': serverUrl,
        'batch.max.size': '4',
        'max.retries': '2',
        'retry.backoff.ms': '20',
        'request.timeout.ms': '300',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': 'events-dlq',
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
      false,
    );
    const good = values.filter((v) => !v.bad).map((v) => v.id);
    const bad = values.filter((v) => v.bad).map((v) => v.id);
    await waitFor('every good record at the server', () => good.every((id) => accepted.includes(id)), 90_000);
    expect(accepted.filter((id) => bad.includes(id))).toEqual([]);
    const dlq = await readAll(samsa, 'events-dlq', bad.length);
    expect(new Set(dlq.map((r) => (JSON.parse(r.value!.toString()) as { id: number }).id))).toEqual(new Set(bad));
    const h = dlq[0]!.headers;
    expect(h['__connect.errors.topic']!.toString()).toBe('events');
    expect(h['__connect.errors.partition']!.toString()).toBe('0');
    expect(Number(h['__connect.errors.offset']!.toString()) % 6).toBe(5);
    expect(h['__connect.errors.connector.name']!.toString()).toBe('http');
    expect(h['__connect.errors.task.id']!.toString()).toBe('0');
    expect(h['__connect.errors.stage']!.toString()).toBe('TASK_PUT');
    expect(h['__connect.errors.exception.message']!.toString()).toBe('HTTP 400: bad record');
    expect(worker.herder.connectorStatus('http').tasks[0]!.state).toBe('RUNNING');
    await producer.close();
  }, 120_000);

  it('HTTP sink without errors.tolerance fails its task on a 400 with the trace', async () => {
    await worker.herder.putConnectorConfig(
      'strict',
      {
        'connector.class': 'HttpSink',
        topics: 'events',
        'http.api.url': serverUrl,
        'max.retries': '20',
        'retry.backoff.ms': '5',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
      false,
    );
    const status = await waitFor('the strict task to fail', () => {
      const s = worker.herder.connectorStatus('strict');
      return s.tasks[0]?.state === 'FAILED' ? s : undefined;
    });
    expect(status.tasks[0]!.trace).toContain('HTTP 400: bad record');
    expect(status.connector.state).toBe('RUNNING');
  });

  it("a converter error without errors.tolerance fails the task with Kafka's JsonConverter message", async () => {
    await worker.herder.putConnectorConfig(
      'envelope',
      {
        'connector.class': 'HttpSink',
        topics: 'events',
        'http.api.url': serverUrl,
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
      false,
    );
    const status = await waitFor('the envelope task to fail', () => {
      const s = worker.herder.connectorStatus('envelope');
      return s.tasks[0]?.state === 'FAILED' ? s : undefined;
    });
    expect(status.tasks[0]!.trace).toContain('JsonConverter with schemas.enable requires "schema" and "payload" fields');
  });
});
