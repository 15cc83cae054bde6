// The Raft log, hard state and latest snapshot in LevelDB. RaftStorage is read synchronously by
// the Raft core, so every read is served from an in-memory mirror (a MemoryStorage) that is loaded
// on open and updated only after the LevelDB batch holding the same change has completed: the core
// never sees a write that is not durable. Layout: see ../README.md ("LevelDB layout").
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import { MemoryStorage, StorageError } from '@samsa/raft';
import type { Entry, HardState, NodeId, RaftStorage, Ready, Snapshot } from '@samsa/raft';

const FORMAT_VERSION = 1;
const KEY_FORMAT = Uint8Array.of(0x00);
const KEY_HARD_STATE = Uint8Array.of(0x01);
const KEY_SNAPSHOT = Uint8Array.of(0x02);
const ENTRY_PREFIX = 0x03;

type Db = Level<Uint8Array, Uint8Array>;
type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export interface LevelRaftStorageOptions {
  /** fsync every batch (default true): a vote or an acknowledged append must survive a power cut. */
  readonly sync?: boolean;
}

export class LevelRaftStorage implements RaftStorage {
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly mirror: MemoryStorage,
    private readonly sync: boolean,
  ) {}

  /** Opens (creating if needed) the store in `dir` and loads hard state, snapshot and log. */
  static async open(dir: string, voters: readonly NodeId[], options: LevelRaftStorageOptions = {}): Promise<LevelRaftStorage> {
    mkdirSync(dir, { recursive: true });
    const db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    try {
      const mirror = await load(db, voters);
      return new LevelRaftStorage(db, mirror, options.sync ?? true);
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  // ---- RaftStorage (reads, from the mirror) ----

  hardState(): HardState {
    return this.mirror.hardState();
  }

  entries(lo: number, hi: number, maxSize?: number): Entry[] {
    return this.mirror.entries(lo, hi, maxSize);
  }

  term(index: number): number | undefined {
    return this.mirror.term(index);
  }

  firstIndex(): number {
    return this.mirror.firstIndex();
  }

  lastIndex(): number {
    return this.mirror.lastIndex();
  }

  snapshot(): Snapshot {
    return this.mirror.snapshot();
  }

  // ---- writes (the driver's side) ----

  /**
   * Makes a Ready's snapshot, entries and hard state durable in ONE atomic, synced batch, then
   * shows them in the mirror. A snapshot replaces the whole log; entries replace any conflicting
   * suffix (stored entries beyond the new last index are deleted).
   */
  async persist(rd: Pick<Ready, 'snapshot' | 'entries' | 'hardState'>): Promise<void> {
    const ops: BatchOp[] = [];
    let first = this.mirror.firstIndex();
    let last = this.mirror.lastIndex();
    const snapshot =
      rd.snapshot !== undefined && rd.snapshot.metadata.index > this.mirror.snapshot().metadata.index ? rd.snapshot : undefined;
    if (snapshot) {
      ops.push({ type: 'put', key: KEY_SNAPSHOT, value: encodeSnapshot(snapshot) });
      for (let i = first; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
      first = snapshot.metadata.index + 1;
      last = snapshot.metadata.index;
    }
    const entries = rd.entries;
    if (entries.length > 0) {
      const newLast = entries[entries.length - 1]!.index;
      if (newLast >= first) {
        if (entries[0]!.index > last + 1) {
          throw new StorageError(`appending at ${entries[0]!.index} would leave a gap after last index ${last}`);
        }
        for (const e of entries) if (e.index >= first) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
        for (let i = newLast + 1; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
      }
    }
    if (rd.hardState) ops.push({ type: 'put', key: KEY_HARD_STATE, value: encodeHardState(rd.hardState) });
    if (ops.length === 0) return;
    await this.write(ops);
    if (snapshot) this.mirror.applySnapshot(snapshot);
    this.mirror.append(entries);
    if (rd.hardState) this.mirror.setHardState(rd.hardState);
  }

  /**
   * Records the application's image at `index` (≤ applied, so stored) as the latest snapshot and
   * deletes the entries it covers, in one batch.
   */
  async createSnapshot(index: number, data: Uint8Array, voters: readonly NodeId[]): Promise<Snapshot> {
    const current = this.mirror.snapshot().metadata.index;
    if (index <= current) throw new StorageError(`snapshot at ${index} is not newer than ${current}`);
    const term = this.mirror.term(index);
    if (term === undefined) throw new StorageError(`cannot snapshot at ${index}: not in the log`);
    const snapshot: Snapshot = { metadata: { index, term, voters: [...voters] }, data };
    const ops: BatchOp[] = [{ type: 'put', key: KEY_SNAPSHOT, value: encodeSnapshot(snapshot) }];
    for (let i = this.mirror.firstIndex(); i <= index; i++) ops.push({ type: 'del', key: entryKey(i) });
    await this.write(ops);
    this.mirror.createSnapshot(index, data, voters);
    this.mirror.compact(index);
    return this.mirror.snapshot();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private async write(ops: BatchOp[]): Promise<void> {
    if (this.closed) throw new StorageError('the raft store is closed');
    await this.db.batch(ops, { sync: this.sync });
  }
}

async function load(db: Db, voters: readonly NodeId[]): Promise<MemoryStorage> {
  const format = await db.get(KEY_FORMAT);
  if (format === undefined) {
    await db.put(KEY_FORMAT, Uint8Array.of(FORMAT_VERSION), { sync: true });
  } else if (format[0] !== FORMAT_VERSION) {
    throw new StorageError(`unsupported raft store format ${format[0]} (this build reads ${FORMAT_VERSION})`);
  }
  const mirror = new MemoryStorage(voters);
  const snapshotBytes = await db.get(KEY_SNAPSHOT);
  if (snapshotBytes !== undefined) mirror.applySnapshot(decodeSnapshot(snapshotBytes));
  const entries: Entry[] = [];
  let expected = mirror.lastIndex() + 1;
  for await (const [key, value] of db.iterator({ gte: entryKey(expected), lt: Uint8Array.of(ENTRY_PREFIX + 1) })) {
    const index = keyIndex(key);
    // Batches keep the log contiguous: a gap means a damaged store, so refuse to start on it.
    if (index !== expected) throw new StorageError(`raft log has a gap: expected entry ${expected}, found ${index}`);
    entries.push(decodeEntry(index, value));
    expected++;
  }
  mirror.append(entries);
  const hardStateBytes = await db.get(KEY_HARD_STATE);
  if (hardStateBytes !== undefined) mirror.setHardState(decodeHardState(hardStateBytes));
  return mirror;
}

// ---- encoding ----

export function entryKey(index: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = ENTRY_PREFIX;
  new DataView(key.buffer).setBigUint64(1, BigInt(index));
  return key;
}

function keyIndex(key: Uint8Array): number {
  return Number(new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(1));
}

function encodeEntry(e: Entry): Uint8Array {
  const out = new Uint8Array(9 + e.data.byteLength);
  out[0] = e.type === 'noop' ? 1 : 0;
  new DataView(out.buffer).setBigUint64(1, BigInt(e.term));
  out.set(e.data, 9);
  return out;
}

function decodeEntry(index: number, value: Uint8Array): Entry {
  if (value.byteLength < 9) throw new StorageError(`raft entry ${index} is truncated (${value.byteLength} bytes)`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const type = value[0] === 1 ? 'noop' : 'normal';
  return { index, term: Number(view.getBigUint64(1)), type, data: value.slice(9) };
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function encodeHardState(hs: HardState): Uint8Array {
  return utf8.encode(JSON.stringify({ term: hs.term, vote: hs.vote, commit: hs.commit }));
}

function decodeHardState(value: Uint8Array): HardState {
  const hs = JSON.parse(fromUtf8.decode(value)) as HardState;
  if (![hs.term, hs.vote, hs.commit].every(Number.isSafeInteger)) throw new StorageError(`malformed hard state ${fromUtf8.decode(value)}`);
  return { term: hs.term, vote: hs.vote, commit: hs.commit };
}

function encodeSnapshot(s: Snapshot): Uint8Array {
  const meta = utf8.encode(JSON.stringify({ index: s.metadata.index, term: s.metadata.term, voters: s.metadata.voters }));
  const out = new Uint8Array(4 + meta.byteLength + s.data.byteLength);
  new DataView(out.buffer).setUint32(0, meta.byteLength);
  out.set(meta, 4);
  out.set(s.data, 4 + meta.byteLength);
  return out;
}

function decodeSnapshot(value: Uint8Array): Snapshot {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const metaLength = view.getUint32(0);
  const meta = JSON.parse(fromUtf8.decode(value.subarray(4, 4 + metaLength))) as { index: number; term: number; voters: number[] };
  return { metadata: { index: meta.index, term: meta.term, voters: meta.voters }, data: value.slice(4 + metaLength) };
}
