/**
 * The samsa.v1.Groups gRPC service: wire messages (int64 as decimal strings) to the
 * GroupCoordinator and back. No request can crash the node: errors are Kafka codes with a
 * sentence, and an unexpected failure answers INTERNAL.
 */
import {
  ErrorCode,
  grpc,
  nestByTopic,
  toBigInt,
  toWire,
  type DeleteGroupsRequest__Output,
  type DeleteGroupsResponse,
  type DescribeGroupsRequest__Output,
  type DescribeGroupsResponse,
  type FindCoordinatorRequest__Output,
  type FindCoordinatorResponse,
  type GroupsHandlers,
  type HeartbeatRequest__Output,
  type HeartbeatResponse,
  type JoinGroupRequest__Output,
  type JoinGroupResponse,
  type LeaveGroupRequest__Output,
  type LeaveGroupResponse,
  type ListGroupsRequest__Output,
  type ListGroupsResponse,
  type OffsetCommitRequest__Output,
  type OffsetCommitResponse,
  type OffsetFetchRequest__Output,
  type OffsetFetchResponse,
  type OffsetDeleteRequest__Output,
  type OffsetDeleteResponse,
  type SyncGroupRequest__Output,
  type SyncGroupResponse,
  type TxnOffsetCommitRequest__Output,
  type TxnOffsetCommitResponse,
} from '@samsa/protocol';
import { AclOperation } from '@samsa/metadata';
import type { Logger } from 'pino';
import { widenFlowControlWindow } from '../server/flowControl.js';
import { identityOf } from '../server/principal.js';
import { allowAllAuthorizer, type RequestAuthorizer, type RequestIdentity } from '../security/authorizerService.js';
import type { GroupCoordinator } from './coordinator.js';
import { txnOffsetCommit } from '../txn/txnRequests.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

function unary<Req, Res>(
  logger: Logger,
  name: string,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>, who: RequestIdentity) => Promise<Res> | Res,
): Unary<Req, Res> {
  return (call, callback) => {
    widenFlowControlWindow(call);
    Promise.resolve()
      .then(() => fn(call.request, call, identityOf(call, name)))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          logger.error({ err, rpc: name }, 'request failed');
          callback({ code: grpc.status.INTERNAL, details: `${name} failed: ${err instanceof Error ? err.message : String(err)}` });
        },
      );
  };
}

/** Kafka's client host form, '/127.0.0.1', from grpc's peer string ('127.0.0.1:53211', '[::1]:53211', 'ipv4:...'). */
export function clientHostOf(peer: string): string {
  let host = peer.replace(/^ipv[46]:/, '');
  const colon = host.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(host.slice(colon + 1))) host = host.slice(0, colon);
  host = host.replace(/^\[(.*)\]$/, '$1');
  return `/${host}`;
}

/**
 * `listenerName`: the listener these handlers serve; FindCoordinator answers the coordinator's
 * address on it (a host client on EXTERNAL must not be sent to an INTERNAL address). Undefined: the
 * broker's one (inter-broker) address.
 */
export function groupsServiceHandlers(
  coordinator: GroupCoordinator,
  logger: Logger,
  listenerName?: string,
  authorizer: RequestAuthorizer = allowAllAuthorizer(),
  /** FindCoordinator key type 1 (transactional ids) goes here; without it, key type 1 is refused as before. */
  transactions?: { findCoordinator(transactionalId: string, listenerName?: string): Promise<FindCoordinatorResponse> },
): GroupsHandlers {
  const GROUP_DENIED = {
    errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    errorMessage: 'Group authorization failed: the principal lacks the ACL this operation needs on the group',
  };
  const TOPIC_DENIED = {
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    errorMessage: 'Topic authorization failed: the principal lacks the ACL this operation needs on the topic',
  };
  const may = (who: RequestIdentity, op: number, groupId: string) => authorizer.group(who, op, groupId);
  return {
    FindCoordinator: unary(
      logger,
      'FindCoordinator',
      async (req: FindCoordinatorRequest__Output, _call, who): Promise<FindCoordinatorResponse> => {
        const ok =
          req.keyType === 1 ? authorizer.transactionalId(who, AclOperation.DESCRIBE, req.key) : may(who, AclOperation.DESCRIBE, req.key);
        if (!ok)
          return req.keyType === 1
            ? {
                errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                errorMessage: 'Transactional id authorization failed',
                nodeId: -1,
                host: '',
                port: -1,
              }
            : { ...GROUP_DENIED, nodeId: -1, host: '', port: -1 };
        if (req.keyType === 1 && transactions) return transactions.findCoordinator(req.key, listenerName);
        return coordinator.findCoordinator(req.keyType, req.key, listenerName);
      },
    ),

    JoinGroup: unary(logger, 'JoinGroup', async (req: JoinGroupRequest__Output, call, who): Promise<JoinGroupResponse> => {
      if (!may(who, AclOperation.READ, req.groupId))
        return {
          ...GROUP_DENIED,
          generationId: -1,
          protocolType: '',
          protocolName: '',
          leader: '',
          memberId: req.memberId,
          members: [],
          skipAssignment: false,
        };
      const r = await coordinator.joinGroup({
        groupId: req.groupId,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        memberId: req.memberId,
        groupInstanceId: req.groupInstanceId,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
        clientId: req.clientId,
        clientHost: clientHostOf(call.getPeer()),
      });
      return {
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        generationId: r.generationId,
        protocolType: r.protocolType,
        protocolName: r.protocolName,
        leader: r.leader,
        memberId: r.memberId,
        members: r.members,
        skipAssignment: r.skipAssignment,
      };
    }),

    SyncGroup: unary(
      logger,
      'SyncGroup',
      async (req: SyncGroupRequest__Output, _call, who): Promise<SyncGroupResponse> =>
        !may(who, AclOperation.READ, req.groupId)
          ? { ...GROUP_DENIED, protocolType: '', protocolName: '', assignment: Buffer.alloc(0) }
          : coordinator.syncGroup({
              groupId: req.groupId,
              generationId: req.generationId,
              memberId: req.memberId,
              groupInstanceId: req.groupInstanceId,
              protocolType: req.protocolType,
              protocolName: req.protocolName,
              assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: Buffer.from(a.assignment) })),
            }),
    ),

    Heartbeat: unary(
      logger,
      'Heartbeat',
      (req: HeartbeatRequest__Output, _call, who): HeartbeatResponse =>
        !may(who, AclOperation.READ, req.groupId)
          ? GROUP_DENIED
          : coordinator.heartbeat({
              groupId: req.groupId,
              generationId: req.generationId,
              memberId: req.memberId,
              groupInstanceId: req.groupInstanceId,
            }),
    ),

    LeaveGroup: unary(
      logger,
      'LeaveGroup',
      (req: LeaveGroupRequest__Output, _call, who): LeaveGroupResponse =>
        !may(who, AclOperation.READ, req.groupId)
          ? { ...GROUP_DENIED, members: [] }
          : coordinator.leaveGroup({
              groupId: req.groupId,
              members: req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: m.reason })),
            }),
    ),

    OffsetCommit: unary(logger, 'OffsetCommit', async (req: OffsetCommitRequest__Output, _call, who): Promise<OffsetCommitResponse> => {
      const offsets = [];
      const invalid: Array<{ topic: string; partition: number; errorCode: number; errorMessage: string }> = [];
      // READ on the group, then READ on each topic (a denied topic's partitions are not committed).
      const groupOk = may(who, AclOperation.READ, req.groupId);
      for (const t of req.topics) {
        const denied = !groupOk ? GROUP_DENIED : !authorizer.topic(who, AclOperation.READ, t.name) ? TOPIC_DENIED : undefined;
        if (denied !== undefined) {
          for (const p of t.partitions) invalid.push({ topic: t.name, partition: p.partition, ...denied });
          continue;
        }
        for (const p of t.partitions) {
          let offset: bigint;
          try {
            offset = toBigInt(p.committedOffset);
          } catch {
            invalid.push({
              topic: t.name,
              partition: p.partition,
              errorCode: ErrorCode.INVALID_REQUEST,
              errorMessage: `committed offset '${p.committedOffset}' is not an int64`,
            });
            continue;
          }
          offsets.push({
            topic: t.name,
            partition: p.partition,
            offset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata,
          });
        }
      }
      const results =
        offsets.length === 0
          ? []
          : await coordinator.commitOffsets({
              groupId: req.groupId,
              generationId: req.generationId,
              memberId: req.memberId,
              groupInstanceId: req.groupInstanceId,
              offsets,
            });
      return {
        topics: nestByTopic([...results, ...invalid], (r) => ({
          partition: r.partition,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
        })),
      };
    }),

    /** Kafka's TxnOffsetCommit: the checks and the commit the Kafka handler uses (txn/txnRequests.ts). */
    TxnOffsetCommit: unary(
      logger,
      'TxnOffsetCommit',
      async (req: TxnOffsetCommitRequest__Output, _call, who): Promise<TxnOffsetCommitResponse> => {
        const invalid: Array<{ topic: string; partition: number; errorCode: number; errorMessage: string }> = [];
        const offsets = [];
        let producerId: bigint | undefined;
        try {
          producerId = toBigInt(req.producerId);
        } catch {
          producerId = undefined;
        }
        for (const t of req.topics)
          for (const p of t.partitions) {
            let offset: bigint | undefined;
            try {
              offset = toBigInt(p.committedOffset);
            } catch {
              offset = undefined;
            }
            if (offset === undefined || producerId === undefined)
              invalid.push({
                topic: t.name,
                partition: p.partition,
                errorCode: ErrorCode.INVALID_REQUEST,
                errorMessage:
                  producerId === undefined ? 'producer_id must be an integer' : `committed offset '${p.committedOffset}' is not an int64`,
              });
            else
              offsets.push({
                topic: t.name,
                partition: p.partition,
                offset,
                leaderEpoch: p.committedLeaderEpoch,
                metadata: p.committedMetadata,
              });
          }
        const results =
          offsets.length === 0 || producerId === undefined
            ? []
            : await txnOffsetCommit(authorizer, coordinator, who, {
                transactionalId: req.transactionalId,
                groupId: req.groupId,
                producerId,
                producerEpoch: req.producerEpoch,
                generationId: req.generationId,
                memberId: req.memberId,
                groupInstanceId: req.groupInstanceId,
                offsets,
              });
        return {
          topics: nestByTopic([...results, ...invalid], (r) => ({
            partition: r.partition,
            errorCode: r.errorCode,
            errorMessage: r.errorMessage,
          })),
        };
      },
    ),

    OffsetFetch: unary(logger, 'OffsetFetch', (req: OffsetFetchRequest__Output, _call, who): OffsetFetchResponse => {
      const topics = req.topics.length === 0 ? undefined : req.topics.map((t) => ({ topic: t.name, partitions: t.partitions }));
      // DESCRIBE on the group and on each topic; "all" leaves undescribable topics out.
      const r = may(who, AclOperation.DESCRIBE, req.groupId)
        ? coordinator.fetchOffsets(
            req.groupId,
            topics?.filter((t) => authorizer.topic(who, AclOperation.DESCRIBE, t.topic)),
          )
        : { ...GROUP_DENIED, offsets: [] };
      const deniedTopics =
        r.errorCode === 0 ? (topics ?? []).filter((t) => !authorizer.topic(who, AclOperation.DESCRIBE, t.topic, false)) : [];
      if (r.errorCode !== 0) {
        // As Kafka: the group-level error, and each asked partition with it too.
        return {
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          topics: (topics ?? []).map((t) => ({
            name: t.topic,
            partitions: t.partitions.map((partition) => ({
              partition,
              committedOffset: '-1',
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: r.errorCode,
              errorMessage: r.errorMessage,
            })),
          })),
        };
      }
      const offsets =
        topics === undefined ? r.offsets.filter((o) => authorizer.topic(who, AclOperation.DESCRIBE, o.topic, false)) : r.offsets;
      return {
        errorCode: 0,
        errorMessage: '',
        topics: [
          ...nestByTopic(offsets, (o) =>
            // KIP-447 require_stable: an offset still pending in a transaction is not answered yet.
            req.requireStable && coordinator.hasPendingTxnOffset(req.groupId, o.topic, o.partition)
              ? {
                  partition: o.partition,
                  committedOffset: '-1',
                  committedLeaderEpoch: -1,
                  metadata: '',
                  errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
                  errorMessage: `an offset of ${o.topic}-${o.partition} is pending in an open transaction of group '${req.groupId}'`,
                }
              : {
                  partition: o.partition,
                  committedOffset: toWire(o.offset),
                  committedLeaderEpoch: o.leaderEpoch,
                  metadata: o.metadata,
                  errorCode: 0,
                  errorMessage: '',
                },
          ),
          ...deniedTopics.map((t) => ({
            name: t.topic,
            partitions: t.partitions.map((partition) => ({
              partition,
              committedOffset: '-1',
              committedLeaderEpoch: -1,
              metadata: '',
              ...TOPIC_DENIED,
            })),
          })),
        ],
      };
    }),

    ListGroups: unary(logger, 'ListGroups', (req: ListGroupsRequest__Output, _call, who): ListGroupsResponse => {
      const r = coordinator.listGroups(req.statesFilter);
      const all = authorizer.cluster(who, AclOperation.DESCRIBE, false);
      return {
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        groups: r.groups
          .filter((g) => all || authorizer.group(who, AclOperation.DESCRIBE, g.groupId, false))
          .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state })),
      };
    }),

    DescribeGroups: unary(
      logger,
      'DescribeGroups',
      (req: DescribeGroupsRequest__Output, _call, who): DescribeGroupsResponse => ({
        groups: req.groups.map((id) => {
          if (!may(who, AclOperation.DESCRIBE, id))
            return { ...GROUP_DENIED, groupId: id, groupState: '', protocolType: '', protocolData: '', generationId: -1, members: [] };
          const d = coordinator.describeGroup(id);
          return {
            errorCode: d.errorCode,
            errorMessage: d.errorMessage,
            groupId: d.groupId,
            groupState: d.state,
            protocolType: d.protocolType,
            protocolData: d.protocolName,
            generationId: d.generationId,
            members: d.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              memberMetadata: m.metadata,
              memberAssignment: m.assignment,
            })),
          };
        }),
      }),
    ),

    DeleteGroups: unary(
      logger,
      'DeleteGroups',
      async (req: DeleteGroupsRequest__Output, _call, who): Promise<DeleteGroupsResponse> => ({
        results: await Promise.all(
          req.groupsNames.map(async (id) => ({
            groupId: id,
            ...(may(who, AclOperation.DELETE, id) ? await coordinator.deleteGroup(id) : GROUP_DENIED),
          })),
        ),
      }),
    ),
    OffsetDelete: unary(
      logger,
      'OffsetDelete',
      async (req: OffsetDeleteRequest__Output): Promise<OffsetDeleteResponse> =>
        coordinator.deleteOffsets(
          req.groupId,
          req.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition }))),
        ),
    ),
  };
}
