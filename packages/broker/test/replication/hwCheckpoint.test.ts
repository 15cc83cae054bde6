/**
 * The high-watermark checkpoint (replication-offset-checkpoint): a follower restarted while its
 * leader is away starts from the HW it had, not from its log start; a malformed file is refused
 * with a sentence and ignored by the broker.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { encodeRecordBatch } from '@samsa/protocol';
import { startBrokerNode, type BrokerNode } from '../../src/index.js';
import {
  HW_CHECKPOINT_FILE,
  readHighWatermarkCheckpoint,
  writeHighWatermarkCheckpoint,
  writeHighWatermarkCheckpointAsync,
} from '../../src/log/index.js';
import { waitFor } from '@samsa/testkit';
import { startFakeQuorum, topicRecords } from '../helpers/fakeController.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

it('round-trips entries and refuses malformed files with the reason', () => {
  const dir = tempDir('samsa-hwcp-');
  expect(readHighWatermarkCheckpoint(dir).size).toBe(0);
  writeHighWatermarkCheckpoint(dir, [
    { topic: 'a', partition: 0, highWatermark: 12n },
    { topic: 'b.c', partition: 3, highWatermark: 2n ** 60n },
  ]);
  expect([...readHighWatermarkCheckpoint(dir)]).toEqual([
    ['a-0', 12n],
    ['b.c-3', 2n ** 60n],
  ]);
  writeFileSync(join(dir, HW_CHECKPOINT_FILE), '0\n2\na 0 12\n');
  expect(() => readHighWatermarkCheckpoint(dir)).toThrow(/says 2 entries but has 1/);
  writeFileSync(join(dir, HW_CHECKPOINT_FILE), '7\n0\n');
  expect(() => readHighWatermarkCheckpoint(dir)).toThrow(/unsupported version/);
});

it('writes the periodic checkpoint off the event loop, replacing the file whole', async () => {
  const dir = tempDir('samsa-hwcp-async-');
  writeHighWatermarkCheckpoint(dir, [{ topic: 'a', partition: 0, highWatermark: 1n }]);
  const writing = writeHighWatermarkCheckpointAsync(dir, [
    { topic: 'a', partition: 0, highWatermark: 7n },
    { topic: 'b', partition: 1, highWatermark: 3n },
  ]);
  // Until it lands, readers see the previous file, whole.
  expect([...readHighWatermarkCheckpoint(dir)]).toEqual([['a-0', 1n]]);
  await writing;
  expect([...readHighWatermarkCheckpoint(dir)]).toEqual([
    ['a-0', 7n],
    ['b-1', 3n],
  ]);
  expect(readdirSync(dir)).toEqual([HW_CHECKPOINT_FILE]); // no temporary file left behind
});

it('a follower restarted while its leader is down starts from its checkpointed HW', async () => {
  const { quorum, controller, root } = await startFakeQuorum('samsa-hwcp-broker-', cleanups);
  const start = (nodeId: number) =>
    startBrokerNode({
      nodeId,
      listenHost: '127.0.0.1',
      listenPort: 0,
      dataDir: join(root, `broker-${nodeId}`),
      logger: pino({ level: 'silent' }),
      controllers: [controller.address],
      heartbeatIntervalMs: 100,
      replicaLagTimeMaxMs: 5_000,
      highWatermarkCheckpointIntervalMs: 50,
      replicaFetch: { maxWaitMs: 100, backoffMs: 20, backoffMaxMs: 200 },
    });
  const leader: BrokerNode = await start(1);
  cleanups.push(() => leader.close());
  let follower: BrokerNode = await start(2);
  cleanups.push(() => follower.close());
  quorum.append(topicRecords('h', [{ replicas: [1, 2], leader: 1 }]));
  await waitFor('broker 1 to lead', () => leader.replicaManager.getPartition('h', 0)?.isLeader === true, 5_000);
  const records = encodeRecordBatch(Array.from({ length: 5 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: 1n })));
  const appended = await leader.replicaManager.appendRecords(-1, 5_000, [{ topic: 'h', partition: 0, records }]);
  expect(appended[0]!.errorCode).toBe(0);
  await waitFor('the follower to learn HW 5', () => follower.replicaManager.getPartition('h', 0)?.highWatermark === 5n, 5_000);
  // The periodic (asynchronous) checkpoint records it while the broker runs.
  await waitFor('the periodic checkpoint to show HW 5', () => readHighWatermarkCheckpoint(join(root, 'broker-2')).get('h-0') === 5n, 5_000);

  // The leader goes away for good; the follower restarts and cannot hear the HW from anyone.
  await leader.close();
  await follower.close();
  expect(readHighWatermarkCheckpoint(join(root, 'broker-2')).get('h-0')).toBe(5n);
  follower = await start(2);
  await waitFor('the replica to open', () => follower.replicaManager.getPartition('h', 0) !== undefined, 5_000);
  expect(follower.replicaManager.getPartition('h', 0)!.highWatermark).toBe(5n);
});
