/**
 * Single message transforms with Kafka's class names and config keys (KIP-66), and predicates
 * (KIP-585: `predicates`, `transforms.<t>.predicate`, `.negate`). Each transform is a pure
 * function of a record: it returns a new record, or null to drop it. `$Key`/`$Value` variants
 * act on the key or the value, as in Kafka. Schemas are kept in step where a struct schema is
 * present; schemaless values (plain objects) are the common case.
 */
import type { ConnectRecord, Schema } from './api.js';
import { ConfigException } from './configDef.js';

export type Transform = <R extends ConnectRecord>(record: R) => R | null;
export type Predicate = (record: ConnectRecord) => boolean;

const T = 'org.apache.kafka.connect.transforms.';
const P = 'org.apache.kafka.connect.transforms.predicates.';

type Which = 'key' | 'value';

function part(r: ConnectRecord, which: Which): { schema: Schema | null | undefined; value: unknown } {
  return which === 'key' ? { schema: r.keySchema, value: r.key } : { schema: r.valueSchema, value: r.value };
}
function withPart<R extends ConnectRecord>(r: R, which: Which, schema: Schema | null | undefined, value: unknown): R {
  return which === 'key' ? { ...r, keySchema: schema, key: value } : { ...r, valueSchema: schema, value };
}
function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    throw new ConfigException(
      `Only Struct objects supported for [${what}], found: ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}
function required(cfg: Record<string, string>, key: string): string {
  const v = cfg[key];
  if (v === undefined || v === '') throw new ConfigException(`Missing required configuration "${key}" which has no default value.`);
  return v;
}
function list(v: string | undefined): string[] {
  return v === undefined || v.trim() === ''
    ? []
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function insertField(which: Which, cfg: Record<string, string>): Transform {
  const name = (k: string) => cfg[k]?.replace(/[!?]$/, '');
  const topicF = name('topic.field'),
    partF = name('partition.field'),
    offF = name('offset.field');
  const tsF = name('timestamp.field'),
    staticF = name('static.field'),
    staticV = cfg['static.value'];
  return (r) => {
    const p = part(r, which);
    if (p.value === null && which === 'value') return r; // tombstones pass through, as Kafka's
    const obj = { ...requireObject(p.value, 'field insertion') };
    const added: Array<Schema & { field: string }> = [];
    const put = (f: string | undefined, v: unknown, type: Schema['type']) => {
      if (!f) return;
      obj[f] = v;
      added.push({ field: f, type, optional: true });
    };
    put(topicF, r.topic, 'string');
    put(partF, r.kafkaPartition ?? null, 'int32');
    put(offF, 'kafkaOffset' in r ? Number((r as { kafkaOffset: bigint }).kafkaOffset) : null, 'int64');
    put(tsF, r.timestamp ?? null, 'int64');
    put(staticF, staticV ?? null, 'string');
    const schema = p.schema?.type === 'struct' ? { ...p.schema, fields: [...(p.schema.fields ?? []), ...added] } : p.schema;
    return withPart(r, which, schema, obj);
  };
}

function replaceField(which: Which, cfg: Record<string, string>): Transform {
  const exclude = new Set(list(cfg.exclude ?? cfg.blacklist));
  const include = new Set(list(cfg.include ?? cfg.whitelist));
  const renames = new Map<string, string>();
  for (const pair of list(cfg.renames)) {
    const [from, to] = pair.split(':');
    if (!from || !to) throw new ConfigException(`Invalid value ${cfg.renames} for configuration renames: Invalid rename mapping: ${pair}`);
    renames.set(from, to);
  }
  const keep = (f: string) => !exclude.has(f) && (include.size === 0 || include.has(f));
  return (r) => {
    const p = part(r, which);
    if (p.value === null) return r;
    const obj = requireObject(p.value, 'field replacement');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (keep(k)) out[renames.get(k) ?? k] = v;
    const schema =
      p.schema?.type === 'struct'
        ? {
            ...p.schema,
            fields: (p.schema.fields ?? []).filter((f) => keep(f.field)).map((f) => ({ ...f, field: renames.get(f.field) ?? f.field })),
          }
        : p.schema;
    return withPart(r, which, schema, out);
  };
}

function maskField(which: Which, cfg: Record<string, string>): Transform {
  const fields = list(required(cfg, 'fields'));
  const replacement = cfg.replacement;
  const masked = (v: unknown): unknown => {
    if (typeof v === 'number') return replacement !== undefined ? Number(replacement) : 0;
    if (typeof v === 'bigint') return replacement !== undefined ? BigInt(replacement) : 0n;
    if (typeof v === 'boolean') return false;
    if (typeof v === 'string') return replacement ?? '';
    if (Array.isArray(v)) return [];
    if (v !== null && typeof v === 'object') return {};
    return v;
  };
  return (r) => {
    const p = part(r, which);
    if (p.value === null) return r;
    const obj = { ...requireObject(p.value, 'masking') };
    for (const f of fields) if (f in obj) obj[f] = masked(obj[f]);
    return withPart(r, which, p.schema, obj);
  };
}

function valueToKey(cfg: Record<string, string>): Transform {
  const fields = list(required(cfg, 'fields'));
  return (r) => {
    const obj = requireObject(r.value, 'copying fields from value to key');
    const key: Record<string, unknown> = {};
    for (const f of fields) key[f] = obj[f] ?? null;
    const keySchema =
      r.valueSchema?.type === 'struct'
        ? {
            type: 'struct' as const,
            fields: fields.map(
              (f) => r.valueSchema!.fields!.find((x) => x.field === f) ?? { field: f, type: 'string' as const, optional: true },
            ),
          }
        : null;
    return { ...r, key, keySchema };
  };
}

function extractField(which: Which, cfg: Record<string, string>): Transform {
  const field = required(cfg, 'field');
  return (r) => {
    const p = part(r, which);
    if (p.value === null) return r;
    const obj = requireObject(p.value, 'field extraction');
    const schema = p.schema?.type === 'struct' ? (p.schema.fields?.find((f) => f.field === field) ?? null) : null;
    let fieldSchema: Schema | null = null;
    if (schema) {
      const copy: Schema & { field?: string } = { ...schema };
      delete copy.field;
      fieldSchema = copy;
    }
    return withPart(r, which, fieldSchema, obj[field] ?? null);
  };
}

const CAST_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string']);

export function castValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'string':
      return Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'boolean':
      if (typeof v === 'string') return v.trim().toLowerCase() === 'true';
      return Boolean(typeof v === 'bigint' ? v !== 0n : v);
    case 'float32':
    case 'float64': {
      const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
      if (Number.isNaN(n)) throw new ConfigException(`Cast transformation cannot convert value ${String(v)} to ${type}`);
      return type === 'float32' ? Math.fround(n) : n;
    }
    default: {
      const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
      if (Number.isNaN(n)) throw new ConfigException(`Cast transformation cannot convert value ${String(v)} to ${type}`);
      const bits = { int8: 8, int16: 16, int32: 32, int64: 64 }[type]!;
      const t = Math.trunc(n);
      if (bits === 64) return t;
      // Java's narrowing cast wraps around.
      return Number(BigInt.asIntN(bits, BigInt(t)));
    }
  }
}

function cast(which: Which, cfg: Record<string, string>): Transform {
  const spec = list(required(cfg, 'spec'));
  const whole = spec.length === 1 && !spec[0]!.includes(':') ? spec[0]! : null;
  const perField = new Map<string, string>();
  for (const s of whole ? [] : spec) {
    const [f, t] = s.split(':');
    if (!f || !t || !CAST_TYPES.has(t))
      throw new ConfigException(`Invalid value ${cfg.spec} for configuration spec: Invalid type found in casting spec: ${t ?? s}`);
    perField.set(f, t);
  }
  if (whole && !CAST_TYPES.has(whole))
    throw new ConfigException(`Invalid value ${cfg.spec} for configuration spec: Invalid type found in casting spec: ${whole}`);
  return (r) => {
    const p = part(r, which);
    if (p.value === null) return r;
    if (whole)
      return withPart(r, which, { type: whole as Schema['type'], optional: p.schema?.optional ?? true }, castValue(p.value, whole));
    const obj = { ...requireObject(p.value, 'cast') };
    for (const [f, t] of perField) if (f in obj) obj[f] = castValue(obj[f], t);
    const schema =
      p.schema?.type === 'struct'
        ? {
            ...p.schema,
            fields: p.schema.fields!.map((f) => (perField.has(f.field) ? { ...f, type: perField.get(f.field) as Schema['type'] } : f)),
          }
        : p.schema;
    return withPart(r, which, schema, obj);
  };
}

/** Java SimpleDateFormat's common letters (yyyy MM dd HH mm ss SSS, literal 'quoted' text), in UTC. */
export function formatTimestamp(ms: number, format: string): string {
  const d = new Date(ms);
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return format.replace(/'([^']*)'|yyyy|MM|dd|HH|mm|ss|SSS/g, (tok, lit: string | undefined) => {
    if (lit !== undefined) return lit;
    switch (tok) {
      case 'yyyy':
        return pad(d.getUTCFullYear(), 4);
      case 'MM':
        return pad(d.getUTCMonth() + 1, 2);
      case 'dd':
        return pad(d.getUTCDate(), 2);
      case 'HH':
        return pad(d.getUTCHours(), 2);
      case 'mm':
        return pad(d.getUTCMinutes(), 2);
      case 'ss':
        return pad(d.getUTCSeconds(), 2);
      default:
        return pad(d.getUTCMilliseconds(), 3);
    }
  });
}

export function parseTimestamp(text: string, format: string): number {
  const parts: Record<string, number> = { yyyy: 1970, MM: 1, dd: 1, HH: 0, mm: 0, ss: 0, SSS: 0 };
  const order: string[] = [];
  const pattern = format.replace(/'([^']*)'|yyyy|MM|dd|HH|mm|ss|SSS|[.*+?^${}()|[\]\\]/g, (tok, lit: string | undefined) => {
    if (lit !== undefined) return lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (tok in parts) {
      order.push(tok);
      return `(\\d{${tok.length}})`;
    }
    return `\\${tok}`;
  });
  const m = new RegExp(`^${pattern}$`).exec(text);
  if (!m) throw new ConfigException(`Could not parse timestamp: value (${text}) does not match pattern (${format})`);
  order.forEach((tok, i) => {
    parts[tok] = Number(m[i + 1]);
  });
  return Date.UTC(parts.yyyy!, parts.MM! - 1, parts.dd!, parts.HH!, parts.mm!, parts.ss!, parts.SSS!);
}

function timestampConverter(which: Which, cfg: Record<string, string>): Transform {
  const target = required(cfg, 'target.type');
  if (!['string', 'unix', 'Date', 'Time', 'Timestamp'].includes(target)) {
    throw new ConfigException(
      `Invalid value ${target} for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp`,
    );
  }
  const format = cfg.format ?? '';
  if (target === 'string' && format === '')
    throw new ConfigException('TimestampConverter requires format option to be specified when using string timestamps');
  const precision = cfg['unix.precision'] ?? 'milliseconds';
  const scale = { seconds: 1000, milliseconds: 1, microseconds: 1 / 1000, nanoseconds: 1 / 1_000_000 }[precision];
  if (scale === undefined)
    throw new ConfigException(
      `Invalid value ${precision} for configuration unix.precision: String must be one of: nanoseconds, microseconds, milliseconds, seconds`,
    );
  const field = cfg.field ?? '';
  const toMs = (v: unknown): number => {
    if (v instanceof Date) return v.getTime();
    if (typeof v === 'number' || typeof v === 'bigint') return Number(v) * scale;
    if (typeof v === 'string') return format ? parseTimestamp(v, format) : Date.parse(v);
    throw new ConfigException(`TimestampConverter cannot convert value of type ${typeof v}`);
  };
  const convert = (v: unknown): unknown => {
    if (v === null || v === undefined) return null;
    const ms = toMs(v);
    switch (target) {
      case 'string':
        return formatTimestamp(ms, format);
      case 'unix':
        return Math.trunc(ms / scale);
      case 'Date':
        return new Date(ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000));
      case 'Time':
        return new Date(((ms % 86_400_000) + 86_400_000) % 86_400_000);
      default:
        return new Date(ms);
    }
  };
  return (r) => {
    const p = part(r, which);
    if (field === '') return withPart(r, which, null, convert(p.value));
    if (p.value === null) return r;
    const obj = { ...requireObject(p.value, 'converting timestamp formats') };
    obj[field] = convert(obj[field]);
    return withPart(r, which, p.schema?.type === 'struct' ? null : p.schema, obj);
  };
}

function regexRouter(cfg: Record<string, string>): Transform {
  const regex = new RegExp(`^(?:${required(cfg, 'regex')})$`);
  const replacement = required(cfg, 'replacement');
  return (r) => (regex.test(r.topic) ? { ...r, topic: r.topic.replace(regex, replacement) } : r);
}

export function flattenValue(value: unknown, delimiter: string, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const name = prefix === '' ? k : `${prefix}${delimiter}${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date))
      flattenValue(v, delimiter, name, out);
    else out[name] = v;
  }
  return out;
}

function flattenSchema(schema: Schema, delimiter: string, prefix = ''): Array<Schema & { field: string }> {
  const out: Array<Schema & { field: string }> = [];
  for (const f of schema.fields ?? []) {
    const name = prefix === '' ? f.field : `${prefix}${delimiter}${f.field}`;
    if (f.type === 'struct') out.push(...flattenSchema(f, delimiter, name));
    else out.push({ ...f, field: name });
  }
  return out;
}

function flatten(which: Which, cfg: Record<string, string>): Transform {
  const delimiter = cfg.delimiter ?? '.';
  return (r) => {
    const p = part(r, which);
    if (p.value === null) return r;
    const flat = flattenValue(requireObject(p.value, 'flattening'), delimiter);
    const schema = p.schema?.type === 'struct' ? { ...p.schema, fields: flattenSchema(p.schema, delimiter) } : p.schema;
    return withPart(r, which, schema, flat);
  };
}

function insertHeader(cfg: Record<string, string>): Transform {
  const header = required(cfg, 'header');
  const literal = required(cfg, 'value.literal');
  return (r) => ({ ...r, headers: { ...(r.headers ?? {}), [header]: literal } });
}

function dropHeaders(cfg: Record<string, string>): Transform {
  const drop = new Set(list(required(cfg, 'headers')));
  return (r) => ({ ...r, headers: Object.fromEntries(Object.entries(r.headers ?? {}).filter(([k]) => !drop.has(k))) });
}

export function createTransform(type: string, cfg: Record<string, string>): Transform {
  const short = type.startsWith(T) ? type.slice(T.length) : type;
  switch (short) {
    case 'InsertField$Key':
      return insertField('key', cfg);
    case 'InsertField$Value':
      return insertField('value', cfg);
    case 'ReplaceField$Key':
      return replaceField('key', cfg);
    case 'ReplaceField$Value':
      return replaceField('value', cfg);
    case 'MaskField$Key':
      return maskField('key', cfg);
    case 'MaskField$Value':
      return maskField('value', cfg);
    case 'ValueToKey':
      return valueToKey(cfg);
    case 'ExtractField$Key':
      return extractField('key', cfg);
    case 'ExtractField$Value':
      return extractField('value', cfg);
    case 'Cast$Key':
      return cast('key', cfg);
    case 'Cast$Value':
      return cast('value', cfg);
    case 'TimestampConverter$Key':
      return timestampConverter('key', cfg);
    case 'TimestampConverter$Value':
      return timestampConverter('value', cfg);
    case 'RegexRouter':
      return regexRouter(cfg);
    case 'Flatten$Key':
      return flatten('key', cfg);
    case 'Flatten$Value':
      return flatten('value', cfg);
    case 'Filter':
      return () => null;
    case 'InsertHeader':
      return insertHeader(cfg);
    case 'DropHeaders':
      return dropHeaders(cfg);
    default:
      throw new ConfigException(`Class ${type} could not be found.`);
  }
}

export function createPredicate(type: string, cfg: Record<string, string>): Predicate {
  const short = type.startsWith(P) ? type.slice(P.length) : type;
  switch (short) {
    case 'TopicNameMatches': {
      const pattern = new RegExp(`^(?:${required(cfg, 'pattern')})$`);
      return (r) => pattern.test(r.topic);
    }
    case 'RecordIsTombstone':
      return (r) => r.value === null || r.value === undefined;
    case 'HasHeaderKey': {
      const name = required(cfg, 'name');
      return (r) => r.headers !== undefined && name in r.headers;
    }
    default:
      throw new ConfigException(`Class ${type} could not be found.`);
  }
}

function prefixed(props: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** The connector's `transforms` chain; throws ConfigException naming the bad transform. */
export function transformationChain(props: Record<string, string>): Transform {
  const predicates = new Map<string, Predicate>();
  for (const name of list(props.predicates)) {
    const cfg = prefixed(props, `predicates.${name}.`);
    if (!cfg.type) throw new ConfigException(`Missing required configuration "predicates.${name}.type" which has no default value.`);
    predicates.set(name, createPredicate(cfg.type, cfg));
  }
  const steps: Transform[] = [];
  for (const name of list(props.transforms)) {
    const cfg = prefixed(props, `transforms.${name}.`);
    if (!cfg.type) throw new ConfigException(`Missing required configuration "transforms.${name}.type" which has no default value.`);
    const transform = createTransform(cfg.type, cfg);
    const predName = cfg.predicate;
    if (predName === undefined) {
      steps.push(transform);
      continue;
    }
    const predicate = predicates.get(predName);
    if (!predicate)
      throw new ConfigException(
        `Invalid value ${predName} for configuration transforms.${name}.predicate: No predicate named ${predName} is defined in predicates`,
      );
    const negate = (cfg.negate ?? 'false').toLowerCase() === 'true';
    steps.push((r) => (predicate(r) !== negate ? transform(r) : r));
  }
  return <R extends ConnectRecord>(record: R): R | null => {
    let r: R | null = record;
    for (const step of steps) {
      if (r === null) return null;
      r = step(r);
    }
    return r;
  };
}
