/**
 * A persistent key-value store (Kafka's `RocksDBStore` + the task's `.checkpoint` file, reduced):
 * the typed in-memory map stays the read path, and at every commit the writes since the last one go
 * to LevelDB in one atomic batch together with the changelog offset they reach (the checkpoint).
 * On assignment the runtime opens the database, loads it, and replays the changelog only from the
 * checkpoint on, instead of from offset 0. The disk therefore always holds a state that matches its
 * checkpoint exactly, whatever the crash point.
 *
 * LevelDB through `classic-level`: maintained, runs on Node 20 with prebuilt binaries, orders byte
 * keys like RocksDB, and the project already ships it (the controller's Raft storage via `level`).
 * The whole store is loaded into memory: durable and quick to restore, not larger-than-memory.
 */
import { mkdirSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import type { Serde } from '@samsa/client';
import { KeyValueStore } from './stores.js';
import type { StoreBuilder } from './stores.js';

const DATA = 0x64; // 'd' + serialized key
const CHECKPOINT = Buffer.from('c'); // 8-byte big-endian next changelog offset

export class PersistentKeyValueStore<K, V> extends KeyValueStore<K, V> {
  private db: ClassicLevel<Buffer, Buffer> | null = null;
  private readonly dirty = new Map<string, { key: Buffer; value: Buffer | null }>();
  /** The changelog offset the disk state reaches (next offset to replay); 0 without a checkpoint. */
  checkpoint = 0n;

  /** Open (creating) the database in `dir` and load it; returns the checkpoint. */
  async open(dir: string): Promise<bigint> {
    mkdirSync(dir, { recursive: true });
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    this.db = db;
    this.data.clear();
    for await (const [key, value] of db.iterator({ gte: Buffer.from([DATA]), lt: Buffer.from([DATA + 1]) })) {
      const keyBytes = key.subarray(1);
      this.data.set(keyBytes.toString('latin1'), {
        key: this.keySerde.deserialize(Buffer.from(keyBytes)),
        value: this.valueSerde.deserialize(value),
      });
    }
    const cp = await db.get(CHECKPOINT);
    this.checkpoint = cp ? cp.readBigInt64BE(0) : 0n;
    return this.checkpoint;
  }

  override put(key: K, value: V | null): void {
    super.put(key, value);
    const bytes = this.keySerde.serialize(key)!;
    this.dirty.set(bytes.toString('latin1'), { key: bytes, value: value === null ? null : this.valueSerde.serialize(value) });
  }

  override restore(key: Buffer, value: Buffer | null): void {
    super.restore(key, value);
    this.dirty.set(key.toString('latin1'), { key: Buffer.from(key), value: value === null ? null : Buffer.from(value) });
  }

  /** Write the changes since the last commit and the checkpoint in one atomic batch. */
  async commitToDisk(checkpoint: bigint): Promise<void> {
    if (!this.db) return; // not opened: in-memory use (the test driver)
    const batch = this.db.batch();
    for (const { key, value } of this.dirty.values()) {
      const k = Buffer.concat([Buffer.from([DATA]), key]);
      if (value === null) batch.del(k);
      else batch.put(k, value);
    }
    const cp = Buffer.alloc(8);
    cp.writeBigInt64BE(checkpoint);
    batch.put(CHECKPOINT, cp);
    await batch.write();
    this.dirty.clear();
    this.checkpoint = checkpoint;
  }

  /** Drop the local state and checkpoint (a checkpoint beyond the changelog's end is invalid). */
  async wipe(): Promise<void> {
    this.data.clear();
    this.dirty.clear();
    await this.db?.clear();
    this.checkpoint = 0n;
  }

  async closeDb(): Promise<void> {
    const db = this.db;
    this.db = null;
    await db?.close();
  }
}

/** Kafka's `Stores.persistentKeyValueStore`: a logged key-value store kept in LevelDB under `stateDir`. */
export function persistentKeyValueStore<K, V>(
  name: string,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  opts: { logged?: boolean } = {},
): StoreBuilder {
  return {
    name,
    kind: 'keyValue',
    logged: opts.logged ?? true,
    persistent: true,
    changelogConfigs: { 'cleanup.policy': 'compact' },
    build: () => new PersistentKeyValueStore(name, keySerde, valueSerde),
  };
}
