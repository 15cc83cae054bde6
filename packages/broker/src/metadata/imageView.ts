/**
 * The broker's view of a MetadataImage: TopicInfo / BrokerInfo shapes the replica manager and the
 * client service read, and the MetadataChange events one applied batch produced. Image values are
 * frozen and replaced on change, so a topic's view is computed once per version (WeakMap) and
 * "did this partition change" is a reference comparison.
 */
import { createHash } from 'node:crypto';
import type { BrokerRegistration, MetadataImage, PartitionRegistration, TopicImage } from '@samsa/metadata';
import type { BrokerInfo, MetadataChange, PartitionInfo, TopicInfo } from './image.js';

const topicViews = new WeakMap<TopicImage, TopicInfo>();

export function topicInfoOf(topic: TopicImage): TopicInfo {
  let info = topicViews.get(topic);
  if (!info) {
    info = {
      name: topic.name,
      topicId: topic.topicId,
      configs: Object.fromEntries(topic.configs),
      partitions: topic.partitions.map((p, partition) => partitionInfoOf(partition, p)),
      isInternal: topic.name.startsWith('__'),
    };
    topicViews.set(topic, info);
  }
  return info;
}

export function partitionInfoOf(partition: number, p: PartitionRegistration): PartitionInfo {
  return {
    partition,
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
    replicas: [...p.replicas],
    isr: [...p.isr],
    ...(p.addingReplicas.length > 0 ? { addingReplicas: [...p.addingReplicas] } : {}),
    ...(p.removingReplicas.length > 0 ? { removingReplicas: [...p.removingReplicas] } : {}),
  };
}

export function brokerInfoOf(b: BrokerRegistration): BrokerInfo {
  return {
    nodeId: b.brokerId,
    host: b.host,
    port: b.port,
    ...(b.rack === undefined ? {} : { rack: b.rack }),
    ...(b.endpoints === undefined ? {} : { endpoints: b.endpoints }),
  };
}

/**
 * The controller API carries no cluster id, so brokers derive one from what every node of a
 * cluster is configured with: the voter list (Kafka's controller.quorum.voters), sorted by id, as
 * `id@host:port,...`, hashed with SHA-256; the first 22 hex digits (Kafka's ids are 22 chars too).
 * Stable across restarts; it changes if a voter is added, removed or moved to another address.
 */
export function clusterIdOf(voters: ReadonlyArray<{ id: number; host: string; port: number }>): string {
  const list = [...voters]
    .sort((a, b) => a.id - b.id)
    .map((v) => `${v.id}@${v.host}:${v.port}`)
    .join(',');
  return createHash('sha256').update(list).digest('hex').slice(0, 22);
}

/**
 * The events for a batch: `touched` maps each topic id the batch may have changed to the topic as
 * it was before the batch (undefined: it did not exist); `image` is the state after. Deletions come
 * first (a re-created name must lose its old logs before the new ones open), then creations, then
 * for topics that existed on both sides a config change (when the explicit configs differ) before
 * their partition changes.
 */
export function topicChanges(touched: ReadonlyMap<string, TopicImage | undefined>, image: MetadataImage): MetadataChange[] {
  const deleted: MetadataChange[] = [];
  const created: MetadataChange[] = [];
  const changed: MetadataChange[] = [];
  for (const [topicId, before] of touched) {
    const after = image.topicById(topicId);
    if (before === after) continue;
    if (after === undefined) {
      if (before !== undefined) deleted.push({ type: 'topicDeleted', topic: topicInfoOf(before) });
      continue;
    }
    if (before === undefined) {
      created.push({ type: 'topicCreated', topic: topicInfoOf(after) });
      continue;
    }
    if (!sameConfigs(before.configs, after.configs)) changed.push({ type: 'topicConfigChanged', topic: topicInfoOf(after) });
    const partitions: PartitionInfo[] = [];
    after.partitions.forEach((p, i) => {
      if (before.partitions[i] !== p) partitions.push(partitionInfoOf(i, p));
    });
    if (partitions.length > 0) changed.push({ type: 'partitionsChanged', topic: topicInfoOf(after), partitions });
  }
  return [...deleted, ...created, ...changed];
}

function sameConfigs(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
