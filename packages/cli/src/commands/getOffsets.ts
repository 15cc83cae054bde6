/**
 * `samsa get-offsets` (kafka-get-offsets, Kafka's GetOffsetShell): one `topic:partition:offset`
 * line per partition, for the latest offset (--time -1, the default), the earliest (-2) or the
 * first offset at or after a timestamp in ms.
 */
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { bootstrapFrom, parseInteger, readPropertiesFile } from '../options.js';

interface GetOffsetsOptions {
  bootstrapServer?: string;
  brokerList?: string;
  topic?: string;
  partitions?: string;
  time: string;
  excludeInternalTopics?: boolean;
  commandConfig?: string;
}

export function registerGetOffsets(program: Command): void {
  program
    .command('get-offsets')
    .description('print topic:partition:offset for each partition (kafka-get-offsets)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--broker-list <host:port>', "the same as --bootstrap-server (Kafka's older name)")
    .option('--topic <name|regex>', 'the topic, or a regular expression of topics (default: every topic)')
    .option('--partitions <ids>', 'comma-separated partition ids (default: every partition)')
    .option('--time <ms>', '-1 latest, -2 earliest, or a timestamp in ms: the first offset at or after it', '-1')
    .option('--exclude-internal-topics', 'leave out internal topics (__consumer_offsets)')
    .option('--command-config <file>', 'client configs from a properties file (bootstrap.servers is read)')
    .action(async (opts: GetOffsetsOptions) => {
      const time = parseInteger(opts.time, '--time', -3);
      if (time === -3) throw new UsageError('--time -3 (max timestamp) is not supported yet; use -1, -2 or a timestamp in ms');
      const partitions =
        opts.partitions === undefined ? undefined : opts.partitions.split(',').map((p) => parseInteger(p.trim(), '--partitions', 0));
      let pattern: RegExp | undefined;
      if (opts.topic !== undefined) {
        try {
          pattern = new RegExp(`^(?:${opts.topic})$`);
        } catch (err) {
          throw new UsageError(`--topic is not a valid regular expression: ${(err as Error).message}`);
        }
      }
      const config = opts.commandConfig === undefined ? {} : readPropertiesFile(opts.commandConfig, '--command-config');
      await withClient(bootstrapFrom(opts, config), async (samsa) => {
        const admin = samsa.admin();
        const topics = (await admin.describeTopics(opts.topic !== undefined && /^[\w.-]+$/.test(opts.topic) ? [opts.topic] : undefined))
          .filter((t) => (pattern ? pattern.test(t.name) : true) && !(opts.excludeInternalTopics && t.isInternal))
          .sort((a, b) => a.name.localeCompare(b.name));
        if (opts.topic !== undefined && topics.length === 0) throw new Error(`no topic matches '${opts.topic}'`);
        const spec = time === -1 ? 'latest' : time === -2 ? 'earliest' : BigInt(time);
        let out = '';
        for (const t of topics) {
          const ids = t.partitions
            .map((p) => p.partition)
            .filter((p) => partitions === undefined || partitions.includes(p))
            .sort((a, b) => a - b);
          if (ids.length === 0) continue;
          const offsets = await admin.listOffsets(
            t.name,
            ids.map((partition) => ({ partition, timestamp: spec })),
          );
          // A timestamp later than every record matches nothing: Kafka prints no line for it.
          for (const o of offsets) if (o.offset >= 0n) out += `${t.name}:${o.partition}:${o.offset}\n`;
        }
        process.stdout.write(out);
      });
    });
}
