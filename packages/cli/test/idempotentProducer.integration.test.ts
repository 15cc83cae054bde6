/**
 * The idempotent producer against real brokers.
 *
 * Lost responses: a connection wrapper lets every 3rd Produce reach the broker and be appended,
 * then drops the answer (the client sees a connection error and retries). With idempotence and 5
 * requests in flight every record lands exactly once, in send order per partition; without it the
 * same faults leave duplicates in the log (so the check can fail).
 *
 * Leader kill: 3 brokers, RF=3, an idempotent producer writing through a SIGKILL of a partition
 * leader loses nothing, duplicates nothing and keeps each partition's order.
 */
import { GrpcConnection, Samsa, SamsaConnectionError, serdes, type BrokerConnection, type ProducerOptions } from '@samsa/client';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { removeDir, startNode, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';
import { readAll } from './helpers/records.js';

/** Wraps a real connection: every `every`-th Produce is sent and answered by the broker, but the answer is dropped. */
interface DropStats {
  produces: number;
  dropped: number;
  inFlight: number;
  maxInFlight: number;
}

function droppingFactory(every: number, stats: DropStats) {
  return (address: string): BrokerConnection => {
    const real = new GrpcConnection(address, { requestTimeoutMs: 10_000 });
    return new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'produce') {
          return async (...args: Parameters<BrokerConnection['produce']>) => {
            const n = ++stats.produces;
            stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
            let response;
            try {
              response = await target.produce(...args);
            } finally {
              stats.inFlight--;
            }
            if (n % every === 0) {
              stats.dropped++;
              throw new SamsaConnectionError(`injected: the answer to Produce #${n} from ${address} was lost`, { address });
            }
            return response;
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}

/** Sends `count` records per partition, each send a chunk of one partition's next records, many sends outstanding. */
async function produceInterleaved(
  samsa: Samsa,
  topic: string,
  partitions: number,
  count: number,
  options: ProducerOptions<Buffer | null, string | null>,
) {
  const producer = samsa.producer<Buffer | null, string | null>({ value: serdes.string, ...options });
  const sends: Promise<unknown>[] = [];
  const chunk = 10;
  for (let i = 0; i < count; i += chunk) {
    for (let p = 0; p < partitions; p++) {
      const messages = Array.from({ length: Math.min(chunk, count - i) }, (_, k) => ({ value: `${p}:${i + k}`, partition: p }));
      sends.push(producer.send({ topic, messages }));
    }
    // Let the loop drain between chunks, so many requests are in flight at once.
    if ((i / chunk) % 4 === 3) await new Promise((r) => setImmediate(r));
  }
  const results = await Promise.allSettled(sends);
  await producer.close();
  return results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
}

/** Per partition, the values in offset order. */
function byPartition(records: Map<string, string>, partitions: number): string[][] {
  const out: { offset: bigint; value: string }[][] = Array.from({ length: partitions }, () => []);
  for (const [key, value] of records) {
    const [p, offset] = key.split('@');
    out[Number(p)]!.push({ offset: BigInt(offset!), value });
  }
  return out.map((list) => list.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((r) => r.value));
}

const expected = (p: number, count: number) => Array.from({ length: count }, (_, i) => `${p}:${i}`);

describe('idempotent producer: lost responses against one broker', () => {
  let node: NodeProcess;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('idem-lost');
    node = await startNode({ dataDir: dir });
  }, 30_000);

  afterAll(async () => {
    if (node) await stopProcess(node.child);
    removeDir(dir);
  });

  const client = (stats: DropStats) =>
    new Samsa({
      brokers: [node.address],
      connectionFactory: droppingFactory(3, stats),
      requestTimeoutMs: 10_000,
      retry: { retries: 20, initialRetryTimeMs: 20, maxRetryTimeMs: 200 },
    });

  it('with idempotence: every record exactly once, in order, with 5 requests in flight', async () => {
    const stats = { produces: 0, dropped: 0, inFlight: 0, maxInFlight: 0 };
    const samsa = client(stats);
    const plain = new Samsa({ brokers: [node.address] });
    try {
      await plain.admin().createTopics([{ topic: 'idem', numPartitions: 2, replicationFactor: 1 }]);
      const failures = await produceInterleaved(samsa, 'idem', 2, 400, {
        maxInFlightRequestsPerConnection: 5,
        lingerMs: 1,
        batchSize: 200,
      });
      expect(failures).toEqual([]);
      expect(stats.dropped).toBeGreaterThan(10);
      expect(stats.maxInFlight).toBeGreaterThan(2);
      expect(stats.maxInFlight).toBeLessThanOrEqual(5);
      const got = byPartition(await readAll(plain, 'idem', 2), 2);
      for (let p = 0; p < 2; p++) expect(got[p]).toEqual(expected(p, 400));
      process.stdout.write(
        `idempotent: ${stats.produces} Produce requests (up to ${stats.maxInFlight} in flight), ${stats.dropped} answers dropped, 800 records, no duplicates\n`,
      );
    } finally {
      await samsa.close();
      await plain.close();
    }
  }, 60_000);

  it('without idempotence the same faults leave duplicates (the check above can fail)', async () => {
    const stats = { produces: 0, dropped: 0, inFlight: 0, maxInFlight: 0 };
    const samsa = client(stats);
    const plain = new Samsa({ brokers: [node.address] });
    try {
      await plain.admin().createTopics([{ topic: 'plain', numPartitions: 2, replicationFactor: 1 }]);
      const failures = await produceInterleaved(samsa, 'plain', 2, 400, {
        enableIdempotence: false,
        maxInFlightRequestsPerConnection: 5,
        lingerMs: 1,
        batchSize: 200,
      });
      expect(failures).toEqual([]);
      const got = byPartition(await readAll(plain, 'plain', 2), 2);
      const total = got[0]!.length + got[1]!.length;
      expect(stats.dropped).toBeGreaterThan(10);
      expect(total).toBeGreaterThan(800);
      process.stdout.write(`not idempotent: ${stats.dropped} answers dropped, ${total - 800} duplicate records\n`);
    } finally {
      await samsa.close();
      await plain.close();
    }
  }, 60_000);
});

describe('producer against one broker: new topics and backpressure', () => {
  let node: NodeProcess;
  let dir: string;
  let samsa: Samsa;

  beforeAll(async () => {
    dir = tempDir('idem-bp');
    node = await startNode({ dataDir: dir });
    samsa = new Samsa({ brokers: [node.address] });
  }, 30_000);

  afterAll(async () => {
    await samsa?.close();
    if (node) await stopProcess(node.child);
    removeDir(dir);
  });

  it('send() to a topic created a moment ago succeeds after a retriable wait', async () => {
    await samsa.admin().createTopics([{ topic: 'fresh', numPartitions: 3, replicationFactor: 1 }]);
    const producer = samsa.producer<Buffer | null, string | null>({ value: serdes.string, lingerMs: 0 });
    const sent = await producer.send({ topic: 'fresh', messages: [0, 1, 2].map((p) => ({ value: `v${p}`, partition: p })) });
    expect(sent.map((r) => r.offset)).toEqual([0n, 0n, 0n]);
    await producer.close();
  }, 30_000);

  setFlagsFromString('--expose-gc');
  // V8 frees a dead ArrayBuffer's memory on a background thread after the GC, so arrayBuffers read
  // right after gc() still counted garbage: more of it the faster the broker answered (a quiet CI
  // machine saw +15 MB bounded). Swept on the main thread, gc() leaves only what is live.
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  const gc = runInNewContext('gc') as () => void;

  /** Offers `sends` x 1000 records of 1 KiB at once; peak memory while they are acknowledged. */
  async function offerAll(topic: string, bufferMemory: number, sends: number) {
    // The last send waits for all the others to drain through 1 MB of buffer: max.block.ms bounds
    // that whole drain here, so it is set past the test's own limit (a loaded machine took > 120 s).
    const producer = samsa.producer({ bufferMemory, lingerMs: 5, maxBlockMs: 600_000 });
    const payload = Buffer.alloc(1024, 7); // shared by every record: only batches copy the bytes
    gc();
    const baseline = process.memoryUsage();
    const peak = { rss: baseline.rss, buffers: baseline.arrayBuffers };
    // Live memory, not garbage awaiting collection: a full GC before each sample.
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peak.rss = Math.max(peak.rss, m.rss);
      peak.buffers = Math.max(peak.buffers, m.arrayBuffers);
    }, 100);
    try {
      const all = Array.from({ length: sends }, () =>
        producer.send({ topic, messages: Array.from({ length: 1_000 }, () => ({ value: payload })) }),
      );
      expect((await Promise.all(all)).flat()).toHaveLength(sends * 1_000);
    } finally {
      clearInterval(sampler);
      await producer.close();
    }
    const mb = (n: number) => n / 1024 / 1024;
    return { rssMb: mb(peak.rss), rssGrowthMb: mb(peak.rss - baseline.rss), buffersGrowthMb: mb(peak.buffers - baseline.arrayBuffers) };
  }

  it('a producer faster than the broker blocks on buffer.memory instead of growing without bound (peak RSS reported)', async () => {
    await samsa.admin().createTopics([
      { topic: 'bp', numPartitions: 2, replicationFactor: 1 },
      { topic: 'bp-control', numPartitions: 2, replicationFactor: 1 },
    ]);
    // 48 MB of record bytes offered at once. Bounded, what is live is the 1 MB of batches plus the
    // requests being encoded and sent (gRPC copies each batch once more) and socket buffers: about
    // 1 MB measured once dead buffers are swept at the GC (above), while unbounded grows with the offer.
    const sends = 48;
    const bounded = await offerAll('bp', 1024 * 1024, sends);
    const unbounded = await offerAll('bp-control', 512 * 1024 * 1024, sends);
    process.stdout.write(
      `backpressure: ${sends} MB offered at once. buffer.memory 1 MB: peak RSS ${bounded.rssMb.toFixed(0)} MB ` +
        `(+${bounded.rssGrowthMb.toFixed(0)}), Buffers +${bounded.buffersGrowthMb.toFixed(0)} MB; buffer.memory 512 MB: peak RSS ` +
        `${unbounded.rssMb.toFixed(0)} MB (+${unbounded.rssGrowthMb.toFixed(0)}), Buffers +${unbounded.buffersGrowthMb.toFixed(0)} MB\n`,
    );
    // With room for everything the batches hold most of the 48 MB at once; bounded, little is live.
    expect(unbounded.buffersGrowthMb).toBeGreaterThan(sends / 2);
    expect(bounded.buffersGrowthMb).toBeLessThan(sends / 8);
    const ends = await samsa.admin().listOffsets('bp', [
      { partition: 0, timestamp: 'latest' },
      { partition: 1, timestamp: 'latest' },
    ]);
    expect(ends.reduce((n, e) => n + Number(e.offset), 0)).toBe(sends * 1_000);
  }, 240_000); // 96 MB through one broker with a full GC every 100 ms: 13 s alone, 90+ s on a loaded machine
});

describe('idempotent producer: leader SIGKILL on 3 brokers, RF=3', () => {
  let cluster: TestCluster;
  let samsa: Samsa;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 1,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: ['--replica-lag-time-max-ms', '1000'],
    });
    samsa = new Samsa({
      brokers: cluster.bootstrap,
      requestTimeoutMs: 5_000,
      retry: { retries: 60, initialRetryTimeMs: 50, maxRetryTimeMs: 300 },
    });
  }, 90_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  it('no duplicates, nothing lost, per-partition order kept across the kill', async () => {
    const topic = 'idem-kill';
    const partitions = 3;
    await samsa.admin().createTopics([{ topic, numPartitions: partitions, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const described = await waitFor(
      'a full ISR',
      async () => {
        const [d] = await samsa.admin().describeTopics([topic]);
        return d!.partitions.every((p) => p.isr.length === 3 && p.leader >= 0) ? d! : undefined;
      },
      20_000,
      100,
    );
    const victim = cluster.brokers.find((b) => b.nodeId === described.partitions[0]!.leader)!;

    const producer = samsa.producer<Buffer | null, string | null>({
      value: serdes.string,
      lingerMs: 2,
      batchSize: 2_000,
      deliveryTimeoutMs: 60_000,
      timeoutMs: 5_000,
    });
    const count = 3_000;
    const sends: Promise<unknown>[] = [];
    let acked = 0;
    let ackedAtKill = -1;
    let sentAtKill = 0;
    const killedAt = { ms: 0 };
    for (let i = 0; i < count; i += 20) {
      for (let p = 0; p < partitions; p++) {
        const send = producer.send({ topic, messages: Array.from({ length: 20 }, (_, k) => ({ value: `${p}:${i + k}`, partition: p })) });
        sends.push(send);
        void send.then(
          () => {
            acked++;
          },
          () => {},
        );
      }
      if (ackedAtKill < 0 && i >= count / 3) {
        sentAtKill = sends.length;
        ackedAtKill = acked;
        killedAt.ms = Date.now();
        await cluster.kill(victim, 'SIGKILL');
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await Promise.allSettled(sends);
    const doneMs = Date.now() - killedAt.ms;
    await producer.close();
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    // Sends were outstanding when the leader died, and the partition has a new leader now.
    expect(ackedAtKill).toBeLessThan(sentAtKill);
    const [after] = await samsa.admin().describeTopics([topic]);
    expect(after!.partitions[0]!.leader).not.toBe(victim.nodeId);
    process.stdout.write(
      `leader kill: ${sentAtKill - ackedAtKill} sends outstanding at the kill, all ${sends.length} acknowledged ${doneMs} ms after it\n`,
    );
    const got = byPartition(await readAll(samsa, topic, partitions), partitions);
    for (let p = 0; p < partitions; p++) expect(got[p]).toEqual(expected(p, count));
  }, 120_000);
});
