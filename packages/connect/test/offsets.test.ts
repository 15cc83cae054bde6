/**
 * KIP-875 offsets handlers without a cluster: the PATCH body checks, source offsets written to the
 * offset store (null = reset), sink offsets altered on / reset by deleting the group
 * `connect-<name>` through a recording admin; the standalone and distributed herders refuse
 * unless the connector is STOPPED (Kafka's message) and change nothing then.
 */
import type { Logger } from '@samsa/client';
import { describe, expect, it } from 'vitest';
import { builtinPlugins } from '../src/builtins.js';
import { DistributedHerder } from '../src/distributed.js';
import {
  ConnectRestError,
  SINK_ALTER_MESSAGE,
  SINK_RESET_MESSAGE,
  SOURCE_ALTER_MESSAGE,
  SOURCE_RESET_MESSAGE,
  StandaloneHerder,
  parseOffsetsBody,
  resetConnectorOffsets,
  writeOffsets,
  type HerderDeps,
} from '../src/herder.js';
import type { KafkaBasedLog } from '../src/kafkaBasedLog.js';
import { KafkaOffsetStore } from '../src/kafkaOffsetStore.js';
import { ConnectMetrics } from '../src/metrics.js';
import { MemoryOffsetStore } from '../src/offsetStore.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function recordingAdmin(groups: string[] = []) {
  const calls: Array<[string, unknown]> = [];
  return {
    calls,
    admin: {
      resetOffsets: async (group: string, offsets: unknown) => {
        calls.push(['resetOffsets', { group, offsets }]);
      },
      listGroups: async () => groups.map((groupId) => ({ groupId, protocolType: 'consumer', state: 'Empty', coordinator: 1 })),
      deleteGroups: async (ids: readonly string[]) => {
        calls.push(['deleteGroups', [...ids]]);
      },
      fetchOffsets: async () => [],
    },
  };
}

function rejection(p: Promise<unknown>): Promise<ConnectRestError> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(ConnectRestError);
      return err as ConnectRestError;
    },
  );
}

const NOT_STOPPED =
  "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint";

describe('parseOffsetsBody', () => {
  it('takes source partitions with object or null offsets', () => {
    expect(
      parseOffsetsBody('source', {
        offsets: [
          { partition: { filename: 'a' }, offset: { position: 3 } },
          { partition: { filename: 'b' }, offset: null },
        ],
      }),
    ).toEqual({
      type: 'source',
      entries: [
        { partition: { filename: 'a' }, offset: { position: 3 } },
        { partition: { filename: 'b' }, offset: null },
      ],
    });
  });

  it('takes sink partitions with kafka_topic, kafka_partition and a non-negative kafka_offset', () => {
    expect(
      parseOffsetsBody('sink', { offsets: [{ partition: { kafka_topic: 't', kafka_partition: 2 }, offset: { kafka_offset: 7 } }] }),
    ).toEqual({
      type: 'sink',
      resets: [{ topic: 't', partition: 2, offset: 7n }],
    });
  });

  it.each([
    ['source', null, 'Offsets must be specified and should not be empty'],
    ['source', { offsets: [] }, 'Offsets must be specified and should not be empty'],
    ['source', { offsets: [{ offset: { position: 1 } }] }, 'Partitions must be specified and should not be empty'],
    ['source', { offsets: [{ partition: { f: 1 }, offset: 5 }] }, 'Offset for a source partition must be an object or null'],
    [
      'sink',
      { offsets: [{ partition: { kafka_topic: 't' }, offset: { kafka_offset: 1 } }] },
      'Partitions for sink connectors must have the keys kafka_topic and kafka_partition',
    ],
    [
      'sink',
      { offsets: [{ partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: -1 } }] },
      'Offsets for sink connectors must be objects with the key kafka_offset and a non-negative value',
    ],
    [
      'sink',
      { offsets: [{ partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 1.5 } }] },
      'Offsets for sink connectors must be objects with the key kafka_offset and a non-negative value',
    ],
  ] as const)('refuses a bad %s body: %j', (type, body, message) => {
    let err: unknown;
    try {
      parseOffsetsBody(type, body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConnectRestError);
    expect((err as ConnectRestError).status).toBe(400);
    expect((err as ConnectRestError).message).toBe(message);
  });
});

describe('writeOffsets and resetConnectorOffsets', () => {
  it('writes source offsets to the store and resets every stored partition to null', async () => {
    const store = new MemoryOffsetStore();
    await store.set('other', [{ partition: { f: 'x' }, offset: { p: 1 } }]);
    const { admin, calls } = recordingAdmin();
    const parsed = parseOffsetsBody('source', {
      offsets: [
        { partition: { f: 'a' }, offset: { p: 9 } },
        { partition: { f: 'b' }, offset: { p: 2 } },
      ],
    });
    expect(await writeOffsets('src', parsed, store, admin)).toEqual({ message: SOURCE_ALTER_MESSAGE });
    expect(store.get('src', { f: 'a' })).toEqual({ p: 9 });
    expect(await resetConnectorOffsets('src', 'source', store, admin)).toEqual({ message: SOURCE_RESET_MESSAGE });
    expect(store.list('src')).toEqual([]);
    expect(store.list('other')).toEqual([{ partition: { f: 'x' }, offset: { p: 1 } }]);
    expect(calls).toEqual([]);
  });

  it('alters sink offsets on the group connect-<name>, and resets by deleting the group when it exists', async () => {
    const store = new MemoryOffsetStore();
    const { admin, calls } = recordingAdmin(['connect-sink']);
    const parsed = parseOffsetsBody('sink', {
      offsets: [{ partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 4 } }],
    });
    expect(await writeOffsets('sink', parsed, store, admin)).toEqual({ message: SINK_ALTER_MESSAGE });
    expect(await resetConnectorOffsets('sink', 'sink', store, admin)).toEqual({ message: SINK_RESET_MESSAGE });
    expect(calls).toEqual([
      ['resetOffsets', { group: 'connect-sink', offsets: [{ topic: 't', partition: 0, offset: 4n }] }],
      ['deleteGroups', ['connect-sink']],
    ]);
    const none = recordingAdmin([]);
    expect(await resetConnectorOffsets('sink', 'sink', store, none.admin)).toEqual({ message: SINK_RESET_MESSAGE });
    expect(none.calls).toEqual([]);
  });
});

describe('StandaloneHerder offsets', () => {
  function herder() {
    const offsets = new MemoryOffsetStore();
    const { admin, calls } = recordingAdmin(['connect-sink']);
    const deps = {
      admin,
      offsets,
      plugins: builtinPlugins(),
      metrics: new ConnectMetrics(),
      logger: quiet,
      workerConfig: {},
      workerId: 'w:1',
      // No cluster here: connectors run, tasks are never started.
      connectorOnly: true,
    } as unknown as HerderDeps;
    return { h: new StandaloneHerder(deps), offsets, calls };
  }

  it('refuses PATCH and DELETE unless the connector is STOPPED, changing nothing', async () => {
    const { h, offsets } = herder();
    await h.putConnectorConfig('src', { 'connector.class': 'FileStreamSource', file: '/nonexistent', topic: 't' }, false, 'STOPPED');
    await h.setTargetState('src', 'PAUSED');
    expect(h.connectorStatus('src').connector.state).toBe('PAUSED');
    const patch = await rejection(h.alterOffsets('src', { offsets: [{ partition: { filename: 'f' }, offset: { position: 1 } }] }));
    expect([patch.status, patch.message]).toEqual([400, NOT_STOPPED]);
    const del = await rejection(h.resetOffsets('src'));
    expect([del.status, del.message]).toEqual([400, NOT_STOPPED]);
    expect(offsets.list('src')).toEqual([]);
    expect((await rejection(h.resetOffsets('nope'))).status).toBe(404);
  });

  it('alters and resets a STOPPED source and sink', async () => {
    const { h, offsets, calls } = herder();
    await h.putConnectorConfig('src', { 'connector.class': 'FileStreamSource', file: '/x', topic: 't' }, false, 'STOPPED');
    await h.putConnectorConfig('sink', { 'connector.class': 'FileStreamSink', file: '/y', topics: 't' }, false, 'STOPPED');
    expect(await h.alterOffsets('src', { offsets: [{ partition: { filename: '/x' }, offset: { position: 5 } }] })).toEqual({
      message: SOURCE_ALTER_MESSAGE,
    });
    expect(await h.offsets('src')).toEqual({ offsets: [{ partition: { filename: '/x' }, offset: { position: 5 } }] });
    expect(await h.resetOffsets('src')).toEqual({ message: SOURCE_RESET_MESSAGE });
    expect(offsets.list('src')).toEqual([]);
    expect(
      await h.alterOffsets('sink', { offsets: [{ partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 3 } }] }),
    ).toEqual({
      message: SINK_ALTER_MESSAGE,
    });
    expect(await h.resetOffsets('sink')).toEqual({ message: SINK_RESET_MESSAGE });
    expect(calls.map(([c]) => c)).toEqual(['resetOffsets', 'deleteGroups']);
  });
});

describe('DistributedHerder offsets', () => {
  function herder() {
    const sent: Array<[string, unknown]> = [];
    const store = new KafkaOffsetStore();
    store.log = {
      send: async (key: string, value: unknown) => {
        sent.push([key, value]);
      },
      readToEnd: async () => {},
    } as unknown as KafkaBasedLog;
    const { admin, calls } = recordingAdmin();
    const h = new DistributedHerder(
      'w:1',
      {} as unknown as StandaloneHerder,
      builtinPlugins(),
      store,
      { admin: () => admin } as never,
      { heartbeatMs: 1000, sessionTimeoutMs: 10_000 },
      quiet,
    );
    const config = (key: string, value: unknown) => h.applyConfigRecord(key, value === null ? null : Buffer.from(JSON.stringify(value)));
    config('connector-src', { properties: { name: 'src', 'connector.class': 'FileStreamSource', file: '/x', topic: 't' } });
    config('target-state-src', { state: 'STARTED' });
    config('task-src-0', { properties: { file: '/x', topic: 't' } });
    config('commit-src', { tasks: 1 });
    return { h, sent, calls, config, store };
  }
  const body = { offsets: [{ partition: { filename: '/x' }, offset: { position: 2 } }] };

  it('refuses while the target is not STOPPED or task configs remain, and while a live worker reports a task', async () => {
    const { h, sent, config } = herder();
    expect((await rejection(h.alterOffsets('src', body))).message).toBe(NOT_STOPPED);
    config('target-state-src', { state: 'STOPPED' });
    expect((await rejection(h.alterOffsets('src', body))).message).toBe(NOT_STOPPED);
    config('commit-src', { tasks: 0 });
    h.applyStatusRecord('status-task-src-0', Buffer.from(JSON.stringify({ state: 'RUNNING', worker_id: 'w:1', generation: 1 })), 0);
    expect((await rejection(h.resetOffsets('src'))).message).toBe(NOT_STOPPED);
    // A task reported RUNNING by a worker that is not live does not block (it died).
    h.applyStatusRecord('status-task-src-0', Buffer.from(JSON.stringify({ state: 'RUNNING', worker_id: 'gone:9', generation: 2 })), 0);
    expect(await h.alterOffsets('src', body)).toEqual({ message: SOURCE_ALTER_MESSAGE });
    expect(sent).toEqual([['["src",{"filename":"/x"}]', { position: 2 }]]);
  });

  it("writes the offset topic in Kafka's key format, null values on reset", async () => {
    const { h, sent, config, store } = herder();
    config('target-state-src', { state: 'STOPPED' });
    config('commit-src', { tasks: 0 });
    h.applyStatusRecord('status-task-src-0', Buffer.from(JSON.stringify({ state: 'UNASSIGNED', worker_id: 'w:1', generation: 3 })), 0);
    expect(await h.alterOffsets('src', body)).toEqual({ message: SOURCE_ALTER_MESSAGE });
    expect(store.list('src')).toEqual([{ partition: { filename: '/x' }, offset: { position: 2 } }]);
    expect(await h.resetOffsets('src')).toEqual({ message: SOURCE_RESET_MESSAGE });
    expect(sent).toEqual([
      ['["src",{"filename":"/x"}]', { position: 2 }],
      ['["src",{"filename":"/x"}]', null],
    ]);
    expect(store.list('src')).toEqual([]);
  });
});
