/**
 * Source offsets, after Kafka's `OffsetBackingStore` and `FileOffsetBackingStore`: keys are
 * `["<connector>", {sourcePartition}]` and values `{sourceOffset}`, as JSON (Kafka's key format in
 * the offset topic). The file store writes the whole map to a temp file and renames it, so a crash
 * leaves the previous version whole.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SourceOffset, SourcePartition } from './api.js';

/** JSON with object keys sorted, so equal partitions give equal keys. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

export function offsetKey(connector: string, partition: SourcePartition): string {
  return canonicalJson([connector, partition]);
}

export interface OffsetBackingStore {
  get(connector: string, partition: SourcePartition): SourceOffset | null;
  /** A null offset removes the partition's offset (KIP-875 reset). */
  set(connector: string, offsets: ReadonlyArray<{ partition: SourcePartition; offset: SourceOffset | null }>): Promise<void>;
  list(connector: string): Array<{ partition: SourcePartition; offset: SourceOffset }>;
}

export class MemoryOffsetStore implements OffsetBackingStore {
  protected readonly data = new Map<string, SourceOffset>();
  get(connector: string, partition: SourcePartition): SourceOffset | null {
    return this.data.get(offsetKey(connector, partition)) ?? null;
  }
  async set(connector: string, offsets: ReadonlyArray<{ partition: SourcePartition; offset: SourceOffset | null }>): Promise<void> {
    for (const { partition, offset } of offsets) {
      const key = offsetKey(connector, partition);
      if (offset === null) this.data.delete(key);
      else this.data.set(key, offset);
    }
    await this.persist();
  }
  list(connector: string): Array<{ partition: SourcePartition; offset: SourceOffset }> {
    const out: Array<{ partition: SourcePartition; offset: SourceOffset }> = [];
    for (const [key, offset] of this.data) {
      const [name, partition] = JSON.parse(key) as [string, SourcePartition];
      if (name === connector) out.push({ partition, offset });
    }
    return out;
  }
  protected async persist(): Promise<void> {}
}

export class FileOffsetStore extends MemoryOffsetStore {
  constructor(private readonly file: string) {
    super();
    if (existsSync(file)) {
      const entries = JSON.parse(readFileSync(file, 'utf8')) as Array<[string, SourceOffset]>;
      for (const [k, v] of entries) this.data.set(k, v);
    }
  }
  protected override async persist(): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.data]));
    renameSync(tmp, this.file);
  }
}
