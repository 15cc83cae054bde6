/**
 * DescribeUserScramCredentials (50) and AlterUserScramCredentials (51) on the Kafka protocol
 * (KIP-554), through encoded frames and the API layer: Kafka's mechanism codes map to the
 * metadata log's names, only mechanism and iterations are described, ALTER/DESCRIBE on the cluster
 * are required and a denial forwards nothing, an unknown mechanism fails its user alone.
 */
import { ApiKey, decodeResponse, encodeRequest } from '@samsa/kafka';
import { ErrorCode } from '@samsa/protocol';
import type { KafkaPrincipal } from '@samsa/server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KafkaAnswer, KafkaConnectionInfo } from '../../src/kafka/connection.js';
import { KafkaApis } from '../../src/kafka/kafkaApis.js';
import { scramApis } from '../../src/kafka/scramApis.js';
import type { MetadataSource } from '../../src/metadata/image.js';
import type { ScramAlterations } from '../../src/metadata/controllerForwarder.js';
import { RequestAuthorizer } from '../../src/security/authorizerService.js';

const logger = pino({ level: 'silent' });
const user = (name: string): KafkaPrincipal => ({ principalType: 'User', name });

function setup() {
  const forwarded: ScramAlterations[] = [];
  const metadata = {
    acls: () => [],
    scramUsers: () => [
      {
        name: 'alice',
        credentials: [
          { mechanism: 'SCRAM-SHA-256', iterations: 8192, salt: 'c2FsdA==', storedKey: 'a2V5', serverKey: 'a2V5' },
          { mechanism: 'SCRAM-SHA-512', iterations: 4096, salt: 'c2FsdA==', storedKey: 'a2V5', serverKey: 'a2V5' },
        ],
      },
    ],
    alterUserScramCredentials: async (request: ScramAlterations) => {
      forwarded.push(request);
      const names = [...new Set([...request.deletions, ...request.upsertions].map((x) => x.name))];
      return names.map((u) => ({ user: u, errorCode: 0, errorMessage: '' }));
    },
  } as unknown as MetadataSource;
  const authorizer = new RequestAuthorizer({
    config: { superUsers: ['User:admin'], allowEveryoneIfNoAclFound: false },
    acls: () => [],
    logger: { warn: () => undefined },
    now: () => 0,
  });
  const apis = new KafkaApis({
    handlers: scramApis({ metadata, authorizer }),
    logger,
    isServing: () => true,
    startingReason: () => '',
  });
  return { apis, forwarded };
}

async function call(apis: KafkaApis, principal: KafkaPrincipal, apiKey: number, body: object): Promise<any> {
  const conn: KafkaConnectionInfo = { clientHost: '/127.0.0.1', listenerName: 'PLAINTEXT', principal };
  const frame = encodeRequest({ apiKey, apiVersion: 0, correlationId: 7, clientId: 'unit' }, body).subarray(4);
  const a: KafkaAnswer = await apis.handle(frame, conn);
  if (a.kind !== 'response') throw new Error(`expected a response, got ${a.kind}`);
  return decodeResponse(apiKey, 0, a.bytes.subarray(4)).body;
}

describe('SCRAM credential APIs on the Kafka protocol (KIP-554)', () => {
  it('Describe: null users lists everyone with mechanism codes and iterations; a named unknown user is RESOURCE_NOT_FOUND', async () => {
    const { apis } = setup();
    const all = await call(apis, user('admin'), ApiKey.DescribeUserScramCredentials, { users: null });
    expect(all.errorCode).toBe(0);
    expect(all.results).toEqual([
      {
        user: 'alice',
        errorCode: 0,
        errorMessage: null,
        credentialInfos: [
          { mechanism: 1, iterations: 8192 },
          { mechanism: 2, iterations: 4096 },
        ],
      },
    ]);
    const named = await call(apis, user('admin'), ApiKey.DescribeUserScramCredentials, { users: [{ name: 'bob' }] });
    expect(named.results.map((r: { user: string; errorCode: number }) => [r.user, r.errorCode])).toEqual([
      ['bob', ErrorCode.RESOURCE_NOT_FOUND],
    ]);
  });

  it('Describe without DESCRIBE on the cluster: CLUSTER_AUTHORIZATION_FAILED and no users', async () => {
    const { apis } = setup();
    const r = await call(apis, user('eve'), ApiKey.DescribeUserScramCredentials, { users: null });
    expect(r.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(r.results).toEqual([]);
  });

  it('Alter: codes become mechanism names, SaltedPassword and salt are forwarded as bytes', async () => {
    const { apis, forwarded } = setup();
    const r = await call(apis, user('admin'), ApiKey.AlterUserScramCredentials, {
      deletions: [{ name: 'carol', mechanism: 2 }],
      upsertions: [{ name: 'bob', mechanism: 1, iterations: 8192, salt: Buffer.from('s'), saltedPassword: Buffer.from('sp') }],
    });
    expect(r.results.map((x: { user: string; errorCode: number }) => [x.user, x.errorCode]).sort()).toEqual([
      ['bob', 0],
      ['carol', 0],
    ]);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]!.deletions).toEqual([{ name: 'carol', mechanism: 'SCRAM-SHA-512' }]);
    expect(forwarded[0]!.upsertions[0]).toMatchObject({ name: 'bob', mechanism: 'SCRAM-SHA-256', iterations: 8192 });
    expect(forwarded[0]!.upsertions[0]!.saltedPassword.toString()).toBe('sp');
  });

  it('Alter: an unknown mechanism fails that user only; a denied principal forwards nothing', async () => {
    const { apis, forwarded } = setup();
    const r = await call(apis, user('admin'), ApiKey.AlterUserScramCredentials, {
      deletions: [{ name: 'dave', mechanism: 9 }],
      upsertions: [{ name: 'bob', mechanism: 1, iterations: 8192, salt: Buffer.from('s'), saltedPassword: Buffer.from('sp') }],
    });
    expect(r.results.map((x: { user: string; errorCode: number }) => [x.user, x.errorCode])).toEqual([
      ['dave', ErrorCode.UNSUPPORTED_SASL_MECHANISM],
      ['bob', 0],
    ]);
    expect(forwarded[0]!.deletions).toEqual([]);
    const denied = await call(apis, user('eve'), ApiKey.AlterUserScramCredentials, {
      deletions: [],
      upsertions: [{ name: 'eve', mechanism: 1, iterations: 8192, salt: Buffer.from('s'), saltedPassword: Buffer.from('sp') }],
    });
    expect(denied.results).toEqual([{ user: 'eve', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: expect.any(String) }]);
    expect(forwarded).toHaveLength(1);
  });
});
