/**
 * The page's side of server-side paging (web/src/table.ts) and its error states
 * (web/src/states.ts), checked against the console server's own query parsers and error mapping:
 * the query a table view sends for its visible page is one the server pages, and a key pressed in
 * a table moves a row, changes a page or opens, never past either end.
 */
import { describe, expect, it } from 'vitest';
import { SamsaError } from '@samsa/client';
import { ErrorCode } from '@samsa/protocol';
import { toErrorBody } from '../src/errors.js';
import { pagePartitions, pageTopics, parsePageQuery, parsePartitionQuery, type PartitionRow, type TopicRow } from '../src/model.js';
import { failureKind } from '../web/src/states.js';
import { pageCount, sortBy, tableKey, tableQuery, type TableState } from '../web/src/table.js';

const topicRows: TopicRow[] = Array.from({ length: 1_000 }, (_, i) => ({
  name: `t-${String(i).padStart(4, '0')}`,
  partitions: (i % 7) + 1,
  replicationFactor: 3,
  underReplicated: i % 5 === 0 ? 1 : 0,
  offline: 0,
  internal: false,
}));
const partitionRows: PartitionRow[] = Array.from({ length: 10_000 }, (_, p) => ({
  partition: p,
  leader: p % 13 === 0 ? -1 : (p % 3) + 1,
  leaderEpoch: 0,
  replicas: [1, 2, 3],
  isr: p % 4 === 0 ? [1, 2] : [1, 2, 3],
  offlineReplicas: [],
  logStartOffset: '0',
  highWatermark: String((p * 31) % 997),
}));

const start: TableState = { page: 1, pageSize: 50, sort: 'name', order: 'asc', search: '' };

describe('the query of the visible page', () => {
  it('names page, size, sort and order, and leaves out an empty filter box and unset filters', () => {
    expect(tableQuery(start)).toBe('page=1&pageSize=50&sort=name&order=asc');
    expect(tableQuery({ ...start, page: 3, search: 'a b', filters: { underReplicated: true, offline: false, leader: '' } })).toBe(
      'page=3&pageSize=50&sort=name&order=asc&search=a+b&underReplicated=true',
    );
  });

  it('is a query the server pages: the topic list answers exactly the 50 rows of that page', () => {
    const q = parsePageQuery(new URLSearchParams(tableQuery({ ...start, page: 2, sort: 'partitions', order: 'desc' })));
    const page = pageTopics(topicRows, q);
    expect(page).toMatchObject({ total: 1_000, page: 2, pageSize: 50 });
    const brute = [...topicRows].sort((a, b) => b.partitions - a.partitions || a.name.localeCompare(b.name)).slice(50, 100);
    expect(page.rows).toEqual(brute);
  });

  it('is a query the server pages: a 10,000-partition table answers 50 rows, filtered and sorted, never all of them', () => {
    const s: TableState = { ...start, sort: 'highWatermark', order: 'desc', page: 4, filters: { underReplicated: true, leader: '2' } };
    const q = parsePartitionQuery(new URLSearchParams(tableQuery(s)));
    expect(q.paged).toBe(true);
    const page = pagePartitions(partitionRows, q);
    const matching = partitionRows.filter((r) => r.isr.length < r.replicas.length && r.leader === 2);
    expect(page.total).toBe(matching.length);
    const brute = [...matching].sort((a, b) => Number(b.highWatermark) - Number(a.highWatermark) || a.partition - b.partition);
    expect(page.partitions).toEqual(brute.slice(150, 200));
    expect(page.partitions).toHaveLength(50);
  });

  it('the partition-count probe of the message browser (pageSize=1) answers one row', () => {
    const page = pagePartitions(partitionRows, parsePartitionQuery(new URLSearchParams('pageSize=1')));
    expect(page.total).toBe(10_000);
    expect(page.partitions.map((p) => p.partition)).toEqual([0]);
  });

  it('a page past the end answers no rows and the true total; the page count covers every row', () => {
    const page = pagePartitions(
      partitionRows,
      parsePartitionQuery(new URLSearchParams(tableQuery({ ...start, sort: 'partition', page: 201 }))),
    );
    expect(page).toMatchObject({ total: 10_000, page: 201, partitions: [] });
    expect(pageCount(10_000, 50)).toBe(200);
    expect(pageCount(10_001, 50)).toBe(201);
    expect(pageCount(0, 50)).toBe(1);
  });

  it('a header click flips the order of its column, or sorts another ascending, from page 1', () => {
    const s = { ...start, page: 7 };
    expect(sortBy(s, 'name')).toMatchObject({ sort: 'name', order: 'desc', page: 1 });
    expect(sortBy(sortBy(s, 'name'), 'name')).toMatchObject({ order: 'asc' });
    expect(sortBy({ ...s, order: 'desc' }, 'partitions')).toMatchObject({ sort: 'partitions', order: 'asc', page: 1 });
  });
});

describe('keys in a table', () => {
  const at = { index: 3, rows: 50, page: 2, pages: 200 };
  it('arrows and j/k move one row, Home/End to either end, and stop at the edges', () => {
    expect(tableKey('ArrowDown', at)).toEqual({ kind: 'row', index: 4 });
    expect(tableKey('j', at)).toEqual({ kind: 'row', index: 4 });
    expect(tableKey('ArrowUp', at)).toEqual({ kind: 'row', index: 2 });
    expect(tableKey('k', at)).toEqual({ kind: 'row', index: 2 });
    expect(tableKey('Home', at)).toEqual({ kind: 'row', index: 0 });
    expect(tableKey('End', at)).toEqual({ kind: 'row', index: 49 });
    expect(tableKey('k', { ...at, index: 0 })).toEqual({ kind: 'row', index: 0 });
    expect(tableKey('j', { ...at, index: 49 })).toEqual({ kind: 'row', index: 49 });
    expect(tableKey('j', { ...at, index: 9, rows: 10 })).toEqual({ kind: 'row', index: 9 });
  });

  it('n/p and PageDown/PageUp change page within 1..pages; Enter opens the row', () => {
    expect(tableKey('n', at)).toEqual({ kind: 'page', page: 3 });
    expect(tableKey('PageDown', at)).toEqual({ kind: 'page', page: 3 });
    expect(tableKey('p', at)).toEqual({ kind: 'page', page: 1 });
    expect(tableKey('PageUp', at)).toEqual({ kind: 'page', page: 1 });
    expect(tableKey('p', { ...at, page: 1 })).toEqual({ kind: 'none' });
    expect(tableKey('n', { ...at, page: 200 })).toEqual({ kind: 'none' });
    expect(tableKey('Enter', at)).toEqual({ kind: 'open', index: 3 });
  });

  it('leaves modified keys, other keys and an empty table to the browser', () => {
    expect(tableKey('j', at, { ctrl: true })).toEqual({ kind: 'none' });
    expect(tableKey('n', at, { meta: true })).toEqual({ kind: 'none' });
    expect(tableKey('x', at)).toEqual({ kind: 'none' });
    expect(tableKey('Tab', at)).toEqual({ kind: 'none' });
    expect(tableKey('Enter', { ...at, rows: 0 })).toEqual({ kind: 'none' });
  });
});

describe('error states', () => {
  const kindOf = (err: unknown) => {
    const { status, body } = toErrorBody(err);
    return { status, kind: failureKind({ status, code: body.error.code }) };
  };
  it('an ACL refusal from the brokers is a 403 and the no-permission state', () => {
    for (const code of [
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      ErrorCode.GROUP_AUTHORIZATION_FAILED,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    ]) {
      expect(kindOf(new SamsaError(code))).toEqual({ status: 403, kind: 'forbidden' });
    }
  });

  it('an unknown topic is not-found, a cluster that does not answer is down, a bad request is refused', () => {
    expect(kindOf(new SamsaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))).toEqual({ status: 404, kind: 'not-found' });
    expect(kindOf(new SamsaError(ErrorCode.NETWORK_EXCEPTION))).toEqual({ status: 503, kind: 'down' });
    expect(kindOf(new SamsaError(ErrorCode.INVALID_CONFIG))).toEqual({ status: 400, kind: 'refused' });
    expect(kindOf(new SamsaError(ErrorCode.UNSUPPORTED_VERSION))).toEqual({ status: 501, kind: 'refused' });
    expect(failureKind({ status: 0, code: -1 })).toBe('console-down');
  });
});
