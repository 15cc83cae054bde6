/**
 * `samsa perf produce|consume` (kafka-producer-perf-test / kafka-consumer-perf-test, first
 * version): fixed-size records with random payloads, printed as records/s and MB/s.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from '@samsa/client';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { parseInteger } from '../options.js';

interface PerfProduceOptions {
  bootstrapServer?: string;
  topic?: string;
  numRecords: string;
  recordSize: string;
  acks: string;
  batchSize?: string;
  inFlight?: string;
  throughput: string;
}

interface PerfConsumeOptions {
  bootstrapServer?: string;
  topic?: string;
  messages: string;
  timeoutMs: string;
  group?: string;
}

function report(label: string, records: number, bytes: number, elapsedMs: number, extra = ''): string {
  const seconds = elapsedMs / 1000;
  return `${label}: ${records} records in ${seconds.toFixed(2)} s: ${Math.round(records / seconds)} records/s, ${(bytes / seconds / 1e6).toFixed(2)} MB/s${extra}\n`;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function registerPerf(program: Command): void {
  const perf = program.command('perf').description('throughput benchmarks');
  perf
    .command('produce')
    .description('produce fixed-size records as fast as possible and print records/s and MB/s')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--topic <name>', 'topic to write (must exist)')
    .option('--num-records <n>', 'records to send', '1000000')
    .option('--record-size <bytes>', 'value size in bytes', '100')
    .option('--acks <acks>', '0, 1 or -1/all', '1')
    // 512 KiB x 8: the same 4 MiB in flight as 256 KiB x 16 with half the per-request cost, and a
    // batch well under the broker's default max.message.bytes (1 MB).
    // With --throughput the default is Kafka's batch.size (16384) instead, so that at a fixed
    // rate the latency measures the cluster rather than the time to fill a large batch.
    .option('--batch-size <bytes>', 'bytes of records per batch (Kafka batch.size; default 524288, or 16384 with --throughput)')
    // With --throughput the default is 32 batches (512 KiB at 16 KiB): small batches times a
    // replication round trip would otherwise cap the offered rate below --throughput.
    .option('--in-flight <n>', 'batches in flight at once (default 8, or 32 with --throughput)')
    .option('--throughput <n>', 'cap on records/s, -1 for unlimited (kafka-producer-perf-test --throughput)', '-1')
    .action(async (opts: PerfProduceOptions) => {
      if (!opts.topic) throw new UsageError('--topic is required');
      const topic = opts.topic;
      const numRecords = parseInteger(opts.numRecords, '--num-records', 1);
      const recordSize = parseInteger(opts.recordSize, '--record-size', 0);
      const acks = parseInteger(opts.acks === 'all' ? '-1' : opts.acks, '--acks');
      if (acks !== 0 && acks !== 1 && acks !== -1) throw new UsageError('--acks must be 0, 1, -1 or all');
      const throughput = parseInteger(opts.throughput, '--throughput');
      if (throughput === 0 || throughput < -1) throw new UsageError('--throughput must be a positive records/s cap or -1 (unlimited)');
      const paced = throughput > 0;
      const batchSize = parseInteger(opts.batchSize ?? (paced ? '16384' : '524288'), '--batch-size', 1);
      const inFlight = parseInteger(opts.inFlight ?? (paced ? '32' : '8'), '--in-flight', 1);
      // Record overhead in a v2 batch is about 8 bytes for small records with null keys.
      const perBatch = Math.max(1, Math.floor(batchSize / (recordSize + 8)));

      await withClient(opts.bootstrapServer, async (samsa) => {
        const [description] = await samsa.admin().describeTopics([topic]);
        const partitions = description!.partitions.map((p) => p.partition);
        // The producer's own cap on requests in flight (default 5) must not silently undercut
        // --in-flight: queued batches would count waiting time as latency and hold memory.
        const producer = samsa.producer({ acks, maxInFlightRequests: inFlight });
        // A pool of random payloads, as Kafka's perf tool does, so compression cannot cheat.
        const payloads = Array.from({ length: 64 }, () => randomBytes(recordSize));
        const messages: Message<Buffer | null, Buffer | null>[] = Array.from({ length: perBatch }, (_, i) => ({ value: payloads[i % payloads.length]! }));
        const latencies: number[] = [];
        const window = new Set<Promise<unknown>>();
        let sent = 0;
        let next = 0;
        let firstError: unknown;
        const started = performance.now();
        while (sent < numRecords && !firstError) {
          if (paced) {
            // Send each batch no earlier than the moment the rate cap allows its first record,
            // so the offered load is `throughput` records/s on average (Kafka's throttler does
            // the same per record). Sleeping only when ahead keeps the unlimited path untouched.
            const due = started + (sent / throughput) * 1000;
            const ahead = due - performance.now();
            if (ahead >= 1) await new Promise((r) => setTimeout(r, ahead));
          }
          const count = Math.min(perBatch, numRecords - sent);
          const batch = count === perBatch ? messages : messages.slice(0, count);
          const partition = partitions[next++ % partitions.length]!;
          const t0 = performance.now();
          const p = producer.sendBatch({ topic, partition, messages: batch }).then(
            () => { latencies.push(performance.now() - t0); },
            (err: unknown) => { firstError ??= err; },
          );
          window.add(p);
          void p.finally(() => window.delete(p));
          sent += count;
          if (window.size >= inFlight) await Promise.race(window);
        }
        await Promise.all(window);
        const elapsed = performance.now() - started;
        await producer.close();
        if (firstError) throw firstError;
        latencies.sort((a, b) => a - b);
        process.stdout.write(report('produce', numRecords, numRecords * recordSize, elapsed,
          `, batch latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (acks=${acks}, ${perBatch} records/batch, ${inFlight} in flight${paced ? `, throughput cap ${throughput} records/s` : ''})`));
      });
    });

  perf
    .command('consume')
    .description('read records from the beginning of every partition and print records/s and MB/s')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--topic <name>', 'topic to read')
    .option('--messages <n>', 'records to read', '1000000')
    .option('--timeout-ms <ms>', 'give up after this long without a record', '10000')
    // With --group: one member of the group (run several with the same group to measure a group;
    // each reads its share, starting from the group's committed offsets or the earliest).
    .option('--group <id>', 'consume as a member of this group (commits offsets) instead of assigning every partition')
    .action(async (opts: PerfConsumeOptions) => {
      if (!opts.topic) throw new UsageError('--topic is required');
      const topic = opts.topic;
      const wanted = parseInteger(opts.messages, '--messages', 1);
      const timeoutMs = parseInteger(opts.timeoutMs, '--timeout-ms', 1);
      await withClient(opts.bootstrapServer, async (samsa) => {
        let assignedAt: number | undefined;
        let consumer: { poll(o: { maxWaitMs: number; maxRecords: number }): Promise<Array<{ value: Buffer | null }>>; close(): Promise<void> };
        if (opts.group !== undefined) {
          // A member's clock starts once the group assigned it partitions, not while it joins.
          const member = samsa.consumer({
            groupId: opts.group, autoOffsetReset: 'earliest', maxPollRecords: 100_000,
            rebalanceListener: { assigned: () => { assignedAt ??= performance.now(); } },
          });
          member.subscribe([topic]);
          consumer = member;
        } else {
          const [description] = await samsa.admin().describeTopics([topic]);
          const plain = samsa.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 100_000 });
          const tps = description!.partitions.map((p) => ({ topic, partition: p.partition }));
          plain.assign(tps);
          for (const tp of tps) await plain.seek({ ...tp, offset: 'earliest' });
          consumer = plain;
        }
        let count = 0;
        let bytes = 0;
        let last = performance.now();
        const started = performance.now();
        while (count < wanted && performance.now() - last < timeoutMs) {
          const records = await consumer.poll({ maxWaitMs: 500, maxRecords: 100_000 });
          if (records.length > 0) last = performance.now();
          for (const r of records) bytes += r.value?.length ?? 0;
          count += records.length;
        }
        const elapsed = performance.now() - (assignedAt ?? started);
        await consumer.close();
        if (count < wanted) throw new Error(`only ${count} of ${wanted} records arrived within ${timeoutMs} ms of the last one`);
        process.stdout.write(report('consume', count, bytes, elapsed));
      });
    });
}
