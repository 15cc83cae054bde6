/**
 * How many partitions each internal topic gets (Kafka's `RepartitionTopics` /
 * `CopartitionedTopicsEnforcer` / `ChangelogTopics`, reduced). Pure: the topology and the source
 * topics' partition counts in, the topics to create out, or a coded error when inputs that one task
 * must read together are not co-partitioned.
 */
import { StreamsError } from '../task.js';
import type { Topology } from '../topology.js';

export interface PlannedTopic {
  /** Unprefixed: `<name>-repartition` or `<store>-changelog`. */
  name: string;
  kind: 'repartition' | 'changelog';
  partitions: number;
  configs: Record<string, string>;
}

export interface InternalTopicPlan {
  topics: PlannedTopic[];
  /** Store → its sub-topology and partition count (for queryMetadataForKey). */
  storeTasks: Map<string, { subTopology: number; partitions: number }>;
}

/** `counts`: partition count of every external source topic. */
export function planInternalTopics(topology: Topology, counts: ReadonlyMap<string, number>): InternalTopicPlan {
  const subs = topology.subTopologies();
  const maxExternal = Math.max(1, ...counts.values());
  const internal = topology.internalTopics();
  // The external sources of one sub-topology must agree (a task reads partition p of each), and a
  // repartition topic read next to them takes their count; otherwise its fixed count, else the
  // largest input's.
  const externalCountOf = new Map<number, number>();
  for (const sub of subs) {
    const ext = sub.sourceTopics.filter((t) => !topology.isInternalTopic(t));
    for (const t of ext)
      if (counts.get(t) === undefined) throw new StreamsError('MISSING_SOURCE_TOPIC', `source topic ${t} does not exist`);
    const distinct = new Set(ext.map((t) => counts.get(t)!));
    if (distinct.size > 1) {
      throw new StreamsError(
        'INCONSISTENT_PARTITION_COUNTS',
        `sub-topology ${sub.id} reads topics that are not co-partitioned (${ext.map((t) => `${t}: ${counts.get(t)}`).join(', ')}); repartition one side`,
      );
    }
    if (distinct.size === 1) externalCountOf.set(sub.id, [...distinct][0]!);
  }
  const partitionsOf = new Map<string, number>();
  for (const t of internal) {
    if (t.kind !== 'repartition') continue;
    const reader = subs.find((sub) => sub.sourceTopics.includes(t.name));
    const sibling = reader === undefined ? undefined : externalCountOf.get(reader.id);
    if (t.partitions !== undefined && sibling !== undefined && t.partitions !== sibling) {
      throw new StreamsError(
        'INCONSISTENT_PARTITION_COUNTS',
        `repartition topic ${t.name} asks for ${t.partitions} partitions but is read with topics of ${sibling}`,
      );
    }
    partitionsOf.set(t.name, t.partitions ?? sibling ?? maxExternal);
  }
  // A changelog has as many partitions as its sub-topology has tasks.
  const storeTasks = new Map<string, { subTopology: number; partitions: number }>();
  for (const sub of subs) {
    const n = Math.max(0, ...sub.sourceTopics.map((t) => (topology.isInternalTopic(t) ? partitionsOf.get(t)! : counts.get(t)!)));
    for (const store of sub.stores) {
      partitionsOf.set(`${store}-changelog`, n);
      storeTasks.set(store, { subTopology: sub.id, partitions: n });
    }
  }
  return {
    topics: internal.map((t) => ({ name: t.name, kind: t.kind, partitions: partitionsOf.get(t.name) ?? maxExternal, configs: t.configs })),
    storeTasks,
  };
}
