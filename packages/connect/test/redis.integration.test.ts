/**
 * Redis Streams source and sink in a standalone worker against a real Samsa node and a
 * redis-server started on a loopback port: stream → topic → stream, the entry id as the source
 * offset (a stopped and resumed connector goes on after the stored id).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Samsa, noopLogger } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection, startStandaloneWorker, type StandaloneWorker } from '../src/index.js';
import { freePort, removeDir, startNode, stopAll, stopProcess, tempDir, type NodeProcess } from '../../cli/test/helpers/processes.js';
import { waitFor as waitUntil } from '@samsa/testkit';

/** testkit's one waitFor, with this file's generous default bound (connectors under load). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, 100);

describe('Redis Streams connectors', () => {
  let dir: string;
  let node: NodeProcess;
  let redis: ChildProcess;
  let redisPort: number;
  let conn: RedisConnection;
  let samsa: Samsa;
  let worker: StandaloneWorker;

  beforeAll(async () => {
    dir = tempDir('connect-redis');
    redisPort = await freePort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    conn = await waitFor('redis-server', () => RedisConnection.connect('127.0.0.1', redisPort), 20_000);
    node = await startNode({ dataDir: join(dir, 'node') });
    samsa = new Samsa({ brokers: [node.address] });
    await samsa.admin().createTopics([{ topic: 'redis-orders', numPartitions: 1, replicationFactor: 1 }]);
    worker = await startStandaloneWorker(
      {
        'bootstrap.servers': node.address,
        'rest.port': String(await freePort()),
        'rest.host.name': '127.0.0.1',
        'offset.storage.file.filename': join(dir, 'offsets.json'),
        'offset.flush.interval.ms': '200',
        'consumer.session.timeout.ms': '6000',
        'consumer.heartbeat.interval.ms': '500',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
      [],
      noopLogger,
    );
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await samsa?.close();
    conn?.close();
    if (redis) await stopProcess(redis, 'SIGKILL');
    await stopAll();
    removeDir(dir);
  });

  const entries = async (stream: string) =>
    ((await conn.command('XRANGE', stream, '-', '+')) as Array<[Buffer, Buffer[]]>).map(([id, fields]) => ({
      id: id.toString(),
      fields: fields.map((f) => f.toString()),
    }));

  it('copies stream entries into a topic and back into another stream, resuming after the stored entry id', async () => {
    for (let i = 0; i < 5; i++) await conn.command('XADD', 'orders', '*', 'order', String(i), 'item', `item${i}`);
    await worker.herder.putConnectorConfig(
      'redis-src',
      {
        'connector.class': 'RedisStreamsSource',
        'redis.uri': `redis://127.0.0.1:${redisPort}`,
        'redis.stream.names': 'orders',
        topic: 'redis-orders',
        'block.ms': '100',
      },
      false,
    );
    await worker.herder.putConnectorConfig(
      'redis-sink',
      {
        'connector.class': 'RedisStreamsSink',
        'redis.uri': `redis://127.0.0.1:${redisPort}`,
        topics: 'redis-orders',
        'redis.stream.name': 'copy-${topic}',
      },
      false,
    );
    await waitFor('5 copied entries', async () => (await entries('copy-redis-orders')).length >= 5);
    expect((await entries('copy-redis-orders')).map((e) => e.fields)).toEqual(
      Array.from({ length: 5 }, (_, i) => ['key', 'orders', 'order', String(i), 'item', `item${i}`]),
    );
    const source = await entries('orders');
    await waitFor('the stored entry id', async () => (await worker.herder.offsets('redis-src')).offsets[0]?.offset?.id === source[4]!.id);

    await worker.herder.setTargetState('redis-src', 'STOPPED');
    for (let i = 5; i < 8; i++) await conn.command('XADD', 'orders', '*', 'order', String(i), 'item', `item${i}`);
    await worker.herder.setTargetState('redis-src', 'STARTED');
    await waitFor('8 copied entries', async () => (await entries('copy-redis-orders')).length >= 8);
    const copied = await entries('copy-redis-orders');
    expect(copied.map((e) => e.fields[3])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    const all = await entries('orders');
    await waitFor('the last entry id stored', async () => (await worker.herder.offsets('redis-src')).offsets[0]?.offset?.id === all[7]!.id);
  });

  it('a Redis that is not there fails the task with the reason', async () => {
    const port = await freePort();
    await worker.herder.putConnectorConfig(
      'nowhere',
      {
        'connector.class': 'RedisStreamsSource',
        'redis.uri': `redis://127.0.0.1:${port}`,
        'redis.stream.names': 'x',
        topic: 'redis-orders',
      },
      false,
    );
    const status = await waitFor('the failed task', () => {
      const s = worker.herder.connectorStatus('nowhere');
      return s.tasks[0]?.state === 'FAILED' ? s : undefined;
    });
    expect(status.tasks[0]!.trace).toContain('ECONNREFUSED');
  });
});
