/**
 * Schema formats behind one interface (mirrors Confluent's `SchemaProvider`/`ParsedSchema`): parse
 * and validate schema text with its resolved references, give its canonical and normalized text,
 * and answer "can a reader with this schema read data written with that one?".
 */
import { AvroCompatibilityChecker } from './avro/compatibility.js';
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

/** The formats whose compatibility we enforce; `/schemas/types` lists these. */
export const FORMATS: Partial<Record<SchemaType, SchemaFormat>> = { AVRO: avro };

export function formatFor(schemaType: string | undefined): SchemaFormat {
  const type = (schemaType ?? 'AVRO') as SchemaType;
  const format = FORMATS[type];
  if (!format) throw new RegistryError(ErrorCode.INVALID_SCHEMA, `Invalid schema: schema type ${String(schemaType)} is not supported; supported: ${Object.keys(FORMATS).join(', ')}`);
  return format;
}
