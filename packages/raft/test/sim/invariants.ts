// Safety properties of Raft (Figure 3 of the paper), checked after every simulation event:
//
//   election safety      at most one leader per term
//   log matching         entries with the same index and term are identical and have identical
//                        prefixes — checked on persisted logs: each (index, term) ever persisted
//                        anywhere has one content and one predecessor term, which by induction
//                        gives identical prefixes
//   leader completeness  a leader's log holds every entry committed in an earlier term (the commit
//                        term is bounded by the term of the node that first reports the commit)
//   state machine safety no two nodes apply different entries at one index
//   durability           a node never overwrites a committed entry it persisted, and the highest
//                        committed entry stays on a majority of persisted logs (or snapshots)
import type { Entry, MemoryStorage, NodeId, RaftNode, Snapshot } from '../../src/index.js';

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

/** What a simulated node exposes to the checker. */
export interface CheckedNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly raft: RaftNode | undefined;
}

const dec = new TextDecoder();

export function entryKey(e: Entry): string {
  return e.type === 'noop' ? 'noop' : `n:${dec.decode(e.data)}`;
}

/** FNV-1a over the key, chained with the previous state: the state machine's digest. */
export function chainHash(prev: number, key: string): number {
  let h = (prev ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** `${index}:${term}` → content key and the term of the preceding entry. */
  private readonly persisted = new Map<string, { key: string; prevTerm: number | undefined }>();
  /** index → term of the committed entry there. */
  private readonly committed = new Map<number, number>();
  /**
   * index → an upper bound of the term in which it was committed: the term of the first node seen
   * with it committed. (A stale leader of an older term may legitimately lack it.)
   */
  private readonly commitTerms = new Map<number, number>();
  private maxCommitted = 0;
  /** index → digest of the state machine after applying it. */
  private readonly digests = new Map<number, number>();
  /** index → content key applied there. */
  private readonly appliedKeys = new Map<number, string>();
  /** normal-entry value → the index it was applied at (each proposal is unique). */
  private readonly valueIndex = new Map<string, number>();
  private readonly seenCommit = new Map<NodeId, number>();
  private readonly seenLeaderTerm = new Map<NodeId, number>();
  leaderElections = 0;

  constructor(
    private readonly nodes: readonly CheckedNode[],
    private readonly proposed: ReadonlySet<string>,
  ) {}

  get highestCommitted(): number {
    return this.maxCommitted;
  }

  /** The index at which a proposed value was applied, if any node applied it. */
  appliedIndexOf(value: string): number | undefined {
    return this.valueIndex.get(value);
  }

  /** A node restarted: its in-memory commit index starts again from what it persisted. */
  onRestart(id: NodeId): void {
    this.seenCommit.delete(id);
    this.seenLeaderTerm.delete(id);
  }

  /** Called with a Ready's entries right after the node wrote them to storage. */
  onPersistEntries(node: CheckedNode, entries: readonly Entry[]): void {
    const first = node.storage.firstIndex();
    for (const e of entries) {
      if (e.index < first) continue;
      const id = `${e.index}:${e.term}`;
      const key = entryKey(e);
      const prevTerm = node.storage.term(e.index - 1);
      const known = this.persisted.get(id);
      if (known) {
        if (known.key !== key) this.fail(`log matching: entry ${id} on node ${node.id} is ${key}, elsewhere ${known.key}`);
        if (known.prevTerm !== prevTerm && known.prevTerm !== undefined && prevTerm !== undefined) {
          this.fail(`log matching: entry ${id} on node ${node.id} follows term ${prevTerm}, elsewhere term ${known.prevTerm}`);
        }
      } else {
        this.persisted.set(id, { key, prevTerm });
      }
    }
  }

  /**
   * Called with a Ready's entries just before the node writes them: whatever they replace (the
   * stored suffix from entries[0].index on) must not hold a committed entry that they drop.
   */
  beforePersistEntries(node: CheckedNode, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const s = node.storage;
    const newTerms = new Map(entries.map((e) => [e.index, e.term]));
    for (let i = Math.max(entries[0]!.index, s.firstIndex()); i <= s.lastIndex(); i++) {
      const old = s.term(i)!;
      if (this.committed.get(i) === old && newTerms.get(i) !== old) {
        this.fail(
          `durability: node ${node.id} overwrote committed entry ${i}:${old} with ${newTerms.has(i) ? `${i}:${newTerms.get(i)}` : 'nothing'}`,
        );
      }
    }
  }

  onPersistSnapshot(node: CheckedNode, snap: Snapshot): void {
    const { index, term } = snap.metadata;
    const c = this.committed.get(index);
    if (c !== undefined && c !== term) this.fail(`node ${node.id} installed a snapshot at ${index}:${term}, committed ${index}:${c}`);
  }

  /** Called as node `node` applies `e` on top of state (prevIndex, prevDigest); returns the new digest. */
  onApply(node: CheckedNode, prevIndex: number, prevDigest: number, e: Entry): number {
    if (e.index !== prevIndex + 1) this.fail(`node ${node.id} applied ${e.index} after ${prevIndex}`);
    const key = entryKey(e);
    const c = this.committed.get(e.index);
    if (c !== undefined && c !== e.term) this.fail(`node ${node.id} applied ${e.index}:${e.term} but ${e.index}:${c} is committed`);
    const other = this.appliedKeys.get(e.index);
    if (other !== undefined && other !== key) {
      this.fail(`state machine safety: node ${node.id} applied ${key} at ${e.index}, another node applied ${other}`);
    }
    this.appliedKeys.set(e.index, key);
    if (e.type === 'normal') {
      const value = key.slice(2);
      if (!this.proposed.has(value)) this.fail(`node ${node.id} applied ${value}, which no client proposed`);
      const at = this.valueIndex.get(value);
      if (at !== undefined && at !== e.index) this.fail(`${value} was applied at both ${at} and ${e.index}`);
      this.valueIndex.set(value, e.index);
    }
    const digest = chainHash(prevDigest, key);
    const known = this.digests.get(e.index);
    if (known !== undefined && known !== digest) this.fail(`node ${node.id}'s state after ${e.index} differs from another node's`);
    this.digests.set(e.index, digest);
    return digest;
  }

  /** A node restored its state machine from a snapshot image (index, digest). */
  onRestoreState(node: CheckedNode, index: number, digest: number): void {
    if (index === 0) return;
    const known = this.digests.get(index);
    if (known === undefined) this.fail(`node ${node.id} restored a state at ${index} that nobody applied`);
    if (known !== digest) this.fail(`node ${node.id} restored a state at ${index} that differs from the applied one`);
  }

  /** After any event that touched `node`: election safety, leader completeness, commit tracking. */
  afterEvent(node: CheckedNode): void {
    const raft = node.raft;
    if (raft) {
      const st = raft.status();
      if (st.role === 'leader' && this.seenLeaderTerm.get(node.id) !== st.term) {
        this.onNewLeader(node, raft, st.term);
        this.seenLeaderTerm.set(node.id, st.term);
      }
      const seen = this.seenCommit.get(node.id) ?? st.firstIndex - 1;
      if (st.commit > seen) {
        for (let i = Math.max(seen + 1, st.firstIndex); i <= st.commit; i++) this.onCommitted(node, i, raft.termAt(i)!, st.term);
        this.seenCommit.set(node.id, st.commit);
      }
    }
    this.checkDurable();
  }

  private onNewLeader(node: CheckedNode, raft: RaftNode, term: number): void {
    this.leaderElections++;
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node.id) this.fail(`election safety: nodes ${other} and ${node.id} both lead term ${term}`);
    this.leaders.set(term, node.id);
    const first = raft.status().firstIndex;
    for (const [index, t] of this.committed) {
      if (index < first) continue; // covered by the leader's snapshot
      if (this.commitTerms.get(index)! >= term) continue;
      const ours = raft.termAt(index);
      if (ours !== t) {
        this.fail(`leader completeness: leader ${node.id} of term ${term} has ${index}:${ours ?? 'nothing'}, committed ${index}:${t}`);
      }
    }
  }

  private onCommitted(node: CheckedNode, index: number, term: number, observedInTerm: number): void {
    const known = this.committed.get(index);
    if (known !== undefined) {
      if (known !== term) this.fail(`nodes committed different entries at ${index}: terms ${known} and ${term} (node ${node.id})`);
      return;
    }
    this.committed.set(index, term);
    this.commitTerms.set(index, observedInTerm);
    if (index > this.maxCommitted) this.maxCommitted = index;
  }

  /** The highest committed entry is on a majority of persisted logs (or inside their snapshots). */
  private checkDurable(): void {
    const index = this.maxCommitted;
    if (index === 0) return;
    const term = this.committed.get(index)!;
    let holders = 0;
    for (const n of this.nodes) {
      if (n.storage.snapshot().metadata.index >= index || n.storage.term(index) === term) holders++;
    }
    if (holders < Math.floor(this.nodes.length / 2) + 1) {
      this.fail(`durability: committed entry ${index}:${term} is persisted on only ${holders} of ${this.nodes.length} nodes`);
    }
  }

  private fail(msg: string): never {
    throw new InvariantViolation(msg);
  }
}
