/**
 * The distributed herder's round against fake topics and a recording local herder: it hosts the
 * tasks its assignment gives it, and the generation fence keeps it from starting work when the
 * config topic, read to its end, holds a newer assignment that moved the work away.
 */
import type { Logger } from '@samsa/client';
import { describe, expect, it } from 'vitest';
import type { Assignment } from '../src/assignment.js';
import { builtinPlugins } from '../src/builtins.js';
import { DistributedHerder } from '../src/distributed.js';
import type { StandaloneHerder } from '../src/herder.js';
import type { KafkaBasedLog } from '../src/kafkaBasedLog.js';
import { KafkaOffsetStore } from '../src/kafkaOffsetStore.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const ME = 'w:2';
const OTHER = 'a:1'; // the smaller id: the leader, so this worker only follows assignments

function setup(onReadToEnd: (h: DistributedHerder) => void) {
  const hosted: Array<[string, number, string]> = [];
  const local = {
    connectorNames: () => [],
    hostedTasks: () => [],
    hostTask: async (connector: string, task: number, _c: unknown, _t: unknown, target: string) => {
      hosted.push([connector, task, target]);
      return true;
    },
    putConnectorConfig: async () => {
      throw new Error('no connector is assigned to this worker');
    },
  } as unknown as StandaloneHerder;
  const h = new DistributedHerder(
    ME,
    local,
    builtinPlugins(),
    new KafkaOffsetStore(),
    {} as never,
    { heartbeatMs: 60_000, sessionTimeoutMs: 60_000 },
    quiet,
  );
  const record = (value: unknown) => Buffer.from(JSON.stringify(value));
  h.configLog = {
    send: async () => {},
    readToEnd: async () => onReadToEnd(h),
  } as unknown as KafkaBasedLog;
  h.statusLog = { send: async () => {} } as unknown as KafkaBasedLog;
  h.applyStatusRecord(`worker-${OTHER}`, record({ url: OTHER }), Date.now());
  h.applyConfigRecord('connector-c', record({ properties: { name: 'c', 'connector.class': 'DatagenConnector', 'kafka.topic': 't' } }));
  h.applyConfigRecord('target-state-c', record({ state: 'STARTED' }));
  h.applyConfigRecord('task-c-0', record({ properties: { 'task.id': '0' } }));
  h.applyConfigRecord('commit-c', record({ tasks: 1 }));
  const assign = (a: Assignment) => h.applyConfigRecord('samsa-assignment', record(a));
  assign({ generation: 1, leader: OTHER, members: [OTHER, ME], connectors: { c: OTHER }, tasks: { 'c-0': ME } });
  return { h, hosted, assign };
}

describe('DistributedHerder round', () => {
  it('hosts the task its latest assignment gives it', async () => {
    const { h, hosted } = setup(() => {});
    await h.tick();
    expect(hosted).toEqual([['c', 0, 'STARTED']]);
  });

  it('starts nothing from a stale generation (a newer assignment in the config topic moved the task)', async () => {
    let moved = false;
    const { h, hosted } = setup((herder) => {
      if (moved) return;
      moved = true;
      herder.applyConfigRecord(
        'samsa-assignment',
        Buffer.from(JSON.stringify({ generation: 2, leader: OTHER, members: [OTHER], connectors: { c: OTHER }, tasks: { 'c-0': OTHER } })),
      );
    });
    await h.tick();
    expect(moved).toBe(true);
    expect(hosted).toEqual([]);
    expect(h.assignment.generation).toBe(2);
    // The next round acts on generation 2, which gives this worker nothing.
    await h.tick();
    expect(hosted).toEqual([]);
  });

  it('starts nothing when the latest generation does not name it a member', async () => {
    const { h, hosted, assign } = setup(() => {});
    assign({ generation: 3, leader: OTHER, members: [OTHER], connectors: { c: OTHER }, tasks: { 'c-0': ME } });
    await h.tick();
    expect(hosted).toEqual([]);
  });
});
