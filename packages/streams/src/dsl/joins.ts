/**
 * Joins by key (Kafka's `KStreamKStreamJoin` with its shared outer-join store (KIP-633's spurious-
 * result fix), `KStreamKTableJoin`, `KStreamGlobalKTableJoin`, `KTableKTableJoin`). The rules, and
 * where they differ from Kafka, are in README.md "Joins".
 */
import type { Serde } from '@samsa/client';
import type { Change } from '../record.js';
import { Stores } from '../stores.js';
import { SerializationError } from '../serdes.js';
import type { KeyValueStore, WindowStore } from '../stores.js';
import { KStream } from './kstream.js';
import type { GlobalKTable, Named, ValueJoiner } from './kstream.js';
import { KTable } from './ktable.js';
import type { ValueGetterSupplier } from './ktable.js';
import type { JoinWindows } from './windows.js';

export interface StreamJoined<K, V1, V2> {
  /** Names the join's stores `<name>-this-join-store`, `<name>-other-join-store`, `<name>-outer-shared-join-store`. */
  name?: string;
  keySerde?: Serde<K>;
  valueSerde?: Serde<V1>;
  otherValueSerde?: Serde<V2>;
}

export class JoinError extends Error {
  readonly code = 'TOPOLOGY_EXCEPTION';
}

const isNull = (x: unknown): boolean => x === null || x === undefined;

/** Outer-join buffer key: 8-byte timestamp, 1-byte side, 4-byte sequence, then the record key. */
interface OuterKey<K> {
  timestamp: number;
  side: 0 | 1;
  seq: number;
  key: K;
}

export function outerKeySerde<K>(keySerde: Serde<K>): Serde<OuterKey<K>> {
  return {
    serialize(k) {
      const key = keySerde.serialize(k.key) ?? Buffer.alloc(0);
      const out = Buffer.alloc(13 + key.length);
      out.writeBigInt64BE(BigInt(k.timestamp), 0);
      out.writeUInt8(k.side, 8);
      out.writeUInt32BE(k.seq, 9);
      key.copy(out, 13);
      return out;
    },
    deserialize(bytes) {
      if (bytes === null || bytes.length < 13) throw new SerializationError('outer join key: at least 13 bytes expected');
      const side = bytes.readUInt8(8);
      if (side > 1) throw new SerializationError(`outer join key: side ${side} is neither 0 nor 1`);
      return {
        timestamp: Number(bytes.readBigInt64BE(0)),
        side: side as 0 | 1,
        seq: bytes.readUInt32BE(9),
        key: keySerde.deserialize(bytes.subarray(13)),
      };
    },
  };
}

/** Outer-join buffer value: which side's serde wrote it is in the key, so store both serdes' bytes behind a tag. */
export function outerValueSerde<V1, V2>(left: Serde<V1>, right: Serde<V2>): Serde<{ side: 0 | 1; value: unknown }> {
  return {
    serialize(v) {
      const bytes = (v.side === 0 ? left.serialize(v.value as V1) : right.serialize(v.value as V2)) ?? Buffer.alloc(0);
      return Buffer.concat([Buffer.from([v.side]), bytes]);
    },
    deserialize(bytes) {
      if (bytes === null || bytes.length < 1) throw new SerializationError('outer join value: at least 1 byte expected');
      const side = bytes.readUInt8(0);
      if (side > 1) throw new SerializationError(`outer join value: side ${side} is neither 0 nor 1`);
      const rest = bytes.subarray(1);
      return { side: side as 0 | 1, value: side === 0 ? left.deserialize(rest) : right.deserialize(rest) };
    },
  };
}

export function addStreamStreamJoin<K, V1, V2, VR>(
  kind: 'inner' | 'left' | 'outer',
  left: KStream<K, V1>,
  right: KStream<K, V2>,
  joiner: ValueJoiner<V1 | null, V2 | null, VR>,
  windows: JoinWindows,
  joined: StreamJoined<K, V1, V2>,
): KStream<K, VR> {
  const b = left.builder;
  const keySerde = joined.keySerde ?? left.keySerde ?? right.keySerde ?? b.defaultKeySerde;
  const leftSerde = joined.valueSerde ?? left.valueSerde ?? b.defaultValueSerde;
  const rightSerde = joined.otherValueSerde ?? right.valueSerde ?? b.defaultValueSerde;
  const thisName = b.newName(kind === 'outer' ? 'KSTREAM-OUTERTHIS' : 'KSTREAM-JOINTHIS');
  const otherName = b.newName(kind === 'inner' ? 'KSTREAM-JOINOTHER' : 'KSTREAM-OUTEROTHER');
  const base = joined.name;
  const stores = [
    base ? `${base}-this-join-store` : `${thisName}-store`,
    base ? `${base}-other-join-store` : `${otherName}-store`,
  ] as const;
  const retentionMs = 2 * windows.timeDifferenceMs + windows.graceMs;
  b.topology.addStateStore(Stores.window(stores[0], keySerde, leftSerde, { retentionMs, windowSizeMs: 0, retainDuplicates: true }));
  b.topology.addStateStore(Stores.window(stores[1], keySerde, rightSerde, { retentionMs, windowSizeMs: 0, retainDuplicates: true }));
  let outerStore: string | null = null;
  if (kind !== 'inner') {
    outerStore = base ? `${base}-outer-shared-join-store` : `${b.newName('KSTREAM-OUTERSHARED')}-store`;
    b.topology.addStateStore(Stores.keyValue(outerStore, outerKeySerde(keySerde), outerValueSerde(leftSerde, rightSerde)));
  }
  const storeList = outerStore ? [stores[0], stores[1], outerStore] : [stores[0], stores[1]];
  const d = windows.timeDifferenceMs;

  const sideProcessor = (side: 0 | 1, parent: string, name: string, keepUnmatched: boolean): void => {
    b.addProcessor<K, unknown>(
      name,
      [parent],
      (ctx, r) => {
        if (isNull(r.key) || isNull(r.value)) return ctx.recordDropped('null key or value in a join');
        const streamTime = ctx.currentStreamTimeMs();
        if (windows.isClosed(r.timestamp, streamTime)) return ctx.recordDropped('late record: its join window has closed');
        const own = ctx.getStateStore<WindowStore<K, unknown>>(stores[side]);
        const other = ctx.getStateStore<WindowStore<K, unknown>>(stores[1 - side]!);
        const outer = outerStore ? ctx.getStateStore<KeyValueStore<OuterKey<K>, { side: 0 | 1; value: unknown }>>(outerStore) : null;
        const seq = own.put(r.key, r.value, r.timestamp);
        let matched = false;
        for (const x of other.fetchRange(r.key, r.timestamp - d, r.timestamp + d)) {
          if (windows.isClosed(x.start, streamTime)) continue;
          matched = true;
          outer?.delete({ timestamp: x.start, side: (1 - side) as 0 | 1, seq: x.seq, key: r.key });
          const value = side === 0 ? joiner(r.value as V1, x.value as V2) : joiner(x.value as V1, r.value as V2);
          ctx.forward({ ...r, timestamp: Math.max(r.timestamp, x.start), value });
        }
        if (!matched && keepUnmatched && outer) outer.put({ timestamp: r.timestamp, side, seq, key: r.key }, { side, value: r.value });
        if (outer) {
          // Emit what waited in vain, oldest first, once its window has closed.
          for (const e of outer.all()) {
            if (!windows.isClosed(e.key.timestamp, streamTime)) break;
            outer.delete(e.key);
            const value = e.key.side === 0 ? joiner(e.value.value as V1, null) : joiner(null, e.value.value as V2);
            ctx.forward({ key: e.key.key, value, timestamp: e.key.timestamp, headers: {} });
          }
        }
      },
      storeList,
    );
  };
  sideProcessor(0, left.nodeName, thisName, kind !== 'inner');
  sideProcessor(1, right.nodeName, otherName, kind === 'outer');
  const merge = b.addProcessor(b.newName('KSTREAM-MERGE'), [thisName, otherName], (ctx, r) => ctx.forward(r));
  return new KStream<K, VR>(b, merge, left.keySerde ?? right.keySerde, undefined, false);
}

export function addStreamTableJoin<K, V, VT, VR>(
  kind: 'inner' | 'left',
  stream: KStream<K, V>,
  table: KTable<K, VT>,
  joiner: ValueJoiner<V, VT | null, VR>,
): KStream<K, VR> {
  const b = stream.builder;
  const getter = table.getter;
  if (!getter) throw new JoinError('this table cannot be joined: it has no value getter (a windowed or suppressed table)');
  const name = b.newName('KSTREAM-JOIN');
  b.addProcessor<K, V, (key: K) => VT | null>(
    name,
    [stream.nodeName],
    (ctx, r, lookup) => {
      if (isNull(r.key) || isNull(r.value)) return ctx.recordDropped('null key or value in a stream-table join');
      const tableValue = lookup(r.key);
      if (tableValue === null && kind === 'inner') return;
      ctx.forward({ ...r, value: joiner(r.value, tableValue) });
    },
    getter.stores,
    (ctx) => getter.init(ctx),
  );
  return new KStream<K, VR>(b, name, stream.keySerde, undefined, false);
}

export function addStreamGlobalJoin<K, V, KG, VG, VR>(
  kind: 'inner' | 'left',
  stream: KStream<K, V>,
  global: GlobalKTable<KG, VG>,
  keySelector: (key: K, value: V) => KG,
  joiner: ValueJoiner<V, VG | null, VR>,
): KStream<K, VR> {
  const b = stream.builder;
  const name = b.newName('KSTREAM-JOIN');
  b.addProcessor<K, V>(
    name,
    [stream.nodeName],
    (ctx, r) => {
      if (isNull(r.value)) return ctx.recordDropped('null value in a stream-globalTable join');
      const lookupKey = keySelector(r.key, r.value);
      const found = isNull(lookupKey) ? null : ctx.getStateStore<KeyValueStore<KG, VG>>(global.storeName).get(lookupKey);
      if (found === null && kind === 'inner') return;
      ctx.forward({ ...r, value: joiner(r.value, found) });
    },
    [global.storeName],
  );
  return new KStream<K, VR>(b, name, stream.keySerde, undefined, stream.repartitionRequired);
}

export function addTableTableJoin<K, V1, V2, VR>(
  kind: 'inner' | 'left' | 'outer',
  left: KTable<K, V1>,
  right: KTable<K, V2>,
  joiner: (l: V1 | null, r: V2 | null) => VR,
  named?: Named,
): KTable<K, VR> {
  const b = left.builder;
  if (!left.getter || !right.getter) throw new JoinError('table-table joins need tables with value getters (not windowed or suppressed)');
  const lg = left.getter;
  const rg = right.getter;
  const combine = (l: V1 | null, r: V2 | null): VR | null => {
    if (kind === 'inner' && (l === null || r === null)) return null;
    if (kind === 'left' && l === null) return null;
    if (l === null && r === null) return null;
    return joiner(l, r);
  };
  const base = named?.name;
  const thisName = base ? `${base}-join-this` : b.newName('KTABLE-JOINTHIS');
  const otherName = base ? `${base}-join-other` : b.newName('KTABLE-JOINOTHER');
  const stores = [...new Set([...lg.stores, ...rg.stores])];
  b.addProcessor<K, Change<V1>, (key: K) => V2 | null>(
    thisName,
    [left.nodeName],
    (ctx, r, otherOfLeft) => {
      const other = otherOfLeft(r.key);
      const newValue = combine(r.value.newValue, other);
      const oldValue = combine(r.value.oldValue, other);
      if (newValue !== null || oldValue !== null) ctx.forward<K, Change<VR>>({ ...r, value: { newValue, oldValue } });
    },
    stores,
    (ctx) => rg.init(ctx),
  );
  b.addProcessor<K, Change<V2>, (key: K) => V1 | null>(
    otherName,
    [right.nodeName],
    (ctx, r, otherOfRight) => {
      const other = otherOfRight(r.key);
      const newValue = combine(other, r.value.newValue);
      const oldValue = combine(other, r.value.oldValue);
      if (newValue !== null || oldValue !== null) ctx.forward<K, Change<VR>>({ ...r, value: { newValue, oldValue } });
    },
    stores,
    (ctx) => lg.init(ctx),
  );
  const merge = b.addProcessor(base ?? b.newName('KTABLE-MERGE'), [thisName, otherName], (ctx, r) => ctx.forward(r));
  const getter: ValueGetterSupplier<K, VR> = {
    stores,
    init: (ctx) => {
      const l = lg.init(ctx);
      const r = rg.init(ctx);
      return (key) => combine(l(key), r(key));
    },
  };
  return new KTable<K, VR>(b, merge, left.keySerde ?? right.keySerde, undefined, getter, [...left.sourceTopics, ...right.sourceTopics]);
}
