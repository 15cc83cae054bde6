/** `samsa topics`: kafka-topics with the same flags (--create, --list, --describe, --alter, --delete). */
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { collectKeyValue, parseInteger } from '../options.js';

interface TopicsOptions {
  create?: boolean;
  list?: boolean;
  describe?: boolean;
  delete?: boolean;
  alter?: boolean;
  bootstrapServer?: string;
  topic?: string;
  partitions?: string;
  replicationFactor?: string;
  config?: Record<string, string>;
  ifNotExists?: boolean;
  underReplicatedPartitions?: boolean;
  unavailablePartitions?: boolean;
  underMinIsrPartitions?: boolean;
  atMinIsrPartitions?: boolean;
  excludeInternal?: boolean;
}

export function registerTopics(program: Command): void {
  program
    .command('topics')
    .option(
      '--command-config <file>',
      'client configs from a properties file: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location (PEM)',
    )
    .description('create, list, describe or delete topics (kafka-topics)')
    .option('--create', 'create a topic')
    .option('--list', 'list topics')
    .option('--describe', 'describe one topic, or every topic without --topic')
    .option('--delete', 'delete a topic')
    .option('--alter', 'add partitions to a topic (with --partitions, the new total)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--topic <name>', 'the topic')
    .option('--partitions <n>', "partitions for --create (default: the broker's num.partitions), or the new total for --alter")
    .option('--replication-factor <n>', 'replicas per partition for --create (default: the broker default)')
    .option('--config <key=value>', 'topic config for --create (repeatable)', collectKeyValue)
    .option('--if-not-exists', 'with --create: succeed when the topic already exists')
    .option('--under-replicated-partitions', 'with --describe: only partitions whose ISR is smaller than the replica list')
    .option('--unavailable-partitions', 'with --describe: only partitions without a leader (leader -1)')
    .option('--under-min-isr-partitions', 'with --describe: only partitions whose ISR is smaller than min.insync.replicas')
    .option('--at-min-isr-partitions', 'with --describe: only partitions whose ISR is exactly min.insync.replicas')
    .option('--exclude-internal', 'with --list or --describe: leave out internal topics (__consumer_offsets)')
    .action(async (opts: TopicsOptions) => {
      const actions = (['create', 'list', 'describe', 'alter', 'delete'] as const).filter((a) => opts[a]);
      if (actions.length !== 1) throw new UsageError('exactly one of --create, --list, --describe, --alter or --delete is required');
      if (opts.alter && opts.partitions === undefined)
        throw new UsageError('--alter needs --partitions (the new total number of partitions)');
      const filtered =
        opts.underReplicatedPartitions || opts.unavailablePartitions || opts.underMinIsrPartitions || opts.atMinIsrPartitions;
      if (filtered && !opts.describe) {
        throw new UsageError(
          '--under-replicated-partitions, --unavailable-partitions, --under-min-isr-partitions and --at-min-isr-partitions need --describe',
        );
      }
      if (opts.excludeInternal && !opts.list && !opts.describe) throw new UsageError('--exclude-internal needs --list or --describe');
      await withClient(opts.bootstrapServer, async (samsa) => {
        const admin = samsa.admin();
        switch (actions[0]) {
          case 'create': {
            const topic = requireTopic(opts);
            const numPartitions = opts.partitions === undefined ? undefined : parseInteger(opts.partitions, '--partitions');
            const replicationFactor =
              opts.replicationFactor === undefined ? undefined : parseInteger(opts.replicationFactor, '--replication-factor');
            try {
              await admin.createTopics([{ topic, numPartitions, replicationFactor, configs: opts.config ?? {} }]);
            } catch (err) {
              if (opts.ifNotExists && (err as { errorName?: string }).errorName === 'TOPIC_ALREADY_EXISTS') return;
              throw err;
            }
            process.stdout.write(`Created topic ${topic}.\n`);
            return;
          }
          case 'list': {
            const names = opts.excludeInternal
              ? (await admin.describeTopics())
                  .filter((t) => !t.isInternal)
                  .map((t) => t.name)
                  .sort()
              : (await admin.listTopics()).sort();
            process.stdout.write(names.map((n) => `${n}\n`).join(''));
            return;
          }
          case 'describe': {
            const descriptions = (await admin.describeTopics(opts.topic ? [opts.topic] : undefined)).filter(
              (t) => !(opts.excludeInternal && t.isInternal),
            );
            // min.insync.replicas as in force (topic, dynamic broker or built-in default), for the ISR filters.
            const minIsr = new Map<string, number>();
            if ((opts.underMinIsrPartitions || opts.atMinIsrPartitions) && descriptions.length > 0) {
              for (const c of await admin.describeConfigs(descriptions.map((t) => t.name))) {
                minIsr.set(c.topic, Number(c.configs.find((e) => e.name === 'min.insync.replicas')?.value ?? 1));
              }
            }
            // Like kafka-topics: with a partition filter only the matching partition lines are
            // printed (no topic header lines); several filters together print the union.
            const wanted = (topic: string, p: { leader: number; replicas: number[]; isr: number[] }): boolean =>
              (opts.underReplicatedPartitions === true && p.isr.length < p.replicas.length) ||
              (opts.unavailablePartitions === true && p.leader < 0) ||
              (opts.underMinIsrPartitions === true && p.isr.length < minIsr.get(topic)!) ||
              (opts.atMinIsrPartitions === true && p.isr.length === minIsr.get(topic)!);
            for (const t of descriptions.sort((a, b) => a.name.localeCompare(b.name))) {
              if (!filtered) {
                const rf = t.partitions[0]?.replicas.length ?? 0;
                const configs = Object.entries(t.configs)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(',');
                process.stdout.write(
                  `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${configs}\n`,
                );
              }
              for (const p of t.partitions) {
                if (filtered && !wanted(t.name, p)) continue;
                process.stdout.write(
                  `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader}\tLeaderEpoch: ${p.leaderEpoch}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\n`,
                );
              }
            }
            return;
          }
          case 'alter': {
            // kafka-topics --alter --partitions: the count only grows; the broker's error names the current count.
            const topic = requireTopic(opts);
            const count = parseInteger(opts.partitions!, '--partitions');
            await admin.createPartitions([{ topic, count }]);
            process.stdout.write(`Topic ${topic} now has ${count} partitions.\n`);
            return;
          }
          case 'delete': {
            const topic = requireTopic(opts);
            await admin.deleteTopics([topic]);
            process.stdout.write(`Deleted topic ${topic}.\n`);
            return;
          }
        }
      });
    });
}

function requireTopic(opts: TopicsOptions): string {
  if (!opts.topic) throw new UsageError('--topic is required');
  return opts.topic;
}
