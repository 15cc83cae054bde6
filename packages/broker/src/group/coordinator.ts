/**
 * The group coordinator of one broker (README.md): follows the metadata to know which
 * `__consumer_offsets` partitions it leads, loads their groups from the log when it becomes
 * leader (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and drops them when it stops, routes every
 * group request to the pure GroupCoordinatorState (NOT_COORDINATOR for groups led elsewhere),
 * writes its records through the replica manager's normal append with acks=all, and drives the
 * state machine's timeouts with real timers.
 */
import { endpointFor } from '@samsa/metadata';
import {
  ControlRecordType,
  ErrorCode,
  decodeControlBatch,
  decodeRecordBatch,
  encodeRecordBatch,
  iterateBatches,
  topicPartitionKey,
  type FindCoordinatorResponse,
} from '@samsa/protocol';
import type { Logger } from 'pino';
import type { MetadataChange, MetadataSource, PartitionInfo, TopicInfo } from '../metadata/image.js';
import type { ReplicaManager } from '../replicaManager.js';
import type { Timers } from '@samsa/server';
import {
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  GroupCoordinatorState,
  type CommitPartitionResult,
  type CommitRequest,
  type ErrorResult,
  type FetchedOffset,
  type GroupCoordinatorConfig,
  type GroupDescription,
  type GroupOffsetsView,
  type GroupStateName,
  type HeartbeatRequest,
  type JoinRequest,
  type JoinResult,
  type LeaveRequest,
  type LeaveResult,
  type PersistDone,
  type SyncRequest,
  type SyncResult,
  type TxnCommitRequest,
} from './groupCoordinatorState.js';
import { partitionFor } from './hash.js';
import {
  decodeCoordinatorRecord,
  encodeCoordinatorRecord,
  type CoordinatorRecord,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from './records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface GroupCoordinatorSettings extends GroupCoordinatorConfig {
  /** offsets.topic.num.partitions (50). */
  offsetsTopicNumPartitions: number;
  /**
   * offsets.topic.replication.factor (3). As in Kafka, `__consumer_offsets` is created only once
   * this many brokers are registered (until then FindCoordinator answers COORDINATOR_NOT_AVAILABLE):
   * capping it at the live count would leave every group's offsets on one replica for good.
   */
  offsetsTopicReplicationFactor: number;
  /** offsets.commit.timeout.ms (5000): how long a write waits for acks=all. */
  offsetsCommitTimeoutMs: number;
  /** offsets.retention.check.interval.ms (600000). */
  offsetsRetentionCheckIntervalMs: number;
  /** How often the state machine's timeouts are checked. */
  tickIntervalMs: number;
  /** Bytes read per step while loading a partition (offsets.load.buffer.size, 5 MiB). */
  offsetsLoadBufferSize: number;
}

export const DEFAULT_GROUP_COORDINATOR_SETTINGS: Readonly<GroupCoordinatorSettings> = {
  ...DEFAULT_GROUP_COORDINATOR_CONFIG,
  offsetsTopicNumPartitions: 50,
  offsetsTopicReplicationFactor: 3,
  offsetsCommitTimeoutMs: 5_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  tickIntervalMs: 100,
  offsetsLoadBufferSize: 5 * 1024 * 1024,
};

export interface GroupCoordinatorOptions {
  brokerId: number;
  metadata: MetadataSource;
  replicaManager: ReplicaManager;
  timers: Timers;
  logger: Logger;
  settings?: Partial<GroupCoordinatorSettings>;
}

interface OwnedPartition {
  partition: number;
  leaderEpoch: number;
  status: 'loading' | 'loaded';
}

export class GroupCoordinator {
  readonly settings: GroupCoordinatorSettings;
  private readonly state: GroupCoordinatorState;
  private readonly owned = new Map<number, OwnedPartition>();
  private readonly logger: Logger;
  private unsubscribe: (() => void) | undefined;
  private tickTimer: unknown;
  private retentionTimer: unknown;
  private creatingTopic: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: GroupCoordinatorOptions) {
    this.settings = { ...DEFAULT_GROUP_COORDINATOR_SETTINGS, ...options.settings };
    this.logger = options.logger.child({ component: 'group-coordinator' });
    this.state = new GroupCoordinatorState(
      {
        persist: (groupId, records, done, txn) => this.persist(groupId, records, done, txn),
        onEvent: (groupId, event, fields) => this.logger.info({ groupId, ...fields }, `group ${event}`),
      },
      this.settings,
    );
  }

  /** Follows the metadata (call after the replica manager's startup, so partitions are open first) and starts the timers. */
  startup(): void {
    this.unsubscribe = this.options.metadata.subscribe((change) => this.onMetadataChange(change));
    const topic = this.options.metadata.topic(OFFSETS_TOPIC);
    if (topic) for (const p of topic.partitions) this.applyPartition(p);
    const { timers } = this.options;
    this.tickTimer = timers.setInterval(() => this.runSafely('tick', () => this.state.tick(timers.now())), this.settings.tickIntervalMs);
    this.retentionTimer = timers.setInterval(
      () => this.runSafely('offsets expiry', () => this.state.expireOffsets(timers.now())),
      this.settings.offsetsRetentionCheckIntervalMs,
    );
  }

  /** Stops the timers and drops every group (waiting joins and syncs answer NOT_COORDINATOR). */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.options.timers.clearInterval(this.tickTimer);
    this.options.timers.clearInterval(this.retentionTimer);
    for (const p of [...this.owned.keys()]) this.unloadPartition(p);
  }

  private runSafely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err }, `${what} failed`);
    }
  }

  // ---- which partitions are ours ----

  private partitionCount(): number {
    return this.options.metadata.topic(OFFSETS_TOPIC)?.partitions.length ?? this.settings.offsetsTopicNumPartitions;
  }

  partitionOf(groupId: string): number {
    return partitionFor(groupId, this.partitionCount());
  }

  private onMetadataChange(change: MetadataChange): void {
    if (change.type === 'brokerConfigsChanged') return;
    if (change.type === 'topicDeleted' && change.topic.name !== OFFSETS_TOPIC) {
      this.runSafely('removing the offsets of a deleted topic', () => {
        const removed = this.state.removeTopicOffsets(change.topic.name);
        if (removed > 0) this.logger.info({ topic: change.topic.name, offsets: removed }, 'removed committed offsets of a deleted topic');
      });
      return;
    }
    if (change.topic.name !== OFFSETS_TOPIC) return;
    this.runSafely('following the metadata', () => {
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
    });
  }

  private applyPartition(info: PartitionInfo): void {
    if (this.closed) return;
    const current = this.owned.get(info.partition);
    if (info.leader === this.options.brokerId) {
      if (current && current.leaderEpoch === info.leaderEpoch) return;
      // A new leader epoch while still leader: someone else may have led (and written) in between.
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
    const count = this.partitionCount();
    let groups = 0;
    for (const id of this.state.groupIds()) {
      if (partitionFor(id, count) === partition) {
        this.state.unloadGroup(id);
        groups++;
      }
    }
    this.logger.info({ partition, leaderEpoch: owned.leaderEpoch, groups }, `unloaded the groups of ${OFFSETS_TOPIC}-${partition}`);
  }

  /**
   * Reads the whole partition (log start to the log end offset at the start) and installs its
   * groups. Reads in steps with a yield between them; gives up if the partition was unloaded or
   * re-led meanwhile.
   */
  private loadPartition(partition: number, leaderEpoch: number): void {
    const owned: OwnedPartition = { partition, leaderEpoch, status: 'loading' };
    this.owned.set(partition, owned);
    const started = this.options.timers.now();
    const stillOurs = () => this.owned.get(partition) === owned;
    const offsets = new Map<string, Map<string, { topic: string; partition: number; value: OffsetCommitValue; recordOffset: bigint }>>();
    const groups = new Map<string, GroupMetadataValue | null>();
    const replay = (record: CoordinatorRecord, recordOffset: bigint) => {
      if (record.type === 'group') {
        groups.set(record.group, record.value);
        // A group tombstone (DeleteGroups, expiry) comes after its offsets' tombstones; keep it simple and exact anyway.
        return;
      }
      let byKey = offsets.get(record.group);
      if (!byKey) offsets.set(record.group, (byKey = new Map()));
      const key = topicPartitionKey(record.topic, record.partition);
      // A committed transaction's offsets replay at their marker: a plain commit later in the log still wins.
      const existing = byKey.get(key);
      if (existing && existing.recordOffset > recordOffset) return;
      if (record.value === null) byKey.delete(key);
      else byKey.set(key, { topic: record.topic, partition: record.partition, value: record.value, recordOffset });
    };
    // TxnOffsetCommit records wait for their producer's marker: COMMIT replays them, ABORT drops them.
    const txnPending = new Map<bigint, Array<{ record: CoordinatorRecord; recordOffset: bigint }>>();
    const p = this.options.replicaManager.getPartition(OFFSETS_TOPIC, partition);
    if (!p) {
      this.logger.warn({ partition }, `no local replica of ${OFFSETS_TOPIC}-${partition} to load`);
      this.owned.delete(partition);
      return;
    }
    const end = p.logEndOffset;
    let next = p.logStartOffset;
    let skipped = 0;
    const step = () => {
      if (!stillOurs()) return;
      try {
        if (next < end) {
          const read = p.log.read(next, this.settings.offsetsLoadBufferSize, end, true);
          if (read.records.length === 0) {
            next = end;
          } else {
            for (const { pos, size, header } of iterateBatches(read.records)) {
              next = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
              if (header.isControl) {
                try {
                  const marker = decodeControlBatch(read.records, pos);
                  const held = txnPending.get(header.producerId) ?? [];
                  txnPending.delete(header.producerId);
                  if (marker.type === ControlRecordType.COMMIT) for (const h of held) replay(h.record, h.recordOffset);
                } catch (err) {
                  skipped++;
                  this.logger.warn({ err, partition, offset: String(header.baseOffset) }, 'skipped an unreadable transaction marker');
                }
                continue;
              }
              for (const r of decodeRecordBatch(read.records.subarray(pos, pos + size)).records) {
                if (r.key === null) continue;
                try {
                  const record = decodeCoordinatorRecord(r.key, r.value);
                  if (header.isTransactional) {
                    let held = txnPending.get(header.producerId);
                    if (!held) txnPending.set(header.producerId, (held = []));
                    held.push({ record, recordOffset: r.offset });
                    continue;
                  }
                  replay(record, r.offset);
                } catch (err) {
                  skipped++;
                  this.logger.warn({ err, partition, offset: String(r.offset) }, 'skipped an unreadable record while loading groups');
                }
              }
            }
          }
          if (next < end) {
            setImmediate(step);
            return;
          }
        }
        const now = this.options.timers.now();
        const ids = new Set([...groups.keys(), ...offsets.keys()]);
        let loaded = 0;
        for (const id of ids) {
          const value = groups.get(id) ?? null;
          const groupOffsets = [...(offsets.get(id)?.values() ?? [])];
          // A deleted group (tombstone, no offsets since) is gone.
          if (value === null && groupOffsets.length === 0) continue;
          this.state.loadGroup(id, value, groupOffsets, now);
          loaded++;
        }
        // Offsets of transactions still open at the log end stay pending until their marker.
        for (const [producerId, held] of txnPending) {
          for (const { record, recordOffset } of held) {
            if (record.type === 'offset' && record.value !== null)
              this.state.loadPendingTxnOffset(record.group, producerId, record.topic, record.partition, record.value, recordOffset);
          }
        }
        owned.status = 'loaded';
        this.logger.info(
          { partition, leaderEpoch, groups: loaded, skipped, upTo: String(end), ms: now - started },
          `loaded the groups of ${OFFSETS_TOPIC}-${partition}`,
        );
      } catch (err) {
        this.logger.error({ err, partition }, `loading ${OFFSETS_TOPIC}-${partition} failed; its groups are not served here`);
        if (stillOurs()) this.owned.delete(partition);
      }
    };
    this.logger.info(
      { partition, leaderEpoch, from: String(next), to: String(end) },
      `loading the groups of ${OFFSETS_TOPIC}-${partition}`,
    );
    setImmediate(step);
  }

  /** NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS / INVALID_GROUP_ID for a request about `groupId`, or undefined. */
  checkGroup(groupId: string): ErrorResult | undefined {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: 'the group id must not be empty' };
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, errorMessage: `broker ${this.options.brokerId} is shutting down` };
    const partition = this.partitionOf(groupId);
    const owned = this.owned.get(partition);
    if (!owned) {
      return {
        errorCode: ErrorCode.NOT_COORDINATOR,
        errorMessage: `broker ${this.options.brokerId} does not lead ${OFFSETS_TOPIC}-${partition}, so it is not the coordinator of group '${groupId}'`,
      };
    }
    if (owned.status === 'loading') {
      return {
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        errorMessage: `broker ${this.options.brokerId} is still loading ${OFFSETS_TOPIC}-${partition}`,
      };
    }
    return undefined;
  }

  // ---- writes ----

  private persist(
    groupId: string,
    records: CoordinatorRecord[],
    done: PersistDone,
    txn?: { producerId: bigint; producerEpoch: number },
  ): void {
    const partition = this.partitionOf(groupId);
    if (this.owned.get(partition)?.status !== 'loaded') {
      done(ErrorCode.NOT_COORDINATOR, `broker ${this.options.brokerId} no longer coordinates ${OFFSETS_TOPIC}-${partition}`, -1n);
      return;
    }
    let batch: Buffer;
    try {
      const now = BigInt(this.options.timers.now());
      batch = encodeRecordBatch(
        records.map((r) => encodeCoordinatorRecord(r)),
        txn === undefined
          ? { now: () => now }
          : { now: () => now, producerId: txn.producerId, producerEpoch: txn.producerEpoch, baseSequence: -1, isTransactional: true },
      );
    } catch (err) {
      done(ErrorCode.UNKNOWN_SERVER_ERROR, `cannot encode the group records: ${(err as Error).message}`, -1n);
      return;
    }
    this.options.replicaManager
      .appendRecords(
        -1,
        this.settings.offsetsCommitTimeoutMs,
        [{ topic: OFFSETS_TOPIC, partition, records: batch }],
        txn ? 'coordinator' : 'client',
      )
      .then(
        ([result]) => done(result!.errorCode, result!.errorMessage, result!.baseOffset),
        (err: unknown) => done(ErrorCode.UNKNOWN_SERVER_ERROR, `append failed: ${(err as Error).message}`, -1n),
      );
  }

  // ---- FindCoordinator ----

  async findCoordinator(keyType: number, key: string, listenerName?: string): Promise<FindCoordinatorResponse> {
    const none = (code: number, message: string): FindCoordinatorResponse => ({
      errorCode: code,
      errorMessage: message,
      nodeId: -1,
      host: '',
      port: -1,
    });
    if (keyType !== 0) return none(ErrorCode.INVALID_REQUEST, `key type ${keyType} is not supported (0: group)`);
    if (key === '') return none(ErrorCode.INVALID_GROUP_ID, 'the group id must not be empty');
    let topic = this.options.metadata.topic(OFFSETS_TOPIC);
    if (!topic) {
      try {
        await this.createOffsetsTopic();
      } catch (err) {
        return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot create ${OFFSETS_TOPIC} yet: ${(err as Error).message}`);
      }
      topic = this.options.metadata.topic(OFFSETS_TOPIC);
      if (!topic) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC} is being created`);
    }
    return (
      this.coordinatorIn(topic, key, listenerName) ??
      none(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${partitionFor(key, topic.partitions.length)} has no leader right now`)
    );
  }

  private coordinatorIn(topic: TopicInfo, key: string, listenerName: string | undefined): FindCoordinatorResponse | undefined {
    const info = topic.partitions[partitionFor(key, topic.partitions.length)];
    if (!info || info.leader < 0) return undefined;
    const broker = this.options.metadata.brokers().find((b) => b.nodeId === info.leader);
    // Its address on the listener the request came in on (Kafka answers FindCoordinator per listener).
    const at = broker === undefined ? undefined : endpointFor(broker, listenerName);
    if (!broker || !at) return undefined;
    return { errorCode: 0, errorMessage: '', nodeId: broker.nodeId, host: at.host, port: at.port };
  }

  /** Creates `__consumer_offsets` through the controller (one attempt at a time; TOPIC_ALREADY_EXISTS is success). */
  private createOffsetsTopic(): Promise<void> {
    // Checked before the attempt starts: a throw inside the async body before its first await
    // would run its `finally` before the promise is stored, leaving a rejected attempt cached.
    const live = this.options.metadata.brokers().length;
    const replicationFactor = this.settings.offsetsTopicReplicationFactor;
    if (this.creatingTopic === undefined && live < replicationFactor) {
      return Promise.reject(
        new Error(
          `offsets.topic.replication.factor is ${replicationFactor} but ${live} broker(s) are registered; ` +
            'start more brokers or set offsets.topic.replication.factor lower (a one-broker development cluster uses 1)',
        ),
      );
    }
    this.creatingTopic ??= (async () => {
      try {
        const [result] = await this.options.metadata.createTopics(
          [
            {
              name: OFFSETS_TOPIC,
              numPartitions: this.settings.offsetsTopicNumPartitions,
              replicationFactor,
              // retention.ms=-1: the log's time retention ignores cleanup.policy, and must never drop offsets.
              configs: { 'cleanup.policy': 'compact', 'retention.ms': '-1' },
            },
          ],
          false,
          10_000,
        );
        if (result && result.errorCode !== 0 && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          throw new Error('errorMessage' in result ? result.errorMessage : `error ${result.errorCode}`);
        }
        if (result?.errorCode === 0)
          this.logger.info({ partitions: this.settings.offsetsTopicNumPartitions, replicationFactor }, `created ${OFFSETS_TOPIC}`);
      } finally {
        this.creatingTopic = undefined;
      }
    })();
    return this.creatingTopic;
  }

  // ---- group requests (each checked with checkGroup first) ----

  joinGroup(req: JoinRequest): Promise<JoinResult> {
    const bad = this.checkGroup(req.groupId);
    if (bad)
      return Promise.resolve({
        ...bad,
        generationId: -1,
        protocolType: '',
        protocolName: '',
        leader: '',
        memberId: req.memberId,
        members: [],
        skipAssignment: false,
      });
    return new Promise((resolve) => this.state.join(req, this.options.timers.now(), resolve));
  }

  syncGroup(req: SyncRequest): Promise<SyncResult> {
    const bad = this.checkGroup(req.groupId);
    if (bad) return Promise.resolve({ ...bad, protocolType: '', protocolName: '', assignment: Buffer.alloc(0) });
    return new Promise((resolve) => this.state.sync(req, this.options.timers.now(), resolve));
  }

  heartbeat(req: HeartbeatRequest): ErrorResult {
    return this.checkGroup(req.groupId) ?? this.state.heartbeat(req, this.options.timers.now());
  }

  leaveGroup(req: LeaveRequest): LeaveResult {
    const bad = this.checkGroup(req.groupId);
    if (bad) return { ...bad, members: [] };
    return this.state.leave(req, this.options.timers.now());
  }

  /** Partitions of unknown topics answer UNKNOWN_TOPIC_OR_PARTITION; the rest go to the state machine. */
  commitOffsets(req: CommitRequest): Promise<CommitPartitionResult[]> {
    const bad = this.checkGroup(req.groupId);
    if (bad) return Promise.resolve(req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, ...bad })));
    const results: Array<CommitPartitionResult | undefined> = req.offsets.map((o) => {
      const topic = this.options.metadata.topic(o.topic);
      if (topic && o.partition >= 0 && o.partition < topic.partitions.length) return undefined;
      return {
        topic: o.topic,
        partition: o.partition,
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: topic ? `topic '${o.topic}' has no partition ${o.partition}` : `topic '${o.topic}' does not exist`,
      };
    });
    const valid = req.offsets.filter((_, i) => results[i] === undefined);
    if (valid.length === 0) return Promise.resolve(results as CommitPartitionResult[]);
    return new Promise((resolve) =>
      this.state.commitOffsets({ ...req, offsets: valid }, this.options.timers.now(), (answered) => {
        let j = 0;
        resolve(results.map((r) => r ?? answered[j++]!));
      }),
    );
  }

  /** TxnOffsetCommit (KIP-98/447): offsets pending in the producer's transaction until its marker. */
  txnCommitOffsets(req: TxnCommitRequest): Promise<CommitPartitionResult[]> {
    const bad = this.checkGroup(req.groupId);
    if (bad) return Promise.resolve(req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, ...bad })));
    const results: Array<CommitPartitionResult | undefined> = req.offsets.map((o) => {
      const topic = this.options.metadata.topic(o.topic);
      if (topic && o.partition >= 0 && o.partition < topic.partitions.length) return undefined;
      return {
        topic: o.topic,
        partition: o.partition,
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `no partition ${o.topic}-${o.partition}`,
      };
    });
    const valid = req.offsets.filter((_, i) => results[i] === undefined);
    if (valid.length === 0) return Promise.resolve(results as CommitPartitionResult[]);
    return new Promise((resolve) =>
      this.state.txnCommitOffsets({ ...req, offsets: valid }, this.options.timers.now(), (answered) => {
        let j = 0;
        resolve(results.map((r) => r ?? answered[j++]!));
      }),
    );
  }

  /**
   * A COMMIT/ABORT marker was appended to `__consumer_offsets-partition` here (WriteTxnMarkers):
   * the pending transactional offsets of that producer in the partition's groups complete.
   */
  onTxnMarker(partition: number, producerId: bigint, committed: boolean): void {
    if (this.owned.get(partition)?.status !== 'loaded') return;
    const count = this.partitionCount();
    this.runSafely('completing transactional offsets', () =>
      this.state.completeTxn(producerId, committed, (groupId) => partitionFor(groupId, count) === partition, this.options.timers.now()),
    );
  }

  /** OffsetFetch require_stable (KIP-447): true while a transaction holds an offset of the partition. */
  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    return this.state.hasPendingTxnOffset(groupId, topic, partition);
  }

  fetchOffsets(
    groupId: string,
    topics: Array<{ topic: string; partitions: number[] }> | undefined,
  ): ErrorResult & { offsets: FetchedOffset[] } {
    const bad = this.checkGroup(groupId);
    if (bad) return { ...bad, offsets: [] };
    return { errorCode: 0, errorMessage: '', offsets: this.state.fetchOffsets(groupId, topics) };
  }

  listGroups(statesFilter: string[]): ErrorResult & { groups: Array<{ groupId: string; protocolType: string; state: GroupStateName }> } {
    const loading = [...this.owned.values()].some((o) => o.status === 'loading');
    if (loading) {
      return {
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        errorMessage: `broker ${this.options.brokerId} is still loading groups`,
        groups: [],
      };
    }
    return { errorCode: 0, errorMessage: '', groups: this.state.listGroups(statesFilter) };
  }

  describeGroup(groupId: string): GroupDescription {
    const bad = this.checkGroup(groupId);
    if (bad) return { ...bad, groupId, state: 'Dead', protocolType: '', protocolName: '', generationId: -1, members: [] };
    return this.state.describeGroup(groupId);
  }

  deleteGroup(groupId: string): Promise<ErrorResult> {
    const bad = this.checkGroup(groupId);
    if (bad) return Promise.resolve(bad);
    return new Promise((resolve) => this.state.deleteGroup(groupId, resolve));
  }

  /** Kafka's OffsetDelete (groupCoordinatorState.deleteOffsets). */
  deleteOffsets(
    groupId: string,
    partitions: ReadonlyArray<{ topic: string; partition: number }>,
  ): Promise<ErrorResult & { partitions: Array<{ topic: string; partition: number; errorCode: number }> }> {
    const bad = this.checkGroup(groupId);
    if (bad) return Promise.resolve({ ...bad, partitions: [] });
    return new Promise((resolve) => this.state.deleteOffsets(groupId, partitions, resolve));
  }

  /** Every group loaded here with its committed offsets (read-only; for the lag metrics). */
  committedOffsets(): GroupOffsetsView[] {
    return this.state.committedOffsets();
  }

  /** Runs offsets expiry now (tests, admin); returns how many offsets expired. */
  expireOffsetsNow(): number {
    return this.state.expireOffsets(this.options.timers.now());
  }
}
