/**
 * Routes client requests to partitions and keeps the set of local replicas in step with metadata:
 * a topic created with a replica here opens (or creates) its log; a deleted topic closes and
 * removes its logs. Produce waits (DelayedProduce) until acks are satisfied; fetch long-polls
 * (DelayedFetch) until min_bytes are available or max_wait passes. Both wait in a purgatory keyed
 * by partition and are poked when the high watermark moves.
 *
 * Replication (replication/README.md): as leader, followers' fetches are served here
 * (fetchForReplica, a long poll in its own purgatory) and the ISR is checked for lagging
 * followers every replica.lag.time.max.ms / 2; as follower, the partition is handed to the
 * ReplicaFetcherManager, which fetches it from its leader.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BROKER_TOPIC_CONFIG_SYNONYMS, DEFAULT_TOPIC_CONFIG, effectiveTopicConfig, type TopicConfig } from '@samsa/metadata';
import {
  ErrorCode,
  RecordValidationError,
  SamsaProtocolError,
  hopEnd,
  hopRecord,
  hopStart,
  protocolError,
  type RecordError,
} from '@samsa/protocol';
import type { Logger } from 'pino';
import {
  DEFAULT_LOG_CLEANER_CONFIG,
  Log,
  LogCleaner,
  LogDirFailureChannel,
  isLogDirFailure,
  type OfflineLogDir,
  readHighWatermarkCheckpoint,
  writeHighWatermarkCheckpoint,
  writeHighWatermarkCheckpointAsync,
  type LogCleanerConfig,
  type LogConfig,
} from './log/index.js';
import type { DynamicBrokerConfigs, MetadataChange, MetadataSource, PartitionInfo, TopicInfo } from './metadata/image.js';
import type { BrokerMetricEvents } from './metrics.js';
import { Partition, type ReplicationContext } from './partition.js';
import { DelayedOperation, Purgatory } from './purgatory.js';
import { AlterPartitionManager, type AlterPartitionChannel } from './replication/alterPartition.js';
import type { LeaderEndPoint, ReplicaFetchParams, ReplicaFetchPartitionResult } from './replication/leaderEndPoint.js';
import { DEFAULT_REPLICA_FETCHER_CONFIG, ReplicaFetcherManager, type ReplicaFetcherConfig } from './replication/replicaFetcher.js';
import type { Timers } from '@samsa/server';

export interface PartitionError {
  errorCode: number;
  errorMessage: string;
  /** The refused records of a produced batch (Produce v8+ record_errors), when the error names them. */
  recordErrors?: readonly RecordError[];
}

export interface ProducePartitionResult extends PartitionError {
  topic: string;
  partition: number;
  baseOffset: bigint;
  logAppendTime: bigint;
  logStartOffset: bigint;
}

export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  fetchOffset: bigint;
  maxBytes: number;
  currentLeaderEpoch: number;
}

export interface FetchPartitionResult extends PartitionError {
  topic: string;
  partition: number;
  highWatermark: bigint;
  /** The last stable offset (KIP-98): where a read_committed fetch stops. */
  lastStableOffset: bigint;
  logStartOffset: bigint;
  records: Buffer;
  /** read_committed only: the aborted transactions overlapping what was read (Kafka's FetchResponse). */
  abortedTransactions?: Array<{ producerId: bigint; firstOffset: bigint }>;
}

/** Kafka's IsolationLevel: 0 read_uncommitted (up to the HW), 1 read_committed (up to the LSO). */
export type IsolationLevel = 0 | 1;

export interface FetchParams {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitions: FetchPartitionRequest[];
  /** 0 (default) read_uncommitted, 1 read_committed. */
  isolationLevel?: IsolationLevel;
}

/** A COMMIT/ABORT marker the transaction coordinator has a partition leader append (WriteTxnMarkers). */
export interface TxnMarkerEntry {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  committed: boolean;
}

export interface ReplicaManagerOptions {
  brokerId: number;
  dataDir: string;
  metadata: MetadataSource;
  timers: Timers;
  logger: Logger;
  topicDefaults?: Readonly<TopicConfig>;
  replication?: ReplicationOptions;
  /** The log cleaner (compaction) settings: log.cleaner.* (log/cleaner.ts). */
  cleaner?: Partial<LogCleanerConfig>;
  /** Bytes in and out, ISR changes (metrics.ts); nothing is reported without it. */
  metrics?: BrokerMetricEvents;
  /** Told once when the log directory goes offline (log/README.md): the broker's heartbeats then say so. */
  onLogDirFailure?: (offline: OfflineLogDir) => void;
}

export interface ReplicationOptions {
  /** Kafka's replica.lag.time.max.ms (30000): an ISR follower not caught up this long is dropped. */
  replicaLagTimeMaxMs?: number;
  /** How long a refused or unanswered ISR change waits before the rules may propose again (500). */
  alterPartitionRetryBackoffMs?: number;
  fetcher?: Partial<ReplicaFetcherConfig>;
  /** A new endpoint for a leader broker; undefined while its address is unknown. Without it nothing is fetched. */
  leaderEndPoint?: (leaderId: number) => LeaderEndPoint | undefined;
  /** AlterPartition to the active controller. Without it ISR changes fail (and are retried). */
  alterPartition?: AlterPartitionChannel;
  /** Registered, unfenced, not shutting down, at this broker epoch (default: any). */
  isReplicaIsrEligible?: (brokerId: number, brokerEpoch: bigint) => boolean;
  /** This broker's registration epoch, sent with its fetches (default -1n). */
  brokerEpoch?: () => bigint;
  /** Jitter for fetch backoff (default Math.random). */
  random?: () => number;
}

export const DEFAULT_REPLICA_LAG_TIME_MAX_MS = 30_000;

const NO_ERROR: PartitionError = { errorCode: 0, errorMessage: '' };
const EMPTY = Buffer.alloc(0);

export function errorOf(err: unknown, logger?: Logger): PartitionError {
  if (err instanceof RecordValidationError) return { errorCode: err.code, errorMessage: err.message, recordErrors: err.recordErrors };
  if (err instanceof SamsaProtocolError) return { errorCode: err.code, errorMessage: err.message };
  logger?.error({ err }, 'unexpected error while serving a request');
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: err instanceof Error ? err.message : String(err) };
}

export function logConfigOf(config: TopicConfig): LogConfig {
  return {
    segmentBytes: config['segment.bytes'],
    segmentMs: config['segment.ms'],
    retentionMs: config['retention.ms'],
    retentionBytes: config['retention.bytes'],
    indexIntervalBytes: config['index.interval.bytes'],
    maxMessageBytes: config['max.message.bytes'],
    flushMs: config['flush.ms'],
    flushIntervalMessages: config['flush.messages'],
    fsyncEveryAppend: config['flush.messages'] === 1,
    cleanupPolicy: config['cleanup.policy'],
    deleteRetentionMs: config['delete.retention.ms'],
    minCleanableDirtyRatio: config['min.cleanable.dirty.ratio'],
    minCompactionLagMs: config['min.compaction.lag.ms'],
    maxCompactionLagMs: config['max.compaction.lag.ms'],
  };
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  /**
   * The same replicas by topic, then partition index: what the request paths look up, so serving a
   * produce or a fetch builds no `topic-partition` string per partition (Kafka keys its partition
   * map by a TopicPartition object for the same reason). Kept in step with `partitions`.
   */
  private readonly byTopic = new Map<string, Array<Partition | undefined>>();
  private readonly fetchPurgatory: Purgatory<DelayedFetch>;
  private readonly producePurgatory: Purgatory<DelayedProduce>;
  private readonly replicaFetchPurgatory: Purgatory<DelayedReplicaFetch>;
  private readonly fetcherManager: ReplicaFetcherManager;
  private readonly alterPartitionManager: AlterPartitionManager;
  private readonly replication: ReplicationContext;
  private isrCheckTimer: unknown;
  /** Partitions whose HW or ISR moved: their purgatories are re-checked once the current step ends. */
  private readonly toPoke = new Set<string>();
  /** Partitions with new data whose waiting follower fetches are woken at the next setImmediate. */
  private readonly toWakeReplicaFetches = new Set<string>();
  /**
   * The broker's topic defaults: what a topic config not set on the topic resolves to. The
   * static ones (built-in overlaid with the node's settings) overlaid with the dynamic broker
   * configs, cluster-wide then this broker's own; replaced when those change.
   */
  topicDefaults: Readonly<TopicConfig>;
  /** The built-in defaults overlaid with the node's settings, before any dynamic broker config. */
  readonly staticTopicDefaults: Readonly<TopicConfig>;

  get brokerId(): number {
    return this.options.brokerId;
  }
  private unsubscribe: (() => void) | undefined;
  private lastFlush = new Map<string, number>();
  /** HWs read from replication-offset-checkpoint at start, handed to each partition as it opens. */
  private checkpointedHw = new Map<string, bigint>();
  /** The periodic replication-offset-checkpoint write in progress, if any. */
  private hwCheckpointing: Promise<void> | undefined;
  /** Compacts the logs of compacted topics in the background (log/cleaner.ts). */
  readonly cleaner: LogCleaner;
  /** Where every failed write in the data directory is reported (Kafka's LogDirFailureChannel, log/README.md). */
  readonly logDirFailures = new LogDirFailureChannel();

  constructor(private readonly options: ReplicaManagerOptions) {
    this.fetchPurgatory = new Purgatory(options.timers);
    this.producePurgatory = new Purgatory(options.timers);
    this.replicaFetchPurgatory = new Purgatory(options.timers);
    this.topicDefaults = options.topicDefaults ?? DEFAULT_TOPIC_CONFIG;
    this.staticTopicDefaults = this.topicDefaults;
    this.logDirFailures.onOffline((offline) => this.handleLogDirFailure(offline));
    const r = options.replication ?? {};
    const logger = options.logger.child({ component: 'replication' });
    this.alterPartitionManager = new AlterPartitionManager(
      r.alterPartition ?? {
        alterPartition: async (items) =>
          items.map(() => ({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'this broker has no controller channel' })),
      },
      logger,
    );
    const poke = (p: Partition) => this.pokeLater(p.key);
    const hwMoved = (p: Partition) => {
      hopRecord('leader.hwAdvance', 0);
      this.pokeLater(p.key);
    };
    this.replication = {
      replicaLagTimeMaxMs: r.replicaLagTimeMaxMs ?? DEFAULT_REPLICA_LAG_TIME_MAX_MS,
      alterPartitionRetryBackoffMs: r.alterPartitionRetryBackoffMs ?? 500,
      isReplicaIsrEligible: r.isReplicaIsrEligible ?? (() => true),
      submitAlterPartition: (item) => this.alterPartitionManager.submit(item),
      listener: { onHighWatermarkChanged: hwMoved, onIsrChanged: poke },
      logger,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    };
    this.fetcherManager = new ReplicaFetcherManager({
      brokerId: options.brokerId,
      brokerEpoch: r.brokerEpoch ?? (() => -1n),
      leaderEndPoint: r.leaderEndPoint ?? (() => undefined),
      timers: options.timers,
      logger,
      random: r.random ?? Math.random,
      config: { ...DEFAULT_REPLICA_FETCHER_CONFIG, ...r.fetcher },
      onAppendError: (err) => this.noteFailure(err),
    });
    this.cleaner = new LogCleaner(
      { ...DEFAULT_LOG_CLEANER_CONFIG, ...options.cleaner },
      {
        timers: options.timers,
        logger: options.logger.child({ component: 'cleaner' }),
        logs: () => [...this.partitions.values()].map((p) => ({ key: p.key, log: p.log, highWatermark: () => p.highWatermark })),
        onCleaningFailure: (err) => this.noteFailure(err),
      },
    );
  }

  /** Opens every local replica the metadata names (running log recovery) and follows changes. */
  startup(): void {
    try {
      this.checkpointedHw = readHighWatermarkCheckpoint(this.options.dataDir);
    } catch (err) {
      // Safe to ignore: every replica then starts at its log start, as one that never had a checkpoint.
      this.options.logger.warn({ err }, 'ignored an unreadable high-watermark checkpoint');
    }
    for (const topic of this.options.metadata.topics()) this.openTopic(topic);
    this.unsubscribe = this.options.metadata.subscribe((change) => this.onMetadataChange(change));
    // Kafka's isr-expiration task.
    this.isrCheckTimer = this.options.timers.setInterval(
      () => this.maybeShrinkIsrs(),
      Math.max(1, Math.floor(this.replication.replicaLagTimeMaxMs / 2)),
    );
    this.cleaner.start();
  }

  /** Which leader a followed partition is fetched from (tests, diagnostics). */
  fetchingFrom(topic: string, partition: number): number | undefined {
    return this.fetcherManager.leaderOf(`${topic}-${partition}`);
  }

  get partitionCount(): number {
    return this.partitions.size;
  }

  /** Every local replica (metrics, diagnostics). */
  localPartitions(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.byTopic.get(topic)?.[partition];
  }

  private partitionOrError(topic: string, partition: number): Partition {
    const p = this.getPartition(topic, partition);
    if (p) return p;
    const offline = this.logDirFailures.describe(this.options.dataDir);
    if (offline) throw protocolError('KAFKA_STORAGE_ERROR', `${topic}-${partition}: ${offlineSentence(offline)}`);
    const info = this.options.metadata.topic(topic);
    if (!info) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`);
    if (partition < 0 || partition >= info.partitions.length) {
      throw protocolError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${topic}' has ${info.partitions.length} partition(s); partition ${partition} does not exist`,
      );
    }
    throw protocolError('NOT_LEADER_OR_FOLLOWER', `broker ${this.options.brokerId} holds no replica of ${topic}-${partition}`);
  }

  /** Appends each partition's batch as leader and resolves once acks are satisfied or timeoutMs passes. */
  async appendRecords(
    requiredAcks: number,
    timeoutMs: number,
    entries: Array<{ topic: string; partition: number; records: Buffer }>,
    origin: 'client' | 'coordinator' = 'client',
  ): Promise<ProducePartitionResult[]> {
    if (requiredAcks !== 0 && requiredAcks !== 1 && requiredAcks !== -1) {
      const err = { errorCode: ErrorCode.INVALID_REQUIRED_ACKS, errorMessage: `acks must be 0, 1 or -1 (all), got ${requiredAcks}` };
      return entries.map((e) => ({
        ...err,
        topic: e.topic,
        partition: e.partition,
        baseOffset: -1n,
        logAppendTime: -1n,
        logStartOffset: -1n,
      }));
    }
    const results: ProducePartitionResult[] = [];
    const waiting: Array<{ partition: Partition; requiredOffset: bigint; result: ProducePartitionResult }> = [];
    for (const { topic, partition, records } of entries) {
      const result: ProducePartitionResult = { ...NO_ERROR, topic, partition, baseOffset: -1n, logAppendTime: -1n, logStartOffset: -1n };
      results.push(result);
      try {
        const p = this.partitionOrError(topic, partition);
        const appending = hopStart();
        const appended = p.appendRecordsToLeader(records, requiredAcks, origin);
        hopEnd('leader.append', appending);
        result.baseOffset = appended.baseOffset;
        result.logAppendTime = appended.logAppendTime;
        result.logStartOffset = appended.logStartOffset;
        this.options.metrics?.bytesIn(topic, records.length);
        this.fetchPurgatory.checkAndComplete(p.key);
        this.wakeReplicaFetchesSoon(p.key);
        if (requiredAcks === -1) waiting.push({ partition: p, requiredOffset: appended.lastOffset + 1n, result });
      } catch (err) {
        Object.assign(result, this.failureOf(err));
      }
    }
    if (waiting.length > 0) {
      await new Promise<void>((resolve) => {
        const op = new DelayedProduce(timeoutMs, waiting, resolve);
        this.producePurgatory.tryCompleteElseWatch(
          op,
          waiting.map((w) => w.partition.key),
        );
      });
    }
    return results;
  }

  /** Long-poll fetch for consumers: answers once minBytes are readable below HW, or at maxWaitMs. */
  async fetchMessages(params: FetchParams): Promise<FetchPartitionResult[]> {
    const first = this.readFromLocalLog(params);
    if (params.maxWaitMs <= 0 || first.bytes >= params.minBytes || first.hasError || params.partitions.length === 0) {
      return this.countBytesOut(first.results);
    }
    return new Promise((resolve) => {
      const op = new DelayedFetch(params, this, (results) => resolve(this.countBytesOut(results)));
      this.fetchPurgatory.tryCompleteElseWatch(
        op,
        params.partitions.map((p) => `${p.topic}-${p.partition}`),
      );
    });
  }

  private countBytesOut(results: FetchPartitionResult[]): FetchPartitionResult[] {
    const metrics = this.options.metrics;
    if (metrics) for (const r of results) metrics.bytesOut(r.topic, r.records.length);
    return results;
  }

  /** Reads every requested partition, honouring per-partition and total byte limits (KIP-74). */
  readFromLocalLog(params: FetchParams): { results: FetchPartitionResult[]; bytes: number; hasError: boolean } {
    let remaining = params.maxBytes;
    let bytes = 0;
    let hasError = false;
    const results = params.partitions.map((req): FetchPartitionResult => {
      const result: FetchPartitionResult = {
        topic: req.topic,
        partition: req.partition,
        errorCode: 0,
        errorMessage: '',
        highWatermark: -1n,
        lastStableOffset: -1n,
        logStartOffset: -1n,
        records: EMPTY,
      };
      try {
        const p = this.partitionOrError(req.topic, req.partition);
        p.checkLeader(req.currentLeaderEpoch);
        result.highWatermark = p.highWatermark;
        result.lastStableOffset = p.lastStableOffset;
        result.logStartOffset = p.logStartOffset;
        const limit = Math.max(0, Math.min(req.maxBytes, remaining));
        const readCommitted = params.isolationLevel === 1;
        const upTo = readCommitted ? result.lastStableOffset : result.highWatermark;
        // The first partition with data returns at least one whole batch even past the limits.
        const records = p.readRecords(req.fetchOffset, limit, bytes === 0, upTo);
        result.records = records;
        if (readCommitted) {
          result.abortedTransactions =
            records.length === 0
              ? []
              : p.abortedTransactions(req.fetchOffset, upTo).map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
        }
        bytes += records.length;
        remaining -= records.length;
      } catch (err) {
        hasError = true;
        const error = this.failureOf(err);
        result.errorCode = error.errorCode;
        result.errorMessage = error.errorMessage;
      }
      return result;
    });
    return { results, bytes, hasError };
  }

  /**
   * A follower's fetch (the leader side of replication): answers at once with data, errors or a
   * divergence; otherwise long-polls until a named partition gets data past its fetch offset or its
   * leadership changes, or maxWaitMs passes (a moved HW alone does not answer: the follower learns
   * it from its next fetch, as in Kafka).
   */
  async fetchForReplica(params: ReplicaFetchParams): Promise<ReplicaFetchPartitionResult[]> {
    const first = this.readForReplica(params);
    if (params.maxWaitMs <= 0 || first.bytes >= params.minBytes || first.mustAnswer || params.partitions.length === 0) {
      return first.results;
    }
    return new Promise((resolve) => {
      const op = new DelayedReplicaFetch(params, this, resolve);
      this.replicaFetchPurgatory.tryCompleteElseWatch(
        op,
        params.partitions.map((p) => this.getPartition(p.topic, p.partition)?.key ?? `${p.topic}-${p.partition}`),
      );
    });
  }

  /** Reads every partition of a follower's fetch (updating what the leader knows of that follower). */
  readForReplica(params: ReplicaFetchParams): { results: ReplicaFetchPartitionResult[]; bytes: number; mustAnswer: boolean } {
    const reading = hopStart();
    let remaining = params.maxBytes;
    let bytes = 0;
    let mustAnswer = false;
    const results = params.partitions.map((req): ReplicaFetchPartitionResult => {
      // Every field written in one literal, always in this order, so V8 keeps one shape for these
      // (a spread plus Object.assign made new hidden-class transitions: ~5% of a busy leader's CPU).
      const result: ReplicaFetchPartitionResult = {
        topic: req.topic,
        partition: req.partition,
        errorCode: 0,
        errorMessage: '',
        highWatermark: -1n,
        logStartOffset: -1n,
        logEndOffset: -1n,
        divergingEpoch: undefined,
        records: EMPTY,
      };
      try {
        const p = this.partitionOrError(req.topic, req.partition);
        if (p.isLeader) {
          // Also what an OFFSET_OUT_OF_RANGE answer needs.
          result.highWatermark = p.highWatermark;
          result.logStartOffset = p.logStartOffset;
          result.logEndOffset = p.logEndOffset;
        }
        const limit = Math.max(0, Math.min(req.maxBytes, remaining));
        const read = p.fetchRecordsForFollower(
          params.replicaId,
          {
            currentLeaderEpoch: req.currentLeaderEpoch,
            fetchOffset: req.fetchOffset,
            lastFetchedEpoch: req.lastFetchedEpoch,
            logStartOffset: req.logStartOffset,
            brokerEpoch: params.replicaEpoch,
            maxBytes: limit,
          },
          bytes === 0,
        );
        result.records = read.records;
        result.highWatermark = read.highWatermark;
        result.logStartOffset = read.logStartOffset;
        result.logEndOffset = read.logEndOffset;
        if (read.divergingEpoch) {
          result.divergingEpoch = read.divergingEpoch;
          mustAnswer = true;
        }
        bytes += read.records.length;
        remaining -= read.records.length;
      } catch (err) {
        mustAnswer = true;
        const error = this.failureOf(err);
        result.errorCode = error.errorCode;
        result.errorMessage = error.errorMessage;
      }
      return result;
    });
    hopEnd('leader.readForReplica', reading);
    return { results, bytes, mustAnswer };
  }

  /**
   * WriteTxnMarkers (the partition leader's side): appends each COMMIT/ABORT marker with acks=all
   * and answers per partition once it is replicated, or with the append's error
   * (NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED, ...). The
   * coordinator retries what failed.
   */
  async writeTxnMarkers(
    timeoutMs: number,
    markers: TxnMarkerEntry[],
  ): Promise<Array<PartitionError & { topic: string; partition: number }>> {
    const results: Array<PartitionError & { topic: string; partition: number }> = [];
    const waiting: Array<{ partition: Partition; requiredOffset: bigint; result: ProducePartitionResult }> = [];
    for (const m of markers) {
      const result: ProducePartitionResult = {
        ...NO_ERROR,
        topic: m.topic,
        partition: m.partition,
        baseOffset: -1n,
        logAppendTime: -1n,
        logStartOffset: -1n,
      };
      results.push(result);
      try {
        const p = this.partitionOrError(m.topic, m.partition);
        const appended = p.appendTxnMarkerToLeader(m, -1);
        result.baseOffset = appended.baseOffset;
        this.onTxnMarkerAppended?.(m, appended.baseOffset);
        this.fetchPurgatory.checkAndComplete(p.key);
        this.wakeReplicaFetchesSoon(p.key);
        waiting.push({ partition: p, requiredOffset: appended.lastOffset + 1n, result });
      } catch (err) {
        Object.assign(result, this.failureOf(err));
      }
    }
    if (waiting.length > 0) {
      await new Promise<void>((resolve) => {
        const op = new DelayedProduce(timeoutMs, waiting, resolve);
        this.producePurgatory.tryCompleteElseWatch(
          op,
          waiting.map((w) => w.partition.key),
        );
      });
    }
    return results.map((r) => ({ topic: r.topic, partition: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage }));
  }

  /**
   * Told of every marker this leader appended (the group coordinator completes or drops the
   * pending transactional offsets of `__consumer_offsets` here, as Kafka's
   * GroupCoordinator.scheduleHandleTxnCompletion).
   */
  onTxnMarkerAppended: ((marker: TxnMarkerEntry, offset: bigint) => void) | undefined;

  /** Drops lagging followers from the ISR of every partition this broker leads. */
  maybeShrinkIsrs(): void {
    for (const p of this.partitions.values()) {
      try {
        if (p.isLeader && !p.log.isClosed) p.maybeShrinkIsr();
      } catch (err) {
        this.options.logger.error({ err, partition: p.key }, 'checking the ISR failed');
      }
    }
  }

  /**
   * Wakes the followers' fetches waiting on `key` (new data) once the produce requests read in the
   * same event-loop turn are appended (setImmediate): a follower waiting on several partitions of
   * this leader then gets them in one answer instead of one answer plus an immediate re-fetch each.
   */
  private wakeReplicaFetchesSoon(key: string): void {
    if (this.toWakeReplicaFetches.size === 0) {
      setImmediate(() => {
        const keys = [...this.toWakeReplicaFetches];
        this.toWakeReplicaFetches.clear();
        for (const k of keys) this.replicaFetchPurgatory.checkAndComplete(k);
      });
    }
    this.toWakeReplicaFetches.add(key);
  }

  /** Re-checks the waiting produces and fetches of `key` after the current synchronous step. */
  private pokeLater(key: string): void {
    if (this.toPoke.size === 0) queueMicrotask(() => this.pokeNow());
    this.toPoke.add(key);
  }

  private pokeNow(): void {
    const poking = hopStart();
    const keys = [...this.toPoke];
    this.toPoke.clear();
    for (const key of keys) {
      this.producePurgatory.checkAndComplete(key);
      this.fetchPurgatory.checkAndComplete(key);
      this.replicaFetchPurgatory.checkAndComplete(key);
    }
    hopEnd('leader.pokePurgatories', poking);
  }

  /**
   * DeleteRecords on the leader (Kafka's ReplicaManager.deleteRecords): moves the log start offset
   * up to `offset` (-1: the high watermark); segments wholly below it go, and followers follow the
   * leader's log start from their fetch answers. Past the high watermark is OFFSET_OUT_OF_RANGE.
   * Returns the new low watermark (this replica's log start offset).
   */
  deleteRecords(topic: string, partition: number, offset: bigint): bigint {
    const p = this.getPartition(topic, partition);
    if (!p) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `no replica of ${topic}-${partition} here`);
    p.checkLeader();
    const target = offset === -1n ? p.highWatermark : offset;
    if (target < 0n || target > p.highWatermark) {
      throw protocolError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records of ${p.key} before ${target}: the high watermark is ${p.highWatermark}`,
      );
    }
    p.log.advanceLogStartOffset(target);
    return p.logStartOffset;
  }

  /**
   * ListOffsets: -1 latest (HW, or the LSO under read_committed), -2 earliest (log start), -3 max
   * timestamp, else by timestamp.
   */
  listOffset(
    topic: string,
    partition: number,
    timestamp: bigint,
    currentLeaderEpoch: number,
    isolationLevel: IsolationLevel = 0,
  ): { offset: bigint; timestamp: bigint; leaderEpoch: number } {
    const p = this.partitionOrError(topic, partition);
    p.checkLeader(currentLeaderEpoch);
    if (timestamp === -1n)
      return { offset: isolationLevel === 1 ? p.lastStableOffset : p.highWatermark, timestamp: -1n, leaderEpoch: p.leaderEpoch };
    if (timestamp === -2n) return { offset: p.logStartOffset, timestamp: -1n, leaderEpoch: p.leaderEpoch };
    if (timestamp === -3n) {
      const found = p.log.maxTimestampAndOffset();
      return found ? { ...found, leaderEpoch: p.leaderEpoch } : { offset: -1n, timestamp: -1n, leaderEpoch: p.leaderEpoch };
    }
    if (timestamp < 0n) throw protocolError('INVALID_REQUEST', `timestamp ${timestamp} is not a valid ListOffsets query`);
    const found = p.log.offsetForTimestamp(timestamp);
    if (!found || found.offset >= p.highWatermark) return { offset: -1n, timestamp: -1n, leaderEpoch: p.leaderEpoch };
    return { ...found, leaderEpoch: p.leaderEpoch };
  }

  /** Periodic work: flush logs whose flush.ms passed, delete segments past retention. */
  runHousekeeping(): void {
    const now = this.options.timers.now();
    for (const p of this.partitions.values()) {
      try {
        const last = this.lastFlush.get(p.key) ?? 0;
        if (now - last >= p.config['flush.ms']) {
          this.lastFlush.set(p.key, now);
          void p.log.flush().catch((err: unknown) => {
            this.options.logger.error({ err, partition: p.key }, 'flush failed');
            this.noteFailure(err);
          });
        }
      } catch (err) {
        this.options.logger.error({ err, partition: p.key }, 'flush failed');
        this.noteFailure(err);
      }
    }
  }

  runRetention(): void {
    for (const p of this.partitions.values()) {
      try {
        // Only below the HW, as Kafka: what is not committed may still be truncated, never expired.
        const deleted = p.log.deleteRetentionSegments(p.highWatermark);
        if (deleted > 0)
          this.options.logger.info(
            { partition: p.key, deleted, logStartOffset: String(p.logStartOffset) },
            'deleted segments past retention',
          );
      } catch (err) {
        this.options.logger.error({ err, partition: p.key }, 'retention failed');
        this.noteFailure(err);
      }
    }
  }

  /** Answers every waiting fetch and produce now (shutdown). */
  completeDelayedOperations(): void {
    this.fetchPurgatory.completeAll();
    this.producePurgatory.completeAll();
    this.replicaFetchPurgatory.completeAll();
  }

  /**
   * Writes every local replica's HW to replication-offset-checkpoint (Kafka's
   * replica.high.watermark.checkpoint.interval.ms task, and once more at shutdown).
   */
  checkpointHighWatermarks(): void {
    // The periodic write runs off the event loop (its fsyncs took 5-30 ms on a busy disk, a stall
    // of every request this broker serves); one at a time, a tick that finds one running skips.
    if (this.hwCheckpointing || this.logDirFailures.isOffline(this.options.dataDir)) return;
    this.hwCheckpointing = writeHighWatermarkCheckpointAsync(this.options.dataDir, this.highWatermarkEntries())
      .catch((err: unknown) => {
        this.options.logger.error({ err }, 'writing the high-watermark checkpoint failed');
        this.noteFailure(err);
      })
      .finally(() => {
        this.hwCheckpointing = undefined;
      });
  }

  /** The final checkpoint at shutdown: after any periodic one still running, synchronously. */
  private async checkpointHighWatermarksNow(): Promise<void> {
    await this.hwCheckpointing;
    // Nothing is written to a failed disk: the HWs on it are recovered from the leaders after restart.
    if (this.logDirFailures.isOffline(this.options.dataDir)) return;
    try {
      writeHighWatermarkCheckpoint(this.options.dataDir, this.highWatermarkEntries());
    } catch (err) {
      this.options.logger.error({ err }, 'writing the high-watermark checkpoint failed');
    }
  }

  private highWatermarkEntries(): Array<{ topic: string; partition: number; highWatermark: bigint }> {
    return [...this.partitions.values()]
      .filter((p) => !p.log.isClosed)
      .map((p) => ({ topic: p.topic, partition: p.partition, highWatermark: p.highWatermark }));
  }

  /**
   * Reports `err` to the log directory failure channel when it is a failure of the disk (the
   * first takes the directory offline: handleLogDirFailure). Returns whether it was one.
   */
  private noteFailure(err: unknown): boolean {
    if (!isLogDirFailure(err)) return false;
    this.logDirFailures.maybeAddOfflineLogDir(this.options.dataDir, err);
    return true;
  }

  /** A request's per-partition error: a disk failure is reported and answered KAFKA_STORAGE_ERROR. */
  private failureOf(err: unknown): PartitionError {
    if (this.noteFailure(err) && !(err instanceof SamsaProtocolError)) {
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: (err as Error).message };
    }
    return errorOf(err, this.options.logger);
  }

  /**
   * Kafka's ReplicaManager.handleLogDirFailure (log/README.md): every replica on the directory
   * stops fetching and being served, its files are closed without writing anything, waiting
   * requests answer KAFKA_STORAGE_ERROR, and the broker is told (its heartbeats report the
   * directory offline, so the controller moves leadership and ISR membership away).
   */
  private handleLogDirFailure(offline: OfflineLogDir): void {
    const sentence = offlineSentence(offline);
    const keys = [...this.partitions.keys()];
    this.options.logger.error(
      { logDir: offline.dir, errno: offline.errno, reason: offline.reason, partitions: keys.length },
      `log directory ${offline.dir} is offline: ${offline.reason}; its ${keys.length} replica(s) are no longer served until the broker restarts`,
    );
    for (const key of keys) {
      const p = this.partitions.get(key)!;
      this.partitions.delete(key);
      this.lastFlush.delete(key);
      this.fetcherManager.removePartition(key);
      p.markOffline(sentence);
      p.log.closeHandles();
    }
    this.byTopic.clear();
    for (const key of keys) {
      this.fetchPurgatory.checkAndComplete(key);
      this.producePurgatory.checkAndComplete(key);
      this.replicaFetchPurgatory.checkAndComplete(key);
    }
    this.options.onLogDirFailure?.(offline);
  }

  /** Whether the data directory is offline (diagnostics, tests). */
  get logDirOffline(): boolean {
    return this.logDirFailures.isOffline(this.options.dataDir);
  }

  async shutdown(): Promise<void> {
    this.unsubscribe?.();
    if (this.isrCheckTimer !== undefined) this.options.timers.clearInterval(this.isrCheckTimer);
    // A cleaning in progress aborts at its next yield; none may swap segments once the logs close.
    await this.cleaner.shutdown();
    // No fetcher may append once the logs start closing.
    await this.fetcherManager.shutdown();
    await this.checkpointHighWatermarksNow();
    this.alterPartitionManager.close();
    this.completeDelayedOperations();
    for (const p of this.partitions.values()) {
      try {
        await p.log.flush();
        p.snapshotProducerState();
        p.log.close();
      } catch (err) {
        this.options.logger.error({ err, partition: p.key }, 'closing log failed');
      }
    }
    this.partitions.clear();
    this.byTopic.clear();
  }

  /**
   * Applies one metadata change to the local replicas (Kafka's ReplicaManager.applyDelta): a
   * replica assigned here gets its log opened (created if new); a changed registration makes it
   * leader or follower; a replica no longer assigned here, or of a deleted topic, is closed and
   * its log directory removed. Waiting produces and fetches on a changed partition are re-checked,
   * so they answer NOT_LEADER_OR_FOLLOWER at once when leadership moved away.
   */
  private onMetadataChange(change: MetadataChange): void {
    // An offline directory opens, closes and deletes nothing until the broker restarts (as Kafka).
    if (this.logDirFailures.isOffline(this.options.dataDir) && change.type !== 'brokerConfigsChanged') return;
    switch (change.type) {
      case 'topicCreated':
        this.openTopic(change.topic);
        return;
      case 'topicDeleted':
        this.dropTopic(change.topic);
        return;
      case 'topicConfigChanged':
        this.applyTopicConfig(change.topic);
        return;
      case 'partitionsChanged':
        for (const info of change.partitions) this.applyPartition(change.topic, info);
        return;
      case 'brokerConfigsChanged':
        this.applyBrokerConfigs(change.configs);
        return;
    }
  }

  /**
   * A topic's configs changed: every local replica of it takes the new effective config at once
   * (min.insync.replicas counts from the next produce; the log's limits from its next append,
   * roll check or retention run). A log that refuses the new settings keeps its old ones.
   */
  private applyTopicConfig(topic: TopicInfo): void {
    const config = effectiveTopicConfig(topic.configs, this.topicDefaults);
    for (const info of topic.partitions) {
      const key = `${topic.name}-${info.partition}`;
      const p = this.partitions.get(key);
      if (!p) continue;
      p.config = config;
      try {
        p.log.updateConfig(logConfigOf(config));
      } catch (err) {
        this.options.logger.error({ err, partition: key }, 'the log refused the new topic config; it keeps its previous log settings');
      }
      this.producePurgatory.checkAndComplete(key);
    }
    this.options.logger.info({ topic: topic.name, configs: topic.configs }, 'applied changed topic configs');
  }

  /**
   * Dynamic broker configs changed: new topic defaults, and every open partition of a topic that
   * does not set the config itself takes the new effective value at once (as applyTopicConfig).
   */
  private applyBrokerConfigs(configs: DynamicBrokerConfigs): void {
    const asTopicConfigs = (c: Readonly<Record<string, string>>) =>
      Object.fromEntries(
        Object.entries(c)
          .filter(([k]) => Object.hasOwn(BROKER_TOPIC_CONFIG_SYNONYMS, k))
          .map(([k, v]) => [BROKER_TOPIC_CONFIG_SYNONYMS[k]!, v]),
      );
    const clusterWide = effectiveTopicConfig(asTopicConfigs(configs.clusterDefault), this.staticTopicDefaults);
    this.topicDefaults = effectiveTopicConfig(asTopicConfigs(configs.broker), clusterWide);
    this.options.logger.info({ clusterDefault: configs.clusterDefault, broker: configs.broker }, 'applied changed dynamic broker configs');
    for (const topic of this.options.metadata.topics()) {
      if (topic.partitions.some((p) => this.partitions.has(`${topic.name}-${p.partition}`))) this.applyTopicConfig(topic);
    }
  }

  private openTopic(topic: TopicInfo): void {
    for (const info of topic.partitions) this.applyPartition(topic, info);
  }

  private applyPartition(topic: TopicInfo, info: PartitionInfo): void {
    const key = `${topic.name}-${info.partition}`;
    const local = this.partitions.get(key);
    const brokerId = this.options.brokerId;
    if (!info.replicas.includes(brokerId)) {
      if (local) {
        this.removePartition(key, local);
        this.options.logger.info({ partition: key, replicas: info.replicas }, 'no longer a replica: closed and deleted the local log');
      }
      return;
    }
    if (!local) {
      if (this.logDirFailures.isOffline(this.options.dataDir)) return;
      const config = effectiveTopicConfig(topic.configs, this.topicDefaults);
      let log: Log;
      try {
        log = Log.open(join(this.options.dataDir, key), logConfigOf(config), {
          clock: this.options.timers.now,
          logger: this.options.logger.child({ partition: key }),
          onBackgroundFailure: (err) => this.noteFailure(err),
        });
      } catch (err) {
        // The disk refused (still full, or failing): the directory goes offline, the broker stays up.
        if (this.noteFailure(err)) return;
        throw err;
      }
      const p = new Partition(
        topic.name,
        info.partition,
        log,
        config,
        brokerId,
        info,
        this.options.timers.now,
        this.replication,
        this.checkpointedHw.get(key),
      );
      this.checkpointedHw.delete(key);
      this.partitions.set(key, p);
      let ofTopic = this.byTopic.get(topic.name);
      if (!ofTopic) this.byTopic.set(topic.name, (ofTopic = []));
      ofTopic[info.partition] = p;
      this.options.logger.debug(
        { partition: key, leader: info.leader, leaderEpoch: info.leaderEpoch, logEndOffset: String(p.logEndOffset) },
        p.isLeader ? 'opened replica as leader' : 'opened replica as follower',
      );
      if (!p.isLeader) this.followLeader(p);
      return;
    }
    // A clean election picks from the ISR: taking over from outside the last ISR known here is unclean.
    const previousIsr = [...local.isr];
    const unclean = info.leader === brokerId && local.leaderId !== brokerId && !previousIsr.includes(brokerId);
    const outcome = local.applyRegistration(info);
    if (outcome === 'becameLeader' && unclean) {
      this.options.logger.warn(
        {
          partition: key,
          leaderEpoch: info.leaderEpoch,
          replicas: info.replicas,
          previousIsr,
          logEndOffset: String(local.logEndOffset),
          highWatermark: String(local.highWatermark),
        },
        'became leader through an unclean election: records above this log end offset on other replicas (acknowledged ones included) are lost',
      );
    }
    if (outcome === 'stale') {
      this.options.logger.warn(
        { partition: key, leaderEpoch: info.leaderEpoch, current: local.leaderEpoch },
        'ignored an older partition registration',
      );
      return;
    }
    if (outcome !== 'updated') {
      this.options.logger.info(
        { partition: key, leader: info.leader, leaderEpoch: info.leaderEpoch, isr: info.isr, highWatermark: String(local.highWatermark) },
        outcome === 'becameLeader' ? 'became leader' : info.leader < 0 ? 'partition offline: no leader' : 'became follower',
      );
    }
    if (outcome === 'becameLeader') this.fetcherManager.removePartition(key);
    else if (outcome === 'becameFollower') this.followLeader(local);
    this.fetchPurgatory.checkAndComplete(key);
    this.producePurgatory.checkAndComplete(key);
    this.replicaFetchPurgatory.checkAndComplete(key);
  }

  /** Hands a follower replica to the fetcher of its leader (none while the partition has no leader). */
  private followLeader(p: Partition): void {
    if (p.leaderId >= 0) this.fetcherManager.addPartition(p, p.leaderId, p.leaderEpoch);
    else this.fetcherManager.removePartition(p.key);
  }

  private dropTopic(topic: TopicInfo): void {
    this.options.metrics?.topicDeleted(topic.name);
    for (const info of topic.partitions) {
      const key = `${topic.name}-${info.partition}`;
      const p = this.partitions.get(key);
      if (p) this.removePartition(key, p);
    }
  }

  /** Stops serving the replica (waiting requests answer NOT_LEADER_OR_FOLLOWER), closes and deletes its log. */
  private removePartition(key: string, p: Partition): void {
    this.partitions.delete(key);
    const ofTopic = this.byTopic.get(p.topic);
    if (ofTopic?.[p.partition] === p) {
      // A hole, not a splice: the other partitions keep their indexes.
      ofTopic[p.partition] = undefined;
      if (!ofTopic.some((x) => x !== undefined)) this.byTopic.delete(p.topic);
    }
    this.lastFlush.delete(key);
    this.fetcherManager.removePartition(key);
    p.markRemoved();
    this.fetchPurgatory.checkAndComplete(key);
    this.producePurgatory.checkAndComplete(key);
    this.replicaFetchPurgatory.checkAndComplete(key);
    try {
      p.log.close();
    } finally {
      rmSync(join(this.options.dataDir, key), { recursive: true, force: true });
    }
  }
}

class DelayedFetch extends DelayedOperation {
  constructor(
    private readonly params: FetchParams,
    private readonly replicaManager: ReplicaManager,
    private readonly resolve: (results: FetchPartitionResult[]) => void,
  ) {
    super(params.maxWaitMs);
  }

  tryComplete(): boolean {
    let available = 0;
    for (const req of this.params.partitions) {
      const p = this.replicaManager.getPartition(req.topic, req.partition);
      if (!p || !p.isLeader) return this.forceComplete();
      const upTo = this.params.isolationLevel === 1 ? p.lastStableOffset : p.highWatermark;
      if (upTo > req.fetchOffset) available++;
    }
    if (available === 0) return false;
    if (this.params.minBytes <= 1) return this.forceComplete();
    return this.replicaManager.readFromLocalLog(this.params).bytes >= this.params.minBytes && this.forceComplete();
  }

  protected onComplete(): void {
    this.resolve(this.replicaManager.readFromLocalLog(this.params).results);
  }
}

class DelayedProduce extends DelayedOperation {
  /** hopStart() when the produce began to wait (request-cost timing; 0n when off). */
  private readonly waitingSince = hopStart();

  constructor(
    timeoutMs: number,
    private readonly waiting: Array<{ partition: Partition; requiredOffset: bigint; result: ProducePartitionResult }>,
    private readonly resolve: () => void,
  ) {
    super(timeoutMs);
  }

  tryComplete(): boolean {
    for (const w of this.waiting) {
      if (w.result.errorCode !== 0) continue;
      try {
        if (!w.partition.checkEnoughReplicasReachOffset(w.requiredOffset)) return false;
      } catch (err) {
        Object.assign(w.result, errorOf(err));
      }
    }
    return this.forceComplete();
  }

  protected override onExpiration(): void {
    for (const w of this.waiting) {
      if (w.result.errorCode === 0 && w.partition.highWatermark < w.requiredOffset) {
        Object.assign(w.result, {
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: `acks=all not satisfied within the request timeout: high watermark ${w.partition.highWatermark} < ${w.requiredOffset}`,
        });
      }
    }
  }

  /**
   * Every way of completing ends here, also completeAll() at shutdown, which skips tryComplete:
   * a write whose acks=all condition does not hold yet must not answer success then. The broker
   * may still believe it leads (controlled shutdown moves leadership before the metadata saying
   * so arrives), and the write may be truncated away on the next leader: acknowledging it would
   * lose an acknowledged record (and an idempotent producer's next batch would then be out of
   * sequence there). It answers a retriable NOT_LEADER_OR_FOLLOWER instead, as a disconnect would.
   */
  protected onComplete(): void {
    for (const w of this.waiting) {
      if (w.result.errorCode !== 0) continue;
      try {
        if (w.partition.checkEnoughReplicasReachOffset(w.requiredOffset)) continue;
        Object.assign(w.result, {
          errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
          errorMessage: `${w.partition.key}: the broker is shutting down before acks=all was satisfied (high watermark ${w.partition.highWatermark} < ${w.requiredOffset})`,
        });
      } catch (err) {
        Object.assign(w.result, errorOf(err));
      }
    }
    hopEnd('leader.purgatory', this.waitingSince);
    this.resolve();
  }
}

/**
 * A follower's fetch waiting for something to send: data past its fetch offset or a leadership
 * change. Followers fetch with min_bytes 1, so any new data completes it. A higher HW alone does
 * not: that would cost every follower one extra fetch round per produce (the HW moves right after
 * the followers' fetches that carry their new LEO); the follower learns the HW from the answer to
 * its next fetch — with the next data, or at max wait — as in Kafka.
 */
class DelayedReplicaFetch extends DelayedOperation {
  constructor(
    private readonly params: ReplicaFetchParams,
    private readonly replicaManager: ReplicaManager,
    private readonly resolve: (results: ReplicaFetchPartitionResult[]) => void,
  ) {
    super(params.maxWaitMs);
  }

  tryComplete(): boolean {
    for (const req of this.params.partitions) {
      const p = this.replicaManager.getPartition(req.topic, req.partition);
      if (!p || !p.isLeader || p.leaderEpoch !== req.currentLeaderEpoch) return this.forceComplete();
      if (p.logEndOffset > req.fetchOffset) return this.forceComplete();
    }
    return false;
  }

  protected onComplete(): void {
    this.resolve(this.replicaManager.readForReplica(this.params).results);
  }
}

/** The human sentence of every KAFKA_STORAGE_ERROR an offline directory answers. */
function offlineSentence(offline: OfflineLogDir): string {
  return `the log directory ${offline.dir} is offline since a write failed (${offline.reason}); its replicas are not served until the broker restarts`;
}
