// The log as the core sees it: durable storage followed by unstable entries.
import { describe, expect, it } from 'vitest';
import { RaftLogError } from '../src/index.js';
import { RaftLog } from '../src/log.js';
import { entriesWithTerms, storageWithLog } from './helpers/logs.js';

describe('RaftLog', () => {
  it('reads terms across the stable and unstable parts, and nothing beyond either end', () => {
    const log = new RaftLog(storageWithLog([1], [1, 1, 2]));
    log.append(entriesWithTerms([3, 3], 4));
    expect([1, 2, 3, 4, 5].map((i) => log.term(i))).toEqual([1, 1, 2, 3, 3]);
    expect(log.term(0)).toBe(0);
    expect(log.term(6)).toBeUndefined();
    expect(log.slice(2, 6)!.map((e) => e.term)).toEqual([1, 2, 3, 3]);
  });

  it('a conflicting append replaces the suffix, stable part included', () => {
    const log = new RaftLog(storageWithLog([1], [1, 1, 1, 1]));
    expect(log.maybeAppend(2, 1, 0, entriesWithTerms([2, 2], 3))).toBe(4);
    expect([1, 2, 3, 4].map((i) => log.term(i))).toEqual([1, 1, 2, 2]);
    expect(log.unstable.offset).toBe(3);
  });

  it('an append that matches what we have changes nothing (and does not truncate a longer log)', () => {
    const log = new RaftLog(storageWithLog([1], [1, 1, 1, 1]));
    expect(log.maybeAppend(1, 1, 0, entriesWithTerms([1], 2))).toBe(2);
    expect(log.lastIndex()).toBe(4);
    expect(log.unstable.entries).toEqual([]);
  });

  it('refuses to overwrite committed entries', () => {
    const log = new RaftLog(storageWithLog([1], [1, 1, 1]));
    log.commitTo(3);
    expect(() => log.maybeAppend(1, 1, 3, entriesWithTerms([2], 2))).toThrow(RaftLogError);
    expect(() => log.commitTo(9)).toThrow(/beyond last index/);
  });

  it.each([
    // [index, term] → largest index ≤ index whose term ≤ term; log terms [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    [10, 6, 10, 6],
    [10, 5, 7, 5],
    [10, 3, 3, 1],
    [5, 4, 5, 4],
    [10, 0, 0, 0],
  ])('findConflictByTerm(%i, %i) = (%i, %i)', (index, term, wantIndex, wantTerm) => {
    const log = new RaftLog(storageWithLog([1], [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]));
    expect(log.findConflictByTerm(index, term)).toEqual({ index: wantIndex, term: wantTerm });
  });

  it('hands out committed entries once, after applied moves', () => {
    const log = new RaftLog(storageWithLog([1], [1, 1, 1]));
    log.commitTo(2);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([1, 2]);
    log.appliedTo(2);
    expect(log.hasNextCommittedEntries()).toBe(false);
    log.commitTo(3);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([3]);
  });
});
