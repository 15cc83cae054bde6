/**
 * Records crossing between clients written by no one here and Samsa's SDK, through a real cluster
 * (one controller, one broker, child processes) and a registry served in this process: KafkaJS
 * 2.2.4 produces through the Kafka listener with Confluent's AvroSerializer
 * (@confluentinc/schemaregistry, test-only) and the SDK's Avro serde reads the values; the SDK
 * produces with its serde and KafkaJS consumes, Confluent's AvroDeserializer reading the values.
 */
import { AvroDeserializer, AvroSerializer, SchemaRegistryClient as ConfluentClient, SerdeType } from '@confluentinc/schemaregistry';
import { Samsa, defineTopic, serdes } from '@samsa/client';
import { waitFor } from '@samsa/testkit';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../cli/test/helpers/cluster.js';
import { SchemaRegistryClient } from '../src/client.js';
import { RegistryHttpServer } from '../src/http.js';
import { MemoryLog } from '../src/log.js';
import { avro } from '../src/serdes.js';
import { SchemaRegistry } from '../src/service.js';
import { RegistryState } from '../src/state.js';

const ORDER = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
    { name: 'qty', type: 'int', default: 1 },
  ],
});

interface Order {
  id: number;
  item: string;
  qty: number;
}

const BROKER_ARGS = ['--group-initial-rebalance-delay-ms', '300', '--group-min-session-timeout-ms', '1000'];

let cluster: TestCluster;
let registry: RegistryHttpServer;
let url = '';
let samsa: Samsa;
let kafka: Kafka;
const consumers: Consumer[] = [];

beforeAll(async () => {
  const state = new RegistryState();
  registry = new RegistryHttpServer(new SchemaRegistry(state, new MemoryLog(state)));
  url = `http://127.0.0.1:${await registry.listen(0, '127.0.0.1')}`;
  cluster = await startCluster({ controllers: 1, brokers: 1, brokerArgs: BROKER_ARGS });
  samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000, retry: { retries: 10, maxRetryTimeMs: 1_000 } });
  kafka = new Kafka({
    clientId: 'kafkajs-confluent-test',
    brokers: cluster.bootstrap,
    logLevel: logLevel.NOTHING,
    retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}, 120_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await samsa?.close();
  await cluster?.stop();
  await registry?.close();
});

const orders: Order[] = [
  { id: 1, item: 'tea', qty: 2 },
  { id: 2, item: 'cake', qty: 1 },
  { id: 3, item: 'jam', qty: 5 },
];

describe("KafkaJS with Confluent's Avro serializer, and Samsa's SDK", () => {
  it("KafkaJS writes with Confluent's AvroSerializer; the SDK's serde reads", async () => {
    await samsa.admin().createTopics([{ topic: 'from-kafkajs', numPartitions: 1, replicationFactor: 1 }]);
    const confluent = new ConfluentClient({ baseURLs: [url] });
    // Confluent's client registers the schema; its serializer writes with the subject's latest version.
    await confluent.register('from-kafkajs-value', { schemaType: 'AVRO', schema: ORDER });
    const serializer = new AvroSerializer(confluent, SerdeType.VALUE, { useLatestVersion: true });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const messages = [];
      for (const o of orders) messages.push({ key: String(o.id), value: await serializer.serialize('from-kafkajs', o) });
      await producer.send({ topic: 'from-kafkajs', messages });
    } finally {
      await producer.disconnect();
    }

    const value = await avro<Order>({ client: new SchemaRegistryClient({ url }), topic: 'from-kafkajs', schema: ORDER });
    const consumer = samsa.consumer({ key: serdes.string, value });
    try {
      consumer.assign([{ topic: 'from-kafkajs', partition: 0 }]);
      await consumer.seek({ topic: 'from-kafkajs', partition: 0, offset: 'earliest' });
      const seen: Array<[string | null, Order]> = [];
      await waitFor(
        'three records from KafkaJS',
        async () => {
          for (const r of await consumer.poll({ maxWaitMs: 500 })) seen.push([r.key, { ...r.value! }]);
          return seen.length >= orders.length;
        },
        30_000,
      );
      expect(seen).toEqual(orders.map((o) => [String(o.id), o]));
    } finally {
      await consumer.close();
    }
  }, 120_000);

  it("the SDK writes with its serde; KafkaJS reads and Confluent's AvroDeserializer decodes", async () => {
    await samsa.admin().createTopics([{ topic: 'from-samsa', numPartitions: 1, replicationFactor: 1 }]);
    const value = await avro<Order>({ client: new SchemaRegistryClient({ url }), topic: 'from-samsa', schema: ORDER });
    const topic = defineTopic('from-samsa', { key: serdes.string, value });
    const producer = samsa.producer();
    try {
      await producer.send(
        topic,
        orders.map((o) => ({ key: String(o.id), value: o })),
      );
    } finally {
      await producer.close();
    }

    const deserializer = new AvroDeserializer(new ConfluentClient({ baseURLs: [url] }), SerdeType.VALUE, {});
    const consumer = kafka.consumer({ groupId: 'kafkajs-avro-reader', sessionTimeout: 6_000, heartbeatInterval: 500 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: 'from-samsa', fromBeginning: true });
    const seen: Array<[string, Order]> = [];
    const failures: unknown[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        try {
          seen.push([message.key!.toString(), { ...((await deserializer.deserialize('from-samsa', message.value!)) as Order) }]);
        } catch (err) {
          failures.push(err);
        }
      },
    });
    await waitFor('three records in KafkaJS', () => seen.length >= orders.length || failures.length > 0, 60_000);
    expect(failures).toEqual([]);
    expect(seen).toEqual(orders.map((o) => [String(o.id), o]));
  }, 120_000);
});
