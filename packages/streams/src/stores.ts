/**
 * In-memory state stores with a logging layer: Kafka's `InMemoryKeyValueStore`,
 * `InMemoryWindowStore`, `InMemorySessionStore` and `ChangeLoggingKeyValueBytesStore` (and its
 * window/session siblings) folded together. A store keeps typed keys and values, orders keys by their
 * serialized bytes (as Kafka's byte stores do), writes every put and delete to its changelog writer,
 * and `restore()` replays changelog bytes through the same layout, so a store rebuilt from its
 * changelog equals the store that wrote it. Windowed stores drop entries older than the retention
 * measured against the largest timestamp they were given (Kafka's segment expiry); expiry is not
 * logged (the changelog's retention.ms does that job).
 */
import type { Serde } from '@samsa/client';
import type { Windowed } from './record.js';

/** Receives a store's serialized writes; the task routes them to `<applicationId>-<store>-changelog`. */
/** `timestamp` is omitted when the write takes the timestamp of the record being processed. */
export type ChangelogWriter = (key: Buffer, value: Buffer | null, timestamp?: number) => void;

export type StoreKind = 'keyValue' | 'window' | 'session';

export interface StateStore {
  readonly name: string;
  readonly kind: StoreKind;
  /** Apply one changelog record (no logging). */
  restore(key: Buffer, value: Buffer | null): void;
  flush(): void;
  close(): void;
}

export class InvalidStateStoreError extends Error {
  readonly code = 'INVALID_STATE_STORE';
}

export interface KeyValue<K, V> {
  key: K;
  value: V;
}

function keyString<K>(serde: Serde<K>, key: K, store: string): { bytes: Buffer; id: string } {
  const bytes = serde.serialize(key);
  if (bytes === null) throw new InvalidStateStoreError(`store ${store}: a null key cannot be stored`);
  return { bytes, id: bytes.toString('latin1') };
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class KeyValueStore<K, V> implements StateStore {
  readonly kind = 'keyValue';
  protected readonly data = new Map<string, { key: K; value: V }>();
  private changelog: ChangelogWriter | null = null;

  constructor(
    readonly name: string,
    protected readonly keySerde: Serde<K>,
    protected readonly valueSerde: Serde<V>,
  ) {}

  /** Called by the task: where writes are logged, and the timestamp of the record being processed. */
  attachChangelog(writer: ChangelogWriter | null): void {
    this.changelog = writer;
  }

  get(key: K): V | null {
    const { id } = keyString(this.keySerde, key, this.name);
    return this.data.get(id)?.value ?? null;
  }

  /** A null value deletes (a tombstone in the changelog). */
  put(key: K, value: V | null): void {
    const { bytes, id } = keyString(this.keySerde, key, this.name);
    if (value === null) this.data.delete(id);
    else this.data.set(id, { key, value });
    this.changelog?.(bytes, value === null ? null : this.valueSerde.serialize(value));
  }

  putIfAbsent(key: K, value: V): V | null {
    const old = this.get(key);
    if (old === null) this.put(key, value);
    return old;
  }

  /** Deletes and logs a tombstone when the key is present. */
  delete(key: K): V | null {
    const old = this.get(key);
    if (old !== null) this.put(key, null);
    return old;
  }

  /** Entries with `from <= key <= to` by serialized bytes, in byte order. */
  range(from: K, to: K): KeyValue<K, V>[] {
    const lo = keyString(this.keySerde, from, this.name).id;
    const hi = keyString(this.keySerde, to, this.name).id;
    return [...this.data.entries()]
      .filter(([id]) => id >= lo && id <= hi)
      .sort((a, b) => byId(a[0], b[0]))
      .map(([, e]) => ({ key: e.key, value: e.value }));
  }

  all(): KeyValue<K, V>[] {
    return [...this.data.entries()].sort((a, b) => byId(a[0], b[0])).map(([, e]) => ({ key: e.key, value: e.value }));
  }

  approximateNumEntries(): number {
    return this.data.size;
  }

  restore(key: Buffer, value: Buffer | null): void {
    const id = key.toString('latin1');
    if (value === null) this.data.delete(id);
    else this.data.set(id, { key: this.keySerde.deserialize(key), value: this.valueSerde.deserialize(value) });
  }

  flush(): void {}
  close(): void {
    this.data.clear();
  }
}

export interface WindowStoreEntry<V> {
  start: number;
  seq: number;
  value: V;
}

export interface WindowStoreOptions {
  /** Entries whose start is older than (largest start seen - retentionMs) are dropped. */
  retentionMs: number;
  /** Window length, so `fetchAll` can report window ends. */
  windowSizeMs: number;
  /** Keep every put (join buffers) instead of one value per (key, start). */
  retainDuplicates: boolean;
}

export class WindowStore<K, V> implements StateStore {
  readonly kind = 'window';
  private readonly data = new Map<string, { key: K; keyBytes: Buffer; entries: WindowStoreEntry<V>[] }>();
  private changelog: ChangelogWriter | null = null;
  private observedTime = Number.NEGATIVE_INFINITY;
  private seq = 0;

  constructor(
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    readonly options: WindowStoreOptions,
  ) {}

  attachChangelog(writer: ChangelogWriter | null): void {
    this.changelog = writer;
  }

  private changelogKey(keyBytes: Buffer, start: number, seq: number): Buffer {
    const out = Buffer.alloc(keyBytes.length + (this.options.retainDuplicates ? 12 : 8));
    keyBytes.copy(out, 0);
    out.writeBigInt64BE(BigInt(start), keyBytes.length);
    if (this.options.retainDuplicates) out.writeUInt32BE(seq, keyBytes.length + 8);
    return out;
  }

  /**
   * Store `value` for the window starting at `start`; a null value deletes (not with duplicates).
   * Returns the entry's sequence number (0 unless duplicates are retained).
   */
  put(key: K, value: V | null, start: number): number {
    const { bytes, id } = keyString(this.keySerde, key, this.name);
    const seq = this.options.retainDuplicates ? ++this.seq : 0;
    this.apply(id, key, bytes, start, seq, value);
    this.changelog?.(this.changelogKey(bytes, start, seq), value === null ? null : this.valueSerde.serialize(value), start);
    return seq;
  }

  private apply(id: string, key: K, keyBytes: Buffer, start: number, seq: number, value: V | null): void {
    if (start > this.observedTime) this.observedTime = start;
    let slot = this.data.get(id);
    if (!slot) {
      if (value === null) return;
      slot = { key, keyBytes, entries: [] };
      this.data.set(id, slot);
    }
    const at = slot.entries.findIndex((e) => e.start === start && e.seq === seq);
    if (value === null) {
      if (at >= 0) slot.entries.splice(at, 1);
    } else if (at >= 0) {
      slot.entries[at] = { start, seq, value };
    } else {
      slot.entries.push({ start, seq, value });
      slot.entries.sort((a, b) => a.start - b.start || a.seq - b.seq);
    }
    this.expire();
  }

  private expire(): void {
    const horizon = this.observedTime - this.options.retentionMs;
    for (const [id, slot] of this.data) {
      if (slot.entries.length > 0 && slot.entries[0]!.start < horizon) slot.entries = slot.entries.filter((e) => e.start >= horizon);
      if (slot.entries.length === 0) this.data.delete(id);
    }
  }

  fetch(key: K, start: number): V | null {
    const slot = this.data.get(keyString(this.keySerde, key, this.name).id);
    return slot?.entries.find((e) => e.start === start)?.value ?? null;
  }

  /** Entries of `key` with `from <= start <= to`, by start (then insertion order). */
  fetchRange(key: K, from: number, to: number): WindowStoreEntry<V>[] {
    const slot = this.data.get(keyString(this.keySerde, key, this.name).id);
    return slot ? slot.entries.filter((e) => e.start >= from && e.start <= to) : [];
  }

  /** Every entry with `from <= start <= to`, by key bytes then start. */
  fetchAll(from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): Array<{ key: Windowed<K>; value: V }> {
    const out: Array<{ key: Windowed<K>; value: V }> = [];
    for (const [, slot] of [...this.data.entries()].sort((a, b) => byId(a[0], b[0]))) {
      for (const e of slot.entries) {
        if (e.start >= from && e.start <= to) {
          out.push({ key: { key: slot.key, window: { start: e.start, end: e.start + this.options.windowSizeMs } }, value: e.value });
        }
      }
    }
    return out;
  }

  all(): Array<{ key: Windowed<K>; value: V }> {
    return this.fetchAll();
  }

  restore(key: Buffer, value: Buffer | null): void {
    const suffix = this.options.retainDuplicates ? 12 : 8;
    if (key.length < suffix)
      throw new InvalidStateStoreError(`store ${this.name}: a window changelog key has at least ${suffix} bytes, got ${key.length}`);
    const keyBytes = Buffer.from(key.subarray(0, key.length - suffix));
    const start = Number(key.readBigInt64BE(keyBytes.length));
    const seq = this.options.retainDuplicates ? key.readUInt32BE(keyBytes.length + 8) : 0;
    if (seq > this.seq) this.seq = seq;
    this.apply(
      keyBytes.toString('latin1'),
      this.keySerde.deserialize(keyBytes),
      keyBytes,
      start,
      seq,
      value === null ? null : this.valueSerde.deserialize(value),
    );
  }

  flush(): void {}
  close(): void {
    this.data.clear();
  }
}

export interface SessionStoreOptions {
  /** Sessions ending before (largest end seen - retentionMs) are dropped... */
  retentionMs: number;
  /**
   * ...unless the key's next session starts within `bridgeMs` after their end (2 × gap): a record
   * between the two could still merge them while the later one is open.
   */
  bridgeMs?: number;
}

export class SessionStore<K, V> implements StateStore {
  readonly kind = 'session';
  private readonly data = new Map<string, { key: K; keyBytes: Buffer; sessions: Array<{ start: number; end: number; value: V }> }>();
  private changelog: ChangelogWriter | null = null;
  private observedTime = Number.NEGATIVE_INFINITY;

  constructor(
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    readonly options: SessionStoreOptions,
  ) {}

  attachChangelog(writer: ChangelogWriter | null): void {
    this.changelog = writer;
  }

  private changelogKey(keyBytes: Buffer, start: number, end: number): Buffer {
    const out = Buffer.alloc(keyBytes.length + 16);
    keyBytes.copy(out, 0);
    out.writeBigInt64BE(BigInt(end), keyBytes.length);
    out.writeBigInt64BE(BigInt(start), keyBytes.length + 8);
    return out;
  }

  /** Sessions of `key` with `end >= earliestSessionEnd` and `start <= latestSessionStart`, by start. */
  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): Array<{ key: Windowed<K>; value: V }> {
    const slot = this.data.get(keyString(this.keySerde, key, this.name).id);
    if (!slot) return [];
    return slot.sessions
      .filter((s) => s.end >= earliestSessionEnd && s.start <= latestSessionStart)
      .map((s) => ({ key: { key: slot.key, window: { start: s.start, end: s.end } }, value: s.value }));
  }

  fetchSession(key: K, start: number, end: number): V | null {
    return this.findSessions(key, end, start).find((s) => s.key.window.start === start && s.key.window.end === end)?.value ?? null;
  }

  put(session: Windowed<K>, value: V | null): void {
    const { bytes, id } = keyString(this.keySerde, session.key, this.name);
    this.apply(id, session.key, bytes, session.window.start, session.window.end, value);
    this.changelog?.(
      this.changelogKey(bytes, session.window.start, session.window.end),
      value === null ? null : this.valueSerde.serialize(value),
      session.window.end,
    );
  }

  remove(session: Windowed<K>): void {
    this.put(session, null);
  }

  private apply(id: string, key: K, keyBytes: Buffer, start: number, end: number, value: V | null): void {
    if (end > this.observedTime) this.observedTime = end;
    let slot = this.data.get(id);
    if (!slot) {
      if (value === null) return;
      slot = { key, keyBytes, sessions: [] };
      this.data.set(id, slot);
    }
    const at = slot.sessions.findIndex((s) => s.start === start && s.end === end);
    if (value === null) {
      if (at >= 0) slot.sessions.splice(at, 1);
    } else if (at >= 0) {
      slot.sessions[at] = { start, end, value };
    } else {
      slot.sessions.push({ start, end, value });
      slot.sessions.sort((a, b) => a.start - b.start || a.end - b.end);
    }
    // Expire on puts only: between a merge's removals and its put the key's sessions are incomplete.
    if (value === null) return;
    const horizon = this.observedTime - this.options.retentionMs;
    const bridge = this.options.bridgeMs ?? 0;
    for (const [sid, s] of this.data) {
      s.sessions = s.sessions.filter((x, i) => {
        const next = s.sessions[i + 1];
        return x.end >= horizon || (next !== undefined && next.start - bridge <= x.end);
      });
      if (s.sessions.length === 0) this.data.delete(sid);
    }
  }

  all(): Array<{ key: Windowed<K>; value: V }> {
    const out: Array<{ key: Windowed<K>; value: V }> = [];
    for (const [, slot] of [...this.data.entries()].sort((a, b) => byId(a[0], b[0]))) {
      for (const s of slot.sessions) out.push({ key: { key: slot.key, window: { start: s.start, end: s.end } }, value: s.value });
    }
    return out;
  }

  restore(key: Buffer, value: Buffer | null): void {
    if (key.length < 16)
      throw new InvalidStateStoreError(`store ${this.name}: a session changelog key has at least 16 bytes, got ${key.length}`);
    const keyBytes = Buffer.from(key.subarray(0, key.length - 16));
    const end = Number(key.readBigInt64BE(keyBytes.length));
    const start = Number(key.readBigInt64BE(keyBytes.length + 8));
    this.apply(
      keyBytes.toString('latin1'),
      this.keySerde.deserialize(keyBytes),
      keyBytes,
      start,
      end,
      value === null ? null : this.valueSerde.deserialize(value),
    );
  }

  flush(): void {}
  close(): void {
    this.data.clear();
  }
}

/** How a topology describes a store; each task builds its own instance. */
export interface StoreBuilder {
  readonly name: string;
  readonly kind: StoreKind;
  /** Kept on local disk under the runtime's stateDir (the test driver runs it in memory). */
  readonly persistent?: boolean;
  /** Log writes to `<applicationId>-<name>-changelog` (default true). */
  readonly logged: boolean;
  /** Topic configs for the changelog (compacted; windowed stores compact,delete with retention). */
  readonly changelogConfigs: Record<string, string>;
  build(): KeyValueStore<any, any> | WindowStore<any, any> | SessionStore<any, any>;
}

const DAY = 24 * 60 * 60 * 1000;

/** Kafka's `Stores` factory, reduced to what an in-memory store needs. */
export const Stores = {
  keyValue<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>, opts: { logged?: boolean } = {}): StoreBuilder {
    return {
      name,
      kind: 'keyValue',
      logged: opts.logged ?? true,
      changelogConfigs: { 'cleanup.policy': 'compact' },
      build: () => new KeyValueStore(name, keySerde, valueSerde),
    };
  },
  window<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>, opts: WindowStoreOptions & { logged?: boolean }): StoreBuilder {
    return {
      name,
      kind: 'window',
      logged: opts.logged ?? true,
      changelogConfigs: { 'cleanup.policy': 'compact,delete', 'retention.ms': String(opts.retentionMs + DAY) },
      build: () => new WindowStore(name, keySerde, valueSerde, opts),
    };
  },
  session<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>, opts: SessionStoreOptions & { logged?: boolean }): StoreBuilder {
    return {
      name,
      kind: 'session',
      logged: opts.logged ?? true,
      changelogConfigs: { 'cleanup.policy': 'compact,delete', 'retention.ms': String(opts.retentionMs + DAY) },
      build: () => new SessionStore(name, keySerde, valueSerde, opts),
    };
  },
};
