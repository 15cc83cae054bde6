/**
 * The one schema-driven codec (the role of Kafka's generated `Message.read/write` classes): a
 * schema's fields are compiled once per (version, flexible) into a flat plan, then bodies are read
 * and written by walking the plan. Flexible versions (KIP-482) switch strings, bytes and arrays to
 * their compact forms and end every struct with a tagged-field section.
 *
 * Decoding fills every field of every version: a field the version lacks holds its default, so a
 * handler reads `body.isolationLevel` without asking which version arrived. Encoding drops fields
 * the version lacks and writes a tagged field only when it differs from its default, as Kafka does.
 */
import { KafkaDecodeError, KafkaEncodeError } from './errors.js';
import { Reader } from './reader.js';
import type { DefaultValue, FieldSpec, PrimitiveType, UnknownTaggedField } from './schema.js';
import { ZERO_UUID } from './uuid.js';
import { inRange } from './versions.js';
import { Writer } from './writer.js';

type Kind = 'primitive' | 'array' | 'struct' | 'structArray';

interface CompiledField {
  readonly spec: FieldSpec;
  readonly name: string;
  readonly kind: Kind;
  /** The primitive type (or element type of a primitive array). */
  readonly primitive: PrimitiveType | null;
  /** Present in this version (as a regular or a tagged field). */
  readonly present: boolean;
  readonly tagged: boolean;
  readonly tag: number;
  readonly nullable: boolean;
  readonly struct: CompiledStruct | null;
}

export interface CompiledStruct {
  readonly version: number;
  readonly flexible: boolean;
  readonly fields: readonly CompiledField[];
  readonly taggedByTag: ReadonlyMap<number, CompiledField>;
  /** The fewest bytes one encoded instance can take: bounds array counts while decoding. */
  readonly minSize: number;
}

const plans = new WeakMap<readonly FieldSpec[], Map<number, CompiledStruct>>();

export function compile(fields: readonly FieldSpec[], version: number, flexible: boolean): CompiledStruct {
  let byVersion = plans.get(fields);
  if (!byVersion) {
    byVersion = new Map();
    plans.set(fields, byVersion);
  }
  const key = version * 2 + (flexible ? 1 : 0);
  const hit = byVersion.get(key);
  if (hit) return hit;

  const compiled: CompiledField[] = [];
  const taggedByTag = new Map<number, CompiledField>();
  let minSize = flexible ? 1 : 0;
  for (const spec of fields) {
    const present = inRange(version, spec.versions);
    const tagged = present && flexible && spec.taggedVersions !== undefined && inRange(version, spec.taggedVersions);
    let kind: Kind;
    let primitive: PrimitiveType | null = null;
    if (spec.type === 'struct') kind = 'struct';
    else if (spec.type === '[]struct') kind = 'structArray';
    else if (spec.type.startsWith('[]')) {
      kind = 'array';
      primitive = spec.type.slice(2) as PrimitiveType;
    } else {
      kind = 'primitive';
      primitive = spec.type as PrimitiveType;
    }
    if ((kind === 'struct' || kind === 'structArray') && !spec.fields) throw new Error(`schema: ${spec.name} has no fields`);
    const struct = spec.fields ? compile(spec.fields, version, flexible) : null;
    const field: CompiledField = {
      spec,
      name: spec.name,
      kind,
      primitive,
      present,
      tagged,
      tag: spec.tag ?? -1,
      nullable: present && inRange(version, spec.nullableVersions),
      struct,
    };
    if (tagged) {
      if (spec.tag === undefined) throw new Error(`schema: tagged field ${spec.name} has no tag`);
      taggedByTag.set(spec.tag, field);
    } else if (present) {
      minSize += minFieldSize(field, flexible);
    }
    compiled.push(field);
  }
  const plan: CompiledStruct = { version, flexible, fields: compiled, taggedByTag, minSize };
  byVersion.set(key, plan);
  return plan;
}

function primitiveSize(p: PrimitiveType, compact: boolean): number {
  switch (p) {
    case 'int8':
    case 'bool':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return compact ? 1 : 2;
    case 'bytes':
    case 'records':
      return compact ? 1 : 4;
  }
}

function minFieldSize(f: CompiledField, compact: boolean): number {
  if (f.kind === 'primitive') return primitiveSize(f.primitive!, compact);
  if (f.kind === 'struct') return f.struct!.minSize;
  return compact ? 1 : 4;
}

// ---- defaults ----

function primitiveDefault(p: PrimitiveType, d: DefaultValue | undefined): unknown {
  if (d === null) return null;
  if (d !== undefined) {
    if (p === 'int64') return BigInt(d as number | bigint);
    return d;
  }
  switch (p) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return 0;
    case 'int64':
      return 0n;
    case 'bool':
      return false;
    case 'string':
      return '';
    // An absent record set is sent empty (length 0), never null: clients treat -1 badly.
    case 'bytes':
    case 'records':
      return Buffer.alloc(0);
    case 'uuid':
      return ZERO_UUID;
  }
}

function defaultOf(f: CompiledField): unknown {
  switch (f.kind) {
    case 'primitive':
      return primitiveDefault(f.primitive!, f.spec.default);
    case 'array':
    case 'structArray':
      return f.spec.default === null ? null : [];
    case 'struct':
      return defaultStruct(f.struct!);
  }
}

export function defaultStruct(s: CompiledStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of s.fields) out[f.name] = defaultOf(f);
  return out;
}

function isDefault(f: CompiledField, v: unknown): boolean {
  const d = defaultOf(f);
  return sameValue(v, d);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of Object.keys(bo)) if (ao[k] !== undefined && !sameValue(ao[k], bo[k])) return false;
  return true;
}

// ---- decode ----

function readPrimitive(r: Reader, p: PrimitiveType, nullable: boolean, compact: boolean): unknown {
  switch (p) {
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'uint16':
      return r.uint16();
    case 'int32':
      return r.int32();
    case 'uint32':
      return r.uint32();
    case 'int64':
      return r.int64();
    case 'float64':
      return r.float64();
    case 'bool':
      return r.bool();
    case 'uuid':
      return r.uuid();
    case 'string':
      return nullable ? r.nullableString(compact) : r.string(compact);
    case 'bytes':
      return nullable ? r.nullableBytes(compact) : r.bytes(compact);
    case 'records':
      return r.nullableBytes(compact);
  }
}

function readField(r: Reader, f: CompiledField, compact: boolean): unknown {
  switch (f.kind) {
    case 'primitive':
      return readPrimitive(r, f.primitive!, f.nullable, compact);
    case 'struct':
      return decodeStruct(r, f.struct!);
    case 'array': {
      const n = r.arrayLength(compact, primitiveSize(f.primitive!, compact));
      if (n < 0) return nullArray(f, r);
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = readPrimitive(r, f.primitive!, false, compact);
      return out;
    }
    case 'structArray': {
      const n = r.arrayLength(compact, f.struct!.minSize);
      if (n < 0) return nullArray(f, r);
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = decodeStruct(r, f.struct!);
      return out;
    }
  }
}

function nullArray(f: CompiledField, r: Reader): null {
  if (!f.nullable) throw new KafkaDecodeError('invalid-value', `null array for non-nullable field ${f.name} (offset ${r.pos})`);
  return null;
}

export function decodeStruct(r: Reader, s: CompiledStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of s.fields) {
    out[f.name] = f.present && !f.tagged ? readField(r, f, s.flexible) : defaultOf(f);
  }
  if (s.flexible) {
    const unknown = readTaggedFields(r, s, out);
    if (unknown) out._unknownTaggedFields = unknown;
  }
  return out;
}

/** Reads a tagged-field section into `out`; returns the tags the schema does not know (or null). */
export function readTaggedFields(r: Reader, s: CompiledStruct | null, out: Record<string, unknown>): UnknownTaggedField[] | null {
  const count = r.unsignedVarint();
  if (count * 2 > r.remaining) {
    throw new KafkaDecodeError('oversized', `${count} tagged fields cannot fit in the ${r.remaining} bytes that remain (offset ${r.pos})`);
  }
  let unknown: UnknownTaggedField[] | null = null;
  let lastTag = -1;
  for (let i = 0; i < count; i++) {
    const tag = r.unsignedVarint();
    if (tag <= lastTag) throw new KafkaDecodeError('invalid-value', `tagged field ${tag} out of order after ${lastTag} (offset ${r.pos})`);
    lastTag = tag;
    const size = r.unsignedVarint();
    r.need(size, `tagged field ${tag}`);
    const known = s?.taggedByTag.get(tag);
    if (known) {
      const sub = new Reader(r.buf, r.pos, r.pos + size);
      out[known.name] = readField(sub, known, true);
    } else {
      (unknown ??= []).push({ tag, data: r.buf.subarray(r.pos, r.pos + size) });
    }
    r.pos += size;
  }
  return unknown;
}

// ---- encode ----

function writePrimitive(w: Writer, p: PrimitiveType, v: unknown, compact: boolean, name: string): void {
  switch (p) {
    case 'int8':
      return w.int8(v as number);
    case 'int16':
      return w.int16(v as number);
    case 'uint16':
      return w.uint16(v as number);
    case 'int32':
      return w.int32(v as number);
    case 'uint32':
      return w.uint32(v as number);
    case 'int64':
      return w.int64(typeof v === 'bigint' ? v : BigInt(v as number));
    case 'float64':
      return w.float64(v as number);
    case 'bool':
      return w.bool(Boolean(v));
    case 'uuid':
      return w.uuid(v as string);
    case 'string':
      if (v !== null && typeof v !== 'string') throw new KafkaEncodeError(`${name}: expected a string, got ${typeof v}`);
      return w.nullableString(v, compact);
    case 'bytes':
    case 'records':
      if (v !== null && !(v instanceof Uint8Array)) throw new KafkaEncodeError(`${name}: expected a Buffer, got ${typeof v}`);
      return w.nullableBytes(v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength), compact);
  }
}

function writeField(w: Writer, f: CompiledField, value: unknown, compact: boolean, version: number): void {
  const v = value === undefined ? defaultOf(f) : value;
  if (v === null && !f.nullable && !(f.kind === 'primitive' && f.primitive === 'records')) {
    throw new KafkaEncodeError(`${f.name} is null but is not nullable in version ${version}`);
  }
  switch (f.kind) {
    case 'primitive':
      return writePrimitive(w, f.primitive!, v, compact, f.name);
    case 'struct':
      return encodeStruct(w, f.struct!, v as Record<string, unknown>);
    case 'array':
    case 'structArray': {
      if (v === null) return w.arrayLength(-1, compact);
      if (!Array.isArray(v)) throw new KafkaEncodeError(`${f.name}: expected an array`);
      w.arrayLength(v.length, compact);
      if (f.kind === 'array') for (const x of v) writePrimitive(w, f.primitive!, x, compact, f.name);
      else for (const x of v) encodeStruct(w, f.struct!, x as Record<string, unknown>);
      return;
    }
  }
}

export function encodeStruct(w: Writer, s: CompiledStruct, body: Record<string, unknown> | undefined): void {
  const obj = body ?? {};
  let tagged: { tag: number; write: (w: Writer) => void }[] | null = null;
  for (const f of s.fields) {
    if (!f.present) continue;
    const v = obj[f.name];
    if (f.tagged) {
      if (v !== undefined && !isDefault(f, v)) (tagged ??= []).push({ tag: f.tag, write: (tw) => writeField(tw, f, v, true, s.version) });
      continue;
    }
    try {
      writeField(w, f, v, s.flexible, s.version);
    } catch (err) {
      // Buffer's RangeError/TypeError for a bad value gets the field's name (innermost wins).
      if (err instanceof KafkaEncodeError) throw err;
      throw new KafkaEncodeError(`${f.name}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (!s.flexible) return;
  const unknown = obj._unknownTaggedFields as UnknownTaggedField[] | undefined;
  if (unknown) for (const u of unknown) (tagged ??= []).push({ tag: u.tag, write: (tw) => tw.raw(u.data) });
  writeTaggedFields(w, tagged);
}

export function writeTaggedFields(w: Writer, tagged: { tag: number; write: (w: Writer) => void }[] | null): void {
  if (!tagged || tagged.length === 0) {
    w.unsignedVarint(0);
    return;
  }
  tagged.sort((a, b) => a.tag - b.tag);
  w.unsignedVarint(tagged.length);
  for (const t of tagged) {
    const sub = new Writer(64);
    t.write(sub);
    const bytes = sub.finish();
    w.unsignedVarint(t.tag);
    w.unsignedVarint(bytes.length);
    w.raw(bytes);
  }
}
