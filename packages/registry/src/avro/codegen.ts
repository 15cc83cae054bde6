/**
 * TypeScript types from an Avro schema, for `samsa schema-registry codegen`: one interface per
 * record, a string union per enum, types as avsc decodes values (long → number, bytes/fixed →
 * Buffer, map → Record<string, T>, a union → its branches joined by `|`). Logical types are ignored,
 * like the compatibility checker ignores them.
 */

const PRIMITIVE_TS: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

function typeName(fullname: string): string {
  const last = fullname.slice(fullname.lastIndexOf('.') + 1);
  return last.replace(/[^A-Za-z0-9_$]/g, '_');
}

function qualify(name: string, namespace: string | null): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** TypeScript declarations for `schema` (parsed JSON); the top-level type is exported as `rootName` too when given. */
export function avroToTypeScript(schema: unknown, rootName?: string): string {
  const decls: string[] = [];
  const defined = new Map<string, string>();

  const visit = (s: unknown, namespace: string | null): string => {
    if (typeof s === 'string') {
      if (s in PRIMITIVE_TS) return PRIMITIVE_TS[s]!;
      return defined.get(qualify(s, namespace)) ?? defined.get(s) ?? typeName(s);
    }
    if (Array.isArray(s)) return s.map((b) => visit(b, namespace)).join(' | ');
    const o = s as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string') return visit(type, namespace);
    if (type in PRIMITIVE_TS) return PRIMITIVE_TS[type]!;
    if (type === 'array') return `Array<${visit(o.items, namespace)}>`;
    if (type === 'map') return `Record<string, ${visit(o.values, namespace)}>`;
    if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
      const space = typeof o.namespace === 'string' ? o.namespace || null : namespace;
      const fullname = qualify(String(o.name), space);
      const ownSpace = fullname.includes('.') ? fullname.slice(0, fullname.lastIndexOf('.')) : null;
      const name = typeName(fullname);
      defined.set(fullname, name);
      const doc = typeof o.doc === 'string' ? `/** ${o.doc.replace(/\*\//g, '* /')} */\n` : '';
      if (type === 'enum') {
        decls.push(`${doc}export type ${name} = ${(o.symbols as string[]).map((x) => JSON.stringify(x)).join(' | ')};`);
      } else if (type === 'fixed') {
        decls.push(`${doc}/** fixed(${String(o.size)}) */\nexport type ${name} = Buffer;`);
      } else {
        const lines: string[] = [];
        for (const f of (o.fields as Record<string, unknown>[]) ?? []) {
          const fname = String(f.name);
          const key = IDENTIFIER.test(fname) ? fname : JSON.stringify(fname);
          const fdoc = typeof f.doc === 'string' ? `  /** ${f.doc.replace(/\*\//g, '* /')} */\n` : '';
          lines.push(`${fdoc}  ${key}: ${visit(f.type, ownSpace)};`);
        }
        decls.push(`${doc}export interface ${name} {\n${lines.join('\n')}\n}`);
      }
      return name;
    }
    return typeName(type);
  };

  const root = visit(schema, null);
  if (rootName && rootName !== root) decls.push(`export type ${rootName} = ${root};`);
  return `// Generated from an Avro schema by samsa schema-registry codegen. Do not edit.\n\n${decls.join('\n\n')}\n`;
}
