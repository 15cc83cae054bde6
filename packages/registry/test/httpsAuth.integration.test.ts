/**
 * The registry's listener security, in process over real sockets: an https listener with a
 * throwaway CA and certificate made by openssl (scripts/ci-deps.sh installs it), HTTP basic auth
 * against a users file. Our client (and Confluent's JavaScript client, a test-only oracle)
 * registers and reads with the right credentials and the CA; no or wrong credentials get
 * Confluent's 401 body and `WWW-Authenticate`; a plaintext HTTP client on the https port fails
 * without harming the server; `ssl.client.authentication=REQUIRED` turns away a client without a
 * certificate.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistryClient as ConfluentClient } from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClientError, SchemaRegistryClient, nodeFetch } from '../src/client.js';
import { RegistryHttpServer } from '../src/http.js';
import { MemoryLog } from '../src/log.js';
import { loadUsersFile, registryTlsOptions, type RegistryTlsConfig } from '../src/security.js';
import { SchemaRegistry } from '../src/service.js';
import { RegistryState } from '../src/state.js';
import { makeCertificates } from '@samsa/testkit';

const schema = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] });
const servers: RegistryHttpServer[] = [];
let dir = '';
let ca = '';

async function start(ssl: RegistryTlsConfig, auth: boolean): Promise<string> {
  const state = new RegistryState();
  const server = new RegistryHttpServer(new SchemaRegistry(state, new MemoryLog(state), { maxSchemaBytes: 1024 * 1024 }), {
    maxBodyBytes: 1024 * 1024,
    forwardTimeoutMs: 5000,
    tls: registryTlsOptions(ssl),
    ...(auth ? { basicAuth: { realm: 'SchemaRegistry-Props', users: loadUsersFile(join(dir, 'users.properties')) } } : {}),
  });
  servers.push(server);
  return `https://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-registry-tls-'));
  makeCertificates(dir, { caSubject: '/CN=registry-test-ca' });
  ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  writeFileSync(join(dir, 'users.properties'), '# name: password[,role ...]\nalice: wonder-land,admin\nbob: builder\n');
});

afterAll(async () => {
  for (const s of servers) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('https and basic auth on the registry', () => {
  let url = '';
  beforeAll(async () => {
    url = await start({ keystoreLocation: join(dir, 'server.keystore.pem') }, true);
  });

  it('registers and reads a schema with the right credentials and the CA', async () => {
    const client = new SchemaRegistryClient({ url, ca, basicAuth: { username: 'alice', password: 'wonder-land' } });
    const id = await client.register('orders-value', { schema });
    expect(id).toBe(1);
    const fresh = new SchemaRegistryClient({ url, ca, basicAuth: 'bob:builder' });
    expect((await fresh.getById(id)).schema).toBe(schema);
    expect((await fresh.getLatest('orders-value')).version).toBe(1);
    // Credentials in the URL (basic.auth.credentials.source=URL).
    const u = new URL(url);
    u.username = 'bob';
    u.password = 'builder';
    expect((await new SchemaRegistryClient({ url: u.toString(), ca }).getById(id)).schema).toBe(schema);
  });

  it("answers 401 with WWW-Authenticate and Confluent's body without or with wrong credentials", async () => {
    const f = nodeFetch({ ca });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}` },
      { authorization: `Basic ${Buffer.from('nobody:wonder-land').toString('base64')}` },
      { authorization: 'Bearer token' },
    ];
    for (const headers of attempts) {
      const res = await f(`${url}/subjects`, { method: 'GET', headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="SchemaRegistry-Props"');
      expect(await res.json()).toEqual({ error_code: 401, message: 'Unauthorized' });
    }
    // A write without credentials stores nothing.
    const anon = new SchemaRegistryClient({ url, ca });
    await expect(anon.register('sneaky-value', { schema })).rejects.toMatchObject({ errorCode: 401, status: 401 });
    const admin = new SchemaRegistryClient({ url, ca, basicAuth: 'alice:wonder-land' });
    await expect(admin.loadSubject('sneaky-value')).resolves.toEqual([]);
    const err = await new SchemaRegistryClient({ url, ca, basicAuth: 'alice:nope' }).getById(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryClientError);
  });

  it('a plaintext HTTP client on the https port fails and the server keeps serving', async () => {
    const plain = url.replace('https:', 'http:');
    await expect(fetch(`${plain}/subjects`, { signal: AbortSignal.timeout(30_000) })).rejects.toThrow();
    // An https client that does not trust the CA fails the handshake too.
    await expect(new SchemaRegistryClient({ url, basicAuth: 'bob:builder', fetch: nodeFetch({}) }).getById(1)).rejects.toThrow();
    const client = new SchemaRegistryClient({ url, ca, basicAuth: 'bob:builder' });
    expect((await client.getById(1)).schema).toBe(schema);
  });

  it("Confluent's JavaScript client registers and reads with basic.auth.user.info over https", async () => {
    const c = new ConfluentClient({
      baseURLs: [url],
      basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: 'alice:wonder-land' },
      createAxiosDefaults: { httpsAgent: new Agent({ ca }) },
    });
    const id = await c.register('payments-value', { schemaType: 'AVRO', schema });
    expect(id).toBe(1);
    expect((await c.getLatestSchemaMetadata('payments-value')).version).toBe(1);
    const wrong = new ConfluentClient({
      baseURLs: [url],
      basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: 'alice:wrong' },
      createAxiosDefaults: { httpsAgent: new Agent({ ca }) },
      maxRetries: 0,
    });
    await expect(wrong.getLatestSchemaMetadata('payments-value')).rejects.toMatchObject({ status: 401 });
  });
});

describe('ssl.client.authentication=REQUIRED', () => {
  it('serves a client with a certificate from the truststore and turns away one without', async () => {
    const url = await start(
      { keystoreLocation: join(dir, 'server.keystore.pem'), truststoreLocation: join(dir, 'ca.pem'), clientAuthentication: 'REQUIRED' },
      false,
    );
    const withCert = new SchemaRegistryClient({
      url,
      ca,
      cert: readFileSync(join(dir, 'client.pem')),
      key: readFileSync(join(dir, 'client.key')),
    });
    expect(await withCert.register('certs-value', { schema })).toBe(1);
    await expect(new SchemaRegistryClient({ url, ca }).getById(1)).rejects.toThrow();
    expect((await withCert.getById(1)).schema).toBe(schema);
  });

  it('refuses REQUIRED without a truststore, and an unreadable keystore, at start', () => {
    expect(() => registryTlsOptions({ keystoreLocation: join(dir, 'server.keystore.pem'), clientAuthentication: 'REQUIRED' })).toThrow(
      /needs ssl.truststore.location/,
    );
    expect(() => registryTlsOptions({ keystoreLocation: join(dir, 'missing.pem') })).toThrow(
      /ssl.keystore.location .*missing.pem cannot be read/,
    );
    expect(() => registryTlsOptions({ keystoreLocation: join(dir, 'ca.key') })).toThrow(
      /must hold a PEM private key and certificate chain/,
    );
  });
});
