/**
 * `samsa leader-election`: kafka-leader-election, with Kafka's flags.
 *
 *   samsa leader-election --bootstrap-server H:P --election-type preferred --all-topic-partitions
 *   samsa leader-election --bootstrap-server H:P --election-type preferred --topic T [--partition P]
 *
 * Prints, as Kafka does, "Successfully completed leader election (PREFERRED) for partitions t-0,
 * t-1", "Valid replica already elected for partitions ..." and, for each failure, "Error completing
 * leader election (PREFERRED) for partition: t-0: <message>", then exits 1 when any failed.
 * --topic without --partition (not in Kafka) means every partition of the topic.
 * `--election-type unclean` (KIP-460) gives a leader to partitions that have none, taking an
 * out-of-sync replica when no ISR member is alive: records it lacks are lost.
 */
import { ErrorCode } from '@samsa/protocol';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';

interface LeaderElectionOptions {
  bootstrapServer?: string;
  electionType?: string;
  topic?: string;
  partition?: string;
  allTopicPartitions?: boolean;
}

export function registerLeaderElection(program: Command): void {
  program
    .command('leader-election')
    .option(
      '--command-config <file>',
      'client configs from a properties file: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location (PEM)',
    )
    .description('move leadership to the preferred replica, or elect one for offline partitions (kafka-leader-election)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--election-type <type>', 'preferred, or unclean (offline partitions only; may lose records)')
    .option('--topic <name>', 'the topic to elect leaders for')
    .option('--partition <n>', 'with --topic: only this partition')
    .option('--all-topic-partitions', 'every partition of every topic')
    .action(async (opts: LeaderElectionOptions) => {
      const type = (opts.electionType ?? '').toLowerCase();
      if (type !== 'preferred' && type !== 'unclean') throw new UsageError('--election-type is required: preferred or unclean');
      if (opts.allTopicPartitions && (opts.topic !== undefined || opts.partition !== undefined)) {
        throw new UsageError('--all-topic-partitions cannot be combined with --topic or --partition');
      }
      if (!opts.allTopicPartitions && opts.topic === undefined)
        throw new UsageError('one of --all-topic-partitions or --topic is required');
      if (opts.partition !== undefined && opts.topic === undefined) throw new UsageError('--partition needs --topic');
      if (opts.topic === '') throw new UsageError('--topic must not be empty');
      let partition: number | undefined;
      if (opts.partition !== undefined) {
        partition = Number(opts.partition);
        if (!/^\d+$/.test(opts.partition) || !Number.isSafeInteger(partition))
          throw new UsageError(`--partition must be a non-negative integer, got '${opts.partition}'`);
      }
      const label = type.toUpperCase();
      await withClient(opts.bootstrapServer, async (samsa) => {
        const admin = samsa.admin();
        let partitions: Array<{ topic: string; partition: number }> | undefined;
        if (opts.topic !== undefined) {
          if (partition !== undefined) {
            partitions = [{ topic: opts.topic, partition }];
          } else {
            const [d] = await admin.describeTopics([opts.topic]);
            partitions = d!.partitions.map((p) => ({ topic: opts.topic!, partition: p.partition }));
          }
        }
        const results = await admin.electLeaders({
          type: type as 'preferred' | 'unclean',
          ...(partitions === undefined ? {} : { partitions }),
        });
        const name = (r: { topic: string; partition: number }) => `${r.topic}-${r.partition}`;
        const succeeded = results.filter((r) => r.errorCode === ErrorCode.NONE).map(name);
        const notNeeded = results.filter((r) => r.errorCode === ErrorCode.ELECTION_NOT_NEEDED).map(name);
        const failed = results.filter((r) => r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED);
        if (succeeded.length > 0)
          process.stdout.write(`Successfully completed leader election (${label}) for partitions ${succeeded.join(', ')}\n`);
        if (notNeeded.length > 0) process.stdout.write(`Valid replica already elected for partitions ${notNeeded.join(', ')}\n`);
        if (failed.length > 0) {
          process.stdout.write(`Errors occurred while electing leaders for the following partitions:\n`);
          for (const r of failed)
            process.stdout.write(
              `Error completing leader election (${label}) for partition: ${name(r)}: ${r.error?.message ?? `error code ${r.errorCode}`}\n`,
            );
          throw new Error(`${failed.length} replica(s) could not be elected`);
        }
      });
    });
}
