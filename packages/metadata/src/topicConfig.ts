/**
 * Topic-level configuration, with Kafka's names and meanings. A topic stores only the keys that
 * were set explicitly; everything else falls back to the broker defaults. Unknown keys and
 * malformed values are refused with INVALID_CONFIG before anything is created.
 */
import { protocolError } from '@samsa/protocol';

export interface TopicConfig {
  'cleanup.policy': 'delete' | 'compact' | 'compact,delete';
  'retention.ms': number;
  'retention.bytes': number;
  'segment.bytes': number;
  'segment.ms': number;
  'segment.index.bytes': number;
  'index.interval.bytes': number;
  'max.message.bytes': number;
  'flush.messages': number;
  'flush.ms': number;
  'min.insync.replicas': number;
  'message.timestamp.type': 'CreateTime' | 'LogAppendTime';
  'message.timestamp.before.max.ms': number;
  'message.timestamp.after.max.ms': number;
  'delete.retention.ms': number;
  'min.cleanable.dirty.ratio': number;
  'min.compaction.lag.ms': number;
  'max.compaction.lag.ms': number;
  'unclean.leader.election.enable': boolean;
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const DEFAULT_TOPIC_CONFIG: Readonly<TopicConfig> = Object.freeze({
  'cleanup.policy': 'delete',
  'retention.ms': 7 * 24 * 60 * 60 * 1000,
  'retention.bytes': -1,
  'segment.bytes': 1024 * 1024 * 1024,
  'segment.ms': 7 * 24 * 60 * 60 * 1000,
  'segment.index.bytes': 10 * 1024 * 1024,
  'index.interval.bytes': 4096,
  // Kafka's message.max.bytes default: 1 MiB plus the record batch overhead.
  'max.message.bytes': 1024 * 1024 + 12,
  // Kafka leaves fsync to the OS and relies on replication; Samsa flushes on an interval by default
  // (flush.ms) and can fsync every append with flush.messages=1.
  'flush.messages': LONG_MAX,
  'flush.ms': 1000,
  'min.insync.replicas': 1,
  'message.timestamp.type': 'CreateTime',
  // KIP-937: how far a CreateTime record's timestamp may lie before / after the leader's clock
  // (INVALID_TIMESTAMP otherwise); unbounded by default, as in Kafka 3.x.
  'message.timestamp.before.max.ms': LONG_MAX,
  'message.timestamp.after.max.ms': LONG_MAX,
  'delete.retention.ms': 24 * 60 * 60 * 1000,
  // Log compaction (cleanup.policy=compact): Kafka's defaults.
  'min.cleanable.dirty.ratio': 0.5,
  'min.compaction.lag.ms': 0,
  'max.compaction.lag.ms': LONG_MAX,
  'unclean.leader.election.enable': false,
});

type Parser = (raw: string, key: string) => unknown;

function int(min: number, max = LONG_MAX): Parser {
  return (raw, key) => {
    if (!/^-?\d+$/.test(raw.trim())) throw protocolError('INVALID_CONFIG', `${key} must be an integer, got '${raw}'`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n) && n > 0) return max;
    if (n < min || n > max) throw protocolError('INVALID_CONFIG', `${key} must be between ${min} and ${max}, got ${raw}`);
    return n;
  };
}

function oneOf<T extends string>(...values: T[]): Parser {
  return (raw, key) => {
    const v = raw.trim();
    if (!(values as string[]).includes(v))
      throw protocolError('INVALID_CONFIG', `${key} must be one of ${values.join(', ')}, got '${raw}'`);
    return v;
  };
}

function ratio(raw: string, key: string): number {
  const v = raw.trim();
  if (!/^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw protocolError('INVALID_CONFIG', `${key} must be a number, got '${raw}'`);
  const n = Number(v);
  if (n < 0 || n > 1) throw protocolError('INVALID_CONFIG', `${key} must be between 0 and 1, got ${raw}`);
  return n;
}

// Kafka's ConfigDef reads booleans case-insensitively.
const bool: Parser = (raw, key) => {
  const v = raw.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw protocolError('INVALID_CONFIG', `${key} must be true or false, got '${raw}'`);
};

const PARSERS: Record<keyof TopicConfig, Parser> = {
  'cleanup.policy': (raw, key) => {
    const parts = raw
      .split(',')
      .map((s) => s.trim())
      .sort();
    const v = parts.join(',');
    if (!['delete', 'compact', 'compact,delete'].includes(v))
      throw protocolError('INVALID_CONFIG', `${key} must be delete, compact or compact,delete, got '${raw}'`);
    return v;
  },
  'retention.ms': int(-1),
  'retention.bytes': int(-1),
  'segment.bytes': int(14),
  'segment.ms': int(1),
  'segment.index.bytes': int(4),
  'index.interval.bytes': int(0),
  'max.message.bytes': int(0, 2 ** 31 - 1),
  'flush.messages': int(1),
  'flush.ms': int(0),
  'min.insync.replicas': int(1, 2 ** 31 - 1),
  'message.timestamp.type': oneOf('CreateTime', 'LogAppendTime'),
  'message.timestamp.before.max.ms': int(0),
  'message.timestamp.after.max.ms': int(0),
  'delete.retention.ms': int(0),
  'min.cleanable.dirty.ratio': ratio,
  'min.compaction.lag.ms': int(0),
  'max.compaction.lag.ms': int(1),
  'unclean.leader.election.enable': bool,
};

export const TOPIC_CONFIG_KEYS = Object.keys(PARSERS) as (keyof TopicConfig)[];

/**
 * The broker-level name of each topic config's default (Kafka's LogConfig synonyms, e.g.
 * log.retention.ms for retention.ms): what a node's settings and a dynamic broker config
 * (`--entity-type brokers`) set for every topic that does not set the topic config itself.
 */
export const BROKER_TOPIC_CONFIG_SYNONYMS: Readonly<Record<string, keyof TopicConfig>> = Object.freeze({
  'log.cleanup.policy': 'cleanup.policy',
  'log.retention.ms': 'retention.ms',
  'log.retention.bytes': 'retention.bytes',
  'log.segment.bytes': 'segment.bytes',
  'log.roll.ms': 'segment.ms',
  'log.index.size.max.bytes': 'segment.index.bytes',
  'log.index.interval.bytes': 'index.interval.bytes',
  'message.max.bytes': 'max.message.bytes',
  'log.flush.interval.messages': 'flush.messages',
  'log.flush.interval.ms': 'flush.ms',
  'min.insync.replicas': 'min.insync.replicas',
  'log.message.timestamp.type': 'message.timestamp.type',
  'log.message.timestamp.before.max.ms': 'message.timestamp.before.max.ms',
  'log.message.timestamp.after.max.ms': 'message.timestamp.after.max.ms',
  'log.cleaner.delete.retention.ms': 'delete.retention.ms',
  'log.cleaner.min.cleanable.ratio': 'min.cleanable.dirty.ratio',
  'log.cleaner.min.compaction.lag.ms': 'min.compaction.lag.ms',
  'log.cleaner.max.compaction.lag.ms': 'max.compaction.lag.ms',
  'unclean.leader.election.enable': 'unclean.leader.election.enable',
});

/**
 * Validates broker-level topic defaults (keys of BROKER_TOPIC_CONFIG_SYNONYMS); returns them
 * normalised, under the broker names. Throws INVALID_CONFIG naming the broker key.
 */
export function validateBrokerConfigs(configs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(configs).sort()) {
    const topicKey = Object.hasOwn(BROKER_TOPIC_CONFIG_SYNONYMS, key) ? BROKER_TOPIC_CONFIG_SYNONYMS[key]! : undefined;
    if (topicKey === undefined) {
      throw protocolError(
        'INVALID_CONFIG',
        `unknown or non-dynamic broker config '${key}' (dynamic broker configs: ${Object.keys(BROKER_TOPIC_CONFIG_SYNONYMS).join(', ')})`,
      );
    }
    const raw = configs[key];
    if (typeof raw !== 'string') throw protocolError('INVALID_CONFIG', `${key} must be a string value`);
    out[key] = String(PARSERS[topicKey](raw, key));
  }
  return out;
}

/** Validates explicitly set configs; returns them normalised. Throws INVALID_CONFIG. */
export function validateTopicConfigs(configs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  // Sorted, so every controller writes byte-identical records for the same request.
  for (const key of Object.keys(configs).sort()) {
    const parse = Object.hasOwn(PARSERS, key) ? PARSERS[key as keyof TopicConfig] : undefined;
    if (!parse) throw protocolError('INVALID_CONFIG', `unknown topic config '${key}' (known: ${TOPIC_CONFIG_KEYS.join(', ')})`);
    const raw = configs[key];
    if (typeof raw !== 'string') throw protocolError('INVALID_CONFIG', `${key} must be a string value`);
    out[key] = String(parse(raw, key));
  }
  return out;
}

/** The effective config: broker defaults overlaid with the topic's explicit settings. */
export function effectiveTopicConfig(
  overrides: Record<string, string>,
  defaults: Readonly<TopicConfig> = DEFAULT_TOPIC_CONFIG,
): TopicConfig {
  const config = { ...defaults } as Record<string, unknown>;
  for (const [key, raw] of Object.entries(overrides)) {
    const parse = Object.hasOwn(PARSERS, key) ? PARSERS[key as keyof TopicConfig] : undefined;
    if (parse) config[key] = parse(raw, key);
  }
  return config as unknown as TopicConfig;
}

const LEGAL_TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Kafka's topic name rule. Throws INVALID_TOPIC_EXCEPTION with the reason. */
export function validateTopicName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw protocolError('INVALID_TOPIC_EXCEPTION', 'topic name is empty');
  if (name === '.' || name === '..') throw protocolError('INVALID_TOPIC_EXCEPTION', `topic name cannot be '.' or '..'`);
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw protocolError('INVALID_TOPIC_EXCEPTION', `topic name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  }
  if (!LEGAL_TOPIC_CHARS.test(name)) {
    throw protocolError(
      'INVALID_TOPIC_EXCEPTION',
      `topic name '${name}' is illegal: it may contain only ASCII letters, digits, '.', '_' and '-'`,
    );
  }
}
