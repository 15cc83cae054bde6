/**
 * A broker that becomes leader from outside the ISR (unclean.leader.election.enable) logs a
 * warning with its log end offset and high watermark: what other replicas hold above them is lost.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { startBrokerNode, type BrokerNode } from '../../src/index.js';
import { waitFor } from '@samsa/testkit';
import { startFakeQuorum, topicRecords } from '../helpers/fakeController.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('a broker taking leadership from outside the ISR logs an unclean-election warning with its LEO and HW', async () => {
  const { quorum, controller, root } = await startFakeQuorum('samsa-unclean-', cleanups);
  const lines: Array<Record<string, unknown>> = [];
  const brokers: BrokerNode[] = [];
  for (const nodeId of [1, 2]) {
    const logger = pino(
      { level: 'info' },
      {
        write: (s: string) => {
          if (nodeId === 2) lines.push(JSON.parse(s) as Record<string, unknown>);
        },
      },
    );
    const node = await startBrokerNode({
      nodeId,
      listenHost: '127.0.0.1',
      listenPort: 0,
      dataDir: join(root, `broker-${nodeId}`),
      logger,
      controllers: [controller.address],
      heartbeatIntervalMs: 100,
      replicaLagTimeMaxMs: 300,
      replicaFetch: { maxWaitMs: 100, backoffMs: 20, backoffMaxMs: 200 },
    });
    brokers.push(node);
    cleanups.push(() => node.close());
  }
  quorum.append(topicRecords('u', [{ replicas: [1, 2], leader: 1 }]));
  await waitFor('broker 2 to follow', () => brokers[1]!.replicaManager.fetchingFrom('u', 0) === 1, 5_000);
  // A clean move (broker 2 in the ISR) logs no warning.
  quorum.append([{ type: 'PartitionChange', topicId: 'id-u', partition: 0, leader: 2 }]);
  await waitFor('the clean move', () => brokers[1]!.replicaManager.getPartition('u', 0)!.isLeader, 5_000);
  expect(lines.filter((l) => l.level === 40 && String(l.msg).includes('unclean'))).toEqual([]);
  // Back to 1, then 1 dies (so it cannot expand the ISR again), the ISR shrinks to 1 alone,
  // and 2 is elected from outside it.
  quorum.append([{ type: 'PartitionChange', topicId: 'id-u', partition: 0, leader: 1 }]);
  await waitFor('broker 2 to follow 1 again', () => brokers[1]!.replicaManager.fetchingFrom('u', 0) === 1, 5_000);
  await brokers[0]!.close();
  quorum.append([{ type: 'PartitionChange', topicId: 'id-u', partition: 0, isr: [1] }]);
  await waitFor('the shrink', () => brokers[1]!.replicaManager.getPartition('u', 0)!.isr.length === 1, 5_000);
  quorum.append([{ type: 'PartitionChange', topicId: 'id-u', partition: 0, leader: 2, isr: [2], unclean: true }]);
  const unclean = () => lines.find((l) => l.level === 40 && String(l.msg).includes('unclean'));
  await waitFor('the warning', () => unclean() !== undefined, 5_000);
  const warning = unclean();
  expect(warning).toMatchObject({ partition: 'u-0', logEndOffset: '0', highWatermark: '0', replicas: [1, 2], previousIsr: [1] });
});
