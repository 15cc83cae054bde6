/**
 * `samsa cluster up --tls --sasl`, real processes: one combined node with a throwaway CA, a SASL_SSL
 * client listener and a SCRAM admin user; the client.properties it writes lets `samsa` create a
 * topic over gRPC, the SDK (ssl + sasl read from those files) produces, kcat with the kcat.conf it
 * writes consumes; a plaintext client on the secured port gets nothing; cluster down stops it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa, serdes } from '@samsa/client';
import { freePortBlock } from '@samsa/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJaasConfig } from '../src/clientSecurity.js';
import { removeDir, runCliAsync, tempDir } from './helpers/processes.js';

describe('cluster up --tls --sasl', () => {
  const dataDir = tempDir('cluster-secure');
  let up = false;

  afterAll(async () => {
    if (up) await runCliAsync(['cluster', 'down', '--data-dir', dataDir], { timeoutMs: 60_000 });
    removeDir(dataDir);
  });

  it('starts a SASL_SSL cluster, prints how to connect, and samsa, the SDK and kcat use it', async () => {
    expect(spawnSync('openssl', ['version']).status, 'openssl must be installed').toBe(0);
    const base = await freePortBlock(5);
    const r = await runCliAsync(
      [
        'cluster',
        'up',
        '--tls',
        '--sasl',
        '--combined',
        '--brokers',
        '1',
        '--controllers',
        '1',
        '--detach',
        '--no-metrics',
        '--no-schema-registry',
        '--no-console',
        '--data-dir',
        dataDir,
        '--base-port',
        String(base),
      ],
      { timeoutMs: 120_000 },
    );
    up = true;
    expect(r.status, r.stderr).toBe(0);
    const secured = `127.0.0.1:${base + 4}`;
    expect(r.stdout).toContain(`SASL_SSL client listeners: ${secured}`);
    expect(r.stdout).toContain('SCRAM user admin created');
    const propsFile = join(dataDir, 'client.properties');
    const props = Object.fromEntries(
      readFileSync(propsFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const { username, password } = parseJaasConfig(props['sasl.jaas.config']!);
    expect(username).toBe('admin');
    // The password is only in the files, never on stdout.
    expect(r.stdout).not.toContain(password!);

    const create = await runCliAsync(
      ['topics', '--bootstrap-server', secured, '--create', '--topic', 'secured', '--command-config', propsFile],
      {
        timeoutMs: 60_000,
      },
    );
    expect(create.status, create.stderr).toBe(0);

    const samsa = new Samsa({
      brokers: [secured],
      ssl: { ca: readFileSync(props['ssl.truststore.location']!, 'utf8') },
      sasl: { mechanism: 'scram-sha-256', username: 'admin', password: password! },
      requestTimeoutMs: 10_000,
    });
    try {
      const producer = samsa.producer({ value: serdes.string });
      await producer.send({ topic: 'secured', messages: [{ value: 'over-sasl-ssl' }] });
      await producer.close();
    } finally {
      await samsa.close();
    }
    const kcat = spawnSync('kcat', ['-F', join(dataDir, 'kcat.conf'), '-C', '-t', 'secured', '-o', 'beginning', '-e', '-q'], {
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(kcat.status, kcat.stderr).toBe(0);
    expect(kcat.stdout.trim()).toBe('over-sasl-ssl');
    // Without TLS and SASL the secured port serves nothing.
    const plain = await runCliAsync(['topics', '--bootstrap-server', secured, '--list'], { timeoutMs: 60_000 });
    expect(plain.status).not.toBe(0);
  }, 240_000);
});
