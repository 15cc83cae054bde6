// The public surface of @samsa/raft: a pure, deterministic Raft core (see ../DESIGN.md).
export { RaftNode, RaftConfigError } from './raft.js';
export type { RaftConfig, Ready, ProposeResult, Status, ProgressStatus } from './raft.js';

export { EMPTY_HARD_STATE, NO_NODE, emptySnapshot, hardStateEqual, isLocalMessage } from './messages.js';
export type {
  AppendMessage,
  AppendResponseMessage,
  BeatMessage,
  Entry,
  EntryType,
  HardState,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  HupMessage,
  LocalMessage,
  Message,
  MessageType,
  NodeId,
  ProposeMessage,
  RemoteMessage,
  Role,
  Snapshot,
  SnapshotMessage,
  SnapshotMetadata,
  SnapshotStatusMessage,
  SoftState,
  TimeoutNowMessage,
  TransferLeaderMessage,
  UnreachableMessage,
  VoteMessage,
  VoteResponseMessage,
} from './messages.js';

export { MemoryStorage, StorageError } from './storage.js';
export type { RaftStorage } from './storage.js';

export { RaftLogError } from './log.js';
export type { ProgressState } from './progress.js';

export { randomInt } from './rng.js';
export type { Rng } from './rng.js';
