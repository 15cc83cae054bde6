/**
 * Administration over the Kafka wire protocol: CreateTopics, DeleteTopics, DescribeConfigs,
 * AlterConfigs, IncrementalAlterConfigs, ElectLeaders, AlterPartitionReassignments (forwarded to the active controller through
 * the broker's MetadataSource, from whichever broker receives them, as KRaft brokers forward),
 * DeleteRecords (the partition leader moves its log start offset, as Kafka's leader does) and
 * DescribeLogDirs (this broker's replicas); ListPartitionReassignments answers from this broker's
 * metadata image.
 *
 * CreatePartitions is forwarded as well (the controller places the new partitions; explicit
 * replica assignments are refused with INVALID_REQUEST). AlterConfigs (the legacy,
 * non-incremental form) replaces a topic's whole config set, which is an IncrementalAlterConfigs
 * of SET for each given config and DELETE for each other explicit one.
 */
import { ApiKey } from '@samsa/kafka';
import { AclOperation } from '@samsa/metadata';
import { ConfigResource, ErrorCode, nestByTopic, protocolError } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { MetadataSource } from '../metadata/image.js';
import { errorOf, type ReplicaManager } from '../replicaManager.js';
import { describeConfigsResource } from '../server/configs.js';
import type { RequestAuthorizer, RequestIdentity } from '../security/authorizerService.js';
import { type KafkaApiHandler } from './kafkaApis.js';
import { kafkaTopicId } from './metadataApis.js';

export interface AdminApisDeps {
  metadata: MetadataSource;
  replicaManager: ReplicaManager;
  logger: Logger;
  dataDir: string;
  authorizer: RequestAuthorizer;
}

/**
 * DescribeConfigs / AlterConfigs: DESCRIBE_CONFIGS or ALTER_CONFIGS on the topic, or on the
 * cluster for broker resources. The error code of a denial, or undefined when allowed (other
 * resource types are refused later as unsupported).
 */
export function configResourceDenied(
  authorizer: RequestAuthorizer,
  who: RequestIdentity,
  operation: number,
  resourceType: number,
  resourceName: string,
): number | undefined {
  if (resourceType === ConfigResource.TOPIC)
    return authorizer.topic(who, operation, resourceName) ? undefined : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  if (resourceType === ConfigResource.BROKER)
    return authorizer.cluster(who, operation) ? undefined : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  return undefined;
}

const DENIED_SENTENCE = 'Authorization failed: the principal lacks the ACL this operation needs';

type Str = string | null | undefined;

interface CreateTopicsRequest {
  topics: Array<{
    name: string;
    numPartitions: number;
    replicationFactor: number;
    assignments: Array<{ partitionIndex: number; brokerIds: number[] }>;
    configs: Array<{ name: string; value: Str }>;
  }>;
  timeoutMs: number;
  validateOnly?: boolean;
}
interface DeleteTopicsRequest {
  topicNames?: string[];
  topics?: Array<{ name: Str; topicId: string }>;
  timeoutMs: number;
}
interface DescribeConfigsRequest {
  resources: Array<{ resourceType: number; resourceName: string; configurationKeys: string[] | null }>;
  includeSynonyms?: boolean;
  includeDocumentation?: boolean;
}
interface AlterConfigsRequest {
  resources: Array<{ resourceType: number; resourceName: string; configs: Array<{ name: string; value: Str }> }>;
  validateOnly: boolean;
}
interface IncrementalAlterConfigsRequest {
  resources: Array<{ resourceType: number; resourceName: string; configs: Array<{ name: string; configOperation: number; value: Str }> }>;
  validateOnly: boolean;
}
interface AlterPartitionReassignmentsRequest {
  timeoutMs: number;
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; replicas: number[] | null }> }>;
}

interface ListPartitionReassignmentsRequest {
  timeoutMs: number;
  topics: Array<{ name: string; partitionIndexes: number[] }> | null;
}

interface ElectLeadersRequest {
  electionType?: number;
  topicPartitions: Array<{ topic: string; partitions: number[] }> | null;
  timeoutMs: number;
}
interface CreatePartitionsRequest {
  topics: Array<{ name: string; count: number; assignments?: unknown[] | null }>;
  timeoutMs: number;
  validateOnly: boolean;
}
interface DeleteRecordsRequest {
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; offset: bigint }> }>;
  timeoutMs: number;
}
interface DescribeLogDirsRequest {
  topics: Array<{ topic: string; partitions: number[] }> | null;
}

/** Kafka's IncrementalAlterConfigs operations Samsa supports: 0 SET, 1 DELETE. */
const OP_SET = 0;
const OP_DELETE = 1;

export function adminApis(deps: AdminApisDeps): KafkaApiHandler[] {
  const { metadata, replicaManager, logger, authorizer } = deps;
  const timeoutOf = (ms: number) => (ms > 0 ? ms : undefined);

  const createTopics: KafkaApiHandler = {
    apiKey: ApiKey.CreateTopics,
    minVersion: 0,
    maxVersion: 7,
    async handle(req: CreateTopicsRequest, ctx) {
      // CREATE on the cluster, or else on each topic.
      const clusterCreate = authorizer.cluster(ctx.identity, AclOperation.CREATE, false);
      const denied = req.topics.filter((t) => !clusterCreate && !authorizer.topic(ctx.identity, AclOperation.CREATE, t.name));
      const manual = req.topics.filter((t) => t.assignments.length > 0 && !denied.includes(t));
      const asked = req.topics.filter((t) => t.assignments.length === 0 && !denied.includes(t));
      const results =
        asked.length === 0
          ? []
          : await metadata.createTopics(
              asked.map((t) => ({
                name: t.name,
                numPartitions: t.numPartitions,
                replicationFactor: t.replicationFactor,
                configs: Object.fromEntries(
                  t.configs.filter((c) => c.value !== null && c.value !== undefined).map((c) => [c.name, c.value as string]),
                ),
              })),
              req.validateOnly ?? false,
              timeoutOf(req.timeoutMs),
            );
      return {
        throttleTimeMs: 0,
        topics: [
          ...results.map((r) => {
            if (r.errorCode === 0 && 'topic' in r) {
              return {
                name: r.name,
                topicId: kafkaTopicId(r.topic.topicId),
                errorCode: 0,
                errorMessage: null,
                numPartitions: r.topic.partitions.length,
                replicationFactor: r.topic.partitions[0]?.replicas.length ?? -1,
                configs: Object.entries(r.topic.configs).map(([name, value]) => ({
                  name,
                  value,
                  readOnly: false,
                  configSource: 1,
                  isSensitive: false,
                })),
              };
            }
            return {
              name: r.name,
              topicId: kafkaTopicId(''),
              errorCode: r.errorCode,
              errorMessage: 'errorMessage' in r ? r.errorMessage : null,
              numPartitions: -1,
              replicationFactor: -1,
              configs: [],
            };
          }),
          ...denied.map((t) => ({
            name: t.name,
            topicId: kafkaTopicId(''),
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: DENIED_SENTENCE,
            numPartitions: -1,
            replicationFactor: -1,
            configs: [],
          })),
          // Samsa places replicas itself; a manual assignment is refused rather than ignored.
          ...manual.map((t) => ({
            name: t.name,
            topicId: kafkaTopicId(''),
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: 'manual replica assignments are not supported: give numPartitions and replicationFactor',
            numPartitions: -1,
            replicationFactor: -1,
            configs: [],
          })),
        ],
      };
    },
  };

  const deleteTopics: KafkaApiHandler = {
    apiKey: ApiKey.DeleteTopics,
    minVersion: 0,
    maxVersion: 6,
    async handle(req: DeleteTopicsRequest, ctx) {
      const byId = new Map(metadata.topics().map((t) => [kafkaTopicId(t.topicId), t.name]));
      const unknownIds: Array<{ name: null; topicId: string; errorCode: number; errorMessage: string }> = [];
      const names: string[] = req.topicNames ?? [];
      for (const t of req.topics ?? []) {
        if (t.name) names.push(t.name);
        else if (byId.has(t.topicId)) names.push(byId.get(t.topicId)!);
        else
          unknownIds.push({
            name: null,
            topicId: t.topicId,
            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
            errorMessage: `no topic has id ${t.topicId}`,
          });
      }
      const ids = new Map(names.map((n) => [n, metadata.topic(n)?.topicId ?? '']));
      const deletable = names.filter((n) => authorizer.topic(ctx.identity, AclOperation.DELETE, n));
      const results = deletable.length === 0 ? [] : await metadata.deleteTopics(deletable, timeoutOf(req.timeoutMs));
      return {
        throttleTimeMs: 0,
        responses: [
          ...names
            .filter((n) => !deletable.includes(n))
            .map((name) => ({
              name,
              topicId: kafkaTopicId(ids.get(name) ?? ''),
              errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              errorMessage: DENIED_SENTENCE,
            })),
          ...results.map((r) => ({
            name: r.name,
            topicId: kafkaTopicId(ids.get(r.name) ?? ''),
            errorCode: r.errorCode,
            errorMessage: r.errorCode === 0 ? null : (r.errorMessage ?? null),
          })),
          ...unknownIds,
        ],
      };
    },
  };

  const describeConfigs: KafkaApiHandler = {
    apiKey: ApiKey.DescribeConfigs,
    minVersion: 0,
    maxVersion: 4,
    handle(req: DescribeConfigsRequest, ctx) {
      return {
        throttleTimeMs: 0,
        results: req.resources.map((r) => {
          const denied = configResourceDenied(authorizer, ctx.identity, AclOperation.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
          if (denied !== undefined)
            return {
              errorCode: denied,
              errorMessage: DENIED_SENTENCE,
              resourceType: r.resourceType,
              resourceName: r.resourceName,
              configs: [],
            };
          const d = describeConfigsResource(
            { resourceType: r.resourceType, resourceName: r.resourceName, configurationKeys: r.configurationKeys ?? [] },
            (name) => metadata.topic(name),
            {
              staticDefaults: replicaManager.staticTopicDefaults,
              broker: metadata.brokerConfigs(String(replicaManager.brokerId)),
              clusterDefault: metadata.brokerConfigs(''),
            },
            (name) => metadata.brokerConfigs(name),
          );
          return {
            errorCode: d.errorCode,
            errorMessage: d.errorCode === 0 ? null : d.errorMessage,
            resourceType: d.resourceType,
            resourceName: d.resourceName,
            configs: (d.configs ?? []).map((c) => ({
              name: c.name,
              value: c.value,
              readOnly: c.readOnly,
              configSource: c.configSource,
              // v0 has is_default instead of a source.
              isDefault: c.configSource === 5,
              isSensitive: c.isSensitive,
              synonyms: req.includeSynonyms ? c.synonyms : [],
              configType: 0,
              documentation: null,
            })),
          };
        }),
      };
    },
  };

  const alter = async (
    who: RequestIdentity,
    all: Array<{ resourceType: number; resourceName: string; configs: Array<{ name: string; operation: number; value: string }> }>,
    validateOnly: boolean,
  ) => {
    const denials = all.map((r) => configResourceDenied(authorizer, who, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName));
    const resources = all.filter((_, i) => denials[i] === undefined);
    const refused = all
      .filter((_, i) => denials[i] !== undefined)
      .map((r) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        errorCode: denials[all.indexOf(r)]!,
        errorMessage: DENIED_SENTENCE,
      }));
    if (resources.length === 0) return refused;
    return [...refused, ...(await metadata.incrementalAlterConfigs(resources, validateOnly))];
  };

  const incrementalAlterConfigs: KafkaApiHandler = {
    apiKey: ApiKey.IncrementalAlterConfigs,
    minVersion: 0,
    maxVersion: 1,
    async handle(req: IncrementalAlterConfigsRequest, ctx) {
      const unsupported = req.resources.filter((r) =>
        r.configs.some((c) => c.configOperation !== OP_SET && c.configOperation !== OP_DELETE),
      );
      const supported = req.resources.filter((r) => !unsupported.includes(r));
      const results = await alter(
        ctx.identity,
        supported.map((r) => ({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: r.configs.map((c) => ({ name: c.name, operation: c.configOperation, value: c.value ?? '' })),
        })),
        req.validateOnly,
      );
      return {
        throttleTimeMs: 0,
        responses: [
          ...results.map((r) => ({
            errorCode: r.errorCode,
            errorMessage: r.errorCode === 0 ? null : r.errorMessage,
            resourceType: r.resourceType,
            resourceName: r.resourceName,
          })),
          ...unsupported.map((r) => ({
            errorCode: ErrorCode.INVALID_CONFIG,
            errorMessage:
              'only SET (0) and DELETE (1) are supported; APPEND and SUBTRACT apply to list configs, which Samsa topics do not have',
            resourceType: r.resourceType,
            resourceName: r.resourceName,
          })),
        ],
      };
    },
  };

  const alterConfigs: KafkaApiHandler = {
    apiKey: ApiKey.AlterConfigs,
    minVersion: 0,
    maxVersion: 2,
    async handle(req: AlterConfigsRequest, ctx) {
      const resources = req.resources.map((r) => {
        const given = new Map(r.configs.filter((c) => c.value !== null && c.value !== undefined).map((c) => [c.name, c.value as string]));
        const current =
          r.resourceType === ConfigResource.TOPIC
            ? (metadata.topic(r.resourceName)?.configs ?? {})
            : metadata.brokerConfigs(r.resourceName);
        const configs = [
          ...[...given].map(([name, value]) => ({ name, operation: OP_SET, value })),
          // The legacy AlterConfigs replaces the whole set: what is not given goes back to its default.
          ...Object.keys(current)
            .filter((name) => !given.has(name))
            .map((name) => ({ name, operation: OP_DELETE, value: '' })),
        ];
        return { resourceType: r.resourceType, resourceName: r.resourceName, configs };
      });
      const results = await alter(ctx.identity, resources, req.validateOnly);
      return {
        throttleTimeMs: 0,
        responses: results.map((r) => ({
          errorCode: r.errorCode,
          errorMessage: r.errorCode === 0 ? null : r.errorMessage,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
        })),
      };
    },
  };

  const electLeaders: KafkaApiHandler = {
    apiKey: ApiKey.ElectLeaders,
    minVersion: 0,
    maxVersion: 2,
    async handle(req: ElectLeadersRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.ALTER))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults: [] };
      const partitions = (req.topicPartitions ?? []).flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
      const results = await metadata.electLeaders(req.electionType ?? 0, partitions, timeoutOf(req.timeoutMs));
      const byTopic = nestByTopic(results, (r) => ({
        partitionId: r.partition,
        errorCode: r.errorCode,
        errorMessage: r.errorCode === 0 ? null : r.errorMessage,
      }));
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        replicaElectionResults: byTopic.map(({ name, partitions }) => ({ topic: name, partitionResult: partitions })),
      };
    },
  };

  // KIP-455: ALTER on the cluster to change reassignments, DESCRIBE on the cluster to list them.
  const alterPartitionReassignments: KafkaApiHandler = {
    apiKey: ApiKey.AlterPartitionReassignments,
    minVersion: 0,
    maxVersion: 0,
    async handle(req: AlterPartitionReassignmentsRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.ALTER))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED_SENTENCE, responses: [] };
      const items = req.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas === null ? null : [...p.replicas] })),
      );
      const results = await metadata.alterPartitionReassignments(items, timeoutOf(req.timeoutMs));
      const byTopic = nestByTopic(results, (r) => ({
        partitionIndex: r.partition,
        errorCode: r.errorCode,
        errorMessage: r.errorCode === 0 ? null : r.errorMessage,
      }));
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses: byTopic };
    },
  };

  const listPartitionReassignments: KafkaApiHandler = {
    apiKey: ApiKey.ListPartitionReassignments,
    minVersion: 0,
    maxVersion: 0,
    handle(req: ListPartitionReassignmentsRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.DESCRIBE))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED_SENTENCE, topics: [] };
      const asked =
        req.topics === null ? undefined : req.topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
      const ongoing = metadata.listPartitionReassignments(asked);
      const byTopic = nestByTopic(ongoing, (o) => ({
        partitionIndex: o.partition,
        replicas: [...o.replicas],
        addingReplicas: [...o.addingReplicas],
        removingReplicas: [...o.removingReplicas],
      }));
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: byTopic };
    },
  };

  const createPartitions: KafkaApiHandler = {
    apiKey: ApiKey.CreatePartitions,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: CreatePartitionsRequest, ctx) {
      const denied = req.topics.filter((t) => !authorizer.topic(ctx.identity, AclOperation.ALTER, t.name));
      const asked = req.topics.filter((t) => !denied.includes(t));
      // Manual replica assignments (kafka-topics --replica-assignment) are not supported: the controller places.
      const manual = asked.filter((t) => t.assignments !== null && t.assignments !== undefined);
      const placed = asked.filter((t) => t.assignments === null || t.assignments === undefined);
      const results = await metadata.createPartitions(
        placed.map((t) => ({ name: t.name, count: t.count })),
        req.validateOnly,
        timeoutOf(req.timeoutMs),
      );
      return {
        throttleTimeMs: 0,
        results: [
          ...denied.map((t) => ({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: DENIED_SENTENCE })),
          ...results.map((r) => ({
            name: r.name,
            errorCode: r.errorCode,
            errorMessage: r.errorCode === 0 ? null : (r.errorMessage ?? null),
          })),
          ...manual.map((t) => ({
            name: t.name,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: 'explicit replica assignments are not supported; the controller places new partitions',
          })),
        ],
      };
    },
  };

  const deleteRecords: KafkaApiHandler = {
    apiKey: ApiKey.DeleteRecords,
    minVersion: 0,
    maxVersion: 2,
    handle(req: DeleteRecordsRequest, ctx) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            try {
              if (!authorizer.topic(ctx.identity, AclOperation.DELETE, t.name))
                throw protocolError('TOPIC_AUTHORIZATION_FAILED', DENIED_SENTENCE);
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: replicaManager.deleteRecords(t.name, p.partitionIndex, p.offset),
                errorCode: 0,
              };
            } catch (err) {
              return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: errorOf(err, logger).errorCode };
            }
          }),
        })),
      };
    },
  };

  const describeLogDirs: KafkaApiHandler = {
    apiKey: ApiKey.DescribeLogDirs,
    minVersion: 0,
    maxVersion: 4,
    handle(req: DescribeLogDirsRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.DESCRIBE))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
      const wanted = req.topics === null ? undefined : new Map(req.topics.map((t) => [t.topic, new Set(t.partitions)]));
      const local = [...replicaManager.localPartitions()].filter(
        (p) => !p.log.isClosed && (wanted === undefined || wanted.get(p.topic)?.has(p.partition) === true),
      );
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        results: [
          {
            errorCode: 0,
            logDir: deps.dataDir,
            topics: nestByTopic(local, (p) => ({
              partitionIndex: p.partition,
              partitionSize: BigInt(p.log.size),
              offsetLag: 0n,
              isFutureKey: false,
            })),
            // Unknown (-1) as Kafka answers when the volume cannot be measured.
            totalBytes: -1n,
            usableBytes: -1n,
          },
        ],
      };
    },
  };

  return [
    createTopics,
    deleteTopics,
    describeConfigs,
    alterConfigs,
    incrementalAlterConfigs,
    electLeaders,
    alterPartitionReassignments,
    listPartitionReassignments,
    createPartitions,
    deleteRecords,
    describeLogDirs,
  ];
}
