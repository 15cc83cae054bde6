/**
 * Drives unmodified KafkaJS 2.2.4 (a client no one here wrote) against the FakeBroker through a
 * producer (idempotent acks=-1, then acks=1 and acks=0), an admin client and a one-member consumer
 * group, and returns what the broker recorded and what the consumer received. The golden tests
 * assert on the decoded requests; the fuzz tests mutate the recorded frames.
 */
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { FakeBroker } from './fakeBroker.js';

export const TOPIC = 'golden-topic';
export const ADMIN_TOPIC = 'golden-admin';
export const GROUP = 'golden-group';

export const PRODUCED = [
  { key: 'k1', value: 'first value', headers: { trace: 'abc' } },
  { key: 'k2', value: 'second value' },
  { key: null, value: 'third value, no key' },
];

export interface Capture {
  broker: FakeBroker;
  consumed: { key: string | null; value: string | null; headers: Record<string, string>; offset: string }[];
}

async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function captureKafkaJs(): Promise<Capture> {
  const broker = new FakeBroker();
  await broker.start();
  const kafka = new Kafka({
    clientId: 'golden-client',
    brokers: [`127.0.0.1:${broker.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
    connectionTimeout: 3000,
    requestTimeout: 5000,
  });
  const consumed: Capture['consumed'] = [];
  try {
    const admin = kafka.admin();
    await within(
      'admin',
      20_000,
      (async () => {
        await admin.connect();
        await admin.createTopics({
          topics: [
            { topic: TOPIC, numPartitions: 1 },
            { topic: ADMIN_TOPIC, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '60000' }] },
          ],
        });
        await admin.createPartitions({ topicPartitions: [{ topic: ADMIN_TOPIC, count: 4 }] });
        await admin.describeConfigs({
          resources: [{ type: 2, name: ADMIN_TOPIC, configNames: ['cleanup.policy'] }],
          includeSynonyms: false,
        });
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: 2, name: ADMIN_TOPIC, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        });
        await admin.fetchTopicOffsets(ADMIN_TOPIC);
        await admin.listGroups();
        await admin.describeGroups([GROUP]);
        await admin.createAcls({
          acl: [
            {
              resourceType: 2,
              resourceName: ADMIN_TOPIC,
              resourcePatternType: 3,
              principal: 'User:alice',
              host: '*',
              operation: 3,
              permissionType: 3,
            },
          ],
        });
        await admin.describeAcls({
          resourceType: 2,
          resourceName: ADMIN_TOPIC,
          resourcePatternType: 3,
          principal: 'User:alice',
          host: '*',
          operation: 3,
          permissionType: 3,
        });
        await admin.deleteAcls({
          filters: [
            {
              resourceType: 2,
              resourceName: ADMIN_TOPIC,
              resourcePatternType: 3,
              principal: 'User:alice',
              host: '*',
              operation: 3,
              permissionType: 3,
            },
          ],
        });
        await admin.deleteTopicRecords({ topic: ADMIN_TOPIC, partitions: [{ partition: 0, offset: '0' }] });
        await admin.deleteGroups(['old-group']);
        await admin.deleteTopics({ topics: [ADMIN_TOPIC] });
        await admin.disconnect();
      })(),
    );

    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await within(
      'idempotent producer',
      20_000,
      (async () => {
        await idempotent.connect();
        await idempotent.send({ topic: TOPIC, acks: -1, messages: PRODUCED });
        await idempotent.disconnect();
      })(),
    );

    const plain = kafka.producer();
    await within(
      'plain producer',
      20_000,
      (async () => {
        await plain.connect();
        await plain.send({ topic: TOPIC, acks: 1, compression: CompressionTypes.GZIP, messages: [{ key: 'gz', value: 'gzipped value' }] });
        await plain.send({ topic: TOPIC, acks: 0, messages: [{ key: 'fire', value: 'and forget' }] });
        await plain.disconnect();
      })(),
    );

    const consumer = kafka.consumer({ groupId: GROUP, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await within(
      'consumer',
      25_000,
      (async () => {
        await consumer.connect();
        await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
        let done!: () => void;
        const all = new Promise<void>((resolve) => (done = resolve));
        await consumer.run({
          autoCommitThreshold: 1,
          eachMessage: async ({ message }) => {
            consumed.push({
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
              offset: message.offset,
            });
            if (consumed.length >= PRODUCED.length + 2) done();
          },
        });
        await all;
        await consumer.disconnect();
      })(),
    );
  } finally {
    await broker.stop();
  }
  return { broker, consumed };
}
