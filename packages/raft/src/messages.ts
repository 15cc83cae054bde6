// Entries, persistent state and every message the Raft core consumes or emits. Messages are plain
// objects tagged by `type`; local events (`hup`, `beat`, `propose`, ...) carry `term: 0`.

/** A voter's id. 0 means "none" wherever a node id is optional (vote, leaderId). */
export type NodeId = number;

export const NO_NODE: NodeId = 0;

/** `noop` is appended by every new leader; its `data` is empty and the application skips it. */
export type EntryType = 'normal' | 'noop';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before a message of the same Ready is sent. */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or 0. */
  readonly vote: NodeId;
  readonly commit: number;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the application may want to observe; never persisted. */
export interface SoftState {
  /** 0 when no leader is known. */
  readonly leaderId: NodeId;
  readonly role: Role;
}

export interface SnapshotMetadata {
  /** The last entry the snapshot covers (0 for "no snapshot"). */
  readonly index: number;
  readonly term: number;
  readonly voters: readonly NodeId[];
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The application's state machine image at `metadata.index`; opaque to Raft. */
  readonly data: Uint8Array;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NO_NODE, commit: 0 };

export function emptySnapshot(voters: readonly NodeId[] = []): Snapshot {
  return { metadata: { index: 0, term: 0, voters }, data: new Uint8Array(0) };
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** 0 for local events. */
  readonly term: number;
}

// ---- local events ----

/** Start an election (pre-vote first when enabled). */
export interface HupMessage extends MessageBase {
  readonly type: 'hup';
}

/** Tell the leader to send heartbeats now. */
export interface BeatMessage extends MessageBase {
  readonly type: 'beat';
}

export interface ProposeMessage extends MessageBase {
  readonly type: 'propose';
  readonly entries: readonly { readonly type: EntryType; readonly data: Uint8Array }[];
}

/** Ask the leader to hand leadership to `transferee`. A follower forwards it to its leader. */
export interface TransferLeaderMessage extends MessageBase {
  readonly type: 'transferLeader';
  readonly transferee: NodeId;
}

/** The transport could not reach `from`: the leader stops pipelining to it. */
export interface UnreachableMessage extends MessageBase {
  readonly type: 'unreachable';
}

/** The transport finished (or failed) sending a snapshot to `from`. */
export interface SnapshotStatusMessage extends MessageBase {
  readonly type: 'snapshotStatus';
  readonly reject: boolean;
}

// ---- remote messages ----

export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponseMessage extends MessageBase {
  readonly type: 'appendResponse';
  /** On success the follower's last index matching the leader; on reject the rejected prevLogIndex. */
  readonly index: number;
  readonly reject: boolean;
  /** On reject: the largest index ≤ min(prevLogIndex, follower's last index) with term ≤ prevLogTerm. */
  readonly hintIndex: number;
  /** On reject: the follower's term at `hintIndex` (0 if unknown). */
  readonly hintTerm: number;
}

export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'preVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** The campaign follows a leadership transfer: voters ignore their leader lease. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeatResponse';
}

export interface SnapshotMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Leader → transfer target: campaign now. */
export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}

export type LocalMessage = HupMessage | BeatMessage | ProposeMessage | TransferLeaderMessage | UnreachableMessage | SnapshotStatusMessage;

export type RemoteMessage =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage;

export type Message = LocalMessage | RemoteMessage;

export type MessageType = Message['type'];

const LOCAL_TYPES: ReadonlySet<MessageType> = new Set(['hup', 'beat', 'propose', 'transferLeader', 'unreachable', 'snapshotStatus']);

export function isLocalMessage(m: Message): m is LocalMessage {
  return LOCAL_TYPES.has(m.type);
}

/** Both hard states say the same thing (so nothing new needs persisting). */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
