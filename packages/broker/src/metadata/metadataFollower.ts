/**
 * The broker's follower of the committed metadata log (Kafka's BrokerMetadataListener and
 * BrokerMetadataPublisher): a FetchMetadata long poll from any reachable controller (the active
 * one preferred, one that failed lately avoided), a snapshot applied when one comes and then every
 * entry, in order, to this broker's MetadataImage; after each applied batch, MetadataChange events
 * for the replica manager (topic and partition changes, dynamic broker configs) and the waiters of
 * forwarded admin calls woken.
 *
 * It knows nothing of registration: the lifecycle manager (brokerLifecycleManager.ts) learns
 * through `FetchObserver` which high watermark a fetch saw and when a batch was applied. A bad
 * answer (a gap, an undecodable snapshot) is fetched again from the applied offset; a record that
 * does not apply is logged and skipped, as Kafka's brokers do with a metadata apply fault.
 */
import { MetadataImage, NO_OFFSET, decodeMetadataEntry, type MetadataRecord, type TopicImage } from '@samsa/metadata';
import { ErrorCode, errorInfo, type FetchMetadataResponse__Output } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { Timers } from '@samsa/server';
import { ControllerChannelClosedError, describe, errorText, type ControllerAddress, type ControllerChannel } from './controllerChannel.js';
import type { DynamicBrokerConfigs, MetadataChange } from './image.js';
import { topicChanges } from './imageView.js';
import type { ThrottledWarnings } from './throttledWarnings.js';

/** What the lifecycle manager learns from the metadata fetches. */
export interface FetchObserver {
  /** Taken as each fetch is sent and handed back with its answer (Kafka: the registration it was sent under). */
  fetchToken(): number | undefined;
  /** A fetch sent under `token` was answered with `highWatermark`. */
  onHighWatermark(token: number | undefined, highWatermark: number): void;
  /** A fetched batch was applied in full. */
  onApplied(): void;
}

export interface MetadataFollowerOptions {
  brokerId: number;
  channel: ControllerChannel;
  logger: Logger;
  timers: Timers;
  warnings: ThrottledWarnings;
  fetchMaxWaitMs: number;
  fetchMaxEntries: number;
  requestTimeoutMs: number;
  observer: FetchObserver;
}

interface ImageWaiter {
  check(): boolean;
  done(ok: boolean): void;
}

/** A controller that failed a metadata fetch is not preferred again, even as the leader, for this long. */
const FETCH_AVOID_FAILED_MS = 10_000;

export class MetadataFollower {
  private readonly channel: ControllerChannel;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly warnings: ThrottledWarnings;
  private readonly listeners = new Set<(change: MetadataChange) => void>();
  private readonly waiters = new Set<ImageWaiter>();
  /** The dynamic broker configs last announced (JSON), so a change is announced once. */
  private lastBrokerConfigs = JSON.stringify({ clusterDefault: {}, broker: {} });
  private image = new MetadataImage();
  private applied = NO_OFFSET;
  private hwm = NO_OFFSET;
  private stopping = false;
  private fetchTargetId: number | undefined;
  private readonly fetchFailedAt = new Map<number, number>();

  constructor(private readonly options: MetadataFollowerOptions) {
    this.channel = options.channel;
    this.logger = options.logger;
    this.timers = options.timers;
    this.warnings = options.warnings;
  }

  /** The highest metadata offset applied to the image (Raft entry index; -1 for none). */
  get appliedOffset(): number {
    return this.applied;
  }

  /** The highest committed offset a controller has reported. */
  get highWatermark(): number {
    return this.hwm;
  }

  /** The image as applied so far (read-only use). */
  get metadataImage(): MetadataImage {
    return this.image;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  subscribe(listener: (change: MetadataChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The dynamic broker configs for this broker: resource '' (every broker) and its own id. */
  dynamicBrokerConfigs(): DynamicBrokerConfigs {
    return { clusterDefault: this.brokerConfigs(''), broker: this.brokerConfigs(String(this.options.brokerId)) };
  }

  brokerConfigs(resourceName: string): Record<string, string> {
    return Object.fromEntries([...this.image.brokerConfigs(resourceName)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Resolves true once `check()` holds after a batch is applied, false at `deadline` or stop. */
  waitForImage(check: () => boolean, deadline: number): Promise<boolean> {
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

  /** Ends the fetch loop at its next turn and answers every image waiter false. */
  stop(): void {
    this.stopping = true;
    for (const waiter of [...this.waiters]) waiter.done(false);
  }

  /** Drops the subscribers (after the loop has ended). */
  clearListeners(): void {
    this.listeners.clear();
  }

  /** Follows the log until stop() or the channel closes; never throws for network trouble. */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const target = this.fetchTarget();
      const token = this.options.observer.fetchToken();
      const sentAt = this.timers.now();
      const fetched = await this.fetchOnce(target);
      if (fetched === 'closed' || this.stopping) return;
      if (fetched === 'failed') {
        if (++failures % this.channel.controllers.length === 0)
          await this.channel.sleep(this.channel.backoffMs(failures / this.channel.controllers.length));
        continue;
      }
      const res = fetched;
      if (res.errorCode !== ErrorCode.NONE) {
        this.fetchFailed(target);
        this.warnings.warn(
          'fetch',
          `controller ${target.id} refused FetchMetadata: ${errorInfo(res.errorCode).name} ${res.errorMessage}; trying another controller`,
        );
        await this.channel.sleep(this.channel.backoffMs(++failures));
        continue;
      }
      failures = 0;
      this.warnings.recovered('fetch', `fetching metadata from controller ${target.id} again`);
      this.channel.learnLeader(res.leaderId, res.leaderEpoch);
      const highWatermark = Number(res.highWatermark);
      if (highWatermark > this.hwm) this.hwm = highWatermark;
      this.options.observer.onHighWatermark(token, highWatermark);
      if (!this.applyAnswer(res)) {
        // A bad answer (gap, undecodable snapshot): ask again from the applied offset, not in a hot loop.
        this.fetchFailed(target);
        await this.channel.sleep(this.channel.backoffMs(++failures));
        continue;
      }
      if (res.entries.length === 0 && !res.hasSnapshot && this.timers.now() - sentAt < Math.min(50, this.options.fetchMaxWaitMs)) {
        // Nothing new and no long poll: do not spin against a controller that answers at once.
        await this.channel.sleep(Math.min(100, this.options.fetchMaxWaitMs));
      }
      this.resolveWaiters();
      this.options.observer.onApplied();
    }
  }

  /** One FetchMetadata from the applied offset; 'failed' (logged, target demoted) or 'closed' on error. */
  private async fetchOnce(target: ControllerAddress): Promise<FetchMetadataResponse__Output | 'failed' | 'closed'> {
    const { fetchMaxWaitMs, fetchMaxEntries, requestTimeoutMs, brokerId } = this.options;
    try {
      return await this.channel.call(
        target,
        'FetchMetadata',
        {
          fromOffset: String(this.applied + 1),
          maxWaitMs: fetchMaxWaitMs,
          maxEntries: fetchMaxEntries,
          brokerId,
        },
        fetchMaxWaitMs + requestTimeoutMs,
      );
    } catch (err) {
      if (err instanceof ControllerChannelClosedError || this.stopping) return 'closed';
      this.fetchFailed(target);
      this.warnings.warn(
        'fetch',
        `fetching metadata from controller ${describe(target)} failed: ${errorText(err)}; trying another controller`,
      );
      return 'failed';
    }
  }

  /** apply(), with a bug in it logged as a failed answer rather than ending the loop. */
  private applyAnswer(res: FetchMetadataResponse__Output): boolean {
    try {
      return this.apply(res);
    } catch (err) {
      this.logger.error({ err, appliedOffset: this.applied }, 'applying fetched metadata failed');
      return false;
    }
  }

  /** Sticks with a controller that answers; moves to the active one when it has not failed lately. */
  private fetchTarget(): ControllerAddress {
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
    const touched = new Map<string, TopicImage | undefined>();
    if (res.hasSnapshot && !this.applySnapshot(res, touched)) return false;
    const ok = this.applyEntries(res, touched);
    this.publish(touched);
    return ok;
  }

  /** Replaces the image with the answer's snapshot when it is newer; false when it cannot be decoded. */
  private applySnapshot(res: FetchMetadataResponse__Output, touched: Map<string, TopicImage | undefined>): boolean {
    const snapshotOffset = Number(res.snapshotOffset);
    if (snapshotOffset <= this.applied) return true;
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
    return true;
  }

  /** Replays the entries after the applied offset, in order; false at a gap. */
  private applyEntries(res: FetchMetadataResponse__Output, touched: Map<string, TopicImage | undefined>): boolean {
    for (const entry of res.entries) {
      const offset = Number(entry.offset);
      if (offset <= this.applied) continue;
      if (this.applied !== NO_OFFSET && offset !== this.applied + 1) {
        this.warnings.warn('gap', `gap in the metadata log answer: expected offset ${this.applied + 1}, got ${offset}; fetching again`);
        return false;
      }
      if (entry.data.length > 0) this.replayEntry(entry.data, offset, Number(entry.term), touched);
      this.applied = offset;
    }
    return true;
  }

  private replayEntry(data: Uint8Array, offset: number, epoch: number, touched: Map<string, TopicImage | undefined>): void {
    let records: MetadataRecord[] = [];
    try {
      records = decodeMetadataEntry(data);
    } catch (err) {
      this.logger.error({ err, offset }, 'skipping a metadata entry this broker cannot decode');
    }
    for (const record of records) {
      this.noteTouched(record, touched);
      try {
        this.image.replay(record, offset, epoch);
      } catch (err) {
        // Kafka's brokers log a metadata apply fault and go on; the record changed nothing.
        this.logger.error({ err, offset, record }, "a committed metadata record does not apply to this broker's image; skipped");
      }
    }
  }

  /** The events of one applied batch: topic deltas, then the dynamic broker configs if they changed. */
  private publish(touched: Map<string, TopicImage | undefined>): void {
    if (touched.size > 0) this.emit(topicChanges(touched, this.image));
    const brokerConfigs = this.dynamicBrokerConfigs();
    const brokerConfigsKey = JSON.stringify(brokerConfigs);
    if (brokerConfigsKey !== this.lastBrokerConfigs) {
      this.lastBrokerConfigs = brokerConfigsKey;
      this.emit([{ type: 'brokerConfigsChanged', configs: brokerConfigs }]);
    }
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

  private emit(changes: MetadataChange[]): void {
    for (const change of changes) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          this.logger.error(
            { err, change: change.type, ...('topic' in change ? { topic: change.topic.name } : {}) },
            'applying a metadata change failed',
          );
        }
      }
    }
  }

  private resolveWaiters(): void {
    for (const waiter of [...this.waiters]) if (waiter.check()) waiter.done(true);
  }
}
