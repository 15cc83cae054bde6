/**
 * Canonical text of an Avro schema, what the registry stores and compares to decide "the same
 * schema again" (mirrors Confluent's `AvroSchema.canonicalString()`, which prints Avro's
 * `Schema.toString()`): no whitespace, attributes in one order (Avro's own, then the rest sorted),
 * `{"type":"int"}` written as `"int"`. Defaults, docs, aliases and custom properties stay: they
 * change what a schema means to a reader or a tool.
 *
 * `normalizeAvro` is the `?normalize=true` form (Confluent's `AvroSchema.normalize()`): in
 * addition, every name is written fully qualified, `namespace` attributes go, and references to
 * named types are full names, so the same schema written relative to different namespaces is equal.
 */

const ORDER = [
  'type',
  'name',
  'namespace',
  'doc',
  'aliases',
  'fields',
  'symbols',
  'default',
  'items',
  'values',
  'size',
  'order',
  'logicalType',
  'precision',
  'scale',
];
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

function orderedKeys(o: Record<string, unknown>): string[] {
  const known = ORDER.filter((k) => k in o);
  const rest = Object.keys(o)
    .filter((k) => !ORDER.includes(k))
    .sort();
  return [...known, ...rest];
}

function sortedValue(v: unknown): unknown {
  // Custom properties and default values are data: sort object keys so key order does not matter.
  if (Array.isArray(v)) return v.map(sortedValue);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortedValue(o[k])]),
    );
  }
  return v;
}

interface Ctx {
  normalize: boolean;
  namespace: string | null;
  defined: Set<string>;
}

function qualify(name: string, namespace: string | null): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function canonicalNode(s: unknown, ctx: Ctx): unknown {
  if (typeof s === 'string') {
    if (!ctx.normalize || PRIMITIVES.has(s)) return s;
    const full = qualify(s, ctx.namespace);
    return ctx.defined.has(full) ? full : s;
  }
  if (Array.isArray(s)) return s.map((b) => canonicalNode(b, ctx));
  if (s === null || typeof s !== 'object') return s;
  const o = s as Record<string, unknown>;
  const type = o.type;
  if (typeof type === 'string' && PRIMITIVES.has(type) && Object.keys(o).length === 1) return type;
  const out: Record<string, unknown> = {};
  let inner = ctx;
  let fullname = '';
  if (typeof type === 'string' && NAMED.has(type)) {
    const space = typeof o.namespace === 'string' ? o.namespace || null : ctx.namespace;
    fullname = qualify(String(o.name), space);
    const ownSpace = fullname.includes('.') ? fullname.slice(0, fullname.lastIndexOf('.')) : null;
    ctx.defined.add(fullname);
    inner = { ...ctx, namespace: ownSpace };
  }
  for (const key of orderedKeys(o)) {
    const v = o[key];
    if (ctx.normalize && key === 'namespace') continue;
    if (ctx.normalize && key === 'name' && inner !== ctx) {
      out.name = fullname;
      continue;
    }
    if (ctx.normalize && key === 'aliases' && Array.isArray(v)) {
      out.aliases = v.map((a) => qualify(String(a), inner.namespace));
      continue;
    }
    if (key === 'type')
      out.type = typeof v === 'string' && (NAMED.has(v) || v === 'array' || v === 'map' || PRIMITIVES.has(v)) ? v : canonicalNode(v, ctx);
    else if (key === 'items' || key === 'values') out[key] = canonicalNode(v, inner);
    else if (key === 'fields' && Array.isArray(v)) out.fields = v.map((f) => canonicalField(f as Record<string, unknown>, inner));
    else out[key] = sortedValue(v);
  }
  return out;
}

const FIELD_ORDER = ['name', 'type', 'doc', 'default', 'order', 'aliases'];

function canonicalField(f: Record<string, unknown>, ctx: Ctx): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = [
    ...FIELD_ORDER.filter((k) => k in f),
    ...Object.keys(f)
      .filter((k) => !FIELD_ORDER.includes(k))
      .sort(),
  ];
  for (const k of keys) out[k] = k === 'type' ? canonicalNode(f[k], ctx) : sortedValue(f[k]);
  return out;
}

/** The canonical text of a (valid) Avro schema given as parsed JSON. */
export function canonicalAvro(json: unknown): string {
  return JSON.stringify(canonicalNode(json, { normalize: false, namespace: null, defined: new Set() }));
}

/** The normalized text (`?normalize=true`): canonical, with every name fully qualified. */
export function normalizeAvro(json: unknown): string {
  return JSON.stringify(canonicalNode(json, { normalize: true, namespace: null, defined: new Set() }));
}
