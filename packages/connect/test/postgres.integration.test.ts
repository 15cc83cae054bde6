/**
 * The PostgreSQL source (incrementing, timestamp, timestamp+incrementing, query) and sink
 * (upsert by primary key, delete on tombstones, auto.create, batching) in a standalone worker
 * against a real Samsa node and a throwaway PostgreSQL cluster; the sink's rows checked with psql.
 */
import { join } from 'node:path';
import { Samsa, noopLogger, type ConsumerRecord } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneWorker, type StandaloneWorker } from '../src/index.js';
import { freePort, removeDir, startNode, stopAll, tempDir, type NodeProcess } from '../../cli/test/helpers/processes.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { waitFor as waitUntil } from '@samsa/testkit';

/** testkit's one waitFor, with this file's generous default bound (connectors under load). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, 100);

describe('PostgreSQL connectors', () => {
  let dir: string;
  let node: NodeProcess;
  let pg: TestPostgres;
  let samsa: Samsa;
  let worker: StandaloneWorker;

  /** Every value payload in a topic so far (JsonConverter envelopes). */
  async function payloads(topic: string, atLeast: number): Promise<Array<Record<string, unknown>>> {
    const consumer = samsa.consumer();
    try {
      consumer.assign([{ topic, partition: 0 }]);
      await consumer.seek({ topic, partition: 0, offset: 0n });
      const out: ConsumerRecord<Buffer | null, Buffer | null>[] = [];
      await waitFor(`${atLeast} records in ${topic}`, async () => {
        out.push(...(await consumer.poll({ maxWaitMs: 300 })));
        return out.length >= atLeast;
      });
      return out.map((r) => (JSON.parse(r.value!.toString()) as { payload: Record<string, unknown> }).payload);
    } finally {
      await consumer.close();
    }
  }

  const source = (name: string, extra: Record<string, string>) =>
    worker.herder.putConnectorConfig(
      name,
      {
        'connector.class': 'PostgresSource',
        'connection.url': pg.url,
        'connection.user': 'postgres',
        'poll.interval.ms': '200',
        ...extra,
      },
      false,
    );

  beforeAll(async () => {
    dir = tempDir('connect-pg');
    pg = await startPostgres();
    node = await startNode({ dataDir: join(dir, 'node') });
    samsa = new Samsa({ brokers: [node.address] });
    await samsa.admin().createTopics(
      ['pg-orders', 'pg-events', 'pg-ticks', 'pg-big-orders', 'users', 'cdc.public.accounts'].map((topic) => ({
        topic,
        numPartitions: 1,
        replicationFactor: 1,
      })),
    );
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
    await stopAll();
    await pg?.stop();
    removeDir(dir);
  });

  it('incrementing mode copies new rows once, in id order, and resumes after a restart of the connector', async () => {
    pg.psql(
      "CREATE TABLE orders (id SERIAL PRIMARY KEY, item TEXT NOT NULL, qty INT, big BIGINT); INSERT INTO orders (item, qty, big) SELECT 'item' || g, g, 9007199254740000 + g FROM generate_series(1, 5) g",
    );
    await source('orders-src', {
      mode: 'incrementing',
      'incrementing.column.name': 'id',
      'table.whitelist': 'orders',
      'topic.prefix': 'pg-',
      'batch.max.rows': '2',
    });
    const first = await payloads('pg-orders', 5);
    expect(first).toEqual([1, 2, 3, 4, 5].map((g) => ({ id: g, item: `item${g}`, qty: g, big: 9007199254740000 + g })));
    await waitFor('the offset of row 5', async () => (await worker.herder.offsets('orders-src')).offsets[0]?.offset?.incrementing === 5);
    await worker.herder.restartConnector('orders-src', true, false);
    pg.psql("INSERT INTO orders (item, qty) VALUES ('late', 1), ('later', 7)");
    const all = await payloads('pg-orders', 7);
    expect(all.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await waitFor('the offset of row 7', async () => (await worker.herder.offsets('orders-src')).offsets[0]?.offset?.incrementing === 7);
    expect((await worker.herder.offsets('orders-src')).offsets).toEqual([{ partition: { table: 'orders' }, offset: { incrementing: 7 } }]);
  });

  it('timestamp mode re-sends a row whose timestamp moved', async () => {
    pg.psql(
      "CREATE TABLE events (id INT PRIMARY KEY, v TEXT, updated_at TIMESTAMP NOT NULL); INSERT INTO events VALUES (1, 'a', '2024-01-01 00:00:01.000001'), (2, 'b', '2024-01-01 00:00:02')",
    );
    await source('events-src', {
      mode: 'timestamp',
      'timestamp.column.name': 'updated_at',
      'table.whitelist': 'events',
      'topic.prefix': 'pg-',
    });
    const before = await payloads('pg-events', 2);
    expect(before.map((p) => [p.id, p.v, p.updated_at])).toEqual([
      [1, 'a', Date.UTC(2024, 0, 1, 0, 0, 1)],
      [2, 'b', Date.UTC(2024, 0, 1, 0, 0, 2)],
    ]);
    pg.psql("UPDATE events SET v = 'a2', updated_at = '2024-01-01 00:00:03' WHERE id = 1");
    const after = await payloads('pg-events', 3);
    expect(after[2]).toMatchObject({ id: 1, v: 'a2' });
  });

  it('timestamp+incrementing mode reads rows sharing one timestamp across batches without losing any', async () => {
    pg.psql(
      "CREATE TABLE ticks (id SERIAL PRIMARY KEY, ts TIMESTAMP NOT NULL); INSERT INTO ticks (ts) SELECT '2024-02-02 10:00:00' FROM generate_series(1, 5); INSERT INTO ticks (ts) VALUES ('2024-02-02 09:00:00')",
    );
    await source('ticks-src', {
      mode: 'timestamp+incrementing',
      'timestamp.column.name': 'ts',
      'incrementing.column.name': 'id',
      'table.whitelist': 'ticks',
      'topic.prefix': 'pg-',
      'batch.max.rows': '2',
    });
    const got = await payloads('pg-ticks', 6);
    expect(got.map((p) => p.id)).toEqual([6, 1, 2, 3, 4, 5]);
    await waitFor('the ticks offset', async () => (await worker.herder.offsets('ticks-src')).offsets[0]?.offset?.incrementing === 5);
    expect((await worker.herder.offsets('ticks-src')).offsets[0]!.offset).toEqual({
      incrementing: 5,
      timestamp: '2024-02-02T10:00:00.000000',
    });
  });

  it('query mode copies what the query selects', async () => {
    await source('big-src', {
      mode: 'incrementing',
      'incrementing.column.name': 'id',
      query: 'SELECT id, item FROM orders WHERE qty >= 4',
      'topic.prefix': 'pg-big-orders',
    });
    const got = await payloads('pg-big-orders', 3);
    expect(got).toEqual([
      { id: 4, item: 'item4' },
      { id: 5, item: 'item5' },
      { id: 7, item: 'later' },
    ]);
  });

  it('a bad source config names the problem and creates nothing', async () => {
    await expect(source('broken', { mode: 'sometimes', 'table.whitelist': 'orders', 'topic.prefix': 'x' })).rejects.toThrow(
      /Invalid value sometimes for configuration mode: String must be one of: bulk, incrementing, timestamp, timestamp\+incrementing/,
    );
    expect(worker.herder.connectorNames()).not.toContain('broken');
  });

  it('the sink upserts by key, deletes on tombstones and creates the table (checked with psql)', async () => {
    const producer = samsa.producer();
    const schema = {
      type: 'struct',
      optional: false,
      fields: [
        { field: 'id', type: 'int32', optional: false },
        { field: 'name', type: 'string', optional: true },
        { field: 'score', type: 'float64', optional: true },
      ],
    };
    const rec = (id: number, value: Record<string, unknown> | null) => ({
      key: Buffer.from(JSON.stringify({ id })),
      value: value === null ? null : Buffer.from(JSON.stringify({ schema, payload: value })),
    });
    await producer.send({
      topic: 'users',
      messages: [
        rec(1, { id: 1, name: 'ann', score: 1.5 }),
        rec(2, { id: 2, name: 'bob', score: 2 }),
        rec(3, { id: 3, name: 'cy', score: null }),
        rec(1, { id: 1, name: 'ann2', score: 3.25 }),
        rec(2, null),
      ],
    });
    await worker.herder.putConnectorConfig(
      'users-sink',
      {
        'connector.class': 'io.samsa.connect.postgres.PostgresSinkConnector',
        topics: 'users',
        'connection.url': pg.url,
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
        'pk.fields': 'id',
        'delete.enabled': 'true',
        'auto.create': 'true',
        'batch.size': '2',
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'key.converter.schemas.enable': 'false',
      },
      false,
    );
    await waitFor(
      'the sink rows',
      () =>
        pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'users'") === '1' &&
        pg.psql("SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM users") === '1:ann2,3:cy',
    );
    expect(pg.psql('SELECT id, name, score FROM users ORDER BY id')).toBe('1|ann2|3.25\n3|cy|');
    expect(
      pg.psql(
        "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position",
      ),
    ).toBe('id bigint\nname text\nscore double precision');
    expect(
      pg.psql(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'users'::regclass AND i.indisprimary",
      ),
    ).toBe('id');
    await producer.send({
      topic: 'users',
      messages: [rec(3, { id: 3, name: 'cy2', score: 9 }), rec(4, { id: 4, name: 'di', score: 0 }), rec(1, null)],
    });
    await waitFor('the second round', () => pg.psql("SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM users") === '3:cy2,4:di');
    await producer.close();
  });

  it('CDC: snapshot first, then inserts, updates and deletes with before/after images; a stop in the middle misses nothing', async () => {
    pg.psql(
      "CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT, balance INT); ALTER TABLE accounts REPLICA IDENTITY FULL; INSERT INTO accounts VALUES (1, 'ann', 10), (2, 'bob', 20)",
    );
    await worker.herder.putConnectorConfig(
      'cdc',
      {
        'connector.class': 'PostgresCdc',
        'connection.url': pg.url,
        'topic.prefix': 'cdc',
        'table.include.list': 'public.accounts',
        'slot.name': 'samsa_cdc',
        'publication.name': 'samsa_cdc',
        'poll.interval.ms': '100',
      },
      false,
    );
    type Change = {
      op: string;
      before: Record<string, unknown> | null;
      after: Record<string, unknown> | null;
      source: { table: string; snapshot: boolean };
    } | null;
    const changes = async (n: number): Promise<Array<{ key: unknown; value: Change }>> => {
      const consumer = samsa.consumer();
      try {
        consumer.assign([{ topic: 'cdc.public.accounts', partition: 0 }]);
        await consumer.seek({ topic: 'cdc.public.accounts', partition: 0, offset: 0n });
        const out: ConsumerRecord<Buffer | null, Buffer | null>[] = [];
        await waitFor(`${n} change records`, async () => {
          out.push(...(await consumer.poll({ maxWaitMs: 300 })));
          return out.length >= n;
        });
        return out.map((r) => ({
          key: (JSON.parse(r.key!.toString()) as { payload: unknown }).payload,
          value: r.value === null ? null : (JSON.parse(r.value.toString()) as { payload: Change }).payload,
        }));
      } finally {
        await consumer.close();
      }
    };
    const snap = await changes(2);
    expect(snap.map((c) => [c.key, c.value!.op, c.value!.after, c.value!.source.snapshot])).toEqual([
      [{ id: 1 }, 'r', { id: 1, owner: 'ann', balance: 10 }, true],
      [{ id: 2 }, 'r', { id: 2, owner: 'bob', balance: 20 }, true],
    ]);
    pg.psql("INSERT INTO accounts VALUES (3, 'cy', 30); UPDATE accounts SET balance = 11 WHERE id = 1; DELETE FROM accounts WHERE id = 2");
    const live = (await changes(6)).slice(2);
    expect(live).toEqual([
      { key: { id: 3 }, value: expect.objectContaining({ op: 'c', before: null, after: { id: 3, owner: 'cy', balance: 30 } }) },
      {
        key: { id: 1 },
        value: expect.objectContaining({
          op: 'u',
          before: { id: 1, owner: 'ann', balance: 10 },
          after: { id: 1, owner: 'ann', balance: 11 },
        }),
      },
      { key: { id: 2 }, value: expect.objectContaining({ op: 'd', before: { id: 2, owner: 'bob', balance: 20 }, after: null }) },
      { key: { id: 2 }, value: null },
    ]);
    await waitFor('the CDC offset', async () => (await worker.herder.offsets('cdc')).offsets[0]?.offset?.last === true);
    await worker.herder.setTargetState('cdc', 'STOPPED');
    // The slot was advanced to the stored offset only: it still holds nothing newer than it.
    pg.psql(
      "BEGIN; INSERT INTO accounts VALUES (4, 'di', 40); UPDATE accounts SET owner = 'cy2' WHERE id = 3; COMMIT; INSERT INTO accounts VALUES (5, 'ed', 50)",
    );
    await worker.herder.setTargetState('cdc', 'STARTED');
    const all = await changes(9);
    expect(all.slice(6).map((c) => [c.value!.op, c.value!.after])).toEqual([
      ['c', { id: 4, owner: 'di', balance: 40 }],
      ['u', { id: 3, owner: 'cy2', balance: 30 }],
      ['c', { id: 5, owner: 'ed', balance: 50 }],
    ]);
    // No snapshot again after the restart, and nothing before the stop was sent twice.
    expect(all.filter((c) => c.value?.op === 'r')).toHaveLength(2);
    expect(all).toHaveLength(9);
  });
});
