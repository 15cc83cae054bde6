/**
 * The registry's operations over a `RegistryState` (mirrors Confluent's `KafkaSchemaRegistry`):
 * reads answer from the state; writes are *planned* — checked against the state and turned into the
 * records to append and the answer to give once they are applied. No I/O here: the store appends
 * and reads back, the HTTP layer maps requests to these calls.
 */
import { COMPATIBILITY_LEVELS, checkLevel, isCompatibilityLevel, type CompatibilityLevel } from './compatibility.js';
import { ErrorCode, RegistryError, errors } from './errors.js';
import { formatFor, type ParsedSchema } from './formats.js';
import { configKey, modeKey, schemaKey, type RegistryRecord, type SchemaReference, type SchemaType, type SchemaValue } from './records.js';
import { schemaFingerprint, type RegistryState, type SchemaVersion } from './state.js';

export const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
export type Mode = (typeof MODES)[number];
export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';
const MAX_VERSION = 2 ** 31 - 1;

export interface RegisterRequest {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
  /** IMPORT mode only: the id and version to use. */
  id?: number;
  version?: number;
}

/** A write: the records to append, then the answer once they are applied. */
export interface WritePlan<T> {
  records: RegistryRecord[];
  result: T;
}

export interface RegistryOptions {
  /** Largest schema text accepted, in UTF-8 bytes (42209 above). */
  maxSchemaBytes: number;
}

export const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = { maxSchemaBytes: 1024 * 1024 };

function validSubject(subject: string): void {
  if (subject.length === 0 || /[\u0000-\u001f]/.test(subject) || subject === '__GLOBAL') {
    throw new RegistryError(ErrorCode.INVALID_SUBJECT, `The specified subject '${subject}' is not a valid subject name.`);
  }
}

/** "latest", "-1" or 1..2^31-1; anything else is 42202. */
export function parseVersion(v: string): number | 'latest' {
  if (v === 'latest' || v === '-1') return 'latest';
  if (!/^[0-9]+$/.test(v)) throw errors.invalidVersion(v);
  const n = Number(v);
  if (n < 1 || n > MAX_VERSION) throw errors.invalidVersion(v);
  return n;
}

export class RegistryOps {
  private readonly parsed = new Map<string, ParsedSchema>();

  constructor(
    private readonly state: RegistryState,
    private readonly options: RegistryOptions = DEFAULT_REGISTRY_OPTIONS,
  ) {}

  // ---- schema parsing ------------------------------------------------------------------------

  /** Texts of the schemas `refs` point at, dependencies first (a reference's own references too). */
  private referenceTexts(refs: readonly SchemaReference[], seen = new Set<string>()): string[] {
    const out: string[] = [];
    for (const ref of refs) {
      const key = `${ref.subject}\u0000${ref.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const v = this.findVersion(
        ref.subject,
        ref.version === -1 ? 'latest' : ref.version,
        false,
        () =>
          new RegistryError(
            ErrorCode.INVALID_SCHEMA,
            `Invalid schema: reference '${ref.name}' to subject '${ref.subject}' version ${ref.version} not found`,
          ),
      );
      out.push(...this.referenceTexts(v.references, seen), v.schema);
    }
    return out;
  }

  parse(schema: string, schemaType: SchemaType | undefined, references: readonly SchemaReference[]): ParsedSchema {
    if (typeof schema !== 'string') throw errors.invalidSchema('Invalid schema: "schema" must be a string');
    if (Buffer.byteLength(schema, 'utf8') > this.options.maxSchemaBytes) {
      throw new RegistryError(ErrorCode.SCHEMA_TOO_LARGE, `Schema is larger than the limit of ${this.options.maxSchemaBytes} bytes`);
    }
    const type = schemaType ?? 'AVRO';
    const cacheKey = schemaFingerprint(type, schema, references);
    const cached = this.parsed.get(cacheKey);
    if (cached) return cached;
    const result = formatFor(type).parse(schema, this.referenceTexts(references));
    if (this.parsed.size > 10_000) this.parsed.clear();
    this.parsed.set(cacheKey, result);
    return result;
  }

  private parseStored(v: { schema: string; schemaType: SchemaType; references: SchemaReference[] }): ParsedSchema {
    return this.parse(v.schema, v.schemaType, v.references);
  }

  // ---- reads ---------------------------------------------------------------------------------

  listSubjects(opts: { deleted?: boolean; prefix?: string } = {}): string[] {
    const out: string[] = [];
    for (const [subject, versions] of this.state.subjects) {
      if (opts.prefix !== undefined && !subject.startsWith(opts.prefix)) continue;
      const live = [...versions.values()].some((v) => !v.deleted);
      if (live || opts.deleted) out.push(subject);
    }
    return out.sort();
  }

  listVersions(subject: string, deleted = false): number[] {
    const versions = deleted ? this.state.allVersions(subject) : this.state.liveVersions(subject);
    if (versions.length === 0) throw errors.subjectNotFound(subject);
    return versions.map((v) => v.version);
  }

  private findVersion(subject: string, version: number | 'latest', deleted: boolean, notFound?: () => RegistryError): SchemaVersion {
    const all = this.state.allVersions(subject);
    const visible = deleted ? all : all.filter((v) => !v.deleted);
    if (visible.length === 0) throw notFound?.() ?? errors.subjectNotFound(subject);
    const found = version === 'latest' ? visible[visible.length - 1] : visible.find((v) => v.version === version);
    if (!found) throw notFound?.() ?? errors.versionNotFound(version);
    return found;
  }

  getVersion(subject: string, version: string, deleted = false): SchemaVersion {
    return this.findVersion(subject, parseVersion(version), deleted);
  }

  referencedBy(subject: string, version: string): number[] {
    const v = this.getVersion(subject, version);
    return this.referrers(v).sort((a, b) => a - b);
  }

  /** Ids of live schemas that reference version `v`. */
  private referrers(v: SchemaVersion): number[] {
    const ids = new Set<number>();
    for (const versions of this.state.subjects.values()) {
      for (const other of versions.values()) {
        if (other.deleted) continue;
        if (other.references.some((r) => r.subject === v.subject && r.version === v.version)) ids.add(other.id);
      }
    }
    return [...ids];
  }

  getSchemaById(id: number): { schema: string; schemaType: SchemaType; references: SchemaReference[] } {
    const s = this.state.schemasById.get(id);
    if (!s) throw errors.schemaNotFound(`Schema ${id} not found`);
    return s;
  }

  subjectVersionsById(id: number, deleted = false): { subject: string; version: number }[] {
    this.getSchemaById(id);
    const out: { subject: string; version: number }[] = [];
    for (const [subject, versions] of this.state.subjects) {
      for (const v of versions.values()) if (v.id === id && (deleted || !v.deleted)) out.push({ subject, version: v.version });
    }
    return out.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version));
  }

  subjectsById(id: number, deleted = false): string[] {
    return [...new Set(this.subjectVersionsById(id, deleted).map((sv) => sv.subject))];
  }

  compatibilityLevel(subject: string | null): CompatibilityLevel {
    const level = (subject !== null ? this.state.configs.get(subject) : undefined) ?? this.state.configs.get(null) ?? DEFAULT_COMPATIBILITY;
    return level as CompatibilityLevel;
  }

  getConfig(subject: string | null, defaultToGlobal = false): { compatibilityLevel: string } {
    if (subject === null) return { compatibilityLevel: this.compatibilityLevel(null) };
    const own = this.state.configs.get(subject);
    if (own !== undefined) return { compatibilityLevel: own };
    if (defaultToGlobal) return { compatibilityLevel: this.compatibilityLevel(null) };
    throw new RegistryError(
      ErrorCode.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED,
      `Subject '${subject}' does not have subject-level compatibility configured`,
    );
  }

  mode(subject: string | null): Mode {
    return ((subject !== null ? this.state.modes.get(subject) : undefined) ?? this.state.modes.get(null) ?? 'READWRITE') as Mode;
  }

  getMode(subject: string | null, defaultToGlobal = false): { mode: string } {
    if (subject === null) return { mode: this.mode(null) };
    const own = this.state.modes.get(subject);
    if (own !== undefined) return { mode: own };
    if (defaultToGlobal) return { mode: this.mode(null) };
    throw new RegistryError(
      ErrorCode.SUBJECT_LEVEL_MODE_NOT_CONFIGURED,
      `Subject '${subject}' does not have subject-level mode configured`,
    );
  }

  /** POST /subjects/{s}: the version of `s` holding this schema. */
  lookup(subject: string, req: RegisterRequest, normalize = false, deleted = false): SchemaVersion {
    validSubject(subject);
    const parsed = this.parse(req.schema, req.schemaType, req.references ?? []);
    const versions = deleted ? this.state.allVersions(subject) : this.state.liveVersions(subject);
    if (versions.length === 0) throw errors.subjectNotFound(subject);
    const text = normalize ? parsed.normalized : parsed.canonical;
    const refs = JSON.stringify(req.references ?? []);
    const found = [...versions].reverse().find((v) => {
      if (v.schemaType !== parsed.schemaType || JSON.stringify(v.references) !== refs) return false;
      if (v.schema === text) return true;
      return normalize && this.parseStored(v).normalized === parsed.normalized;
    });
    if (!found) throw errors.schemaNotFound('Schema not found');
    return found;
  }

  /** POST /compatibility/subjects/{s}/versions[/{v}]: the reasons it is incompatible (empty = ok). */
  checkCompatibility(subject: string, version: string | undefined, req: RegisterRequest): string[] {
    validSubject(subject);
    const parsed = this.parse(req.schema, req.schemaType, req.references ?? []);
    const level = this.compatibilityLevel(subject);
    if (version !== undefined) {
      const v = this.getVersion(subject, version);
      // Against one version: the level's direction, that version only.
      return this.levelCheck(level.replace('_TRANSITIVE', '') as CompatibilityLevel, parsed, [v]);
    }
    return this.levelCheck(level, parsed, this.state.liveVersions(subject));
  }

  private levelCheck(level: CompatibilityLevel, parsed: ParsedSchema, previous: SchemaVersion[]): string[] {
    const format = formatFor(parsed.schemaType);
    const comparable = previous.filter((v) => v.schemaType === parsed.schemaType);
    if (comparable.length < previous.length && level !== 'NONE') {
      return [
        `Incompatible schema type: ${parsed.schemaType} cannot follow ${previous.find((v) => v.schemaType !== parsed.schemaType)!.schemaType}`,
      ];
    }
    const olds = comparable.map((v) => this.parseStored(v));
    return checkLevel(level, parsed, olds, (r, w) => format.canRead(r, w));
  }

  // ---- writes (planned) ----------------------------------------------------------------------

  private requireWritable(subject: string | null): void {
    const mode = this.mode(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') {
      throw new RegistryError(
        ErrorCode.OPERATION_NOT_PERMITTED,
        subject === null ? 'The registry is in read-only mode' : `Subject ${subject} is in read-only mode`,
      );
    }
  }

  register(subject: string, req: RegisterRequest, normalize = false): WritePlan<{ id: number }> {
    validSubject(subject);
    this.requireWritable(subject);
    const references = req.references ?? [];
    const parsed = this.parse(req.schema, req.schemaType, references);
    const text = normalize ? parsed.normalized : parsed.canonical;
    const mode = this.mode(subject);
    const all = this.state.allVersions(subject);
    const live = all.filter((v) => !v.deleted);
    const fp = schemaFingerprint(parsed.schemaType, text, references);

    // The same schema again under this subject: its id, nothing written.
    const existing = [...live].reverse().find((v) => schemaFingerprint(v.schemaType, v.schema, v.references) === fp);
    if (existing && req.id === undefined) return { records: [], result: { id: existing.id } };

    let id: number;
    let version: number;
    if (mode === 'IMPORT') {
      if (req.id === undefined || req.version === undefined) {
        throw new RegistryError(ErrorCode.OPERATION_NOT_PERMITTED, 'In IMPORT mode a registration must give an id and a version');
      }
      const holder = this.state.schemasById.get(req.id);
      if (holder && schemaFingerprint(holder.schemaType, holder.schema, holder.references) !== fp) {
        throw new RegistryError(ErrorCode.ID_DOES_NOT_MATCH, `Schema id ${req.id} is already in use by another schema`);
      }
      id = req.id;
      version = req.version;
    } else {
      if (req.id !== undefined) throw new RegistryError(ErrorCode.OPERATION_NOT_PERMITTED, 'An id may be given only in IMPORT mode');
      const reasons = this.levelCheck(this.compatibilityLevel(subject), parsed, live);
      if (reasons.length > 0) {
        throw new RegistryError(
          ErrorCode.INCOMPATIBLE_SCHEMA,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${reasons.join(', ')}]`,
        );
      }
      id = this.state.idByFingerprint.get(fp) ?? this.state.maxId + 1;
      version = (all[all.length - 1]?.version ?? 0) + 1;
    }
    return {
      records: [
        {
          key: schemaKey(subject, version),
          value: {
            subject,
            version,
            id,
            schema: text,
            ...(parsed.schemaType !== 'AVRO' ? { schemaType: parsed.schemaType } : {}),
            ...(references.length > 0 ? { references } : {}),
            deleted: false,
          },
        },
      ],
      result: { id },
    };
  }

  deleteSubject(subject: string, permanent: boolean): WritePlan<number[]> {
    this.requireWritable(subject);
    const all = this.state.allVersions(subject);
    if (all.length === 0) throw errors.subjectNotFound(subject);
    const live = all.filter((v) => !v.deleted);
    for (const v of live) this.refuseIfReferenced(v);
    if (permanent) {
      if (live.length > 0)
        throw new RegistryError(
          ErrorCode.SUBJECT_NOT_SOFT_DELETED,
          `Subject '${subject}' was not deleted first before being permanently deleted`,
        );
      return { records: this.hardDeleteRecords(all), result: all.map((v) => v.version) };
    }
    if (live.length === 0)
      throw new RegistryError(
        ErrorCode.SUBJECT_SOFT_DELETED,
        `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
      );
    return { records: live.map((v) => this.softDeleteRecord(v)), result: live.map((v) => v.version) };
  }

  deleteVersion(subject: string, version: string, permanent: boolean): WritePlan<number> {
    this.requireWritable(subject);
    const parsedVersion = parseVersion(version);
    // A soft-deleted version is found too, so deleting it again says 40406, not 40402.
    const v = this.findVersion(subject, parsedVersion, permanent || parsedVersion !== 'latest');
    this.refuseIfReferenced(v);
    if (permanent) {
      if (!v.deleted)
        throw new RegistryError(
          ErrorCode.SCHEMA_VERSION_NOT_SOFT_DELETED,
          `Subject '${subject}' Version ${v.version} was not deleted first before being permanently deleted`,
        );
      return { records: this.hardDeleteRecords([v]), result: v.version };
    }
    if (v.deleted)
      throw new RegistryError(
        ErrorCode.SCHEMA_VERSION_SOFT_DELETED,
        `Subject '${subject}' Version ${v.version} was soft deleted. Set permanent=true to delete permanently`,
      );
    return { records: [this.softDeleteRecord(v)], result: v.version };
  }

  /** A fenced hardDeleted record per version, then the tombstones compaction needs. */
  private hardDeleteRecords(versions: SchemaVersion[]): RegistryRecord[] {
    const marks = versions.map((v) => {
      const soft = this.softDeleteRecord(v);
      return { key: soft.key, value: { ...(soft.value as SchemaValue), hardDeleted: true } };
    });
    return [...marks, ...versions.map((v) => ({ key: schemaKey(v.subject, v.version), value: null }))];
  }

  private softDeleteRecord(v: SchemaVersion): RegistryRecord {
    return {
      key: schemaKey(v.subject, v.version),
      value: {
        subject: v.subject,
        version: v.version,
        id: v.id,
        schema: v.schema,
        ...(v.schemaType !== 'AVRO' ? { schemaType: v.schemaType } : {}),
        ...(v.references.length > 0 ? { references: v.references } : {}),
        deleted: true,
      },
    };
  }

  private refuseIfReferenced(v: SchemaVersion): void {
    const by = this.referrers(v);
    if (by.length > 0)
      throw new RegistryError(
        ErrorCode.REFERENCE_EXISTS,
        `One or more references exist to the schema {subject=${v.subject}, version=${v.version}}: ids ${by.join(', ')}`,
      );
  }

  setConfig(subject: string | null, body: unknown): WritePlan<{ compatibility: string }> {
    if (subject !== null) validSubject(subject);
    const level =
      (body as { compatibility?: unknown; compatibilityLevel?: unknown } | null)?.compatibility ??
      (body as { compatibilityLevel?: unknown } | null)?.compatibilityLevel;
    if (!isCompatibilityLevel(level)) {
      throw new RegistryError(
        ErrorCode.INVALID_COMPATIBILITY_LEVEL,
        `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (got ${JSON.stringify(level)})`,
      );
    }
    return { records: [{ key: configKey(subject), value: { compatibilityLevel: level } }], result: { compatibility: level } };
  }

  deleteConfig(subject: string | null): WritePlan<{ compatibilityLevel: string }> {
    if (subject === null) {
      return { records: [{ key: configKey(null), value: null }], result: { compatibilityLevel: this.compatibilityLevel(null) } };
    }
    if (!this.state.subjects.has(subject) && !this.state.configs.has(subject)) throw errors.subjectNotFound(subject);
    const own = this.getConfig(subject);
    return { records: [{ key: configKey(subject), value: null }], result: own };
  }

  setMode(subject: string | null, body: unknown, force = false): WritePlan<{ mode: string }> {
    if (subject !== null) validSubject(subject);
    const mode = (body as { mode?: unknown } | null)?.mode;
    if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode)) {
      throw new RegistryError(
        ErrorCode.INVALID_MODE,
        `Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT (got ${JSON.stringify(mode)})`,
      );
    }
    if (mode === 'IMPORT' && !force) {
      const hasSchemas = subject === null ? this.state.subjects.size > 0 : this.state.subjects.has(subject);
      if (hasSchemas)
        throw new RegistryError(
          ErrorCode.OPERATION_NOT_PERMITTED,
          'Cannot import since found existing subjects (use force=true to override)',
        );
    }
    return { records: [{ key: modeKey(subject), value: { mode } }], result: { mode } };
  }

  deleteMode(subject: string): WritePlan<{ mode: string }> {
    const own = this.getMode(subject);
    return { records: [{ key: modeKey(subject), value: null }], result: own };
  }
}

export { COMPATIBILITY_LEVELS };
