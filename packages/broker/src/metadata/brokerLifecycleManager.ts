/**
 * The broker's lifecycle with the controller quorum (Kafka's BrokerLifecycleManager):
 * RegisterBroker (a fresh incarnation id per process) with the active controller, then
 * BrokerHeartbeat every heartbeatIntervalMs carrying the last applied metadata offset (every
 * FENCED_HEARTBEAT_MS while fenced, so unfencing is not a heartbeat interval late). A
 * STALE_BROKER_EPOCH answer (the controller no longer knows this registration) re-registers; a
 * NOT_CONTROLLER answer is followed by its leader_id and leader_epoch. close() asks for a
 * controlled shutdown (a heartbeat with want_shut_down) and waits, bounded, for the controller to
 * move leadership away.
 *
 * Phases (Kafka's BrokerState, roughly): registering → catchingUp (applying the metadata log up to
 * the high watermark seen after registering, told by the metadata follower through FetchObserver)
 * → fenced (waiting for the controller to unfence it) → running; stopped at close. `ready()`
 * resolves on the first `running`.
 */
import type { MetadataImage } from '@samsa/metadata';
import { ErrorCode, errorInfo, type BrokerHeartbeatResponse__Output } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { Timers } from '@samsa/server';
import { ControllerChannelClosedError, describe, errorText, verdictOf, type ControllerChannel } from './controllerChannel.js';
import type { FetchObserver } from './metadataFollower.js';
import { LOG_EVERY_MS, type ThrottledWarnings } from './throttledWarnings.js';

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

/** What the lifecycle reads of the metadata follower: how far it applied, and the image it applied to. */
export interface AppliedMetadata {
  readonly appliedOffset: number;
  readonly metadataImage: MetadataImage;
}

export interface BrokerLifecycleOptions {
  brokerId: number;
  incarnationId: string;
  host: string;
  port: number;
  rack?: string;
  endpoints?: string;
  channel: ControllerChannel;
  logger: Logger;
  timers: Timers;
  warnings: ThrottledWarnings;
  metadata: AppliedMetadata;
  heartbeatIntervalMs: number;
  requestTimeoutMs: number;
  controlledShutdownTimeoutMs: number;
}

/** While fenced, heartbeat this often (Kafka polls every 10 ms while starting) so unfencing is not a heartbeat interval late. */
const FENCED_HEARTBEAT_MS = 250;

export class BrokerLifecycleManager implements FetchObserver {
  private readonly channel: ControllerChannel;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly warnings: ThrottledWarnings;
  private epoch: string | undefined;
  /** Bumped on every registration, so a fetch sent before it cannot set the catch-up target. */
  private registration = 0;
  private catchUpOffset: number | undefined;
  private fenced = true;
  /** Heartbeats stop first (close sends its own), the metadata fetch loop last. */
  private heartbeatsStopped = false;
  private stopped = false;
  private wakeLoop: (() => void) | undefined;
  private wakeRequested = false;
  private heartbeatRedirects = 0;
  /** Log directories that went offline (log/README.md): every heartbeat reports them. */
  private readonly offlineLogDirs: string[] = [];
  private phaseBeforeApply: BrokerLifecyclePhase = 'registering';

  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private isReady = false;

  constructor(private readonly options: BrokerLifecycleOptions) {
    this.channel = options.channel;
    this.logger = options.logger;
    this.timers = options.timers;
    this.warnings = options.warnings;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be waiting on ready(); a close before it must not become an unhandled rejection.
    this.readyPromise.catch(() => {});
  }

  /** Resolves once registered, caught up and unfenced; rejects if stopped first. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** The epoch of the current registration (the Raft offset of its RegisterBroker record); undefined when not registered. */
  get brokerEpoch(): string | undefined {
    return this.epoch;
  }

  get catchUpTarget(): number | undefined {
    return this.catchUpOffset;
  }

  get phase(): BrokerLifecyclePhase {
    if (this.stopped) return 'stopped';
    if (this.epoch === undefined) return 'registering';
    const applied = this.options.metadata.appliedOffset;
    if (this.catchUpOffset === undefined || applied < this.catchUpOffset) return 'catchingUp';
    // Unfenced by the controller's answer and in the applied image, so brokers() lists this one.
    const self = this.options.metadata.metadataImage.broker(this.options.brokerId);
    return this.fenced || self?.brokerEpoch !== this.epoch || self.fenced ? 'fenced' : 'running';
  }

  describeProgress(): string {
    const applied = this.options.metadata.appliedOffset;
    switch (this.phase) {
      case 'registering':
        return 'registering with the controller quorum';
      case 'catchingUp':
        return `catching up on metadata: applied ${applied} of ${this.catchUpOffset ?? '?'}`;
      case 'fenced':
        return `caught up at offset ${applied}; waiting for the controller to unfence broker ${this.options.brokerId}`;
      case 'running':
        return 'running';
      case 'stopped':
        return 'stopped';
    }
  }

  /**
   * A log directory went offline (a write failed: log/README.md). Every heartbeat from now on
   * says so, and one goes out at once: the controller fences this broker and moves its
   * leaderships and ISR memberships away, and does not unfence it until a restart.
   */
  logDirFailed(dir: string): void {
    if (this.offlineLogDirs.includes(dir)) return;
    this.offlineLogDirs.push(dir);
    this.logger.error({ logDir: dir }, 'reporting an offline log directory to the controller');
    this.wake();
  }

  // ---- FetchObserver (the metadata follower's reports) ----

  fetchToken(): number | undefined {
    return this.epoch === undefined ? undefined : this.registration;
  }

  onHighWatermark(token: number | undefined, highWatermark: number): void {
    this.phaseBeforeApply = this.phase;
    // The first high watermark seen by a fetch sent after registering is what "caught up" means.
    if (token !== undefined && token === this.registration && this.epoch !== undefined && this.catchUpOffset === undefined) {
      this.catchUpOffset = highWatermark;
      this.logger.info(
        { catchUpOffset: highWatermark, appliedOffset: this.options.metadata.appliedOffset },
        'catching up to the metadata high watermark',
      );
    }
  }

  onApplied(): void {
    if (this.fenced && this.epoch !== undefined) this.wake(); // report progress now: it may unfence us
    if (this.phaseBeforeApply === 'catchingUp' && this.phase !== 'catchingUp') {
      this.logger.info({ appliedOffset: this.options.metadata.appliedOffset }, 'caught up on metadata; waiting to be unfenced');
    }
    this.checkReady();
  }

  // ---- the loop ----

  /** Registers, then heartbeats, until stopHeartbeats(). */
  async run(): Promise<void> {
    while (!this.heartbeatsStopped) {
      const delay = this.epoch === undefined ? await this.register() : await this.heartbeat();
      await this.pause(delay);
    }
  }

  /** Ends the loop at its next turn (close sends its own shutdown heartbeats). */
  stopHeartbeats(): void {
    this.heartbeatsStopped = true;
    this.wake();
  }

  /** The broker is stopping: phase 'stopped', and ready() rejects if it had not resolved. */
  markStopped(): void {
    this.stopped = true;
    if (!this.isReady)
      this.rejectReady(new Error(`broker ${this.options.brokerId} closed before it was ready (${this.describeProgress()})`));
  }

  /** One registration attempt (retrying within a window); returns the delay before the next step. */
  private async register(): Promise<number> {
    const { brokerId, host, port, rack, endpoints, incarnationId } = this.options;
    try {
      const res = await this.channel.callActive(
        'RegisterBroker',
        () => ({ brokerId, incarnationId, host, port, rack: rack ?? '', endpoints: endpoints ?? '' }),
        verdictOf,
        this.timers.now() + LOG_EVERY_MS,
      );
      if (res.errorCode !== 0) {
        this.logger.error(
          { errorCode: res.errorCode, error: errorInfo(res.errorCode).name, controller: this.channel.activeControllerId },
          `the controller refused to register broker ${brokerId}: ${res.errorMessage}; retrying`,
        );
        return this.options.heartbeatIntervalMs;
      }
      this.epoch = res.brokerEpoch;
      this.registration++;
      this.catchUpOffset = undefined;
      this.fenced = true;
      this.warnings.reset('register');
      this.logger.info(
        { brokerEpoch: res.brokerEpoch, controller: this.channel.activeControllerId, appliedOffset: this.options.metadata.appliedOffset },
        'registered with the controller quorum; catching up on metadata',
      );
      return 0; // heartbeat at once: a broker with nothing to catch up is unfenced on its first one
    } catch (err) {
      if (err instanceof ControllerChannelClosedError) return 0;
      this.warnings.warn('register', `cannot register broker ${brokerId} with the controller quorum yet: ${errorText(err)}; retrying`);
      return 0;
    }
  }

  /** One heartbeat; returns the delay before the next. */
  private async heartbeat(): Promise<number> {
    const target = this.channel.pickTarget();
    const brokerEpoch = this.epoch!;
    const { heartbeatIntervalMs, requestTimeoutMs } = this.options;
    let res: BrokerHeartbeatResponse__Output;
    try {
      res = await this.channel.call(
        target,
        'BrokerHeartbeat',
        {
          brokerId: this.options.brokerId,
          brokerEpoch,
          currentMetadataOffset: String(this.options.metadata.appliedOffset),
          wantFence: false,
          wantShutDown: false,
          offlineLogDirs: [...this.offlineLogDirs],
        },
        Math.min(requestTimeoutMs, Math.max(heartbeatIntervalMs, 1_000)),
      );
    } catch (err) {
      if (err instanceof ControllerChannelClosedError) return 0;
      this.channel.failed(target);
      this.warnings.warn('heartbeat', `heartbeat to controller ${describe(target)} failed: ${errorText(err)}; trying the next controller`);
      return this.channel.backoffMs(1);
    }
    if (this.heartbeatsStopped || brokerEpoch !== this.epoch) return 0;
    switch (res.errorCode) {
      case ErrorCode.NONE: {
        this.heartbeatRedirects = 0;
        this.channel.learnLeader(target.id, res.leaderEpoch);
        this.warnings.recovered('heartbeat', `heartbeats reach controller ${target.id} again`);
        const wasFenced = this.fenced;
        this.fenced = res.isFenced;
        if (wasFenced && !res.isFenced)
          this.logger.info({ brokerEpoch, appliedOffset: this.options.metadata.appliedOffset }, 'the controller unfenced this broker');
        if (!wasFenced && res.isFenced)
          this.logger.warn(
            { brokerEpoch, offlineLogDirs: this.offlineLogDirs },
            this.offlineLogDirs.length > 0
              ? 'the controller fenced this broker: its log directory is offline'
              : 'the controller fenced this broker (it may have missed its session timeout)',
          );
        this.checkReady();
        return res.isFenced ? Math.min(heartbeatIntervalMs, FENCED_HEARTBEAT_MS) : heartbeatIntervalMs;
      }
      case ErrorCode.NOT_CONTROLLER:
        if (res.leaderId >= 0 && res.leaderId !== target.id && this.channel.learnLeader(res.leaderId, res.leaderEpoch)) {
          // Follow the hint at once, but back off if controllers keep pointing elsewhere.
          return ++this.heartbeatRedirects <= this.channel.controllers.length ? 0 : this.channel.backoffMs(1);
        }
        this.channel.failed(target);
        this.warnings.warn('heartbeat', `heartbeat: controller ${target.id} is not the active controller and names no newer one; retrying`);
        return this.channel.backoffMs(2);
      case ErrorCode.STALE_BROKER_EPOCH:
        this.logger.warn(
          { brokerEpoch, controller: target.id, reason: res.errorMessage },
          'the controller no longer knows this registration (STALE_BROKER_EPOCH); registering again',
        );
        this.epoch = undefined;
        this.catchUpOffset = undefined;
        this.fenced = true;
        return 0;
      case ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE:
        this.channel.failed(target);
        this.warnings.warn('heartbeat', `heartbeat: controller ${target.id} says the quorum has no leader (${res.errorMessage}); retrying`);
        return this.channel.backoffMs(2);
      default:
        this.warnings.warn(
          'heartbeat',
          `heartbeat refused by controller ${target.id}: ${errorInfo(res.errorCode).name} ${res.errorMessage}; retrying`,
        );
        return heartbeatIntervalMs;
    }
  }

  /**
   * Heartbeats with want_shut_down until the controller answers should_shut_down (it moved this
   * broker's leaderships away), bounded by controlledShutdownTimeoutMs. Only when registered.
   */
  async controlledShutdown(): Promise<void> {
    if (this.epoch === undefined) return;
    const deadline = this.timers.now() + this.options.controlledShutdownTimeoutMs;
    while (this.timers.now() < deadline) {
      const target = this.channel.pickTarget();
      try {
        const res = await this.channel.call(
          target,
          'BrokerHeartbeat',
          {
            brokerId: this.options.brokerId,
            brokerEpoch: this.epoch,
            currentMetadataOffset: String(this.options.metadata.appliedOffset),
            wantFence: false,
            wantShutDown: true,
            offlineLogDirs: [...this.offlineLogDirs],
          },
          Math.max(1, deadline - this.timers.now()),
        );
        if (res.errorCode === ErrorCode.NONE) {
          if (res.shouldShutDown) {
            this.logger.info({ controller: target.id }, 'controlled shutdown: the controller moved leadership away');
            return;
          }
        } else if (res.errorCode === ErrorCode.NOT_CONTROLLER) {
          if (res.leaderId >= 0 && res.leaderId !== target.id && this.channel.learnLeader(res.leaderId, res.leaderEpoch)) continue;
          this.channel.failed(target);
        } else {
          this.logger.warn(
            { error: errorInfo(res.errorCode).name, reason: res.errorMessage },
            'controlled shutdown refused; stopping anyway',
          );
          return;
        }
      } catch (err) {
        if (err instanceof ControllerChannelClosedError) return;
        this.channel.failed(target);
      }
      await this.channel.sleep(Math.min(100, Math.max(0, deadline - this.timers.now())));
    }
    this.logger.warn({ timeoutMs: this.options.controlledShutdownTimeoutMs }, 'controlled shutdown not confirmed in time; stopping anyway');
  }

  private checkReady(): void {
    if (this.isReady || this.stopped || this.phase !== 'running') return;
    this.isReady = true;
    this.logger.info(
      { brokerEpoch: this.epoch, appliedOffset: this.options.metadata.appliedOffset, controller: this.channel.activeControllerId },
      'registered, caught up and unfenced',
    );
    this.resolveReady();
  }

  private async pause(ms: number): Promise<void> {
    if (this.wakeRequested || this.heartbeatsStopped) {
      this.wakeRequested = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        this.wakeLoop = undefined;
        this.timers.clearTimeout(handle);
        resolve();
      };
      const handle = this.timers.setTimeout(done, ms);
      this.wakeLoop = done;
    });
    this.wakeRequested = false;
  }

  /** Cuts the loop's pause short (or makes the next one end at once). */
  private wake(): void {
    if (this.wakeLoop) this.wakeLoop();
    else this.wakeRequested = true;
  }
}
