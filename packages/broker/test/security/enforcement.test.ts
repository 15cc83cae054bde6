/**
 * Enforcement through the Kafka API layer with explicit, non-anonymous principals (the
 * connection's `principal`, as authentication will set it): Metadata lists only describable
 * topics and names an undescribable one TOPIC_AUTHORIZATION_FAILED; the ACL APIs need DESCRIBE /
 * ALTER on the cluster and, denied, reach nothing; a super user sees everything; the gRPC peer
 * address parsing that gives a gRPC call its client address.
 */
import { ApiKey, decodeResponse, encodeRequest } from '@samsa/kafka';
import {
  AclOperation as Op,
  AclPatternType as Pat,
  AclPermissionType as Perm,
  AclResourceType as Res,
  type AclBinding,
} from '@samsa/metadata';
import type { KafkaPrincipal } from '@samsa/server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { aclApis } from '../../src/kafka/aclApis.js';
import type { KafkaAnswer, KafkaConnectionInfo } from '../../src/kafka/connection.js';
import { KafkaApis } from '../../src/kafka/kafkaApis.js';
import { metadataApis } from '../../src/kafka/metadataApis.js';
import type { MetadataSource, TopicInfo } from '../../src/metadata/image.js';
import { RequestAuthorizer } from '../../src/security/authorizerService.js';
import { peerAddress } from '../../src/server/principal.js';

const logger = pino({ level: 'silent' });
const user = (name: string): KafkaPrincipal => ({ principalType: 'User', name });

const ACLS: AclBinding[] = [
  {
    resourceType: Res.TOPIC,
    resourceName: 'orders',
    patternType: Pat.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: Op.READ,
    permissionType: Perm.ALLOW,
  },
];

function topic(name: string): TopicInfo {
  return {
    name,
    topicId: '00000000-0000-0000-0000-000000000001',
    configs: {},
    isInternal: false,
    partitions: [{ partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] }],
  };
}

function setup() {
  const created: unknown[] = [];
  const topics = [topic('orders'), topic('secret')];
  const metadata = {
    clusterId: 'c',
    controllerId: 1,
    brokers: () => [{ nodeId: 1, host: '127.0.0.1', port: 9092 }],
    topics: () => topics,
    topic: (name: string) => topics.find((t) => t.name === name),
    acls: () => ACLS,
    createAcls: async (c: unknown[]) => {
      created.push(...c);
      return c.map(() => ({ errorCode: 0, errorMessage: '' }));
    },
    deleteAcls: async () => [],
  } as unknown as MetadataSource;
  const warnings: Array<Record<string, unknown>> = [];
  const authorizer = new RequestAuthorizer({
    config: { superUsers: ['User:admin'], allowEveryoneIfNoAclFound: false },
    acls: () => metadata.acls(),
    logger: { warn: ((o: Record<string, unknown>) => warnings.push(o)) as never },
    now: () => 0,
  });
  let apis: KafkaApis | undefined;
  apis = new KafkaApis({
    handlers: [
      ...metadataApis({
        brokerId: 1,
        metadata,
        logger,
        autoCreateTopicsEnable: false,
        listenerNameOf: () => undefined,
        advertised: () => apis?.advertised ?? [],
        authorizer,
      }),
      ...aclApis({ metadata, authorizer }),
    ],
    logger,
    isServing: () => true,
    startingReason: () => '',
  });
  return { apis, created, warnings };
}

async function call(apis: KafkaApis, principal: KafkaPrincipal, apiKey: number, apiVersion: number, body: object): Promise<any> {
  const conn: KafkaConnectionInfo = { clientHost: '/10.1.2.3', listenerName: 'PLAINTEXT', principal };
  const frame = encodeRequest({ apiKey, apiVersion, correlationId: 1, clientId: 'unit' }, body).subarray(4);
  const a: KafkaAnswer = await apis.handle(frame, conn);
  if (a.kind !== 'response') throw new Error(`expected a response, got ${a.kind}`);
  return decodeResponse(apiKey, apiVersion, a.bytes.subarray(4)).body;
}

describe('enforcement with explicit principals', () => {
  it('Metadata lists only the topics the principal may DESCRIBE (READ implies it), silently', async () => {
    const { apis, warnings } = setup();
    const alice = await call(apis, user('alice'), ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false });
    expect(alice.topics.map((t: { name: string }) => t.name)).toEqual(['orders']);
    const bob = await call(apis, user('bob'), ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false });
    expect(bob.topics).toEqual([]);
    const admin = await call(apis, user('admin'), ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false });
    expect(admin.topics.map((t: { name: string }) => t.name).sort()).toEqual(['orders', 'secret']);
    expect(warnings).toEqual([]);
  });

  it('a named undescribable topic, existing or not, is TOPIC_AUTHORIZATION_FAILED and audited with the client address', async () => {
    const { apis, warnings } = setup();
    const r = await call(apis, user('alice'), ApiKey.Metadata, 12, {
      topics: [{ name: 'secret' }, { name: 'missing' }, { name: 'orders' }],
      allowAutoTopicCreation: false,
    });
    expect(r.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode])).toEqual([
      ['secret', 29],
      ['missing', 29],
      ['orders', 0],
    ]);
    expect(warnings[0]).toMatchObject({ principal: 'User:alice', client: '10.1.2.3', api: 'Metadata', resourceName: 'secret' });
  });

  it('DescribeAcls needs DESCRIBE on the cluster; CreateAcls needs ALTER and, denied, forwards nothing', async () => {
    const { apis, created } = setup();
    const denied = await call(apis, user('alice'), ApiKey.DescribeAcls, 3, {
      resourceTypeFilter: Res.ANY,
      resourceNameFilter: null,
      patternTypeFilter: Pat.ANY,
      principalFilter: null,
      hostFilter: null,
      operation: Op.ANY,
      permissionType: Perm.ANY,
    });
    expect(denied.errorCode).toBe(31);
    const listed = await call(apis, user('admin'), ApiKey.DescribeAcls, 3, {
      resourceTypeFilter: Res.ANY,
      resourceNameFilter: null,
      patternTypeFilter: Pat.ANY,
      principalFilter: null,
      hostFilter: null,
      operation: Op.ANY,
      permissionType: Perm.ANY,
    });
    expect(listed.errorCode).toBe(0);
    expect(listed.resources).toMatchObject([
      {
        resourceType: Res.TOPIC,
        resourceName: 'orders',
        patternType: Pat.LITERAL,
        acls: [{ principal: 'User:alice', operation: Op.READ }],
      },
    ]);
    const creation = {
      resourceType: Res.TOPIC,
      resourceName: 'x',
      resourcePatternType: Pat.LITERAL,
      principal: 'User:alice',
      host: '*',
      operation: Op.WRITE,
      permissionType: Perm.ALLOW,
    };
    const refused = await call(apis, user('alice'), ApiKey.CreateAcls, 3, { creations: [creation] });
    expect(refused.results[0].errorCode).toBe(31);
    expect(created).toEqual([]);
    const ok = await call(apis, user('admin'), ApiKey.CreateAcls, 3, { creations: [creation] });
    expect(ok.results[0].errorCode).toBe(0);
    expect(created).toHaveLength(1);
  });

  it("reads a gRPC peer's address", () => {
    expect(peerAddress('ipv4:127.0.0.1:5555')).toBe('127.0.0.1');
    expect(peerAddress('ipv6:[::1]:5555')).toBe('::1');
    expect(peerAddress('127.0.0.1:80')).toBe('127.0.0.1');
  });
});
