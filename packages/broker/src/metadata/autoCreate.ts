/**
 * Auto topic creation, shared by the Kafka listener's Metadata and the gRPC Metadata (Kafka's
 * AutoTopicCreationManager, as KafkaApis.handleTopicMetadataRequest uses it): a Metadata request
 * that names a missing topic, with allow_auto_topic_creation and the broker's
 * auto.create.topics.enable both on, has the controller create it with its num.partitions and
 * default.replication.factor (-1 here). The entry answers LEADER_NOT_AVAILABLE, retriable, so the
 * client asks again and finds the topic once this broker has replayed it.
 *
 * Internal topics (`__` names) are never created this way: their owners (the group coordinator)
 * create them with their own partition count and configs.
 */
import { ErrorCode } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { MetadataSource } from './image.js';

/** Kafka's legal topic names: 1-249 of [a-zA-Z0-9._-], not '.' or '..'. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export function isLegalTopicName(name: string): boolean {
  return LEGAL_TOPIC.test(name) && name !== '.' && name !== '..';
}

/** Whether Metadata may create `name`: a legal name that is not an internal (`__`) one. */
export function isAutoCreatable(name: string): boolean {
  return isLegalTopicName(name) && !name.startsWith('__');
}

/**
 * Asks the controller to create `names` with its defaults and returns, per name, the error code
 * the Metadata entry answers: LEADER_NOT_AVAILABLE while it is being created (or already exists:
 * another request created it first), the controller's code when creation failed for good.
 */
export async function autoCreateTopics(metadata: MetadataSource, names: readonly string[], logger: Logger): Promise<Map<string, number>> {
  const answers = new Map<string, number>();
  if (names.length === 0) return answers;
  const results = await metadata
    .createTopics(
      names.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, configs: {} })),
      false,
    )
    .catch((err: unknown) =>
      names.map((name) => ({ name, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error).message })),
    );
  for (const name of names) answers.set(name, ErrorCode.LEADER_NOT_AVAILABLE);
  for (const r of results) {
    if (r.errorCode === 0 || r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) continue;
    logger.warn(
      { topic: r.name, errorCode: r.errorCode, error: 'errorMessage' in r ? r.errorMessage : '' },
      'auto-creating a topic failed',
    );
    // Too few brokers for default.replication.factor may pass: the client keeps asking (Kafka answers the same).
    answers.set(r.name, r.errorCode === ErrorCode.INVALID_REPLICATION_FACTOR ? ErrorCode.LEADER_NOT_AVAILABLE : r.errorCode);
  }
  return answers;
}
