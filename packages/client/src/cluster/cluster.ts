/**
 * The cluster layer: bootstraps from seed brokers, keeps a metadata cache (brokers, and per topic
 * the partitions with leader, leaderEpoch, replicas, isr), and routes a partition to its leader's
 * connection. Callers mark topics stale after routing errors (NOT_LEADER_OR_FOLLOWER, connection
 * loss, ...); the next lookup refreshes them. One attempt per call here: retrying is the caller's
 * business (producer, consumer, admin wrap these in a Retrier).
 */
import type { Clock } from '../clock.js';
import type { BrokerConnection, RequestOptions } from '../connection/connection.js';
import type { ConnectionPool } from '../connection/pool.js';
import {
  BrokerNotAvailableError,
  LeaderNotAvailableError,
  SamsaConnectionError,
  UnknownTopicOrPartitionError,
  errorFromCode,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { LeaderIdAndEpochWire, MetadataRequest, MetadataResponse } from '../wire.js';
import { parseBroker, parseTopic } from './metadata.js';
import type { BrokerInfo, ClusterInfo, PartitionInfo, TopicInfo } from './metadata.js';

export interface ClusterOptions {
  /** Seed brokers, host:port. At least one. */
  brokers: string[];
  /** Deadline of a metadata request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Cached topic metadata older than this is refreshed on next use. Default 5 min. */
  metadataMaxAgeMs?: number;
}

/** How a topic's metadata is asked for. */
export interface TopicLookup {
  /**
   * Kafka's allow.auto.create.topics: the broker creates a missing topic (when its
   * auto.create.topics.enable is on) and answers LEADER_NOT_AVAILABLE until it has leaders.
   * Producers ask with it by default; admin lookups never do.
   */
  allowAutoTopicCreation?: boolean;
}

export interface ClusterDeps {
  pool: ConnectionPool;
  clock: Clock;
  logger: Logger;
}

interface CachedTopic {
  info: TopicInfo;
  byPartition: Map<number, PartitionInfo>;
  fetchedAt: number;
  stale: boolean;
}

export interface LeaderRoute {
  nodeId: number;
  leaderEpoch: number;
  connection: BrokerConnection;
}

export class Cluster {
  readonly seeds: readonly string[];
  readonly requestTimeoutMs: number;
  private readonly metadataMaxAgeMs: number;
  private readonly brokersById = new Map<number, BrokerInfo>();
  private readonly topics = new Map<string, CachedTopic>();
  private clusterId = '';
  private controllerId = -1;
  private bootstrapped = false;
  /** Rotates the first broker tried for cluster-wide requests, spreading them. */
  private nextBroker = 0;
  /** In-flight refreshes by topic set, so concurrent callers share one request. */
  private readonly inFlight = new Map<string, Promise<MetadataResponse>>();

  constructor(
    options: ClusterOptions,
    private readonly deps: ClusterDeps,
  ) {
    if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
      throw new TypeError('brokers must list at least one host:port');
    }
    for (const b of options.brokers) {
      if (typeof b !== 'string' || !/^.+:\d+$/.test(b)) throw new TypeError(`broker address must be host:port, got ${String(b)}`);
    }
    this.seeds = [...options.brokers];
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
  }

  /** Fetches broker metadata from the first reachable seed (or known broker). Idempotent. */
  async connect(): Promise<void> {
    if (!this.bootstrapped) await this.refreshMetadata([]);
  }

  get isBootstrapped(): boolean {
    return this.bootstrapped;
  }

  info(): ClusterInfo {
    return { clusterId: this.clusterId, controllerId: this.controllerId, brokers: [...this.brokersById.values()] };
  }

  /**
   * Asks any reachable broker for metadata of `topics` (none: brokers only) and merges the answer
   * into the cache. Concurrent refreshes of the same topics share one request.
   */
  refreshMetadata(topics: readonly string[], lookup: TopicLookup = {}): Promise<MetadataResponse> {
    return this.metadata({
      topics: [...new Set(topics)].sort(),
      allTopics: false,
      allowAutoTopicCreation: lookup.allowAutoTopicCreation === true,
    });
  }

  /** Metadata of every topic (merged into the cache). */
  refreshAllTopics(): Promise<MetadataResponse> {
    return this.metadata({ topics: [], allTopics: true, allowAutoTopicCreation: false });
  }

  private metadata(request: { topics: string[]; allTopics: boolean; allowAutoTopicCreation: boolean }): Promise<MetadataResponse> {
    const key = request.allTopics ? '*' : `${request.allowAutoTopicCreation ? '+' : '-'}${request.topics.join('\0')}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.withAnyBroker((connection) =>
        connection.metadata(request satisfies MetadataRequest, { timeoutMs: this.requestTimeoutMs }),
      )
        .then((response) => {
          this.merge(response, request.topics, request.allTopics);
          return response;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private merge(response: MetadataResponse, requested: readonly string[], allTopics: boolean): void {
    this.bootstrapped = true;
    this.clusterId = response.clusterId;
    this.controllerId = response.controllerId;
    if (response.brokers.length > 0) {
      this.brokersById.clear();
      for (const b of response.brokers) this.brokersById.set(b.nodeId, parseBroker(b));
    }
    const now = this.deps.clock.now();
    const seen = new Set<string>();
    for (const t of response.topics) {
      seen.add(t.name);
      if (t.errorCode !== 0) {
        this.topics.delete(t.name);
        continue;
      }
      const info = keepNewerLeaders(this.topics.get(t.name)?.info, parseTopic(t), this.deps.logger);
      this.topics.set(t.name, { info, byPartition: new Map(info.partitions.map((p) => [p.partition, p])), fetchedAt: now, stale: false });
    }
    const gone = allTopics ? [...this.topics.keys()] : requested;
    for (const name of gone) if (!seen.has(name)) this.topics.delete(name);
  }

  /**
   * Runs `request` against a reachable broker: known brokers first (rotating), then the seeds.
   * Only connection failures move on to the next; anything else is the answer.
   */
  async withAnyBroker<T>(request: (connection: BrokerConnection) => Promise<T>): Promise<T> {
    const known = [...this.brokersById.values()].map((b) => b.address);
    const start = known.length > 0 ? this.nextBroker++ % known.length : 0;
    const candidates = [...new Set([...known.slice(start), ...known.slice(0, start), ...this.seeds])];
    let lastError: unknown;
    for (const address of candidates) {
      try {
        return await request(this.deps.pool.get(address));
      } catch (error) {
        if (!(error instanceof SamsaConnectionError)) throw error;
        this.deps.logger.debug('broker unreachable, trying the next', { address, error: error.message });
        lastError = error;
      }
    }
    throw new SamsaConnectionError(`no broker reachable (tried ${candidates.join(', ')})`, { cause: lastError });
  }

  /** The cached metadata of `name` if present and fresh; no I/O. */
  cachedTopic(name: string): TopicInfo | undefined {
    const cached = this.topics.get(name);
    if (!cached || cached.stale || this.deps.clock.now() - cached.fetchedAt > this.metadataMaxAgeMs) return undefined;
    return cached.info;
  }

  /**
   * Metadata of `name`, from the cache or fetched. Throws the topic's typed error (e.g.
   * UnknownTopicOrPartitionError, LeaderNotAvailableError while it is being created).
   */
  async topic(name: string, lookup: TopicLookup = {}): Promise<TopicInfo> {
    const cached = this.cachedTopic(name);
    if (cached) return cached;
    const response = await this.refreshMetadata([name], lookup);
    const entry = response.topics.find((t) => t.name === name);
    if (!entry) throw new UnknownTopicOrPartitionError(`topic ${name} is not in the metadata answer`, { topic: name });
    if (entry.errorCode !== 0) throw errorFromCode(entry.errorCode, entry.errorMessage, undefined, { topic: name });
    return this.topics.get(name)!.info;
  }

  /** The topic's last known metadata, stale or expired included (the producer partitions by it while a refresh is due). */
  knownTopic(name: string): TopicInfo | undefined {
    return this.topics.get(name)?.info;
  }

  /** Marks topics stale: the next lookup refreshes them. */
  invalidateTopics(names: Iterable<string>): void {
    for (const name of names) {
      const cached = this.topics.get(name);
      if (cached) cached.stale = true;
    }
  }

  /** Forgets a topic (after deleting it). */
  forgetTopic(name: string): void {
    this.topics.delete(name);
  }

  /** Applies a broker's `current_leader` hint when it is newer than what the cache holds. */
  updateLeader(topic: string, partition: number, hint: LeaderIdAndEpochWire | null | undefined): void {
    if (!hint || hint.leaderId < 0) return;
    const p = this.topics.get(topic)?.byPartition.get(partition);
    if (p && hint.leaderEpoch > p.leaderEpoch) {
      p.leader = hint.leaderId;
      p.leaderEpoch = hint.leaderEpoch;
    }
  }

  /** The leader of a partition from fresh cached metadata, or undefined when a lookup is needed. */
  cachedLeader(topic: string, partition: number): LeaderRoute | undefined {
    const cached = this.topics.get(topic);
    if (!cached || cached.stale || this.deps.clock.now() - cached.fetchedAt > this.metadataMaxAgeMs) return undefined;
    const p = cached.byPartition.get(partition);
    if (!p || p.leader < 0) return undefined;
    const broker = this.brokersById.get(p.leader);
    if (!broker) return undefined;
    return { nodeId: p.leader, leaderEpoch: p.leaderEpoch, connection: this.deps.pool.get(broker.address) };
  }

  /** Routes a partition to its leader's connection, fetching metadata when needed. */
  async leaderFor(topic: string, partition: number): Promise<LeaderRoute> {
    const cached = this.cachedLeader(topic, partition);
    if (cached) return cached;
    const info = await this.topic(topic);
    const p = this.topics.get(topic)?.byPartition.get(partition);
    if (!p) {
      throw new UnknownTopicOrPartitionError(`partition ${partition} of topic ${topic} does not exist (it has ${info.partitions.length})`, {
        topic,
        partition,
      });
    }
    if (p.leader < 0) throw new LeaderNotAvailableError(`partition ${topic}-${partition} has no leader right now`, { topic, partition });
    return { nodeId: p.leader, leaderEpoch: p.leaderEpoch, connection: await this.connectionFor(p.leader) };
  }

  /** The connection of broker `nodeId`, refreshing broker metadata once if it is unknown. */
  async connectionFor(nodeId: number): Promise<BrokerConnection> {
    let broker = this.brokersById.get(nodeId);
    if (!broker) {
      await this.refreshMetadata([]);
      broker = this.brokersById.get(nodeId);
    }
    if (!broker) throw new BrokerNotAvailableError(`broker ${nodeId} is not in the cluster metadata`);
    return this.deps.pool.get(broker.address);
  }

  /** Convenience for request options with this cluster's deadline. */
  requestOptions(extraMs = 0, signal?: AbortSignal): RequestOptions {
    return signal ? { timeoutMs: this.requestTimeoutMs + extraMs, signal } : { timeoutMs: this.requestTimeoutMs + extraMs };
  }
}

/**
 * Kafka's Metadata.updateLatestMetadata: an answer from a broker whose metadata lags must not take
 * a partition back to an older leader epoch than the client has seen (from an earlier answer or a
 * current_leader hint); the newer leader and epoch are kept for that partition. Only within one
 * topic id: a deleted and re-created topic starts again at epoch 0, and a broker that sends no
 * topic id gives no way to tell the two apart, so its answer is taken as it is.
 */
function keepNewerLeaders(before: TopicInfo | undefined, after: TopicInfo, logger: Logger): TopicInfo {
  if (!before || after.topicId === '' || before.topicId !== after.topicId) return after;
  const known = new Map(before.partitions.map((p) => [p.partition, p]));
  let kept = 0;
  const partitions = after.partitions.map((p) => {
    const seen = known.get(p.partition);
    if (!seen || seen.leader < 0 || seen.leaderEpoch <= p.leaderEpoch) return p;
    kept++;
    logger.debug('kept a newer leader epoch than the metadata answer', {
      topic: after.name,
      partition: p.partition,
      leaderEpoch: seen.leaderEpoch,
      answered: p.leaderEpoch,
    });
    return { ...p, leader: seen.leader, leaderEpoch: seen.leaderEpoch };
  });
  return kept === 0 ? after : { ...after, partitions };
}
