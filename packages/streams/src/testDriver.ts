/**
 * `TopologyTestDriver` (Kafka's `org.apache.kafka.streams.TopologyTestDriver`, `TestInputTopic`,
 * `TestOutputTopic`): runs a topology in-process without a cluster. Every topic has one partition,
 * so there is one task per sub-topology (`<id>_0`) and one global task. A piped record is processed
 * to completion; whatever it produced to a topic the topology itself reads (repartition topics,
 * `through`) is then processed in FIFO order before `pipeInput` returns. Every produced record,
 * changelogs included, is kept for `createOutputTopic` readers. Wall-clock time moves only by
 * `advanceWallClockTime`.
 */
import type { Serde } from '@samsa/client';
import type { Headers } from './record.js';
import { StreamTask, StreamsError } from './task.js';
import type { DeserializationHandler, RecordCollector } from './task.js';
import type { KeyValueStore, SessionStore, StateStore, WindowStore } from './stores.js';
import type { Topology } from './topology.js';

export interface TestDriverOptions {
  applicationId?: string;
  /** Wall-clock start, ms. Default 0. */
  initialWallClockTimeMs?: number;
  deserializationExceptionHandler?: DeserializationHandler;
}

export interface TestRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
}

interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}

export class TopologyTestDriver {
  readonly applicationId: string;
  private wallClock: number;
  private readonly tasks: StreamTask[] = [];
  private readonly globalTasks: StreamTask[] = [];
  private readonly taskByTopic = new Map<string, StreamTask>();
  /** Every record produced, per topic (what output topics read). */
  private readonly produced = new Map<string, RawRecord[]>();
  private readonly readPositions = new Map<string, number>();
  private readonly nextOffset = new Map<string, number>();
  private readonly pending: Array<{ topic: string; record: RawRecord }> = [];
  private processing = false;

  constructor(
    readonly topology: Topology,
    options: TestDriverOptions = {},
  ) {
    this.applicationId = options.applicationId ?? 'test-driver-application';
    this.wallClock = options.initialWallClockTimeMs ?? 0;
    const collector: RecordCollector = {
      send: (topic, _partition, key, value, timestamp, headers) => {
        const record = { key, value, timestamp, headers };
        if (!this.produced.has(topic)) this.produced.set(topic, []);
        this.produced.get(topic)!.push(record);
        if (this.taskByTopic.has(topic)) this.pending.push({ topic, record });
      },
    };
    const common = {
      applicationId: this.applicationId,
      topology,
      partition: 0,
      collector,
      now: () => this.wallClock,
      deserializationHandler: options.deserializationExceptionHandler ?? 'fail',
    };
    const globalStores = new Map<string, StateStore>();
    for (const g of topology.globalStores) {
      const task = new StreamTask({
        ...common,
        globalStores: new Map(),
        subTopology: {
          id: -1,
          nodes: [topology.node(g.sourceName), topology.node(g.processorName)],
          sourceTopics: [g.topic],
          stores: [g.store.name],
        },
      });
      globalStores.set(g.store.name, task.getStore(g.store.name) as StateStore);
      this.globalTasks.push(task);
      this.taskByTopic.set(g.topic, task);
    }
    for (const sub of topology.subTopologies()) {
      const task = new StreamTask({ ...common, subTopology: sub, globalStores });
      this.tasks.push(task);
      for (const t of task.sourceTopics) this.taskByTopic.set(t, task);
    }
  }

  createInputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestInputTopic<K, V> {
    return new TestInputTopic(this, topic, keySerde, valueSerde);
  }

  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, keySerde, valueSerde);
  }

  /** @internal Feed one serialized record to the task reading `topic`, then drain internal topics. */
  pipeRaw(topic: string, record: RawRecord): void {
    if (!this.taskByTopic.has(topic)) throw new StreamsError('UNKNOWN_TOPIC_OR_PARTITION', `the topology does not read topic ${topic}`);
    this.pending.push({ topic, record });
    if (this.processing) return;
    this.processing = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        const offset = this.nextOffset.get(next.topic) ?? 0;
        this.nextOffset.set(next.topic, offset + 1);
        const r = next.record;
        this.taskByTopic.get(next.topic)!.process(next.topic, offset, r.key, r.value, r.timestamp, r.headers);
      }
    } finally {
      this.processing = false;
      this.pending.length = 0;
    }
  }

  /** @internal */
  readRaw(topic: string): RawRecord | undefined {
    const all = this.produced.get(topic) ?? [];
    const at = this.readPositions.get(topic) ?? 0;
    if (at >= all.length) return undefined;
    this.readPositions.set(topic, at + 1);
    return all[at];
  }

  /** @internal */
  queueSize(topic: string): number {
    return (this.produced.get(topic)?.length ?? 0) - (this.readPositions.get(topic) ?? 0);
  }

  /** Move wall-clock time forward and fire the wall-clock punctuators that became due. */
  advanceWallClockTime(ms: number): void {
    if (!(ms >= 0)) throw new StreamsError('INVALID_ARGUMENT', `cannot move wall-clock time back (${ms} ms)`);
    this.wallClock += ms;
    for (const task of this.tasks) {
      task.punctuateWallClock(this.wallClock);
    }
    // Punctuators may have produced to internal topics.
    const queued = this.pending.splice(0);
    for (const q of queued) this.pipeRaw(q.topic, q.record);
  }

  /** Names of every topic a record was produced to, changelogs included. */
  producedTopicNames(): string[] {
    return [...this.produced.keys()].sort();
  }

  /** Records dropped per task id (late, null key, undeserializable ...). */
  droppedRecords(): Record<string, number> {
    return Object.fromEntries(this.tasks.map((t) => [t.id, t.droppedRecords]));
  }

  getStateStore(name: string): StateStore {
    for (const t of [...this.tasks, ...this.globalTasks]) {
      const s = t.getStore<StateStore>(name);
      if (s) return s;
    }
    throw new StreamsError('INVALID_STATE_STORE', `no store named ${name}`);
  }

  getKeyValueStore<K, V>(name: string): KeyValueStore<K, V> {
    return this.expect(name, 'keyValue') as KeyValueStore<K, V>;
  }

  getWindowStore<K, V>(name: string): WindowStore<K, V> {
    return this.expect(name, 'window') as WindowStore<K, V>;
  }

  getSessionStore<K, V>(name: string): SessionStore<K, V> {
    return this.expect(name, 'session') as SessionStore<K, V>;
  }

  private expect(name: string, kind: StateStore['kind']): StateStore {
    const s = this.getStateStore(name);
    if (s.kind !== kind) throw new StreamsError('INVALID_STATE_STORE', `store ${name} is a ${s.kind} store, not ${kind}`);
    return s;
  }

  close(): void {
    for (const t of [...this.tasks, ...this.globalTasks]) t.close();
  }
}

export class TestInputTopic<K, V> {
  private nextTimestamp: number;

  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    startTimestamp = 0,
    private readonly autoAdvanceMs = 0,
  ) {
    this.nextTimestamp = startTimestamp;
  }

  /** Pipe one record; without a timestamp it takes the topic's current time (then auto-advances). */
  pipeInput(key: K, value: V, timestamp?: number, headers: Headers = {}): void {
    const ts = timestamp ?? this.nextTimestamp;
    if (timestamp === undefined) this.nextTimestamp += this.autoAdvanceMs;
    this.driver.pipeRaw(this.name, { key: this.keySerde.serialize(key), value: this.valueSerde.serialize(value), timestamp: ts, headers });
  }

  /** Pipe bytes as they are (to test deserialization handling). */
  pipeRawInput(key: Buffer | null, value: Buffer | null, timestamp: number): void {
    this.driver.pipeRaw(this.name, { key, value, timestamp, headers: {} });
  }

  pipeRecordList(records: Array<{ key: K; value: V; timestamp?: number }>): void {
    for (const r of records) this.pipeInput(r.key, r.value, r.timestamp);
  }
}

export class TestOutputTopic<K, V> {
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  readRecord(): TestRecord<K, V> {
    const raw = this.driver.readRaw(this.name);
    if (!raw) throw new StreamsError('NO_SUCH_ELEMENT', `no record left in output topic ${this.name}`);
    return {
      key: this.keySerde.deserialize(raw.key),
      value: this.valueSerde.deserialize(raw.value),
      timestamp: raw.timestamp,
      headers: raw.headers,
    };
  }

  readKeyValue(): { key: K; value: V } {
    const { key, value } = this.readRecord();
    return { key, value };
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const out: TestRecord<K, V>[] = [];
    while (!this.isEmpty()) out.push(this.readRecord());
    return out;
  }

  readKeyValuesToList(): Array<{ key: K; value: V }> {
    return this.readRecordsToList().map(({ key, value }) => ({ key, value }));
  }

  /** The last value per key (a null value removes the key), as a table reader would see it. */
  readKeyValuesToMap(keyOf: (key: K) => string = (k) => JSON.stringify(k)): Map<string, V> {
    const out = new Map<string, V>();
    for (const r of this.readRecordsToList()) {
      if (r.value === null) out.delete(keyOf(r.key));
      else out.set(keyOf(r.key), r.value);
    }
    return out;
  }

  getQueueSize(): number {
    return this.driver.queueSize(this.name);
  }

  isEmpty(): boolean {
    return this.getQueueSize() === 0;
  }
}
