/**
 * `KStream<K, V>` (Kafka's `KStream` / `KStreamImpl`): a record stream. Stateless operators add one
 * processor each; key-changing operators (`map`, `flatMap`, `selectKey`) mark the stream so the next
 * grouping or join repartitions it first, as Kafka does.
 */
import type { Serde } from '@samsa/client';
import type { ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';
import type { TopicNameExtractor } from '../topology.js';
import type { InternalBuilder } from './builder.js';
import { KGroupedStream } from './grouped.js';
import type { Grouped } from './grouped.js';
import { addStreamStreamJoin, addStreamTableJoin, addStreamGlobalJoin } from './joins.js';
import type { StreamJoined } from './joins.js';
import type { KTable } from './ktable.js';
import type { JoinWindows } from './windows.js';

export interface Named {
  name?: string;
}

export interface Produced<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  name?: string;
}

export interface Repartitioned<K, V> {
  /** The topic becomes `<applicationId>-<name>-repartition`. */
  name?: string;
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  numberOfPartitions?: number;
}

export type ValueJoiner<V1, V2, VR> = (left: V1, right: V2) => VR;

export class GlobalKTable<K, V> {
  /** @internal phantom field so GlobalKTable<K, V> keeps its parameters. */
  declare readonly _types?: [K, V];
  constructor(readonly storeName: string) {}
}

export class KStream<K, V> {
  /** @internal */
  constructor(
    readonly builder: InternalBuilder,
    readonly nodeName: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    /** The key may have changed since the source: group/join must repartition. */
    readonly repartitionRequired: boolean,
  ) {}

  private next<K2, V2>(
    prefix: string,
    named: Named | undefined,
    process: (ctx: ProcessorContext, record: StreamRecord<K, V>) => void,
    keySerde: Serde<K2> | undefined,
    valueSerde: Serde<V2> | undefined,
    repartitionRequired: boolean,
  ): KStream<K2, V2> {
    const name = this.builder.addProcessor<K, V>(named?.name ?? this.builder.newName(prefix), [this.nodeName], process);
    return new KStream<K2, V2>(this.builder, name, keySerde, valueSerde, repartitionRequired);
  }

  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.next(
      'KSTREAM-FILTER',
      named,
      (ctx, r) => predicate(r.key, r.value) && ctx.forward(r),
      this.keySerde,
      this.valueSerde,
      this.repartitionRequired,
    );
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.next(
      'KSTREAM-FILTER',
      named,
      (ctx, r) => !predicate(r.key, r.value) && ctx.forward(r),
      this.keySerde,
      this.valueSerde,
      this.repartitionRequired,
    );
  }

  map<K2, V2>(mapper: (key: K, value: V) => [K2, V2], named?: Named): KStream<K2, V2> {
    return this.next<K2, V2>(
      'KSTREAM-MAP',
      named,
      (ctx, r) => {
        const [key, value] = mapper(r.key, r.value);
        ctx.forward({ ...r, key, value });
      },
      undefined,
      undefined,
      true,
    );
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KStream<K, V2> {
    return this.next<K, V2>(
      'KSTREAM-MAPVALUES',
      named,
      (ctx, r) => ctx.forward({ ...r, value: mapper(r.value, r.key) }),
      this.keySerde,
      undefined,
      this.repartitionRequired,
    );
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<[K2, V2]>, named?: Named): KStream<K2, V2> {
    return this.next<K2, V2>(
      'KSTREAM-FLATMAP',
      named,
      (ctx, r) => {
        for (const [key, value] of mapper(r.key, r.value)) ctx.forward({ ...r, key, value });
      },
      undefined,
      undefined,
      true,
    );
  }

  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>, named?: Named): KStream<K, V2> {
    return this.next<K, V2>(
      'KSTREAM-FLATMAPVALUES',
      named,
      (ctx, r) => {
        for (const value of mapper(r.value, r.key)) ctx.forward({ ...r, value });
      },
      this.keySerde,
      undefined,
      this.repartitionRequired,
    );
  }

  selectKey<K2>(selector: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    return this.next<K2, V>(
      'KSTREAM-KEY-SELECT',
      named,
      (ctx, r) => ctx.forward({ ...r, key: selector(r.key, r.value) }),
      undefined,
      this.valueSerde,
      true,
    );
  }

  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.next(
      'KSTREAM-PEEK',
      named,
      (ctx, r) => {
        action(r.key, r.value);
        ctx.forward(r);
      },
      this.keySerde,
      this.valueSerde,
      this.repartitionRequired,
    );
  }

  foreach(action: (key: K, value: V) => void, named?: Named): void {
    this.builder.addProcessor<K, V>(named?.name ?? this.builder.newName('KSTREAM-FOREACH'), [this.nodeName], (_ctx, r) =>
      action(r.key, r.value),
    );
  }

  /** Route each record to the first branch whose predicate holds (Kafka's `split()`). */
  split(named?: Named): BranchedKStream<K, V> {
    return new BranchedKStream(this, named?.name ?? this.builder.newName('KSTREAM-BRANCH'));
  }

  /** The older array form: stream i gets the records whose first true predicate is i. */
  branch(...predicates: Array<(key: K, value: V) => boolean>): KStream<K, V>[] {
    const split = this.split();
    predicates.forEach((p, i) => split.branch(p, String(i)));
    const out = split.noDefaultBranch();
    return predicates.map((_p, i) => out[`${split.prefix}${i}`]!);
  }

  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    const name = this.builder.addProcessor<K, V>(
      named?.name ?? this.builder.newName('KSTREAM-MERGE'),
      [this.nodeName, other.nodeName],
      (ctx, r) => ctx.forward(r),
    );
    const same = <T>(a: T | undefined, b: T | undefined): T | undefined => (a === b ? a : undefined);
    return new KStream<K, V>(
      this.builder,
      name,
      same(this.keySerde, other.keySerde),
      same(this.valueSerde, other.valueSerde),
      this.repartitionRequired || other.repartitionRequired,
    );
  }

  /** Write to a topic, fixed or chosen per record. */
  to(topic: string | TopicNameExtractor<K, V>, produced: Produced<K, V> = {}): void {
    const b = this.builder;
    b.topology.addSink(
      produced.name ?? b.newName('KSTREAM-SINK'),
      topic,
      produced.keySerde ?? this.keySerde ?? b.defaultKeySerde,
      produced.valueSerde ?? this.valueSerde ?? b.defaultValueSerde,
      [this.nodeName],
    );
  }

  /** Write to a topic and read it back (Kafka's deprecated `through`; prefer `repartition`). */
  through(topic: string, produced: Produced<K, V> = {}): KStream<K, V> {
    this.to(topic, produced);
    const b = this.builder;
    const keySerde = produced.keySerde ?? this.keySerde;
    const valueSerde = produced.valueSerde ?? this.valueSerde;
    const source = b.newName('KSTREAM-SOURCE');
    b.topology.addSource(source, [topic], keySerde ?? b.defaultKeySerde, valueSerde ?? b.defaultValueSerde);
    return new KStream<K, V>(b, source, keySerde, valueSerde, false);
  }

  /** Write to `<applicationId>-<name>-repartition` (partitioned by key) and read it back. */
  repartition(options: Repartitioned<K, V> = {}): KStream<K, V> {
    return this.repartitionAs(options.name ?? this.builder.newName('KSTREAM-REPARTITION'), options);
  }

  /** @internal */
  repartitionAs(baseName: string, options: Repartitioned<K, V> = {}): KStream<K, V> {
    const b = this.builder;
    const topic = `${baseName}-repartition`;
    const keySerde = options.keySerde ?? this.keySerde;
    const valueSerde = options.valueSerde ?? this.valueSerde;
    b.topology.addRepartitionTopic(topic, options.numberOfPartitions);
    b.topology.addSink(b.newName('KSTREAM-SINK'), topic, keySerde ?? b.defaultKeySerde, valueSerde ?? b.defaultValueSerde, [this.nodeName]);
    const source = b.newName('KSTREAM-SOURCE');
    b.topology.addSource(source, [topic], keySerde ?? b.defaultKeySerde, valueSerde ?? b.defaultValueSerde);
    return new KStream<K, V>(b, source, keySerde, valueSerde, false);
  }

  groupByKey(grouped: Grouped<K, V> = {}): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this, grouped, this.repartitionRequired);
  }

  groupBy<K2>(selector: (key: K, value: V) => K2, grouped: Grouped<K2, V> = {}): KGroupedStream<K2, V> {
    const keyed = this.selectKey(selector);
    return new KGroupedStream<K2, V>(keyed, grouped, true);
  }

  /** Run a Processor API processor; `stores` names stores added with `StreamsBuilder.addStateStore`. */
  process<KOut, VOut>(supplier: ProcessorSupplier<K, V, KOut, VOut>, ...stores: string[]): KStream<KOut, VOut> {
    const name = this.builder.newName('KSTREAM-PROCESSOR');
    this.builder.topology.addProcessor(name, supplier, [this.nodeName], stores);
    return new KStream<KOut, VOut>(this.builder, name, undefined, undefined, true);
  }

  /** Inner join: with a stream (windowed), a table (lookup), or a global table (lookup by a chosen key). */
  join<VO, VR>(
    other: KStream<K, VO>,
    joiner: ValueJoiner<V, VO, VR>,
    windows: JoinWindows,
    joined?: StreamJoined<K, V, VO>,
  ): KStream<K, VR>;
  join<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO, VR>): KStream<K, VR>;
  join<KG, VG, VR>(global: GlobalKTable<KG, VG>, keySelector: (key: K, value: V) => KG, joiner: ValueJoiner<V, VG, VR>): KStream<K, VR>;
  join(other: unknown, a: any, b?: any, c?: any): KStream<K, unknown> {
    return this.anyJoin('inner', other, a, b, c);
  }

  leftJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: ValueJoiner<V, VO | null, VR>,
    windows: JoinWindows,
    joined?: StreamJoined<K, V, VO>,
  ): KStream<K, VR>;
  leftJoin<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, VR>): KStream<K, VR>;
  leftJoin<KG, VG, VR>(
    global: GlobalKTable<KG, VG>,
    keySelector: (key: K, value: V) => KG,
    joiner: ValueJoiner<V, VG | null, VR>,
  ): KStream<K, VR>;
  leftJoin(other: unknown, a: any, b?: any, c?: any): KStream<K, unknown> {
    return this.anyJoin('left', other, a, b, c);
  }

  outerJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: ValueJoiner<V | null, VO | null, VR>,
    windows: JoinWindows,
    joined?: StreamJoined<K, V, VO>,
  ): KStream<K, VR> {
    return this.anyJoin('outer', other, joiner, windows, joined) as KStream<K, VR>;
  }

  private anyJoin(kind: 'inner' | 'left' | 'outer', other: unknown, a: any, b: any, c: any): KStream<K, unknown> {
    if (other instanceof KStream) return addStreamStreamJoin(kind, this.coPartitioned(), other.coPartitioned(), a, b, c ?? {});
    if (other instanceof GlobalKTable) return addStreamGlobalJoin(kind === 'left' ? 'left' : 'inner', this, other, a, b);
    return addStreamTableJoin(kind === 'left' ? 'left' : 'inner', this.coPartitioned(), other as KTable<K, unknown>, a);
  }

  /** This stream, repartitioned first when its key changed. */
  coPartitioned(): KStream<K, V> {
    return this.repartitionRequired ? this.repartitionAs(this.builder.newName('KSTREAM-REPARTITION')) : this;
  }
}

/** Kafka's `BranchedKStream`: `split().branch(p, name)...defaultBranch()` → streams by name. */
export class BranchedKStream<K, V> {
  private readonly branches: Array<{ predicate: (key: K, value: V) => boolean; child: string; name: string }> = [];
  private splitNode: string | null = null;

  constructor(
    private readonly stream: KStream<K, V>,
    readonly prefix: string,
  ) {}

  branch(predicate: (key: K, value: V) => boolean, name?: string): this {
    if (this.splitNode !== null) throw new Error('split() is already finished');
    this.branches.push({ predicate, child: '', name: name ?? String(this.branches.length + 1) });
    return this;
  }

  defaultBranch(name = '0'): Record<string, KStream<K, V>> {
    return this.finish({ predicate: () => true, child: '', name });
  }

  noDefaultBranch(): Record<string, KStream<K, V>> {
    return this.finish(null);
  }

  private finish(
    fallback: { predicate: (key: K, value: V) => boolean; child: string; name: string } | null,
  ): Record<string, KStream<K, V>> {
    const all = fallback ? [...this.branches, fallback] : this.branches;
    const b = this.stream.builder;
    const branches = all.map((x) => ({ ...x }));
    this.splitNode = b.addProcessor<K, V>(this.prefix, [this.stream.nodeName], (ctx, r) => {
      const hit = branches.find((x) => x.predicate(r.key, r.value));
      if (hit) ctx.forward(r, hit.child);
    });
    const out: Record<string, KStream<K, V>> = {};
    for (const branch of branches) {
      branch.child = b.addProcessor<K, V>(`${this.prefix}${branch.name}`, [this.splitNode], (ctx, r) => ctx.forward(r));
      out[branch.child] = new KStream<K, V>(b, branch.child, this.stream.keySerde, this.stream.valueSerde, this.stream.repartitionRequired);
    }
    return out;
  }
}
