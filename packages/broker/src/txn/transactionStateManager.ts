/**
 * Hosts the transaction coordinator of every `__transaction_state` partition this broker leads
 * (Kafka's TransactionStateManager loading/unloading + TransactionCoordinator's request entry
 * points): follows the metadata, loads a partition's records into a TransactionCoordinatorState
 * when it becomes leader (COORDINATOR_LOAD_IN_PROGRESS meanwhile), then starts its shell
 * (coordinator.ts), which finishes the in-flight transactions; stops it when leadership moves.
 * Records are written through the replica manager with acks=all; markers go to each partition's
 * leader, this broker's own replica manager or another broker's Replication/WriteTxnMarkers.
 * FindCoordinator key type 1 answers the leader of `transactionStatePartitionFor(id)`, creating
 * the topic first when it does not exist (50 partitions, compacted, RF min(3, brokers),
 * min.insync.replicas min(2, RF), as Kafka's transaction.state.log.* defaults).
 */
import { endpointFor } from '@samsa/metadata';
import { ErrorCode, encodeRecordBatch, iterateBatches, decodeRecordBatch, type FindCoordinatorResponse } from '@samsa/protocol';
import type { Timers } from '@samsa/server';
import type { Logger } from 'pino';
import type { MetadataChange, MetadataSource, PartitionInfo } from '../metadata/image.js';
import type { ReplicaManager, TxnMarkerEntry } from '../replicaManager.js';
import { TransactionCoordinator, type TxnMarker } from './coordinator.js';
import { decodeTransactionLogRecord, encodeTransactionLogRecord } from './records.js';
import {
  DEFAULT_TRANSACTION_COORDINATOR_CONFIG,
  TRANSACTION_STATE_PARTITIONS,
  TransactionCoordinatorState,
  transactionStatePartitionFor,
  type AddOffsetsRequest,
  type AddPartitionsRequest,
  type EndTxnRequest,
  type ErrorResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  type TopicPartition,
  type TransactionDescription,
  type TransactionLogRecord,
  type TxnState,
} from './transactionCoordinatorState.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export interface TransactionStateManagerSettings {
  /** transaction.state.log.num.partitions (50). */
  numPartitions: number;
  /** transaction.state.log.replication.factor (3), capped by the live brokers. */
  replicationFactor: number;
  /** transaction.state.log.min.isr (2), capped by the replication factor. */
  minIsr: number;
  /** transaction.max.timeout.ms (900000). */
  transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms (7 days). */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms (10000). */
  abortTimedOutTransactionCleanupIntervalMs: number;
  /** Wait before re-sending a marker or a Complete* write that failed. */
  markerRetryBackoffMs: number;
  /** How long a `__transaction_state` write or a marker waits for acks=all. */
  writeTimeoutMs: number;
  /** offsets.topic.num.partitions: where AddOffsetsToTxn's group lives. */
  offsetsTopicPartitions: number;
}

export const DEFAULT_TRANSACTION_STATE_MANAGER_SETTINGS: Readonly<TransactionStateManagerSettings> = {
  numPartitions: TRANSACTION_STATE_PARTITIONS,
  replicationFactor: 3,
  minIsr: 2,
  transactionMaxTimeoutMs: DEFAULT_TRANSACTION_COORDINATOR_CONFIG.transactionMaxTimeoutMs,
  transactionalIdExpirationMs: DEFAULT_TRANSACTION_COORDINATOR_CONFIG.transactionalIdExpirationMs,
  abortTimedOutTransactionCleanupIntervalMs: 10_000,
  markerRetryBackoffMs: 100,
  writeTimeoutMs: 5_000,
  offsetsTopicPartitions: 50,
};

/** Markers for partitions another broker leads (Replication/WriteTxnMarkers, markerChannel.ts). */
export interface TxnMarkerChannel {
  write(brokerId: number, markers: TxnMarkerEntry[], timeoutMs: number): Promise<ErrorResponse[]>;
  close(): void;
}

/** A fresh producer id from the controller's blocks (server/producerIdManager.ts). */
export type ProducerIdSource = () => Promise<{ errorCode: number; errorMessage: string; producerId: bigint }>;

export interface TransactionStateManagerOptions {
  brokerId: number;
  metadata: MetadataSource;
  replicaManager: ReplicaManager;
  timers: Timers;
  logger: Logger;
  producerIds: ProducerIdSource;
  markerChannel: TxnMarkerChannel;
  settings?: Partial<TransactionStateManagerSettings>;
}

interface OwnedPartition {
  partition: number;
  leaderEpoch: number;
  status: 'loading' | 'loaded';
  coordinator: TransactionCoordinator | undefined;
}

const LOAD_READ_BYTES = 5 * 1024 * 1024;

export class TransactionStateManager {
  readonly settings: TransactionStateManagerSettings;
  private readonly owned = new Map<number, OwnedPartition>();
  private readonly logger: Logger;
  private unsubscribe: (() => void) | undefined;
  private creatingTopic: Promise<void> | undefined;
  private closed = false;
  /** Producer ids fetched ahead of a state transition (the pure state machine allocates synchronously). */
  private readonly producerIdPool: bigint[] = [];

  constructor(private readonly options: TransactionStateManagerOptions) {
    this.settings = { ...DEFAULT_TRANSACTION_STATE_MANAGER_SETTINGS, ...options.settings };
    this.logger = options.logger.child({ component: 'txn-coordinator' });
  }

  /** Follows the metadata (after the replica manager's startup, so partitions are open first). */
  startup(): void {
    this.unsubscribe = this.options.metadata.subscribe((change) => this.onMetadataChange(change));
    const topic = this.options.metadata.topic(TRANSACTION_STATE_TOPIC);
    if (topic) for (const p of topic.partitions) this.applyPartition(p);
  }

  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    for (const p of [...this.owned.keys()]) this.unloadPartition(p);
    this.options.markerChannel.close();
  }

  private partitionCount(): number {
    return this.options.metadata.topic(TRANSACTION_STATE_TOPIC)?.partitions.length ?? this.settings.numPartitions;
  }

  partitionOf(transactionalId: string): number {
    return transactionStatePartitionFor(transactionalId, this.partitionCount());
  }

  private onMetadataChange(change: MetadataChange): void {
    if (change.type === 'brokerConfigsChanged' || change.topic.name !== TRANSACTION_STATE_TOPIC) return;
    try {
      switch (change.type) {
        case 'topicCreated':
          for (const p of change.topic.partitions) this.applyPartition(p);
          return;
        case 'partitionsChanged':
          for (const p of change.partitions) this.applyPartition(p);
          return;
        case 'topicDeleted':
          for (const p of [...this.owned.keys()]) this.unloadPartition(p);
          return;
        case 'topicConfigChanged':
          return;
      }
    } catch (err) {
      this.logger.error({ err }, 'following the metadata failed');
    }
  }

  private applyPartition(info: PartitionInfo): void {
    if (this.closed) return;
    const current = this.owned.get(info.partition);
    if (info.leader === this.options.brokerId) {
      if (current && current.leaderEpoch === info.leaderEpoch) return;
      if (current) this.unloadPartition(info.partition);
      this.loadPartition(info.partition, info.leaderEpoch);
    } else if (current) {
      this.unloadPartition(info.partition);
    }
  }

  private unloadPartition(partition: number): void {
    const owned = this.owned.get(partition);
    if (!owned) return;
    this.owned.delete(partition);
    owned.coordinator?.stop();
    this.logger.info(
      { partition, leaderEpoch: owned.leaderEpoch },
      `stopped coordinating the transactions of ${TRANSACTION_STATE_TOPIC}-${partition}`,
    );
  }

  /**
   * Reads the partition from its log start to its log end (as it was when leadership came) and
   * replays every record; then the coordinator starts, sending the markers of every transaction
   * left in PrepareCommit/PrepareAbort by the previous leader.
   */
  private loadPartition(partition: number, leaderEpoch: number): void {
    const owned: OwnedPartition = { partition, leaderEpoch, status: 'loading', coordinator: undefined };
    this.owned.set(partition, owned);
    const stillOurs = () => this.owned.get(partition) === owned;
    const p = this.options.replicaManager.getPartition(TRANSACTION_STATE_TOPIC, partition);
    if (!p) {
      this.logger.warn({ partition }, `no local replica of ${TRANSACTION_STATE_TOPIC}-${partition} to load`);
      this.owned.delete(partition);
      return;
    }
    const state = new TransactionCoordinatorState(
      {
        transactionMaxTimeoutMs: this.settings.transactionMaxTimeoutMs,
        transactionalIdExpirationMs: this.settings.transactionalIdExpirationMs,
        coordinatorEpoch: leaderEpoch,
        offsetsTopicPartitions:
          this.options.metadata.topic('__consumer_offsets')?.partitions.length ?? this.settings.offsetsTopicPartitions,
      },
      () => this.takeProducerId(),
    );
    const end = p.logEndOffset;
    let next = p.logStartOffset;
    let skipped = 0;
    const step = () => {
      if (!stillOurs()) return;
      try {
        while (next < end) {
          const read = p.log.read(next, LOAD_READ_BYTES, end, true);
          if (read.records.length === 0) {
            next = end;
            break;
          }
          for (const { pos, size, header } of iterateBatches(read.records)) {
            next = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
            if (header.isControl) continue;
            for (const r of decodeRecordBatch(read.records.subarray(pos, pos + size)).records) {
              if (r.key === null) continue;
              try {
                state.replay(decodeTransactionLogRecord(r.key, r.value));
              } catch (err) {
                skipped++;
                this.logger.warn({ err, partition, offset: String(r.offset) }, 'skipped an unreadable transaction log record');
              }
            }
          }
          // Yield between reads so a long load does not stall the broker.
          if (next < end) {
            setImmediate(step);
            return;
          }
        }
        const coordinator = new TransactionCoordinator(
          state,
          {
            persist: (records, done) => this.persist(owned, records, done),
            writeMarker: (tp, marker, done) => this.writeMarker(tp, marker, done),
            onEvent: (event, fields) => this.logger.debug({ partition, ...fields }, event),
          },
          this.options.timers,
          {
            markerRetryBackoffMs: this.settings.markerRetryBackoffMs,
            abortTimedOutTransactionsIntervalMs: this.settings.abortTimedOutTransactionCleanupIntervalMs,
          },
        );
        owned.coordinator = coordinator;
        owned.status = 'loaded';
        coordinator.start();
        this.logger.info(
          { partition, leaderEpoch, transactionalIds: state.list().length, skipped, upTo: String(end) },
          `loaded the transactions of ${TRANSACTION_STATE_TOPIC}-${partition}`,
        );
      } catch (err) {
        this.logger.error(
          { err, partition },
          `loading ${TRANSACTION_STATE_TOPIC}-${partition} failed; its transactions are not served here`,
        );
        if (stillOurs()) this.owned.delete(partition);
      }
    };
    setImmediate(step);
  }

  private takeProducerId(): bigint {
    const id = this.producerIdPool.shift();
    // Unreachable by construction: every InitProducerId fetches one before the state machine runs.
    if (id === undefined) throw new Error('no producer id was fetched ahead of InitProducerId');
    return id;
  }

  private persist(owned: OwnedPartition, records: TransactionLogRecord[], done: (errorCode: number, errorMessage: string) => void): void {
    if (this.owned.get(owned.partition) !== owned) {
      done(ErrorCode.NOT_COORDINATOR, `broker ${this.options.brokerId} no longer leads ${TRANSACTION_STATE_TOPIC}-${owned.partition}`);
      return;
    }
    let batch: Buffer;
    try {
      const now = BigInt(this.options.timers.now());
      batch = encodeRecordBatch(
        records.map((r) => encodeTransactionLogRecord(r)),
        { now: () => now },
      );
    } catch (err) {
      done(ErrorCode.UNKNOWN_SERVER_ERROR, `cannot encode the transaction records: ${(err as Error).message}`);
      return;
    }
    this.options.replicaManager
      .appendRecords(-1, this.settings.writeTimeoutMs, [{ topic: TRANSACTION_STATE_TOPIC, partition: owned.partition, records: batch }])
      .then(
        ([result]) => done(result!.errorCode, result!.errorMessage),
        (err: unknown) => done(ErrorCode.UNKNOWN_SERVER_ERROR, `append failed: ${(err as Error).message}`),
      );
  }

  /**
   * One marker to the leader of `tp`. A partition that no longer exists counts as written (Kafka
   * drops the markers of deleted partitions); a partition without a leader is retried.
   */
  private writeMarker(tp: TopicPartition, marker: TxnMarker, done: (errorCode: number, errorMessage: string) => void): void {
    const topic = this.options.metadata.topic(tp.topic);
    const info = topic?.partitions[tp.partition];
    if (!topic || !info) {
      this.logger.warn({ topic: tp.topic, partition: tp.partition }, 'dropped a transaction marker for a partition that no longer exists');
      done(ErrorCode.NONE, '');
      return;
    }
    if (info.leader < 0) {
      done(ErrorCode.NOT_LEADER_OR_FOLLOWER, `${tp.topic}-${tp.partition} has no leader`);
      return;
    }
    const entry: TxnMarkerEntry = {
      topic: tp.topic,
      partition: tp.partition,
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      committed: marker.result === 'COMMIT',
    };
    const sent =
      info.leader === this.options.brokerId
        ? this.options.replicaManager.writeTxnMarkers(this.settings.writeTimeoutMs, [entry])
        : this.options.markerChannel.write(info.leader, [entry], this.settings.writeTimeoutMs);
    sent.then(
      (results) => {
        const r = results[0];
        done(r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, r?.errorMessage ?? 'no answer for the marker');
      },
      (err: unknown) => done(ErrorCode.NETWORK_EXCEPTION, `writing the marker failed: ${(err as Error).message}`),
    );
  }

  // ---- requests ----

  /** Whether the metadata has `topic`-`partition` (AddPartitionsToTxn refuses unknown ones). */
  partitionExists(topic: string, partition: number): boolean {
    const info = this.options.metadata.topic(topic);
    return info !== undefined && partition >= 0 && partition < info.partitions.length;
  }

  /** NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS for `transactionalId`, else its coordinator. */
  private coordinatorFor(transactionalId: string): TransactionCoordinator | ErrorResponse {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, errorMessage: `broker ${this.options.brokerId} is shutting down` };
    const partition = this.partitionOf(transactionalId);
    const owned = this.owned.get(partition);
    if (!owned) {
      return {
        errorCode: ErrorCode.NOT_COORDINATOR,
        errorMessage: `broker ${this.options.brokerId} does not lead ${TRANSACTION_STATE_TOPIC}-${partition}, so it is not the coordinator of transactional id '${transactionalId}'`,
      };
    }
    if (owned.status === 'loading' || !owned.coordinator) {
      return {
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        errorMessage: `broker ${this.options.brokerId} is still loading ${TRANSACTION_STATE_TOPIC}-${partition}`,
      };
    }
    return owned.coordinator;
  }

  async initProducerId(req: InitProducerIdRequest): Promise<InitProducerIdResponse> {
    const fail = (e: ErrorResponse): InitProducerIdResponse => ({ ...e, producerId: -1n, producerEpoch: -1 });
    if (req.transactionalId === '')
      return fail({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'the transactional id must not be empty' });
    if (this.producerIdPool.length === 0) {
      const r = await this.options.producerIds();
      if (r.errorCode !== ErrorCode.NONE) return fail(r);
      this.producerIdPool.push(r.producerId);
    }
    const c = this.coordinatorFor(req.transactionalId);
    if (!(c instanceof TransactionCoordinator)) return fail(c);
    return new Promise((resolve) => c.initProducerId(req, resolve));
  }

  addPartitionsToTxn(req: AddPartitionsRequest): Promise<ErrorResponse> {
    const c = this.coordinatorFor(req.transactionalId);
    if (!(c instanceof TransactionCoordinator)) return Promise.resolve(c);
    return new Promise((resolve) => c.addPartitionsToTxn(req, resolve));
  }

  addOffsetsToTxn(req: AddOffsetsRequest): Promise<ErrorResponse> {
    const c = this.coordinatorFor(req.transactionalId);
    if (!(c instanceof TransactionCoordinator)) return Promise.resolve(c);
    return new Promise((resolve) => c.addOffsetsToTxn(req, resolve));
  }

  endTxn(req: EndTxnRequest): Promise<ErrorResponse> {
    const c = this.coordinatorFor(req.transactionalId);
    if (!(c instanceof TransactionCoordinator)) return Promise.resolve(c);
    return new Promise((resolve) => c.endTxn(req, resolve));
  }

  /** DescribeTransactions: TRANSACTIONAL_ID_NOT_FOUND for an id this coordinator does not know. */
  describe(transactionalId: string): ErrorResponse & { description?: TransactionDescription } {
    const c = this.coordinatorFor(transactionalId);
    if (!(c instanceof TransactionCoordinator)) return c;
    const description = c.state.describe(transactionalId);
    if (!description)
      return { errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, errorMessage: `no transactional id '${transactionalId}' here` };
    return { errorCode: ErrorCode.NONE, errorMessage: '', description };
  }

  /** ListTransactions over every partition coordinated here; COORDINATOR_LOAD_IN_PROGRESS while one loads. */
  list(
    stateFilters: readonly TxnState[],
    producerIdFilters: readonly bigint[],
  ): ErrorResponse & { transactions: TransactionDescription[] } {
    const out: TransactionDescription[] = [];
    for (const owned of this.owned.values()) {
      if (!owned.coordinator)
        return {
          errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
          errorMessage: 'a transaction log partition is loading',
          transactions: [],
        };
      out.push(...owned.coordinator.state.list(stateFilters, producerIdFilters));
    }
    return { errorCode: ErrorCode.NONE, errorMessage: '', transactions: out };
  }

  /** For /metrics (read at scrape): per loaded `__transaction_state` partition, the state of each id it coordinates. */
  coordinatorStates(): Array<{ partition: number; states: TxnState[] }> {
    const out: Array<{ partition: number; states: TxnState[] }> = [];
    for (const owned of this.owned.values())
      if (owned.coordinator) out.push({ partition: owned.partition, states: owned.coordinator.state.list().map((d) => d.state) });
    return out;
  }

  // ---- FindCoordinator (key type 1) ----

  async findCoordinator(transactionalId: string, listenerName?: string): Promise<FindCoordinatorResponse> {
    const none = (code: number, message: string): FindCoordinatorResponse => ({
      errorCode: code,
      errorMessage: message,
      nodeId: -1,
      host: '',
      port: -1,
    });
    if (transactionalId === '') return none(ErrorCode.INVALID_REQUEST, 'the transactional id must not be empty');
    let topic = this.options.metadata.topic(TRANSACTION_STATE_TOPIC);
    if (!topic) {
      try {
        await this.createTopic();
      } catch (err) {
        return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot create ${TRANSACTION_STATE_TOPIC} yet: ${(err as Error).message}`);
      }
      topic = this.options.metadata.topic(TRANSACTION_STATE_TOPIC);
      if (!topic) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${TRANSACTION_STATE_TOPIC} is being created`);
    }
    const partition = transactionStatePartitionFor(transactionalId, topic.partitions.length);
    const info = topic.partitions[partition];
    const broker = info && info.leader >= 0 ? this.options.metadata.brokers().find((b) => b.nodeId === info.leader) : undefined;
    const at = broker === undefined ? undefined : endpointFor(broker, listenerName);
    if (!broker || !at) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${TRANSACTION_STATE_TOPIC}-${partition} has no leader right now`);
    return { errorCode: ErrorCode.NONE, errorMessage: '', nodeId: broker.nodeId, host: at.host, port: at.port };
  }

  private createTopic(): Promise<void> {
    this.creatingTopic ??= (async () => {
      try {
        const live = this.options.metadata.brokers().length;
        if (live === 0) throw new Error('no live broker is registered');
        const replicationFactor = Math.min(this.settings.replicationFactor, live);
        const [result] = await this.options.metadata.createTopics(
          [
            {
              name: TRANSACTION_STATE_TOPIC,
              numPartitions: this.settings.numPartitions,
              replicationFactor,
              configs: {
                'cleanup.policy': 'compact',
                'retention.ms': '-1',
                'min.insync.replicas': String(Math.min(this.settings.minIsr, replicationFactor)),
              },
            },
          ],
          false,
          10_000,
        );
        if (result && result.errorCode !== 0 && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          throw new Error('errorMessage' in result ? result.errorMessage : `error ${result.errorCode}`);
        }
        if (result?.errorCode === 0)
          this.logger.info({ partitions: this.settings.numPartitions, replicationFactor }, `created ${TRANSACTION_STATE_TOPIC}`);
      } finally {
        this.creatingTopic = undefined;
      }
    })();
    return this.creatingTopic;
  }
}
