/**
 * The records of the `_schemas` topic: JSON keys and values in the shape of Confluent's
 * `SchemaRegistryKey`/`SchemaValue`/`ConfigValue`/`ModeValue` (so a `_schemas` topic written by
 * Confluent's registry replays here), plus Samsa's WRITER record for the log-ordered election and
 * an `epoch` on every write record for fencing (see README "One writer").
 */

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export type RegistryKey =
  | { keytype: 'SCHEMA'; subject: string; version: number; magic: 1 }
  | { keytype: 'CONFIG'; subject: string | null; magic: 0 }
  | { keytype: 'MODE'; subject: string | null; magic: 0 }
  | { keytype: 'WRITER'; magic: 0 }
  | { keytype: 'NOOP'; magic: 0 };

export interface SchemaValue {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
  deleted: boolean;
  epoch?: number;
}

export interface ConfigValue {
  compatibilityLevel: string;
  epoch?: number;
}

export interface ModeValue {
  mode: string;
  epoch?: number;
}

export interface WriterValue {
  epoch: number;
  instanceId: string;
  url: string;
  leaseMs: number;
}

export interface RegistryRecord {
  key: RegistryKey;
  /** null is a tombstone (hard delete / clear). */
  value: SchemaValue | ConfigValue | ModeValue | WriterValue | Record<string, never> | null;
}

export function schemaKey(subject: string, version: number): RegistryKey {
  return { keytype: 'SCHEMA', subject, version, magic: 1 };
}
export function configKey(subject: string | null): RegistryKey {
  return { keytype: 'CONFIG', subject, magic: 0 };
}
export function modeKey(subject: string | null): RegistryKey {
  return { keytype: 'MODE', subject, magic: 0 };
}
export const WRITER_KEY: RegistryKey = { keytype: 'WRITER', magic: 0 };

/** Decodes a record read from the topic; a record we do not understand yields null (skipped). */
export function decodeRecord(key: Buffer | null, value: Buffer | null): RegistryRecord | null {
  if (key === null) return null;
  try {
    const k = JSON.parse(key.toString('utf8')) as RegistryKey;
    if (typeof k !== 'object' || k === null || typeof k.keytype !== 'string') return null;
    const v = value === null ? null : (JSON.parse(value.toString('utf8')) as RegistryRecord['value']);
    return { key: k, value: v };
  } catch {
    return null;
  }
}

export function encodeRecord(r: RegistryRecord): { key: Buffer; value: Buffer | null } {
  return { key: Buffer.from(JSON.stringify(r.key)), value: r.value === null ? null : Buffer.from(JSON.stringify(r.value)) };
}
