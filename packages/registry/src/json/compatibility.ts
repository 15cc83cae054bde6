/**
 * JSON Schema compatibility by the rules Confluent documents for its registry (its `JsonSchema`
 * diff: the `Difference.Type` names below are Confluent's): a reader schema is compatible with a
 * writer schema when every document the writer accepts, the reader accepts too. So the reader may
 * drop or relax constraints and must not add or tighten them; objects follow the content models:
 *
 * - writer *open* (additionalProperties absent/true): a property the reader adds could already hold
 *   anything → PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL (incompatible unless the new property accepts
 *   anything); writer *closed* (false): the property never occurs → compatible; writer *partially
 *   open* (a schema): the new property must accept what that schema accepts.
 * - reader open: a property it drops is still accepted; reader closed: dropping one is
 *   PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL; reader partially open: its additionalProperties
 *   must accept the dropped property's schema.
 * - a required property the reader adds is REQUIRED_ATTRIBUTE_ADDED, compatible only with a default.
 *
 * Local `$ref`s (`#/definitions/...`, `#/$defs/...`) are followed; a pair met again while it is
 * being checked counts as compatible (recursive schemas). Keywords this checker does not model
 * (`patternProperties`, `dependencies`, `not`, `if/then/else`) must be equal in both, which is
 * stricter than Confluent where they differ (README "Not done / weak").
 */

type Schema = boolean | Record<string, unknown>;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  'id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'readOnly',
  'writeOnly',
  'deprecated',
  'definitions',
  '$defs',
  'format',
  'contentEncoding',
  'contentMediaType',
]);
const MODELLED = new Set([
  'type',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'items',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'oneOf',
  'anyOf',
  'allOf',
  '$ref',
]);

/** Accepts every document: `true`, `{}`, or only annotations. */
function acceptsAll(s: Schema): boolean {
  if (s === true) return true;
  if (s === false) return false;
  return Object.keys(s).every((k) => ANNOTATIONS.has(k));
}

const ALL_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'];

function typesOf(s: Record<string, unknown>): string[] | undefined {
  if (s.type === undefined) return undefined;
  return Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
}

export class JsonSchemaCompatibilityChecker {
  private readonly inProgress = new Set<string>();
  private readonly messages: string[] = [];

  private constructor(
    private readonly readerRoot: Schema,
    private readonly writerRoot: Schema,
  ) {}

  /** Messages naming each difference that makes `reader` unable to accept `writer`'s documents. */
  static check(reader: Schema, writer: Schema): string[] {
    const c = new JsonSchemaCompatibilityChecker(reader, writer);
    c.compare(reader, writer, '#/', '#/', '#');
    return c.messages;
  }

  private fail(type: string, path: string, detail = ''): void {
    this.messages.push(`{type:'${type}', location:'${path}'${detail ? `, detail:'${detail}'` : ''}}`);
  }

  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly merged = new WeakMap<object, Schema>();

  private idOf(s: Schema): string {
    if (typeof s === 'boolean') return String(s);
    let id = this.ids.get(s);
    if (id === undefined) this.ids.set(s, (id = this.nextId++));
    return String(id);
  }

  private resolve(s: Schema, root: Schema, ptr: string): { s: Schema; ptr: string } {
    let seen = 0;
    while (isObj(s) && typeof s.$ref === 'string' && seen++ < 64) {
      const ref = s.$ref;
      if (!ref.startsWith('#')) break;
      let target: unknown = root;
      for (const part of ref.slice(1).split('/').filter(Boolean)) {
        target = isObj(target) ? target[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
      }
      if (target === undefined) break;
      ptr = ref;
      // Keywords next to $ref (draft 2019+) are kept by merging them over the target.
      const { $ref: _ignored, ...rest } = s;
      if (Object.keys(rest).length > 0 && isObj(target)) {
        // One merged object per $ref site, so identity (and recursion detection) is stable.
        let m = this.merged.get(s);
        if (!m) this.merged.set(s, (m = { ...target, ...rest }));
        s = m;
      } else {
        s = target as Schema;
      }
    }
    return { s, ptr };
  }

  private compare(reader: Schema, writer: Schema, rPtr: string, wPtr: string, path: string): void {
    const r0 = this.resolve(reader, this.readerRoot, rPtr);
    const w0 = this.resolve(writer, this.writerRoot, wPtr);
    // A pair of schema objects met again while it is being checked counts as compatible.
    const key = `${this.idOf(r0.s)}\u0000${this.idOf(w0.s)}`;
    if (this.inProgress.has(key)) return;
    this.inProgress.add(key);
    try {
      this.compareResolved(r0.s, w0.s, r0.ptr, w0.ptr, path);
    } finally {
      this.inProgress.delete(key);
    }
  }

  /** Whether `reader` accepts `writer`, without recording messages. */
  private accepts(reader: Schema, writer: Schema, rPtr: string, wPtr: string): boolean {
    const before = this.messages.length;
    this.compare(reader, writer, rPtr, wPtr, '');
    const ok = this.messages.length === before;
    this.messages.length = before;
    return ok;
  }

  private compareResolved(r: Schema, w: Schema, rPtr: string, wPtr: string, path: string): void {
    if (acceptsAll(r) || w === false) return;
    if (r === false) return this.fail('TYPE_NARROWED', path, 'reader accepts nothing');
    if (acceptsAll(w)) return this.fail('TYPE_NARROWED', path, 'writer accepts anything');
    const rs = r as Record<string, unknown>;
    const ws = w as Record<string, unknown>;

    // Combined schemas (sum types oneOf/anyOf, product type allOf).
    const wSum = (ws.oneOf ?? ws.anyOf) as Schema[] | undefined;
    const rSum = (rs.oneOf ?? rs.anyOf) as Schema[] | undefined;
    if (Array.isArray(wSum)) {
      const { oneOf: _a, anyOf: _b, ...wRest } = ws;
      wSum.forEach((branch, i) => {
        const merged: Schema = isObj(branch) && Object.keys(wRest).length > 0 ? { ...wRest, ...branch } : branch;
        const ok = Array.isArray(rSum) ? rSum.some((rb) => this.accepts(rb, merged, rPtr, wPtr)) : this.accepts(r, merged, rPtr, wPtr);
        if (!ok)
          this.fail(Array.isArray(rSum) ? 'SUM_TYPE_NARROWED' : 'COMBINED_TYPE_CHANGED', `${path}/${ws.oneOf ? 'oneOf' : 'anyOf'}/${i}`);
      });
      return;
    }
    if (Array.isArray(rSum)) {
      if (!rSum.some((rb) => this.accepts(rb, w, rPtr, wPtr))) this.fail('COMBINED_TYPE_CHANGED', path);
      return;
    }
    if (Array.isArray(rs.allOf)) {
      // Every reader member must accept the writer; members the reader adds narrow it.
      (rs.allOf as Schema[]).forEach((m, i) => this.compare(m, w, rPtr, wPtr, `${path}/allOf/${i}`));
      const { allOf: _c, ...rRest } = rs;
      if (Object.keys(rRest).some((k) => !ANNOTATIONS.has(k))) this.compare(rRest, w, rPtr, wPtr, path);
      return;
    }
    if (Array.isArray(ws.allOf)) {
      // Writer documents satisfy every member: enough that one member (with the rest) is accepted.
      const { allOf: _d, ...wRest } = ws;
      const members = (ws.allOf as Schema[]).map((m) => (isObj(m) ? { ...wRest, ...m } : m));
      if (!members.some((m) => this.accepts(r, m, rPtr, wPtr))) this.fail('PRODUCT_TYPE_EXTENDED', path);
      return;
    }

    // Keywords we do not model must be equal.
    for (const k of new Set([...Object.keys(rs), ...Object.keys(ws)])) {
      if (ANNOTATIONS.has(k) || MODELLED.has(k)) continue;
      if (!deepEqual(rs[k], ws[k])) this.fail('KEYWORD_CHANGED', `${path}/${k}`);
    }

    // type
    const rTypes = typesOf(rs);
    const wTypes = typesOf(ws) ?? (rTypes ? ALL_TYPES : undefined);
    if (rTypes && wTypes) {
      const missing = wTypes.filter((t) => !rTypes.includes(t) && !(t === 'integer' && rTypes.includes('number')));
      if (missing.length > 0)
        this.fail(
          typesOf(ws) ? (rTypes.length < wTypes.length ? 'TYPE_NARROWED' : 'TYPE_CHANGED') : 'TYPE_NARROWED',
          `${path}/type`,
          missing.join(','),
        );
    }

    // enum / const
    if (Array.isArray(rs.enum)) {
      const wValues = Array.isArray(ws.enum) ? ws.enum : 'const' in ws ? [ws.const] : undefined;
      if (!wValues) this.fail('ENUM_ARRAY_CHANGED', `${path}/enum`, 'reader added an enum');
      else if (!wValues.every((v) => (rs.enum as unknown[]).some((x) => deepEqual(x, v)))) this.fail('ENUM_ARRAY_NARROWED', `${path}/enum`);
    }
    if (
      'const' in rs &&
      !('const' in ws && deepEqual(rs.const, ws.const)) &&
      !(Array.isArray(ws.enum) && ws.enum.length === 1 && deepEqual(ws.enum[0], rs.const))
    ) {
      this.fail('CONST_CHANGED', `${path}/const`);
    }

    // Lower bounds may only drop or decrease; upper bounds may only drop or increase.
    const lower = (k: string, added: string, changed: string): void => {
      if (typeof rs[k] !== 'number') return;
      if (typeof ws[k] !== 'number') this.fail(added, `${path}/${k}`);
      else if ((ws[k] as number) < (rs[k] as number)) this.fail(changed, `${path}/${k}`);
    };
    const upper = (k: string, added: string, changed: string): void => {
      if (typeof rs[k] !== 'number') return;
      if (typeof ws[k] !== 'number') this.fail(added, `${path}/${k}`);
      else if ((ws[k] as number) > (rs[k] as number)) this.fail(changed, `${path}/${k}`);
    };
    lower('minimum', 'MINIMUM_ADDED', 'MINIMUM_INCREASED');
    upper('maximum', 'MAXIMUM_ADDED', 'MAXIMUM_DECREASED');
    lower('exclusiveMinimum', 'EXCLUSIVE_MINIMUM_ADDED', 'EXCLUSIVE_MINIMUM_INCREASED');
    upper('exclusiveMaximum', 'EXCLUSIVE_MAXIMUM_ADDED', 'EXCLUSIVE_MAXIMUM_DECREASED');
    lower('minLength', 'MIN_LENGTH_ADDED', 'MIN_LENGTH_INCREASED');
    upper('maxLength', 'MAX_LENGTH_ADDED', 'MAX_LENGTH_DECREASED');
    lower('minItems', 'MIN_ITEMS_ADDED', 'MIN_ITEMS_INCREASED');
    upper('maxItems', 'MAX_ITEMS_ADDED', 'MAX_ITEMS_DECREASED');
    lower('minProperties', 'MIN_PROPERTIES_ADDED', 'MIN_PROPERTIES_INCREASED');
    upper('maxProperties', 'MAX_PROPERTIES_ADDED', 'MAX_PROPERTIES_DECREASED');
    if (typeof rs.multipleOf === 'number') {
      if (typeof ws.multipleOf !== 'number') this.fail('MULTIPLE_OF_ADDED', `${path}/multipleOf`);
      else if ((ws.multipleOf as number) % rs.multipleOf !== 0) this.fail('MULTIPLE_OF_CHANGED', `${path}/multipleOf`);
    }
    if (typeof rs.pattern === 'string' && rs.pattern !== ws.pattern)
      this.fail(ws.pattern === undefined ? 'PATTERN_ADDED' : 'PATTERN_CHANGED', `${path}/pattern`);
    if (rs.uniqueItems === true && ws.uniqueItems !== true) this.fail('UNIQUE_ITEMS_ADDED', `${path}/uniqueItems`);

    this.compareItems(rs, ws, rPtr, wPtr, path);
    this.compareObjects(rs, ws, rPtr, wPtr, path);
  }

  private compareItems(rs: Record<string, unknown>, ws: Record<string, unknown>, rPtr: string, wPtr: string, path: string): void {
    const rItems = rs.items as Schema | Schema[] | undefined;
    const wItems = ws.items as Schema | Schema[] | undefined;
    if (rItems === undefined) return;
    if (!Array.isArray(rItems)) {
      if (wItems === undefined) return this.compare(rItems, true, rPtr, wPtr, `${path}/items`);
      if (!Array.isArray(wItems)) return this.compare(rItems, wItems, rPtr, wPtr, `${path}/items`);
      wItems.forEach((wi, i) => this.compare(rItems, wi, rPtr, wPtr, `${path}/items/${i}`));
      const wAdd = (ws.additionalItems ?? true) as Schema;
      return this.compare(rItems, wAdd, rPtr, wPtr, `${path}/additionalItems`);
    }
    // Tuples: position by position, then what each side allows past its end.
    const wTuple = Array.isArray(wItems) ? wItems : [];
    const wRest = (Array.isArray(wItems) ? (ws.additionalItems ?? true) : (wItems ?? true)) as Schema;
    const rRest = (rs.additionalItems ?? true) as Schema;
    const n = Math.max(rItems.length, wTuple.length);
    for (let i = 0; i < n; i++) {
      const ri = rItems[i] ?? rRest;
      const wi = wTuple[i] ?? wRest;
      this.compare(ri, wi, rPtr, wPtr, `${path}/items/${i}`);
    }
    this.compare(rRest, wRest, rPtr, wPtr, `${path}/additionalItems`);
  }

  private compareObjects(rs: Record<string, unknown>, ws: Record<string, unknown>, rPtr: string, wPtr: string, path: string): void {
    const rProps = (isObj(rs.properties) ? rs.properties : {}) as Record<string, Schema>;
    const wProps = (isObj(ws.properties) ? ws.properties : {}) as Record<string, Schema>;
    const rAdd = (rs.additionalProperties ?? true) as Schema;
    const wAdd = (ws.additionalProperties ?? true) as Schema;
    const rRequired = Array.isArray(rs.required) ? (rs.required as string[]) : [];
    const wRequired = Array.isArray(ws.required) ? (ws.required as string[]) : [];

    for (const [p, rp] of Object.entries(rProps)) {
      const at = `${path}/properties/${p}`;
      if (p in wProps) {
        this.compare(rp, wProps[p]!, rPtr, wPtr, at);
      } else if (wAdd === false) {
        // The writer never writes p: nothing to check.
      } else if (acceptsAll(wAdd)) {
        if (!acceptsAll(rp)) this.fail('PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', at);
      } else if (!this.accepts(rp, wAdd, rPtr, wPtr)) {
        this.fail('PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', at);
      }
    }
    for (const [p, wp] of Object.entries(wProps)) {
      if (p in rProps) continue;
      const at = `${path}/properties/${p}`;
      if (acceptsAll(rAdd)) continue;
      if (rAdd === false) this.fail('PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', at);
      else if (!this.accepts(rAdd, wp, rPtr, wPtr)) this.fail('PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', at);
    }
    // What the writer allows beyond its properties, the reader must allow beyond its own.
    if (!acceptsAll(rAdd)) {
      if (rAdd === false && wAdd !== false) this.fail('ADDITIONAL_PROPERTIES_REMOVED', `${path}/additionalProperties`);
      else if (rAdd !== false && wAdd !== false) {
        if (acceptsAll(wAdd)) this.fail('ADDITIONAL_PROPERTIES_NARROWED', `${path}/additionalProperties`);
        else this.compare(rAdd, wAdd, rPtr, wPtr, `${path}/additionalProperties`);
      }
    }
    for (const p of rRequired) {
      if (wRequired.includes(p)) continue;
      const rp = rProps[p];
      if (isObj(rp) && 'default' in rp) continue; // REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED: compatible
      this.fail('REQUIRED_ATTRIBUTE_ADDED', `${path}/required/${p}`);
    }
  }
}
