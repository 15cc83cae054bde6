/**
 * Three `samsa connect distributed` workers sharing one group.id: connectors created through any
 * worker (forwarded to the leader), answered by every worker; SIGKILL the worker running the
 * source: it moves to a live worker and resumes from the offset topic (no line lost), while the
 * connector on a healthy worker stays where it was (incremental assignment).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, freePort, removeDir, startNode, stopAll, stopProcess, tempDir, type NodeProcess } from '../../cli/test/helpers/processes.js';
import { waitFor as waitUntil } from '@samsa/testkit';

/** testkit's one waitFor, with this file's generous default bound (connectors under load). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 90_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, 100);

interface Worker {
  port: number;
  child: ChildProcess;
  out: string;
}

describe('samsa connect distributed', () => {
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

  async function startWorker(): Promise<Worker> {
    const port = await freePort();
    const file = join(dir, `worker-${port}.properties`);
    writeFileSync(
      file,
      [
        `bootstrap.servers=${node.address}`,
        'group.id=connect-cluster',
        'config.storage.topic=connect-configs',
        'offset.storage.topic=connect-offsets',
        'status.storage.topic=connect-status',
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
    dir = tempDir('connect-dist');
    node = await startNode({ dataDir: join(dir, 'node') });
    samsa = new Samsa({ brokers: [node.address] });
    await samsa.admin().createTopics([{ topic: 'dist-lines', numPartitions: 1, replicationFactor: 1 }]);
    writeFileSync(input(), Array.from({ length: 300 }, (_, i) => `line ${i}`).join('\n') + '\n');
    for (let i = 0; i < 3; i++) await startWorker();
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) await stopProcess(w.child, 'SIGKILL');
    await samsa?.close();
    await stopAll();
    removeDir(dir);
  });

  it("runs connectors created through any worker, and moves the killed worker's connector with its offsets", async () => {
    // The leader is the live worker with the smallest id; create through one that is not, so the write is forwarded.
    const ids = workers.map((w) => `127.0.0.1:${w.port}`).sort();
    const follower = workers.find((w) => `127.0.0.1:${w.port}` === ids[2])!;
    const created = await rest(follower, 'POST', '/connectors', {
      name: 'src',
      config: { 'connector.class': 'FileStreamSource', file: input(), topic: 'dist-lines' },
    });
    expect(created.status).toBe(201);
    expect(
      (
        await rest(workers[1]!, 'POST', '/connectors', {
          name: 'sink',
          config: { 'connector.class': 'FileStreamSink', file: output(), topics: 'dist-lines' },
        })
      ).status,
    ).toBe(201);
    const bad = await rest(workers[0]!, 'POST', '/connectors', { name: 'bad', config: { 'connector.class': 'FileStreamSink' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Must configure one of topics or topics.regex');
    expect(
      (
        await rest(workers[1]!, 'POST', '/connectors', {
          name: 'src',
          config: { 'connector.class': 'FileStreamSource', file: input(), topic: 'dist-lines' },
        })
      ).status,
    ).toBe(409);

    const running = async (w: Worker, name: string) => {
      const s = (await rest(w, 'GET', `/connectors/${name}/status`)).body;
      return s?.connector?.state === 'RUNNING' && s.tasks.length === 1 && s.tasks[0].state === 'RUNNING' ? s : undefined;
    };
    const srcBefore = await waitFor('src running', () => running(workers[0]!, 'src'));
    const sinkBefore = await waitFor('sink running', () => running(workers[0]!, 'sink'));
    for (const w of workers) {
      expect((await rest(w, 'GET', '/connectors')).body).toEqual(['sink', 'src']);
      expect((await rest(w, 'GET', '/connectors/src/status')).body.connector.worker_id).toBe(srcBefore.connector.worker_id);
    }
    await waitFor('300 lines in the sink file', () => outputLines().length >= 300);
    await waitFor(
      'the source offset in the offset topic',
      async () => (await rest(workers[1]!, 'GET', '/connectors/src/offsets')).body.offsets[0]?.offset?.position === 300,
    );

    const victim = workers.find((w) => `127.0.0.1:${w.port}` === srcBefore.connector.worker_id)!;
    await stopProcess(victim.child, 'SIGKILL');
    appendFileSync(input(), Array.from({ length: 200 }, (_, i) => `after ${i}`).join('\n') + '\n');
    const survivors = workers.filter((w) => w !== victim);
    const srcAfter = await waitFor('src running on a live worker', async () => {
      const s = await running(survivors[0]!, 'src');
      return s && s.connector.worker_id !== srcBefore.connector.worker_id ? s : undefined;
    });
    expect(survivors.map((w) => `127.0.0.1:${w.port}`)).toContain(srcAfter.connector.worker_id);
    await waitFor('every line after the move', () => outputLines().includes('after 199'));
    const expected = [...Array.from({ length: 300 }, (_, i) => `line ${i}`), ...Array.from({ length: 200 }, (_, i) => `after ${i}`)];
    const lines = outputLines();
    for (const l of expected) expect(lines).toContain(l);
    expect([...new Set(lines)]).toEqual(expected);
    // Two connectors on three workers sit on two workers; the sink's stayed healthy, and incremental assignment left it alone.
    expect(sinkBefore.connector.worker_id).not.toBe(srcBefore.connector.worker_id);
    expect((await rest(survivors[1]!, 'GET', '/connectors/sink/status')).body.connector.worker_id).toBe(sinkBefore.connector.worker_id);
    expect((await rest(survivors[0]!, 'GET', '/connectors/sink/status')).body.connector.worker_id).toBe(sinkBefore.connector.worker_id);
    for (const w of survivors) expect((await rest(w, 'GET', '/connectors')).body).toEqual(['sink', 'src']);
  }, 240_000);
});
