/**
 * Input rules the controller applies before it writes anything. Topic names and topic configs
 * follow the one definition in @samsa/metadata (shared with the broker, which interprets the
 * configs); only the collision rule is the controller's own.
 */
import { validateTopicConfigs, type TopicConfig } from '@samsa/metadata';

export { MAX_TOPIC_NAME_LENGTH, TOPIC_CONFIG_KEYS, validateTopicName } from '@samsa/metadata';

/** Kafka's Topic.unifyCollisionChars: 'a.b' and 'a_b' collide (their metric names would be equal). */
export function topicCollisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

/**
 * Validates explicitly set topic configs and returns them normalised; throws a
 * SamsaProtocolError (INVALID_CONFIG) for an unknown key or a malformed value.
 */
export type TopicConfigValidator = (configs: Readonly<Record<string, string>>) => Record<string, string>;

/** The default TopicConfigValidator: the topic configs Samsa honours (keys of TopicConfig). */
export const validateKnownTopicConfigs: TopicConfigValidator = validateTopicConfigs;

export type { TopicConfig };
