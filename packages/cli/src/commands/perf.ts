/**
 * `samsa perf produce|consume` (kafka-producer-perf-test / kafka-consumer-perf-test): fixed-size
 * records with random payloads. produce prints a progress line every 5 s while it runs, then
 * records/s, MB/s, average and maximum latency and p50/p95/p99/p99.9 from an HDR histogram
 * (latency: from sendBatch to its acknowledgement, counted once per record), and the process's
 * peak RSS. Producer settings use Kafka's names: --producer-props acks=all linger.ms=5 ...
 * --warmup-records N (Kafka's KIP-1052) also prints the same summary for the records after the
 * first N, the steady state without connection set-up and JIT compilation in it; perf consume
 * takes it too for its end-to-end latency.
 */
import { randomBytes } from 'node:crypto';
import type { Message, ProducerOptions } from '@samsa/client';
import type { Command } from 'commander';
import type * as hdr from 'hdr-histogram-js';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { collectKeyValue, parseInteger } from '../options.js';
import { parseAcks, producerOptionsFromProps } from './producerConfig.js';

interface PerfProduceOptions {
  bootstrapServer?: string;
  topic?: string;
  numRecords: string;
  recordSize: string;
  acks?: string;
  batchSize?: string;
  inFlight?: string;
  throughput: string;
  producerProps?: string[];
  reportingIntervalMs: string;
  warmupRecords: string;
}

interface PerfConsumeOptions {
  bootstrapServer?: string;
  topic?: string;
  messages: string;
  timeoutMs: string;
  group?: string;
  endToEndLatency?: boolean;
  warmupRecords: string;
}

function report(label: string, records: number, bytes: number, elapsedMs: number, extra = ''): string {
  const seconds = elapsedMs / 1000;
  return `${label}: ${records} records in ${seconds.toFixed(2)} s: ${Math.round(records / seconds)} records/s, ${(bytes / seconds / 1e6).toFixed(2)} MB/s${extra}\n`;
}

/** kafka-producer-perf-test's window line: records, rate, and latency in ms (histogram in µs). */
function windowLine(records: number, bytes: number, elapsedMs: number, h: hdr.Histogram, final: boolean): string {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const ms = (us: number) => (us / 1000).toFixed(2);
  const base =
    `${records} records sent, ${(records / seconds).toFixed(1)} records/sec (${(bytes / seconds / 1024 / 1024).toFixed(2)} MB/sec), ` +
    `${ms(h.mean)} ms avg latency, ${ms(h.maxValue)} ms max latency`;
  if (!final) return `${base}.\n`;
  return (
    `${base}, ${ms(h.getValueAtPercentile(50))} ms 50th, ${ms(h.getValueAtPercentile(95))} ms 95th, ` +
    `${ms(h.getValueAtPercentile(99))} ms 99th, ${ms(h.getValueAtPercentile(99.9))} ms 99.9th.\n`
  );
}

/** hdr-histogram-js is loaded by `perf` only (its load costs every `samsa node` ~60 ms of CPU at start-up otherwise). */
let hdrModule: typeof hdr | undefined;
async function loadHdr(): Promise<void> {
  hdrModule ??= await import('hdr-histogram-js');
}
const newHistogram = () =>
  hdrModule!.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

/** --warmup-records: a count below the run's total (Kafka refuses one at or above it). */
function parseWarmup(raw: string, total: number, totalFlag: string): number {
  const warmup = parseInteger(raw, '--warmup-records', 0);
  if (warmup > 0 && warmup >= total) throw new UsageError(`--warmup-records must be less than ${totalFlag} (${total}), got ${warmup}`);
  return warmup;
}

export function registerPerf(program: Command): void {
  const perf = program.command('perf').description('throughput benchmarks');
  perf
    .command('produce')
    .description('produce fixed-size records and print throughput and latency (kafka-producer-perf-test)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--topic <name>', 'topic to write (must exist)')
    .option('--num-records <n>', 'records to send', '1000000')
    .option('--record-size <bytes>', 'value size in bytes', '100')
    .option(
      '--producer-props <k=v...>',
      'producer configs by Kafka name: acks, linger.ms, batch.size, compression.type, enable.idempotence, max.in.flight.requests.per.connection, buffer.memory, retries, ...',
    )
    .option('--acks <acks>', '0, 1 or -1/all (same as --producer-props acks=...; default 1)')
    // 512 KiB: a batch well under the broker's default max.message.bytes (1 MB). With
    // --throughput the default is Kafka's batch.size (16384) instead, so that at a fixed rate the
    // latency measures the cluster rather than the time to fill a large batch.
    .option('--batch-size <bytes>', 'bytes of records per batch (batch.size; default 524288, or 16384 with --throughput)')
    // With --throughput the default is 32 batches (512 KiB at 16 KiB): small batches times a
    // replication round trip would otherwise cap the offered rate below --throughput.
    .option('--in-flight <n>', 'batches handed to the producer and not yet acknowledged, at most (default 8, or 32 with --throughput)')
    .option('--throughput <n>', 'cap on records/s, -1 for unlimited (kafka-producer-perf-test --throughput)', '-1')
    .option('--reporting-interval-ms <ms>', 'how often the progress line is printed', '5000')
    .option('--warmup-records <n>', "also summarise the records after the first n alone: the steady state (Kafka's --warmup-records)", '0')
    .action(async (opts: PerfProduceOptions) => {
      await loadHdr();
      if (!opts.topic) throw new UsageError('--topic is required');
      const topic = opts.topic;
      const numRecords = parseInteger(opts.numRecords, '--num-records', 1);
      const recordSize = parseInteger(opts.recordSize, '--record-size', 0);
      const props: Record<string, string> = {};
      for (const kv of opts.producerProps ?? []) Object.assign(props, collectKeyValue(kv));
      if (opts.acks !== undefined) props.acks = opts.acks;
      props.acks ??= '1';
      if (opts.batchSize !== undefined) props['batch.size'] = opts.batchSize;
      const producerOptions: ProducerOptions<Buffer | null, Buffer | null> = producerOptionsFromProps(props);
      const acks = parseAcks(props.acks, 'acks');
      const throughput = parseInteger(opts.throughput, '--throughput');
      if (throughput === 0 || throughput < -1) throw new UsageError('--throughput must be a positive records/s cap or -1 (unlimited)');
      const paced = throughput > 0;
      const batchSize = producerOptions.batchSize ?? (paced ? 16_384 : 524_288);
      producerOptions.batchSize = batchSize;
      const inFlight = parseInteger(opts.inFlight ?? (paced ? '32' : '8'), '--in-flight', 1);
      const reportEveryMs = parseInteger(opts.reportingIntervalMs, '--reporting-interval-ms', 1);
      const warmup = parseWarmup(opts.warmupRecords, numRecords, '--num-records');
      // Without idempotence the producer's request cap follows --in-flight, so queued batches do
      // not count waiting time as latency; idempotence keeps Kafka's 5.
      if (props['max.in.flight.requests.per.connection'] === undefined && (acks !== -1 || props['enable.idempotence'] === 'false')) {
        producerOptions.maxInFlightRequestsPerConnection = inFlight;
      }
      // Record overhead in a v2 batch is about 8 bytes for small records with null keys.
      const perBatch = Math.max(1, Math.floor(batchSize / (recordSize + 8)));

      await withClient(opts.bootstrapServer, async (samsa) => {
        const [description] = await samsa.admin().describeTopics([topic]);
        const partitions = description!.partitions.map((p) => p.partition);
        const producer = samsa.producer(producerOptions);
        // A pool of random payloads, as Kafka's perf tool does, so compression cannot cheat.
        const payloads = Array.from({ length: 64 }, () => randomBytes(recordSize));
        const messages: Message<Buffer | null, Buffer | null>[] = Array.from({ length: perBatch }, (_, i) => ({
          value: payloads[i % payloads.length]!,
        }));
        const total = newHistogram();
        // Batches whose first record comes after the warm-up (a batch straddling it counts as warm-up).
        const steady = newHistogram();
        let steadyRecords = 0;
        let steadyStart: number | undefined;
        let windowHist = newHistogram();
        let windowRecords = 0;
        let windowStart = performance.now();
        const flushWindow = (now: number): void => {
          if (windowRecords > 0)
            process.stdout.write(windowLine(windowRecords, windowRecords * recordSize, now - windowStart, windowHist, false));
          windowHist = newHistogram();
          windowRecords = 0;
          windowStart = now;
        };
        const ticker = setInterval(() => flushWindow(performance.now()), reportEveryMs);
        const window = new Set<Promise<unknown>>();
        let sent = 0;
        let next = 0;
        let firstError: unknown;
        const started = performance.now();
        if (warmup > 0)
          process.stdout.write(`Warmup first ${warmup} records. Steady-state results will print after the complete-test summary.\n`);
        try {
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
            const inSteadyState = warmup > 0 && sent >= warmup;
            if (inSteadyState) steadyStart ??= t0;
            const p = producer.sendBatch({ topic, partition, messages: batch }).then(
              () => {
                const us = Math.max(1, Math.round((performance.now() - t0) * 1000));
                total.recordValueWithCount(us, count);
                if (inSteadyState) {
                  steady.recordValueWithCount(us, count);
                  steadyRecords += count;
                }
                windowHist.recordValueWithCount(us, count);
                windowRecords += count;
              },
              (err: unknown) => {
                firstError ??= err;
              },
            );
            window.add(p);
            void p.finally(() => window.delete(p));
            sent += count;
            if (window.size >= inFlight) await Promise.race(window);
          }
          await Promise.all(window);
        } finally {
          clearInterval(ticker);
        }
        const elapsed = performance.now() - started;
        await producer.close();
        if (firstError) throw firstError;
        process.stdout.write(windowLine(numRecords, numRecords * recordSize, elapsed, total, true));
        if (steadyStart !== undefined) {
          process.stdout.write(
            `steady state: ${windowLine(steadyRecords, steadyRecords * recordSize, started + elapsed - steadyStart, steady, true)}`,
          );
        }
        const peakRssMb = process.resourceUsage().maxRSS / 1024;
        process.stdout.write(
          `producer: acks=${acks}, idempotence ${producer.idempotent ? 'on' : 'off'}, compression ${props['compression.type'] ?? 'none'}, ` +
            `${perBatch} records/batch, ${inFlight} batches in flight${paced ? `, throughput cap ${throughput} records/s` : ''}; peak RSS ${peakRssMb.toFixed(0)} MB\n`,
        );
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
    // End to end: each record's CreateTime (stamped by the producer at send) to the moment poll()
    // hands it over. Producer and consumer must share a clock (one machine). Start the consumer
    // first and read only new records: with a group, reset the offsets to the end beforehand.
    .option('--end-to-end-latency', "also print latency from each record's timestamp to its consumption (p50/p95/p99/p99.9)")
    .option('--warmup-records <n>', 'with --end-to-end-latency: also summarise the latency of the records after the first n alone', '0')
    .action(async (opts: PerfConsumeOptions) => {
      await loadHdr();
      if (!opts.topic) throw new UsageError('--topic is required');
      const topic = opts.topic;
      const wanted = parseInteger(opts.messages, '--messages', 1);
      const timeoutMs = parseInteger(opts.timeoutMs, '--timeout-ms', 1);
      const warmup = parseWarmup(opts.warmupRecords, wanted, '--messages');
      await withClient(opts.bootstrapServer, async (samsa) => {
        let assignedAt: number | undefined;
        let consumer: {
          poll(o: { maxWaitMs: number; maxRecords: number }): Promise<Array<{ value: Buffer | null; timestamp: bigint }>>;
          close(): Promise<void>;
        };
        if (opts.group !== undefined) {
          // A member's clock starts once the group assigned it partitions, not while it joins.
          const member = samsa.consumer({
            groupId: opts.group,
            autoOffsetReset: 'earliest',
            maxPollRecords: 100_000,
            rebalanceListener: {
              assigned: () => {
                assignedAt ??= performance.now();
              },
            },
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
        const e2e = opts.endToEndLatency ? newHistogram() : undefined;
        const steady = opts.endToEndLatency && warmup > 0 ? newHistogram() : undefined;
        while (count < wanted && performance.now() - last < timeoutMs) {
          const records = await consumer.poll({ maxWaitMs: 500, maxRecords: 100_000 });
          if (records.length > 0) last = performance.now();
          const now = Date.now();
          // Records of one batch share a timestamp (ms): a run of equal latencies is recorded once
          // with its count, so the measuring costs the consumer little CPU next to the brokers.
          let runUs = 0;
          let runCount = 0;
          let runSteady = false;
          const flushRun = (): void => {
            if (runCount === 0) return;
            e2e!.recordValueWithCount(runUs, runCount);
            if (runSteady) steady!.recordValueWithCount(runUs, runCount);
            runCount = 0;
          };
          for (const r of records) {
            bytes += r.value?.length ?? 0;
            // In µs like the produce histogram; a timestamp ahead of the clock counts as 0.
            if (e2e) {
              const us = Math.max(1, (now - Number(r.timestamp)) * 1000);
              const inSteady = steady !== undefined && count >= warmup;
              if (runCount > 0 && (us !== runUs || inSteady !== runSteady)) flushRun();
              runUs = us;
              runSteady = inSteady;
              runCount++;
            }
            count++;
          }
          if (e2e) flushRun();
        }
        const elapsed = performance.now() - (assignedAt ?? started);
        await consumer.close();
        if (count < wanted) throw new Error(`only ${count} of ${wanted} records arrived within ${timeoutMs} ms of the last one`);
        const ms = (us: number) => (us / 1000).toFixed(2);
        const latency = (h: hdr.Histogram) =>
          `${ms(h.mean)} ms avg, ${ms(h.getValueAtPercentile(50))} ms 50th, ${ms(h.getValueAtPercentile(95))} ms 95th, ` +
          `${ms(h.getValueAtPercentile(99))} ms 99th, ${ms(h.getValueAtPercentile(99.9))} ms 99.9th, ${ms(h.maxValue)} ms max`;
        process.stdout.write(
          report(
            'consume',
            count,
            bytes,
            elapsed,
            e2e === undefined
              ? ''
              : `; end-to-end latency ${latency(e2e)}` +
                  (steady === undefined ? '' : `; steady state (after ${warmup} records) ${latency(steady)}`),
          ),
        );
      });
    });
}
