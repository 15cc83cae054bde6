/**
 * A standalone Connect worker (`samsa connect standalone`) against a real Samsa node: FileStream
 * source → topic (JSON envelope) → FileStream sink, Kafka Connect's REST shapes and errors,
 * pause/resume/stop, KIP-875 offsets, a worker SIGKILL (at-least-once: nothing missed), metrics,
 * and the `samsa connectors` CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Samsa } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  freePort,
  removeDir,
  runCliAsync,
  startNode,
  stopAll,
  stopProcess,
  tempDir,
  type NodeProcess,
} from '../../cli/test/helpers/processes.js';
import { waitFor as waitUntil } from '@samsa/testkit';

/** testkit's one waitFor, with this file's generous default bound (connectors under load). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, 100);

describe('samsa connect standalone', () => {
  let dir: string;
  let node: NodeProcess;
  let samsa: Samsa;
  let restPort: number;
  let worker: ChildProcess | undefined;
  let workerOut = '';
  const input = () => join(dir, 'input.txt');
  const output = () => join(dir, 'output.txt');
  const url = (p: string) => `http://127.0.0.1:${restPort}${p}`;
  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url(path), {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as any) };
  };
  const outputLines = () => (existsSync(output()) ? readFileSync(output(), 'utf8').split('\n').filter(Boolean) : []);

  async function startWorker(): Promise<void> {
    workerOut = '';
    worker = spawn(
      process.execPath,
      [
        CLI,
        'connect',
        'standalone',
        join(dir, 'worker.properties'),
        join(dir, 'source.properties'),
        join(dir, 'sink.properties'),
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    worker.stdout!.on('data', (d: Buffer) => {
      workerOut += d.toString();
    });
    worker.stderr!.on('data', (d: Buffer) => {
      workerOut += d.toString();
    });
    await waitFor(
      'the worker to start',
      () => {
        if (worker!.exitCode !== null) throw new Error(`worker exited ${worker!.exitCode}: ${workerOut}`);
        return workerOut.includes('Connect worker started');
      },
      60_000,
    );
  }

  beforeAll(async () => {
    dir = tempDir('connect');
    node = await startNode({ dataDir: join(dir, 'node') });
    samsa = new Samsa({ brokers: [node.address] });
    await samsa.admin().createTopics([{ topic: 'lines', numPartitions: 1, replicationFactor: 1 }]);
    restPort = await freePort();
    writeFileSync(
      join(dir, 'worker.properties'),
      [
        `bootstrap.servers=${node.address}`,
        `rest.port=${restPort}`,
        'rest.host.name=127.0.0.1',
        `offset.storage.file.filename=${join(dir, 'offsets.json')}`,
        'offset.flush.interval.ms=300',
        'consumer.session.timeout.ms=6000',
        'consumer.heartbeat.interval.ms=500',
        'key.converter=org.apache.kafka.connect.json.JsonConverter',
        'value.converter=org.apache.kafka.connect.json.JsonConverter',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'source.properties'),
      `name=src\nconnector.class=FileStreamSource\ntasks.max=1\nfile=${input()}\ntopic=lines\n`,
    );
    writeFileSync(
      join(dir, 'sink.properties'),
      `name=sink\nconnector.class=org.apache.kafka.connect.file.FileStreamSinkConnector\ntopics=lines\nfile=${output()}\n`,
    );
    writeFileSync(input(), Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
    await startWorker();
  }, 120_000);

  afterAll(async () => {
    if (worker) await stopProcess(worker, 'SIGKILL');
    await samsa?.close();
    await stopAll();
    removeDir(dir);
  });

  it('moves file lines through a topic into a file, as JsonConverter envelopes on the topic', async () => {
    await waitFor('100 lines in the sink file', () => outputLines().length >= 100);
    expect(outputLines()).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
    const consumer = samsa.consumer();
    consumer.assign([{ topic: 'lines', partition: 0 }]);
    await consumer.seek({ topic: 'lines', partition: 0, offset: 0n });
    const records = await waitFor('records', async () => {
      const r = await consumer.poll({ maxWaitMs: 500 });
      return r.length > 0 ? r : undefined;
    });
    expect(records[0]!.value!.toString()).toBe('{"schema":{"type":"string","optional":false},"payload":"line 0"}');
    expect(records[0]!.key).toBeNull();
    await consumer.close();
  });

  it("answers Kafka Connect's REST shapes", async () => {
    const root = await rest('GET', '/');
    expect(root.status).toBe(200);
    expect(Object.keys(root.body).sort()).toEqual(['commit', 'kafka_cluster_id', 'version']);
    expect((await rest('GET', '/connectors')).body).toEqual(['sink', 'src']);
    const expanded = (await rest('GET', '/connectors?expand=status&expand=info')).body;
    expect(expanded.src.info).toEqual({
      name: 'src',
      type: 'source',
      tasks: [{ connector: 'src', task: 0 }],
      config: { name: 'src', 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: input(), topic: 'lines' },
    });
    expect(expanded.sink.status).toEqual({
      name: 'sink',
      type: 'sink',
      connector: { state: 'RUNNING', worker_id: `127.0.0.1:${restPort}` },
      tasks: [{ id: 0, state: 'RUNNING', worker_id: `127.0.0.1:${restPort}` }],
    });
    expect((await rest('GET', '/connectors/src/config')).body.topic).toBe('lines');
    expect((await rest('GET', '/connectors/src/tasks')).body).toEqual([
      { id: { connector: 'src', task: 0 }, config: { file: input(), topic: 'lines', 'batch.size': '2000' } },
    ]);
    expect((await rest('GET', '/connectors/src/tasks/0/status')).body).toEqual({
      id: 0,
      state: 'RUNNING',
      worker_id: `127.0.0.1:${restPort}`,
    });
    expect(await rest('GET', '/connectors/nope')).toEqual({ status: 404, body: { error_code: 404, message: 'Connector nope not found' } });
    expect((await rest('GET', '/connectors/src/tasks/7/status')).status).toBe(404);
    const plugins = (await rest('GET', '/connector-plugins')).body;
    expect(plugins).toContainEqual({ class: 'org.apache.kafka.connect.file.FileStreamSinkConnector', type: 'sink', version: '0.1.0' });
    const validated = (
      await rest('PUT', '/connector-plugins/FileStreamSink/config/validate', {
        'connector.class': 'FileStreamSink',
        name: 'x',
        topics: 'lines',
      })
    ).body;
    expect(validated.name).toBe('org.apache.kafka.connect.file.FileStreamSinkConnector');
    expect(validated.error_count).toBe(1);
    expect(validated.configs.find((c: any) => c.definition.name === 'file').value.errors).toEqual([
      'Missing required configuration "file" which has no default value.',
    ]);
    expect((await fetch(url('/metrics'))).status).toBe(200);
  });

  it('refuses a bad connector config with the validation message and creates nothing; 409 on a duplicate', async () => {
    const bad = await rest('POST', '/connectors', {
      name: 'bad',
      config: { 'connector.class': 'FileStreamSource', topic: 'a,b', 'tasks.max': '0' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe(400);
    expect(bad.body.message).toContain('Connector configuration is invalid and contains the following 3 error(s):');
    expect(bad.body.message).toContain('Missing required configuration "file" which has no default value.');
    expect(bad.body.message).toContain('Invalid value 0 for configuration tasks.max: Value must be at least 1');
    expect(bad.body.message).toContain("'topic' in FileStreamSourceConnector configuration requires definition of a single topic");
    expect((await rest('GET', '/connectors')).body).toEqual(['sink', 'src']);
    const unknown = await rest('POST', '/connectors', { name: 'bad', config: { 'connector.class': 'com.example.Missing' } });
    expect(unknown).toEqual({
      status: 400,
      body: { error_code: 400, message: 'Failed to find any class that implements Connector and which name matches com.example.Missing' },
    });
    const dup = await rest('POST', '/connectors', {
      name: 'src',
      config: { 'connector.class': 'FileStreamSource', file: input(), topic: 'lines' },
    });
    expect(dup).toEqual({ status: 409, body: { error_code: 409, message: 'Connector src already exists' } });
  });

  it('creates, reconfigures, restarts and deletes a connector over REST', async () => {
    const created = await rest('POST', '/connectors', {
      name: 'copy',
      config: { 'connector.class': 'FileStreamSink', topics: 'lines', file: join(dir, 'copy.txt') },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'copy',
      type: 'sink',
      tasks: [{ connector: 'copy', task: 0 }],
      config: { 'connector.class': 'FileStreamSink', topics: 'lines', file: join(dir, 'copy.txt'), name: 'copy' },
    });
    await waitFor(
      'the copy sink to catch up',
      () => existsSync(join(dir, 'copy.txt')) && readFileSync(join(dir, 'copy.txt'), 'utf8').split('\n').filter(Boolean).length >= 100,
    );
    const patched = await rest('PATCH', '/connectors/copy/config', { 'tasks.max': '2' });
    expect(patched.status).toBe(200);
    expect(patched.body.tasks).toHaveLength(2);
    const put = await rest('PUT', '/connectors/copy/config', {
      'connector.class': 'FileStreamSink',
      topics: 'lines',
      file: join(dir, 'copy.txt'),
    });
    expect(put.status).toBe(200);
    expect(put.body.tasks).toHaveLength(1);
    const restarted = await rest('POST', '/connectors/copy/restart?includeTasks=true');
    expect(restarted.status).toBe(202);
    expect(restarted.body.connector.state).toBe('RESTARTING');
    expect(restarted.body.tasks[0].state).toBe('RESTARTING');
    expect((await rest('POST', '/connectors/copy/restart')).status).toBe(204);
    expect((await rest('POST', '/connectors/copy/tasks/0/restart')).status).toBe(204);
    expect((await rest('DELETE', '/connectors/copy')).status).toBe(204);
    expect((await rest('GET', '/connectors/copy')).status).toBe(404);
    const viaPut = await rest('PUT', '/connectors/copy2/config', {
      'connector.class': 'FileStreamSink',
      topics: 'lines',
      file: join(dir, 'copy2.txt'),
    });
    expect(viaPut.status).toBe(201);
    expect((await rest('DELETE', '/connectors/copy2')).status).toBe(204);
  });

  it('pauses and resumes; alters and resets offsets only while STOPPED (KIP-875)', async () => {
    await waitFor('the source offset to be committed', async () => {
      const o = (await rest('GET', '/connectors/src/offsets')).body;
      return o.offsets.length === 1 && o.offsets[0].offset.position === 100 ? o : undefined;
    });
    expect((await rest('GET', '/connectors/src/offsets')).body).toEqual({
      offsets: [{ partition: { filename: input() }, offset: { position: 100 } }],
    });
    const sinkOffsets = await waitFor('the sink offset', async () => {
      const o = (await rest('GET', '/connectors/sink/offsets')).body;
      return o.offsets.length === 1 && o.offsets[0].offset.kafka_offset === 100 ? o : undefined;
    });
    expect(sinkOffsets).toEqual({ offsets: [{ partition: { kafka_topic: 'lines', kafka_partition: 0 }, offset: { kafka_offset: 100 } }] });

    expect((await rest('PUT', '/connectors/src/pause')).status).toBe(202);
    expect((await rest('GET', '/connectors/src/status')).body.connector.state).toBe('PAUSED');
    await waitFor('the task to be paused', async () => (await rest('GET', '/connectors/src/status')).body.tasks[0].state === 'PAUSED');
    expect((await rest('PUT', '/connectors/src/resume')).status).toBe(202);
    expect((await rest('GET', '/connectors/src/status')).body.tasks[0].state).toBe('RUNNING');

    const refused = await rest('PATCH', '/connectors/src/offsets', {
      offsets: [{ partition: { filename: input() }, offset: { position: 90 } }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^Connectors must be in the STOPPED state before their offsets can be modified/);

    expect((await rest('PUT', '/connectors/src/stop')).status).toBe(202);
    expect((await rest('GET', '/connectors/src/status')).body).toMatchObject({ connector: { state: 'STOPPED' }, tasks: [] });
    const altered = await rest('PATCH', '/connectors/src/offsets', {
      offsets: [{ partition: { filename: input() }, offset: { position: 90 } }],
    });
    expect(altered.status).toBe(200);
    expect(altered.body.message).toMatch(/offsets for this connector have been altered successfully/);
    expect((await rest('PUT', '/connectors/src/resume')).status).toBe(202);
    // Lines 90..99 are read again from the altered offset.
    await waitFor('the replayed lines', () => outputLines().length >= 110);
    expect(outputLines().slice(100)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${90 + i}`));

    // DELETE resets: after the resume every line is read again from the start.
    expect((await rest('DELETE', '/connectors/src/offsets')).status).toBe(400);
    expect((await rest('PUT', '/connectors/src/stop')).status).toBe(202);
    expect((await rest('GET', '/connectors/src/offsets')).body).toEqual({
      offsets: [{ partition: { filename: input() }, offset: { position: 100 } }],
    });
    const reset = await rest('DELETE', '/connectors/src/offsets');
    expect(reset.status).toBe(200);
    expect(reset.body.message).toMatch(/offsets for this connector have been reset successfully/);
    expect((await rest('GET', '/connectors/src/offsets')).body).toEqual({ offsets: [] });
    expect((await rest('PUT', '/connectors/src/resume')).status).toBe(202);
    await waitFor('every line again', () => outputLines().length >= 210);
    expect(outputLines().slice(110)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
  });

  it('loses no line across a worker SIGKILL (at-least-once) and resumes from the stored offset', async () => {
    appendFileSync(input(), Array.from({ length: 300 }, (_, i) => `more ${i}`).join('\n') + '\n');
    await waitFor('some of the new lines', () => outputLines().some((l) => l.startsWith('more ')));
    await stopProcess(worker!, 'SIGKILL');
    appendFileSync(input(), Array.from({ length: 50 }, (_, i) => `after ${i}`).join('\n') + '\n');
    await startWorker();
    await waitFor('every line after the restart', () => outputLines().includes('after 49'));
    const lines = outputLines();
    const expected = [...Array.from({ length: 300 }, (_, i) => `more ${i}`), ...Array.from({ length: 50 }, (_, i) => `after ${i}`)];
    for (const l of expected) expect(lines).toContain(l);
    // Duplicates (the at-least-once window) are a replay from the last committed offset: first sightings stay in file order.
    const firstSeen = [...new Set(lines.filter((l) => !l.startsWith('line ')))];
    expect(firstSeen).toEqual(expected);
    const committed = JSON.parse(readFileSync(join(dir, 'offsets.json'), 'utf8')) as Array<[string, unknown]>;
    expect(committed.map(([k]) => JSON.parse(k))).toEqual([['src', { filename: input() }]]);
  }, 120_000);

  it('counts records per connector and task on /metrics, and samsa connectors lists and pauses', async () => {
    const text = await (await fetch(url('/metrics'))).text();
    const written = Number(/samsa_connect_source_record_write_total\{connector="src",task="0"\} (\d+)/.exec(text)?.[1]);
    expect(written).toBeGreaterThanOrEqual(50);
    expect(text).toMatch(/samsa_connect_sink_record_send_total\{connector="sink",task="0"\} \d+/);
    const listed = await runCliAsync(['connectors', '--url', url(''), '--list']);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain('src\tsource\tRUNNING\ttasks=1');
    const paused = await runCliAsync(['connectors', '--url', url(''), '--pause', 'sink']);
    expect(paused.stdout).toBe('Paused connector sink.\n');
    expect((await rest('GET', '/connectors/sink/status')).body.connector.state).toBe('PAUSED');
    writeFileSync(
      join(dir, 'extra.properties'),
      `name=extra\nconnector.class=FileStreamSink\ntopics=lines\nfile=${join(dir, 'extra.txt')}\n`,
    );
    const created = await runCliAsync(['connectors', '--url', url(''), '--create', join(dir, 'extra.properties')]);
    expect(created.stdout).toBe('Created connector extra.\n');
    expect((await rest('GET', '/connectors')).body).toEqual(['extra', 'sink', 'src']);
    const deleted = await runCliAsync(['connectors', '--url', url(''), '--delete', 'extra']);
    expect(deleted.stdout).toBe('Deleted connector extra.\n');
    expect((await rest('GET', '/connectors')).body).toEqual(['sink', 'src']);
    const missing = await runCliAsync(['connectors', '--url', url(''), '--status', 'nope']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('404: Connector nope not found');
  }, 60_000);
});
