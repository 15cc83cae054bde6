/**
 * `samsa consume` (kafka-console-consumer): prints one value (or key<sep>value with
 * print.key=true) per line; stops after --max-messages, or after --timeout-ms without a new
 * message. With --group it joins that consumer group (partitions come from the group, offsets are
 * committed as it consumes, rebalances are reported on stderr); without, it reads every partition.
 * --isolation-level read_committed reads only committed transactions (KIP-98).
 */
import type { ConsumerRecord, GroupConsumerOptions, IsolationLevel, TopicPartition } from '@samsa/client';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { SECURITY_CONFIG_KEYS } from '../clientSecurity.js';
import { UsageError } from '../errors.js';
import { bootstrapFrom, collectKeyValue, parseInteger, readPropertiesFile } from '../options.js';
import { formatRecord, messageFormatFrom, type MessageFormat } from '../consume/messageFormatter.js';
import { consumerDecoders, consumerFormats, type Decoder, type FormatFlags } from '../schemaFormats.js';

interface ConsumeOptions extends FormatFlags {
  bootstrapServer?: string;
  topic?: string;
  fromBeginning?: boolean;
  partition?: string;
  offset?: string;
  maxMessages?: string;
  timeoutMs?: string;
  property?: Record<string, string>;
  group?: string;
  consumerProperty?: Record<string, string>;
  brokerList?: string;
  isolationLevel?: string;
  /** --consumer.config (commander keeps the dot in the key). */
  'consumer.config'?: string;
}

/**
 * Consumer configs from --consumer.config, overridden by --consumer-property; bootstrap.servers
 * and group.id are taken out (they name the cluster and the group, as in Kafka's console consumer).
 */
function consumerConfigs(opts: ConsumeOptions): {
  props: Record<string, string>;
  bootstrap: string | undefined;
  groupId: string | undefined;
} {
  const file = opts['consumer.config'] === undefined ? {} : readPropertiesFile(opts['consumer.config'], '--consumer.config');
  const props = { ...file, ...(opts.consumerProperty ?? {}) };
  const bootstrap = bootstrapFrom(opts, props);
  const groupId = opts.group ?? props['group.id'];
  delete props['bootstrap.servers'];
  delete props['group.id'];
  // Client security (security.protocol, sasl.*, ssl.*) was read by main.ts (clientSecurityArgs.ts).
  for (const key of SECURITY_CONFIG_KEYS) delete props[key];
  return { props, bootstrap, groupId };
}

/** Kafka consumer configs that apply without a group (the fetch settings), onto ConsumerOptions. */
/** --isolation-level, as kafka-console-consumer's (read_uncommitted when absent). */
function isolationLevelFrom(value: string | undefined): IsolationLevel {
  if (value === undefined || value === 'read_uncommitted') return 'read_uncommitted';
  if (value === 'read_committed') return 'read_committed';
  throw new UsageError(`--isolation-level must be read_committed or read_uncommitted, got '${value}'`);
}

export function plainOptionsFrom(props: Record<string, string>): {
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  maxPartitionBytes?: number;
  maxPollRecords?: number;
} {
  const out: ReturnType<typeof plainOptionsFrom> = {};
  for (const [k, v] of Object.entries(props)) {
    const num = () => parseInteger(v, `--consumer-property ${k}`, 0);
    switch (k) {
      case 'fetch.max.wait.ms':
        out.maxWaitMs = num();
        break;
      case 'fetch.min.bytes':
        out.minBytes = num();
        break;
      case 'fetch.max.bytes':
        out.maxBytes = num();
        break;
      case 'max.partition.fetch.bytes':
        out.maxPartitionBytes = num();
        break;
      case 'max.poll.records':
        out.maxPollRecords = num();
        break;
      case 'client.id':
        break;
      default:
        throw new UsageError(
          `--consumer-property ${k} ${GROUP_ONLY.includes(k) ? 'needs --group' : 'is not a consumer config Samsa knows'} ` +
            '(without --group: fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes, max.partition.fetch.bytes, max.poll.records, client.id)',
        );
    }
  }
  return out;
}

const GROUP_ONLY = [
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'max.poll.interval.ms',
  'auto.commit.interval.ms',
  'enable.auto.commit',
  'group.instance.id',
  'partition.assignment.strategy',
  'auto.offset.reset',
  'metadata.max.age.ms',
];

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description('print records to stdout (kafka-console-consumer, without groups)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--broker-list <host:port>', "the same as --bootstrap-server (Kafka's older name)")
    .option('--topic <name>', 'the topic to read')
    .option('--from-beginning', 'start at the earliest offset instead of the latest')
    .option('--partition <p>', 'read only this partition')
    .option('--offset <offset>', 'with --partition: earliest, latest or an offset')
    .option('--max-messages <n>', 'exit after this many messages')
    .option('--timeout-ms <ms>', 'exit after this long without a message')
    .option(
      '--property <key=value>',
      'print.timestamp, print.partition, print.offset, print.headers, print.key, print.value (true/false), key.separator, line.separator, headers.separator, null.literal',
      collectKeyValue,
    )
    .option('--group <id>', 'consume as a member of this consumer group (offsets are committed)')
    .option(
      '--isolation-level <level>',
      'read_committed: read up to the last stable offset and skip aborted transactions; read_uncommitted (default): everything up to the high watermark',
    )
    .option(
      '--consumer-property <key=value>',
      'a consumer config: fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes, max.partition.fetch.bytes, max.poll.records, client.id; ' +
        'with --group also session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms, group.instance.id, partition.assignment.strategy, auto.commit.interval.ms, enable.auto.commit, auto.offset.reset',
      collectKeyValue,
    )
    .option('--consumer.config <file>', 'consumer configs from a properties file (bootstrap.servers and group.id are read too)')
    .option('--value-format <format>', "string (default) or avro: print each value in Avro's JSON encoding (Confluent's wire format)")
    .option('--key-format <format>', 'string (default) or avro, as --value-format')
    .option('--schema-registry <url>', 'the schema registry for the avro formats (schema.registry.url), e.g. http://127.0.0.1:8081')
    .option('--schema-registry-user-info <user:password>', "the registry's HTTP basic credentials (basic.auth.user.info)")
    .option('--basic-auth-user-info <user:password>', 'the same as --schema-registry-user-info (the name samsa schemas uses)')
    .option('--schema-registry-ca <pem>', 'CA certificates (PEM) an https registry chains to')
    .action(async (opts: ConsumeOptions) => {
      if (!opts.topic) throw new UsageError('--topic is required');
      const isolationLevel = isolationLevelFrom(opts.isolationLevel);
      const configs = consumerConfigs(opts);
      if (configs.groupId !== undefined)
        return consumeGroup({ ...opts, group: configs.groupId, consumerProperty: configs.props, bootstrapServer: configs.bootstrap });
      const fetchOptions = plainOptionsFrom(configs.props);
      const topic = opts.topic;
      if (opts.offset !== undefined && opts.partition === undefined) throw new UsageError('--offset needs --partition');
      const maxMessages = opts.maxMessages === undefined ? Infinity : parseInteger(opts.maxMessages, '--max-messages', 1);
      const timeoutMs = opts.timeoutMs === undefined ? Infinity : parseInteger(opts.timeoutMs, '--timeout-ms', 0);
      const format = messageFormatFrom(opts.property ?? {});
      const start = parseStart(opts);
      consumerFormats(opts);

      await withClient(
        configs.bootstrap,
        async (samsa) => {
          const [description] = await samsa.admin().describeTopics([topic]);
          const partitions: TopicPartition[] =
            opts.partition === undefined
              ? description!.partitions.map((p) => ({ topic, partition: p.partition }))
              : [{ topic, partition: parseInteger(opts.partition, '--partition', 0) }];
          for (const tp of partitions) {
            if (!description!.partitions.some((p) => p.partition === tp.partition)) {
              throw new UsageError(`topic ${topic} has no partition ${tp.partition}`);
            }
          }
          const consumer = samsa.consumer({ ...fetchOptions, autoOffsetReset: 'none', isolationLevel });
          consumer.assign(partitions);
          for (const tp of partitions) await consumer.seek({ ...tp, offset: start });

          const decoders = await consumerDecoders(opts);
          const printed = await printRecords(consumer, { maxMessages, timeoutMs, format, decoders });
          process.stderr.write(`Processed a total of ${printed} messages\n`);
        },
        configs.props['client.id'] === undefined ? {} : { clientId: configs.props['client.id'] },
      );
    });
}

/**
 * Polls and prints until `maxMessages` were printed, `timeoutMs` pass without a record, or
 * SIGINT/SIGTERM; then closes the consumer. Returns how many records were printed.
 */
async function printRecords(
  consumer: {
    poll(o: { maxWaitMs: number; maxRecords: number }): Promise<Array<ConsumerRecord<Buffer | null, Buffer | null>>>;
    close(): Promise<void>;
  },
  o: { maxMessages: number; timeoutMs: number; format: MessageFormat; decoders: { key: Decoder | undefined; value: Decoder | undefined } },
): Promise<number> {
  let printed = 0;
  let lastMessageAt = Date.now();
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop && printed < o.maxMessages && Date.now() - lastMessageAt < o.timeoutMs) {
      const wait = Math.max(1, Math.min(500, o.timeoutMs - (Date.now() - lastMessageAt)));
      const records = await consumer.poll({ maxWaitMs: wait, maxRecords: Math.min(500, o.maxMessages - printed) });
      if (records.length > 0) lastMessageAt = Date.now();
      let out = '';
      for (const r of records) out += formatRecord(await decoded(r, o.decoders), o.format);
      printed += records.length;
      if (out && !process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await consumer.close();
  }
  return printed;
}

/**
 * The record with its key and value turned into text by their formats. A record its format cannot
 * read ends the command, as kafka-avro-console-consumer stops on a SerializationException.
 */
async function decoded(
  r: ConsumerRecord<Buffer | null, Buffer | null>,
  decoders: { key: Decoder | undefined; value: Decoder | undefined },
): Promise<ConsumerRecord<Buffer | null, Buffer | null>> {
  if (decoders.key === undefined && decoders.value === undefined) return r;
  const apply = async (decoder: Decoder | undefined, bytes: Buffer | null, what: string) => {
    if (decoder === undefined || bytes === null) return bytes;
    try {
      return await decoder(bytes);
    } catch (err) {
      throw new Error(`cannot read the ${what} of ${r.topic}-${r.partition}@${r.offset}: ${(err as Error).message}`);
    }
  };
  return { ...r, key: await apply(decoders.key, r.key, 'key'), value: await apply(decoders.value, r.value, 'value') };
}

/** Kafka consumer config names accepted by --consumer-property, mapped onto the SDK's options. */
export function groupOptionsFrom(
  props: Record<string, string>,
  base: GroupConsumerOptions<Buffer | null, Buffer | null>,
): GroupConsumerOptions<Buffer | null, Buffer | null> {
  const out = { ...base };
  const num = (k: string) => parseInteger(props[k]!, `--consumer-property ${k}`, 0);
  for (const k of Object.keys(props)) {
    switch (k) {
      case 'session.timeout.ms':
        out.sessionTimeoutMs = num(k);
        break;
      case 'heartbeat.interval.ms':
        out.heartbeatIntervalMs = num(k);
        break;
      case 'max.poll.interval.ms':
        out.maxPollIntervalMs = num(k);
        break;
      case 'auto.commit.interval.ms':
        out.autoCommitIntervalMs = num(k);
        break;
      case 'max.poll.records':
        out.maxPollRecords = num(k);
        break;
      case 'metadata.max.age.ms':
        out.metadataMaxAgeMs = num(k);
        break;
      case 'fetch.max.wait.ms':
        out.fetchMaxWaitMs = num(k);
        break;
      case 'enable.auto.commit':
        out.autoCommit = props[k] === 'true';
        break;
      case 'group.instance.id':
        out.groupInstanceId = props[k]!;
        break;
      case 'client.id':
        out.clientId = props[k]!;
        break;
      case 'auto.offset.reset': {
        const v = props[k]!;
        if (v !== 'earliest' && v !== 'latest' && v !== 'none') throw new UsageError('auto.offset.reset must be earliest, latest or none');
        out.autoOffsetReset = v;
        break;
      }
      case 'partition.assignment.strategy':
        out.partitionAssignors = props[k]!.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      default:
        throw new UsageError(`unknown --consumer-property ${k}`);
    }
  }
  return out;
}

async function consumeGroup(opts: ConsumeOptions): Promise<void> {
  if (opts.partition !== undefined || opts.offset !== undefined)
    throw new UsageError('--partition and --offset cannot be used with --group (the group assigns partitions)');
  if (!opts.group) throw new UsageError('--group must not be empty');
  const topic = opts.topic!;
  const groupId = opts.group;
  const maxMessages = opts.maxMessages === undefined ? Infinity : parseInteger(opts.maxMessages, '--max-messages', 1);
  const timeoutMs = opts.timeoutMs === undefined ? Infinity : parseInteger(opts.timeoutMs, '--timeout-ms', 0);
  const format = messageFormatFrom(opts.property ?? {});
  consumerFormats(opts);
  const names = (tps: TopicPartition[]) => tps.map((tp) => `${tp.topic}-${tp.partition}`).join(', ');
  await withClient(
    opts.bootstrapServer,
    async (samsa) => {
      const options = groupOptionsFrom(opts.consumerProperty ?? {}, {
        groupId,
        autoOffsetReset: opts.fromBeginning ? 'earliest' : 'latest',
        isolationLevel: isolationLevelFrom(opts.isolationLevel),
        rebalanceListener: {
          // On stderr, so stdout stays the records; tests and operators read these.
          assigned: (tps) => {
            const m = consumer.groupMetadata();
            process.stderr.write(
              `Assigned partitions: [${names(tps)}] generation ${m.generationId} member ${m.memberId} owns [${names(consumer.assignment())}]\n`,
            );
          },
          revoked: (tps) => {
            process.stderr.write(`Revoked partitions: [${names(tps)}]\n`);
          },
          lost: (tps) => {
            process.stderr.write(`Lost partitions: [${names(tps)}]\n`);
          },
        },
      });
      const consumer = samsa.consumer(options);
      consumer.subscribe([topic]);
      // Closing commits what was printed, revokes, and leaves the group (a static member stays).
      const decoders = await consumerDecoders(opts);
      const printed = await printRecords(consumer, { maxMessages, timeoutMs, format, decoders });
      process.stderr.write(`Processed a total of ${printed} messages\n`);
    },
    { requestTimeoutMs: 30_000 },
  );
}

function parseStart(opts: ConsumeOptions): bigint | 'earliest' | 'latest' {
  if (opts.offset !== undefined) {
    if (opts.offset === 'earliest' || opts.offset === 'latest') return opts.offset;
    if (!/^\d+$/.test(opts.offset))
      throw new UsageError(`--offset must be earliest, latest or a non-negative offset; got '${opts.offset}'`);
    return BigInt(opts.offset);
  }
  return opts.fromBeginning ? 'earliest' : 'latest';
}
