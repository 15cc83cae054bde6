// The Raft core reads what is durable through RaftStorage; only the driver writes. MemoryStorage is
// the in-memory implementation used by tests and the simulator; @samsa/controller provides a
// LevelDB-backed one against the same read interface.
import { EMPTY_HARD_STATE, emptySnapshot } from './messages.js';
import type { Entry, HardState, NodeId, Snapshot } from './messages.js';
import { limitSize } from './size.js';

/**
 * A read-only view of the persisted hard state, log and latest snapshot.
 *
 * Contract with the driver (see DESIGN.md, "The Ready contract"):
 * - the view reflects a Ready's snapshot, entries and hard state once they are durable, and the
 *   driver makes them durable before sending any message of that Ready;
 * - committed entries are applied only after they were persisted;
 * - the log is contiguous: entries (firstIndex()..lastIndex()), preceded by the snapshot at
 *   firstIndex() - 1, whose term `term()` also answers.
 */
export interface RaftStorage {
  /** The durable hard state; EMPTY_HARD_STATE for a node that never persisted one. */
  hardState(): HardState;
  /** Entries in [lo, hi), firstIndex() ≤ lo ≤ hi ≤ lastIndex() + 1, cut to `maxSize` bytes (≥ 1 entry). */
  entries(lo: number, hi: number, maxSize?: number): Entry[];
  /** The term of the entry at `index` for firstIndex() - 1 ≤ index ≤ lastIndex(), else undefined. */
  term(index: number): number | undefined;
  /** The first index still in the log: snapshot index + 1. */
  firstIndex(): number;
  /** The last index in the log (the snapshot index when no entry follows it). */
  lastIndex(): number;
  /** The latest snapshot (index 0 when there is none). */
  snapshot(): Snapshot;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
}

/** A RaftStorage kept in memory, with the write operations a driver performs on a Ready. */
export class MemoryStorage implements RaftStorage {
  private hs: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  /** ents[0] is a placeholder for the snapshot's index and term; real entries follow. */
  private ents: Entry[];

  constructor(voters: readonly NodeId[] = []) {
    this.snap = emptySnapshot(voters);
    this.ents = [placeholder(0, 0)];
  }

  hardState(): HardState {
    return this.hs;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  term(index: number): number | undefined {
    const offset = this.ents[0]!.index;
    if (index < offset || index > this.lastIndex()) return undefined;
    return this.ents[index - offset]!.term;
  }

  entries(lo: number, hi: number, maxSize = Infinity): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new StorageError(`entries [${lo}, ${hi}) are compacted (first index ${offset + 1})`);
    if (hi > this.lastIndex() + 1) throw new StorageError(`entries [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    if (lo >= hi) return [];
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // ---- writes (the driver's side) ----

  setHardState(hs: HardState): void {
    this.hs = hs;
  }

  /**
   * Appends entries, first discarding any stored entries at or after `entries[0].index` (a new
   * leader's entries replace a conflicting suffix). Entries already compacted are skipped.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1]!.index;
    if (last < first) return;
    const from = entries[0]!.index < first ? first - entries[0]!.index : 0;
    const start = entries[from]!.index;
    const keep = start - this.ents[0]!.index;
    if (keep > this.ents.length) {
      throw new StorageError(`appending at ${start} would leave a gap after last index ${this.lastIndex()}`);
    }
    this.ents.length = keep;
    for (let i = from; i < entries.length; i++) this.ents.push(entries[i]!);
  }

  /** Replaces the whole log by `snap` (received from the leader). Returns false if it is not newer. */
  applySnapshot(snap: Snapshot): boolean {
    if (snap.metadata.index <= this.snap.metadata.index) return false;
    this.snap = snap;
    this.ents = [placeholder(snap.metadata.index, snap.metadata.term)];
    return true;
  }

  /**
   * Records the application's state machine image at `index` (≤ the applied index, so the entry is
   * stored) as the latest snapshot. The log is not truncated; call `compact` for that.
   */
  createSnapshot(index: number, data: Uint8Array, voters: readonly NodeId[] = this.snap.metadata.voters): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new StorageError(`snapshot at ${index} is not newer than ${this.snap.metadata.index}`);
    }
    const term = this.term(index);
    if (term === undefined) throw new StorageError(`cannot snapshot at ${index}: not in the log`);
    this.snap = { metadata: { index, term, voters: [...voters] }, data };
    return this.snap;
  }

  /** Discards entries up to and including `index`, which the latest snapshot must cover. */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) return;
    if (index > this.snap.metadata.index) {
      throw new StorageError(`cannot compact to ${index}: the latest snapshot only covers ${this.snap.metadata.index}`);
    }
    const term = this.term(index)!;
    this.ents = [placeholder(index, term), ...this.ents.slice(index - offset + 1)];
  }
}

function placeholder(index: number, term: number): Entry {
  return { index, term, type: 'noop', data: new Uint8Array(0) };
}
