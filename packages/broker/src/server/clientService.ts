/**
 * The samsa.v1.Samsa gRPC service: translates wire messages (int64 as strings) to the replica
 * manager and metadata source and back. No request can crash the node: every handler answers
 * with per-partition error codes, and unexpected failures become UNKNOWN_SERVER_ERROR.
 */
import { endpointFor } from '@samsa/metadata';
import {
  ErrorCode,
  groupByTopic,
  grpc,
  nestByTopic,
  toBigInt,
  toWire,
  type CreateTopicsRequest__Output,
  type CreateTopicsResponse,
  type DescribeConfigsRequest__Output,
  type DescribeConfigsResponse,
  type DescribeQuorumResponse,
  type DeleteTopicsRequest__Output,
  type IncrementalAlterConfigsRequest__Output,
  type AlterUserScramCredentialsRequest__Output,
  type AlterUserScramCredentialsResponse,
  type DescribeUserScramCredentialsRequest__Output,
  type DescribeUserScramCredentialsResponse,
  type IncrementalAlterConfigsResponse,
  type ElectLeadersRequest__Output,
  type ElectLeadersResponse,
  type DeleteTopicsResponse,
  type FetchRequest__Output,
  type FetchResponse,
  type ListOffsetsRequest__Output,
  type ListOffsetsResponse,
  type MetadataRequest__Output,
  type MetadataResponse,
  type ProduceRequest__Output,
  type ProduceResponse,
  type SamsaHandlers,
  type TopicMetadata,
  type InitProducerIdRequest__Output,
  type InitProducerIdResponse,
} from '@samsa/protocol';
import { pipelinedHandler, type PipelineHub } from '@samsa/server';
import type { Logger } from 'pino';
import type { MetadataSource, TopicInfo } from '../metadata/image.js';
import { kafkaTopicId } from '../kafka/metadataApis.js';
import { errorOf, type ReplicaManager } from '../replicaManager.js';
import { describeConfigsResource } from './configs.js';
import { brokerPipelineOptions, widenFlowControlWindow } from './flowControl.js';
import { ProducerIdManager } from './producerIdManager.js';

export interface ClientServiceDeps {
  metadata: MetadataSource;
  replicaManager: ReplicaManager;
  logger: Logger;
  /** Upper bound on a fetch long-poll, whatever the client asks (Kafka: fetch.max.wait.ms). */
  maxFetchWaitMs?: number;
  /**
   * The listener these handlers serve (Kafka's listener name): Metadata answers each broker's
   * advertised address on it. Undefined: every broker's registered host:port.
   */
  listenerName?: string;
  /** Open Produce/Fetch streams, ended on shutdown (node.ts drains it before tryShutdown). */
  pipelines?: PipelineHub;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Wraps a handler so a thrown or rejected error answers INTERNAL instead of killing the process. */
function unary<Req, Res>(logger: Logger, name: string, fn: (req: Req) => Promise<Res> | Res): Unary<Req, Res> {
  return (call, callback) => {
    widenFlowControlWindow(call);
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          logger.error({ err, rpc: name }, 'request failed');
          callback({ code: grpc.status.INTERNAL, details: `${name} failed: ${err instanceof Error ? err.message : String(err)}` });
        },
      );
  };
}

export function clientServiceHandlers(deps: ClientServiceDeps): SamsaHandlers {
  const { metadata, replicaManager, logger } = deps;
  const maxFetchWaitMs = deps.maxFetchWaitMs ?? 30_000;
  const producerIds = new ProducerIdManager(() => metadata.allocateProducerIds());

  const leaderOf = (topic: string, partition: number) => {
    const p = metadata.topic(topic)?.partitions[partition];
    return p ? { leaderId: p.leader, leaderEpoch: p.leaderEpoch } : { leaderId: -1, leaderEpoch: -1 };
  };

  const describe = (topic: TopicInfo): TopicMetadata => ({
    errorCode: 0,
    errorMessage: '',
    name: topic.name,
    isInternal: topic.isInternal,
    configs: topic.configs,
    topicId: kafkaTopicId(topic.topicId),
    partitions: topic.partitions.map((p) => ({
      errorCode: 0,
      errorMessage: '',
      partition: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicas,
      isr: p.isr,
      offlineReplicas: [],
    })),
  });

  async function produce(req: ProduceRequest__Output): Promise<ProduceResponse> {
    const entries = req.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, records: p.records })));
    const appending = replicaManager.appendRecords(req.acks, req.timeoutMs > 0 ? req.timeoutMs : 30_000, entries);
    // acks=0: the client expects no answer; the append above already happened synchronously.
    if (req.acks === 0) {
      void appending.catch((err: unknown) => logger.error({ err }, 'acks=0 produce failed'));
      return { topics: [] };
    }
    const results = await appending;
    return {
      topics: nestByTopic(results, (r, name) => ({
        partition: r.partition,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        baseOffset: toWire(r.baseOffset),
        logAppendTime: toWire(r.logAppendTime),
        logStartOffset: toWire(r.logStartOffset),
        currentLeader: leaderOf(name, r.partition),
      })),
    };
  }

  async function fetch(req: FetchRequest__Output): Promise<FetchResponse> {
    const partitions = req.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partition,
        fetchOffset: toBigInt(p.fetchOffset),
        maxBytes: p.partitionMaxBytes > 0 ? p.partitionMaxBytes : 1024 * 1024,
        currentLeaderEpoch: p.currentLeaderEpoch,
      })),
    );
    const results = await replicaManager.fetchMessages({
      maxWaitMs: Math.min(Math.max(req.maxWaitMs, 0), maxFetchWaitMs),
      minBytes: Math.max(req.minBytes, 0),
      maxBytes: req.maxBytes > 0 ? req.maxBytes : 50 * 1024 * 1024,
      partitions,
    });
    return {
      topics: nestByTopic(results, (r, name) => ({
        partition: r.partition,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        highWatermark: toWire(r.highWatermark),
        lastStableOffset: toWire(r.highWatermark),
        logStartOffset: toWire(r.logStartOffset),
        records: r.records,
        currentLeader: leaderOf(name, r.partition),
      })),
    };
  }

  const pipelineOptions = brokerPipelineOptions(logger, deps.pipelines);

  return {
    Metadata: unary(logger, 'Metadata', (req: MetadataRequest__Output): MetadataResponse => {
      const topics = req.allTopics
        ? metadata.topics().map(describe)
        : req.topics.map((name) => {
            const topic = metadata.topic(name);
            return topic
              ? describe(topic)
              : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic '${name}' does not exist`, name, partitions: [] };
          });
      return {
        clusterId: metadata.clusterId,
        controllerId: metadata.controllerId,
        // Kafka leaves out the brokers that have no endpoint on the request's listener.
        brokers: metadata.brokers().flatMap((b) => {
          const at = endpointFor(b, deps.listenerName);
          return at === undefined ? [] : [{ nodeId: b.nodeId, host: at.host, port: at.port, rack: b.rack ?? '' }];
        }),
        topics,
      };
    }),

    CreateTopics: unary(logger, 'CreateTopics', async (req: CreateTopicsRequest__Output): Promise<CreateTopicsResponse> => {
      const results = await metadata.createTopics(
        req.topics.map((t) => ({
          name: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          configs: t.configs,
        })),
        req.validateOnly,
        req.timeoutMs > 0 ? req.timeoutMs : undefined,
      );
      return {
        topics: results.map((r) =>
          r.errorCode === 0 && 'topic' in r
            ? {
                name: r.name,
                errorCode: 0,
                numPartitions: r.topic.partitions.length,
                replicationFactor: r.topic.partitions[0]?.replicas.length ?? 0,
                configs: r.topic.configs,
              }
            : { name: r.name, errorCode: r.errorCode, errorMessage: 'errorMessage' in r ? r.errorMessage : '' },
        ),
      };
    }),

    DeleteTopics: unary(
      logger,
      'DeleteTopics',
      async (req: DeleteTopicsRequest__Output): Promise<DeleteTopicsResponse> => ({
        topics: (await metadata.deleteTopics(req.names, req.timeoutMs > 0 ? req.timeoutMs : undefined)).map((r) => ({
          name: r.name,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage ?? '',
        })),
      }),
    ),

    Produce: unary(logger, 'Produce', produce),
    Fetch: unary(logger, 'Fetch', fetch),
    // The same two over one long-lived stream per client (proto/samsa/v1/pipeline.proto).
    ProduceStream: pipelinedHandler('ProduceStream', produce, pipelineOptions),
    FetchStream: pipelinedHandler('FetchStream', fetch, pipelineOptions),

    DescribeQuorum: unary(logger, 'DescribeQuorum', (): Promise<DescribeQuorumResponse> => metadata.describeQuorum()),

    IncrementalAlterConfigs: unary(
      logger,
      'IncrementalAlterConfigs',
      async (req: IncrementalAlterConfigsRequest__Output): Promise<IncrementalAlterConfigsResponse> => {
        const results = await metadata.incrementalAlterConfigs(
          req.resources.map((r) => ({
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            configs: r.configs.map((c) => ({ name: c.name, operation: c.configOperation, value: c.value })),
          })),
          req.validateOnly,
          req.timeoutMs > 0 ? req.timeoutMs : undefined,
        );
        return { responses: results };
      },
    ),

    AlterUserScramCredentials: unary(
      logger,
      'AlterUserScramCredentials',
      async (req: AlterUserScramCredentialsRequest__Output): Promise<AlterUserScramCredentialsResponse> => {
        const users = [...new Set([...req.deletions, ...req.upsertions].map((x) => x.name))];
        if (!metadata.alterUserScramCredentials)
          return {
            results: users.map((user) => ({
              user,
              errorCode: ErrorCode.INVALID_REQUEST,
              errorMessage: 'this broker has no controller quorum to store credentials in',
            })),
          };
        const results = await metadata.alterUserScramCredentials(
          {
            deletions: req.deletions.map((d) => ({ name: d.name, mechanism: d.mechanism })),
            upsertions: req.upsertions.map((u) => ({
              name: u.name,
              mechanism: u.mechanism,
              iterations: u.iterations,
              salt: Buffer.from(u.salt),
              saltedPassword: Buffer.from(u.saltedPassword),
            })),
          },
          req.timeoutMs > 0 ? req.timeoutMs : undefined,
        );
        return { results };
      },
    ),

    DescribeUserScramCredentials: unary(
      logger,
      'DescribeUserScramCredentials',
      (req: DescribeUserScramCredentialsRequest__Output): DescribeUserScramCredentialsResponse => {
        const all = metadata.scramUsers?.() ?? [];
        const pick = req.users.length === 0 ? all.map((u) => u.name) : [...new Set(req.users)];
        return {
          results: pick.map((user) => {
            const found = all.find((u) => u.name === user);
            if (!found)
              return {
                user,
                errorCode: ErrorCode.RESOURCE_NOT_FOUND,
                errorMessage: `user '${user}' has no SCRAM credential`,
                credentialInfos: [],
              };
            // Mechanism and iterations only: never the salt or the keys (Kafka's answer has the same fields).
            return {
              user,
              errorCode: 0,
              errorMessage: '',
              credentialInfos: found.credentials.map((c) => ({ mechanism: c.mechanism, iterations: c.iterations })),
            };
          }),
        };
      },
    ),

    ElectLeaders: unary(logger, 'ElectLeaders', async (req: ElectLeadersRequest__Output): Promise<ElectLeadersResponse> => {
      const partitions = req.topicPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
      const results = await metadata.electLeaders(req.electionType, partitions, req.timeoutMs > 0 ? req.timeoutMs : undefined);
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: '',
        results: [...groupByTopic(results)].map(([topic, ps]) => ({
          topic,
          partitions: ps.map((r) => ({ partition: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage })),
        })),
      };
    }),

    DescribeConfigs: unary(
      logger,
      'DescribeConfigs',
      (req: DescribeConfigsRequest__Output): DescribeConfigsResponse => ({
        results: req.resources.map((r) =>
          describeConfigsResource(
            r,
            (name) => metadata.topic(name),
            {
              staticDefaults: replicaManager.staticTopicDefaults,
              broker: metadata.brokerConfigs(String(replicaManager.brokerId)),
              clusterDefault: metadata.brokerConfigs(''),
            },
            (name) => metadata.brokerConfigs(name),
          ),
        ),
      }),
    ),

    /**
     * Idempotent producers only: a fresh id with epoch 0 whatever producer_id/epoch the request
     * carries (as Kafka does without a transactional id; the client bumps epochs itself).
     */
    InitProducerId: unary(logger, 'InitProducerId', async (req: InitProducerIdRequest__Output): Promise<InitProducerIdResponse> => {
      if (req.transactionalId !== '') {
        return {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: 'transactions are not supported: transactional_id must be empty',
          producerId: '-1',
          producerEpoch: -1,
        };
      }
      const r = await producerIds.generateProducerId();
      if (r.errorCode !== ErrorCode.NONE)
        return { errorCode: r.errorCode, errorMessage: r.errorMessage, producerId: '-1', producerEpoch: -1 };
      return { errorCode: ErrorCode.NONE, errorMessage: '', producerId: toWire(r.producerId), producerEpoch: 0 };
    }),

    ListOffsets: unary(
      logger,
      'ListOffsets',
      (req: ListOffsetsRequest__Output): ListOffsetsResponse => ({
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const base = { partition: p.partition, currentLeader: leaderOf(t.name, p.partition) };
            try {
              const found = replicaManager.listOffset(t.name, p.partition, toBigInt(p.timestamp), p.currentLeaderEpoch);
              return {
                ...base,
                errorCode: 0,
                offset: toWire(found.offset),
                timestamp: toWire(found.timestamp),
                leaderEpoch: found.leaderEpoch,
              };
            } catch (err) {
              return { ...base, ...errorOf(err, logger), offset: '-1', timestamp: '-1', leaderEpoch: -1 };
            }
          }),
        })),
      }),
    ),
  };
}
