/**
 * The sparse time index of one segment (`.timeindex`), Kafka's TimeIndex: 12-byte entries of
 *
 *   timestamp: int64        the largest batch maxTimestamp seen so far in the segment
 *   relativeOffset: int32   baseOffset of the first batch that carried that timestamp
 *
 * As in Kafka, an entry is considered at the same points as offset index entries (every
 * index.interval.bytes) and when the segment stops being active, and is added only when the
 * timestamp is larger than the last entry's. So timestamps strictly increase, and every batch
 * before an entry's offset has a maxTimestamp below the entry's timestamp: a search for the first
 * batch with maxTimestamp >= T may start at the last entry with timestamp <= T. The last entry
 * of an inactive segment is the segment's largest timestamp (retention and ListOffsets use it).
 */
import { IndexFile } from './indexFile.js';

const ENTRY_SIZE = 12;
const scratch = Buffer.allocUnsafe(ENTRY_SIZE);

export class TimeIndex extends IndexFile {
  constructor(path: string, truncate = false) {
    super(path, ENTRY_SIZE, truncate);
  }

  /** Adds (timestamp, relativeOffset) when the timestamp is larger than the last entry's. */
  maybeAppend(timestamp: bigint, relativeOffset: number): void {
    if (this.count > 0) {
      const last = this.lastEntry()!;
      if (timestamp <= last.timestamp) return;
    }
    const at = this.reserveSlot();
    const buf = this.buf!;
    buf.writeBigInt64BE(timestamp, at);
    buf.writeInt32BE(relativeOffset, at + 8);
  }

  /** Relative offset of the last entry with timestamp <= `timestamp`, or -1 when there is none. */
  lookup(timestamp: bigint): number {
    const buf = this.loaded();
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (buf.readBigInt64BE(mid * ENTRY_SIZE) <= timestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? -1 : buf.readInt32BE(found * ENTRY_SIZE + 8);
  }

  lastEntry(): { timestamp: bigint; relativeOffset: number } | undefined {
    if (this.count === 0) return undefined;
    const b = this.readEntryBytes(this.count - 1, scratch);
    return { timestamp: b.readBigInt64BE(0), relativeOffset: b.readInt32BE(8) };
  }

  /** Removes entries whose offset is >= `relativeOffset` (the log was truncated there). */
  truncateToRelativeOffset(relativeOffset: number): void {
    const buf = this.loaded();
    let n = this.count;
    while (n > 0 && buf.readInt32BE((n - 1) * ENTRY_SIZE + 8) >= relativeOffset) n--;
    this.truncateEntries(n);
  }

  /** Full check after loading: strictly increasing timestamps, non-decreasing offsets. */
  validate(): string | undefined {
    const buf = this.loaded();
    let prevTs: bigint | undefined;
    let prevOffset = 0;
    for (let i = 0; i < this.count; i++) {
      const ts = buf.readBigInt64BE(i * ENTRY_SIZE);
      const rel = buf.readInt32BE(i * ENTRY_SIZE + 8);
      if ((prevTs !== undefined && ts <= prevTs) || rel < prevOffset) {
        return `${this.path} entry ${i} (timestamp ${ts}, relative offset ${rel}) is out of order`;
      }
      prevTs = ts;
      prevOffset = rel;
    }
    return undefined;
  }

  override sanityCheck(): string | undefined {
    const reason = super.sanityCheck();
    if (reason) return reason;
    const last = this.lastEntry();
    if (last && last.relativeOffset < 0) return `${this.path} last entry has a negative relative offset ${last.relativeOffset}`;
    return undefined;
  }
}
