/**
 * Issue #23's scale case without a cluster: ConsoleApi over a fake metadata source (the Admin's
 * describeTopics and listOffsets) with 1,000 topics, one of them with 10,000 partitions. The topic
 * list and the partition table answer one page, sorted and filtered on the server, and the
 * partitions' offsets are asked only for the page.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { OffsetQuery, PartitionDescription, TopicDescription } from '@samsa/client';
import { ErrorCode } from '@samsa/protocol';
import { ConsoleApi, type MetadataSource } from '../src/api.js';
import { ConsoleError } from '../src/errors.js';
import { startConsoleServer } from '../src/server.js';

const WIDE = 10_000;

/** Partition p of 'wide': every 10th under-replicated, every 97th offline (no leader, empty ISR). */
function widePartition(p: number): PartitionDescription {
  const replicas = [1, 2, 3].map((b) => ((b + p) % 3) + 1);
  if (p % 97 === 0) return { partition: p, leader: -1, leaderEpoch: 4, replicas, isr: [], offlineReplicas: replicas };
  return {
    partition: p,
    leader: replicas[0]!,
    leaderEpoch: 4,
    replicas,
    isr: p % 10 === 0 ? replicas.slice(0, 2) : replicas,
    offlineReplicas: [],
  };
}
const logStart = (p: number) => BigInt(p % 7);
const highWatermark = (p: number) => BigInt((p * 7919) % 100_003);

function fakeMetadata() {
  const topics: TopicDescription[] = [
    { name: 'wide', topicId: 'w', isInternal: false, configs: {}, partitions: Array.from({ length: WIDE }, (_, p) => widePartition(p)) },
  ];
  for (let i = 0; i < 999; i++) {
    const partitions = Array.from({ length: (i % 10) + 1 }, (_, p) => ({
      partition: p,
      leader: 1,
      leaderEpoch: 0,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    }));
    topics.push({ name: `t-${String(i).padStart(3, '0')}`, topicId: String(i), isInternal: false, configs: {}, partitions });
  }
  const asked = { describeTopics: 0, listOffsets: [] as number[][] };
  const source: MetadataSource = {
    describeTopics: (names?: readonly string[]) => {
      asked.describeTopics++;
      return Promise.resolve(names ? topics.filter((t) => names.includes(t.name)) : topics);
    },
    listOffsets: (_topic: string, partitions: readonly OffsetQuery[]) => {
      asked.listOffsets.push(partitions.map((p) => p.partition));
      return Promise.resolve(
        partitions.map((q) => ({
          partition: q.partition,
          offset: q.timestamp === 'earliest' ? logStart(q.partition) : highWatermark(q.partition),
          timestamp: -1n,
          leaderEpoch: 4,
        })),
      );
    },
  };
  return { topics, asked, source };
}

const fake = fakeMetadata();
// Nothing listens on port 1; the topic views ask only the fake.
const api = new ConsoleApi({ bootstrap: ['127.0.0.1:1'], metadata: fake.source, cacheMs: 0 });
afterAll(() => api.close());

const q = (s: string) => new URLSearchParams(s);

describe('the console at 1,000 topics and a 10,000-partition topic (fake metadata)', () => {
  it('the fake holds 1,000 topics and 15,490 partitions', () => {
    expect(fake.topics).toHaveLength(1_000);
    expect(fake.topics.reduce((n, t) => n + t.partitions.length, 0)).toBe(10_000 + 5_490); // 99 × (1 + ... + 10) + (1 + ... + 9)
  });

  it('the topic list answers one page of 1,000 topics, sorted by partitions, with size and filter as aliases', async () => {
    const first = await api.topics(q('sort=partitions&order=desc'));
    expect(first).toMatchObject({ total: 1_000, page: 1, pageSize: 50 });
    expect(first.rows).toHaveLength(50);
    expect(first.rows[0]).toMatchObject({ name: 'wide', partitions: WIDE, underReplicated: 104 + 989 });

    const page = await api.topics(q('size=25&page=3&sort=partitions&order=desc&filter=t-'));
    expect(page).toMatchObject({ total: 999, page: 3, pageSize: 25 });
    expect(page.rows).toHaveLength(25);
    expect(page.rows.every((r) => r.name.startsWith('t-'))).toBe(true);
    // descending by partitions, ties by name ascending; 99 topics have 10 partitions (i % 10 ===
    // 9), so rows 51-75 are the 51st to 75th of those by name.
    for (let i = 1; i < page.rows.length; i++) {
      const [a, b] = [page.rows[i - 1]!, page.rows[i]!];
      expect(a.partitions > b.partitions || (a.partitions === b.partitions && a.name < b.name)).toBe(true);
    }
    expect(page.rows.map((r) => r.name)[0]).toBe('t-509');
    expect(page.rows.every((r) => r.partitions === 10)).toBe(true);
  });

  it('a page of the 10,000-partition table holds 10 partitions, none of the other 9,990, and asks offsets for those 10 only', async () => {
    fake.asked.listOffsets = [];
    const res = await api.topic('wide', q('page=7&size=10'));
    expect(res).toMatchObject({ name: 'wide', partitionCount: WIDE, total: WIDE, page: 7, pageSize: 10 });
    expect(res.partitions.map((p) => p.partition)).toEqual([60, 61, 62, 63, 64, 65, 66, 67, 68, 69]);
    expect(res.partitions[3]).toEqual({
      ...widePartition(63),
      logStartOffset: logStart(63).toString(),
      highWatermark: highWatermark(63).toString(),
    });
    // The JSON the browser gets names 10 partitions, not 10,000.
    expect(JSON.stringify(res).match(/"partition":/g)).toHaveLength(10);
    expect(fake.asked.listOffsets).toEqual([res.partitions.map((p) => p.partition), res.partitions.map((p) => p.partition)]);
  });

  it('sorts the 10,000 partitions by high watermark on the server (asking every offset for that sort)', async () => {
    fake.asked.listOffsets = [];
    const res = await api.topic('wide', q('pageSize=10&page=2&sort=highWatermark&order=desc'));
    const expected = Array.from({ length: WIDE }, (_, p) => p)
      .sort((a, b) => Number(highWatermark(b) - highWatermark(a)) || a - b)
      .slice(10, 20);
    expect(res.partitions.map((p) => p.partition)).toEqual(expected);
    expect(res.total).toBe(WIDE);
    expect(fake.asked.listOffsets.map((a) => a.length)).toEqual([WIDE, WIDE]);
  });

  it('filters under-replicated, offline and by leader, and pages the filtered list', async () => {
    const all = Array.from({ length: WIDE }, (_, p) => widePartition(p));
    const under = await api.topic('wide', q('underReplicated=true&size=50&sort=isr'));
    expect(under.total).toBe(all.filter((p) => p.isr.length < p.replicas.length).length);
    expect(under.total).toBe(104 + 989); // 104 offline (ISR empty) and 989 more every-10th ones not also every-97th
    expect(under.partitions).toHaveLength(50);
    expect(under.partitions.every((p) => p.isr.length < p.replicas.length)).toBe(true);
    // sorted by ISR size: the offline ones (empty ISR) first, then by partition
    expect(under.partitions.map((p) => p.partition)).toEqual(
      all
        .filter((p) => p.isr.length === 0)
        .slice(0, 50)
        .map((p) => p.partition),
    );

    const offline = await api.topic('wide', q('offline=true&page=1&sort=partition&order=desc'));
    expect(offline.total).toBe(all.filter((p) => p.leader < 0).length);
    expect(offline.partitions[0]!.partition).toBe(9_991); // 97 × 103
    expect(offline.partitions.every((p) => p.leader === -1 && p.logStartOffset !== null)).toBe(true);

    const led = await api.topic('wide', q('leader=2&size=500'));
    expect(led.total).toBe(all.filter((p) => p.leader === 2).length);
    expect(led.partitions.every((p) => p.leader === 2)).toBe(true);

    const found = await api.topic('wide', q('filter=999&size=5'));
    expect(found.partitions.map((p) => p.partition)).toEqual([999, 1999, 2999, 3999, 4999]);
    expect(found.total).toBe(19); // 999, 1999, ..., 8999 and 9990-9999
  });

  it('without a paging parameter answers every partition in partition order (for API callers; the web page always pages)', async () => {
    const res = await api.topic('wide');
    expect(res).toMatchObject({ total: WIDE, page: null, pageSize: null });
    expect(res.partitions).toHaveLength(WIDE);
    expect(res.partitions.every((p, i) => p.partition === i)).toBe(true);
    const small = await api.topic('t-004');
    expect(small.partitions.map((p) => [p.partition, p.highWatermark])).toEqual(
      [0, 1, 2, 3, 4].map((p) => [p, highWatermark(p).toString()]),
    );
  });

  it('refuses a bad sort, page size, flag or conflicting alias with INVALID_REQUEST before asking the cluster', async () => {
    const before = fake.asked.describeTopics;
    for (const bad of ['sort=size', 'size=501', 'pageSize=0', 'pageSize=10&size=20', 'underReplicated=yes', 'leader=x', 'order=up']) {
      const err = await api.topic('wide', q(bad)).catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(ConsoleError);
      expect((err as ConsoleError).code, bad).toBe(ErrorCode.INVALID_REQUEST);
    }
    expect(fake.asked.describeTopics).toBe(before);
  });

  it('over HTTP (the console server in this process, the same fake): one page of each list, and a bad query is a 400', async () => {
    const server = await startConsoleServer({ bootstrap: ['127.0.0.1:1'], metadata: fake.source, host: '127.0.0.1', port: 0, cacheMs: 0 });
    try {
      const get = async (path: string) => {
        const res = await fetch(server.url + path);
        return { status: res.status, text: await res.text() };
      };
      const topics = await get('/api/topics?size=20&sort=name&order=desc');
      expect(topics.status).toBe(200);
      const tj = JSON.parse(topics.text) as { total: number; rows: Array<{ name: string }> };
      expect(tj.total).toBe(1_000);
      expect(tj.rows.map((r) => r.name).slice(0, 3)).toEqual(['wide', 't-998', 't-997']);
      expect(tj.rows).toHaveLength(20);

      const wide = await get('/api/topics/wide?page=1000&size=10&sort=partition');
      expect(wide.status).toBe(200);
      const wj = JSON.parse(wide.text) as { total: number; partitions: Array<{ partition: number }> };
      expect(wj.total).toBe(WIDE);
      expect(wj.partitions.map((p) => p.partition)).toEqual([9_990, 9_991, 9_992, 9_993, 9_994, 9_995, 9_996, 9_997, 9_998, 9_999]);
      expect(wide.text.match(/"partition":/g)).toHaveLength(10);

      const bad = await get('/api/topics/wide?underReplicated=maybe');
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text)).toMatchObject({
        error: { name: 'INVALID_REQUEST', message: "underReplicated must be true or false, got 'maybe'" },
      });
    } finally {
      await server.close();
    }
  });
});
