/**
 * The runtime on a real cluster (Kafka's `KafkaStreams`, `StreamThread`, `TaskManager`,
 * `StoreChangelogReader`, `GlobalStreamThread`, reduced). Every instance of an application id joins
 * one consumer group through the Streams assignor; each thread owns its tasks, restores their stores
 * from the changelogs when it gets them, processes polled records, and commits at-least-once:
 * flush stores → flush the producer → commit offsets (README "Commit protocol"), or exactly once
 * (KIP-447's exactly_once_v2): one transactional producer per thread, the input offsets sent to the
 * transaction with the consumer's group metadata, and on any failure abort → reset the tasks from
 * their changelogs read_committed → rewind to the committed offsets, as `EosCommitMachine` plans
 * (README "Exactly-once").
 */
import { Samsa, SamsaError, TopicAlreadyExistsError, defaultPartitioner } from '@samsa/client';
import type { Consumer, ConsumerRecord, GroupConsumer, Logger, Producer, SamsaConfig, Serde, TopicPartition } from '@samsa/client';
import type { StateStore } from '../stores.js';
import { PersistentKeyValueStore } from '../persistentStore.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { EosCommitMachine } from './eosMachine.js';
import type { EosErrorKind, EosEvent, EosPhase, EosStep } from './eosMachine.js';
import { StreamTask, StreamsError } from '../task.js';
import type { DeserializationHandler, RecordCollector } from '../task.js';
import type { Topology } from '../topology.js';
import { streamsAssignor } from './assignor.js';
import { planInternalTopics } from './internalTopics.js';
import { ProducerCollector } from './collector.js';
import type { ProductionHandler } from './collector.js';

export type ProcessingGuarantee = 'at_least_once' | 'exactly_once_v2';

export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

const TRANSITIONS: Record<StreamsState, StreamsState[]> = {
  CREATED: ['REBALANCING', 'PENDING_SHUTDOWN'],
  REBALANCING: ['RUNNING', 'PENDING_SHUTDOWN', 'ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING'],
  NOT_RUNNING: [],
  ERROR: ['PENDING_SHUTDOWN'],
};

export interface StreamsConfig {
  applicationId: string;
  bootstrapServers: string[];
  /** Default 'at_least_once'. 'exactly_once_v2': KIP-447 transactions (README "Exactly-once"). */
  processingGuarantee?: ProcessingGuarantee;
  /** Concurrency: consumer-group members in this process. Default 1. */
  numStreamThreads?: number;
  /** Default 30000 under at_least_once, 100 under exactly_once_v2 (Kafka's defaults). */
  commitIntervalMs?: number;
  /** exactly_once_v2: the producers' transaction.timeout.ms. Default 10000 (Kafka Streams' under EOS). */
  transactionTimeoutMs?: number;
  /** exactly_once_v2: a thread fails after this many resets (aborts) without a commit in between. Default 5. */
  maxConsecutiveResets?: number;
  /** Where persistent stores live: `<stateDir>/<applicationId>/<taskId>/<store>`. Default `<tmpdir>/samsa-streams`. */
  stateDir?: string;
  /** Replication factor of internal topics. Default: the broker's default. */
  replicationFactor?: number;
  deserializationExceptionHandler?: DeserializationHandler;
  /** What a failed send to an output topic does (changelog sends always fail the thread). Default 'fail'. */
  productionExceptionHandler?: ProductionHandler;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Static membership: instance `<id>-<thread>` keeps its tasks across a quick restart. */
  groupInstanceId?: string;
  logger?: Logger;
  /** Kafka's StateRestoreListener: told when a store has replayed its changelog partition. */
  restoreListener?: { onRestoreEnd(changelog: TopicPartition, storeName: string, totalRestored: number): void };
  /** Extra client settings (retry, timeouts). */
  client?: Partial<SamsaConfig>;
  now?: () => number;
}

/** How a thread makes its work durable under at_least_once (exactly_once_v2 runs EosCommitMachine's plans instead). */
export interface TaskCommitter {
  commit(tasks: readonly StreamTask[], offsets: Array<TopicPartition & { offset: bigint }>): Promise<void>;
}

export class SamsaStreams {
  private stateValue: StreamsState = 'CREATED';
  private readonly listeners: Array<(next: StreamsState, previous: StreamsState) => void> = [];
  private readonly samsa: Samsa;
  private readonly threads: StreamThread[] = [];
  private global: GlobalThread | null = null;
  private readonly now: () => number;
  private error: Error | null = null;
  /** Store name → its sub-topology and partition count (known after start). */
  private readonly storeTasks = new Map<string, { subTopology: number; partitions: number }>();
  /** @internal */
  readonly exactlyOnce: boolean;
  private processIdValue: string | null = null;

  constructor(
    readonly topology: Topology,
    readonly config: StreamsConfig,
  ) {
    if (!config.applicationId) throw new StreamsError('INVALID_CONFIG', 'applicationId is required');
    const guarantee = config.processingGuarantee ?? 'at_least_once';
    if (guarantee !== 'at_least_once' && guarantee !== 'exactly_once_v2') {
      throw new StreamsError(
        'INVALID_CONFIG',
        `processingGuarantee must be 'at_least_once' or 'exactly_once_v2', got ${String(config.processingGuarantee)}`,
      );
    }
    this.exactlyOnce = guarantee === 'exactly_once_v2';
    this.now = config.now ?? Date.now;
    this.samsa = new Samsa({ brokers: config.bootstrapServers, clientId: `${config.applicationId}-client`, ...config.client });
  }

  get state(): StreamsState {
    return this.stateValue;
  }

  /** Kafka's setStateListener; called on every transition. */
  onStateChange(listener: (next: StreamsState, previous: StreamsState) => void): void {
    this.listeners.push(listener);
  }

  /** @internal */
  setState(next: StreamsState): void {
    const previous = this.stateValue;
    if (previous === next) return;
    if (!TRANSITIONS[previous].includes(next)) return;
    this.stateValue = next;
    for (const l of this.listeners) l(next, previous);
  }

  /** Create internal topics, fill global stores, then start the threads (which join the group). */
  async start(): Promise<void> {
    if (this.stateValue !== 'CREATED') throw new StreamsError('ILLEGAL_STATE', `start() in state ${this.stateValue}`);
    this.setState('REBALANCING');
    try {
      await this.samsa.connect();
      await this.createInternalTopics();
      if (this.topology.globalStores.length > 0) {
        this.global = new GlobalThread(this, this.samsa);
        await this.global.start();
      }
      const n = this.config.numStreamThreads ?? 1;
      for (let i = 0; i < n; i++) this.threads.push(new StreamThread(this, this.samsa, i, this.global?.stores ?? new Map()));
      for (const t of this.threads) t.start();
    } catch (err) {
      this.fail(err as Error);
      throw err;
    }
  }

  /** @internal A thread died: the instance goes to ERROR (Kafka's SHUTDOWN_CLIENT reaction). */
  fail(err: Error): void {
    this.error ??= err;
    this.config.logger?.error(`streams ${this.config.applicationId}: ${err.message}`);
    this.setState('ERROR');
  }

  get lastError(): Error | null {
    return this.error;
  }

  /** @internal Threads report rebalance progress; RUNNING once every thread has its tasks. */
  threadStateChanged(): void {
    if (this.stateValue === 'ERROR' || this.stateValue === 'PENDING_SHUTDOWN' || this.stateValue === 'NOT_RUNNING') return;
    this.setState(this.threads.every((t) => t.running) ? 'RUNNING' : 'REBALANCING');
  }

  /** @internal */
  clock(): number {
    return this.now();
  }

  /**
   * Kafka's process id: part of each thread's transactional id. Kept in `<stateDir>/<applicationId>/
   * process-id` when a stateDir is configured, so a restarted instance reuses its transactional ids
   * and its InitProducerId aborts what the crashed one left open at once (instead of after
   * transactionTimeoutMs); random otherwise (the default stateDir may be shared by instances).
   */
  processId(): string {
    if (this.processIdValue) return this.processIdValue;
    let id: string = randomUUID();
    if (this.config.stateDir) {
      const dir = join(this.config.stateDir, this.config.applicationId);
      const file = join(dir, 'process-id');
      try {
        id = readFileSync(file, 'utf8').trim() || id;
      } catch {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, `${id}\n`);
      }
    }
    this.processIdValue = id;
    return id;
  }

  private async createInternalTopics(): Promise<void> {
    const admin = this.samsa.admin();
    const appId = this.config.applicationId;
    const subs = this.topology.subTopologies();
    const external = [...new Set(subs.flatMap((s) => s.sourceTopics).filter((t) => !this.topology.isInternalTopic(t)))];
    const described = external.length > 0 ? await admin.describeTopics(external) : [];
    const counts = new Map(described.map((d) => [d.name, d.partitions.length]));
    for (const t of external) if (!counts.get(t)) throw new StreamsError('MISSING_SOURCE_TOPIC', `source topic ${t} does not exist`);
    const plan = planInternalTopics(this.topology, counts);
    for (const [store, info] of plan.storeTasks) this.storeTasks.set(store, info);
    for (const t of plan.topics) {
      const name = `${appId}-${t.name}`;
      const numPartitions = t.partitions;
      try {
        await admin.createTopics([
          {
            topic: name,
            numPartitions,
            configs: t.configs,
            ...(this.config.replicationFactor ? { replicationFactor: this.config.replicationFactor } : {}),
          },
        ]);
      } catch (err) {
        if (!(err instanceof TopicAlreadyExistsError)) throw err;
        const [existing] = await admin.describeTopics([name]);
        if (existing && existing.partitions.length !== numPartitions) {
          throw new StreamsError(
            'INCONSISTENT_PARTITION_COUNTS',
            `internal topic ${name} has ${existing.partitions.length} partitions, expected ${numPartitions}`,
          );
        }
      }
    }
    // Wait until every internal topic has leaders, bounded.
    const names = plan.topics.map((t) => `${appId}-${t.name}`);
    for (let i = 0; i < 200 && names.length > 0; i++) {
      const d = await admin.describeTopics(names).catch(() => []);
      if (d.length === names.length && d.every((x) => x.partitions.length > 0 && x.partitions.every((p) => p.leader >= 0))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Read a store across this instance's tasks (interactive queries, local only). */
  store<S = StateStore>(name: string): S[] {
    const out: S[] = [];
    for (const t of this.threads)
      for (const task of t.tasks.values()) {
        const s = task.getStore<S>(name);
        if (s) out.push(s);
      }
    const g = this.global?.stores.get(name);
    if (g) out.push(g as S);
    return out;
  }

  /**
   * Where a key of a store lives (Kafka's queryMetadataForKey): the partition the default
   * partitioner picks for the serialized key, its task, and whether this instance runs that task.
   */
  queryMetadataForKey<K>(storeName: string, key: K, keySerde: Serde<K>): { partition: number; taskId: string; local: boolean } {
    const info = this.storeTasks.get(storeName);
    if (!info) throw new StreamsError('UNKNOWN_STATE_STORE', `no task store named ${storeName} (or start() has not run)`);
    const bytes = keySerde.serialize(key);
    if (bytes === null) throw new StreamsError('INVALID_ARGUMENT', 'a null key has no partition');
    const partition = defaultPartitioner()({ topic: storeName, key: bytes, partitionCount: info.partitions, availablePartitions: [] });
    const taskId = `${info.subTopology}_${partition}`;
    return { partition, taskId, local: this.activeTasks().includes(taskId) };
  }

  /** Task ids this instance runs now. */
  activeTasks(): string[] {
    return this.threads.flatMap((t) => [...t.tasks.keys()]).sort();
  }

  async close(): Promise<void> {
    if (this.stateValue === 'NOT_RUNNING') return;
    this.setState('PENDING_SHUTDOWN');
    await Promise.allSettled(this.threads.map((t) => t.stop()));
    await this.global?.stop();
    await this.samsa.close();
    this.setState('NOT_RUNNING');
  }
}

/**
 * Flush stores, then every produced record, then write persistent stores and their checkpoints
 * (now that the changelog holds what they reflect), then commit the input offsets.
 */
class AtLeastOnceCommitter implements TaskCommitter {
  constructor(
    private readonly collector: ProducerCollector,
    private readonly consumer: GroupConsumer<Buffer | null, Buffer | null>,
    private readonly persist: (tasks: readonly StreamTask[]) => Promise<void>,
  ) {}

  async commit(tasks: readonly StreamTask[], offsets: Array<TopicPartition & { offset: bigint }>): Promise<void> {
    for (const t of tasks) t.flushStores();
    await this.collector.flush();
    await this.persist(tasks);
    if (offsets.length > 0) await this.consumer.commit(offsets);
  }
}

/** Error names after which the producer is dead (Kafka's fatal transactional errors). */
const FENCED = new Set([
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_EPOCH',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_PRODUCER_ID_MAPPING',
]);
/** Error names that say the group moved on without this member (Kafka's TaskMigratedException). */
const MIGRATED = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'REBALANCE_IN_PROGRESS']);

/** Which reset an error asks for: the first Samsa error on its cause chain decides; none is user code. */
export function classifyEosError(err: unknown): EosErrorKind {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof SamsaError) {
      if (FENCED.has(e.errorName)) return 'fenced';
      if (MIGRATED.has(e.errorName)) return 'migrated';
      return 'abortable';
    }
  }
  if (err instanceof StreamsError && err.code === 'PRODUCTION_ERROR') return 'abortable';
  return 'processing';
}

type Offsets = Array<TopicPartition & { offset: bigint }>;

class StreamThread {
  readonly tasks = new Map<string, StreamTask>();
  private readonly suspended = new Map<string, StreamTask>();
  private consumer!: GroupConsumer<Buffer | null, Buffer | null>;
  private producer!: Producer<Buffer | null, Buffer | null>;
  private collector!: ProducerCollector;
  private committer!: TaskCommitter;
  private stopping = false;
  private loop: Promise<void> | null = null;
  running = false;
  private lastCommit = 0;
  private readonly subByTopic = new Map<string, number>();
  private readonly subs;
  /** exactly_once_v2 only. */
  private readonly eos: EosCommitMachine | null;
  /** exactly_once_v2: the offsets the last committed transaction carried, per `topic\0partition`. */
  private readonly committedOffsets = new Map<string, bigint>();
  /** exactly_once_v2: the offsets of the commit in progress. */
  private pendingOffsets: Offsets = [];
  private readonly transactionalId: string;

  constructor(
    private readonly app: SamsaStreams,
    private readonly samsa: Samsa,
    readonly index: number,
    private readonly globalStores: ReadonlyMap<string, StateStore>,
  ) {
    this.subs = app.topology.subTopologies();
    for (const s of this.subs) for (const t of s.sourceTopics) this.subByTopic.set(app.topology.resolve(t, app.config.applicationId), s.id);
    this.eos = app.exactlyOnce ? new EosCommitMachine(app.config.maxConsecutiveResets ?? 5) : null;
    this.transactionalId = `${app.config.applicationId}-${app.exactlyOnce ? app.processId() : ''}-${index}`;
  }

  private newProducer(): Producer<Buffer | null, Buffer | null> {
    if (!this.eos) return this.samsa.producer({ acks: -1 });
    return this.samsa.producer({
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.app.config.transactionTimeoutMs ?? 10_000,
    });
  }

  start(): void {
    const { config, topology } = this.app;
    const assignor = streamsAssignor(
      this.subs.map((s) => ({ id: s.id, topics: s.sourceTopics.map((t) => topology.resolve(t, config.applicationId)) })),
    );
    this.producer = this.newProducer();
    this.collector = new ProducerCollector(
      this.producer,
      config.productionExceptionHandler ?? 'fail',
      `${config.applicationId}-`,
      config.logger,
      this.eos ? { beforeSend: () => this.eosSend() } : {},
    );
    this.consumer = this.samsa.consumer<Buffer | null, Buffer | null>({
      groupId: config.applicationId,
      ...(config.groupInstanceId ? { groupInstanceId: `${config.groupInstanceId}-${this.index}` } : {}),
      autoCommit: false,
      autoOffsetReset: 'earliest',
      ...(this.eos ? { isolationLevel: 'read_committed' as const } : {}),
      partitionAssignors: [assignor],
      ...(config.sessionTimeoutMs ? { sessionTimeoutMs: config.sessionTimeoutMs } : {}),
      ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
      fetchMaxWaitMs: 100,
      rebalanceListener: {
        revoked: (partitions) => this.onRevoked(partitions),
        assigned: (partitions) => this.onAssigned(partitions),
        lost: (partitions) => this.onLost(partitions),
      },
    });
    this.committer = new AtLeastOnceCommitter(this.collector, this.consumer, (tasks) => this.persist(tasks));
    this.lastCommit = this.app.clock();
    this.loop = (async () => {
      // The producer id (and the fencing of an earlier producer of this transactional id) comes
      // before the first assignment: restoration must not start while that producer's
      // transaction is open.
      if (this.eos) await this.producer.initTransactions();
      this.consumer.subscribe([...this.subByTopic.keys()]);
      await this.run();
    })().catch((err: Error) => {
      if (!this.stopping) this.app.fail(err);
    });
  }

  private taskIdOf(tp: TopicPartition): string {
    const sub = this.subByTopic.get(tp.topic);
    if (sub === undefined) throw new StreamsError('TOPOLOGY_EXCEPTION', `assigned ${tp.topic}, which no sub-topology reads`);
    return `${sub}_${tp.partition}`;
  }

  private async onRevoked(_partitions: TopicPartition[]): Promise<void> {
    this.running = false;
    this.app.threadStateChanged();
    await this.commit(true);
    // Kafka suspends revoked tasks: if the next assignment gives them back, their state is current.
    for (const [id, task] of this.tasks) this.suspended.set(id, task);
    this.tasks.clear();
  }

  /** Write each persistent store's changes with the changelog offset they reach. */
  private async persist(tasks: readonly StreamTask[]): Promise<void> {
    for (const task of tasks) {
      const partition = Number(task.id.split('_')[1]);
      for (const [name, store] of task.stores) {
        if (!(store instanceof PersistentKeyValueStore)) continue;
        const topic = `${this.app.config.applicationId}-${name}-changelog`;
        await store.commitToDisk(this.collector.nextOffsets.get(`${topic}\0${partition}`) ?? store.checkpoint);
      }
    }
  }

  private async closeTask(task: StreamTask): Promise<void> {
    task.close();
    for (const store of task.stores.values()) if (store instanceof PersistentKeyValueStore) await store.closeDb();
  }

  private async onLost(_partitions: TopicPartition[]): Promise<void> {
    this.running = false;
    if (this.eos) {
      // Nothing of the open transaction may count: another member owns these tasks now.
      await this.recover(new StreamsError('TASK_MIGRATED', 'partitions lost'), true, 'migrated');
    }
    for (const task of [...this.tasks.values(), ...this.suspended.values()]) await this.closeTask(task);
    this.tasks.clear();
    this.suspended.clear();
    this.app.threadStateChanged();
  }

  private newTask(id: string): StreamTask {
    const [sub, partition] = id.split('_').map(Number) as [number, number];
    return new StreamTask({
      applicationId: this.app.config.applicationId,
      subTopology: this.subs[sub]!,
      topology: this.app.topology,
      partition,
      collector: this.collector,
      now: () => this.app.clock(),
      globalStores: this.globalStores,
      deserializationHandler: this.app.config.deserializationExceptionHandler ?? 'fail',
    });
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    // A new generation: what this thread committed before may have been overwritten by another owner.
    this.committedOffsets.clear();
    const ids = [...new Set(partitions.map((tp) => this.taskIdOf(tp)))].sort();
    for (const id of ids) {
      if (this.tasks.has(id)) continue;
      const kept = this.suspended.get(id);
      if (kept) {
        this.suspended.delete(id);
        this.tasks.set(id, kept);
        continue;
      }
      const task = this.newTask(id);
      await this.restore(task, task.partition);
      this.tasks.set(id, task);
    }
    // Suspended tasks that did not come back were handed to someone else: their state is stale.
    for (const task of this.suspended.values()) await this.closeTask(task);
    this.suspended.clear();
    this.running = true;
    this.app.threadStateChanged();
  }

  /** Replay each logged store's changelog partition from the start to its end offset. */
  private async restore(task: StreamTask, partition: number): Promise<void> {
    const appId = this.app.config.applicationId;
    const admin = this.samsa.admin();
    for (const [name, store] of task.stores) {
      if (!this.app.topology.storeBuilders.get(name)?.logged) continue;
      const topic = `${appId}-${name}-changelog`;
      let from = 0n;
      if (store instanceof PersistentKeyValueStore) {
        from = await store.open(join(this.app.config.stateDir ?? join(tmpdir(), 'samsa-streams'), appId, task.id, name));
      }
      const [end] = await admin.listOffsets(topic, [{ partition, timestamp: 'latest' }]);
      const endOffset = end?.offset ?? 0n;
      if (store instanceof PersistentKeyValueStore && from > endOffset) {
        // The changelog is shorter than the checkpoint (recreated topic): the local state is invalid.
        await store.wipe();
        from = 0n;
      }
      // The checkpoint is where the next write to this partition will land, known after the replay.
      this.collector.nextOffsets.set(`${topic}\0${partition}`, endOffset);
      if (endOffset <= from) {
        this.app.config.restoreListener?.onRestoreEnd({ topic, partition }, name, 0);
        continue;
      }
      // Under exactly_once_v2 only committed changelog records count: an aborted transaction's
      // writes are skipped, and the replay waits (bounded) for a transaction still open to end.
      const reader: Consumer<Buffer | null, Buffer | null> = this.samsa.consumer<Buffer | null, Buffer | null>({
        autoOffsetReset: 'earliest',
        ...(this.eos ? { isolationLevel: 'read_committed' as const } : {}),
      });
      try {
        reader.assign([{ topic, partition }]);
        await reader.seek({ topic, partition, offset: from > 0n ? from : 'earliest' });
        const deadline = this.app.clock() + 120_000;
        let restored = 0;
        for (;;) {
          const position = reader.position({ topic, partition }) ?? 0n;
          if (position >= endOffset) break;
          if (this.app.clock() > deadline)
            throw new StreamsError('RESTORE_TIMEOUT', `restoring ${name} from ${topic}-${partition} did not reach offset ${endOffset}`);
          const records = await reader.poll({ maxWaitMs: 200 });
          for (const r of records) {
            if (r.offset < endOffset && r.key !== null) {
              store.restore(r.key, r.value);
              restored++;
            }
          }
        }
        this.app.config.restoreListener?.onRestoreEnd({ topic, partition }, name, restored);
      } finally {
        await reader.close();
      }
    }
  }

  private async run(): Promise<void> {
    const commitIntervalMs = this.app.config.commitIntervalMs ?? (this.eos ? 100 : 30_000);
    while (!this.stopping) {
      const records: ConsumerRecord<Buffer | null, Buffer | null>[] = await this.consumer.poll({ maxWaitMs: 100 });
      try {
        for (const r of records) {
          const task = this.tasks.get(this.taskIdOf(r));
          if (!task) continue; // revoked while the batch was in flight
          task.process(r.topic, Number(r.offset), r.key, r.value, Number(r.timestamp), r.headers);
        }
        const now = this.app.clock();
        for (const task of this.tasks.values()) task.punctuateWallClock(now);
        if (now - this.lastCommit >= commitIntervalMs) await this.commit(false);
      } catch (err) {
        // At-least-once: the thread dies (its uncommitted work is replayed by the next owner).
        if (!this.eos) throw err;
        // Exactly-once: the rest of the batch is dropped; the rewind reads it again.
        await this.recover(err, false);
      }
    }
  }

  private currentOffsets(): Offsets {
    const offsets: Offsets = [];
    for (const task of this.tasks.values()) {
      for (const [topic, offset] of task.consumedOffsets) offsets.push({ topic, partition: task.partition, offset: BigInt(offset) });
    }
    return offsets;
  }

  /**
   * Commit the thread's tasks. Under exactly_once_v2 a failure is handled here (abort and reset);
   * `rebalancing`: called from a revocation (or close), so no restore follows a failed commit.
   */
  private async commit(rebalancing: boolean): Promise<void> {
    const offsets = this.currentOffsets();
    if (!this.eos) {
      await this.committer.commit([...this.tasks.values()], offsets);
      this.lastCommit = this.app.clock();
      return;
    }
    if (this.eos.phase !== 'RUNNING') return;
    // Only partitions that moved since the last commit (an idle thread commits nothing).
    this.pendingOffsets = offsets.filter((o) => this.committedOffsets.get(`${o.topic}\0${o.partition}`) !== o.offset);
    try {
      await this.runPlan(this.eos.step({ type: 'commitDue', offsets: this.pendingOffsets.length }));
      // (the getter changed: commitDue moved the machine unless there was nothing to commit)
      if ((this.eos.phase as EosPhase) === 'COMMITTING') {
        for (const o of this.pendingOffsets) this.committedOffsets.set(`${o.topic}\0${o.partition}`, o.offset);
        await this.runPlan(this.eos.step({ type: 'committed' }));
      }
      this.lastCommit = this.app.clock();
    } catch (err) {
      await this.recover(err, rebalancing);
    }
  }

  /** exactly_once_v2: a record is about to be produced. */
  private eosSend(): void {
    const plan = this.eos!.step({ type: 'send' });
    // The only step a send can need; beginTransaction is synchronous (no request).
    if (plan.includes('beginTransaction')) this.producer.beginTransaction();
  }

  /**
   * exactly_once_v2: feed the error to the machine and run its plans until it is RUNNING again
   * (bounded: every error counts towards maxConsecutiveResets, after which the plan is `fail`).
   */
  private async recover(cause: unknown, rebalancing: boolean, kind: EosErrorKind = classifyEosError(cause)): Promise<void> {
    const eos = this.eos!;
    this.app.config.logger?.warn(
      `streams ${this.app.config.applicationId} thread ${this.index}: aborting (${kind}): ${(cause as Error)?.message ?? String(cause)}`,
    );
    let event: EosEvent = { type: 'error', kind, rebalancing };
    let lastError = cause;
    for (;;) {
      const plan = eos.step(event);
      if (plan.includes('fail')) {
        if (plan.includes('abortTransaction')) await this.producer.abortTransaction().catch(() => undefined);
        throw lastError instanceof Error
          ? lastError
          : new StreamsError('TASK_CORRUPTED', `exactly_once_v2 thread failed: ${String(lastError)}`);
      }
      try {
        await this.runPlan(plan);
      } catch (err) {
        lastError = err;
        event = { type: 'error', kind: classifyEosError(err), rebalancing };
        continue;
      }
      if (eos.phase === 'ABORTING') event = { type: 'aborted' };
      else if (eos.phase === 'RESTORING') event = { type: 'restored' };
      else return;
    }
  }

  private async runPlan(plan: readonly EosStep[]): Promise<void> {
    for (const step of plan) await this.runStep(step);
  }

  private async runStep(step: EosStep): Promise<void> {
    switch (step) {
      case 'beginTransaction':
        this.producer.beginTransaction();
        return;
      case 'flush':
        for (const t of this.tasks.values()) t.flushStores();
        await this.collector.flush();
        return;
      case 'sendOffsets': {
        // KIP-447: the group coordinator checks this generation and member id, fencing a zombie.
        const { groupId, generationId, memberId, groupInstanceId } = this.consumer.groupMetadata();
        await this.producer.sendOffsetsToTransaction({
          consumerGroupMetadata: { groupId, generationId, memberId, groupInstanceId },
          offsets: this.pendingOffsets,
        });
        return;
      }
      case 'commitTransaction':
        await this.producer.commitTransaction();
        return;
      case 'checkpoint':
        await this.persist([...this.tasks.values()]);
        return;
      case 'abortTransaction':
        try {
          await this.producer.abortTransaction();
        } finally {
          this.collector.reset();
        }
        return;
      case 'recreateProducer': {
        const old = this.producer;
        await old.close().catch(() => undefined);
        this.collector.reset();
        this.producer = this.newProducer();
        this.collector.setProducer(this.producer);
        // InitProducerId bumps the epoch and aborts whatever the old producer left open.
        await this.producer.initTransactions();
        return;
      }
      case 'closeTasksDirty':
        // Nothing is flushed or checkpointed: persistent stores keep what the last commit wrote.
        for (const task of [...this.tasks.values(), ...this.suspended.values()]) {
          try {
            await this.closeTask(task);
          } catch (err) {
            this.app.config.logger?.warn(`closing task ${task.id} dirty: ${(err as Error).message}`);
          }
        }
        this.tasks.clear();
        this.suspended.clear();
        return;
      case 'restoreTasks': {
        const ids = [...new Set(this.consumer.assignment().map((tp) => this.taskIdOf(tp)))].sort();
        for (const id of ids) {
          const task = this.newTask(id);
          this.tasks.set(id, task);
          await this.restore(task, task.partition);
        }
        return;
      }
      case 'rewindConsumer': {
        const owned = this.consumer.assignment();
        const committed = await this.consumer.committedOffsets(owned);
        for (const tp of owned) {
          // A read_committed member's OffsetFetch asks for stable offsets (KIP-447), so a commit whose
          // marker is still pending is waited for. What this thread committed itself in this
          // assignment is at least as new as the answer anyway: the larger one counts.
          const fetched = committed.get(`${tp.topic}-${tp.partition}`) ?? -1n;
          const own = this.committedOffsets.get(`${tp.topic}\0${tp.partition}`) ?? -1n;
          const offset = fetched > own ? fetched : own;
          await this.consumer.seek({ ...tp, offset: offset >= 0n ? offset : 'earliest' });
        }
        return;
      }
      case 'fail':
        return;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    try {
      if (this.running) await this.commit(true);
      if (this.eos && this.eos.phase === 'RUNNING') await this.runPlan(this.eos.step({ type: 'close' }));
    } finally {
      for (const t of this.tasks.values()) await this.closeTask(t);
      await this.consumer.close();
      await this.producer.close();
    }
  }
}

/** Reads every partition of the global topics into the global stores, first to the end, then on. */
class GlobalThread {
  readonly stores = new Map<string, StateStore>();
  private readonly tasks = new Map<string, StreamTask>();
  private consumer!: Consumer<Buffer | null, Buffer | null>;
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly app: SamsaStreams,
    private readonly samsa: Samsa,
  ) {}

  async start(): Promise<void> {
    const { topology, config } = this.app;
    const collector: RecordCollector = {
      send: () => {
        throw new StreamsError('TOPOLOGY_EXCEPTION', 'a global store processor cannot produce');
      },
    };
    for (const g of topology.globalStores) {
      const task = new StreamTask({
        applicationId: config.applicationId,
        topology,
        partition: 0,
        collector,
        now: () => this.app.clock(),
        globalStores: new Map(),
        deserializationHandler: config.deserializationExceptionHandler ?? 'fail',
        subTopology: {
          id: -1,
          nodes: [topology.node(g.sourceName), topology.node(g.processorName)],
          sourceTopics: [g.topic],
          stores: [g.store.name],
        },
      });
      this.tasks.set(g.topic, task);
      this.stores.set(g.store.name, task.getStore<StateStore>(g.store.name)!);
    }
    const admin = this.samsa.admin();
    const described = await admin.describeTopics([...this.tasks.keys()]);
    const tps = described.flatMap((d) => d.partitions.map((p) => ({ topic: d.name, partition: p.partition })));
    this.consumer = this.samsa.consumer<Buffer | null, Buffer | null>({
      autoOffsetReset: 'earliest',
      ...(this.app.exactlyOnce ? { isolationLevel: 'read_committed' as const } : {}),
    });
    this.consumer.assign(tps);
    const ends = new Map<string, bigint>();
    for (const d of described) {
      for (const o of await admin.listOffsets(
        d.name,
        d.partitions.map((p) => ({ partition: p.partition, timestamp: 'latest' as const })),
      ))
        ends.set(`${d.name}-${o.partition}`, o.offset);
    }
    const deadline = this.app.clock() + 120_000;
    while (tps.some((tp) => (this.consumer.position(tp) ?? 0n) < (ends.get(`${tp.topic}-${tp.partition}`) ?? 0n))) {
      if (this.app.clock() > deadline) throw new StreamsError('RESTORE_TIMEOUT', 'global stores did not catch up within 120 s');
      this.apply(await this.consumer.poll({ maxWaitMs: 200 }));
    }
    this.loop = (async () => {
      while (!this.stopping) this.apply(await this.consumer.poll({ maxWaitMs: 200 }));
    })().catch((err: Error) => {
      if (!this.stopping) this.app.fail(err);
    });
  }

  private apply(records: ConsumerRecord<Buffer | null, Buffer | null>[]): void {
    for (const r of records) this.tasks.get(r.topic)?.process(r.topic, Number(r.offset), r.key, r.value, Number(r.timestamp), r.headers);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.close();
    await this.loop;
  }
}
