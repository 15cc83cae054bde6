/**
 * Cluster administration: topics (create, list, describe, delete), topic configs (describe,
 * alter), the broker list, and offsets.
 * Per-topic failures come back as typed errors: one failed topic throws its own class (e.g.
 * TopicAlreadyExistsError); several throw a SamsaAggregateError whose `errors` name each topic.
 * Retriable failures (no controller yet, broker unreachable) are retried first.
 */
import { ConfigOperation, ConfigResource, partitionsByTopic } from '@samsa/protocol';
import type { Clock, Random } from '../clock.js';
import type { Cluster } from '../cluster/cluster.js';
import type { BrokerInfo } from '../cluster/metadata.js';
import { parseTopic } from '../cluster/metadata.js';
import { listOffsets } from '../cluster/offsets.js';
import type { OffsetSpec, PartitionOffset } from '../cluster/offsets.js';
import {
  InvalidRequestError,
  SamsaAggregateError,
  UnknownServerError,
  UnknownTopicOrPartitionError,
  errorFromCode,
  isRetriable,
} from '../errors.js';
import type { SamsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { Retrier } from '../retry.js';
import type { ResolvedRetryOptions } from '../retry.js';
import type { GroupRouter } from '../consumer/group/coordinator.js';
import { aclFilterToWire, aclFromWire, aclToWire, type AclBinding, type AclBindingFilter } from './acls.js';
import * as groupAdmin from './groups.js';
import * as txnAdmin from './transactions.js';
import type { CommittedOffset, DeletedOffset, GroupDescription, ListedGroup, PartitionGroupLag } from './groups.js';

export interface NewTopic {
  topic: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface CreateTopicsOptions {
  /** Check the request without creating anything. */
  validateOnly?: boolean;
  /** How long the controller may take. Default 30 s. */
  timeoutMs?: number;
}

export interface CreatedTopic {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** Kafka's NewPartitions: grow `topic` to `count` partitions in total (it never shrinks). */
export interface NewPartitions {
  topic: string;
  count: number;
}

/** Kafka's RecordsToDelete: delete the records of topic-partition before `offset` (-1n: up to the high watermark). */
export interface RecordsToDelete {
  topic: string;
  partition: number;
  offset: bigint;
}

/** Kafka's DeletedRecords: the partition's new log start offset. */
export interface DeletedRecords {
  topic: string;
  partition: number;
  lowWatermark: bigint;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicDescription {
  name: string;
  /** The topic's id in Kafka's Uuid text form (kafka-topics --describe's TopicId). */
  topicId: string;
  isInternal: boolean;
  partitions: PartitionDescription[];
  configs: Record<string, string>;
}

export interface ClusterDescription {
  clusterId: string;
  controllerId: number;
  brokers: BrokerInfo[];
}

export interface OffsetQuery {
  partition: number;
  /**
   * 'earliest' (log start), 'latest' (next offset to be written), 'max-timestamp' (the first record
   * with the largest timestamp, KIP-734) or a time in ms (first record at or after it).
   */
  timestamp: OffsetSpec;
}

/** Kafka's ElectionType. */
export type ElectionType = 'preferred' | 'unclean';

export interface ElectLeadersOptions {
  /** 'preferred' moves leadership to the first replica; 'unclean' elects a leader for partitions without one, out of the ISR if it must (KIP-460). */
  type: ElectionType;
  /** The partitions to elect for; omitted (or empty) for every partition of every topic. */
  partitions?: ReadonlyArray<{ topic: string; partition: number }>;
  /** How long the controller and the broker may take. Default 30 s. */
  timeoutMs?: number;
}

/** One partition's outcome of electLeaders. */
export interface PartitionElectionResult {
  topic: string;
  partition: number;
  /** The broker's code: 0 elected, ELECTION_NOT_NEEDED (84) when a valid leader was already in place, ... */
  errorCode: number;
  /**
   * The failure, if any. ELECTION_NOT_NEEDED is not one when every partition was asked for (as
   * Kafka's tool reports it: "valid replica already elected"); it is when the partition was named.
   */
  error?: SamsaError;
}

/** One partition of alterPartitionReassignments (KIP-455): its target replicas, or null to cancel the running reassignment. */
export interface PartitionReassignment {
  topic: string;
  partition: number;
  /** The new replica list, the first preferred as leader; null cancels (back to the original replicas). */
  replicas: readonly number[] | null;
}

/** One partition's outcome of alterPartitionReassignments. */
export interface PartitionReassignmentResult {
  topic: string;
  partition: number;
  /** 0 accepted; INVALID_REPLICA_ASSIGNMENT (39), NO_REASSIGNMENT_IN_PROGRESS (85), UNKNOWN_TOPIC_OR_PARTITION (3), ... */
  errorCode: number;
  error?: SamsaError;
}

/** A partition whose replicas are moving (Kafka's PartitionReassignment). */
export interface OngoingPartitionReassignment {
  topic: string;
  partition: number;
  /** The target replicas, then those being removed. */
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** One topic's config changes for incrementalAlterConfigs (Kafka's SET and DELETE operations). */
export interface TopicConfigAlteration {
  topic: string;
  /** Configs to set on the topic. */
  set?: Record<string, string>;
  /** Configs to remove from the topic, so they fall back to the broker default. */
  delete?: string[];
}

export interface AlterConfigsOptions {
  /** Check the request (names, values, topics) without changing anything. */
  validateOnly?: boolean;
  /** How long the broker may take, including reaching the controller. Default 30 s. */
  timeoutMs?: number;
}

/** Where a config's value comes from: set on the topic, or a (broker or built-in) default. */
export type ConfigSource = 'topic' | 'default';

export interface ConfigEntry {
  name: string;
  /** The effective value. */
  value: string;
  source: ConfigSource;
  readOnly: boolean;
  sensitive: boolean;
  /**
   * Every value the config has at some level, highest precedence first (the effective one
   * first): 'topic' (set on the topic), 'dynamicBroker' and 'dynamicDefaultBroker' (a dynamic
   * broker config of this broker or of every broker, under its broker name, e.g. log.retention.ms),
   * 'broker' (the broker's configured default), 'default' (the built-in default).
   */
  synonyms: Array<{ name: string; value: string; source: SynonymSource }>;
}

/** A broker by node id, or 'default' for the cluster-wide dynamic default of every broker. */
export type BrokerResource = number | 'default';

export interface BrokerConfigDescription {
  broker: BrokerResource;
  /**
   * The dynamic configs set on this broker ('dynamicBroker') or on every broker
   * ('dynamicDefaultBroker'), as `samsa configs --describe --entity-type brokers` shows them;
   * static settings of the node (its command line) are not listed.
   */
  configs: Array<{ name: string; value: string; source: 'dynamicBroker' | 'dynamicDefaultBroker'; readOnly: boolean; sensitive: boolean }>;
}

export interface BrokerConfigAlteration {
  broker: BrokerResource;
  /** Config name → new value (Kafka's SET). */
  set?: Record<string, string>;
  /** Config names to remove, so the next level's value applies (Kafka's DELETE). */
  delete?: string[];
}

export interface TopicConfigDescription {
  topic: string;
  /** Every topic config, sorted by name. */
  configs: ConfigEntry[];
}

export type SynonymSource = 'topic' | 'dynamicBroker' | 'dynamicDefaultBroker' | 'broker' | 'default';

/** Kafka's DescribeConfigs ConfigSource numbers (1 DYNAMIC_TOPIC_CONFIG, 2 DYNAMIC_BROKER_CONFIG, 3 DYNAMIC_DEFAULT_BROKER_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG). */
function synonymSource(source: number): SynonymSource {
  if (source === 1) return 'topic';
  if (source === 2) return 'dynamicBroker';
  if (source === 3) return 'dynamicDefaultBroker';
  if (source === 4) return 'broker';
  return 'default';
}

export interface AdminDeps {
  cluster: Cluster;
  clock: Clock;
  random: Random;
  logger: Logger;
  retry: ResolvedRetryOptions;
  /** The consumer-group transport; group methods need it (Samsa always passes it). */
  groups?: GroupRouter;
}

const ELECTION_NOT_NEEDED = 84;

/** Throws the one typed error, or an aggregate of several; nothing when the list is empty. */
function throwAll(errors: SamsaError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new SamsaAggregateError(errors);
}

/**
 * One answer's per-topic results, for a request the retrier repeats for the topics still
 * `remaining`: a success leaves `remaining` (after `onSuccess`), a permanent error moves to
 * `failed`; the first retriable error is thrown, so the retrier asks again for what remains.
 */
function settleTopicResults<R>(
  results: Iterable<R>,
  nameOf: (r: R) => string | undefined,
  errorOf: (r: R, name: string) => SamsaError | undefined,
  remaining: { has(name: string): boolean; delete(name: string): boolean },
  failed: SamsaError[],
  onSuccess?: (r: R) => void,
): void {
  let retriable: SamsaError | undefined;
  for (const r of results) {
    const name = nameOf(r);
    if (name === undefined || !remaining.has(name)) continue;
    const error = errorOf(r, name);
    if (error === undefined) {
      onSuccess?.(r);
      remaining.delete(name);
    } else if (error.retriable) {
      retriable ??= error;
    } else {
      failed.push(error);
      remaining.delete(name);
    }
  }
  if (retriable) throw retriable;
}

/** The retrier gave up on a retriable error: every topic still remaining fails with it. */
function failRemaining(error: unknown, remaining: Iterable<string>, failed: SamsaError[]): void {
  if (!isRetriable(error)) throw error;
  for (const name of remaining) failed.push(errorFromCode((error as SamsaError).code, (error as Error).message, error, { topic: name }));
}

/** A per-topic error; a missing topic is an answer, not a reason to retry. */
function finalTopicError(code: number, message: string, topic: string): SamsaError {
  const error = errorFromCode(code, message, undefined, { topic });
  return error instanceof UnknownTopicOrPartitionError
    ? new UnknownTopicOrPartitionError(error.message, { topic, retriable: false })
    : error;
}

function brokerResourceName(b: BrokerResource, what: string): string {
  if (b === 'default') return '';
  if (!Number.isInteger(b) || (b as number) < 0)
    throw new InvalidRequestError(`${what}: a broker is a node id (a non-negative integer) or 'default', got ${String(b)}`);
  return String(b);
}

function brokerOfName(name: string): BrokerResource {
  return name === '' ? 'default' : Number(name);
}

function checkNames(names: readonly string[], what: string): void {
  if (!Array.isArray(names)) throw new InvalidRequestError(`${what} takes an array of topic names`);
  for (const n of names)
    if (typeof n !== 'string' || n.length === 0) throw new InvalidRequestError(`${what}: topic names must be non-empty strings`);
}

export class Admin {
  private readonly retrier: Retrier;

  constructor(private readonly deps: AdminDeps) {
    this.retrier = new Retrier({ retry: deps.retry, clock: deps.clock, random: deps.random, logger: deps.logger });
  }

  /**
   * Creates topics. Resolves with what was (or, with validateOnly, would be) created; throws the
   * failed topics' typed errors as described in the class comment. Topics that succeeded stay
   * created even when another failed.
   */
  async createTopics(topics: readonly NewTopic[], options: CreateTopicsOptions = {}): Promise<CreatedTopic[]> {
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidRequestError('createTopics needs at least one topic');
    checkNames(
      topics.map((t) => t?.topic),
      'createTopics',
    );
    for (const t of topics) {
      for (const [field, v] of [
        ['numPartitions', t.numPartitions],
        ['replicationFactor', t.replicationFactor],
      ] as const) {
        // Only the shape is checked here; the broker answers INVALID_PARTITIONS / INVALID_REPLICATION_FACTOR.
        if (v !== undefined && !Number.isInteger(v)) throw new InvalidRequestError(`${t.topic}: ${field} must be an integer, got ${v}`);
      }
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const remaining = new Map(topics.map((t) => [t.topic, t]));
    const created: CreatedTopic[] = [];
    const failed: SamsaError[] = [];
    await this.retrier
      .run(
        async () => {
          const response = await this.deps.cluster.withAnyBroker((c) =>
            c.createTopics(
              {
                topics: [...remaining.values()].map((t) => ({
                  name: t.topic,
                  numPartitions: t.numPartitions ?? -1,
                  replicationFactor: t.replicationFactor ?? -1,
                  configs: t.configs ?? {},
                })),
                timeoutMs,
                validateOnly: options.validateOnly ?? false,
              },
              this.deps.cluster.requestOptions(timeoutMs),
            ),
          );
          settleTopicResults(
            response.topics,
            (r) => r.name,
            (r) => (r.errorCode === 0 ? undefined : errorFromCode(r.errorCode, r.errorMessage, undefined, { topic: r.name })),
            remaining,
            failed,
            (r) =>
              created.push({
                topic: r.name,
                numPartitions: r.numPartitions,
                replicationFactor: r.replicationFactor,
                configs: { ...r.configs },
              }),
          );
        },
        { what: 'createTopics' },
      )
      // Retries ran out: every topic still pending fails with the last retriable error.
      .catch((error: unknown) => failRemaining(error, remaining.keys(), failed));
    this.deps.cluster.invalidateTopics(created.map((c) => c.topic));
    throwAll(failed);
    const order = new Map(topics.map((t, i) => [t.topic, i]));
    return created.sort((a, b) => order.get(a.topic)! - order.get(b.topic)!);
  }

  /** Deletes topics; failures are thrown as for createTopics. */
  async deleteTopics(names: readonly string[], options: { timeoutMs?: number } = {}): Promise<void> {
    checkNames(names, 'deleteTopics');
    if (names.length === 0) return;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const remaining = new Set(names);
    const failed: SamsaError[] = [];
    await this.retrier.run(
      async () => {
        const response = await this.deps.cluster.withAnyBroker((c) =>
          c.deleteTopics({ names: [...remaining], timeoutMs }, this.deps.cluster.requestOptions(timeoutMs)),
        );
        // Deleting a topic that does not exist is an answer, not a reason to retry (finalTopicError).
        settleTopicResults(
          response.topics,
          (r) => r.name,
          (r) => (r.errorCode === 0 ? undefined : finalTopicError(r.errorCode, r.errorMessage, r.name)),
          remaining,
          failed,
          (r) => this.deps.cluster.forgetTopic(r.name),
        );
      },
      { what: 'deleteTopics' },
    );
    throwAll(failed);
  }

  /**
   * Kafka's Admin.createPartitions: grows each topic to its `count` partitions. New partitions are
   * placed by the controller; producers and group consumers see them on their next metadata
   * refresh. Failures are thrown as for createTopics (INVALID_PARTITIONS names the current count).
   */
  async createPartitions(topics: readonly NewPartitions[], options: CreateTopicsOptions = {}): Promise<void> {
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidRequestError('createPartitions needs at least one topic');
    checkNames(
      topics.map((t) => t?.topic),
      'createPartitions',
    );
    for (const t of topics) {
      if (!Number.isInteger(t.count) || t.count < 1)
        throw new InvalidRequestError(`${t.topic}: count must be a positive integer, got ${t.count}`);
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const remaining = new Map(topics.map((t) => [t.topic, t.count]));
    const failed: SamsaError[] = [];
    await this.retrier
      .run(
        async () => {
          const response = await this.deps.cluster.withAnyBroker((c) =>
            c.createPartitions(
              {
                topics: [...remaining].map(([name, count]) => ({ name, count })),
                timeoutMs,
                validateOnly: options.validateOnly ?? false,
              },
              this.deps.cluster.requestOptions(timeoutMs),
            ),
          );
          settleTopicResults(
            response.results,
            (r) => r.name,
            (r) => (r.errorCode === 0 ? undefined : finalTopicError(r.errorCode, r.errorMessage, r.name)),
            remaining,
            failed,
          );
        },
        { what: 'createPartitions' },
      )
      .catch((error: unknown) => failRemaining(error, remaining.keys(), failed));
    this.deps.cluster.invalidateTopics(topics.map((t) => t.topic));
    throwAll(failed);
  }

  /**
   * Kafka's Admin.deleteRecords: each partition's leader moves its log start offset to `offset`
   * (segments below it are deleted; followers follow). Resolves with the new low watermarks in
   * request order; an offset past the high watermark throws OffsetOutOfRangeError.
   */
  async deleteRecords(records: readonly RecordsToDelete[], options: { timeoutMs?: number } = {}): Promise<DeletedRecords[]> {
    if (!Array.isArray(records) || records.length === 0) throw new InvalidRequestError('deleteRecords needs at least one partition');
    checkNames(
      records.map((r) => r?.topic),
      'deleteRecords',
    );
    for (const r of records) {
      if (!Number.isInteger(r.partition) || r.partition < 0)
        throw new InvalidRequestError(`${r.topic}: partition must be a non-negative integer, got ${r.partition}`);
      if (typeof r.offset !== 'bigint' || r.offset < -1n)
        throw new InvalidRequestError(`${r.topic}-${r.partition}: offset must be a bigint >= -1n, got ${String(r.offset)}`);
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const cluster = this.deps.cluster;
    return Promise.all(
      records.map((r) =>
        this.retrier.run(
          async () => {
            const route = await cluster.leaderFor(r.topic, r.partition);
            const response = await route.connection.deleteRecords(
              {
                topics: [{ name: r.topic, partitions: [{ partition: r.partition, offset: r.offset.toString() }] }],
                timeoutMs,
              },
              cluster.requestOptions(timeoutMs),
            );
            const p = response.topics.find((t) => t.name === r.topic)?.partitions.find((x) => x.partition === r.partition);
            if (!p)
              throw new UnknownServerError(`DeleteRecords answer has no result for ${r.topic}-${r.partition}`, {
                topic: r.topic,
                partition: r.partition,
              });
            if (p.errorCode !== 0) {
              const error = errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: r.topic, partition: r.partition });
              // A moved leader: the retry routes by fresh metadata.
              if (error.retriable) cluster.invalidateTopics([r.topic]);
              throw error;
            }
            return { topic: r.topic, partition: r.partition, lowWatermark: BigInt(p.lowWatermark) };
          },
          { what: `delete records of ${r.topic}-${r.partition}` },
        ),
      ),
    );
  }

  /** Names of all topics (internal ones included), sorted. */
  async listTopics(): Promise<string[]> {
    const response = await this.retrier.run(() => this.deps.cluster.refreshAllTopics(), { what: 'listTopics' });
    return response.topics
      .filter((t) => t.errorCode === 0)
      .map((t) => t.name)
      .sort();
  }

  /** Partitions (leader, epoch, replicas, isr) and configs of the named topics, or of all topics. */
  async describeTopics(names?: readonly string[]): Promise<TopicDescription[]> {
    if (names !== undefined) checkNames(names, 'describeTopics');
    const response = await this.retrier.run(
      () => (names === undefined ? this.deps.cluster.refreshAllTopics() : this.deps.cluster.refreshMetadata(names)),
      { what: 'describeTopics' },
    );
    const failed: SamsaError[] = [];
    const out: TopicDescription[] = [];
    for (const t of response.topics) {
      if (t.errorCode !== 0) {
        failed.push(errorFromCode(t.errorCode, t.errorMessage, undefined, { topic: t.name }));
        continue;
      }
      const info = parseTopic(t);
      out.push({
        name: info.name,
        topicId: info.topicId,
        isInternal: info.isInternal,
        partitions: info.partitions.map(({ errorCode: _e, ...p }) => p),
        configs: info.configs,
      });
    }
    if (names !== undefined) {
      for (const n of names) {
        if (!response.topics.some((t) => t.name === n))
          failed.push(new UnknownTopicOrPartitionError(`topic ${n} does not exist`, { topic: n }));
      }
    }
    throwAll(failed);
    if (names === undefined) return out.sort((a, b) => a.name.localeCompare(b.name));
    const order = new Map(names.map((n, i) => [n, i]));
    return out.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  }

  /** The brokers and the controller id, fresh from a broker. */
  async describeCluster(): Promise<ClusterDescription> {
    await this.retrier.run(() => this.deps.cluster.refreshMetadata([]), { what: 'describeCluster' });
    return this.deps.cluster.info();
  }

  /**
   * Sets and deletes topic configs (Kafka's incrementalAlterConfigs); the brokers apply the change
   * live. Resolves once the broker that was asked has applied it. Failures are thrown as for
   * createTopics (InvalidConfigError for an unknown name or bad value, UnknownTopicOrPartitionError
   * for a missing topic); the topics that succeeded keep their change.
   */
  async incrementalAlterConfigs(alterations: readonly TopicConfigAlteration[], options: AlterConfigsOptions = {}): Promise<void> {
    if (!Array.isArray(alterations) || alterations.length === 0)
      throw new InvalidRequestError('incrementalAlterConfigs needs at least one topic');
    checkNames(
      alterations.map((a) => a?.topic),
      'incrementalAlterConfigs',
    );
    const seenTopics = new Set<string>();
    for (const a of alterations) {
      if (seenTopics.has(a.topic)) throw new InvalidRequestError(`incrementalAlterConfigs: topic '${a.topic}' appears more than once`);
      seenTopics.add(a.topic);
      const set = a.set ?? {};
      if (typeof set !== 'object' || Array.isArray(set))
        throw new InvalidRequestError(`${a.topic}: set must be an object of config names to values`);
      for (const [name, value] of Object.entries(set)) {
        if (name.length === 0) throw new InvalidRequestError(`${a.topic}: config names must be non-empty`);
        if (typeof value !== 'string') throw new InvalidRequestError(`${a.topic}: the value of ${name} must be a string`);
      }
      const deletes = a.delete ?? [];
      if (!Array.isArray(deletes)) throw new InvalidRequestError(`${a.topic}: delete must be an array of config names`);
      for (const name of deletes) {
        if (typeof name !== 'string' || name.length === 0)
          throw new InvalidRequestError(`${a.topic}: config names to delete must be non-empty strings`);
        if (Object.hasOwn(set, name)) throw new InvalidRequestError(`${a.topic}: ${name} is both set and deleted`);
      }
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const remaining = new Map(alterations.map((a) => [a.topic, a]));
    const failed: SamsaError[] = [];
    await this.retrier
      .run(
        async () => {
          const response = await this.deps.cluster.withAnyBroker((c) =>
            c.incrementalAlterConfigs(
              {
                resources: [...remaining.values()].map((a) => ({
                  resourceType: ConfigResource.TOPIC,
                  resourceName: a.topic,
                  configs: [
                    ...Object.entries(a.set ?? {}).map(([name, value]) => ({ name, configOperation: ConfigOperation.SET, value })),
                    ...(a.delete ?? []).map((name: string) => ({ name, configOperation: ConfigOperation.DELETE, value: '' })),
                  ],
                })),
                validateOnly: options.validateOnly ?? false,
                timeoutMs,
              },
              this.deps.cluster.requestOptions(timeoutMs),
            ),
          );
          settleTopicResults(
            response.responses,
            (r) => (r.resourceType === ConfigResource.TOPIC ? r.resourceName : undefined),
            (r, name) => (r.errorCode === 0 ? undefined : finalTopicError(r.errorCode, r.errorMessage, name)),
            remaining,
            failed,
          );
        },
        { what: 'incrementalAlterConfigs' },
      )
      .catch((error: unknown) => {
        failRemaining(error, remaining.keys(), failed);
        remaining.clear();
      });
    // Topics the broker's answer did not mention (it should mention every one).
    for (const name of remaining.keys())
      failed.push(new UnknownServerError(`the broker's answer did not mention topic ${name}`, { topic: name }));
    this.deps.cluster.invalidateTopics(alterations.map((a) => a.topic).filter((t) => !failed.some((e) => e.topic === t)));
    throwAll(failed);
  }

  /**
   * Kafka's Admin.alterPartitionReassignments (KIP-455): starts moving each partition to its
   * target replicas (the new ones catch up as followers, join the ISR, then the removed ones leave
   * and delete their logs), or cancels with `replicas: null`. Resolves once the broker asked sees
   * each accepted change; one result per partition, in order; per-partition failures come back in
   * the results (never thrown), a request that cannot be made at all throws.
   */
  async alterPartitionReassignments(
    reassignments: readonly PartitionReassignment[],
    options: { timeoutMs?: number } = {},
  ): Promise<PartitionReassignmentResult[]> {
    if (!Array.isArray(reassignments) || reassignments.length === 0)
      throw new InvalidRequestError('alterPartitionReassignments needs at least one partition');
    checkNames(
      reassignments.map((r) => r?.topic),
      'alterPartitionReassignments',
    );
    for (const r of reassignments) {
      if (!Number.isInteger(r.partition) || r.partition < 0)
        throw new InvalidRequestError(`alterPartitionReassignments: invalid partition ${String(r.partition)} of ${r.topic}`);
      if (
        r.replicas !== null &&
        (!Array.isArray(r.replicas) || !r.replicas.every((b: unknown) => Number.isInteger(b) && (b as number) >= 0))
      )
        throw new InvalidRequestError(`alterPartitionReassignments: the replicas of ${r.topic}-${r.partition} must be broker ids or null`);
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const topics = [...partitionsByTopic(reassignments.map((r) => ({ topic: r.topic, partition: r.partition })))].map(([name]) => ({
      name,
      partitions: reassignments
        .filter((r) => r.topic === name)
        .map((r) => ({ partition: r.partition, replicas: r.replicas === null ? [] : [...r.replicas], cancel: r.replicas === null })),
    }));
    const response = await this.retrier.run(
      async () => {
        const res = await this.deps.cluster.withAnyBroker((c) =>
          c.alterPartitionReassignments({ topics, timeoutMs }, this.deps.cluster.requestOptions(timeoutMs)),
        );
        if (res.errorCode !== 0) throw errorFromCode(res.errorCode, res.errorMessage);
        return res;
      },
      { what: 'alterPartitionReassignments' },
    );
    const byKey = new Map(response.results.flatMap((t) => t.partitions.map((p) => [`${t.name}\0${p.partition}`, p] as const)));
    const results = reassignments.map(({ topic, partition }): PartitionReassignmentResult => {
      const p = byKey.get(`${topic}\0${partition}`);
      if (p === undefined) {
        return { topic, partition, errorCode: -1, error: errorFromCode(-1, `the broker's answer did not mention ${topic}-${partition}`) };
      }
      if (p.errorCode === 0) return { topic, partition, errorCode: 0 };
      return {
        topic,
        partition,
        errorCode: p.errorCode,
        error: errorFromCode(p.errorCode, p.errorMessage || undefined, undefined, { topic, partition }),
      };
    });
    this.deps.cluster.invalidateTopics([...new Set(results.filter((r) => r.errorCode === 0).map((r) => r.topic))]);
    return results;
  }

  /**
   * Kafka's Admin.listPartitionReassignments: the partitions whose replicas are moving, among
   * `partitions` (all when omitted), by topic then partition; idle or unknown partitions are left out.
   */
  async listPartitionReassignments(
    options: { partitions?: ReadonlyArray<{ topic: string; partition: number }>; timeoutMs?: number } = {},
  ): Promise<OngoingPartitionReassignment[]> {
    const partitions = options.partitions ?? [];
    if (!Array.isArray(partitions)) throw new InvalidRequestError('listPartitionReassignments: partitions must be an array');
    checkNames(
      partitions.map((p) => p?.topic),
      'listPartitionReassignments',
    );
    const topics = [...partitionsByTopic(partitions)].map(([name, ps]) => ({ name, partitions: ps }));
    const timeoutMs = options.timeoutMs ?? 30_000;
    const response = await this.retrier.run(
      async () => {
        const res = await this.deps.cluster.withAnyBroker((c) =>
          c.listPartitionReassignments({ topics, timeoutMs }, this.deps.cluster.requestOptions(timeoutMs)),
        );
        if (res.errorCode !== 0) throw errorFromCode(res.errorCode, res.errorMessage);
        return res;
      },
      { what: 'listPartitionReassignments' },
    );
    return response.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partition,
        replicas: [...p.replicas],
        addingReplicas: [...p.addingReplicas],
        removingReplicas: [...p.removingReplicas],
      })),
    );
  }

  /**
   * Kafka's electLeaders: moves leadership of the partitions (every partition when none are named)
   * back to their preferred (first) replica. Resolves with one result per partition once the
   * broker that was asked sees the new leaders; per-partition failures come back in the results
   * (never thrown), a request that cannot be made at all throws.
   */
  async electLeaders(options: ElectLeadersOptions): Promise<PartitionElectionResult[]> {
    const type = options?.type;
    if (type !== 'preferred' && type !== 'unclean')
      throw new InvalidRequestError(`electLeaders: election type must be 'preferred' or 'unclean', got ${String(type)}`);
    const partitions = options.partitions ?? [];
    if (!Array.isArray(partitions)) throw new InvalidRequestError('electLeaders: partitions must be an array');
    checkNames(
      partitions.map((p) => p?.topic),
      'electLeaders',
    );
    for (const p of partitions) {
      if (!Number.isInteger(p.partition) || p.partition < 0)
        throw new InvalidRequestError(`electLeaders: invalid partition ${String(p.partition)} of ${p.topic}`);
    }
    const all = partitions.length === 0;
    const topicPartitions = [...partitionsByTopic(partitions)].map(([topic, ps]) => ({ topic, partitions: ps }));
    const timeoutMs = options.timeoutMs ?? 30_000;
    const response = await this.retrier.run(
      async () => {
        const res = await this.deps.cluster.withAnyBroker((c) => {
          return c.electLeaders(
            { electionType: type === 'preferred' ? 0 : 1, topicPartitions, timeoutMs },
            this.deps.cluster.requestOptions(timeoutMs),
          );
        });
        if (res.errorCode !== 0) throw errorFromCode(res.errorCode, res.errorMessage);
        return res;
      },
      { what: 'electLeaders' },
    );
    const results = response.results.flatMap((t) =>
      t.partitions.map((p): PartitionElectionResult => {
        const base = { topic: t.topic, partition: p.partition, errorCode: p.errorCode };
        if (p.errorCode === 0 || (all && p.errorCode === ELECTION_NOT_NEEDED)) return base;
        return {
          ...base,
          error: errorFromCode(p.errorCode, p.errorMessage || undefined, undefined, { topic: t.topic, partition: p.partition }),
        };
      }),
    );
    this.deps.cluster.invalidateTopics([...new Set(results.filter((r) => r.errorCode === 0).map((r) => r.topic))]);
    return results;
  }

  /**
   * Every config of each named topic: its effective value, whether it is set on the topic or a
   * default, and its read-only flag (Kafka's describeConfigs). Failures are thrown as for
   * describeTopics; results come in the order asked.
   */
  async describeConfigs(topics: readonly string[]): Promise<TopicConfigDescription[]> {
    checkNames(topics, 'describeConfigs');
    if (topics.length === 0) return [];
    const names = [...new Set(topics)];
    const response = await this.retrier.run(
      () =>
        this.deps.cluster.withAnyBroker((c) =>
          c.describeConfigs(
            {
              resources: names.map((name) => ({ resourceType: ConfigResource.TOPIC, resourceName: name, configurationKeys: [] })),
            },
            this.deps.cluster.requestOptions(),
          ),
        ),
      { what: 'describeConfigs' },
    );
    const failed: SamsaError[] = [];
    const byName = new Map<string, TopicConfigDescription>();
    for (const r of response.results) {
      if (r.resourceType !== ConfigResource.TOPIC || !names.includes(r.resourceName)) continue;
      if (r.errorCode !== 0) {
        failed.push(finalTopicError(r.errorCode, r.errorMessage, r.resourceName));
        continue;
      }
      byName.set(r.resourceName, {
        topic: r.resourceName,
        configs: r.configs
          .map(
            (c): ConfigEntry => ({
              name: c.name,
              value: c.value,
              source: c.configSource === 1 ? 'topic' : 'default',
              readOnly: c.readOnly,
              sensitive: c.isSensitive,
              synonyms: c.synonyms.map((syn) => ({ name: syn.name, value: syn.value, source: synonymSource(syn.source) })),
            }),
          )
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      });
    }
    for (const name of names) {
      if (!byName.has(name) && !failed.some((e) => e.topic === name)) {
        failed.push(new UnknownServerError(`the broker's answer did not mention topic ${name}`, { topic: name }));
      }
    }
    throwAll(failed);
    return names.map((n) => byName.get(n)!);
  }

  /**
   * Kafka's createAcls: stores each ACL (in the controller's metadata log), resolved once the
   * broker asked applies them. Creating an ACL that exists succeeds. A refused ACL throws its
   * error (several: a SamsaAggregateError); the others are created.
   */
  async createAcls(acls: readonly AclBinding[], options: { timeoutMs?: number } = {}): Promise<void> {
    if (!Array.isArray(acls)) throw new InvalidRequestError('createAcls takes an array of ACL bindings');
    if (acls.length === 0) return;
    const creations = acls.map(aclToWire);
    const response = await this.retrier.run(
      async () => {
        const res = await this.deps.cluster.withAnyBroker((c) =>
          c.createAcls({ creations }, this.deps.cluster.requestOptions(options.timeoutMs)),
        );
        const retriable = res.results.find((r) => r.errorCode !== 0 && isRetriable(r.errorCode));
        if (retriable) throw errorFromCode(retriable.errorCode, retriable.errorMessage);
        return res;
      },
      { what: 'createAcls' },
    );
    throwAll(response.results.filter((r) => r.errorCode !== 0).map((r) => errorFromCode(r.errorCode, r.errorMessage)));
  }

  /** Kafka's describeAcls: every ACL the filter matches (an empty filter: every ACL). */
  async describeAcls(filter: AclBindingFilter = {}): Promise<AclBinding[]> {
    const wire = aclFilterToWire(filter);
    const response = await this.retrier.run(
      async () => {
        const res = await this.deps.cluster.withAnyBroker((c) => c.describeAcls({ filter: wire }, this.deps.cluster.requestOptions()));
        if (res.errorCode !== 0) throw errorFromCode(res.errorCode, res.errorMessage);
        return res;
      },
      { what: 'describeAcls' },
    );
    return response.acls.map(aclFromWire);
  }

  /** Kafka's deleteAcls: removes every ACL a filter matches and returns them. */
  async deleteAcls(filters: readonly AclBindingFilter[], options: { timeoutMs?: number } = {}): Promise<AclBinding[]> {
    if (!Array.isArray(filters)) throw new InvalidRequestError('deleteAcls takes an array of ACL filters');
    if (filters.length === 0) return [];
    const wire = filters.map(aclFilterToWire);
    const response = await this.retrier.run(
      async () => {
        const res = await this.deps.cluster.withAnyBroker((c) =>
          c.deleteAcls({ filters: wire }, this.deps.cluster.requestOptions(options.timeoutMs)),
        );
        const retriable = res.filterResults.find((r) => r.errorCode !== 0 && isRetriable(r.errorCode));
        if (retriable) throw errorFromCode(retriable.errorCode, retriable.errorMessage);
        return res;
      },
      { what: 'deleteAcls' },
    );
    throwAll(response.filterResults.filter((r) => r.errorCode !== 0).map((r) => errorFromCode(r.errorCode, r.errorMessage)));
    const seen = new Set<string>();
    return response.filterResults
      .flatMap((r) => r.matchingAcls.map(aclFromWire))
      .filter((b) => {
        const key = JSON.stringify(b);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
  }

  /**
   * The dynamic configs of brokers (Kafka's describeConfigs with BROKER resources): those set on
   * each named broker, or with 'default' the cluster-wide defaults. Results in the order asked.
   */
  async describeBrokerConfigs(brokers: readonly BrokerResource[]): Promise<BrokerConfigDescription[]> {
    if (!Array.isArray(brokers)) throw new InvalidRequestError('describeBrokerConfigs takes an array of broker ids');
    const names = [...new Set(brokers.map((b) => brokerResourceName(b, 'describeBrokerConfigs')))];
    if (names.length === 0) return [];
    const response = await this.retrier.run(
      () =>
        this.deps.cluster.withAnyBroker((c) =>
          c.describeConfigs(
            { resources: names.map((name) => ({ resourceType: ConfigResource.BROKER, resourceName: name, configurationKeys: [] })) },
            this.deps.cluster.requestOptions(),
          ),
        ),
      { what: 'describeBrokerConfigs' },
    );
    const failed: SamsaError[] = [];
    const byName = new Map<string, BrokerConfigDescription>();
    for (const r of response.results) {
      if (r.resourceType !== ConfigResource.BROKER || !names.includes(r.resourceName)) continue;
      if (r.errorCode !== 0) {
        failed.push(errorFromCode(r.errorCode, `broker ${r.resourceName || 'default'}: ${r.errorMessage}`));
        continue;
      }
      byName.set(r.resourceName, {
        broker: brokerOfName(r.resourceName),
        configs: r.configs
          .map((c) => ({
            name: c.name,
            value: c.value,
            source: c.configSource === 3 ? ('dynamicDefaultBroker' as const) : ('dynamicBroker' as const),
            readOnly: c.readOnly,
            sensitive: c.isSensitive,
          }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      });
    }
    for (const name of names)
      if (!byName.has(name) && failed.length === 0)
        failed.push(new UnknownServerError(`the broker's answer did not mention broker ${name || 'default'}`));
    throwAll(failed);
    return names.map((n) => byName.get(n)!);
  }

  /**
   * Sets and deletes dynamic broker configs (Kafka's incrementalAlterConfigs with BROKER
   * resources; `samsa configs --alter --entity-type brokers`): on one broker by id, or on every
   * broker with 'default'. The controller validates names and values (InvalidConfigError); the
   * brokers apply the change live. Resolves once the broker that was asked has applied it.
   */
  async incrementalAlterBrokerConfigs(alterations: readonly BrokerConfigAlteration[], options: AlterConfigsOptions = {}): Promise<void> {
    if (!Array.isArray(alterations) || alterations.length === 0)
      throw new InvalidRequestError('incrementalAlterBrokerConfigs needs at least one broker');
    const resources = alterations.map((a) => {
      const name = brokerResourceName(a?.broker, 'incrementalAlterBrokerConfigs');
      const label = name || 'default';
      const set: Record<string, string> = a.set ?? {};
      if (typeof set !== 'object' || Array.isArray(set))
        throw new InvalidRequestError(`broker ${label}: set must be an object of config names to values`);
      for (const [key, value] of Object.entries(set)) {
        if (key.length === 0) throw new InvalidRequestError(`broker ${label}: config names must be non-empty`);
        if (typeof value !== 'string') throw new InvalidRequestError(`broker ${label}: the value of ${key} must be a string`);
      }
      const deletes: string[] = a.delete ?? [];
      if (!Array.isArray(deletes)) throw new InvalidRequestError(`broker ${label}: delete must be an array of config names`);
      for (const key of deletes) {
        if (typeof key !== 'string' || key.length === 0)
          throw new InvalidRequestError(`broker ${label}: config names to delete must be non-empty strings`);
        if (Object.hasOwn(set, key)) throw new InvalidRequestError(`broker ${label}: ${key} is both set and deleted`);
      }
      return {
        resourceType: ConfigResource.BROKER,
        resourceName: name,
        configs: [
          ...Object.entries(set).map(([key, value]) => ({ name: key, configOperation: ConfigOperation.SET, value })),
          ...deletes.map((key) => ({ name: key, configOperation: ConfigOperation.DELETE, value: '' })),
        ],
      };
    });
    const seen = new Set<string>();
    for (const r of resources) {
      if (seen.has(r.resourceName))
        throw new InvalidRequestError(`incrementalAlterBrokerConfigs: broker ${r.resourceName || 'default'} appears more than once`);
      seen.add(r.resourceName);
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const response = await this.retrier.run(
      async () => {
        const res = await this.deps.cluster.withAnyBroker((c) =>
          c.incrementalAlterConfigs(
            { resources, validateOnly: options.validateOnly ?? false, timeoutMs },
            this.deps.cluster.requestOptions(timeoutMs),
          ),
        );
        // The whole request is retried only when every broker failed retriably (nothing changed then).
        const answers = res.responses.filter((r) => r.resourceType === ConfigResource.BROKER);
        const retriable = answers.find((r) => r.errorCode !== 0 && isRetriable(errorFromCode(r.errorCode, r.errorMessage)));
        if (retriable && answers.every((r) => r.errorCode !== 0)) throw errorFromCode(retriable.errorCode, retriable.errorMessage);
        return answers;
      },
      { what: 'incrementalAlterBrokerConfigs' },
    );
    const failed: SamsaError[] = [];
    for (const r of resources) {
      const answer = response.find((x) => x.resourceName === r.resourceName);
      if (!answer) failed.push(new UnknownServerError(`the broker's answer did not mention broker ${r.resourceName || 'default'}`));
      else if (answer.errorCode !== 0)
        failed.push(errorFromCode(answer.errorCode, `broker ${r.resourceName || 'default'}: ${answer.errorMessage}`));
    }
    throwAll(failed);
  }

  /**
   * Offsets of partitions of one topic, asked of each partition's leader. With
   * `isolationLevel: 'read_committed'`, 'latest' is the last stable offset (what a read_committed
   * consumer can reach) instead of the high watermark, as Kafka's ListOffsetsOptions.
   */
  async listOffsets(
    topic: string,
    partitions: readonly OffsetQuery[],
    options: { isolationLevel?: 'read_uncommitted' | 'read_committed' } = {},
  ): Promise<PartitionOffset[]> {
    checkNames([topic], 'listOffsets');
    for (const p of partitions) {
      if (!Number.isInteger(p?.partition) || p.partition < 0)
        throw new InvalidRequestError(`listOffsets: invalid partition ${String(p?.partition)}`);
    }
    return listOffsets(
      { cluster: this.deps.cluster, retrier: this.retrier },
      topic,
      partitions.map((p) => ({ partition: p.partition, spec: p.timestamp })),
      options.isolationLevel === 'read_committed' ? 1 : 0,
    );
  }

  /**
   * KafkaJS's fetchTopicOffsetsByTimestamp: for every partition of `topic`, the first offset whose
   * record is at or after `timestamp` (ms), or with 'max-timestamp' the record with the largest
   * timestamp; -1n where none is (KafkaJS answers the log end there: read it with 'latest').
   */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp: bigint | 'max-timestamp'): Promise<PartitionOffset[]> {
    checkNames([topic], 'fetchTopicOffsetsByTimestamp');
    if (timestamp !== 'max-timestamp' && (typeof timestamp !== 'bigint' || timestamp < 0n))
      throw new InvalidRequestError(
        `fetchTopicOffsetsByTimestamp: timestamp must be a non-negative bigint (ms) or 'max-timestamp', got ${String(timestamp)}`,
      );
    const [description] = await this.describeTopics([topic]);
    return this.listOffsets(
      topic,
      description!.partitions.map((p) => ({ partition: p.partition, timestamp })),
    );
  }

  // ---- consumer groups (kafka-consumer-groups) ----

  /** Every group of every broker. */
  listGroups(): Promise<ListedGroup[]> {
    return groupAdmin.listGroups(this.groupDeps());
  }

  /** State, assignor, generation and members (with their decoded assignments) of each group. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return groupAdmin.describeGroups(this.groupDeps(), groupIds);
  }

  /** Deletes empty groups and their offsets; NON_EMPTY_GROUP while a group has members. */
  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return groupAdmin.deleteGroups(this.groupDeps(), groupIds);
  }

  /** The group's committed offsets (of `topics`, or all). */
  /**
   * Removes the group's committed offsets of `partitions` (kafka-consumer-groups --delete-offsets);
   * a partition of a topic the group's members subscribe to keeps its offset and reports
   * GroupSubscribedToTopic in its result. Throws GROUP_ID_NOT_FOUND and other group-level refusals.
   */
  deleteOffsets(groupId: string, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<DeletedOffset[]> {
    return groupAdmin.deleteOffsets(this.groupDeps(), groupId, partitions);
  }

  /** The group's committed offsets (all, or of `topics`). */
  fetchOffsets(groupId: string, topics?: readonly string[]): Promise<CommittedOffset[]> {
    return groupAdmin.fetchOffsets(this.groupDeps(), groupId, topics);
  }

  /** Sets the group's committed offsets; refused while the group has active members. */
  resetOffsets(groupId: string, offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>): Promise<void> {
    return groupAdmin.resetOffsets(this.groupDeps(), groupId, offsets);
  }

  /** Per partition: committed offset, log end offset, lag, and the owning member. */
  groupLag(groupId: string): Promise<PartitionGroupLag[]> {
    return groupAdmin.groupLag(this.groupDeps(), groupId);
  }

  /** Kafka's listTransactions: every broker's transactions (each broker answers for the coordinators it leads). */
  listTransactions(options: txnAdmin.ListTransactionsOptions = {}): Promise<txnAdmin.ListedTransaction[]> {
    return txnAdmin.listTransactions(this.groupDeps(), options);
  }

  /** Kafka's describeTransactions: each id's state from its coordinator (found with FindCoordinator key type 1). */
  describeTransactions(transactionalIds: readonly string[]): Promise<txnAdmin.TransactionDescription[]> {
    return txnAdmin.describeTransactions(this.groupDeps(), transactionalIds);
  }

  /** Kafka's describeProducers: the transactional producers of a partition, from its leader (KIP-664). */
  describeProducers(topic: string, partition: number): Promise<txnAdmin.ProducerState[]> {
    return txnAdmin.describeProducers(this.groupDeps(), topic, partition);
  }

  /** Kafka's abortTransaction: an ABORT marker for a hanging transaction of one partition (WriteTxnMarkers). */
  abortTransaction(spec: txnAdmin.AbortTransactionSpec): Promise<void> {
    return txnAdmin.abortTransaction(this.groupDeps(), spec);
  }

  private groupDeps(): groupAdmin.GroupAdminDeps {
    if (!this.deps.groups) throw new InvalidRequestError('this Admin was made without a consumer-group transport; use samsa.admin()');
    return { cluster: this.deps.cluster, groups: this.deps.groups, retrier: this.retrier };
  }
}
