/**
 * The HTTP API against a client written by no one here: Confluent's JavaScript registry client
 * (@confluentinc/schemaregistry 1.10.1, a test-only dependency; it declares no engines and runs on
 * Node 20) registers, looks up, checks compatibility, changes config and deletes; its Avro
 * serializer's bytes are read by our serde and ours by its deserializer.
 */
import {
  AvroDeserializer,
  AvroSerializer,
  JsonDeserializer,
  JsonSerializer,
  SchemaRegistryClient as ConfluentClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from '../src/client.js';
import { RegistryHttpServer } from '../src/http.js';
import { MemoryLog } from '../src/log.js';
import { avro, jsonSchema } from '../src/serdes.js';
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

const v1 = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
  ],
});
const v2 = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
    { name: 'qty', type: 'int', default: 1 },
  ],
});
const bad = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'string' }] });

describe("Confluent's JavaScript client against Samsa's registry", () => {
  it('registers, looks up, checks compatibility, changes config and deletes', async () => {
    const c = new ConfluentClient({ baseURLs: [url] });
    const id = await c.register('orders-value', { schemaType: 'AVRO', schema: v1 });
    expect(id).toBe(1);
    expect(await c.getId('orders-value', { schemaType: 'AVRO', schema: v1 })).toBe(1);
    const meta = await c.getLatestSchemaMetadata('orders-value');
    expect(meta).toMatchObject({ subject: 'orders-value', version: 1, id: 1 });
    expect(JSON.parse((await c.getBySubjectAndId('orders-value', 1)).schema)).toEqual(JSON.parse(v1));
    expect(await c.testCompatibility('orders-value', -1, { schemaType: 'AVRO', schema: v2 })).toBe(true);
    expect(await c.testCompatibility('orders-value', -1, { schemaType: 'AVRO', schema: bad })).toBe(false);
    await expect(c.register('orders-value', { schemaType: 'AVRO', schema: bad })).rejects.toMatchObject({ errorCode: 409 });
    expect(await c.register('orders-value', { schemaType: 'AVRO', schema: v2 })).toBe(2);
    expect(await c.getAllVersions('orders-value')).toEqual([1, 2]);
    expect(await c.getAllSubjects()).toEqual(['orders-value']);
    expect(await c.updateConfig('orders-value', { compatibility: 'FULL' as never })).toMatchObject({ compatibility: 'FULL' });
    expect(await c.getConfig('orders-value')).toMatchObject({ compatibilityLevel: 'FULL' });
    await expect(c.getConfig('nope')).rejects.toMatchObject({ errorCode: 40408 });
    expect(await c.deleteSubjectVersion('orders-value', 1)).toBe(1);
    expect(await c.getAllVersions('orders-value')).toEqual([2]);
    expect(await c.deleteSubject('orders-value')).toEqual([2]);
    expect(await c.deleteSubject('orders-value', true)).toEqual([1, 2]);
    expect(await c.getAllSubjects()).toEqual([]);
  });

  it("their serializer's bytes are read by our serde, and our serde's bytes by their deserializer", async () => {
    const c = new ConfluentClient({ baseURLs: [url] });
    await c.register('payments-value', { schemaType: 'AVRO', schema: v1 });
    const theirSerializer = new AvroSerializer(c, SerdeType.VALUE, { useLatestVersion: true });
    const theirBytes = await theirSerializer.serialize('payments', { id: 5, item: 'tea' });
    const ours = await avro<{ id: number; item: string }>({ client: new SchemaRegistryClient({ url }), topic: 'payments', schema: v1 });
    expect({ ...ours.deserialize(theirBytes) }).toEqual({ id: 5, item: 'tea' });
    const ourBytes = ours.serialize({ id: 9, item: 'x' })!;
    expect(ourBytes.equals(theirBytes)).toBe(false);
    expect(ourBytes.subarray(0, 5).equals(theirBytes.subarray(0, 5))).toBe(true); // same magic byte and id
    const theirDeserializer = new AvroDeserializer(c, SerdeType.VALUE, {});
    expect({ ...(await theirDeserializer.deserialize('payments', ourBytes)) }).toEqual({ id: 9, item: 'x' });
  });

  it("JSON Schema: their JsonSerializer's bytes are read by our serde and ours by their JsonDeserializer", async () => {
    const c = new ConfluentClient({ baseURLs: [url] });
    const schema = { type: 'object', properties: { amount: { type: 'number' }, currency: { type: 'string' } }, required: ['amount'] };
    await c.register('refunds-value', { schemaType: 'JSON', schema: JSON.stringify(schema) });
    const theirBytes = await new JsonSerializer(c, SerdeType.VALUE, { useLatestVersion: true }).serialize('refunds', {
      amount: 3,
      currency: 'EUR',
    });
    const ours = await jsonSchema<{ amount: number; currency: string }>({
      client: new SchemaRegistryClient({ url }),
      topic: 'refunds',
      schema,
    });
    expect(ours.deserialize(theirBytes)).toEqual({ amount: 3, currency: 'EUR' });
    expect(theirBytes.subarray(0, 5).equals(ours.serialize({ amount: 1, currency: 'USD' })!.subarray(0, 5))).toBe(true);
    const theirDeserializer = new JsonDeserializer(c, SerdeType.VALUE, {});
    expect(await theirDeserializer.deserialize('refunds', ours.serialize({ amount: 4, currency: 'GBP' })!)).toEqual({
      amount: 4,
      currency: 'GBP',
    });
  });
});
