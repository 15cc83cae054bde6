// Server-paged tables: the state of one (page, sort, order, filter box), sortable column headers,
// the pager, and keyboard navigation of the rows (roving tabindex: one row is in the tab order,
// arrow keys or j/k move, Enter opens, n/p or PageDown/PageUp change page, / jumps to the filter).
// The rules are in table.ts (pure, unit-tested); this file wires them to Preact and the DOM.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type TableState, pageCount, sortBy, tableKey, tableQuery } from './table.js';

export function useTable(initial: TableState) {
  const [state, setState] = useState<TableState>(initial);
  // What the filter box shows now; the query follows it 250 ms after the last key, so typing a
  // name costs one request, not one per letter.
  const [typed, setTyped] = useState(initial.search);
  useEffect(() => {
    if (typed === state.search) return undefined;
    const t = setTimeout(() => setState((s) => ({ ...s, search: typed, page: 1 })), 250);
    return () => clearTimeout(t);
  }, [typed]);
  return {
    state,
    query: tableQuery(state),
    typed,
    setTyped,
    setPage: (page: number) => setState((s) => ({ ...s, page })),
    sort: (key: string) => setState((s) => sortBy(s, key)),
    setFilter: (name: string, value: string | boolean | undefined) =>
      setState((s) => ({ ...s, page: 1, filters: { ...s.filters, [name]: value } })),
  };
}

export type Table = ReturnType<typeof useTable>;

export function SortHeader(props: { table: Table; column: string; label: string }) {
  const { state } = props.table;
  const on = state.sort === props.column;
  return (
    <th aria-sort={on ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none'} data-sort={props.column}>
      <button type="button" class="link" onClick={() => props.table.sort(props.column)}
        aria-label={`sort by ${props.label}${on ? (state.order === 'asc' ? ', now ascending' : ', now descending') : ''}`}>
        {props.label}{on ? (state.order === 'asc' ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  );
}

/** The filter box; `/` anywhere outside a field focuses it. */
export function FilterBox(props: { table: Table; label: string; testId: string; placeholder?: string }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      e.preventDefault();
      ref.current?.focus();
    };
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  }, []);
  return (
    <label class="inline">{props.label}
      <input ref={ref} type="search" value={props.table.typed} placeholder={props.placeholder} data-testid={props.testId}
        onInput={(e) => props.table.setTyped(e.currentTarget.value)} aria-keyshortcuts="/" />
    </label>
  );
}

export function Pager(props: { table: Table; total: number; noun: string; testId: string }) {
  const { state, setPage } = props.table;
  const pages = pageCount(props.total, state.pageSize);
  const first = props.total === 0 ? 0 : (state.page - 1) * state.pageSize + 1;
  const last = Math.min(props.total, state.page * state.pageSize);
  return (
    <nav class="pager" aria-label={`pages of ${props.noun}`} data-testid={props.testId}>
      <button type="button" disabled={state.page <= 1} onClick={() => setPage(1)} aria-label="first page">«</button>
      <button type="button" disabled={state.page <= 1} onClick={() => setPage(state.page - 1)} data-testid="prev-page">Previous</button>
      <span aria-live="polite" data-testid="page-info">Page {state.page} of {pages} · {first}–{last} of {props.total} {props.noun}</span>
      <button type="button" disabled={state.page >= pages} onClick={() => setPage(state.page + 1)} data-testid="next-page">Next</button>
      <button type="button" disabled={state.page >= pages} onClick={() => setPage(pages)} aria-label="last page">»</button>
    </nav>
  );
}

/**
 * Keyboard navigation of a server-paged table body. `rowProps(i)` goes on each <tr>; `onOpen(i)`
 * is what Enter does on row i (open the topic, browse the partition).
 */
export function useRowNav(props: { table: Table; rows: number; total: number; shownPage: number | null | undefined; onOpen: (index: number) => void }) {
  const [active, setActive] = useState(0);
  const body = useRef<HTMLTableSectionElement>(null);
  // The page whose first row takes the focus once its rows are on screen (after n/p). The old
  // page stays on screen until the new one arrives, so the wait is for the answer, not the click.
  const focusPage = useRef<number | null>(null);
  const pages = pageCount(props.total, props.table.state.pageSize);
  const index = Math.min(active, Math.max(0, props.rows - 1));
  // After n/p the new page's first row takes the focus once it has arrived.
  useEffect(() => {
    if (focusPage.current === null || focusPage.current !== props.shownPage || props.rows === 0) return;
    focusPage.current = null;
    (body.current?.children[0] as HTMLElement | undefined)?.focus();
  });
  const onKeyDown = (e: KeyboardEvent) => {
    // Keys typed into a field or on a link/button inside a row are theirs.
    if ((e.target as HTMLElement).tagName !== 'TR') return;
    const move = tableKey(e.key, { index, rows: props.rows, page: props.table.state.page, pages }, { ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey });
    if (move.kind === 'none') return;
    e.preventDefault();
    if (move.kind === 'row') {
      setActive(move.index);
      (body.current?.children[move.index] as HTMLElement | undefined)?.focus();
    } else if (move.kind === 'page') {
      setActive(0);
      focusPage.current = move.page;
      props.table.setPage(move.page);
    } else props.onOpen(move.index);
  };
  return {
    bodyProps: { ref: body, onKeyDown },
    rowProps: (i: number) => ({ tabIndex: i === index ? 0 : -1, onFocus: () => setActive(i), 'aria-rowindex': (props.table.state.page - 1) * props.table.state.pageSize + i + 2 }),
  };
}

export function KeyHint(props: { children?: ComponentChildren }) {
  return (
    <p class="muted keys" id="table-keys">
      Keys: Tab to the table, <kbd>↑</kbd>/<kbd>↓</kbd> or <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> opens, <kbd>n</kbd>/<kbd>p</kbd> next/previous page, <kbd>/</kbd> filter.{props.children}
    </p>
  );
}
