import { describe, expect, it } from 'vitest';
import type { ClusterDescription, TopicDescription } from '@samsa/client';
import {
  bytesView,
  overview,
  pagePartitions,
  pageTopics,
  parsePageQuery,
  parsePartitionQuery,
  parseResetScenario,
  resetTarget,
  sortsByOffsets,
  topicRow,
  type PartitionRow,
} from '../src/model.js';
import { histogramQuantile, metricsBetween, parsePrometheusText } from '../src/promText.js';
import { ConsoleError } from '../src/errors.js';

const broker = (nodeId: number) => ({ nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null, address: `127.0.0.1:${9000 + nodeId}` });
const topic = (name: string, parts: Array<[number, number[], number[]]>, configs: Record<string, string> = {}): TopicDescription => ({
  name,
  topicId: '',
  isInternal: false,
  configs,
  partitions: parts.map(([leader, replicas, isr], partition) => ({
    partition,
    leader,
    leaderEpoch: 0,
    replicas,
    isr,
    offlineReplicas: [],
  })),
});

describe('overview', () => {
  it('a broker that leaves the metadata stays on the page as fenced, and partitions count as under-replicated, under min ISR and offline', () => {
    const known = new Map<number, string>();
    const all: ClusterDescription = { clusterId: 'c', controllerId: 1, brokers: [broker(4), broker(5), broker(6)] };
    const first = overview(all, [topic('t', [[4, [4, 5, 6], [4, 5, 6]]])], known);
    expect(first.brokers.map((b) => [b.id, b.fenced, b.leaders, b.replicas])).toEqual([
      [4, false, 1, 1],
      [5, false, 0, 1],
      [6, false, 0, 1],
    ]);

    const without4: ClusterDescription = { ...all, brokers: [broker(5), broker(6)] };
    const topics = [
      topic(
        't',
        [
          [5, [4, 5, 6], [5, 6]],
          [-1, [4], [4]],
        ],
        { 'min.insync.replicas': '3' },
      ),
    ];
    const later = overview(without4, topics, known);
    expect(later.brokers.find((b) => b.id === 4)).toMatchObject({ fenced: true, address: '127.0.0.1:9004', leaders: 0 });
    expect(later.health).toEqual({ topics: 1, partitions: 2, underReplicated: 1, underMinIsr: 2, offline: 1 });
  });
});

describe('topics paging', () => {
  const rows = [
    topic('b', [[1, [1], [1]]]),
    topic('a', [
      [1, [1, 2], [1]],
      [1, [1, 2], [1, 2]],
    ]),
    topic('c', []),
  ].map(topicRow);
  it('sorts on the server by the asked column and order, then pages', () => {
    expect(pageTopics(rows, parsePageQuery(new URLSearchParams('sort=partitions&order=desc'))).rows.map((r) => r.name)).toEqual([
      'a',
      'b',
      'c',
    ]);
    const p2 = pageTopics(rows, parsePageQuery(new URLSearchParams('pageSize=2&page=2')));
    expect(p2).toMatchObject({ total: 3, rows: [{ name: 'c' }] });
    expect(pageTopics(rows, parsePageQuery(new URLSearchParams('search=b'))).rows.map((r) => r.name)).toEqual(['b']);
    expect(rows.find((r) => r.name === 'a')).toMatchObject({ replicationFactor: 2, underReplicated: 1 });
  });
  it('refuses an unknown sort column or a bad page size with INVALID_REQUEST', () => {
    expect(() => parsePageQuery(new URLSearchParams('sort=size'))).toThrow(ConsoleError);
    expect(() => parsePageQuery(new URLSearchParams('pageSize=0'))).toThrow(/pageSize must be an integer from 1 to 500/);
  });
  it('takes size and filter as aliases of pageSize and search, and refuses both with different values', () => {
    expect(parsePageQuery(new URLSearchParams('size=7&filter=ab'))).toMatchObject({ pageSize: 7, search: 'ab' });
    expect(parsePageQuery(new URLSearchParams('size=7&pageSize=7'))).toMatchObject({ pageSize: 7 });
    expect(() => parsePageQuery(new URLSearchParams('size=7&pageSize=8'))).toThrow(/pageSize and size name the same setting/);
    expect(() => parsePageQuery(new URLSearchParams('search=a&filter=b'))).toThrow(/search and filter/);
    expect(() => parsePageQuery(new URLSearchParams('size=501'))).toThrow(/pageSize must be an integer from 1 to 500, got '501'/);
    expect(pageTopics(rows, parsePageQuery(new URLSearchParams('filter=a&size=1'))).rows.map((r) => r.name)).toEqual(['a']);
  });
});

describe('partition table paging', () => {
  const row = (
    partition: number,
    leader: number,
    isr: number[],
    logStartOffset: string | null,
    highWatermark: string | null,
  ): PartitionRow => ({
    partition,
    leader,
    leaderEpoch: 0,
    replicas: [1, 2, 3],
    isr,
    offlineReplicas: [],
    logStartOffset,
    highWatermark,
  });
  const rows = [
    row(0, 1, [1, 2, 3], '0', '500'),
    row(1, 2, [2, 3], '5', '90'),
    row(2, -1, [], null, null),
    row(3, 3, [3, 1, 2], '0', '1000'),
    row(10, 2, [2], '7', '90'),
  ];
  const page = (s: string) => pagePartitions(rows, parsePartitionQuery(new URLSearchParams(s)));
  const ids = (s: string) => page(s).partitions.map((p) => p.partition);

  it('without page, pageSize or size answers every matching partition, unpaged', () => {
    expect(page('')).toMatchObject({ total: 5, page: null, pageSize: null });
    expect(ids('')).toEqual([0, 1, 2, 3, 10]);
    expect(ids('underReplicated=true')).toEqual([1, 2, 10]);
  });
  it('sorts by leader, ISR size and offsets (an unknown offset lowest), ties on the partition number', () => {
    expect(ids('sort=leader')).toEqual([2, 0, 1, 10, 3]);
    expect(ids('sort=isr&order=desc')).toEqual([0, 3, 1, 10, 2]);
    expect(ids('sort=highWatermark&order=desc')).toEqual([3, 0, 1, 10, 2]);
    expect(ids('sort=logStartOffset')).toEqual([2, 0, 3, 1, 10]);
    expect(sortsByOffsets(parsePartitionQuery(new URLSearchParams('sort=highWatermark')))).toBe(true);
    expect(sortsByOffsets(parsePartitionQuery(new URLSearchParams('sort=isr')))).toBe(false);
  });
  it('pages after filtering, and counts the filtered total', () => {
    expect(page('size=2&page=2')).toMatchObject({ total: 5, page: 2, pageSize: 2 });
    expect(ids('size=2&page=2')).toEqual([2, 3]);
    expect(ids('size=2&page=4')).toEqual([]);
    expect(page('leader=2&pageSize=1')).toMatchObject({ total: 2, partitions: [{ partition: 1 }] });
    expect(page('offline=true&page=1')).toMatchObject({ total: 1, pageSize: 50, partitions: [{ partition: 2 }] });
    expect(ids('filter=1')).toEqual([1, 10]);
  });
  it('refuses an unknown sort, a bad flag or leader, and conflicting aliases', () => {
    expect(() => parsePartitionQuery(new URLSearchParams('sort=name'))).toThrow(
      /sort must be one of partition, leader, isr, logStartOffset, highWatermark/,
    );
    expect(() => parsePartitionQuery(new URLSearchParams('underReplicated=1'))).toThrow(/underReplicated must be true or false/);
    expect(() => parsePartitionQuery(new URLSearchParams('leader=one'))).toThrow(/leader must be a broker id/);
    expect(() => parsePartitionQuery(new URLSearchParams('pageSize=5&size=6'))).toThrow(ConsoleError);
  });
});

describe('record bytes', () => {
  it('shows text, JSON when it parses, and hex; binary has no text', () => {
    expect(bytesView(Buffer.from('{"a":1}'))).toEqual({ text: '{"a":1}', json: { a: 1 }, hex: '7b2261223a317d', size: 7 });
    expect(bytesView(Buffer.from('hello'))).toEqual({ text: 'hello', hex: '68656c6c6f', size: 5 });
    expect(bytesView(Buffer.from([0xff, 0xfe]))).toEqual({ text: null, hex: 'fffe', size: 2 });
    expect(bytesView(null)).toBeNull();
  });
});

describe('offset reset plan (the rules of samsa groups --reset-offsets)', () => {
  const p = { topic: 't', partition: 0, earliest: 10n, latest: 100n, committed: 50n };
  it('clamps offsets and shifts into the log, and a time past the end goes to the log end', () => {
    expect(resetTarget(parseResetScenario({ to: 'earliest' }), p)).toBe(10n);
    expect(resetTarget(parseResetScenario({ to: 'latest' }), p)).toBe(100n);
    expect(resetTarget(parseResetScenario({ to: 'offset', value: '5' }), p)).toBe(10n);
    expect(resetTarget(parseResetScenario({ to: 'offset', value: 500 }), p)).toBe(100n);
    expect(resetTarget(parseResetScenario({ to: 'shift', value: '-45' }), p)).toBe(10n);
    expect(resetTarget(parseResetScenario({ to: 'shift', value: '7' }), p)).toBe(57n);
    expect(resetTarget(parseResetScenario({ to: 'datetime', value: '2024-01-01T00:00:00Z' }), { ...p, byTime: -1n })).toBe(100n);
    expect(resetTarget(parseResetScenario({ to: 'datetime', value: '2024-01-01T00:00:00Z' }), { ...p, byTime: 42n })).toBe(42n);
  });
  it('refuses a shift with no committed offset and malformed values', () => {
    expect(() => resetTarget(parseResetScenario({ to: 'shift', value: '1' }), { ...p, committed: undefined })).toThrow(
      /no committed offset/,
    );
    expect(() => parseResetScenario({ to: 'offset', value: '-1' })).toThrow(/non-negative integer/);
    expect(() => parseResetScenario({ to: 'datetime', value: 'yesterday' })).toThrow(/ISO 8601/);
    expect(() => parseResetScenario({ to: 'sideways' })).toThrow(/to must be one of/);
  });
});

describe('Prometheus text', () => {
  const scrape = (n: number) =>
    [
      '# HELP samsa_rpc_requests_total x',
      '# TYPE samsa_rpc_requests_total counter',
      `samsa_rpc_requests_total{service="samsa.v1.Samsa",method="Produce",code="OK"} ${10 * n}`,
      `samsa_rpc_requests_total{service="samsa.v1.Samsa",method="Fetch",code="OK"} ${1 * n}`,
      `samsa_rpc_requests_total{service="samsa.v1.Samsa",method="FetchStream",code="OK"} ${3 * n}`,
      `samsa_rpc_requests_total{service="samsa.v1.Replication",method="ReplicaFetchStream",code="OK"} ${100 * n}`,
      `samsa_broker_topic_bytes_in_total{topic="a \\"q\\""} ${1000 * n}`,
      `samsa_rpc_request_duration_seconds_bucket{service="s",method="Produce",le="0.001"} ${5 * n}`,
      `samsa_rpc_request_duration_seconds_bucket{service="s",method="Produce",le="0.01"} ${10 * n}`,
      `samsa_rpc_request_duration_seconds_bucket{service="s",method="Produce",le="+Inf"} ${10 * n}`,
    ].join('\n');
  it('parses labels with escapes and computes rates (unary and pipelined calls, not replica fetches) and percentiles between scrapes', () => {
    const s = parsePrometheusText(scrape(1));
    expect(s.find((x) => x.name === 'samsa_broker_topic_bytes_in_total')?.labels).toEqual({ topic: 'a "q"' });
    const point = metricsBetween({ time: 0, samples: s }, { time: 2000, samples: parsePrometheusText(scrape(3)) });
    expect(point.produceRequestsPerSec).toBe(10);
    expect(point.fetchRequestsPerSec).toBe(4);
    expect(point.bytesInPerSec).toBe(1000);
    expect(point.produceLatency.p50).toBeCloseTo(0.001);
    expect(point.produceLatency.p99).toBeCloseTo(0.001 + (0.009 * (19.8 - 10)) / 10);
    expect(point.fetchLatency.p50).toBeNull();
  });
  it('histogramQuantile is undefined with no observations', () => {
    expect(
      histogramQuantile(
        0.5,
        new Map([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeUndefined();
  });
});
