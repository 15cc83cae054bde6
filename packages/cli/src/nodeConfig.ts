/**
 * `samsa node`'s settings: one table of Kafka-style keys, each settable four ways, highest
 * precedence first:
 *
 *   1. a flag:                 --node-id 4          (the key with '.' → '-'; a few keep an older alias)
 *   2. an environment variable: SAMSA_NODE_ID=4     (SAMSA_ + the key upper-cased, '.' → '_')
 *   3. a properties file:       node.id=4           (--config FILE or SAMSA_CONFIG=FILE; Kafka's
 *                                                    server.properties syntax: key=value or key: value,
 *                                                    '#' and '!' comments)
 *   4. the built-in default.
 *
 * Everything is validated before the node starts: an unknown key in the file, an unknown SAMSA_*
 * variable, or a bad value from any source is a ConfigError (exit code 2) whose sentence names
 * the key and where the value came from, e.g. "node.id: must be an integer of at least 0, got
 * 'x' (from environment variable SAMSA_NODE_ID)".
 *
 * The log.* / message.max.bytes / min.insync.replicas keys are the broker defaults for topic
 * configs (Kafka's synonyms, see BROKER_TOPIC_CONFIG_SYNONYMS); `samsa configs --entity-type
 * brokers` overrides them at runtime, cluster-wide or per broker, without a restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BROKER_TOPIC_CONFIG_SYNONYMS, parseEndpoints, validateBrokerConfigs, validateTopicConfigs } from '@samsa/metadata';
import { AUTHORIZER_CLASS_NAMES, parseSuperUsers, type AuthorizerConfig } from '@samsa/broker/config';
import {
  parseSaslMechanisms,
  parseSecurityProtocolMap,
  parseSslClientAuth,
  securityProtocolOf,
  type SaslMechanism,
  type SecurityProtocol,
  type TlsListenerConfig,
} from '@samsa/broker/config';
import { UsageError } from './errors.js';

/** A setting that cannot be used: the message names the key and its source. Exits 2, as a usage error. */
export class ConfigError extends UsageError {}

export type SettingSource =
  | { kind: 'flag'; flag: string }
  | { kind: 'env'; variable: string }
  | { kind: 'file'; file: string; line: number }
  | { kind: 'default' };

export function describeSource(source: SettingSource): string {
  switch (source.kind) {
    case 'flag':
      return `flag ${source.flag}`;
    case 'env':
      return `environment variable ${source.variable}`;
    case 'file':
      return `${source.file} line ${source.line}`;
    case 'default':
      return 'the default';
  }
}

interface SettingDef {
  readonly key: string;
  readonly doc: string;
  readonly default?: string;
  /** Older flag names that set the same key. */
  readonly aliases?: readonly string[];
  /** Throws an Error whose message completes "KEY: ...". */
  readonly check: (raw: string) => void;
}

const PINO_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(min: number): (raw: string) => void {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer of at least ${min}, got '${raw}'`);
    if (Number(raw) < min) throw new Error(`must be an integer of at least ${min}, got ${raw.trim()}`);
  };
}

const bool = (raw: string) => {
  if (!['true', 'false'].includes(raw.trim().toLowerCase())) throw new Error(`must be true or false, got '${raw}'`);
};

const hostPort = (raw: string) => {
  const match = /^(.*):(\d+)$/.exec(raw.trim());
  if (!match || !match[1] || Number(match[2]) > 65535) throw new Error(`must be HOST:PORT, got '${raw}'`);
};

const NODE_SETTINGS: readonly SettingDef[] = [
  {
    key: 'process.roles',
    aliases: ['--roles'],
    default: 'broker',
    doc: 'broker, controller or broker,controller',
    check: (raw) => {
      parseRoles(raw);
    },
  },
  { key: 'node.id', doc: "this node's id, unique across controllers and brokers (required)", check: integer(0) },
  {
    key: 'controller.quorum.voters',
    doc: 'the controller quorum: ID@HOST:PORT,... (required)',
    check: (raw) => {
      parseVoters(raw);
    },
  },
  {
    key: 'listeners',
    aliases: ['--listen'],
    default: 'PLAINTEXT://127.0.0.1:9092',
    doc: 'broker listeners to bind, NAME://HOST:PORT,... (a bare HOST:PORT is PLAINTEXT); a controller alone binds a single HOST:PORT given here',
    check: (raw) => {
      parseEndpoints(raw, { allowPortZero: true });
    },
  },
  {
    key: 'advertised.listeners',
    aliases: ['--advertised-listener'],
    doc: 'the address clients are told for each listener, NAME://HOST:PORT,... (default: the listeners)',
    check: (raw) => {
      parseEndpoints(raw);
    },
  },
  {
    key: 'listener.security.protocol.map',
    doc: 'broker: NAME:PROTOCOL,... with PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; a listener named after a protocol needs no entry, any other defaults to PLAINTEXT',
    check: (raw) => {
      parseSecurityProtocolMap(raw);
    },
  },
  {
    key: 'sasl.enabled.mechanisms',
    doc: 'broker: SASL mechanisms of SASL listeners (default PLAIN,SCRAM-SHA-256,SCRAM-SHA-512; users are the SCRAM credentials of `samsa configs --entity-type users`)',
    check: (raw) => {
      parseSaslMechanisms(raw);
    },
  },
  {
    key: 'ssl.keystore.location',
    doc: 'broker: PEM file with the private key and certificate chain of SSL/SASL_SSL listeners',
    check: () => {},
  },
  {
    key: 'ssl.keystore.type',
    doc: 'broker: PEM (the only type supported)',
    check: (raw) => {
      if (raw.trim().toUpperCase() !== 'PEM') throw new Error(`only PEM is supported, got '${raw}'`);
    },
  },
  { key: 'ssl.key.password', doc: "broker: the keystore private key's passphrase (sensitive)", check: () => {} },
  { key: 'ssl.truststore.location', doc: 'broker: PEM CA certificates that client certificates must chain to', check: () => {} },
  {
    key: 'ssl.truststore.type',
    doc: 'broker: PEM (the only type supported)',
    check: (raw) => {
      if (raw.trim().toUpperCase() !== 'PEM') throw new Error(`only PEM is supported, got '${raw}'`);
    },
  },
  {
    key: 'ssl.client.auth',
    doc: 'broker: none, requested or required: ask SSL clients for a certificate (principal = its subject DN)',
    check: (raw) => {
      parseSslClientAuth(raw);
    },
  },
  {
    key: 'inter.broker.listener.name',
    doc: 'the listener other brokers replicate through (default: the first listener)',
    check: (raw) => {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(raw.trim())) throw new Error(`must be a listener name, got '${raw}'`);
    },
  },
  { key: 'controller.listen', doc: 'controller address to bind, when it differs from its voter address', check: hostPort },
  {
    key: 'data.dir',
    default: './data',
    doc: 'where logs and metadata live; one node per directory',
    check: (raw) => {
      if (raw.trim() === '') throw new Error('must not be empty');
    },
  },
  {
    key: 'log.level',
    default: 'info',
    doc: 'pino log level',
    check: (raw) => {
      if (!PINO_LEVELS.includes(raw.trim())) throw new Error(`must be one of ${PINO_LEVELS.join(', ')}, got '${raw}'`);
    },
  },
  {
    key: 'broker.heartbeat.interval.ms',
    aliases: ['--heartbeat-interval-ms'],
    doc: 'broker heartbeat interval (default 2000)',
    check: integer(10),
  },
  {
    key: 'broker.session.timeout.ms',
    aliases: ['--session-timeout-ms'],
    doc: 'controller: fence a broker silent this long (default 9000)',
    check: integer(100),
  },
  {
    key: 'log.retention.check.interval.ms',
    doc: 'broker: how often retention deletes expired segments (default 300000)',
    check: integer(1),
  },
  {
    key: 'replica.lag.time.max.ms',
    doc: 'broker: drop a follower from the ISR that has not caught up this long (default 30000)',
    check: integer(10),
  },
  {
    key: 'auto.create.topics.enable',
    doc: "broker: a Kafka client's Metadata request for an unknown topic creates it (default true)",
    check: bool,
  },
  {
    key: 'authorizer.class.name',
    doc: `broker: turns on ACL authorization (deny by default): ${AUTHORIZER_CLASS_NAMES.join(' or ')}; empty: off`,
    check: (raw) => {
      if (raw.trim() !== '' && !AUTHORIZER_CLASS_NAMES.includes(raw.trim()))
        throw new Error(`must be empty or one of ${AUTHORIZER_CLASS_NAMES.join(', ')}, got '${raw}'`);
    },
  },
  {
    key: 'super.users',
    doc: "broker: principals that bypass ACLs, ';'-separated (User:admin;User:broker)",
    check: (raw) => {
      parseSuperUsers(raw);
    },
  },
  {
    key: 'allow.everyone.if.no.acl.found',
    doc: 'broker: with the authorizer on, allow a request on a resource that has no ACL at all (default false)',
    check: bool,
  },
  {
    key: 'audit.log.interval.ms',
    doc: 'broker: a repeated authorization denial is logged at most once per this interval (default 60000)',
    check: integer(0),
  },
  {
    key: 'num.partitions',
    doc: 'controller: partitions of a topic created without a count (auto-created ones included; default 1)',
    check: integer(1),
  },
  {
    key: 'default.replication.factor',
    doc: 'controller: replicas of a topic created without a replication factor (auto-created ones included; default 1)',
    check: integer(1),
  },
  { key: 'connections.max.idle.ms', doc: 'broker: close a Kafka client connection idle this long (default 600000)', check: integer(100) },
  {
    key: 'socket.request.max.bytes',
    doc: 'broker: the largest Kafka request frame accepted; a larger one closes its connection (default 104857600)',
    check: integer(1),
  },
  { key: 'auto.leader.rebalance.enable', doc: 'controller: move leadership back to preferred replicas (default true)', check: bool },
  {
    key: 'leader.imbalance.check.interval.ms',
    doc: 'controller: how often to check the leader balance (default 300000)',
    check: integer(10),
  },
  {
    key: 'leader.imbalance.per.broker.percentage',
    doc: 'controller: rebalance above this share of non-preferred leaders (default 10)',
    check: integer(0),
  },
  {
    key: 'metrics.port',
    doc: 'serve Prometheus metrics at http://metrics.host:PORT/metrics (0 picks a free port, logged); off when unset',
    check: (raw) => {
      integer(0)(raw);
      if (Number(raw) > 65535) throw new Error(`must be a port number (0-65535), got ${raw.trim()}`);
    },
  },
  {
    key: 'metrics.host',
    default: '127.0.0.1',
    doc: 'address the metrics endpoint binds',
    check: (raw) => {
      if (raw.trim() === '' || /\s/.test(raw.trim())) throw new Error(`must be a host name or address, got '${raw}'`);
    },
  },
  {
    key: 'group.initial.rebalance.delay.ms',
    doc: 'broker: how long a new group waits for more members before its first rebalance (default 3000)',
    check: integer(0),
  },
  { key: 'group.min.session.timeout.ms', doc: 'broker: smallest consumer session timeout accepted (default 6000)', check: integer(1) },
  { key: 'group.max.session.timeout.ms', doc: 'broker: largest consumer session timeout accepted (default 1800000)', check: integer(1) },
  {
    key: 'offsets.topic.replication.factor',
    doc: 'broker: replicas of __consumer_offsets, created only once this many brokers are registered (default 3; cluster up sets it for fewer brokers)',
    check: integer(1),
  },
  { key: 'offsets.retention.minutes', doc: 'broker: keep the offsets of an empty group this long (default 10080)', check: integer(1) },
];

/** The broker defaults for topic configs, under Kafka's broker-level names. */
const TOPIC_DEFAULT_SETTINGS: readonly SettingDef[] = Object.entries(BROKER_TOPIC_CONFIG_SYNONYMS).map(([key, topicKey]) => ({
  key,
  doc: `default for the topic config ${topicKey}`,
  check: (raw: string) => {
    try {
      validateBrokerConfigs({ [key]: raw });
    } catch (err) {
      // The parser's sentence starts with the key, which the caller puts in front already.
      throw new Error((err as Error).message.replace(`${key} `, ''));
    }
  },
}));

export const SETTINGS: readonly SettingDef[] = [...NODE_SETTINGS, ...TOPIC_DEFAULT_SETTINGS];
const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

export const flagOf = (key: string) => `--${key.replace(/\./g, '-')}`;
export const envOf = (key: string) => `SAMSA_${key.toUpperCase().replace(/\./g, '_')}`;
/** The environment variable naming the properties file (as --config does). */
export const CONFIG_FILE_ENV = 'SAMSA_CONFIG';

/** commander's attribute name for a flag: --node-id → nodeId. */
export const attributeOf = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Every flag of every setting (canonical and aliases), with its key, for registering with commander. */
export function settingFlags(): Array<{ flag: string; key: string; doc: string; alias: boolean }> {
  return SETTINGS.flatMap((s) => [
    { flag: flagOf(s.key), key: s.key, doc: s.doc + (s.default === undefined ? '' : ` (default ${s.default})`), alias: false },
    ...(s.aliases ?? []).map((flag) => ({ flag, key: s.key, doc: `same as ${flagOf(s.key)}`, alias: true })),
  ]);
}

export interface ResolvedSetting {
  readonly value: string;
  readonly source: SettingSource;
}

/**
 * Kafka's server.properties syntax, reduced: `key=value` or `key: value` per line (whitespace
 * around the key and before the value ignored), blank lines and `#`/`!` comments skipped.
 * Unknown keys and lines without a separator are refused, naming the file and line.
 */
export function parsePropertiesFile(text: string, file: string): Map<string, ResolvedSetting> {
  const out = new Map<string, ResolvedSetting>();
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    const source: SettingSource = { kind: 'file', file, line: index + 1 };
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const sep = line.search(/[=:]/);
    if (sep <= 0) throw new ConfigError(`${describeSource(source)}: expected key=value, got '${line}'`);
    const key = line.slice(0, sep).trim();
    const value = line.slice(sep + 1).trim();
    if (!BY_KEY.has(key)) throw new ConfigError(`unknown setting '${key}' (${describeSource(source)})${suggest(key)}`);
    if (out.has(key))
      throw new ConfigError(
        `setting '${key}' appears twice in ${file} (lines ${(out.get(key)!.source as { line: number }).line} and ${index + 1})`,
      );
    out.set(key, { value, source });
  });
  return out;
}

export interface SettingInputs {
  /** commander's parsed options (attribute names), only those given on the command line. */
  flags: Readonly<Record<string, unknown>>;
  env: Readonly<Record<string, string | undefined>>;
  /** The --config value, if given. */
  configFile?: string;
}

/**
 * Picks each key's value by precedence flag > env > file > default. A legacy `--config k=v`
 * (a topic default such as retention.ms=60000, before --config named a file) is read as the
 * flag of the synonymous broker key.
 */
export function resolveSettings(inputs: SettingInputs): Map<string, ResolvedSetting> {
  const resolved = new Map<string, ResolvedSetting>();

  // Defaults, then the file, then env, then flags: each later layer overwrites.
  for (const s of SETTINGS) if (s.default !== undefined) resolved.set(s.key, { value: s.default, source: { kind: 'default' } });

  const legacy: Array<[string, string]> = [];
  let file = inputs.configFile;
  let fileSource = '--config';
  if (file !== undefined && /^[A-Za-z0-9._-]+=/.test(file) && !existsSync(file)) {
    legacy.push([file.slice(0, file.indexOf('=')), file.slice(file.indexOf('=') + 1)]);
    file = undefined;
  }
  if (file === undefined && inputs.env[CONFIG_FILE_ENV] !== undefined) {
    file = inputs.env[CONFIG_FILE_ENV];
    fileSource = `environment variable ${CONFIG_FILE_ENV}`;
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `cannot read the config file '${file}' (from ${fileSource}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    for (const [key, r] of parsePropertiesFile(text, file)) resolved.set(key, r);
  }

  const unknownEnv = Object.keys(inputs.env)
    // SAMSA_CHAOS_* belong to the chaos harness (which starts nodes with them set), not to a node;
    // SAMSA_BENCH_* to the benchmarks (SAMSA_BENCH_REQUEST_COST_DIR, @samsa/protocol requestCost.ts).
    .filter(
      (name) =>
        name.startsWith('SAMSA_') &&
        !name.startsWith('SAMSA_CHAOS_') &&
        !name.startsWith('SAMSA_BENCH_') &&
        name !== CONFIG_FILE_ENV &&
        inputs.env[name] !== undefined,
    )
    .filter((name) => !SETTINGS.some((s) => envOf(s.key) === name));
  if (unknownEnv.length > 0) {
    throw new ConfigError(
      `unknown environment variable${unknownEnv.length > 1 ? 's' : ''} ${unknownEnv.sort().join(', ')}: SAMSA_* variables set node settings, e.g. SAMSA_NODE_ID for node.id`,
    );
  }
  for (const s of SETTINGS) {
    const value = inputs.env[envOf(s.key)];
    if (value !== undefined) resolved.set(s.key, { value, source: { kind: 'env', variable: envOf(s.key) } });
  }

  for (const [topicKey, value] of legacy) {
    const key = Object.entries(BROKER_TOPIC_CONFIG_SYNONYMS).find(([, t]) => t === topicKey)?.[0] ?? topicKey;
    if (!BY_KEY.has(key)) throw new ConfigError(`unknown setting '${topicKey}' (flag --config)${suggest(topicKey)}`);
    resolved.set(key, { value, source: { kind: 'flag', flag: `--config ${topicKey}=...` } });
  }
  for (const s of SETTINGS) {
    const given = [flagOf(s.key), ...(s.aliases ?? [])].filter((flag) => inputs.flags[attributeOf(flag)] !== undefined);
    if (given.length > 1) throw new ConfigError(`${s.key} is given twice, by ${given.join(' and ')}`);
    if (given.length === 1)
      resolved.set(s.key, { value: String(inputs.flags[attributeOf(given[0]!)]), source: { kind: 'flag', flag: given[0]! } });
  }

  for (const [key, r] of resolved) {
    try {
      BY_KEY.get(key)!.check(r.value);
    } catch (err) {
      throw new ConfigError(`${key}: ${(err as Error).message} (from ${describeSource(r.source)})`);
    }
  }
  return resolved;
}

function suggest(key: string): string {
  const topicSynonym = Object.entries(BROKER_TOPIC_CONFIG_SYNONYMS).find(([, t]) => t === key)?.[0];
  if (topicSynonym) return `; the broker default for topic config ${key} is ${topicSynonym}`;
  const close = SETTINGS.map((s) => s.key).filter((k) => k.replace(/\W/g, '') === key.replace(/\W/g, '').toLowerCase());
  return close.length > 0 ? `; did you mean ${close[0]}?` : '';
}

// ---- typed view ----

export interface Voter {
  id: number;
  host: string;
  port: number;
}

/** Parses Kafka's controller.quorum.voters form: `1@host:port,2@host:port,3@host:port`. */
export function parseVoters(value: string): Voter[] {
  const voters = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf('@');
      if (at <= 0) throw new Error(`entries are ID@HOST:PORT, got '${entry}'`);
      const idText = entry.slice(0, at);
      if (!/^\d+$/.test(idText)) throw new Error(`voter id must be a non-negative integer, got '${idText}'`);
      const match = /^(.*):(\d+)$/.exec(entry.slice(at + 1));
      if (!match || !match[1] || Number(match[2]) < 1 || Number(match[2]) > 65535)
        throw new Error(`entries are ID@HOST:PORT, got '${entry}'`);
      return { id: Number(idText), host: match[1].replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
    });
  if (voters.length === 0) throw new Error('names no voter');
  if (new Set(voters.map((v) => v.id)).size !== voters.length) throw new Error('repeats a voter id');
  return voters;
}

function parseRoles(value: string): Set<'broker' | 'controller'> {
  const roles = new Set<'broker' | 'controller'>();
  for (const role of value.split(',').map((r) => r.trim())) {
    if (role !== 'broker' && role !== 'controller') throw new Error(`takes broker, controller or broker,controller; got '${role}'`);
    roles.add(role);
  }
  return roles;
}

/** One broker listener: where it binds and what it advertises. */
export interface ListenerSetting {
  name: string;
  host: string;
  port: number;
  advertisedHost: string;
  advertisedPort: number | undefined;
  securityProtocol: SecurityProtocol;
}

export interface NodeSettings {
  roles: Set<'broker' | 'controller'>;
  nodeId: number;
  voters: Voter[];
  /** Broker listeners, with the advertised address of each. */
  listeners: ListenerSetting[];
  /** Whether listeners were named (NAME://...): then the broker registers and serves per listener. */
  namedListeners: boolean;
  interBrokerListenerName: string;
  /** A controller-only node's bind address from `listeners`, when it was set. */
  controllerOnlyListen?: { host: string; port: number };
  controllerListen?: { host: string; port: number };
  dataDir: string;
  logLevel: string;
  heartbeatIntervalMs?: number;
  sessionTimeoutMs?: number;
  replicaLagTimeMaxMs?: number;
  retentionCheckIntervalMs?: number;
  autoCreateTopicsEnable?: boolean;
  /** With authorizer.class.name set: the ACL authorizer's settings. */
  authorizer?: AuthorizerConfig;
  auditLogIntervalMs?: number;
  /** Kafka's num.partitions and default.replication.factor: the controller's defaults for CreateTopics' -1. */
  defaultNumPartitions?: number;
  defaultReplicationFactor?: number;
  socketRequestMaxBytes?: number;
  connectionsMaxIdleMs?: number;
  autoLeaderRebalanceEnable?: boolean;
  leaderImbalanceCheckIntervalMs?: number;
  leaderImbalancePerBrokerPercentage?: number;
  /** The Prometheus endpoint (metrics.port); none when unset. */
  metricsPort?: number;
  saslEnabledMechanisms?: SaslMechanism[];
  ssl?: TlsListenerConfig;
  metricsHost: string;
  /** The group coordinator's settings that were set (group.*, offsets.retention.minutes). */
  groups: {
    groupInitialRebalanceDelayMs?: number;
    groupMinSessionTimeoutMs?: number;
    groupMaxSessionTimeoutMs?: number;
    offsetsRetentionMs?: number;
    offsetsTopicReplicationFactor?: number;
  };
  /** Broker defaults for topic configs, by topic config name (validated, normalised). */
  topicDefaults: Record<string, string>;
  /** Where each key's value came from. */
  sources: Map<string, ResolvedSetting>;
}

/** Resolves and validates every setting; throws ConfigError naming the key and source. */
export function loadNodeSettings(inputs: SettingInputs): NodeSettings {
  const r = resolveSettings(inputs);
  const value = (key: string) => r.get(key)?.value.trim();
  const fail = (key: string, message: string): never => {
    const at = r.get(key);
    throw new ConfigError(`${key}: ${message}${at ? ` (from ${describeSource(at.source)})` : ''}`);
  };
  const int = (key: string) => (value(key) === undefined ? undefined : Number(value(key)));

  const roles = parseRoles(value('process.roles')!);
  const nodeIdText = value('node.id');
  if (nodeIdText === undefined)
    throw new ConfigError(`node.id is required: give --node-id, ${envOf('node.id')} or node.id in the config file`);
  const nodeId = Number(nodeIdText);
  const votersText = value('controller.quorum.voters');
  if (votersText === undefined) {
    throw new ConfigError(
      `controller.quorum.voters is required for a ${roles.has('controller') ? 'controller' : 'broker'}: give --controller-quorum-voters ID@HOST:PORT,..., ${envOf('controller.quorum.voters')} or controller.quorum.voters in the config file`,
    );
  }
  const voters = parseVoters(votersText);
  if (roles.has('controller') && !voters.some((v) => v.id === nodeId))
    fail('node.id', `${nodeId} is not among controller.quorum.voters (${votersText})`);

  const listenersText = value('listeners')!;
  const binds = parseEndpoints(listenersText, { allowPortZero: true });
  const namedListeners = /:\/\//.test(listenersText) || (r.has('advertised.listeners') && /:\/\//.test(value('advertised.listeners')!));
  const advertisedText = value('advertised.listeners');
  const advertised = advertisedText === undefined ? [] : parseEndpoints(advertisedText);
  for (const a of advertised) {
    if (!binds.some((b) => b.name === a.name))
      fail('advertised.listeners', `names listener ${a.name}, which is not among listeners (${binds.map((b) => b.name).join(', ')})`);
  }
  const protocolMapText = value('listener.security.protocol.map');
  const protocolMap = protocolMapText === undefined ? new Map<string, SecurityProtocol>() : parseSecurityProtocolMap(protocolMapText);
  for (const name of protocolMap.keys()) {
    if (!binds.some((b) => b.name === name))
      fail(
        'listener.security.protocol.map',
        `names listener ${name}, which is not among listeners (${binds.map((b) => b.name).join(', ')})`,
      );
  }
  const listeners = binds.map((b): ListenerSetting => {
    const a = advertised.find((x) => x.name === b.name);
    const advertisedHost = a?.host ?? b.host;
    // Kafka refuses to advertise the wildcard address: no client can connect to it.
    if (roles.has('broker') && (advertisedHost === '0.0.0.0' || advertisedHost === '::')) {
      fail(
        a ? 'advertised.listeners' : 'listeners',
        `listener ${b.name} would advertise ${advertisedHost}, which clients cannot connect to; set advertised.listeners`,
      );
    }
    return {
      name: b.name,
      host: b.host,
      port: b.port,
      advertisedHost,
      advertisedPort: a?.port ?? (b.port === 0 ? undefined : b.port),
      securityProtocol: securityProtocolOf(b.name, protocolMap) ?? 'PLAINTEXT',
    };
  });
  const interBrokerListenerName = value('inter.broker.listener.name')?.toUpperCase() ?? listeners[0]!.name;
  if (!listeners.some((l) => l.name === interBrokerListenerName))
    fail('inter.broker.listener.name', `${interBrokerListenerName} is not among listeners (${listeners.map((l) => l.name).join(', ')})`);

  let controllerOnlyListen: { host: string; port: number } | undefined;
  if (roles.has('controller') && !roles.has('broker') && r.get('listeners')?.source.kind !== 'default') {
    if (binds.length !== 1) fail('listeners', 'a controller alone binds one address; give a single HOST:PORT');
    controllerOnlyListen = { host: binds[0]!.host, port: binds[0]!.port };
  }
  const controllerListenText = value('controller.listen');
  const controllerListen =
    controllerListenText === undefined
      ? undefined
      : (() => {
          const m = /^(.*):(\d+)$/.exec(controllerListenText)!;
          return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
        })();

  const topicDefaults: Record<string, string> = {};
  for (const [key, topicKey] of Object.entries(BROKER_TOPIC_CONFIG_SYNONYMS)) {
    const v = value(key);
    if (v !== undefined) topicDefaults[topicKey] = v;
  }
  const rebalance = value('auto.leader.rebalance.enable')?.toLowerCase();
  const autoCreate = value('auto.create.topics.enable')?.toLowerCase();
  const authorizerClass = value('authorizer.class.name');
  const authorizer: AuthorizerConfig | undefined =
    authorizerClass === undefined || authorizerClass === ''
      ? undefined
      : {
          superUsers: parseSuperUsers(value('super.users')),
          allowEveryoneIfNoAclFound: value('allow.everyone.if.no.acl.found')?.toLowerCase() === 'true',
        };
  return {
    roles,
    nodeId,
    voters,
    listeners,
    namedListeners,
    interBrokerListenerName,
    ...(controllerOnlyListen === undefined ? {} : { controllerOnlyListen }),
    ...(controllerListen === undefined ? {} : { controllerListen }),
    dataDir: value('data.dir')!,
    logLevel: value('log.level')!,
    ...(int('broker.heartbeat.interval.ms') === undefined ? {} : { heartbeatIntervalMs: int('broker.heartbeat.interval.ms')! }),
    ...(int('broker.session.timeout.ms') === undefined ? {} : { sessionTimeoutMs: int('broker.session.timeout.ms')! }),
    ...(int('replica.lag.time.max.ms') === undefined ? {} : { replicaLagTimeMaxMs: int('replica.lag.time.max.ms')! }),
    ...(int('log.retention.check.interval.ms') === undefined ? {} : { retentionCheckIntervalMs: int('log.retention.check.interval.ms')! }),
    ...(rebalance === undefined ? {} : { autoLeaderRebalanceEnable: rebalance === 'true' }),
    ...(autoCreate === undefined ? {} : { autoCreateTopicsEnable: autoCreate === 'true' }),
    ...(authorizer === undefined ? {} : { authorizer }),
    ...(int('audit.log.interval.ms') === undefined ? {} : { auditLogIntervalMs: int('audit.log.interval.ms')! }),
    ...(int('num.partitions') === undefined ? {} : { defaultNumPartitions: int('num.partitions')! }),
    ...(int('default.replication.factor') === undefined ? {} : { defaultReplicationFactor: int('default.replication.factor')! }),
    ...(int('socket.request.max.bytes') === undefined ? {} : { socketRequestMaxBytes: int('socket.request.max.bytes')! }),
    ...(int('connections.max.idle.ms') === undefined ? {} : { connectionsMaxIdleMs: int('connections.max.idle.ms')! }),
    ...(int('leader.imbalance.check.interval.ms') === undefined
      ? {}
      : { leaderImbalanceCheckIntervalMs: int('leader.imbalance.check.interval.ms')! }),
    ...(int('leader.imbalance.per.broker.percentage') === undefined
      ? {}
      : { leaderImbalancePerBrokerPercentage: int('leader.imbalance.per.broker.percentage')! }),
    ...(int('metrics.port') === undefined ? {} : { metricsPort: int('metrics.port')! }),
    ...(value('sasl.enabled.mechanisms') === undefined
      ? {}
      : { saslEnabledMechanisms: parseSaslMechanisms(value('sasl.enabled.mechanisms')!) }),
    ...(value('ssl.keystore.location') === undefined
      ? {}
      : {
          ssl: {
            keystoreLocation: value('ssl.keystore.location')!,
            ...(value('ssl.key.password') === undefined ? {} : { keyPassword: value('ssl.key.password')! }),
            ...(value('ssl.truststore.location') === undefined ? {} : { truststoreLocation: value('ssl.truststore.location')! }),
            clientAuth: parseSslClientAuth(value('ssl.client.auth') ?? 'none'),
          },
        }),
    metricsHost: value('metrics.host')!,
    groups: {
      ...(int('group.initial.rebalance.delay.ms') === undefined
        ? {}
        : { groupInitialRebalanceDelayMs: int('group.initial.rebalance.delay.ms')! }),
      ...(int('group.min.session.timeout.ms') === undefined ? {} : { groupMinSessionTimeoutMs: int('group.min.session.timeout.ms')! }),
      ...(int('group.max.session.timeout.ms') === undefined ? {} : { groupMaxSessionTimeoutMs: int('group.max.session.timeout.ms')! }),
      ...(int('offsets.retention.minutes') === undefined ? {} : { offsetsRetentionMs: int('offsets.retention.minutes')! * 60_000 }),
      ...(int('offsets.topic.replication.factor') === undefined
        ? {}
        : { offsetsTopicReplicationFactor: int('offsets.topic.replication.factor')! }),
    },
    topicDefaults: validateTopicConfigs(topicDefaults),
    sources: r,
  };
}
