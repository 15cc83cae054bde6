/**
 * `samsa produce` (kafka-console-producer): one record per stdin line, optionally `key<sep>value`
 * with parse.key=true, and headers first with parse.headers=true (KIP-798's format:
 * `h1:v1,h2:v2<TAB>key<TAB>value`; headers.delimiter, headers.separator, headers.key.separator). Lines are sent in chunks with several requests in flight; the command exits
 * 0 only after stdin ended and every record was acknowledged.
 */
import { createInterface } from 'node:readline';
import type { Message } from '@samsa/client';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { collectKeyValue, parseInteger } from '../options.js';
import { parseAcks, producerOptionsFromProps } from './producerConfig.js';

interface ProduceOptions {
  bootstrapServer?: string;
  topic?: string;
  property?: Record<string, string>;
  requestRequiredAcks?: string;
  acks?: string;
  compressionType?: string;
  lingerMs?: string;
  batchSize?: string;
  enableIdempotence?: string;
  partition?: string;
  messageSendMaxRetries: string;
}

const CHUNK = 1000;
const IN_FLIGHT = 8;

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description('send stdin lines as records (kafka-console-producer)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to')
    .option('--topic <name>', 'the topic to write to')
    .option('--property <key=value>', 'parse.key=true, key.separator=<sep> (default tab), parse.headers=true, headers.delimiter, headers.separator, headers.key.separator', collectKeyValue)
    .option('--acks <acks>', 'acks: 0, 1 or -1/all (default all)')
    .option('--request-required-acks <acks>', 'the same as --acks (kafka-console-producer\'s name)')
    .option('--compression-type <type>', 'none, gzip, snappy, lz4 or zstd (default none)')
    .option('--linger-ms <ms>', 'how long a batch waits for more records (linger.ms)')
    .option('--batch-size <bytes>', 'bytes of records per partition batch (batch.size)')
    .option('--enable-idempotence <bool>', 'true or false (default: true unless --acks 0/1 or retries 0, as in Kafka 3)')
    .option('--partition <p>', 'send every record to this partition')
    .option('--message-send-max-retries <n>', 'retries of a failed batch before giving up (as kafka-console-producer)', '3')
    .action(async (opts: ProduceOptions) => {
      if (!opts.topic) throw new UsageError('--topic is required');
      const topic = opts.topic;
      if (opts.acks !== undefined && opts.requestRequiredAcks !== undefined && opts.acks !== opts.requestRequiredAcks) {
        throw new UsageError('--acks and --request-required-acks disagree; give one');
      }
      const acks = parseAcks(opts.acks ?? opts.requestRequiredAcks ?? '-1', opts.acks !== undefined ? '--acks' : '--request-required-acks');
      const settings: Record<string, string> = {};
      if (opts.compressionType !== undefined) settings['compression.type'] = opts.compressionType;
      if (opts.lingerMs !== undefined) settings['linger.ms'] = opts.lingerMs;
      if (opts.batchSize !== undefined) settings['batch.size'] = opts.batchSize;
      if (opts.enableIdempotence !== undefined) settings['enable.idempotence'] = opts.enableIdempotence;
      const producerOptions = producerOptionsFromProps(settings);
      const props = opts.property ?? {};
      const parseKey = props['parse.key'] === 'true';
      const separator = props['key.separator'] ?? '\t';
      const parseHeaders = props['parse.headers'] === 'true';
      const headersDelimiter = props['headers.delimiter'] ?? '\t';
      const headersSeparator = props['headers.separator'] ?? ',';
      const headerKeySeparator = props['headers.key.separator'] ?? ':';
      const partition = opts.partition === undefined ? undefined : parseInteger(opts.partition, '--partition', 0);
      const retries = parseInteger(opts.messageSendMaxRetries, '--message-send-max-retries', 0);

      await withClient(opts.bootstrapServer, async (samsa) => {
        // Fail fast and clearly on an unknown topic instead of retrying per chunk.
        await samsa.admin().describeTopics([topic]);
        const producer = samsa.producer({ ...producerOptions, acks, retries });
        const inFlight = new Set<Promise<unknown>>();
        let firstError: unknown;
        let chunk: Message<Buffer | null, Buffer | null>[] = [];
        const flush = async () => {
          if (chunk.length === 0) return;
          const messages = chunk;
          chunk = [];
          const p = producer.send({ topic, messages }).catch((err: unknown) => { firstError ??= err; });
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
        };
        const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
        for await (const line of lines) {
          if (firstError) break;
          let key: Buffer | null = null;
          let value = line;
          let headers: Record<string, string> | undefined;
          if (parseHeaders) {
            const at = value.indexOf(headersDelimiter);
            if (at < 0) throw new UsageError(`line has no headers delimiter ${JSON.stringify(headersDelimiter)}: ${JSON.stringify(line.slice(0, 80))}`);
            headers = {};
            for (const h of value.slice(0, at).split(headersSeparator).filter(Boolean)) {
              const k = h.indexOf(headerKeySeparator);
              if (k < 0) headers[h] = '';
              else headers[h.slice(0, k)] = h.slice(k + headerKeySeparator.length);
            }
            value = value.slice(at + headersDelimiter.length);
          }
          if (parseKey) {
            const at = value.indexOf(separator);
            if (at < 0) throw new UsageError(`line has no key separator ${JSON.stringify(separator)}: ${JSON.stringify(line.slice(0, 80))}`);
            key = Buffer.from(value.slice(0, at));
            value = value.slice(at + separator.length);
          }
          chunk.push({ key, value: Buffer.from(value), partition, ...(headers ? { headers } : {}) });
          if (chunk.length >= CHUNK) await flush();
        }
        await flush();
        await Promise.all(inFlight);
        await producer.close();
        if (firstError) throw firstError;
      });
    });
}
