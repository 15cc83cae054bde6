/**
 * The console's pure views of cluster state: the overview (brokers, fenced ones, leaders and
 * replicas per broker, partition health), the topics table and a topic's partition table with
 * server-side filtering, sorting and paging (page, pageSize or size, sort, order, search or filter),
 * records rendered for the browser, and the offset-reset plan of `samsa groups --reset-offsets`
 * (Kafka's ConsumerGroupCommand). I/O lives in api.ts.
 */
import type { ClusterDescription, TopicDescription } from '@samsa/client';
import { ErrorCode } from '@samsa/protocol';
import { badRequest } from './errors.js';

export interface BrokerView {
  id: number;
  address: string;
  /** Not in the metadata's live brokers: fenced by the controller (or not registered yet). */
  fenced: boolean;
  leaders: number;
  replicas: number;
}

export interface HealthView {
  topics: number;
  partitions: number;
  underReplicated: number;
  underMinIsr: number;
  offline: number;
}

export interface OverviewView {
  clusterId: string;
  controllerId: number;
  brokers: BrokerView[];
  health: HealthView;
}

/** min.insync.replicas when a topic does not override it (the broker default, as Kafka's). */
export const DEFAULT_MIN_INSYNC_REPLICAS = 1;

function minIsr(topic: TopicDescription): number {
  const v = Number(topic.configs['min.insync.replicas']);
  return Number.isInteger(v) && v > 0 ? v : DEFAULT_MIN_INSYNC_REPLICAS;
}

/**
 * `known` is every broker the console has seen (id → address); it is updated in place, so a broker
 * that drops out of the metadata (fenced) stays on the page.
 */
export function overview(cluster: ClusterDescription, topics: readonly TopicDescription[], known: Map<number, string>): OverviewView {
  const live = new Set(cluster.brokers.map((b) => b.nodeId));
  for (const b of cluster.brokers) known.set(b.nodeId, b.address);
  const leaders = new Map<number, number>();
  const replicas = new Map<number, number>();
  const health: HealthView = { topics: topics.length, partitions: 0, underReplicated: 0, underMinIsr: 0, offline: 0 };
  for (const t of topics) {
    for (const p of t.partitions) {
      health.partitions++;
      if (p.leader < 0) health.offline++;
      if (p.isr.length < p.replicas.length) health.underReplicated++;
      if (p.isr.length < minIsr(t)) health.underMinIsr++;
      if (p.leader >= 0) leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
      for (const r of p.replicas) {
        replicas.set(r, (replicas.get(r) ?? 0) + 1);
        if (!known.has(r)) known.set(r, '');
      }
    }
  }
  const brokers = [...known]
    .sort(([a], [b]) => a - b)
    .map(([id, address]) => ({
      id,
      address,
      fenced: !live.has(id),
      leaders: leaders.get(id) ?? 0,
      replicas: replicas.get(id) ?? 0,
    }));
  return { clusterId: cluster.clusterId, controllerId: cluster.controllerId, brokers, health };
}

export interface TopicRow {
  name: string;
  partitions: number;
  replicationFactor: number;
  underReplicated: number;
  offline: number;
  internal: boolean;
}

export const TOPIC_SORT_KEYS = ['name', 'partitions', 'replicationFactor', 'underReplicated'] as const;
export type TopicSortKey = (typeof TOPIC_SORT_KEYS)[number];

export interface PageQuery {
  page: number;
  pageSize: number;
  sort: TopicSortKey;
  order: 'asc' | 'desc';
  /** Substring of the name. */
  search: string;
}

export function topicRow(t: TopicDescription): TopicRow {
  return {
    name: t.name,
    partitions: t.partitions.length,
    replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    underReplicated: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
    offline: t.partitions.filter((p) => p.leader < 0).length,
    internal: t.isInternal,
  };
}

/**
 * A query parameter that also goes by the name (`size` for `pageSize`, `filter` for
 * `search`): either may be given; both with different values is refused rather than guessed.
 */
function param(q: URLSearchParams, name: string, alias?: string): string | null {
  const a = q.get(name);
  const b = alias === undefined ? null : q.get(alias);
  if (a !== null && b !== null && a !== b) throw badRequest(`${name} and ${alias} name the same setting: give one, got '${a}' and '${b}'`);
  return a ?? b;
}

function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number, alias?: string): number {
  const raw = param(q, name, alias);
  if (raw === null || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

function sortParam<K extends string>(q: URLSearchParams, keys: readonly K[], dflt: K): { sort: K; order: 'asc' | 'desc' } {
  const sort = q.get('sort') ?? dflt;
  if (!(keys as readonly string[]).includes(sort)) throw badRequest(`sort must be one of ${keys.join(', ')}, got '${sort}'`);
  const order = q.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw badRequest(`order must be asc or desc, got '${order}'`);
  return { sort: sort as K, order };
}

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export function parsePageQuery(q: URLSearchParams): PageQuery {
  const { sort, order } = sortParam(q, TOPIC_SORT_KEYS, 'name');
  return {
    page: intParam(q, 'page', 1, 1, 1_000_000),
    pageSize: intParam(q, 'pageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, 'size'),
    sort,
    order,
    search: param(q, 'search', 'filter') ?? '',
  };
}

export function pageTopics(rows: readonly TopicRow[], q: PageQuery): { total: number; page: number; pageSize: number; rows: TopicRow[] } {
  const matching = q.search ? rows.filter((r) => r.name.includes(q.search)) : [...rows];
  const dir = q.order === 'asc' ? 1 : -1;
  matching.sort((a, b) => {
    const x = a[q.sort];
    const y = b[q.sort];
    const c = typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number);
    return c !== 0 ? c * dir : a.name.localeCompare(b.name);
  });
  const start = (q.page - 1) * q.pageSize;
  return { total: matching.length, page: q.page, pageSize: q.pageSize, rows: matching.slice(start, start + q.pageSize) };
}

/** One row of a topic's partition table (kafka-topics --describe plus the log's two ends). */
export interface PartitionRow {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  /** int64 as a string; null when the leader did not answer (offline) or not asked yet. */
  logStartOffset: string | null;
  highWatermark: string | null;
}

/** `isr` sorts by the ISR's size; the two offsets need ListOffsets for every partition. */
export const PARTITION_SORT_KEYS = ['partition', 'leader', 'isr', 'logStartOffset', 'highWatermark'] as const;
export type PartitionSortKey = (typeof PARTITION_SORT_KEYS)[number];

export interface PartitionQuery {
  /**
   * False when no page, pageSize or size was given: every matching partition is answered (for API
   * callers that want the whole table; the web page always pages).
   */
  paged: boolean;
  page: number;
  pageSize: number;
  sort: PartitionSortKey;
  order: 'asc' | 'desc';
  /** Substring of the partition number in decimal ('7' finds 7, 17, 70, ...). */
  search: string;
  /** Only partitions whose ISR is smaller than their replica set. */
  underReplicated: boolean;
  /** Only partitions with no leader. */
  offline: boolean;
  /** Only partitions led by this broker id. */
  leader: number | undefined;
}

function flag(q: URLSearchParams, name: string): boolean {
  const raw = q.get(name);
  if (raw === null || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw badRequest(`${name} must be true or false, got '${raw}'`);
}

export function parsePartitionQuery(q: URLSearchParams): PartitionQuery {
  const { sort, order } = sortParam(q, PARTITION_SORT_KEYS, 'partition');
  const leader = q.get('leader');
  if (leader !== null && leader !== '' && !/^-?\d+$/.test(leader)) throw badRequest(`leader must be a broker id, got '${leader}'`);
  return {
    paged: q.has('page') || q.has('pageSize') || q.has('size'),
    page: intParam(q, 'page', 1, 1, 1_000_000),
    pageSize: intParam(q, 'pageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, 'size'),
    sort,
    order,
    search: param(q, 'search', 'filter') ?? '',
    underReplicated: flag(q, 'underReplicated'),
    offline: flag(q, 'offline'),
    leader: leader === null || leader === '' ? undefined : Number(leader),
  };
}

/** Whether the sort needs every partition's offsets (else only the answered page's are asked). */
export function sortsByOffsets(q: PartitionQuery): boolean {
  return q.sort === 'logStartOffset' || q.sort === 'highWatermark';
}

export interface PartitionPage<R> {
  /** Partitions that pass the filters (before paging). */
  total: number;
  /** null when the query did not page (every matching partition is in `partitions`). */
  page: number | null;
  pageSize: number | null;
  partitions: R[];
}

/**
 * Filters, sorts and pages a topic's partitions on the server, so a 10,000-partition topic sends
 * the browser one page. Ties break on the partition number; an unknown offset sorts below 0.
 */
export function pagePartitions<R extends PartitionRow>(rows: readonly R[], q: PartitionQuery): PartitionPage<R> {
  const matching = rows.filter(
    (r) =>
      (!q.underReplicated || r.isr.length < r.replicas.length) &&
      (!q.offline || r.leader < 0) &&
      (q.leader === undefined || r.leader === q.leader) &&
      (q.search === '' || String(r.partition).includes(q.search)),
  );
  const offset = (v: string | null) => (v === null ? -1n : BigInt(v));
  const key = (r: R): number | bigint => {
    switch (q.sort) {
      case 'partition':
        return r.partition;
      case 'leader':
        return r.leader;
      case 'isr':
        return r.isr.length;
      case 'logStartOffset':
        return offset(r.logStartOffset);
      case 'highWatermark':
        return offset(r.highWatermark);
    }
  };
  const dir = q.order === 'asc' ? 1 : -1;
  const keyed = matching.map((r) => [key(r), r] as const);
  keyed.sort(([x, a], [y, b]) => {
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * dir : a.partition - b.partition;
  });
  const sorted = keyed.map(([, r]) => r);
  if (!q.paged) return { total: sorted.length, page: null, pageSize: null, partitions: sorted };
  const start = (q.page - 1) * q.pageSize;
  return { total: sorted.length, page: q.page, pageSize: q.pageSize, partitions: sorted.slice(start, start + q.pageSize) };
}

/** Bytes shown three ways; the page picks string, JSON or hex. */
export interface BytesView {
  /** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
  text: string | null;
  /** The text parsed as JSON, when it is JSON. */
  json?: unknown;
  hex: string;
  size: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function bytesView(b: Buffer | null): BytesView | null {
  if (b === null) return null;
  let text: string | null = null;
  try {
    text = utf8.decode(b);
  } catch {
    text = null;
  }
  const view: BytesView = { text, hex: b.toString('hex'), size: b.length };
  if (text !== null && /^\s*[[{"0-9tfn-]/.test(text)) {
    try {
      view.json = JSON.parse(text) as unknown;
    } catch {
      // not JSON: shown as text
    }
  }
  return view;
}

export type ResetScenario =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'shift'; by: bigint }
  | { kind: 'datetime'; timestamp: bigint };

export function parseResetScenario(body: Record<string, unknown>): ResetScenario {
  const to = body['to'];
  const value = body['value'];
  const big = (signed: boolean): bigint => {
    const s = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
    if (!(signed ? /^-?\d+$/ : /^\d+$/).test(s))
      throw badRequest(`value must be ${signed ? 'an integer' : 'a non-negative integer'}, got '${String(value)}'`);
    return BigInt(s);
  };
  switch (to) {
    case 'earliest':
      return { kind: 'earliest' };
    case 'latest':
      return { kind: 'latest' };
    case 'offset':
      return { kind: 'offset', offset: big(false) };
    case 'shift':
      return { kind: 'shift', by: big(true) };
    case 'datetime': {
      const ms = typeof value === 'string' ? Date.parse(value) : NaN;
      if (Number.isNaN(ms) || ms < 0)
        throw badRequest(`value must be an ISO 8601 time such as 2024-01-01T00:00:00.000Z, got '${String(value)}'`);
      return { kind: 'datetime', timestamp: BigInt(ms) };
    }
    default:
      throw badRequest(`to must be one of earliest, latest, offset, shift, datetime, got '${String(to)}'`);
  }
}

/**
 * One partition's new committed offset, by the rules of `samsa groups --reset-offsets`: an offset
 * or shift is clamped into [log start, log end]; a time with no record at or after it goes to the
 * log end; a shift needs a committed offset to start from.
 */
export function resetTarget(
  s: ResetScenario,
  p: { topic: string; partition: number; earliest: bigint; latest: bigint; committed: bigint | undefined; byTime?: bigint },
): bigint {
  const clamp = (o: bigint) => (o < p.earliest ? p.earliest : o > p.latest ? p.latest : o);
  switch (s.kind) {
    case 'earliest':
      return p.earliest;
    case 'latest':
      return p.latest;
    case 'offset':
      return clamp(s.offset);
    case 'datetime':
      return p.byTime !== undefined && p.byTime >= 0n ? p.byTime : p.latest;
    case 'shift':
      if (p.committed === undefined || p.committed < 0n)
        throw badRequest(`${p.topic}-${p.partition} has no committed offset to shift from`, ErrorCode.INVALID_REQUEST);
      return clamp(p.committed + s.by);
  }
}
