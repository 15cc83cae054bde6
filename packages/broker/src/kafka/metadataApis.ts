/**
 * ApiVersions, Metadata and DescribeCluster over the Kafka wire protocol (Kafka's
 * KafkaApis.handleApiVersionsRequest / handleTopicMetadataRequest / handleDescribeCluster).
 *
 * Addresses: each broker's advertised address on the listener the request arrived on, as the gRPC
 * Metadata does. controller_id: this broker. Clients send admin requests (CreateTopics, ...) to
 * the controller id, and every Samsa broker forwards them to the active controller, which no
 * client can reach directly (KRaft brokers answer the same way).
 *
 * Topic ids: the controller gives every topic a UUID in its Topic record; Kafka's wire form is
 * the same 16 bytes (its text form base64url, 22 characters).
 */
import { ApiKey, isValidClientSoftware } from '@samsa/kafka';
import { AclOperation, endpointFor } from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import type { Logger } from 'pino';
import { autoCreateTopics, isAutoCreatable, isLegalTopicName } from '../metadata/autoCreate.js';
import type { BrokerInfo, MetadataSource, TopicInfo } from '../metadata/image.js';
import type { RequestAuthorizer } from '../security/authorizerService.js';
import { type KafkaApiHandler, type KafkaRequestContext } from './kafkaApis.js';

export interface MetadataApisDeps {
  brokerId: number;
  metadata: MetadataSource;
  logger: Logger;
  /** Kafka's auto.create.topics.enable. */
  autoCreateTopicsEnable: boolean;
  /** The listener name Metadata answers addresses on, from the connection's listener (undefined: registered host:port). */
  listenerNameOf: (connectionListener: string) => string | undefined;
  /** What ApiVersions lists (KafkaApis.advertised); read when a request comes. */
  advertised: () => ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>;
  authorizer: RequestAuthorizer;
}

/** Kafka's "authorized operations not asked for". */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Samsa's topic id (RFC 4122 text) in Kafka's Uuid text form. */
export function kafkaTopicId(topicId: string): string {
  const hex = topicId.replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex').toString('base64url') : ZERO_UUID;
}

interface MetadataRequest {
  topics: Array<{ topicId?: string; name: string | null }> | null;
  allowAutoTopicCreation?: boolean;
}

interface ApiVersionsRequest {
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
}

export function metadataApis(deps: MetadataApisDeps): KafkaApiHandler[] {
  const { metadata } = deps;

  const brokersOn = (ctx: KafkaRequestContext) => {
    const listener = deps.listenerNameOf(ctx.connection.listenerName);
    return metadata.brokers().flatMap((b: BrokerInfo) => {
      const at = endpointFor(b, listener);
      return at === undefined ? [] : [{ nodeId: b.nodeId, host: at.host, port: at.port, rack: b.rack ?? null }];
    });
  };

  const describeTopic = (topic: TopicInfo, live: Set<number>) => ({
    errorCode: 0,
    name: topic.name,
    topicId: kafkaTopicId(topic.topicId),
    isInternal: topic.isInternal,
    partitions: topic.partitions.map((p) => ({
      errorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: p.replicas.filter((r) => !live.has(r)),
    })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  });

  const missingTopic = (name: string | null, topicId: string, errorCode: number) => ({
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  });

  const apiVersions: KafkaApiHandler = {
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 3,
    handle(req: ApiVersionsRequest, ctx) {
      const apiKeys = [...deps.advertised()];
      // KIP-511: v3+ names the client software; a malformed name or version is INVALID_REQUEST.
      if (ctx.header.apiVersion >= 3 && !isValidClientSoftware(req.clientSoftwareName ?? '', req.clientSoftwareVersion ?? '')) {
        return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys, throttleTimeMs: 0 };
      }
      return { errorCode: 0, apiKeys, throttleTimeMs: 0 };
    },
  };

  const metadataApi: KafkaApiHandler = {
    apiKey: ApiKey.Metadata,
    minVersion: 0,
    maxVersion: 12,
    async handle(req: MetadataRequest, ctx) {
      const version = ctx.header.apiVersion;
      const brokers = brokersOn(ctx);
      const live = new Set(metadata.brokers().map((b) => b.nodeId));
      // v0: an empty list means every topic; v1+: null means every topic, empty none.
      const all = req.topics === null || (version === 0 && req.topics.length === 0);
      let topics;
      const { authorizer } = deps;
      // Listing every topic leaves out, silently and without an audit line, those the principal may not DESCRIBE.
      const describable = (name: string, logDenial: boolean) => authorizer.topic(ctx.identity, AclOperation.DESCRIBE, name, logDenial);
      if (all) {
        topics = metadata
          .topics()
          .filter((t) => describable(t.name, false))
          .map((t) => describeTopic(t, live));
      } else {
        const allowAutoCreate = (version < 4 || req.allowAutoTopicCreation !== false) && deps.autoCreateTopicsEnable;
        const toCreate: string[] = [];
        topics = req.topics!.map((asked) => {
          if (asked.name === null || asked.name === undefined) {
            const byId = asked.topicId ? metadata.topics().find((t) => kafkaTopicId(t.topicId) === asked.topicId) : undefined;
            if (byId && !describable(byId.name, true))
              return missingTopic(null, asked.topicId ?? ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            return byId ? describeTopic(byId, live) : missingTopic(null, asked.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID);
          }
          const topic = metadata.topic(asked.name);
          // Kafka's order: an undescribable name (existing or not) is TOPIC_AUTHORIZATION_FAILED, so
          // a client learns nothing about topics it may not see.
          if (topic)
            return describable(asked.name, true)
              ? describeTopic(topic, live)
              : missingTopic(asked.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          if (!isLegalTopicName(asked.name)) return missingTopic(asked.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
          const mayCreate =
            allowAutoCreate &&
            isAutoCreatable(asked.name) &&
            (authorizer.cluster(ctx.identity, AclOperation.CREATE, false) ||
              authorizer.topic(ctx.identity, AclOperation.CREATE, asked.name, false));
          if (!mayCreate && !describable(asked.name, true))
            return missingTopic(asked.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          if (!mayCreate) return missingTopic(asked.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          toCreate.push(asked.name);
          // As Kafka: the topic is being created, its leaders are not known yet (retriable).
          return missingTopic(asked.name, ZERO_UUID, ErrorCode.LEADER_NOT_AVAILABLE);
        });
        // num.partitions and default.replication.factor of the controller (autoCreate.ts, shared with gRPC).
        const created = await autoCreateTopics(metadata, toCreate, deps.logger);
        for (const t of topics) {
          const code = t.name === null ? undefined : created.get(t.name);
          if (code !== undefined) t.errorCode = code;
        }
      }
      return {
        throttleTimeMs: 0,
        brokers,
        clusterId: metadata.clusterId,
        controllerId: deps.brokerId,
        topics,
        clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };

  const describeCluster: KafkaApiHandler = {
    apiKey: ApiKey.DescribeCluster,
    minVersion: 0,
    maxVersion: 1,
    handle(_req: unknown, ctx) {
      if (!deps.authorizer.cluster(ctx.identity, AclOperation.DESCRIBE)) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'Cluster authorization failed: DESCRIBE on the cluster is needed',
          endpointType: 1,
          clusterId: metadata.clusterId,
          controllerId: -1,
          brokers: [],
          clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        };
      }
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        endpointType: 1,
        clusterId: metadata.clusterId,
        controllerId: deps.brokerId,
        brokers: brokersOn(ctx).map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };

  return [apiVersions, metadataApi, describeCluster];
}
