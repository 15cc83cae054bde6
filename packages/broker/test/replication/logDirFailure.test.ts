/**
 * A broker whose log directory fails (log/README.md), in process against the fake controller
 * quorum: the partition's segment file is a symlink to /dev/full, where every write fails with
 * ENOSPC. The produce answers KAFKA_STORAGE_ERROR, the directory goes offline once, every replica
 * then answers KAFKA_STORAGE_ERROR to produce and fetch, and the broker's heartbeats report the
 * directory offline; the broker keeps running and closes cleanly.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { ErrorCode, encodeRecordBatch } from '@samsa/protocol';
import { startBrokerNode } from '../../src/index.js';
import { offsetFileName } from '../../src/log/index.js';
import { waitFor } from '@samsa/testkit';
import { startFakeQuorum, topicRecords } from '../helpers/fakeController.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('takes the log directory offline on ENOSPC: KAFKA_STORAGE_ERROR everywhere, heartbeats say so, the broker stays up', async () => {
  const { quorum, controller, root } = await startFakeQuorum('samsa-logdir-', cleanups);
  const scratch = mkdtempSync(join(tmpdir(), 'samsa-logdir-scratch-'));
  cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
  const dataDir = join(root, 'broker-1');
  // The replica of full-0 writes to /dev/full; good-0 is on a healthy file of the same directory.
  mkdirSync(join(dataDir, 'full-0'), { recursive: true });
  symlinkSync('/dev/full', join(dataDir, 'full-0', offsetFileName(0n, '.log')));
  const broker = await startBrokerNode({
    nodeId: 1,
    listenHost: '127.0.0.1',
    listenPort: 0,
    dataDir,
    logger: pino({ level: 'silent' }),
    controllers: [controller.address],
    heartbeatIntervalMs: 100,
  });
  cleanups.push(() => broker.close());
  quorum.append([...topicRecords('good', [{ replicas: [1], leader: 1 }]), ...topicRecords('full', [{ replicas: [1], leader: 1 }])]);
  const rm = broker.replicaManager;
  await waitFor('broker 1 to lead both', () => rm.getPartition('good', 0)?.isLeader && rm.getPartition('full', 0)?.isLeader, 5_000);
  const records = () => encodeRecordBatch([{ key: null, value: Buffer.from('v'), timestamp: 1n }]);
  const good = await rm.appendRecords(1, 5_000, [{ topic: 'good', partition: 0, records: records() }]);
  expect(good[0]!.errorCode).toBe(0);
  expect(rm.logDirOffline).toBe(false);

  const [failed] = await rm.appendRecords(1, 5_000, [{ topic: 'full', partition: 0, records: records() }]);
  expect(failed!.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  expect(rm.logDirOffline).toBe(true);
  expect(rm.logDirFailures.describe(dataDir)).toMatchObject({ errno: 'ENOSPC' });

  // The healthy file's partition is on the same (only) directory: it is offline too.
  const [again] = await rm.appendRecords(1, 5_000, [{ topic: 'good', partition: 0, records: records() }]);
  expect(again!.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  expect(again!.errorMessage).toContain('is offline');
  const [fetched] = await rm.fetchMessages({
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    partitions: [{ topic: 'good', partition: 0, fetchOffset: 0n, maxBytes: 1 << 20, currentLeaderEpoch: -1 }],
  });
  expect(fetched!.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  expect(rm.partitionCount).toBe(0);

  // Every heartbeat from now on reports the directory.
  await waitFor(
    'a heartbeat reporting the offline directory',
    () => quorum.heartbeats.some((h) => h.brokerId === 1 && h.offlineLogDirs.includes(dataDir)),
    5_000,
  );
  // Metadata changes no longer open logs on it.
  quorum.append(topicRecords('later', [{ replicas: [1], leader: 1 }]));
  await waitFor('the broker to apply the new topic', () => broker.metadata.topic('later') !== undefined, 5_000);
  expect(rm.getPartition('later', 0)).toBeUndefined();
  expect(rm.logDirFailures.offlineLogDirs).toEqual([dataDir]);
});
