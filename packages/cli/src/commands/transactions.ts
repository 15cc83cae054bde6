/**
 * `samsa transactions` (Kafka's kafka-transactions.sh, KIP-664), with Kafka's columns:
 *
 *   samsa transactions --bootstrap-server B --list
 *       TransactionalId Coordinator ProducerId TransactionState (every broker asked)
 *   samsa transactions --bootstrap-server B --describe --transactional-id T
 *       CoordinatorId TransactionalId ProducerId ProducerEpoch TransactionState TransactionTimeoutMs
 *       CurrentTransactionStartTimeMs TransactionDurationMs TopicPartitions
 *
 * As Kafka: the start time and duration read "None" when no transaction is open, and the duration
 * is measured against this machine's clock. Kafka's `abort` (of a hanging transaction, by topic,
 * partition and producer id) and `find-hanging` are not here yet.
 */
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';

interface TransactionsOptions {
  bootstrapServer?: string;
  list?: boolean;
  describe?: boolean;
  transactionalId?: string;
}

export function registerTransactions(program: Command): void {
  program
    .command('transactions')
    .description('list and describe transactions (kafka-transactions)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--list', 'every transactional id with its coordinator, producer id and state')
    .option('--describe', 'the state of --transactional-id at its coordinator')
    .option('--transactional-id <id>', 'with --describe: the transactional id')
    .action(async (opts: TransactionsOptions) => {
      if ([opts.list, opts.describe].filter(Boolean).length !== 1) throw new UsageError('exactly one of --list, --describe is required');
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
