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
import { ErrorCode } from '@samsa/protocol';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { TransactionStateManager } from '../txn/transactionStateManager.js';
import { type KafkaApiHandler } from './kafkaApis.js';

export interface GroupApisDeps {
  coordinator: GroupCoordinator;
  /** FindCoordinator key type 1 (a transactional id) is answered by the transaction coordinator. */
  transactions?: TransactionStateManager;
  listenerNameOf: (connectionListener: string) => string | undefined;
}

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
  const { coordinator } = deps;

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
    async handle(req: SyncGroupRequest) {
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
    handle(req: HeartbeatRequest) {
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
    async handle(req: OffsetCommitRequest) {
      const offsets = req.topics.flatMap((t) =>
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
      const byTopic = new Map<string, Array<{ partitionIndex: number; errorCode: number }>>();
      for (const r of results) {
        const list = byTopic.get(r.topic) ?? [];
        list.push({ partitionIndex: r.partition, errorCode: r.errorCode });
        byTopic.set(r.topic, list);
      }
      return { throttleTimeMs: 0, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
    },
  };

  /** One group's offsets in OffsetFetch's topic layout; `topics` null or absent: every committed one. */
  /** requireStable (KIP-447): a partition with an offset pending in a transaction answers UNSTABLE_OFFSET_COMMIT. */
  const fetchGroup = (groupId: string, topics: OffsetFetchTopics[] | null | undefined, requireStable = false) => {
    const asked =
      topics === null || topics === undefined ? undefined : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
    const r = coordinator.fetchOffsets(groupId, asked);
    const partitionsOf = new Map<
      string,
      Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string | null; errorCode: number }>
    >();
    if (r.errorCode !== 0) {
      for (const t of asked ?? [])
        partitionsOf.set(
          t.topic,
          t.partitions.map((p) => ({
            partitionIndex: p,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: r.errorCode,
          })),
        );
    } else {
      for (const o of r.offsets) {
        const list = partitionsOf.get(o.topic) ?? [];
        const unstable = requireStable && coordinator.hasPendingTxnOffset(groupId, o.topic, o.partition);
        list.push({
          partitionIndex: o.partition,
          committedOffset: unstable ? -1n : o.offset,
          committedLeaderEpoch: unstable ? -1 : o.leaderEpoch,
          metadata: o.metadata,
          errorCode: unstable ? ErrorCode.UNSTABLE_OFFSET_COMMIT : 0,
        });
        partitionsOf.set(o.topic, list);
      }
    }
    return { errorCode: r.errorCode, topics: [...partitionsOf].map(([name, partitions]) => ({ name, partitions })) };
  };

  const offsetFetch: KafkaApiHandler = {
    apiKey: ApiKey.OffsetFetch,
    minVersion: 0,
    maxVersion: 8,
    handle(req: OffsetFetchRequest, ctx) {
      if (ctx.header.apiVersion >= 8) {
        return {
          throttleTimeMs: 0,
          groups: (req.groups ?? []).map((g) => ({ groupId: g.groupId, ...fetchGroup(g.groupId, g.topics, req.requireStable === true) })),
        };
      }
      const r = fetchGroup(s(req.groupId), req.topics, req.requireStable === true);
      return { throttleTimeMs: 0, errorCode: r.errorCode, topics: r.topics };
    },
  };

  const describeGroups: KafkaApiHandler = {
    apiKey: ApiKey.DescribeGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(req: DescribeGroupsRequest) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((id) => {
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
    handle(req: ListGroupsRequest) {
      const r = coordinator.listGroups(req.statesFilter ?? []);
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        groups: r.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state })),
      };
    },
  };

  const deleteGroups: KafkaApiHandler = {
    apiKey: ApiKey.DeleteGroups,
    minVersion: 0,
    maxVersion: 2,
    async handle(req: DeleteGroupsRequest) {
      const results = await Promise.all(
        req.groupsNames.map(async (groupId) => ({ groupId, errorCode: (await coordinator.deleteGroup(groupId)).errorCode })),
      );
      return { throttleTimeMs: 0, results };
    },
  };

  const offsetDelete: KafkaApiHandler = {
    apiKey: ApiKey.OffsetDelete,
    minVersion: 0,
    maxVersion: 0,
    async handle(req: OffsetDeleteRequest) {
      const r = await coordinator.deleteOffsets(
        req.groupId,
        req.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex }))),
      );
      const byTopic = new Map<string, Array<{ partitionIndex: number; errorCode: number }>>();
      for (const p of r.partitions) {
        const list = byTopic.get(p.topic) ?? [];
        list.push({ partitionIndex: p.partition, errorCode: p.errorCode });
        byTopic.set(p.topic, list);
      }
      return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
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
