// @samsa/raft messages ⇄ samsa.v1.RaftMessage (proto/samsa/v1/raft.proto). Every field a message
// type carries goes on the wire; the others stay at their proto defaults.
import type {
  RaftEntry,
  RaftEntry__Output,
  RaftMessage,
  RaftMessage__Output,
  RaftMessageType__Output,
  RaftSnapshot__Output,
} from '@samsa/protocol';
import type { Entry, Message, Snapshot } from '@samsa/raft';

/** The message types that may cross the wire: every remote message, and a forwarded transfer request. */
const TO_WIRE = {
  append: 'RAFT_MESSAGE_TYPE_APPEND',
  appendResponse: 'RAFT_MESSAGE_TYPE_APPEND_RESPONSE',
  vote: 'RAFT_MESSAGE_TYPE_VOTE',
  voteResponse: 'RAFT_MESSAGE_TYPE_VOTE_RESPONSE',
  preVote: 'RAFT_MESSAGE_TYPE_PRE_VOTE',
  preVoteResponse: 'RAFT_MESSAGE_TYPE_PRE_VOTE_RESPONSE',
  heartbeat: 'RAFT_MESSAGE_TYPE_HEARTBEAT',
  heartbeatResponse: 'RAFT_MESSAGE_TYPE_HEARTBEAT_RESPONSE',
  snapshot: 'RAFT_MESSAGE_TYPE_SNAPSHOT',
  timeoutNow: 'RAFT_MESSAGE_TYPE_TIMEOUT_NOW',
  transferLeader: 'RAFT_MESSAGE_TYPE_TRANSFER_LEADER',
} as const satisfies Partial<Record<Message['type'], RaftMessageType__Output>>;

type WireType = keyof typeof TO_WIRE;
export type WireMessage = Extract<Message, { type: WireType }>;

/** Whether the Raft core's message may be sent to a peer (local events never are). */
export function isWireMessage(m: Message): m is WireMessage {
  return Object.hasOwn(TO_WIRE, m.type);
}

export function toWireMessage(m: WireMessage): RaftMessage {
  const base: RaftMessage = { type: TO_WIRE[m.type], from: m.from, to: m.to, term: m.term };
  switch (m.type) {
    case 'append':
      return { ...base, prevLogIndex: m.prevLogIndex, prevLogTerm: m.prevLogTerm, entries: m.entries.map(toWireEntry), commit: m.commit };
    case 'appendResponse':
      return { ...base, index: m.index, reject: m.reject, hintIndex: m.hintIndex, hintTerm: m.hintTerm };
    case 'vote':
    case 'preVote':
      return { ...base, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm, transfer: m.transfer };
    case 'voteResponse':
    case 'preVoteResponse':
      return { ...base, reject: m.reject };
    case 'heartbeat':
      return { ...base, commit: m.commit };
    case 'snapshot':
      return {
        ...base,
        snapshot: { metadata: { ...m.snapshot.metadata, voters: [...m.snapshot.metadata.voters] }, data: m.snapshot.data },
      };
    case 'transferLeader':
      return { ...base, transferee: m.transferee };
    case 'heartbeatResponse':
    case 'timeoutNow':
      return base;
  }
}

/** The Raft core's message, or undefined for a type it does not accept from a peer. */
export function fromWireMessage(w: RaftMessage__Output): WireMessage | undefined {
  const base = { from: w.from, to: w.to, term: num(w.term) };
  switch (w.type) {
    case 'RAFT_MESSAGE_TYPE_APPEND':
      return {
        ...base,
        type: 'append',
        prevLogIndex: num(w.prevLogIndex),
        prevLogTerm: num(w.prevLogTerm),
        entries: w.entries.map(fromWireEntry),
        commit: num(w.commit),
      };
    case 'RAFT_MESSAGE_TYPE_APPEND_RESPONSE':
      return {
        ...base,
        type: 'appendResponse',
        index: num(w.index),
        reject: w.reject,
        hintIndex: num(w.hintIndex),
        hintTerm: num(w.hintTerm),
      };
    case 'RAFT_MESSAGE_TYPE_VOTE':
      return { ...base, type: 'vote', lastLogIndex: num(w.lastLogIndex), lastLogTerm: num(w.lastLogTerm), transfer: w.transfer };
    case 'RAFT_MESSAGE_TYPE_PRE_VOTE':
      return { ...base, type: 'preVote', lastLogIndex: num(w.lastLogIndex), lastLogTerm: num(w.lastLogTerm), transfer: w.transfer };
    case 'RAFT_MESSAGE_TYPE_VOTE_RESPONSE':
      return { ...base, type: 'voteResponse', reject: w.reject };
    case 'RAFT_MESSAGE_TYPE_PRE_VOTE_RESPONSE':
      return { ...base, type: 'preVoteResponse', reject: w.reject };
    case 'RAFT_MESSAGE_TYPE_HEARTBEAT':
      return { ...base, type: 'heartbeat', commit: num(w.commit) };
    case 'RAFT_MESSAGE_TYPE_HEARTBEAT_RESPONSE':
      return { ...base, type: 'heartbeatResponse' };
    case 'RAFT_MESSAGE_TYPE_SNAPSHOT':
      return w.snapshot === null ? undefined : { ...base, type: 'snapshot', snapshot: fromWireSnapshot(w.snapshot) };
    case 'RAFT_MESSAGE_TYPE_TIMEOUT_NOW':
      return { ...base, type: 'timeoutNow' };
    case 'RAFT_MESSAGE_TYPE_TRANSFER_LEADER':
      return { ...base, type: 'transferLeader', transferee: w.transferee };
    default:
      return undefined;
  }
}

function toWireEntry(e: Entry): RaftEntry {
  return { term: e.term, index: e.index, type: e.type === 'noop' ? 'RAFT_ENTRY_TYPE_NOOP' : 'RAFT_ENTRY_TYPE_NORMAL', data: e.data };
}

function fromWireEntry(e: RaftEntry__Output): Entry {
  return { term: num(e.term), index: num(e.index), type: e.type === 'RAFT_ENTRY_TYPE_NOOP' ? 'noop' : 'normal', data: e.data };
}

function fromWireSnapshot(s: RaftSnapshot__Output): Snapshot {
  const metadata = s.metadata ?? { index: '0', term: '0', voters: [] };
  return { metadata: { index: num(metadata.index), term: num(metadata.term), voters: [...metadata.voters] }, data: s.data };
}

/** int64 decimal string → number; terms and indexes stay far below 2^53. */
function num(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`raft int64 field out of range: ${value}`);
  return n;
}
