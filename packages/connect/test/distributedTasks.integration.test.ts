/**
 * Three `samsa connect distributed` workers: per-task assignment and KIP-875 offsets on the offset
 * topic. A stopped FileStream source's offsets altered (PATCH) and reset (DELETE) through a
 * follower make it resume from the new position; a datagen connector's three tasks run one per
 * worker, and after a SIGKILL of one worker its task (and connector) move while the two other
 * tasks keep running without a restart (their `task_start_total` stays 1, their counters grow).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa } from '@samsa/client';
import { waitFor as waitUntil } from '@samsa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, freePort, removeDir, startNode, stopAll, stopProcess, tempDir, type NodeProcess } from '../../cli/test/helpers/processes.js';
import { parseAssignment } from '../src/assignment.js';
import { SOURCE_ALTER_MESSAGE, SOURCE_RESET_MESSAGE } from '../src/herder.js';

/** testkit's one waitFor, with this file's generous default bound (workers under load). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 90_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, 100);

interface Worker {
  id: string;
  port: number;
  child: ChildProcess;
  out: string;
}

describe('samsa connect distributed: tasks and offsets', () => {
  let dir: string;
  let node: NodeProcess;
  let samsa: Samsa;
  const workers: Worker[] = [];
  const input = () => join(dir, 'input.txt');
  const output = () => join(dir, 'output.txt');
  const outputLines = () => (existsSync(output()) ? readFileSync(output(), 'utf8').split('\n').filter(Boolean) : []);
  const rest = async (w: Worker, method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${w.port}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as any) };
  };
  const metric = async (w: Worker, name: string, connector: string, task: number): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text();
    const m = new RegExp(`samsa_connect_${name}\\{connector="${connector}",task="${task}"\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  };

  async function startWorker(): Promise<Worker> {
    const port = await freePort();
    const file = join(dir, `worker-${port}.properties`);
    writeFileSync(
      file,
      [
        `bootstrap.servers=${node.address}`,
        'group.id=connect-tasks',
        'config.storage.topic=tasks-configs',
        'offset.storage.topic=tasks-offsets',
        'status.storage.topic=tasks-status',
        'offset.storage.partitions=3',
        'status.storage.partitions=2',
        `rest.port=${port}`,
        'rest.host.name=127.0.0.1',
        'offset.flush.interval.ms=300',
        'heartbeat.interval.ms=500',
        'session.timeout.ms=4000',
        'consumer.session.timeout.ms=6000',
        'consumer.heartbeat.interval.ms=500',
      ].join('\n'),
    );
    const w: Worker = {
      id: `127.0.0.1:${port}`,
      port,
      child: spawn(process.execPath, [CLI, 'connect', 'distributed', file, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] }),
      out: '',
    };
    w.child.stdout!.on('data', (d: Buffer) => {
      w.out += d.toString();
    });
    w.child.stderr!.on('data', (d: Buffer) => {
      w.out += d.toString();
    });
    await waitFor(
      `worker ${port} to start`,
      () => {
        if (w.child.exitCode !== null) throw new Error(`worker exited ${w.child.exitCode}: ${w.out}`);
        return w.out.includes('Connect worker started');
      },
      60_000,
    );
    workers.push(w);
    return w;
  }

  beforeAll(async () => {
    dir = tempDir('connect-tasks');
    node = await startNode({ dataDir: join(dir, 'node') });
    samsa = new Samsa({ brokers: [node.address] });
    await samsa.admin().createTopics([
      { topic: 'offset-lines', numPartitions: 1, replicationFactor: 1 },
      { topic: 'gen', numPartitions: 1, replicationFactor: 1 },
    ]);
    writeFileSync(input(), Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
    for (let i = 0; i < 3; i++) await startWorker();
    // The leader's assignment names all three workers as members before any connector exists.
    const consumer = samsa.consumer();
    try {
      consumer.assign([{ topic: 'tasks-configs', partition: 0 }]);
      await consumer.seek({ topic: 'tasks-configs', partition: 0, offset: 0n });
      await waitFor('an assignment with three members', async () => {
        for (const r of await consumer.poll({ maxWaitMs: 300 })) {
          if (r.key?.toString() !== 'samsa-assignment' || r.value === null) continue;
          if (parseAssignment(JSON.parse(r.value.toString('utf8'))).members.length === 3) return true;
        }
        return false;
      });
    } finally {
      await consumer.close();
    }
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) await stopProcess(w.child, 'SIGKILL');
    await samsa?.close();
    await stopAll();
    removeDir(dir);
  });

  it("alters and resets a stopped FileStream source's offsets in the offset topic; it resumes from there", async () => {
    const ids = workers.map((w) => w.id).sort();
    const follower = workers.find((w) => w.id === ids[2])!;
    const other = workers.find((w) => w.id === ids[1])!;
    expect(
      (
        await rest(follower, 'POST', '/connectors', {
          name: 'src',
          config: { 'connector.class': 'FileStreamSource', file: input(), topic: 'offset-lines' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await rest(follower, 'POST', '/connectors', {
          name: 'sink',
          config: { 'connector.class': 'FileStreamSink', file: output(), topics: 'offset-lines' },
        })
      ).status,
    ).toBe(201);
    await waitFor('100 lines in the sink file', () => outputLines().length >= 100);
    await waitFor(
      'the source offset in the offset topic',
      async () => (await rest(other, 'GET', '/connectors/src/offsets')).body.offsets[0]?.offset?.position === 100,
    );

    const refused = await rest(follower, 'PATCH', '/connectors/src/offsets', {
      offsets: [{ partition: { filename: input() }, offset: { position: 90 } }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe(
      "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint",
    );
    expect((await rest(follower, 'DELETE', '/connectors/src/offsets')).status).toBe(400);

    const stop = async () => {
      expect((await rest(follower, 'PUT', '/connectors/src/stop')).status).toBe(202);
      await waitFor('src stopped with no tasks', async () => {
        const s = (await rest(other, 'GET', '/connectors/src/status')).body;
        return s.connector.state === 'STOPPED' && s.tasks.length === 0;
      });
    };
    /** Retries while the task's host has not yet reported it stopped (its final flush); any other answer ends the wait. */
    const whenStopped = (method: string, body?: unknown) =>
      waitFor(`${method} offsets once the task is down`, async () => {
        const r = await rest(follower, method, '/connectors/src/offsets', body);
        if (r.status === 400 && String(r.body.message).startsWith('Connectors must be in the STOPPED state')) return undefined;
        return r;
      });

    await stop();
    const bad = await rest(follower, 'PATCH', '/connectors/src/offsets', { offsets: [{ partition: { filename: input() }, offset: 7 }] });
    expect(bad).toEqual({ status: 400, body: { error_code: 400, message: 'Offset for a source partition must be an object or null' } });
    const altered = await whenStopped('PATCH', { offsets: [{ partition: { filename: input() }, offset: { position: 90 } }] });
    expect(altered).toEqual({ status: 200, body: { message: SOURCE_ALTER_MESSAGE } });
    for (const w of workers)
      await waitFor(
        'the altered offset on every worker',
        async () => (await rest(w, 'GET', '/connectors/src/offsets')).body.offsets[0]?.offset?.position === 90,
      );
    expect((await rest(follower, 'PUT', '/connectors/src/resume')).status).toBe(202);
    await waitFor('the lines after 90 again', () => outputLines().length >= 110);
    expect(outputLines().slice(100)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${90 + i}`));

    await waitFor(
      'the offset back at 100',
      async () => (await rest(other, 'GET', '/connectors/src/offsets')).body.offsets[0]?.offset?.position === 100,
    );
    await stop();
    const reset = await whenStopped('DELETE');
    expect(reset).toEqual({ status: 200, body: { message: SOURCE_RESET_MESSAGE } });
    await waitFor('no offsets on any worker', async () => {
      for (const w of workers) if ((await rest(w, 'GET', '/connectors/src/offsets')).body.offsets.length !== 0) return false;
      return true;
    });
    expect((await rest(follower, 'PUT', '/connectors/src/resume')).status).toBe(202);
    await waitFor('every line again from the start', () => outputLines().length >= 210);
    expect(outputLines().slice(110)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
    for (const name of ['src', 'sink']) expect((await rest(follower, 'DELETE', `/connectors/${name}`)).status).toBe(204);
  }, 240_000);

  it("runs one connector's three tasks one per worker; a SIGKILL moves only the dead worker's task", async () => {
    const created = await rest(workers[0]!, 'POST', '/connectors', {
      name: 'gen',
      config: { 'connector.class': 'DatagenConnector', 'kafka.topic': 'gen', quickstart: 'users', 'max.interval': '20', 'tasks.max': '3' },
    });
    expect(created.status).toBe(201);
    const spread = await waitFor('three RUNNING tasks on three workers', async () => {
      const s = (await rest(workers[1]!, 'GET', '/connectors/gen/status')).body;
      if (s?.connector?.state !== 'RUNNING' || s.tasks.length !== 3) return undefined;
      if (!s.tasks.every((t: { state: string }) => t.state === 'RUNNING')) return undefined;
      return new Set(s.tasks.map((t: { worker_id: string }) => t.worker_id)).size === 3 ? s : undefined;
    });
    const hostOf = new Map<number, string>(spread.tasks.map((t: { id: number; worker_id: string }) => [t.id, t.worker_id]));
    const byId = (id: string) => workers.find((w) => w.id === id)!;
    for (const [task, host] of hostOf) expect(await metric(byId(host), 'task_start_total', 'gen', task)).toBe(1);

    // Datagen's source partition is {task: "<id>"}.
    // The worker running the connector dies: its task and the connector move.
    const victimId: string = spread.connector.worker_id;
    const victimTask = [...hostOf].find(([, h]) => h === victimId)![0];
    const kept = [...hostOf].filter(([, h]) => h !== victimId);
    const writtenBefore = new Map<number, number>();
    for (const [task, host] of kept) writtenBefore.set(task, await metric(byId(host), 'source_record_write_total', 'gen', task));
    await waitFor('an offset for the victim task', async () => {
      const o = (await rest(workers[1]!, 'GET', '/connectors/gen/offsets')).body.offsets;
      return o.some((e: { partition: { task: string } }) => e.partition.task === String(victimTask));
    });
    await stopProcess(byId(victimId).child, 'SIGKILL');
    const survivors = workers.filter((w) => w.id !== victimId && w.child.exitCode === null);
    expect(survivors).toHaveLength(2);

    const after = await waitFor("the dead worker's task RUNNING on a survivor", async () => {
      const s = (await rest(survivors[0]!, 'GET', '/connectors/gen/status')).body;
      const moved = s?.tasks?.[victimTask];
      return moved?.state === 'RUNNING' &&
        moved.worker_id !== victimId &&
        s.connector.state === 'RUNNING' &&
        s.connector.worker_id !== victimId
        ? s
        : undefined;
    });
    expect(survivors.map((w) => w.id)).toContain(after.tasks[victimTask].worker_id);
    expect(survivors.map((w) => w.id)).toContain(after.connector.worker_id);
    expect(await metric(byId(after.tasks[victimTask].worker_id), 'task_start_total', 'gen', victimTask)).toBe(1);
    // The moved task resumes from the offset its old worker stored: its position keeps growing from there.
    const offsetOf = async () =>
      (await rest(survivors[1]!, 'GET', '/connectors/gen/offsets')).body.offsets.find(
        (e: { partition: { task: string } }) => e.partition.task === String(victimTask),
      )?.offset?.position as number;
    const stored = await offsetOf();
    await waitFor('the moved task to commit past its stored offset', async () => (await offsetOf()) > stored);

    // The two healthy tasks stayed where they were, were never restarted, and kept producing.
    for (const [task, host] of kept) {
      expect(after.tasks[task]).toMatchObject({ state: 'RUNNING', worker_id: host });
      await waitFor(
        `task ${task} to keep producing`,
        async () => (await metric(byId(host), 'source_record_write_total', 'gen', task)) > writtenBefore.get(task)!,
      );
      expect(await metric(byId(host), 'task_start_total', 'gen', task)).toBe(1);
    }
    expect((await rest(survivors[1]!, 'DELETE', '/connectors/gen')).status).toBe(204);
  }, 240_000);
});
