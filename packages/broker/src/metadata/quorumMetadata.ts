/**
 * The broker's side of the controller quorum (Kafka's BrokerLifecycleManager and metadata
 * publisher, behind MetadataSource):
 *
 * - Lifecycle: RegisterBroker (a fresh incarnation id per process) with the active controller,
 *   then BrokerHeartbeat every heartbeatIntervalMs carrying the last applied metadata offset. A
 *   STALE_BROKER_EPOCH answer (the controller no longer knows this registration) re-registers.
 * - Metadata: a FetchMetadata long poll over the committed log, from any reachable controller
 *   (the active one preferred), applying a snapshot when one comes and then every entry to a
 *   MetadataImage; after each applied batch, MetadataChange events for the replica manager.
 * - `ready()`: registered, caught up to the high watermark seen after registering, and unfenced.
 * - Topic admin (create, delete, alter configs) is forwarded to the active controller; the answer
 *   is returned once this broker's own image shows the change, so a Metadata or Produce sent here
 *   right after sees it.
 *
 * Nothing on the produce/fetch path waits on any of this: with the quorum unreachable, the loops
 * retry with backoff (logging, never throwing) and the partitions already open keep serving.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode, MetadataImage, NO_OFFSET, TOPIC_CONFIG_KEYS, decodeMetadataEntry, errorInfo, groupByTopic, validateBrokerConfigs, validateTopicConfigs,
  type BrokerHeartbeatResponse__Output, type DescribeQuorumResponse, type FetchMetadataResponse__Output, type MetadataRecord,
  type TopicImage,
} from '@samsa/protocol';
import type { Logger } from 'pino';
import type { AlterPartitionItem, AlterPartitionItemResult } from '../replication/alterPartition.js';
import type { Timers } from '../timers.js';
import {
  ControllerChannel, ControllerChannelClosedError, ControllerUnavailableError, describe,
  type ControllerAddress, type Verdict,
} from './controllerChannel.js';
import type {
  AlterConfigsRequest, AlterConfigsResult, BrokerInfo, CreateTopicRequest, DeleteTopicResult, DynamicBrokerConfigs, ElectLeadersResult, MetadataChange, MetadataSource, ProducerIdBlockResult, TopicInfo, TopicResult,
} from './image.js';
import { brokerInfoOf, clusterIdOf, topicChanges, topicInfoOf } from './imageView.js';

export interface QuorumMetadataOptions {
  brokerId: number;
  /** The advertised address other nodes and clients reach this broker at. */
  host: string;
  port: number;
  rack?: string;
  /** Every advertised listener, `NAME://HOST:PORT,...` (host:port is the inter-broker one's). */
  endpoints?: string;
  controllers: ControllerAddress[];
  logger: Logger;
  timers: Timers;
  /** Kafka's broker.heartbeat.interval.ms (2000). */
  heartbeatIntervalMs?: number;
  /** How long one FetchMetadata long poll may wait for a new entry (2000). */
  fetchMaxWaitMs?: number;
  fetchMaxEntries?: number;
  /** Bound on one controller RPC, beyond a long poll's wait (5000). */
  requestTimeoutMs?: number;
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** createTopics/deleteTopics without a timeout (Kafka's default.api.timeout.ms is 60 s; 30 s here). */
  defaultApiTimeoutMs?: number;
  /** close(): how long to wait for the controller to confirm controlled shutdown (1000). */
  controlledShutdownTimeoutMs?: number;
  random?: () => number;
}

/** Where the broker is in its lifecycle (Kafka's BrokerState, roughly). */
export type BrokerLifecyclePhase =
  /** Not registered yet (or re-registering after STALE_BROKER_EPOCH). */
  | 'registering'
  /** Registered; applying the metadata log up to the high watermark seen after registering. */
  | 'catchingUp'
  /** Caught up; waiting for the controller to unfence it. */
  | 'fenced'
  | 'running'
  | 'stopped';

export interface QuorumMetadataStatus {
  phase: BrokerLifecyclePhase;
  brokerEpoch: string | undefined;
  appliedOffset: number;
  highWatermark: number;
  catchUpOffset: number | undefined;
  controllerId: number;
}

interface ImageWaiter {
  check(): boolean;
  done(ok: boolean): void;
}

/** While fenced, heartbeat this often (Kafka polls every 10 ms while starting) so unfencing is not a heartbeat interval late. */
const FENCED_HEARTBEAT_MS = 250;
/** Repeated warnings (controller unreachable, ...) at most this often; also how long registration retries between reports. */
const LOG_EVERY_MS = 10_000;
/** A controller that failed a metadata fetch is not preferred again, even as the leader, for this long. */
const FETCH_AVOID_FAILED_MS = 10_000;

export class QuorumMetadataSource implements MetadataSource {
  readonly clusterId: string;
  readonly incarnationId = randomUUID();
  private readonly channel: ControllerChannel;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly heartbeatIntervalMs: number;
  private readonly fetchMaxWaitMs: number;
  private readonly fetchMaxEntries: number;
  private readonly requestTimeoutMs: number;
  private readonly defaultApiTimeoutMs: number;
  private readonly controlledShutdownTimeoutMs: number;
  private readonly listeners = new Set<(change: MetadataChange) => void>();
  /** The dynamic broker configs last announced (JSON), so a change is announced once. */
  private lastBrokerConfigs = JSON.stringify({ clusterDefault: {}, broker: {} });
  private readonly waiters = new Set<ImageWaiter>();
  private readonly throttle = new Map<string, { at: number; suppressed: number }>();

  private image = new MetadataImage();
  private applied = NO_OFFSET;
  private hwm = NO_OFFSET;
  private brokerEpoch: string | undefined;
  /** Bumped on every registration, so a fetch sent before it cannot set the catch-up target. */
  private registration = 0;
  private catchUpOffset: number | undefined;
  private fenced = true;
  private started = false;
  /** Heartbeats stop first (close sends its own), the metadata fetch loop last. */
  private lifecycleStopped = false;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private loops: Promise<void>[] = [];
  private fetchTargetId: number | undefined;
  private readonly fetchFailedAt = new Map<number, number>();
  private wakeLifecycle: (() => void) | undefined;
  private wakeRequested = false;
  private heartbeatRedirects = 0;

  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private isReady = false;

  constructor(private readonly options: QuorumMetadataOptions) {
    this.logger = options.logger;
    this.timers = options.timers;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2_000;
    this.fetchMaxWaitMs = options.fetchMaxWaitMs ?? 2_000;
    this.fetchMaxEntries = options.fetchMaxEntries ?? 1_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.defaultApiTimeoutMs = options.defaultApiTimeoutMs ?? 30_000;
    this.controlledShutdownTimeoutMs = options.controlledShutdownTimeoutMs ?? 1_000;
    this.channel = new ControllerChannel({
      controllers: options.controllers,
      logger: options.logger,
      timers: options.timers,
      requestTimeoutMs: this.requestTimeoutMs,
      ...(options.retryBackoffMs === undefined ? {} : { retryBackoffMs: options.retryBackoffMs }),
      ...(options.retryBackoffMaxMs === undefined ? {} : { retryBackoffMaxMs: options.retryBackoffMaxMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    this.clusterId = clusterIdOf(this.channel.controllers);
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be waiting on ready(); a close before it must not become an unhandled rejection.
    this.readyPromise.catch(() => {});
  }

  /** Starts registering, heartbeating and following the metadata log. Subscribe first: events are not replayed. */
  start(): void {
    if (this.started || this.closing !== undefined) return;
    this.started = true;
    this.logger.info({ controllers: this.channel.controllers.map(describe), incarnationId: this.incarnationId, clusterId: this.clusterId },
      'joining the controller quorum');
    this.loops = [
      this.runLoop('lifecycle', () => this.lifecycleLoop()),
      this.runLoop('metadata fetch', () => this.fetchLoop()),
    ];
  }

  /** Resolves once registered, caught up and unfenced; rejects if closed first. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  get status(): QuorumMetadataStatus {
    return {
      phase: this.phase,
      brokerEpoch: this.brokerEpoch,
      appliedOffset: this.applied,
      highWatermark: this.hwm,
      catchUpOffset: this.catchUpOffset,
      controllerId: this.channel.activeControllerId,
    };
  }

  get phase(): BrokerLifecyclePhase {
    if (this.stopping) return 'stopped';
    if (this.brokerEpoch === undefined) return 'registering';
    if (this.catchUpOffset === undefined || this.applied < this.catchUpOffset) return 'catchingUp';
    // Unfenced by the controller's answer and in the applied image, so brokers() lists this one.
    const self = this.image.broker(this.options.brokerId);
    return this.fenced || self?.brokerEpoch !== this.brokerEpoch || self.fenced ? 'fenced' : 'running';
  }

  /** The highest metadata offset applied to the image (Raft entry index; -1 for none). */
  get appliedOffset(): number {
    return this.applied;
  }

  /** The image as applied so far (read-only use). */
  get metadataImage(): MetadataImage {
    return this.image;
  }

  get controllerId(): number {
    return this.channel.activeControllerId;
  }

  /** Registered brokers the controller has unfenced (fenced ones must not be sent clients). */
  brokers(): BrokerInfo[] {
    return this.image.brokers().filter((b) => !b.fenced).map(brokerInfoOf);
  }

  topic(name: string): TopicInfo | undefined {
    const topic = this.image.topic(name);
    return topic === undefined ? undefined : topicInfoOf(topic);
  }

  topics(): TopicInfo[] {
    return this.image.topics().map(topicInfoOf);
  }

  subscribe(listener: (change: MetadataChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- topic admin, forwarded to the active controller ----

  async createTopics(requests: CreateTopicRequest[], validateOnly: boolean, timeoutMs?: number): Promise<TopicResult[]> {
    if (requests.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    // Ids before the request: a name whose topic was deleted and re-created counts only with a new id.
    const idsBefore = new Map(requests.map((r) => [r.name, this.image.topic(r.name)?.topicId]));
    let answer;
    try {
      answer = await this.channel.callActive(
        'CreateTopics',
        (remainingMs) => ({
          topics: requests.map((r) => ({ name: r.name, numPartitions: r.numPartitions, replicationFactor: r.replicationFactor, configs: r.configs })),
          timeoutMs: remainingMs,
          validateOnly,
        }),
        (res) => judgeItems(res, res.topics),
        deadline,
      );
    } catch (err) {
      return requests.map((r) => ({ name: r.name, ...this.unavailable(err, `topic '${r.name}' was not created`, `topic '${r.name}' may or may not have been created`) }));
    }
    const results = requests.map((r, i) => matchResult(answer.topics, r.name, i));
    const createdHere = (name: string) => {
      const topic = this.image.topic(name);
      return topic !== undefined && topic.topicId !== idsBefore.get(name);
    };
    const created = results.filter((r) => r?.errorCode === 0).map((r) => r!.name);
    if (!validateOnly && created.length > 0) {
      await this.waitForImage(() => created.every(createdHere), deadline);
    }
    return requests.map((request, i): TopicResult => {
      const r = results[i];
      if (r === undefined) {
        return { name: request.name, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `the controller's answer did not mention topic '${request.name}'` };
      }
      if (r.errorCode !== 0) return { name: request.name, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (validateOnly) return { name: request.name, errorCode: 0, topic: validatedTopic(request.name, r.numPartitions, r.replicationFactor, r.configs) };
      const topic = this.image.topic(request.name);
      if (topic === undefined || !createdHere(request.name)) {
        return {
          name: request.name,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: `the controller created topic '${request.name}', but broker ${this.options.brokerId} had not applied it to its metadata `
            + `before the request timed out (applied offset ${this.applied}); it will appear shortly`,
        };
      }
      return { name: request.name, errorCode: 0, topic: topicInfoOf(topic) };
    });
  }

  async deleteTopics(names: string[], timeoutMs?: number): Promise<DeleteTopicResult[]> {
    if (names.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    const idsBefore = new Map(names.map((n) => [n, this.image.topic(n)?.topicId]));
    let answer;
    try {
      answer = await this.channel.callActive(
        'DeleteTopics',
        (remainingMs) => ({ names, timeoutMs: remainingMs }),
        (res) => judgeItems(res, res.topics),
        deadline,
      );
    } catch (err) {
      return names.map((name) => ({ name, ...this.unavailable(err, `topic '${name}' was not deleted`, `topic '${name}' may or may not have been deleted`) }));
    }
    const results = names.map((name, i) => matchResult(answer.topics, name, i));
    const goneHere = (name: string) => {
      const before = idsBefore.get(name);
      return before === undefined || this.image.topic(name)?.topicId !== before;
    };
    const deleted = results.filter((r) => r?.errorCode === 0).map((r) => r!.name);
    if (deleted.length > 0) await this.waitForImage(() => deleted.every(goneHere), deadline);
    return names.map((name, i): DeleteTopicResult => {
      const r = results[i];
      if (r === undefined) return { name, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `the controller's answer did not mention topic '${name}'` };
      if (r.errorCode !== 0) return { name, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (!goneHere(name)) {
        return {
          name,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: `the controller deleted topic '${name}', but broker ${this.options.brokerId} had not applied the deletion `
            + `before the request timed out (applied offset ${this.applied}); it will disappear shortly`,
        };
      }
      return { name, errorCode: 0 };
    });
  }

  /**
   * ElectLeaders, forwarded to the active controller. Answers once this broker's image shows each
   * elected partition's new leader, so a Metadata request sent here right after sees it;
   * REQUEST_TIMED_OUT if that takes longer than the deadline.
   */
  async electLeaders(electionType: number, partitions: Array<{ topic: string; partition: number }>, timeoutMs?: number): Promise<ElectLeadersResult[]> {
    const deadline = this.deadline(timeoutMs);
    const topicPartitions: Array<{ topic: string; partitions: number[] }> = [];
    for (const { topic, partition } of partitions) {
      const last = topicPartitions[topicPartitions.length - 1];
      if (last !== undefined && last.topic === topic) last.partitions.push(partition);
      else topicPartitions.push({ topic, partitions: [partition] });
    }
    let answer: ElectLeadersResult[];
    try {
      const res = await this.channel.callActive(
        'ElectLeaders',
        (remainingMs) => ({ electionType, topicPartitions, timeoutMs: remainingMs }),
        (r) => judgeItems(r, [r]),
        deadline,
      );
      if (res.errorCode !== 0) {
        return partitions.map((p) => ({ ...p, errorCode: res.errorCode, errorMessage: res.errorMessage || errorInfo(res.errorCode).message }));
      }
      answer = res.results.flatMap((t) => t.partitions.map((p) => ({
        topic: t.topic, partition: p.partition, errorCode: p.errorCode, errorMessage: p.errorCode === 0 ? '' : p.errorMessage || errorInfo(p.errorCode).message,
      })));
    } catch (err) {
      return partitions.map((p) => ({ ...p, ...this.unavailable(err, 'no leader was elected', 'leaders may or may not have been elected') }));
    }
    const electedHere = (r: ElectLeadersResult) => {
      const p = this.image.topic(r.topic)?.partitions[r.partition];
      // Deleted (or re-created) meanwhile: nothing left to wait for. PREFERRED (0) elected the
      // first replica; UNCLEAN elected whichever replica could lead.
      return p === undefined || (electionType === 0 ? p.leader === p.replicas[0] : p.leader >= 0);
    };
    const elected = answer.filter((r) => r.errorCode === 0);
    if (elected.length > 0) await this.waitForImage(() => elected.every(electedHere), deadline);
    return answer.map((r) => (r.errorCode !== 0 || electedHere(r) ? r : {
      ...r,
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      errorMessage: `the controller elected a leader for ${r.topic}-${r.partition}, but broker ${this.options.brokerId} had not applied the change before the request timed out`,
    }));
  }

  /**
   * IncrementalAlterConfigs, forwarded to the active controller (which validates the names and
   * values). Answers once this broker's image shows each altered topic's new configs, so a
   * DescribeConfigs or a produce sent here right after sees them; REQUEST_TIMED_OUT if that takes
   * longer than the deadline.
   */
  async incrementalAlterConfigs(resources: AlterConfigsRequest[], validateOnly: boolean, timeoutMs?: number): Promise<AlterConfigsResult[]> {
    if (resources.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    const refused = resources.map(unknownDeletedConfig);
    const forwarded = resources.filter((_, i) => refused[i] === undefined);
    let answer: AlterConfigsResult[] = [];
    if (forwarded.length > 0) {
      try {
        answer = (await this.channel.callActive(
          'IncrementalAlterConfigs',
          (remainingMs) => ({
            resources: forwarded.map((r) => ({
              resourceType: r.resourceType, resourceName: r.resourceName,
              configs: r.configs.map((c) => ({ name: c.name, configOperation: c.operation, value: c.value })),
            })),
            validateOnly,
            timeoutMs: remainingMs,
          }),
          (res) => judgeItems(res, res.responses),
          deadline,
        )).responses;
      } catch (err) {
        return resources.map((r, i) => refused[i] ?? {
          resourceType: r.resourceType, resourceName: r.resourceName,
          ...this.unavailable(err, `the configs of '${r.resourceName}' were not changed`, `the configs of '${r.resourceName}' may or may not have been changed`),
        });
      }
    }
    const results = resources.map((r, i) => refused[i] ?? matchResource(answer, r, forwarded.indexOf(r)));
    const altered = resources.filter((r, i) => !validateOnly && (r.resourceType === TOPIC_RESOURCE || r.resourceType === BROKER_RESOURCE) && results[i]?.errorCode === 0);
    const appliedHere = (r: AlterConfigsRequest) => {
      if (r.resourceType === BROKER_RESOURCE) {
        const configs = this.image.brokerConfigs(r.resourceName);
        return r.configs.every((c) => (c.operation === 0 ? configs.get(c.name) === normalisedBrokerConfig(c.name, c.value) : !configs.has(c.name)));
      }
      const topic = this.image.topic(r.resourceName);
      // Deleted (or re-created) meanwhile: nothing left to wait for.
      if (topic === undefined) return true;
      return r.configs.every((c) => (c.operation === 0 ? topic.configs.get(c.name) === normalisedTopicConfig(c.name, c.value) : !topic.configs.has(c.name)));
    };
    if (altered.length > 0) await this.waitForImage(() => altered.every(appliedHere), deadline);
    return resources.map((request, i): AlterConfigsResult => {
      const r = results[i];
      const base = { resourceType: request.resourceType, resourceName: request.resourceName };
      if (r === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `the controller's answer did not mention '${request.resourceName}'` };
      if (r.errorCode !== 0) return { ...base, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (altered.includes(request) && !appliedHere(request)) {
        return {
          ...base,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: `the controller changed the configs of topic '${request.resourceName}', but broker ${this.options.brokerId} had not applied `
            + `the change before the request timed out (applied offset ${this.applied}); it will take effect shortly`,
        };
      }
      return { ...base, errorCode: 0, errorMessage: '' };
    });
  }

  /** DescribeQuorum as the active controller answers it. */
  async describeQuorum(): Promise<DescribeQuorumResponse> {
    try {
      return await this.channel.callActive(
        'DescribeQuorum',
        () => ({}),
        (res) => judge({ ...res, leaderEpoch: Number(res.leaderEpoch) }),
        this.deadline(this.requestTimeoutMs * 2),
      );
    } catch (err) {
      return { ...this.unavailable(err, 'no active controller answered', 'the active controller did not answer'), leaderId: -1, voters: [] };
    }
  }

  /**
   * AlterPartition for the replica manager (ISR changes this broker proposes as leader), sent to
   * the active controller with this broker's epoch; one result per item, in order. Never throws:
   * an unreachable quorum is an error result the partition retries after its backoff.
   */
  async alterPartition(items: readonly AlterPartitionItem[]): Promise<AlterPartitionItemResult[]> {
    if (items.length === 0) return [];
    const brokerEpoch = this.brokerEpoch;
    if (brokerEpoch === undefined) {
      return items.map(() => ({ errorCode: ErrorCode.STALE_BROKER_EPOCH, errorMessage: `broker ${this.options.brokerId} is not registered` }));
    }
    const topics = groupByTopic(items);
    let res;
    try {
      res = await this.channel.callActive(
        'AlterPartition',
        () => ({
          brokerId: this.options.brokerId,
          brokerEpoch,
          topics: [...topics].map(([name, list]) => ({
            name,
            partitions: list.map((i) => ({ partition: i.partition, leaderEpoch: i.leaderEpoch, partitionEpoch: i.partitionEpoch, newIsr: [...i.newIsr] })),
          })),
        }),
        (r) => judge(r),
        this.deadline(this.requestTimeoutMs),
      );
    } catch (err) {
      const failure = this.unavailable(err, 'the ISR change was not sent', 'the ISR change may or may not have been committed');
      return items.map(() => failure);
    }
    return items.map((item): AlterPartitionItemResult => {
      const r = res.topics.find((t) => t.name === item.topic)?.partitions.find((p) => p.partition === item.partition);
      if (r === undefined) {
        return res.errorCode !== ErrorCode.NONE
          ? { errorCode: res.errorCode, errorMessage: res.errorMessage }
          : { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `the controller's answer did not mention ${item.topic}-${item.partition}` };
      }
      if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (res.errorCode !== ErrorCode.NONE) return { errorCode: res.errorCode, errorMessage: res.errorMessage };
      return { errorCode: 0, leaderId: r.leaderId, leaderEpoch: r.leaderEpoch, partitionEpoch: r.partitionEpoch, isr: [...r.isr] };
    });
  }

  /**
   * AllocateProducerIds for the broker's ProducerIdManager: a block of ids from the active
   * controller, which records it in the metadata log before answering (so no id is handed out
   * twice, even across a controller failover). Never throws.
   */
  async allocateProducerIds(): Promise<ProducerIdBlockResult> {
    const brokerEpoch = this.brokerEpoch;
    if (brokerEpoch === undefined) {
      return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, errorMessage: `broker ${this.options.brokerId} is not registered yet`, start: -1n, length: 0 };
    }
    try {
      const res = await this.channel.callActive(
        'AllocateProducerIds',
        () => ({ brokerId: this.options.brokerId, brokerEpoch }),
        (r) => judge(r),
        this.deadline(this.requestTimeoutMs),
      );
      if (res.errorCode !== ErrorCode.NONE) return { errorCode: res.errorCode, errorMessage: res.errorMessage, start: -1n, length: 0 };
      return { errorCode: ErrorCode.NONE, errorMessage: '', start: BigInt(res.producerIdStart), length: res.producerIdLen };
    } catch (err) {
      return { ...this.unavailable(err, 'no producer ids were allocated', 'producer ids may or may not have been allocated'), start: -1n, length: 0 };
    }
  }

  // ---- shutdown ----

  /** Stops the loops, asks the controller for a controlled shutdown (bounded), closes the channels. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycleStopped = true;
      this.wake();
      // The fetch loop keeps applying metadata meanwhile, so partitions whose leadership the
      // controller moves away become followers here before the broker stops serving.
      if (this.started && this.brokerEpoch !== undefined) {
        try {
          await this.controlledShutdown();
        } catch (err) {
          this.logger.warn({ err }, 'controlled shutdown failed; stopping anyway');
        }
      }
      this.stopping = true;
      this.channel.close();
      for (const waiter of [...this.waiters]) waiter.done(false);
      if (!this.isReady) this.rejectReady(new Error(`broker ${this.options.brokerId} closed before it was ready (${this.describeProgress()})`));
      await Promise.allSettled(this.loops);
      this.listeners.clear();
    })();
    return this.closing;
  }

  // ---- lifecycle: registration and heartbeats ----

  private async lifecycleLoop(): Promise<void> {
    while (!this.lifecycleStopped) {
      const delay = this.brokerEpoch === undefined ? await this.register() : await this.heartbeat();
      await this.pause(delay);
    }
  }

  /** One registration attempt (retrying within a window); returns the delay before the next step. */
  private async register(): Promise<number> {
    const { brokerId, host, port, rack, endpoints } = this.options;
    try {
      const res = await this.channel.callActive(
        'RegisterBroker',
        () => ({ brokerId, incarnationId: this.incarnationId, host, port, rack: rack ?? '', endpoints: endpoints ?? '' }),
        (r) => judge(r),
        this.timers.now() + LOG_EVERY_MS,
      );
      if (res.errorCode !== 0) {
        this.logger.error({ errorCode: res.errorCode, error: errorInfo(res.errorCode).name, controller: this.channel.activeControllerId },
          `the controller refused to register broker ${brokerId}: ${res.errorMessage}; retrying`);
        return this.heartbeatIntervalMs;
      }
      this.brokerEpoch = res.brokerEpoch;
      this.registration++;
      this.catchUpOffset = undefined;
      this.fenced = true;
      this.throttle.delete('register');
      this.logger.info({ brokerEpoch: res.brokerEpoch, controller: this.channel.activeControllerId, appliedOffset: this.applied },
        'registered with the controller quorum; catching up on metadata');
      return 0; // heartbeat at once: a broker with nothing to catch up is unfenced on its first one
    } catch (err) {
      if (err instanceof ControllerChannelClosedError) return 0;
      this.warnThrottled('register', `cannot register broker ${brokerId} with the controller quorum yet: ${errorText(err)}; retrying`);
      return 0;
    }
  }

  /** One heartbeat; returns the delay before the next. */
  private async heartbeat(): Promise<number> {
    const target = this.channel.pickTarget();
    const brokerEpoch = this.brokerEpoch!;
    let res: BrokerHeartbeatResponse__Output;
    try {
      res = await this.channel.call(target, 'BrokerHeartbeat', {
        brokerId: this.options.brokerId, brokerEpoch, currentMetadataOffset: String(this.applied), wantFence: false, wantShutDown: false,
      }, Math.min(this.requestTimeoutMs, Math.max(this.heartbeatIntervalMs, 1_000)));
    } catch (err) {
      if (err instanceof ControllerChannelClosedError) return 0;
      this.channel.failed(target);
      this.warnThrottled('heartbeat', `heartbeat to controller ${describe(target)} failed: ${errorText(err)}; trying the next controller`);
      return this.channel.backoffMs(1);
    }
    if (this.lifecycleStopped || brokerEpoch !== this.brokerEpoch) return 0;
    switch (res.errorCode) {
      case ErrorCode.NONE: {
        this.heartbeatRedirects = 0;
        this.channel.learnLeader(target.id, res.leaderEpoch);
        this.recovered('heartbeat', `heartbeats reach controller ${target.id} again`);
        const wasFenced = this.fenced;
        this.fenced = res.isFenced;
        if (wasFenced && !res.isFenced) this.logger.info({ brokerEpoch, appliedOffset: this.applied }, 'the controller unfenced this broker');
        if (!wasFenced && res.isFenced) this.logger.warn({ brokerEpoch }, 'the controller fenced this broker (it may have missed its session timeout)');
        this.checkReady();
        return res.isFenced ? Math.min(this.heartbeatIntervalMs, FENCED_HEARTBEAT_MS) : this.heartbeatIntervalMs;
      }
      case ErrorCode.NOT_CONTROLLER:
        if (res.leaderId >= 0 && res.leaderId !== target.id && this.channel.learnLeader(res.leaderId, res.leaderEpoch)) {
          // Follow the hint at once, but back off if controllers keep pointing elsewhere.
          return ++this.heartbeatRedirects <= this.channel.controllers.length ? 0 : this.channel.backoffMs(1);
        }
        this.channel.failed(target);
        this.warnThrottled('heartbeat', `heartbeat: controller ${target.id} is not the active controller and knows of none; retrying`);
        return this.channel.backoffMs(2);
      case ErrorCode.STALE_BROKER_EPOCH:
        this.logger.warn({ brokerEpoch, controller: target.id, reason: res.errorMessage },
          'the controller no longer knows this registration (STALE_BROKER_EPOCH); registering again');
        this.brokerEpoch = undefined;
        this.catchUpOffset = undefined;
        this.fenced = true;
        return 0;
      case ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE:
        this.channel.failed(target);
        this.warnThrottled('heartbeat', `heartbeat: controller ${target.id} says the quorum has no leader (${res.errorMessage}); retrying`);
        return this.channel.backoffMs(2);
      default:
        this.warnThrottled('heartbeat', `heartbeat refused by controller ${target.id}: ${errorInfo(res.errorCode).name} ${res.errorMessage}; retrying`);
        return this.heartbeatIntervalMs;
    }
  }

  private async controlledShutdown(): Promise<void> {
    const deadline = this.timers.now() + this.controlledShutdownTimeoutMs;
    while (this.timers.now() < deadline) {
      const target = this.channel.pickTarget();
      try {
        const res = await this.channel.call(target, 'BrokerHeartbeat', {
          brokerId: this.options.brokerId, brokerEpoch: this.brokerEpoch!, currentMetadataOffset: String(this.applied),
          wantFence: false, wantShutDown: true,
        }, Math.max(1, deadline - this.timers.now()));
        if (res.errorCode === ErrorCode.NONE) {
          if (res.shouldShutDown) {
            this.logger.info({ controller: target.id }, 'controlled shutdown: the controller moved leadership away');
            return;
          }
        } else if (res.errorCode === ErrorCode.NOT_CONTROLLER) {
          if (res.leaderId >= 0 && res.leaderId !== target.id && this.channel.learnLeader(res.leaderId, res.leaderEpoch)) continue;
          this.channel.failed(target);
        } else {
          this.logger.warn({ error: errorInfo(res.errorCode).name, reason: res.errorMessage }, 'controlled shutdown refused; stopping anyway');
          return;
        }
      } catch (err) {
        if (err instanceof ControllerChannelClosedError) return;
        this.channel.failed(target);
      }
      await this.channel.sleep(Math.min(100, Math.max(0, deadline - this.timers.now())));
    }
    this.logger.warn({ timeoutMs: this.controlledShutdownTimeoutMs }, 'controlled shutdown not confirmed in time; stopping anyway');
  }

  // ---- following the metadata log ----

  private async fetchLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const target = this.fetchTarget();
      const registration = this.registration;
      const registered = this.brokerEpoch !== undefined;
      const sentAt = this.timers.now();
      let res: FetchMetadataResponse__Output;
      try {
        res = await this.channel.call(target, 'FetchMetadata', {
          fromOffset: String(this.applied + 1), maxWaitMs: this.fetchMaxWaitMs, maxEntries: this.fetchMaxEntries, brokerId: this.options.brokerId,
        }, this.fetchMaxWaitMs + this.requestTimeoutMs);
      } catch (err) {
        if (err instanceof ControllerChannelClosedError || this.stopping) return;
        this.fetchFailed(target);
        this.warnThrottled('fetch', `fetching metadata from controller ${describe(target)} failed: ${errorText(err)}; trying another controller`);
        if (++failures % this.channel.controllers.length === 0) await this.channel.sleep(this.channel.backoffMs(failures / this.channel.controllers.length));
        continue;
      }
      if (this.stopping) return;
      if (res.errorCode !== ErrorCode.NONE) {
        this.fetchFailed(target);
        this.warnThrottled('fetch', `controller ${target.id} refused FetchMetadata: ${errorInfo(res.errorCode).name} ${res.errorMessage}; trying another controller`);
        await this.channel.sleep(this.channel.backoffMs(++failures));
        continue;
      }
      failures = 0;
      this.recovered('fetch', `fetching metadata from controller ${target.id} again`);
      this.channel.learnLeader(res.leaderId, res.leaderEpoch);
      const highWatermark = Number(res.highWatermark);
      if (highWatermark > this.hwm) this.hwm = highWatermark;
      if (registered && registration === this.registration && this.brokerEpoch !== undefined && this.catchUpOffset === undefined) {
        this.catchUpOffset = highWatermark;
        this.logger.info({ catchUpOffset: highWatermark, appliedOffset: this.applied }, 'catching up to the metadata high watermark');
      }
      const phaseBefore = this.phase;
      let applied: boolean;
      try {
        applied = this.apply(res);
      } catch (err) {
        this.logger.error({ err, appliedOffset: this.applied }, 'applying fetched metadata failed');
        applied = false;
      }
      if (!applied) {
        // A bad answer (gap, undecodable snapshot): ask again from the applied offset, not in a hot loop.
        this.fetchFailed(target);
        await this.channel.sleep(this.channel.backoffMs(++failures));
        continue;
      }
      if (res.entries.length === 0 && !res.hasSnapshot && this.timers.now() - sentAt < Math.min(50, this.fetchMaxWaitMs)) {
        // Nothing new and no long poll: do not spin against a controller that answers at once.
        await this.channel.sleep(Math.min(100, this.fetchMaxWaitMs));
      }
      this.resolveWaiters();
      if (this.fenced && this.brokerEpoch !== undefined) this.wake(); // report progress now: it may unfence us
      if (phaseBefore === 'catchingUp' && this.phase !== 'catchingUp') {
        this.logger.info({ appliedOffset: this.applied }, 'caught up on metadata; waiting to be unfenced');
      }
      this.checkReady();
    }
  }

  /** Sticks with a controller that answers; moves to the active one when it has not failed lately. */
  private fetchTarget() {
    const active = this.channel.activeControllerId;
    const failedAt = this.fetchFailedAt.get(active);
    if (active >= 0 && active !== this.fetchTargetId && (failedAt === undefined || this.timers.now() - failedAt > FETCH_AVOID_FAILED_MS)) {
      this.fetchTargetId = active;
    }
    const current = this.fetchTargetId === undefined ? undefined : this.channel.byId(this.fetchTargetId);
    if (current) return current;
    const next = this.channel.pickTarget();
    this.fetchTargetId = next.id;
    return next;
  }

  private fetchFailed(target: ControllerAddress): void {
    this.fetchFailedAt.set(target.id, this.timers.now());
    this.channel.forget(target.id);
    const i = this.channel.controllers.indexOf(target);
    this.fetchTargetId = this.channel.controllers[(i + 1) % this.channel.controllers.length]!.id;
  }

  /**
   * Applies one FetchMetadata answer: the snapshot, then the entries, then the events. Returns
   * false when the answer could not be used in full (what was applied stays applied).
   */
  private apply(res: FetchMetadataResponse__Output): boolean {
    let ok = true;
    const touched = new Map<string, TopicImage | undefined>();
    if (res.hasSnapshot) {
      const snapshotOffset = Number(res.snapshotOffset);
      if (snapshotOffset > this.applied) {
        let records: MetadataRecord[];
        try {
          records = decodeMetadataEntry(res.snapshot);
        } catch (err) {
          this.logger.error({ err, snapshotOffset }, 'cannot decode the metadata snapshot; fetching again');
          return false;
        }
        const next = MetadataImage.fromSnapshot(records, snapshotOffset);
        for (const t of this.image.topics()) touched.set(t.topicId, t);
        for (const t of next.topics()) if (!touched.has(t.topicId)) touched.set(t.topicId, undefined);
        this.image = next;
        this.applied = snapshotOffset;
        this.logger.info({ snapshotOffset, records: records.length }, 'loaded a metadata snapshot');
      }
    }
    for (const entry of res.entries) {
      const offset = Number(entry.offset);
      if (offset <= this.applied) continue;
      if (this.applied !== NO_OFFSET && offset !== this.applied + 1) {
        this.warnThrottled('gap', `gap in the metadata log answer: expected offset ${this.applied + 1}, got ${offset}; fetching again`);
        ok = false;
        break;
      }
      if (entry.data.length > 0) {
        let records: MetadataRecord[] = [];
        try {
          records = decodeMetadataEntry(entry.data);
        } catch (err) {
          this.logger.error({ err, offset }, 'skipping a metadata entry this broker cannot decode');
        }
        const epoch = Number(entry.term);
        for (const record of records) {
          this.noteTouched(record, touched);
          try {
            this.image.replay(record, offset, epoch);
          } catch (err) {
            // Kafka's brokers log a metadata apply fault and go on; the record changed nothing.
            this.logger.error({ err, offset, record }, 'a committed metadata record does not apply to this broker\'s image; skipped');
          }
        }
      }
      this.applied = offset;
    }
    if (touched.size > 0) this.emit(topicChanges(touched, this.image));
    const brokerConfigs = this.dynamicBrokerConfigs();
    const brokerConfigsKey = JSON.stringify(brokerConfigs);
    if (brokerConfigsKey !== this.lastBrokerConfigs) {
      this.lastBrokerConfigs = brokerConfigsKey;
      this.emit([{ type: 'brokerConfigsChanged', configs: brokerConfigs }]);
    }
    return ok;
  }

  /** Remembers the topic a record may change, as it was before this batch. */
  private noteTouched(record: MetadataRecord, touched: Map<string, TopicImage | undefined>): void {
    let topicId: string | undefined;
    switch (record.type) {
      case 'Topic':
      case 'Partition':
      case 'PartitionChange':
      case 'RemoveTopic':
        topicId = record.topicId;
        break;
      case 'Config':
        if (record.resourceType === 'topic') topicId = this.image.topic(record.resourceName)?.topicId;
        break;
      default:
        return;
    }
    if (topicId !== undefined && !touched.has(topicId)) touched.set(topicId, this.image.topicById(topicId));
  }

  /** The dynamic broker configs for this broker: resource '' (every broker) and its own id. */
  dynamicBrokerConfigs(): DynamicBrokerConfigs {
    return { clusterDefault: this.brokerConfigs(''), broker: this.brokerConfigs(String(this.options.brokerId)) };
  }

  brokerConfigs(resourceName: string): Record<string, string> {
    return Object.fromEntries([...this.image.brokerConfigs(resourceName)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  private emit(changes: MetadataChange[]): void {
    for (const change of changes) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          this.logger.error({ err, change: change.type, ...('topic' in change ? { topic: change.topic.name } : {}) }, 'applying a metadata change failed');
        }
      }
    }
  }

  // ---- helpers ----

  private checkReady(): void {
    if (this.isReady || this.stopping || this.phase !== 'running') return;
    this.isReady = true;
    this.logger.info({ brokerEpoch: this.brokerEpoch, appliedOffset: this.applied, controller: this.channel.activeControllerId },
      'registered, caught up and unfenced');
    this.resolveReady();
  }

  describeProgress(): string {
    switch (this.phase) {
      case 'registering': return 'registering with the controller quorum';
      case 'catchingUp': return `catching up on metadata: applied ${this.applied} of ${this.catchUpOffset ?? '?'}`;
      case 'fenced': return `caught up at offset ${this.applied}; waiting for the controller to unfence broker ${this.options.brokerId}`;
      case 'running': return 'running';
      case 'stopped': return 'stopped';
    }
  }

  /** Resolves true once `check()` holds after a batch is applied, false at `deadline` or close. */
  private waitForImage(check: () => boolean, deadline: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: ImageWaiter = {
        check,
        done: (ok) => {
          this.waiters.delete(waiter);
          this.timers.clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = this.timers.setTimeout(() => waiter.done(check()), Math.max(0, deadline - this.timers.now()));
      this.waiters.add(waiter);
    });
  }

  private resolveWaiters(): void {
    for (const waiter of [...this.waiters]) if (waiter.check()) waiter.done(true);
  }

  private deadline(timeoutMs: number | undefined): number {
    return this.timers.now() + (timeoutMs !== undefined && timeoutMs > 0 ? timeoutMs : this.defaultApiTimeoutMs);
  }

  private unavailable(err: unknown, notDone: string, unsure: string): { errorCode: number; errorMessage: string } {
    if (err instanceof ControllerUnavailableError) {
      return { errorCode: err.code, errorMessage: `${err.code === ErrorCode.REQUEST_TIMED_OUT ? unsure : notDone}: ${err.message}` };
    }
    if (err instanceof ControllerChannelClosedError) {
      return { errorCode: ErrorCode.BROKER_NOT_AVAILABLE, errorMessage: `${notDone}: broker ${this.options.brokerId} is shutting down` };
    }
    this.logger.error({ err }, 'unexpected error talking to the controller');
    return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `${unsure}: ${errorText(err)}` };
  }

  private async pause(ms: number): Promise<void> {
    if (this.wakeRequested || this.lifecycleStopped) {
      this.wakeRequested = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        this.wakeLifecycle = undefined;
        this.timers.clearTimeout(handle);
        resolve();
      };
      const handle = this.timers.setTimeout(done, ms);
      this.wakeLifecycle = done;
    });
    this.wakeRequested = false;
  }

  /** Cuts the lifecycle loop's pause short (or makes the next one end at once). */
  private wake(): void {
    if (this.wakeLifecycle) this.wakeLifecycle();
    else this.wakeRequested = true;
  }

  private warnThrottled(key: string, message: string): void {
    const now = this.timers.now();
    const last = this.throttle.get(key);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++;
      return;
    }
    this.throttle.set(key, { at: now, suppressed: 0 });
    this.logger.warn({ ...(last?.suppressed ? { similarSince: last.suppressed } : {}) }, message);
  }

  private recovered(key: string, message: string): void {
    if (this.throttle.delete(key)) this.logger.info(message);
  }

  private runLoop(name: string, loop: () => Promise<void>): Promise<void> {
    return loop().catch((err: unknown) => {
      // A bug, not a network problem: say so loudly; the broker keeps serving what it has.
      this.logger.error({ err }, `the ${name} loop stopped unexpectedly`);
    });
  }
}

/** A controller answer's redirect fields (every Controller RPC answer carries them). */
interface LeaderHint {
  errorCode?: number;
  errorMessage?: string;
  leaderId: number;
  leaderEpoch: number;
}

/**
 * NOT_CONTROLLER / CONTROLLER_QUORUM_UNAVAILABLE in any per-item result means the request went to
 * the wrong place; the answer's leader_id and leader_epoch say where to send it.
 */
function judgeItems(res: LeaderHint, items: ReadonlyArray<{ errorCode: number; errorMessage: string }>): Verdict {
  for (const r of items) {
    const verdict = judge({ ...res, errorCode: r.errorCode, errorMessage: r.errorMessage });
    if (verdict.kind !== 'answer') return verdict;
  }
  return { kind: 'answer' };
}

function judge(res: LeaderHint): Verdict {
  if (res.errorCode === ErrorCode.NOT_CONTROLLER) return { kind: 'notController', leaderId: res.leaderId, leaderEpoch: res.leaderEpoch };
  if (res.errorCode === ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE) return { kind: 'quorumUnavailable', message: res.errorMessage ?? '' };
  return { kind: 'answer' };
}

function matchResult<T extends { name: string }>(results: readonly T[], name: string, index: number): T | undefined {
  return results[index]?.name === name ? results[index] : results.find((r) => r.name === name);
}

/** Kafka's ConfigResource.Type.TOPIC. */
const TOPIC_RESOURCE = 2;

/**
 * A delete of a name that is no topic config is refused here with INVALID_CONFIG: the controller
 * ignores deletes of names that are not set, so a typo would otherwise pass silently.
 */
function unknownDeletedConfig(r: AlterConfigsRequest): AlterConfigsResult | undefined {
  if (r.resourceType !== TOPIC_RESOURCE) return undefined;
  const unknown = r.configs.filter((c) => c.operation === 1 && !(TOPIC_CONFIG_KEYS as string[]).includes(c.name)).map((c) => c.name);
  if (unknown.length === 0) return undefined;
  return {
    resourceType: r.resourceType, resourceName: r.resourceName, errorCode: ErrorCode.INVALID_CONFIG,
    errorMessage: `unknown topic config(s) ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${TOPIC_CONFIG_KEYS.join(', ')})`,
  };
}

/** Kafka's ConfigResource.Type.BROKER. */
const BROKER_RESOURCE = 4;

function normalisedBrokerConfig(name: string, value: string): string {
  try {
    return validateBrokerConfigs({ [name]: value })[name] ?? value;
  } catch {
    return value;
  }
}

/** The value as the controller stores it (validateTopicConfigs normalises, e.g. 'TRUE' → 'true'). */
function normalisedTopicConfig(name: string, value: string): string {
  try {
    return validateTopicConfigs({ [name]: value })[name] ?? value;
  } catch {
    return value;
  }
}

function matchResource(results: readonly AlterConfigsResult[], r: AlterConfigsRequest, index: number): AlterConfigsResult | undefined {
  const same = (x: AlterConfigsResult | undefined) => x !== undefined && x.resourceName === r.resourceName && x.resourceType === r.resourceType;
  return same(results[index]) ? results[index] : results.find(same);
}

/** validate_only creates nothing: a TopicInfo shaped from the controller's answer (no id, no leaders yet). */
function validatedTopic(name: string, numPartitions: number, replicationFactor: number, configs: Record<string, string>): TopicInfo {
  return {
    name,
    topicId: '',
    configs,
    isInternal: name.startsWith('__'),
    partitions: Array.from({ length: numPartitions }, (_, partition) => ({
      partition, leader: -1, leaderEpoch: -1, partitionEpoch: -1, replicas: Array<number>(replicationFactor).fill(-1), isr: [],
    })),
  };
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'details' in err && typeof err.details === 'string' && err.details) return err.details;
  return err instanceof Error ? err.message : String(err);
}
