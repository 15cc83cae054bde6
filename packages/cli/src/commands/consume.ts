/**
 * `samsa consume` (kafka-console-consumer without groups): prints one value (or
 * key<sep>value with print.key=true) per line; stops after --max-messages, or after --timeout-ms
 * without a new message.
 */
import type { TopicPartition } from '@samsa/client';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { collectKeyValue, parseInteger } from '../options.js';

interface ConsumeOptions {
  bootstrapServer?: string;
  topic?: string;
  fromBeginning?: boolean;
  partition?: string;
  offset?: string;
  maxMessages?: string;
  timeoutMs?: string;
  property?: Record<string, string>;
}

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description('print records to stdout (kafka-console-consumer, without groups)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--topic <name>', 'the topic to read')
    .option('--from-beginning', 'start at the earliest offset instead of the latest')
    .option('--partition <p>', 'read only this partition')
    .option('--offset <offset>', 'with --partition: earliest, latest or an offset')
    .option('--max-messages <n>', 'exit after this many messages')
    .option('--timeout-ms <ms>', 'exit after this long without a message')
    .option('--property <key=value>', 'print.key=true, print.offset=true, print.partition=true, key.separator=<sep>', collectKeyValue)
    .action(async (opts: ConsumeOptions) => {
      if (!opts.topic) throw new UsageError('--topic is required');
      const topic = opts.topic;
      if (opts.offset !== undefined && opts.partition === undefined) throw new UsageError('--offset needs --partition');
      const maxMessages = opts.maxMessages === undefined ? Infinity : parseInteger(opts.maxMessages, '--max-messages', 1);
      const timeoutMs = opts.timeoutMs === undefined ? Infinity : parseInteger(opts.timeoutMs, '--timeout-ms', 0);
      const props = opts.property ?? {};
      const separator = props['key.separator'] ?? '\t';
      const start = parseStart(opts);

      await withClient(opts.bootstrapServer, async (samsa) => {
        const [description] = await samsa.admin().describeTopics([topic]);
        const partitions: TopicPartition[] = opts.partition === undefined
          ? description!.partitions.map((p) => ({ topic, partition: p.partition }))
          : [{ topic, partition: parseInteger(opts.partition, '--partition', 0) }];
        for (const tp of partitions) {
          if (!description!.partitions.some((p) => p.partition === tp.partition)) {
            throw new UsageError(`topic ${topic} has no partition ${tp.partition}`);
          }
        }
        const consumer = samsa.consumer({ autoOffsetReset: 'none' });
        consumer.assign(partitions);
        for (const tp of partitions) await consumer.seek({ ...tp, offset: start });

        let printed = 0;
        let lastMessageAt = Date.now();
        let stop = false;
        const onSignal = () => { stop = true; };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          while (!stop && printed < maxMessages && Date.now() - lastMessageAt < timeoutMs) {
            const wait = Math.max(1, Math.min(500, timeoutMs - (Date.now() - lastMessageAt)));
            const records = await consumer.poll({ maxWaitMs: wait, maxRecords: Math.min(500, maxMessages - printed) });
            if (records.length > 0) lastMessageAt = Date.now();
            let out = '';
            for (const r of records) {
              let line = '';
              if (props['print.partition'] === 'true') line += `Partition:${r.partition}${separator}`;
              if (props['print.offset'] === 'true') line += `Offset:${r.offset}${separator}`;
              if (props['print.key'] === 'true') line += `${r.key === null ? 'null' : r.key.toString()}${separator}`;
              out += `${line}${r.value === null ? 'null' : r.value.toString()}\n`;
            }
            printed += records.length;
            if (out && !process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
          }
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await consumer.close();
        }
        process.stderr.write(`Processed a total of ${printed} messages\n`);
      });
    });
}

function parseStart(opts: ConsumeOptions): bigint | 'earliest' | 'latest' {
  if (opts.offset !== undefined) {
    if (opts.offset === 'earliest' || opts.offset === 'latest') return opts.offset;
    if (!/^\d+$/.test(opts.offset)) throw new UsageError(`--offset must be earliest, latest or a non-negative offset; got '${opts.offset}'`);
    return BigInt(opts.offset);
  }
  return opts.fromBeginning ? 'earliest' : 'latest';
}
