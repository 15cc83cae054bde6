/**
 * DescribeConfigs for topics, answered from this broker's metadata image and its topic defaults
 * (Kafka's ConfigHelper.describeConfigs, reduced to topics): every topic config with its effective
 * value, where it comes from, and its synonyms (highest precedence first).
 */
import {
  DEFAULT_TOPIC_CONFIG, ErrorCode, TOPIC_CONFIG_KEYS, effectiveTopicConfig,
  type DescribeConfigsResourceResult, type DescribeConfigsResource__Output, type DescribeConfigsResult, type TopicConfig,
} from '@samsa/protocol';
import type { TopicInfo } from '../metadata/image.js';

/** Kafka's ConfigResource.Type values. */
export const RESOURCE_TOPIC = 2;

/** Kafka's DescribeConfigsResponse ConfigSource values used here. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/**
 * One resource of a DescribeConfigs request. `lookup` finds a topic in the local image;
 * `defaults` are the broker's topic defaults (built-in defaults overlaid with its configuration).
 * Unknown names in `configurationKeys` are left out, as Kafka does.
 */
export function describeConfigsResource(
  resource: DescribeConfigsResource__Output,
  lookup: (name: string) => TopicInfo | undefined,
  defaults: Readonly<TopicConfig>,
): DescribeConfigsResult {
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  if (resource.resourceType !== RESOURCE_TOPIC) {
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `describing configs of resource type ${resource.resourceType} is not supported (topics only: type ${RESOURCE_TOPIC})`, configs: [] };
  }
  const topic = lookup(resource.resourceName);
  if (topic === undefined) {
    return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic '${resource.resourceName}' does not exist`, configs: [] };
  }
  const wanted = resource.configurationKeys.length > 0 ? new Set(resource.configurationKeys) : undefined;
  const effective = effectiveTopicConfig(topic.configs, defaults) as unknown as Record<string, unknown>;
  const configs = [...TOPIC_CONFIG_KEYS].sort()
    .filter((name) => wanted === undefined || wanted.has(name))
    .map((name): DescribeConfigsResourceResult => {
      const synonyms: Array<{ name: string; value: string; source: number }> = [];
      const explicit = topic.configs[name];
      if (explicit !== undefined) synonyms.push({ name, value: explicit, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
      const brokerDefault = defaults[name];
      const builtIn = DEFAULT_TOPIC_CONFIG[name];
      if (brokerDefault !== builtIn) synonyms.push({ name, value: String(brokerDefault), source: ConfigSource.STATIC_BROKER_CONFIG });
      synonyms.push({ name, value: String(builtIn), source: ConfigSource.DEFAULT_CONFIG });
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
