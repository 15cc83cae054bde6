/**
 * QuorumMetadataSource against in-process fake controllers over real gRPC, for the tests of its
 * three parts (brokerLifecycle, metadataFollower and controllerForwarder .test.ts): a quorum of
 * fake controllers and a source with short intervals, both torn down after each test.
 */
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { QuorumMetadataSource, type QuorumMetadataOptions } from '../../src/metadata/quorumMetadata.js';
import { realTimers } from '@samsa/server';
import { FakeController, FakeQuorum } from './fakeController.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];

/** Registers the teardown hook; call once at the top of a test file. */
export function tearDownQuorumsAfterEach(): void {
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
}

export async function quorumOf(n: number, leaderId = 1): Promise<{ quorum: FakeQuorum; controllers: FakeController[] }> {
  const quorum = new FakeQuorum();
  quorum.leaderId = leaderId;
  const controllers: FakeController[] = [];
  for (let id = 1; id <= n; id++) controllers.push(await FakeController.start(id, quorum));
  cleanups.push(() => {
    for (const c of controllers) c.stop();
    quorum.close();
  });
  return { quorum, controllers };
}

export function source(controllers: FakeController[], overrides: Partial<QuorumMetadataOptions> = {}): QuorumMetadataSource {
  const s = new QuorumMetadataSource({
    brokerId: 1,
    host: '127.0.0.1',
    port: 19092,
    controllers: controllers.map((c) => c.address),
    logger,
    timers: realTimers,
    heartbeatIntervalMs: 100,
    fetchMaxWaitMs: 300,
    requestTimeoutMs: 1_000,
    retryBackoffMs: 20,
    retryBackoffMaxMs: 100,
    controlledShutdownTimeoutMs: 500,
    ...overrides,
  });
  cleanups.push(() => s.close());
  return s;
}
