/**
 * The console server's JSON API against a real cluster (3 controllers, 3 brokers as child
 * processes): every endpoint, and bad input answered with a Kafka error code and a sentence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Samsa } from '@samsa/client';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from '../../cli/test/helpers/cluster.js';
import { startConsoleServer, type ConsoleServer } from '../src/index.js';

let cluster: TestCluster;
let consoleServer: ConsoleServer;
let samsa: Samsa;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(consoleServer.url + path, {
    method,
    ...(body === undefined
      ? {}
      : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  cluster = await startCluster({ metrics: true });
  consoleServer = await startConsoleServer({
    bootstrap: cluster.bootstrap,
    port: 0,
    metrics: cluster.brokers.map((b) => `127.0.0.1:${b.metricsPort}`),
  });
  samsa = new Samsa({ brokers: cluster.bootstrap });
}, 120_000);

afterAll(async () => {
  await samsa?.close();
  await consoleServer?.close();
  await cluster?.stop();
});

describe('console API', () => {
  it('binds to loopback and serves the overview: brokers, quorum and health', async () => {
    expect(consoleServer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { json } = await waitFor('three unfenced brokers', async () => {
      const r = await call('GET', '/api/overview');
      return r.status === 200 && r.json.brokers.filter((b: any) => !b.fenced).length === 3 ? r : undefined;
    });
    expect(json.brokers.map((b: any) => b.id)).toEqual(cluster.brokers.map((b) => b.nodeId));
    expect(json.brokers[0].address).toBe(cluster.bootstrap[0]);
    expect(json.quorum.voters.map((v: any) => v.id).sort()).toEqual([1, 2, 3]);
    expect(json.health).toMatchObject({ underReplicated: 0, offline: 0 });
  });

  it('creates, lists (paged and sorted), describes and deletes topics', async () => {
    for (const [name, partitions] of [
      ['api-b', 1],
      ['api-a', 3],
      ['api-c', 2],
    ] as const) {
      const r = await call('POST', '/api/topics', { name, partitions, replicationFactor: 3 });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ topic: name, numPartitions: partitions, replicationFactor: 3 });
    }
    const page = await call('GET', '/api/topics?search=api-&sort=partitions&order=desc&pageSize=2');
    expect(page.json.total).toBe(3);
    expect(page.json.rows.map((r: any) => r.name)).toEqual(['api-a', 'api-c']);
    const page2 = await call('GET', '/api/topics?search=api-&sort=partitions&order=desc&pageSize=2&page=2');
    expect(page2.json.rows.map((r: any) => r.name)).toEqual(['api-b']);

    const detail = await waitFor('api-a led everywhere', async () => {
      const r = await call('GET', '/api/topics/api-a');
      return r.json.partitions?.every((p: any) => p.leader > 0 && p.highWatermark === '0') ? r : undefined;
    });
    expect(detail.json.partitions).toHaveLength(3);
    expect(detail.json.partitions[0]).toMatchObject({ partition: 0, logStartOffset: '0', highWatermark: '0' });
    expect(detail.json.partitions[0].replicas).toHaveLength(3);
    // One page of the partition table, from the live cluster: offsets asked for that page only.
    const onePartition = await call('GET', '/api/topics/api-a?size=1&page=2&sort=partition&order=desc');
    expect(onePartition.json).toMatchObject({ partitionCount: 3, total: 3, page: 2, pageSize: 1 });
    expect(onePartition.json.partitions).toEqual([expect.objectContaining({ partition: 1, logStartOffset: '0', highWatermark: '0' })]);
    expect((await call('GET', '/api/topics/api-a?sort=size')).status).toBe(400);

    expect((await call('DELETE', '/api/topics/api-b')).status).toBe(200);
    const after = await call('GET', '/api/topics?search=api-');
    expect(after.json.rows.map((r: any) => r.name)).toEqual(['api-a', 'api-c']);
  });

  it('answers bad topic input with Kafka error codes and changes nothing', async () => {
    const unknown = await call('GET', '/api/topics/no-such-topic');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(unknown.json.error.message).toMatch(/no-such-topic|does not exist|Unknown/i);

    const dup = await call('POST', '/api/topics', { name: 'api-a', partitions: 1 });
    expect(dup.status).toBe(409);
    expect(dup.json.error.name).toBe('TOPIC_ALREADY_EXISTS');

    const badName = await call('POST', '/api/topics', { name: 'bad name!' });
    expect(badName.status).toBe(400);
    expect(badName.json.error.name).toBe('INVALID_TOPIC_EXCEPTION');

    const badPartitions = await call('POST', '/api/topics', { name: 'api-x', partitions: 0 });
    expect(badPartitions.json.error.name).toBe('INVALID_PARTITIONS');

    const badConfig = await call('POST', '/api/topics', { name: 'api-x', partitions: 1, configs: { 'no.such.config': '1' } });
    expect(badConfig.status).toBe(400);
    expect(badConfig.json.error).toMatchObject({ code: 40, name: 'INVALID_CONFIG' });
    expect(badConfig.json.error.message).toContain('no.such.config');
    expect((await call('GET', '/api/topics/api-x')).status).toBe(404);

    const badJson = await call('POST', '/api/topics', '{not json');
    expect(badJson.status).toBe(400);
    expect(badJson.json.error).toMatchObject({ name: 'INVALID_REQUEST', message: 'the request body must be a JSON object' });

    const noRoute = await call('GET', '/api/nothing');
    expect(noRoute.status).toBe(404);
    expect(noRoute.json.error.message).toBe('no such endpoint: /api/nothing');

    const badSort = await call('GET', '/api/topics?sort=size');
    expect(badSort.status).toBe(400);
    expect(badSort.json.error.message).toMatch(/sort must be one of/);

    const addPartitions = await call('POST', '/api/topics/api-a/partitions', { count: 5 });
    expect(addPartitions.status).toBe(501);
    expect(addPartitions.json.error).toMatchObject({ name: 'UNSUPPORTED_VERSION' });
    expect(addPartitions.json.error.message).toContain('not available');
  });

  it('describes and edits topic configs with Kafka names, defaults and sources', async () => {
    const before = await call('GET', '/api/topics/api-c/configs');
    const retention = before.json.configs.find((c: any) => c.name === 'retention.ms');
    expect(retention).toMatchObject({ source: 'default' });

    const set = await call('PATCH', '/api/topics/api-c/configs', { set: { 'retention.ms': '60000' } });
    expect(set.status).toBe(200);
    expect(set.json.configs.find((c: any) => c.name === 'retention.ms')).toMatchObject({ value: '60000', source: 'topic' });

    const bad = await call('PATCH', '/api/topics/api-c/configs', { set: { 'min.insync.replicas': 'many' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.name).toBe('INVALID_CONFIG');
    const unchanged = await call('GET', '/api/topics/api-c/configs');
    expect(unchanged.json.configs.find((c: any) => c.name === 'min.insync.replicas').value).not.toBe('many');

    const reset = await call('PATCH', '/api/topics/api-c/configs', { delete: ['retention.ms'] });
    expect(reset.json.configs.find((c: any) => c.name === 'retention.ms')).toMatchObject({ source: 'default' });
  });

  it('produces a record and browses it back with key, headers and a JSON value; filters and pages', async () => {
    const produced = await call('POST', '/api/topics/api-a/messages', { key: 'k1', value: '{"n":1}', headers: { h: 'v' }, partition: 1 });
    expect(produced.status).toBe(200);
    expect(produced.json).toMatchObject({ partition: 1, offset: '0' });
    for (let i = 2; i <= 5; i++) await call('POST', '/api/topics/api-a/messages', { key: `k${i}`, value: `plain ${i}`, partition: 1 });

    const newest = await call('GET', '/api/topics/api-a/messages?partition=1&from=newest&limit=2');
    expect(newest.json.records.map((r: any) => r.offset)).toEqual(['3', '4']);
    const first = await call('GET', '/api/topics/api-a/messages?partition=1&from=earliest&limit=1');
    expect(first.json.records[0]).toMatchObject({
      offset: '0',
      key: { text: 'k1' },
      value: { json: { n: 1 } },
      headers: [{ key: 'h', value: { text: 'v' } }],
    });
    expect(first.json.nextOffset).toBe('1');
    const fromOffset = await call('GET', '/api/topics/api-a/messages?partition=1&from=offset&offset=2&limit=10');
    expect(fromOffset.json.records.map((r: any) => r.key.text)).toEqual(['k3', 'k4', 'k5']);
    const filtered = await call('GET', '/api/topics/api-a/messages?partition=1&from=earliest&filter=plain%204');
    expect(filtered.json.records.map((r: any) => r.offset)).toEqual(['3']);
    const byTime = await call('GET', `/api/topics/api-a/messages?partition=1&from=timestamp&timestamp=${Date.now() + 60_000}`);
    expect(byTime.json.records).toEqual([]);

    const badPartition = await call('GET', '/api/topics/api-a/messages?partition=9');
    expect(badPartition.status).toBe(404);
    expect(badPartition.json.error.name).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const badOffset = await call('GET', '/api/topics/api-a/messages?partition=1&from=offset&offset=-3');
    expect(badOffset.json.error.message).toMatch(/offset must be a non-negative integer/);
    const unknownTopic = await call('POST', '/api/topics/nope/messages', { value: 'x' });
    expect(unknownTopic.json.error.name).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('shows a group with committed offsets and lag, and resets offsets after a dry run', async () => {
    await samsa.admin().resetOffsets('api-group', [{ topic: 'api-a', partition: 1, offset: 2n }]);
    const groups = await call('GET', '/api/groups');
    expect(groups.json.groups.map((g: any) => g.groupId)).toContain('api-group');
    const g = await call('GET', '/api/groups/api-group');
    expect(g.json.partitions.find((p: any) => p.partition === 1)).toMatchObject({
      topic: 'api-a',
      committedOffset: '2',
      logEndOffset: '5',
      lag: '3',
    });

    const dry = await call('POST', '/api/groups/api-group/reset-offsets', {
      to: 'shift',
      value: '-1',
      topics: [{ topic: 'api-a', partitions: [1] }],
    });
    expect(dry.json).toEqual({
      groupId: 'api-group',
      executed: false,
      plan: [{ topic: 'api-a', partition: 1, currentOffset: '2', newOffset: '1' }],
    });
    expect((await call('GET', '/api/groups/api-group')).json.partitions.find((p: any) => p.partition === 1).committedOffset).toBe('2');

    const done = await call('POST', '/api/groups/api-group/reset-offsets', { to: 'latest', topics: 'all', execute: true });
    expect(done.json.executed).toBe(true);
    expect((await call('GET', '/api/groups/api-group')).json.partitions.find((p: any) => p.partition === 1)).toMatchObject({
      committedOffset: '5',
      lag: '0',
    });

    const bad = await call('POST', '/api/groups/api-group/reset-offsets', { to: 'offset', value: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/value must be a non-negative integer/);
    const badTopic = await call('POST', '/api/groups/api-group/reset-offsets', {
      to: 'earliest',
      topics: [{ topic: 'api-a', partitions: [7] }],
    });
    expect(badTopic.json.error.name).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it("turns the nodes' /metrics into produce and fetch rates, bytes and latency percentiles", async () => {
    await call('GET', '/api/metrics');
    for (let i = 0; i < 5; i++) await call('POST', '/api/topics/api-a/messages', { value: `m${i}`, partition: 0 });
    const m = await waitFor(
      'a metrics point with produce traffic',
      async () => {
        const r = await call('GET', '/api/metrics');
        return r.json.history.some((p: any) => p.produceRequestsPerSec > 0) ? r : undefined;
      },
      20_000,
      300,
    );
    expect(m.json.nodes).toHaveLength(3);
    const point = m.json.history.find((p: any) => p.produceRequestsPerSec > 0);
    expect(point.bytesInPerSec).toBeGreaterThan(0);
    expect(point.produceLatency.p50).toBeGreaterThan(0);
  });
});
