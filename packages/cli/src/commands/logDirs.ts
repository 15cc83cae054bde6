/**
 * `samsa log-dirs --describe` (kafka-log-dirs): per broker, its log directory and per partition
 * the bytes of its segment files, as Kafka's JSON. Kafka asks each broker (DescribeLogDirs);
 * Samsa has no such request yet, so this reads the directories of the nodes on this machine: a
 * `cluster up` data dir (its cluster.json names every broker's directory) or one node's data dir.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readState } from '../cluster/state.js';
import { UsageError } from '../errors.js';
import { parseInteger } from '../options.js';

interface LogDirsOptions {
  describe?: boolean;
  dataDir?: string;
  brokerList?: string;
  topicList?: string;
}

interface PartitionDir {
  partition: string;
  size: number;
  offsetLag: number;
  isFuture: boolean;
}

/** `<topic>-<partition>` directories of a node's data dir, with the bytes of their files. */
export function partitionDirs(dir: string, topics: string[] | undefined): PartitionDir[] {
  const out: PartitionDir[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const m = /^(.+)-(\d+)$/.exec(entry.name);
    if (!entry.isDirectory() || !m || (topics && !topics.includes(m[1]!))) continue;
    if (!readdirSync(join(dir, entry.name)).some((f) => f.endsWith('.log'))) continue;
    const size = readdirSync(join(dir, entry.name))
      .filter((f) => f.endsWith('.log'))
      .reduce((sum, f) => sum + statSync(join(dir, entry.name, f)).size, 0);
    out.push({ partition: entry.name, size, offsetLag: 0, isFuture: false });
  }
  return out.sort((a, b) => a.partition.localeCompare(b.partition, undefined, { numeric: true }));
}

export function registerLogDirs(program: Command): void {
  program
    .command('log-dirs')
    .description("describe the brokers' log directories: partitions and their sizes (kafka-log-dirs)")
    .option('--describe', 'describe the log directories (required, as in Kafka)')
    .option('--data-dir <dir>', "a cluster up data dir, or one node's data dir", './data')
    .option('--broker-list <ids>', 'comma-separated broker ids (default: every broker)')
    .option('--topic-list <topics>', 'comma-separated topics (default: every topic)')
    .action((opts: LogDirsOptions) => {
      if (!opts.describe) throw new UsageError('--describe is required');
      const root = resolve(opts.dataDir ?? './data');
      if (!existsSync(root)) throw new UsageError(`${root} does not exist`);
      const wanted = opts.brokerList?.split(',').map((b) => parseInteger(b.trim(), '--broker-list', 0));
      const topics = opts.topicList
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const state = readState(root);
      const nodes = state
        ? state.nodes.filter((n) => n.roles.split(',').includes('broker')).map((n) => ({ broker: n.nodeId, dir: n.dataDir }))
        : [{ broker: -1, dir: root }];
      const brokers = nodes
        .filter((n) => wanted === undefined || n.broker < 0 || wanted.includes(n.broker))
        .map((n) => ({
          broker: n.broker,
          logDirs: [
            {
              logDir: n.dir,
              error: existsSync(n.dir) ? null : 'KafkaStorageException',
              partitions: existsSync(n.dir) ? partitionDirs(n.dir, topics) : [],
            },
          ],
        }));
      process.stdout.write('Querying brokers for log directories information\n');
      process.stdout.write(`Received log directory information from brokers ${brokers.map((b) => b.broker).join(',')}\n`);
      process.stdout.write(`${JSON.stringify({ brokers, version: 1 })}\n`);
    });
}
