/**
 * `KTable<K, V>` (Kafka's `KTable` / `KTableImpl`): a changelog stream whose records carry
 * `Change { newValue, oldValue }`, plus a value getter (Kafka's `KTableValueGetterSupplier`) so joins
 * can look up a key's current value through filters and mapValues without materializing them.
 */
import type { Serde } from '@samsa/client';
import type { ProcessorContext } from '../processor.js';
import type { Change, Window, Windowed } from '../record.js';
import { Stores } from '../stores.js';
import { SerializationError } from '../serdes.js';
import type { KeyValueStore } from '../stores.js';
import type { InternalBuilder } from './builder.js';
import { KStream } from './kstream.js';
import type { Named } from './kstream.js';
import { addTableTableJoin } from './joins.js';

/** Looks up a key's current value in a table, inside a processor that is connected to `stores`. */
export interface ValueGetterSupplier<K, V> {
  stores: string[];
  init(ctx: ProcessorContext): (key: K) => V | null;
}

/** Kafka's `Suppressed.untilWindowCloses(BufferConfig.unbounded())`. */
export const Suppressed = {
  untilWindowCloses(): { kind: 'untilWindowCloses'; name?: string } {
    return { kind: 'untilWindowCloses' };
  },
};

export class KTable<K, V> {
  /** @internal */
  constructor(
    readonly builder: InternalBuilder,
    readonly nodeName: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly getter: ValueGetterSupplier<K, V> | null,
    /** Source topics the table derives from (co-partitioning checks). */
    readonly sourceTopics: string[],
    /** For windowed tables: when a window closes (suppress). */
    readonly windowClosed: ((window: Window, streamTime: number) => boolean) | null = null,
    /** The store an interactive query reads, when there is one. */
    readonly queryableStoreName: string | null = null,
  ) {}

  /** @internal */
  static fromStore<K, V>(
    b: InternalBuilder,
    nodeName: string,
    storeName: string,
    keySerde: Serde<K> | undefined,
    valueSerde: Serde<V> | undefined,
    sourceTopics: string[],
  ): KTable<K, V> {
    const getter: ValueGetterSupplier<K, V> = {
      stores: [storeName],
      init: (ctx) => {
        const store = ctx.getStateStore<KeyValueStore<K, V>>(storeName);
        return (key) => store.get(key);
      },
    };
    return new KTable<K, V>(b, nodeName, keySerde, valueSerde, getter, sourceTopics, null, storeName);
  }

  private derive<V2>(
    prefix: string,
    named: Named | undefined,
    map: (key: K, value: V | null) => V2 | null,
    valueSerde: Serde<V2> | undefined,
  ): KTable<K, V2> {
    const b = this.builder;
    const name = b.addProcessor<K, Change<V>>(named?.name ?? b.newName(prefix), [this.nodeName], (ctx, r) => {
      const newValue = map(r.key, r.value.newValue);
      const oldValue = map(r.key, r.value.oldValue);
      if (newValue === null && oldValue === null) return;
      ctx.forward<K, Change<V2>>({ ...r, value: { newValue, oldValue } });
    });
    const parent = this.getter;
    const getter: ValueGetterSupplier<K, V2> | null = parent && {
      stores: parent.stores,
      init: (ctx) => {
        const get = parent.init(ctx);
        return (key) => map(key, get(key));
      },
    };
    return new KTable<K, V2>(b, name, this.keySerde, valueSerde, getter, this.sourceTopics, this.windowClosed);
  }

  filter(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    return this.derive<V>('KTABLE-FILTER', named, (k, v) => (v !== null && predicate(k, v) ? v : null), this.valueSerde);
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    return this.filter((k, v) => !predicate(k, v), named);
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KTable<K, V2> {
    return this.derive<V2>('KTABLE-MAPVALUES', named, (k, v) => (v === null ? null : mapper(v, k)), undefined);
  }

  /** The table's updates as a stream (a deleted key becomes a null value). */
  toStream(named?: Named): KStream<K, V | null> {
    const b = this.builder;
    const name = b.addProcessor<K, Change<V>>(named?.name ?? b.newName('KTABLE-TOSTREAM'), [this.nodeName], (ctx, r) =>
      ctx.forward({ ...r, value: r.value.newValue }),
    );
    return new KStream<K, V | null>(b, name, this.keySerde, this.valueSerde as Serde<V | null> | undefined, false);
  }

  /**
   * Emit only each window's final value, once stream time closes the window (windowed tables only).
   * The buffer is a logged key-value store, so a restarted task still emits what it held.
   */
  suppress(suppressed: { kind: 'untilWindowCloses'; name?: string }, named?: Named): KTable<K, V> {
    const closed = this.windowClosed;
    if (!closed) throw new Error('suppress(untilWindowCloses) needs a windowed table (windowedBy(...).aggregate)');
    const b = this.builder;
    const name = named?.name ?? suppressed.name ?? b.newName('KTABLE-SUPPRESS');
    const storeName = `${name}-store`;
    const keySerde = this.keySerde ?? b.defaultKeySerde;
    const valueSerde = this.valueSerde ?? b.defaultValueSerde;
    b.topology.addStateStore(Stores.keyValue(storeName, keySerde, timestamped(valueSerde)));
    type W = K & Windowed<unknown>;
    b.addProcessor<W, Change<V>>(
      name,
      [this.nodeName],
      (ctx, r) => {
        const buffer = ctx.getStateStore<KeyValueStore<W, { timestamp: number; value: V }>>(storeName);
        if (r.value.newValue === null) buffer.delete(r.key);
        else buffer.put(r.key, { timestamp: r.timestamp, value: r.value.newValue });
        const streamTime = ctx.currentStreamTimeMs();
        const due = buffer.all().filter((e) => closed(e.key.window, streamTime));
        due.sort((x, y) => x.key.window.end - y.key.window.end || x.key.window.start - y.key.window.start);
        for (const e of due) {
          buffer.delete(e.key);
          ctx.forward<W, Change<V>>({
            key: e.key,
            value: { newValue: e.value.value, oldValue: null },
            timestamp: e.value.timestamp,
            headers: {},
          });
        }
      },
      [storeName],
    );
    return new KTable<K, V>(b, name, this.keySerde, this.valueSerde, null, this.sourceTopics, this.windowClosed);
  }

  join<VO, VR>(other: KTable<K, VO>, joiner: (left: V, right: VO) => VR, named?: Named): KTable<K, VR> {
    return addTableTableJoin('inner', this, other, joiner as (l: V | null, r: VO | null) => VR, named);
  }

  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: (left: V, right: VO | null) => VR, named?: Named): KTable<K, VR> {
    return addTableTableJoin('left', this, other, joiner as (l: V | null, r: VO | null) => VR, named);
  }

  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: (left: V | null, right: VO | null) => VR, named?: Named): KTable<K, VR> {
    return addTableTableJoin('outer', this, other, joiner, named);
  }
}

/** A value with its record timestamp: 8-byte big-endian timestamp, then the value's bytes. */
export function timestamped<V>(inner: Serde<V>): Serde<{ timestamp: number; value: V }> {
  return {
    serialize(v) {
      const bytes = inner.serialize(v.value) ?? Buffer.alloc(0);
      const out = Buffer.alloc(8 + bytes.length);
      out.writeBigInt64BE(BigInt(v.timestamp));
      bytes.copy(out, 8);
      return out;
    },
    deserialize(bytes) {
      if (bytes === null || bytes.length < 8) throw new SerializationError('timestamped serde: at least 8 bytes expected');
      return { timestamp: Number(bytes.readBigInt64BE(0)), value: inner.deserialize(bytes.subarray(8)) };
    },
  };
}
