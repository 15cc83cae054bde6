/**
 * `samsa configs`: kafka-configs for topics and brokers, with Kafka's flags.
 *
 *   samsa configs --bootstrap-server H:P --entity-type topics --entity-name T --describe [--all]
 *   samsa configs --bootstrap-server H:P --entity-type topics --entity-name T --alter \
 *       [--add-config k=v[,k2=[a,b]]] [--delete-config k[,k2]]
 *
 * --describe prints, as Kafka does, the configs set on the topic ("Dynamic configs for topic T
 * are:"), or every config with --all, one `  name=value sensitive=false synonyms={...}` line
 * each. --alter answers "Completed updating config for topic T." once the broker applied the
 * change. As in Kafka, deleting a config that is not set on the topic is an error.
 *
 *   samsa configs --bootstrap-server H:P --entity-type brokers (--entity-name ID | --entity-default) \
 *       --describe | --alter [--add-config log.retention.ms=60000] [--delete-config k]
 *
 * Dynamic broker configs: the broker-level defaults of topic configs (log.retention.ms,
 * min.insync.replicas, ...), for one broker or, with --entity-default, for every broker. They sit
 * in the controller's metadata log, and every broker applies them to its open partitions as soon
 * as it replays them; a topic's own setting still wins. --describe without --entity-name shows
 * the default and every broker's.
 *
 *   samsa configs --bootstrap-server H:P --entity-type users --entity-name alice --alter \
 *       --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]' | --delete-config SCRAM-SHA-512
 *   samsa configs --bootstrap-server H:P --entity-type users [--entity-name alice] --describe
 *
 * SCRAM credentials (KIP-554, as kafka-configs does it): the password is salted and hashed here
 * (Hi(password, salt, iterations), a random 32-byte salt); only SaltedPassword goes to the broker,
 * which forwards it to the controller; the metadata log keeps StoredKey and ServerKey. --describe
 * shows mechanisms and iterations, never a key.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { InvalidConfigError, type ConfigEntry } from '@samsa/client';
import {
  CHANNEL_OPTIONS,
  ConfigOperation,
  ConfigResource,
  ErrorCode,
  clientProto,
  errorInfo,
  grpc,
  type DescribeConfigsResult__Output,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse__Output,
  type AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsResponse__Output,
  type DescribeUserScramCredentialsResponse__Output,
  type MetadataResponse__Output,
  type SamsaClient,
} from '@samsa/protocol';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';
import { parseBootstrap } from '../options.js';

interface ConfigsOptions {
  bootstrapServer?: string;
  entityType?: string;
  entityName?: string;
  topic?: string;
  entityDefault?: boolean;
  describe?: boolean;
  alter?: boolean;
  all?: boolean;
  addConfig?: string[];
  deleteConfig?: string[];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerConfigs(program: Command): void {
  program
    .command('configs')
    .option(
      '--command-config <file>',
      'client configs from a properties file: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location (PEM)',
    )
    .description('describe or alter topic and broker configs (kafka-configs)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--entity-type <type>', 'the kind of entity: topics, brokers or users (SCRAM credentials)')
    .option('--entity-name <name>', 'the topic, or the broker id; --describe without it describes every one')
    .option('--entity-default', 'with --entity-type brokers: the cluster-wide default for every broker')
    .option('--topic <name>', 'shorthand for --entity-type topics --entity-name <name>')
    .option('--describe', 'print the configs set on the topic (every config with --all)')
    .option('--all', 'with --describe: every config, defaults included')
    .option('--alter', 'change configs (with --add-config and/or --delete-config)')
    .option('--add-config <k=v,...>', 'configs to set: k1=v1,k2=[v2,v3] (brackets for values with commas; repeatable)', collect)
    .option('--delete-config <k,...>', 'configs to remove, so they fall back to the default (repeatable)', collect)
    .action(async (opts: ConfigsOptions) => {
      const actions = (['describe', 'alter'] as const).filter((a) => opts[a]);
      if (actions.length !== 1) throw new UsageError('exactly one of --describe or --alter is required');
      if (opts.entityType === 'brokers') {
        await brokerConfigs(opts, actions[0]!);
        return;
      }
      if (opts.entityType === 'users') {
        await userConfigs(opts, actions[0]!);
        return;
      }
      if (opts.entityDefault) throw new UsageError('--entity-default goes with --entity-type brokers');
      const topic = entityOf(opts);
      if (actions[0] === 'describe') {
        if (opts.addConfig || opts.deleteConfig) throw new UsageError('--add-config and --delete-config go with --alter, not --describe');
        await describe(opts, topic);
      } else {
        if (topic === undefined) throw new UsageError('--alter needs --entity-name (or --topic)');
        if (opts.all) throw new UsageError('--all goes with --describe');
        await alter(opts, topic);
      }
    });
}

/** The topic named by --entity-type topics --entity-name, or --topic; undefined: every topic. */
function entityOf(opts: ConfigsOptions): string | undefined {
  if (opts.topic !== undefined) {
    if (opts.entityName !== undefined) throw new UsageError('give either --topic or --entity-name, not both');
    if (opts.entityType !== undefined && opts.entityType !== 'topics') throw new UsageError('--topic goes with --entity-type topics');
    if (opts.topic === '') throw new UsageError('--topic must not be empty');
    return opts.topic;
  }
  if (opts.entityType === undefined) throw new UsageError('--entity-type is required (topics or brokers)');
  if (opts.entityType !== 'topics') throw new UsageError(`--entity-type must be topics or brokers, got '${opts.entityType}'`);
  if (opts.entityName === '') throw new UsageError('--entity-name must not be empty');
  return opts.entityName;
}

async function describe(opts: ConfigsOptions, topic: string | undefined): Promise<void> {
  await withClient(opts.bootstrapServer, async (samsa) => {
    const admin = samsa.admin();
    const topics = topic === undefined ? await admin.listTopics() : [topic];
    for (const d of await admin.describeConfigs(topics)) {
      const shown = opts.all ? d.configs : d.configs.filter((c) => c.source === 'topic');
      process.stdout.write(`${opts.all ? 'All' : 'Dynamic'} configs for topic ${d.topic} are:\n`);
      for (const c of shown) process.stdout.write(`  ${formatEntry(c)}\n`);
    }
  });
}

async function alter(opts: ConfigsOptions, topic: string): Promise<void> {
  const set: Record<string, string> = {};
  for (const flag of opts.addConfig ?? []) Object.assign(set, parseAddConfig(flag));
  const deletes = [...new Set((opts.deleteConfig ?? []).flatMap(parseDeleteConfig))];
  if (Object.keys(set).length === 0 && deletes.length === 0) throw new UsageError('--alter needs --add-config and/or --delete-config');
  const both = deletes.filter((name) => Object.hasOwn(set, name));
  if (both.length > 0) throw new UsageError(`config(s) both added and deleted: ${both.join(',')}`);
  await withClient(opts.bootstrapServer, async (samsa) => {
    const admin = samsa.admin();
    if (deletes.length > 0) {
      // Kafka's ConfigCommand refuses to delete what is not set on the topic.
      const [current] = await admin.describeConfigs([topic]);
      const setOnTopic = new Set(current!.configs.filter((c) => c.source === 'topic').map((c) => c.name));
      const notSet = deletes.filter((name) => !setOnTopic.has(name));
      if (notSet.length > 0) throw new InvalidConfigError(`Invalid config(s): ${notSet.join(',')} (not set on topic ${topic})`, { topic });
    }
    await admin.incrementalAlterConfigs([{ topic, set, delete: deletes }]);
    process.stdout.write(`Completed updating config for topic ${topic}.\n`);
  });
}

// ---- users: SCRAM credentials ----

const SCRAM_LENGTHS: Record<string, { hash: string; length: number }> = {
  'SCRAM-SHA-256': { hash: 'sha256', length: 32 },
  'SCRAM-SHA-512': { hash: 'sha512', length: 64 },
};

/** Kafka's default when --add-config names no iterations (ScramMechanism.minIterations). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

/**
 * `SCRAM-SHA-256=[iterations=8192,password=...]` (after parseAddConfig: the value without
 * brackets) into a mechanism, iterations and password. Throws UsageError naming the problem,
 * never echoing the password.
 */
export function parseScramConfig(mechanism: string, value: string): { mechanism: string; iterations: number; password: string } {
  if (!Object.hasOwn(SCRAM_LENGTHS, mechanism))
    throw new UsageError(`unknown SCRAM mechanism '${mechanism}' (SCRAM-SHA-256 or SCRAM-SHA-512)`);
  let iterations = DEFAULT_SCRAM_ITERATIONS;
  let password: string | undefined;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'iterations') {
      if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${mechanism}: iterations must be a number, got '${v}'`);
      iterations = Number(v);
    } else if (key === 'password') {
      password = v;
    } else {
      throw new UsageError(`${mechanism}: unknown key '${key}' (iterations, password)`);
    }
  }
  if (password === undefined || password === '') throw new UsageError(`${mechanism} needs password=...`);
  return { mechanism, iterations, password };
}

/** Creates or replaces a SCRAM-SHA-256 and SCRAM-SHA-512 credential (cluster up --sasl's admin user). */
export async function upsertScramUser(bootstrapServer: string, user: string, password: string): Promise<void> {
  if (/[,\]=]/.test(password)) throw new Error('the password may not hold , ] or =');
  await userConfigs(
    { bootstrapServer, entityName: user, addConfig: [`SCRAM-SHA-256=[password=${password}],SCRAM-SHA-512=[password=${password}]`] },
    'alter',
  );
}

async function userConfigs(opts: ConfigsOptions, action: 'describe' | 'alter'): Promise<void> {
  if (opts.topic !== undefined || opts.entityDefault)
    throw new UsageError('--topic and --entity-default do not go with --entity-type users');
  if (opts.entityName === '') throw new UsageError('--entity-name must not be empty');
  await withBroker(opts.bootstrapServer, async (call) => {
    if (action === 'describe') {
      if (opts.addConfig || opts.deleteConfig) throw new UsageError('--add-config and --delete-config go with --alter, not --describe');
      const res = await call<DescribeUserScramCredentialsResponse__Output>((c, o, cb) =>
        c.DescribeUserScramCredentials({ users: opts.entityName === undefined ? [] : [opts.entityName] }, o, cb),
      );
      for (const r of res.results) {
        if (r.errorCode !== ErrorCode.NONE && opts.entityName !== undefined) throwIfError(r.errorCode, r.errorMessage);
        const infos = r.credentialInfos.map((i) => `${i.mechanism}=iterations=${i.iterations}`).join(', ');
        process.stdout.write(`SCRAM credential configs for user-principal '${r.user}' are ${infos}\n`);
      }
      return;
    }
    const user = opts.entityName;
    if (user === undefined) throw new UsageError('--alter of users needs --entity-name');
    const upsertions: AlterUserScramCredentialsRequest['upsertions'] = [];
    for (const flag of opts.addConfig ?? []) {
      for (const [mechanism, value] of Object.entries(parseAddConfig(flag))) {
        const { iterations, password } = parseScramConfig(mechanism, value);
        const salt = randomBytes(32);
        const { hash, length } = SCRAM_LENGTHS[mechanism]!;
        upsertions.push({
          name: user,
          mechanism,
          iterations,
          salt,
          saltedPassword: pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, length, hash),
        });
      }
    }
    const deletions = [...new Set((opts.deleteConfig ?? []).flatMap(parseDeleteConfig))].map((mechanism) => {
      if (!Object.hasOwn(SCRAM_LENGTHS, mechanism))
        throw new UsageError(`unknown SCRAM mechanism '${mechanism}' (SCRAM-SHA-256 or SCRAM-SHA-512)`);
      return { name: user, mechanism };
    });
    if (upsertions.length === 0 && deletions.length === 0) throw new UsageError('--alter needs --add-config and/or --delete-config');
    const res = await call<AlterUserScramCredentialsResponse__Output>((c, o, cb) =>
      c.AlterUserScramCredentials({ deletions, upsertions, timeoutMs: 30_000 }, o, cb),
    );
    const r = res.results.find((x) => x.user === user);
    if (r === undefined) throw new Error(`the broker's answer did not mention user '${user}'`);
    throwIfError(r.errorCode, r.errorMessage);
    process.stdout.write(`Completed updating config for user ${user}.\n`);
  });
}

// ---- brokers ----

const BROKER_SOURCE_NAMES: Record<number, string> = {
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
};

async function brokerConfigs(opts: ConfigsOptions, action: 'describe' | 'alter'): Promise<void> {
  if (opts.topic !== undefined) throw new UsageError('--topic goes with --entity-type topics');
  if (opts.entityDefault && opts.entityName !== undefined) throw new UsageError('give either --entity-name or --entity-default, not both');
  if (opts.entityName !== undefined && !/^(0|[1-9]\d{0,9})$/.test(opts.entityName))
    throw new UsageError(`--entity-name of a broker is its node id, got '${opts.entityName}'`);
  if (opts.all) throw new UsageError('--all is not supported for brokers: --describe shows their dynamic configs');
  const entity = opts.entityDefault ? '' : opts.entityName;
  const label = (name: string) => (name === '' ? 'brokers in the cluster' : `broker ${name}`);
  await withBroker(opts.bootstrapServer, async (call) => {
    if (action === 'describe') {
      if (opts.addConfig || opts.deleteConfig) throw new UsageError('--add-config and --delete-config go with --alter, not --describe');
      let names: string[];
      if (entity !== undefined) {
        names = [entity];
      } else {
        const metadata = await call<MetadataResponse__Output>((c, o, cb) => c.Metadata({ topics: [], allTopics: false }, o, cb));
        names = ['', ...metadata.brokers.map((b) => String(b.nodeId)).sort((a, b) => Number(a) - Number(b))];
      }
      for (const r of await describeBrokers(call, names)) {
        process.stdout.write(
          `${r.resourceName === '' ? 'Default configs for brokers in the cluster are:' : `Dynamic configs for broker ${r.resourceName} are:`}\n`,
        );
        for (const c of r.configs) {
          const synonyms = c.synonyms.map((syn) => `${BROKER_SOURCE_NAMES[syn.source] ?? 'UNKNOWN'}:${syn.name}=${syn.value}`).join(', ');
          process.stdout.write(`  ${c.name}=${c.value} sensitive=${c.isSensitive} synonyms={${synonyms}}\n`);
        }
      }
      return;
    }
    if (entity === undefined) throw new UsageError('--alter of brokers needs --entity-name ID or --entity-default');
    const set: Record<string, string> = {};
    for (const flag of opts.addConfig ?? []) Object.assign(set, parseAddConfig(flag));
    const deletes = [...new Set((opts.deleteConfig ?? []).flatMap(parseDeleteConfig))];
    if (Object.keys(set).length === 0 && deletes.length === 0) throw new UsageError('--alter needs --add-config and/or --delete-config');
    const both = deletes.filter((name) => Object.hasOwn(set, name));
    if (both.length > 0) throw new UsageError(`config(s) both added and deleted: ${both.join(',')}`);
    if (deletes.length > 0) {
      // As kafka-configs: deleting what is not set is an error.
      const [current] = await describeBrokers(call, [entity]);
      const setNow = new Set(current!.configs.map((c) => c.name));
      const notSet = deletes.filter((name) => !setNow.has(name));
      if (notSet.length > 0) throw new InvalidConfigError(`Invalid config(s): ${notSet.join(',')} (not set on ${label(entity)})`);
    }
    const request: IncrementalAlterConfigsRequest = {
      resources: [
        {
          resourceType: ConfigResource.BROKER,
          resourceName: entity,
          configs: [
            ...Object.entries(set).map(([name, value]) => ({ name, configOperation: ConfigOperation.SET, value })),
            ...deletes.map((name) => ({ name, configOperation: ConfigOperation.DELETE, value: '' })),
          ],
        },
      ],
      validateOnly: false,
      timeoutMs: 30_000,
    };
    const res = await call<IncrementalAlterConfigsResponse__Output>((c, o, cb) => c.IncrementalAlterConfigs(request, o, cb));
    const r = res.responses.find((x) => x.resourceType === ConfigResource.BROKER && x.resourceName === entity);
    if (r === undefined) throw new Error(`the broker's answer did not mention ${label(entity)}`);
    throwIfError(r.errorCode, r.errorMessage);
    process.stdout.write(
      entity === ''
        ? 'Completed updating default config for brokers in the cluster.\n'
        : `Completed updating config for broker ${entity}.\n`,
    );
  });
}

type Call = <T>(
  fn: (client: SamsaClient, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: T) => void) => void,
) => Promise<T>;

async function describeBrokers(call: Call, names: string[]): Promise<DescribeConfigsResult__Output[]> {
  const res = await call<{ results: DescribeConfigsResult__Output[] }>((c, o, cb) =>
    c.DescribeConfigs(
      {
        resources: names.map((resourceName) => ({ resourceType: ConfigResource.BROKER, resourceName, configurationKeys: [] })),
      },
      o,
      cb,
    ),
  );
  return names.map((name) => {
    const r = res.results.find((x) => x.resourceType === ConfigResource.BROKER && x.resourceName === name);
    if (r === undefined) throw new Error(`the broker's answer did not mention broker resource '${name}'`);
    throwIfError(r.errorCode, r.errorMessage);
    return r;
  });
}

function throwIfError(code: number, message: string): void {
  if (code === ErrorCode.NONE) return;
  const name = errorInfo(code).name;
  if (name === 'INVALID_CONFIG') throw new InvalidConfigError(message || errorInfo(code).message);
  throw new Error(`${name}: ${message || errorInfo(code).message}`);
}

/**
 * Calls the first bootstrap broker that answers (each call bounded by 30 s), on a plain gRPC
 * channel: broker configs are not part of the client SDK's admin API.
 */
async function withBroker(bootstrap: string | undefined, fn: (call: Call) => Promise<void>): Promise<void> {
  const addresses = parseBootstrap(bootstrap);
  const clients = new Map<string, SamsaClient>();
  const clientFor = (address: string) => {
    let c = clients.get(address);
    if (!c) clients.set(address, (c = new (clientProto().samsa.v1.Samsa)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS)));
    return c;
  };
  const call: Call = async (f) => {
    let last: unknown;
    for (const address of addresses) {
      try {
        return await new Promise((resolve, reject) =>
          f(clientFor(address), { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res!))),
        );
      } catch (err) {
        last = err;
        const code = (err as grpc.ServiceError).code;
        if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED)
          throw new Error(`${address}: ${(err as grpc.ServiceError).details || (err as Error).message}`);
      }
    }
    const e = last as grpc.ServiceError;
    throw new Error(`no broker answered (${addresses.join(', ')}): ${e?.details || e?.message}`);
  };
  try {
    await fn(call);
  } finally {
    for (const c of clients.values()) c.close();
  }
}

const SOURCE_NAMES = {
  topic: 'DYNAMIC_TOPIC_CONFIG',
  dynamicBroker: 'DYNAMIC_BROKER_CONFIG',
  dynamicDefaultBroker: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  broker: 'STATIC_BROKER_CONFIG',
  default: 'DEFAULT_CONFIG',
} as const;

/** Kafka's line: `name=value sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:name=value, DEFAULT_CONFIG:name=default}`. */
export function formatEntry(c: ConfigEntry): string {
  const synonyms = c.synonyms.map((s) => `${SOURCE_NAMES[s.source]}:${s.name}=${s.value}`).join(', ');
  return `${c.name}=${c.sensitive ? 'null' : c.value} sensitive=${c.sensitive} synonyms={${synonyms}}`;
}

/**
 * Kafka's --add-config syntax: `k1=v1,k2=[v2a,v2b]`, commas inside square brackets belonging to
 * the value (the brackets are dropped).
 */
export function parseAddConfig(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitTopLevel(value, '--add-config')) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--add-config expects k=v[,k2=v2], got '${item}'`);
    const name = item.slice(0, eq).trim();
    let v = item.slice(eq + 1).trim();
    if (v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    if (Object.hasOwn(out, name)) throw new UsageError(`--add-config sets ${name} more than once`);
    out[name] = v;
  }
  return out;
}

export function parseDeleteConfig(value: string): string[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n.length === 0 || n.includes('=')))
    throw new UsageError(`--delete-config expects config names k[,k2], got '${value}'`);
  return names;
}

function splitTopLevel(value: string, flag: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of value) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (depth < 0) throw new UsageError(`${flag}: unbalanced ']' in '${value}'`);
    if (ch === ',' && depth === 0) {
      items.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new UsageError(`${flag}: unbalanced '[' in '${value}'`);
  items.push(current);
  if (items.some((i) => i.trim().length === 0)) throw new UsageError(`${flag} has an empty entry: '${value}'`);
  return items;
}
