/**
 * Snapshots bound the log: with a small snapshotEveryEntries the active controller compacts, a
 * controller that was down past the compaction point catches up through an InstallSnapshot, and a
 * metadata reader asking from offset 1 gets the snapshot first, then the entries after it.
 */
import { MetadataImage, decodeMetadataEntry } from '@samsa/metadata';
import type { FetchMetadataResponse__Output } from '@samsa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { TestCluster, recordingLogger, registerAndUnfence } from './helpers.js';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

/** Rebuilds an image the way a broker would: snapshot (if any), then every entry with data. */
function rebuild(res: FetchMetadataResponse__Output): MetadataImage {
  const image = res.hasSnapshot
    ? MetadataImage.fromSnapshot(decodeMetadataEntry(res.snapshot), Number(res.snapshotOffset))
    : new MetadataImage();
  for (const entry of res.entries) {
    if (entry.data.byteLength === 0) continue; // a Raft no-op
    for (const record of decodeMetadataEntry(entry.data)) image.replay(record, Number(entry.offset));
  }
  return image;
}

function fetchFrom(c: TestCluster, id: number, fromOffset: number, maxWaitMs = 0): Promise<FetchMetadataResponse__Output> {
  return c.call<FetchMetadataResponse__Output>(id, 'FetchMetadata', { fromOffset, maxWaitMs, maxEntries: 10_000, brokerId: -1 });
}

describe('metadata snapshots', () => {
  it('catch a lagging controller up past the compaction point, and start a FetchMetadata from offset 1', async () => {
    cluster = await TestCluster.create(3, { snapshotEveryEntries: 5 });
    const c = cluster;
    await c.startAll();
    const active = await c.waitForActive();
    await registerAndUnfence(c, active.nodeId, [101, 102]);
    const lagging = [...c.nodes.keys()].find((id) => id !== active.nodeId)!;
    const crashedAt = Number((await fetchFrom(c, active.nodeId, 1)).highWatermark);
    await c.stop(lagging, true);

    for (let i = 0; i < 25; i++) expect((await c.createTopic(active.nodeId, `topic-${i}`, 2, 2)).topics[0]!.errorCode).toBe(0);

    const fromLeader = await fetchFrom(c, active.nodeId, 1);
    expect(fromLeader.hasSnapshot).toBe(true);
    // The leader no longer holds the entries the lagging controller misses: only a snapshot helps.
    expect(Number(fromLeader.snapshotOffset)).toBeGreaterThan(crashedAt + 1);
    expect(JSON.stringify(rebuild(fromLeader).toSnapshot())).toBe(JSON.stringify(active.image().toSnapshot()));

    const logger = recordingLogger();
    const restarted = await c.start(lagging, logger);
    await waitFor(
      'the restarted controller to catch up through a snapshot',
      () => JSON.stringify(restarted.image().toSnapshot()) === JSON.stringify(active.image().toSnapshot()),
      5_000,
    );
    expect(logger.messages).toContain('installed a metadata snapshot from the leader');

    const fromFollower = await fetchFrom(c, lagging, 1);
    expect(fromFollower.hasSnapshot).toBe(true);
    const snapshotOffset = Number(fromFollower.snapshotOffset);
    expect(snapshotOffset).toBeGreaterThan(crashedAt + 1);
    // Offsets are contiguous after the snapshot, Raft no-ops included.
    fromFollower.entries.forEach((e, i) => expect(Number(e.offset)).toBe(snapshotOffset + 1 + i));
    const last = fromFollower.entries.at(-1);
    expect(Number(last?.offset ?? snapshotOffset)).toBe(Number(fromFollower.highWatermark));
    expect(JSON.stringify(rebuild(fromFollower).toSnapshot())).toBe(JSON.stringify(active.image().toSnapshot()));

    // Asking from inside the retained log gives no snapshot.
    const tail = await fetchFrom(c, lagging, snapshotOffset + 1);
    expect(tail.hasSnapshot).toBe(false);
    expect(tail.entries.length).toBe(fromFollower.entries.length);

    // The restarted controller is a full member again: the quorum keeps committing with another one down.
    const third = [...c.nodes.keys()].find((id) => id !== active.nodeId && id !== lagging)!;
    await c.stop(third, true);
    expect((await c.createTopic(active.nodeId, 'needs-the-restarted-one', 1, 2)).topics[0]!.errorCode).toBe(0);
  });
});
