// Byte budgets for messages and Readies: a batch of entries is cut once it would exceed the budget,
// but always carries at least one entry so a single large entry still makes progress.
import type { Entry } from './messages.js';

/** The bytes an entry is charged against a size budget (its payload plus a fixed header). */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 16;
}

/** The longest prefix of `entries` within `maxSize` bytes (at least one entry). */
export function limitSize(entries: Entry[], maxSize: number): Entry[] {
  if (entries.length === 0 || maxSize === Infinity) return entries;
  let size = entrySize(entries[0]!);
  let n = 1;
  while (n < entries.length) {
    size += entrySize(entries[n]!);
    if (size > maxSize) break;
    n++;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}
