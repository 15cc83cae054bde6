/**
 * The sparse offset index of one segment (`.index`), Kafka's OffsetIndex: 8-byte entries of
 *
 *   relativeOffset: int32   baseOffset of a batch minus the segment's baseOffset
 *   position: int32         byte position of that batch in the .log file
 *
 * one entry every index.interval.bytes of batches, strictly increasing in both fields. A lookup
 * gives the position of the last indexed batch at or before the target; the caller then walks
 * batch headers forward from there (at most about one interval).
 *
 * Kafka indexes the batch's last offset; we index its base offset, which lets a lookup for an
 * offset inside an indexed batch land on that batch instead of the entry before. Either reading
 * of the file gives correct lookups, since the walk that follows always checks the headers.
 */
import { IndexFile } from './indexFile.js';

const ENTRY_SIZE = 8;
const scratch = Buffer.allocUnsafe(ENTRY_SIZE);

export class OffsetIndex extends IndexFile {
  constructor(path: string, truncate = false) {
    super(path, ENTRY_SIZE, truncate);
  }

  append(relativeOffset: number, position: number): void {
    const at = this.reserveSlot();
    const buf = this.buf!;
    buf.writeInt32BE(relativeOffset, at);
    buf.writeInt32BE(position, at + 4);
  }

  /** Position of the last entry whose relative offset is <= `relativeTarget`, or 0 (segment start). */
  lookup(relativeTarget: number): number {
    const i = this.floorEntry(relativeTarget);
    return i < 0 ? 0 : this.buf!.readInt32BE(i * ENTRY_SIZE + 4);
  }

  /** Index of the last entry with relative offset <= target, or -1. */
  private floorEntry(relativeTarget: number): number {
    const buf = this.loaded();
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (buf.readInt32BE(mid * ENTRY_SIZE) <= relativeTarget) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The last entry, read from memory or the file; undefined when empty. */
  lastEntry(): { relativeOffset: number; position: number } | undefined {
    if (this.count === 0) return undefined;
    const b = this.readEntryBytes(this.count - 1, scratch);
    return { relativeOffset: b.readInt32BE(0), position: b.readInt32BE(4) };
  }

  /** Removes entries pointing at or past `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    const buf = this.loaded();
    let lo = 0;
    let hi = this.count;
    // First entry with position >= `position`; positions are strictly increasing.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (buf.readInt32BE(mid * ENTRY_SIZE + 4) < position) lo = mid + 1;
      else hi = mid;
    }
    this.truncateEntries(lo);
  }

  /** Full check after loading: increasing entries pointing inside the log. Returns a reason or undefined. */
  validate(segmentBytes: number): string | undefined {
    const buf = this.loaded();
    let prevOffset = -1;
    let prevPosition = -1;
    for (let i = 0; i < this.count; i++) {
      const rel = buf.readInt32BE(i * ENTRY_SIZE);
      const pos = buf.readInt32BE(i * ENTRY_SIZE + 4);
      if (rel <= prevOffset || pos <= prevPosition || pos >= segmentBytes) {
        return `${this.path} entry ${i} (relative offset ${rel}, position ${pos}) is out of order or past the ${segmentBytes}-byte log`;
      }
      prevOffset = rel;
      prevPosition = pos;
    }
    return undefined;
  }

  /** Sanity check without loading: whole entries and a last entry that points inside the log. */
  override sanityCheck(segmentBytes?: number): string | undefined {
    const reason = super.sanityCheck();
    if (reason || segmentBytes === undefined) return reason;
    const last = this.lastEntry();
    if (last && (last.relativeOffset < 0 || last.position < 0 || last.position >= segmentBytes)) {
      return `${this.path} last entry (relative offset ${last.relativeOffset}, position ${last.position}) does not fit the ${segmentBytes}-byte log`;
    }
    return undefined;
  }
}
