/**
 * kcat (librdkafka; Debian's package, installed by scripts/ci-deps.sh) against a real cluster
 * (one controller, three brokers) through the Kafka listener: -L metadata, an idempotent acks=all
 * -P producer, -C from the beginning to the end, a balanced -G group of two members, -Q offsets for
 * times; records written by the Samsa SDK read byte-identical by kcat, and records written by kcat
 * read by the SDK and by `samsa consume`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Samsa, serdes } from '@samsa/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { runCliAsync, stopProcess } from './helpers/processes.js';

const BROKER_ARGS = ['--group-initial-rebalance-delay-ms', '300', '--group-min-session-timeout-ms', '1000'];

function kcat(args: string[], input = '', timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Member {
  child: ChildProcess;
  stdout: string;
  stderr: string;
}

describe('kcat (librdkafka) through the Kafka listener', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let bootstrap: string;
  const members = new Set<Member>();

  beforeAll(async () => {
    expect(spawnSync('kcat', ['-V']).status, 'kcat must be installed (scripts/ci-deps.sh)').toBe(0);
    cluster = await startCluster({
      controllers: 1,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: BROKER_ARGS,
    });
    bootstrap = cluster.bootstrap.join(',');
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000, retry: { retries: 10, maxRetryTimeMs: 1_000 } });
  }, 90_000);

  afterEach(async () => {
    for (const m of members) await stopProcess(m.child, 'SIGKILL');
    members.clear();
  });

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  async function createTopic(topic: string, numPartitions: number): Promise<void> {
    await samsa.admin().createTopics([{ topic, numPartitions, replicationFactor: 3 }]);
    await waitFor(
      `${topic} has leaders`,
      async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );
  }

  it('-L lists the brokers at their listener addresses and the topics with their partitions', async () => {
    await createTopic('kcat-meta', 3);
    const r = kcat(['-b', bootstrap, '-L', '-J', '-t', 'kcat-meta']);
    expect(r.status, r.stderr).toBe(0);
    const meta = JSON.parse(r.stdout) as {
      brokers: Array<{ id: number; name: string }>;
      topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number; replicas: unknown[]; isrs: unknown[] }> }>;
    };
    expect(meta.brokers.map((b) => b.name).sort()).toEqual(cluster.brokers.map((b) => `127.0.0.1:${b.port}`).sort());
    const topic = meta.topics.find((t) => t.topic === 'kcat-meta')!;
    expect(topic.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
    for (const p of topic.partitions) {
      expect(p.replicas.length).toBe(3);
      expect(cluster.brokers.map((b) => b.nodeId)).toContain(p.leader);
    }
  });

  it('-P with acks=all and idempotence writes what -C -o beginning -e, the SDK and `samsa consume` read back', async () => {
    const topic = 'kcat-produce';
    await createTopic(topic, 2);
    const lines = Array.from({ length: 50 }, (_, i) => `key${i}:value-${i}`);
    const p = kcat(
      ['-b', bootstrap, '-P', '-t', topic, '-K', ':', '-X', 'acks=all', '-X', 'enable.idempotence=true'],
      `${lines.join('\n')}\n`,
    );
    expect(p.status, p.stderr).toBe(0);

    const c = kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%k=%s\n']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.trim().split('\n').sort()).toEqual(lines.map((l) => l.replace(':', '=')).sort());

    const viaSdk = samsa.consumer({ key: serdes.string, value: serdes.string });
    const read = new Map<string, string>();
    try {
      viaSdk.assign([
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);
      for (const partition of [0, 1]) await viaSdk.seek({ topic, partition, offset: 0n });
      for (let i = 0; i < 200 && read.size < 50; i++) for (const r of await viaSdk.poll({ maxWaitMs: 100 })) read.set(r.key!, r.value!);
    } finally {
      await viaSdk.close();
    }
    expect(read.size).toBe(50);
    expect(read.get('key7')).toBe('value-7');

    const cli = await runCliAsync([
      'consume',
      '--bootstrap-server',
      cluster.bootstrap[0]!,
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '50',
      '--timeout-ms',
      '10000',
    ]);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout.trim().split('\n').sort()).toEqual(lines.map((l) => l.slice(l.indexOf(':') + 1)).sort());
  });

  it('reads records written by the Samsa SDK byte-identical (key, value, headers, timestamp)', async () => {
    const topic = 'kcat-interop';
    await createTopic(topic, 1);
    const producer = samsa.producer({ key: serdes.string, value: serdes.string, acks: -1 });
    await producer.send({
      topic,
      messages: Array.from({ length: 5 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i} with spaces`,
        timestamp: 1_700_000_000_000 + i,
        headers: { h1: `a${i}`, h2: 'b' },
      })),
    });
    await producer.close();
    const c = kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%k|%s|%T|%h\n']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.trim().split('\n')).toEqual(
      Array.from({ length: 5 }, (_, i) => `k${i}|v${i} with spaces|${1_700_000_000_000 + i}|h1=a${i},h2=b`),
    );
  });

  it('-Q answers the offsets for times', async () => {
    const topic = 'kcat-times';
    await createTopic(topic, 1);
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `t${i}`, timestamp: 1_700_000_000_000 + i * 1000 })),
    });
    await producer.close();
    const q = kcat(['-b', bootstrap, '-Q', '-t', `${topic}:0:1700000003500`]);
    expect(q.status, q.stderr).toBe(0);
    expect(q.stdout).toMatch(new RegExp(`${topic} \\[0\\]\\s+offset 4`));
  });

  it('balances a -G group of two members over four partitions, each record read once', async () => {
    const topic = 'kcat-group';
    await createTopic(topic, 4);
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, value: `g${i}` })) });
    await producer.close();
    const start = (): Member => {
      const child = spawn(
        'kcat',
        [
          '-u',
          '-b',
          bootstrap,
          '-G',
          'kcat-group-g',
          '-X',
          'auto.offset.reset=earliest',
          '-X',
          'session.timeout.ms=6000',
          '-X',
          'heartbeat.interval.ms=500',
          '-f',
          '%p %s\n',
          topic,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const m: Member = { child, stdout: '', stderr: '' };
      child.stdout!.on('data', (d: Buffer) => {
        m.stdout += d.toString();
      });
      child.stderr!.on('data', (d: Buffer) => {
        m.stderr += d.toString();
      });
      members.add(m);
      return m;
    };
    const a = start();
    const b = start();
    /** The partitions a member was last assigned, from kcat's "assigned: topic [0], topic [2]" line. */
    const assigned = (m: Member) => {
      const lines = m.stderr.split('\n').filter((l) => l.includes('rebalanced') && l.includes('assigned:'));
      const last = lines[lines.length - 1];
      return last === undefined ? undefined : [...last.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])).sort();
    };
    const values = (m: Member) =>
      m.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[1]!);
    try {
      await waitFor(
        'two members with two partitions each and all 40 records read',
        () => {
          const pa = assigned(a);
          const pb = assigned(b);
          return (
            pa?.length === 2 && pb?.length === 2 && new Set([...pa, ...pb]).size === 4 && new Set([...values(a), ...values(b)]).size === 40
          );
        },
        45_000,
        100,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- a:\n${a.stderr.slice(-2000)}\n--- b:\n${b.stderr.slice(-2000)}`);
    }
    // Each member read only its partitions' records, and no record twice.
    const all = [...values(a), ...values(b)];
    expect(all.length).toBe(40);
    for (const m of [a, b]) {
      const parts = new Set(assigned(m));
      for (const line of m.stdout.split('\n').filter(Boolean)) expect(parts.has(Number(line.split(' ')[0]))).toBe(true);
    }
  }, 90_000);
});
