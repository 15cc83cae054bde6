/**
 * Input rules the controller applies before it writes anything: Kafka's topic-name rule and a
 * default topic-config validator. The broker has its own copy of both (packages/broker/src/
 * topicConfig.ts) that it uses to interpret configs; the controller cannot import the broker, so
 * the wiring may inject the broker's validator instead of this one (same signature) until the two
 * move to @samsa/protocol.
 */
import { protocolError } from '@samsa/protocol';

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL_TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rule. Throws INVALID_TOPIC_EXCEPTION with the reason. */
export function validateTopicName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw protocolError('INVALID_TOPIC_EXCEPTION', 'topic name is empty');
  if (name === '.' || name === '..') throw protocolError('INVALID_TOPIC_EXCEPTION', `topic name cannot be '.' or '..'`);
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw protocolError('INVALID_TOPIC_EXCEPTION', `topic name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  }
  if (!LEGAL_TOPIC_CHARS.test(name)) {
    throw protocolError('INVALID_TOPIC_EXCEPTION', `topic name '${name}' is illegal: it may contain only ASCII letters, digits, '.', '_' and '-'`);
  }
}

/** Kafka's Topic.unifyCollisionChars: 'a.b' and 'a_b' collide (their metric names would be equal). */
export function topicCollisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

/**
 * Validates explicitly set topic configs and returns them normalised; throws a
 * SamsaProtocolError (INVALID_CONFIG) for an unknown key or a malformed value.
 */
export type TopicConfigValidator = (configs: Readonly<Record<string, string>>) => Record<string, string>;

type Check = (raw: string, key: string) => string;

function integer(min: bigint, max: bigint): Check {
  return (raw, key) => {
    const v = raw.trim();
    if (!/^-?\d+$/.test(v)) throw protocolError('INVALID_CONFIG', `${key} must be an integer, got '${raw}'`);
    const n = BigInt(v);
    if (n < min || n > max) throw protocolError('INVALID_CONFIG', `${key} must be between ${min} and ${max}, got ${raw}`);
    return n.toString();
  };
}

const INT_MAX = 2n ** 31n - 1n;
const LONG_MAX = 2n ** 63n - 1n;
const int = (min: number) => integer(BigInt(min), INT_MAX);
const long = (min: number) => integer(BigInt(min), LONG_MAX);

const bool: Check = (raw, key) => {
  const v = raw.trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw protocolError('INVALID_CONFIG', `${key} must be true or false, got '${raw}'`);
  return v;
};

function oneOf(...values: string[]): Check {
  return (raw, key) => {
    const v = raw.trim();
    if (!values.includes(v)) throw protocolError('INVALID_CONFIG', `${key} must be one of ${values.join(', ')}, got '${raw}'`);
    return v;
  };
}

const ratio: Check = (raw, key) => {
  const v = raw.trim();
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 0 || n > 1) throw protocolError('INVALID_CONFIG', `${key} must be a number between 0 and 1, got '${raw}'`);
  return v;
};

const anyString: Check = (raw) => raw;

const cleanupPolicy: Check = (raw, key) => {
  const parts = [...new Set(raw.split(',').map((s) => s.trim()))].sort();
  if (parts.length === 0 || !parts.every((p) => p === 'delete' || p === 'compact')) {
    throw protocolError('INVALID_CONFIG', `${key} must be delete, compact or compact,delete, got '${raw}'`);
  }
  return parts.join(',');
};

/** Kafka's topic-level config keys (TopicConfig / LogConfig) with Kafka's bounds. */
const TOPIC_CONFIG_CHECKS: Readonly<Record<string, Check>> = {
  'cleanup.policy': cleanupPolicy,
  'compression.type': oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
  'delete.retention.ms': long(0),
  'file.delete.delay.ms': long(0),
  'flush.messages': long(1),
  'flush.ms': long(0),
  'follower.replication.throttled.replicas': anyString,
  'index.interval.bytes': int(0),
  'leader.replication.throttled.replicas': anyString,
  'local.retention.bytes': long(-2),
  'local.retention.ms': long(-2),
  'max.compaction.lag.ms': long(1),
  'max.message.bytes': int(0),
  'message.downconversion.enable': bool,
  'message.format.version': anyString,
  'message.timestamp.after.max.ms': long(0),
  'message.timestamp.before.max.ms': long(0),
  'message.timestamp.difference.max.ms': long(0),
  'message.timestamp.type': oneOf('CreateTime', 'LogAppendTime'),
  'min.cleanable.dirty.ratio': ratio,
  'min.compaction.lag.ms': long(0),
  'min.insync.replicas': int(1),
  'preallocate': bool,
  'remote.storage.enable': bool,
  'retention.bytes': long(-1),
  'retention.ms': long(-1),
  'segment.bytes': int(14),
  'segment.index.bytes': int(4),
  'segment.jitter.ms': long(0),
  'segment.ms': long(1),
  'unclean.leader.election.enable': bool,
};

export const KNOWN_TOPIC_CONFIG_KEYS: readonly string[] = Object.freeze(Object.keys(TOPIC_CONFIG_CHECKS).sort());

/** The default TopicConfigValidator: Kafka's known topic keys, each value checked against Kafka's bounds. */
export const validateKnownTopicConfigs: TopicConfigValidator = (configs) => {
  const out: Record<string, string> = {};
  for (const key of Object.keys(configs).sort()) {
    const check = Object.hasOwn(TOPIC_CONFIG_CHECKS, key) ? TOPIC_CONFIG_CHECKS[key] : undefined;
    if (check === undefined) throw protocolError('INVALID_CONFIG', `unknown topic config '${key}'`);
    const raw = configs[key];
    if (typeof raw !== 'string') throw protocolError('INVALID_CONFIG', `${key} must be a string value`);
    out[key] = check(raw, key);
  }
  return out;
};
