/**
 * Following the committed metadata log (metadataFollower.ts), through QuorumMetadataSource against
 * fake controllers over real gRPC: snapshots then entries, the events for the replica manager,
 * and failing over between controllers.
 */
import { describe, expect, it } from 'vitest';
import type { MetadataChange } from '../src/metadata/image.js';
import { waitFor } from '@samsa/testkit';
import { topicRecords } from './helpers/fakeController.js';
import { quorumOf, source, tearDownQuorumsAfterEach } from './helpers/quorumSource.js';

tearDownQuorumsAfterEach();

describe('following the metadata log', () => {
  it('applies a snapshot, then entries (empty ones only advance the offset), and emits events', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.append([{ type: 'RegisterBroker', brokerId: 2, incarnationId: 'x', brokerEpoch: '1', host: 'h2', port: 2, fenced: false }]);
    quorum.append(topicRecords('before-snapshot', [{ replicas: [1] }, { replicas: [2] }]));
    quorum.append(topicRecords('deleted-later', [{ replicas: [1] }]));
    const snapshotOffset = quorum.takeSnapshot();
    quorum.append([]); // a Raft no-op
    quorum.append(topicRecords('after-snapshot', [{ replicas: [1] }]));
    const last = quorum.append([{ type: 'RemoveTopic', topicId: 'id-deleted-later' }]);

    const s = source(controllers);
    const changes: MetadataChange[] = [];
    s.subscribe((c) => changes.push(c));
    s.start();
    await s.ready();
    expect(s.appliedOffset).toBeGreaterThanOrEqual(last);
    expect(s.topics().map((t) => t.name)).toEqual(['after-snapshot', 'before-snapshot']);
    expect(s.topic('before-snapshot')!.partitions.map((p) => p.replicas)).toEqual([[1], [2]]);
    expect(s.topic('deleted-later')).toBeUndefined();
    // The snapshot's topics arrive as creations (the image was empty before it); a topic created
    // and deleted within what one batch applied produces no event at all.
    expect(
      changes
        .filter((c) => c.type === 'topicCreated')
        .map((c) => c.topic.name)
        .sort(),
    ).toEqual(['after-snapshot', 'before-snapshot']);
    expect(changes.filter((c) => c.type === 'topicDeleted')).toEqual([]);
    expect(snapshotOffset).toBeLessThan(last);
    expect(s.brokers().map((b) => b.nodeId)).toEqual([1, 2]);

    const removal = quorum.append([{ type: 'RemoveTopic', topicId: 'id-after-snapshot' }]);
    await waitFor('the removal', () => s.appliedOffset >= removal, 3_000);
    expect(changes.at(-1)).toMatchObject({
      type: 'topicDeleted',
      topic: { name: 'after-snapshot', partitions: [{ partition: 0, replicas: [1] }] },
    });
  });

  it('emits partitionsChanged with only the changed partitions', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.append(topicRecords('p', [{ replicas: [1, 2], isr: [1] }, { replicas: [1] }]));
    const s = source(controllers);
    const changes: MetadataChange[] = [];
    s.subscribe((c) => changes.push(c));
    s.start();
    await s.ready();
    changes.length = 0;
    quorum.append([{ type: 'PartitionChange', topicId: 'id-p', partition: 0, leader: 2, isr: [2] }]);
    await waitFor('a change', () => changes.length > 0, 3_000);
    expect(changes).toHaveLength(1);
    const change = changes[0]!;
    expect(change.type).toBe('partitionsChanged');
    if (change.type !== 'partitionsChanged') return;
    expect(change.partitions).toEqual([{ partition: 0, leader: 2, leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2], isr: [2] }]);
    expect(change.topic.partitions[0]!.leader).toBe(2);
  });

  it('fails over to another controller when the one it fetches from goes down', async () => {
    const { quorum, controllers } = await quorumOf(2, 1);
    const s = source(controllers);
    s.start();
    await s.ready();
    controllers[0]!.stop();
    quorum.leaderId = 2;
    const offset = quorum.append(topicRecords('after-failover', [{ replicas: [1] }]));
    await waitFor('the entry via controller 2', () => s.appliedOffset >= offset, 5_000);
    expect(s.topic('after-failover')).toBeDefined();
    await waitFor('heartbeats to controller 2', () => quorum.heartbeats.at(-1)?.controllerId === 2, 3_000);
  });
});
