/**
 * The consumer-group state machine of one coordinator (README.md): every group it has loaded,
 * their members, generations and committed offsets. PURE: no timers and no I/O. Time is passed
 * in (`now`, epoch ms); timeouts fire from `tick(now)`; writes to `__consumer_offsets` go through
 * the injected `persist`, whose `done` may be called at once (tests) or later (the real append).
 * Requests that wait (JoinGroup until the join completes, SyncGroup until the leader's
 * assignment is stored) are answered through the callback they bring.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, topicPartitionKey as offsetKey } from '@samsa/protocol';
import { subscribedTopics } from './consumerProtocol.js';
import type { CoordinatorRecord, GroupMetadataValue, OffsetCommitValue } from './records.js';
import { PendingTxnOffsets } from '../txn/pendingTxnOffsets.js';

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupStateName[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms (Kafka 6000). */
  groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms (Kafka 1800000). */
  groupMaxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms (Kafka 3000). */
  groupInitialRebalanceDelayMs: number;
  /** group.max.size (Kafka: Int.MaxValue). */
  groupMaxSize: number;
  /** offset.metadata.max.bytes (Kafka 4096). */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes in ms (Kafka 7 days). */
  offsetsRetentionMs: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = {
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3_000,
  groupMaxSize: 2_147_483_647,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
};

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** '' on a first join. */
  memberId: string;
  /** '' for a dynamic member. */
  groupInstanceId: string;
  protocolType: string;
  protocols: Protocol[];
  clientId: string;
  clientHost: string;
}

export interface JoinResult {
  errorCode: number;
  errorMessage: string;
  generationId: number;
  protocolType: string;
  protocolName: string;
  leader: string;
  memberId: string;
  members: Array<{ memberId: string; groupInstanceId: string; metadata: Buffer }>;
  skipAssignment: boolean;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string;
  protocolType: string;
  protocolName: string;
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}

export interface SyncResult {
  errorCode: number;
  errorMessage: string;
  protocolType: string;
  protocolName: string;
  assignment: Buffer;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string;
}

export interface ErrorResult {
  errorCode: number;
  errorMessage: string;
}

export interface LeaveRequest {
  groupId: string;
  members: Array<{ memberId: string; groupInstanceId: string; reason: string }>;
}

export interface LeaveResult extends ErrorResult {
  members: Array<{ memberId: string; groupInstanceId: string; errorCode: number; errorMessage: string }>;
}

export interface CommitPartition {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
}

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string;
  offsets: CommitPartition[];
}

export interface CommitPartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId: string;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

export interface GroupDescription extends ErrorResult {
  groupId: string;
  state: GroupStateName;
  protocolType: string;
  protocolName: string;
  generationId: number;
  members: DescribedMember[];
}

/** A group's committed offsets as the metrics see them (read-only copies). */
export interface GroupOffsetsView {
  groupId: string;
  state: GroupStateName;
  offsets: Array<{ topic: string; partition: number; offset: bigint; commitTimestamp: number }>;
}

/** `done(errorCode, errorMessage, baseOffset)`: errorCode is the append's (NONE once the HW passed the batch). */
export type PersistDone = (errorCode: number, errorMessage: string, baseOffset: bigint) => void;

/** TxnOffsetCommit: a commit inside the producer's transaction (KIP-98, KIP-447). */
export interface TxnCommitRequest extends CommitRequest {
  producerId: bigint;
  producerEpoch: number;
}

export interface GroupCoordinatorHooks {
  /**
   * Appends `records` (in this order, one batch) to the group's `__consumer_offsets` partition with
   * acks=all; with `txn`, as a transactional batch of that producer (TxnOffsetCommit).
   */
  persist(groupId: string, records: CoordinatorRecord[], done: PersistDone, txn?: { producerId: bigint; producerEpoch: number }): void;
  /** A new member id for a joining member (Kafka: clientId + '-' + UUID). */
  newMemberId?(clientId: string): string;
  /** Told about transitions and removals (logging). */
  onEvent?(groupId: string, event: string, fields?: Record<string, unknown>): void;
}

const EMPTY = Buffer.alloc(0);

class Member {
  joinCallback: ((r: JoinResult) => void) | undefined;
  syncCallback: ((r: SyncResult) => void) | undefined;
  assignment: Buffer = EMPTY;
  heartbeatDeadline = 0;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocolType: string,
    public protocols: Protocol[],
  ) {}

  metadataFor(protocol: string | null): Buffer {
    if (protocol === null) return EMPTY;
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  matches(protocols: Protocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata))
    );
  }
}

interface CommittedOffset {
  topic: string;
  partition: number;
  value: OffsetCommitValue;
  /** Where the record sits in `__consumer_offsets`: a later completion of an earlier write never overwrites. */
  recordOffset: bigint;
}

class Group {
  state: GroupStateName = 'Empty';
  generation = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** In join order. */
  readonly members = new Map<string, Member>();
  /** group_instance_id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED → when they are forgotten. */
  readonly pendingMembers = new Map<string, number>();
  /** Members of the generation just completed that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  syncDeadline: number | undefined;
  rebalanceDeadline: number | undefined;
  initialDelayDeadline: number | undefined;
  initialDelayRemainingMs = 0;
  newMemberAdded = false;
  currentStateTimestamp: number;
  readonly offsets = new Map<string, CommittedOffset>();
  /** Offset writes not yet answered: an Empty group with some is not expired (Kafka's pendingOffsetCommits). */
  pendingCommits = 0;
  /** Dropped from the coordinator (partition unloaded): late completions answer NOT_COORDINATOR. */
  unloaded = false;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.currentStateTimestamp = now;
  }

  get hasAllMembersJoined(): boolean {
    for (const m of this.members.values()) if (!m.joinCallback) return false;
    return this.pendingMembers.size === 0;
  }

  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  isStaticMemberFenced(instanceId: string, memberId: string): boolean {
    const current = this.staticMembers.get(instanceId);
    return current !== undefined && current !== memberId;
  }
}

function err(code: number, message: string): ErrorResult {
  return { errorCode: code, errorMessage: message };
}

/** Maps an append error to what a group operation answers (Kafka's GroupMetadataManager). */
export function groupAppendError(code: number, forCommit: boolean): number {
  switch (code) {
    case ErrorCode.NONE:
      return ErrorCode.NONE;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
    case ErrorCode.FENCED_LEADER_EPOCH:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return forCommit ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return forCommit ? code : ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

function errorJoin(memberId: string, code: number, message: string): JoinResult {
  return {
    errorCode: code,
    errorMessage: message,
    generationId: -1,
    protocolType: '',
    protocolName: '',
    leader: '',
    memberId,
    members: [],
    skipAssignment: false,
  };
}

function errorSync(code: number, message: string): SyncResult {
  return { errorCode: code, errorMessage: message, protocolType: '', protocolName: '', assignment: EMPTY };
}

export class GroupCoordinatorState {
  private readonly groups = new Map<string, Group>();
  /** Per group: offsets committed inside open transactions, invisible until their marker. */
  private readonly txnOffsets = new Map<string, PendingTxnOffsets>();
  readonly config: GroupCoordinatorConfig;

  constructor(
    private readonly hooks: GroupCoordinatorHooks,
    config: Partial<GroupCoordinatorConfig> = {},
  ) {
    this.config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...config };
  }

  // ---- queries ----

  hasGroup(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  stateOf(groupId: string): GroupStateName | undefined {
    return this.groups.get(groupId)?.state;
  }

  listGroups(statesFilter: string[] = []): Array<{ groupId: string; protocolType: string; state: GroupStateName }> {
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const out: Array<{ groupId: string; protocolType: string; state: GroupStateName }> = [];
    for (const g of this.groups.values()) {
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription {
    const g = this.groups.get(groupId);
    if (!g)
      return { errorCode: 0, errorMessage: '', groupId, state: 'Dead', protocolType: '', protocolName: '', generationId: -1, members: [] };
    const stable = g.state === 'Stable';
    return {
      errorCode: 0,
      errorMessage: '',
      groupId,
      state: g.state,
      protocolType: g.protocolType ?? '',
      protocolName: g.protocolName ?? '',
      generationId: g.generation,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId ?? '',
        clientId: m.clientId,
        clientHost: m.clientHost,
        // As Kafka's GroupSummary: metadata and assignment only while Stable.
        metadata: stable ? m.metadataFor(g.protocolName) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /** Committed offsets: `topics` undefined means all of them; a partition without one answers offset -1. */
  fetchOffsets(groupId: string, topics: Array<{ topic: string; partitions: number[] }> | undefined): FetchedOffset[] {
    const g = this.groups.get(groupId);
    if (topics === undefined) {
      if (!g) return [];
      return [...g.offsets.values()].map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.value.offset,
        leaderEpoch: o.value.leaderEpoch,
        metadata: o.value.metadata,
      }));
    }
    return topics.flatMap((t) =>
      t.partitions.map((partition) => {
        const o = g?.offsets.get(offsetKey(t.topic, partition));
        return o
          ? { topic: t.topic, partition, offset: o.value.offset, leaderEpoch: o.value.leaderEpoch, metadata: o.value.metadata }
          : { topic: t.topic, partition, offset: -1n, leaderEpoch: -1, metadata: '' };
      }),
    );
  }

  committedOffsets(): GroupOffsetsView[] {
    return [...this.groups.values()].map((g) => ({
      groupId: g.groupId,
      state: g.state,
      offsets: [...g.offsets.values()].map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.value.offset,
        commitTimestamp: o.value.commitTimestamp,
      })),
    }));
  }

  /** The earliest time at which `tick` has something to do (undefined: nothing pending). */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    const consider = (t: number | undefined) => {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    };
    for (const g of this.groups.values()) {
      for (const d of g.pendingMembers.values()) consider(d);
      consider(g.initialDelayDeadline ?? g.rebalanceDeadline);
      if (g.pendingSync.size > 0) consider(g.syncDeadline);
      for (const m of g.members.values()) if (!m.joinCallback && !m.syncCallback) consider(m.heartbeatDeadline);
    }
    return next;
  }

  // ---- JoinGroup ----

  join(req: JoinRequest, now: number, respond: (r: JoinResult) => void): void {
    if (req.groupId === '') return respond(errorJoin(req.memberId, ErrorCode.INVALID_GROUP_ID, 'the group id must not be empty'));
    const { groupMinSessionTimeoutMs: min, groupMaxSessionTimeoutMs: max } = this.config;
    if (req.sessionTimeoutMs < min || req.sessionTimeoutMs > max) {
      return respond(
        errorJoin(
          req.memberId,
          ErrorCode.INVALID_SESSION_TIMEOUT,
          `session timeout ${req.sessionTimeoutMs} ms is outside the broker's bounds [${min}, ${max}] (group.min/max.session.timeout.ms)`,
        ),
      );
    }
    if (req.rebalanceTimeoutMs <= 0) {
      return respond(
        errorJoin(req.memberId, ErrorCode.INVALID_REQUEST, `rebalance timeout must be positive, got ${req.rebalanceTimeoutMs}`),
      );
    }
    const isUnknown = req.memberId === '';
    let g = this.groups.get(req.groupId);
    if (!g) {
      if (!isUnknown)
        return respond(
          errorJoin(
            req.memberId,
            ErrorCode.UNKNOWN_MEMBER_ID,
            `group '${req.groupId}' has no member '${req.memberId}' (the group does not exist)`,
          ),
        );
      g = new Group(req.groupId, now);
      this.groups.set(req.groupId, g);
    }
    if (g.state === 'Dead') {
      return respond(
        errorJoin(req.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE, `group '${req.groupId}' is being removed; find the coordinator again`),
      );
    }
    const instanceId = req.groupInstanceId === '' ? null : req.groupInstanceId;
    const knownStatic = instanceId !== null && g.staticMembers.has(instanceId);
    if (!g.members.has(req.memberId) && !knownStatic && g.members.size >= this.config.groupMaxSize) {
      return respond(
        errorJoin(
          req.memberId,
          ErrorCode.GROUP_MAX_SIZE_REACHED,
          `group '${req.groupId}' has reached group.max.size=${this.config.groupMaxSize}`,
        ),
      );
    }
    const protocolError = this.checkProtocols(g, req);
    if (protocolError) return respond(errorJoin(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolError));

    if (isUnknown) {
      const newId = this.hooks.newMemberId?.(req.clientId) ?? `${req.clientId === '' ? 'member' : req.clientId}-${randomUUID()}`;
      if (instanceId !== null) {
        if (knownStatic) return this.replaceStaticMember(g, g.staticMembers.get(instanceId)!, newId, req, now, respond);
        return this.addMemberAndRebalance(g, newId, req, now, respond);
      }
      // KIP-394: the member must come back with this id, so a lost response cannot leave a ghost member.
      g.pendingMembers.set(newId, now + req.sessionTimeoutMs);
      return respond(errorJoin(newId, ErrorCode.MEMBER_ID_REQUIRED, 'join again with the member id given in this response'));
    }

    if (g.pendingMembers.has(req.memberId)) {
      g.pendingMembers.delete(req.memberId);
      return this.addMemberAndRebalance(g, req.memberId, req, now, respond);
    }
    const invalid = this.validateMember(g, req.memberId, instanceId);
    if (invalid) return respond(errorJoin(req.memberId, invalid.errorCode, invalid.errorMessage));
    const member = g.members.get(req.memberId)!;
    switch (g.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(g, member, req, now, respond);
      case 'CompletingRebalance':
        if (member.matches(req.protocols)) {
          // A lost JoinGroup response: the member gets the current generation again.
          member.heartbeatDeadline = now + member.sessionTimeoutMs;
          return respond(this.joinResponse(g, member, g.leaderId === member.memberId));
        }
        return this.updateMemberAndRebalance(g, member, req, now, respond);
      case 'Stable':
        if (g.leaderId === member.memberId || !member.matches(req.protocols)) {
          // The leader rejoins to trigger a rebalance (e.g. its metadata changed); so does a changed subscription.
          return this.updateMemberAndRebalance(g, member, req, now, respond);
        }
        member.heartbeatDeadline = now + member.sessionTimeoutMs;
        return respond(this.joinResponse(g, member, false));
      default:
        return respond(
          errorJoin(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' is ${g.state}: it has no member '${req.memberId}'`),
        );
    }
  }

  /** Why `req`'s protocols cannot join `g`, or undefined. */
  private checkProtocols(g: Group, req: JoinRequest): string | undefined {
    if (req.protocolType === '' || req.protocols.length === 0) return 'a member must name a protocol type and at least one protocol';
    const others = [...g.members.values()].filter((m) => m.memberId !== req.memberId);
    if (others.length === 0) return undefined;
    if (g.protocolType !== null && req.protocolType !== g.protocolType) {
      return `protocol type '${req.protocolType}' differs from the group's '${g.protocolType}'`;
    }
    const common = req.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
    if (!common) {
      return `none of the protocols [${req.protocols.map((p) => p.name).join(', ')}] is supported by every member of group '${g.groupId}'`;
    }
    return undefined;
  }

  /** UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID as Kafka's validateCurrentMember, or undefined. */
  private validateMember(g: Group, memberId: string, instanceId: string | null): ErrorResult | undefined {
    if (instanceId !== null && g.isStaticMemberFenced(instanceId, memberId)) {
      return err(
        ErrorCode.FENCED_INSTANCE_ID,
        `static member '${instanceId}' of group '${g.groupId}' is now member '${g.staticMembers.get(instanceId)}', not '${memberId}': this instance was fenced by a newer one`,
      );
    }
    if (!g.members.has(memberId)) {
      return err(ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' has no member '${memberId}'`);
    }
    return undefined;
  }

  private addMemberAndRebalance(g: Group, memberId: string, req: JoinRequest, now: number, respond: (r: JoinResult) => void): void {
    const member = new Member(
      memberId,
      req.groupInstanceId === '' ? null : req.groupInstanceId,
      req.clientId,
      req.clientHost,
      req.sessionTimeoutMs,
      req.rebalanceTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    if (g.members.size === 0) g.protocolType = req.protocolType;
    g.leaderId ??= memberId;
    g.members.set(memberId, member);
    if (member.groupInstanceId !== null) g.staticMembers.set(member.groupInstanceId, memberId);
    member.joinCallback = respond;
    member.heartbeatDeadline = now + req.sessionTimeoutMs;
    if (g.initialDelayDeadline !== undefined) g.newMemberAdded = true;
    this.hooks.onEvent?.(g.groupId, 'member added', { memberId, groupInstanceId: member.groupInstanceId });
    this.maybePrepareRebalance(g, now, `member ${memberId} joined`);
  }

  private updateMemberAndRebalance(g: Group, member: Member, req: JoinRequest, now: number, respond: (r: JoinResult) => void): void {
    member.protocols = req.protocols;
    member.protocolType = req.protocolType;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    const previous = member.joinCallback;
    member.joinCallback = respond;
    previous?.(errorJoin(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS, 'superseded by a newer JoinGroup of the same member'));
    this.maybePrepareRebalance(g, now, `member ${member.memberId} rejoined`);
  }

  /** KIP-345: a static instance restarted with a new member id takes the old member's place. */
  private replaceStaticMember(
    g: Group,
    oldId: string,
    newId: string,
    req: JoinRequest,
    now: number,
    respond: (r: JoinResult) => void,
  ): void {
    const member = g.members.get(oldId)!;
    const fenced = `static member '${member.groupInstanceId}' rejoined as member '${newId}': this instance was fenced`;
    const oldJoin = member.joinCallback;
    const oldSync = member.syncCallback;
    member.joinCallback = undefined;
    member.syncCallback = undefined;
    oldJoin?.(errorJoin(oldId, ErrorCode.FENCED_INSTANCE_ID, fenced));
    oldSync?.(errorSync(ErrorCode.FENCED_INSTANCE_ID, fenced));
    const protocolsUnchanged = member.matches(req.protocols) && req.protocolType === member.protocolType;
    // Re-key the member, keeping its place in join order.
    const entries = [...g.members.entries()];
    g.members.clear();
    for (const [id, m] of entries) g.members.set(id === oldId ? newId : id, m);
    member.memberId = newId;
    g.staticMembers.set(member.groupInstanceId!, newId);
    if (g.leaderId === oldId) g.leaderId = newId;
    if (g.pendingSync.delete(oldId)) g.pendingSync.add(newId);
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.heartbeatDeadline = now + req.sessionTimeoutMs;
    this.hooks.onEvent?.(g.groupId, 'static member replaced', {
      groupInstanceId: member.groupInstanceId,
      oldMemberId: oldId,
      newMemberId: newId,
    });
    if (g.state === 'Stable' && protocolsUnchanged) {
      // No rebalance: persist the new member id, then hand back the current generation; the
      // member's SyncGroup returns its old assignment. A static leader is told to skip assigning (KIP-814).
      const generation = g.generation;
      this.hooks.persist(g.groupId, [{ type: 'group', group: g.groupId, value: this.groupValue(g) }], (code, message) => {
        if (g.unloaded)
          return respond(errorJoin(newId, ErrorCode.NOT_COORDINATOR, `this broker stopped coordinating group '${g.groupId}'`));
        const mapped = groupAppendError(code, false);
        if (mapped !== ErrorCode.NONE) return respond(errorJoin(newId, mapped, `storing the replaced static member failed: ${message}`));
        if (g.generation !== generation || member.memberId !== newId) {
          return respond(errorJoin(newId, ErrorCode.REBALANCE_IN_PROGRESS, `group '${g.groupId}' started a rebalance; join again`));
        }
        const isLeader = g.leaderId === newId;
        respond({ ...this.joinResponse(g, member, isLeader), skipAssignment: isLeader });
      });
      return;
    }
    member.protocols = req.protocols;
    member.protocolType = req.protocolType;
    member.joinCallback = respond;
    this.maybePrepareRebalance(g, now, `static member ${member.groupInstanceId} rejoined with changed protocols`);
  }

  private joinResponse(g: Group, member: Member, includeMembers: boolean): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: '',
      generationId: g.generation,
      protocolType: g.protocolType ?? '',
      protocolName: g.protocolName ?? '',
      leader: g.leaderId ?? '',
      memberId: member.memberId,
      members: includeMembers
        ? [...g.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId ?? '',
            metadata: m.metadataFor(g.protocolName),
          }))
        : [],
      skipAssignment: false,
    };
  }

  // ---- rebalancing ----

  private maybePrepareRebalance(g: Group, now: number, reason: string): void {
    if (g.state === 'Stable' || g.state === 'CompletingRebalance' || g.state === 'Empty') this.prepareRebalance(g, now, reason);
    else if (g.state === 'PreparingRebalance') this.maybeCompleteJoin(g, now);
  }

  private prepareRebalance(g: Group, now: number, reason: string): void {
    if (g.state === 'CompletingRebalance') {
      // The members waiting in SyncGroup must rejoin: the assignment they wait for will not come.
      for (const m of g.members.values()) {
        const cb = m.syncCallback;
        m.syncCallback = undefined;
        cb?.(errorSync(ErrorCode.REBALANCE_IN_PROGRESS, `group '${g.groupId}' is rebalancing again: ${reason}`));
      }
    }
    g.pendingSync.clear();
    g.syncDeadline = undefined;
    const wasEmpty = g.state === 'Empty';
    this.transition(g, 'PreparingRebalance', now, reason);
    const timeout = g.rebalanceTimeoutMs;
    g.rebalanceDeadline = now + timeout;
    const delay = Math.min(this.config.groupInitialRebalanceDelayMs, timeout);
    if (wasEmpty && delay > 0) {
      // Kafka's InitialDelayedJoin: wait for more members before the first generation.
      g.initialDelayDeadline = now + delay;
      g.initialDelayRemainingMs = Math.max(timeout - delay, 0);
      g.newMemberAdded = false;
      return;
    }
    this.maybeCompleteJoin(g, now);
  }

  private maybeCompleteJoin(g: Group, now: number): void {
    if (g.state !== 'PreparingRebalance' || g.initialDelayDeadline !== undefined) return;
    if (g.hasAllMembersJoined) this.completeJoin(g, now);
  }

  /** Kafka's onCompleteJoin: drops members that did not rejoin, starts the next generation, answers the joins. */
  private completeJoin(g: Group, now: number): void {
    g.rebalanceDeadline = undefined;
    g.initialDelayDeadline = undefined;
    for (const m of [...g.members.values()]) {
      if (!m.joinCallback) this.removeMember(g, m, 'did not rejoin within the rebalance timeout');
    }
    if (g.leaderId === null || !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value ?? null;
    g.generation++;
    if (g.members.size === 0) {
      g.protocolName = null;
      this.transition(g, 'Empty', now, 'no member rejoined');
      this.persistQuietly(g, [{ type: 'group', group: g.groupId, value: this.groupValue(g) }]);
      return;
    }
    g.protocolName = this.selectProtocol(g);
    this.transition(g, 'CompletingRebalance', now, `generation ${g.generation} joined`);
    g.syncDeadline = now + g.rebalanceTimeoutMs;
    for (const m of g.members.values()) {
      const cb = m.joinCallback!;
      m.joinCallback = undefined;
      m.heartbeatDeadline = now + m.sessionTimeoutMs;
      g.pendingSync.add(m.memberId);
      cb(this.joinResponse(g, m, m.memberId === g.leaderId));
    }
  }

  private selectProtocol(g: Group): string {
    const members = [...g.members.values()];
    const candidates = members[0]!.protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const leader = g.members.get(g.leaderId!) ?? members[0]!;
    const order = leader.protocols.map((p) => p.name).filter((n) => candidates.includes(n));
    const votes = new Map<string, number>();
    for (const m of members) {
      const choice = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = order[0]!;
    for (const name of order) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  private transition(g: Group, to: GroupStateName, now: number, reason: string): void {
    const from = g.state;
    g.state = to;
    g.currentStateTimestamp = now;
    if (from !== to) this.hooks.onEvent?.(g.groupId, 'state', { from, to, generation: g.generation, reason });
  }

  /** Takes `m` out of the group (its waiting requests are the caller's to answer). */
  private removeMember(g: Group, m: Member, reason: string): void {
    g.members.delete(m.memberId);
    if (m.groupInstanceId !== null && g.staticMembers.get(m.groupInstanceId) === m.memberId) g.staticMembers.delete(m.groupInstanceId);
    g.pendingSync.delete(m.memberId);
    if (g.leaderId === m.memberId) {
      let next: string | null = null;
      for (const other of g.members.values())
        if (other.joinCallback) {
          next = other.memberId;
          break;
        }
      g.leaderId = next ?? g.members.keys().next().value ?? null;
    }
    this.hooks.onEvent?.(g.groupId, 'member removed', { memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason });
  }

  /** Kafka's removeMemberAndUpdateGroup. */
  private removeMemberAndUpdateGroup(g: Group, m: Member, now: number, reason: string): void {
    const join = m.joinCallback;
    const sync = m.syncCallback;
    m.joinCallback = undefined;
    m.syncCallback = undefined;
    join?.(errorJoin(m.memberId, ErrorCode.UNKNOWN_MEMBER_ID, `member '${m.memberId}' was removed: ${reason}`));
    sync?.(errorSync(ErrorCode.UNKNOWN_MEMBER_ID, `member '${m.memberId}' was removed: ${reason}`));
    this.removeMember(g, m, reason);
    if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.prepareRebalance(g, now, `member ${m.memberId} ${reason}`);
    else if (g.state === 'PreparingRebalance') this.maybeCompleteJoin(g, now);
  }

  // ---- SyncGroup / Heartbeat / LeaveGroup ----

  sync(req: SyncRequest, now: number, respond: (r: SyncResult) => void): void {
    const g = this.groups.get(req.groupId);
    if (!g) return respond(errorSync(ErrorCode.UNKNOWN_MEMBER_ID, `group '${req.groupId}' does not exist`));
    if (g.state === 'Dead') return respond(errorSync(ErrorCode.COORDINATOR_NOT_AVAILABLE, `group '${req.groupId}' is being removed`));
    const invalid = this.validateMember(g, req.memberId, req.groupInstanceId === '' ? null : req.groupInstanceId);
    if (invalid) return respond(errorSync(invalid.errorCode, invalid.errorMessage));
    if (req.generationId !== g.generation) {
      return respond(
        errorSync(ErrorCode.ILLEGAL_GENERATION, `generation ${req.generationId} is not group '${g.groupId}''s current ${g.generation}`),
      );
    }
    if (req.protocolType !== '' && req.protocolType !== (g.protocolType ?? '')) {
      return respond(
        errorSync(
          ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
          `protocol type '${req.protocolType}' is not the group's '${g.protocolType ?? ''}'`,
        ),
      );
    }
    if (req.protocolName !== '' && req.protocolName !== (g.protocolName ?? '')) {
      return respond(
        errorSync(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `protocol '${req.protocolName}' is not the group's '${g.protocolName ?? ''}'`),
      );
    }
    const member = g.members.get(req.memberId)!;
    switch (g.state) {
      case 'Empty':
        return respond(errorSync(ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' is empty`));
      case 'PreparingRebalance':
        return respond(errorSync(ErrorCode.REBALANCE_IN_PROGRESS, `group '${g.groupId}' is rebalancing: join again`));
      case 'Stable':
        g.pendingSync.delete(member.memberId);
        member.heartbeatDeadline = now + member.sessionTimeoutMs;
        return respond({
          errorCode: 0,
          errorMessage: '',
          protocolType: g.protocolType ?? '',
          protocolName: g.protocolName ?? '',
          assignment: member.assignment,
        });
      case 'CompletingRebalance': {
        g.pendingSync.delete(member.memberId);
        member.heartbeatDeadline = now + member.sessionTimeoutMs;
        const previous = member.syncCallback;
        member.syncCallback = respond;
        previous?.(errorSync(ErrorCode.REBALANCE_IN_PROGRESS, 'superseded by a newer SyncGroup of the same member'));
        if (member.memberId !== g.leaderId) return;
        const assignments = new Map<string, Buffer>();
        for (const a of req.assignments) if (g.members.has(a.memberId)) assignments.set(a.memberId, a.assignment);
        const generation = g.generation;
        this.hooks.persist(g.groupId, [{ type: 'group', group: g.groupId, value: this.groupValue(g, assignments) }], (code, message) => {
          if (g.unloaded || g.state !== 'CompletingRebalance' || g.generation !== generation) return; // answered by the unload / new rebalance
          const mapped = groupAppendError(code, false);
          if (mapped !== ErrorCode.NONE) {
            for (const m of g.members.values()) {
              const cb = m.syncCallback;
              m.syncCallback = undefined;
              cb?.(errorSync(mapped, `storing the group's assignment failed: ${message}`));
            }
            this.prepareRebalance(g, now, 'storing the assignment failed');
            return;
          }
          for (const m of g.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY;
          this.transition(g, 'Stable', now, `generation ${g.generation} assigned`);
          for (const m of g.members.values()) {
            const cb = m.syncCallback;
            m.syncCallback = undefined;
            cb?.({
              errorCode: 0,
              errorMessage: '',
              protocolType: g.protocolType ?? '',
              protocolName: g.protocolName ?? '',
              assignment: m.assignment,
            });
          }
        });
        return;
      }
      default:
        return respond(errorSync(ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' is ${g.state}`));
    }
  }

  heartbeat(req: HeartbeatRequest, now: number): ErrorResult {
    const g = this.groups.get(req.groupId);
    if (!g) return err(ErrorCode.UNKNOWN_MEMBER_ID, `group '${req.groupId}' does not exist`);
    if (g.state === 'Dead') return err(ErrorCode.COORDINATOR_NOT_AVAILABLE, `group '${req.groupId}' is being removed`);
    if (g.state === 'Empty') return err(ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' is empty`);
    const invalid = this.validateMember(g, req.memberId, req.groupInstanceId === '' ? null : req.groupInstanceId);
    if (invalid) return invalid;
    if (req.generationId !== g.generation) {
      return err(ErrorCode.ILLEGAL_GENERATION, `generation ${req.generationId} is not group '${g.groupId}''s current ${g.generation}`);
    }
    const member = g.members.get(req.memberId)!;
    member.heartbeatDeadline = now + member.sessionTimeoutMs;
    if (g.state === 'PreparingRebalance') return err(ErrorCode.REBALANCE_IN_PROGRESS, `group '${g.groupId}' is rebalancing: join again`);
    return err(ErrorCode.NONE, '');
  }

  leave(req: LeaveRequest, now: number): LeaveResult {
    const g = this.groups.get(req.groupId);
    const results: LeaveResult['members'] = [];
    if (g?.state === 'Dead') return { ...err(ErrorCode.COORDINATOR_NOT_AVAILABLE, `group '${req.groupId}' is being removed`), members: [] };
    for (const leaving of req.members) {
      const base = { memberId: leaving.memberId, groupInstanceId: leaving.groupInstanceId };
      if (!g) {
        results.push({ ...base, ...err(ErrorCode.UNKNOWN_MEMBER_ID, `group '${req.groupId}' does not exist`) });
        continue;
      }
      let memberId = leaving.memberId;
      if (leaving.groupInstanceId !== '') {
        const current = g.staticMembers.get(leaving.groupInstanceId);
        if (current === undefined) {
          results.push({
            ...base,
            ...err(ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' has no static member '${leaving.groupInstanceId}'`),
          });
          continue;
        }
        if (memberId !== '' && memberId !== current) {
          results.push({
            ...base,
            ...err(
              ErrorCode.FENCED_INSTANCE_ID,
              `static member '${leaving.groupInstanceId}' is now member '${current}', not '${memberId}'`,
            ),
          });
          continue;
        }
        memberId = current;
      } else if (g.pendingMembers.delete(memberId)) {
        results.push({ ...base, ...err(ErrorCode.NONE, '') });
        this.maybeCompleteJoin(g, now);
        continue;
      }
      const m = g.members.get(memberId);
      if (!m) {
        results.push({ ...base, ...err(ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' has no member '${memberId}'`) });
        continue;
      }
      this.removeMemberAndUpdateGroup(g, m, now, `left the group${leaving.reason ? ` (${leaving.reason})` : ''}`);
      results.push({ ...base, memberId, ...err(ErrorCode.NONE, '') });
    }
    return { ...err(ErrorCode.NONE, ''), members: results };
  }

  // ---- offsets ----

  /** Validates, writes (acks=all) and then applies an OffsetCommit; `respond` gets one result per partition. */
  commitOffsets(req: CommitRequest, now: number, respond: (r: CommitPartitionResult[]) => void): void {
    const all = (code: number, message: string) =>
      respond(req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode: code, errorMessage: message })));
    if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID, 'the group id must not be empty');
    let g = this.groups.get(req.groupId);
    if (!g) {
      if (req.generationId >= 0)
        return all(ErrorCode.ILLEGAL_GENERATION, `group '${req.groupId}' does not exist, so generation ${req.generationId} is not valid`);
      g = new Group(req.groupId, now);
      this.groups.set(req.groupId, g);
    }
    if (g.state === 'Dead') return all(ErrorCode.COORDINATOR_NOT_AVAILABLE, `group '${req.groupId}' is being removed`);
    const instanceId = req.groupInstanceId === '' ? null : req.groupInstanceId;
    if (req.generationId >= 0 || req.memberId !== '' || instanceId !== null) {
      const invalid = this.validateMember(g, req.memberId, instanceId);
      if (invalid) return all(invalid.errorCode, invalid.errorMessage);
      if (req.generationId !== g.generation) {
        return all(ErrorCode.ILLEGAL_GENERATION, `generation ${req.generationId} is not group '${g.groupId}''s current ${g.generation}`);
      }
      if (g.state === 'CompletingRebalance') {
        return all(ErrorCode.REBALANCE_IN_PROGRESS, `group '${g.groupId}' is completing a rebalance: commit after SyncGroup`);
      }
      const m = g.members.get(req.memberId)!;
      m.heartbeatDeadline = now + m.sessionTimeoutMs;
    } else if (g.members.size > 0) {
      return all(ErrorCode.UNKNOWN_MEMBER_ID, `group '${g.groupId}' has members: only a member of its current generation may commit`);
    }

    const results: CommitPartitionResult[] = req.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      errorCode: 0,
      errorMessage: '',
    }));
    const accepted: Array<{ result: CommitPartitionResult; value: OffsetCommitValue }> = [];
    req.offsets.forEach((o, i) => {
      const result = results[i]!;
      if (Buffer.byteLength(o.metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
        result.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        result.errorMessage = `offset metadata is longer than offset.metadata.max.bytes=${this.config.offsetMetadataMaxBytes}`;
        return;
      }
      accepted.push({ result, value: { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestamp: now } });
    });
    if (accepted.length === 0) return respond(results);
    const records: CoordinatorRecord[] = accepted.map((a) => ({
      type: 'offset',
      group: req.groupId,
      topic: a.result.topic,
      partition: a.result.partition,
      value: a.value,
    }));
    const group = g;
    group.pendingCommits++;
    this.hooks.persist(req.groupId, records, (code, message, baseOffset) => {
      group.pendingCommits--;
      const mapped = group.unloaded ? ErrorCode.NOT_COORDINATOR : groupAppendError(code, true);
      if (mapped !== ErrorCode.NONE) {
        for (const a of accepted)
          Object.assign(a.result, {
            errorCode: mapped,
            errorMessage: group.unloaded
              ? `this broker stopped coordinating group '${req.groupId}'`
              : `writing the offsets failed: ${message}`,
          });
        return respond(results);
      }
      // A group deleted meanwhile comes back as the log would replay it: the commit landed after the tombstones.
      let target = this.groups.get(req.groupId);
      if (!target) {
        target = new Group(req.groupId, now);
        this.groups.set(req.groupId, target);
      }
      accepted.forEach((a, i) => this.applyOffset(target, a.result.topic, a.result.partition, a.value, baseOffset + BigInt(i)));
      respond(results);
    });
  }

  // ---- offsets in transactions (TxnOffsetCommit; txn/pendingTxnOffsets.ts) ----

  /**
   * TxnOffsetCommit: validates as OffsetCommit (a KIP-447 member's generation is checked; without
   * one, any), writes the offsets as the producer's transactional batch, and keeps them pending:
   * OffsetFetch does not see them until the COMMIT marker reaches the partition (completeTxn).
   */
  txnCommitOffsets(req: TxnCommitRequest, now: number, respond: (r: CommitPartitionResult[]) => void): void {
    const all = (code: number, message: string) =>
      respond(req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode: code, errorMessage: message })));
    if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID, 'the group id must not be empty');
    let g = this.groups.get(req.groupId);
    if (!g) {
      if (req.generationId >= 0)
        return all(ErrorCode.ILLEGAL_GENERATION, `group '${req.groupId}' does not exist, so generation ${req.generationId} is not valid`);
      g = new Group(req.groupId, now);
      this.groups.set(req.groupId, g);
    }
    if (g.state === 'Dead') return all(ErrorCode.COORDINATOR_NOT_AVAILABLE, `group '${req.groupId}' is being removed`);
    if (req.generationId >= 0 || req.memberId !== '') {
      const instanceId = req.groupInstanceId === '' ? null : req.groupInstanceId;
      const invalid = this.validateMember(g, req.memberId, instanceId);
      if (invalid) return all(invalid.errorCode, invalid.errorMessage);
      if (req.generationId !== g.generation)
        return all(ErrorCode.ILLEGAL_GENERATION, `generation ${req.generationId} is not group '${g.groupId}''s current ${g.generation}`);
    }
    const results: CommitPartitionResult[] = req.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      errorCode: 0,
      errorMessage: '',
    }));
    const accepted: Array<{ result: CommitPartitionResult; value: OffsetCommitValue }> = [];
    req.offsets.forEach((o, i) => {
      const result = results[i]!;
      if (Buffer.byteLength(o.metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
        result.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        result.errorMessage = `offset metadata is longer than offset.metadata.max.bytes=${this.config.offsetMetadataMaxBytes}`;
        return;
      }
      accepted.push({ result, value: { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestamp: now } });
    });
    if (accepted.length === 0) return respond(results);
    const pending = this.pendingTxnOffsetsOf(req.groupId);
    const txnOffsets = accepted.map((a) => ({ topic: a.result.topic, partition: a.result.partition, ...a.value }));
    pending.prepare(req.producerId, txnOffsets);
    const group = g;
    group.pendingCommits++;
    this.hooks.persist(
      req.groupId,
      accepted.map((a) => ({ type: 'offset', group: req.groupId, topic: a.result.topic, partition: a.result.partition, value: a.value })),
      (code, message, baseOffset) => {
        group.pendingCommits--;
        const mapped = group.unloaded ? ErrorCode.NOT_COORDINATOR : groupAppendError(code, true);
        if (mapped !== ErrorCode.NONE) {
          pending.failAppend(req.producerId, txnOffsets);
          for (const a of accepted)
            Object.assign(a.result, { errorCode: mapped, errorMessage: `writing the transactional offsets failed: ${message}` });
          return respond(results);
        }
        txnOffsets.forEach((o, i) => pending.onAppended(req.producerId, o, baseOffset + BigInt(i)));
        respond(results);
      },
      { producerId: req.producerId, producerEpoch: req.producerEpoch },
    );
  }

  private pendingTxnOffsetsOf(groupId: string): PendingTxnOffsets {
    let pending = this.txnOffsets.get(groupId);
    if (!pending) this.txnOffsets.set(groupId, (pending = new PendingTxnOffsets()));
    return pending;
  }

  /** A transactional offset record read back while loading a partition, with no marker after it yet. */
  loadPendingTxnOffset(
    groupId: string,
    producerId: bigint,
    topic: string,
    partition: number,
    value: OffsetCommitValue,
    recordOffset: bigint,
  ): void {
    this.pendingTxnOffsetsOf(groupId).onAppended(producerId, { topic, partition, ...value }, recordOffset);
  }

  /**
   * The producer's COMMIT or ABORT marker reached `__consumer_offsets` (for the groups `inPartition`
   * accepts): COMMIT makes its pending offsets the groups' committed ones (unless a later plain
   * commit is in the log), ABORT drops them (Kafka's GroupMetadata.completePendingTxnOffsetCommit).
   */
  completeTxn(producerId: bigint, committed: boolean, inPartition: (groupId: string) => boolean, now: number): void {
    for (const [groupId, pending] of this.txnOffsets) {
      if (!inPartition(groupId) || !pending.hasPendingFromProducer(producerId)) continue;
      let g = this.groups.get(groupId);
      const current = (topic: string, partition: number) => {
        const c = g?.offsets.get(offsetKey(topic, partition));
        return c ? { topic, partition, ...c.value, appendedBatchOffset: c.recordOffset } : undefined;
      };
      const visible = pending.complete(producerId, committed, current);
      if (pending.producers().length === 0) this.txnOffsets.delete(groupId);
      if (visible.length === 0) continue;
      if (!g) {
        g = new Group(groupId, now);
        this.groups.set(groupId, g);
      }
      for (const o of visible) {
        this.applyOffset(
          g,
          o.topic,
          o.partition,
          { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestamp: o.commitTimestamp },
          o.appendedBatchOffset!,
        );
      }
    }
  }

  /** OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT while this is true. */
  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    return this.txnOffsets.get(groupId)?.hasPendingForPartition(topic, partition) ?? false;
  }

  private applyOffset(g: Group, topic: string, partition: number, value: OffsetCommitValue | null, recordOffset: bigint): void {
    const key = offsetKey(topic, partition);
    const current = g.offsets.get(key);
    if (current && current.recordOffset > recordOffset) return;
    if (value === null) g.offsets.delete(key);
    else g.offsets.set(key, { topic, partition, value, recordOffset });
  }

  // ---- DeleteGroups / expiry ----

  deleteGroup(groupId: string, respond: (r: ErrorResult) => void): void {
    const g = this.groups.get(groupId);
    if (!g || g.state === 'Dead') return respond(err(ErrorCode.GROUP_ID_NOT_FOUND, `group '${groupId}' does not exist`));
    if (g.state !== 'Empty' || g.members.size > 0) {
      return respond(
        err(
          ErrorCode.NON_EMPTY_GROUP,
          `group '${groupId}' is ${g.state} with ${g.members.size} member(s): only an empty group can be deleted`,
        ),
      );
    }
    const records = this.tombstones(g, [...g.offsets.values()]);
    this.transition(g, 'Dead', g.currentStateTimestamp, 'deleted');
    this.groups.delete(groupId);
    this.hooks.persist(groupId, records, (code, message) => {
      const mapped = groupAppendError(code, false);
      respond(mapped === ErrorCode.NONE ? err(0, '') : err(mapped, `writing the group's tombstones failed: ${message}`));
    });
  }

  /**
   * Kafka's OffsetDelete (KIP-496): removes the group's committed offsets of `partitions` (a
   * partition without one is no error). While the group has members, the offsets of topics a
   * member subscribes to stay (GROUP_SUBSCRIBED_TO_TOPIC for each), and a group whose protocol is
   * not `consumer` refuses (NON_EMPTY_GROUP): its subscriptions cannot be read.
   */
  deleteOffsets(
    groupId: string,
    partitions: ReadonlyArray<{ topic: string; partition: number }>,
    respond: (r: ErrorResult & { partitions: Array<{ topic: string; partition: number; errorCode: number }> }) => void,
  ): void {
    const g = this.groups.get(groupId);
    if (!g || g.state === 'Dead')
      return respond({ ...err(ErrorCode.GROUP_ID_NOT_FOUND, `group '${groupId}' does not exist`), partitions: [] });
    let subscribed = new Set<string>();
    if (g.members.size > 0) {
      if (g.protocolType !== 'consumer') {
        return respond({
          ...err(
            ErrorCode.NON_EMPTY_GROUP,
            `group '${groupId}' has members and protocol type '${g.protocolType ?? ''}': its subscriptions are unknown`,
          ),
          partitions: [],
        });
      }
      subscribed = new Set([...g.members.values()].flatMap((m) => subscribedTopics(m.metadataFor(g.protocolName)) ?? []));
    }
    const results = partitions.map((p) => ({
      ...p,
      errorCode: subscribed.has(p.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE,
    }));
    const gone = results
      .filter((r) => r.errorCode === ErrorCode.NONE)
      .flatMap((r) => {
        const o = g.offsets.get(offsetKey(r.topic, r.partition));
        return o ? [o] : [];
      });
    if (gone.length === 0) return respond({ ...err(0, ''), partitions: results });
    for (const o of gone) g.offsets.delete(offsetKey(o.topic, o.partition));
    const records: CoordinatorRecord[] = gone.map((o) => ({
      type: 'offset',
      group: groupId,
      topic: o.topic,
      partition: o.partition,
      value: null,
    }));
    this.hooks.persist(groupId, records, (code, message) => {
      const mapped = groupAppendError(code, false);
      if (mapped === ErrorCode.NONE) return respond({ ...err(0, ''), partitions: results });
      respond({ ...err(mapped, `writing the offset tombstones failed: ${message}`), partitions: [] });
    });
  }

  /**
   * A topic was deleted (Kafka's GroupMetadataManager.cleanupGroupMetadata for deleted partitions):
   * every loaded group loses its committed offsets of `topic`, with tombstones written to its
   * partition, so a topic re-created under the same name starts per auto.offset.reset rather
   * than at stale offsets. Returns how many offsets were removed.
   */
  removeTopicOffsets(topic: string): number {
    let removed = 0;
    for (const g of this.groups.values()) {
      if (g.state === 'Dead') continue;
      const gone = [...g.offsets.values()].filter((o) => o.topic === topic);
      if (gone.length === 0) continue;
      for (const o of gone) g.offsets.delete(offsetKey(o.topic, o.partition));
      removed += gone.length;
      const records: CoordinatorRecord[] = gone.map((o) => ({
        type: 'offset',
        group: g.groupId,
        topic: o.topic,
        partition: o.partition,
        value: null,
      }));
      // A failed write leaves the offsets only in the log: the next load of the partition brings them back.
      this.hooks.persist(g.groupId, records, () => {});
    }
    return removed;
  }

  private tombstones(g: Group, offsets: CommittedOffset[]): CoordinatorRecord[] {
    return [
      ...offsets.map((o): CoordinatorRecord => ({ type: 'offset', group: g.groupId, topic: o.topic, partition: o.partition, value: null })),
      { type: 'group', group: g.groupId, value: null },
    ];
  }

  /**
   * Offsets retention (KIP-211): an Empty consumer group loses all its offsets once it has been
   * empty for offsets.retention; a group that never had members (standalone commits) loses each
   * offset older than the retention. An Empty group left without offsets becomes Dead. Returns
   * how many offsets expired.
   */
  expireOffsets(now: number): number {
    const retention = this.config.offsetsRetentionMs;
    let expired = 0;
    for (const g of [...this.groups.values()]) {
      if (g.state !== 'Empty' && g.protocolType !== null) continue;
      // A tombstone written now would land after a commit still in flight and erase it on replay.
      if (g.pendingCommits > 0) continue;
      const gone = [...g.offsets.values()].filter((o) =>
        g.protocolType === null ? o.value.commitTimestamp + retention <= now : g.currentStateTimestamp + retention <= now,
      );
      for (const o of gone) g.offsets.delete(offsetKey(o.topic, o.partition));
      expired += gone.length;
      const dead =
        g.state === 'Empty' && g.offsets.size === 0 && g.members.size === 0 && g.pendingMembers.size === 0 && g.pendingCommits === 0;
      if (gone.length === 0 && !dead) continue;
      const records: CoordinatorRecord[] = gone.map((o) => ({
        type: 'offset',
        group: g.groupId,
        topic: o.topic,
        partition: o.partition,
        value: null,
      }));
      if (dead) {
        records.push({ type: 'group', group: g.groupId, value: null });
        this.transition(g, 'Dead', now, 'no members and no offsets left');
        this.groups.delete(g.groupId);
      }
      this.hooks.onEvent?.(g.groupId, 'offsets expired', { expired: gone.length, dead });
      this.persistQuietly(g, records);
    }
    return expired;
  }

  private persistQuietly(g: Group, records: CoordinatorRecord[]): void {
    this.hooks.persist(g.groupId, records, (code, message) => {
      if (code !== ErrorCode.NONE) this.hooks.onEvent?.(g.groupId, 'write failed', { errorCode: code, errorMessage: message });
    });
  }

  // ---- time ----

  /** Fires every timeout due at `now`: forgotten pending members, initial delay, rebalance, pending sync, sessions. */
  tick(now: number): void {
    for (const g of [...this.groups.values()]) {
      if (g.unloaded) continue;
      for (const [id, deadline] of g.pendingMembers) {
        if (deadline <= now) {
          g.pendingMembers.delete(id);
          this.hooks.onEvent?.(g.groupId, 'pending member expired', { memberId: id });
          this.maybeCompleteJoin(g, now);
        }
      }
      if (g.state === 'PreparingRebalance' && g.initialDelayDeadline !== undefined && g.initialDelayDeadline <= now) {
        if (g.newMemberAdded && g.initialDelayRemainingMs > 0) {
          const delay = Math.min(this.config.groupInitialRebalanceDelayMs, g.initialDelayRemainingMs);
          g.initialDelayRemainingMs = Math.max(g.initialDelayRemainingMs - delay, 0);
          g.newMemberAdded = false;
          g.initialDelayDeadline = now + delay;
        } else {
          this.completeJoin(g, now);
        }
      }
      if (
        g.state === 'PreparingRebalance' &&
        g.initialDelayDeadline === undefined &&
        g.rebalanceDeadline !== undefined &&
        g.rebalanceDeadline <= now
      ) {
        this.completeJoin(g, now);
      }
      if (
        (g.state === 'CompletingRebalance' || g.state === 'Stable') &&
        g.pendingSync.size > 0 &&
        g.syncDeadline !== undefined &&
        g.syncDeadline <= now
      ) {
        const late = [...g.pendingSync];
        g.pendingSync.clear();
        for (const id of late) {
          const m = g.members.get(id);
          if (m) this.removeMember(g, m, 'did not send SyncGroup within the rebalance timeout');
        }
        this.prepareRebalance(g, now, `member(s) ${late.join(', ')} did not sync`);
      }
      for (const m of [...g.members.values()]) {
        if (!m.joinCallback && !m.syncCallback && m.heartbeatDeadline <= now && g.members.get(m.memberId) === m) {
          this.removeMemberAndUpdateGroup(g, m, now, `session expired (no heartbeat for ${m.sessionTimeoutMs} ms)`);
        }
      }
    }
  }

  // ---- load / unload ----

  /**
   * Installs a group read from the log: Stable with its members (each session restarts at `now`)
   * when the record has members, else Empty; offsets alone make an Empty group without a protocol type.
   */
  loadGroup(
    groupId: string,
    value: GroupMetadataValue | null,
    offsets: Array<{ topic: string; partition: number; value: OffsetCommitValue; recordOffset: bigint }>,
    now: number,
  ): void {
    this.unloadGroup(groupId);
    const g = new Group(groupId, value?.currentStateTimestamp ?? now);
    if (value) {
      g.generation = value.generation;
      g.protocolType = value.protocolType === '' ? null : value.protocolType;
      g.protocolName = value.protocol;
      g.leaderId = value.leader;
      for (const mv of value.members) {
        const m = new Member(
          mv.memberId,
          mv.groupInstanceId,
          mv.clientId,
          mv.clientHost,
          mv.sessionTimeoutMs,
          mv.rebalanceTimeoutMs,
          value.protocolType,
          value.protocol === null ? [] : [{ name: value.protocol, metadata: mv.subscription }],
        );
        m.assignment = mv.assignment;
        m.heartbeatDeadline = now + mv.sessionTimeoutMs;
        g.members.set(m.memberId, m);
        if (m.groupInstanceId !== null) g.staticMembers.set(m.groupInstanceId, m.memberId);
      }
      if (g.members.size > 0) g.state = 'Stable';
      if (g.leaderId !== null && !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value ?? null;
    }
    for (const o of offsets) g.offsets.set(offsetKey(o.topic, o.partition), { ...o });
    this.groups.set(groupId, g);
  }

  /** Drops a group (its partition is no longer led here): waiting requests answer NOT_COORDINATOR. */
  unloadGroup(groupId: string): void {
    this.txnOffsets.delete(groupId);
    const g = this.groups.get(groupId);
    if (!g) return;
    g.unloaded = true;
    this.groups.delete(groupId);
    const why = `this broker stopped coordinating group '${groupId}'`;
    for (const m of g.members.values()) {
      const join = m.joinCallback;
      const sync = m.syncCallback;
      m.joinCallback = undefined;
      m.syncCallback = undefined;
      join?.(errorJoin(m.memberId, ErrorCode.NOT_COORDINATOR, why));
      sync?.(errorSync(ErrorCode.NOT_COORDINATOR, why));
    }
  }

  /** The group's metadata record as it is now, with `assignments` instead of the current ones when given. */
  private groupValue(g: Group, assignments?: Map<string, Buffer>): GroupMetadataValue {
    return {
      protocolType: g.protocolType ?? '',
      generation: g.generation,
      protocol: g.protocolName,
      leader: g.leaderId,
      currentStateTimestamp: g.currentStateTimestamp,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: m.metadataFor(g.protocolName),
        assignment: assignments ? (assignments.get(m.memberId) ?? EMPTY) : m.assignment,
      })),
    };
  }
}
