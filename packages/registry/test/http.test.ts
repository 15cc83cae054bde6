/**
 * The HTTP API (Confluent's v1) over one in-memory log: paths, bodies, Confluent's error codes,
 * and that bad input stores nothing.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log.js';
import { RegistryHttpServer } from '../src/http.js';
import { SchemaRegistry } from '../src/service.js';
import { RegistryState } from '../src/state.js';

let server: RegistryHttpServer | null = null;
let base = '';
let log: MemoryLog;

async function start(maxSchemaBytes = 1024 * 1024): Promise<void> {
  if (server) await server.close();
  const state = new RegistryState();
  log = new MemoryLog(state);
  server = new RegistryHttpServer(new SchemaRegistry(state, log, { maxSchemaBytes }), {
    maxBodyBytes: maxSchemaBytes + 64 * 1024,
    forwardTimeoutMs: 5000,
  });
  const port = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
}

afterAll(async () => {
  await server?.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/vnd.schemaregistry.v1+json',
): Promise<{ status: number; body: any; type: string | null }> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, type: res.headers.get('content-type') };
}

const record = (fields: unknown[], name = 'Order') => JSON.stringify({ type: 'record', name, namespace: 'shop', fields });
const v1 = record([{ name: 'id', type: 'long' }]);
const v2 = record([
  { name: 'id', type: 'long' },
  { name: 'note', type: 'string', default: '' },
]);
const incompatible = record([
  { name: 'id', type: 'long' },
  { name: 'qty', type: 'int' },
]);

function recordsWritten(): number {
  return log.records.length;
}

beforeEach(async () => {
  await start();
});

describe('registering and reading schemas', () => {
  it('registers a schema, returns the same id for the same schema in any whitespace or key order, and shares ids across subjects', async () => {
    const r1 = await call('POST', '/subjects/orders-value/versions', { schema: v1 });
    expect(r1.status).toBe(200);
    expect(r1.type).toBe('application/vnd.schemaregistry.v1+json');
    expect(r1.body).toEqual({ id: 1 });
    const reordered = JSON.stringify({ namespace: 'shop', fields: [{ type: 'long', name: 'id' }], name: 'Order', type: 'record' }, null, 2);
    const before = recordsWritten();
    expect((await call('POST', '/subjects/orders-value/versions', { schema: reordered })).body).toEqual({ id: 1 });
    expect(recordsWritten()).toBe(before);
    expect((await call('POST', '/subjects/other-value/versions', { schema: v1 }, 'application/json')).body).toEqual({ id: 1 });
    expect((await call('POST', '/subjects/orders-value/versions', { schema: v2 })).body).toEqual({ id: 2 });
    expect((await call('GET', '/subjects')).body).toEqual(['orders-value', 'other-value']);
    expect((await call('GET', '/subjects?subjectPrefix=ord')).body).toEqual(['orders-value']);
    expect((await call('GET', '/subjects/orders-value/versions')).body).toEqual([1, 2]);
    const latest = await call('GET', '/subjects/orders-value/versions/latest');
    expect(latest.body).toMatchObject({ subject: 'orders-value', version: 2, id: 2 });
    expect(JSON.parse(latest.body.schema)).toEqual(JSON.parse(v2));
    expect((await call('GET', '/subjects/orders-value/versions/-1')).body.version).toBe(2);
    expect((await call('GET', '/subjects/orders-value/versions/1/schema')).body).toEqual(JSON.parse(v1));
    expect((await call('GET', '/schemas/ids/2/schema')).body).toEqual(JSON.parse(v2));
    expect(JSON.parse((await call('GET', '/schemas/ids/1')).body.schema)).toEqual(JSON.parse(v1));
    expect((await call('GET', '/schemas/ids/1/subjects')).body).toEqual(['orders-value', 'other-value']);
    expect((await call('GET', '/schemas/ids/1/versions')).body).toEqual([
      { subject: 'orders-value', version: 1 },
      { subject: 'other-value', version: 1 },
    ]);
    expect((await call('GET', '/schemas/types')).body).toEqual(['AVRO', 'JSON', 'PROTOBUF']);
  });

  it('looks a schema up under a subject (POST /subjects/{s})', async () => {
    await call('POST', '/subjects/s/versions', { schema: v1 });
    const found = await call('POST', '/subjects/s', { schema: v1 });
    expect(found.body).toMatchObject({ subject: 's', version: 1, id: 1 });
    expect((await call('POST', '/subjects/s', { schema: v2 })).body.error_code).toBe(40403);
    expect((await call('POST', '/subjects/nope', { schema: v1 })).body.error_code).toBe(40401);
  });

  it('normalize=true makes names written relative to a namespace equal to full names', async () => {
    const relative = JSON.stringify({
      type: 'record',
      name: 'A',
      namespace: 'n',
      fields: [{ name: 'b', type: { type: 'record', name: 'B', fields: [] } }],
    });
    const full = JSON.stringify({
      type: 'record',
      name: 'n.A',
      fields: [{ name: 'b', type: { type: 'record', name: 'n.B', fields: [] } }],
    });
    expect((await call('POST', '/subjects/s/versions?normalize=true', { schema: relative })).body).toEqual({ id: 1 });
    expect((await call('POST', '/subjects/s/versions?normalize=true', { schema: full })).body).toEqual({ id: 1 });
    expect((await call('POST', '/subjects/s?normalize=true', { schema: full })).body.version).toBe(1);
  });

  it('refuses an incompatible schema with 409 under BACKWARD and accepts it under NONE', async () => {
    await call('POST', '/subjects/s/versions', { schema: v1 });
    const before = recordsWritten();
    const r = await call('POST', '/subjects/s/versions', { schema: incompatible });
    expect(r.status).toBe(409);
    expect(r.body.error_code).toBe(409);
    expect(r.body.message).toContain('READER_FIELD_MISSING_DEFAULT_VALUE');
    expect(recordsWritten()).toBe(before);
    const check = await call('POST', '/compatibility/subjects/s/versions/latest?verbose=true', { schema: incompatible });
    expect(check.body.is_compatible).toBe(false);
    expect(check.body.messages.length).toBeGreaterThan(0);
    expect((await call('POST', '/compatibility/subjects/s/versions', { schema: v2 })).body).toEqual({ is_compatible: true });
    expect((await call('PUT', '/config/s', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call('POST', '/subjects/s/versions', { schema: incompatible })).body).toEqual({ id: 2 });
  });

  it('applies transitive levels against every live version', async () => {
    await call('PUT', '/config/s', { compatibility: 'NONE' });
    await call('POST', '/subjects/s/versions', { schema: record([{ name: 'a', type: 'int' }]) });
    await call('POST', '/subjects/s/versions', {
      schema: record([
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int' },
      ]),
    });
    const next = {
      schema: record([
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int' },
        { name: 'c', type: 'int', default: 0 },
      ]),
    };
    await call('PUT', '/config/s', { compatibility: 'FORWARD_TRANSITIVE' });
    // Old readers (v1, v2) read the new data: the new field c is ignored by them.
    expect((await call('POST', '/compatibility/subjects/s/versions', next)).body.is_compatible).toBe(true);
    await call('PUT', '/config/s', { compatibility: 'BACKWARD_TRANSITIVE' });
    // The new schema reading v1 data: b has no default, v1 has no b.
    expect((await call('POST', '/compatibility/subjects/s/versions', next)).body.is_compatible).toBe(false);
    await call('PUT', '/config/s', { compatibility: 'BACKWARD' });
    expect((await call('POST', '/compatibility/subjects/s/versions', next)).body.is_compatible).toBe(true);
  });
});

describe('JSON Schema subjects', () => {
  it('registers with schemaType JSON, dedupes by canonical form, and enforces JSON Schema compatibility', async () => {
    const closed = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false };
    const r1 = await call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: JSON.stringify(closed) });
    expect(r1.body).toEqual({ id: 1 });
    const reordered = JSON.stringify({ additionalProperties: false, properties: { a: { type: 'string' } }, type: 'object' });
    expect((await call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: reordered })).body).toEqual({ id: 1 });
    // An Avro schema with the same text is another schema: type is part of identity.
    const got = await call('GET', '/subjects/j/versions/1');
    expect(got.body.schemaType).toBe('JSON');
    // Adding an optional property to a closed model is backward compatible; removing one from it is not.
    const added = { ...closed, properties: { a: { type: 'string' }, b: { type: 'number' } } };
    expect((await call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: JSON.stringify(added) })).body).toEqual({ id: 2 });
    const r = await call('POST', '/subjects/j/versions', {
      schemaType: 'JSON',
      schema: JSON.stringify({ ...closed, properties: { b: { type: 'number' } } }),
    });
    expect(r.body.error_code).toBe(409);
    expect(r.body.message).toContain('PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL');
    // A different format cannot follow in the same subject.
    expect((await call('POST', '/subjects/j/versions', { schema: '"string"' })).body.error_code).toBe(409);
    const invalid = await call('POST', '/subjects/j2/versions', { schemaType: 'JSON', schema: '{"type": 5}' });
    expect(invalid.body.error_code).toBe(42201);
    expect(invalid.body.message).toMatch(/type/);
  });
});

describe('config and mode', () => {
  it('reads, sets and deletes the global and subject levels', async () => {
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call('PUT', '/config', { compatibility: 'FULL' })).body).toEqual({ compatibility: 'FULL' });
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call('GET', '/config/s')).body.error_code).toBe(40408);
    expect((await call('GET', '/config/s?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'FULL' });
    await call('PUT', '/config/s', { compatibility: 'NONE' });
    expect((await call('GET', '/config/s')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call('DELETE', '/config/s')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call('GET', '/config/s')).body.error_code).toBe(40408);
    await call('DELETE', '/config');
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('READONLY refuses writes with 42205', async () => {
    expect((await call('PUT', '/mode/s', { mode: 'READONLY' })).body).toEqual({ mode: 'READONLY' });
    expect((await call('GET', '/mode/s')).body).toEqual({ mode: 'READONLY' });
    expect((await call('GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    expect((await call('GET', '/mode/t')).body.error_code).toBe(40409);
    expect((await call('GET', '/mode/t?defaultToGlobal=true')).body).toEqual({ mode: 'READWRITE' });
    expect((await call('POST', '/subjects/s/versions', { schema: v1 })).body.error_code).toBe(42205);
    await call('DELETE', '/mode/s');
    expect((await call('POST', '/subjects/s/versions', { schema: v1 })).body).toEqual({ id: 1 });
  });

  it('IMPORT registers with the given id and version and refuses an id held by another schema', async () => {
    expect((await call('PUT', '/mode', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
    expect((await call('POST', '/subjects/s/versions', { schema: v1, id: 7, version: 3 })).body).toEqual({ id: 7 });
    expect((await call('GET', '/subjects/s/versions/3')).body).toMatchObject({ id: 7, version: 3 });
    expect((await call('POST', '/subjects/t/versions', { schema: v2, id: 7, version: 1 })).body.error_code).toBe(42207);
    await call('PUT', '/mode', { mode: 'READWRITE' });
    // Ids continue after the largest imported one.
    expect((await call('POST', '/subjects/t/versions', { schema: v2 })).body).toEqual({ id: 8 });
  });
});

describe('deletes (Confluent rules: permanent only after soft)', () => {
  it('soft-deletes, then hard-deletes, a version and a subject; ids are never reused', async () => {
    await call('POST', '/subjects/s/versions', { schema: v1 });
    await call('POST', '/subjects/s/versions', { schema: v2 });
    expect((await call('DELETE', '/subjects/s/versions/1?permanent=true')).body.error_code).toBe(40407);
    expect((await call('DELETE', '/subjects/s/versions/1')).body).toBe(1);
    expect((await call('DELETE', '/subjects/s/versions/1')).body.error_code).toBe(40406);
    expect((await call('GET', '/subjects/s/versions')).body).toEqual([2]);
    expect((await call('GET', '/subjects/s/versions?deleted=true')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects/s/versions/1')).body.error_code).toBe(40402);
    expect((await call('GET', '/subjects/s/versions/1?deleted=true')).body.version).toBe(1);
    expect((await call('DELETE', '/subjects/s/versions/1?permanent=true')).body).toBe(1);
    expect((await call('GET', '/subjects/s/versions?deleted=true')).body).toEqual([2]);
    expect((await call('DELETE', '/subjects/s?permanent=true')).body.error_code).toBe(40405);
    expect((await call('DELETE', '/subjects/s')).body).toEqual([2]);
    expect((await call('DELETE', '/subjects/s')).body.error_code).toBe(40404);
    expect((await call('GET', '/subjects')).body).toEqual([]);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual(['s']);
    expect((await call('DELETE', '/subjects/s?permanent=true')).body).toEqual([2]);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual([]);
    expect((await call('GET', '/schemas/ids/2')).body.error_code).toBe(40403);
    // A new schema gets a new id, never 1 or 2 again.
    expect((await call('POST', '/subjects/s/versions', { schema: incompatible })).body).toEqual({ id: 3 });
  });

  it('refuses to delete a version another schema references (42206), and resolves references on register', async () => {
    const address = JSON.stringify({ type: 'record', name: 'Address', namespace: 'shop', fields: [{ name: 'city', type: 'string' }] });
    await call('POST', '/subjects/address/versions', { schema: address });
    const customer = JSON.stringify({
      type: 'record',
      name: 'Customer',
      namespace: 'shop',
      fields: [{ name: 'home', type: 'shop.Address' }],
    });
    const refs = [{ name: 'shop.Address', subject: 'address', version: 1 }];
    expect((await call('POST', '/subjects/customer/versions', { schema: customer })).body.error_code).toBe(42201);
    expect((await call('POST', '/subjects/customer/versions', { schema: customer, references: refs })).body).toEqual({ id: 2 });
    expect((await call('GET', '/subjects/address/versions/1/referencedby')).body).toEqual([2]);
    expect((await call('DELETE', '/subjects/address/versions/1')).body.error_code).toBe(42206);
    expect((await call('GET', '/subjects/customer/versions/1')).body.references).toEqual(refs);
  });
});

describe('bad input: the right Confluent code, nothing stored', () => {
  const cases: [string, string, string, unknown, number, string?][] = [
    ['invalid Avro', 'POST', '/subjects/s/versions', { schema: '{"type":"record","name":"A"}' }, 42201],
    ['schema text not JSON', 'POST', '/subjects/s/versions', { schema: '{not json' }, 42201],
    ['unknown schema type', 'POST', '/subjects/s/versions', { schema: '{}', schemaType: 'XML' }, 42201],
    ['schema not a string', 'POST', '/subjects/s/versions', { schema: 5 }, 42201],
    ['malformed JSON body', 'POST', '/subjects/s/versions', '{"schema": ', 400],
    ['unsupported media type', 'POST', '/subjects/s/versions', '{}', 415, 'text/plain'],
    ['invalid compatibility level', 'PUT', '/config', { compatibility: 'SIDEWAYS' }, 42203],
    ['invalid subject level', 'PUT', '/config/s', { compatibility: 42 }, 42203],
    ['invalid mode', 'PUT', '/mode', { mode: 'WRITEONLY' }, 42204],
    ['invalid version', 'GET', '/subjects/s/versions/zero', undefined, 42202],
    ['version 0', 'GET', '/subjects/s/versions/0', undefined, 42202],
    ['unknown subject', 'GET', '/subjects/nope/versions', undefined, 40401],
    ['unknown subject version', 'GET', '/subjects/nope/versions/1', undefined, 40401],
    ['unknown id', 'GET', '/schemas/ids/99', undefined, 40403],
    ['id not a number', 'GET', '/schemas/ids/abc', undefined, 40403],
    ['unknown path', 'GET', '/nothing/here', undefined, 404],
    ['wrong method', 'PATCH', '/subjects', undefined, 405],
    [
      'unknown reference',
      'POST',
      '/subjects/s/versions',
      { schema: '"int"', references: [{ name: 'x', subject: 'nope', version: 1 }] },
      42201,
    ],
    ['malformed references', 'POST', '/subjects/s/versions', { schema: '"int"', references: 'x' }, 42201],
  ];
  for (const [what, method, path, body, code, type] of cases) {
    it(`${what} → ${code}`, async () => {
      const before = recordsWritten();
      const r = await call(method, path, body, type);
      expect(r.body.error_code).toBe(code);
      expect(r.status).toBe(Number(String(code).slice(0, 3)));
      expect(typeof r.body.message).toBe('string');
      expect(recordsWritten()).toBe(before);
    });
  }

  it('a schema over the size limit → 42209, and a body over the limit too', async () => {
    await start(1000);
    const big = JSON.stringify({ type: 'record', name: 'Big', fields: [{ name: 'f', type: 'string', doc: 'x'.repeat(2000) }] });
    const r = await call('POST', '/subjects/s/versions', { schema: big });
    expect(r.body.error_code).toBe(42209);
    expect(r.status).toBe(422);
    const huge = await call('POST', '/subjects/s/versions', { schema: 'y'.repeat(200_000) });
    expect(huge.body.error_code).toBe(42209);
    expect(recordsWritten()).toBe(1); // the memory log's writer claim only
    expect((await call('GET', '/subjects')).body).toEqual([]);
  });
});
