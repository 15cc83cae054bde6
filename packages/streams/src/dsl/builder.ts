/**
 * `StreamsBuilder` (Kafka's `StreamsBuilder` + `InternalStreamsBuilder`): the DSL's entry point. It
 * names every node `<OPERATOR>-<10-digit counter>` in build order unless the caller names it, so the
 * same program always builds the same topology, stores and internal topics.
 */
import { serdes } from '@samsa/client';
import type { Serde } from '@samsa/client';
import type { Processor, ProcessorContext } from '../processor.js';
import type { StreamRecord } from '../record.js';
import { Stores } from '../stores.js';
import { persistentKeyValueStore } from '../persistentStore.js';
import type { KeyValueStore, StoreBuilder } from '../stores.js';
import { Topology } from '../topology.js';
import { GlobalKTable, KStream } from './kstream.js';
import { KTable } from './ktable.js';
import type { Change } from '../record.js';

export interface Consumed<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** The source node's name. */
  name?: string;
}

export interface Materialized<K, V> {
  /** Store name (and so changelog `<applicationId>-<name>-changelog`). */
  name?: string;
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** Log writes to the changelog. Default true. */
  logging?: boolean;
  /** Keep a key-value store in LevelDB under the runtime's stateDir (restores from a local checkpoint). */
  persistent?: boolean;
}

/** The key-value store a Materialized asks for. */
export function keyValueStoreFor<K, V>(
  name: string,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  materialized: Materialized<any, any>,
): StoreBuilder {
  const opts = { logged: materialized.logging ?? true };
  return materialized.persistent
    ? persistentKeyValueStore(name, keySerde, valueSerde, opts)
    : Stores.keyValue(name, keySerde, valueSerde, opts);
}

export interface StreamsBuilderOptions {
  /** Kafka's default.key.serde / default.value.serde. Default: JSON (any JSON value, null kept). */
  defaultKeySerde?: Serde<any>;
  defaultValueSerde?: Serde<any>;
}

/** What the DSL classes share: the topology under construction, naming, and default serdes. */
export class InternalBuilder {
  readonly topology = new Topology();
  private counter = 0;
  readonly defaultKeySerde: Serde<any>;
  readonly defaultValueSerde: Serde<any>;

  constructor(options: StreamsBuilderOptions) {
    this.defaultKeySerde = options.defaultKeySerde ?? serdes.json();
    this.defaultValueSerde = options.defaultValueSerde ?? serdes.json();
  }

  newName(prefix: string): string {
    return `${prefix}-${String(this.counter++).padStart(10, '0')}`;
  }

  /**
   * A processor from a function of (context, record, state), attached after `parents`. `init` makes
   * the per-instance state: every task has its own instance, so nothing per task may live in a
   * closure shared by the topology.
   */
  addProcessor<KIn, VIn, St = undefined>(
    name: string,
    parents: string[],
    process: (ctx: ProcessorContext, record: StreamRecord<KIn, VIn>, state: St) => void,
    stores: string[] = [],
    init?: (ctx: ProcessorContext) => St,
  ): string {
    this.topology.addProcessor(
      name,
      (): Processor<KIn, VIn> => {
        let context: ProcessorContext;
        let state: St;
        return {
          init(ctx) {
            context = ctx as ProcessorContext;
            state = init ? init(context) : (undefined as St);
          },
          process: (record) => process(context, record, state),
        };
      },
      parents,
      stores,
    );
    return name;
  }
}

export class StreamsBuilder {
  /** @internal */
  readonly internal: InternalBuilder;

  constructor(options: StreamsBuilderOptions = {}) {
    this.internal = new InternalBuilder(options);
  }

  /** A KStream over one or more topics (one source node). */
  stream<K = unknown, V = unknown>(topics: string | string[], consumed: Consumed<K, V> = {}): KStream<K, V> {
    const b = this.internal;
    const name = consumed.name ?? b.newName('KSTREAM-SOURCE');
    b.topology.addSource(
      name,
      Array.isArray(topics) ? topics : [topics],
      consumed.keySerde ?? b.defaultKeySerde,
      consumed.valueSerde ?? b.defaultValueSerde,
    );
    return new KStream<K, V>(b, name, consumed.keySerde, consumed.valueSerde, false);
  }

  /** A KTable from a topic: the latest value per key, materialized in a logged key-value store. */
  table<K = unknown, V = unknown>(topic: string, consumed: Consumed<K, V> = {}, materialized: Materialized<K, V> = {}): KTable<K, V> {
    const b = this.internal;
    const keySerde = materialized.keySerde ?? consumed.keySerde;
    const valueSerde = materialized.valueSerde ?? consumed.valueSerde;
    const source = consumed.name ?? b.newName('KSTREAM-SOURCE');
    b.topology.addSource(source, [topic], consumed.keySerde ?? b.defaultKeySerde, consumed.valueSerde ?? b.defaultValueSerde);
    const processorName = b.newName('KTABLE-SOURCE');
    const storeName = materialized.name ?? `${topic}-STATE-STORE-${processorName.slice(-10)}`;
    b.topology.addStateStore(keyValueStoreFor(storeName, keySerde ?? b.defaultKeySerde, valueSerde ?? b.defaultValueSerde, materialized));
    b.addProcessor<K, V>(
      processorName,
      [source],
      (ctx, record) => {
        if (record.key === null || record.key === undefined) return ctx.recordDropped('null key');
        const store = ctx.getStateStore<KeyValueStore<K, V>>(storeName);
        const oldValue = store.get(record.key);
        store.put(record.key, record.value ?? null);
        ctx.forward<K, Change<V>>({ ...record, value: { newValue: record.value ?? null, oldValue } });
      },
      [storeName],
    );
    return KTable.fromStore<K, V>(b, processorName, storeName, keySerde, valueSerde, [topic]);
  }

  /** A table replicated in full to every instance: joins need no co-partitioning. */
  globalTable<K = unknown, V = unknown>(
    topic: string,
    consumed: Consumed<K, V> = {},
    materialized: Materialized<K, V> = {},
  ): GlobalKTable<K, V> {
    const b = this.internal;
    const source = consumed.name ?? b.newName('KSTREAM-SOURCE');
    const processorName = b.newName('KTABLE-SOURCE');
    const storeName = materialized.name ?? `${topic}-STATE-STORE-${processorName.slice(-10)}`;
    const store: StoreBuilder = Stores.keyValue(
      storeName,
      materialized.keySerde ?? consumed.keySerde ?? b.defaultKeySerde,
      materialized.valueSerde ?? consumed.valueSerde ?? b.defaultValueSerde,
      { logged: false },
    );
    b.topology.addGlobalStore(
      store,
      source,
      topic,
      consumed.keySerde ?? b.defaultKeySerde,
      consumed.valueSerde ?? b.defaultValueSerde,
      processorName,
      () => {
        let kv: KeyValueStore<K, V>;
        return {
          init(ctx) {
            kv = ctx.getStateStore(storeName);
          },
          process(record: StreamRecord<K, V>) {
            if (record.key === null || record.key === undefined) return;
            kv.put(record.key, record.value ?? null);
          },
        };
      },
    );
    return new GlobalKTable<K, V>(storeName);
  }

  /** Add a store for the Processor API (`stream.process(supplier, storeName)`). */
  addStateStore(store: StoreBuilder): this {
    this.internal.topology.addStateStore(store);
    return this;
  }

  build(): Topology {
    return this.internal.topology;
  }
}
