/**
 * `samsa delete-records` (kafka-delete-records, Kafka's DeleteRecordsCommand): reads Kafka's JSON
 * file `{"partitions":[{"topic":"t","partition":0,"offset":10}],"version":1}` (offset -1: up to the
 * high watermark) and has each partition's leader move its log start offset there, printing each
 * partition's new low watermark as Kafka's tool does.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RecordsToDelete } from '@samsa/client';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { bootstrapFrom, readPropertiesFile } from '../options.js';

interface DeleteRecordsOptions {
  bootstrapServer?: string;
  offsetJsonFile?: string;
  commandConfig?: string;
}

/** Parses Kafka's offset JSON; throws UsageError naming what is wrong. */
export function parseOffsetJson(text: string): RecordsToDelete[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--offset-json-file is not JSON: ${(err as Error).message}`);
  }
  const partitions = (value as { partitions?: unknown })?.partitions;
  if (!Array.isArray(partitions) || partitions.length === 0)
    throw new UsageError('--offset-json-file needs a non-empty "partitions" array');
  const seen = new Set<string>();
  return partitions.map((p: unknown, i) => {
    const { topic, partition, offset } = (p ?? {}) as { topic?: unknown; partition?: unknown; offset?: unknown };
    if (typeof topic !== 'string' || topic === '') throw new UsageError(`partitions[${i}]: "topic" must be a non-empty string`);
    if (!Number.isInteger(partition) || (partition as number) < 0)
      throw new UsageError(`partitions[${i}]: "partition" must be a non-negative integer`);
    if (
      !(Number.isSafeInteger(offset) || (typeof offset === 'string' && /^-?\d+$/.test(offset))) ||
      BigInt(offset as number | string) < -1n
    ) {
      throw new UsageError(`partitions[${i}]: "offset" must be an integer >= -1`);
    }
    const key = `${topic}-${partition as number}`;
    if (seen.has(key)) throw new UsageError(`partition ${key} appears more than once`);
    seen.add(key);
    return { topic, partition: partition as number, offset: BigInt(offset as number | string) };
  });
}

export function registerDeleteRecords(program: Command): void {
  program
    .command('delete-records')
    .description('delete records before an offset in each listed partition (kafka-delete-records)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--offset-json-file <file>', 'Kafka\'s JSON: {"partitions":[{"topic":"t","partition":0,"offset":10}],"version":1}')
    .option('--command-config <file>', 'client configs from a properties file (bootstrap.servers is read)')
    .action(async (opts: DeleteRecordsOptions) => {
      if (opts.offsetJsonFile === undefined) throw new UsageError('--offset-json-file is required');
      let text: string;
      try {
        text = readFileSync(opts.offsetJsonFile, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --offset-json-file: ${(err as Error).message}`);
      }
      const records = parseOffsetJson(text);
      const config = opts.commandConfig === undefined ? {} : readPropertiesFile(opts.commandConfig, '--command-config');
      await withClient(bootstrapFrom(opts, config), async (samsa) => {
        const deleted = await samsa.admin().deleteRecords(records);
        process.stdout.write('Records delete operation completed:\n');
        for (const d of deleted) process.stdout.write(`partition: ${d.topic}-${d.partition}\tlow_watermark: ${d.lowWatermark}\n`);
      });
    });
}
