/**
 * The records of `__consumer_offsets` (layouts in README.md): an offset commit keyed by
 * (group, topic, partition) and a group's metadata keyed by group; a null value is a tombstone.
 * Integers big-endian; strings int16 length + UTF-8 (-1 = null); bytes int32 length + bytes
 * (protocol's BigEndianWriter and BigEndianReader).
 */
import { BigEndianReader, BigEndianWriter } from '@samsa/protocol';

export const OFFSET_KEY_VERSION = 1;
export const GROUP_KEY_VERSION = 2;
const OFFSET_VALUE_VERSION = 3;
const GROUP_VALUE_VERSION = 3;

export interface OffsetCommitValue {
  offset: bigint;
  /** -1 when unknown. */
  leaderEpoch: number;
  metadata: string;
  /** Epoch milliseconds. */
  commitTimestamp: number;
}

export interface GroupMemberValue {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** The selected protocol's metadata of the member. */
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  /** Epoch milliseconds of the group's last state change (offsets expiry counts from it). */
  currentStateTimestamp: number;
  members: GroupMemberValue[];
}

export type CoordinatorRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; value: OffsetCommitValue | null }
  | { type: 'group'; group: string; value: GroupMetadataValue | null };

const WHAT = 'coordinator record';
const writer = (): BigEndianWriter => new BigEndianWriter(WHAT);
const reader = (buf: Buffer): BigEndianReader => new BigEndianReader(buf, WHAT);

export function encodeCoordinatorRecord(record: CoordinatorRecord): { key: Buffer; value: Buffer | null } {
  if (record.type === 'offset') {
    const key = writer().int16(OFFSET_KEY_VERSION).string(record.group).string(record.topic).int32(record.partition).build();
    const v = record.value;
    const value =
      v === null
        ? null
        : writer()
            .int16(OFFSET_VALUE_VERSION)
            .int64(v.offset)
            .int32(v.leaderEpoch)
            .string(v.metadata)
            .int64(BigInt(v.commitTimestamp))
            .build();
    return { key, value };
  }
  const key = writer().int16(GROUP_KEY_VERSION).string(record.group).build();
  const g = record.value;
  if (g === null) return { key, value: null };
  const w = writer()
    .int16(GROUP_VALUE_VERSION)
    .string(g.protocolType)
    .int32(g.generation)
    .string(g.protocol)
    .string(g.leader)
    .int64(BigInt(g.currentStateTimestamp))
    .int32(g.members.length);
  for (const m of g.members) {
    w.string(m.memberId)
      .string(m.groupInstanceId)
      .string(m.clientId)
      .string(m.clientHost)
      .int32(m.rebalanceTimeoutMs)
      .int32(m.sessionTimeoutMs)
      .bytes(m.subscription)
      .bytes(m.assignment);
  }
  return { key, value: w.build() };
}

/** Decodes one record; throws RangeError on an unknown version or a malformed buffer. */
export function decodeCoordinatorRecord(key: Buffer, value: Buffer | null): CoordinatorRecord {
  const k = reader(key);
  const version = k.int16();
  if (version === 0 || version === OFFSET_KEY_VERSION) {
    const group = k.string();
    const topic = k.string();
    const partition = k.int32();
    if (value === null) return { type: 'offset', group, topic, partition, value: null };
    const r = reader(value);
    const vv = r.int16();
    if (vv !== OFFSET_VALUE_VERSION) throw new RangeError(`unknown offset commit value version ${vv}`);
    return {
      type: 'offset',
      group,
      topic,
      partition,
      value: { offset: r.int64(), leaderEpoch: r.int32(), metadata: r.string(), commitTimestamp: Number(r.int64()) },
    };
  }
  if (version === GROUP_KEY_VERSION) {
    const group = k.string();
    if (value === null) return { type: 'group', group, value: null };
    const r = reader(value);
    const vv = r.int16();
    if (vv !== GROUP_VALUE_VERSION) throw new RangeError(`unknown group metadata value version ${vv}`);
    const protocolType = r.string();
    const generation = r.int32();
    const protocol = r.nullableString();
    const leader = r.nullableString();
    const currentStateTimestamp = Number(r.int64());
    const count = r.int32();
    if (count < 0) throw new RangeError('coordinator record: negative member count');
    const members: GroupMemberValue[] = [];
    for (let i = 0; i < count; i++) {
      members.push({
        memberId: r.string(),
        groupInstanceId: r.nullableString(),
        clientId: r.string(),
        clientHost: r.string(),
        rebalanceTimeoutMs: r.int32(),
        sessionTimeoutMs: r.int32(),
        subscription: r.bytes(),
        assignment: r.bytes(),
      });
    }
    return { type: 'group', group, value: { protocolType, generation, protocol, leader, currentStateTimestamp, members } };
  }
  throw new RangeError(`unknown coordinator record key version ${version}`);
}
