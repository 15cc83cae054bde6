/**
 * Registry-backed Avro serdes against a registry served over HTTP (in-memory log): Confluent's
 * framing, subject name strategies, autoRegister on/off, useLatestVersion, schema evolution on
 * read, the synchronous not-loaded path, and the client-side compatibility pre-check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from '../src/client.js';
import { RegistryHttpServer } from '../src/http.js';
import { MemoryLog } from '../src/log.js';
import {
  SchemaNotLoadedError,
  WireFormatError,
  avro,
  decodeFrame,
  decodeMessageIndexes,
  encodeMessageIndexes,
  jsonSchema,
  protobufSerde,
  subjectName,
} from '../src/serdes.js';
import { SchemaRegistry } from '../src/service.js';
import { RegistryState } from '../src/state.js';

let server: RegistryHttpServer;
let url = '';

beforeAll(async () => {
  const state = new RegistryState();
  server = new RegistryHttpServer(new SchemaRegistry(state, new MemoryLog(state)));
  url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});
afterAll(async () => {
  await server.close();
});

interface OrderV1 {
  id: number;
  item: string;
}
interface OrderV2 {
  id: number;
  item: string;
  qty: number;
}
const v1 = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
  ],
};
const v2 = { ...v1, fields: [...v1.fields, { name: 'qty', type: 'int', default: 1 }] };

describe('serdes.avro', () => {
  it('writes magic 0 + the registered id + Avro binary, and reads it back', async () => {
    const client = new SchemaRegistryClient({ url });
    const serde = await avro<OrderV1>({ client, topic: 'orders', schema: v1 });
    expect(serde.subject).toBe('orders-value');
    const bytes = serde.serialize({ id: 7, item: 'tea' })!;
    const { id, payload } = decodeFrame(bytes);
    expect(bytes[0]).toBe(0);
    expect(id).toBe(serde.schemaId);
    // Avro: long 7 zig-zag = 0x0e, string "tea" = length 3 zig-zag 0x06 + bytes.
    expect([...payload]).toEqual([0x0e, 0x06, 0x74, 0x65, 0x61]);
    expect({ ...serde.deserialize(bytes) }).toEqual({ id: 7, item: 'tea' });
    expect(serde.serialize(null)).toBeNull();
    expect(serde.deserialize(null)).toBeNull();
    expect(() => serde.deserialize(Buffer.from([1, 0, 0, 0, 1, 0]))).toThrow(/magic byte/);
  });

  it('a v2 reader reads v1 records (default filled), a v1 reader reads v2 records (field skipped)', async () => {
    const client = new SchemaRegistryClient({ url });
    const w1 = await avro<OrderV1>({ client, topic: 'evolve', schema: v1 });
    const w2 = await avro<OrderV2>({ client, topic: 'evolve', schema: v2 });
    expect(w2.schemaId).not.toBe(w1.schemaId);
    expect({ ...w2.deserialize(w1.serialize({ id: 1, item: 'a' })) }).toEqual({ id: 1, item: 'a', qty: 1 });
    expect({ ...w1.deserialize(w2.serialize({ id: 2, item: 'b', qty: 5 })) }).toEqual({ id: 2, item: 'b' });
  });

  it('a fresh serde meets an id it has not loaded: deserialize throws SchemaNotLoadedError and loads it; deserializeAsync just works', async () => {
    const writerClient = new SchemaRegistryClient({ url });
    const writer = await avro<OrderV1>({ client: writerClient, topic: 'late', schema: v1 });
    const readerClient = new SchemaRegistryClient({ url });
    const reader = await avro<OrderV1>({
      client: readerClient,
      topic: 'other-topic',
      schema: v1,
      subjectNameStrategy: 'RecordNameStrategy',
    });
    // Same schema text → the same global id, which the reader loaded with its own subject.
    expect(reader.schemaId).toBe(writer.schemaId);
    const w2 = await avro<OrderV2>({ client: writerClient, topic: 'late', schema: v2 });
    const bytes = w2.serialize({ id: 3, item: 'c', qty: 2 })!;
    expect(() => reader.deserialize(bytes)).toThrow(SchemaNotLoadedError);
    expect({ ...(await reader.deserializeAsync(bytes)) }).toEqual({ id: 3, item: 'c' });
    expect({ ...reader.deserialize(bytes) }).toEqual({ id: 3, item: 'c' });
  });

  it('autoRegister false looks the schema up and fails when it is not registered; useLatestVersion writes with the latest', async () => {
    const client = new SchemaRegistryClient({ url });
    await expect(avro({ client, topic: 'unregistered', schema: v1, autoRegister: false })).rejects.toThrow(/not found/i);
    await avro({ client, topic: 'latest', schema: v1 });
    await avro({ client, topic: 'latest', schema: v2 });
    const latest = await avro<OrderV2>({ client: new SchemaRegistryClient({ url }), topic: 'latest', useLatestVersion: true });
    const { id } = decodeFrame(latest.serialize({ id: 1, item: 'x', qty: 3 })!);
    expect(id).toBe((await client.getLatest('latest-value')).id);
  });

  it('the client-side pre-check refuses a schema that cannot read earlier versions, before registering', async () => {
    const client = new SchemaRegistryClient({ url });
    await avro({ client, topic: 'pre', schema: v1 });
    const bad = { ...v1, fields: [...v1.fields, { name: 'qty', type: 'int' }] };
    await expect(avro({ client, topic: 'pre', schema: bad, compatibilityPrecheck: true })).rejects.toThrow(
      /READER_FIELD_MISSING_DEFAULT_VALUE/,
    );
    expect(await client.loadSubject('pre-value')).toHaveLength(1);
  });

  it('subject name strategies', () => {
    expect(subjectName('TopicNameStrategy', 'orders', true, 'shop.Order')).toBe('orders-key');
    expect(subjectName('RecordNameStrategy', 'orders', false, 'shop.Order')).toBe('shop.Order');
    expect(subjectName('TopicRecordNameStrategy', 'orders', false, 'shop.Order')).toBe('orders-shop.Order');
    expect(() => subjectName('RecordNameStrategy', 'orders', false, undefined)).toThrow(/named/);
  });
});

describe('serdes.jsonSchema', () => {
  const schema = {
    title: 'Payment',
    type: 'object',
    properties: { amount: { type: 'number', minimum: 0 }, currency: { type: 'string' } },
    required: ['amount'],
  };

  it('writes the header + JSON text, refuses a value the schema refuses, and reads it back', async () => {
    const client = new SchemaRegistryClient({ url });
    const serde = await jsonSchema<{ amount: number; currency?: string }>({ client, topic: 'payments', schema });
    const bytes = serde.serialize({ amount: 5, currency: 'EUR' })!;
    const { id, payload } = decodeFrame(bytes);
    expect(id).toBe(serde.schemaId);
    expect(JSON.parse(payload.toString('utf8'))).toEqual({ amount: 5, currency: 'EUR' });
    expect(serde.deserialize(bytes)).toEqual({ amount: 5, currency: 'EUR' });
    expect(() => serde.serialize({ amount: -1 })).toThrow(/does not match/);
    const latest = await client.getLatest('payments-value');
    expect(latest.schemaType).toBe('JSON');
    const byRecord = await jsonSchema({ client, topic: 'payments', schema, subjectNameStrategy: 'TopicRecordNameStrategy' });
    expect(byRecord.subject).toBe('payments-Payment');
    expect(byRecord.schemaId).toBe(serde.schemaId);
  });
});

describe('serdes.protobuf', () => {
  const v1 =
    'syntax = "proto3";\npackage shop;\nmessage Envelope { string id = 1; }\nmessage Order { int64 id = 1; string item = 2; Status status = 3; message Line { string sku = 1; } }\nenum Status { NEW = 0; PAID = 1; }\n';
  const v2 = v1.replace('Status status = 3;', 'Status status = 3; int32 qty = 4;');

  it('message indexes: [0] is one zero byte, others zig-zag varints', () => {
    expect([...encodeMessageIndexes([0])]).toEqual([0]);
    expect([...encodeMessageIndexes([1])]).toEqual([2, 2]);
    expect([...encodeMessageIndexes([1, 0])]).toEqual([4, 2, 0]);
    for (const idx of [[0], [1], [1, 0], [3, 70, 2]])
      expect(decodeMessageIndexes(Buffer.concat([encodeMessageIndexes(idx), Buffer.from([9])]))).toEqual({
        indexes: idx,
        length: encodeMessageIndexes(idx).length,
      });
    expect(() => decodeMessageIndexes(Buffer.from([0x80]))).toThrow(WireFormatError);
  });

  it('writes header + indexes + Protobuf binary; a v1 reader reads v2 records', async () => {
    const client = new SchemaRegistryClient({ url });
    const w2 = await protobufSerde<{ id: number; item: string; status: string; qty?: number }>({
      client,
      topic: 'pb',
      schema: v2,
      messageName: 'shop.Order',
    });
    const bytes = w2.serialize({ id: 7, item: 'tea', status: 'PAID', qty: 3 })!;
    const { id, payload } = decodeFrame(bytes);
    expect(id).toBe(w2.schemaId);
    expect(decodeMessageIndexes(payload).indexes).toEqual([1]);
    expect(w2.deserialize(bytes)).toEqual({ id: 7, item: 'tea', status: 'PAID', qty: 3 });
    // A reader on an older schema (registered elsewhere) reads the new record, skipping qty.
    const reader = await protobufSerde<{ id: number; item: string; status: string }>({
      client: new SchemaRegistryClient({ url }),
      topic: 'pb-old',
      schema: v1,
      messageName: 'shop.Order',
    });
    expect(await reader.deserializeAsync(bytes)).toEqual({ id: 7, item: 'tea', status: 'PAID' });
    expect(() => w2.serialize({ id: 'x' as never, item: 'a', status: 'NEW' })).toThrow(/does not match/);
    expect((await client.getLatest('pb-value')).schemaType).toBe('PROTOBUF');
  });
});
