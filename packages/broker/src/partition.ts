/**
 * One partition replica on this broker: its log, and (when this broker leads it) the leader-side
 * policy — leader epoch, ISR, high watermark, acks and min.insync.replicas. Names follow Kafka's
 * Partition class so readers can look them up.
 *
 * The high watermark is min(LEO) over the ISR and never decreases. Until replication lands only
 * the leader's own LEO is known, so HW follows the local LEO on every append when the ISR is this
 * broker alone, and stays put otherwise.
 *
 * The controller's registration arrives through `applyRegistration` (Kafka's makeLeader /
 * makeFollower): leader, leader epoch, ISR, replicas and partition epoch.
 */
import {
  ErrorCode, SamsaProtocolError, protocolError, setLogAppendTime, validateProducedBatch, type TopicConfig,
} from '@samsa/protocol';
import type { Log } from './log/index.js';
import type { PartitionInfo } from './metadata/image.js';

export interface LeaderAppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
  logAppendTime: bigint;
  logStartOffset: bigint;
}

export class Partition {
  leaderId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  replicas: number[];
  isr: number[];
  private hw: bigint;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    public config: TopicConfig,
    private readonly localBrokerId: number,
    info: PartitionInfo,
    private readonly now: () => number,
  ) {
    this.leaderId = info.leader;
    this.leaderEpoch = info.leaderEpoch;
    this.partitionEpoch = info.partitionEpoch;
    this.replicas = [...info.replicas];
    this.isr = [...info.isr];
    // On load, what survived recovery on a sole replica is everything the ISR has.
    this.hw = this.isr.length === 1 && this.isLeader ? log.logEndOffset : log.logStartOffset;
  }

  /**
   * Applies the controller's latest registration of this partition. Becoming leader keeps the
   * current HW, except that with the ISR being this broker alone it moves up to the local LEO (all
   * the ISR has). Becoming follower keeps the log and HW as they are: followers do not fetch from
   * the leader yet (replication arrives in the next issue), so a follower's log simply stops
   * growing until it leads again. Returns what changed for this broker, or 'stale' when `info` is
   * older than what the partition already has (ignored, as Kafka ignores an older leader epoch).
   */
  applyRegistration(info: PartitionInfo): 'becameLeader' | 'becameFollower' | 'updated' | 'stale' {
    if (info.leaderEpoch < this.leaderEpoch || (info.leaderEpoch === this.leaderEpoch && info.partitionEpoch < this.partitionEpoch)) {
      return 'stale';
    }
    const wasLeader = this.isLeader;
    const newEpoch = info.leaderEpoch !== this.leaderEpoch;
    this.leaderId = info.leader;
    this.leaderEpoch = info.leaderEpoch;
    this.partitionEpoch = info.partitionEpoch;
    this.replicas = [...info.replicas];
    this.isr = [...info.isr];
    if (this.isLeader) {
      this.maybeIncrementHighWatermark();
      return !wasLeader || newEpoch ? 'becameLeader' : 'updated';
    }
    return wasLeader || newEpoch ? 'becameFollower' : 'updated';
  }

  /** This broker no longer hosts the replica: refuse everything from now on (waiting requests too). */
  markRemoved(): void {
    this.leaderId = -1;
  }

  get key(): string {
    return `${this.topic}-${this.partition}`;
  }

  get isLeader(): boolean {
    return this.leaderId === this.localBrokerId;
  }

  get highWatermark(): bigint {
    return this.hw;
  }

  get logEndOffset(): bigint {
    return this.log.logEndOffset;
  }

  get logStartOffset(): bigint {
    return this.log.logStartOffset;
  }

  /** Throws NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH as Kafka does. */
  checkLeader(currentLeaderEpoch = -1): void {
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < this.leaderEpoch) {
      throw protocolError('FENCED_LEADER_EPOCH', `leader epoch ${currentLeaderEpoch} is older than the current ${this.leaderEpoch} of ${this.key}`);
    }
    if (currentLeaderEpoch > this.leaderEpoch) {
      throw protocolError('UNKNOWN_LEADER_EPOCH', `leader epoch ${currentLeaderEpoch} is newer than the current ${this.leaderEpoch} of ${this.key}`);
    }
    if (!this.isLeader) {
      throw protocolError('NOT_LEADER_OR_FOLLOWER', `broker ${this.localBrokerId} is not the leader of ${this.key} (leader: ${this.leaderId})`);
    }
  }

  /**
   * Appends a produced batch as leader. With acks=all, refuses with NOT_ENOUGH_REPLICAS (writing
   * nothing) when the ISR is smaller than min.insync.replicas.
   */
  appendRecordsToLeader(batch: Buffer, requiredAcks: number): LeaderAppendResult {
    this.checkLeader();
    const minIsr = this.config['min.insync.replicas'];
    if (requiredAcks === -1 && this.isr.length < minIsr) {
      throw new SamsaProtocolError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `${this.key} has ${this.isr.length} in-sync replica(s), fewer than min.insync.replicas=${minIsr}`,
      );
    }
    let logAppendTime = -1n;
    if (this.config['message.timestamp.type'] === 'LogAppendTime') {
      // Validate before restamping: setLogAppendTime recomputes the CRC and would hide corruption.
      validateProducedBatch(batch);
      logAppendTime = BigInt(this.now());
      setLogAppendTime(batch, 0, batch.length, logAppendTime);
    }
    const appended = this.log.appendAsLeader(batch, this.leaderEpoch);
    this.maybeIncrementHighWatermark();
    return { baseOffset: appended.baseOffset, lastOffset: appended.lastOffset, logAppendTime, logStartOffset: this.log.logStartOffset };
  }

  /** HW = min LEO over the ISR; never moves backwards. */
  maybeIncrementHighWatermark(): boolean {
    // Only the leader's own LEO is known until follower fetch state exists (replication issue).
    let min = this.log.logEndOffset;
    for (const id of this.isr) {
      if (id !== this.localBrokerId) return false;
    }
    if (min < this.hw) min = this.hw;
    if (min === this.hw) return false;
    this.hw = min;
    return true;
  }

  /**
   * Whether an acks=all produce ending at `requiredOffset` (exclusive) is done: true when HW has
   * passed it; throws NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR fell below min.insync, and
   * NOT_LEADER_OR_FOLLOWER when leadership moved away while it waited (as Kafka does).
   */
  checkEnoughReplicasReachOffset(requiredOffset: bigint): boolean {
    if (this.hw >= requiredOffset) {
      if (this.isr.length < this.config['min.insync.replicas']) {
        throw protocolError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', `${this.key} ISR shrank to ${this.isr.length} below min.insync.replicas while waiting`);
      }
      return true;
    }
    if (!this.isLeader) {
      throw protocolError('NOT_LEADER_OR_FOLLOWER', `broker ${this.localBrokerId} stopped leading ${this.key} (leader: ${this.leaderId}) before the write was replicated`);
    }
    return false;
  }

  /** Reads for a consumer: whole batches from fetchOffset, below the high watermark. */
  readRecords(fetchOffset: bigint, maxBytes: number, minOneBatch: boolean): Buffer {
    if (fetchOffset > this.hw && fetchOffset <= this.log.logEndOffset) return EMPTY;
    return this.log.read(fetchOffset, maxBytes, this.hw, minOneBatch).records;
  }
}

const EMPTY = Buffer.alloc(0);
