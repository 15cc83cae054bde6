/**
 * Consumer-group administration for Admin: list, describe, delete, committed offsets, offset
 * resets and lag (kafka-consumer-groups). Every request but ListGroups goes to the group's
 * coordinator, re-found when it moved; ListGroups asks every broker (each knows only its groups).
 */
import { ErrorCode, groupByTopic, nestByTopic, toBigInt, topicPartitionKey as key } from '@samsa/protocol';
import type { Cluster } from '../cluster/cluster.js';
import { listOffsets } from '../cluster/offsets.js';
import type { GroupRouter } from '../consumer/group/coordinator.js';
import { decodeAssignment, fromTopicPartitions } from '../consumer/group/protocol.js';
import { InvalidRequestError, SamsaAggregateError, SamsaError, errorFromCode } from '../errors.js';
import type { Retrier } from '../retry.js';

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  /** Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  state: string;
  /** The broker coordinating it. */
  coordinator: number;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded from the consumer protocol; empty for other protocol types. */
  assignment: Array<{ topic: string; partition: number }>;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  /** The assignor in use. */
  protocol: string;
  generationId: number;
  coordinator: number;
  members: GroupMemberDescription[];
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1n when the group has no offset for the partition. */
  offset: bigint;
  metadata: string;
}

export interface PartitionGroupLag {
  topic: string;
  partition: number;
  /** Undefined when the group never committed for this partition. */
  committedOffset: bigint | undefined;
  logEndOffset: bigint;
  /** logEndOffset - committedOffset; undefined without a committed offset. */
  lag: bigint | undefined;
  /** The member owning the partition now, if any. */
  memberId: string | undefined;
  clientId: string | undefined;
  host: string | undefined;
}

export interface GroupAdminDeps {
  cluster: Cluster;
  groups: GroupRouter;
  retrier: Retrier;
}

function checkGroupIds(ids: readonly string[], what: string): void {
  if (!Array.isArray(ids) || ids.length === 0) throw new InvalidRequestError(`${what} needs at least one group id`);
  for (const id of ids)
    if (typeof id !== 'string' || id.length === 0) throw new InvalidRequestError(`${what}: group ids must be non-empty strings`);
}

function throwAll(errors: SamsaError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new SamsaAggregateError(errors);
}

export async function listGroups(deps: GroupAdminDeps): Promise<ListedGroup[]> {
  await deps.retrier.run(() => deps.cluster.refreshMetadata([]), { what: 'listGroups' });
  const brokers = deps.cluster.info().brokers;
  const out = new Map<string, ListedGroup>();
  await Promise.all(
    brokers.map(async (b) => {
      const response = await deps.retrier.run(
        async () => {
          const r = await deps.groups.connection(b.address).listGroups({ statesFilter: [] }, deps.cluster.requestOptions());
          if (r.errorCode !== ErrorCode.NONE) throw errorFromCode(r.errorCode, r.errorMessage);
          return r;
        },
        { what: `listGroups on broker ${b.nodeId}` },
      );
      for (const g of response.groups)
        out.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, coordinator: b.nodeId });
    }),
  );
  return [...out.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
}

export async function describeGroups(deps: GroupAdminDeps, groupIds: readonly string[]): Promise<GroupDescription[]> {
  checkGroupIds(groupIds, 'describeGroups');
  return Promise.all(
    groupIds.map((groupId) =>
      deps.groups.withCoordinator(groupId, deps.retrier, async (c) => {
        const r = await c.connection.describeGroups({ groups: [groupId] }, deps.cluster.requestOptions());
        const g = r.groups.find((x) => x.groupId === groupId) ?? r.groups[0];
        if (!g) throw new SamsaError(ErrorCode.UNKNOWN_SERVER_ERROR, `the coordinator did not describe group ${groupId}`);
        if (g.errorCode !== ErrorCode.NONE) throw errorFromCode(g.errorCode, g.errorMessage);
        return {
          groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          protocol: g.protocolData,
          generationId: g.generationId,
          coordinator: c.nodeId,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId || null,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment: g.protocolType === 'consumer' ? safeAssignment(Buffer.from(m.memberAssignment)) : [],
          })),
        };
      }),
    ),
  );
}

function safeAssignment(bytes: Buffer): Array<{ topic: string; partition: number }> {
  try {
    return fromTopicPartitions(decodeAssignment(bytes).partitions);
  } catch {
    return [];
  }
}

export async function deleteGroups(deps: GroupAdminDeps, groupIds: readonly string[]): Promise<void> {
  checkGroupIds(groupIds, 'deleteGroups');
  const failed: SamsaError[] = [];
  await Promise.all(
    groupIds.map(async (groupId) => {
      try {
        await deps.groups.withCoordinator(groupId, deps.retrier, async (c) => {
          const r = await c.connection.deleteGroups({ groupsNames: [groupId] }, deps.cluster.requestOptions());
          const result = r.results.find((x) => x.groupId === groupId);
          if (result && result.errorCode !== ErrorCode.NONE) {
            const error = errorFromCode(result.errorCode, result.errorMessage || `cannot delete group ${groupId}`);
            // Retriable codes (coordinator moved) are retried; the answers (non-empty, not found) are final.
            throw error;
          }
        });
      } catch (error) {
        failed.push(error instanceof SamsaError ? error : new SamsaError(ErrorCode.UNKNOWN_SERVER_ERROR, String(error)));
      }
    }),
  );
  throwAll(failed);
}

/** One partition's outcome of deleteOffsets: `error` set when its offset stays (e.g. GROUP_SUBSCRIBED_TO_TOPIC). */
export interface DeletedOffset {
  topic: string;
  partition: number;
  error: SamsaError | undefined;
}

/**
 * Kafka's deleteConsumerGroupOffsets (OffsetDelete, KIP-496): removes the group's committed offsets
 * of `partitions`. A group-level refusal (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...) throws; a
 * partition of a topic that a member of the group subscribes to keeps its offset and reports
 * GroupSubscribedToTopic in its result.
 */
export async function deleteOffsets(
  deps: GroupAdminDeps,
  groupId: string,
  partitions: ReadonlyArray<{ topic: string; partition: number }>,
): Promise<DeletedOffset[]> {
  checkGroupIds([groupId], 'deleteOffsets');
  if (!Array.isArray(partitions) || partitions.length === 0) throw new InvalidRequestError('deleteOffsets needs at least one partition');
  for (const p of partitions)
    if (typeof p?.topic !== 'string' || p.topic.length === 0 || !Number.isInteger(p.partition) || p.partition < 0)
      throw new InvalidRequestError('deleteOffsets: each partition needs a topic name and a partition number >= 0');
  const response = await deps.groups.withCoordinator(groupId, deps.retrier, async (c) => {
    const r = await c.connection.offsetDelete(
      { groupId, topics: [...groupByTopic(partitions)].map(([name, list]) => ({ name, partitions: list.map((p) => p.partition) })) },
      deps.cluster.requestOptions(),
    );
    // Retriable codes (coordinator moved, loading) are retried by withCoordinator; the rest are the answer.
    if (r.errorCode !== ErrorCode.NONE) throw errorFromCode(r.errorCode, r.errorMessage || `cannot delete offsets of group ${groupId}`);
    return r;
  });
  const byKey = new Map(response.partitions.map((p) => [key(p.topic, p.partition), p.errorCode]));
  return partitions.map(({ topic, partition }) => {
    const answered = byKey.has(key(topic, partition));
    const code = byKey.get(key(topic, partition)) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    const message = answered ? undefined : `the coordinator did not answer for ${topic}-${partition}`;
    return { topic, partition, error: code === ErrorCode.NONE ? undefined : errorFromCode(code, message, undefined, { topic, partition }) };
  });
}

export async function fetchOffsets(deps: GroupAdminDeps, groupId: string, topics?: readonly string[]): Promise<CommittedOffset[]> {
  checkGroupIds([groupId], 'fetchOffsets');
  const r = await deps.groups.withCoordinator(groupId, deps.retrier, async (c) => {
    const response = await c.connection.offsetFetch(
      // Every committed offset of the group, filtered here: OffsetFetch names partitions per topic,
      // and a topic with an empty partition list answers none.
      { groupId, topics: [] },
      deps.cluster.requestOptions(),
    );
    if (response.errorCode !== ErrorCode.NONE) throw errorFromCode(response.errorCode, response.errorMessage);
    return response;
  });
  const out: CommittedOffset[] = [];
  const wanted = topics === undefined ? undefined : new Set(topics);
  for (const t of r.topics) {
    if (wanted && !wanted.has(t.name)) continue;
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE)
        throw errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: t.name, partition: p.partition });
      out.push({ topic: t.name, partition: p.partition, offset: toBigInt(p.committedOffset, -1n), metadata: p.metadata });
    }
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/**
 * Commits `offsets` for the group from outside it. Refused, as by kafka-consumer-groups, while the
 * group has members: their commits would overwrite the reset.
 */
export async function resetOffsets(
  deps: GroupAdminDeps,
  groupId: string,
  offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>,
): Promise<void> {
  checkGroupIds([groupId], 'resetOffsets');
  for (const o of offsets) {
    if (typeof o.offset !== 'bigint' || o.offset < 0n)
      throw new InvalidRequestError(`resetOffsets: offset of ${o.topic}-${o.partition} must be a non-negative bigint`);
  }
  const [description] = await describeGroups(deps, [groupId]);
  if (description && description.members.length > 0) {
    throw new SamsaError(
      ErrorCode.NON_EMPTY_GROUP,
      `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${description.state}.`,
      { retriable: false },
    );
  }
  if (offsets.length === 0) return;
  const topics = nestByTopic(offsets, (o) => ({
    partition: o.partition,
    committedOffset: o.offset.toString(),
    committedLeaderEpoch: -1,
    committedMetadata: '',
  }));
  await deps.groups.withCoordinator(groupId, deps.retrier, async (c) => {
    const r = await c.connection.offsetCommit(
      { groupId, generationId: -1, memberId: '', groupInstanceId: '', topics },
      deps.cluster.requestOptions(),
    );
    const errors: SamsaError[] = [];
    for (const t of r.topics)
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE)
          errors.push(errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: t.name, partition: p.partition }));
      }
    const retriable = errors.find((e) => e.retriable);
    if (retriable) throw retriable;
    throwAll(errors);
  });
}

/** Committed offset, log end offset and lag per partition the group has an offset for or owns. */
export async function groupLag(deps: GroupAdminDeps, groupId: string): Promise<PartitionGroupLag[]> {
  const [[description], committed] = await Promise.all([describeGroups(deps, [groupId]), fetchOffsets(deps, groupId)]);
  const rows = new Map<string, PartitionGroupLag>();
  for (const c of committed) {
    rows.set(key(c.topic, c.partition), {
      topic: c.topic,
      partition: c.partition,
      committedOffset: c.offset >= 0n ? c.offset : undefined,
      logEndOffset: -1n,
      lag: undefined,
      memberId: undefined,
      clientId: undefined,
      host: undefined,
    });
  }
  for (const m of description?.members ?? []) {
    for (const tp of m.assignment) {
      const k = key(tp.topic, tp.partition);
      const row = rows.get(k) ?? {
        topic: tp.topic,
        partition: tp.partition,
        committedOffset: undefined,
        logEndOffset: -1n,
        lag: undefined,
        memberId: undefined,
        clientId: undefined,
        host: undefined,
      };
      row.memberId = m.memberId;
      row.clientId = m.clientId;
      row.host = m.clientHost;
      rows.set(k, row);
    }
  }
  // Offsets of a topic that no longer exists (or of partitions it no longer has) stay in the
  // answer with no log end offset and no lag, as kafka-consumer-groups shows them, instead of failing.
  const byTopic = [...groupByTopic(rows.values())];
  const metadata = byTopic.length === 0 ? undefined : await deps.cluster.refreshMetadata(byTopic.map(([topic]) => topic));
  const counts = new Map((metadata?.topics ?? []).filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]));
  await Promise.all(
    byTopic.map(async ([topic, all]) => {
      const list = all.filter((r) => r.partition < (counts.get(topic) ?? 0));
      if (list.length === 0) return;
      const ends = await listOffsets(
        { cluster: deps.cluster, retrier: deps.retrier },
        topic,
        list.map((r) => ({ partition: r.partition, spec: 'latest' as const })),
      );
      list.forEach((row, i) => {
        row.logEndOffset = ends[i]!.offset;
        if (row.committedOffset !== undefined)
          row.lag = row.logEndOffset > row.committedOffset ? row.logEndOffset - row.committedOffset : 0n;
      });
    }),
  );
  return [...rows.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}
