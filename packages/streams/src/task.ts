/**
 * A task: one instance of a sub-topology for one partition (Kafka's `StreamTask` with its
 * `ProcessorContextImpl`, `SourceNode`/`SinkNode`, `PunctuationQueue` and the task's stream time).
 * Pure: bytes in through `process`, bytes out through the `RecordCollector`, time through
 * `punctuateWallClock(now)` and the injected clock. The driver and the runtime both drive it.
 */
import type { Cancellable, Processor, ProcessorContext, Punctuator, PunctuationType } from './processor.js';
import type { Headers, RecordMetadata, StreamRecord } from './record.js';
import type { KeyValueStore, SessionStore, StateStore, WindowStore } from './stores.js';
import type { SubTopology, Topology, TopologyNode } from './topology.js';

export class StreamsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where a task's output goes: sinks, repartition topics and changelogs. */
export interface RecordCollector {
  /** `partition` undefined: choose by key (the producer's partitioner). */
  send(topic: string, partition: number | undefined, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): void;
}

/**
 * What to do with a record the source cannot deserialize (Kafka's
 * `DeserializationExceptionHandler`): fail the task, skip it (counted), or skip it and copy its
 * raw bytes to a dead-letter topic with the error in headers.
 */
export type DeserializationHandler = 'fail' | 'continue' | { deadLetterQueue: string };

export interface TaskConfig {
  applicationId: string;
  subTopology: SubTopology;
  topology: Topology;
  partition: number;
  collector: RecordCollector;
  /** Wall-clock ms (the one clock). */
  now: () => number;
  globalStores: ReadonlyMap<string, StateStore>;
  deserializationHandler: DeserializationHandler;
}

interface Schedule {
  intervalMs: number;
  type: PunctuationType;
  punctuator: Punctuator;
  next: number | null;
  cancelled: boolean;
  node: NodeInstance;
}

interface NodeInstance {
  def: TopologyNode;
  children: NodeInstance[];
  process(record: StreamRecord<unknown, unknown>): void;
}

export class StreamTask {
  readonly id: string;
  readonly stores = new Map<string, StateStore>();
  /** Largest timestamp processed; -Infinity before the first record. */
  streamTime = Number.NEGATIVE_INFINITY;
  droppedRecords = 0;
  /** Next offset to consume per input topic (what a commit writes). */
  readonly consumedOffsets = new Map<string, number>();
  private readonly nodes = new Map<string, NodeInstance>();
  private readonly sourceByTopic = new Map<string, NodeInstance>();
  private readonly schedules: Schedule[] = [];
  private current: RecordMetadata | null = null;
  private currentTimestamp = 0;
  private readonly processors: Processor[] = [];

  constructor(private readonly config: TaskConfig) {
    const { subTopology, topology, applicationId, partition } = config;
    this.id = `${subTopology.id}_${partition}`;
    for (const storeName of subTopology.stores) {
      const builder = topology.storeBuilders.get(storeName)!;
      const store = builder.build();
      if (builder.logged) {
        const changelog = `${applicationId}-${storeName}-changelog`;
        store.attachChangelog((key, value, timestamp) => {
          config.collector.send(changelog, partition, key, value, timestamp ?? this.currentTimestamp, {});
        });
      }
      this.stores.set(storeName, store);
    }
    // Build children before parents so each instance holds direct references.
    const build = (def: TopologyNode): NodeInstance => {
      const existing = this.nodes.get(def.name);
      if (existing) return existing;
      const children = def.children.map((c) => build(topology.node(c)));
      const inst = this.instantiate(def, children);
      this.nodes.set(def.name, inst);
      return inst;
    };
    for (const def of subTopology.nodes) build(def);
    for (const def of subTopology.nodes) {
      if (def.kind === 'source')
        for (const t of def.topics) this.sourceByTopic.set(topology.resolve(t, applicationId), this.nodes.get(def.name)!);
    }
    // init in build order, as Kafka initializes nodes topologically.
    for (const def of subTopology.nodes) {
      const inst = this.nodes.get(def.name)!;
      if (def.kind === 'processor') (inst as NodeInstance & { init(): void }).init();
    }
  }

  get partition(): number {
    return this.config.partition;
  }

  get sourceTopics(): string[] {
    return [...this.sourceByTopic.keys()];
  }

  private instantiate(def: TopologyNode, children: NodeInstance[]): NodeInstance {
    const forwardAll = (record: StreamRecord<unknown, unknown>): void => {
      for (const c of children) c.process(record);
    };
    if (def.kind === 'source') {
      return { def, children, process: forwardAll };
    }
    if (def.kind === 'sink') {
      const { applicationId, topology, collector } = this.config;
      return {
        def,
        children,
        process: (record) => {
          const topic = typeof def.topic === 'string' ? def.topic : def.topic(record.key, record.value, record);
          let key: Buffer | null;
          let value: Buffer | null;
          try {
            key = def.keySerde.serialize(record.key);
            value = def.valueSerde.serialize(record.value);
          } catch (err) {
            throw new StreamsError(
              'SERIALIZATION_ERROR',
              `sink ${def.name} could not serialize a record for ${topic}: ${(err as Error).message}`,
              { cause: err },
            );
          }
          collector.send(topology.resolve(topic, applicationId), undefined, key, value, record.timestamp, record.headers);
        },
      };
    }
    const processor = def.supplier();
    this.processors.push(processor);
    const task = this;
    const allowed = new Set(def.stores);
    const byName = new Map(children.map((c) => [c.def.name, c]));
    const inst: NodeInstance & { init(): void } = {
      def,
      children,
      process: (record) => processor.process(record),
      init: () => processor.init?.(context),
    };
    const context: ProcessorContext = {
      applicationId: this.config.applicationId,
      taskId: this.id,
      forward(record, childName) {
        if (childName === undefined) return forwardAll(record);
        const child = byName.get(childName);
        if (!child) throw new StreamsError('TOPOLOGY_EXCEPTION', `${def.name} has no child ${childName}`);
        child.process(record);
      },
      getStateStore<S>(name: string): S {
        if (allowed.has(name)) {
          const local = task.stores.get(name);
          if (local) return local as S;
        }
        const global = task.config.globalStores.get(name);
        if (global) return global as S;
        throw new StreamsError('TOPOLOGY_EXCEPTION', `Processor ${def.name} has no access to store ${name}`);
      },
      schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
        if (!(intervalMs >= 1)) throw new StreamsError('INVALID_ARGUMENT', `punctuation interval must be at least 1 ms, got ${intervalMs}`);
        const s: Schedule = {
          intervalMs,
          type,
          punctuator,
          cancelled: false,
          node: inst,
          next: type === 'WALL_CLOCK_TIME' ? task.config.now() + intervalMs : null,
        };
        task.schedules.push(s);
        return {
          cancel: () => {
            s.cancelled = true;
          },
        };
      },
      recordMetadata: () => task.current,
      currentStreamTimeMs: () => task.streamTime,
      currentSystemTimeMs: () => task.config.now(),
      recordDropped: () => {
        task.droppedRecords++;
      },
    };
    return inst;
  }

  /** Apply the deserialization handler; null when the record is skipped. */
  private deserialize(
    source: NodeInstance,
    topic: string,
    offset: number,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers,
  ): StreamRecord<unknown, unknown> | null {
    const def = source.def as Extract<TopologyNode, { kind: 'source' }>;
    try {
      return { key: def.keySerde.deserialize(key), value: def.valueSerde.deserialize(value), timestamp, headers };
    } catch (err) {
      const handler = this.config.deserializationHandler;
      const message = `could not deserialize the record at ${topic}-${this.config.partition}@${offset}: ${(err as Error).message}`;
      if (handler === 'fail') throw new StreamsError('DESERIALIZATION_ERROR', message, { cause: err });
      this.droppedRecords++;
      if (handler !== 'continue') {
        this.config.collector.send(handler.deadLetterQueue, undefined, key, value, timestamp, {
          ...headers,
          '__streams.errors.exception': Buffer.from((err as Error).message),
          '__streams.errors.topic': Buffer.from(topic),
          '__streams.errors.partition': Buffer.from(String(this.config.partition)),
          '__streams.errors.offset': Buffer.from(String(offset)),
        });
      }
      return null;
    }
  }

  /** Process one input record of partition `this.partition` of `topic` (a resolved name). */
  process(topic: string, offset: number, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers = {}): void {
    const source = this.sourceByTopic.get(topic);
    if (!source) throw new StreamsError('TOPOLOGY_EXCEPTION', `task ${this.id} does not read ${topic}`);
    this.consumedOffsets.set(topic, offset + 1);
    if (!Number.isFinite(timestamp) || timestamp < 0) {
      // Kafka's default timestamp extractor fails on negative timestamps; we skip and count.
      this.droppedRecords++;
      return;
    }
    const record = this.deserialize(source, topic, offset, key, value, timestamp, headers);
    if (record === null) return;
    if (timestamp > this.streamTime) this.streamTime = timestamp;
    this.current = { topic, partition: this.config.partition, offset };
    this.currentTimestamp = timestamp;
    try {
      source.process(record);
    } finally {
      this.current = null;
    }
    this.punctuate('STREAM_TIME', this.streamTime);
  }

  /** Fire wall-clock punctuators that are due at `now`; true when any fired. */
  punctuateWallClock(now: number): boolean {
    return this.punctuate('WALL_CLOCK_TIME', now);
  }

  private punctuate(type: PunctuationType, time: number): boolean {
    let fired = false;
    for (const s of this.schedules) {
      if (s.cancelled || s.type !== type) continue;
      if (s.next === null) s.next = time; // stream time: the first record starts the schedule
      if (time < s.next) continue;
      s.next += Math.floor((time - s.next) / s.intervalMs + 1) * s.intervalMs;
      this.currentTimestamp = time;
      s.punctuator(time);
      fired = true;
    }
    return fired;
  }

  getStore<S = KeyValueStore<any, any> | WindowStore<any, any> | SessionStore<any, any>>(name: string): S | undefined {
    return this.stores.get(name) as S | undefined;
  }

  flushStores(): void {
    for (const s of this.stores.values()) s.flush();
  }

  close(): void {
    for (const p of this.processors) p.close?.();
    for (const s of this.stores.values()) s.close();
  }
}
