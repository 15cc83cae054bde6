/**
 * Where the registry's records live. `SchemaRegistry` talks to this interface only; the real
 * implementation is the `_schemas` topic on Samsa (`store.ts`), and `MemoryLog` is a one-instance
 * log for tests of the layers above (mirrors Confluent's `Store` / `InMemoryCache` split).
 */
import type { RegistryRecord } from './records.js';
import type { RegistryState } from './state.js';

export interface RegistryLog {
  /** Reads up to the log end and applies it, so a read after this sees every acknowledged write. */
  sync(): Promise<void>;
  /**
   * Appends `records` as the writer (each value stamped with the writer's epoch) and resolves once
   * this instance has read them back and applied them. Rejects with `NotWriterError` when this
   * instance is not the writer.
   */
  append(records: RegistryRecord[]): Promise<void>;
  /** The writer's URL when another instance is the writer; null when this instance is. */
  writerUrl(): string | null;
  close(): Promise<void>;
}

/** This instance is not the writer: forward to `url` (null while no writer is known). */
export class NotWriterError extends Error {
  override name = 'NotWriterError';
  constructor(readonly url: string | null) {
    super(url === null ? 'No schema registry writer is known yet' : `The writer is ${url}`);
  }
}

/** A log in memory: this instance is always the writer (epoch 1). */
export class MemoryLog implements RegistryLog {
  readonly records: RegistryRecord[] = [];

  constructor(
    private readonly state: RegistryState,
    private readonly now: () => number = () => 0,
  ) {
    this.push({ key: { keytype: 'WRITER', magic: 0 }, value: { epoch: 1, instanceId: 'memory', url: 'memory:', leaseMs: 0 } });
  }

  private push(r: RegistryRecord): void {
    this.records.push(r);
    this.state.apply(r, this.now());
  }

  async sync(): Promise<void> {}

  async append(records: RegistryRecord[]): Promise<void> {
    for (const r of records) this.push(r.value === null ? r : { key: r.key, value: { ...r.value, epoch: 1 } as RegistryRecord['value'] });
  }

  writerUrl(): string | null {
    return null;
  }

  async close(): Promise<void> {}
}
