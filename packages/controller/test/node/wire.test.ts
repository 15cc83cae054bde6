/**
 * Every Raft message type survives the wire: encoded to samsa.v1.RaftMessage, serialised by the
 * real protobuf codec of the Raft service, decoded back to the same message.
 */
import { raftProto } from '@samsa/protocol';
import type { RaftEnvelope__Output } from '@samsa/protocol';
import type { Message } from '@samsa/raft';
import { describe, expect, it } from 'vitest';
import { fromWireMessage, isWireMessage, toWireMessage } from '../../src/raft/wire.js';

const bytes = (...b: number[]) => new Uint8Array(b);

const messages: Message[] = [
  {
    type: 'append',
    from: 1,
    to: 2,
    term: 7,
    prevLogIndex: 41,
    prevLogTerm: 6,
    commit: 40,
    entries: [
      { term: 7, index: 42, type: 'noop', data: bytes() },
      { term: 7, index: 43, type: 'normal', data: bytes(1, 2, 3, 255) },
    ],
  },
  { type: 'append', from: 1, to: 2, term: 7, prevLogIndex: 43, prevLogTerm: 7, commit: 43, entries: [] },
  { type: 'appendResponse', from: 2, to: 1, term: 7, index: 43, reject: false, hintIndex: 0, hintTerm: 0 },
  { type: 'appendResponse', from: 2, to: 1, term: 7, index: 50, reject: true, hintIndex: 38, hintTerm: 5 },
  { type: 'vote', from: 3, to: 1, term: 8, lastLogIndex: 43, lastLogTerm: 7, transfer: true },
  { type: 'preVote', from: 3, to: 2, term: 9, lastLogIndex: 43, lastLogTerm: 7, transfer: false },
  { type: 'voteResponse', from: 1, to: 3, term: 8, reject: false },
  { type: 'preVoteResponse', from: 2, to: 3, term: 8, reject: true },
  { type: 'heartbeat', from: 1, to: 3, term: 7, commit: 43 },
  { type: 'heartbeatResponse', from: 3, to: 1, term: 7 },
  { type: 'snapshot', from: 1, to: 3, term: 7, snapshot: { metadata: { index: 40, term: 6, voters: [1, 2, 3] }, data: bytes(9, 8, 7) } },
  { type: 'timeoutNow', from: 1, to: 2, term: 7 },
  { type: 'transferLeader', from: 2, to: 1, term: 0, transferee: 3 },
];

function roundTrip(m: Message): Message | undefined {
  if (!isWireMessage(m)) throw new Error(`${m.type} is not a wire message`);
  const method = raftProto().samsa.v1.Raft.service.Send;
  const buffer = method.requestSerialize({ from: m.from, to: m.to, messages: [toWireMessage(m)] });
  const envelope = method.requestDeserialize(buffer) as RaftEnvelope__Output;
  return fromWireMessage(envelope.messages[0]!);
}

/** Buffers and Uint8Arrays with the same bytes compare equal. */
function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

describe('the Raft wire format', () => {
  it.each(messages.map((m) => [m.type, m] as const))('carries %s with every field', (_type, m) => {
    expect(normalise(roundTrip(m))).toEqual(normalise(m));
  });

  it('never puts local events on the wire', () => {
    for (const type of ['hup', 'beat', 'propose', 'unreachable', 'snapshotStatus'] as const) {
      expect(isWireMessage({ type, from: 1, to: 1, term: 0 } as Message)).toBe(false);
    }
  });

  it('drops a message of an unknown type instead of stepping it', () => {
    const method = raftProto().samsa.v1.Raft.service.Send;
    const envelope = method.requestDeserialize(
      method.requestSerialize({ from: 1, to: 2, messages: [{ type: 'RAFT_MESSAGE_TYPE_UNSPECIFIED' }] }),
    ) as RaftEnvelope__Output;
    expect(fromWireMessage(envelope.messages[0]!)).toBeUndefined();
  });
});
