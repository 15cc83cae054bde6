/**
 * exactly_once_v2 on a real 3-broker cluster: a word count (fixtures/wordCountApp.mjs, a child
 * process) runs while input flows; it throws once at a chosen record (the open transaction is
 * aborted, its tasks reset from the changelogs, the consumer rewound), is then SIGKILLed mid-stream
 * and restarted on the same state directory (so its new producer fences the old transactional id),
 * and a broker is killed while the restarted instance runs. The output read `read_committed` must hold,
 * for every word, the counts 1, 2, ..., n exactly once each, in order, with n the word's number of
 * input lines: a duplicate (replayed input whose earlier output was committed) or a gap (output lost)
 * fails the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Samsa, serdes } from '@samsa/client';
import type { Consumer } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from '../../cli/test/helpers/cluster.js';
import { stopProcess } from '../../cli/test/helpers/processes.js';

const APP = fileURLToPath(new URL('./fixtures/wordCountApp.mjs', import.meta.url));
const BROKER_ARGS = ['--group-initial-rebalance-delay-ms', '300', '--group-min-session-timeout-ms', '1000'];
const WORDS = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu', 'hen'];
const LINES = 1_500;
const THROW_AT = 'line-120';

interface Instance {
  name: string;
  child: ChildProcess;
  out: string;
  err: string;
}
const instances = new Set<Instance>();

function startInstance(bootstrap: string, name: string, stateDir: string, throwAt?: string): Instance {
  const args = [APP, bootstrap, name, stateDir, 'exactly_once_v2', ...(throwAt ? [throwAt] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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

const tail = (i: Instance): string => `${i.name}: ${i.out.slice(-3000)}${i.err.slice(-2000)}`;

describe('exactly_once_v2 on a 3-broker cluster', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let bootstrap: string;
  let output: Consumer<string | null, string | null> | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'samsa-streams-eos-'));

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
    await output?.close().catch(() => undefined);
    await Promise.all([...instances].map((i) => stopProcess(i.child, 'SIGKILL')));
    await samsa?.close();
    await cluster?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('a failure at a record, a SIGKILL mid-stream and a broker kill leave each count in the committed output exactly once', async () => {
    const admin = samsa.admin();
    await admin.createTopics([
      { topic: 'lines', numPartitions: 3, replicationFactor: 3 },
      { topic: 'word-counts', numPartitions: 3, replicationFactor: 3 },
    ]);
    await waitFor(
      'topics have leaders',
      async () => (await admin.describeTopics(['lines', 'word-counts'])).every((t) => t.partitions.every((p) => p.leader >= 0)),
      20_000,
      100,
    );

    // The committed output, read continuously: word → the counts in the order they were committed.
    const seen = new Map<string, number[]>();
    let outputRecords = 0;
    output = samsa.consumer({ key: serdes.string, value: serdes.string, isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
    output.assign([0, 1, 2].map((partition) => ({ topic: 'word-counts', partition })));
    const out = output;
    const readOutput = async (): Promise<number> => {
      for (const r of await out.poll({ maxWaitMs: 200 })) {
        seen.set(r.key!, [...(seen.get(r.key!) ?? []), Number(r.value)]);
        outputRecords++;
      }
      return outputRecords;
    };

    // Input flows in the background: 1,500 lines over ~15 s.
    const producer = samsa.producer({ key: serdes.string, value: serdes.string, acks: -1 });
    const expected = new Map<string, number>();
    let produced = 0;
    const feeding = (async () => {
      for (let batch = 0; produced < LINES && batch < 1_000; batch++) {
        const messages = [];
        for (let k = 0; k < 25 && produced < LINES; k++, produced++) {
          const word = WORDS[(produced * 5 + Math.floor(produced / 7)) % WORDS.length]!;
          expected.set(word, (expected.get(word) ?? 0) + 1);
          messages.push({ key: `line-${produced}`, value: word });
        }
        await producer.send({ topic: 'lines', messages });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const a = startInstance(bootstrap, 'A', stateDir, THROW_AT);
    // A throws at line-120, aborts, resets its tasks from the changelogs and goes on.
    await waitFor(
      'A threw once and aborted',
      () => (/A THREW/.test(a.out) && /aborting \(processing\)/.test(a.out) ? true : undefined),
      90_000,
      200,
    ).catch((err) => {
      throw new Error(`${err.message}\n${tail(a)}`);
    });
    await waitFor('A commits output after the abort', async () => ((await readOutput()) >= 300 ? true : undefined), 90_000, 0).catch(
      (err) => {
        throw new Error(`${err.message} (${outputRecords} records)\n${tail(a)}`);
      },
    );
    expect(produced).toBeLessThan(LINES); // the kill comes mid-stream
    await stopProcess(a.child, 'SIGKILL');
    instances.delete(a);

    // Restarted on the same state directory: same process id, same transactional id, so its
    // InitProducerId fences A's producer and aborts A's open transaction.
    const b = startInstance(bootstrap, 'B', stateDir);
    await waitFor('B is RUNNING', () => (/B STATE RUNNING tasks=\[.+\]/.test(b.out) ? true : undefined), 90_000, 200).catch((err) => {
      throw new Error(`${err.message}\n${tail(b)}`);
    });
    const beforeBrokerKill = await readOutput();
    await waitFor('B commits output', async () => ((await readOutput()) > beforeBrokerKill ? true : undefined), 60_000, 0).catch((err) => {
      throw new Error(`${err.message}\n${tail(b)}`);
    });
    // A broker dies while B runs (partition leaders, maybe its group or transaction coordinator move).
    await cluster.kill(cluster.brokers[2]!, 'SIGKILL');
    await feeding;
    await producer.close();

    const complete = (): boolean => [...expected].every(([w, n]) => (seen.get(w) ?? []).at(-1) === n);
    await waitFor('every word reaches its final count', async () => (await readOutput(), complete() ? true : undefined), 180_000, 0).catch(
      (err) => {
        const state = [...expected].map(([w, n]) => `${w}: ${(seen.get(w) ?? []).at(-1)}/${n}`).join(', ');
        throw new Error(`${err.message} (${state})\n${tail(b)}`);
      },
    );
    // Read on a little: nothing after the final counts may appear (a late duplicate would).
    for (let i = 0; i < 10; i++) await readOutput();

    for (const [word, n] of expected) {
      expect(seen.get(word), word).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    }
    expect(outputRecords).toBe(LINES);
    // B restored the counts A had committed (a restart rebuilds in-memory stores from the changelogs).
    const restored = [...b.out.matchAll(/B RESTORED counts word-count-eos-counts-changelog-(\d+) (\d+)/g)].map((m) => Number(m[2]));
    expect(restored.some((n) => n > 0)).toBe(true);
    expect(b.child.exitCode).toBe(null);
    expect(await stopProcess(b.child, 'SIGTERM', 20_000)).toBe(0);
    instances.delete(b);
  }, 600_000);
});
