/**
 * The `samsa` CLI against a real node: Kafka-style topics/produce/consume flows, and the one-line
 * errors for a wrong flag, an unreachable broker, an unknown topic and bad topic settings.
 */
import { Samsa } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, removeDir, runCliAsync, startNode, stopAll, tempDir, type NodeProcess } from './helpers/processes.js';

describe('samsa CLI', () => {
  let dataDir: string;
  let node: NodeProcess;
  let bootstrap: string[];

  beforeAll(async () => {
    dataDir = tempDir('cli');
    node = await startNode({ dataDir });
    bootstrap = ['--bootstrap-server', node.address];
  });

  afterAll(async () => {
    await stopAll();
    removeDir(dataDir);
  });

  it('creates, lists, describes and deletes topics', async () => {
    const created = await runCliAsync([
      'topics',
      '--create',
      ...bootstrap,
      '--topic',
      'orders',
      '--partitions',
      '3',
      '--replication-factor',
      '1',
      '--config',
      'retention.ms=60000',
    ]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('Created topic orders.');
    expect(created.status).toBe(0);

    const listed = await runCliAsync(['topics', '--list', ...bootstrap]);
    expect(listed.stdout.split('\n')).toContain('orders');

    const described = await runCliAsync(['topics', '--describe', ...bootstrap, '--topic', 'orders']);
    expect(described.status).toBe(0);
    expect(described.stdout).toMatch(
      /Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=60000/,
    );
    expect(described.stdout.match(/Partition: \d/g)).toHaveLength(3);

    const again = await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'orders', '--partitions', '3']);
    expect(again.status).not.toBe(0);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain('TOPIC_ALREADY_EXISTS');

    const deleted = await runCliAsync(['topics', '--delete', ...bootstrap, '--topic', 'orders']);
    expect(deleted.status).toBe(0);
    const after = await runCliAsync(['topics', '--list', ...bootstrap]);
    expect(after.stdout.split('\n')).not.toContain('orders');
  });

  it('perf produce and perf consume print throughput and latency percentiles', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'perf', '--partitions', '2']);
    const produced = await runCliAsync(
      [
        'perf',
        'produce',
        ...bootstrap,
        '--topic',
        'perf',
        '--num-records',
        '3000',
        '--record-size',
        '50',
        '--batch-size',
        '5000',
        '--warmup-records',
        '1000',
        '--producer-props',
        'acks=all',
        'linger.ms=1',
      ],
      { timeoutMs: 60_000 },
    );
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);
    expect(produced.stdout).toMatch(/^Warmup first 1000 records\. Steady-state results will print after the complete-test summary\.$/m);
    expect(produced.stdout).toMatch(
      /^3000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99.9th\.$/m,
    );
    // Batches of 86 records: the first one starting at or after record 1000 starts at 1032.
    expect(produced.stdout).toMatch(/^steady state: 1968 records sent, [\d.]+ records\/sec .* [\d.]+ ms 99th, [\d.]+ ms 99.9th\.$/m);
    expect(produced.stdout).toMatch(/producer: acks=-1, idempotence on/);
    const consumed = await runCliAsync(
      ['perf', 'consume', ...bootstrap, '--topic', 'perf', '--messages', '3000', '--end-to-end-latency', '--warmup-records', '1000'],
      { timeoutMs: 60_000 },
    );
    expect(consumed.stderr).toBe('');
    expect(consumed.status).toBe(0);
    const m =
      /consume: 3000 records in [\d.]+ s: \d+ records\/s, [\d.]+ MB\/s; end-to-end latency [\d.]+ ms avg, ([\d.]+) ms 50th, [\d.]+ ms 95th, ([\d.]+) ms 99th.*; steady state \(after 1000 records\) [\d.]+ ms avg, [\d.]+ ms 50th/.exec(
        consumed.stdout,
      );
    expect(m, consumed.stdout).not.toBeNull();
    // Read after the fact, so the latencies are at least the time between the two commands' records.
    expect(Number(m![2])).toBeGreaterThanOrEqual(Number(m![1]));
    // A warm-up as long as the run is refused, as Kafka does.
    const refused = await runCliAsync([
      'perf',
      'produce',
      ...bootstrap,
      '--topic',
      'perf',
      '--num-records',
      '100',
      '--warmup-records',
      '100',
    ]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--warmup-records must be less than --num-records (100), got 100');
  }, 90_000);

  it('produces stdin lines with keys and consumes them back', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'lines', '--partitions', '2']);
    const lines = Array.from({ length: 500 }, (_, i) => `k${i % 7}:line ${i}`);
    const produced = await runCliAsync(
      ['produce', ...bootstrap, '--topic', 'lines', '--property', 'parse.key=true', '--property', 'key.separator=:'],
      { input: lines.join('\n') + '\n' },
    );
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);

    const consumed = await runCliAsync([
      'consume',
      ...bootstrap,
      '--topic',
      'lines',
      '--from-beginning',
      '--max-messages',
      '500',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=:',
      '--timeout-ms',
      '10000',
    ]);
    expect(consumed.status).toBe(0);
    const got = consumed.stdout.trim().split('\n');
    expect(got.sort()).toEqual([...lines].sort());
    expect(consumed.stderr).toContain('Processed a total of 500 messages');

    // Records with one key land in one partition, in the order they were sent.
    const p0 = await runCliAsync([
      'consume',
      ...bootstrap,
      '--topic',
      'lines',
      '--partition',
      '0',
      '--offset',
      'earliest',
      '--timeout-ms',
      '1500',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=:',
    ]);
    const p1 = await runCliAsync([
      'consume',
      ...bootstrap,
      '--topic',
      'lines',
      '--partition',
      '1',
      '--offset',
      '0',
      '--timeout-ms',
      '1500',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=:',
    ]);
    const perPartition = [p0, p1].map((r) => r.stdout.trim().split('\n').filter(Boolean));
    expect(perPartition[0]!.length + perPartition[1]!.length).toBe(500);
    for (const records of perPartition) {
      const keys = new Set(records.map((l) => l.split(':')[0]));
      for (const key of keys) {
        const ours = records.filter((l) => l.startsWith(`${key}:`));
        expect(ours).toEqual(lines.filter((l) => l.startsWith(`${key}:`)));
      }
    }
  });

  it('produces headers with parse.headers=true (KIP-798) and refuses a line without the headers delimiter', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'with-headers', '--partitions', '1']);
    const produced = await runCliAsync(
      ['produce', ...bootstrap, '--topic', 'with-headers', '--property', 'parse.key=true', '--property', 'parse.headers=true'],
      { input: 'trace:abc,empty:\tk1\tv1\n\tk2\tv2\n' }, // Kafka's reader: a header without its key separator is an error
    );
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);
    const samsa = new Samsa({ brokers: [node.address] });
    try {
      const consumer = samsa.consumer();
      consumer.assign([{ topic: 'with-headers', partition: 0 }]);
      await consumer.seek({ topic: 'with-headers', partition: 0, offset: 0n });
      const records: Array<{ key: string; value: string; headers: Record<string, string> }> = [];
      for (let i = 0; i < 50 && records.length < 2; i++) {
        for (const r of await consumer.poll({ maxWaitMs: 200 })) {
          records.push({
            key: r.key!.toString(),
            value: r.value!.toString(),
            headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v?.toString() ?? ''])),
          });
        }
      }
      expect(records).toEqual([
        { key: 'k1', value: 'v1', headers: { trace: 'abc', empty: '' } },
        { key: 'k2', value: 'v2', headers: {} },
      ]);
    } finally {
      await samsa.close();
    }

    const bad = await runCliAsync(['produce', ...bootstrap, '--topic', 'with-headers', '--property', 'parse.headers=true'], {
      input: 'no delimiter here\n',
    });
    // Kafka's console producer reports a bad line and goes on; the exit code says some failed.
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^samsa: line 1: .*headers delimiter/m);
  });

  it('answers a wrong flag with one line and a non-zero exit', async () => {
    const result = await runCliAsync(['topics', '--lsit', ...bootstrap]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("samsa: unknown option '--lsit' (Did you mean --list?) (see --help)\n");
    for (const args of [['frob'], ['topics', '--describe', '--bootstrap-server'], ['produce', '--topic']]) {
      const usage = await runCliAsync(args);
      expect(usage.status, args.join(' ')).toBe(2);
      expect(usage.stderr).toMatch(/^samsa: [^\n]+\n$/);
    }
    for (const args of [['--version'], ['topics', '--version']]) {
      const version = await runCliAsync(args);
      expect(version.status).toBe(0);
      expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
    expect(result.stderr).not.toMatch(/\n\s+at /);

    const noQuorum = await runCliAsync(['node', '--roles', 'broker', '--node-id', '7']);
    expect(noQuorum.status).not.toBe(0);
    expect(noQuorum.stderr.trim()).toBe(
      'samsa: controller.quorum.voters is required for a broker: give --controller-quorum-voters ID@HOST:PORT,..., SAMSA_CONTROLLER_QUORUM_VOTERS or controller.quorum.voters in the config file',
    );
  });

  it('answers an unreachable broker with one line and no stack trace', async () => {
    const port = await freePort();
    const result = await runCliAsync(['topics', '--list', '--bootstrap-server', `127.0.0.1:${port}`], { timeoutMs: 60_000 });
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/samsa: .*127\.0\.0\.1:\d+/);
  });

  it('answers an unknown topic with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    for (const args of [
      ['consume', ...bootstrap, '--topic', 'nope', '--timeout-ms', '100'],
      ['topics', '--describe', ...bootstrap, '--topic', 'nope'],
    ]) {
      const result = await runCliAsync(args);
      expect(result.status).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain('UNKNOWN_TOPIC_OR_PARTITION');
    }
    // Without allow.auto.create.topics=false the producer would have the broker create it (topicLifecycle test).
    const produced = await runCliAsync(
      ['produce', ...bootstrap, '--topic', 'nope', '--producer-property', 'allow.auto.create.topics=false'],
      {
        input: 'a\n',
      },
    );
    expect(produced.status).not.toBe(0);
    expect(produced.stderr).toContain('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('refuses bad topic settings with Kafka codes and creates nothing', async () => {
    const cases: Array<[string[], string]> = [
      [['--topic', 'bad name!', '--partitions', '1'], 'INVALID_TOPIC_EXCEPTION'],
      [['--topic', 'zero', '--partitions', '0'], 'INVALID_PARTITIONS'],
      [['--topic', 'rf', '--partitions', '1', '--replication-factor', '3'], 'INVALID_REPLICATION_FACTOR'],
      [['--topic', 'cfg', '--partitions', '1', '--config', 'retention.ms=soon'], 'INVALID_CONFIG'],
    ];
    for (const [args, code] of cases) {
      const result = await runCliAsync(['topics', '--create', ...bootstrap, ...args]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(code);
    }
    const listed = await runCliAsync(['topics', '--list', ...bootstrap]);
    for (const name of ['bad name!', 'zero', 'rf', 'cfg']) expect(listed.stdout.split('\n')).not.toContain(name);
  });
});
