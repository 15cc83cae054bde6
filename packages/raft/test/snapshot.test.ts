// Log compaction and snapshot installation (Raft §7).
import { describe, expect, it } from 'vitest';
import { MemoryStorage, StorageError } from '../src/index.js';
import type { Snapshot } from '../src/index.js';
import { TestCluster, bytes, makeNode, messagesOf, text } from './helpers/cluster.js';
import { entriesWithTerms, storageWithLog } from './helpers/logs.js';

/** The application on node `id` snapshots what it applied and compacts its log up to there. */
function compact(c: TestCluster, id: number): number {
  const n = c.node(id);
  const index = n.raft.status().applied;
  n.storage.createSnapshot(index, bytes(JSON.stringify(c.appliedData(id))));
  n.storage.compact(index);
  return index;
}

const snapshotAt = (index: number, term: number, data = 'image'): Snapshot => ({
  metadata: { index, term, voters: [1, 2, 3] },
  data: bytes(data),
});

describe('snapshots', () => {
  it('a leader sends its snapshot to a follower that needs compacted entries; the follower installs it and catches up', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.isolate(3);
    for (const v of ['a', 'b', 'c']) c.propose(1, v);
    const index = compact(c, 1);
    expect(c.node(1).storage.firstIndex()).toBe(index + 1);
    c.heal();
    c.tickAll(2);
    const s3 = c.node(3).storage;
    expect(s3.snapshot().metadata).toMatchObject({ index, term: 1 });
    expect(JSON.parse(text(s3.snapshot().data))).toEqual(['a', 'b', 'c']);
    expect(c.raft(3).status()).toMatchObject({ commit: index, applied: index, firstIndex: index + 1 });
    c.propose(1, 'd');
    expect(c.appliedData(3)).toEqual(['d']); // applied from the log after the snapshot
    expect(
      c
        .raft(1)
        .status()
        .progress.find((p) => p.id === 3),
    ).toMatchObject({ state: 'replicate', match: index + 1 });
  });

  it('a snapshot lost in the network is sent again after an election timeout', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.isolate(3);
    c.propose(1, 'a');
    const index = compact(c, 1);
    c.heal();
    c.dropType('snapshot');
    c.tickAll(3);
    expect(
      c
        .raft(1)
        .status()
        .progress.find((p) => p.id === 3)?.state,
    ).toBe('snapshot');
    c.heal();
    c.tickAll(12);
    expect(c.node(3).storage.snapshot().metadata.index).toBe(index);
  });

  it('a follower ignores a snapshot that its commit index already covers', () => {
    const s = storageWithLog([1, 2, 3], [1, 1, 1], { commit: 3 });
    const n = makeNode(2, [1, 2, 3], s);
    n.step({ type: 'snapshot', from: 1, to: 2, term: 1, snapshot: snapshotAt(2, 1) });
    const rd = n.ready()!;
    expect(rd.snapshot).toBeUndefined();
    expect(rd.messages).toMatchObject([{ type: 'appendResponse', index: 3, reject: false }]);
  });

  it("a follower whose log holds the snapshot's last entry keeps its log and just commits up to it", () => {
    const s = storageWithLog([1, 2, 3], [1, 1, 1, 1], { commit: 1 });
    const n = makeNode(2, [1, 2, 3], s);
    n.step({ type: 'snapshot', from: 1, to: 2, term: 1, snapshot: snapshotAt(3, 1) });
    expect(n.status()).toMatchObject({ commit: 3, lastIndex: 4 });
    const rd = n.ready()!;
    expect(rd.snapshot).toBeUndefined();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('a follower with a conflicting log replaces it by the snapshot', () => {
    const s = storageWithLog([1, 2, 3], [1, 1, 1, 1], { term: 2, commit: 1 });
    const n = makeNode(2, [1, 2, 3], s);
    n.step({ type: 'snapshot', from: 1, to: 2, term: 2, snapshot: snapshotAt(5, 2) });
    expect(n.status()).toMatchObject({ commit: 5, lastIndex: 5, firstIndex: 6 });
    const msgs = messagesOf(n, s);
    expect(msgs).toMatchObject([{ type: 'appendResponse', index: 5 }]);
    expect(s.snapshot().metadata.index).toBe(5);
    expect(s.lastIndex()).toBe(5);
    expect(n.status().applied).toBe(5);
  });

  it('a node that restarts after compaction starts from its snapshot and replays the rest of its log', () => {
    const c = new TestCluster(3);
    c.elect(1);
    for (const v of ['a', 'b']) c.propose(1, v);
    const index = compact(c, 2);
    c.propose(1, 'c');
    c.restart(2);
    expect(c.raft(2).status()).toMatchObject({ firstIndex: index + 1, applied: index, commit: index + 1 });
    c.stabilize();
    expect(c.appliedData(2)).toEqual(['c']);
  });
});

describe('MemoryStorage', () => {
  it('append replaces a conflicting suffix and skips compacted entries', () => {
    const s = new MemoryStorage();
    s.append(entriesWithTerms([1, 1, 1, 1]));
    s.append(entriesWithTerms([2, 2], 3));
    expect(s.entries(1, 5).map((e) => e.term)).toEqual([1, 1, 2, 2]);
    s.createSnapshot(2, bytes('x'));
    s.compact(2);
    s.append(entriesWithTerms([1, 1, 3], 1)); // 1 and 2 are compacted; 3 replaces the suffix
    expect([s.firstIndex(), s.lastIndex()]).toEqual([3, 3]);
    expect(s.term(2)).toBe(1);
    expect(s.term(1)).toBeUndefined();
    expect(s.term(3)).toBe(3);
  });

  it('refuses gaps, compaction past the snapshot, and stale snapshots', () => {
    const s = new MemoryStorage();
    s.append(entriesWithTerms([1, 1, 1]));
    expect(() => s.append(entriesWithTerms([1], 5))).toThrow(StorageError);
    expect(() => s.compact(2)).toThrow(/snapshot/);
    s.createSnapshot(2, bytes('x'));
    expect(() => s.createSnapshot(1, bytes('x'))).toThrow(StorageError);
    expect(s.applySnapshot(snapshotAt(1, 1))).toBe(false);
    expect(() => s.entries(1, 2)).not.toThrow();
    s.compact(2);
    expect(() => s.entries(2, 3)).toThrow(/compacted/);
  });

  it('entries are cut to a byte budget but always include one entry', () => {
    const s = new MemoryStorage();
    s.append(entriesWithTerms([1, 1, 1]));
    expect(s.entries(1, 4, 1)).toHaveLength(1);
    expect(s.entries(1, 4, 1000)).toHaveLength(3);
  });
});
