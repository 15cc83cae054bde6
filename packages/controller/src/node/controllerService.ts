/**
 * The Controller gRPC service (proto/samsa/v1/controller.proto): wire requests → QuorumController
 * operations through the write queue → wire answers. Writes on a controller that is not active
 * answer NOT_CONTROLLER (leader known) or CONTROLLER_QUORUM_UNAVAILABLE (none); every answer
 * carries leader_id and leader_epoch, so a broker redirects by fields, never by the sentence. Any
 * unexpected exception becomes
 * UNKNOWN_SERVER_ERROR in the answer; the process never goes down for a request.
 */
import { ConfigOperation, ErrorCode, configResourceKind, groupByTopic, toBigInt, topicPartitionKey } from '@samsa/protocol';
import type { AclBinding, AclBindingFilter, ConfigResourceType, MetadataRecord } from '@samsa/metadata';
import type {
  AclBinding__Output,
  AclBindingFilter__Output,
  AlterConfigsResource__Output,
  AlterPartitionPartitionResult,
  AlterPartitionRequest__Output,
  AlterUserScramCredentialsRequest__Output,
  AlterPartitionResponse,
  AlterPartitionReassignmentsRequest__Output,
  AlterPartitionReassignmentsResponse,
  ControllerHandlers,
  CreateTopicsRequest__Output,
  CreateTopicsResponse,
  ElectLeadersRequest__Output,
  ElectLeadersResponse,
  FetchMetadataResponse,
  grpc,
} from '@samsa/protocol';
import type { AlterConfigOp, AlterConfigsResource, ControllerResult, QuorumController } from '../metadata/index.js';
import type { ControllerLogger } from './logger.js';
import type { WriteFailure, WriteQueue } from './writeQueue.js';

/** Writes without a timeout of their own wait this long for their entry to commit. */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;

/** The fields FetchMetadata answers with, besides the error and the leader hint. */
export type MetadataLogRead = Required<
  Pick<FetchMetadataResponse, 'hasSnapshot' | 'snapshotOffset' | 'snapshot' | 'entries' | 'highWatermark'>
>;

export interface QuorumDescription {
  readonly errorCode: number;
  readonly errorMessage: string;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly voters: readonly { readonly voterId: number; readonly logEndOffset: number; readonly lag: number }[];
}

/** What the service needs from the controller node. */
export interface ControllerServiceContext {
  readonly nodeId: number;
  readonly controller: QuorumController;
  readonly queue: WriteQueue;
  readonly logger: ControllerLogger;
  /** The Raft log's last index: the next entry (a RegisterBroker) lands right after it. */
  raftLastIndex(): number;
  /** The node's clock (broker heartbeats and registrations are timed on it). */
  now(): number;
  leaderId(): number;
  /** This node's current Raft term: the epoch of `leaderId()`. */
  leaderEpoch(): number;
  describeQuorum(): QuorumDescription;
  readMetadataLog(fromOffset: number, maxWaitMs: number, maxEntries: number, cancelled: Promise<void>): Promise<MetadataLogRead>;
}

export function controllerServiceHandlers(ctx: ControllerServiceContext): ControllerHandlers {
  const self = ctx.nodeId;
  /** The hint on an answer this node gives as the active controller. */
  const asLeader = () => ({ leaderId: self, leaderEpoch: ctx.leaderEpoch() });
  const write = <T>(name: string, compute: () => ControllerResult<T>, timeoutMs = DEFAULT_WRITE_TIMEOUT_MS) =>
    ctx.queue.submit(name, compute, timeoutMs);

  return {
    RegisterBroker: unary(
      ctx,
      'RegisterBroker',
      async (req) => {
        const outcome = await write('RegisterBroker', () =>
          ctx.controller.registerBroker(
            {
              brokerId: req.brokerId,
              incarnationId: req.incarnationId,
              host: req.host,
              port: req.port,
              ...(req.rack === '' ? {} : { rack: req.rack }),
              ...(req.endpoints === '' ? {} : { endpoints: req.endpoints }),
            },
            ctx.now(),
            ctx.raftLastIndex() + 1,
          ),
        );
        if (!outcome.ok) return { ...errorOf(outcome), brokerEpoch: -1, ...hintOf(outcome) };
        const r = outcome.response;
        if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, errorMessage: r.errorMessage, brokerEpoch: -1, ...asLeader() };
        return { errorCode: ErrorCode.NONE, errorMessage: '', brokerEpoch: r.brokerEpoch, ...asLeader() };
      },
      (_req, f) => ({ ...errorOf(f), brokerEpoch: -1, ...hintOf(f) }),
    ),

    BrokerHeartbeat: unary(
      ctx,
      'BrokerHeartbeat',
      async (req) => {
        const outcome = await write('BrokerHeartbeat', () =>
          ctx.controller.brokerHeartbeat(
            {
              brokerId: req.brokerId,
              brokerEpoch: req.brokerEpoch,
              currentMetadataOffset: req.currentMetadataOffset,
              wantFence: req.wantFence,
              wantShutDown: req.wantShutDown,
              offlineLogDirs: req.offlineLogDirs,
            },
            ctx.now(),
          ),
        );
        const fenced = { isCaughtUp: false, isFenced: true, shouldShutDown: false };
        if (!outcome.ok) return { ...errorOf(outcome), ...fenced, ...hintOf(outcome) };
        const r = outcome.response;
        if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, errorMessage: r.errorMessage, ...fenced, ...asLeader() };
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: '',
          isCaughtUp: r.isCaughtUp,
          isFenced: r.isFenced,
          shouldShutDown: r.shouldShutDown,
          ...asLeader(),
        };
      },
      (_req, f) => ({ ...errorOf(f), isCaughtUp: false, isFenced: true, shouldShutDown: false, ...hintOf(f) }),
    ),

    FetchMetadata: unary(
      ctx,
      'FetchMetadata',
      async (req, call) => {
        const from = toBigInt(req.fromOffset);
        const fromOffset = from > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(from);
        const cancelled = new Promise<void>((resolve) => call.once('cancelled', () => resolve()));
        const read = await ctx.readMetadataLog(fromOffset, req.maxWaitMs, req.maxEntries, cancelled);
        return { errorCode: ErrorCode.NONE, errorMessage: '', ...read, leaderId: ctx.leaderId(), leaderEpoch: ctx.leaderEpoch() };
      },
      (_req, f) => ({ ...errorOf(f), leaderId: ctx.leaderId(), leaderEpoch: ctx.leaderEpoch() }),
    ),

    CreateTopics: unary(
      ctx,
      'CreateTopics',
      async (req) => {
        const requests = req.topics.map((t) => ({
          name: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          configs: { ...t.configs },
        }));
        const outcome = await write(
          'CreateTopics',
          () => ctx.controller.createTopics(requests, req.validateOnly),
          timeoutOf(req.timeoutMs),
        );
        if (!outcome.ok) return createTopicsFailure(req, outcome);
        return {
          topics: outcome.response.map((r) =>
            r.errorCode === ErrorCode.NONE
              ? {
                  name: r.name,
                  errorCode: ErrorCode.NONE,
                  errorMessage: '',
                  numPartitions: r.numPartitions,
                  replicationFactor: r.replicationFactor,
                  configs: { ...r.configs },
                }
              : {
                  name: r.name,
                  errorCode: r.errorCode,
                  errorMessage: r.errorMessage,
                  numPartitions: -1,
                  replicationFactor: -1,
                  configs: {},
                },
          ),
          ...asLeader(),
        };
      },
      createTopicsFailure,
    ),

    DeleteTopics: unary(
      ctx,
      'DeleteTopics',
      async (req) => {
        const outcome = await write('DeleteTopics', () => ctx.controller.deleteTopics(req.names), timeoutOf(req.timeoutMs));
        if (!outcome.ok) return { topics: req.names.map((name) => ({ name, ...errorOf(outcome) })), ...hintOf(outcome) };
        return {
          topics: outcome.response.map((r) => ({
            name: r.name,
            errorCode: r.errorCode,
            errorMessage: r.errorCode === ErrorCode.NONE ? '' : r.errorMessage,
          })),
          ...asLeader(),
        };
      },
      (req, f) => ({ topics: req.names.map((name) => ({ name, ...errorOf(f) })), ...hintOf(f) }),
    ),

    CreatePartitions: unary(
      ctx,
      'CreatePartitions',
      async (req) => {
        const requests = req.topics.map((t) => ({ name: t.name, count: t.count }));
        const outcome = await write(
          'CreatePartitions',
          () => ctx.controller.createPartitions(requests, req.validateOnly),
          timeoutOf(req.timeoutMs),
        );
        if (!outcome.ok) return { results: req.topics.map((t) => ({ name: t.name, ...errorOf(outcome) })), ...hintOf(outcome) };
        return {
          results: outcome.response.map((r) => ({
            name: r.name,
            errorCode: r.errorCode,
            errorMessage: r.errorCode === ErrorCode.NONE ? '' : r.errorMessage,
          })),
          ...asLeader(),
        };
      },
      (req, f) => ({ results: req.topics.map((t) => ({ name: t.name, ...errorOf(f) })), ...hintOf(f) }),
    ),

    IncrementalAlterConfigs: unary(
      ctx,
      'IncrementalAlterConfigs',
      async (req) => {
        const resources = req.resources.map(toAlterConfigsResource);
        const outcome = await write('IncrementalAlterConfigs', () => ctx.controller.incrementalAlterConfigs(resources, req.validateOnly));
        if (!outcome.ok) return alterConfigsFailure(req.resources, outcome);
        return {
          responses: outcome.response.map((r, i) => ({
            resourceType: req.resources[i]!.resourceType,
            resourceName: r.resourceName,
            errorCode: r.errorCode,
            errorMessage: r.errorCode === ErrorCode.NONE ? '' : r.errorMessage,
          })),
          ...asLeader(),
        };
      },
      (req, f) => alterConfigsFailure(req.resources, f),
    ),

    CreateAcls: unary(
      ctx,
      'CreateAcls',
      async (req) => {
        const creations = req.creations.map(aclFromWire);
        const outcome = await write('CreateAcls', () => ctx.controller.createAcls(creations));
        if (!outcome.ok) return { results: req.creations.map(() => errorOf(outcome)), ...hintOf(outcome) };
        return {
          results: outcome.response.map((r) => ({
            errorCode: r.errorCode,
            errorMessage: r.errorCode === ErrorCode.NONE ? '' : r.errorMessage,
          })),
          ...asLeader(),
        };
      },
      (req, f) => ({ results: req.creations.map(() => errorOf(f)), ...hintOf(f) }),
    ),

    DeleteAcls: unary(
      ctx,
      'DeleteAcls',
      async (req) => {
        const filters = req.filters.map(aclFilterFromWire);
        const outcome = await write('DeleteAcls', () => ctx.controller.deleteAcls(filters));
        if (!outcome.ok) return { filterResults: req.filters.map(() => ({ ...errorOf(outcome), matchingAcls: [] })), ...hintOf(outcome) };
        return {
          filterResults: outcome.response.map((r) =>
            r.errorCode === ErrorCode.NONE
              ? { errorCode: 0, errorMessage: '', matchingAcls: r.deleted.map((b) => ({ ...b })) }
              : { errorCode: r.errorCode, errorMessage: r.errorMessage, matchingAcls: [] },
          ),
          ...asLeader(),
        };
      },
      (req, f) => ({ filterResults: req.filters.map(() => ({ ...errorOf(f), matchingAcls: [] })), ...hintOf(f) }),
    ),

    AlterPartition: unary(
      ctx,
      'AlterPartition',
      async (req) => {
        const outcome = await write('AlterPartition', () => alterPartitions(ctx.controller, req));
        if (!outcome.ok) return alterPartitionFailure(req, outcome);
        return { ...outcome.response, ...asLeader() };
      },
      alterPartitionFailure,
    ),

    AllocateProducerIds: unary(
      ctx,
      'AllocateProducerIds',
      async (req) => {
        const outcome = await write('AllocateProducerIds', () => ctx.controller.allocateProducerIds(req.brokerId, req.brokerEpoch));
        if (!outcome.ok) return { ...errorOf(outcome), producerIdStart: -1, producerIdLen: 0, ...hintOf(outcome) };
        const r = outcome.response;
        if (r.errorCode !== ErrorCode.NONE)
          return { errorCode: r.errorCode, errorMessage: r.errorMessage, producerIdStart: -1, producerIdLen: 0, ...asLeader() };
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: '',
          producerIdStart: r.producerIdStart,
          producerIdLen: r.producerIdLen,
          ...asLeader(),
        };
      },
      (_req, f) => ({ ...errorOf(f), producerIdStart: -1, producerIdLen: 0, ...hintOf(f) }),
    ),

    AlterPartitionReassignments: unary(
      ctx,
      'AlterPartitionReassignments',
      async (req) => {
        const requests = req.topics.flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.name, partition: p.partition, replicas: p.cancel ? null : [...p.replicas] })),
        );
        const outcome = await write(
          'AlterPartitionReassignments',
          () => ctx.controller.alterPartitionReassignments(requests),
          timeoutOf(req.timeoutMs),
        );
        if (!outcome.ok) return alterReassignmentsFailure(req, outcome);
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: '',
          results: [...groupByTopic(outcome.response)].map(([name, ps]) => ({
            name,
            partitions: ps.map((r) => ({
              partition: r.partition,
              errorCode: r.errorCode,
              errorMessage: r.errorCode === ErrorCode.NONE ? '' : r.errorMessage,
            })),
          })),
          ...asLeader(),
        };
      },
      alterReassignmentsFailure,
    ),

    ElectLeaders: unary(
      ctx,
      'ElectLeaders',
      async (req) => {
        const electionType =
          req.electionType === 0 ? 'preferred' : req.electionType === 1 ? 'unclean' : (`type ${req.electionType}` as 'unclean');
        const partitions = req.topicPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
        const outcome = await write(
          'ElectLeaders',
          () => ctx.controller.electLeaders({ electionType, partitions }),
          timeoutOf(req.timeoutMs),
        );
        if (!outcome.ok) return electLeadersFailure(req, outcome);
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: '',
          results: [...groupByTopic(outcome.response.results)].map(([topic, ps]) => ({
            topic,
            partitions: ps.map((r) => ({
              partition: r.partition,
              errorCode: r.errorCode,
              errorMessage: r.errorCode === ErrorCode.NONE ? '' : r.errorMessage,
            })),
          })),
          ...asLeader(),
        };
      },
      electLeadersFailure,
    ),

    AlterUserScramCredentials: unary(
      ctx,
      'AlterUserScramCredentials',
      async (req) => {
        const outcome = await write(
          'AlterUserScramCredentials',
          () =>
            ctx.controller.alterUserScramCredentials(
              req.deletions.map((d) => ({ name: d.name, mechanism: d.mechanism })),
              req.upsertions.map((u) => ({
                name: u.name,
                mechanism: u.mechanism,
                iterations: u.iterations,
                salt: Buffer.from(u.salt),
                saltedPassword: Buffer.from(u.saltedPassword),
              })),
            ),
          timeoutOf(req.timeoutMs),
        );
        if (!outcome.ok) return alterScramFailure(req, outcome);
        return { results: outcome.response, ...asLeader() };
      },
      alterScramFailure,
    ),

    DescribeQuorum: unary(
      ctx,
      'DescribeQuorum',
      async () => {
        const d = ctx.describeQuorum();
        return { ...d, voters: d.voters.map((v) => ({ ...v })) };
      },
      (_req, f) => ({ ...errorOf(f), leaderId: ctx.leaderId(), leaderEpoch: ctx.leaderEpoch() }),
    ),
  };
}

// ---- mapping ----

function timeoutOf(timeoutMs: number): number {
  return timeoutMs > 0 ? timeoutMs : DEFAULT_WRITE_TIMEOUT_MS;
}

function aclFromWire(b: AclBinding__Output): AclBinding {
  return {
    resourceType: b.resourceType,
    resourceName: b.resourceName,
    patternType: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permissionType: b.permissionType,
  };
}

/** On the wire an empty name, principal or host means "any" (Kafka's null). */
function aclFilterFromWire(f: AclBindingFilter__Output): AclBindingFilter {
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

function errorOf(f: Pick<WriteFailure, 'errorCode' | 'errorMessage'>): { errorCode: number; errorMessage: string } {
  return { errorCode: f.errorCode, errorMessage: f.errorMessage };
}

/** The redirect a failed write carries: where the broker should send it next. */
function hintOf(f: Pick<WriteFailure, 'leaderId' | 'leaderEpoch'>): { leaderId: number; leaderEpoch: number } {
  return { leaderId: f.leaderId, leaderEpoch: f.leaderEpoch };
}

function createTopicsFailure(req: CreateTopicsRequest__Output, f: WriteFailure): CreateTopicsResponse {
  return {
    topics: req.topics.map((t) => ({ name: t.name, ...errorOf(f), numPartitions: -1, replicationFactor: -1, configs: {} })),
    ...hintOf(f),
  };
}

function toAlterConfigsResource(r: AlterConfigsResource__Output): AlterConfigsResource {
  // Unknown types and operations pass through under a name QuorumController rejects (INVALID_REQUEST),
  // so every resource keeps its place and its answer.
  const resourceType = configResourceKind(r.resourceType) ?? (`unknown resource type ${r.resourceType}` as ConfigResourceType);
  const configs = r.configs.map(
    (c): AlterConfigOp => ({
      name: c.name,
      op:
        c.configOperation === ConfigOperation.SET
          ? 'set'
          : c.configOperation === ConfigOperation.DELETE
            ? 'delete'
            : (`operation ${c.configOperation}` as AlterConfigOp['op']),
      value: c.value,
    }),
  );
  return { resourceType, resourceName: r.resourceName, configs };
}

function alterScramFailure(req: AlterUserScramCredentialsRequest__Output, f: WriteFailure) {
  const users = [...new Set([...req.deletions, ...req.upsertions].map((x) => x.name))];
  return { results: users.map((user) => ({ user, ...errorOf(f) })), ...hintOf(f) };
}

function alterConfigsFailure(resources: readonly AlterConfigsResource__Output[], f: WriteFailure) {
  return { responses: resources.map((r) => ({ resourceType: r.resourceType, resourceName: r.resourceName, ...errorOf(f) })), ...hintOf(f) };
}

/**
 * Every partition of one AlterPartition request against the same committed image, as one entry:
 * changes to distinct partitions are independent, and a partition named twice is refused.
 */
function alterPartitions(controller: QuorumController, req: AlterPartitionRequest__Output): ControllerResult<AlterPartitionResponse> {
  const broker = controller.image.broker(req.brokerId);
  let epochMatches = false;
  try {
    epochMatches = broker !== undefined && toBigInt(req.brokerEpoch) === BigInt(broker.brokerEpoch);
  } catch {
    epochMatches = false;
  }
  const records: MetadataRecord[] = [];
  const seen = new Set<string>();
  const topics = req.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((p): AlterPartitionPartitionResult => {
      const key = topicPartitionKey(topic.name, p.partition);
      if (seen.has(key)) {
        return {
          partition: p.partition,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `${topic.name}-${p.partition} appears more than once in the request`,
          leaderId: -1,
          leaderEpoch: -1,
          isr: [],
          partitionEpoch: -1,
        };
      }
      seen.add(key);
      const result = controller.alterPartition({
        brokerId: req.brokerId,
        brokerEpoch: req.brokerEpoch,
        topic: topic.name,
        partition: p.partition,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
        newIsr: p.newIsr,
      });
      records.push(...result.records);
      const r = result.response;
      if (r.errorCode !== ErrorCode.NONE) {
        return {
          partition: p.partition,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          leaderId: -1,
          leaderEpoch: -1,
          isr: [],
          partitionEpoch: -1,
        };
      }
      return {
        partition: p.partition,
        errorCode: ErrorCode.NONE,
        errorMessage: '',
        leaderId: r.leader,
        leaderEpoch: r.leaderEpoch,
        isr: [...r.isr],
        partitionEpoch: r.partitionEpoch,
      };
    }),
  }));
  const response: AlterPartitionResponse = epochMatches
    ? { errorCode: ErrorCode.NONE, errorMessage: '', topics }
    : {
        errorCode: ErrorCode.STALE_BROKER_EPOCH,
        errorMessage: `broker ${req.brokerId} is not registered at epoch ${req.brokerEpoch}`,
        topics,
      };
  return { response, records };
}

function alterReassignmentsFailure(req: AlterPartitionReassignmentsRequest__Output, f: WriteFailure): AlterPartitionReassignmentsResponse {
  return {
    ...errorOf(f),
    ...hintOf(f),
    results: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partition, ...errorOf(f) })),
    })),
  };
}

function electLeadersFailure(req: ElectLeadersRequest__Output, f: WriteFailure): ElectLeadersResponse {
  return {
    ...errorOf(f),
    ...hintOf(f),
    results: req.topicPartitions.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((partition) => ({ partition, ...errorOf(f) })),
    })),
  };
}

function alterPartitionFailure(req: AlterPartitionRequest__Output, f: WriteFailure): AlterPartitionResponse {
  return {
    ...errorOf(f),
    ...hintOf(f),
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        ...errorOf(f),
        leaderId: -1,
        leaderEpoch: -1,
        isr: [],
        partitionEpoch: -1,
      })),
    })),
  };
}

// ---- plumbing ----

/**
 * A unary handler that always answers: `run`'s result, or — when it throws — `onError` with an
 * UNKNOWN_SERVER_ERROR (logged). A gRPC error status is never used for application errors.
 */
function unary<Req, Res>(
  ctx: ControllerServiceContext,
  name: string,
  run: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
  onError: (req: Req, failure: WriteFailure) => Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => run(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          ctx.logger.error({ err, rpc: name }, 'controller request failed unexpectedly');
          const failure: WriteFailure = {
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            leaderId: ctx.leaderId(),
            leaderEpoch: ctx.leaderEpoch(),
            errorMessage: `${name} failed: ${err instanceof Error ? err.message : String(err)}`,
          };
          let res: Res;
          try {
            res = onError(call.request, failure);
          } catch {
            res = { errorCode: failure.errorCode, errorMessage: failure.errorMessage } as Res;
          }
          callback(null, res);
        },
      );
  };
}
