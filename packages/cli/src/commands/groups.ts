/**
 * `samsa groups` (kafka-consumer-groups), with Kafka's flags:
 *
 *   samsa groups --bootstrap-server B --list
 *   samsa groups --bootstrap-server B --describe (--group G ... | --all-groups) [--offsets | --members [--verbose] | --state]
 *   samsa groups --bootstrap-server B --reset-offsets (--group G | --all-groups) (--topic T[:p1,p2] ... | --all-topics | --from-file CSV)
 *       (--to-earliest | --to-latest | --to-current | --to-offset N | --shift-by N | --to-datetime ISO8601 | --by-duration PnDTnHnMnS)
 *       [--dry-run | --execute] [--export]
 *   samsa groups --bootstrap-server B --delete (--group G [--group G2 ...] | --all-groups)
 *   samsa groups --bootstrap-server B --delete-offsets --group G --topic T[:p1,p2] [--topic ...]
 *
 * --describe prints GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST
 * CLIENT-ID, "-" where there is no value. --reset-offsets is refused while the group has active
 * members, as Kafka ("Assignments can only be reset if the group ... is inactive"); without
 * --execute it only prints the plan (Kafka's default --dry-run); --export prints the plan as the
 * `topic,partition,offset` CSV that --from-file reads back.
 */
import { readFileSync } from 'node:fs';
import { UnknownTopicOrPartitionError, type Admin } from '@samsa/client';
import { partitionsByTopic } from '@samsa/protocol';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';

function readCsv(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--from-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

interface GroupsOptions {
  bootstrapServer?: string;
  list?: boolean;
  describe?: boolean;
  delete?: boolean;
  resetOffsets?: boolean;
  deleteOffsets?: boolean;
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
  allGroups?: boolean;
  members?: boolean;
  state?: boolean;
  offsets?: boolean;
  verbose?: boolean;
  toCurrent?: boolean;
  byDuration?: string;
  fromFile?: string;
  export?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerGroups(program: Command): void {
  program
    .command('groups')
    .option(
      '--command-config <file>',
      'client configs from a properties file: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location (PEM)',
    )
    .description('list, describe, delete consumer groups and reset their offsets (kafka-consumer-groups)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--list', 'list every consumer group')
    .option('--describe', 'per partition: committed offset, log end offset, lag and owner')
    .option('--delete', 'delete the groups (they must have no active members)')
    .option('--reset-offsets', 'set committed offsets (the group must have no active members)')
    .option('--delete-offsets', "delete the group's committed offsets of --topic (refused for a topic the group consumes)")
    .option('--group <id>', 'the group (repeatable for --delete)', collect)
    .option('--topic <name[:p1,p2]>', 'with --reset-offsets or --delete-offsets: a topic, optionally some partitions (repeatable)', collect)
    .option('--all-topics', 'with --reset-offsets: every topic the group has offsets for')
    .option('--to-earliest', 'reset to the log start')
    .option('--to-latest', 'reset to the log end')
    .option('--to-offset <n>', 'reset to this offset (clamped into the log)')
    .option('--shift-by <n>', 'move the committed offset by n (negative: back), clamped into the log')
    .option('--to-datetime <iso8601>', 'reset to the first record at or after this time, e.g. 2024-01-01T00:00:00.000Z')
    .option('--to-current', 'reset to the committed offset (a no-op plan, e.g. to --export it)')
    .option('--by-duration <duration>', 'reset to the first record at or after now minus this ISO 8601 duration, e.g. PT1H or P1DT30M')
    .option('--from-file <csv>', 'reset to the offsets in this CSV of topic,partition,offset lines (what --export prints)')
    .option('--dry-run', 'print the new offsets only (the default)')
    .option('--execute', 'commit the new offsets')
    .option('--export', 'with --reset-offsets: print the plan as topic,partition,offset CSV')
    .option('--all-groups', 'every group (with --describe, --delete or --reset-offsets)')
    .option('--offsets', 'with --describe: offsets and lag per partition (the default)')
    .option('--members', 'with --describe: the members and how many partitions each has (--verbose: which)')
    .option('--state', 'with --describe: coordinator, assignor, state and member count')
    .option('--verbose', "with --describe --members: each member's partitions")
    .action(async (own: GroupsOptions, command: Command) => {
      // --verbose is also the program's own flag (stack traces); commander hands it to the program.
      const opts: GroupsOptions = { ...own, verbose: (command.optsWithGlobals() as GroupsOptions).verbose === true };
      const actions = [opts.list, opts.describe, opts.delete, opts.resetOffsets, opts.deleteOffsets].filter(Boolean).length;
      if (actions !== 1) throw new UsageError('exactly one of --list, --describe, --delete, --reset-offsets, --delete-offsets is required');
      if (opts.deleteOffsets && (opts.allGroups || (opts.group ?? []).length !== 1))
        throw new UsageError('--delete-offsets needs one --group');
      if (opts.deleteOffsets && (opts.topic ?? []).length === 0) throw new UsageError('--delete-offsets needs --topic');
      let groups = opts.group ?? [];
      if (opts.allGroups && groups.length > 0) throw new UsageError('--group and --all-groups cannot be combined');
      if (!opts.list && !opts.allGroups && groups.length === 0) throw new UsageError('--group or --all-groups is required');
      if (opts.resetOffsets && groups.length > 1) throw new UsageError('give one --group');
      if (groups.some((g) => g.length === 0)) throw new UsageError('--group must not be empty');
      const views = [opts.offsets, opts.members, opts.state].filter(Boolean).length;
      if (views > 1) throw new UsageError('give at most one of --offsets, --members, --state');
      if (views > 0 && !opts.describe) throw new UsageError('--offsets, --members and --state need --describe');
      if (opts.export && !opts.resetOffsets) throw new UsageError('--export needs --reset-offsets');
      await withClient(opts.bootstrapServer, async (samsa) => {
        const admin = samsa.admin();
        if (opts.allGroups) groups = (await admin.listGroups()).map((g) => g.groupId).sort();
        if (opts.list) {
          for (const g of await admin.listGroups()) process.stdout.write(`${g.groupId}\n`);
        } else if (opts.describe) {
          for (const g of groups) {
            if (opts.members) await describeMembers(admin, g, opts.verbose === true);
            else if (opts.state) await describeState(admin, g);
            else await describe(admin, g);
          }
        } else if (opts.delete) {
          if (groups.length > 0) await remove(admin, groups);
        } else if (opts.deleteOffsets) {
          await deleteOffsets(admin, groups[0]!, opts.topic!);
        } else {
          for (const g of groups) await reset(admin, g, opts);
        }
      });
    });
}

/** kafka-consumer-groups --describe --members: GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS [ASSIGNMENT]. */
async function describeMembers(admin: Admin, groupId: string, verbose: boolean): Promise<void> {
  const [d] = await admin.describeGroups([groupId]);
  if (d!.state === 'Dead') throw new Error(`Consumer group '${groupId}' does not exist.`);
  if (d!.members.length === 0) {
    process.stdout.write(`\nConsumer group '${groupId}' has no active members.\n\n`);
    return;
  }
  const rows = [['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', ...(verbose ? ['ASSIGNMENT'] : [])]];
  for (const m of d!.members) {
    const assignment =
      [...partitionsByTopic(m.assignment)].map(([t, ps]) => `${t}(${ps.sort((a, b) => a - b).join(',')})`).join(',') || '-';
    rows.push([groupId, m.memberId, m.clientHost || '-', m.clientId || '-', String(m.assignment.length), ...(verbose ? [assignment] : [])]);
  }
  process.stdout.write(table(rows));
}

/** kafka-consumer-groups --describe --state: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS. */
async function describeState(admin: Admin, groupId: string): Promise<void> {
  const [d] = await admin.describeGroups([groupId]);
  if (d!.state === 'Dead') throw new Error(`Consumer group '${groupId}' does not exist.`);
  const brokers = (await admin.describeCluster()).brokers;
  const coordinator = brokers.find((b) => b.nodeId === d!.coordinator);
  const where = coordinator ? `${coordinator.address} (${coordinator.nodeId})` : `(${d!.coordinator})`;
  process.stdout.write(
    table([
      ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'],
      [groupId, where, d!.protocol || '-', d!.state, String(d!.members.length)],
    ]),
  );
}

/** An ISO 8601 duration as Java's Duration.parse takes it (PnDTnHnMn.nS), in ms. */
export function parseIsoDuration(value: string, flag: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value.trim().toUpperCase());
  if (!m || value.trim().toUpperCase() === 'P' || value.trim().toUpperCase().endsWith('T')) {
    throw new UsageError(`${flag} must be an ISO 8601 duration such as PT1H, P1D or P1DT2H30M, got '${value}'`);
  }
  const [d, h, min, sec] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0));
  return Math.round((((d! * 24 + h!) * 60 + min!) * 60 + sec!) * 1000);
}

/** Lines of topic,partition,offset (what --export prints); blank lines skipped. */
export function parseOffsetsCsv(text: string, file: string): Array<{ topic: string; partition: number; offset: bigint }> {
  const out: Array<{ topic: string; partition: number; offset: bigint }> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^(.+),(\d+),(\d+)$/.exec(line.trim());
    if (!m) throw new UsageError(`--from-file ${file} line ${i + 1} is not topic,partition,offset: '${line}'`);
    out.push({ topic: m[1]!, partition: Number(m[2]), offset: BigInt(m[3]!) });
  });
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join(' ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

async function describe(admin: Admin, groupId: string): Promise<void> {
  const [description] = await admin.describeGroups([groupId]);
  const lag = await admin.groupLag(groupId);
  if (description!.state === 'Dead' && lag.length === 0) throw new Error(`Consumer group '${groupId}' does not exist.`);
  if (description!.members.length === 0) process.stdout.write(`\nConsumer group '${groupId}' has no active members.\n\n`);
  const rows = [['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']];
  for (const r of lag) {
    rows.push([
      groupId,
      r.topic,
      String(r.partition),
      r.committedOffset?.toString() ?? '-',
      r.logEndOffset < 0n ? '-' : r.logEndOffset.toString(),
      r.lag?.toString() ?? '-',
      r.memberId ?? '-',
      r.host ?? '-',
      r.clientId ?? '-',
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
  if (deleted.length > 0)
    process.stdout.write(`Deletion of requested consumer groups (${deleted.map((g) => `'${g}'`).join(', ')}) was successful.\n`);
  if (failures.length > 0) {
    process.stdout.write(`Deletion of some consumer groups failed:\n${failures.join('\n')}\n`);
    throw new Error(`${failures.length} group(s) could not be deleted`);
  }
}

/**
 * --delete-offsets (Kafka's ConsumerGroupCommand.deleteOffsets): a --topic without partitions means
 * every partition of the topic (from its metadata; for a topic that no longer exists, the ones the
 * group has offsets for). Prints Kafka's TOPIC PARTITION STATUS table; any refusal exits 1.
 */
async function deleteOffsets(admin: Admin, groupId: string, specs: string[]): Promise<void> {
  const wanted: Array<{ topic: string; partition: number }> = [];
  for (const spec of specs) {
    const { topic, partitions } = parseTopicSpec(spec);
    let list = partitions;
    if (list === undefined) {
      try {
        list = (await admin.describeTopics([topic]))[0]!.partitions.map((p) => p.partition);
      } catch (err) {
        if (!(err instanceof UnknownTopicOrPartitionError)) throw err;
        list = (await admin.fetchOffsets(groupId)).filter((o) => o.topic === topic && o.offset >= 0n).map((o) => o.partition);
      }
    }
    for (const partition of list) wanted.push({ topic, partition });
  }
  if (wanted.length === 0) throw new Error(`Consumer group '${groupId}' has no offsets of ${specs.join(', ')} to delete.`);
  const results = await admin.deleteOffsets(groupId, wanted);
  const failed = results.filter((r) => r.error !== undefined);
  if (failed.length === 0) process.stdout.write(`\nRequest succeed for deleting offsets with topic ${specs.join(', ')} group ${groupId}\n`);
  const row = (t: string, p: string, status: string) => `${t.padEnd(30)} ${p.padEnd(15)} ${status}\n`;
  process.stdout.write(`\n${row('TOPIC', 'PARTITION', 'STATUS')}`);
  for (const r of [...results].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)) {
    process.stdout.write(row(r.topic, String(r.partition), r.error ? `Error: ${r.error.errorName}: ${r.error.message}` : 'Successful'));
  }
  if (failed.length > 0) {
    throw new Error(
      `Deleting offsets failed for ${failed.length} partition(s): ${failed[0]!.error!.errorName}: ${failed[0]!.error!.message}`,
    );
  }
}

function parseTopicSpec(spec: string): { topic: string; partitions: number[] | undefined } {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { topic: spec, partitions: undefined };
  const topic = spec.slice(0, colon);
  const partitions = spec
    .slice(colon + 1)
    .split(',')
    .map((p) => {
      if (!/^\d+$/.test(p.trim())) throw new UsageError(`--topic ${spec}: partitions must be non-negative integers`);
      return Number(p);
    });
  if (!topic) throw new UsageError(`--topic ${spec}: missing topic name`);
  return { topic, partitions };
}

async function reset(admin: Admin, groupId: string, opts: GroupsOptions): Promise<void> {
  const fromFile = opts.fromFile === undefined ? undefined : parseOffsetsCsv(readCsv(opts.fromFile), opts.fromFile);
  const scenarios = [
    opts.toEarliest,
    opts.toLatest,
    opts.toCurrent,
    opts.toOffset !== undefined,
    opts.shiftBy !== undefined,
    opts.toDatetime !== undefined,
    opts.byDuration !== undefined,
    fromFile !== undefined,
  ].filter(Boolean).length;
  if (scenarios !== 1)
    throw new UsageError(
      'exactly one of --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime, --by-duration, --from-file is required',
    );
  const scopes = [(opts.topic?.length ?? 0) > 0, Boolean(opts.allTopics)].filter(Boolean).length;
  if (fromFile ? scopes > 0 : scopes !== 1)
    throw new UsageError(
      fromFile ? '--from-file names its partitions: drop --topic/--all-topics' : 'one of --topic or --all-topics is required',
    );
  if (opts.dryRun && opts.execute) throw new UsageError('--dry-run and --execute cannot be combined');
  const toOffset = opts.toOffset === undefined ? undefined : parseBig(opts.toOffset, '--to-offset', false);
  const shiftBy = opts.shiftBy === undefined ? undefined : parseBig(opts.shiftBy, '--shift-by', true);
  let datetime: bigint | undefined;
  if (opts.toDatetime !== undefined) {
    const ms = Date.parse(opts.toDatetime);
    if (Number.isNaN(ms) || ms < 0)
      throw new UsageError(`--to-datetime must be an ISO 8601 time such as 2024-01-01T00:00:00.000Z, got '${opts.toDatetime}'`);
    datetime = BigInt(ms);
  }
  if (opts.byDuration !== undefined) datetime = BigInt(Date.now() - parseIsoDuration(opts.byDuration, '--by-duration'));
  if (!opts.execute && !opts.dryRun)
    process.stderr.write('WARN: No action will be performed as the --execute option is missing. Add --execute to reset the offsets.\n');

  // Refuse early, before any lookups, while the group is active.
  const [description] = await admin.describeGroups([groupId]);
  if (description!.members.length > 0) {
    throw new Error(`Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${description!.state}.`);
  }
  const committed = await admin.fetchOffsets(groupId);
  const targets = new Map<string, number[]>();
  if (fromFile) {
    for (const [topic, ps] of partitionsByTopic(fromFile)) targets.set(topic, ps);
  } else if (opts.allTopics) {
    for (const [topic, ps] of partitionsByTopic(committed)) targets.set(topic, ps);
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
    const q = (timestamp: 'earliest' | 'latest' | bigint) =>
      admin.listOffsets(
        topic,
        partitions.map((partition) => ({ partition, timestamp })),
      );
    const [earliest, latest] = await Promise.all([q('earliest'), q('latest')]);
    const byTime = datetime === undefined ? undefined : await q(datetime);
    partitions.forEach((partition, i) => {
      const lo = earliest[i]!.offset;
      const hi = latest[i]!.offset;
      const clamp = (o: bigint) => (o < lo ? lo : o > hi ? hi : o);
      let offset: bigint;
      const current = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? -1n;
      if (opts.toEarliest) offset = lo;
      else if (opts.toLatest) offset = hi;
      else if (fromFile) offset = clamp(fromFile.find((r) => r.topic === topic && r.partition === partition)!.offset);
      else if (opts.toCurrent) {
        if (current < 0n) throw new Error(`${topic}-${partition} has no committed offset for group '${groupId}'`);
        offset = current;
      } else if (toOffset !== undefined) offset = clamp(toOffset);
      else if (byTime !== undefined) offset = byTime[i]!.offset >= 0n ? byTime[i]!.offset : hi;
      else {
        if (current < 0n) throw new Error(`${topic}-${partition} has no committed offset for group '${groupId}' to shift from`);
        offset = clamp(current + shiftBy!);
      }
      plan.push({ topic, partition, offset });
    });
  }
  if (opts.execute) await admin.resetOffsets(groupId, plan);
  if (opts.export) {
    process.stdout.write(plan.map((p) => `${p.topic},${p.partition},${p.offset}\n`).join(''));
    return;
  }
  process.stdout.write(
    table([
      ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
      ...plan.map((p) => [groupId, p.topic, String(p.partition), p.offset.toString()]),
    ]),
  );
}

function parseBig(value: string, flag: string, signed: boolean): bigint {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(value.trim()))
    throw new UsageError(`${flag} must be ${signed ? 'an integer' : 'a non-negative integer'}, got '${value}'`);
  return BigInt(value.trim());
}
