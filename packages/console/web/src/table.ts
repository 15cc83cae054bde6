/**
 * The page's side of server-side paging (issue #23: 1,000 topics, 10,000 partitions): the query a
 * table view sends for its visible page, the page count, and the keyboard moves of a table (arrow
 * keys or j/k between rows, Home/End, PageDown/n and PageUp/p between pages, Enter to open). Pure:
 * no DOM and no framework, so test/table.test.ts checks it without a browser. The live poll asks
 * for this query once a second, so a refresh reloads only the visible page.
 */

export interface TableState {
  page: number;
  pageSize: number;
  sort: string;
  order: 'asc' | 'desc';
  /** The filter box: a substring of the topic name or of the partition number. */
  search: string;
  /** Extra filters (`underReplicated=true`, `leader=4`); empty or false ones are left out. */
  filters?: Record<string, string | boolean | undefined>;
}

/** The query string of one page, as the console server's parsePageQuery/parsePartitionQuery read it. */
export function tableQuery(s: TableState): string {
  const q = new URLSearchParams({ page: String(s.page), pageSize: String(s.pageSize), sort: s.sort, order: s.order });
  if (s.search !== '') q.set('search', s.search);
  for (const [k, v] of Object.entries(s.filters ?? {})) {
    if (v === undefined || v === false || v === '') continue;
    q.set(k, String(v));
  }
  return q.toString();
}

export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, pageSize)));
}

/** Clicking a column header: the same column flips the order, another sorts ascending from page 1. */
export function sortBy<S extends TableState>(s: S, key: string): S {
  if (key === s.sort) return { ...s, order: s.order === 'asc' ? 'desc' : 'asc', page: 1 };
  return { ...s, sort: key, order: 'asc', page: 1 };
}

export type TableMove =
  | { kind: 'row'; index: number }
  | { kind: 'page'; page: number }
  | { kind: 'open'; index: number }
  | { kind: 'none' };

/**
 * What a key pressed on row `index` of a table showing `rows` rows of page `page` (of `pages`) does.
 * Moving past the first or last row stays put (the pager is for pages); modified keys (Ctrl, Alt,
 * Meta) are left to the browser.
 */
export function tableKey(
  key: string,
  at: { index: number; rows: number; page: number; pages: number },
  mods: { ctrl?: boolean; alt?: boolean; meta?: boolean } = {},
): TableMove {
  if (mods.ctrl || mods.alt || mods.meta || at.rows === 0) return { kind: 'none' };
  const clamp = (i: number) => Math.min(at.rows - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowDown':
    case 'j':
      return { kind: 'row', index: clamp(at.index + 1) };
    case 'ArrowUp':
    case 'k':
      return { kind: 'row', index: clamp(at.index - 1) };
    case 'Home':
      return { kind: 'row', index: 0 };
    case 'End':
      return { kind: 'row', index: at.rows - 1 };
    case 'PageDown':
    case 'n':
      return at.page < at.pages ? { kind: 'page', page: at.page + 1 } : { kind: 'none' };
    case 'PageUp':
    case 'p':
      return at.page > 1 ? { kind: 'page', page: at.page - 1 } : { kind: 'none' };
    case 'Enter':
      return { kind: 'open', index: clamp(at.index) };
    default:
      return { kind: 'none' };
  }
}
