/**
 * The active controller's request logic (Kafka's QuorumController and its control managers), pure:
 * each operation reads the current image, validates, and returns `{ response, records }` — the
 * records to propose to Raft and the answer to send once they commit. An operation never changes
 * the image; only `replay` of committed records does, the same call for live apply and recovery.
 *
 * Time comes in as `now` (ms); nothing here reads a clock, draws a random number or does I/O, so the
 * same image and inputs always give the same records.
 *
 * Serialisation. Each operation is computed against the image it sees. If the wiring proposed a
 * second write before the first was replayed, the second would be validated against stale state
 * (two AlterPartitions could both pass the same partition-epoch check). So the wiring must either
 * run writes one at a time (propose, wait for commit and replay, then compute the next), or do
 * what Kafka does: replay its own proposals into the controller at once and, on losing leadership,
 * rebuild the image from the committed log. Reads and heartbeats that return no records need
 * neither.
 *
 * Broker epochs. A registration's epoch is the metadata offset its RegisterBroker record is
 * expected at (`nextOffset`, which the wiring should pass as the Raft log's last index + 1; by
 * default the committed image's last offset + 1), raised if needed above the broker's previous
 * epoch. A broker has caught up once its applied metadata offset reaches its epoch.
 */
import { createHash, createHmac } from 'node:crypto';
import { BROKER_TOPIC_CONFIG_SYNONYMS, parseEndpoints, validateBrokerConfigs } from '@samsa/metadata';
import { ErrorCode, INT64_MAX, protocolError, SamsaProtocolError, toBigInt, topicPartitionKey, type Int64Wire } from '@samsa/protocol';
import { createAcls, deleteAcls, type CreateAclResult, type DeleteAclsFilterResult } from './aclControl.js';
import { BrokerHeartbeatManager } from './heartbeats.js';
import {
  NO_LEADER,
  sameReplicaList,
  MetadataImage,
  type BrokerRegistration,
  type TopicImage,
  type MetadataDelta,
  type ConfigResourceType,
  type MetadataRecord,
  type AclBinding,
  type AclBindingFilter,
  type OngoingReassignment,
} from '@samsa/metadata';
import { changeElectingOfflineLeader, changeRemovingBroker, electLeader, type ElectionPolicy } from './elections.js';
import { assignReplicas, leastLoadedIndex } from './placement.js';
import { cancelReassignment, completeReassignment, startReassignment } from './reassignments.js';
import { topicCollisionKey, validateKnownTopicConfigs, validateTopicName, type TopicConfigValidator } from './validation.js';

// ---- results ----

export interface ControllerResult<T> {
  readonly response: T;
  /** To propose to Raft as one atomic batch; empty when nothing changes. */
  readonly records: readonly MetadataRecord[];
}

export interface Failure {
  readonly errorCode: Exclude<ErrorCode, 0>;
  readonly errorMessage: string;
}

/** A response: the success fields with errorCode 0, or an error code and a sentence. */
export type Outcome<T> = ({ readonly errorCode: typeof ErrorCode.NONE } & T) | Failure;

// ---- requests and responses ----

export interface CreateTopicRequest {
  readonly name: string;
  /** -1 for the controller's default. */
  readonly numPartitions: number;
  /** -1 for the controller's default. */
  readonly replicationFactor: number;
  readonly configs?: Readonly<Record<string, string>>;
}

export type CreateTopicResult = { readonly name: string } & Outcome<{
  /** Absent for validateOnly. */
  readonly topicId?: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
}>;

export type DeleteTopicResult = { readonly name: string } & Outcome<{ readonly topicId: string }>;

/** Kafka's CreatePartitionsTopic: grow `name` to `count` partitions in total. */
export interface CreatePartitionsRequest {
  readonly name: string;
  readonly count: number;
}

export type CreatePartitionsResult = { readonly name: string } & Outcome<{
  /** The replica lists of the new partitions, in partition order (also for validateOnly). */
  readonly assignments: readonly (readonly number[])[];
}>;

export interface RegisterBrokerRequest {
  readonly brokerId: number;
  readonly incarnationId: string;
  readonly host: string;
  readonly port: number;
  readonly rack?: string;
  /** Advertised listeners, `NAME://HOST:PORT,...` (see @samsa/protocol listeners.ts). */
  readonly endpoints?: string;
}

export type RegisterBrokerResponse = Outcome<{ readonly brokerEpoch: string }>;

export interface BrokerHeartbeatRequest {
  readonly brokerId: number;
  readonly brokerEpoch: Int64Wire;
  /** The offset of the last metadata record the broker has applied (-1 for none). */
  readonly currentMetadataOffset: Int64Wire;
  readonly wantFence: boolean;
  readonly wantShutDown: boolean;
  /** Log directories the broker reports offline (KIP-858); non-empty keeps it fenced (packages/broker/src/log/README.md). */
  readonly offlineLogDirs?: readonly string[];
}

export type BrokerHeartbeatResponse = Outcome<{
  readonly isFenced: boolean;
  readonly isCaughtUp: boolean;
  readonly shouldShutDown: boolean;
}>;

export type FenceStaleBrokersResponse = { readonly fencedBrokers: readonly number[] };

export interface AlterPartitionRequest {
  readonly brokerId: number;
  readonly brokerEpoch: Int64Wire;
  /** The topic by id or, failing that, by name. */
  readonly topicId?: string;
  readonly topic?: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

export type AlterPartitionResponse = Outcome<{
  readonly topicId: string;
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly number[];
}>;

export type AllocateProducerIdsResponse = Outcome<{ readonly producerIdStart: string; readonly producerIdLen: number }>;

export interface AlterConfigOp {
  readonly name: string;
  readonly op: 'set' | 'delete';
  readonly value?: string | null;
}

export interface AlterConfigsResource {
  readonly resourceType: ConfigResourceType;
  readonly resourceName: string;
  readonly configs: readonly AlterConfigOp[];
}

export type AlterConfigsResult = { readonly resourceType: ConfigResourceType; readonly resourceName: string } & Outcome<{}>;

export type UnregisterBrokerResponse = Outcome<{}>;

/** Kafka's ElectionType: PREFERRED (0) moves leadership to the first replica; UNCLEAN (1) gives offline partitions a leader (KIP-460). */
export type ElectionType = 'preferred' | 'unclean';

export interface ElectionRequest {
  readonly electionType: ElectionType;
  /** The partitions to elect for; undefined (or empty) for every partition of every topic. */
  readonly partitions?: readonly { readonly topic: string; readonly partition: number }[];
}

/** One partition's outcome; ELECTION_NOT_NEEDED when its preferred replica already leads. */
export type PartitionElectionResult = { readonly topic: string; readonly partition: number } & Outcome<{ readonly leader: number }>;

export interface ElectionResponse {
  /** In request order, or by topic name then partition for "all". */
  readonly results: readonly PartitionElectionResult[];
}

/** Kafka's ReassignablePartition: a target replica list, or null to cancel. */
export interface ReassignPartitionRequest {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[] | null;
}

export type ReassignPartitionResult = { readonly topic: string; readonly partition: number } & Outcome<{}>;

// ---- the controller ----

export interface QuorumControllerOptions {
  /** The image to start from (e.g. recovered from a snapshot); empty by default. */
  readonly image?: MetadataImage;
  /** Kafka's num.partitions (1). */
  readonly defaultNumPartitions?: number;
  /** Kafka's default.replication.factor (1). */
  readonly defaultReplicationFactor?: number;
  /** Bad input must not make the controller build millions of records. Default 100000. */
  readonly maxPartitionsPerTopic?: number;
  /** Topic config validation; by default Kafka's known topic keys (see validation.ts). */
  readonly validateTopicConfigs?: TopicConfigValidator;
  /** Producer ids per ProducerIdsBlock (Kafka: 1000). */
  readonly producerIdBlockSize?: number;
  /** The cluster-wide unclean.leader.election.enable, for topics that do not set it (false). */
  readonly uncleanLeaderElectionEnable?: boolean;
  /** Mixed into derived topic ids so that two clusters do not mint the same ids. */
  readonly clusterId?: string;
}

export const UNCLEAN_LEADER_ELECTION_ENABLE = 'unclean.leader.election.enable';

export class QuorumController {
  private currentImage: MetadataImage;
  private readonly heartbeats = new BrokerHeartbeatManager();
  private readonly defaultNumPartitions: number;
  private readonly defaultReplicationFactor: number;
  private readonly maxPartitionsPerTopic: number;
  private readonly validateTopicConfigs: TopicConfigValidator;
  private readonly producerIdBlockSize: number;
  private readonly uncleanDefault: boolean;
  private readonly clusterId: string;

  constructor(options: QuorumControllerOptions = {}) {
    this.currentImage = options.image ?? new MetadataImage();
    this.defaultNumPartitions = options.defaultNumPartitions ?? 1;
    this.defaultReplicationFactor = options.defaultReplicationFactor ?? 1;
    this.maxPartitionsPerTopic = options.maxPartitionsPerTopic ?? 100_000;
    this.validateTopicConfigs = options.validateTopicConfigs ?? validateKnownTopicConfigs;
    this.producerIdBlockSize = options.producerIdBlockSize ?? 1000;
    this.uncleanDefault = options.uncleanLeaderElectionEnable ?? false;
    this.clusterId = options.clusterId ?? '';
  }

  get image(): MetadataImage {
    return this.currentImage;
  }

  // ---- state changes: committed records only ----

  /** Applies one committed record (live or during recovery). */
  replay(record: MetadataRecord, offset: number, epoch?: number): MetadataDelta {
    const delta = this.currentImage.replay(record, offset, epoch);
    if (record.type === 'UnregisterBroker') this.heartbeats.remove(record.brokerId);
    return delta;
  }

  /** Recovery: replaces the image with a snapshot's; the log after it is then replayed. */
  loadSnapshot(records: Iterable<MetadataRecord>, offset: number, epoch: number): void {
    this.currentImage = MetadataImage.fromSnapshot(records, offset, epoch);
  }

  /** This controller became the active one: every registered broker gets a fresh session. */
  activate(now: number): void {
    this.heartbeats.reset(
      this.currentImage.brokers().map((b) => b.brokerId),
      now,
    );
  }

  // ---- topics ----

  createTopics(requests: readonly CreateTopicRequest[], validateOnly = false): ControllerResult<CreateTopicResult[]> {
    const image = this.currentImage;
    const pending = new PendingChanges(image);
    const occurrences = new Map<string, number>();
    for (const r of requests) occurrences.set(r.name, (occurrences.get(r.name) ?? 0) + 1);
    const usable = image
      .brokers()
      .filter(isUsable)
      .map((b) => b.brokerId);
    const leaderCounts = countLeaders(image);
    const collisions = new Map(image.topics().map((t) => [topicCollisionKey(t.name), t.name]));

    const results = requests.map((request): CreateTopicResult => {
      const { name } = request;
      try {
        validateTopicName(name);
        if (occurrences.get(name)! > 1) throw protocolError('INVALID_REQUEST', `topic '${name}' appears more than once in the request`);
        if (image.topic(name) !== undefined) throw protocolError('TOPIC_ALREADY_EXISTS', `topic '${name}' already exists`);
        const collidesWith = collisions.get(topicCollisionKey(name));
        if (collidesWith !== undefined) {
          throw protocolError(
            'INVALID_TOPIC_EXCEPTION',
            `topic '${name}' collides with topic '${collidesWith}': '.' and '_' are interchangeable in metric names`,
          );
        }
        const numPartitions = request.numPartitions === -1 ? this.defaultNumPartitions : request.numPartitions;
        if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > this.maxPartitionsPerTopic) {
          throw protocolError(
            'INVALID_PARTITIONS',
            `number of partitions must be between 1 and ${this.maxPartitionsPerTopic}, got ${request.numPartitions}`,
          );
        }
        const replicationFactor = request.replicationFactor === -1 ? this.defaultReplicationFactor : request.replicationFactor;
        if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
          // Kafka's wording: a bad number is not a shortage of brokers.
          throw protocolError(
            'INVALID_REPLICATION_FACTOR',
            `replication factor must be larger than 0, or -1 to use the default value; got ${request.replicationFactor}`,
          );
        }
        if (replicationFactor > usable.length) {
          throw protocolError(
            'INVALID_REPLICATION_FACTOR',
            `replication factor ${replicationFactor} cannot be met: ${usable.length} broker(s) are unfenced and not shutting down`,
          );
        }
        const configs = this.checkTopicConfigs(request.configs ?? {});
        collisions.set(topicCollisionKey(name), name);
        const created = { name, errorCode: ErrorCode.NONE, numPartitions, replicationFactor, configs } as const;
        if (validateOnly) return created;

        const topicId = deriveTopicId(pending.image, name, this.clusterId);
        pending.add({ type: 'Topic', name, topicId });
        for (const [key, value] of Object.entries(configs)) {
          pending.add({ type: 'Config', resourceType: 'topic', resourceName: name, name: key, value });
        }
        const assignment = assignReplicas(usable, numPartitions, replicationFactor, leastLoadedIndex(usable, leaderCounts));
        assignment.forEach((replicas, partition) => {
          pending.add({
            type: 'Partition',
            topicId,
            partition,
            replicas,
            isr: replicas,
            leader: replicas[0]!,
            leaderEpoch: 0,
            partitionEpoch: 0,
          });
          leaderCounts.set(replicas[0]!, (leaderCounts.get(replicas[0]!) ?? 0) + 1);
        });
        return { ...created, topicId };
      } catch (err) {
        return { name, ...failure(err) };
      }
    });
    return { response: results, records: pending.records };
  }

  deleteTopics(names: readonly string[]): ControllerResult<DeleteTopicResult[]> {
    const pending = new PendingChanges(this.currentImage);
    const occurrences = new Map<string, number>();
    for (const n of names) occurrences.set(n, (occurrences.get(n) ?? 0) + 1);
    const results = names.map((name): DeleteTopicResult => {
      if (occurrences.get(name)! > 1) return { name, ...fail('INVALID_REQUEST', `topic '${name}' appears more than once in the request`) };
      const topic = this.currentImage.topic(name);
      if (topic === undefined) return { name, ...fail('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`) };
      if (isInternalTopic(name)) {
        return {
          name,
          ...fail(
            'INVALID_REQUEST',
            `topic '${name}' is internal: it holds state the cluster needs (every group's offsets) and cannot be deleted`,
          ),
        };
      }
      pending.add({ type: 'RemoveTopic', topicId: topic.topicId });
      return { name, errorCode: ErrorCode.NONE, topicId: topic.topicId };
    });
    return { response: results, records: pending.records };
  }

  /**
   * Kafka's CreatePartitions (KIP-195): appends Partition records for partitions current..count-1 of
   * each topic, placed as new topics are (placement.ts) over the usable brokers, starting at the
   * broker leading the fewest partitions. Rules and errors: README.md, "Topic lifecycle".
   */
  createPartitions(requests: readonly CreatePartitionsRequest[], validateOnly = false): ControllerResult<CreatePartitionsResult[]> {
    const image = this.currentImage;
    const pending = new PendingChanges(image);
    const occurrences = new Map<string, number>();
    for (const r of requests) occurrences.set(r.name, (occurrences.get(r.name) ?? 0) + 1);
    const usable = image
      .brokers()
      .filter(isUsable)
      .map((b) => b.brokerId);
    const leaderCounts = countLeaders(image);
    const results = requests.map((request): CreatePartitionsResult => {
      const { name, count } = request;
      try {
        if (occurrences.get(name)! > 1) throw protocolError('INVALID_REQUEST', `topic '${name}' appears more than once in the request`);
        const topic = image.topic(name);
        if (topic === undefined) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
        if (isInternalTopic(name)) {
          throw protocolError(
            'INVALID_REQUEST',
            `topic '${name}' is internal: its partition count decides which broker coordinates which group, so it cannot change`,
          );
        }
        const current = topic.partitions.length;
        if (!Number.isInteger(count)) throw protocolError('INVALID_PARTITIONS', `the partition count must be an integer, got ${count}`);
        if (count === current) throw protocolError('INVALID_PARTITIONS', `topic '${name}' already has ${current} partitions`);
        if (count < current) {
          throw protocolError(
            'INVALID_PARTITIONS',
            `topic '${name}' has ${current} partitions, which is more than the requested ${count}; partitions cannot be removed`,
          );
        }
        if (count > this.maxPartitionsPerTopic) {
          throw protocolError('INVALID_PARTITIONS', `number of partitions must be at most ${this.maxPartitionsPerTopic}, got ${count}`);
        }
        const replicationFactor = topic.partitions[0]?.replicas.length ?? this.defaultReplicationFactor;
        if (replicationFactor > usable.length) {
          throw protocolError(
            'INVALID_REPLICATION_FACTOR',
            `topic '${name}' has replication factor ${replicationFactor}, but ${usable.length} broker(s) are unfenced and not shutting down`,
          );
        }
        const assignments = assignReplicas(usable, count - current, replicationFactor, leastLoadedIndex(usable, leaderCounts));
        for (const replicas of assignments) leaderCounts.set(replicas[0]!, (leaderCounts.get(replicas[0]!) ?? 0) + 1);
        if (!validateOnly) {
          assignments.forEach((replicas, i) => {
            pending.add({
              type: 'Partition',
              topicId: topic.topicId,
              partition: current + i,
              replicas,
              isr: replicas,
              leader: replicas[0]!,
              leaderEpoch: 0,
              partitionEpoch: 0,
            });
          });
        }
        return { name, errorCode: ErrorCode.NONE, assignments };
      } catch (err) {
        return { name, ...failure(err) };
      }
    });
    return { response: results, records: pending.records };
  }

  /**
   * Dynamic broker configs (Kafka's `--entity-type brokers`): the broker-level defaults of topic
   * configs (log.retention.ms, min.insync.replicas, ...; BROKER_TOPIC_CONFIG_SYNONYMS), for one
   * broker (resource name = its id) or for every broker (the empty name: `--entity-default`).
   * Stored as Config records of resource type broker; brokers apply them as they replay them.
   */
  private alterBrokerConfigs(pending: PendingChanges, resource: AlterConfigsResource, validateOnly: boolean): AlterConfigsResult {
    const { resourceType, resourceName } = resource;
    if (resourceName !== '' && !/^(0|[1-9]\d{0,9})$/.test(resourceName)) {
      throw protocolError(
        'INVALID_REQUEST',
        `a broker config resource is a broker id or '' (the cluster-wide default), got '${resourceName}'`,
      );
    }
    const sets: Record<string, string> = {};
    const deletes: string[] = [];
    const seen = new Set<string>();
    for (const { name, op, value } of resource.configs) {
      if (seen.has(name)) throw protocolError('INVALID_REQUEST', `config '${name}' appears more than once for broker '${resourceName}'`);
      seen.add(name);
      if (op === 'set') {
        if (typeof value !== 'string') throw protocolError('INVALID_REQUEST', `set of '${name}' needs a value`);
        sets[name] = value;
      } else if (op === 'delete') {
        deletes.push(name);
      } else {
        throw protocolError('INVALID_REQUEST', `unsupported config operation '${String(op)}' (set and delete are supported)`);
      }
    }
    // The controller, not the brokers, decides elections, from its own cluster-wide setting.
    if (seen.has(UNCLEAN_LEADER_ELECTION_ENABLE)) {
      throw protocolError('INVALID_CONFIG', `${UNCLEAN_LEADER_ELECTION_ENABLE} is not a dynamic broker config here; set it on the topic`);
    }
    const normalised = validateBrokerConfigs(sets);
    const unknownDeletes = deletes.filter((name) => !Object.hasOwn(BROKER_TOPIC_CONFIG_SYNONYMS, name));
    if (unknownDeletes.length > 0)
      throw protocolError('INVALID_CONFIG', `unknown or non-dynamic broker config(s): ${unknownDeletes.join(', ')}`);
    if (!validateOnly) {
      const current = pending.image.brokerConfigs(resourceName);
      for (const name of Object.keys(normalised).sort()) {
        if (current.get(name) !== normalised[name])
          pending.add({ type: 'Config', resourceType, resourceName, name, value: normalised[name]! });
      }
      for (const name of deletes.sort()) {
        if (current.has(name)) pending.add({ type: 'Config', resourceType, resourceName, name, value: null });
      }
    }
    return { resourceType, resourceName, errorCode: ErrorCode.NONE };
  }

  incrementalAlterConfigs(resources: readonly AlterConfigsResource[], validateOnly = false): ControllerResult<AlterConfigsResult[]> {
    const pending = new PendingChanges(this.currentImage);
    const occurrences = new Map<string, number>();
    const keyOf = (r: AlterConfigsResource) => `${r.resourceType}\0${r.resourceName}`;
    for (const r of resources) occurrences.set(keyOf(r), (occurrences.get(keyOf(r)) ?? 0) + 1);

    const results = resources.map((resource): AlterConfigsResult => {
      const { resourceType, resourceName } = resource;
      try {
        if (occurrences.get(keyOf(resource))! > 1)
          throw protocolError('INVALID_REQUEST', `${resourceType} '${resourceName}' appears more than once in the request`);
        if (resourceType === 'broker') return this.alterBrokerConfigs(pending, resource, validateOnly);
        if (resourceType !== 'topic') throw protocolError('INVALID_REQUEST', `altering ${resourceType} configs is not supported`);
        const topic = pending.image.topic(resourceName);
        if (topic === undefined) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${resourceName}' does not exist`);
        const sets: Record<string, string> = {};
        const deletes: string[] = [];
        const seen = new Set<string>();
        for (const { name, op, value } of resource.configs) {
          if (seen.has(name))
            throw protocolError('INVALID_REQUEST', `config '${name}' appears more than once for ${resourceType} '${resourceName}'`);
          seen.add(name);
          if (op === 'set') {
            if (typeof value !== 'string') throw protocolError('INVALID_REQUEST', `set of '${name}' needs a value`);
            sets[name] = value;
          } else if (op === 'delete') {
            deletes.push(name);
          } else {
            throw protocolError('INVALID_REQUEST', `unsupported config operation '${String(op)}' (set and delete are supported)`);
          }
        }
        const normalised = this.checkTopicConfigs(sets);
        if (!validateOnly) {
          for (const name of Object.keys(normalised).sort()) {
            if (topic.configs.get(name) !== normalised[name])
              pending.add({ type: 'Config', resourceType, resourceName, name, value: normalised[name]! });
          }
          for (const name of deletes.sort()) {
            if (topic.configs.has(name)) pending.add({ type: 'Config', resourceType, resourceName, name, value: null });
          }
          // Enabling unclean election takes effect at once for partitions that are offline now.
          this.electOfflineLeaders(pending, pending.image.topic(resourceName)!);
        }
        return { resourceType, resourceName, errorCode: ErrorCode.NONE };
      } catch (err) {
        return { resourceType, resourceName, ...failure(err) };
      }
    });
    return { response: results, records: pending.records };
  }

  // ---- ACLs ----

  /** Kafka's CreateAcls: one result per binding, in order (see aclControl.ts). */
  createAcls(creations: readonly AclBinding[]): ControllerResult<CreateAclResult[]> {
    return createAcls(this.currentImage, creations);
  }

  /** Kafka's DeleteAcls: per filter, the bindings it removed. */
  deleteAcls(filters: readonly AclBindingFilter[]): ControllerResult<DeleteAclsFilterResult[]> {
    return deleteAcls(this.currentImage, filters);
  }

  // ---- SCRAM credentials (KIP-554, KRaft's ScramControlManager) ----

  /**
   * Kafka's AlterUserScramCredentials: one result per user named. A user's changes apply all or
   * nothing. The request carries SaltedPassword (the client salted and hashed the password); the
   * records keep only StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey =
   * HMAC(SaltedPassword, "Server Key"), as RFC 5802's server does.
   */
  alterUserScramCredentials(
    deletions: ReadonlyArray<{ name: string; mechanism: string }>,
    upsertions: ReadonlyArray<{ name: string; mechanism: string; iterations: number; salt: Buffer; saltedPassword: Buffer }>,
  ): ControllerResult<Array<{ user: string; errorCode: number; errorMessage: string }>> {
    const pending = new PendingChanges(this.currentImage);
    const users: string[] = [];
    for (const item of [...deletions, ...upsertions]) if (!users.includes(item.name)) users.push(item.name);
    const results = users.map((user) => {
      try {
        const seen = new Set<string>();
        const records: MetadataRecord[] = [];
        const check = (mechanism: string) => {
          if (user === '') throw protocolError('UNACCEPTABLE_CREDENTIAL', 'the user name must not be empty');
          const hash = Object.hasOwn(SCRAM_HASHES, mechanism) ? SCRAM_HASHES[mechanism] : undefined;
          if (hash === undefined)
            throw protocolError('UNSUPPORTED_SASL_MECHANISM', `unknown SCRAM mechanism '${mechanism}' (SCRAM-SHA-256, SCRAM-SHA-512)`);
          if (seen.has(mechanism))
            throw protocolError('DUPLICATE_RESOURCE', `${mechanism} for user '${user}' appears more than once in the request`);
          seen.add(mechanism);
          return hash;
        };
        // Duplicates and unknown mechanisms first (Kafka's order), then each item.
        for (const x of [...deletions, ...upsertions].filter((x) => x.name === user)) check(x.mechanism);
        for (const d of deletions.filter((x) => x.name === user)) {
          if (pending.image.scramCredential(user, d.mechanism) === undefined)
            throw protocolError('RESOURCE_NOT_FOUND', `user '${user}' has no ${d.mechanism} credential`);
          records.push({ type: 'RemoveUserScramCredential', name: user, mechanism: d.mechanism });
        }
        for (const u of upsertions.filter((x) => x.name === user)) {
          const { algorithm, length } = SCRAM_HASHES[u.mechanism]!;
          if (!Number.isInteger(u.iterations) || u.iterations < SCRAM_MIN_ITERATIONS || u.iterations > SCRAM_MAX_ITERATIONS)
            throw protocolError(
              'UNACCEPTABLE_CREDENTIAL',
              `iterations must be ${SCRAM_MIN_ITERATIONS}-${SCRAM_MAX_ITERATIONS}, got ${u.iterations}`,
            );
          if (u.salt.length === 0) throw protocolError('UNACCEPTABLE_CREDENTIAL', 'the salt must not be empty');
          if (u.saltedPassword.length !== length)
            throw protocolError(
              'UNACCEPTABLE_CREDENTIAL',
              `a ${u.mechanism} salted password is ${length} bytes, got ${u.saltedPassword.length}`,
            );
          const clientKey = createHmac(algorithm, u.saltedPassword).update('Client Key').digest();
          records.push({
            type: 'UserScramCredential',
            name: user,
            mechanism: u.mechanism,
            salt: u.salt.toString('base64'),
            storedKey: createHash(algorithm).update(clientKey).digest('base64'),
            serverKey: createHmac(algorithm, u.saltedPassword).update('Server Key').digest('base64'),
            iterations: u.iterations,
          });
        }
        for (const r of records) pending.add(r);
        return { user, errorCode: ErrorCode.NONE as number, errorMessage: '' };
      } catch (err) {
        return { user, ...failure(err) };
      }
    });
    return { response: results, records: pending.records };
  }

  // ---- brokers ----

  /**
   * Registers a broker, fenced, at a new epoch (see the file comment). A registration replaces any
   * previous one for the id: that incarnation's leaderships and ISR memberships end here, since a
   * restarted broker may have lost unflushed writes and must catch up as a follower.
   */
  registerBroker(
    request: RegisterBrokerRequest,
    now: number,
    nextOffset = this.currentImage.lastAppliedOffset + 1,
  ): ControllerResult<RegisterBrokerResponse> {
    const { brokerId, incarnationId, host, port, rack, endpoints } = request;
    const invalid = (message: string) => ({ response: fail('INVALID_REQUEST', message), records: [] });
    if (!Number.isSafeInteger(brokerId) || brokerId < 0) return invalid(`broker id must be a non-negative integer, got ${brokerId}`);
    if (typeof incarnationId !== 'string' || incarnationId.length === 0) return invalid('incarnation id is empty');
    if (typeof host !== 'string' || host.length === 0) return invalid('host is empty');
    if (!Number.isInteger(port) || port < 1 || port > 65535) return invalid(`port must be between 1 and 65535, got ${port}`);
    if (rack !== undefined && (typeof rack !== 'string' || rack.length === 0)) return invalid('rack, when given, must not be empty');
    if (endpoints !== undefined) {
      try {
        parseEndpoints(endpoints);
      } catch (err) {
        return invalid(`endpoints '${endpoints}': ${(err as Error).message}`);
      }
    }

    const existing = this.currentImage.broker(brokerId);
    let epoch = BigInt(Math.max(0, nextOffset));
    if (existing !== undefined && epoch <= BigInt(existing.brokerEpoch)) epoch = BigInt(existing.brokerEpoch) + 1n;
    const brokerEpoch = epoch.toString();
    const pending = new PendingChanges(this.currentImage);
    pending.add({
      type: 'RegisterBroker',
      brokerId,
      incarnationId,
      brokerEpoch,
      host,
      port,
      ...(rack === undefined ? {} : { rack }),
      ...(endpoints === undefined ? {} : { endpoints }),
      fenced: true,
    });
    if (existing !== undefined) this.moveAwayFrom(pending, brokerId);
    this.heartbeats.touch(brokerId, now);
    return { response: { errorCode: ErrorCode.NONE, brokerEpoch }, records: pending.records };
  }

  /** Decommissions a broker: its registration goes, and with it its leaderships and ISR memberships. */
  unregisterBroker(brokerId: number): ControllerResult<UnregisterBrokerResponse> {
    const broker = this.currentImage.broker(brokerId);
    if (broker === undefined) return { response: fail('INVALID_REQUEST', `broker ${brokerId} is not registered`), records: [] };
    const pending = new PendingChanges(this.currentImage);
    pending.add({ type: 'UnregisterBroker', brokerId, brokerEpoch: broker.brokerEpoch });
    this.moveAwayFrom(pending, brokerId);
    return { response: { errorCode: ErrorCode.NONE }, records: pending.records };
  }

  /**
   * A broker's heartbeat (Kafka's BrokerHeartbeatManager.calculateNextBrokerState, simplified):
   * a fenced broker is unfenced once caught up, unless it wants to stay fenced or shut down; an
   * unfenced broker that asks to be fenced is fenced; one that asks to shut down enters controlled
   * shutdown, its leaderships move away, and it is told to shut down once it leads nothing.
   */
  brokerHeartbeat(request: BrokerHeartbeatRequest, now: number): ControllerResult<BrokerHeartbeatResponse> {
    try {
      const broker = this.checkBrokerEpoch(request.brokerId, request.brokerEpoch);
      this.heartbeats.touch(broker.brokerId, now);
      const isCaughtUp = parseInt64(request.currentMetadataOffset, 'currentMetadataOffset') >= BigInt(broker.brokerEpoch);
      const pending = new PendingChanges(this.currentImage);
      const ref = { brokerId: broker.brokerId, brokerEpoch: broker.brokerEpoch };
      // A broker whose log directory failed serves none of its replicas: as Kafka takes the
      // replicas of an offline directory out of every ISR and leadership, fence it while it says so.
      const wantFence = request.wantFence || (request.offlineLogDirs?.length ?? 0) > 0;
      if (broker.fenced) {
        if (isCaughtUp && !wantFence && !request.wantShutDown && !broker.inControlledShutdown) {
          pending.add({ type: 'UnfenceBroker', ...ref });
          this.electForReturningBroker(pending, broker.brokerId);
        }
      } else if (wantFence) {
        pending.add({ type: 'FenceBroker', ...ref });
        this.moveAwayFrom(pending, broker.brokerId);
      } else if (request.wantShutDown) {
        if (!broker.inControlledShutdown) pending.add({ type: 'BrokerControlledShutdown', ...ref });
        this.moveAwayFrom(pending, broker.brokerId);
      }
      const after = pending.image.broker(broker.brokerId)!;
      const shouldShutDown = request.wantShutDown && (after.fenced || !leadsAnyPartition(pending.image, broker.brokerId));
      return {
        response: { errorCode: ErrorCode.NONE, isFenced: after.fenced, isCaughtUp, shouldShutDown },
        records: pending.records,
      };
    } catch (err) {
      return { response: failure(err), records: [] };
    }
  }

  /**
   * Fences every unfenced broker not heard from for longer than the session timeout: FenceBroker,
   * then for each partition it leads or is in the ISR of, a change removing it (see
   * changeRemovingBroker for the election rules). Call it periodically on the active controller.
   */
  fenceStaleBrokers(now: number, sessionTimeoutMs: number): ControllerResult<FenceStaleBrokersResponse> {
    const pending = new PendingChanges(this.currentImage);
    const fencedBrokers: number[] = [];
    for (const broker of this.currentImage.brokers()) {
      if (broker.fenced || !this.heartbeats.hasExpired(broker.brokerId, now, sessionTimeoutMs)) continue;
      pending.add({ type: 'FenceBroker', brokerId: broker.brokerId, brokerEpoch: broker.brokerEpoch });
      this.moveAwayFrom(pending, broker.brokerId);
      fencedBrokers.push(broker.brokerId);
    }
    return { response: { fencedBrokers }, records: pending.records };
  }

  /** When the broker was last heard from by this controller (undefined: not since it became active). */
  lastHeartbeat(brokerId: number): number | undefined {
    return this.heartbeats.lastContact(brokerId);
  }

  // ---- partitions ----

  /**
   * The leader's ISR change, compare-and-set on the partition epoch (Kafka's AlterPartition).
   * As in Kafka, a partition-epoch mismatch is INVALID_UPDATE_VERSION and an ineligible ISR member
   * INELIGIBLE_REPLICA: the leader tells "the partition changed since" from "refused as it is" by
   * the code (replication/alterPartition.ts in the broker).
   */
  alterPartition(request: AlterPartitionRequest): ControllerResult<AlterPartitionResponse> {
    try {
      this.checkBrokerEpoch(request.brokerId, request.brokerEpoch);
      const image = this.currentImage;
      const topic =
        request.topicId !== undefined
          ? image.topicById(request.topicId)
          : request.topic !== undefined
            ? image.topic(request.topic)
            : undefined;
      if (topic === undefined) {
        throw request.topicId !== undefined
          ? protocolError('UNKNOWN_TOPIC_ID', `topic id ${request.topicId} does not exist`)
          : protocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${request.topic}' does not exist`);
      }
      const current = topic.partitions[request.partition];
      if (current === undefined) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `${topic.name}-${request.partition} does not exist`);
      const where = `${topic.name}-${request.partition}`;
      if (request.leaderEpoch !== current.leaderEpoch) {
        throw protocolError(
          'FENCED_LEADER_EPOCH',
          `${where} is at leader epoch ${current.leaderEpoch}, the request has ${request.leaderEpoch}`,
        );
      }
      if (request.brokerId !== current.leader) {
        throw protocolError(
          'NOT_LEADER_OR_FOLLOWER',
          `broker ${request.brokerId} is not the leader of ${where} (the leader is ${current.leader})`,
        );
      }
      if (request.partitionEpoch !== current.partitionEpoch) {
        throw protocolError(
          'INVALID_UPDATE_VERSION',
          `${where} is at partition epoch ${current.partitionEpoch}, the request has ${request.partitionEpoch}`,
        );
      }
      const newIsr = request.newIsr;
      if (!Array.isArray(newIsr) || newIsr.length === 0 || new Set(newIsr).size !== newIsr.length) {
        throw protocolError('INVALID_REQUEST', `the new ISR of ${where} must be a non-empty list of distinct brokers`);
      }
      const outside = newIsr.filter((b) => !current.replicas.includes(b));
      if (outside.length > 0) throw protocolError('INVALID_REQUEST', `broker(s) ${outside.join(',')} are not replicas of ${where}`);
      if (!newIsr.includes(current.leader))
        throw protocolError('INVALID_REQUEST', `the new ISR of ${where} must contain its leader ${current.leader}`);
      const ineligible = newIsr.filter((b) => !isUsable(image.broker(b)));
      if (ineligible.length > 0) {
        throw protocolError(
          'INELIGIBLE_REPLICA',
          `broker(s) ${ineligible.join(',')} are fenced, shutting down or unregistered and cannot join the ISR of ${where}`,
        );
      }
      const pending = new PendingChanges(image);
      if (!sameReplicaList(newIsr, current.isr)) {
        pending.add({ type: 'PartitionChange', topicId: topic.topicId, partition: request.partition, isr: [...newIsr] });
      }
      // The answer describes the ISR change itself; a completion below reaches the leader through
      // metadata at a newer partition epoch, so the leader also learns its new replica list.
      const after = pending.image.partition(topic.topicId, request.partition)!;
      const completion = completeReassignment(after, (id) => isUsable(pending.image.broker(id)));
      if (completion !== undefined)
        pending.add({ type: 'PartitionChange', topicId: topic.topicId, partition: request.partition, ...completion });
      return {
        response: {
          errorCode: ErrorCode.NONE,
          topicId: topic.topicId,
          partition: request.partition,
          leader: after.leader,
          leaderEpoch: after.leaderEpoch,
          partitionEpoch: after.partitionEpoch,
          isr: after.isr,
        },
        records: pending.records,
      };
    } catch (err) {
      return { response: failure(err), records: [] };
    }
  }

  // ---- partition reassignment (KIP-455) ----

  /**
   * Kafka's AlterPartitionReassignments: per partition, start (or re-target) a reassignment to
   * `replicas`, or cancel the running one (`replicas` null). A target already all in the ISR
   * completes in the same entry. Rules and errors: README.md, "Partition reassignment".
   */
  alterPartitionReassignments(requests: readonly ReassignPartitionRequest[]): ControllerResult<ReassignPartitionResult[]> {
    const pending = new PendingChanges(this.currentImage);
    const seen = new Set<string>();
    const usable = (id: number) => isUsable(pending.image.broker(id));
    const results = requests.map(({ topic, partition, replicas }): ReassignPartitionResult => {
      try {
        const where = `${topic}-${partition}`;
        const key = topicPartitionKey(topic, partition);
        if (seen.has(key)) throw protocolError('INVALID_REQUEST', `${where} appears more than once in the request`);
        seen.add(key);
        const t = pending.image.topic(topic);
        if (t === undefined) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`);
        const p = Number.isInteger(partition) ? t.partitions[partition] : undefined;
        if (p === undefined) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `${where} does not exist`);
        let change;
        if (replicas === null) {
          change = cancelReassignment(p, usable);
        } else {
          if (!Array.isArray(replicas) || replicas.length === 0)
            throw protocolError('INVALID_REPLICA_ASSIGNMENT', `the target replicas of ${where} are empty`);
          if (!replicas.every((b) => Number.isSafeInteger(b) && b >= 0))
            throw protocolError('INVALID_REPLICA_ASSIGNMENT', `the target replicas of ${where} [${replicas.join(',')}] are not broker ids`);
          if (new Set(replicas).size !== replicas.length)
            throw protocolError('INVALID_REPLICA_ASSIGNMENT', `the target replicas of ${where} [${replicas.join(',')}] repeat a broker`);
          const unknown = replicas.filter((b) => pending.image.broker(b) === undefined);
          if (unknown.length > 0)
            throw protocolError(
              'INVALID_REPLICA_ASSIGNMENT',
              `broker(s) ${unknown.join(',')} in the target of ${where} are not registered`,
            );
          change = startReassignment(p, replicas, usable);
        }
        if (change !== undefined) pending.add({ type: 'PartitionChange', topicId: t.topicId, partition, ...change });
        const completion = completeReassignment(pending.image.partition(t.topicId, partition)!, usable);
        if (completion !== undefined) pending.add({ type: 'PartitionChange', topicId: t.topicId, partition, ...completion });
        return { topic, partition, errorCode: ErrorCode.NONE };
      } catch (err) {
        return { topic, partition, ...failure(err) };
      }
    });
    return { response: results, records: pending.records };
  }

  /** Kafka's ListPartitionReassignments: see MetadataImage.ongoingReassignments. */
  listPartitionReassignments(partitions?: readonly { topic: string; partition: number }[]): OngoingReassignment[] {
    return this.currentImage.ongoingReassignments(partitions);
  }

  // ---- leader elections ----

  /**
   * Kafka's ElectLeaders. PREFERRED: for each partition whose first replica (the preferred one) is
   * not the leader, a PartitionChange making it the leader when it is in the ISR and usable
   * (unfenced, not shutting down) — replay bumps the leader epoch; ELECTION_NOT_NEEDED when it
   * already leads, PREFERRED_LEADER_NOT_AVAILABLE when it is out of the ISR or not usable. The ISR
   * is left as it is. UNCLEAN (KIP-460): only for a partition without a leader — ELECTION_NOT_NEEDED
   * when one leads; a usable ISR member is elected cleanly when there is one, otherwise the first
   * usable replica becomes leader and the whole ISR whatever the topic's
   * unclean.leader.election.enable says (the operator asked for it; the record carries
   * `unclean: true` and the controller logs the warning); ELIGIBLE_LEADERS_NOT_AVAILABLE when no
   * replica is usable.
   */
  electLeaders(request: ElectionRequest): ControllerResult<ElectionResponse> {
    const image = this.currentImage;
    const all = request.partitions === undefined || request.partitions.length === 0;
    const targets = all
      ? [...image.topics()]
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .flatMap((t) => t.partitions.map((_, partition) => ({ topic: t.name, partition })))
      : request.partitions!;
    if (request.electionType !== 'preferred' && request.electionType !== 'unclean') {
      const message = `unknown election type '${String(request.electionType)}'`;
      return {
        response: { results: targets.map(({ topic, partition }) => ({ topic, partition, ...fail('INVALID_REQUEST', message) })) },
        records: [],
      };
    }
    const unclean = request.electionType === 'unclean';
    const pending = new PendingChanges(image);
    const seen = new Set<string>();
    const results = targets.map(({ topic, partition }): PartitionElectionResult => {
      const where = `${topic}-${partition}`;
      const key = topicPartitionKey(topic, partition);
      if (seen.has(key)) return { topic, partition, ...fail('INVALID_REQUEST', `${where} appears more than once in the request`) };
      seen.add(key);
      const t = pending.image.topic(topic);
      if (t === undefined) return { topic, partition, ...fail('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`) };
      const p = Number.isInteger(partition) ? t.partitions[partition] : undefined;
      if (p === undefined) return { topic, partition, ...fail('UNKNOWN_TOPIC_OR_PARTITION', `${where} does not exist`) };
      if (unclean) {
        if (p.leader !== NO_LEADER)
          return {
            topic,
            partition,
            ...fail('ELECTION_NOT_NEEDED', `${where} has a leader (${p.leader}); an unclean election is only for a partition without one`),
          };
        const policy = { isUsable: (id: number) => isUsable(pending.image.broker(id)), uncleanAllowed: true };
        const elected = electLeader(p.replicas, p.isr, policy);
        if (elected.leader === NO_LEADER) {
          return {
            topic,
            partition,
            ...fail('ELIGIBLE_LEADERS_NOT_AVAILABLE', `no replica of ${where} [${p.replicas.join(',')}] is alive and unfenced`),
          };
        }
        pending.add({
          type: 'PartitionChange',
          topicId: t.topicId,
          partition,
          leader: elected.leader,
          ...(sameReplicaList(elected.isr, p.isr) ? {} : { isr: [...elected.isr] }),
          ...(elected.unclean ? { unclean: true } : {}),
        });
        return { topic, partition, errorCode: ErrorCode.NONE, leader: elected.leader };
      }
      const preferred = p.replicas[0]!;
      if (p.leader === preferred)
        return { topic, partition, ...fail('ELECTION_NOT_NEEDED', `the preferred replica ${preferred} already leads ${where}`) };
      if (!p.isr.includes(preferred)) {
        return {
          topic,
          partition,
          ...fail(
            'PREFERRED_LEADER_NOT_AVAILABLE',
            `the preferred replica ${preferred} of ${where} is not in its ISR [${p.isr.join(',')}]`,
          ),
        };
      }
      if (!isUsable(pending.image.broker(preferred))) {
        return {
          topic,
          partition,
          ...fail(
            'PREFERRED_LEADER_NOT_AVAILABLE',
            `the preferred replica ${preferred} of ${where} is fenced, shutting down or unregistered`,
          ),
        };
      }
      pending.add({ type: 'PartitionChange', topicId: t.topicId, partition, leader: preferred });
      return { topic, partition, errorCode: ErrorCode.NONE, leader: preferred };
    });
    return { response: { results }, records: pending.records };
  }

  /**
   * The partitions automatic rebalancing moves (Kafka's auto.leader.rebalance.enable with
   * leader.imbalance.per.broker.percentage): for each broker, its imbalance ratio is the share of
   * the partitions it is the preferred replica of that it does not lead; when that ratio exceeds
   * `imbalancePercentage` / 100, every such partition whose preferred replica is eligible (in the
   * ISR and usable) is returned, sorted by topic and partition.
   */
  imbalancedPartitions(imbalancePercentage: number): { topic: string; partition: number }[] {
    const image = this.currentImage;
    const byPreferred = new Map<number, { total: number; moves: { topic: string; partition: number; eligible: boolean }[] }>();
    for (const t of image.topics()) {
      t.partitions.forEach((p, partition) => {
        const preferred = p.replicas[0]!;
        const entry = byPreferred.get(preferred) ?? { total: 0, moves: [] };
        byPreferred.set(preferred, entry);
        entry.total++;
        if (p.leader !== preferred) {
          entry.moves.push({ topic: t.name, partition, eligible: p.isr.includes(preferred) && isUsable(image.broker(preferred)) });
        }
      });
    }
    const out: { topic: string; partition: number }[] = [];
    for (const { total, moves } of byPreferred.values()) {
      if (moves.length / total <= imbalancePercentage / 100) continue;
      for (const m of moves) if (m.eligible) out.push({ topic: m.topic, partition: m.partition });
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** One automatic rebalancing pass: a preferred election for imbalancedPartitions (no records when none). */
  rebalanceLeaders(imbalancePercentage: number): ControllerResult<ElectionResponse> {
    const partitions = this.imbalancedPartitions(imbalancePercentage);
    if (partitions.length === 0) return { response: { results: [] }, records: [] };
    return this.electLeaders({ electionType: 'preferred', partitions });
  }

  // ---- producer ids ----

  allocateProducerIds(brokerId: number, brokerEpoch: Int64Wire): ControllerResult<AllocateProducerIdsResponse> {
    try {
      const broker = this.checkBrokerEpoch(brokerId, brokerEpoch);
      const start = BigInt(this.currentImage.nextProducerId);
      const next = start + BigInt(this.producerIdBlockSize);
      if (next - 1n > INT64_MAX) throw protocolError('UNKNOWN_SERVER_ERROR', 'the producer id space is exhausted');
      return {
        response: { errorCode: ErrorCode.NONE, producerIdStart: start.toString(), producerIdLen: this.producerIdBlockSize },
        records: [{ type: 'ProducerIdsBlock', brokerId, brokerEpoch: broker.brokerEpoch, nextProducerId: next.toString() }],
      };
    } catch (err) {
      return { response: failure(err), records: [] };
    }
  }

  // ---- helpers ----

  private checkBrokerEpoch(brokerId: number, brokerEpoch: Int64Wire): BrokerRegistration {
    const broker = this.currentImage.broker(brokerId);
    // Kafka answers an unknown broker with BROKER_ID_NOT_REGISTERED, which our table lacks.
    if (broker === undefined) throw protocolError('STALE_BROKER_EPOCH', `broker ${brokerId} is not registered`);
    if (parseInt64(brokerEpoch, 'brokerEpoch') !== BigInt(broker.brokerEpoch)) {
      throw protocolError(
        'STALE_BROKER_EPOCH',
        `broker ${brokerId} is registered at epoch ${broker.brokerEpoch}, the request has ${String(brokerEpoch)}`,
      );
    }
    return broker;
  }

  private checkTopicConfigs(configs: Readonly<Record<string, string>>): Record<string, string> {
    try {
      return this.validateTopicConfigs(configs);
    } catch (err) {
      if (err instanceof SamsaProtocolError) throw err;
      throw protocolError('INVALID_CONFIG', err instanceof Error ? err.message : String(err), err);
    }
  }

  private electionPolicy(pending: PendingChanges, topic: TopicImage): ElectionPolicy {
    const setting = topic.configs.get(UNCLEAN_LEADER_ELECTION_ENABLE);
    return {
      isUsable: (id) => isUsable(pending.image.broker(id)),
      uncleanAllowed: setting === undefined ? this.uncleanDefault : setting.toLowerCase() === 'true',
    };
  }

  /** Takes `brokerId` out of the leadership and ISR of every partition (the broker record comes first). */
  private moveAwayFrom(pending: PendingChanges, brokerId: number): void {
    for (const { topicId } of pending.image.topics()) {
      const topic = pending.image.topicById(topicId)!;
      const policy = this.electionPolicy(pending, topic);
      topic.partitions.forEach((_, partition) => {
        const change = changeRemovingBroker(pending.image.partition(topicId, partition)!, brokerId, policy);
        if (change !== undefined) pending.add({ type: 'PartitionChange', topicId, partition, ...change });
      });
    }
  }

  /** A broker became usable: offline partitions it is a replica of may elect a leader again. */
  private electForReturningBroker(pending: PendingChanges, brokerId: number): void {
    for (const topic of pending.image.topics()) this.electOfflineLeaders(pending, topic, brokerId);
  }

  private electOfflineLeaders(pending: PendingChanges, topic: TopicImage, replica?: number): void {
    const policy = this.electionPolicy(pending, topic);
    topic.partitions.forEach((_, partition) => {
      const p = pending.image.partition(topic.topicId, partition)!;
      if (p.leader !== NO_LEADER || (replica !== undefined && !p.replicas.includes(replica))) return;
      const change = changeElectingOfflineLeader(p, policy);
      if (change !== undefined) pending.add({ type: 'PartitionChange', topicId: topic.topicId, partition, ...change });
    });
  }
}

/**
 * The records an operation proposes, and a scratch image they have been replayed into (made on
 * the first record), so later steps of the same operation see their effect exactly as replay
 * will produce it.
 */
/** Kafka's ScramMechanism bounds on iterations. */
const SCRAM_MIN_ITERATIONS = 4096;
const SCRAM_MAX_ITERATIONS = 16384;
const SCRAM_HASHES: Readonly<Record<string, { algorithm: string; length: number }>> = {
  'SCRAM-SHA-256': { algorithm: 'sha256', length: 32 },
  'SCRAM-SHA-512': { algorithm: 'sha512', length: 64 },
};

class PendingChanges {
  readonly records: MetadataRecord[] = [];
  private scratch: MetadataImage | undefined;

  constructor(private readonly committed: MetadataImage) {}

  get image(): MetadataImage {
    return this.scratch ?? this.committed;
  }

  add(record: MetadataRecord): void {
    this.scratch ??= this.committed.clone();
    this.scratch.replay(record, this.scratch.lastAppliedOffset);
    this.records.push(record);
  }
}

/** Kafka's Topic.isInternal, widened to every `__` name: such topics hold the cluster's own state. */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}

function isUsable(broker: BrokerRegistration | undefined): boolean {
  return broker !== undefined && !broker.fenced && !broker.inControlledShutdown;
}

function countLeaders(image: MetadataImage): Map<number, number> {
  const counts = new Map<number, number>();
  for (const topic of image.topics()) {
    for (const p of topic.partitions) if (p.leader !== NO_LEADER) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  }
  return counts;
}

function leadsAnyPartition(image: MetadataImage, brokerId: number): boolean {
  return image.topics().some((t) => t.partitions.some((p) => p.leader === brokerId));
}

/**
 * A topic id derived, UUIDv5-style (SHA-1, version and variant bits set), from the cluster id, the
 * image's last offset and the name, so that every controller computes the same id and a topic
 * re-created under an old name (necessarily at a later offset) gets a new one.
 */
function deriveTopicId(image: MetadataImage, name: string, clusterId: string): string {
  for (let attempt = 0; ; attempt++) {
    const hash = createHash('sha1').update(`samsa-topic-id\0${clusterId}\0${image.lastAppliedOffset}\0${name}\0${attempt}`).digest();
    hash[6] = (hash[6]! & 0x0f) | 0x50;
    hash[8] = (hash[8]! & 0x3f) | 0x80;
    const hex = hash.subarray(0, 16).toString('hex');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    if (image.topicById(id) === undefined) return id;
  }
}

function parseInt64(value: Int64Wire, field: string): bigint {
  if (value === null || value === undefined || value === '') throw protocolError('INVALID_REQUEST', `${field} is missing`);
  try {
    return toBigInt(value);
  } catch (err) {
    throw protocolError('INVALID_REQUEST', `${field} is not an int64: ${String(value)}`, err);
  }
}

function fail(name: Exclude<keyof typeof ErrorCode, 'NONE'>, errorMessage: string): Failure {
  return { errorCode: ErrorCode[name], errorMessage };
}

function failure(err: unknown): Failure {
  if (err instanceof SamsaProtocolError && err.code !== ErrorCode.NONE) return { errorCode: err.code, errorMessage: err.message };
  throw err;
}
