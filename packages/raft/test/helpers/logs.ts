// Build storages holding a given log, for tests that start from a particular history.
import { MemoryStorage } from '../../src/index.js';
import type { Entry, HardState, NodeId } from '../../src/index.js';

/** Entries 1..n whose terms are `terms`, with data "t<term>i<index>". */
export function entriesWithTerms(terms: readonly number[], from = 1): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: from + i,
    type: 'normal' as const,
    data: new TextEncoder().encode(`t${term}i${from + i}`),
  }));
}

/** A storage holding a log with `terms` and a hard state (term defaults to the last entry's term). */
export function storageWithLog(voters: readonly NodeId[], terms: readonly number[], hs: Partial<HardState> = {}): MemoryStorage {
  const s = new MemoryStorage(voters);
  s.append(entriesWithTerms(terms));
  s.setHardState({ term: hs.term ?? terms[terms.length - 1] ?? 0, vote: hs.vote ?? 0, commit: hs.commit ?? 0 });
  return s;
}
