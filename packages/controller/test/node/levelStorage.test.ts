/**
 * LevelRaftStorage keeps the RaftStorage contract across restarts: what a Ready persisted (entries,
 * the truncation of a conflicting suffix, hard state, a received snapshot) and what compaction
 * removed is exactly what a reopened store shows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@samsa/raft';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelRaftStorage } from '../../src/raft/levelStorage.js';

const VOTERS = [1, 2, 3];
let dir: string;
let store: LevelRaftStorage | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-raft-store-'));
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function reopen(): Promise<LevelRaftStorage> {
  await store?.close();
  store = await LevelRaftStorage.open(dir, VOTERS);
  return store;
}

function entries(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    index: from + i,
    term,
    type: from + i === 1 ? 'noop' : 'normal',
    data: from + i === 1 ? new Uint8Array(0) : new Uint8Array([from + i, term]),
  }));
}

function log(s: LevelRaftStorage): Entry[] {
  return s.entries(s.firstIndex(), s.lastIndex() + 1).map((e) => ({ ...e, data: new Uint8Array(e.data) }));
}

describe('LevelRaftStorage', () => {
  it('starts empty', async () => {
    const s = await reopen();
    expect(s.hardState()).toEqual({ term: 0, vote: 0, commit: 0 });
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.snapshot().metadata.index).toBe(0);
  });

  it('recovers entries and hard state after a reopen', async () => {
    const s = await reopen();
    await s.persist({ entries: entries(1, 5, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    const again = await reopen();
    expect(again.hardState()).toEqual({ term: 1, vote: 1, commit: 3 });
    expect(log(again)).toEqual(entries(1, 5, 1));
    expect(again.term(0)).toBe(0);
    expect(again.term(5)).toBe(1);
  });

  it('replaces a conflicting suffix, deleting stored entries beyond the new last index', async () => {
    const s = await reopen();
    await s.persist({ entries: entries(1, 6, 1) });
    await s.persist({ entries: entries(3, 4, 2), hardState: { term: 2, vote: 2, commit: 2 } });
    const expected = [...entries(1, 2, 1), ...entries(3, 4, 2)];
    expect(log(s)).toEqual(expected);
    const again = await reopen();
    expect(again.lastIndex()).toBe(4);
    expect(log(again)).toEqual(expected);
  });

  it('compacts the log behind a local snapshot, durably', async () => {
    const s = await reopen();
    await s.persist({ entries: entries(1, 8, 1), hardState: { term: 1, vote: 1, commit: 8 } });
    await s.createSnapshot(5, new Uint8Array([42]), VOTERS);
    expect(s.firstIndex()).toBe(6);
    const again = await reopen();
    expect(again.snapshot().metadata).toEqual({ index: 5, term: 1, voters: VOTERS });
    expect([...again.snapshot().data]).toEqual([42]);
    expect(again.firstIndex()).toBe(6);
    expect(again.term(5)).toBe(1);
    expect(log(again)).toEqual(entries(6, 8, 1));
    expect(() => again.entries(5, 6)).toThrow(/compacted/);
  });

  it('replaces the whole log by a snapshot received from the leader, with the entries after it', async () => {
    const s = await reopen();
    await s.persist({ entries: entries(1, 4, 1) });
    await s.persist({
      snapshot: { metadata: { index: 20, term: 3, voters: VOTERS }, data: new Uint8Array([7]) },
      entries: entries(21, 22, 3),
      hardState: { term: 3, vote: 0, commit: 20 },
    });
    const again = await reopen();
    expect(again.snapshot().metadata.index).toBe(20);
    expect(again.firstIndex()).toBe(21);
    expect(log(again)).toEqual(entries(21, 22, 3));
    expect(again.hardState().commit).toBe(20);
  });

  it('keys entries big-endian so indexes across byte boundaries load in order', async () => {
    for (const base of [250, 65_530]) {
      const s = await reopen();
      await s.persist({ snapshot: { metadata: { index: base, term: 1, voters: VOTERS }, data: new Uint8Array(0) }, entries: [] });
      await s.persist({ entries: entries(base + 1, base + 12, 1) });
      const again = await reopen();
      expect(log(again).map((e) => e.index)).toEqual(Array.from({ length: 12 }, (_, i) => base + 1 + i));
    }
  });
});
