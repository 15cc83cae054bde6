// The Raft log as the core sees it: the durable part (RaftStorage) followed by the unstable part
// (not yet persisted), plus the commit and applied indexes.
import type { Entry, Snapshot } from './messages.js';
import { limitSize } from './size.js';
import type { RaftStorage } from './storage.js';
import { Unstable } from './unstable.js';

export class RaftLogError extends Error {
  override readonly name = 'RaftLogError';
}

export class RaftLog {
  readonly storage: RaftStorage;
  readonly unstable: Unstable;
  /** The highest index known to be committed. */
  committed: number;
  /** The highest index the application has applied (reported through advance()). */
  applied: number;

  constructor(storage: RaftStorage) {
    this.storage = storage;
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The term at `index`, or undefined when it is compacted (below firstIndex - 1) or beyond the end. */
  term(index: number): number | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    if (t === undefined) throw new RaftLogError(`no term for last index ${this.lastIndex()}`);
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** A candidate whose last entry is (lastIndex, lastTerm) is at least as up to date as us (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ours = this.lastTerm();
    return lastTerm > ours || (lastTerm === ours && lastIndex >= this.lastIndex());
  }

  /** The index of the first entry that is new or conflicts with ours; 0 if we have them all. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term`, with that term: the last place our log can
   * possibly match a log whose entry at `index` has `term`. An unknown (compacted) term answers
   * `{ index, term: 0 }`: a possible match.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const ours = this.term(index);
      if (ours === undefined) return { index, term: 0 };
      if (ours <= term) return { index, term: ours };
    }
    return { index: 0, term: 0 };
  }

  /**
   * The follower side of AppendEntries: if our log has (prevIndex, prevTerm), append the new or
   * conflicting suffix of `entries`, advance the commit index, and return the last new index.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new RaftLogError(`entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(entries.slice(conflict - (prevIndex + 1)));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    if (after < this.committed) {
      throw new RaftLogError(`cannot overwrite committed entries: appending after ${after}, committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** Entries [lo, hi) within `maxSize` bytes; undefined if `lo` is compacted. */
  slice(lo: number, hi: number, maxSize = Infinity): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    if (hi > this.lastIndex() + 1) throw new RaftLogError(`slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    if (lo >= hi) return [];
    const offset = this.unstable.offset;
    let out: Entry[] = [];
    if (lo < offset) {
      const stableHi = Math.min(hi, offset);
      out = this.storage.entries(lo, stableHi, maxSize);
      if (out.length < stableHi - lo) return out; // cut by size
    }
    if (hi > offset) {
      const fresh = this.unstable.slice(Math.max(lo, offset), hi);
      out = out.length === 0 ? fresh : out.concat(fresh);
    }
    return limitSize(out, maxSize);
  }

  /** Entries from `index` to the end within `maxSize` bytes; undefined if `index` is compacted. */
  entriesFrom(index: number, maxSize = Infinity): Entry[] | undefined {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxSize);
  }

  /** Committed entries not yet applied (none while a snapshot is pending). */
  nextCommittedEntries(maxSize = Infinity): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    return this.slice(lo, this.committed + 1, maxSize) ?? [];
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new RaftLogError(`commit ${index} is beyond last index ${this.lastIndex()}: was the log lost or truncated?`);
    }
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    if (index > this.committed || index < this.applied) {
      throw new RaftLogError(`applied ${index} outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = index;
  }

  /** Commit `index` if it carries `term` (a leader counts replicas only for its own term, §5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Replace the log by a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }
}
