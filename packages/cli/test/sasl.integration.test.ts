/**
 * SASL on the Kafka listener, real processes: one combined node with a PLAINTEXT listener (admin,
 * inter-broker) and a SASL_PLAINTEXT one. A SCRAM user is created with `samsa configs
 * --entity-type users` (stored in the metadata log); kcat (librdkafka) with SCRAM-SHA-256,
 * SCRAM-SHA-512 and PLAIN, and KafkaJS with SCRAM, produce and consume through the SASL listener;
 * a wrong password gets SASL_AUTHENTICATION_FAILED and one log line without the password, and the
 * broker keeps serving; a client without SASL is refused; a user made with the Kafka protocol's
 * AlterUserScramCredentials (KIP-554) authenticates and its deletion shows in DescribeUserScramCredentials; a gRPC client without credentials is refused with a sentence (grpcSasl.integration.test.ts covers gRPC SASL).
 */
import { spawnSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '@samsa/kafka';
import { ErrorCode } from '@samsa/protocol';
import { freePort, waitFor } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawKafkaConnection } from './helpers/kafkaWire.js';
import { removeDir, runCliAsync, startNode, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';

const PASSWORD = 'alice-s3cret-pw';

function kcat(args: string[], input = '', timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('SASL on the Kafka listener', () => {
  let node: NodeProcess;
  let dir: string;
  let saslPort: number;
  let sasl: string;

  const saslArgs = (mechanism: string, user: string, password: string) => [
    '-b',
    sasl,
    '-X',
    'security.protocol=SASL_PLAINTEXT',
    '-X',
    `sasl.mechanisms=${mechanism}`,
    '-X',
    `sasl.username=${user}`,
    '-X',
    `sasl.password=${password}`,
  ];

  beforeAll(async () => {
    expect(spawnSync('kcat', ['-V']).status, 'kcat must be installed (scripts/ci-deps.sh)').toBe(0);
    dir = tempDir('sasl');
    const port = await freePort();
    saslPort = await freePort();
    sasl = `127.0.0.1:${saslPort}`;
    node = await startNode({
      dataDir: dir,
      port,
      timeoutMs: 30_000,
      // Later flags win: the PLAINTEXT listener (admin, inter-broker) and the SASL one.
      extraArgs: [
        '--listen',
        `PLAINTEXT://127.0.0.1:${port},CLIENT://127.0.0.1:${saslPort}`,
        '--listener-security-protocol-map',
        'CLIENT:SASL_PLAINTEXT',
        '--inter-broker-listener-name',
        'PLAINTEXT',
      ],
    });
    const add = await runCliAsync([
      'configs',
      '--bootstrap-server',
      node.address,
      '--entity-type',
      'users',
      '--entity-name',
      'alice',
      '--alter',
      '--add-config',
      `SCRAM-SHA-256=[iterations=8192,password=${PASSWORD}],SCRAM-SHA-512=[password=${PASSWORD}]`,
    ]);
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout).toContain('Completed updating config for user alice.');
  }, 90_000);

  afterAll(async () => {
    if (node) await stopProcess(node.child, 'SIGTERM');
    if (dir) removeDir(dir);
  });

  it('configs --describe shows mechanisms and iterations, never a key or the password', async () => {
    const r = await runCliAsync(['configs', '--bootstrap-server', node.address, '--entity-type', 'users', '--describe']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096",
    );
    expect(r.stdout).not.toContain(PASSWORD);
    expect(node.output()).not.toContain(PASSWORD);
  });

  it('kcat produces with SCRAM-SHA-256 and PLAIN and consumes with SCRAM-SHA-512', () => {
    const topic = 'sasl-kcat';
    for (const mechanism of ['SCRAM-SHA-256', 'PLAIN']) {
      const p = kcat([...saslArgs(mechanism, 'alice', PASSWORD), '-P', '-t', topic, '-X', 'acks=all'], `via-${mechanism}\n`);
      expect(p.status, p.stderr).toBe(0);
    }
    const c = kcat([...saslArgs('SCRAM-SHA-512', 'alice', PASSWORD), '-C', '-t', topic, '-o', 'beginning', '-e', '-q']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.trim().split('\n')).toEqual(['via-SCRAM-SHA-256', 'via-PLAIN']);
  });

  it('KafkaJS with sasl scram-sha-256 produces and consumes', async () => {
    const kafka = new Kafka({
      clientId: 'sasl-kafkajs',
      brokers: [sasl],
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: PASSWORD },
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({ topic: 'sasl-kafkajs', acks: -1, messages: [{ key: 'k', value: 'from-kafkajs' }] });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: 'sasl-group', sessionTimeout: 10_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'sasl-kafkajs', fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
        },
      });
      const deadline = Date.now() + 60_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual(['from-kafkajs']);
    } finally {
      await consumer.disconnect();
    }
  }, 90_000);

  it('AlterUserScramCredentials / DescribeUserScramCredentials on the Kafka protocol (KIP-554): the user it creates authenticates with kcat, and its deletion is seen', async () => {
    const plainPort = Number(node.address.split(':').pop());
    const c = await RawKafkaConnection.connect(plainPort);
    try {
      // The client derives SaltedPassword = Hi(password, salt, i) (PBKDF2); the password never travels.
      const salt = randomBytes(16);
      const saltedPassword = pbkdf2Sync('bob-s3cret-pw', salt, 8192, 32, 'sha256');
      const altered = await c.request<{ results: Array<{ user: string; errorCode: number }> }>(ApiKey.AlterUserScramCredentials, 0, 1, {
        deletions: [],
        upsertions: [{ name: 'bob', mechanism: 1, iterations: 8192, salt, saltedPassword }],
      });
      expect(altered.results).toEqual([expect.objectContaining({ user: 'bob', errorCode: 0 })]);
      const described = await c.request<{ errorCode: number; results: Array<{ user: string; credentialInfos: unknown[] }> }>(
        ApiKey.DescribeUserScramCredentials,
        0,
        2,
        { users: [{ name: 'bob' }] },
      );
      expect(described.errorCode).toBe(0);
      expect(described.results).toEqual([expect.objectContaining({ user: 'bob', credentialInfos: [{ mechanism: 1, iterations: 8192 }] })]);
      const p = kcat([...saslArgs('SCRAM-SHA-256', 'bob', 'bob-s3cret-pw'), '-P', '-t', 'sasl-kip554', '-X', 'acks=all'], 'from-bob\n');
      expect(p.status, p.stderr).toBe(0);
      const removed = await c.request<{ results: Array<{ user: string; errorCode: number }> }>(ApiKey.AlterUserScramCredentials, 0, 3, {
        deletions: [{ name: 'bob', mechanism: 1 }],
        upsertions: [],
      });
      expect(removed.results).toEqual([expect.objectContaining({ user: 'bob', errorCode: 0 })]);
      const gone = await c.request<{ results: Array<{ user: string; errorCode: number }> }>(ApiKey.DescribeUserScramCredentials, 0, 4, {
        users: [{ name: 'bob' }],
      });
      expect(gone.results).toEqual([expect.objectContaining({ user: 'bob', errorCode: ErrorCode.RESOURCE_NOT_FOUND })]);
      expect(node.output()).not.toContain('bob-s3cret-pw');
    } finally {
      c.close();
    }
  });

  it('a wrong password: SASL_AUTHENTICATION_FAILED, one log line naming the user and not the password, and the broker keeps serving', async () => {
    const kafka = new Kafka({
      clientId: 'sasl-wrong',
      brokers: [sasl],
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'wrong-password-x' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    let caught: unknown;
    try {
      await admin.connect();
    } catch (err) {
      caught = err;
    } finally {
      await admin.disconnect();
    }
    expect((caught as { type?: string })?.type ?? String(caught)).toMatch(/SASL_AUTHENTICATION_FAILED|Authentication failed/);
    const k = kcat([...saslArgs('PLAIN', 'alice', 'wrong-password-y'), '-L', '-m', '5']);
    expect(k.status).not.toBe(0);
    expect(k.stderr).toContain('Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN');
    // The node's log is written asynchronously: wait (bounded) for both failures' lines.
    const failures = () =>
      node
        .output()
        .split('\n')
        .filter((l) => l.includes('"SASL authentication failed"'));
    await waitFor('two SASL failure log lines', () => failures().length >= 2, 20_000, 100);
    expect(failures().some((l) => l.includes('"user":"alice"') && l.includes('"mechanism":"SCRAM-SHA-512"'))).toBe(true);
    expect(failures().some((l) => l.includes('"user":"alice"') && l.includes('"mechanism":"PLAIN"'))).toBe(true);
    expect(node.output()).not.toContain('wrong-password');
    // Still serving: the right password works right after.
    const ok = kcat([...saslArgs('SCRAM-SHA-256', 'alice', PASSWORD), '-L', '-m', '10']);
    expect(ok.status, ok.stderr).toBe(0);
  });

  it('refuses a client without SASL: a Metadata request before authentication closes the connection unanswered', async () => {
    const c = await RawKafkaConnection.connect(saslPort);
    try {
      // ApiVersions is allowed before authentication (clients need it to pick the handshake version).
      c.send(ApiKey.ApiVersions, 0, 1, {});
      await c.nextFrame();
      c.send(ApiKey.Metadata, 1, 2, { topics: null });
      await expect(c.nextFrame()).rejects.toThrow(/closed the connection/);
    } finally {
      c.socket.destroy();
    }
    const k = kcat(['-b', sasl, '-L', '-m', '5']);
    expect(k.status).not.toBe(0);
    // The PLAINTEXT listener still answers.
    const plain = kcat(['-b', node.address, '-L', '-m', '10']);
    expect(plain.status, plain.stderr).toBe(0);
  });

  it('a gRPC client without SASL credentials on the SASL listener is refused ILLEGAL_SASL_STATE with a sentence', async () => {
    const r = await runCliAsync(['topics', '--bootstrap-server', sasl, '--list'], { timeoutMs: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ILLEGAL_SASL_STATE');
    expect(r.stderr).toContain('authenticate this connection with SaslHandshake and SaslAuthenticate first');
  }, 90_000);
});
