/**
 * `samsa groups` (kafka-consumer-groups), with Kafka's flags:
 *
 *   samsa groups --bootstrap-server B --list
 *   samsa groups --bootstrap-server B --describe --group G
 *   samsa groups --bootstrap-server B --reset-offsets --group G (--topic T[:p1,p2] ... | --all-topics)
 *       (--to-earliest | --to-latest | --to-offset N | --shift-by N | --to-datetime ISO8601) [--dry-run | --execute]
 *   samsa groups --bootstrap-server B --delete --group G [--group G2 ...]
 *
 * --describe prints GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST
 * CLIENT-ID, "-" where there is no value. --reset-offsets is refused while the group has active
 * members, as Kafka ("Assignments can only be reset if the group ... is inactive"); without
 * --execute it only prints the plan (Kafka's default --dry-run).
 */
import type { Admin } from '@samsa/client';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';

interface GroupsOptions {
  bootstrapServer?: string;
  list?: boolean;
  describe?: boolean;
  delete?: boolean;
  resetOffsets?: boolean;
  group?: string[];
  topic?: string[];
  allTopics?: boolean;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  shiftBy?: string;
  toDatetime?: string;
  dryRun?: boolean;
  execute?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerGroups(program: Command): void {
  program
    .command('groups')
    .description('list, describe, delete consumer groups and reset their offsets (kafka-consumer-groups)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--list', 'list every consumer group')
    .option('--describe', 'per partition: committed offset, log end offset, lag and owner')
    .option('--delete', 'delete the groups (they must have no active members)')
    .option('--reset-offsets', 'set committed offsets (the group must have no active members)')
    .option('--group <id>', 'the group (repeatable for --delete)', collect)
    .option('--topic <name[:p1,p2]>', 'with --reset-offsets: a topic, optionally some partitions (repeatable)', collect)
    .option('--all-topics', 'with --reset-offsets: every topic the group has offsets for')
    .option('--to-earliest', 'reset to the log start')
    .option('--to-latest', 'reset to the log end')
    .option('--to-offset <n>', 'reset to this offset (clamped into the log)')
    .option('--shift-by <n>', 'move the committed offset by n (negative: back), clamped into the log')
    .option('--to-datetime <iso8601>', 'reset to the first record at or after this time, e.g. 2024-01-01T00:00:00.000Z')
    .option('--dry-run', 'print the new offsets only (the default)')
    .option('--execute', 'commit the new offsets')
    .action(async (opts: GroupsOptions) => {
      const actions = [opts.list, opts.describe, opts.delete, opts.resetOffsets].filter(Boolean).length;
      if (actions !== 1) throw new UsageError('exactly one of --list, --describe, --delete, --reset-offsets is required');
      const groups = opts.group ?? [];
      if (!opts.list && groups.length === 0) throw new UsageError('--group is required');
      if ((opts.describe || opts.resetOffsets) && groups.length > 1) throw new UsageError('give one --group');
      if (groups.some((g) => g.length === 0)) throw new UsageError('--group must not be empty');
      await withClient(opts.bootstrapServer, async (samsa) => {
        const admin = samsa.admin();
        if (opts.list) {
          for (const g of await admin.listGroups()) process.stdout.write(`${g.groupId}\n`);
        } else if (opts.describe) {
          await describe(admin, groups[0]!);
        } else if (opts.delete) {
          await remove(admin, groups);
        } else {
          await reset(admin, groups[0]!, opts);
        }
      });
    });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(' ').trimEnd()).join('\n') + '\n';
}

async function describe(admin: Admin, groupId: string): Promise<void> {
  const [description] = await admin.describeGroups([groupId]);
  const lag = await admin.groupLag(groupId);
  if (description!.state === 'Dead' && lag.length === 0) throw new Error(`Consumer group '${groupId}' does not exist.`);
  if (description!.members.length === 0) process.stdout.write(`\nConsumer group '${groupId}' has no active members.\n\n`);
  const rows = [['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']];
  for (const r of lag) {
    rows.push([
      groupId, r.topic, String(r.partition), r.committedOffset?.toString() ?? '-', r.logEndOffset.toString(), r.lag?.toString() ?? '-',
      r.memberId ?? '-', r.host ?? '-', r.clientId ?? '-',
    ]);
  }
  // Members without partitions (more members than partitions), as Kafka lists them.
  for (const m of description!.members) {
    if (m.assignment.length === 0) rows.push([groupId, '-', '-', '-', '-', '-', m.memberId, m.clientHost || '-', m.clientId || '-']);
  }
  process.stdout.write(table(rows));
}

async function remove(admin: Admin, groups: string[]): Promise<void> {
  const failures: string[] = [];
  const deleted: string[] = [];
  for (const g of groups) {
    try {
      await admin.deleteGroups([g]);
      deleted.push(g);
    } catch (err) {
      const e = err as { errorName?: string; message: string };
      failures.push(`* Group '${g}' could not be deleted due to: ${e.errorName ? `${e.errorName}: ` : ''}${e.message}`);
    }
  }
  if (deleted.length > 0) process.stdout.write(`Deletion of requested consumer groups (${deleted.map((g) => `'${g}'`).join(', ')}) was successful.\n`);
  if (failures.length > 0) {
    process.stdout.write(`Deletion of some consumer groups failed:\n${failures.join('\n')}\n`);
    throw new Error(`${failures.length} group(s) could not be deleted`);
  }
}

function parseTopicSpec(spec: string): { topic: string; partitions: number[] | undefined } {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { topic: spec, partitions: undefined };
  const topic = spec.slice(0, colon);
  const partitions = spec.slice(colon + 1).split(',').map((p) => {
    if (!/^\d+$/.test(p.trim())) throw new UsageError(`--topic ${spec}: partitions must be non-negative integers`);
    return Number(p);
  });
  if (!topic) throw new UsageError(`--topic ${spec}: missing topic name`);
  return { topic, partitions };
}

async function reset(admin: Admin, groupId: string, opts: GroupsOptions): Promise<void> {
  const scenarios = [opts.toEarliest, opts.toLatest, opts.toOffset !== undefined, opts.shiftBy !== undefined, opts.toDatetime !== undefined].filter(Boolean).length;
  if (scenarios !== 1) throw new UsageError('exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime is required');
  if ((opts.topic?.length ?? 0) > 0 === Boolean(opts.allTopics)) throw new UsageError('one of --topic or --all-topics is required');
  if (opts.dryRun && opts.execute) throw new UsageError('--dry-run and --execute cannot be combined');
  const toOffset = opts.toOffset === undefined ? undefined : parseBig(opts.toOffset, '--to-offset', false);
  const shiftBy = opts.shiftBy === undefined ? undefined : parseBig(opts.shiftBy, '--shift-by', true);
  let datetime: bigint | undefined;
  if (opts.toDatetime !== undefined) {
    const ms = Date.parse(opts.toDatetime);
    if (Number.isNaN(ms) || ms < 0) throw new UsageError(`--to-datetime must be an ISO 8601 time such as 2024-01-01T00:00:00.000Z, got '${opts.toDatetime}'`);
    datetime = BigInt(ms);
  }
  if (!opts.execute && !opts.dryRun) process.stderr.write('WARN: No action will be performed as the --execute option is missing. Add --execute to reset the offsets.\n');

  // Refuse early, before any lookups, while the group is active.
  const [description] = await admin.describeGroups([groupId]);
  if (description!.members.length > 0) {
    throw new Error(`Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${description!.state}.`);
  }
  const committed = await admin.fetchOffsets(groupId);
  const targets = new Map<string, number[]>();
  if (opts.allTopics) {
    for (const c of committed) targets.set(c.topic, [...(targets.get(c.topic) ?? []), c.partition]);
  } else {
    for (const spec of opts.topic!) {
      const { topic, partitions } = parseTopicSpec(spec);
      const [d] = await admin.describeTopics([topic]);
      const all = d!.partitions.map((p) => p.partition);
      for (const p of partitions ?? []) if (!all.includes(p)) throw new UsageError(`topic ${topic} has no partition ${p}`);
      targets.set(topic, partitions ?? all);
    }
  }
  const plan: Array<{ topic: string; partition: number; offset: bigint }> = [];
  for (const [topic, partitions] of [...targets].sort(([a], [b]) => a.localeCompare(b))) {
    partitions.sort((a, b) => a - b);
    const q = (timestamp: 'earliest' | 'latest' | bigint) => admin.listOffsets(topic, partitions.map((partition) => ({ partition, timestamp })));
    const [earliest, latest] = await Promise.all([q('earliest'), q('latest')]);
    const byTime = datetime === undefined ? undefined : await q(datetime);
    partitions.forEach((partition, i) => {
      const lo = earliest[i]!.offset;
      const hi = latest[i]!.offset;
      const clamp = (o: bigint) => (o < lo ? lo : o > hi ? hi : o);
      let offset: bigint;
      if (opts.toEarliest) offset = lo;
      else if (opts.toLatest) offset = hi;
      else if (toOffset !== undefined) offset = clamp(toOffset);
      else if (byTime !== undefined) offset = byTime[i]!.offset >= 0n ? byTime[i]!.offset : hi;
      else {
        const current = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? -1n;
        if (current < 0n) throw new Error(`${topic}-${partition} has no committed offset for group '${groupId}' to shift from`);
        offset = clamp(current + shiftBy!);
      }
      plan.push({ topic, partition, offset });
    });
  }
  if (opts.execute) await admin.resetOffsets(groupId, plan);
  process.stdout.write(table([['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], ...plan.map((p) => [groupId, p.topic, String(p.partition), p.offset.toString()])]));
}

function parseBig(value: string, flag: string, signed: boolean): bigint {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(value.trim())) throw new UsageError(`${flag} must be ${signed ? 'an integer' : 'a non-negative integer'}, got '${value}'`);
  return BigInt(value.trim());
}
