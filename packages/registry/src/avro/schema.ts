/**
 * Avro schema text → a resolved tree, the shape the compatibility checker walks.
 *
 * Mirrors the Avro specification's "Names" section (and Java's `Schema.Parser`): a named type's
 * full name comes from a dotted `name`, else its `namespace`, else the enclosing namespace; a
 * reference by name resolves to the one node that was defined, so recursive types are cycles of
 * shared objects (the checker memoizes on node identity). Validation (names, defaults, duplicate
 * definitions) is done first by `avsc`, a maintained Avro library, whose message we return as the
 * parser's message; this module only resolves what avsc has accepted.
 */
import avsc from 'avsc';

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

export interface AvroField {
  name: string;
  type: AvroNode;
  aliases: string[];
  hasDefault: boolean;
}

interface Named {
  /** The unqualified name, as Java's `Schema.getName()` returns it. */
  name: string;
  fullname: string;
  /** Aliases, fully qualified with the type's namespace. */
  aliases: string[];
}

export type AvroNode =
  | { kind: 'primitive'; type: AvroPrimitive }
  | ({ kind: 'record'; fields: AvroField[] } & Named)
  | ({ kind: 'enum'; symbols: string[]; enumDefault: string | undefined } & Named)
  | ({ kind: 'fixed'; size: number } & Named)
  | { kind: 'array'; items: AvroNode }
  | { kind: 'map'; values: AvroNode }
  | { kind: 'union'; branches: AvroNode[] };

/** A schema the parser rejected; `message` is the parser's sentence. */
export class AvroSchemaError extends Error {
  override name = 'AvroSchemaError';
}

const PRIMITIVES = new Set<string>(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** Parses Avro schema text (JSON) and validates it; throws AvroSchemaError with the reason. */
export function parseAvroJson(text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AvroSchemaError(`Invalid schema: not JSON: ${(err as Error).message}`);
  }
  validateAvro(json);
  return json;
}

/** Validates a parsed Avro schema with avsc (names, defaults, duplicates, unknown references). */
export function validateAvro(json: unknown, named: unknown[] = []): void {
  try {
    const registry: Record<string, unknown> = {};
    // Referenced schemas (Confluent `references`) define names the main schema may use.
    for (const ref of named) avsc.Type.forSchema(ref as avsc.Schema, { registry: registry as never });
    avsc.Type.forSchema(json as avsc.Schema, { registry: registry as never });
  } catch (err) {
    throw new AvroSchemaError((err as Error).message);
  }
}

function qualify(name: string, namespace: string | null): string {
  if (name.includes('.') || !namespace) return name;
  return `${namespace}.${name}`;
}

function lastPart(fullname: string): string {
  const i = fullname.lastIndexOf('.');
  return i < 0 ? fullname : fullname.slice(i + 1);
}

function spaceOf(fullname: string): string | null {
  const i = fullname.lastIndexOf('.');
  return i < 0 ? null : fullname.slice(0, i);
}

/**
 * Resolves an already validated schema. `references` are schemas (already parsed JSON) whose named
 * types the main schema may refer to, as Confluent's schema references provide them.
 */
export function resolveAvro(json: unknown, references: unknown[] = []): AvroNode {
  const names = new Map<string, AvroNode>();
  for (const ref of references) resolveNode(ref, null, names);
  return resolveNode(json, null, names);
}

function resolveNode(json: unknown, namespace: string | null, names: Map<string, AvroNode>): AvroNode {
  if (typeof json === 'string') {
    if (PRIMITIVES.has(json)) return { kind: 'primitive', type: json as AvroPrimitive };
    const found = names.get(qualify(json, namespace)) ?? names.get(json);
    if (!found) throw new AvroSchemaError(`Undefined name: ${json}`);
    return found;
  }
  if (Array.isArray(json)) return { kind: 'union', branches: json.map((b) => resolveNode(b, namespace, names)) };
  if (json === null || typeof json !== 'object') throw new AvroSchemaError(`Not a schema: ${JSON.stringify(json)}`);
  const o = json as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string') return resolveNode(type, namespace, names);
  if (PRIMITIVES.has(type)) return { kind: 'primitive', type: type as AvroPrimitive };
  switch (type) {
    case 'array':
      return { kind: 'array', items: resolveNode(o.items, namespace, names) };
    case 'map':
      return { kind: 'map', values: resolveNode(o.values, namespace, names) };
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed': {
      const rawName = String(o.name);
      const ownSpace = typeof o.namespace === 'string' ? o.namespace || null : namespace;
      const fullname = qualify(rawName, ownSpace);
      const space = spaceOf(fullname);
      const aliases = Array.isArray(o.aliases) ? o.aliases.map((a) => qualify(String(a), space)) : [];
      const named = { name: lastPart(fullname), fullname, aliases };
      if (type === 'enum') {
        const node: AvroNode = {
          kind: 'enum',
          ...named,
          symbols: (o.symbols as string[]).slice(),
          enumDefault: typeof o.default === 'string' ? o.default : undefined,
        };
        names.set(fullname, node);
        return node;
      }
      if (type === 'fixed') {
        const node: AvroNode = { kind: 'fixed', ...named, size: Number(o.size) };
        names.set(fullname, node);
        return node;
      }
      // Register before the fields so a field may refer to the record itself (recursion).
      const node: AvroNode & { kind: 'record' } = { kind: 'record', ...named, fields: [] };
      names.set(fullname, node);
      for (const f of (o.fields as Record<string, unknown>[]) ?? []) {
        node.fields.push({
          name: String(f.name),
          type: resolveNode(f.type, space, names),
          aliases: Array.isArray(f.aliases) ? f.aliases.map(String) : [],
          hasDefault: Object.prototype.hasOwnProperty.call(f, 'default'),
        });
      }
      return node;
    }
    default: {
      const found = names.get(qualify(type, namespace)) ?? names.get(type);
      if (!found) throw new AvroSchemaError(`Undefined name: ${type}`);
      return found;
    }
  }
}
