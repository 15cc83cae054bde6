/**
 * The bytes a consumer puts in JoinGroup metadata (ConsumerProtocolSubscription) and the leader in
 * SyncGroup assignments (ConsumerProtocolAssignment), in Kafka's own layout so the coordinator (and
 * describeGroups) can read them: int16 version, then non-flexible fields, big-endian; strings are
 * int16 length + UTF-8, arrays int32 count, bytes int32 length (-1 = null). See README.md.
 */
import { InvalidRequestError } from '../../errors.js';

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  /** The partitions the member owns now (cooperative protocol); empty for eager members. */
  ownedPartitions: TopicPartitions[];
  /** The generation ownedPartitions are from; -1 when unknown. */
  generationId: number;
}

export interface Assignment {
  partitions: TopicPartitions[];
  userData: Buffer | null;
}

export const SUBSCRIPTION_VERSION = 2;
export const ASSIGNMENT_VERSION = 0;

class Writer {
  private readonly chunks: Buffer[] = [];
  int16(v: number): this { const b = Buffer.alloc(2); b.writeInt16BE(v); this.chunks.push(b); return this; }
  int32(v: number): this { const b = Buffer.alloc(4); b.writeInt32BE(v); this.chunks.push(b); return this; }
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > 0x7fff) throw new InvalidRequestError(`string too long for the consumer protocol (${bytes.length} bytes)`);
    return this.int16(bytes.length).raw(bytes);
  }
  bytes(b: Buffer | null): this { return b === null ? this.int32(-1) : this.int32(b.length).raw(b); }
  raw(b: Buffer): this { this.chunks.push(b); return this; }
  done(): Buffer { return Buffer.concat(this.chunks); }
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer, private readonly what: string) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new InvalidRequestError(`truncated ${this.what} (${this.buf.length} bytes)`);
  }
  get remaining(): number { return this.buf.length - this.pos; }
  int16(): number { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  int32(): number { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  string(): string {
    const n = this.int16();
    if (n < 0) throw new InvalidRequestError(`null string in ${this.what}`);
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) return null;
    this.need(n);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }
  count(): number {
    const n = this.int32();
    if (n < 0) return 0;
    // Each element takes at least 2 bytes: a count larger than that is garbage, not a reason to allocate.
    if (n * 2 > this.remaining) throw new InvalidRequestError(`bad array length ${n} in ${this.what}`);
    return n;
  }
}

function writeTopicPartitions(w: Writer, list: readonly TopicPartitions[]): void {
  w.int32(list.length);
  for (const tp of list) {
    w.string(tp.topic).int32(tp.partitions.length);
    for (const p of tp.partitions) w.int32(p);
  }
}

function readTopicPartitions(r: Reader): TopicPartitions[] {
  const out: TopicPartitions[] = [];
  for (let i = r.count(); i > 0; i--) {
    const topic = r.string();
    const partitions: number[] = [];
    for (let j = r.count(); j > 0; j--) partitions.push(r.int32());
    out.push({ topic, partitions });
  }
  return out;
}

export function encodeSubscription(s: Subscription): Buffer {
  const w = new Writer().int16(SUBSCRIPTION_VERSION).int32(s.topics.length);
  for (const t of s.topics) w.string(t);
  w.bytes(s.userData);
  writeTopicPartitions(w, s.ownedPartitions);
  return w.int32(s.generationId).done();
}

export function decodeSubscription(buf: Buffer): Subscription {
  const r = new Reader(buf, 'ConsumerProtocolSubscription');
  const version = r.int16();
  if (version < 0) throw new InvalidRequestError(`bad ConsumerProtocolSubscription version ${version}`);
  const topics: string[] = [];
  for (let i = r.count(); i > 0; i--) topics.push(r.string());
  const userData = r.bytes();
  const ownedPartitions = version >= 1 ? readTopicPartitions(r) : [];
  const generationId = version >= 2 ? r.int32() : -1;
  if (version >= 3) r.nullableString(); // rackId, unused here
  return { topics, userData, ownedPartitions, generationId };
}

export function encodeAssignment(a: Assignment): Buffer {
  const w = new Writer().int16(ASSIGNMENT_VERSION);
  writeTopicPartitions(w, a.partitions);
  return w.bytes(a.userData).done();
}

export function decodeAssignment(buf: Buffer): Assignment {
  // An empty assignment (a member that got nothing, or a coordinator answering an error) is legal.
  if (buf.length === 0) return { partitions: [], userData: null };
  const r = new Reader(buf, 'ConsumerProtocolAssignment');
  const version = r.int16();
  if (version < 0) throw new InvalidRequestError(`bad ConsumerProtocolAssignment version ${version}`);
  const partitions = readTopicPartitions(r);
  const userData = r.remaining >= 4 ? r.bytes() : null;
  return { partitions, userData };
}

/** `topic -> sorted partitions` as the wire's list, topics sorted. */
export function toTopicPartitions(tps: Iterable<{ topic: string; partition: number }>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of tps) {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

export function fromTopicPartitions(list: readonly TopicPartitions[]): { topic: string; partition: number }[] {
  return list.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}
