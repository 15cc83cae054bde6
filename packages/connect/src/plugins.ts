/**
 * Connector plugins and connector-config validation, after Kafka's `Plugins` and
 * `AbstractHerder.validateConnectorConfig`: the common `ConnectorConfig` keys (plus the sink keys
 * of `SinkConnectorConfig`), the connector's own ConfigDef, and the transforms chain are validated
 * together into one `ConfigInfos`.
 */
import type { AnyConnector, ConnectorType } from './api.js';
import { ConfigDef, validators, type ConfigInfos } from './configDef.js';
import { createConverter } from './converters.js';
import { transformationChain } from './transforms.js';

export interface PluginDesc {
  class: string;
  type: ConnectorType;
  version: string;
}

export class PluginRegistry {
  private readonly byName = new Map<string, { className: string; ctor: new () => AnyConnector }>();

  /** Registered by its class name, its last dotted segment, and that without `Connector`, as Kafka's aliases. */
  register(className: string, ctor: new () => AnyConnector, aliases?: string[]): this {
    const simple = className.slice(className.lastIndexOf('.') + 1);
    for (const n of aliases ?? [simple, simple.replace(/Connector$/, '')]) this.byName.set(n, { className, ctor });
    this.byName.set(className, { className, ctor });
    return this;
  }

  find(name: string): { className: string; ctor: new () => AnyConnector } | undefined {
    return this.byName.get(name);
  }

  list(): PluginDesc[] {
    const seen = new Map<string, PluginDesc>();
    for (const { className, ctor } of this.byName.values()) {
      if (seen.has(className)) continue;
      const c = new ctor();
      seen.set(className, { class: className, type: c.type, version: c.version() });
    }
    return [...seen.values()].sort((a, b) => a.class.localeCompare(b.class));
  }
}

const CONVERTER_CHECK = (name: string, v: unknown): string | undefined => {
  if (typeof v !== 'string' || v === '') return undefined;
  try {
    createConverter(v, {});
    return undefined;
  } catch {
    return `Invalid value ${v} for configuration ${name}: Class ${v} could not be found.`;
  }
};

export function commonConfigDef(type: ConnectorType): ConfigDef {
  const def = new ConfigDef()
    .define({
      name: 'name',
      type: 'STRING',
      importance: 'HIGH',
      group: 'Common',
      documentation: 'Globally unique name to use for this connector.',
      validator: validators.nonEmptyString(),
    })
    .define({
      name: 'connector.class',
      type: 'STRING',
      importance: 'HIGH',
      group: 'Common',
      documentation: 'Name or alias of the class for this connector.',
    })
    .define({
      name: 'tasks.max',
      type: 'INT',
      defaultValue: 1,
      importance: 'HIGH',
      group: 'Common',
      documentation: 'Maximum number of tasks to use for this connector.',
      validator: validators.atLeast(1),
    })
    .define({
      name: 'key.converter',
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      group: 'Common',
      documentation: 'Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.',
      validator: CONVERTER_CHECK,
    })
    .define({
      name: 'value.converter',
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      group: 'Common',
      documentation: 'Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.',
      validator: CONVERTER_CHECK,
    })
    .define({
      name: 'transforms',
      type: 'LIST',
      defaultValue: [],
      importance: 'LOW',
      group: 'Transforms',
      documentation: 'Aliases for the transformations to be applied to records.',
    })
    .define({
      name: 'predicates',
      type: 'LIST',
      defaultValue: [],
      importance: 'LOW',
      group: 'Predicates',
      documentation: 'Aliases for the predicates used by transformations.',
    })
    .define({
      name: 'errors.retry.timeout',
      type: 'LONG',
      defaultValue: 0,
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation: 'The maximum duration in milliseconds that a failed operation will be reattempted.',
    })
    .define({
      name: 'errors.retry.delay.max.ms',
      type: 'LONG',
      defaultValue: 60000,
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation: 'The maximum duration in milliseconds between consecutive retry attempts.',
    })
    .define({
      name: 'errors.tolerance',
      type: 'STRING',
      defaultValue: 'none',
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation: 'Behavior for tolerating errors during connector operation.',
      validator: validators.in('none', 'all'),
    })
    .define({
      name: 'errors.log.enable',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation: 'If true, write each error and the details of the failed operation to the log.',
    })
    .define({
      name: 'errors.log.include.messages',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation: 'Whether to include in the log the Connect record that resulted in a failure.',
    });
  if (type === 'source') return def;
  return def
    .define({
      name: 'topics',
      type: 'LIST',
      defaultValue: [],
      importance: 'HIGH',
      group: 'Common',
      documentation: 'List of topics to consume, separated by commas',
    })
    .define({
      name: 'topics.regex',
      type: 'STRING',
      defaultValue: '',
      importance: 'HIGH',
      group: 'Common',
      documentation: 'Regular expression giving topics to consume.',
    })
    .define({
      name: 'errors.deadletterqueue.topic.name',
      type: 'STRING',
      defaultValue: '',
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation:
        'The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector.',
    })
    .define({
      name: 'errors.deadletterqueue.topic.replication.factor',
      type: 'INT',
      defaultValue: 3,
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation: "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
      validator: validators.atLeast(1),
    })
    .define({
      name: 'errors.deadletterqueue.context.headers.enable',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Error Handling',
      documentation: 'If true, add headers containing error context to the messages written to the dead letter queue.',
    });
}

/**
 * Validates a connector config as the REST validate endpoint and connector creation do. An unknown
 * `connector.class` gives `unknownClass` (Kafka answers that with a 400 before any ConfigInfos).
 */
export function validateConnectorConfig(
  plugins: PluginRegistry,
  props: Record<string, string>,
): { infos?: ConfigInfos; unknownClass?: string; errors: string[] } {
  const className = props['connector.class'];
  if (className === undefined || className === '')
    return {
      errors: [
        'Connector config {' +
          Object.entries(props)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') +
          '} contains no connector type',
      ],
      unknownClass: '',
    };
  const plugin = plugins.find(className);
  if (!plugin)
    return { errors: [`Failed to find any class that implements Connector and which name matches ${className}`], unknownClass: className };
  const connector = new plugin.ctor();
  const infos = commonConfigDef(connector.type).merge(connector.config()).infos(plugin.className, props);
  const extra = (key: string, message: string) => {
    const c = infos.configs.find((x) => x.definition.name === key);
    if (c && c.value.errors.length === 0) infos.error_count++;
    c?.value.errors.push(message);
  };
  if (connector.type === 'sink') {
    const hasTopics = (props.topics ?? '').trim() !== '';
    const hasRegex = (props['topics.regex'] ?? '').trim() !== '';
    if (hasTopics === hasRegex) {
      const msg = hasTopics
        ? 'topics and topics.regex are mutually exclusive options, but both are set.'
        : 'Must configure one of topics or topics.regex';
      extra('topics', msg);
      extra('topics.regex', msg);
    }
    const dlq = (props['errors.deadletterqueue.topic.name'] ?? '').trim();
    if (
      dlq !== '' &&
      (props.topics ?? '')
        .split(',')
        .map((s) => s.trim())
        .includes(dlq)
    ) {
      extra(
        'topics',
        `The DLQ topic '${dlq}' may not be included in the list of topics ('topics=${props.topics}') consumed by the connector`,
      );
    }
  }
  try {
    transformationChain(props);
  } catch (err) {
    extra('transforms', err instanceof Error ? err.message : String(err));
  }
  const errors = infos.configs.flatMap((c) => c.value.errors);
  return { infos, errors };
}
