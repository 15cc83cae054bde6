/**
 * An acks=all produce completed before the HW passed it — the broker shutting down answers every
 * waiting request (purgatory.completeAll) — answers an error, never success: an acks=all success
 * promises the ISR holds the batch. (A rolling restart acknowledged such writes, and the chaos
 * harness found them lost.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { ErrorCode, encodeRecordBatch } from '@samsa/protocol';
import { startBrokerNode } from '../../src/index.js';
import { FakeController, FakeQuorum, topicRecords, waitFor } from '../helpers/fakeController.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('answers a waiting acks=all produce with an error when forced to complete below the HW', async () => {
  const quorum = new FakeQuorum();
  quorum.leaderId = 1;
  const controller = await FakeController.start(1, quorum);
  const root = mkdtempSync(join(tmpdir(), 'samsa-delayed-produce-'));
  cleanups.push(() => { controller.stop(); quorum.close(); rmSync(root, { recursive: true, force: true }); });
  const broker = await startBrokerNode({
    nodeId: 1, listenHost: '127.0.0.1', listenPort: 0, dataDir: join(root, 'broker-1'), logger: pino({ level: 'silent' }),
    controllers: [controller.address], heartbeatIntervalMs: 100, replicaLagTimeMaxMs: 60_000,
  });
  cleanups.push(() => broker.close());
  // Broker 2 is in the ISR but never fetches: the HW cannot pass anything appended.
  quorum.append(topicRecords('d', [{ replicas: [1, 2], leader: 1 }]));
  await waitFor(() => broker.replicaManager.getPartition('d', 0)?.isLeader === true, 5_000, 'broker 1 to lead');
  const records = encodeRecordBatch([{ key: null, value: Buffer.from('v'), timestamp: 1n }]);
  const pending = broker.replicaManager.appendRecords(-1, 30_000, [{ topic: 'd', partition: 0, records }]);
  await new Promise((r) => setTimeout(r, 50));
  expect(broker.replicaManager.getPartition('d', 0)!.highWatermark).toBe(0n);
  broker.replicaManager.completeDelayedOperations();
  const [result] = await pending;
  expect(result!.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
  expect(result!.errorMessage).toMatch(/high watermark 0 < 1/);
});
