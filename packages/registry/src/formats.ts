/**
 * Schema formats behind one interface (mirrors Confluent's `SchemaProvider`/`ParsedSchema`): parse
 * and validate schema text with its resolved references, give its canonical and normalized text,
 * and answer "can a reader with this schema read data written with that one?".
 */
import AjvModule from 'ajv';
import Ajv2019Module from 'ajv/dist/2019.js';
import Ajv2020Module from 'ajv/dist/2020.js';
import { AvroCompatibilityChecker } from './avro/compatibility.js';
import { JsonSchemaCompatibilityChecker } from './json/compatibility.js';
import { checkProtobuf } from './protobuf/compatibility.js';
import { canonicalProto, parseProto, type ProtoSchema } from './protobuf/schema.js';
import { canonicalAvro, normalizeAvro } from './avro/canonical.js';
import { AvroSchemaError, resolveAvro, validateAvro, type AvroNode } from './avro/schema.js';
import { RegistryError, ErrorCode } from './errors.js';
import type { SchemaType } from './records.js';

export interface ParsedSchema {
  schemaType: SchemaType;
  canonical: string;
  normalized: string;
  /** Format-specific tree the compatibility check walks. */
  tree: unknown;
}

export interface SchemaFormat {
  /** Parses `text`; `references` are the texts of referenced schemas, dependencies first. */
  parse(text: string, references: string[]): ParsedSchema;
  /** Why `reader` cannot read data written with `writer`: empty when it can. */
  canRead(reader: ParsedSchema, writer: ParsedSchema): string[];
}

const avro: SchemaFormat = {
  parse(text, references) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new RegistryError(ErrorCode.INVALID_SCHEMA, `Invalid schema ${text.slice(0, 200)}: not JSON: ${(err as Error).message}`);
    }
    const refs = references.map((r) => JSON.parse(r) as unknown);
    try {
      validateAvro(json, refs);
      const tree = resolveAvro(json, refs);
      return { schemaType: 'AVRO', canonical: canonicalAvro(json), normalized: normalizeAvro(json), tree };
    } catch (err) {
      if (err instanceof AvroSchemaError) throw new RegistryError(ErrorCode.INVALID_SCHEMA, `Invalid schema: ${err.message}`);
      throw err;
    }
  },
  canRead(reader, writer) {
    const result = AvroCompatibilityChecker.check(reader.tree as AvroNode, writer.tree as AvroNode);
    return result.incompatibilities.map(
      (i) => `{errorType:'${i.type}', description:'${i.message}', location:'${i.location}', additionalInfo:'${i.message}'}`,
    );
  },
};

// ajv is CommonJS with `exports.default = Ajv`: `.default` is the class under every loader.
const Ajv = (AjvModule as unknown as { default: typeof AjvModule.default }).default;
const Ajv2019 = (Ajv2019Module as unknown as { default: typeof Ajv2019Module.default }).default;
const Ajv2020 = (Ajv2020Module as unknown as { default: typeof Ajv2020Module.default }).default;

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

/** Compiles a JSON Schema with ajv (draft-07 by default; 2019-09 and 2020-12 by `$schema`). */
export function compileJsonSchema(json: unknown, references: unknown[] = []): (value: unknown) => { valid: boolean; errors: string } {
  const draft = typeof (json as { $schema?: unknown })?.$schema === 'string' ? (json as { $schema: string }).$schema : '';
  const options = { strict: false, allErrors: false, validateFormats: false } as const;
  const ajv = draft.includes('2020-12') ? new Ajv2020(options) : draft.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  for (const r of references)
    if (r && typeof r === 'object' && typeof (r as { $id?: unknown }).$id === 'string') ajv.addSchema(r as object);
  const validate = ajv.compile(json as object);
  return (value) => {
    const valid = validate(value) as boolean;
    return { valid, errors: valid ? '' : ajv.errorsText(validate.errors) };
  };
}

const jsonSchema: SchemaFormat = {
  parse(text, references) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new RegistryError(ErrorCode.INVALID_SCHEMA, `Invalid schema ${text.slice(0, 200)}: not JSON: ${(err as Error).message}`);
    }
    if (typeof json !== 'boolean' && (json === null || typeof json !== 'object' || Array.isArray(json))) {
      throw new RegistryError(ErrorCode.INVALID_SCHEMA, 'Invalid schema: a JSON Schema is an object or a boolean');
    }
    try {
      compileJsonSchema(
        json,
        references.map((r) => JSON.parse(r) as unknown),
      );
    } catch (err) {
      throw new RegistryError(ErrorCode.INVALID_SCHEMA, `Invalid schema: ${(err as Error).message}`);
    }
    const canonical = JSON.stringify(sortKeys(json));
    return { schemaType: 'JSON', canonical, normalized: canonical, tree: json };
  },
  canRead(reader, writer) {
    return JsonSchemaCompatibilityChecker.check(
      reader.tree as boolean | Record<string, unknown>,
      writer.tree as boolean | Record<string, unknown>,
    );
  },
};

const protobufFormat: SchemaFormat = {
  parse(text, references) {
    let tree: ProtoSchema;
    try {
      tree = parseProto(text, references);
    } catch (err) {
      throw new RegistryError(ErrorCode.INVALID_SCHEMA, `Invalid schema: ${(err as Error).message}`);
    }
    if (tree.messages.size === 0)
      throw new RegistryError(ErrorCode.INVALID_SCHEMA, 'Invalid schema: a Protobuf schema needs at least one message');
    const canonical = canonicalProto(text);
    return { schemaType: 'PROTOBUF', canonical, normalized: canonical, tree };
  },
  canRead(reader, writer) {
    return checkProtobuf(reader.tree as ProtoSchema, writer.tree as ProtoSchema);
  },
};

/** The formats whose compatibility we enforce; `/schemas/types` lists these. */
export const FORMATS: Partial<Record<SchemaType, SchemaFormat>> = { AVRO: avro, JSON: jsonSchema, PROTOBUF: protobufFormat };

export function formatFor(schemaType: string | undefined): SchemaFormat {
  const type = (schemaType ?? 'AVRO') as SchemaType;
  const format = FORMATS[type];
  if (!format)
    throw new RegistryError(
      ErrorCode.INVALID_SCHEMA,
      `Invalid schema: schema type ${String(schemaType)} is not supported; supported: ${Object.keys(FORMATS).join(', ')}`,
    );
  return format;
}
