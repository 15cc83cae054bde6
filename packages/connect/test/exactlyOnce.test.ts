/**
 * KIP-618's pure parts: the worker and connector configs (Kafka's names and defaults), the
 * create-time checks (required refused on a worker without exactly-once support, connector
 * boundaries only for connectors that can define them), the transaction boundary decision, the
 * stop rule, and the leader's zombie fencing plan.
 */
import { describe, expect, it } from 'vitest';
import { builtinPlugins } from '../src/builtins.js';
import {
  connectorExactlyOnce,
  decideBoundary,
  exactlyOnceErrors,
  fencingDone,
  fencingPlan,
  onStop,
  taskTransactionalId,
  workerExactlyOnce,
  type BoundaryInput,
} from '../src/exactlyOnce.js';
import { ConnectRestError, checkConnectorConfig } from '../src/herder.js';

describe('KIP-618 configs', () => {
  it("reads the worker's exactly.once.source.support with Kafka's default and values", () => {
    expect(workerExactlyOnce({})).toBe('disabled');
    expect(workerExactlyOnce({ 'exactly.once.source.support': 'preparing' })).toBe('preparing');
    expect(workerExactlyOnce({ 'exactly.once.source.support': 'ENABLED' })).toBe('enabled');
    expect(() => workerExactlyOnce({ 'exactly.once.source.support': 'on' })).toThrow(
      'Invalid value on for configuration exactly.once.source.support: String must be one of: disabled, preparing, enabled',
    );
  });

  it("reads the connector's keys: defaults requested/poll, the interval from offset.flush.interval.ms", () => {
    expect(connectorExactlyOnce({}, {})).toEqual({ support: 'requested', boundary: 'poll', intervalMs: 60000, offsetsTopic: undefined });
    expect(
      connectorExactlyOnce(
        { 'exactly.once.support': 'required', 'transaction.boundary': 'interval', 'offsets.storage.topic': 'my-offsets' },
        { 'offset.flush.interval.ms': '2500' },
      ),
    ).toEqual({ support: 'required', boundary: 'interval', intervalMs: 2500, offsetsTopic: 'my-offsets' });
    expect(connectorExactlyOnce({ 'transaction.boundary': 'interval', 'transaction.boundary.interval.ms': '700' }, {}).intervalMs).toBe(
      700,
    );
    expect(() => connectorExactlyOnce({ 'transaction.boundary': 'poll', 'transaction.boundary.interval.ms': '700' }, {})).toThrow(
      'may only be set when transaction.boundary is interval',
    );
    expect(() => connectorExactlyOnce({ 'transaction.boundary': 'interval', 'transaction.boundary.interval.ms': '-1' }, {})).toThrow(
      'Value must be at least 0',
    );
    expect(() => connectorExactlyOnce({ 'exactly.once.support': 'maybe' }, {})).toThrow('String must be one of: requested, required');
    expect(() => connectorExactlyOnce({ 'transaction.boundary': 'batch' }, {})).toThrow('String must be one of: poll, interval, connector');
  });

  it('names a task transactional id ${groupId}-${connector}-${task}', () => {
    expect(taskTransactionalId('connect-cluster', 'src', 2)).toBe('connect-cluster-src-2');
  });
});

describe('KIP-618 create-time checks', () => {
  const supported = { exactlyOnceSupport: 'SUPPORTED' as const, canDefineTransactionBoundaries: 'UNSUPPORTED' as const };
  const enabled = { 'exactly.once.source.support': 'enabled' };

  it('refuses required on a worker that is disabled or only preparing, and accepts requested there', () => {
    for (const mode of ['disabled', 'preparing']) {
      const errors = exactlyOnceErrors({ 'exactly.once.support': 'required' }, { 'exactly.once.source.support': mode }, supported);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`exactly.once.source.support is ${mode}`);
    }
    expect(exactlyOnceErrors({ 'exactly.once.support': 'requested' }, {}, supported)).toEqual([]);
    expect(exactlyOnceErrors({ 'exactly.once.support': 'required' }, enabled, supported)).toEqual([]);
  });

  it('refuses required when the connector does not say SUPPORTED, and connector boundaries it cannot define', () => {
    expect(
      exactlyOnceErrors({ 'exactly.once.support': 'required' }, enabled, { ...supported, exactlyOnceSupport: undefined })[0],
    ).toContain('does not implement the API required for preflight validation');
    expect(
      exactlyOnceErrors({ 'exactly.once.support': 'required' }, enabled, { ...supported, exactlyOnceSupport: 'UNSUPPORTED' })[0],
    ).toContain('does not support exactly-once semantics');
    expect(exactlyOnceErrors({ 'transaction.boundary': 'connector' }, enabled, supported)[0]).toContain(
      'does not support connector-defined transaction boundaries',
    );
    expect(
      exactlyOnceErrors({ 'transaction.boundary': 'connector' }, enabled, { ...supported, canDefineTransactionBoundaries: 'SUPPORTED' }),
    ).toEqual([]);
    expect(exactlyOnceErrors({ 'transaction.boundary': 'nope' }, enabled, supported)[0]).toContain('String must be one of');
  });

  it('checkConnectorConfig answers 400 with the sentence for a FileStream source with required on a disabled worker', () => {
    const plugins = builtinPlugins();
    const config = { 'connector.class': 'FileStreamSource', file: '/tmp/x', topic: 't', 'exactly.once.support': 'required' };
    let err: unknown;
    try {
      checkConnectorConfig(plugins, 'src', config, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConnectRestError);
    expect((err as ConnectRestError).status).toBe(400);
    expect((err as ConnectRestError).message).toContain('exactly.once.support=required needs exactly-once source support on the worker');
    expect(checkConnectorConfig(plugins, 'src', config, enabled).type).toBe('source');
    // Sinks have no KIP-618 keys: nothing to refuse.
    expect(checkConnectorConfig(plugins, 'snk', { 'connector.class': 'FileStreamSink', file: '/tmp/y', topics: 't' }, {}).type).toBe(
      'sink',
    );
  });
});

describe('transaction boundaries', () => {
  const base: BoundaryInput = { boundary: 'poll', recordsInTxn: 0, txnStartedAt: 1000, now: 1000, intervalMs: 500, request: undefined };

  it('poll: commits after every batch that put records in the transaction, never an empty one', () => {
    expect(decideBoundary({ ...base, recordsInTxn: 3 })).toBe('commit');
    expect(decideBoundary({ ...base, recordsInTxn: 0 })).toBe('continue');
  });

  it('interval: commits once the interval since the transaction began has passed', () => {
    const i = { ...base, boundary: 'interval' as const, recordsInTxn: 5 };
    expect(decideBoundary({ ...i, now: 1499 })).toBe('continue');
    expect(decideBoundary({ ...i, now: 1500 })).toBe('commit');
    expect(decideBoundary({ ...i, recordsInTxn: 0, now: 9999 })).toBe('continue');
  });

  it("connector: only the task's requests end a transaction", () => {
    const c = { ...base, boundary: 'connector' as const, recordsInTxn: 4, now: 99_999 };
    expect(decideBoundary(c)).toBe('continue');
    expect(decideBoundary({ ...c, request: { kind: 'commit' } })).toBe('commit');
    expect(decideBoundary({ ...c, request: { kind: 'abort' } })).toBe('abort');
  });

  it('a clean stop commits poll/interval transactions and aborts connector-defined ones', () => {
    expect(onStop('poll', 2)).toBe('commit');
    expect(onStop('interval', 2)).toBe('commit');
    expect(onStop('connector', 2)).toBe('abort');
    expect(onStop('poll', 0)).toBe('none');
  });
});

describe('zombie fencing plan', () => {
  it('needs no round before any task configs, or once the task count record follows the latest commit', () => {
    expect(fencingDone({ commitOffset: -1, committedTasks: 0, taskCountOffset: -1, previousTaskCount: 0 })).toBe(true);
    expect(fencingPlan('g', 'c', { commitOffset: 10, committedTasks: 2, taskCountOffset: 11, previousTaskCount: 2 })).toBeUndefined();
  });

  it('fences every id of the old and the new task set, then records the new count', () => {
    // First task configs: nothing older, the new ids are fenced (a zombie of an earlier life of the connector).
    expect(fencingPlan('g', 'c', { commitOffset: 5, committedTasks: 2, taskCountOffset: -1, previousTaskCount: 0 })).toEqual({
      transactionalIds: ['g-c-0', 'g-c-1'],
      taskCount: 2,
    });
    // Shrinking from 3 to 1: task 2's zombie is fenced too.
    expect(fencingPlan('g', 'c', { commitOffset: 20, committedTasks: 1, taskCountOffset: 8, previousTaskCount: 3 })).toEqual({
      transactionalIds: ['g-c-0', 'g-c-1', 'g-c-2'],
      taskCount: 1,
    });
    // Stopped (0 task configs): every old task is fenced.
    expect(fencingPlan('g', 'c', { commitOffset: 30, committedTasks: 0, taskCountOffset: 21, previousTaskCount: 1 })).toEqual({
      transactionalIds: ['g-c-0'],
      taskCount: 0,
    });
    expect(fencingDone({ commitOffset: 30, committedTasks: 0, taskCountOffset: 21, previousTaskCount: 1 })).toBe(false);
  });
});
