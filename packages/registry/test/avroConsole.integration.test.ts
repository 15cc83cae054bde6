/**
 * `samsa produce`/`samsa consume` with `--key-format`/`--value-format avro` (the behaviour of
 * Confluent's kafka-avro-console-producer and -consumer) against a real cluster (one controller,
 * one broker, child processes) and a registry served in this process: JSON lines in, Confluent's
 * wire format on the topic, JSON out; the same records read by the SDK's Avro serde; a line its
 * schema refuses is reported and skipped; a registered id can stand for the schema.
 */
import { Samsa, serdes, type ConsumerRecord } from '@samsa/client';
import { waitFor } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../cli/test/helpers/cluster.js';
import { runCliAsync } from '../../cli/test/helpers/processes.js';
import { SchemaRegistryClient } from '../src/client.js';
import { RegistryHttpServer } from '../src/http.js';
import { MemoryLog } from '../src/log.js';
import { avro, decodeFrame } from '../src/serdes.js';
import { SchemaRegistry } from '../src/service.js';
import { RegistryState } from '../src/state.js';

const ORDER = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
});
const ORDER_KEY = JSON.stringify({ type: 'record', name: 'OrderKey', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] });

interface Order {
  id: number;
  item: string;
  note: string | null;
}

let cluster: TestCluster;
let registry: RegistryHttpServer;
let url = '';
let samsa: Samsa;

beforeAll(async () => {
  const state = new RegistryState();
  registry = new RegistryHttpServer(new SchemaRegistry(state, new MemoryLog(state)));
  url = `http://127.0.0.1:${await registry.listen(0, '127.0.0.1')}`;
  cluster = await startCluster({ controllers: 1, brokers: 1 });
  samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000, retry: { retries: 10, maxRetryTimeMs: 1_000 } });
}, 120_000);

afterAll(async () => {
  await samsa?.close();
  await cluster?.stop();
  await registry?.close();
});

async function createTopic(name: string): Promise<void> {
  await samsa.admin().createTopics([{ topic: name, numPartitions: 1, replicationFactor: 1 }]);
}

/** Every record of partition 0 up to its end, read with the given serdes. */
async function readTopic<K, V>(
  topic: string,
  count: number,
  key: { deserialize(b: Buffer | null): K },
  value: { deserialize(b: Buffer | null): V },
): Promise<ConsumerRecord<K, V>[]> {
  const consumer = samsa.consumer({ key: { serialize: () => null, ...key }, value: { serialize: () => null, ...value } });
  try {
    consumer.assign([{ topic, partition: 0 }]);
    await consumer.seek({ topic, partition: 0, offset: 'earliest' });
    const seen: ConsumerRecord<K, V>[] = [];
    await waitFor(
      `${count} records in ${topic}`,
      async () => {
        seen.push(...(await consumer.poll({ maxWaitMs: 500 })));
        return seen.length >= count;
      },
      30_000,
    );
    return seen;
  } finally {
    await consumer.close();
  }
}

describe('samsa produce/consume --value-format avro', () => {
  it('writes JSON lines in Confluent wire format, prints them back as JSON, and the SDK serde reads them', async () => {
    await createTopic('orders');
    const lines = [
      '{"id":1}\t{"id":1,"item":"tea","note":null}',
      '{"id":2}\t{"id":2,"item":"cake","note":{"string":"no sugar"}}',
      '{"id":3}\t{"id":"three","item":"x","note":null}', // the schema refuses it: reported, skipped
      '{"id":4}\t{"id":4,"item":"jam","note":null}',
    ];
    const produced = await runCliAsync(
      [
        'produce',
        '--bootstrap-server',
        cluster.bootstrap.join(','),
        '--topic',
        'orders',
        '--property',
        'parse.key=true',
        '--key-format',
        'avro',
        '--key-schema',
        ORDER_KEY,
        '--value-format',
        'avro',
        '--value-schema',
        ORDER,
        '--schema-registry',
        url,
      ],
      { input: `${lines.join('\n')}\n`, timeoutMs: 60_000 },
    );
    expect(produced.status).toBe(1);
    expect(produced.stderr).toContain('line 3');
    expect(produced.stderr).toContain('not valid for its schema');
    expect(produced.stderr).toContain('1 of 4 line(s) not sent');

    // Registered under TopicNameStrategy's subjects, as Confluent's serializer does.
    const client = new SchemaRegistryClient({ url });
    const valueSchema = await client.getLatest('orders-value');
    const keySchema = await client.getLatest('orders-key');
    expect(JSON.parse(valueSchema.schema)).toMatchObject({ name: 'Order', namespace: 'shop' });

    // On the topic: magic byte 0 and the registered ids.
    const raw = await readTopic('orders', 3, serdes.bytes, serdes.bytes);
    expect(raw.map((r) => decodeFrame(r.value!).id)).toEqual([valueSchema.id, valueSchema.id, valueSchema.id]);
    expect(raw.map((r) => decodeFrame(r.key!).id)).toEqual([keySchema.id, keySchema.id, keySchema.id]);

    // The SDK's serde reads what the CLI wrote.
    const value = await avro<Order>({ client, topic: 'orders', schema: ORDER });
    const key = await avro<{ id: number }>({ client, topic: 'orders', isKey: true, schema: ORDER_KEY });
    const typed = await readTopic('orders', 3, key, value);
    expect(typed.map((r) => [{ ...r.key! }, { ...r.value! }])).toEqual([
      [{ id: 1 }, { id: 1, item: 'tea', note: null }],
      [{ id: 2 }, { id: 2, item: 'cake', note: 'no sugar' }],
      [{ id: 4 }, { id: 4, item: 'jam', note: null }],
    ]);

    // The consumer prints Avro's JSON encoding (unions wrapped), key and value.
    const consumed = await runCliAsync(
      [
        'consume',
        '--bootstrap-server',
        cluster.bootstrap.join(','),
        '--topic',
        'orders',
        '--from-beginning',
        '--max-messages',
        '3',
        '--property',
        'print.key=true',
        '--key-format',
        'avro',
        '--value-format',
        'avro',
        '--schema-registry',
        url,
      ],
      { timeoutMs: 60_000 },
    );
    expect(consumed.status).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual([
      '{"id":1}\t{"id":1,"item":"tea","note":null}',
      '{"id":2}\t{"id":2,"item":"cake","note":{"string":"no sugar"}}',
      '{"id":4}\t{"id":4,"item":"jam","note":null}',
    ]);
  }, 180_000);

  it('writes with a registered schema id, and refuses unusable flags before connecting', async () => {
    await createTopic('payments');
    const client = new SchemaRegistryClient({ url });
    const id = await client.register('payments-value', { schema: ORDER });
    const produced = await runCliAsync(
      [
        'produce',
        '--bootstrap-server',
        cluster.bootstrap.join(','),
        '--topic',
        'payments',
        '--value-format',
        'avro',
        '--value-schema-id',
        String(id),
        '--schema-registry',
        url,
      ],
      { input: '{"id":7,"item":"coffee","note":null}\n', timeoutMs: 60_000 },
    );
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);
    const [record] = await readTopic('payments', 1, serdes.bytes, serdes.bytes);
    expect(decodeFrame(record!.value!).id).toBe(id);
    const consumed = await runCliAsync(
      [
        'consume',
        '--bootstrap-server',
        cluster.bootstrap.join(','),
        '--topic',
        'payments',
        '--from-beginning',
        '--max-messages',
        '1',
        '--value-format',
        'avro',
        '--schema-registry',
        url,
      ],
      { timeoutMs: 60_000 },
    );
    expect(consumed.stdout).toBe('{"id":7,"item":"coffee","note":null}\n');

    const usage = (...args: string[]) => runCliAsync(['produce', '--bootstrap-server', '127.0.0.1:1', '--topic', 'payments', ...args]);
    const noRegistry = await usage('--value-format', 'avro', '--value-schema', ORDER);
    expect(noRegistry.status).toBe(2);
    expect(noRegistry.stderr).toContain('--schema-registry');
    const both = await usage('--value-format', 'avro', '--value-schema', ORDER, '--value-schema-id', '1', '--schema-registry', url);
    expect(both.status).toBe(2);
    expect((await usage('--value-format', 'protobuf')).stderr).toContain('--value-format must be string or avro');
  }, 120_000);
});
