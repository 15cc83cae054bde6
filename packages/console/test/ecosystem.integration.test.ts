/**
 * The Schemas and Connect endpoints, end to end over HTTP: the console server against a real
 * schema registry (our registry's HTTP API over its in-memory log, started in this process as
 * packages/registry/test/http.test.ts does) and an in-process fake of Kafka Connect's REST API
 * (the paths, status codes and JSON shapes of `ConnectorsResource` that the console uses; a real
 * worker needs a cluster). No cluster: these endpoints never ask the brokers. Also the services
 * not configured (501) or not answering (503), and bad input (400) that reaches neither service.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLog, RegistryHttpServer, RegistryState, SchemaRegistry } from '@samsa/registry';
import { freePort } from '@samsa/testkit';
import { startConsoleServer, type ConsoleServer } from '../src/index.js';

const record = (fields: unknown[]) => JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields });
const v1 = record([{ name: 'id', type: 'long' }]);
const v2 = record([
  { name: 'id', type: 'long' },
  { name: 'note', type: 'string', default: '' },
]);
const breaking = record([
  { name: 'id', type: 'long' },
  { name: 'qty', type: 'int' },
]);

/** Kafka Connect's REST API, the part the console uses, over a map of connectors. */
class FakeConnect {
  readonly connectors = new Map<string, { state: string; tasks: Array<{ id: number; state: string }>; restarts: number }>();
  readonly calls: string[] = [];
  server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://connect');
    this.calls.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const status = (name: string) => {
      const c = this.connectors.get(name)!;
      return {
        name,
        type: 'source',
        connector: { state: c.state, worker_id: '127.0.0.1:8083' },
        tasks: c.tasks.map((t) => ({ id: t.id, state: t.state, worker_id: '127.0.0.1:8083' })),
      };
    };
    if (req.method === 'GET' && url.pathname === '/connectors') {
      const out: Record<string, unknown> = {};
      for (const name of this.connectors.keys()) out[name] = { status: status(name), info: { name, type: 'source' } };
      send(200, url.searchParams.getAll('expand').includes('status') ? out : [...this.connectors.keys()]);
      return;
    }
    const m = /^\/connectors\/([^/]+)\/(pause|resume|restart)$/.exec(url.pathname);
    const c = m ? this.connectors.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m) return send(404, { error_code: 404, message: 'HTTP 404 Not Found' });
    if (!c) return send(404, { error_code: 404, message: `Connector ${decodeURIComponent(m[1]!)} not found` });
    const verb = m[2]!;
    if (verb === 'restart' && req.method === 'POST') {
      c.restarts++;
      c.state = 'RUNNING';
      for (const t of c.tasks) t.state = 'RUNNING';
      return send(202, status(decodeURIComponent(m[1]!)));
    }
    if (req.method !== 'PUT') return send(405, { error_code: 405, message: 'HTTP 405 Method Not Allowed' });
    c.state = verb === 'pause' ? 'PAUSED' : 'RUNNING';
    for (const t of c.tasks) t.state = c.state;
    send(202);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let registry: RegistryHttpServer;
let registryUrl = '';
const connect = new FakeConnect();
let consoleServer: ConsoleServer;
let bare: ConsoleServer;
let dead: ConsoleServer;

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}
const get = (path: string) => call(consoleServer.url, 'GET', path);
const post = (path: string, body?: unknown) => call(consoleServer.url, 'POST', path, body);

async function register(subject: string, schema: string): Promise<void> {
  const res = await fetch(`${registryUrl}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema }),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  const state = new RegistryState();
  registry = new RegistryHttpServer(new SchemaRegistry(state, new MemoryLog(state), { maxSchemaBytes: 1024 * 1024 }), {
    maxBodyBytes: 2 * 1024 * 1024,
    forwardTimeoutMs: 5000,
  });
  registryUrl = `http://127.0.0.1:${await registry.listen(0, '127.0.0.1')}`;
  const connectUrl = await connect.start();
  // No broker listens on these: the ecosystem endpoints must not need the cluster.
  const nowhere = `127.0.0.1:${await freePort()}`;
  consoleServer = await startConsoleServer({ bootstrap: [nowhere], port: 0, schemaRegistry: registryUrl, connect: connectUrl });
  bare = await startConsoleServer({ bootstrap: [nowhere], port: 0 });
  const closed = `http://127.0.0.1:${await freePort()}`;
  dead = await startConsoleServer({ bootstrap: [nowhere], port: 0, schemaRegistry: closed, connect: closed, serviceTimeoutMs: 2000 });
});

afterAll(async () => {
  await consoleServer?.close();
  await bare?.close();
  await dead?.close();
  await registry?.close();
  await connect.stop();
});

describe('Schemas endpoints', () => {
  it('list subjects, versions, one version, and a diff between two', async () => {
    expect((await get('/api/schemas/subjects')).body).toEqual({ subjects: [] });
    await register('orders-value', v1);
    await register('orders-value', v2);
    await register('audit-value', v1);
    expect((await get('/api/schemas/subjects')).body).toEqual({
      subjects: [
        { subject: 'audit-value', versions: [1] },
        { subject: 'orders-value', versions: [1, 2] },
      ],
    });
    const versions = await get('/api/schemas/subjects/orders-value/versions');
    expect(versions.body).toEqual({ subject: 'orders-value', versions: [1, 2], compatibility: 'BACKWARD' });
    const one = await get('/api/schemas/subjects/orders-value/versions/2');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ subject: 'orders-value', version: 2, schemaType: 'AVRO' });
    expect(JSON.parse(one.body.schema)).toEqual(JSON.parse(v2));
    expect(one.body.text).toBe(JSON.stringify(JSON.parse(one.body.schema), null, 2));
    expect((await get('/api/schemas/subjects/orders-value/versions/latest')).body.version).toBe(2);
    const diff = await get('/api/schemas/subjects/orders-value/diff?from=1&to=2');
    expect(diff.status).toBe(200);
    const added = diff.body.lines.filter((l: { op: string }) => l.op === '+').map((l: { text: string }) => l.text.trim());
    expect(added.join('\n')).toContain('"name": "note"');
    expect(diff.body.lines.filter((l: { op: string }) => l.op === '-').length).toBeLessThan(added.length);
  });

  it('checks a schema against a version under the subject level, with the reasons', async () => {
    const ok = await post('/api/schemas/subjects/orders-value/compatibility', { schema: v2, version: 1 });
    expect(ok).toEqual({ status: 200, body: { isCompatible: true, messages: [] } });
    const bad = await post('/api/schemas/subjects/orders-value/compatibility', { schema: breaking });
    expect(bad.status).toBe(200);
    expect(bad.body.isCompatible).toBe(false);
    expect(bad.body.messages.length).toBeGreaterThan(0);
    // Nothing was registered by the checks.
    expect((await get('/api/schemas/subjects/orders-value/versions')).body.versions).toEqual([1, 2]);
  });

  it("relays the registry's refusals with its status and error code", async () => {
    const missing = await get('/api/schemas/subjects/nope/versions');
    expect(missing.status).toBe(404);
    expect(missing.body.error.upstream).toEqual({ status: 404, errorCode: 40401 });
    expect(missing.body.error.message).toMatch(/^schema registry: /);
    const noVersion = await get('/api/schemas/subjects/orders-value/versions/9');
    expect(noVersion.status).toBe(404);
    expect(noVersion.body.error.upstream.errorCode).toBe(40402);
    const invalid = await post('/api/schemas/subjects/orders-value/compatibility', { schema: '{"type":"recrd"}' });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.upstream.errorCode).toBe(42201);
  });

  it('registers a version through the registry, and relays its refusal (409 incompatible, 422 invalid)', async () => {
    const v3 = record([
      { name: 'id', type: 'long' },
      { name: 'note', type: 'string', default: '' },
      { name: 'tag', type: ['null', 'string'], default: null },
    ]);
    const ok = await post('/api/schemas/subjects/orders-value/versions', { schema: v3, schemaType: 'AVRO' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ subject: 'orders-value', version: 3 });
    expect(typeof ok.body.id).toBe('number');
    expect((await get('/api/schemas/subjects/orders-value/versions')).body.versions).toEqual([1, 2, 3]);
    // The same schema again is not a new version: the registry answers the same id.
    const again = await post('/api/schemas/subjects/orders-value/versions', { schema: v3 });
    expect(again.body).toEqual(ok.body);
    const refused = await post('/api/schemas/subjects/orders-value/versions', { schema: breaking });
    expect(refused.status).toBe(409);
    expect(refused.body.error.upstream).toEqual({ status: 409, errorCode: 409 });
    expect(refused.body.error.message).toMatch(/^schema registry: ./);
    const invalid = await post('/api/schemas/subjects/orders-value/versions', { schema: '{"type":"recrd"}' });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.upstream.errorCode).toBe(42201);
    // A JSON Schema subject: the type is passed on.
    const json = await post('/api/schemas/subjects/events-value/versions', { schema: '{"type":"object"}', schemaType: 'JSON' });
    expect(json.status).toBe(200);
    expect((await get('/api/schemas/subjects/events-value/versions/1')).body.schemaType).toBe('JSON');
    // Nothing was added by the refusals.
    expect((await get('/api/schemas/subjects/orders-value/versions')).body.versions).toEqual([1, 2, 3]);
  });

  it('answers bad input with 400 and a sentence, without asking the registry', async () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['GET', '/api/schemas/subjects/orders-value/versions/0', undefined, /version number/],
      ['GET', '/api/schemas/subjects/orders-value/versions/abc', undefined, /version number/],
      ['GET', '/api/schemas/subjects/orders-value/diff?from=1', undefined, /^to must be/],
      ['POST', '/api/schemas/subjects/orders-value/compatibility', {}, /schema must be a non-empty string/],
      ['POST', '/api/schemas/subjects/orders-value/compatibility', { schema: v2, schemaType: 'XML' }, /schemaType must be one of/],
      ['POST', '/api/schemas/subjects/orders-value/compatibility', { schema: v2, version: -1 }, /version must be/],
      ['POST', '/api/schemas/subjects/orders-value/compatibility', 'not json', /JSON object/],
      ['POST', '/api/schemas/subjects/orders-value/versions', { schema: '  ' }, /schema must be a non-empty string/],
      ['POST', '/api/schemas/subjects/orders-value/versions', { schema: v2, schemaType: 'avro' }, /schemaType must be one of/],
      ['POST', '/api/schemas/subjects/orders-value/versions', { schema: v2, references: 'x' }, /references must be an array/],
    ];
    for (const [method, path, body, sentence] of cases) {
      const r = await call(consoleServer.url, method, path, body);
      expect(r.status, path).toBe(400);
      expect(r.body.error.name).toBe('INVALID_REQUEST');
      expect(r.body.error.message).toMatch(sentence);
    }
    expect((await get('/api/schemas/subjects/orders-value/versions')).body.versions).toEqual([1, 2, 3]);
  });
});

describe('Connect endpoints', () => {
  it('list connectors with state and tasks', async () => {
    expect((await get('/api/connect/connectors')).body).toEqual({ connectors: [] });
    connect.connectors.set('pg-source', {
      state: 'RUNNING',
      tasks: [
        { id: 1, state: 'FAILED' },
        { id: 0, state: 'RUNNING' },
      ],
      restarts: 0,
    });
    connect.connectors.set('datagen', { state: 'RUNNING', tasks: [{ id: 0, state: 'RUNNING' }], restarts: 0 });
    const r = await get('/api/connect/connectors');
    expect(r.status).toBe(200);
    expect(r.body.connectors.map((c: { name: string }) => c.name)).toEqual(['datagen', 'pg-source']);
    expect(r.body.connectors[1]).toEqual({
      name: 'pg-source',
      type: 'source',
      state: 'RUNNING',
      workerId: '127.0.0.1:8083',
      trace: null,
      tasks: [
        { id: 0, state: 'RUNNING', workerId: '127.0.0.1:8083', trace: null },
        { id: 1, state: 'FAILED', workerId: '127.0.0.1:8083', trace: null },
      ],
    });
  });

  it('pause, resume and restart reach the worker with Connect’s verbs', async () => {
    expect(await post('/api/connect/connectors/pg-source/pause')).toEqual({ status: 200, body: { name: 'pg-source', action: 'pause' } });
    expect(connect.calls).toContain('PUT /connectors/pg-source/pause');
    expect((await get('/api/connect/connectors')).body.connectors[1].state).toBe('PAUSED');
    expect((await post('/api/connect/connectors/pg-source/resume')).status).toBe(200);
    expect(connect.calls).toContain('PUT /connectors/pg-source/resume');
    expect((await get('/api/connect/connectors')).body.connectors[1].state).toBe('RUNNING');
    expect((await post('/api/connect/connectors/pg-source/restart')).status).toBe(200);
    expect(connect.calls).toContain('POST /connectors/pg-source/restart?includeTasks=true');
    expect(connect.connectors.get('pg-source')!.restarts).toBe(1);
    expect(connect.connectors.get('pg-source')!.tasks.map((t) => t.state)).toEqual(['RUNNING', 'RUNNING']);
  });

  it('refuses an unknown action (400) and relays an unknown connector (404)', async () => {
    const before = connect.calls.length;
    const bad = await post('/api/connect/connectors/pg-source/delete');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/unknown action "delete": pause, resume or restart/);
    expect(connect.calls.length).toBe(before);
    const missing = await post('/api/connect/connectors/ghost/pause');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Kafka Connect: Connector ghost not found');
    expect(missing.body.error.upstream).toEqual({ status: 404, errorCode: 404 });
  });
});

describe('services not configured or not answering', () => {
  it('say which flag is missing (501)', async () => {
    const s = await call(bare.url, 'GET', '/api/schemas/subjects');
    expect(s.status).toBe(501);
    expect(s.body.error.name).toBe('UNSUPPORTED_VERSION');
    expect(s.body.error.message).toMatch(/--schema-registry URL/);
    const c = await call(bare.url, 'POST', '/api/connect/connectors/x/pause');
    expect(c.status).toBe(501);
    expect(c.body.error.message).toMatch(/--connect URL/);
  });

  it('say the service does not answer (503)', async () => {
    const s = await call(dead.url, 'GET', '/api/schemas/subjects');
    expect(s.status).toBe(503);
    expect(s.body.error.name).toBe('NETWORK_EXCEPTION');
    expect(s.body.error.message).toMatch(/^the schema registry at http:\/\/127\.0\.0\.1:\d+ does not answer/);
    const c = await call(dead.url, 'GET', '/api/connect/connectors');
    expect(c.status).toBe(503);
    expect(c.body.error.message).toMatch(/^the Kafka Connect at/);
  });
});
