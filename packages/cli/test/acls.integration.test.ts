/**
 * ACLs end to end (issue 19 items 3-4) on a real cluster (one controller, one broker) with the
 * authorizer on. Until authentication lands every client is User:ANONYMOUS, so the ACLs here are
 * for User:ANONYMOUS: the same enforcement path a named principal takes.
 *
 * Phase 1: the broker runs with super.users=User:ANONYMOUS, which creates the topics and, through
 * `samsa acls --add`, the ACLs; `samsa acls --list` shows them. Phase 2: the broker restarts
 * without super.users; the ACLs are still there (they live in the metadata log), KafkaJS and the
 * SDK produce and consume where an ALLOW lets them, and are refused, writing nothing, where none
 * does or a DENY takes it back; Metadata hides the topic without DESCRIBE; a group without READ
 * gets GROUP_AUTHORIZATION_FAILED; each denial leaves an audit line in the broker's log.
 */
import { Samsa, serdes } from '@samsa/client';
import { waitFor } from '@samsa/testkit';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, ResourcePatternTypes, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { runCliAsync } from './helpers/processes.js';

const AUTHORIZER = [
  '--authorizer-class-name',
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  '--audit-log-interval-ms',
  '60000',
];
const SUPER = ['--super-users', 'User:ANONYMOUS'];

describe('ACLs with the authorizer on', () => {
  let cluster: TestCluster;
  const brokerArgs = [...AUTHORIZER, ...SUPER];
  let bootstrap: string;
  let kafka: Kafka;
  let samsa: Samsa;
  let listed = '';

  const acls = (...args: string[]) => runCliAsync(['acls', '--bootstrap-server', bootstrap, ...args], { timeoutMs: 60_000 });

  beforeAll(async () => {
    cluster = await startCluster({ controllers: 1, brokers: 1, heartbeatIntervalMs: 250, brokerArgs });
    bootstrap = cluster.bootstrap[0]!;
    // Phase 1, as a super user: topics and ACLs.
    const admin = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000, retry: { retries: 10, maxRetryTimeMs: 1_000 } });
    try {
      await admin
        .admin()
        .createTopics(['app-orders', 'app-denied', 'ro-topic', 'secret-topic'].map((topic) => ({ topic, numPartitions: 1 })));
    } finally {
      await admin.close();
    }
    const adds: string[][] = [
      ['--allow-principal', 'User:ANONYMOUS', '--operation', 'All', '--topic', 'app-', '--resource-pattern-type', 'prefixed'],
      ['--deny-principal', 'User:ANONYMOUS', '--operation', 'Write', '--topic', 'app-denied'],
      ['--allow-principal', 'User:ANONYMOUS', '--operation', 'Read', '--topic', 'ro-topic'],
      ['--allow-principal', 'User:ANONYMOUS', '--operation', 'Read', '--group', 'app-', '--resource-pattern-type', 'prefixed'],
      ['--allow-principal', 'User:ANONYMOUS', '--operation', 'Describe', '--group', 'ro-group'],
      ['--allow-principal', 'User:ANONYMOUS', '--operation', 'Describe', '--cluster'],
    ];
    for (const args of adds) {
      const r = await acls('--add', ...args);
      if (r.status !== 0) throw new Error(`samsa acls --add ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
    // One ACL through the Kafka protocol's CreateAcls (KafkaJS admin), the rest through samsa acls.
    const kafkaAdmin = new Kafka({ clientId: 'acl-setup', brokers: cluster.bootstrap, logLevel: logLevel.NOTHING }).admin();
    await kafkaAdmin.connect();
    try {
      await kafkaAdmin.createAcls({
        acl: [
          {
            resourceType: AclResourceTypes.TOPIC,
            resourceName: 'kjs-topic',
            resourcePatternType: ResourcePatternTypes.LITERAL,
            principal: 'User:ANONYMOUS',
            host: '127.0.0.1',
            operation: AclOperationTypes.DESCRIBE,
            permissionType: AclPermissionTypes.ALLOW,
          },
        ],
      });
    } finally {
      await kafkaAdmin.disconnect();
    }
    const list = await acls('--list');
    if (list.status !== 0) throw new Error(`samsa acls --list failed: ${list.stderr}`);
    listed = list.stdout;
    // Phase 2: the same broker without super users.
    brokerArgs.splice(brokerArgs.length - SUPER.length, SUPER.length);
    const broker = cluster.brokers[0]!;
    await cluster.kill(broker, 'SIGTERM');
    await cluster.start(broker);
    kafka = new Kafka({
      clientId: 'acl-test',
      brokers: cluster.bootstrap,
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 100 },
    });
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000, retry: { retries: 3, maxRetryTimeMs: 500 } });
  }, 180_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  it('samsa acls --list shows what was added, in kafka-acls form', () => {
    expect(listed).toContain('Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=app-, patternType=PREFIXED)`:');
    expect(listed).toContain('(principal=User:ANONYMOUS, host=*, operation=ALL, permissionType=ALLOW)');
    expect(listed).toContain('ResourcePattern(resourceType=TOPIC, name=app-denied, patternType=LITERAL)');
    expect(listed).toContain('(principal=User:ANONYMOUS, host=*, operation=WRITE, permissionType=DENY)');
    expect(listed).toContain('ResourcePattern(resourceType=GROUP, name=app-, patternType=PREFIXED)');
    expect(listed).toContain('ResourcePattern(resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL)');
  });

  it('the ACLs survive the broker restart (listed again from the restarted broker)', async () => {
    const r = await acls('--list', '--topic', 'ro-topic');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ResourcePattern(resourceType=TOPIC, name=ro-topic, patternType=LITERAL)');
    expect(r.stdout).toContain('(principal=User:ANONYMOUS, host=*, operation=READ, permissionType=ALLOW)');
    // A filter: the prefixed topic ACL is not a LITERAL ro-topic one.
    expect(r.stdout).not.toContain('name=app-,');
  });

  it("KafkaJS's describeAcls (Kafka protocol DescribeAcls) sees the ACL it created, after the restart", async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const r = await admin.describeAcls({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: 'kjs-topic',
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      expect(r.resources).toEqual([
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: 'kjs-topic',
          resourcePatternType: ResourcePatternTypes.LITERAL,
          acls: [
            {
              principal: 'User:ANONYMOUS',
              host: '127.0.0.1',
              operation: AclOperationTypes.DESCRIBE,
              permissionType: AclPermissionTypes.ALLOW,
            },
          ],
        },
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('KafkaJS produces and consumes on a topic an ALLOW covers (prefix app-, group app-)', async () => {
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'app-orders', messages: [{ value: 'k1' }, { value: 'k2' }] });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: 'app-g1', sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
    const seen: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'app-orders', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
        },
      });
      await waitFor('KafkaJS to read both records', () => seen.length >= 2, 60_000);
    } finally {
      await consumer.disconnect();
    }
    expect(seen.slice(0, 2)).toEqual(['k1', 'k2']);
  });

  it('the SDK produces and reads on the same topic', async () => {
    const producer = samsa.producer({ value: serdes.string });
    try {
      await producer.send({ topic: 'app-orders', messages: [{ value: 'sdk-1' }] });
    } finally {
      await producer.close();
    }
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    const values: string[] = [];
    try {
      consumer.assign([{ topic: 'app-orders', partition: 0 }]);
      await consumer.seek({ topic: 'app-orders', partition: 0, offset: 0n });
      for (let round = 0; round < 100 && !values.includes('sdk-1'); round++) {
        for (const r of await consumer.poll({ maxWaitMs: 200 })) values.push(r.value ?? '');
      }
    } finally {
      await consumer.close();
    }
    expect(values).toContain('sdk-1');
  });

  async function highWatermark(topic: string): Promise<string> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [p] = await admin.fetchTopicOffsets(topic);
      return p!.high;
    } finally {
      await admin.disconnect();
    }
  }

  it('without WRITE, KafkaJS and the SDK get TOPIC_AUTHORIZATION_FAILED and nothing is written', async () => {
    expect(await highWatermark('ro-topic')).toBe('0');
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: 'ro-topic', messages: [{ value: 'no' }] })).rejects.toMatchObject({
        type: 'TOPIC_AUTHORIZATION_FAILED',
      });
    } finally {
      await producer.disconnect();
    }
    const sdk = samsa.producer({ value: serdes.string });
    try {
      await expect(sdk.send({ topic: 'ro-topic', messages: [{ value: 'no' }] })).rejects.toMatchObject({ code: 29 });
    } finally {
      await sdk.close();
    }
    expect(await highWatermark('ro-topic')).toBe('0');
  });

  it('a DENY wins over the prefix ALLOW: app-denied refuses writes and stays empty', async () => {
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: 'app-denied', messages: [{ value: 'no' }] })).rejects.toMatchObject({
        type: 'TOPIC_AUTHORIZATION_FAILED',
      });
    } finally {
      await producer.disconnect();
    }
    expect(await highWatermark('app-denied')).toBe('0');
  });

  it('deny by default: a topic with no ACL cannot be written or read, and Metadata hides it', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(topics).toEqual(expect.arrayContaining(['app-orders', 'app-denied', 'ro-topic']));
      expect(topics).not.toContain('secret-topic');
      await expect(admin.fetchTopicMetadata({ topics: ['secret-topic'] })).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
    } finally {
      await admin.disconnect();
    }
    const sdkTopics = await samsa.admin().listTopics();
    expect(sdkTopics).not.toContain('secret-topic');
    expect(sdkTopics).toContain('app-orders');
    const sdk = samsa.producer({ value: serdes.string });
    try {
      await expect(sdk.send({ topic: 'secret-topic', messages: [{ value: 'no' }] })).rejects.toMatchObject({ code: 29 });
    } finally {
      await sdk.close();
    }
  });

  it('a group without READ gets GROUP_AUTHORIZATION_FAILED (KafkaJS joining, the SDK reading its offsets)', async () => {
    // ro-group has DESCRIBE only: FindCoordinator passes, JoinGroup needs READ.
    const consumer = kafka.consumer({ groupId: 'ro-group', sessionTimeout: 6_000, retry: { retries: 0 } });
    let crash: unknown;
    consumer.on(consumer.events.CRASH, (e) => {
      crash = e.payload.error;
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'app-orders', fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
      await waitFor('the KafkaJS consumer to crash', () => crash !== undefined, 30_000);
    } finally {
      await consumer.disconnect();
    }
    expect(crash).toMatchObject({ type: 'GROUP_AUTHORIZATION_FAILED' });
    // No ACL at all on other-group: the SDK is refused at FindCoordinator.
    await expect(samsa.admin().fetchOffsets('other-group', ['app-orders'])).rejects.toMatchObject({ code: 30 });
  });

  it('denials are audited with principal, client, API and resource, and no ACL admin without ALTER on the cluster', async () => {
    const add = await acls('--add', '--allow-principal', 'User:ANONYMOUS', '--operation', 'Write', '--topic', 'ro-topic');
    expect(add.status).not.toBe(0);
    expect(add.stderr).toMatch(/authorization failed/i);
    const broker = cluster.brokers[0]!;
    await waitFor('the audit lines', () => broker.output.includes('"resourceName":"ro-topic"'), 10_000);
    const lines = broker.output.split('\n').filter((l) => l.includes('"authorization denied"'));
    const produceDenial = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['resourceName'] === 'ro-topic');
    expect(produceDenial).toMatchObject({
      audit: 'denied',
      principal: 'User:ANONYMOUS',
      client: '127.0.0.1',
      operation: 'WRITE',
      resourceType: 'TOPIC',
    });
    expect(['Produce', 'ProduceStream']).toContain(produceDenial!['api']);
    expect(lines.some((l) => l.includes('"resourceType":"GROUP"') && l.includes('"resourceName":"other-group"'))).toBe(true);
    expect(lines.some((l) => l.includes('"operation":"ALTER"') && l.includes('"resourceType":"CLUSTER"'))).toBe(true);
  });
});
