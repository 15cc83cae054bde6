/**
 * Real processes: one Samsa node and `samsa schema-registry` serving https with basic auth
 * (`--listeners https://`, `--ssl-keystore-location`, `--authentication-method BASIC`,
 * `--basic-auth-users-file`). `samsa schemas` registers and lists with `--basic-auth-user-info`
 * and `--schema-registry-ca`, gets Confluent's 401 without or with wrong credentials; a plain-HTTP
 * client on the https port fails while the registry keeps serving; a second instance forwards a
 * write to the https writer with the caller's credentials; the password never reaches a log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, removeDir, runCliAsync, startNode, stopProcess, tempDir, type NodeProcess } from '../../cli/test/helpers/processes.js';
import { Samsa } from '@samsa/client';
import { SchemaRegistryClient } from '../src/client.js';
import { makeCertificates } from '@samsa/testkit';

const PASSWORD = 'registry-secret-7f3a';
const schema = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] });

interface Instance {
  url: string;
  child: ChildProcess;
  output: string;
}

describe('samsa schema-registry with https and basic auth', () => {
  let node: NodeProcess | undefined;
  const instances: Instance[] = [];
  let dir = '';
  let url = '';
  const file = (f: string) => join(dir, f);

  async function startRegistry(name: string): Promise<Instance> {
    const inst: Instance = { url: `https://127.0.0.1:${await freePort()}`, child: undefined as unknown as ChildProcess, output: '' };
    inst.child = spawn(
      process.execPath,
      [
        CLI,
        'schema-registry',
        '--bootstrap-server',
        node!.address,
        '--listeners',
        inst.url,
        '--instance-id',
        name,
        '--ssl-keystore-location',
        file('server.keystore.pem'),
        // Trusted when this instance forwards a write to the other one.
        '--ssl-truststore-location',
        file('ca.pem'),
        '--authentication-method',
        'BASIC',
        '--authentication-realm',
        'SchemaRegistry-Props',
        '--basic-auth-users-file',
        file('users.properties'),
        '--log-level',
        'debug',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    instances.push(inst);
    inst.child.stdout!.on('data', (d: Buffer) => (inst.output += d.toString()));
    inst.child.stderr!.on('data', (d: Buffer) => (inst.output += d.toString()));
    await waitFor(
      `${name} to start`,
      () => {
        if (inst.child.exitCode !== null) throw new Error(`${name} exited ${inst.child.exitCode}:\n${inst.output}`);
        return inst.output.includes('schema registry started');
      },
      90_000,
    );
    return inst;
  }

  beforeAll(async () => {
    dir = tempDir('registry-tls');
    makeCertificates(dir, { caSubject: '/CN=registry-test-ca' });
    writeFileSync(file('users.properties'), `alice: ${PASSWORD},admin\n`);
    node = await startNode({ dataDir: join(dir, 'data'), timeoutMs: 60_000 });
    const first = await startRegistry('reg-a');
    url = first.url;
    await waitFor('reg-a to be the writer', () => first.output.includes('this instance is the writer'), 60_000);
  }, 180_000);

  afterAll(async () => {
    for (const inst of instances)
      if (inst.child.exitCode === null && inst.child.signalCode === null) await stopProcess(inst.child, 'SIGTERM');
    if (node) await stopProcess(node.child, 'SIGTERM');
    if (dir) removeDir(dir);
  });

  it('serves samsa schemas with the credentials and the CA, and 401 without', async () => {
    const cli = (...args: string[]) =>
      runCliAsync(['schemas', '--schema-registry-url', url, '--schema-registry-ca', file('ca.pem'), ...args]);
    const reg = await cli('--basic-auth-user-info', `alice:${PASSWORD}`, '--register', '--subject', 'orders-value', '--schema', schema);
    expect(reg.stderr).toBe('');
    expect(reg.stdout).toContain('Registered schema id 1 under subject orders-value.');
    expect(JSON.parse((await cli('--basic-auth-user-info', `alice:${PASSWORD}`, '--list')).stdout)).toEqual(['orders-value']);
    // produce/consume's name for the same flag works here too.
    expect(JSON.parse((await cli('--schema-registry-user-info', `alice:${PASSWORD}`, '--list')).stdout)).toEqual(['orders-value']);

    const none = await cli('--list');
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('Unauthorized (error_code 401)');
    const wrong = await cli('--basic-auth-user-info', 'alice:wrong', '--register', '--subject', 'sneaky-value', '--schema', schema);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('error_code 401');
    // Without the CA the certificate is not trusted: the call fails before any HTTP.
    const untrusted = await runCliAsync(['schemas', '--schema-registry-url', url, '--basic-auth-user-info', `alice:${PASSWORD}`, '--list']);
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toContain('cannot reach the schema registry');

    const sdk = new SchemaRegistryClient({ url, ca: readFileSync(file('ca.pem')), basicAuth: { username: 'alice', password: PASSWORD } });
    expect(await sdk.loadSubject('sneaky-value')).toEqual([]);
    expect((await sdk.getLatest('orders-value')).id).toBe(1);
  }, 120_000);

  it('a plain-HTTP client on the https port fails and the registry keeps serving', async () => {
    await expect(fetch(`${url.replace('https:', 'http:')}/subjects`, { signal: AbortSignal.timeout(30_000) })).rejects.toThrow();
    expect(instances[0]!.child.exitCode).toBeNull();
    const sdk = new SchemaRegistryClient({ url, ca: readFileSync(file('ca.pem')), basicAuth: `alice:${PASSWORD}` });
    expect((await sdk.getById(1)).schema).toBe(schema);
    expect(instances[0]!.output).not.toContain(PASSWORD);
  }, 60_000);

  it("a second instance forwards a write to the https writer with the caller's credentials", async () => {
    const second = await startRegistry('reg-b');
    const ca = readFileSync(file('ca.pem'));
    const v2 = JSON.stringify({ type: 'record', name: 'Payment', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] });
    const viaB = new SchemaRegistryClient({ url: second.url, ca, basicAuth: `alice:${PASSWORD}` });
    expect(await viaB.register('payments-value', { schema: v2 })).toBe(2);
    // reg-b did not write it: reg-a is still the writer and has it.
    expect(second.output).not.toContain('this instance is the writer');
    const onA = new SchemaRegistryClient({ url, ca, basicAuth: `alice:${PASSWORD}` });
    expect((await onA.getLatest('payments-value')).id).toBe(2);
    await expect(new SchemaRegistryClient({ url: second.url, ca }).register('payments-value', { schema })).rejects.toMatchObject({
      errorCode: 401,
    });
    expect(second.output).not.toContain(PASSWORD);
  }, 120_000);
  it('samsa produce and consume --value-format avro reach the registry with credentials and the CA', async () => {
    const samsa = new Samsa({ brokers: [node!.address], requestTimeoutMs: 10_000, retry: { retries: 10, maxRetryTimeMs: 1_000 } });
    try {
      await samsa.admin().createTopics([{ topic: 'secure-orders', numPartitions: 1, replicationFactor: 1 }]);
    } finally {
      await samsa.close();
    }
    const registryFlags = [
      '--schema-registry',
      url,
      '--schema-registry-user-info',
      `alice:${PASSWORD}`,
      '--schema-registry-ca',
      file('ca.pem'),
    ];
    const produced = await runCliAsync(
      [
        'produce',
        '--bootstrap-server',
        node!.address,
        '--topic',
        'secure-orders',
        '--value-format',
        'avro',
        '--value-schema',
        schema,
        ...registryFlags,
      ],
      { input: '{"id":42}\n', timeoutMs: 60_000 },
    );
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);
    const consumed = await runCliAsync(
      [
        'consume',
        '--bootstrap-server',
        node!.address,
        '--topic',
        'secure-orders',
        '--from-beginning',
        '--max-messages',
        '1',
        '--value-format',
        'avro',
        ...registryFlags,
      ],
      { timeoutMs: 60_000 },
    );
    expect(consumed.stdout).toBe('{"id":42}\n');
    // Without the credentials the producer cannot register its schema and stops.
    const anonymous = await runCliAsync(
      [
        'produce',
        '--bootstrap-server',
        node!.address,
        '--topic',
        'secure-orders',
        '--value-format',
        'avro',
        '--value-schema',
        schema,
        '--schema-registry',
        url,
        '--schema-registry-ca',
        file('ca.pem'),
      ],
      { input: '{"id":43}\n', timeoutMs: 60_000 },
    );
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toContain('Unauthorized');
  }, 120_000);
});
