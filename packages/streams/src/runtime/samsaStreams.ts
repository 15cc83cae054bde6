/**
 * The runtime on a real cluster (Kafka's `KafkaStreams`, `StreamThread`, `TaskManager`,
 * `StoreChangelogReader`, `GlobalStreamThread`, reduced). Every instance of an application id joins
 * one consumer group through the Streams assignor; each thread owns its tasks, restores their stores
 * from the changelogs when it gets them, processes polled records, and commits at-least-once:
 * flush stores → flush the producer → commit offsets (README "Commit protocol"). Exactly-once
 * replaces `AtLeastOnceCommitter` by a transactional one (not built yet).
 */
import { Samsa, TopicAlreadyExistsError, defaultPartitioner } from '@samsa/client';
import type { Consumer, ConsumerRecord, GroupConsumer, Logger, Producer, SamsaConfig, Serde, TopicPartition } from '@samsa/client';
import type { StateStore } from '../stores.js';
import { PersistentKeyValueStore } from '../persistentStore.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamTask, StreamsError } from '../task.js';
import type { DeserializationHandler, RecordCollector } from '../task.js';
import type { Topology } from '../topology.js';
import { streamsAssignor } from './assignor.js';
import { planInternalTopics } from './internalTopics.js';
import { ProducerCollector } from './collector.js';
import type { ProductionHandler } from './collector.js';

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
  processingGuarantee?: 'at_least_once';
  /** Concurrency: consumer-group members in this process. Default 1. */
  numStreamThreads?: number;
  /** Default 30000 (Kafka's at-least-once default). */
  commitIntervalMs?: number;
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

/** How a thread makes its work durable. At-least-once now; exactly_once_v2 later (transactions). */
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

  constructor(
    readonly topology: Topology,
    readonly config: StreamsConfig,
  ) {
    if (!config.applicationId) throw new StreamsError('INVALID_CONFIG', 'applicationId is required');
    if ((config.processingGuarantee ?? 'at_least_once') !== 'at_least_once') {
      throw new StreamsError(
        'INVALID_CONFIG',
        `processingGuarantee ${config.processingGuarantee} is not supported yet (exactly_once_v2 waits for transactions)`,
      );
    }
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

  constructor(
    private readonly app: SamsaStreams,
    private readonly samsa: Samsa,
    readonly index: number,
    private readonly globalStores: ReadonlyMap<string, StateStore>,
  ) {
    this.subs = app.topology.subTopologies();
    for (const s of this.subs) for (const t of s.sourceTopics) this.subByTopic.set(app.topology.resolve(t, app.config.applicationId), s.id);
  }

  start(): void {
    const { config, topology } = this.app;
    const assignor = streamsAssignor(
      this.subs.map((s) => ({ id: s.id, topics: s.sourceTopics.map((t) => topology.resolve(t, config.applicationId)) })),
    );
    this.producer = this.samsa.producer({ acks: -1 });
    this.collector = new ProducerCollector(
      this.producer,
      config.productionExceptionHandler ?? 'fail',
      `${config.applicationId}-`,
      config.logger,
    );
    this.consumer = this.samsa.consumer<Buffer | null, Buffer | null>({
      groupId: config.applicationId,
      ...(config.groupInstanceId ? { groupInstanceId: `${config.groupInstanceId}-${this.index}` } : {}),
      autoCommit: false,
      autoOffsetReset: 'earliest',
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
    this.consumer.subscribe([...this.subByTopic.keys()]);
    this.lastCommit = this.app.clock();
    this.loop = this.run().catch((err: Error) => {
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
    await this.commit();
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
    for (const task of [...this.tasks.values(), ...this.suspended.values()]) await this.closeTask(task);
    this.tasks.clear();
    this.suspended.clear();
    this.app.threadStateChanged();
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const ids = [...new Set(partitions.map((tp) => this.taskIdOf(tp)))].sort();
    for (const id of ids) {
      if (this.tasks.has(id)) continue;
      const kept = this.suspended.get(id);
      if (kept) {
        this.suspended.delete(id);
        this.tasks.set(id, kept);
        continue;
      }
      const [sub, partition] = id.split('_').map(Number) as [number, number];
      const task = new StreamTask({
        applicationId: this.app.config.applicationId,
        subTopology: this.subs[sub]!,
        topology: this.app.topology,
        partition,
        collector: this.collector,
        now: () => this.app.clock(),
        globalStores: this.globalStores,
        deserializationHandler: this.app.config.deserializationExceptionHandler ?? 'fail',
      });
      await this.restore(task, partition);
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
      const reader: Consumer<Buffer | null, Buffer | null> = this.samsa.consumer<Buffer | null, Buffer | null>({
        autoOffsetReset: 'earliest',
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
    const commitIntervalMs = this.app.config.commitIntervalMs ?? 30_000;
    while (!this.stopping) {
      const records: ConsumerRecord<Buffer | null, Buffer | null>[] = await this.consumer.poll({ maxWaitMs: 100 });
      for (const r of records) {
        const task = this.tasks.get(this.taskIdOf(r));
        if (!task) continue; // revoked while the batch was in flight
        task.process(r.topic, Number(r.offset), r.key, r.value, Number(r.timestamp), r.headers);
      }
      const now = this.app.clock();
      for (const task of this.tasks.values()) task.punctuateWallClock(now);
      if (now - this.lastCommit >= commitIntervalMs) await this.commit();
    }
  }

  private async commit(): Promise<void> {
    const tasks = [...this.tasks.values()];
    const offsets: Array<TopicPartition & { offset: bigint }> = [];
    for (const task of tasks) {
      const partition = Number(task.id.split('_')[1]);
      for (const [topic, offset] of task.consumedOffsets) offsets.push({ topic, partition, offset: BigInt(offset) });
    }
    await this.committer.commit(tasks, offsets);
    this.lastCommit = this.app.clock();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    try {
      if (this.running) await this.commit();
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
    this.consumer = this.samsa.consumer<Buffer | null, Buffer | null>({ autoOffsetReset: 'earliest' });
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
