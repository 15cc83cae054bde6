// Entries and a snapshot the core holds but the driver has not yet made durable. They leave this
// buffer when `advance()` reports them persisted (`stableTo`, `stableSnapTo`).
import type { Entry, Snapshot } from './messages.js';

export class Unstable {
  /** A snapshot received from the leader, not yet persisted. */
  snapshot: Snapshot | undefined;
  /** Entries [offset, offset + entries.length), not yet persisted. */
  entries: Entry[] = [];
  /** The index of entries[0]; one past the durable log's last index unless a conflict truncated it. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first log index if a snapshot is pending (everything before it is replaced). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      const s = this.snapshot;
      return s && s.metadata.index === index ? s.metadata.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]!.term;
  }

  /** Entries up to (index, term) are durable. Ignored if that entry was since replaced. */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    if (this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  /** Appends `entries`, replacing whatever was at or after `entries[0].index`. */
  truncateAndAppend(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const after = entries[0]!.index;
    if (after === this.offset + this.entries.length) {
      for (const e of entries) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replaces everything unstable, and (once persisted) the durable suffix from `after`.
      this.offset = after;
      this.entries = [...entries];
    } else {
      this.entries = this.entries.slice(0, after - this.offset);
      for (const e of entries) this.entries.push(e);
    }
  }

  /** Entries [lo, hi), which must lie within [offset, offset + entries.length]. */
  slice(lo: number, hi: number): Entry[] {
    if (lo < this.offset || hi > this.offset + this.entries.length || lo > hi) {
      throw new RangeError(`unstable slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
