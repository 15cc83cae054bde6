/**
 * One partition replica on this broker: its log, and the replication policy of whichever role the
 * controller gave this broker — leader (leader epoch, ISR, high watermark, acks and
 * min.insync.replicas, follower fetches) or follower (appending what the leader sent, truncating
 * where the logs diverge). Names follow Kafka's Partition class so readers can look them up; the
 * rules themselves are in replication/leaderState.ts and replication/README.md.
 *
 * The controller's registration arrives through `applyRegistration` (Kafka's makeLeader /
 * makeFollower): leader, leader epoch, ISR, replicas and partition epoch. ISR changes the leader
 * proposes go to the controller (AlterPartition) and count only once committed.
 */
import { type TopicConfig } from '@samsa/metadata';
import {
  ControlRecordType,
  ErrorCode,
  RECORD_BATCH_OVERHEAD,
  SamsaProtocolError,
  encodeControlBatch,
  iterateBatches,
  protocolError,
  readBatchHeader,
  setLogAppendTime,
  validateProducedBatch,
  type RecordBatchHeader,
} from '@samsa/protocol';
import { recordChecksApply, validateRecords, type Log } from './log/index.js';
import { ProducerStateManager } from './log/producerStateManager.js';
import type { PartitionInfo } from './metadata/image.js';
import { alterPartitionFailure, type AlterPartitionItem, type AlterPartitionItemResult } from './replication/alterPartition.js';
import type { EpochEndOffset } from './replication/leaderEndPoint.js';
import { LeaderState, type IsrChangeProposal } from './replication/leaderState.js';
import { refuseClientControlBatch } from './txn/produceGuard.js';
import { ProducerTxnState, txnBatchAt, type AbortedTxn, type TxnBatch } from './txn/producerTxnState.js';

export interface LeaderAppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
  logAppendTime: bigint;
  logStartOffset: bigint;
}

/** Told when offsets or the ISR move, so waiting produces and fetches are re-checked. */
export interface PartitionListener {
  onHighWatermarkChanged(p: Partition): void;
  onIsrChanged(p: Partition): void;
}

export interface PartitionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What a partition needs for replication, shared by every partition of the broker. */
export interface ReplicationContext {
  /** Kafka's replica.lag.time.max.ms. */
  replicaLagTimeMaxMs: number;
  alterPartitionRetryBackoffMs: number;
  isReplicaIsrEligible(brokerId: number, brokerEpoch: bigint): boolean;
  submitAlterPartition(item: AlterPartitionItem): Promise<AlterPartitionItemResult>;
  listener: PartitionListener;
  logger: PartitionLogger;
  /** Counts committed ISR shrinks and expands (metrics.ts). */
  metrics?: { isrChanged(kind: 'shrink' | 'expand'): void };
}

/** A follower's fetch of one partition, as the leader receives it. */
export interface FollowerFetchRequest {
  currentLeaderEpoch: number;
  fetchOffset: bigint;
  lastFetchedEpoch: number;
  logStartOffset: bigint;
  brokerEpoch: bigint;
  maxBytes: number;
}

export interface FollowerFetchResult {
  records: Buffer;
  highWatermark: bigint;
  logStartOffset: bigint;
  logEndOffset: bigint;
  divergingEpoch?: EpochEndOffset;
}

export class Partition {
  leaderId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  replicas: number[];
  /** The ISR of the last registration seen (metadata or an AlterPartition answer). */
  private registeredIsr: number[];
  /** Set while this broker leads the partition. */
  private leader: LeaderState | undefined;
  /** The HW while following (what the leader said, capped at the local LEO). */
  private followerHw: bigint;
  /** Bumped per ISR change sent and per role change: an answer for an older one is ignored. */
  private isrChangeSeq = 0;
  /** Idempotent producers' sequences and epochs (log/producerStateManager.ts). */
  readonly producerState: ProducerStateManager;
  /** The active segment when the last producer snapshot was taken: a roll takes a new one. */
  private snapshotSegment: bigint;
  /**
   * Open transactions, the last stable offset and the aborted transactions (txn/producerTxnState.ts),
   * rebuilt from the log when the replica opens and after a truncation.
   */
  private txnState: ProducerTxnState;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    public config: TopicConfig,
    private readonly localBrokerId: number,
    info: PartitionInfo,
    private readonly now: () => number,
    private readonly ctx: ReplicationContext,
    checkpointedHighWatermark?: bigint,
  ) {
    this.key = `${topic}-${partition}`;
    this.leaderId = info.leader;
    this.leaderEpoch = info.leaderEpoch;
    this.partitionEpoch = info.partitionEpoch;
    this.replicas = [...info.replicas];
    this.registeredIsr = [...info.isr];
    // A replica starts at its checkpointed HW (replication-offset-checkpoint), capped at its LEO
    // and raised to its log start; without one at its log start. A sole-ISR leader's HW moves up
    // to its LEO at once (all the ISR has), others' once the leader's fetch answers or the
    // followers' fetches tell.
    const start = log.logStartOffset;
    const end = log.logEndOffset;
    const hw = checkpointedHighWatermark ?? start;
    this.followerHw = hw < start ? start : hw > end ? end : hw;
    this.producerState = ProducerStateManager.load(log, ctx.logger);
    this.snapshotSegment = log.activeSegmentBaseOffset;
    this.txnState = this.rebuildTxnState();
    if (this.isLeader) this.makeLeader();
  }

  /**
   * Replays the transactional and control batches of the whole log (README "Partition side",
   * recovery): Kafka reads the `.txnindex` files and the producer snapshot instead; here the log is
   * the only source, read in 1 MiB steps. A control batch that does not decode is skipped (logged):
   * it cannot have come from a coordinator, whose markers are built here.
   */
  private rebuildTxnState(): ProducerTxnState {
    const state = new ProducerTxnState();
    const log = this.log;
    if (log.isClosed) return state;
    const end = log.logEndOffset;
    let next = log.logStartOffset;
    while (next < end) {
      const read = log.read(next, TXN_REBUILD_READ_BYTES, end, true);
      let after = next;
      for (const { pos, header } of iterateBatches(read.records)) {
        after = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
        if (header.producerId < 0n || (!header.isTransactional && !header.isControl)) continue;
        try {
          state.append(txnBatchAt(read.records, pos, header));
        } catch (err) {
          this.ctx.logger.warn({ partition: this.key, offset: String(header.baseOffset), err }, 'skipped an unreadable control batch');
        }
      }
      if (after <= next) break;
      next = after;
    }
    return state;
  }

  /**
   * The last stable offset (KIP-98): the first offset of the earliest transaction not yet decided
   * and replicated, capped by the high watermark. read_committed fetches stop here.
   */
  get lastStableOffset(): bigint {
    const hw = this.highWatermark;
    this.txnState.onHighWatermarkUpdated(hw);
    return this.txnState.lastStableOffset(hw);
  }

  /** The aborted transactions a read_committed fetch of [fetchOffset, upperBound) must be told. */
  abortedTransactions(fetchOffset: bigint, upperBound: bigint): AbortedTxn[] {
    return this.txnState.collectAbortedTxns(fetchOffset, upperBound);
  }

  /** Kafka's DescribeProducers: the transactional producers of this partition (-1n: no open transaction). */
  describeProducers(): Array<{ producerId: bigint; producerEpoch: number; coordinatorEpoch: number; currentTxnStartOffset: bigint }> {
    return this.txnState.producerStates();
  }

  /** Open transactions, oldest first (DescribeProducers, metrics, tests). */
  ongoingTransactions(): Array<{ producerId: bigint; firstOffset: bigint }> {
    return this.txnState.ongoingTxns();
  }

  /**
   * Applies the controller's latest registration of this partition. Becoming leader (or a new
   * leader epoch) starts the leader state afresh (Kafka's makeLeader); the same leader epoch with a
   * newer partition epoch replaces the committed ISR; becoming follower keeps the log and HW (the
   * fetcher truncates where needed). Returns what changed for this broker, or 'stale' when `info`
   * is older than what the partition already has (ignored, as Kafka ignores an older leader epoch).
   */
  applyRegistration(info: PartitionInfo): 'becameLeader' | 'becameFollower' | 'updated' | 'stale' {
    if (info.leaderEpoch < this.leaderEpoch || (info.leaderEpoch === this.leaderEpoch && info.partitionEpoch < this.partitionEpoch)) {
      return 'stale';
    }
    const wasLeader = this.isLeader;
    const newEpoch = info.leaderEpoch !== this.leaderEpoch;
    // The same partition epoch is what an AlterPartition answer already applied: nothing new, and
    // a change proposed since must stay pending.
    const newPartitionEpoch = info.partitionEpoch !== this.partitionEpoch;
    const hw = this.highWatermark;
    this.leaderId = info.leader;
    this.leaderEpoch = info.leaderEpoch;
    this.partitionEpoch = info.partitionEpoch;
    this.replicas = [...info.replicas];
    this.registeredIsr = [...info.isr];
    if (this.isLeader) {
      if (!wasLeader || newEpoch || !this.leader) {
        this.followerHw = hw;
        this.makeLeader();
        return 'becameLeader';
      }
      if (newPartitionEpoch) {
        // A committed ISR change can reach us through metadata before the AlterPartition answer does.
        this.countIsrChange(this.leader.isr, info.isr);
        this.leader.updateAssignment(info.replicas, info.isr);
        if (this.leader.maybeIncrementHighWatermark(this.log.logEndOffset)) this.ctx.listener.onHighWatermarkChanged(this);
      }
      return 'updated';
    }
    if (this.leader) {
      this.followerHw = this.leader.highWatermark;
      this.leader = undefined;
      this.isrChangeSeq++;
    }
    return wasLeader || newEpoch ? 'becameFollower' : 'updated';
  }

  /** This broker no longer hosts the replica: refuse everything from now on (waiting requests too). */
  /**
   * The log directory holding this replica went offline (log/README.md): it is no longer served,
   * and waiting requests answer KAFKA_STORAGE_ERROR with `reason` instead of a leadership error.
   */
  markOffline(reason: string): void {
    this.offlineReason = reason;
    this.markRemoved();
  }

  /** Why the replica went offline; undefined while its log directory is online. */
  offlineReason: string | undefined;

  private checkOnline(): void {
    if (this.offlineReason !== undefined) throw protocolError('KAFKA_STORAGE_ERROR', `${this.key}: ${this.offlineReason}`);
  }

  markRemoved(): void {
    this.leaderId = -1;
    this.leader = undefined;
    this.isrChangeSeq++;
  }

  private makeLeader(): void {
    const leo = this.log.logEndOffset;
    if (!this.log.isClosed) this.log.assignEpochStartOffset(this.leaderEpoch, leo);
    this.isrChangeSeq++;
    this.leader = new LeaderState(
      {
        localBrokerId: this.localBrokerId,
        replicaLagTimeMaxMs: this.ctx.replicaLagTimeMaxMs,
        alterPartitionRetryBackoffMs: this.ctx.alterPartitionRetryBackoffMs,
        isReplicaIsrEligible: (id, epoch) => this.ctx.isReplicaIsrEligible(id, epoch),
      },
      {
        replicas: this.replicas,
        isr: this.registeredIsr,
        highWatermark: this.followerHw,
        leaderEpochStartOffset: leo,
        nowMs: this.now(),
      },
    );
    this.leader.maybeIncrementHighWatermark(leo);
  }

  /**
   * `topic-partition`: the purgatory key, the log directory name and the name in messages. Built
   * once: as a getter it made a new string on every use, several per produce and per fetch.
   */
  readonly key: string;

  get isLeader(): boolean {
    return this.leaderId === this.localBrokerId;
  }

  /** The committed ISR (what min.insync.replicas counts). */
  get isr(): readonly number[] {
    return this.leader ? this.leader.isr : this.registeredIsr;
  }

  /** The committed ISR plus a replica being added: what the HW waits for. */
  get maximalIsr(): readonly number[] {
    return this.leader ? this.leader.maximalIsr : this.registeredIsr;
  }

  /** The leader-side state, while leading (read-only use: tests, diagnostics). */
  get leaderState(): LeaderState | undefined {
    return this.leader;
  }

  get highWatermark(): bigint {
    return this.leader ? this.leader.highWatermark : this.followerHw;
  }

  get logEndOffset(): bigint {
    return this.log.logEndOffset;
  }

  get logStartOffset(): bigint {
    return this.log.logStartOffset;
  }

  /** Throws NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH as Kafka does. */
  checkLeader(currentLeaderEpoch = -1): void {
    this.checkOnline();
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < this.leaderEpoch) {
      throw protocolError(
        'FENCED_LEADER_EPOCH',
        `leader epoch ${currentLeaderEpoch} is older than the current ${this.leaderEpoch} of ${this.key}`,
      );
    }
    if (currentLeaderEpoch > this.leaderEpoch) {
      throw protocolError(
        'UNKNOWN_LEADER_EPOCH',
        `leader epoch ${currentLeaderEpoch} is newer than the current ${this.leaderEpoch} of ${this.key}`,
      );
    }
    if (!this.isLeader) {
      throw protocolError(
        'NOT_LEADER_OR_FOLLOWER',
        `broker ${this.localBrokerId} is not the leader of ${this.key} (leader: ${this.leaderId})`,
      );
    }
  }

  // ---- leader ----

  /**
   * Appends a produced batch as leader. With acks=all, refuses with NOT_ENOUGH_REPLICAS (writing
   * nothing) when the committed ISR is smaller than min.insync.replicas.
   */
  /**
   * `origin` 'coordinator': a batch the group coordinator writes for TxnOffsetCommit (the
   * producer's id and epoch, no sequence): the transaction checks apply, the sequence checks do
   * not (Kafka's AppendOrigin.Coordinator).
   */
  appendRecordsToLeader(batch: Buffer, requiredAcks: number, origin: 'client' | 'coordinator' = 'client'): LeaderAppendResult {
    this.checkLeader();
    const minIsr = this.config['min.insync.replicas'];
    if (requiredAcks === -1 && this.isr.length < minIsr) {
      throw new SamsaProtocolError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `${this.key} has ${this.isr.length} in-sync replica(s) [${this.isr.join(',')}], fewer than min.insync.replicas=${minIsr}`,
      );
    }
    refuseClientControlBatch(batch, this.key);
    let logAppendTime = -1n;
    const idempotent = batch.length >= RECORD_BATCH_OVERHEAD && batch.readBigInt64BE(PRODUCER_ID_AT) >= 0n;
    const logAppendTimeTopic = this.config['message.timestamp.type'] === 'LogAppendTime';
    const checkRecords = recordChecksApply(this.config);
    // The CRC is checked once: here when the header is needed before the log's own check (an
    // idempotent batch, records to check, a batch to restamp), else in the log. A corrupt header
    // must not pass for a duplicate, and setLogAppendTime would hide corruption.
    const header = idempotent || checkRecords || logAppendTimeTopic ? validateProducedBatch(batch) : undefined;
    if (!idempotent && batch.length >= RECORD_BATCH_OVERHEAD && readBatchHeader(batch, 0).isTransactional) {
      throw protocolError('INVALID_RECORD', `${this.key}: a transactional batch must carry a producer id`);
    }
    // Per-record checks (compacted keys, KIP-937 timestamps) come before the duplicate check, as
    // in Kafka's Log.append: a refused batch is refused whole and writes nothing.
    if (checkRecords) validateRecords(batch, this.key, this.config, this.now());
    if (idempotent && header) {
      // Transaction checks first (a fenced epoch, a plain write inside an open transaction), as Kafka.
      const txnRefusal = this.txnState.checkLeaderAppend(txnBatchOf(header, header.baseOffset));
      if (txnRefusal) throw new SamsaProtocolError(txnRefusal.errorCode as ErrorCode, `${this.key}: ${txnRefusal.errorMessage}`);
      const duplicate = origin === 'coordinator' ? undefined : this.producerState.checkLeaderAppend(header, this.key);
      if (duplicate) {
        // Already in the log: answer with the original offsets (acks=all then waits for them).
        return {
          baseOffset: duplicate.firstOffset,
          lastOffset: duplicate.lastOffset,
          logAppendTime: -1n,
          logStartOffset: this.log.logStartOffset,
        };
      }
    }
    let validated = header;
    if (logAppendTimeTopic) {
      logAppendTime = BigInt(this.now());
      setLogAppendTime(batch, 0, batch.length, logAppendTime);
      validated = readBatchHeader(batch, 0);
    }
    const appended = this.log.appendAsLeader(batch, this.leaderEpoch, validated);
    if (idempotent && header) {
      this.producerState.update(header, appended.baseOffset);
      this.txnState.append(txnBatchOf(header, appended.baseOffset));
    } else this.producerState.advanceTo(appended.lastOffset + 1n);
    this.maybeSnapshotProducerState();
    if (this.leader?.maybeIncrementHighWatermark(this.log.logEndOffset)) this.ctx.listener.onHighWatermarkChanged(this);
    return { baseOffset: appended.baseOffset, lastOffset: appended.lastOffset, logAppendTime, logStartOffset: this.log.logStartOffset };
  }

  /**
   * Appends a COMMIT or ABORT marker for `producerId` as leader (Kafka's appendAsLeader with
   * origin Coordinator, from WriteTxnMarkers). Refuses a marker of an older producer epoch
   * (INVALID_PRODUCER_EPOCH) or of a deposed coordinator (TRANSACTION_COORDINATOR_FENCED); with
   * acks=all, NOT_ENOUGH_REPLICAS below min.insync.replicas, as a produce.
   */
  appendTxnMarkerToLeader(
    marker: { producerId: bigint; producerEpoch: number; coordinatorEpoch: number; committed: boolean },
    requiredAcks: number,
  ): LeaderAppendResult {
    this.checkLeader();
    const minIsr = this.config['min.insync.replicas'];
    if (requiredAcks === -1 && this.isr.length < minIsr) {
      throw new SamsaProtocolError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `${this.key} has ${this.isr.length} in-sync replica(s) [${this.isr.join(',')}], fewer than min.insync.replicas=${minIsr}`,
      );
    }
    const type = marker.committed ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
    const txnBatch: TxnBatch = {
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      baseOffset: this.log.logEndOffset,
      lastOffset: this.log.logEndOffset,
      isTransactional: true,
      isControl: true,
      controlType: type,
      coordinatorEpoch: marker.coordinatorEpoch,
    };
    const refusal = this.txnState.checkLeaderAppend(txnBatch);
    if (refusal) throw new SamsaProtocolError(refusal.errorCode as ErrorCode, `${this.key}: ${refusal.errorMessage}`);
    const batch = encodeControlBatch({
      type,
      coordinatorEpoch: marker.coordinatorEpoch,
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      timestamp: BigInt(this.now()),
    });
    const appended = this.log.appendAsLeader(batch, this.leaderEpoch);
    this.producerState.advanceTo(appended.lastOffset + 1n);
    this.txnState.append({ ...txnBatch, baseOffset: appended.baseOffset, lastOffset: appended.lastOffset });
    this.maybeSnapshotProducerState();
    if (this.leader?.maybeIncrementHighWatermark(this.log.logEndOffset)) this.ctx.listener.onHighWatermarkChanged(this);
    return {
      baseOffset: appended.baseOffset,
      lastOffset: appended.lastOffset,
      logAppendTime: -1n,
      logStartOffset: this.log.logStartOffset,
    };
  }

  /**
   * Whether an acks=all produce ending at `requiredOffset` (exclusive) is done: true when HW has
   * passed it; throws NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR fell below min.insync, and
   * NOT_LEADER_OR_FOLLOWER when leadership moved away while it waited (as Kafka does).
   */
  checkEnoughReplicasReachOffset(requiredOffset: bigint): boolean {
    this.checkOnline();
    if (!this.isLeader) {
      throw protocolError(
        'NOT_LEADER_OR_FOLLOWER',
        `broker ${this.localBrokerId} stopped leading ${this.key} (leader: ${this.leaderId}) before the write was replicated`,
      );
    }
    if (this.highWatermark >= requiredOffset) {
      if (this.isr.length < this.config['min.insync.replicas']) {
        throw protocolError(
          'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
          `${this.key} ISR shrank to [${this.isr.join(',')}], below min.insync.replicas=${this.config['min.insync.replicas']}, while waiting`,
        );
      }
      return true;
    }
    return false;
  }

  /**
   * Reads for a consumer: whole batches from fetchOffset, below the high watermark, or below the
   * last stable offset for a read_committed consumer (`upTo`).
   */
  readRecords(fetchOffset: bigint, maxBytes: number, minOneBatch: boolean, upTo: bigint = this.highWatermark): Buffer {
    if (fetchOffset > upTo && fetchOffset <= this.log.logEndOffset) return EMPTY;
    return this.log.read(fetchOffset, maxBytes, upTo, minOneBatch).records;
  }

  /**
   * Serves a follower's fetch (Kafka's fetchRecords for a replica): checks the leader epoch and
   * that the follower is a replica, answers `divergingEpoch` when its last fetched epoch ends
   * earlier here than its fetch offset (KIP-320), else reads from its fetch offset up to the LEO
   * and updates what the leader knows of it: HW, and whether it joins the ISR. Throws
   * FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH / NOT_LEADER_OR_FOLLOWER / OFFSET_OUT_OF_RANGE.
   */
  fetchRecordsForFollower(replicaId: number, req: FollowerFetchRequest, minOneBatch: boolean): FollowerFetchResult {
    this.checkLeader(req.currentLeaderEpoch);
    const leader = this.leader!;
    if (replicaId === this.localBrokerId || !this.replicas.includes(replicaId)) {
      throw protocolError(
        'NOT_LEADER_OR_FOLLOWER',
        `broker ${replicaId} is not a follower of ${this.key} (replicas [${this.replicas.join(',')}])`,
      );
    }
    const log = this.log;
    const logStartOffset = log.logStartOffset;
    const logEndOffset = log.logEndOffset;
    if (req.lastFetchedEpoch >= 0) {
      const epochEnd = log.endOffsetForEpoch(req.lastFetchedEpoch);
      if (epochEnd.leaderEpoch < 0 || epochEnd.endOffset < 0n) {
        throw protocolError(
          'OFFSET_OUT_OF_RANGE',
          `${this.key}: cannot determine the end offset of leader epoch ${req.lastFetchedEpoch} (the follower's last fetched epoch)`,
        );
      }
      if (req.fetchOffset < logStartOffset) {
        throw protocolError(
          'OFFSET_OUT_OF_RANGE',
          `${this.key}: fetch offset ${req.fetchOffset} is below the log start offset ${logStartOffset}`,
        );
      }
      if (epochEnd.leaderEpoch < req.lastFetchedEpoch || epochEnd.endOffset < req.fetchOffset) {
        return {
          records: EMPTY,
          highWatermark: leader.highWatermark,
          logStartOffset,
          logEndOffset,
          divergingEpoch: { epoch: epochEnd.leaderEpoch, endOffset: epochEnd.endOffset },
        };
      }
    }
    if (req.fetchOffset < logStartOffset || req.fetchOffset > logEndOffset) {
      throw protocolError(
        'OFFSET_OUT_OF_RANGE',
        `${this.key}: fetch offset ${req.fetchOffset} is outside [${logStartOffset}, ${logEndOffset}]`,
      );
    }
    const records = log.read(req.fetchOffset, req.maxBytes, undefined, minOneBatch).records;
    const { highWatermarkChanged, proposal } = leader.onFollowerFetch(
      replicaId,
      {
        fetchOffset: req.fetchOffset,
        logStartOffset: req.logStartOffset,
        brokerEpoch: req.brokerEpoch,
      },
      logEndOffset,
      this.now(),
    );
    if (highWatermarkChanged) this.ctx.listener.onHighWatermarkChanged(this);
    if (proposal) this.sendIsrChange(proposal);
    return { records, highWatermark: leader.highWatermark, logStartOffset, logEndOffset };
  }

  /** Kafka's maybeShrinkIsr, run every replica.lag.time.max.ms / 2. */
  maybeShrinkIsr(): void {
    const proposal = this.leader?.maybeShrinkIsr(this.log.logEndOffset, this.now());
    if (proposal) this.sendIsrChange(proposal);
  }

  private sendIsrChange(proposal: IsrChangeProposal): void {
    const seq = ++this.isrChangeSeq;
    const { leaderEpoch, partitionEpoch } = this;
    this.ctx.logger.info(
      {
        partition: this.key,
        leaderEpoch,
        partitionEpoch,
        isr: this.isr,
        newIsr: proposal.newIsr,
        highWatermark: String(this.highWatermark),
      },
      proposal.kind === 'shrink'
        ? `shrinking the ISR: broker(s) ${proposal.brokers.join(',')} not caught up within replica.lag.time.max.ms=${this.ctx.replicaLagTimeMaxMs}`
        : `expanding the ISR: broker ${proposal.brokers.join(',')} caught up`,
    );
    void this.ctx
      .submitAlterPartition({ topic: this.topic, partition: this.partition, leaderEpoch, partitionEpoch, newIsr: proposal.newIsr })
      .then((result) => this.onIsrChangeAnswer(seq, leaderEpoch, proposal, result));
  }

  /** Counts a committed ISR change of a partition this broker leads (metrics: ISR shrinks and expands). */
  private countIsrChange(before: readonly number[], after: readonly number[]): void {
    const metrics = this.ctx.metrics;
    if (!metrics) return;
    if (before.some((id) => !after.includes(id))) metrics.isrChanged('shrink');
    if (after.some((id) => !before.includes(id))) metrics.isrChanged('expand');
  }

  /** The controller answered an ISR change: it counts only once committed, and only if nothing newer happened since. */
  private onIsrChangeAnswer(seq: number, sentLeaderEpoch: number, proposal: IsrChangeProposal, result: AlterPartitionItemResult): void {
    const leader = this.leader;
    if (!leader || seq !== this.isrChangeSeq || sentLeaderEpoch !== this.leaderEpoch) return;
    if (
      result.errorCode === ErrorCode.NONE &&
      'isr' in result &&
      result.leaderEpoch === this.leaderEpoch &&
      result.partitionEpoch > this.partitionEpoch
    ) {
      this.partitionEpoch = result.partitionEpoch;
      this.countIsrChange(leader.isr, result.isr);
      this.registeredIsr = [...result.isr];
      const hwMoved = leader.onIsrCommitted(result.isr, this.log.logEndOffset);
      this.ctx.logger.info(
        { partition: this.key, isr: result.isr, partitionEpoch: result.partitionEpoch, highWatermark: String(leader.highWatermark) },
        'the controller committed the ISR change',
      );
      this.ctx.listener.onIsrChanged(this);
      if (hwMoved) this.ctx.listener.onHighWatermarkChanged(this);
      return;
    }
    const why =
      'errorMessage' in result && result.errorCode !== ErrorCode.NONE
        ? result.errorMessage
        : "the answer is not newer than this broker's metadata";
    const failure = result.errorCode === ErrorCode.NONE ? 'notChecked' : alterPartitionFailure(result.errorCode);
    leader.onIsrChangeFailed(this.now(), failure);
    this.ctx.logger.warn(
      {
        partition: this.key,
        errorCode: result.errorCode,
        failure,
        newIsr: proposal.newIsr,
        retryInMs: this.ctx.alterPartitionRetryBackoffMs,
      },
      `ISR change not committed: ${why}`,
    );
  }

  // ---- follower ----

  /**
   * Appends batches fetched from the leader verbatim. An empty log whose start offset falls inside
   * the first batch (the leader's log start was moved into a batch by DeleteRecords) restarts at
   * that batch's base offset first, as Kafka does; the fetcher then moves the log start back up.
   */
  appendRecordsAsFollower(records: Buffer): void {
    if (this.isLeader)
      throw protocolError('NOT_LEADER_OR_FOLLOWER', `broker ${this.localBrokerId} leads ${this.key}; it does not append as a follower`);
    const log = this.log;
    if (records.length >= RECORD_BATCH_OVERHEAD && log.logEndOffset === log.logStartOffset) {
      const first = readBatchHeader(records, 0);
      const last = first.baseOffset + BigInt(first.lastOffsetDelta);
      if (first.baseOffset < log.logEndOffset && last >= log.logEndOffset) this.truncateFullyAndStartAt(first.baseOffset);
    }
    const { firstOffset, lastOffset } = log.appendAsFollower(records);
    this.producerState.applyBatches(records, lastOffset + 1n);
    this.applyTxnBatches(records, firstOffset, lastOffset);
    this.producerState.advanceTo(lastOffset + 1n);
    this.maybeSnapshotProducerState();
  }

  /** A follower's appended batches (those in [firstOffset, lastOffset]) update the transaction state. */
  private applyTxnBatches(records: Buffer, firstOffset: bigint, lastOffset: bigint): void {
    for (const { pos, header } of iterateBatches(records)) {
      if (header.baseOffset < firstOffset || header.baseOffset > lastOffset) continue;
      if (header.producerId < 0n || (!header.isTransactional && !header.isControl)) continue;
      try {
        this.txnState.append(txnBatchAt(records, pos, header));
      } catch (err) {
        this.ctx.logger.warn({ partition: this.key, offset: String(header.baseOffset), err }, 'skipped an unreadable control batch');
      }
    }
  }

  /** Kafka snapshots producer state when the log rolls; here, after the append that rolled it. */
  private maybeSnapshotProducerState(): void {
    const active = this.log.activeSegmentBaseOffset;
    if (active === this.snapshotSegment) return;
    this.snapshotSegment = active;
    this.producerState.takeSnapshot(this.now());
  }

  /** Clean shutdown: a snapshot at the log end, so the next load replays nothing. */
  snapshotProducerState(): void {
    if (!this.log.isClosed) this.producerState.takeSnapshot(this.now());
  }

  /** Follower HW = min(leader HW, own LEO). */
  updateFollowerHighWatermark(leaderHighWatermark: bigint): void {
    if (this.leader || leaderHighWatermark < 0n) return;
    const leo = this.log.logEndOffset;
    let hw = leaderHighWatermark < leo ? leaderHighWatermark : leo;
    if (hw < this.log.logStartOffset) hw = this.log.logStartOffset;
    this.followerHw = hw;
  }

  /** The leader's log start moved up (retention, DeleteRecords): follow it within the local log. */
  maybeIncrementLogStartOffset(leaderLogStartOffset: bigint): void {
    if (this.leader) return;
    if (leaderLogStartOffset > this.log.logStartOffset && leaderLogStartOffset <= this.log.logEndOffset) {
      this.log.advanceLogStartOffset(leaderLogStartOffset);
    }
  }

  /** Truncates the follower's log (divergence, or a leader behind it); the HW follows it down. */
  truncateTo(offset: bigint): void {
    if (this.leader) return;
    this.log.truncateTo(offset);
    this.producerState.truncateAndReload();
    this.txnState = this.rebuildTxnState();
    if (this.followerHw > this.log.logEndOffset) this.followerHw = this.log.logEndOffset;
  }

  /** Empties the follower's log and restarts it at `offset` (the leader's log start is past our end). */
  truncateFullyAndStartAt(offset: bigint): void {
    if (this.leader) return;
    this.log.truncateFullyAndStartAt(offset);
    this.producerState.truncateFully();
    this.txnState = new ProducerTxnState();
    this.followerHw = offset;
  }
}

const EMPTY = Buffer.alloc(0);
/** How much of the log one step of the transaction-state rebuild reads. */
const TXN_REBUILD_READ_BYTES = 1024 * 1024;

/** A produced data batch as the transaction tracker sees it, at `baseOffset`. */
function txnBatchOf(h: RecordBatchHeader, baseOffset: bigint): TxnBatch {
  return {
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseOffset,
    lastOffset: baseOffset + BigInt(h.lastOffsetDelta),
    isTransactional: h.isTransactional,
    isControl: h.isControl,
  };
}
/** Where producerId starts in a RecordBatch v2 header. */
const PRODUCER_ID_AT = 43;
