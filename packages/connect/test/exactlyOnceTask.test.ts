/**
 * ExactlyOnceWorkerSourceTask (KIP-618) against a recording transactional producer, no cluster:
 * initTransactions comes before the offsets are read and the task starts; each transaction carries
 * its records and then the task's latest offsets (to the connector's own offsets topic when set);
 * connector-defined boundaries through the TransactionContext commit after a named record, abort a
 * batch (its offsets never written), and a clean stop aborts an open connector-defined transaction;
 * a fenced commit fails the task.
 */
import type { Clock, Logger, Samsa } from '@samsa/client';
import { ProducerFencedError } from '@samsa/client';
import { waitFor } from '@samsa/testkit';
import { describe, expect, it } from 'vitest';
import { SourceTask, type SourceRecord } from '../src/api.js';
import { connectorExactlyOnce } from '../src/exactlyOnce.js';
import { ConnectMetrics } from '../src/metrics.js';
import { MemoryOffsetStore } from '../src/offsetStore.js';
import { ExactlyOnceWorkerSourceTask, type TaskState, type WorkerTaskDeps } from '../src/worker.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** A clock whose sleeps end at once (or on abort), time moving 1 ms per call to now(). */
function fakeClock(): Clock {
  let t = 1_000;
  return {
    now: () => t++,
    sleep: (_ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) reject(signal.reason);
        else setImmediate(resolve);
      }),
  };
}

function recordingProducer(opts: { failCommit?: boolean } = {}) {
  const calls: string[] = [];
  const producer = {
    initTransactions: async () => {
      calls.push('init');
    },
    beginTransaction: () => {
      calls.push('begin');
    },
    send: async (r: { topic: string; messages: Array<{ key?: Buffer; value: Buffer | null }> }) => {
      for (const m of r.messages) calls.push(`send ${r.topic} ${m.key ? `${m.key.toString()}=` : ''}${m.value?.toString()}`);
      return [];
    },
    commitTransaction: async () => {
      if (opts.failCommit) throw new ProducerFencedError('producer 1 epoch 0 of g-c-0 was fenced by epoch 1');
      calls.push('commit');
    },
    abortTransaction: async () => {
      calls.push('abort');
    },
    close: async () => {
      calls.push('close');
    },
  };
  return { calls, producer };
}

/** Returns the scripted batches, one per poll, then nothing; applies each batch's TransactionContext requests. */
class ScriptedTask extends SourceTask {
  static script: Array<{ records: SourceRecord[]; after?: (ctx: ScriptedTask['context'], records: SourceRecord[]) => void }> = [];
  static started: Array<Record<string, unknown> | null> = [];
  private i = 0;
  start(): void {
    ScriptedTask.started.push(this.context.offsetStorageReader.offset({ file: 'f' }));
  }
  async poll(signal: AbortSignal): Promise<SourceRecord[]> {
    const step = ScriptedTask.script[this.i++];
    if (!step) {
      await new Promise((r) => (signal.aborted ? r(undefined) : signal.addEventListener('abort', r, { once: true })));
      return [];
    }
    step.after?.(this.context, step.records);
    return step.records;
  }
  stop(): void {}
}

const rec = (n: number): SourceRecord => ({
  topic: 'out',
  key: null,
  value: `v${n}`,
  sourcePartition: { file: 'f' },
  sourceOffset: { position: n + 1 },
});

function makeTask(connectorConfig: Record<string, string>, producer: object, stored: MemoryOffsetStore) {
  const states: TaskState[] = [];
  const order: string[] = [];
  const global = new MemoryOffsetStore();
  const workerConfig = { 'exactly.once.source.support': 'enabled' };
  const deps: WorkerTaskDeps = {
    samsa: { producer: () => producer } as unknown as Samsa,
    producer: {} as never,
    admin: {} as never,
    clock: fakeClock(),
    logger: quiet,
    metrics: new ConnectMetrics(),
    offsets: global,
    workerConfig,
    exactlyOnce: {
      groupId: 'g',
      globalOffsetsTopic: 'connect-offsets',
      readGlobalOffsets: async () => {
        order.push('read-global');
      },
      readConnectorOffsets: async (topic) => {
        order.push(`read ${topic}`);
        return stored;
      },
    },
  };
  const config = {
    'connector.class': 'x',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    ...connectorConfig,
  };
  const task = new ExactlyOnceWorkerSourceTask(
    { connector: 'c', task: 0 },
    config,
    {},
    deps,
    { onStateChange: (s) => states.push(s) },
    new ScriptedTask(),
    connectorExactlyOnce(config, workerConfig),
  );
  return { task, states, order };
}

const offsetsKey = '["c",{"file":"f"}]';

describe('ExactlyOnceWorkerSourceTask', () => {
  it('poll boundaries: fences first, resumes from the own offsets topic, one transaction per batch with its offsets', async () => {
    const { calls, producer } = recordingProducer();
    const stored = new MemoryOffsetStore();
    await stored.set('c', [{ partition: { file: 'f' }, offset: { position: 7 } }]);
    ScriptedTask.script = [{ records: [rec(7), rec(8)] }, { records: [] }, { records: [rec(9)] }];
    ScriptedTask.started = [];
    const { task, states, order } = makeTask({ 'offsets.storage.topic': 'own-offsets' }, producer, stored);
    task.start();
    await waitFor('two commits', () => calls.filter((c) => c === 'commit').length === 2, 10_000, 5);
    await task.stop();
    expect(order).toEqual(['read-global', 'read own-offsets']);
    expect(ScriptedTask.started).toEqual([{ position: 7 }]);
    expect(states[0]).toBe('RUNNING');
    expect(calls).toEqual([
      'init',
      'begin',
      'send out v7',
      'send out v8',
      `send own-offsets ${offsetsKey}={"position":9}`,
      'commit',
      'begin',
      'send out v9',
      `send own-offsets ${offsetsKey}={"position":10}`,
      'commit',
      'close',
    ]);
  });

  it('connector boundaries: commit after a named record, abort a batch (no offsets), abort what is open at stop', async () => {
    const { calls, producer } = recordingProducer();
    ScriptedTask.script = [
      { records: [rec(0), rec(1), rec(2)], after: (ctx, rs) => ctx.transactionContext!.commitTransaction(rs[1]) },
      { records: [rec(3)], after: (ctx) => ctx.transactionContext!.commitTransaction() },
      { records: [rec(4), rec(5)], after: (ctx) => ctx.transactionContext!.abortTransaction() },
      { records: [rec(6)] },
    ];
    ScriptedTask.started = [];
    const { task } = makeTask({ 'transaction.boundary': 'connector' }, producer, new MemoryOffsetStore());
    task.start();
    await waitFor('the last record sent', () => calls.includes('send out v6'), 10_000, 5);
    await task.stop();
    expect(calls).toEqual([
      'init',
      'begin',
      'send out v0',
      'send out v1',
      `send connect-offsets ${offsetsKey}={"position":2}`,
      'commit',
      'begin',
      'send out v2',
      'send out v3',
      `send connect-offsets ${offsetsKey}={"position":4}`,
      'commit',
      'begin',
      'send out v4',
      'send out v5',
      'abort',
      'begin',
      'send out v6',
      'abort',
      'close',
    ]);
  });

  it('a fenced commit fails the task (a zombie stops)', async () => {
    const { producer } = recordingProducer({ failCommit: true });
    ScriptedTask.script = [{ records: [rec(0)] }];
    const { task, states } = makeTask({}, producer, new MemoryOffsetStore());
    task.start();
    await waitFor('FAILED', () => states.includes('FAILED'), 10_000, 5);
    await task.stop();
    expect(states.at(-1)).toBe('FAILED');
  });
});
