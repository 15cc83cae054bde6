/**
 * Grouped streams and their aggregations (Kafka's `KGroupedStream`, `TimeWindowedKStream`,
 * `SessionWindowedKStream` and the processors `KStreamAggregate`, `KStreamWindowAggregate`,
 * `KStreamSlidingWindowAggregate`, `KStreamSessionWindowAggregate`). Every aggregation keeps its
 * result in a logged store and forwards each update as a `Change`; windowed ones drop late records
 * (counted) by the rules in README.md.
 */
import type { Serde } from '@samsa/client';
import type { Change, Window, Windowed } from '../record.js';
import { streamsSerdes } from '../serdes.js';
import { Stores } from '../stores.js';
import type { KeyValueStore, SessionStore, WindowStore } from '../stores.js';
import type { KStream } from './kstream.js';
import { KTable } from './ktable.js';
import { keyValueStoreFor } from './builder.js';
import type { Materialized } from './builder.js';
import { SessionWindows, SlidingWindows, TimeWindows } from './windows.js';

export interface Grouped<K, V> {
  /** Names the repartition topic `<applicationId>-<name>-repartition`. */
  name?: string;
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
}

export type Initializer<A> = () => A;
export type Aggregator<K, V, A> = (key: K, value: V, aggregate: A) => A;
export type Reducer<V> = (aggregate: V, value: V) => V;
export type Merger<K, A> = (key: K, left: A, right: A) => A;

const isNull = (x: unknown): boolean => x === null || x === undefined;

export class KGroupedStream<K, V> {
  /** @internal */
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly grouped: Grouped<K, V>,
    private readonly repartitionRequired: boolean,
  ) {}

  private get keySerde(): Serde<K> | undefined {
    return this.grouped.keySerde ?? this.stream.keySerde;
  }

  private get valueSerde(): Serde<V> | undefined {
    return this.grouped.valueSerde ?? this.stream.valueSerde;
  }

  /** Store name, and the stream the aggregate reads (repartitioned as `<group or store>-repartition` if the key changed). */
  private prepare(
    materializedName: string | undefined,
    prefix: string,
  ): { input: KStream<K, V>; storeName: string; processorName: string } {
    const b = this.stream.builder;
    const processorName = b.newName(prefix);
    const storeName = materializedName ?? `${prefix}-STATE-STORE-${processorName.slice(-10)}`;
    const input = this.repartitionRequired
      ? this.stream.repartitionAs(this.grouped.name ?? storeName, { keySerde: this.keySerde, valueSerde: this.valueSerde })
      : this.stream;
    return { input, storeName, processorName };
  }

  count(materialized: Materialized<K, number> = {}): KTable<K, number> {
    return this.aggregate<number>(
      () => 0,
      (_k, _v, n) => n + 1,
      { valueSerde: streamsSerdes.long as Serde<number>, ...materialized },
    );
  }

  reduce(reducer: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<K, V> {
    return this.doAggregate<V>(null, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), {
      valueSerde: this.valueSerde,
      ...materialized,
    });
  }

  aggregate<A>(initializer: Initializer<A>, aggregator: Aggregator<K, V, A>, materialized: Materialized<K, A> = {}): KTable<K, A> {
    return this.doAggregate<A>(initializer, (k, v, agg) => aggregator(k, v, agg as A), materialized);
  }

  private doAggregate<A>(
    initializer: Initializer<A> | null,
    step: (key: K, value: V, agg: A | null) => A,
    materialized: Materialized<K, A>,
  ): KTable<K, A> {
    const b = this.stream.builder;
    const { input, storeName, processorName } = this.prepare(materialized.name, 'KSTREAM-AGGREGATE');
    const keySerde = materialized.keySerde ?? this.keySerde;
    const valueSerde = materialized.valueSerde;
    b.topology.addStateStore(keyValueStoreFor(storeName, keySerde ?? b.defaultKeySerde, valueSerde ?? b.defaultValueSerde, materialized));
    b.addProcessor<K, V>(
      processorName,
      [input.nodeName],
      (ctx, r) => {
        if (isNull(r.key) || isNull(r.value)) return ctx.recordDropped('null key or value');
        const store = ctx.getStateStore<KeyValueStore<K, A>>(storeName);
        const oldValue = store.get(r.key);
        const newValue = step(r.key, r.value, oldValue ?? (initializer ? initializer() : null));
        store.put(r.key, newValue);
        ctx.forward<K, Change<A>>({ ...r, value: { newValue, oldValue } });
      },
      [storeName],
    );
    return KTable.fromStore<K, A>(b, processorName, storeName, keySerde, valueSerde, []);
  }

  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: TimeWindows | SlidingWindows | SessionWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    if (windows instanceof SessionWindows) return new SessionWindowedKStream<K, V>(this, windows);
    return new TimeWindowedKStream<K, V>(this, windows);
  }

  /** @internal */
  windowedPrepare(materializedName: string | undefined, prefix: string) {
    return {
      ...this.prepare(materializedName, prefix),
      keySerde: this.keySerde,
      valueSerde: this.valueSerde,
      builder: this.stream.builder,
    };
  }
}

export class TimeWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: TimeWindows | SlidingWindows,
  ) {}

  count(materialized: Materialized<K, number> = {}): KTable<Windowed<K>, number> {
    return this.aggregate<number>(
      () => 0,
      (_k, _v, n) => n + 1,
      { valueSerde: streamsSerdes.long as Serde<number>, ...materialized },
    );
  }

  reduce(reducer: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<Windowed<K>, V> {
    return this.build<V>(null, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), materialized, true);
  }

  aggregate<A>(
    initializer: Initializer<A>,
    aggregator: Aggregator<K, V, A>,
    materialized: Materialized<K, A> = {},
  ): KTable<Windowed<K>, A> {
    return this.build<A>(initializer, (k, v, agg) => aggregator(k, v, agg as A), materialized, false);
  }

  private build<A>(
    initializer: Initializer<A> | null,
    step: (key: K, value: V, agg: A | null) => A,
    materialized: Materialized<K, A>,
    valueIsInput: boolean,
  ): KTable<Windowed<K>, A> {
    const w = this.windows;
    const prep = this.grouped.windowedPrepare(materialized.name, 'KSTREAM-AGGREGATE');
    const b = prep.builder;
    const keySerde = materialized.keySerde ?? prep.keySerde ?? b.defaultKeySerde;
    const valueSerde =
      materialized.valueSerde ?? (valueIsInput ? (prep.valueSerde as Serde<A> | undefined) : undefined) ?? b.defaultValueSerde;
    const { storeName, processorName, input } = prep;
    const logged = materialized.logging ?? true;
    const windowedKeySerde = streamsSerdes.windowed(keySerde) as Serde<Windowed<K>>;
    const init = (): A | null => (initializer ? initializer() : null);

    if (w instanceof TimeWindows) {
      b.topology.addStateStore(
        Stores.window(storeName, keySerde, valueSerde, {
          retentionMs: w.sizeMs + w.graceMs,
          windowSizeMs: w.sizeMs,
          retainDuplicates: false,
          logged,
        }),
      );
      b.addProcessor<K, V>(
        processorName,
        [input.nodeName],
        (ctx, r) => {
          if (isNull(r.key) || isNull(r.value)) return ctx.recordDropped('null key or value');
          const store = ctx.getStateStore<WindowStore<K, A>>(storeName);
          const streamTime = ctx.currentStreamTimeMs();
          let updated = 0;
          for (const window of w.windowsFor(r.timestamp)) {
            if (w.isClosed(window, streamTime)) continue;
            updated++;
            const oldValue = store.fetch(r.key, window.start);
            const newValue = step(r.key, r.value, oldValue ?? init());
            store.put(r.key, newValue, window.start);
            ctx.forward<Windowed<K>, Change<A>>({ ...r, key: { key: r.key, window }, value: { newValue, oldValue } });
          }
          if (updated === 0) ctx.recordDropped('late record: every window has closed');
        },
        [storeName],
      );
    } else {
      // Sliding: recompute every window the record falls in from the retained records (README).
      const d = w.timeDifferenceMs;
      const recordsStore = `${storeName}-records`;
      b.topology.addStateStore(
        Stores.window(storeName, keySerde, valueSerde, { retentionMs: d + w.graceMs, windowSizeMs: d, retainDuplicates: false, logged }),
      );
      b.topology.addStateStore(
        Stores.window(recordsStore, keySerde, prep.valueSerde ?? b.defaultValueSerde, {
          retentionMs: d + w.graceMs,
          windowSizeMs: 0,
          retainDuplicates: true,
          logged,
        }),
      );
      b.addProcessor<K, V>(
        processorName,
        [input.nodeName],
        (ctx, r) => {
          if (isNull(r.key) || isNull(r.value)) return ctx.recordDropped('null key or value');
          const t = r.timestamp;
          const streamTime = ctx.currentStreamTimeMs();
          if (t + d + w.graceMs < streamTime) return ctx.recordDropped('late record: every window has closed');
          const store = ctx.getStateStore<WindowStore<K, A>>(storeName);
          const records = ctx.getStateStore<WindowStore<K, V>>(recordsStore);
          records.put(r.key, r.value, t);
          const nearby = records.fetchRange(r.key, t - d - 1, t + d + 1);
          const starts = new Set<number>();
          for (const x of nearby) {
            if (x.start >= t && x.start <= t + d) starts.add(Math.max(0, x.start - d)); // window ending at x holds t
            if (x.start >= t - d - 1 && x.start <= t - 1) starts.add(x.start + 1); // window right after x holds t
          }
          starts.add(Math.max(0, t - d));
          if (nearby.some((x) => x.start > t && x.start <= t + 1 + d)) starts.add(t + 1); // the new window right after t
          for (const start of [...starts].sort((x, y) => x - y)) {
            const window: Window = { start, end: start + d };
            if (w.isClosed(window, streamTime)) continue;
            const inside = records.fetchRange(r.key, window.start, window.end);
            if (inside.length === 0) continue;
            let agg: A | null = init();
            for (const x of inside) agg = step(r.key, x.value, agg);
            const oldValue = store.fetch(r.key, start);
            store.put(r.key, agg, start);
            const timestamp = inside[inside.length - 1]!.start;
            ctx.forward<Windowed<K>, Change<A>>({ ...r, timestamp, key: { key: r.key, window }, value: { newValue: agg, oldValue } });
          }
        },
        [storeName, recordsStore],
      );
    }
    return new KTable<Windowed<K>, A>(
      b,
      processorName,
      windowedKeySerde,
      materialized.valueSerde ?? (valueIsInput ? (prep.valueSerde as Serde<A> | undefined) : undefined),
      null,
      [],
      (win, st) => w.isClosed(win, st),
      storeName,
    );
  }
}

export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: SessionWindows,
  ) {}

  count(materialized: Materialized<K, number> = {}): KTable<Windowed<K>, number> {
    return this.aggregate<number>(
      () => 0,
      (_k, _v, n) => n + 1,
      (_k, a, c) => a + c,
      { valueSerde: streamsSerdes.long as Serde<number>, ...materialized },
    );
  }

  reduce(reducer: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<Windowed<K>, V> {
    return this.build<V>(
      null,
      (_k, v, agg) => (agg === null ? v : reducer(agg, v)),
      (_k, a, c) => reducer(a, c),
      materialized,
      true,
    );
  }

  aggregate<A>(
    initializer: Initializer<A>,
    aggregator: Aggregator<K, V, A>,
    merger: Merger<K, A>,
    materialized: Materialized<K, A> = {},
  ): KTable<Windowed<K>, A> {
    return this.build<A>(initializer, (k, v, agg) => aggregator(k, v, agg as A), merger, materialized, false);
  }

  private build<A>(
    initializer: Initializer<A> | null,
    step: (key: K, value: V, agg: A | null) => A,
    merger: Merger<K, A>,
    materialized: Materialized<K, A>,
    valueIsInput: boolean,
  ): KTable<Windowed<K>, A> {
    const w = this.windows;
    const prep = this.grouped.windowedPrepare(materialized.name, 'KSTREAM-AGGREGATE');
    const b = prep.builder;
    const keySerde = materialized.keySerde ?? prep.keySerde ?? b.defaultKeySerde;
    const valueSerde =
      materialized.valueSerde ?? (valueIsInput ? (prep.valueSerde as Serde<A> | undefined) : undefined) ?? b.defaultValueSerde;
    const { storeName, processorName, input } = prep;
    b.topology.addStateStore(
      Stores.session(storeName, keySerde, valueSerde, {
        retentionMs: w.gapMs + w.graceMs,
        bridgeMs: 2 * w.gapMs,
        logged: materialized.logging ?? true,
      }),
    );
    b.addProcessor<K, V>(
      processorName,
      [input.nodeName],
      (ctx, r) => {
        if (isNull(r.key) || isNull(r.value)) return ctx.recordDropped('null key or value');
        const store = ctx.getStateStore<SessionStore<K, A>>(storeName);
        const t = r.timestamp;
        const closeTime = ctx.currentStreamTimeMs() - w.graceMs;
        const overlapping = store.findSessions(r.key, t - w.gapMs, t + w.gapMs);
        let start = t;
        let end = t;
        let agg: A | null = initializer ? initializer() : null;
        for (const s of overlapping) {
          start = Math.min(start, s.key.window.start);
          end = Math.max(end, s.key.window.end);
          agg = agg === null ? s.value : merger(r.key, agg, s.value);
        }
        if (end < closeTime) return ctx.recordDropped('late record: its session has closed');
        agg = step(r.key, r.value, agg);
        const merged: Windowed<K> = { key: r.key, window: { start, end } };
        let oldValue: A | null = null;
        for (const s of overlapping) {
          if (s.key.window.start === start && s.key.window.end === end) {
            oldValue = s.value;
            continue;
          }
          store.remove(s.key);
          ctx.forward<Windowed<K>, Change<A>>({
            ...r,
            timestamp: s.key.window.end,
            key: s.key,
            value: { newValue: null, oldValue: s.value },
          });
        }
        store.put(merged, agg);
        ctx.forward<Windowed<K>, Change<A>>({ ...r, timestamp: end, key: merged, value: { newValue: agg, oldValue } });
      },
      [storeName],
    );
    return new KTable<Windowed<K>, A>(
      b,
      processorName,
      streamsSerdes.windowed(keySerde) as Serde<Windowed<K>>,
      materialized.valueSerde ?? (valueIsInput ? (prep.valueSerde as Serde<A> | undefined) : undefined),
      null,
      [],
      (win, st) => w.isClosed(win, st),
      storeName,
    );
  }
}
