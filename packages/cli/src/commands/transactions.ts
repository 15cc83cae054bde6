/**
 * `samsa transactions` (Kafka's kafka-transactions.sh, KIP-664), with Kafka's columns:
 *
 *   samsa transactions --bootstrap-server B --list
 *       TransactionalId Coordinator ProducerId TransactionState (every broker asked)
 *   samsa transactions --bootstrap-server B --describe --transactional-id T
 *       CoordinatorId TransactionalId ProducerId ProducerEpoch TransactionState TransactionTimeoutMs
 *       CurrentTransactionStartTimeMs TransactionDurationMs TopicPartitions
 *
 *   samsa transactions --bootstrap-server B --abort --topic T --partition P --start-offset O
 *   samsa transactions --bootstrap-server B --abort --topic T --partition P --producer-id I --producer-epoch E --coordinator-epoch C
 *       kafka-transactions abort: the partition's leader (DescribeProducers) names the producer whose
 *       open transaction starts at O; an ABORT marker for it is written there (WriteTxnMarkers), so
 *       the hanging transaction stops holding the last stable offset.
 *
 * As Kafka: the start time and duration read "None" when no transaction is open, and the duration
 * is measured against this machine's clock. Kafka's `find-hanging` is not here yet.
 */
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';

interface TransactionsOptions {
  bootstrapServer?: string;
  list?: boolean;
  describe?: boolean;
  transactionalId?: string;
  abort?: boolean;
  topic?: string;
  partition?: string;
  startOffset?: string;
  producerId?: string;
  producerEpoch?: string;
  coordinatorEpoch?: string;
}

function integer(flag: string, value: string | undefined, min: bigint): bigint {
  if (value === undefined || !/^-?\d+$/.test(value) || BigInt(value) < min) throw new UsageError(`${flag} needs an integer >= ${min}`);
  return BigInt(value);
}

export function registerTransactions(program: Command): void {
  program
    .command('transactions')
    .option(
      '--command-config <file>',
      'client configs from a properties file: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location (PEM)',
    )
    .description('list and describe transactions (kafka-transactions)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--list', 'every transactional id with its coordinator, producer id and state')
    .option('--describe', 'the state of --transactional-id at its coordinator')
    .option('--transactional-id <id>', 'with --describe: the transactional id')
    .option(
      '--abort',
      'abort a hanging transaction of --topic/--partition (by --start-offset, or --producer-id/--producer-epoch/--coordinator-epoch)',
    )
    .option('--topic <topic>', 'with --abort: the topic')
    .option('--partition <n>', 'with --abort: the partition')
    .option('--start-offset <offset>', 'with --abort: the first offset of the transaction to abort')
    .option('--producer-id <id>', 'with --abort: the producer id (instead of --start-offset)')
    .option('--producer-epoch <epoch>', 'with --abort --producer-id: its epoch')
    .option('--coordinator-epoch <epoch>', 'with --abort --producer-id: the coordinator epoch')
    .action(async (opts: TransactionsOptions) => {
      if ([opts.list, opts.describe, opts.abort].filter(Boolean).length !== 1)
        throw new UsageError('exactly one of --list, --describe, --abort is required');
      if (opts.abort) return abort(opts);
      if (opts.describe && !opts.transactionalId) throw new UsageError('--describe needs --transactional-id');
      if (opts.list && opts.transactionalId !== undefined) throw new UsageError('--transactional-id goes with --describe');
      await withClient(opts.bootstrapServer, async (samsa) => {
        const admin = samsa.admin();
        if (opts.list) {
          const rows = [['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState']];
          for (const t of await admin.listTransactions())
            rows.push([t.transactionalId, String(t.coordinator), String(t.producerId), t.state]);
          process.stdout.write(table(rows));
          return;
        }
        const [d] = await admin.describeTransactions([opts.transactionalId!]);
        if (!d) return;
        const start = d.transactionStartTimeMs;
        process.stdout.write(
          table([
            [
              'CoordinatorId',
              'TransactionalId',
              'ProducerId',
              'ProducerEpoch',
              'TransactionState',
              'TransactionTimeoutMs',
              'CurrentTransactionStartTimeMs',
              'TransactionDurationMs',
              'TopicPartitions',
            ],
            [
              String(d.coordinator),
              d.transactionalId,
              String(d.producerId),
              String(d.producerEpoch),
              d.state,
              String(d.transactionTimeoutMs),
              start === undefined ? 'None' : String(start),
              start === undefined ? 'None' : String(Math.max(0, Date.now() - start)),
              d.topicPartitions.map((tp) => `${tp.topic}-${tp.partition}`).join(',') || 'None',
            ],
          ]),
        );
      });
    });
}

async function abort(opts: TransactionsOptions): Promise<void> {
  if (!opts.topic) throw new UsageError('--abort needs --topic');
  const partition = Number(integer('--partition', opts.partition, 0n));
  const byOffset = opts.startOffset !== undefined;
  if (byOffset === (opts.producerId !== undefined)) throw new UsageError('--abort needs exactly one of --start-offset, --producer-id');
  await withClient(opts.bootstrapServer, async (samsa) => {
    const admin = samsa.admin();
    let spec;
    if (byOffset) {
      const startOffset = integer('--start-offset', opts.startOffset, 0n);
      const producers = await admin.describeProducers(opts.topic!, partition);
      const found = producers.find((p) => p.currentTransactionStartOffset === startOffset);
      if (!found)
        throw new UsageError(
          `no open transaction starts at offset ${startOffset} of ${opts.topic}-${partition} (open: ${
            producers
              .filter((p) => p.currentTransactionStartOffset !== undefined)
              .map((p) => `producer ${p.producerId} at ${p.currentTransactionStartOffset}`)
              .join(', ') || 'none'
          })`,
        );
      spec = {
        topic: opts.topic!,
        partition,
        producerId: found.producerId,
        producerEpoch: found.producerEpoch,
        coordinatorEpoch: found.coordinatorEpoch,
      };
    } else {
      spec = {
        topic: opts.topic!,
        partition,
        producerId: integer('--producer-id', opts.producerId, 0n),
        producerEpoch: Number(integer('--producer-epoch', opts.producerEpoch, 0n)),
        coordinatorEpoch: Number(integer('--coordinator-epoch', opts.coordinatorEpoch, -1n)),
      };
    }
    await admin.abortTransaction(spec);
    process.stdout.write(
      `aborted the transaction of producer ${spec.producerId} (epoch ${spec.producerEpoch}) on ${spec.topic}-${partition}\n`,
    );
  });
}

/** Columns separated by a tab after padding, as Kafka's table printer. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('\t')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
