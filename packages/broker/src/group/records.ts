/**
 * The records of `__consumer_offsets` (layouts in README.md): an offset commit keyed by
 * (group, topic, partition) and a group's metadata keyed by group; a null value is a tombstone.
 * Integers big-endian; strings int16 length + UTF-8 (-1 = null); bytes int32 length + bytes.
 */

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

class Writer {
  private parts: Buffer[] = [];

  int16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    this.parts.push(b);
    return this;
  }

  int32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }

  int64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    this.parts.push(b);
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > 0x7fff) throw new RangeError(`string of ${bytes.length} bytes is too long for a coordinator record`);
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.int32(b.length);
    this.parts.push(Buffer.from(b));
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`coordinator record truncated: needs ${n} byte(s) at ${this.pos} of ${this.buf.length}`);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw new RangeError('coordinator record: null where a string is required');
    return s;
  }

  bytes(): Buffer {
    const n = this.int32();
    if (n < 0) throw new RangeError('coordinator record: negative bytes length');
    this.need(n);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }
}

export function encodeCoordinatorRecord(record: CoordinatorRecord): { key: Buffer; value: Buffer | null } {
  if (record.type === 'offset') {
    const key = new Writer().int16(OFFSET_KEY_VERSION).string(record.group).string(record.topic).int32(record.partition).build();
    const v = record.value;
    const value = v === null ? null : new Writer()
      .int16(OFFSET_VALUE_VERSION).int64(v.offset).int32(v.leaderEpoch).string(v.metadata).int64(BigInt(v.commitTimestamp)).build();
    return { key, value };
  }
  const key = new Writer().int16(GROUP_KEY_VERSION).string(record.group).build();
  const g = record.value;
  if (g === null) return { key, value: null };
  const w = new Writer()
    .int16(GROUP_VALUE_VERSION).string(g.protocolType).int32(g.generation).string(g.protocol).string(g.leader)
    .int64(BigInt(g.currentStateTimestamp)).int32(g.members.length);
  for (const m of g.members) {
    w.string(m.memberId).string(m.groupInstanceId).string(m.clientId).string(m.clientHost)
      .int32(m.rebalanceTimeoutMs).int32(m.sessionTimeoutMs).bytes(m.subscription).bytes(m.assignment);
  }
  return { key, value: w.build() };
}

/** Decodes one record; throws RangeError on an unknown version or a malformed buffer. */
export function decodeCoordinatorRecord(key: Buffer, value: Buffer | null): CoordinatorRecord {
  const k = new Reader(key);
  const version = k.int16();
  if (version === 0 || version === OFFSET_KEY_VERSION) {
    const group = k.string();
    const topic = k.string();
    const partition = k.int32();
    if (value === null) return { type: 'offset', group, topic, partition, value: null };
    const r = new Reader(value);
    const vv = r.int16();
    if (vv !== OFFSET_VALUE_VERSION) throw new RangeError(`unknown offset commit value version ${vv}`);
    return {
      type: 'offset', group, topic, partition,
      value: { offset: r.int64(), leaderEpoch: r.int32(), metadata: r.string(), commitTimestamp: Number(r.int64()) },
    };
  }
  if (version === GROUP_KEY_VERSION) {
    const group = k.string();
    if (value === null) return { type: 'group', group, value: null };
    const r = new Reader(value);
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
        memberId: r.string(), groupInstanceId: r.nullableString(), clientId: r.string(), clientHost: r.string(),
        rebalanceTimeoutMs: r.int32(), sessionTimeoutMs: r.int32(), subscription: r.bytes(), assignment: r.bytes(),
      });
    }
    return { type: 'group', group, value: { protocolType, generation, protocol, leader, currentStateTimestamp, members } };
  }
  throw new RangeError(`unknown coordinator record key version ${version}`);
}
