/**
 * The KafkaJS-shaped calls of the producer and the admin against the fake cluster:
 * sendBatch({ topicMessages }) across topics, broker configs (describe, incremental alter), and
 * the max-timestamp offset spec (KIP-734) in listOffsets / fetchTopicOffsetsByTimestamp.
 */
import { encodeRecordBatch } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, InvalidRequestError, SamsaAggregateError, serdes } from '../src/index.js';
import type { IncrementalAlterConfigsRequest } from '../src/index.js';
import { setup } from './helpers.js';

describe('Producer.sendBatch({ topicMessages })', () => {
  it('writes several topics in one call, sharing each broker’s Produce request, and answers per record in input order', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('orders', 2, [1, 2]);
    fake.createTopic('payments', 1, [1]);
    const producer = samsa.producer({ value: serdes.string });
    const results = await producer.sendBatch({
      topicMessages: [
        {
          topic: 'orders',
          messages: [
            { partition: 0, value: 'o1' },
            { partition: 1, value: 'o2' },
          ],
        },
        { topic: 'payments', messages: [{ partition: 0, value: 'p1' }] },
      ],
    });
    expect(results.map((r) => `${r.topic}-${r.partition}@${r.offset}`)).toEqual(['orders-0@0', 'orders-1@0', 'payments-0@0']);
    // Broker 1 leads orders-0 and payments-0: one request carries both.
    const produces = fake.callsOf('produce');
    expect(produces.filter((c) => c.nodeId === 1)).toHaveLength(1);
    expect(fake.records('payments', 0).map((r) => r.value!.toString())).toEqual(['p1']);
    expect(fake.records('orders', 1).map((r) => r.value!.toString())).toEqual(['o2']);
    await samsa.close();
  });

  it('checks every topic before sending anything', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('a', 1);
    const producer = samsa.producer({ value: serdes.string });
    await expect(
      producer.sendBatch({
        topicMessages: [
          { topic: 'a', messages: [{ value: 'x' }] },
          { topic: '', messages: [] },
        ],
      }),
    ).rejects.toThrow(InvalidRequestError);
    await expect(producer.sendBatch({ topicMessages: [] })).rejects.toThrow(/topicMessages must be a non-empty array/);
    expect(fake.callsOf('produce')).toHaveLength(0);
    await samsa.close();
  });
});

describe('Admin broker configs', () => {
  it('sets and deletes dynamic configs of one broker and of every broker, and describes them', async () => {
    const { fake, samsa } = setup([1]);
    const admin = samsa.admin();
    fake.brokerConfigs.set('1', { 'log.retention.ms': '1000' });
    await admin.incrementalAlterBrokerConfigs([
      { broker: 1, set: { 'log.cleaner.threads': '2' }, delete: ['log.retention.ms'] },
      { broker: 'default', set: { 'log.retention.ms': '5000' } },
    ]);
    const request = fake.callsOf('incrementalAlterConfigs')[0]!.request as IncrementalAlterConfigsRequest;
    expect(request.resources).toEqual([
      {
        resourceType: 4,
        resourceName: '1',
        configs: [
          { name: 'log.cleaner.threads', configOperation: 0, value: '2' },
          { name: 'log.retention.ms', configOperation: 1, value: '' },
        ],
      },
      { resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '5000' }] },
    ]);
    expect(await admin.describeBrokerConfigs(['default', 1])).toEqual([
      {
        broker: 'default',
        configs: [{ name: 'log.retention.ms', value: '5000', source: 'dynamicDefaultBroker', readOnly: false, sensitive: false }],
      },
      { broker: 1, configs: [{ name: 'log.cleaner.threads', value: '2', source: 'dynamicBroker', readOnly: false, sensitive: false }] },
    ]);
    await samsa.close();
  });

  it('a refused config comes back typed per broker; bad input sends nothing', async () => {
    const { fake, samsa } = setup([1]);
    const admin = samsa.admin();
    await expect(admin.incrementalAlterBrokerConfigs([{ broker: 1, set: { 'bad.name': '1' } }])).rejects.toThrow(InvalidConfigError);
    const both = admin.incrementalAlterBrokerConfigs([
      { broker: 1, set: { 'bad.one': '1' } },
      { broker: 2, set: { 'bad.two': '1' } },
    ]);
    await expect(both).rejects.toThrow(SamsaAggregateError);
    const calls = fake.callsOf('incrementalAlterConfigs').length;
    await expect(admin.incrementalAlterBrokerConfigs([{ broker: -1, set: { a: '1' } }])).rejects.toThrow(/a broker is a node id/);
    await expect(admin.incrementalAlterBrokerConfigs([{ broker: 1, set: { a: '1' }, delete: ['a'] }])).rejects.toThrow(
      /both set and deleted/,
    );
    await expect(
      admin.incrementalAlterBrokerConfigs([
        { broker: 1, set: { a: '1' } },
        { broker: 1, set: { b: '1' } },
      ]),
    ).rejects.toThrow(/appears more than once/);
    await expect(admin.describeBrokerConfigs([1.5])).rejects.toThrow(InvalidRequestError);
    expect(fake.callsOf('incrementalAlterConfigs')).toHaveLength(calls);
    expect(fake.callsOf('describeConfigs')).toHaveLength(0);
    await samsa.close();
  });
});

describe("the 'max-timestamp' offset spec (KIP-734)", () => {
  it('finds the first record with the largest timestamp, not the last record', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 2);
    fake.append(
      't',
      0,
      encodeRecordBatch([5000n, 9000n, 7000n, 9000n].map((timestamp, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp }))),
    );
    const admin = samsa.admin();
    const [max] = await admin.listOffsets('t', [{ partition: 0, timestamp: 'max-timestamp' }]);
    expect(max).toMatchObject({ partition: 0, offset: 1n, timestamp: 9000n });
    const all = await admin.fetchTopicOffsetsByTimestamp('t', 'max-timestamp');
    expect(all.map((p) => [p.partition, p.offset])).toEqual([
      [0, 1n],
      [1, -1n], // an empty partition has no record
    ]);
    const byTime = await admin.fetchTopicOffsetsByTimestamp('t', 6000n);
    expect(byTime.map((p) => [p.partition, p.offset])).toEqual([
      [0, 1n],
      [1, -1n],
    ]);
    await expect(admin.fetchTopicOffsetsByTimestamp('t', -3n)).rejects.toThrow(InvalidRequestError);
    await samsa.close();
  });
});
