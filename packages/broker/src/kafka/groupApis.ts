/**
 * Consumer groups over the Kafka wire protocol (Kafka's KafkaApis.handleJoinGroupRequest, ...,
 * in front of its GroupCoordinator): the same GroupCoordinator the samsa.v1.Groups gRPC service
 * calls, so a KafkaJS member, a librdkafka member and a Samsa SDK member can share one group
 * (the coordinator picks a protocol every member names; subscription and assignment bytes are
 * Kafka's ConsumerProtocol layouts on both paths) and offsets committed through either path are
 * read through the other.
 *
 * Versions before KIP-394 (JoinGroup v0-3) have no MEMBER_ID_REQUIRED round: the handler joins
 * again at once with the id the coordinator handed out, as Kafka does for those versions.
 */
import { ApiKey } from '@samsa/kafka';
import { AclOperation } from '@samsa/metadata';
import { ErrorCode, nestByTopic } from '@samsa/protocol';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { RequestAuthorizer } from '../security/authorizerService.js';
import type { TransactionStateManager } from '../txn/transactionStateManager.js';
import { type KafkaApiHandler, type KafkaRequestContext } from './kafkaApis.js';

export interface GroupApisDeps {
  coordinator: GroupCoordinator;
  /** FindCoordinator key type 1 (a transactional id) is answered by the transaction coordinator. */
  transactions?: TransactionStateManager;
  listenerNameOf: (connectionListener: string) => string | undefined;
  authorizer: RequestAuthorizer;
}

const GROUP_DENIED = ErrorCode.GROUP_AUTHORIZATION_FAILED;
const TOPIC_DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED;

type Str = string | null | undefined;
const s = (v: Str): string => v ?? '';
const orNull = (v: string): string | null => (v === '' ? null : v);

interface FindCoordinatorRequest {
  key?: string;
  keyType?: number;
  coordinatorKeys?: string[];
}
interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs?: number;
  memberId: string;
  groupInstanceId?: Str;
  protocolType: string;
  protocols: Array<{ name: string; metadata: Buffer }>;
  reason?: Str;
}
interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: Str;
  protocolType?: Str;
  protocolName?: Str;
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}
interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: Str;
}
interface LeaveGroupRequest {
  groupId: string;
  memberId?: string;
  members?: Array<{ memberId: string; groupInstanceId?: Str; reason?: Str }>;
}
interface OffsetCommitRequest {
  groupId: string;
  generationIdOrMemberEpoch?: number;
  generationId?: number;
  memberId?: string;
  groupInstanceId?: Str;
  topics: Array<{
    name: string;
    partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch?: number; committedMetadata: Str }>;
  }>;
}
interface OffsetFetchTopics {
  name: string;
  partitionIndexes: number[];
}
interface OffsetFetchRequest {
  requireStable?: boolean;
  groupId?: string;
  topics?: OffsetFetchTopics[] | null;
  groups?: Array<{ groupId: string; topics: OffsetFetchTopics[] | null }>;
}
interface DescribeGroupsRequest {
  groups: string[];
}
interface ListGroupsRequest {
  statesFilter?: string[];
}
interface DeleteGroupsRequest {
  groupsNames: string[];
}
interface OffsetDeleteRequest {
  groupId: string;
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number }> }>;
}

export function groupApis(deps: GroupApisDeps): KafkaApiHandler[] {
  const { coordinator, authorizer } = deps;
  const mayGroup = (ctx: KafkaRequestContext, op: number, groupId: string, logDenial = true) =>
    authorizer.group(ctx.identity, op, groupId, logDenial);
  const mayTopic = (ctx: KafkaRequestContext, op: number, topic: string, logDenial = true) =>
    authorizer.topic(ctx.identity, op, topic, logDenial);
  /** FindCoordinator: DESCRIBE on the group (key type 0) or transactional id (1). */
  const coordinatorDenied = (ctx: KafkaRequestContext, keyType: number, key: string): number | undefined => {
    if (keyType === 1)
      return authorizer.transactionalId(ctx.identity, AclOperation.DESCRIBE, key)
        ? undefined
        : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    return mayGroup(ctx, AclOperation.DESCRIBE, key) ? undefined : GROUP_DENIED;
  };

  const findCoordinator: KafkaApiHandler = {
    apiKey: ApiKey.FindCoordinator,
    minVersion: 0,
    maxVersion: 4,
    async handle(req: FindCoordinatorRequest, ctx) {
      const listener = deps.listenerNameOf(ctx.connection.listenerName);
      const keyType = req.keyType ?? 0;
      const find = (key: string) =>
        keyType === 1 && deps.transactions
          ? deps.transactions.findCoordinator(key, listener)
          : coordinator.findCoordinator(keyType, key, listener);
      if (ctx.header.apiVersion >= 4) {
        const coordinators = await Promise.all(
          (req.coordinatorKeys ?? []).map(async (key) => {
            const denied = coordinatorDenied(ctx, keyType, key);
            if (denied !== undefined) return { key, nodeId: -1, host: '', port: -1, errorCode: denied, errorMessage: null };
            const r = await find(key);
            return {
              key,
              nodeId: r.nodeId,
              host: r.host,
              port: r.port,
              errorCode: r.errorCode,
              errorMessage: orNull(r.errorMessage ?? ''),
            };
          }),
        );
        return { throttleTimeMs: 0, coordinators };
      }
      const denied = coordinatorDenied(ctx, keyType, s(req.key));
      if (denied !== undefined) return { throttleTimeMs: 0, errorCode: denied, errorMessage: null, nodeId: -1, host: '', port: -1 };
      const r = await find(s(req.key));
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        errorMessage: orNull(r.errorMessage ?? ''),
        nodeId: r.nodeId,
        host: r.host,
        port: r.port,
      };
    },
  };

  const joinGroup: KafkaApiHandler = {
    apiKey: ApiKey.JoinGroup,
    minVersion: 0,
    maxVersion: 9,
    async handle(req: JoinGroupRequest, ctx) {
      if (!mayGroup(ctx, AclOperation.READ, req.groupId)) {
        return {
          throttleTimeMs: 0,
          errorCode: GROUP_DENIED,
          generationId: -1,
          protocolType: null,
          protocolName: ctx.header.apiVersion >= 7 ? null : '',
          leader: '',
          skipAssignment: false,
          memberId: req.memberId,
          members: [],
        };
      }
      const join = (memberId: string) =>
        coordinator.joinGroup({
          groupId: req.groupId,
          sessionTimeoutMs: req.sessionTimeoutMs,
          rebalanceTimeoutMs: req.rebalanceTimeoutMs ?? req.sessionTimeoutMs,
          memberId,
          groupInstanceId: s(req.groupInstanceId),
          protocolType: req.protocolType,
          protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
          clientId: s(ctx.header.clientId),
          clientHost: ctx.connection.clientHost,
        });
      let r = await join(req.memberId);
      if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED && ctx.header.apiVersion < 4) r = await join(r.memberId);
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        generationId: r.generationId,
        protocolType: orNull(r.protocolType),
        protocolName: ctx.header.apiVersion >= 7 ? orNull(r.protocolName) : r.protocolName,
        leader: r.leader,
        skipAssignment: r.skipAssignment,
        memberId: r.memberId,
        members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: orNull(m.groupInstanceId), metadata: m.metadata })),
      };
    },
  };

  const syncGroup: KafkaApiHandler = {
    apiKey: ApiKey.SyncGroup,
    minVersion: 0,
    maxVersion: 5,
    async handle(req: SyncGroupRequest, ctx) {
      if (!mayGroup(ctx, AclOperation.READ, req.groupId))
        return { throttleTimeMs: 0, errorCode: GROUP_DENIED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
      const r = await coordinator.syncGroup({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: s(req.groupInstanceId),
        protocolType: s(req.protocolType),
        protocolName: s(req.protocolName),
        assignments: req.assignments,
      });
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        protocolType: orNull(r.protocolType),
        protocolName: orNull(r.protocolName),
        assignment: r.assignment,
      };
    },
  };

  const heartbeat: KafkaApiHandler = {
    apiKey: ApiKey.Heartbeat,
    minVersion: 0,
    maxVersion: 4,
    handle(req: HeartbeatRequest, ctx) {
      if (!mayGroup(ctx, AclOperation.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: GROUP_DENIED };
      const r = coordinator.heartbeat({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: s(req.groupInstanceId),
      });
      return { throttleTimeMs: 0, errorCode: r.errorCode };
    },
  };

  const leaveGroup: KafkaApiHandler = {
    apiKey: ApiKey.LeaveGroup,
    minVersion: 0,
    maxVersion: 5,
    handle(req: LeaveGroupRequest, ctx) {
      if (!mayGroup(ctx, AclOperation.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: GROUP_DENIED, members: [] };
      const members =
        ctx.header.apiVersion >= 3
          ? (req.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: s(m.groupInstanceId), reason: s(m.reason) }))
          : [{ memberId: s(req.memberId), groupInstanceId: '', reason: '' }];
      const r = coordinator.leaveGroup({ groupId: req.groupId, members });
      // v0-2 name one member: its error is the answer's.
      const errorCode = ctx.header.apiVersion >= 3 || r.errorCode !== 0 ? r.errorCode : (r.members[0]?.errorCode ?? 0);
      return {
        throttleTimeMs: 0,
        errorCode,
        members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: orNull(m.groupInstanceId), errorCode: m.errorCode })),
      };
    },
  };

  const offsetCommit: KafkaApiHandler = {
    apiKey: ApiKey.OffsetCommit,
    minVersion: 0,
    maxVersion: 8,
    async handle(req: OffsetCommitRequest, ctx) {
      // READ on the group, then READ on each topic: a denied topic's partitions answer
      // TOPIC_AUTHORIZATION_FAILED and are not committed.
      const groupOk = mayGroup(ctx, AclOperation.READ, req.groupId);
      const readable = new Map<string, boolean>();
      if (groupOk) for (const t of req.topics) if (!readable.has(t.name)) readable.set(t.name, mayTopic(ctx, AclOperation.READ, t.name));
      const refused = req.topics
        .filter((t) => !groupOk || !readable.get(t.name))
        .map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: groupOk ? TOPIC_DENIED : GROUP_DENIED })),
        }));
      const offsets = req.topics
        .filter((t) => groupOk && readable.get(t.name))
        .flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch ?? -1,
            metadata: s(p.committedMetadata),
          })),
        );
      const results =
        offsets.length === 0
          ? []
          : await coordinator.commitOffsets({
              groupId: req.groupId,
              generationId: req.generationIdOrMemberEpoch ?? req.generationId ?? -1,
              memberId: s(req.memberId),
              groupInstanceId: s(req.groupInstanceId),
              offsets,
            });
      return {
        throttleTimeMs: 0,
        topics: [...refused, ...nestByTopic(results, (r) => ({ partitionIndex: r.partition, errorCode: r.errorCode }))],
      };
    },
  };

  /**
   * One group's offsets in OffsetFetch's topic layout; `topics` null or absent: every committed one.
   * requireStable (KIP-447): a partition with an offset pending in a transaction answers UNSTABLE_OFFSET_COMMIT.
   */
  const fetchGroup = (ctx: KafkaRequestContext, groupId: string, topics: OffsetFetchTopics[] | null | undefined, requireStable = false) => {
    // DESCRIBE on the group, and on each topic: a named undescribable topic answers
    // TOPIC_AUTHORIZATION_FAILED, "all topics" leaves undescribable ones out.
    if (!mayGroup(ctx, AclOperation.DESCRIBE, groupId)) {
      return {
        errorCode: GROUP_DENIED,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: GROUP_DENIED,
          })),
        })),
      };
    }
    const deniedTopics = (topics ?? []).filter((t) => !mayTopic(ctx, AclOperation.DESCRIBE, t.name));
    const asked =
      topics === null || topics === undefined
        ? undefined
        : topics.filter((t) => !deniedTopics.includes(t)).map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
    const r =
      asked !== undefined && asked.length === 0 && deniedTopics.length > 0
        ? { errorCode: 0, offsets: [] }
        : coordinator.fetchOffsets(groupId, asked);
    if (r.errorCode !== 0) {
      const failed = (asked ?? []).map((t) => ({
        name: t.topic,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p,
          committedOffset: -1n,
          committedLeaderEpoch: -1,
          metadata: '',
          errorCode: r.errorCode,
        })),
      }));
      return { errorCode: r.errorCode, topics: failed };
    }
    const committed = nestByTopic(r.offsets, (o) => {
      const unstable = requireStable && coordinator.hasPendingTxnOffset(groupId, o.topic, o.partition);
      return {
        partitionIndex: o.partition,
        committedOffset: unstable ? -1n : o.offset,
        committedLeaderEpoch: unstable ? -1 : o.leaderEpoch,
        metadata: o.metadata,
        errorCode: unstable ? ErrorCode.UNSTABLE_OFFSET_COMMIT : 0,
      };
    });
    // "All topics" leaves out the ones the principal may not describe; named ones answer TOPIC_AUTHORIZATION_FAILED.
    const visible = asked === undefined ? committed.filter((t) => mayTopic(ctx, AclOperation.DESCRIBE, t.name, false)) : committed;
    const denied = deniedTopics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({
        partitionIndex,
        committedOffset: -1n,
        committedLeaderEpoch: -1,
        metadata: '',
        errorCode: TOPIC_DENIED,
      })),
    }));
    return { errorCode: r.errorCode, topics: [...visible, ...denied] };
  };

  const offsetFetch: KafkaApiHandler = {
    apiKey: ApiKey.OffsetFetch,
    minVersion: 0,
    maxVersion: 8,
    handle(req: OffsetFetchRequest, ctx) {
      if (ctx.header.apiVersion >= 8) {
        return {
          throttleTimeMs: 0,
          groups: (req.groups ?? []).map((g) => ({
            groupId: g.groupId,
            ...fetchGroup(ctx, g.groupId, g.topics, req.requireStable === true),
          })),
        };
      }
      const r = fetchGroup(ctx, s(req.groupId), req.topics, req.requireStable === true);
      return { throttleTimeMs: 0, errorCode: r.errorCode, topics: r.topics };
    },
  };

  const describeGroups: KafkaApiHandler = {
    apiKey: ApiKey.DescribeGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(req: DescribeGroupsRequest, ctx) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((id) => {
          if (!mayGroup(ctx, AclOperation.DESCRIBE, id)) {
            return {
              errorCode: GROUP_DENIED,
              groupId: id,
              groupState: '',
              protocolType: '',
              protocolData: '',
              members: [],
              authorizedOperations: -2147483648,
            };
          }
          const d = coordinator.describeGroup(id);
          return {
            errorCode: d.errorCode,
            groupId: id,
            groupState: d.state,
            protocolType: d.protocolType,
            protocolData: d.protocolName,
            members: d.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: orNull(m.groupInstanceId),
              clientId: m.clientId,
              clientHost: m.clientHost,
              memberMetadata: m.metadata,
              memberAssignment: m.assignment,
            })),
            authorizedOperations: -2147483648,
          };
        }),
      };
    },
  };

  const listGroups: KafkaApiHandler = {
    apiKey: ApiKey.ListGroups,
    minVersion: 0,
    maxVersion: 4,
    handle(req: ListGroupsRequest, ctx) {
      const r = coordinator.listGroups(req.statesFilter ?? []);
      // DESCRIBE on the cluster lists every group; otherwise only those the principal may DESCRIBE (no audit line: a filter).
      const all = authorizer.cluster(ctx.identity, AclOperation.DESCRIBE, false);
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        groups: r.groups
          .filter((g) => all || mayGroup(ctx, AclOperation.DESCRIBE, g.groupId, false))
          .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state })),
      };
    },
  };

  const deleteGroups: KafkaApiHandler = {
    apiKey: ApiKey.DeleteGroups,
    minVersion: 0,
    maxVersion: 2,
    async handle(req: DeleteGroupsRequest, ctx) {
      const results = await Promise.all(
        req.groupsNames.map(async (groupId) => ({
          groupId,
          errorCode: mayGroup(ctx, AclOperation.DELETE, groupId) ? (await coordinator.deleteGroup(groupId)).errorCode : GROUP_DENIED,
        })),
      );
      return { throttleTimeMs: 0, results };
    },
  };

  const offsetDelete: KafkaApiHandler = {
    apiKey: ApiKey.OffsetDelete,
    minVersion: 0,
    maxVersion: 0,
    async handle(req: OffsetDeleteRequest, ctx) {
      if (!mayGroup(ctx, AclOperation.DELETE, req.groupId)) return { errorCode: GROUP_DENIED, throttleTimeMs: 0, topics: [] };
      const readable = new Map<string, boolean>();
      for (const t of req.topics) if (!readable.has(t.name)) readable.set(t.name, mayTopic(ctx, AclOperation.READ, t.name));
      const asked = req.topics.filter((t) => readable.get(t.name));
      // Every topic denied: nothing to delete. No topics at all still goes to the coordinator (GROUP_ID_NOT_FOUND, ...).
      const r =
        asked.length === 0 && req.topics.length > 0
          ? { errorCode: 0, partitions: [] }
          : await coordinator.deleteOffsets(
              req.groupId,
              asked.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex }))),
            );
      const denied = req.topics
        .filter((x) => !readable.get(x.name))
        .map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: TOPIC_DENIED })),
        }));
      const topics = [...denied, ...nestByTopic(r.partitions, (p) => ({ partitionIndex: p.partition, errorCode: p.errorCode }))];
      return { errorCode: r.errorCode, throttleTimeMs: 0, topics };
    },
  };

  return [
    findCoordinator,
    joinGroup,
    syncGroup,
    heartbeat,
    leaveGroup,
    offsetCommit,
    offsetFetch,
    describeGroups,
    listGroups,
    deleteGroups,
    offsetDelete,
  ];
}
