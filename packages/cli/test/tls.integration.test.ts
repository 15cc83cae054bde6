/**
 * TLS on the client listener, real processes: a throwaway CA and certificates made with openssl,
 * one combined node with PLAINTEXT (admin, inter-broker), SSL and SASL_SSL listeners
 * (ssl.keystore.location with type PEM, ssl.truststore.location, ssl.client.auth=requested).
 * kcat over SSL (with a client certificate) and over SASL_SSL with SCRAM, and KafkaJS with ssl +
 * sasl, produce and consume; a grpc-js TLS client reaches the gRPC service (ALPN h2); a plaintext client against the TLS listener fails cleanly and the
 * broker keeps serving.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Samsa, SaslAuthenticationError, serdes } from '@samsa/client';
import { CHANNEL_OPTIONS, clientProto, grpc, type MetadataResponse__Output } from '@samsa/protocol';
import { freePort, makeCertificates } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCliAsync, startNode, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';

const PASSWORD = 'tls-user-secret';

function run(cmd: string, args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('TLS on the client listener', () => {
  let node: NodeProcess;
  let dir: string;
  let ssl: string;
  let saslSsl: string;
  const file = (f: string) => join(dir, f);

  beforeAll(async () => {
    expect(run('kcat', ['-V']).status, 'kcat must be installed (scripts/ci-deps.sh)').toBe(0);
    expect(run('openssl', ['version']).status, 'openssl must be installed').toBe(0);
    dir = tempDir('tls');
    makeCertificates(dir, { clientSubject: '/O=acme/CN=alice' });
    const port = await freePort();
    ssl = `127.0.0.1:${await freePort()}`;
    saslSsl = `127.0.0.1:${await freePort()}`;
    node = await startNode({
      dataDir: join(dir, 'data'),
      port,
      timeoutMs: 30_000,
      extraArgs: [
        '--listen',
        `PLAINTEXT://127.0.0.1:${port},SSL://${ssl},SECURE://${saslSsl}`,
        '--listener-security-protocol-map',
        'SECURE:SASL_SSL',
        '--inter-broker-listener-name',
        'PLAINTEXT',
        '--ssl-keystore-type',
        'PEM',
        '--ssl-keystore-location',
        file('server.keystore.pem'),
        '--ssl-truststore-location',
        file('ca.pem'),
        '--ssl-client-auth',
        'requested',
      ],
    });
    const add = await runCliAsync([
      'configs',
      '--bootstrap-server',
      node.address,
      '--entity-type',
      'users',
      '--entity-name',
      'bob',
      '--alter',
      '--add-config',
      `SCRAM-SHA-256=[password=${PASSWORD}]`,
    ]);
    expect(add.status, add.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (node) await stopProcess(node.child, 'SIGTERM');
    if (dir) removeDir(dir);
  });

  const sslArgs = () => ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${file('ca.pem')}`];
  const saslSslArgs = () => [
    '-X',
    'security.protocol=SASL_SSL',
    '-X',
    `ssl.ca.location=${file('ca.pem')}`,
    '-X',
    'sasl.mechanisms=SCRAM-SHA-256',
    '-X',
    'sasl.username=bob',
    '-X',
    `sasl.password=${PASSWORD}`,
  ];

  it('kcat over SSL with a client certificate produces, and over SASL_SSL with SCRAM consumes', () => {
    const clientCert = ['-X', `ssl.certificate.location=${file('client.pem')}`, '-X', `ssl.key.location=${file('client.key')}`];
    const p = run('kcat', ['-b', ssl, ...sslArgs(), ...clientCert, '-P', '-t', 'tls-kcat'], 'over-tls\n');
    expect(p.status, p.stderr).toBe(0);
    const c = run('kcat', ['-b', saslSsl, ...saslSslArgs(), '-C', '-t', 'tls-kcat', '-o', 'beginning', '-e', '-q']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.trim()).toBe('over-tls');
  });

  it('KafkaJS with ssl and sasl produces and consumes over SASL_SSL', async () => {
    const kafka = new Kafka({
      clientId: 'tls-kafkajs',
      brokers: [saslSsl],
      ssl: { ca: [readFileSync(file('ca.pem'), 'utf8')] },
      sasl: { mechanism: 'scram-sha-256', username: 'bob', password: PASSWORD },
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({ topic: 'tls-kafkajs', acks: -1, messages: [{ value: 'kafkajs-over-tls' }] });
    } finally {
      await producer.disconnect();
    }
    const c = run('kcat', ['-b', ssl, ...sslArgs(), '-C', '-t', 'tls-kafkajs', '-o', 'beginning', '-e', '-q']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.trim()).toBe('kafkajs-over-tls');
  }, 90_000);

  it('a gRPC client over TLS (ALPN h2) reaches the gRPC service on the SSL listener', async () => {
    const client = new (clientProto().samsa.v1.Samsa)(ssl, grpc.credentials.createSsl(readFileSync(file('ca.pem'))), CHANNEL_OPTIONS);
    try {
      const res = await new Promise<MetadataResponse__Output>((resolve, reject) =>
        client.Metadata({ topics: [], allTopics: true }, { deadline: Date.now() + 20_000 }, (err, r) => (err ? reject(err) : resolve(r!))),
      );
      expect(res.topics.map((t) => t.name)).toContain('tls-kcat');
    } finally {
      client.close();
    }
  });

  it('the SDK with ssl and sasl (gRPC over SASL_SSL) produces and reads back; a wrong password is SaslAuthenticationError', async () => {
    const ca = readFileSync(file('ca.pem'), 'utf8');
    const samsa = new Samsa({
      brokers: [saslSsl],
      ssl: { ca },
      sasl: { mechanism: 'scram-sha-256', username: 'bob', password: PASSWORD },
      requestTimeoutMs: 10_000,
    });
    try {
      const producer = samsa.producer({ value: serdes.string });
      await producer.send({ topic: 'tls-sdk', messages: [{ value: 'sdk-over-sasl-ssl' }] });
      await producer.close();
      const consumer = samsa.consumer({ value: serdes.string });
      const values: string[] = [];
      try {
        consumer.assign([{ topic: 'tls-sdk', partition: 0 }]);
        await consumer.seek({ topic: 'tls-sdk', partition: 0, offset: 0n });
        for (let round = 0; round < 100 && values.length === 0; round++) {
          for (const r of await consumer.poll({ maxWaitMs: 200 })) values.push(r.value ?? '');
        }
      } finally {
        await consumer.close();
      }
      expect(values).toEqual(['sdk-over-sasl-ssl']);
    } finally {
      await samsa.close();
    }
    const wrong = new Samsa({
      brokers: [saslSsl],
      ssl: { ca },
      sasl: { mechanism: 'scram-sha-256', username: 'bob', password: 'not-bobs' },
      retry: { retries: 0 },
    });
    try {
      await expect(wrong.admin().listTopics()).rejects.toBeInstanceOf(SaslAuthenticationError);
    } finally {
      await wrong.close();
    }
  }, 90_000);

  it('the SDK with ssl { ca, cert, key } reaches the SSL listener (mutual TLS) over gRPC', async () => {
    const samsa = new Samsa({
      brokers: [ssl],
      ssl: { ca: readFileSync(file('ca.pem')), cert: readFileSync(file('client.pem')), key: readFileSync(file('client.key')) },
      requestTimeoutMs: 10_000,
    });
    try {
      expect(await samsa.admin().listTopics()).toContain('tls-kcat');
    } finally {
      await samsa.close();
    }
  }, 60_000);

  it('a plaintext client against the TLS listener fails cleanly and the broker keeps serving', () => {
    const plain = run('kcat', ['-b', ssl, '-L', '-m', '5']);
    expect(plain.status).not.toBe(0);
    const untrusted = run('kcat', ['-b', ssl, '-X', 'security.protocol=SSL', '-L', '-m', '5']);
    expect(untrusted.status).not.toBe(0);
    const ok = run('kcat', ['-b', ssl, ...sslArgs(), '-L', '-m', '10']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(node.child.exitCode).toBeNull();
  });
});
