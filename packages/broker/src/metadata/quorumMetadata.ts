/**
 * The broker's side of the controller quorum, behind MetadataSource: three parts Kafka keeps apart,
 * wired together over one ControllerChannel.
 *
 * - BrokerLifecycleManager (brokerLifecycleManager.ts): register, heartbeat, fencing, controlled
 *   shutdown; the lifecycle phase and `ready()`.
 * - MetadataFollower (metadataFollower.ts; Kafka's BrokerMetadataListener/Publisher): the
 *   FetchMetadata long poll, replay into the MetadataImage, MetadataChange events for the replica
 *   manager. It tells the lifecycle manager what high watermark it saw and when it applied a batch.
 * - ControllerForwarder (controllerForwarder.ts; Kafka's ForwardingManager): admin calls sent to
 *   the active controller, answered once the follower's image shows their effect.
 *
 * `ready()`: registered, caught up to the high watermark seen after registering, and unfenced.
 * Nothing on the produce/fetch path waits on any of this: with the quorum unreachable, the loops
 * retry with backoff (logging, never throwing) and the partitions already open keep serving.
 */
import { randomUUID } from 'node:crypto';
import type { AclBinding, AclBindingFilter, MetadataImage, OngoingReassignment, ScramCredentialImage } from '@samsa/metadata';
import type { DescribeQuorumResponse } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { AlterPartitionItem, AlterPartitionItemResult } from '../replication/alterPartition.js';
import type { Timers } from '@samsa/server';
import { BrokerLifecycleManager, type BrokerLifecyclePhase } from './brokerLifecycleManager.js';
import { ControllerChannel, describe, type ControllerAddress } from './controllerChannel.js';
import { ControllerForwarder, type ScramAlterations, type ScramAlterResult } from './controllerForwarder.js';
import type {
  AlterConfigsRequest,
  AlterConfigsResult,
  BrokerInfo,
  CreatePartitionsItem,
  CreateTopicRequest,
  DeleteTopicResult,
  DynamicBrokerConfigs,
  ElectLeadersResult,
  ReassignmentItem,
  ReassignmentResult,
  MetadataChange,
  MetadataSource,
  ProducerIdBlockResult,
  TopicInfo,
  TopicResult,
  AclCreateResult,
  AclDeleteResult,
} from './image.js';
import { brokerInfoOf, clusterIdOf, topicInfoOf } from './imageView.js';
import { MetadataFollower } from './metadataFollower.js';
import { ThrottledWarnings } from './throttledWarnings.js';

export type { BrokerLifecyclePhase } from './brokerLifecycleManager.js';

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

export interface QuorumMetadataStatus {
  phase: BrokerLifecyclePhase;
  brokerEpoch: string | undefined;
  appliedOffset: number;
  highWatermark: number;
  catchUpOffset: number | undefined;
  controllerId: number;
}

export class QuorumMetadataSource implements MetadataSource {
  readonly clusterId: string;
  readonly incarnationId = randomUUID();
  private readonly channel: ControllerChannel;
  private readonly logger: Logger;
  private readonly follower: MetadataFollower;
  private readonly lifecycle: BrokerLifecycleManager;
  private readonly forwarder: ControllerForwarder;
  private started = false;
  private closing: Promise<void> | undefined;
  private loops: Promise<void>[] = [];

  constructor(options: QuorumMetadataOptions) {
    this.logger = options.logger;
    const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.channel = new ControllerChannel({
      controllers: options.controllers,
      logger: options.logger,
      timers: options.timers,
      requestTimeoutMs,
      ...(options.retryBackoffMs === undefined ? {} : { retryBackoffMs: options.retryBackoffMs }),
      ...(options.retryBackoffMaxMs === undefined ? {} : { retryBackoffMaxMs: options.retryBackoffMaxMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    this.clusterId = clusterIdOf(this.channel.controllers);
    const warnings = new ThrottledWarnings(options.logger, options.timers);
    const common = { brokerId: options.brokerId, channel: this.channel, logger: options.logger, timers: options.timers };
    // The follower reports to the lifecycle manager, which reads the follower's applied offset: a
    // late-bound observer breaks the cycle.
    let lifecycle: BrokerLifecycleManager | undefined;
    this.follower = new MetadataFollower({
      ...common,
      warnings,
      fetchMaxWaitMs: options.fetchMaxWaitMs ?? 2_000,
      fetchMaxEntries: options.fetchMaxEntries ?? 1_000,
      requestTimeoutMs,
      observer: {
        fetchToken: () => lifecycle!.fetchToken(),
        onHighWatermark: (token, highWatermark) => lifecycle!.onHighWatermark(token, highWatermark),
        onApplied: () => lifecycle!.onApplied(),
      },
    });
    lifecycle = new BrokerLifecycleManager({
      ...common,
      incarnationId: this.incarnationId,
      host: options.host,
      port: options.port,
      ...(options.rack === undefined ? {} : { rack: options.rack }),
      ...(options.endpoints === undefined ? {} : { endpoints: options.endpoints }),
      warnings,
      metadata: this.follower,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 2_000,
      requestTimeoutMs,
      controlledShutdownTimeoutMs: options.controlledShutdownTimeoutMs ?? 1_000,
    });
    this.lifecycle = lifecycle;
    this.forwarder = new ControllerForwarder({
      ...common,
      follower: this.follower,
      brokerEpoch: () => this.lifecycle.brokerEpoch,
      requestTimeoutMs,
      defaultApiTimeoutMs: options.defaultApiTimeoutMs ?? 30_000,
    });
  }

  /** Starts registering, heartbeating and following the metadata log. Subscribe first: events are not replayed. */
  start(): void {
    if (this.started || this.closing !== undefined) return;
    this.started = true;
    this.logger.info(
      { controllers: this.channel.controllers.map(describe), incarnationId: this.incarnationId, clusterId: this.clusterId },
      'joining the controller quorum',
    );
    this.loops = [this.runLoop('lifecycle', () => this.lifecycle.run()), this.runLoop('metadata fetch', () => this.follower.run())];
  }

  /** Resolves once registered, caught up and unfenced; rejects if closed first. */
  ready(): Promise<void> {
    return this.lifecycle.ready();
  }

  get status(): QuorumMetadataStatus {
    return {
      phase: this.phase,
      brokerEpoch: this.lifecycle.brokerEpoch,
      appliedOffset: this.follower.appliedOffset,
      highWatermark: this.follower.highWatermark,
      catchUpOffset: this.lifecycle.catchUpTarget,
      controllerId: this.channel.activeControllerId,
    };
  }

  /** A log directory went offline: the heartbeats report it (BrokerLifecycleManager.logDirFailed). */
  logDirFailed(dir: string): void {
    this.lifecycle.logDirFailed(dir);
  }

  get phase(): BrokerLifecyclePhase {
    return this.lifecycle.phase;
  }

  /** The highest metadata offset applied to the image (Raft entry index; -1 for none). */
  get appliedOffset(): number {
    return this.follower.appliedOffset;
  }

  /** The image as applied so far (read-only use). */
  get metadataImage(): MetadataImage {
    return this.follower.metadataImage;
  }

  get controllerId(): number {
    return this.channel.activeControllerId;
  }

  /** Registered brokers the controller has unfenced (fenced ones must not be sent clients). */
  brokers(): BrokerInfo[] {
    return this.follower.metadataImage
      .brokers()
      .filter((b) => !b.fenced)
      .map(brokerInfoOf);
  }

  topic(name: string): TopicInfo | undefined {
    const topic = this.follower.metadataImage.topic(name);
    return topic === undefined ? undefined : topicInfoOf(topic);
  }

  topics(): TopicInfo[] {
    return this.follower.metadataImage.topics().map(topicInfoOf);
  }

  subscribe(listener: (change: MetadataChange) => void): () => void {
    return this.follower.subscribe(listener);
  }

  /** The dynamic broker configs for this broker: resource '' (every broker) and its own id. */
  dynamicBrokerConfigs(): DynamicBrokerConfigs {
    return this.follower.dynamicBrokerConfigs();
  }

  brokerConfigs(resourceName: string): Record<string, string> {
    return this.follower.brokerConfigs(resourceName);
  }

  describeProgress(): string {
    return this.lifecycle.describeProgress();
  }

  // ---- forwarded to the active controller ----

  createTopics(requests: CreateTopicRequest[], validateOnly: boolean, timeoutMs?: number): Promise<TopicResult[]> {
    return this.forwarder.createTopics(requests, validateOnly, timeoutMs);
  }

  deleteTopics(names: string[], timeoutMs?: number): Promise<DeleteTopicResult[]> {
    return this.forwarder.deleteTopics(names, timeoutMs);
  }

  createPartitions(requests: CreatePartitionsItem[], validateOnly: boolean, timeoutMs?: number): Promise<DeleteTopicResult[]> {
    return this.forwarder.createPartitions(requests, validateOnly, timeoutMs);
  }

  electLeaders(
    electionType: number,
    partitions: Array<{ topic: string; partition: number }>,
    timeoutMs?: number,
  ): Promise<ElectLeadersResult[]> {
    return this.forwarder.electLeaders(electionType, partitions, timeoutMs);
  }

  alterPartitionReassignments(items: ReassignmentItem[], timeoutMs?: number): Promise<ReassignmentResult[]> {
    return this.forwarder.alterPartitionReassignments(items, timeoutMs);
  }

  listPartitionReassignments(partitions?: Array<{ topic: string; partition: number }>): OngoingReassignment[] {
    return this.metadataImage.ongoingReassignments(partitions);
  }

  incrementalAlterConfigs(resources: AlterConfigsRequest[], validateOnly: boolean, timeoutMs?: number): Promise<AlterConfigsResult[]> {
    return this.forwarder.incrementalAlterConfigs(resources, validateOnly, timeoutMs);
  }

  acls(): readonly AclBinding[] {
    return this.metadataImage.acls();
  }

  createAcls(creations: AclBinding[], timeoutMs?: number): Promise<AclCreateResult[]> {
    return this.forwarder.createAcls(creations, timeoutMs);
  }

  deleteAcls(filters: AclBindingFilter[], timeoutMs?: number): Promise<AclDeleteResult[]> {
    return this.forwarder.deleteAcls(filters, timeoutMs);
  }

  describeQuorum(): Promise<DescribeQuorumResponse> {
    return this.forwarder.describeQuorum();
  }

  alterUserScramCredentials(request: ScramAlterations, timeoutMs?: number): Promise<ScramAlterResult[]> {
    return this.forwarder.alterUserScramCredentials(request, timeoutMs);
  }

  scramCredential(user: string, mechanism: string): ScramCredentialImage | undefined {
    return this.follower.metadataImage.scramCredential(user, mechanism);
  }

  scramUsers(): Array<{ name: string; credentials: ScramCredentialImage[] }> {
    return this.follower.metadataImage.scramUsers();
  }

  alterPartition(items: readonly AlterPartitionItem[]): Promise<AlterPartitionItemResult[]> {
    return this.forwarder.alterPartition(items);
  }

  allocateProducerIds(): Promise<ProducerIdBlockResult> {
    return this.forwarder.allocateProducerIds();
  }

  // ---- shutdown ----

  /** Stops the loops, asks the controller for a controlled shutdown (bounded), closes the channels. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycle.stopHeartbeats();
      // The fetch loop keeps applying metadata meanwhile, so partitions whose leadership the
      // controller moves away become followers here before the broker stops serving.
      if (this.started) {
        try {
          await this.lifecycle.controlledShutdown();
        } catch (err) {
          this.logger.warn({ err }, 'controlled shutdown failed; stopping anyway');
        }
      }
      this.lifecycle.markStopped();
      this.follower.stop();
      this.channel.close();
      await Promise.allSettled(this.loops);
      this.follower.clearListeners();
    })();
    return this.closing;
  }

  private runLoop(name: string, loop: () => Promise<void>): Promise<void> {
    return loop().catch((err: unknown) => {
      // A bug, not a network problem: say so loudly; the broker keeps serving what it has.
      this.logger.error({ err }, `the ${name} loop stopped unexpectedly`);
    });
  }
}
