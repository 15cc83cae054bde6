/**
 * A seeded generator of Avro schema pairs for the compatibility oracle test. Each pair is a schema
 * and an evolution of it made by one to three mutations, each aimed at one rule of Avro's schema
 * resolution (promotions, field defaults and aliases, unions both ways, enum symbols and defaults,
 * fixed sizes, named-type names and aliases, arrays, maps, recursion). Schemas are written in the
 * form on which Avro's Java and Python checkers agree (namespaces in `namespace`, aliases fully
 * qualified): see the package README.
 */
import type { Random } from '@samsa/client';

type Json = any;

const PRIMS = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'] as const;
const NUMERIC = ['int', 'long', 'float', 'double'] as const;

export interface Pair {
  rule: string;
  a: Json;
  b: Json;
}

export class AvroCorpus {
  private n = 0;
  constructor(private readonly random: Random) {}

  private int(max: number): number {
    return Math.floor(this.random() * max);
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }
  private fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  /** A random schema of bounded depth; names are unique within one generator run. */
  schema(depth: number, allowUnion = true): Json {
    const r = this.random();
    if (depth <= 0 || r < 0.35) return this.pick(PRIMS);
    if (r < 0.55) return this.record(depth - 1);
    if (r < 0.63) return this.enumType();
    if (r < 0.68) return { type: 'fixed', name: this.fresh('F'), size: 1 + this.int(4) };
    if (r < 0.76) return { type: 'array', items: this.schema(depth - 1) };
    if (r < 0.84) return { type: 'map', values: this.schema(depth - 1) };
    if (!allowUnion) return this.pick(PRIMS);
    return this.union(depth - 1);
  }

  private union(depth: number): Json {
    const branches: Json[] = [];
    const used = new Set<string>();
    const count = 2 + this.int(3);
    for (let i = 0; i < count * 3 && branches.length < count; i++) {
      const s = this.schema(depth, false);
      const key = typeof s === 'string' ? s : s.type === 'record' || s.type === 'enum' || s.type === 'fixed' ? s.name : s.type;
      if (used.has(key)) continue;
      used.add(key);
      branches.push(s);
    }
    return branches;
  }

  enumType(): Json {
    const symbols = ['A', 'B', 'C', 'D', 'E'].slice(0, 1 + this.int(4));
    const e: Json = { type: 'enum', name: this.fresh('E'), symbols };
    if (this.chance(0.3)) e.namespace = this.pick(['ns', 'ns.sub', 'other']);
    return e;
  }

  record(depth: number): Json {
    const fields = [];
    const count = this.int(4);
    for (let i = 0; i < count; i++) fields.push(this.field(`f${i}`, depth));
    const rec: Json = { type: 'record', name: this.fresh('R'), fields };
    if (this.chance(0.3)) rec.namespace = this.pick(['ns', 'ns.sub', 'other']);
    return rec;
  }

  private field(name: string, depth: number): Json {
    const f: Json = { name, type: this.schema(depth) };
    if (this.chance(0.4)) f.default = defaultFor(f.type);
    return f;
  }

  /** A mutation of `s` aimed at one rule; returns the rule's name and the new schema. */
  mutate(s: Json): { rule: string; schema: Json } {
    const copy = structuredClone(s);
    const targets: { get: () => Json; set: (v: Json) => void }[] = [];
    collect(
      copy,
      (v) => v,
      () => {},
      targets,
    );
    const root = { value: copy };
    const all = [{ get: () => root.value, set: (v: Json) => (root.value = v) }, ...targets];
    const t = this.pick(all);
    const node = t.get();
    const rule = this.applyMutation(node, t.set);
    return { rule, schema: root.value };
  }

  private applyMutation(node: Json, set: (v: Json) => void): string {
    if (typeof node === 'string') {
      const r = this.random();
      if (r < 0.5 && (NUMERIC as readonly string[]).includes(node)) {
        set(this.pick(NUMERIC));
        return 'promotion';
      }
      if (r < 0.65 && (node === 'string' || node === 'bytes')) {
        set(node === 'string' ? 'bytes' : 'string');
        return 'string-bytes';
      }
      if (r < 0.85) {
        set(this.chance(0.5) ? ['null', node === 'null' ? 'int' : node] : [node === 'null' ? 'string' : node, 'null']);
        return 'wrap-union';
      }
      set(this.pick(PRIMS));
      return 'primitive-change';
    }
    if (Array.isArray(node)) {
      const r = this.random();
      if (r < 0.3 && node.length > 1) {
        node.splice(this.int(node.length), 1);
        return 'union-remove-branch';
      }
      if (r < 0.55) {
        const extra = PRIMS.filter((p) => !node.includes(p));
        if (extra.length > 0) node.push(this.pick(extra));
        return 'union-add-branch';
      }
      if (r < 0.75) {
        node.reverse();
        return 'union-reorder';
      }
      set(node[this.int(node.length)]);
      return 'union-unwrap';
    }
    switch (node.type) {
      case 'record': {
        const r = this.random();
        const fields: Json[] = node.fields;
        if (r < 0.2) {
          fields.push({ name: this.fresh('n'), type: this.schema(1), ...(this.chance(0.5) ? {} : {}) });
          const f = fields[fields.length - 1];
          if (this.chance(0.6)) f.default = defaultFor(f.type);
          return 'field-add';
        }
        if (r < 0.35 && fields.length > 0) {
          fields.splice(this.int(fields.length), 1);
          return 'field-remove';
        }
        if (r < 0.5 && fields.length > 0) {
          const f = this.pick(fields);
          const old = f.name;
          f.name = this.fresh('m');
          if (this.chance(0.6)) f.aliases = [old];
          return 'field-rename';
        }
        if (r < 0.6 && fields.length > 0) {
          const f = this.pick(fields);
          if ('default' in f) delete f.default;
          else f.default = defaultFor(f.type);
          return 'field-default-toggle';
        }
        if (r < 0.8) {
          return this.renameNamed(node);
        }
        if (r < 0.9) {
          // Recursion: a linked list through this record.
          fields.push({ name: this.fresh('next'), type: ['null', fullName(node)], default: null });
          return 'recursion';
        }
        set({ type: 'array', items: node });
        return 'kind-change';
      }
      case 'enum': {
        const r = this.random();
        if (r < 0.3) {
          const extra = ['X', 'Y', 'Z'].filter((x) => !node.symbols.includes(x));
          if (extra.length > 0) node.symbols.push(this.pick(extra));
          return 'enum-add-symbol';
        }
        if (r < 0.55 && node.symbols.length > 1) {
          node.symbols.splice(this.int(node.symbols.length), 1);
          if (node.default !== undefined && !node.symbols.includes(node.default)) delete node.default;
          return 'enum-remove-symbol';
        }
        if (r < 0.8) {
          if (node.default !== undefined) delete node.default;
          else node.default = this.pick(node.symbols);
          return 'enum-default';
        }
        return this.renameNamed(node);
      }
      case 'fixed':
        if (this.chance(0.5)) {
          node.size = 1 + this.int(4);
          return 'fixed-size';
        }
        return this.renameNamed(node);
      case 'array':
        if (this.chance(0.3)) {
          set({ type: 'map', values: node.items });
          return 'array-to-map';
        }
        node.items = this.chance(0.5) ? this.pick(PRIMS) : node.items;
        return 'array-items';
      case 'map':
        if (this.chance(0.3)) {
          set({ type: 'array', items: node.values });
          return 'map-to-array';
        }
        node.values = this.pick(PRIMS);
        return 'map-values';
      default:
        return 'noop';
    }
  }

  private renameNamed(node: Json): string {
    const old = fullName(node);
    const r = this.random();
    if (r < 0.4) {
      node.name = this.fresh(node.name.replace(/\d+$/, ''));
      node.aliases = [old];
      return 'name-alias';
    }
    if (r < 0.7) {
      node.name = this.fresh(node.name.replace(/\d+$/, ''));
      return 'name-mismatch';
    }
    // Same unqualified name in another namespace: Avro's checker compares unqualified names.
    node.namespace = node.namespace === 'moved' ? 'ns' : 'moved';
    return 'namespace-change';
  }
}

function fullName(node: Json): string {
  return node.namespace ? `${node.namespace}.${node.name}` : node.name;
}

/**
 * Every sub-schema slot of `s` (field types, items, values, union branches), depth first. Named
 * types inherit the namespace, which the mutations keep explicit, so moving a slot never changes
 * what a name refers to.
 */
function collect(s: Json, _get: (v: Json) => Json, _set: (v: Json) => void, out: { get: () => Json; set: (v: Json) => void }[]): void {
  if (Array.isArray(s)) {
    s.forEach((_, i) => {
      out.push({ get: () => s[i], set: (v) => (s[i] = v) });
      collect(s[i], _get, _set, out);
    });
    return;
  }
  if (typeof s !== 'object' || s === null) return;
  if (s.type === 'record') {
    for (const f of s.fields) {
      out.push({
        get: () => f.type,
        set: (v) => {
          f.type = v;
          // A field's default must match its (first branch) type: keep the pair valid.
          if ('default' in f) f.default = defaultFor(v);
        },
      });
      collect(f.type, _get, _set, out);
    }
  } else if (s.type === 'array') {
    out.push({ get: () => s.items, set: (v) => (s.items = v) });
    collect(s.items, _get, _set, out);
  } else if (s.type === 'map') {
    out.push({ get: () => s.values, set: (v) => (s.values = v) });
    collect(s.values, _get, _set, out);
  }
}

/** A valid default for a schema (a union's default matches its first branch). */
export function defaultFor(s: Json): Json {
  if (Array.isArray(s)) return defaultFor(s[0]);
  const t = typeof s === 'string' ? s : s.type;
  switch (t) {
    case 'null':
      return null;
    case 'boolean':
      return false;
    case 'int':
    case 'long':
      return 0;
    case 'float':
    case 'double':
      return 0.5;
    case 'bytes':
    case 'string':
      return '';
    case 'enum':
      return s.symbols[0];
    case 'fixed':
      return '\u0000'.repeat(s.size);
    case 'array':
      return [];
    case 'map':
      return {};
    case 'record':
      return Object.fromEntries(s.fields.map((f: Json) => [f.name, 'default' in f ? f.default : defaultFor(f.type)]));
    default:
      return null;
  }
}

/**
 * Writes every named type's aliases fully qualified, as Java reads them (an alias without a dot is
 * relative to the type's namespace). Python's checker compares aliases as written, so only in this
 * form do the two agree; the meaning under Java's rules is unchanged.
 */
export function qualifyAliases(s: Json, namespace: string | null = null): Json {
  if (Array.isArray(s)) return s.map((b) => qualifyAliases(b, namespace));
  if (typeof s !== 'object' || s === null) return s;
  const out = { ...s };
  let space = namespace;
  if (s.type === 'record' || s.type === 'enum' || s.type === 'fixed') {
    space = typeof s.namespace === 'string' ? s.namespace || null : namespace;
    if (Array.isArray(s.aliases)) out.aliases = s.aliases.map((a: string) => (a.includes('.') || !space ? a : `${space}.${a}`));
  }
  if (s.type === 'record') out.fields = s.fields.map((f: Json) => ({ ...f, type: qualifyAliases(f.type, space) }));
  if (s.type === 'array') out.items = qualifyAliases(s.items, space);
  if (s.type === 'map') out.values = qualifyAliases(s.values, space);
  return out;
}
