import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaderEpochFileCache } from '../../src/log/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let leo: bigint;
let warnings: string[];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('samsa-epochs-'));
  leo = 100n;
  warnings = [];
});
afterEach(() => cleanup());

function load(): LeaderEpochFileCache {
  return LeaderEpochFileCache.load(
    dir,
    () => leo,
    (m) => warnings.push(m),
  );
}

describe('LeaderEpochFileCache', () => {
  it('is empty without a file and answers undefined epochs with -1', () => {
    const cache = load();
    expect(cache.latestEpoch).toBeUndefined();
    expect(cache.endOffsetFor(0)).toEqual({ leaderEpoch: -1, endOffset: -1n });
  });

  it("records new epochs, ignores repeats, and writes Kafka's text format", () => {
    const cache = load();
    cache.assign(1, 0n);
    cache.assign(1, 5n);
    cache.assign(2, 10n);
    expect(cache.entries).toEqual([
      { epoch: 1, startOffset: 0n },
      { epoch: 2, startOffset: 10n },
    ]);
    expect(readFileSync(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n1 0\n2 10\n');
    expect(load().entries).toEqual(cache.entries);
  });

  it('lets a conflicting entry replace later ones, with a warning', () => {
    const cache = load();
    cache.assign(1, 0n);
    cache.assign(3, 10n);
    cache.assign(5, 20n);
    cache.assign(4, 15n);
    expect(cache.entries.map((e) => e.epoch)).toEqual([1, 3, 4]);
    expect(warnings[0]).toMatch(/replaces later entries 5@20/);
  });

  it('answers end offsets as Kafka does', () => {
    const cache = load();
    cache.assign(2, 10n);
    cache.assign(4, 30n);
    cache.assign(7, 50n);
    expect(cache.endOffsetFor(7)).toEqual({ leaderEpoch: 7, endOffset: 100n }); // latest: the log end
    expect(cache.endOffsetFor(4)).toEqual({ leaderEpoch: 4, endOffset: 50n });
    expect(cache.endOffsetFor(5)).toEqual({ leaderEpoch: 4, endOffset: 50n }); // unknown epoch between: floor epoch, next start
    expect(cache.endOffsetFor(1)).toEqual({ leaderEpoch: 1, endOffset: 10n }); // below all: requested epoch, first start
    expect(cache.endOffsetFor(8)).toEqual({ leaderEpoch: -1, endOffset: -1n });
    expect(cache.endOffsetFor(-1)).toEqual({ leaderEpoch: -1, endOffset: -1n });
  });

  it('truncates from the end and from the start', () => {
    const cache = load();
    cache.assign(2, 10n);
    cache.assign(4, 30n);
    cache.assign(7, 50n);
    cache.truncateFromEnd(50n);
    expect(cache.entries.map((e) => e.epoch)).toEqual([2, 4]);
    cache.truncateFromStart(35n);
    expect(cache.entries).toEqual([{ epoch: 4, startOffset: 35n }]);
    cache.truncateFromStart(20n);
    expect(cache.entries).toEqual([{ epoch: 4, startOffset: 35n }]);
    expect(load().entries).toEqual([{ epoch: 4, startOffset: 35n }]);
    cache.clear();
    expect(load().entries).toEqual([]);
  });

  it('refuses a malformed file', () => {
    writeFileSync(join(dir, 'leader-epoch-checkpoint'), '0\n2\n1 0\n');
    expect(() => load()).toThrow(/malformed leader epoch checkpoint/);
    writeFileSync(join(dir, 'leader-epoch-checkpoint'), '0\n2\n3 0\n1 5\n');
    expect(() => load()).toThrow(/out of order/);
  });

  it('fsyncs on flush only when changed', async () => {
    const cache = load();
    await cache.flush();
    cache.assign(1, 0n);
    await cache.flush();
    await cache.flush();
  });
});
