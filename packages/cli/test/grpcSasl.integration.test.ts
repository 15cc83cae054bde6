/**
 * SASL on the gRPC API, real processes (design: packages/broker/src/security/README.md, "gRPC"):
 * one combined node with a PLAINTEXT listener (admin, inter-broker; User:ANONYMOUS is a super user
 * there) and a SASL_PLAINTEXT one, the ACL authorizer on. Users alice (ACLs for topic orders and
 * group orders-readers) and bob (none) are made with `samsa configs`. Through the SASL listener:
 * the SDK as alice (SCRAM-SHA-256) produces and a group consumer (SCRAM-SHA-512, so the Groups
 * connection authenticates too) reads it back; a wrong password fails with SaslAuthenticationError
 * and Kafka's sentence, logged without the password; a client without `sasl` is refused
 * ILLEGAL_SASL_STATE with a sentence and creates nothing; bob (PLAIN) is authenticated but the
 * authorizer refuses his produce with TOPIC_AUTHORIZATION_FAILED and nothing is written.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa, SaslAuthenticationError, IllegalSaslStateError, serdes } from '@samsa/client';
import { ErrorCode } from '@samsa/protocol';
import { freePort, waitFor } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCliAsync, startNode, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';

const ALICE_PASSWORD = 'alice-grpc-s3cret';
const BOB_PASSWORD = 'bob-grpc-s3cret';

describe('SASL on the gRPC API', () => {
  let node: NodeProcess;
  let dir: string;
  let sasl: string;
  let admin: Samsa;
  const clients: Samsa[] = [];

  const client = (options: Partial<ConstructorParameters<typeof Samsa>[0]> = {}) => {
    const c = new Samsa({ brokers: [sasl], requestTimeoutMs: 10_000, retry: { retries: 3, maxRetryTimeMs: 500 }, ...options });
    clients.push(c);
    return c;
  };

  const cli = (...args: string[]) => runCliAsync([...args], { timeoutMs: 60_000 });

  beforeAll(async () => {
    dir = tempDir('grpc-sasl');
    const port = await freePort();
    const saslPort = await freePort();
    sasl = `127.0.0.1:${saslPort}`;
    node = await startNode({
      dataDir: dir,
      port,
      timeoutMs: 30_000,
      extraArgs: [
        '--listen',
        `PLAINTEXT://127.0.0.1:${port},CLIENT://127.0.0.1:${saslPort}`,
        '--listener-security-protocol-map',
        'CLIENT:SASL_PLAINTEXT',
        '--inter-broker-listener-name',
        'PLAINTEXT',
        '--authorizer-class-name',
        'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        '--super-users',
        'User:ANONYMOUS',
      ],
    });
    for (const [user, password] of [
      ['alice', ALICE_PASSWORD],
      ['bob', BOB_PASSWORD],
    ] as const) {
      const r = await cli(
        'configs',
        '--bootstrap-server',
        node.address,
        '--entity-type',
        'users',
        '--entity-name',
        user,
        '--alter',
        '--add-config',
        `SCRAM-SHA-256=[password=${password}],SCRAM-SHA-512=[password=${password}]`,
      );
      expect(r.status, r.stderr).toBe(0);
    }
    const topic = await cli('topics', '--bootstrap-server', node.address, '--create', '--topic', 'orders', '--partitions', '1');
    expect(topic.status, topic.stderr).toBe(0);
    for (const args of [
      ['--allow-principal', 'User:alice', '--operation', 'Write', '--operation', 'Read', '--operation', 'Describe', '--topic', 'orders'],
      ['--allow-principal', 'User:alice', '--operation', 'Read', '--group', 'orders-readers'],
      // bob may see the topic (so the refusal is about WRITE, not about not finding it).
      ['--allow-principal', 'User:bob', '--operation', 'Describe', '--topic', 'orders'],
      // ... and may start an idempotent producer (so the refusal is Produce's, not InitProducerId's).
      ['--allow-principal', 'User:bob', '--operation', 'IdempotentWrite', '--cluster'],
    ]) {
      const r = await cli('acls', '--bootstrap-server', node.address, '--add', ...args);
      expect(r.status, r.stderr).toBe(0);
    }
    admin = new Samsa({ brokers: [node.address], requestTimeoutMs: 10_000 });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await admin?.close();
    if (node) await stopProcess(node.child, 'SIGTERM');
    if (dir) removeDir(dir);
  });

  async function highWatermark(topic: string): Promise<bigint> {
    const [p] = await admin.admin().listOffsets(topic, [{ partition: 0, timestamp: 'latest' }]);
    return p!.offset;
  }

  it('the SDK as alice (SCRAM-SHA-256) produces, and a group consumer as alice (SCRAM-SHA-512) reads it back', async () => {
    const producer = client({ sasl: { mechanism: 'scram-sha-256', username: 'alice', password: ALICE_PASSWORD } }).producer({
      value: serdes.string,
    });
    try {
      await producer.send({ topic: 'orders', messages: [{ value: 'order-1' }, { value: 'order-2' }] });
    } finally {
      await producer.close();
    }
    const consumer = client({ sasl: { mechanism: 'scram-sha-512', username: 'alice', password: ALICE_PASSWORD } }).consumer({
      groupId: 'orders-readers',
      value: serdes.string,
      autoOffsetReset: 'earliest',
    });
    const values: string[] = [];
    try {
      consumer.subscribe('orders');
      for (let round = 0; round < 200 && values.length < 2; round++) {
        for (const r of await consumer.poll({ maxWaitMs: 200 })) values.push(r.value ?? '');
      }
      await consumer.commit();
    } finally {
      await consumer.close();
    }
    expect(values).toEqual(['order-1', 'order-2']);
  }, 120_000);

  it('a wrong password fails with SaslAuthenticationError and Kafka sentence, logged without the password; the broker keeps serving', async () => {
    const wrong = 'not-alices-password';
    const c = client({ sasl: { mechanism: 'scram-sha-256', username: 'alice', password: wrong }, retry: { retries: 0 } });
    const failure = await c
      .admin()
      .listTopics()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(failure).toBeInstanceOf(SaslAuthenticationError);
    expect((failure as SaslAuthenticationError).code).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect((failure as Error).message).toContain(
      'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
    );
    await waitFor(
      'the failure log line naming alice',
      () =>
        node
          .output()
          .split('\n')
          .some((l) => l.includes('SASL authentication failed') && l.includes('"user":"alice"') && l.includes('grpc')),
      20_000,
      100,
    );
    expect(node.output()).not.toContain(wrong);
    // The same client with the right password on a fresh Samsa works: the listener is fine.
    const ok = client({ sasl: { mechanism: 'scram-sha-256', username: 'alice', password: ALICE_PASSWORD } });
    expect(await ok.admin().listTopics()).toContain('orders');
  }, 60_000);

  it('a client without sasl is refused ILLEGAL_SASL_STATE with a sentence, and its request changes nothing', async () => {
    const c = client({ retry: { retries: 0 } });
    const producer = c.producer({ value: serdes.string });
    let failure: unknown;
    try {
      failure = await producer.send({ topic: 'unauthenticated-topic', messages: [{ value: 'x' }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      await producer.close();
    }
    expect(failure).toBeDefined();
    // The producer may wrap the refusal; the refusal itself is typed.
    const refusal = findCause(failure, (e) => e instanceof IllegalSaslStateError);
    expect(refusal, String(failure)).toBeInstanceOf(IllegalSaslStateError);
    expect((refusal as Error).message).toContain('authenticate this connection with SaslHandshake and SaslAuthenticate first');
    expect(await admin.admin().listTopics()).not.toContain('unauthenticated-topic');
  }, 60_000);

  it('the CLI reads security.protocol, sasl.mechanism and sasl.jaas.config from --command-config / --producer.config', async () => {
    const props = join(dir, 'client.properties');
    writeFileSync(
      props,
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-256',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="${ALICE_PASSWORD}";`,
        '',
      ].join('\n'),
    );
    const list = await cli('topics', '--bootstrap-server', sasl, '--list', '--command-config', props);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.split('\n')).toContain('orders');
    const before = await highWatermark('orders');
    const produced = await runCliAsync(['produce', '--bootstrap-server', sasl, '--topic', 'orders', '--producer.config', props], {
      input: 'from-cli\n',
      timeoutMs: 60_000,
    });
    expect(produced.status, produced.stderr).toBe(0);
    expect(await highWatermark('orders')).toBe(before + 1n);
  }, 90_000);

  it('bob (PLAIN) is authenticated, but without WRITE his produce gets TOPIC_AUTHORIZATION_FAILED and nothing is written', async () => {
    const before = await highWatermark('orders');
    const producer = client({ sasl: { mechanism: 'plain', username: 'bob', password: BOB_PASSWORD }, retry: { retries: 0 } }).producer({
      value: serdes.string,
    });
    let failure: unknown;
    try {
      failure = await producer.send({ topic: 'orders', messages: [{ value: 'from-bob' }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      await producer.close();
    }
    expect(
      findCause(failure, (e) => (e as { code?: number }).code === ErrorCode.TOPIC_AUTHORIZATION_FAILED),
      `${String(failure)} (code ${(failure as { code?: number }).code})`,
    ).toBeDefined();
    expect(await highWatermark('orders')).toBe(before);
    // The denial names bob in the audit log: the broker saw his principal, not ANONYMOUS.
    await waitFor('the audit line for User:bob', () => node.output().includes('User:bob'), 20_000, 100);
  }, 60_000);
});

function findCause(error: unknown, match: (e: unknown) => boolean): unknown {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    if (match(e)) return e;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors)) for (const inner of errors) if (match(inner)) return inner;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
