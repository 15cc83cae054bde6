/**
 * `samsa configs`: kafka-configs for topics, with Kafka's flags.
 *
 *   samsa configs --bootstrap-server H:P --entity-type topics --entity-name T --describe [--all]
 *   samsa configs --bootstrap-server H:P --entity-type topics --entity-name T --alter \
 *       [--add-config k=v[,k2=[a,b]]] [--delete-config k[,k2]]
 *
 * --describe prints, as Kafka does, the configs set on the topic ("Dynamic configs for topic T
 * are:"), or every config with --all, one `  name=value sensitive=false synonyms={...}` line
 * each. --alter answers "Completed updating config for topic T." once the broker applied the
 * change. As in Kafka, deleting a config that is not set on the topic is an error.
 */
import { InvalidConfigError, type ConfigEntry } from '@samsa/client';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';

interface ConfigsOptions {
  bootstrapServer?: string;
  entityType?: string;
  entityName?: string;
  topic?: string;
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
    .description('describe or alter topic configs (kafka-configs)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--entity-type <type>', 'the kind of entity: topics (the only one supported)')
    .option('--entity-name <name>', 'the topic; --describe without it describes every topic')
    .option('--topic <name>', 'shorthand for --entity-type topics --entity-name <name>')
    .option('--describe', 'print the configs set on the topic (every config with --all)')
    .option('--all', 'with --describe: every config, defaults included')
    .option('--alter', 'change configs (with --add-config and/or --delete-config)')
    .option('--add-config <k=v,...>', "configs to set: k1=v1,k2=[v2,v3] (brackets for values with commas; repeatable)", collect)
    .option('--delete-config <k,...>', 'configs to remove, so they fall back to the default (repeatable)', collect)
    .action(async (opts: ConfigsOptions) => {
      const actions = (['describe', 'alter'] as const).filter((a) => opts[a]);
      if (actions.length !== 1) throw new UsageError('exactly one of --describe or --alter is required');
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
  if (opts.entityType === undefined) throw new UsageError('--entity-type is required (topics)');
  if (opts.entityType !== 'topics') throw new UsageError(`--entity-type must be topics (the only entity type Samsa supports), got '${opts.entityType}'`);
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

const SOURCE_NAMES = { topic: 'DYNAMIC_TOPIC_CONFIG', broker: 'STATIC_BROKER_CONFIG', default: 'DEFAULT_CONFIG' } as const;

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
  if (names.some((n) => n.length === 0 || n.includes('='))) throw new UsageError(`--delete-config expects config names k[,k2], got '${value}'`);
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
