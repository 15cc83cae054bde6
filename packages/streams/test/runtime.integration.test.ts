/**
 * SamsaStreams on a real 3-broker cluster with two instances as child processes: one is SIGKILLed
 * mid-run, the survivor takes its tasks, restores their stores from the changelogs; then a third
 * instance (in this process, so its stores can be queried) joins during processing and takes a
 * share; the final table equals the oracle computed here from the input. The aggregate is a set union of event ids per
 * group, so at-least-once replays after the kill cannot hide a loss: an id processed by the killed
 * instance (and committed) survives only through the changelog restore.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Samsa, serdes } from '@samsa/client';
import { SamsaStreams, StreamsBuilder } from '@samsa/streams';
import type { KeyValueStore } from '@samsa/streams';
// @ts-expect-error: a plain .mjs fixture shared with the child process
import { buildGroupIds, groupIdsConfig } from './fixtures/groupIdsTopology.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from '../../cli/test/helpers/cluster.js';
import { stopProcess } from '../../cli/test/helpers/processes.js';

const APP = fileURLToPath(new URL('./fixtures/groupIdsApp.mjs', import.meta.url));
const BROKER_ARGS = ['--group-initial-rebalance-delay-ms', '300', '--group-min-session-timeout-ms', '1000'];
const GROUPS = 6;
const EVENTS = 900;

interface Instance {
  name: string;
  child: ChildProcess;
  out: string;
  err: string;
}
const instances = new Set<Instance>();

function startInstance(bootstrap: string, name: string): Instance {
  const child = spawn(process.execPath, [APP, bootstrap, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const i: Instance = { name, child, out: '', err: '' };
  child.stdout!.on('data', (d: Buffer) => {
    i.out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    i.err += d.toString();
  });
  instances.add(i);
  return i;
}

/** The tasks an instance last reported while RUNNING. */
function runningTasks(i: Instance): string[] | undefined {
  const lines = i.out.split('\n').filter((l) => l.startsWith(`${i.name} TASKS`) || l.startsWith(`${i.name} STATE`));
  const last = lines[lines.length - 1];
  const m = last && /(?:TASKS RUNNING|STATE RUNNING tasks=)\s*\[(.*)\]/.exec(last);
  if (!m) return undefined;
  return m[1] ? m[1].split(',') : [];
}

describe('SamsaStreams on a 3-broker cluster', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let bootstrap: string;
  let third: SamsaStreams | undefined;
  let fourth: SamsaStreams | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'samsa-streams-state-'));

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 3,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: BROKER_ARGS,
    });
    bootstrap = cluster.bootstrap.join(',');
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000, retry: { retries: 10, maxRetryTimeMs: 1_000 } });
  }, 120_000);

  afterAll(async () => {
    await third?.close();
    await fourth?.close();
    rmSync(stateDir, { recursive: true, force: true });
    await Promise.all([...instances].map((i) => stopProcess(i.child, 'SIGKILL')));
    await samsa?.close();
    await cluster?.stop();
  });

  it('two instances share the tasks; one is SIGKILLed; the survivor restores its stores; a third joins; the final table equals the oracle; persistent stores restart from their checkpoints', async () => {
    const admin = samsa.admin();
    await admin.createTopics([
      { topic: 'events', numPartitions: 4, replicationFactor: 3 },
      { topic: 'group-ids', numPartitions: 4, replicationFactor: 3 },
    ]);
    await waitFor(
      'topics have leaders',
      async () => (await admin.describeTopics(['events', 'group-ids'])).every((t) => t.partitions.every((p) => p.leader >= 0)),
      20_000,
      100,
    );
    const producer = samsa.producer({ key: serdes.string, value: serdes.json<{ group: string; id: number }>(), acks: -1 });
    const oracle = new Map<string, number[]>();
    let next = 0;
    const produce = async (n: number) => {
      const messages = [];
      for (let k = 0; k < n; k++, next++) {
        const group = `g${(next * 7) % GROUPS}`;
        messages.push({ key: `user-${next % 13}`, value: { group, id: next }, timestamp: 1_000 + next });
        oracle.set(group, [...(oracle.get(group) ?? []), next]);
      }
      await producer.send({ topic: 'events', messages });
    };

    await produce(EVENTS / 3);
    const a = startInstance(bootstrap, 'A');
    const b = startInstance(bootstrap, 'B');
    const both = await waitFor(
      'both instances RUNNING with tasks split between them',
      () => {
        const ta = runningTasks(a);
        const tb = runningTasks(b);
        if (!ta || !tb || ta.length === 0 || tb.length === 0) return undefined;
        return new Set([...ta, ...tb]).size === 8 && ta.length + tb.length === 8 ? { ta, tb } : undefined;
      },
      90_000,
      200,
    ).catch((err) => {
      throw new Error(`${err.message}\nA: ${a.out.slice(-1500)}${a.err.slice(-1500)}\nB: ${b.out.slice(-1500)}${b.err.slice(-1500)}`);
    });
    expect(both.ta.filter((t) => both.tb.includes(t))).toEqual([]);
    // Kill the instance that runs aggregate tasks (sub-topology 1, the one with the store), so the
    // survivor must restore them; with a sticky second join one instance may hold only 0_x tasks.
    const [victim, survivor, victimTasks] = both.ta.some((t) => t.startsWith('1_')) ? [a, b, both.ta] : [b, a, both.tb];

    // Output flows; then A dies mid-run (no clean shutdown, no last commit).
    const readTable = async (): Promise<Map<string, number[]>> => {
      const consumer = samsa.consumer({ key: serdes.string, value: serdes.json<number[]>() });
      try {
        const described = await admin.describeTopics(['group-ids']);
        const tps = described[0]!.partitions.map((p) => ({ topic: 'group-ids', partition: p.partition }));
        const ends = await admin.listOffsets(
          'group-ids',
          tps.map((tp) => ({ partition: tp.partition, timestamp: 'latest' as const })),
        );
        consumer.assign(tps);
        for (const tp of tps) await consumer.seek({ ...tp, offset: 'earliest' });
        const table = new Map<string, number[]>();
        for (let round = 0; round < 200; round++) {
          if (ends.every((e) => (consumer.position({ topic: 'group-ids', partition: e.partition }) ?? 0n) >= e.offset)) break;
          for (const r of await consumer.poll({ maxWaitMs: 200 })) if (r.key !== null && r.value !== null) table.set(r.key, r.value);
        }
        return table;
      } finally {
        await consumer.close();
      }
    };
    await produce(EVENTS / 3);
    await waitFor('A and B produced output', async () => ((await readTable()).size === GROUPS ? true : undefined), 60_000, 500);
    await stopProcess(victim.child, 'SIGKILL');
    instances.delete(victim);
    await produce(EVENTS / 3);

    await waitFor('the survivor owns all 8 tasks', () => (runningTasks(survivor)?.length === 8 ? true : undefined), 60_000, 200).catch(
      (err) => {
        throw new Error(`${err.message}\nsurvivor: ${survivor.out.slice(-2000)}${survivor.err.slice(-2000)}`);
      },
    );
    // Scale out while records flow: a third instance joins and takes a share of the tasks.
    // Its `ids` store is persistent (LevelDB under stateDir): checked at the end.
    third = new SamsaStreams(buildGroupIds(StreamsBuilder, serdes, true), { ...groupIdsConfig(bootstrap), stateDir });
    const states: string[] = [];
    third.onStateChange((next) => states.push(next));
    await third.start();
    await produce(EVENTS / 6);
    const c = third;
    await waitFor(
      'the survivor and the third instance split the 8 tasks',
      () => {
        const tb = runningTasks(survivor);
        const tc = c.state === 'RUNNING' ? c.activeTasks() : [];
        return tb && tc.length > 0 && tb.length + tc.length === 8 && new Set([...tb, ...tc]).size === 8 ? true : undefined;
      },
      60_000,
      200,
    ).catch((err) => {
      throw new Error(`${err.message}\nsurvivor: ${survivor.out.slice(-2000)}\nC: ${c.state} ${c.activeTasks()}`);
    });
    await produce(EVENTS / 6);

    const expected = new Map([...oracle].map(([g, ids]) => [g, [...ids].sort((x, y) => x - y)]));
    let last = new Map<string, number[]>();
    await waitFor(
      'the final table equals the oracle',
      async () => {
        last = await readTable();
        return JSON.stringify([...last].sort()) === JSON.stringify([...expected].sort()) ? true : undefined;
      },
      90_000,
      1_000,
    ).catch((err) => {
      const diff = [...expected]
        .map(([g, ids]) => `${g}: missing ${ids.filter((x) => !(last.get(g) ?? []).includes(x)).length}`)
        .join(', ');
      throw new Error(`${err.message} (${diff})\nsurvivor: ${survivor.out.slice(-1500)}${survivor.err.slice(-2000)}`);
    });
    expect(states.slice(0, 2)).toEqual(['REBALANCING', 'RUNNING']);

    // Interactive queries on the third instance: a key it hosts reads the oracle's value locally, a
    // key it does not host is absent from its stores (so the partition it computes is the real one).
    // g0..g5 fall on all four partitions, and either way the assignor places tasks (sticky with B's
    // leader memory, or an even spread) the third instance gets aggregate tasks; wait out any
    // rebalance still in progress.
    await waitFor(
      'the third instance RUNNING with aggregate tasks',
      () => (c.state === 'RUNNING' && c.activeTasks().some((t) => t.startsWith('1_')) ? true : undefined),
      30_000,
      100,
    ).catch((err) => {
      throw new Error(`${err.message}: ${c.state} [${c.activeTasks()}]`);
    });
    let local = 0;
    for (const [group, ids] of expected) {
      const meta = c.queryMetadataForKey('ids', group, serdes.string);
      expect(meta.taskId).toBe(`1_${meta.partition}`);
      expect(meta.local).toBe(c.activeTasks().includes(meta.taskId));
      const found = c
        .store<KeyValueStore<string, number[]>>('ids')
        .map((s) => s.get(group))
        .filter((v) => v !== null);
      if (meta.local) local++;
      expect(found).toEqual(meta.local ? [ids] : []);
    }
    expect(
      local,
      `C: [${c.activeTasks()}] metas: ${JSON.stringify([...expected.keys()].map((g) => c.queryMetadataForKey('ids', g, serdes.string)))} store sizes: ${c.store<KeyValueStore<string, number[]>>('ids').map((x) => x.approximateNumEntries())}`,
    ).toBeGreaterThan(0);
    expect([...last.keys()].sort()).toEqual([...expected.keys()].sort());
    // B rebuilt the aggregate stores of the tasks it took over from their changelogs.
    const takenOver = victimTasks.filter((t) => t.startsWith('1_')).map((t) => Number(t.split('_')[1]));
    const restored = [
      ...survivor.out.matchAll(new RegExp(`${survivor.name} RESTORED ids group-ids-app-ids-changelog-(\\d+) (\\d+)`, 'g')),
    ].map((m) => ({ partition: Number(m[1]), n: Number(m[2]) }));
    expect(takenOver.length).toBeGreaterThan(0);
    for (const p of takenOver) expect(restored.some((r) => r.partition === p && r.n > 0)).toBe(true);
    expect(survivor.child.exitCode).toBe(null);
    await producer.close();
    expect(await stopProcess(survivor.child, 'SIGTERM', 20_000)).toBe(0);
    instances.delete(survivor);

    // The third instance alone runs every task; a clean close writes its LevelDB stores with their
    // checkpoints. A fresh instance over the same stateDir then restores nothing from the changelogs
    // (the checkpoints are at their ends) and still holds every group's full set.
    await waitFor(
      'the third instance owns all 8 tasks',
      () => (c.state === 'RUNNING' && c.activeTasks().length === 8 ? true : undefined),
      60_000,
      200,
    ).catch((err) => {
      throw new Error(`${err.message}: ${c.state} [${c.activeTasks()}]`);
    });
    await c.close();
    expect(c.state).toBe('NOT_RUNNING');
    const restoredByFourth: Array<{ partition: number; n: number }> = [];
    fourth = new SamsaStreams(buildGroupIds(StreamsBuilder, serdes, true), {
      ...groupIdsConfig(bootstrap),
      stateDir,
      restoreListener: {
        onRestoreEnd: (tp, store, n) => {
          if (store === 'ids') restoredByFourth.push({ partition: tp.partition, n });
        },
      },
    });
    await fourth.start();
    const d = fourth;
    await waitFor(
      'a fresh instance on the same stateDir runs all 8 tasks',
      () => (d.state === 'RUNNING' && d.activeTasks().length === 8 ? true : undefined),
      60_000,
      200,
    ).catch((err) => {
      throw new Error(`${err.message}: ${d.state} [${d.activeTasks()}]`);
    });
    expect(restoredByFourth.map((r) => r.partition).sort()).toEqual([0, 1, 2, 3]);
    expect(restoredByFourth.every((r) => r.n === 0)).toBe(true);
    for (const [group, ids] of expected) {
      expect(
        d
          .store<KeyValueStore<string, number[]>>('ids')
          .map((s) => s.get(group))
          .filter((v) => v !== null),
      ).toEqual([ids]);
    }
  }, 300_000);
});
