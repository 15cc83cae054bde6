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
  /**
   * Samsa's fenced hard delete: the version is gone. The writer appends this, then the tombstone
   * (for compaction); a tombstone alone is applied only to versions written without an epoch.
   */
  hardDeleted?: boolean;
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

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isInt = (x: unknown): x is number => Number.isSafeInteger(x);
const optionalEpoch = (v: Record<string, unknown>): boolean => v.epoch === undefined || isInt(v.epoch);
const isSubject = (x: unknown): boolean => x === null || typeof x === 'string';

/** Whether a decoded key/value pair has the shape its key type needs (anything else is skipped). */
function wellFormed(k: Record<string, unknown>, v: unknown): boolean {
  switch (k.keytype) {
    case 'SCHEMA':
      if (typeof k.subject !== 'string' || !isInt(k.version)) return false;
      return (
        v === null ||
        (isObject(v) &&
          typeof v.subject === 'string' &&
          isInt(v.version) &&
          isInt(v.id) &&
          v.id >= 0 &&
          typeof v.schema === 'string' &&
          (v.deleted === undefined || typeof v.deleted === 'boolean') &&
          (v.hardDeleted === undefined || typeof v.hardDeleted === 'boolean') &&
          (v.schemaType === undefined || v.schemaType === 'AVRO' || v.schemaType === 'JSON' || v.schemaType === 'PROTOBUF') &&
          (v.references === undefined ||
            (Array.isArray(v.references) &&
              v.references.every((r) => isObject(r) && typeof r.name === 'string' && typeof r.subject === 'string' && isInt(r.version)))) &&
          optionalEpoch(v))
      );
    case 'CONFIG':
      return isSubject(k.subject) && (v === null || (isObject(v) && typeof v.compatibilityLevel === 'string' && optionalEpoch(v)));
    case 'MODE':
      return isSubject(k.subject) && (v === null || (isObject(v) && typeof v.mode === 'string' && optionalEpoch(v)));
    case 'WRITER':
      return (
        isObject(v) && isInt(v.epoch) && typeof v.instanceId === 'string' && typeof v.url === 'string' && typeof v.leaseMs === 'number'
      );
    case 'NOOP':
      return true;
    default:
      return false;
  }
}

/**
 * Decodes a record read from the topic. A record we do not understand (not JSON, an unknown key
 * type, a value of the wrong shape) yields null and is skipped: one bad record must not stop the
 * reader loop of every instance.
 */
export function decodeRecord(key: Buffer | null, value: Buffer | null): RegistryRecord | null {
  if (key === null) return null;
  try {
    const k = JSON.parse(key.toString('utf8')) as unknown;
    if (!isObject(k)) return null;
    const v = value === null ? null : (JSON.parse(value.toString('utf8')) as unknown);
    if (!wellFormed(k, v)) return null;
    if (k.keytype === 'CONFIG' || k.keytype === 'MODE') k.subject ??= null;
    return { key: k as RegistryKey, value: v as RegistryRecord['value'] };
  } catch {
    return null;
  }
}

export function encodeRecord(r: RegistryRecord): { key: Buffer; value: Buffer | null } {
  return { key: Buffer.from(JSON.stringify(r.key)), value: r.value === null ? null : Buffer.from(JSON.stringify(r.value)) };
}
