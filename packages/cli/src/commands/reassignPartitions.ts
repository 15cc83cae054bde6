/**
 * `samsa reassign-partitions` (kafka-reassign-partitions, Kafka's ReassignPartitionsCommand,
 * KIP-455). Kafka's JSON files and modes:
 * - `--generate --topics-to-move-json-file F --broker-list 1,2,3`: F is
 *   `{"topics":[{"topic":"t"}],"version":1}`; prints the current assignment and a proposed one that
 *   spreads each partition's replicas (the topic's replication factor) over the listed brokers.
 * - `--execute --reassignment-json-file F`: F is `{"version":1,"partitions":[{"topic":"t",
 *   "partition":0,"replicas":[4,5,6]}]}`; prints the current assignment (to roll back with) and
 *   starts the reassignments. A different replica count changes the partition's replication factor.
 * - `--verify --reassignment-json-file F`: per partition, completed or still in progress.
 * - `--cancel --reassignment-json-file F`: cancels the partitions' running reassignments.
 * A partition-level failure is printed and makes the exit status 1.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Admin } from '@samsa/client';
import { withClient } from '../client.js';
import { UsageError, describeError } from '../errors.js';
import { bootstrapFrom, readPropertiesFile } from '../options.js';

interface ReassignOptions {
  bootstrapServer?: string;
  commandConfig?: string;
  reassignmentJsonFile?: string;
  topicsToMoveJsonFile?: string;
  brokerList?: string;
  generate?: boolean;
  execute?: boolean;
  verify?: boolean;
  cancel?: boolean;
  timeout?: string;
}

export interface ReassignmentEntry {
  topic: string;
  partition: number;
  replicas: number[];
}

function parseJson(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} is not JSON: ${(err as Error).message}`);
  }
}

/** Kafka's reassignment JSON; throws UsageError naming what is wrong. */
export function parseReassignmentJson(text: string): ReassignmentEntry[] {
  const value = parseJson(text, '--reassignment-json-file');
  const partitions = (value as { partitions?: unknown })?.partitions;
  if (!Array.isArray(partitions) || partitions.length === 0)
    throw new UsageError('--reassignment-json-file needs a non-empty "partitions" array');
  const seen = new Set<string>();
  return partitions.map((p: unknown, i) => {
    const { topic, partition, replicas } = (p ?? {}) as { topic?: unknown; partition?: unknown; replicas?: unknown };
    if (typeof topic !== 'string' || topic === '') throw new UsageError(`partitions[${i}]: "topic" must be a non-empty string`);
    if (!Number.isInteger(partition) || (partition as number) < 0)
      throw new UsageError(`partitions[${i}]: "partition" must be a non-negative integer`);
    if (!Array.isArray(replicas) || replicas.length === 0 || !replicas.every((b) => Number.isInteger(b) && (b as number) >= 0))
      throw new UsageError(`partitions[${i}]: "replicas" must be a non-empty array of broker ids`);
    if (new Set(replicas).size !== replicas.length)
      throw new UsageError(`partitions[${i}]: "replicas" [${replicas.join(',')}] repeats a broker`);
    const key = `${topic}-${partition as number}`;
    if (seen.has(key)) throw new UsageError(`partition ${key} appears more than once`);
    seen.add(key);
    return { topic, partition: partition as number, replicas: replicas as number[] };
  });
}

/** Kafka's topics-to-move JSON: `{"topics":[{"topic":"t"}],"version":1}`. */
export function parseTopicsToMoveJson(text: string): string[] {
  const value = parseJson(text, '--topics-to-move-json-file');
  const topics = (value as { topics?: unknown })?.topics;
  if (!Array.isArray(topics) || topics.length === 0) throw new UsageError('--topics-to-move-json-file needs a non-empty "topics" array');
  const names = topics.map((t: unknown, i) => {
    const topic = (t as { topic?: unknown } | null)?.topic;
    if (typeof topic !== 'string' || topic === '') throw new UsageError(`topics[${i}]: "topic" must be a non-empty string`);
    return topic;
  });
  return [...new Set(names)];
}

export function parseBrokerList(text: string | undefined): number[] {
  if (text === undefined) throw new UsageError('--broker-list is required with --generate');
  const ids = text.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^(0|[1-9]\d*)$/.test(s)))
    throw new UsageError(`--broker-list must be broker ids separated by commas, got '${text}'`);
  const out = ids.map(Number);
  if (new Set(out).size !== out.length) throw new UsageError(`--broker-list repeats a broker: '${text}'`);
  return out;
}

/**
 * A proposed assignment (Kafka's rack-unaware rule, simplified): partition p's replicas are the
 * brokers at positions p, p+1, ... (mod n) of the sorted list, so leaders and replicas spread evenly.
 */
export function proposeAssignment(
  topics: ReadonlyArray<{ topic: string; partitions: number; replicationFactor: number }>,
  brokers: readonly number[],
): ReassignmentEntry[] {
  const sorted = [...brokers].sort((a, b) => a - b);
  const out: ReassignmentEntry[] = [];
  let start = 0;
  for (const t of topics) {
    if (t.replicationFactor > sorted.length) {
      throw new UsageError(
        `topic '${t.topic}' has replication factor ${t.replicationFactor}, more than the ${sorted.length} broker(s) in --broker-list`,
      );
    }
    for (let p = 0; p < t.partitions; p++) {
      const replicas = Array.from({ length: t.replicationFactor }, (_, j) => sorted[(start + p + j) % sorted.length]!);
      out.push({ topic: t.topic, partition: p, replicas });
    }
    start += t.partitions;
  }
  return out;
}

/** Kafka's JSON, one line, as its tool prints it. */
export function formatReassignmentJson(entries: readonly ReassignmentEntry[]): string {
  return JSON.stringify({
    version: 1,
    partitions: entries.map((e) => ({
      topic: e.topic,
      partition: e.partition,
      replicas: e.replicas,
      log_dirs: e.replicas.map(() => 'any'),
    })),
  });
}

async function currentAssignment(admin: Admin, entries: readonly { topic: string; partition: number }[]): Promise<ReassignmentEntry[]> {
  const names = [...new Set(entries.map((e) => e.topic))];
  const described = await admin.describeTopics(names);
  const byName = new Map(described.map((t) => [t.name, t]));
  return entries.map(({ topic, partition }) => {
    const p = byName.get(topic)?.partitions.find((x) => x.partition === partition);
    if (p === undefined) throw new UsageError(`partition ${topic}-${partition} does not exist`);
    return { topic, partition, replicas: [...p.replicas] };
  });
}

function readFile(file: string | undefined, flag: string): string {
  if (file === undefined) throw new UsageError(`${flag} is required`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${flag}: ${(err as Error).message}`);
  }
}

export function registerReassignPartitions(program: Command): void {
  program
    .command('reassign-partitions')
    .description("move partitions' replicas to other brokers or change their replication factor (kafka-reassign-partitions)")
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--command-config <file>', 'client configs from a properties file (bootstrap.servers is read)')
    .option('--generate', 'propose an assignment of the topics in --topics-to-move-json-file over --broker-list')
    .option('--execute', 'start the reassignment in --reassignment-json-file')
    .option('--verify', 'report whether the reassignment in --reassignment-json-file has completed')
    .option('--cancel', 'cancel the running reassignments of the partitions in --reassignment-json-file')
    .option('--reassignment-json-file <file>', 'Kafka\'s JSON: {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}')
    .option('--topics-to-move-json-file <file>', 'Kafka\'s JSON: {"topics":[{"topic":"t"}],"version":1}')
    .option('--broker-list <ids>', 'the brokers to move to, e.g. 1,2,3 (with --generate)')
    .option('--timeout <ms>', 'how long the controller may take to start or cancel (default 30000)')
    .action(async (opts: ReassignOptions) => {
      const modes = (['generate', 'execute', 'verify', 'cancel'] as const).filter((m) => opts[m] === true);
      if (modes.length !== 1) throw new UsageError('give exactly one of --generate, --execute, --verify, --cancel');
      const mode = modes[0]!;
      const timeoutMs = opts.timeout === undefined ? 30_000 : Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
        throw new UsageError(`--timeout must be a positive integer, got '${opts.timeout}'`);
      // Parse everything before connecting: bad input fails fast and changes nothing.
      const topicsToMove =
        mode === 'generate' ? parseTopicsToMoveJson(readFile(opts.topicsToMoveJsonFile, '--topics-to-move-json-file')) : [];
      const brokerList = mode === 'generate' ? parseBrokerList(opts.brokerList) : [];
      const entries = mode === 'generate' ? [] : parseReassignmentJson(readFile(opts.reassignmentJsonFile, '--reassignment-json-file'));
      const config = opts.commandConfig === undefined ? {} : readPropertiesFile(opts.commandConfig, '--command-config');
      const out = (line: string) => process.stdout.write(`${line}\n`);

      // --broker-list here is Kafka's target broker ids, not the old bootstrap alias other tools take.
      await withClient(
        bootstrapFrom({ ...(opts.bootstrapServer === undefined ? {} : { bootstrapServer: opts.bootstrapServer }) }, config),
        async (samsa) => {
          const admin = samsa.admin();
          if (mode === 'generate') {
            const described = await admin.describeTopics(topicsToMove);
            const current = described.flatMap((t) =>
              t.partitions.map((p) => ({ topic: t.name, partition: p.partition, replicas: [...p.replicas] })),
            );
            const proposed = proposeAssignment(
              described.map((t) => ({
                topic: t.name,
                partitions: t.partitions.length,
                replicationFactor: t.partitions[0]?.replicas.length ?? 1,
              })),
              brokerList,
            );
            out('Current partition replica assignment');
            out(formatReassignmentJson(current));
            out('');
            out('Proposed partition reassignment configuration');
            out(formatReassignmentJson(proposed));
            return;
          }
          if (mode === 'execute') {
            const current = await currentAssignment(admin, entries);
            out('Current partition replica assignment');
            out('');
            out(formatReassignmentJson(current));
            out('');
            out('Save this to use as the --reassignment-json-file option during rollback');
            const results = await admin.alterPartitionReassignments(entries, { timeoutMs });
            report(results, 'Successfully started partition reassignments for', 'start');
            return;
          }
          if (mode === 'cancel') {
            const results = await admin.alterPartitionReassignments(
              entries.map((e) => ({ topic: e.topic, partition: e.partition, replicas: null })),
              { timeoutMs },
            );
            report(results, 'Successfully cancelled partition reassignments for:', 'cancel');
            return;
          }
          // verify
          const ongoing = await admin.listPartitionReassignments({ partitions: entries, timeoutMs });
          const running = new Set(ongoing.map((o) => `${o.topic}-${o.partition}`));
          const current = await currentAssignment(admin, entries);
          out('Status of partition reassignment:');
          let done = true;
          entries.forEach((e, i) => {
            const key = `${e.topic}-${e.partition}`;
            if (running.has(key)) {
              done = false;
              out(`Reassignment of partition ${key} is still in progress.`);
              return;
            }
            const replicas = current[i]!.replicas;
            if (replicas.length === e.replicas.length && replicas.every((b, j) => b === e.replicas[j])) {
              out(`Reassignment of partition ${key} is completed.`);
            } else {
              done = false;
              out(
                `There is no active reassignment of partition ${key}, but replica set is [${replicas.join(', ')}] rather than [${e.replicas.join(', ')}].`,
              );
            }
          });
          if (!done) process.exitCode = 1;
        },
      );
    });
}

function report(
  results: ReadonlyArray<{ topic: string; partition: number; errorCode: number; error?: Error }>,
  successLine: string,
  what: string,
): void {
  const ok = results.filter((r) => r.errorCode === 0).map((r) => `${r.topic}-${r.partition}`);
  const failed = results.filter((r) => r.errorCode !== 0);
  if (ok.length > 0) process.stdout.write(`${successLine} ${ok.join(',')}\n`);
  for (const f of failed)
    process.stderr.write(`samsa: failed to ${what} the reassignment of ${f.topic}-${f.partition}: ${describeError(f.error)}\n`);
  if (failed.length > 0) process.exitCode = 1;
}
