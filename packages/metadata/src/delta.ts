/**
 * What one replayed record changed, so that a broker following the metadata log can act on the
 * change (create or delete local logs, become leader or follower) without diffing whole images.
 * `before` / `after` values are immutable snapshots of the registration; undefined means "did not
 * exist" (creation) or "no longer exists" (deletion).
 */
import type { BrokerRegistration } from './image.js';
import type { PartitionRegistration } from './partitions.js';
import type { ConfigResourceType, MetadataRecord } from './records.js';

export interface TopicRef {
  readonly name: string;
  readonly topicId: string;
}

export interface PartitionDelta {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly before: PartitionRegistration | undefined;
  readonly after: PartitionRegistration | undefined;
  /** The new leader came from outside the ISR (unclean election): log a warning. */
  readonly unclean: boolean;
}

export interface BrokerDelta {
  readonly brokerId: number;
  readonly before: BrokerRegistration | undefined;
  readonly after: BrokerRegistration | undefined;
}

export interface ConfigDelta {
  readonly resourceType: ConfigResourceType;
  readonly resourceName: string;
  readonly name: string;
  readonly before: string | undefined;
  readonly after: string | undefined;
}

export interface MetadataDelta {
  readonly offset: number;
  readonly epoch: number;
  readonly record: MetadataRecord;
  readonly topicsCreated: readonly TopicRef[];
  /** A deleted topic's partitions also appear in partitionsChanged with `after` undefined. */
  readonly topicsDeleted: readonly TopicRef[];
  readonly partitionsChanged: readonly PartitionDelta[];
  readonly brokersChanged: readonly BrokerDelta[];
  readonly configsChanged: readonly ConfigDelta[];
  /** Set when an ACL was added or removed. */
  readonly aclsChanged?: true;
  /** Set when a ProducerIdsBlock moved the next producer id. */
  readonly nextProducerId?: string;
}

export interface LocalPartitionChange {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly registration: PartitionRegistration;
}

/** Kafka's TopicsDelta.localChanges: what one broker must do to its local replicas. */
export interface LocalChanges {
  /** Partitions this broker now leads (new, or the registration changed). */
  readonly leaders: readonly LocalPartitionChange[];
  /** Partitions this broker now follows (new, or the registration changed: new leader, epoch, ISR). */
  readonly followers: readonly LocalPartitionChange[];
  /** Partitions this broker no longer hosts: the topic was deleted or the replica moved away. */
  readonly deletes: readonly {
    readonly topic: string;
    readonly topicId: string;
    readonly partition: number;
    readonly topicDeleted: boolean;
  }[];
}

/**
 * Folds deltas (e.g. one Raft entry's records, in order) into the actions for `brokerId`'s local
 * replicas. Only the last state of each partition counts.
 */
export function localChanges(deltas: Iterable<MetadataDelta>, brokerId: number): LocalChanges {
  const first = new Map<string, PartitionDelta>();
  const last = new Map<string, PartitionDelta>();
  for (const delta of deltas) {
    for (const change of delta.partitionsChanged) {
      const key = `${change.topicId}:${change.partition}`;
      if (!first.has(key)) first.set(key, change);
      last.set(key, change);
    }
  }
  const leaders: LocalPartitionChange[] = [];
  const followers: LocalPartitionChange[] = [];
  const deletes: LocalChanges['deletes'][number][] = [];
  for (const [key, change] of last) {
    const before = first.get(key)!.before;
    const { topic, topicId, partition, after } = change;
    if (after === undefined || !after.replicas.includes(brokerId)) {
      if (before?.replicas.includes(brokerId)) deletes.push({ topic, topicId, partition, topicDeleted: after === undefined });
      continue;
    }
    (after.leader === brokerId ? leaders : followers).push({ topic, topicId, partition, registration: after });
  }
  return { leaders, followers, deletes };
}
