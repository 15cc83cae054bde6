/**
 * Admin.incrementalAlterConfigs and Admin.describeConfigs against the fake cluster: the wire
 * requests they send, the shape they return, typed per-topic errors, retries of retriable
 * answers, and input checks that send nothing.
 */
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import {
  InvalidConfigError,
  InvalidRequestError,
  SamsaAggregateError,
  SamsaConnectionError,
  UnknownTopicOrPartitionError,
} from '../src/index.js';
import type { DescribeConfigsRequest, IncrementalAlterConfigsRequest } from '../src/index.js';
import { setup } from './helpers.js';

describe('Admin.incrementalAlterConfigs', () => {
  it('sends SET and DELETE operations per topic and resolves once the broker accepted them', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.topicConfigs.set('t', { 'cleanup.policy': 'compact' });
    await samsa
      .admin()
      .incrementalAlterConfigs([{ topic: 't', set: { 'min.insync.replicas': '2', 'retention.ms': '1000' }, delete: ['cleanup.policy'] }]);
    expect(fake.topicConfigs.get('t')).toEqual({ 'min.insync.replicas': '2', 'retention.ms': '1000' });
    const request = fake.callsOf('incrementalAlterConfigs')[0]!.request as IncrementalAlterConfigsRequest;
    expect(request).toMatchObject({
      validateOnly: false,
      timeoutMs: 30_000,
      resources: [
        {
          resourceType: 2,
          resourceName: 't',
          configs: [
            { name: 'min.insync.replicas', configOperation: 0, value: '2' },
            { name: 'retention.ms', configOperation: 0, value: '1000' },
            { name: 'cleanup.policy', configOperation: 1 },
          ],
        },
      ],
    });
  });

  it('passes validateOnly and changes nothing', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    await samsa.admin().incrementalAlterConfigs([{ topic: 't', set: { 'retention.ms': '5' } }], { validateOnly: true, timeoutMs: 1_000 });
    expect(fake.topicConfigs.get('t')).toBeUndefined();
    expect(fake.callsOf('incrementalAlterConfigs')[0]!.request).toMatchObject({ validateOnly: true, timeoutMs: 1_000 });
  });

  it('throws InvalidConfigError / UnknownTopicOrPartitionError per topic, without retrying them', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const admin = samsa.admin();
    const bad = await admin.incrementalAlterConfigs([{ topic: 't', set: { 'no.such': '1' } }]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidConfigError);
    expect(bad).toMatchObject({ topic: 't', errorName: 'INVALID_CONFIG', message: "unknown topic config 'no.such'" });

    const missing = await admin.incrementalAlterConfigs([{ topic: 'missing', set: { 'retention.ms': '1' } }]).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UnknownTopicOrPartitionError);
    expect(missing).toMatchObject({ topic: 'missing', retriable: false });
    expect(fake.callsOf('incrementalAlterConfigs')).toHaveLength(2);

    const both = await admin
      .incrementalAlterConfigs([
        { topic: 'missing', set: { 'retention.ms': '1' } },
        { topic: 't', set: { 'retention.ms': '7' } },
        { topic: 'x', delete: ['oops'] },
      ])
      .catch((e: unknown) => e);
    expect(both).toBeInstanceOf(SamsaAggregateError);
    expect((both as SamsaAggregateError).errors.map((e) => [e.constructor, e.topic])).toEqual([
      [UnknownTopicOrPartitionError, 'missing'],
      [UnknownTopicOrPartitionError, 'x'],
    ]);
    // The topic that succeeded keeps its change.
    expect(fake.topicConfigs.get('t')).toEqual({ 'retention.ms': '7' });
  });

  it('retries a retriable answer (NOT_CONTROLLER) for the pending topics only', async () => {
    const { fake, clock, samsa } = setup([1]);
    fake.createTopic('a', 1);
    fake.createTopic('b', 1);
    fake.failOnce(
      (c) => c.method === 'incrementalAlterConfigs',
      (c) => {
        fake.incrementalAlterConfigs({
          resources: (c.request as IncrementalAlterConfigsRequest).resources!.filter((r) => r.resourceName === 'a'),
        });
        return {
          responses: [
            { resourceType: 2, resourceName: 'a', errorCode: 0, errorMessage: '' },
            { resourceType: 2, resourceName: 'b', errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'moved' },
          ],
        };
      },
    );
    await samsa.admin().incrementalAlterConfigs([
      { topic: 'a', set: { 'retention.ms': '1' } },
      { topic: 'b', set: { 'retention.ms': '2' } },
    ]);
    const second = fake.callsOf('incrementalAlterConfigs')[1]!.request as IncrementalAlterConfigsRequest;
    expect(second.resources!.map((r) => r.resourceName)).toEqual(['b']);
    expect(fake.topicConfigs.get('b')).toEqual({ 'retention.ms': '2' });
    expect(clock.sleeps).toEqual([10]);
  });

  it('checks its input before sending anything', async () => {
    const { fake, samsa } = setup([1]);
    const admin = samsa.admin();
    await expect(admin.incrementalAlterConfigs([])).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(admin.incrementalAlterConfigs([{ topic: '' }])).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(admin.incrementalAlterConfigs([{ topic: 't' }, { topic: 't' }])).rejects.toThrow(/more than once/);
    await expect(admin.incrementalAlterConfigs([{ topic: 't', set: { a: '1' }, delete: ['a'] }])).rejects.toThrow(/both set and deleted/);
    await expect(admin.incrementalAlterConfigs([{ topic: 't', set: { a: 1 as unknown as string } }])).rejects.toThrow(/must be a string/);
    expect(fake.callsOf('incrementalAlterConfigs')).toHaveLength(0);
  });
});

describe('Admin.describeConfigs', () => {
  it('returns every config of each topic, sorted, with its source and read-only flag, in the order asked', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('a', 1);
    fake.createTopic('b', 1);
    fake.topicConfigs.set('b', { 'min.insync.replicas': '2' });
    const described = await samsa.admin().describeConfigs(['b', 'a']);
    expect(described.map((d) => d.topic)).toEqual(['b', 'a']);
    expect(described[0]!.configs).toEqual([
      {
        name: 'cleanup.policy',
        value: 'delete',
        source: 'default',
        readOnly: false,
        sensitive: false,
        synonyms: [{ name: 'cleanup.policy', value: 'delete', source: 'default' }],
      },
      {
        name: 'min.insync.replicas',
        value: '2',
        source: 'topic',
        readOnly: false,
        sensitive: false,
        synonyms: [
          { name: 'min.insync.replicas', value: '2', source: 'topic' },
          { name: 'min.insync.replicas', value: '1', source: 'default' },
        ],
      },
      {
        name: 'retention.ms',
        value: '604800000',
        source: 'default',
        readOnly: false,
        sensitive: false,
        synonyms: [{ name: 'retention.ms', value: '604800000', source: 'default' }],
      },
    ]);
    expect(described[1]!.configs.every((c) => c.source === 'default')).toBe(true);
    const request = fake.callsOf('describeConfigs')[0]!.request as DescribeConfigsRequest;
    expect(request.resources).toEqual([
      { resourceType: 2, resourceName: 'b', configurationKeys: [] },
      { resourceType: 2, resourceName: 'a', configurationKeys: [] },
    ]);
  });

  it('throws UnknownTopicOrPartitionError for a missing topic, without retrying', async () => {
    const { fake, samsa } = setup([1]);
    const error = await samsa
      .admin()
      .describeConfigs(['missing'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTopicOrPartitionError);
    expect(error).toMatchObject({ topic: 'missing', retriable: false });
    expect(fake.callsOf('describeConfigs')).toHaveLength(1);
    expect(await samsa.admin().describeConfigs([])).toEqual([]);
  });

  it('retries when the broker is unreachable', async () => {
    const { fake, clock, samsa } = setup([1]);
    fake.createTopic('a', 1);
    fake.failOnce(
      (c) => c.method === 'describeConfigs',
      (c) => {
        throw new SamsaConnectionError(`describeConfigs to ${c.address} failed: unreachable`, { address: c.address });
      },
    );
    expect((await samsa.admin().describeConfigs(['a']))[0]!.topic).toBe('a');
    expect(fake.callsOf('describeConfigs')).toHaveLength(2);
    expect(clock.sleeps).toEqual([10]);
  });
});
