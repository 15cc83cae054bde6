/**
 * The SDK's KafkaJS-shaped calls against a real node (one process, broker and controller):
 * sendBatch({ topicMessages }) across topics; a group consumer's run() with eachBatch,
 * resolveOffset, partitionsConsumedConcurrently and its instrumentation events, checked against
 * the offsets the coordinator kept; broker configs through the admin; the max-timestamp spec.
 */
import { Samsa, serdes } from '@samsa/client';
import type { ConsumerEvents } from '@samsa/client';
import { waitFor } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startNode, stopAll, tempDir, type NodeProcess } from './helpers/processes.js';

describe('SDK parity with KafkaJS, against a real node', () => {
  let dataDir: string;
  let node: NodeProcess;
  let samsa: Samsa;

  beforeAll(async () => {
    dataDir = tempDir('sdk-parity');
    node = await startNode({ dataDir, extraArgs: ['--group-initial-rebalance-delay-ms', '200'] });
    samsa = new Samsa({ brokers: [node.address], clientId: 'sdk-parity' });
    await samsa.admin().createTopics([
      { topic: 'orders', numPartitions: 3, replicationFactor: 1 },
      { topic: 'payments', numPartitions: 1, replicationFactor: 1 },
    ]);
  }, 120_000);

  afterAll(async () => {
    await samsa?.close();
    await stopAll();
    removeDir(dataDir);
  });

  it('sendBatch across topics, then eachBatch with partitionsConsumedConcurrently commits exactly what was resolved', async () => {
    const producer = samsa.producer({ key: serdes.string, value: serdes.string });
    const orders = Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: `order-${i}` }));
    const sent = await producer.sendBatch({
      topicMessages: [
        { topic: 'orders', messages: orders },
        {
          topic: 'payments',
          messages: [
            { value: 'pay-1', timestamp: 5_000 },
            { value: 'pay-2', timestamp: 9_000 },
            { value: 'pay-3', timestamp: 7_000 },
          ],
        },
      ],
    });
    expect(sent).toHaveLength(33);
    expect(sent.slice(30).map((r) => `${r.topic}@${r.offset}`)).toEqual(['payments@0', 'payments@1', 'payments@2']);

    const requests: string[] = [];
    const removeRequests = samsa.on('client.network.request', (e) => requests.push(e.payload.apiName));
    const consumer = samsa.consumer({
      groupId: 'parity',
      key: serdes.string,
      value: serdes.string,
      autoOffsetReset: 'earliest',
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 10_000,
      fetchMaxWaitMs: 200,
    });
    const events: Array<{ type: string; payload: unknown }> = [];
    for (const name of ['consumer.group_join', 'consumer.end_batch_process', 'consumer.commit_offsets', 'consumer.stop'] as const)
      consumer.on(name, (e) => events.push(e));
    consumer.subscribe('orders');
    const seen = new Map<number, string[]>();
    let inFlight = 0;
    let maxInFlight = 0;
    const running = consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Give the other partitions' handlers a moment to start: they should overlap.
        await new Promise((r) => setTimeout(r, 50));
        for (const m of batch.messages) {
          if (isStale()) break;
          // Partition 0 leaves its last record unresolved the first time: it must come again.
          const list = seen.get(batch.partition) ?? [];
          if (batch.partition === 0 && m.value === 'order-27' && !list.includes('skipped')) {
            seen.set(batch.partition, [...list, 'skipped']);
            break;
          }
          seen.set(batch.partition, [...list, m.value!]);
          resolveOffset(m.offset);
          await heartbeat();
        }
        inFlight--;
      },
    });
    const done = () => [0, 1, 2].every((p) => (seen.get(p) ?? []).filter((v) => v !== 'skipped').length === 10);
    await waitFor('every order handled', () => done(), 60_000, 50);
    // close() commits the processed (here: resolved) offsets.
    await consumer.close();
    await running;
    removeRequests();

    for (const p of [0, 1, 2]) {
      const values = seen.get(p)!.filter((v) => v !== 'skipped');
      // Each partition in order, nothing lost, the unresolved record read again exactly once.
      expect(values).toEqual(orders.filter((o) => o.partition === p).map((o) => o.value));
    }
    expect(seen.get(0)).toContain('skipped');
    expect(maxInFlight).toBeGreaterThan(1);

    const committed = await samsa.admin().fetchOffsets('parity', ['orders']);
    expect(committed.map((c) => [c.partition, c.offset]).sort()).toEqual([
      [0, 10n],
      [1, 10n],
      [2, 10n],
    ]);
    const join = events.find((e) => e.type === 'consumer.group_join')!.payload as ConsumerEvents['consumer.group_join'];
    expect(join.isLeader).toBe(true);
    expect(join.memberAssignment).toEqual({ orders: [0, 1, 2] });
    const batches = events
      .filter((e) => e.type === 'consumer.end_batch_process')
      .map((e) => e.payload as ConsumerEvents['consumer.end_batch_process']);
    expect(batches.reduce((n, b) => n + b.batchSize, 0)).toBeGreaterThanOrEqual(30);
    expect(events.some((e) => e.type === 'consumer.commit_offsets')).toBe(true);
    expect(events[events.length - 1]!.type).toBe('consumer.stop');
    for (const api of ['findCoordinator', 'joinGroup', 'syncGroup', 'fetch', 'offsetCommit']) expect(requests).toContain(api);
  }, 120_000);

  it("the 'max-timestamp' spec finds the record with the largest timestamp", async () => {
    const admin = samsa.admin();
    const [max] = await admin.listOffsets('payments', [{ partition: 0, timestamp: 'max-timestamp' }]);
    expect(max).toMatchObject({ offset: 1n, timestamp: 9_000n });
    const byTime = await admin.fetchTopicOffsetsByTimestamp('payments', 6_000n);
    expect(byTime.map((p) => p.offset)).toEqual([1n]);
  }, 60_000);

  it('sets, describes and deletes dynamic broker configs through the admin', async () => {
    const admin = samsa.admin();
    await admin.incrementalAlterBrokerConfigs([
      { broker: 'default', set: { 'log.retention.ms': '3600000' } },
      { broker: 1, set: { 'min.insync.replicas': '1' } },
    ]);
    expect(await admin.describeBrokerConfigs(['default', 1])).toEqual([
      {
        broker: 'default',
        configs: [{ name: 'log.retention.ms', value: '3600000', source: 'dynamicDefaultBroker', readOnly: false, sensitive: false }],
      },
      { broker: 1, configs: [{ name: 'min.insync.replicas', value: '1', source: 'dynamicBroker', readOnly: false, sensitive: false }] },
    ]);
    await expect(admin.incrementalAlterBrokerConfigs([{ broker: 1, set: { 'no.such.config': '1' } }])).rejects.toMatchObject({
      errorName: 'INVALID_CONFIG',
    });
    await admin.incrementalAlterBrokerConfigs([{ broker: 'default', delete: ['log.retention.ms'] }]);
    const [after] = await admin.describeBrokerConfigs(['default']);
    expect(after!.configs).toEqual([]);
  }, 60_000);
});
