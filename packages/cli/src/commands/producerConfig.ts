/**
 * Kafka producer config names (acks, linger.ms, batch.size, ...) as the CLI takes them in
 * `--producer-props k=v` and the dedicated flags of `samsa produce`, turned into ProducerOptions.
 */
import type { ProducerOptions } from '@samsa/client';
import { CompressionType } from '@samsa/protocol';
import { UsageError } from '../errors.js';
import { parseInteger } from '../options.js';

const COMPRESSION: Record<string, CompressionType> = {
  none: CompressionType.NONE,
  gzip: CompressionType.GZIP,
  snappy: CompressionType.SNAPPY,
  lz4: CompressionType.LZ4,
  zstd: CompressionType.ZSTD,
};

export function parseAcks(value: string, flag: string): 0 | 1 | -1 {
  const acks = value === 'all' ? -1 : parseInteger(value, flag);
  if (acks !== 0 && acks !== 1 && acks !== -1) throw new UsageError(`${flag} must be 0, 1, -1 or all; got ${value}`);
  return acks;
}

export function parseCompression(value: string, flag: string): CompressionType {
  const type = COMPRESSION[value.trim().toLowerCase()];
  if (type === undefined) throw new UsageError(`${flag} must be one of ${Object.keys(COMPRESSION).join(', ')}; got '${value}'`);
  return type;
}

export function parseBoolean(value: string, flag: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} must be true or false, got '${value}'`);
}

/** ProducerOptions from Kafka-named producer configs; an unknown name is a usage error. */
export function producerOptionsFromProps(props: Record<string, string>): ProducerOptions<Buffer | null, Buffer | null> {
  const out: ProducerOptions<Buffer | null, Buffer | null> = {};
  for (const [name, value] of Object.entries(props)) {
    const flag = `producer config ${name}`;
    switch (name) {
      case 'acks':
        out.acks = parseAcks(value, flag);
        break;
      case 'linger.ms':
        out.lingerMs = parseInteger(value, flag, 0);
        break;
      case 'batch.size':
        out.batchSize = parseInteger(value, flag, 1);
        break;
      case 'compression.type':
        out.compression = parseCompression(value, flag);
        break;
      case 'enable.idempotence':
        out.enableIdempotence = parseBoolean(value, flag);
        break;
      case 'max.in.flight.requests.per.connection':
        out.maxInFlightRequestsPerConnection = parseInteger(value, flag, 1);
        break;
      case 'buffer.memory':
        out.bufferMemory = parseInteger(value, flag, 1);
        break;
      case 'retries':
        out.retries = parseInteger(value, flag, 0);
        break;
      case 'delivery.timeout.ms':
        out.deliveryTimeoutMs = parseInteger(value, flag, 1);
        break;
      case 'request.timeout.ms':
        out.requestTimeoutMs = parseInteger(value, flag, 1);
        break;
      case 'max.block.ms':
        out.maxBlockMs = parseInteger(value, flag, 0);
        break;
      case 'max.request.size':
        out.maxRequestSize = parseInteger(value, flag, 1);
        break;
      case 'retry.backoff.ms':
        out.retryBackoffMs = parseInteger(value, flag, 0);
        break;
      case 'allow.auto.create.topics':
        out.allowAutoTopicCreation = parseBoolean(value, flag);
        break;
      default:
        throw new UsageError(
          `unknown producer config '${name}' (known: acks, linger.ms, batch.size, compression.type, enable.idempotence, ` +
            'max.in.flight.requests.per.connection, buffer.memory, retries, delivery.timeout.ms, request.timeout.ms, max.block.ms, max.request.size, retry.backoff.ms, allow.auto.create.topics)',
        );
    }
  }
  return out;
}
