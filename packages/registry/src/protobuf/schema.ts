/**
 * Protobuf schemas: `.proto` text parsed with protobufjs (maintained, already in the workspace),
 * flattened into the messages and enums the compatibility check compares, and the message indexes
 * of Confluent's wire format (the path of a message among the file's nested declarations).
 */
import protobufModule from 'protobufjs';

// protobufjs is CommonJS: its namespace object is the default export under every loader.
const protobuf = ((protobufModule as unknown as { default?: typeof protobufModule }).default ?? protobufModule) as typeof protobufModule;

export interface ProtoField {
  name: string;
  number: number;
  /** 'scalar' | 'message' | 'enum' | 'map' */
  kind: 'scalar' | 'message' | 'enum' | 'map';
  /** The scalar type, or the full name of the message or enum. */
  type: string;
  label: 'optional' | 'repeated' | 'required';
  oneof: string | undefined;
  mapKey: string | undefined;
}

export interface ProtoMessage {
  fullName: string;
  fields: Map<number, ProtoField>;
  oneofs: Map<string, number[]>;
}

export interface ProtoEnum {
  fullName: string;
  values: Map<string, number>;
}

export interface ProtoSchema {
  package: string;
  syntax: string;
  messages: Map<string, ProtoMessage>;
  enums: Map<string, ProtoEnum>;
  /** Full names of messages in declaration order with their Confluent message indexes. */
  indexes: Map<string, number[]>;
  root: protobufModule.Root;
}

const SYNTAX = /^\s*syntax\s*=\s*["'](proto[23])["']/m;

/** Parses `.proto` text; throws with protobufjs' message on invalid input. */
export function parseProto(text: string, dependencies: string[] = []): ProtoSchema {
  const root = new protobuf.Root();
  for (const dep of dependencies) protobuf.parse(dep, root, { keepCase: true });
  const parsed = protobuf.parse(text, root, { keepCase: true });
  root.resolveAll();
  const schema: ProtoSchema = {
    package: parsed.package ?? '',
    syntax: SYNTAX.exec(text)?.[1] ?? 'proto2',
    messages: new Map(),
    enums: new Map(),
    indexes: new Map(),
    root,
  };
  const pkg = parsed.package ? root.lookup(parsed.package) : root;
  const visit = (ns: protobufModule.NamespaceBase, path: number[]): void => {
    let i = 0;
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        const index = [...path, i++];
        const fullName = nested.fullName.replace(/^\./, '');
        schema.indexes.set(fullName, index);
        const msg: ProtoMessage = { fullName, fields: new Map(), oneofs: new Map() };
        for (const f of nested.fieldsArray) {
          const resolved = f.resolvedType;
          const kind = f.map
            ? 'map'
            : resolved instanceof protobuf.Type
              ? 'message'
              : resolved instanceof protobuf.Enum
                ? 'enum'
                : 'scalar';
          msg.fields.set(f.id, {
            name: f.name,
            number: f.id,
            kind,
            type: resolved ? resolved.fullName.replace(/^\./, '') : f.type,
            label: f.repeated ? 'repeated' : f.required ? 'required' : 'optional',
            oneof: f.partOf && !f.partOf.name.startsWith('_') ? f.partOf.name : undefined,
            mapKey: f.map ? (f as unknown as protobufModule.MapField).keyType : undefined,
          });
        }
        for (const o of nested.oneofsArray)
          if (!o.name.startsWith('_'))
            msg.oneofs.set(
              o.name,
              o.fieldsArray.map((f) => f.id),
            );
        schema.messages.set(fullName, msg);
        visit(nested, index);
      } else if (nested instanceof protobuf.Enum) {
        schema.enums.set(nested.fullName.replace(/^\./, ''), {
          fullName: nested.fullName.replace(/^\./, ''),
          values: new Map(Object.entries(nested.values)),
        });
      } else if (nested instanceof protobuf.Namespace) {
        visit(nested, path);
      }
    }
  };
  if (pkg instanceof protobuf.Namespace) visit(pkg, []);
  return schema;
}

/** Canonical text: comments dropped, whitespace runs collapsed (so formatting is not a new version). */
export function canonicalProto(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};=,<>()[\]])\s*/g, '$1')
    .trim();
}
