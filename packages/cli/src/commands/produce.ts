/**
 * `samsa produce` (kafka-console-producer): one record per stdin line, parsed as Kafka's
 * LineMessageReader does (produce/lineReader.ts). Each line is handed to the producer as soon as it
 * is read, so a typed line leaves within linger.ms (1000 ms, the console producer's --timeout
 * default) while a piped file streams through the accumulator's batches at full speed. A line that
 * cannot be parsed or sent is reported on stderr with its number and skipped; the rest are sent and
 * the exit code is 1 when any line failed. The producer's retry warnings (no leader, not the leader,
 * network) go to stderr while it waits, for up to delivery.timeout.ms.
 */
import { createInterface } from 'node:readline';
import { MessageTooLargeError, type Message, type ProducerOptions } from '@samsa/client';
import type { Command } from 'commander';
import { stderrWarnings, withClient } from '../client.js';
import { SECURITY_CONFIG_KEYS } from '../clientSecurity.js';
import { UsageError, describeError } from '../errors.js';
import { bootstrapFrom, collectKeyValue, parseInteger, readPropertiesFile } from '../options.js';
import { LineFormatError, lineFormatFrom, parseLine } from '../produce/lineReader.js';
import { parseAcks, producerOptionsFromProps } from './producerConfig.js';
import { producerEncoders, producerFormats, type Encoder, type ProducerFormatFlags } from '../schemaFormats.js';

interface ProduceOptions extends ProducerFormatFlags {
  bootstrapServer?: string;
  brokerList?: string;
  topic?: string;
  property?: Record<string, string>;
  producerProperty?: Record<string, string>;
  /** --producer.config (commander keeps the dot in the key). */
  'producer.config'?: string;
  requestRequiredAcks?: string;
  acks?: string;
  compressionType?: string;
  compressionCodec?: string;
  lingerMs?: string;
  timeout?: string;
  batchSize?: string;
  enableIdempotence?: string;
  partition?: string;
  messageSendMaxRetries?: string;
  retryBackoffMs?: string;
  maxBlockMs?: string;
  maxMemoryBytes?: string;
  requestTimeoutMs?: string;
}

/** kafka-console-producer's own defaults (its --timeout is linger.ms; --message-send-max-retries 3, --retry-backoff-ms 100). */
const CONSOLE_DEFAULTS: Record<string, string> = { 'linger.ms': '1000', acks: '-1', retries: '3', 'retry.backoff.ms': '100' };
/** Records handed to the producer and not yet answered before stdin is paused (buffer.memory bounds the bytes). */
const MAX_PENDING = 50_000;

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description('send stdin lines as records (kafka-console-producer)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--broker-list <host:port>', "the same as --bootstrap-server (Kafka's older name)")
    .option('--topic <name>', 'the topic to write to')
    .option(
      '--property <key=value>',
      'line format: parse.key, key.separator (tab), parse.headers, headers.delimiter (tab), headers.separator (,), headers.key.separator (:), null.marker, ignore.error',
      collectKeyValue,
    )
    .option(
      '--producer-property <key=value>',
      'a producer config such as max.request.size=4194304 or delivery.timeout.ms=30000 (repeatable)',
      collectKeyValue,
    )
    .option('--producer.config <file>', 'producer configs from a properties file (overridden by --producer-property and the flags)')
    .option('--acks <acks>', 'acks: 0, 1 or -1/all (default all)')
    .option('--request-required-acks <acks>', "the same as --acks (kafka-console-producer's name)")
    .option('--compression-type <type>', 'none, gzip, snappy, lz4 or zstd (default none)')
    .option('--compression-codec <type>', "the same as --compression-type (kafka-console-producer's name)")
    .option('--timeout <ms>', 'linger.ms: how long a record waits for more to share its batch (default 1000)')
    .option('--linger-ms <ms>', 'the same as --timeout')
    .option('--batch-size <bytes>', 'bytes of records per partition batch (batch.size, default 16384)')
    .option('--enable-idempotence <bool>', 'true or false (default: true unless --acks 0/1 or retries 0, as in Kafka 3)')
    .option('--partition <p>', 'send every record to this partition')
    .option(
      '--message-send-max-retries <n>',
      'retries of a batch the broker refused (default 3, as kafka-console-producer); a partition without a leader waits up to delivery.timeout.ms',
    )
    .option('--retry-backoff-ms <ms>', 'retry.backoff.ms')
    .option('--max-block-ms <ms>', 'max.block.ms: how long a send may wait for buffer memory or metadata')
    .option('--max-memory-bytes <bytes>', 'buffer.memory')
    .option('--request-timeout-ms <ms>', 'request.timeout.ms')
    .option('--value-format <format>', "string (default) or avro: each value is Avro's JSON encoding, sent in Confluent's wire format")
    .option('--value-schema <json>', 'with --value-format avro: the Avro schema, registered under <topic>-value')
    .option('--value-schema-id <id>', 'with --value-format avro: write with the schema registered under this id')
    .option('--key-format <format>', 'string (default) or avro, as --value-format (keys need --property parse.key=true)')
    .option('--key-schema <json>', 'with --key-format avro: the Avro schema, registered under <topic>-key')
    .option('--key-schema-id <id>', 'with --key-format avro: write with the schema registered under this id')
    .option('--schema-registry <url>', 'the schema registry for the avro formats (schema.registry.url), e.g. http://127.0.0.1:8081')
    .option('--schema-registry-user-info <user:password>', "the registry's HTTP basic credentials (basic.auth.user.info)")
    .option('--basic-auth-user-info <user:password>', 'the same as --schema-registry-user-info (the name samsa schemas uses)')
    .option('--schema-registry-ca <pem>', 'CA certificates (PEM) an https registry chains to')
    .action(async (opts: ProduceOptions) => {
      if (!opts.topic) throw new UsageError('--topic is required');
      const topic = opts.topic;
      const configFile = opts['producer.config'];
      const fileConfig = configFile === undefined ? {} : readPropertiesFile(configFile, '--producer.config');
      const bootstrap = bootstrapFrom(opts, fileConfig);
      const format = lineFormatFrom(opts.property ?? {});
      const settings: Record<string, string> = { ...CONSOLE_DEFAULTS, ...fileConfig, ...(opts.producerProperty ?? {}) };
      delete settings['bootstrap.servers'];
      // Client security (security.protocol, sasl.*, ssl.*) was read by main.ts (clientSecurityArgs.ts).
      for (const key of SECURITY_CONFIG_KEYS) delete settings[key];
      const clientId = settings['client.id'] ?? 'console-producer';
      delete settings['client.id'];
      const flag = (value: string | undefined, config: string, name: string, alias?: [string | undefined, string]) => {
        if (alias && alias[0] !== undefined && value !== undefined && alias[0] !== value)
          throw new UsageError(`${name} and ${alias[1]} disagree; give one`);
        const v = value ?? alias?.[0];
        if (v !== undefined) settings[config] = v;
      };
      flag(opts.acks, 'acks', '--acks', [opts.requestRequiredAcks, '--request-required-acks']);
      flag(opts.compressionType, 'compression.type', '--compression-type', [opts.compressionCodec, '--compression-codec']);
      flag(opts.timeout, 'linger.ms', '--timeout', [opts.lingerMs, '--linger-ms']);
      flag(opts.batchSize, 'batch.size', '--batch-size');
      flag(opts.enableIdempotence, 'enable.idempotence', '--enable-idempotence');
      flag(opts.messageSendMaxRetries, 'retries', '--message-send-max-retries');
      flag(opts.retryBackoffMs, 'retry.backoff.ms', '--retry-backoff-ms');
      flag(opts.maxBlockMs, 'max.block.ms', '--max-block-ms');
      flag(opts.maxMemoryBytes, 'buffer.memory', '--max-memory-bytes');
      flag(opts.requestTimeoutMs, 'request.timeout.ms', '--request-timeout-ms');
      if (settings.acks !== undefined) parseAcks(settings.acks, 'acks'); // the flag's own message before the generic one
      const producerOptions: ProducerOptions<Buffer | null, Buffer | null> = producerOptionsFromProps(settings);
      const partition = opts.partition === undefined ? undefined : parseInteger(opts.partition, '--partition', 0);
      const formats = producerFormats(opts);
      if (formats.key === 'avro' && !format.parseKey) throw new UsageError('--key-format avro needs --property parse.key=true');

      const failed = await withClient(
        bootstrap,
        async (samsa) => {
          const producer = samsa.producer(producerOptions);
          // As Kafka's console producer: a missing topic is auto-created (allow.auto.create.topics,
          // default true, and the broker's auto.create.topics.enable), waiting up to max.block.ms for
          // it; with allow.auto.create.topics=false an unknown topic fails fast and clearly instead
          // of once per line.
          if (producerOptions.allowAutoTopicCreation === false) await samsa.admin().describeTopics([topic]);
          else await producer.partitionsFor(topic);
          const encoders = await producerEncoders(opts, topic);
          return sendLines(topic, partition, (line) => encode(parseLine(line, format), encoders), producer);
        },
        { logger: stderrWarnings(`Producer clientId=${clientId}`), clientId },
      );
      if (failed.count > 0) {
        process.stderr.write(`samsa: ${failed.count} of ${failed.lines} line(s) not sent\n`);
        process.exitCode = 1;
      }
    });
}

type Line = { n: number; message: Message<Buffer | null, Buffer | null> };

/** A parsed line with its key and value encoded by their formats; a text the schema refuses fails the line. */
function encode(
  message: Message<Buffer | null, Buffer | null>,
  encoders: { key: Encoder | undefined; value: Encoder | undefined },
): Message<Buffer | null, Buffer | null> {
  const apply = (encoder: Encoder | undefined, bytes: Buffer | null | undefined, what: string) => {
    if (encoder === undefined || bytes === null || bytes === undefined) return bytes;
    try {
      return encoder(bytes.toString('utf8'));
    } catch (err) {
      throw new LineFormatError(`the ${what} is not valid for its schema: ${(err as Error).message}`);
    }
  };
  const key = apply(encoders.key, message.key, 'key');
  const value = apply(encoders.value, message.value, 'value');
  return { ...message, ...(key === undefined ? {} : { key }), value: value ?? null };
}

/**
 * Reads stdin and hands the lines to the producer as they arrive: the lines of one read (a typed
 * line, or a chunk of a piped file) go in one send() on the next turn of the event loop, so a
 * typed line is not held back and a file pays one send() per chunk rather than per line. Resolves
 * once stdin ended (or SIGINT/SIGTERM stopped the reading) and every line is answered; each
 * failure is reported with its line number.
 */
async function sendLines(
  topic: string,
  partition: number | undefined,
  parse: (line: string) => Message<Buffer | null, Buffer | null>,
  producer: {
    send(r: { topic: string; messages: Message<Buffer | null, Buffer | null>[] }): Promise<unknown>;
    flush(): Promise<void>;
    close(): Promise<void>;
  },
): Promise<{ count: number; lines: number }> {
  const reader = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  let failures = 0;
  let pending = 0;
  let paused = false;
  let group: Line[] = [];
  let idle: (() => void) | undefined;
  const report = (lines: string, err: unknown): void => {
    process.stderr.write(`samsa: ${lines}: ${describeError(err)} (skipped)\n`);
  };
  const settled = (count: number): void => {
    pending -= count;
    if (paused && pending <= MAX_PENDING / 2) {
      paused = false;
      reader.resume();
    }
    if (pending === 0) idle?.();
  };
  const send = (lines: Line[]): void => {
    pending += lines.length;
    producer.send({ topic, messages: lines.map((l) => l.message) }).then(
      () => settled(lines.length),
      (err: unknown) => {
        // A too-large record fails its send() before any record of it is accepted: resend the
        // others one by one so only the bad line is skipped. Other failures come after the records
        // were accepted and are reported for the lines sent together.
        if (lines.length > 1 && err instanceof MessageTooLargeError) {
          for (const l of lines) send([l]);
        } else {
          failures += lines.length;
          report(lines.length === 1 ? `line ${lines[0]!.n}` : `lines ${lines[0]!.n}-${lines[lines.length - 1]!.n}`, err);
        }
        settled(lines.length);
      },
    );
  };
  const flush = (): void => {
    const lines = group;
    group = [];
    if (lines.length > 0) send(lines);
  };
  reader.on('line', (line) => {
    const n = ++lineNumber;
    let message: Message<Buffer | null, Buffer | null>;
    try {
      message = parse(line);
    } catch (err) {
      if (!(err instanceof LineFormatError)) throw err;
      failures++;
      report(`line ${n}`, err);
      return;
    }
    if (partition !== undefined) message.partition = partition;
    if (group.length === 0) setImmediate(flush);
    group.push({ n, message });
    if (!paused && pending + group.length >= MAX_PENDING) {
      paused = true;
      reader.pause();
    }
  });
  // Ctrl-C ends the input like Ctrl-D: what was typed is still sent before the command exits.
  const stop = (): void => reader.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await new Promise<void>((resolve) => reader.once('close', resolve));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  flush();
  // Settle what was sent before closing: a too-large line's neighbours are then resent while the producer still takes sends.
  await producer.flush();
  await producer.close();
  if (pending > 0)
    await new Promise<void>((r) => {
      idle = r;
    });
  return { count: failures, lines: lineNumber };
}
