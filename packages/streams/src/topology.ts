/**
 * The low-level topology (Kafka's `Topology` / `InternalTopologyBuilder` and
 * `TopologyDescription`): named source, processor and sink nodes, stores attached to processors,
 * global stores, internal topics, and the split into sub-topologies. Pure data: tasks instantiate it.
 */
import type { Serde } from '@samsa/client';
import type { ProcessorSupplier } from './processor.js';
import type { StreamRecord } from './record.js';
import type { StoreBuilder } from './stores.js';

export class TopologyError extends Error {
  readonly code = 'TOPOLOGY_EXCEPTION';
}

export type TopicNameExtractor<K, V> = (key: K, value: V, record: StreamRecord<K, V>) => string;

/** Chooses a partition from the serialized key (undefined: the producer's default partitioner). */
export type StreamPartitioner = (topic: string, key: Buffer | null, numPartitions: number) => number | undefined;

export interface SourceNode {
  kind: 'source';
  name: string;
  topics: string[];
  keySerde: Serde<any>;
  valueSerde: Serde<any>;
  children: string[];
}

export interface ProcessorNode {
  kind: 'processor';
  name: string;
  supplier: ProcessorSupplier<any, any, any, any>;
  parents: string[];
  children: string[];
  stores: string[];
}

export interface SinkNode {
  kind: 'sink';
  name: string;
  topic: string | TopicNameExtractor<any, any>;
  keySerde: Serde<any>;
  valueSerde: Serde<any>;
  parents: string[];
  children: string[];
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

export interface GlobalStoreDef {
  store: StoreBuilder;
  sourceName: string;
  topic: string;
  processorName: string;
}

export interface InternalTopicDef {
  /** The name before the application id is prefixed: `<name>-repartition` or `<store>-changelog`. */
  name: string;
  kind: 'repartition' | 'changelog';
  /** Fixed partition count (repartition(numberOfPartitions)); else that of the sub-topology's inputs. */
  partitions?: number;
  configs: Record<string, string>;
}

export interface SubTopology {
  id: number;
  nodes: TopologyNode[];
  /** Source topics, internal ones unprefixed (see `Topology.resolve`). */
  sourceTopics: string[];
  stores: string[];
}

export class Topology {
  private readonly nodes = new Map<string, TopologyNode>();
  private readonly order: string[] = [];
  readonly storeBuilders = new Map<string, StoreBuilder>();
  readonly globalStores: GlobalStoreDef[] = [];
  private readonly repartitionTopics = new Map<string, InternalTopicDef>();
  /** Groups of source topics that must have equal partition counts (joins). */
  readonly copartitionGroups: string[][] = [];

  private add(node: TopologyNode): void {
    if (this.nodes.has(node.name)) throw new TopologyError(`Processor ${node.name} is already added`);
    for (const parent of 'parents' in node ? node.parents : []) {
      const p = this.nodes.get(parent);
      if (!p) throw new TopologyError(`Parent processor ${parent} of ${node.name} is not added yet`);
      if (p.kind === 'sink') throw new TopologyError(`Sink ${parent} cannot have children (${node.name})`);
      p.children.push(node.name);
    }
    this.nodes.set(node.name, node);
    this.order.push(node.name);
  }

  addSource(name: string, topics: string[], keySerde: Serde<any>, valueSerde: Serde<any>): this {
    if (topics.length === 0) throw new TopologyError(`Source ${name} needs at least one topic`);
    for (const t of topics) {
      for (const n of this.nodes.values()) {
        if (n.kind === 'source' && n.topics.includes(t)) throw new TopologyError(`Topic ${t} is already read by source ${n.name}`);
      }
    }
    this.add({ kind: 'source', name, topics: [...topics], keySerde, valueSerde, children: [] });
    return this;
  }

  addProcessor(name: string, supplier: ProcessorSupplier<any, any, any, any>, parents: string[], stores: string[] = []): this {
    if (parents.length === 0) throw new TopologyError(`Processor ${name} needs at least one parent`);
    for (const s of stores) if (!this.storeBuilders.has(s)) throw new TopologyError(`Store ${s} of ${name} is not added`);
    this.add({ kind: 'processor', name, supplier, parents: [...parents], children: [], stores: [...stores] });
    return this;
  }

  addSink(
    name: string,
    topic: string | TopicNameExtractor<any, any>,
    keySerde: Serde<any>,
    valueSerde: Serde<any>,
    parents: string[],
  ): this {
    if (parents.length === 0) throw new TopologyError(`Sink ${name} needs at least one parent`);
    this.add({ kind: 'sink', name, topic, keySerde, valueSerde, parents: [...parents], children: [] });
    return this;
  }

  addStateStore(store: StoreBuilder, ...processors: string[]): this {
    const existing = this.storeBuilders.get(store.name);
    if (existing && existing !== store) throw new TopologyError(`Store ${store.name} is already added`);
    this.storeBuilders.set(store.name, store);
    for (const p of processors) this.connectStore(p, store.name);
    return this;
  }

  connectStore(processor: string, store: string): void {
    const node = this.nodes.get(processor);
    if (!node || node.kind !== 'processor') throw new TopologyError(`Processor ${processor} is not added`);
    if (!this.storeBuilders.has(store)) throw new TopologyError(`Store ${store} is not added`);
    if (!node.stores.includes(store)) node.stores.push(store);
  }

  /** A store every instance fills from all partitions of `topic` (not logged: the topic is its log). */
  addGlobalStore(
    store: StoreBuilder,
    sourceName: string,
    topic: string,
    keySerde: Serde<any>,
    valueSerde: Serde<any>,
    processorName: string,
    supplier: ProcessorSupplier<any, any, any, any>,
  ): this {
    if (store.logged) throw new TopologyError(`Global store ${store.name} must not be logged: its topic is its changelog`);
    this.addStateStore(store);
    this.add({ kind: 'source', name: sourceName, topics: [topic], keySerde, valueSerde, children: [] });
    this.add({ kind: 'processor', name: processorName, supplier, parents: [sourceName], children: [], stores: [store.name] });
    this.globalStores.push({ store, sourceName, topic, processorName });
    return this;
  }

  /** Mark `name` (unprefixed) as a repartition topic this topology writes and reads. */
  addRepartitionTopic(name: string, partitions?: number): void {
    this.repartitionTopics.set(name, { name, kind: 'repartition', partitions, configs: { 'cleanup.policy': 'delete' } });
  }

  isInternalTopic(topic: string): boolean {
    return this.repartitionTopics.has(topic);
  }

  /** The real topic name of a source/sink topic: internal topics get the application id prefix. */
  resolve(topic: string, applicationId: string): string {
    return this.repartitionTopics.has(topic) ? `${applicationId}-${topic}` : topic;
  }

  node(name: string): TopologyNode {
    const n = this.nodes.get(name);
    if (!n) throw new TopologyError(`No node ${name}`);
    return n;
  }

  private globalNodeNames(): Set<string> {
    return new Set(this.globalStores.flatMap((g) => [g.sourceName, g.processorName]));
  }

  /** Connected components over edges and shared stores, numbered by first node in build order. */
  subTopologies(): SubTopology[] {
    const global = this.globalNodeNames();
    const names = this.order.filter((n) => !global.has(n));
    const parent = new Map(names.map((n) => [n, n]));
    const find = (n: string): string => {
      let r = n;
      while (parent.get(r) !== r) r = parent.get(r)!;
      parent.set(n, r);
      return r;
    };
    const union = (a: string, b: string): void => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent.set(rb, ra);
    };
    const storeOwner = new Map<string, string>();
    for (const n of names) {
      const node = this.nodes.get(n)!;
      for (const c of node.children) union(n, c);
      if (node.kind === 'processor') {
        for (const s of node.stores) {
          if (this.globalStores.some((g) => g.store.name === s)) continue;
          const owner = storeOwner.get(s);
          if (owner) union(owner, n);
          else storeOwner.set(s, n);
        }
      }
    }
    const globalStoreNames = new Set(this.globalStores.map((g) => g.store.name));
    const groups = new Map<string, TopologyNode[]>();
    for (const n of names) {
      const root = find(n);
      if (!groups.has(root)) groups.set(root, []);
      groups.get(root)!.push(this.nodes.get(n)!);
    }
    return [...groups.values()].map((nodes, id) => ({
      id,
      nodes,
      sourceTopics: nodes.flatMap((n) => (n.kind === 'source' ? n.topics : [])),
      stores: [...new Set(nodes.flatMap((n) => (n.kind === 'processor' ? n.stores : [])))].filter((s) => !globalStoreNames.has(s)),
    }));
  }

  /** Repartition topics and changelogs, unprefixed, in a stable order. */
  internalTopics(): InternalTopicDef[] {
    const out = [...this.repartitionTopics.values()];
    const global = new Set(this.globalStores.map((g) => g.store.name));
    for (const s of this.storeBuilders.values()) {
      if (s.logged && !global.has(s.name)) out.push({ name: `${s.name}-changelog`, kind: 'changelog', configs: s.changelogConfigs });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Kafka's TopologyDescription text. */
  describe(): string {
    const lines = ['Topologies:'];
    const edges = (node: TopologyNode): void => {
      if (node.children.length > 0) lines.push(`      --> ${node.children.join(', ')}`);
      const parents = 'parents' in node ? node.parents : [];
      if (parents.length > 0) lines.push(`      <-- ${parents.join(', ')}`);
    };
    const print = (node: TopologyNode): void => {
      if (node.kind === 'source') lines.push(`    Source: ${node.name} (topics: [${node.topics.join(', ')}])`);
      else if (node.kind === 'processor') lines.push(`    Processor: ${node.name} (stores: [${node.stores.join(', ')}])`);
      else lines.push(`    Sink: ${node.name} (${typeof node.topic === 'string' ? `topic: ${node.topic}` : 'extractor'})`);
      edges(node);
    };
    for (const sub of this.subTopologies()) {
      lines.push(`   Sub-topology: ${sub.id}`);
      sub.nodes.forEach(print);
    }
    this.globalStores.forEach((g, i) => {
      lines.push(`   Sub-topology: ${this.subTopologies().length + i} for global store (will not generate tasks)`);
      print(this.nodes.get(g.sourceName)!);
      print(this.nodes.get(g.processorName)!);
    });
    return lines.join('\n') + '\n';
  }
}
