/**
 * The in-memory metadata image: brokers, topics with their partitions and configs, the next
 * producer id, and the offset/epoch of the last record applied. It changes only through
 * `replay(record, offset)`, which is the one code path for live apply (a committed record) and for
 * recovery (a snapshot's records, then the log after it).
 *
 * Immutable-ish: the image's own maps change on replay, but every value it hands out (a broker, a
 * topic, a partition) is frozen and replaced, never modified, so a value read earlier and the
 * `before`/`after` of a delta stay valid. That also makes `clone()` cheap (shallow map copies),
 * which the controller uses to see what its proposed records would do.
 */
import { isReassigning, mergePartitionChange, partitionFromRecord, partitionProblem, type PartitionRegistration } from './partitions.js';
import type { BrokerDelta, ConfigDelta, MetadataDelta, PartitionDelta, TopicRef } from './delta.js';
import { aclBindingProblem, type AclBinding } from './acls.js';
import type { ConfigResourceType, MetadataRecord, PartitionChangeRecord } from './records.js';

export interface BrokerRegistration {
  readonly brokerId: number;
  readonly incarnationId: string;
  /** int64 as a decimal string; see QuorumController.registerBroker for how it is chosen. */
  readonly brokerEpoch: string;
  readonly host: string;
  readonly port: number;
  readonly rack?: string;
  /** Its advertised listeners, `NAME://HOST:PORT,...`; absent when it registered host:port only. */
  readonly endpoints?: string;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition id (partitions are always 0..n-1). */
  readonly partitions: readonly PartitionRegistration[];
  /** Only the explicitly set configs; defaults live with whoever interprets them. */
  readonly configs: ReadonlyMap<string, string>;
}

/** One user's SCRAM credential for one mechanism, as the metadata log holds it (base64 fields). */
export interface ScramCredentialImage {
  readonly mechanism: string;
  readonly salt: string;
  readonly storedKey: string;
  readonly serverKey: string;
  readonly iterations: number;
}

/** A committed record contradicts the image: a bug in whoever wrote the log. Fatal for the replayer. */
export class MetadataReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataReplayError';
  }
}

/** The offset of "nothing applied yet". Offsets are the Raft log's entry indexes, which start at 1. */
export const NO_OFFSET = -1;

export class MetadataImage {
  private brokersById: Map<number, BrokerRegistration>;
  private topicsById: Map<string, TopicImage>;
  private topicIdsByName: Map<string, string>;
  private brokerConfigsByName: Map<string, ReadonlyMap<string, string>>;
  private producerIdNext: string;
  private aclsById: Map<string, AclBinding>;
  /** Replaced (never changed) whenever an ACL is added or removed, so readers can cache by identity. */
  private aclList: readonly AclBinding[] | undefined;
  /** user → mechanism → credential (KRaft's ScramImage). */
  private scramByUser: Map<string, ReadonlyMap<string, ScramCredentialImage>>;
  private offset: number;
  private epoch: number;

  constructor() {
    this.brokersById = new Map();
    this.topicsById = new Map();
    this.topicIdsByName = new Map();
    this.brokerConfigsByName = new Map();
    this.producerIdNext = '0';
    this.aclsById = new Map();
    this.aclList = undefined;
    this.scramByUser = new Map();
    this.offset = NO_OFFSET;
    this.epoch = 0;
  }

  /** Recovery: an image made by replaying a snapshot's records at the snapshot's offset and epoch. */
  static fromSnapshot(records: Iterable<MetadataRecord>, offset: number = NO_OFFSET, epoch = 0): MetadataImage {
    const image = new MetadataImage();
    for (const record of records) image.replay(record, offset, epoch);
    image.offset = offset;
    image.epoch = epoch;
    return image;
  }

  // ---- reading ----

  /** The offset of the last record applied (NO_OFFSET for none). */
  get lastAppliedOffset(): number {
    return this.offset;
  }

  /** The Raft epoch (term) of the last record applied. */
  get lastAppliedEpoch(): number {
    return this.epoch;
  }

  /** int64 as a decimal string: the first producer id not yet handed out. */
  get nextProducerId(): string {
    return this.producerIdNext;
  }

  broker(brokerId: number): BrokerRegistration | undefined {
    return this.brokersById.get(brokerId);
  }

  /** All registered brokers, by id. */
  brokers(): BrokerRegistration[] {
    return [...this.brokersById.values()].sort((a, b) => a.brokerId - b.brokerId);
  }

  topic(name: string): TopicImage | undefined {
    const id = this.topicIdsByName.get(name);
    return id === undefined ? undefined : this.topicsById.get(id);
  }

  topicById(topicId: string): TopicImage | undefined {
    return this.topicsById.get(topicId);
  }

  /** All topics, by name. */
  topics(): TopicImage[] {
    return [...this.topicsById.values()].sort((a, b) => compareStrings(a.name, b.name));
  }

  partition(topicId: string, partition: number): PartitionRegistration | undefined {
    return this.topicsById.get(topicId)?.partitions[partition];
  }

  /**
   * Kafka's ListPartitionReassignments over this image: the partitions with a reassignment running
   * (KIP-455) among `partitions` (unknown or idle ones left out, as in Kafka) or among all, by
   * topic name then partition.
   */
  ongoingReassignments(partitions?: readonly { topic: string; partition: number }[]): OngoingReassignment[] {
    const out: OngoingReassignment[] = [];
    const seen = new Set<string>();
    const add = (topic: string, partition: number) => {
      const key = `${topic}\0${partition}`;
      if (seen.has(key)) return;
      seen.add(key);
      const p = this.topic(topic)?.partitions[partition];
      if (p === undefined || !isReassigning(p)) return;
      out.push({ topic, partition, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas });
    };
    if (partitions === undefined) for (const t of this.topics()) t.partitions.forEach((_, i) => add(t.name, i));
    else for (const { topic, partition } of partitions) add(topic, partition);
    return out.sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition);
  }

  /** Dynamic broker configs for a broker id ('' = the cluster-wide default). */
  brokerConfigs(resourceName: string): ReadonlyMap<string, string> {
    return this.brokerConfigsByName.get(resourceName) ?? EMPTY_CONFIGS;
  }

  /** Every ACL (a frozen array; the same array until an ACL is added or removed). */
  acls(): readonly AclBinding[] {
    this.aclList ??= Object.freeze([...this.aclsById.values()]);
    return this.aclList;
  }

  /** The ACL with this record id. */
  acl(id: string): AclBinding | undefined {
    return this.aclsById.get(id);
  }

  /** ACL ids, sorted. */
  aclIds(): string[] {
    return [...this.aclsById.keys()].sort(compareStrings);
  }

  /** A user's SCRAM credential for a mechanism, if any. */
  scramCredential(user: string, mechanism: string): ScramCredentialImage | undefined {
    return this.scramByUser.get(user)?.get(mechanism);
  }

  /** Every user with a SCRAM credential, by name, with their credentials by mechanism. */
  scramUsers(): Array<{ name: string; credentials: ScramCredentialImage[] }> {
    return [...this.scramByUser.keys()].sort(compareStrings).map((name) => ({
      name,
      credentials: [...this.scramByUser.get(name)!.values()].sort((a, b) => compareStrings(a.mechanism, b.mechanism)),
    }));
  }

  /** A copy whose replays do not touch this image. O(brokers + topics): values are shared, being immutable. */
  clone(): MetadataImage {
    const copy = new MetadataImage();
    copy.brokersById = new Map(this.brokersById);
    copy.topicsById = new Map(this.topicsById);
    copy.topicIdsByName = new Map(this.topicIdsByName);
    copy.brokerConfigsByName = new Map(this.brokerConfigsByName);
    copy.producerIdNext = this.producerIdNext;
    copy.aclsById = new Map(this.aclsById);
    copy.scramByUser = new Map(this.scramByUser);
    copy.offset = this.offset;
    copy.epoch = this.epoch;
    return copy;
  }

  // ---- snapshot ----

  /**
   * The records that recreate this image (in dependency order, deterministically sorted):
   * brokers, broker configs, then each topic with its configs and partitions, then producer ids.
   */
  toSnapshot(): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const b of this.brokers()) {
      records.push({
        type: 'RegisterBroker',
        brokerId: b.brokerId,
        incarnationId: b.incarnationId,
        brokerEpoch: b.brokerEpoch,
        host: b.host,
        port: b.port,
        ...(b.rack === undefined ? {} : { rack: b.rack }),
        ...(b.endpoints === undefined ? {} : { endpoints: b.endpoints }),
        fenced: b.fenced,
      });
      if (b.inControlledShutdown) records.push({ type: 'BrokerControlledShutdown', brokerId: b.brokerId, brokerEpoch: b.brokerEpoch });
    }
    for (const resourceName of [...this.brokerConfigsByName.keys()].sort(compareStrings)) {
      records.push(...configRecords('broker', resourceName, this.brokerConfigs(resourceName)));
    }
    for (const topic of this.topics()) {
      records.push({ type: 'Topic', name: topic.name, topicId: topic.topicId });
      records.push(...configRecords('topic', topic.name, topic.configs));
      topic.partitions.forEach((p, partition) => {
        records.push({
          type: 'Partition',
          topicId: topic.topicId,
          partition,
          replicas: [...p.replicas],
          isr: [...p.isr],
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          ...(p.addingReplicas.length > 0 ? { addingReplicas: [...p.addingReplicas] } : {}),
          ...(p.removingReplicas.length > 0 ? { removingReplicas: [...p.removingReplicas] } : {}),
        });
      });
    }
    if (this.producerIdNext !== '0') {
      records.push({ type: 'ProducerIdsBlock', brokerId: -1, brokerEpoch: '-1', nextProducerId: this.producerIdNext });
    }
    for (const id of this.aclIds()) records.push({ type: 'AccessControlEntry', id, ...this.aclsById.get(id)! });
    for (const user of this.scramUsers()) {
      for (const c of user.credentials) records.push({ type: 'UserScramCredential', name: user.name, ...c });
    }
    return records;
  }

  // ---- replay ----

  /**
   * Applies one committed record at `offset` (records of one Raft entry may share an offset) and
   * says what changed. Throws MetadataReplayError if the record contradicts the image; the image is
   * then unchanged.
   */
  replay(record: MetadataRecord, offset: number, epoch: number = this.epoch): MetadataDelta {
    if (offset < this.offset) throw new MetadataReplayError(`record at offset ${offset} replayed after offset ${this.offset}`);
    const changes = new DeltaBuilder();
    this.apply(record, changes);
    this.offset = offset;
    this.epoch = epoch;
    return changes.build(offset, epoch, record);
  }

  private apply(record: MetadataRecord, changes: DeltaBuilder): void {
    switch (record.type) {
      case 'RegisterBroker': {
        const before = this.brokersById.get(record.brokerId);
        const after: BrokerRegistration = Object.freeze({
          brokerId: record.brokerId,
          incarnationId: record.incarnationId,
          brokerEpoch: record.brokerEpoch,
          host: record.host,
          port: record.port,
          ...(record.rack === undefined ? {} : { rack: record.rack }),
          ...(record.endpoints === undefined ? {} : { endpoints: record.endpoints }),
          fenced: record.fenced,
          inControlledShutdown: false,
        });
        this.brokersById.set(record.brokerId, after);
        changes.brokers.push({ brokerId: record.brokerId, before, after });
        return;
      }
      case 'UnregisterBroker': {
        const before = this.currentBroker(record.brokerId, record.brokerEpoch, record.type);
        this.brokersById.delete(record.brokerId);
        changes.brokers.push({ brokerId: record.brokerId, before, after: undefined });
        return;
      }
      case 'FenceBroker':
      case 'UnfenceBroker':
      case 'BrokerControlledShutdown': {
        const before = this.currentBroker(record.brokerId, record.brokerEpoch, record.type);
        const after: BrokerRegistration = Object.freeze(
          record.type === 'BrokerControlledShutdown'
            ? { ...before, inControlledShutdown: true }
            : { ...before, fenced: record.type === 'FenceBroker' },
        );
        this.brokersById.set(record.brokerId, after);
        changes.brokers.push({ brokerId: record.brokerId, before, after });
        return;
      }
      case 'Topic': {
        if (this.topicIdsByName.has(record.name)) throw new MetadataReplayError(`topic '${record.name}' already exists`);
        if (this.topicsById.has(record.topicId)) throw new MetadataReplayError(`topic id ${record.topicId} is already in use`);
        this.topicsById.set(
          record.topicId,
          freezeTopic({ name: record.name, topicId: record.topicId, partitions: [], configs: EMPTY_CONFIGS }),
        );
        this.topicIdsByName.set(record.name, record.topicId);
        changes.topicsCreated.push({ name: record.name, topicId: record.topicId });
        return;
      }
      case 'Partition': {
        const topic = this.existingTopic(record.topicId, record.type);
        if (record.partition > topic.partitions.length) {
          throw new MetadataReplayError(
            `partition ${record.partition} of '${topic.name}' would leave a gap after ${topic.partitions.length - 1}`,
          );
        }
        this.setPartition(topic, record.partition, partitionFromRecord(record), false, changes);
        return;
      }
      case 'PartitionChange': {
        const topic = this.existingTopic(record.topicId, record.type);
        const before = topic.partitions[record.partition];
        if (before === undefined) throw new MetadataReplayError(`PartitionChange for unknown partition ${topic.name}-${record.partition}`);
        this.setPartition(topic, record.partition, mergePartitionChange(before, changeFields(record)), record.unclean === true, changes);
        return;
      }
      case 'Config': {
        const key = { resourceType: record.resourceType, resourceName: record.resourceName, name: record.name };
        const value = record.value ?? undefined;
        if (record.resourceType === 'topic') {
          const id = this.topicIdsByName.get(record.resourceName);
          if (id === undefined) throw new MetadataReplayError(`Config for unknown topic '${record.resourceName}'`);
          const topic = this.topicsById.get(id)!;
          const before = topic.configs.get(record.name);
          this.topicsById.set(id, freezeTopic({ ...topic, configs: withConfig(topic.configs, record.name, value) }));
          changes.configs.push({ ...key, before, after: value });
        } else {
          const configs = this.brokerConfigs(record.resourceName);
          const before = configs.get(record.name);
          const next = withConfig(configs, record.name, value);
          if (next.size === 0) this.brokerConfigsByName.delete(record.resourceName);
          else this.brokerConfigsByName.set(record.resourceName, next);
          changes.configs.push({ ...key, before, after: value });
        }
        return;
      }
      case 'RemoveTopic': {
        const topic = this.existingTopic(record.topicId, record.type);
        this.topicsById.delete(topic.topicId);
        this.topicIdsByName.delete(topic.name);
        changes.topicsDeleted.push({ name: topic.name, topicId: topic.topicId });
        topic.partitions.forEach((before, partition) => {
          changes.partitions.push({ topic: topic.name, topicId: topic.topicId, partition, before, after: undefined, unclean: false });
        });
        return;
      }
      case 'AccessControlEntry': {
        const { type: _type, id, ...binding } = record;
        const problem = aclBindingProblem(binding);
        if (problem !== undefined) throw new MetadataReplayError(`AccessControlEntry ${id}: ${problem}`);
        if (this.aclsById.has(id)) throw new MetadataReplayError(`ACL id ${id} is already in use`);
        this.aclsById.set(id, Object.freeze(binding));
        this.aclList = undefined;
        changes.aclsChanged = true;
        return;
      }
      case 'RemoveAccessControlEntry': {
        if (!this.aclsById.delete(record.id)) throw new MetadataReplayError(`RemoveAccessControlEntry for unknown ACL id ${record.id}`);
        this.aclList = undefined;
        changes.aclsChanged = true;
        return;
      }
      case 'ProducerIdsBlock': {
        if (BigInt(record.nextProducerId) <= BigInt(this.producerIdNext)) {
          throw new MetadataReplayError(`next producer id would move back from ${this.producerIdNext} to ${record.nextProducerId}`);
        }
        this.producerIdNext = record.nextProducerId;
        changes.nextProducerId = record.nextProducerId;
        return;
      }
      case 'UserScramCredential': {
        const next = new Map(this.scramByUser.get(record.name) ?? []);
        const { type: _type, name: _name, ...credential } = record;
        next.set(record.mechanism, Object.freeze(credential));
        this.scramByUser.set(record.name, next);
        return;
      }
      case 'RemoveUserScramCredential': {
        const current = this.scramByUser.get(record.name);
        if (!current?.has(record.mechanism))
          throw new MetadataReplayError(`RemoveUserScramCredential for '${record.name}', who has no ${record.mechanism} credential`);
        const next = new Map(current);
        next.delete(record.mechanism);
        if (next.size === 0) this.scramByUser.delete(record.name);
        else this.scramByUser.set(record.name, next);
        return;
      }
    }
  }

  private currentBroker(brokerId: number, brokerEpoch: string, type: string): BrokerRegistration {
    const broker = this.brokersById.get(brokerId);
    if (broker === undefined) throw new MetadataReplayError(`${type} for unregistered broker ${brokerId}`);
    if (broker.brokerEpoch !== brokerEpoch) {
      throw new MetadataReplayError(
        `${type} for broker ${brokerId} at epoch ${brokerEpoch}, but it is registered at epoch ${broker.brokerEpoch}`,
      );
    }
    return broker;
  }

  private existingTopic(topicId: string, type: string): TopicImage {
    const topic = this.topicsById.get(topicId);
    if (topic === undefined) throw new MetadataReplayError(`${type} for unknown topic id ${topicId}`);
    return topic;
  }

  private setPartition(topic: TopicImage, partition: number, after: PartitionRegistration, unclean: boolean, changes: DeltaBuilder): void {
    const problem = partitionProblem(after);
    if (problem !== undefined) throw new MetadataReplayError(`${topic.name}-${partition} would have ${problem}`);
    const partitions = [...topic.partitions];
    const before = partitions[partition];
    partitions[partition] = after;
    this.topicsById.set(topic.topicId, freezeTopic({ ...topic, partitions }));
    changes.partitions.push({ topic: topic.name, topicId: topic.topicId, partition, before, after, unclean });
  }
}

/** One partition with a reassignment running (Kafka's OngoingPartitionReassignment). */
export interface OngoingReassignment {
  readonly topic: string;
  readonly partition: number;
  /** The target replicas, then those being removed. */
  readonly replicas: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

const EMPTY_CONFIGS: ReadonlyMap<string, string> = new Map();

function withConfig(configs: ReadonlyMap<string, string>, name: string, value: string | undefined): ReadonlyMap<string, string> {
  const next = new Map(configs);
  if (value === undefined) next.delete(name);
  else next.set(name, value);
  return next;
}

function configRecords(resourceType: ConfigResourceType, resourceName: string, configs: ReadonlyMap<string, string>): MetadataRecord[] {
  return [...configs.keys()]
    .sort(compareStrings)
    .map((name) => ({ type: 'Config', resourceType, resourceName, name, value: configs.get(name)! }));
}

function changeFields(record: PartitionChangeRecord) {
  return {
    ...(record.leader === undefined ? {} : { leader: record.leader }),
    ...(record.isr === undefined ? {} : { isr: record.isr }),
    ...(record.replicas === undefined ? {} : { replicas: record.replicas }),
    ...(record.addingReplicas === undefined ? {} : { addingReplicas: record.addingReplicas }),
    ...(record.removingReplicas === undefined ? {} : { removingReplicas: record.removingReplicas }),
  };
}

function freezeTopic(topic: TopicImage): TopicImage {
  return Object.freeze({ ...topic, partitions: Object.freeze([...topic.partitions]) });
}

/** Code-unit order, so sorting never depends on the host's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class DeltaBuilder {
  readonly topicsCreated: TopicRef[] = [];
  readonly topicsDeleted: TopicRef[] = [];
  readonly partitions: PartitionDelta[] = [];
  readonly brokers: BrokerDelta[] = [];
  readonly configs: ConfigDelta[] = [];
  nextProducerId: string | undefined;
  aclsChanged = false;

  build(offset: number, epoch: number, record: MetadataRecord): MetadataDelta {
    return {
      offset,
      epoch,
      record,
      topicsCreated: this.topicsCreated,
      topicsDeleted: this.topicsDeleted,
      partitionsChanged: this.partitions,
      brokersChanged: this.brokers,
      configsChanged: this.configs,
      ...(this.aclsChanged ? { aclsChanged: true } : {}),
      ...(this.nextProducerId === undefined ? {} : { nextProducerId: this.nextProducerId }),
    };
  }
}
