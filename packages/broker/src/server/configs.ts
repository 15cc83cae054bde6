/**
 * DescribeConfigs for topics and brokers, answered from this broker's metadata image and its topic
 * defaults (Kafka's ConfigHelper.describeConfigs, reduced): every topic config with its effective
 * value, where it comes from, and its synonyms (highest precedence first); a broker's dynamic configs.
 */
import {
  BROKER_TOPIC_CONFIG_SYNONYMS,
  DEFAULT_TOPIC_CONFIG,
  TOPIC_CONFIG_KEYS,
  effectiveTopicConfig,
  type TopicConfig,
} from '@samsa/metadata';
import {
  ConfigResource,
  ErrorCode,
  type DescribeConfigsResourceResult,
  type DescribeConfigsResource__Output,
  type DescribeConfigsResult,
} from '@samsa/protocol';
import type { TopicInfo } from '../metadata/image.js';

/** Kafka's DescribeConfigsResponse ConfigSource values used here. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** Where a broker's topic defaults come from, lowest precedence last. */
export interface TopicDefaultLayers {
  /** Built-in defaults overlaid with the node's settings. */
  staticDefaults: Readonly<TopicConfig>;
  /** Dynamic broker configs (broker names) of this broker and of the cluster-wide default. */
  broker: Readonly<Record<string, string>>;
  clusterDefault: Readonly<Record<string, string>>;
}

const TOPIC_TO_BROKER_KEY = new Map(Object.entries(BROKER_TOPIC_CONFIG_SYNONYMS).map(([broker, topic]) => [topic, broker]));

/**
 * One resource of a DescribeConfigs request. Topics: `lookup` finds a topic in the local image,
 * every topic config with its effective value and synonyms (topic, this broker's dynamic config,
 * the cluster-wide dynamic default, the node's setting, the built-in default). Brokers (resource
 * name = a broker id, or '' for the cluster-wide default): the dynamic configs set on it, as
 * `samsa configs --describe --entity-type brokers` shows them. Unknown names in
 * `configurationKeys` are left out, as Kafka does.
 */
export function describeConfigsResource(
  resource: DescribeConfigsResource__Output,
  lookup: (name: string) => TopicInfo | undefined,
  layers: TopicDefaultLayers,
  brokerConfigs: (resourceName: string) => Readonly<Record<string, string>> = () => ({}),
): DescribeConfigsResult {
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  const wanted = resource.configurationKeys.length > 0 ? new Set(resource.configurationKeys) : undefined;
  if (resource.resourceType === ConfigResource.BROKER) {
    const name = resource.resourceName;
    if (name !== '' && !/^(0|[1-9]\d{0,9})$/.test(name)) {
      return {
        ...base,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `a broker config resource is a broker id or '' (the cluster-wide default), got '${name}'`,
        configs: [],
      };
    }
    const own = brokerConfigs(name);
    const clusterDefault = name === '' ? {} : brokerConfigs('');
    const source = name === '' ? ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG : ConfigSource.DYNAMIC_BROKER_CONFIG;
    const configs = Object.keys(own)
      .sort()
      .filter((key) => wanted === undefined || wanted.has(key))
      .map((key): DescribeConfigsResourceResult => {
        const synonyms = [{ name: key, value: own[key]!, source }];
        if (clusterDefault[key] !== undefined)
          synonyms.push({ name: key, value: clusterDefault[key]!, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
        return { name: key, value: own[key]!, readOnly: false, configSource: source, isSensitive: false, synonyms };
      });
    return { ...base, errorCode: 0, errorMessage: '', configs };
  }
  if (resource.resourceType !== ConfigResource.TOPIC) {
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `describing configs of resource type ${resource.resourceType} is not supported (topics: type ${ConfigResource.TOPIC}, brokers: type ${ConfigResource.BROKER})`,
      configs: [],
    };
  }
  const topic = lookup(resource.resourceName);
  if (topic === undefined) {
    return {
      ...base,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `topic '${resource.resourceName}' does not exist`,
      configs: [],
    };
  }
  const defaults = layers.staticDefaults;
  const configs = [...TOPIC_CONFIG_KEYS]
    .sort()
    .filter((name) => wanted === undefined || wanted.has(name))
    .map((name): DescribeConfigsResourceResult => {
      const synonyms: Array<{ name: string; value: string; source: number }> = [];
      const explicit = topic.configs[name];
      if (explicit !== undefined) synonyms.push({ name, value: explicit, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
      const brokerKey = TOPIC_TO_BROKER_KEY.get(name);
      const dynamicBroker = brokerKey === undefined ? undefined : layers.broker[brokerKey];
      if (dynamicBroker !== undefined)
        synonyms.push({ name: brokerKey!, value: dynamicBroker, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
      const dynamicDefault = brokerKey === undefined ? undefined : layers.clusterDefault[brokerKey];
      if (dynamicDefault !== undefined)
        synonyms.push({ name: brokerKey!, value: dynamicDefault, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
      const staticDefault = defaults[name];
      const builtIn = DEFAULT_TOPIC_CONFIG[name];
      if (staticDefault !== builtIn) synonyms.push({ name, value: String(staticDefault), source: ConfigSource.STATIC_BROKER_CONFIG });
      synonyms.push({ name, value: String(builtIn), source: ConfigSource.DEFAULT_CONFIG });
      // The first synonym wins; parse it as the topic config it stands for.
      const effective = effectiveTopicConfig({ [name]: synonyms[0]!.value }, defaults) as unknown as Record<string, unknown>;
      return {
        name,
        value: String(effective[name]),
        // Every topic config can be altered at runtime.
        readOnly: false,
        configSource: synonyms[0]!.source,
        isSensitive: false,
        synonyms,
      };
    });
  return { ...base, errorCode: 0, errorMessage: '', configs };
}
