/**
 * The registry's in-memory state, rebuilt by applying the `_schemas` records in log order (mirrors
 * Confluent's `KafkaStoreMessageHandler` + `InMemoryCache`). Pure: `apply(record, now)` is the only
 * way state changes, and every instance applying the same log reaches the same state, which is
 * what makes ids agree across instances and makes the log-ordered writer election work.
 */
import type { ConfigValue, ModeValue, RegistryRecord, SchemaReference, SchemaType, SchemaValue, WriterValue } from './records.js';

export interface SchemaVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  deleted: boolean;
  /** The epoch of the writer that wrote it; undefined for records of another implementation. */
  epoch: number | undefined;
}

export interface StoredSchema {
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

export interface WriterState extends WriterValue {
  /** When this instance last read a claim or heartbeat of the current epoch (its own clock). */
  lastSeenAt: number;
}

/** The identity of a schema for id assignment: same type, same text, same references. */
export function schemaFingerprint(schemaType: SchemaType, schema: string, references: readonly SchemaReference[]): string {
  const refs = references.map((r) => `${r.name}\u0000${r.subject}\u0000${r.version}`).join('\u0001');
  return `${schemaType}\u0002${schema}\u0002${refs}`;
}

export class RegistryState {
  /** subject → version → the version (soft-deleted ones included, hard-deleted ones gone). */
  readonly subjects = new Map<string, Map<number, SchemaVersion>>();
  readonly schemasById = new Map<number, StoredSchema>();
  readonly idByFingerprint = new Map<string, number>();
  /** The largest id ever applied: the next id is maxId + 1, so ids are never reused. */
  maxId = 0;
  /** Compatibility levels; the key null is the global level. */
  readonly configs = new Map<string | null, string>();
  readonly modes = new Map<string | null, string>();
  writer: WriterState | null = null;
  /** Records applied and records fenced (an epoch other than the current writer's). */
  applied = 0;
  fenced = 0;

  /** Applies one record; returns false when the record was fenced or not understood. */
  apply(record: RegistryRecord, now: number): boolean {
    const { key, value } = record;
    if (key.keytype === 'WRITER') return this.applyWriter(value as WriterValue | null, now);
    if (key.keytype === 'NOOP') return true;
    if (value !== null && !this.inEpoch(value as { epoch?: number })) {
      this.fenced++;
      return false;
    }
    switch (key.keytype) {
      case 'SCHEMA':
        if (value === null) {
          // A bare tombstone carries no epoch. Versions we wrote are removed by a fenced
          // hardDeleted record first, so a tombstone finding one of them still here comes from a
          // deposed writer: ignore it. Versions without an epoch (another implementation's topic)
          // go with their tombstone, as they would there.
          const existing = this.subjects.get(key.subject)?.get(key.version);
          if (existing && existing.epoch !== undefined) {
            this.fenced++;
            return false;
          }
          this.deleteVersion(key.subject, key.version);
        } else if ((value as SchemaValue).hardDeleted) {
          this.deleteVersion(key.subject, key.version);
        } else {
          this.putVersion(value as SchemaValue);
        }
        break;
      case 'CONFIG':
        if (value === null) this.configs.delete(key.subject);
        else this.configs.set(key.subject, (value as ConfigValue).compatibilityLevel);
        break;
      case 'MODE':
        if (value === null) this.modes.delete(key.subject);
        else this.modes.set(key.subject, (value as ModeValue).mode);
        break;
      default:
        return false;
    }
    this.applied++;
    return true;
  }

  /**
   * Records written by a writer carry its epoch; only the current writer's are applied. Records
   * without an epoch (a topic written by another registry implementation) are applied as they are.
   * A tombstone has no value to carry an epoch: see the SCHEMA case of `apply`.
   */
  private inEpoch(value: { epoch?: number }): boolean {
    if (value.epoch === undefined) return true;
    return this.writer !== null && value.epoch === this.writer.epoch;
  }

  private applyWriter(value: WriterValue | null, now: number): boolean {
    if (value === null || typeof value.epoch !== 'number') return false;
    const current = this.writer?.epoch ?? 0;
    if (value.epoch === current + 1) {
      // The first claim of the next epoch in log order wins; later claims for it are stale.
      this.writer = { ...value, lastSeenAt: now };
      return true;
    }
    if (this.writer && value.epoch === current && value.instanceId === this.writer.instanceId) {
      this.writer.lastSeenAt = now; // heartbeat
      this.writer.url = value.url;
      return true;
    }
    return false;
  }

  private putVersion(v: SchemaValue): void {
    const schemaType = v.schemaType ?? 'AVRO';
    const references = v.references ?? [];
    let versions = this.subjects.get(v.subject);
    if (!versions) this.subjects.set(v.subject, (versions = new Map()));
    versions.set(v.version, {
      subject: v.subject,
      version: v.version,
      id: v.id,
      schema: v.schema,
      schemaType,
      references,
      deleted: v.deleted,
      epoch: v.epoch,
    });
    if (!this.schemasById.has(v.id)) this.schemasById.set(v.id, { id: v.id, schema: v.schema, schemaType, references });
    const fp = schemaFingerprint(schemaType, v.schema, references);
    if (!this.idByFingerprint.has(fp)) this.idByFingerprint.set(fp, v.id);
    if (v.id > this.maxId) this.maxId = v.id;
  }

  private deleteVersion(subject: string, version: number): void {
    const versions = this.subjects.get(subject);
    if (!versions) return;
    const gone = versions.get(version);
    versions.delete(version);
    if (versions.size === 0) this.subjects.delete(subject);
    // The id stays known (schemasById/idByFingerprint) while any version uses it; once none does,
    // GET /schemas/ids/{id} answers 40403 but the id is still never given to another schema.
    // idByFingerprint keeps the id, so registering the same schema again gets it back.
    if (gone && !this.idInUse(gone.id)) this.schemasById.delete(gone.id);
  }

  idInUse(id: number): boolean {
    for (const versions of this.subjects.values()) for (const v of versions.values()) if (v.id === id) return true;
    return false;
  }

  /** Live (not soft-deleted) versions of a subject, oldest first. */
  liveVersions(subject: string): SchemaVersion[] {
    const versions = this.subjects.get(subject);
    if (!versions) return [];
    return [...versions.values()].filter((v) => !v.deleted).sort((a, b) => a.version - b.version);
  }

  /** All versions, soft-deleted included, oldest first. */
  allVersions(subject: string): SchemaVersion[] {
    const versions = this.subjects.get(subject);
    if (!versions) return [];
    return [...versions.values()].sort((a, b) => a.version - b.version);
  }
}
