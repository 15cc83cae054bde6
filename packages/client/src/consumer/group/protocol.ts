/**
 * The bytes a consumer puts in JoinGroup metadata (ConsumerProtocolSubscription) and the leader in
 * SyncGroup assignments (ConsumerProtocolAssignment), in Kafka's own layout so the coordinator (and
 * describeGroups) can read them: int16 version, then non-flexible fields, big-endian; strings are
 * int16 length + UTF-8, arrays int32 count, bytes int32 length (-1 = null). See README.md.
 */
import { BigEndianReader, BigEndianWriter, groupByTopic } from '@samsa/protocol';
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

const fail = (message: string): Error => new InvalidRequestError(message);
const writer = (what: string): BigEndianWriter => new BigEndianWriter(what, fail);
const reader = (buf: Buffer, what: string): BigEndianReader => new BigEndianReader(buf, what, fail);
/** Each array element here takes at least 2 bytes (an int16 string length or an int32). */
const MIN_ELEMENT = 2;

function writeTopicPartitions(w: BigEndianWriter, list: readonly TopicPartitions[]): void {
  w.int32(list.length);
  for (const tp of list) {
    w.string(tp.topic).int32(tp.partitions.length);
    for (const p of tp.partitions) w.int32(p);
  }
}

function readTopicPartitions(r: BigEndianReader): TopicPartitions[] {
  const out: TopicPartitions[] = [];
  for (let i = r.count(MIN_ELEMENT); i > 0; i--) {
    const topic = r.string();
    const partitions: number[] = [];
    for (let j = r.count(MIN_ELEMENT); j > 0; j--) partitions.push(r.int32());
    out.push({ topic, partitions });
  }
  return out;
}

export function encodeSubscription(s: Subscription): Buffer {
  const w = writer('ConsumerProtocolSubscription').int16(SUBSCRIPTION_VERSION).int32(s.topics.length);
  for (const t of s.topics) w.string(t);
  w.bytes(s.userData);
  writeTopicPartitions(w, s.ownedPartitions);
  return w.int32(s.generationId).build();
}

export function decodeSubscription(buf: Buffer): Subscription {
  const r = reader(buf, 'ConsumerProtocolSubscription');
  const version = r.int16();
  if (version < 0) throw new InvalidRequestError(`bad ConsumerProtocolSubscription version ${version}`);
  const topics: string[] = [];
  for (let i = r.count(MIN_ELEMENT); i > 0; i--) topics.push(r.string());
  const userData = r.nullableBytes();
  const ownedPartitions = version >= 1 ? readTopicPartitions(r) : [];
  const generationId = version >= 2 ? r.int32() : -1;
  if (version >= 3) r.nullableString(); // rackId, unused here
  return { topics, userData, ownedPartitions, generationId };
}

export function encodeAssignment(a: Assignment): Buffer {
  const w = writer('ConsumerProtocolAssignment').int16(ASSIGNMENT_VERSION);
  writeTopicPartitions(w, a.partitions);
  return w.bytes(a.userData).build();
}

export function decodeAssignment(buf: Buffer): Assignment {
  // An empty assignment (a member that got nothing, or a coordinator answering an error) is legal.
  if (buf.length === 0) return { partitions: [], userData: null };
  const r = reader(buf, 'ConsumerProtocolAssignment');
  const version = r.int16();
  if (version < 0) throw new InvalidRequestError(`bad ConsumerProtocolAssignment version ${version}`);
  const partitions = readTopicPartitions(r);
  const userData = r.remaining >= 4 ? r.nullableBytes() : null;
  return { partitions, userData };
}

/** `topic -> sorted partitions` as the wire's list, topics sorted. */
export function toTopicPartitions(tps: Iterable<{ topic: string; partition: number }>): TopicPartitions[] {
  const byTopic = groupByTopic(tps);
  return [...byTopic.keys()].sort().map((topic) => ({
    topic,
    partitions: byTopic
      .get(topic)!
      .map((tp) => tp.partition)
      .sort((a, b) => a - b),
  }));
}

export function fromTopicPartitions(list: readonly TopicPartitions[]): { topic: string; partition: number }[] {
  return list.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}
