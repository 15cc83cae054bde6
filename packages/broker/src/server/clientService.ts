/**
 * The samsa.v1.Samsa gRPC service: translates wire messages (int64 as strings) to the replica
 * manager and metadata source and back. No request can crash the node: every handler answers
 * with per-partition error codes, and unexpected failures become UNKNOWN_SERVER_ERROR.
 */
import { AclOperation, AclPatternType, aclFilterProblem, endpointFor, type AclBindingFilter } from '@samsa/metadata';
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
  type CreatePartitionsRequest__Output,
  type CreatePartitionsResponse,
  type DeleteRecordsRequest__Output,
  type DeleteRecordsResponse,
  type IncrementalAlterConfigsRequest__Output,
  type AlterUserScramCredentialsRequest__Output,
  type AlterUserScramCredentialsResponse,
  type DescribeUserScramCredentialsRequest__Output,
  type DescribeUserScramCredentialsResponse,
  type IncrementalAlterConfigsResponse,
  type AlterPartitionReassignmentsRequest__Output,
  type AlterPartitionReassignmentsResponse,
  type ListPartitionReassignmentsRequest__Output,
  type ListPartitionReassignmentsResponse,
  type ElectLeadersRequest__Output,
  type ElectLeadersResponse,
  type DeleteTopicsResponse,
  type FetchRequest__Output,
  type FetchResponse,
  type ListOffsetsRequest__Output,
  type OffsetForLeaderEpochRequest__Output,
  type OffsetForLeaderEpochResponse,
  type ListOffsetsResponse,
  type MetadataRequest__Output,
  type MetadataResponse,
  type ProduceRequest__Output,
  type ProduceResponse,
  type SamsaHandlers,
  type TopicMetadata,
  type InitProducerIdRequest__Output,
  type AddPartitionsToTxnRequest__Output,
  type AddPartitionsToTxnResponse,
  type AddOffsetsToTxnRequest__Output,
  type AddOffsetsToTxnResponse,
  type EndTxnRequest__Output,
  type EndTxnResponse,
  type DescribeProducersRequest__Output,
  type DescribeProducersResponse,
  type ListTransactionsRequest__Output,
  type DescribeTransactionsRequest__Output,
  type InitProducerIdResponse,
  type DescribeAclsRequest__Output,
  type DescribeAclsResponse,
  type CreateAclsRequest__Output,
  type CreateAclsResponse,
  type DeleteAclsRequest__Output,
  type DeleteAclsResponse,
  type AclBindingFilter__Output,
  protocolError,
} from '@samsa/protocol';
import { pipelinedHandler, type PipelineHub } from '@samsa/server';
import type { Logger } from 'pino';
import { autoCreateTopics, isAutoCreatable } from '../metadata/autoCreate.js';
import type { MetadataSource, TopicInfo } from '../metadata/image.js';
import { kafkaTopicId } from '../kafka/metadataApis.js';
import { configResourceDenied } from '../kafka/adminApis.js';
import { describeAcls } from '../kafka/aclApis.js';
import { errorOf, type FetchPartitionResult, type ProducePartitionResult, type ReplicaManager } from '../replicaManager.js';
import { allowAllAuthorizer, type RequestAuthorizer, type RequestIdentity } from '../security/authorizerService.js';
import { describeScramUsers } from '../security/scram.js';
import { identityOf } from './principal.js';
import { describeConfigsResource } from './configs.js';
import { brokerPipelineOptions, widenFlowControlWindow } from './flowControl.js';
import { ProducerIdManager } from './producerIdManager.js';
import { describeTransactions, listTransactions, type TransactionsView } from './transactionsService.js';
import { addOffsetsToTxn, addPartitionsToTxn, endTxn, initTransactionalProducerId, type TxnCoordinatorCalls } from '../txn/txnRequests.js';

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
  /** Kafka's auto.create.topics.enable: a Metadata request asking for creation creates missing topics (default off here; node.ts passes the setting). */
  autoCreateTopicsEnable?: boolean;
  /** Open Produce/Fetch streams, ended on shutdown (node.ts drains it before tryShutdown). */
  pipelines?: PipelineHub;
  /** ACL checks, the same per-API rules as the Kafka protocol's (security/README.md); default: allow all. */
  authorizer?: RequestAuthorizer;
  /**
   * The broker's transaction coordinator: ListTransactions/DescribeTransactions (COORDINATOR_NOT_AVAILABLE
   * without it) and the transactional RPCs (TRANSACTIONAL_ID_AUTHORIZATION_FAILED without it, as Kafka).
   */
  transactions?: TransactionsView & TxnCoordinatorCalls;
}

const DENIED = 'Authorization failed: the principal lacks the ACL this operation needs';
const BAD_PRODUCER_ID = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'producer_id must be an integer' };

/** A wire producer id as a bigint; undefined when it is not an integer. */
function producerIdOf(wire: string): bigint | undefined {
  try {
    return toBigInt(wire);
  } catch {
    return undefined;
  }
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Wraps a handler so a thrown or rejected error answers INTERNAL instead of killing the process. */
function unary<Req, Res>(logger: Logger, name: string, fn: (req: Req, who: RequestIdentity) => Promise<Res> | Res): Unary<Req, Res> {
  return (call, callback) => {
    widenFlowControlWindow(call);
    Promise.resolve()
      .then(() => fn(call.request, identityOf(call, name)))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          logger.error({ err, rpc: name }, 'request failed');
          callback({ code: grpc.status.INTERNAL, details: `${name} failed: ${err instanceof Error ? err.message : String(err)}` });
        },
      );
  };
}

/** The Samsa service without SaslHandshake and SaslAuthenticate, which each listener adds for its own connections (security/grpcSaslApis.ts). */
export function clientServiceHandlers(deps: ClientServiceDeps): Omit<SamsaHandlers, 'SaslHandshake' | 'SaslAuthenticate'> {
  const { metadata, replicaManager, logger } = deps;
  const authorizer = deps.authorizer ?? allowAllAuthorizer();
  const maxFetchWaitMs = deps.maxFetchWaitMs ?? 30_000;
  const producerIds = new ProducerIdManager(() => metadata.allocateProducerIds());
  const txnDeps = { transactions: deps.transactions, authorizer };

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

  async function produce(req: ProduceRequest__Output, who: RequestIdentity): Promise<ProduceResponse> {
    const all = req.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, records: p.records })));
    // WRITE on each topic; a denied topic's partitions answer TOPIC_AUTHORIZATION_FAILED and nothing of them is appended.
    const writable = new Map<string, boolean>();
    for (const e of all) if (!writable.has(e.topic)) writable.set(e.topic, authorizer.topic(who, AclOperation.WRITE, e.topic));
    const entries = all.filter((e) => writable.get(e.topic));
    const denied: ProducePartitionResult[] = all
      .filter((e) => !writable.get(e.topic))
      .map((e) => ({
        topic: e.topic,
        partition: e.partition,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        errorMessage: DENIED,
        baseOffset: -1n,
        logAppendTime: -1n,
        logStartOffset: -1n,
      }));
    // acks=0 resolves at once (nothing waits in the purgatory). Kafka writes no response to acks=0
    // and closes the connection on an error so the client refreshes its metadata; a pipelined gRPC
    // stream answers every call, so the answer carries only the failed partitions (no offsets),
    // with their current leader: a client that does not wait for it still learns of a leader move.
    const appended =
      entries.length === 0 ? [] : await replicaManager.appendRecords(req.acks, req.timeoutMs > 0 ? req.timeoutMs : 30_000, entries);
    const results = [...denied, ...appended];
    const answered = req.acks === 0 ? results.filter((r) => r.errorCode !== 0) : results;
    return {
      topics: nestByTopic(answered, (r, name) => ({
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

  async function fetch(req: FetchRequest__Output, who: RequestIdentity): Promise<FetchResponse> {
    const readable = new Map<string, boolean>();
    for (const t of req.topics) if (!readable.has(t.name)) readable.set(t.name, authorizer.topic(who, AclOperation.READ, t.name));
    const denied: FetchPartitionResult[] = req.topics
      .filter((t) => !readable.get(t.name))
      .flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partition,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: DENIED,
          highWatermark: -1n,
          lastStableOffset: -1n,
          logStartOffset: -1n,
          records: Buffer.alloc(0),
        })),
      );
    const partitions = req.topics
      .filter((t) => readable.get(t.name))
      .flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partition,
          fetchOffset: toBigInt(p.fetchOffset),
          maxBytes: p.partitionMaxBytes > 0 ? p.partitionMaxBytes : 1024 * 1024,
          currentLeaderEpoch: p.currentLeaderEpoch,
        })),
      );
    // Every topic denied: answer at once (an empty fetch still long-polls, as before).
    const fetched =
      partitions.length === 0 && denied.length > 0
        ? []
        : await replicaManager.fetchMessages({
            maxWaitMs: Math.min(Math.max(req.maxWaitMs, 0), maxFetchWaitMs),
            minBytes: Math.max(req.minBytes, 0),
            maxBytes: req.maxBytes > 0 ? req.maxBytes : 50 * 1024 * 1024,
            partitions,
            isolationLevel: req.isolationLevel === 1 ? 1 : 0,
          });
    const results = [...denied, ...fetched];
    return {
      topics: nestByTopic(results, (r, name) => ({
        partition: r.partition,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        highWatermark: toWire(r.highWatermark),
        lastStableOffset: toWire(r.lastStableOffset),
        logStartOffset: toWire(r.logStartOffset),
        records: r.records,
        currentLeader: leaderOf(name, r.partition),
        abortedTransactions: (r.abortedTransactions ?? []).map((t) => ({
          producerId: toWire(t.producerId),
          firstOffset: toWire(t.firstOffset),
        })),
      })),
    };
  }

  const pipelineOptions = brokerPipelineOptions(logger, deps.pipelines);

  return {
    Metadata: unary(logger, 'Metadata', async (req: MetadataRequest__Output, who): Promise<MetadataResponse> => {
      // Only topics the principal may DESCRIBE: left out of "all", TOPIC_AUTHORIZATION_FAILED when named.
      // Kafka's rule for creation: the request asks, the broker allows it (autoCreate.ts, shared with
      // the Kafka listener) and the principal may CREATE on the cluster or the topic.
      const mayCreate = req.allowAutoTopicCreation && deps.autoCreateTopicsEnable === true;
      const missing = req.allTopics ? [] : req.topics.filter((name) => metadata.topic(name) === undefined);
      const creatable = missing.filter(
        (name) =>
          isAutoCreatable(name) &&
          (authorizer.cluster(who, AclOperation.CREATE, false) || authorizer.topic(who, AclOperation.CREATE, name, false)),
      );
      const created = mayCreate ? await autoCreateTopics(metadata, creatable, logger) : new Map<string, number>();
      const topics = req.allTopics
        ? metadata
            .topics()
            .filter((t) => authorizer.topic(who, AclOperation.DESCRIBE, t.name, false))
            .map(describe)
        : req.topics.map((name) => {
            if (!authorizer.topic(who, AclOperation.DESCRIBE, name))
              return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: DENIED, name, partitions: [] };
            const topic = metadata.topic(name);
            if (topic) return describe(topic);
            const code = created.get(name);
            if (code === ErrorCode.LEADER_NOT_AVAILABLE)
              return {
                errorCode: code,
                errorMessage: `topic '${name}' is being created (auto.create.topics.enable)`,
                name,
                partitions: [],
              };
            if (code !== undefined)
              return { errorCode: code, errorMessage: `topic '${name}' does not exist and could not be created`, name, partitions: [] };
            return {
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              errorMessage: `topic '${name}' does not exist`,
              name,
              partitions: [],
            };
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

    CreateTopics: unary(logger, 'CreateTopics', async (req: CreateTopicsRequest__Output, who): Promise<CreateTopicsResponse> => {
      const clusterCreate = authorizer.cluster(who, AclOperation.CREATE, false);
      const allowed = req.topics.filter((t) => clusterCreate || authorizer.topic(who, AclOperation.CREATE, t.name));
      const denied = req.topics
        .filter((t) => !allowed.includes(t))
        .map((t) => ({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: DENIED }));
      if (allowed.length === 0) return { topics: denied };
      const results = await metadata.createTopics(
        allowed.map((t) => ({
          name: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          configs: t.configs,
        })),
        req.validateOnly,
        req.timeoutMs > 0 ? req.timeoutMs : undefined,
      );
      return {
        topics: [
          ...denied,
          ...results.map((r) =>
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
        ],
      };
    }),

    DeleteTopics: unary(logger, 'DeleteTopics', async (req: DeleteTopicsRequest__Output, who): Promise<DeleteTopicsResponse> => {
      const names = req.names.filter((n) => authorizer.topic(who, AclOperation.DELETE, n));
      const denied = req.names
        .filter((n) => !names.includes(n))
        .map((name) => ({ name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: DENIED }));
      const results = names.length === 0 ? [] : await metadata.deleteTopics(names, req.timeoutMs > 0 ? req.timeoutMs : undefined);
      return {
        topics: [...denied, ...results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage ?? '' }))],
      };
    }),

    CreatePartitions: unary(
      logger,
      'CreatePartitions',
      async (req: CreatePartitionsRequest__Output): Promise<CreatePartitionsResponse> => ({
        results: (
          await metadata.createPartitions(
            req.topics.map((t) => ({ name: t.name, count: t.count })),
            req.validateOnly,
            req.timeoutMs > 0 ? req.timeoutMs : undefined,
          )
        ).map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage ?? '' })),
      }),
    ),

    Produce: unary(logger, 'Produce', produce),
    Fetch: unary(logger, 'Fetch', fetch),
    // The same two over one long-lived stream per client (proto/samsa/v1/pipeline.proto).
    ProduceStream: pipelinedHandler(
      'ProduceStream',
      (req: ProduceRequest__Output, call) => produce(req, identityOf(call, 'ProduceStream')),
      pipelineOptions,
    ),
    FetchStream: pipelinedHandler(
      'FetchStream',
      (req: FetchRequest__Output, call) => fetch(req, identityOf(call, 'FetchStream')),
      pipelineOptions,
    ),

    DescribeQuorum: unary(logger, 'DescribeQuorum', async (_req: unknown, who): Promise<DescribeQuorumResponse> => {
      if (!authorizer.cluster(who, AclOperation.DESCRIBE))
        return {
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: DENIED,
          leaderId: -1,
          leaderEpoch: 0,
          highWatermark: '-1',
          voters: [],
        };
      return metadata.describeQuorum();
    }),

    IncrementalAlterConfigs: unary(
      logger,
      'IncrementalAlterConfigs',
      async (req: IncrementalAlterConfigsRequest__Output, who): Promise<IncrementalAlterConfigsResponse> => {
        const denials = req.resources.map((r) =>
          configResourceDenied(authorizer, who, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName),
        );
        const allowed = req.resources.filter((_, i) => denials[i] === undefined);
        const refused = req.resources
          .filter((_, i) => denials[i] !== undefined)
          .map((r) => ({
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            errorCode: denials[req.resources.indexOf(r)]!,
            errorMessage: DENIED,
          }));
        if (allowed.length === 0) return { responses: refused };
        const results = await metadata.incrementalAlterConfigs(
          allowed.map((r) => ({
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            configs: r.configs.map((c) => ({ name: c.name, operation: c.configOperation, value: c.value })),
          })),
          req.validateOnly,
          req.timeoutMs > 0 ? req.timeoutMs : undefined,
        );
        return { responses: [...refused, ...results] };
      },
    ),

    AlterUserScramCredentials: unary(
      logger,
      'AlterUserScramCredentials',
      async (req: AlterUserScramCredentialsRequest__Output, who): Promise<AlterUserScramCredentialsResponse> => {
        const users = [...new Set([...req.deletions, ...req.upsertions].map((x) => x.name))];
        // Kafka's rule: ALTER on the cluster.
        if (!authorizer.cluster(who, AclOperation.ALTER))
          return { results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED })) };
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
      (req: DescribeUserScramCredentialsRequest__Output, who): DescribeUserScramCredentialsResponse => {
        const all = metadata.scramUsers?.() ?? [];
        // Kafka's rule: DESCRIBE on the cluster.
        if (!authorizer.cluster(who, AclOperation.DESCRIBE))
          return {
            results: (req.users.length === 0 ? all.map((u) => u.name) : [...new Set(req.users)]).map((user) => ({
              user,
              errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
              errorMessage: DENIED,
              credentialInfos: [],
            })),
          };
        return {
          results: describeScramUsers(all, req.users).map((d) => ({
            user: d.user,
            errorCode: d.errorCode,
            errorMessage: d.errorMessage ?? '',
            credentialInfos: d.credentials,
          })),
        };
      },
    ),

    // Kafka's rules (KIP-455): ALTER on the cluster to change, DESCRIBE on the cluster to list.
    AlterPartitionReassignments: unary(
      logger,
      'AlterPartitionReassignments',
      async (req: AlterPartitionReassignmentsRequest__Output, who): Promise<AlterPartitionReassignmentsResponse> => {
        if (!authorizer.cluster(who, AclOperation.ALTER))
          return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED, results: [] };
        const items = req.topics.flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.name, partition: p.partition, replicas: p.cancel ? null : [...p.replicas] })),
        );
        const results = await metadata.alterPartitionReassignments(items, req.timeoutMs > 0 ? req.timeoutMs : undefined);
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: '',
          results: [...groupByTopic(results)].map(([name, ps]) => ({
            name,
            partitions: ps.map((r) => ({ partition: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage })),
          })),
        };
      },
    ),

    ListPartitionReassignments: unary(
      logger,
      'ListPartitionReassignments',
      (req: ListPartitionReassignmentsRequest__Output, who): ListPartitionReassignmentsResponse => {
        if (!authorizer.cluster(who, AclOperation.DESCRIBE))
          return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED, topics: [] };
        const asked =
          req.topics.length === 0 ? undefined : req.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
        const ongoing = metadata.listPartitionReassignments(asked);
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: '',
          topics: [...groupByTopic(ongoing)].map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({
              partition: p.partition,
              replicas: [...p.replicas],
              addingReplicas: [...p.addingReplicas],
              removingReplicas: [...p.removingReplicas],
            })),
          })),
        };
      },
    ),

    ElectLeaders: unary(logger, 'ElectLeaders', async (req: ElectLeadersRequest__Output, who): Promise<ElectLeadersResponse> => {
      if (!authorizer.cluster(who, AclOperation.ALTER))
        return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED, results: [] };
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
      (req: DescribeConfigsRequest__Output, who): DescribeConfigsResponse => ({
        results: req.resources.map((r) => {
          const denied = configResourceDenied(authorizer, who, AclOperation.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
          if (denied !== undefined)
            return { resourceType: r.resourceType, resourceName: r.resourceName, errorCode: denied, errorMessage: DENIED, configs: [] };
          return describeConfigsResource(
            r,
            (name) => metadata.topic(name),
            {
              staticDefaults: replicaManager.staticTopicDefaults,
              broker: metadata.brokerConfigs(String(replicaManager.brokerId)),
              clusterDefault: metadata.brokerConfigs(''),
            },
            (name) => metadata.brokerConfigs(name),
          );
        }),
      }),
    ),

    /**
     * Without a transactional id (idempotent producer): a fresh id with epoch 0 whatever
     * producer_id/epoch the request carries (as Kafka does; the client bumps epochs itself). With
     * one: the transaction coordinator, through the checks the Kafka handler uses (txnRequests.ts).
     */
    InitProducerId: unary(logger, 'InitProducerId', async (req: InitProducerIdRequest__Output, who): Promise<InitProducerIdResponse> => {
      if (req.transactionalId !== '') {
        let producerId: bigint;
        try {
          producerId = toBigInt(req.producerId, -1n);
        } catch {
          return {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: 'producer_id must be an integer',
            producerId: '-1',
            producerEpoch: -1,
          };
        }
        const r = await initTransactionalProducerId(txnDeps, who, {
          transactionalId: req.transactionalId,
          transactionTimeoutMs: req.transactionTimeoutMs,
          producerId,
          producerEpoch: req.producerEpoch,
        });
        return { errorCode: r.errorCode, errorMessage: r.errorMessage, producerId: toWire(r.producerId), producerEpoch: r.producerEpoch };
      }
      if (!authorizer.idempotentWrite(who))
        return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED, producerId: '-1', producerEpoch: -1 };
      const r = await producerIds.generateProducerId();
      if (r.errorCode !== ErrorCode.NONE)
        return { errorCode: r.errorCode, errorMessage: r.errorMessage, producerId: '-1', producerEpoch: -1 };
      return { errorCode: ErrorCode.NONE, errorMessage: '', producerId: toWire(r.producerId), producerEpoch: 0 };
    }),

    AddPartitionsToTxn: unary(
      logger,
      'AddPartitionsToTxn',
      async (req: AddPartitionsToTxnRequest__Output, who): Promise<AddPartitionsToTxnResponse> => {
        const partitions = req.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
        const producerId = producerIdOf(req.producerId);
        const results =
          producerId === undefined
            ? partitions.map((tp) => ({ ...tp, ...BAD_PRODUCER_ID }))
            : await addPartitionsToTxn(txnDeps, who, {
                transactionalId: req.transactionalId,
                producerId,
                producerEpoch: req.producerEpoch,
                partitions,
              });
        return {
          topics: [...groupByTopic(results)].map(([name, ps]) => ({
            name,
            partitions: ps.map((r) => ({ partition: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage })),
          })),
        };
      },
    ),

    AddOffsetsToTxn: unary(
      logger,
      'AddOffsetsToTxn',
      async (req: AddOffsetsToTxnRequest__Output, who): Promise<AddOffsetsToTxnResponse> => {
        const producerId = producerIdOf(req.producerId);
        if (producerId === undefined) return BAD_PRODUCER_ID;
        const r = await addOffsetsToTxn(txnDeps, who, {
          transactionalId: req.transactionalId,
          producerId,
          producerEpoch: req.producerEpoch,
          groupId: req.groupId,
        });
        return { errorCode: r.errorCode, errorMessage: r.errorMessage };
      },
    ),

    EndTxn: unary(logger, 'EndTxn', async (req: EndTxnRequest__Output, who): Promise<EndTxnResponse> => {
      const producerId = producerIdOf(req.producerId);
      if (producerId === undefined) return BAD_PRODUCER_ID;
      const r = await endTxn(txnDeps, who, {
        transactionalId: req.transactionalId,
        producerId,
        producerEpoch: req.producerEpoch,
        committed: req.committed,
      });
      return { errorCode: r.errorCode, errorMessage: r.errorMessage };
    }),

    /** Kafka's DescribeProducers: READ on the topic; NOT_LEADER_OR_FOLLOWER from a broker that does not lead the partition. */
    DescribeProducers: unary(
      logger,
      'DescribeProducers',
      (req: DescribeProducersRequest__Output, who): DescribeProducersResponse => ({
        partitions: req.topics.flatMap((t) => {
          const readable = authorizer.topic(who, AclOperation.READ, t.name);
          return t.partitions.map((partition) => {
            const none = (errorCode: number, errorMessage: string) => ({
              topic: t.name,
              partition,
              errorCode,
              errorMessage,
              activeProducers: [],
            });
            if (!readable) return none(ErrorCode.TOPIC_AUTHORIZATION_FAILED, DENIED);
            const p = replicaManager.getPartition(t.name, partition);
            if (!p)
              return metadata.topic(t.name)?.partitions[partition]
                ? none(ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${replicaManager.brokerId} has no replica of ${t.name}-${partition}`)
                : none(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${t.name}-${partition}`);
            if (!p.isLeader)
              return none(ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${replicaManager.brokerId} does not lead ${t.name}-${partition}`);
            return {
              topic: t.name,
              partition,
              errorCode: ErrorCode.NONE,
              errorMessage: '',
              activeProducers: p.describeProducers().map((s) => ({
                producerId: toWire(s.producerId),
                producerEpoch: s.producerEpoch,
                coordinatorEpoch: s.coordinatorEpoch,
                currentTxnStartOffset: toWire(s.currentTxnStartOffset),
              })),
            };
          });
        }),
      }),
    ),

    ListTransactions: unary(logger, 'ListTransactions', (req: ListTransactionsRequest__Output, who) =>
      listTransactions(deps.transactions, authorizer, req, who),
    ),
    DescribeTransactions: unary(logger, 'DescribeTransactions', (req: DescribeTransactionsRequest__Output, who) =>
      describeTransactions(deps.transactions, authorizer, req, who),
    ),

    DeleteRecords: unary(
      logger,
      'DeleteRecords',
      (req: DeleteRecordsRequest__Output): DeleteRecordsResponse => ({
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            try {
              return {
                partition: p.partition,
                lowWatermark: toWire(replicaManager.deleteRecords(t.name, p.partition, toBigInt(p.offset))),
                errorCode: 0,
                errorMessage: '',
              };
            } catch (err) {
              return { partition: p.partition, lowWatermark: '-1', ...errorOf(err, logger) };
            }
          }),
        })),
      }),
    ),

    ListOffsets: unary(
      logger,
      'ListOffsets',
      (req: ListOffsetsRequest__Output, who): ListOffsetsResponse => ({
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const base = { partition: p.partition, currentLeader: leaderOf(t.name, p.partition) };
            if (!authorizer.topic(who, AclOperation.DESCRIBE, t.name))
              return {
                ...base,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                errorMessage: DENIED,
                offset: '-1',
                timestamp: '-1',
                leaderEpoch: -1,
              };
            try {
              const found = replicaManager.listOffset(
                t.name,
                p.partition,
                toBigInt(p.timestamp),
                p.currentLeaderEpoch,
                req.isolationLevel === 1 ? 1 : 0,
              );
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

    // KIP-320: where the requested epoch ends on this leader, so a consumer can tell whether its
    // position is still on the leader's log (Kafka's OffsetsForLeaderEpoch, as the Kafka listener answers it).
    OffsetForLeaderEpoch: unary(
      logger,
      'OffsetForLeaderEpoch',
      (req: OffsetForLeaderEpochRequest__Output, who): OffsetForLeaderEpochResponse => ({
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            if (!authorizer.topic(who, AclOperation.DESCRIBE, t.name))
              return {
                partition: p.partition,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                errorMessage: DENIED,
                leaderEpoch: -1,
                endOffset: '-1',
              };
            try {
              const partition = replicaManager.getPartition(t.name, p.partition);
              if (!partition) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `no replica of ${t.name}-${p.partition} here`);
              partition.checkLeader(p.currentLeaderEpoch);
              const end = partition.log.endOffsetForEpoch(p.leaderEpoch);
              return { partition: p.partition, errorCode: 0, leaderEpoch: end.leaderEpoch, endOffset: toWire(end.endOffset) };
            } catch (err) {
              return { partition: p.partition, ...errorOf(err, logger), leaderEpoch: -1, endOffset: '-1' };
            }
          }),
        })),
      }),
    ),

    DescribeAcls: unary(logger, 'DescribeAcls', (req: DescribeAclsRequest__Output, who): DescribeAclsResponse => {
      if (!authorizer.cluster(who, AclOperation.DESCRIBE))
        return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED, acls: [] };
      const filter = filterFromWire(req.filter);
      const problem = aclFilterProblem(filter);
      if (problem !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, acls: [] };
      return { errorCode: 0, errorMessage: '', acls: describeAcls(metadata.acls(), filter).flatMap((r) => r.acls.map((a) => ({ ...a }))) };
    }),

    CreateAcls: unary(logger, 'CreateAcls', async (req: CreateAclsRequest__Output, who): Promise<CreateAclsResponse> => {
      if (!authorizer.cluster(who, AclOperation.ALTER))
        return { results: req.creations.map(() => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED })) };
      const results = await metadata.createAcls(req.creations.map((b) => ({ ...b })));
      return { results };
    }),

    DeleteAcls: unary(logger, 'DeleteAcls', async (req: DeleteAclsRequest__Output, who): Promise<DeleteAclsResponse> => {
      if (!authorizer.cluster(who, AclOperation.ALTER))
        return {
          filterResults: req.filters.map(() => ({
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            errorMessage: DENIED,
            matchingAcls: [],
          })),
        };
      const results = await metadata.deleteAcls(req.filters.map(filterFromWire));
      return {
        filterResults: results.map((r) => ({
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          matchingAcls: r.deleted.map((a) => ({ ...a })),
        })),
      };
    }),
  };
}

/** On the wire an empty name, principal or host means "any" (Kafka's null); a missing filter matches everything. */
function filterFromWire(f: AclBindingFilter__Output | null | undefined): AclBindingFilter {
  if (f === null || f === undefined)
    return {
      resourceType: 1,
      resourceName: null,
      patternType: AclPatternType.ANY,
      principal: null,
      host: null,
      operation: 1,
      permissionType: 1,
    };
  return {
    resourceType: f.resourceType,
    resourceName: f.resourceName === '' ? null : f.resourceName,
    patternType: f.patternType,
    principal: f.principal === '' ? null : f.principal,
    host: f.host === '' ? null : f.host,
    operation: f.operation,
    permissionType: f.permissionType,
  };
}
