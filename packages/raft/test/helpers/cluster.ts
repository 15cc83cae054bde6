// A small synchronous cluster for unit tests: nodes with MemoryStorage, a driver that honours the
// Ready contract, and a network that can cut links. Messages move only when a test says so.
import { SeededRng } from '@samsa/protocol';
import { MemoryStorage, RaftNode } from '../../src/index.js';
import type { Entry, Message, MessageType, NodeId, RaftConfig, Ready } from '../../src/index.js';
import { storageWithLog } from './logs.js';

export interface TestNode {
  readonly id: NodeId;
  raft: RaftNode;
  readonly storage: MemoryStorage;
  /** Every committed entry applied, in order (noops included). */
  readonly applied: Entry[];
}

export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'voters' | 'storage' | 'rng'>> & { seed?: number };

const enc = new TextEncoder();
const dec = new TextDecoder();

export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => dec.decode(b);

export function makeNode(id: NodeId, voters: readonly NodeId[], storage: MemoryStorage, opts: NodeOptions = {}): RaftNode {
  const { seed, ...rest } = opts;
  return new RaftNode({
    id,
    voters,
    storage,
    rng: new SeededRng((seed ?? 1) * 1000 + id),
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: false,
    checkQuorum: false,
    ...rest,
  });
}

/** Persist a Ready into `storage` the way a driver must, then return its messages. */
export function handleReady(node: TestNode, rd: Ready): readonly Message[] {
  if (rd.snapshot) node.storage.applySnapshot(rd.snapshot);
  node.storage.append(rd.entries);
  if (rd.hardState) node.storage.setHardState(rd.hardState);
  node.applied.push(...rd.committedEntries);
  node.raft.advance(rd);
  return rd.messages;
}

export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  readonly ids: NodeId[];
  private readonly cut = new Set<string>();
  private readonly droppedTypes = new Set<MessageType>();
  /** Messages handed out by nodes but not yet delivered. */
  inFlight: Message[] = [];

  /** `logs[i]`, if given, are the terms of node i+1's initial log (its hard state term is the highest). */
  constructor(
    n: number,
    private readonly opts: NodeOptions = {},
    logs?: readonly (readonly number[])[],
  ) {
    this.ids = Array.from({ length: n }, (_, i) => i + 1);
    const term = Math.max(0, ...(logs ?? []).flat());
    for (const id of this.ids) {
      const storage = logs ? storageWithLog(this.ids, logs[id - 1] ?? [], { term }) : new MemoryStorage(this.ids);
      this.nodes.set(id, { id, storage, applied: [], raft: makeNode(id, this.ids, storage, opts) });
    }
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: NodeId): RaftNode {
    return this.node(id).raft;
  }

  /** Rebuild node `id` from its storage, as after a crash: unpersisted state is gone. */
  restart(id: NodeId, opts: NodeOptions = this.opts): void {
    const n = this.node(id);
    n.raft = makeNode(id, this.ids, n.storage, opts);
    n.applied.length = 0;
  }

  /** Drain every node's Ready (persist, apply, advance); the messages go in flight. */
  flush(observe?: (node: TestNode, rd: Ready) => void): void {
    for (const n of this.nodes.values()) {
      for (let rd = n.raft.ready(); rd; rd = n.raft.ready()) {
        observe?.(n, rd);
        this.inFlight.push(...handleReady(n, rd));
      }
    }
  }

  /**
   * Deliver (or drop, across a cut link) everything in flight that `filter` selects; the rest stays
   * in flight. `observe` sees each selected message. Returns how many were delivered.
   */
  deliver(filter: (m: Message) => boolean = () => true, observe?: (m: Message, delivered: boolean) => void): number {
    const msgs = this.inFlight;
    this.inFlight = [];
    let n = 0;
    for (const m of msgs) {
      if (!filter(m)) {
        this.inFlight.push(m);
        continue;
      }
      const delivered = !this.cut.has(`${m.from}>${m.to}`) && !this.droppedTypes.has(m.type) && this.nodes.has(m.to);
      observe?.(m, delivered);
      if (!delivered) continue;
      this.nodes.get(m.to)!.raft.step(m);
      n++;
    }
    return n;
  }

  /** Flush and deliver until no message moves. */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.flush();
      if (this.inFlight.length === 0) return;
      this.deliver();
    }
    throw new Error('cluster did not stabilize');
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.raft(id).tick();
  }

  /** Tick every node once and stabilize, `times` times. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.ids) this.raft(id).tick();
      this.stabilize();
    }
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  dropType(type: MessageType): void {
    this.droppedTypes.add(type);
  }

  heal(): void {
    this.cut.clear();
    this.droppedTypes.clear();
  }

  /** Elect `id` by campaigning and letting everything settle. */
  elect(id: NodeId): void {
    this.raft(id).campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string): void {
    const r = this.raft(id).propose(bytes(data));
    if (!r.ok) throw new Error(`propose on ${id} failed: ${r.reason}`);
    this.stabilize();
  }

  leaders(): NodeId[] {
    return this.ids.filter((id) => this.raft(id).status().role === 'leader');
  }

  /** The terms of node `id`'s persisted log, from its first stored index. */
  persistedTerms(id: NodeId): number[] {
    const s = this.node(id).storage;
    return s.entries(s.firstIndex(), s.lastIndex() + 1).map((e) => e.term);
  }

  /** The normal entries node `id` applied, as strings. */
  appliedData(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((e) => e.type === 'normal')
      .map((e) => text(e.data));
  }
}

/** Persist a lone node's Ready into `storage` and return its messages (for step-by-step tests). */
export function messagesOf(raft: RaftNode, storage: MemoryStorage): readonly Message[] {
  const rd = raft.ready();
  if (!rd) return [];
  if (rd.snapshot) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
  raft.advance(rd);
  return rd.messages;
}
