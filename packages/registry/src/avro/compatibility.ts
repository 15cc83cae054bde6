/**
 * Avro reader/writer compatibility: can a reader with schema R decode every datum a writer with
 * schema W writes? Mirrors the Avro specification's "Schema Resolution" and the evaluation order of
 * Avro Java's `SchemaCompatibility` (which Confluent's `AvroCompatibilityChecker` calls), so verdicts
 * agree with Avro's own checkers on recursive schemas too:
 *
 * - results are memoized per (reader node, writer node) by identity; a pair met again while it is
 *   still being computed counts as compatible (the co-inductive reading of recursive types);
 * - a reader union tries its branches in order and stops at the first that reads the writer; a
 *   writer union checks every branch; record fields go in the reader's order.
 */
import type { AvroNode } from './schema.js';

export type AvroIncompatibilityType =
  | 'NAME_MISMATCH'
  | 'FIXED_SIZE_MISMATCH'
  | 'MISSING_ENUM_SYMBOLS'
  | 'READER_FIELD_MISSING_DEFAULT_VALUE'
  | 'TYPE_MISMATCH'
  | 'MISSING_UNION_BRANCH';

export interface AvroIncompatibility {
  type: AvroIncompatibilityType;
  /** JSON-pointer-like path in the reader schema, e.g. `/fields/1/type`. */
  location: string;
  message: string;
}

export interface AvroCompatibilityResult {
  compatible: boolean;
  incompatibilities: AvroIncompatibility[];
}

const COMPATIBLE: AvroCompatibilityResult = Object.freeze({ compatible: true, incompatibilities: [] }) as AvroCompatibilityResult;
const IN_PROGRESS = Symbol('in progress');

function merge(a: AvroCompatibilityResult, b: AvroCompatibilityResult): AvroCompatibilityResult {
  if (a.compatible && b.compatible) return COMPATIBLE;
  return { compatible: false, incompatibilities: [...a.incompatibilities, ...b.incompatibilities] };
}

function incompatible(type: AvroIncompatibilityType, message: string, location: string[]): AvroCompatibilityResult {
  return { compatible: false, incompatibilities: [{ type, message, location: '/' + location.join('/') }] };
}

/** Promotions the Avro spec allows: writer type → reader types that can read it. */
const PROMOTIONS: Record<string, readonly string[]> = {
  long: ['int'],
  float: ['int', 'long'],
  double: ['int', 'long', 'float'],
  bytes: ['string'],
  string: ['bytes'],
};

function typeName(n: AvroNode): string {
  return n.kind === 'primitive' ? n.type : n.kind;
}

function describe(n: AvroNode): string {
  return 'fullname' in n ? `${n.kind} ${n.fullname}` : typeName(n);
}

/** Reader names equal writer names: unqualified names equal, or a reader alias is the writer's full name. */
function namesMatch(
  reader: AvroNode & { fullname: string; name: string; aliases: string[] },
  writer: AvroNode & { fullname: string; name: string },
): boolean {
  return reader.name === writer.name || reader.aliases.includes(writer.fullname);
}

export class AvroCompatibilityChecker {
  private readonly memo = new Map<AvroNode, Map<AvroNode, AvroCompatibilityResult | typeof IN_PROGRESS>>();

  /** Whether `reader` can read everything `writer` writes. One checker per top-level question. */
  static check(reader: AvroNode, writer: AvroNode): AvroCompatibilityResult {
    return new AvroCompatibilityChecker().get(reader, writer, []);
  }

  private get(reader: AvroNode, writer: AvroNode, location: string[]): AvroCompatibilityResult {
    let byWriter = this.memo.get(reader);
    if (!byWriter) this.memo.set(reader, (byWriter = new Map()));
    const seen = byWriter.get(writer);
    if (seen === IN_PROGRESS) return COMPATIBLE;
    if (seen) return seen;
    byWriter.set(writer, IN_PROGRESS);
    const result = this.calculate(reader, writer, location);
    byWriter.set(writer, result);
    return result;
  }

  private calculate(reader: AvroNode, writer: AvroNode, location: string[]): AvroCompatibilityResult {
    if (reader.kind === writer.kind && (reader.kind !== 'primitive' || typeName(reader) === typeName(writer))) {
      switch (reader.kind) {
        case 'primitive':
          return COMPATIBLE;
        case 'array':
          return this.get(reader.items, (writer as typeof reader).items, [...location, 'items']);
        case 'map':
          return this.get(reader.values, (writer as typeof reader).values, [...location, 'values']);
        case 'fixed': {
          const w = writer as typeof reader;
          let result = namesMatch(reader, w) ? COMPATIBLE : incompatible('NAME_MISMATCH', `expected: ${w.fullname}`, [...location, 'name']);
          if (reader.size !== w.size) {
            result = merge(
              result,
              incompatible('FIXED_SIZE_MISMATCH', `expected: ${w.size}, found: ${reader.size}`, [...location, 'size']),
            );
          }
          return result;
        }
        case 'enum': {
          const w = writer as typeof reader;
          let result = namesMatch(reader, w) ? COMPATIBLE : incompatible('NAME_MISMATCH', `expected: ${w.fullname}`, [...location, 'name']);
          const missing = w.symbols.filter((s) => !reader.symbols.includes(s));
          const defaultReads = reader.enumDefault !== undefined && reader.symbols.includes(reader.enumDefault);
          if (missing.length > 0 && !defaultReads) {
            result = merge(result, incompatible('MISSING_ENUM_SYMBOLS', `[${missing.join(', ')}]`, [...location, 'symbols']));
          }
          return result;
        }
        case 'record': {
          const w = writer as typeof reader;
          let result = namesMatch(reader, w) ? COMPATIBLE : incompatible('NAME_MISMATCH', `expected: ${w.fullname}`, [...location, 'name']);
          return merge(result, this.recordFields(reader, w, location));
        }
        case 'union': {
          const w = writer as typeof reader;
          let result = COMPATIBLE;
          w.branches.forEach((branch, i) => {
            if (!this.get(reader, branch, []).compatible) {
              result = merge(
                result,
                incompatible('MISSING_UNION_BRANCH', `reader union lacking writer type: ${typeName(branch).toUpperCase()}`, [
                  ...location,
                  String(i),
                ]),
              );
            }
          });
          return result;
        }
      }
    }
    if (writer.kind === 'union') {
      // Every branch the writer may pick must be readable; all are evaluated (no short cut).
      let result = COMPATIBLE;
      for (const branch of writer.branches) result = merge(result, this.get(reader, branch, location));
      return result;
    }
    if (reader.kind === 'union') {
      for (const branch of reader.branches) {
        if (this.get(branch, writer, location).compatible) return COMPATIBLE;
      }
      return incompatible('MISSING_UNION_BRANCH', `reader union lacking writer type: ${typeName(writer).toUpperCase()}`, location);
    }
    if (reader.kind === 'primitive' && writer.kind === 'primitive' && (PROMOTIONS[reader.type] ?? []).includes(writer.type)) {
      return COMPATIBLE;
    }
    return incompatible('TYPE_MISMATCH', `reader type: ${describe(reader)} not compatible with writer type: ${describe(writer)}`, location);
  }

  private recordFields(
    reader: AvroNode & { kind: 'record' },
    writer: AvroNode & { kind: 'record' },
    location: string[],
  ): AvroCompatibilityResult {
    let result = COMPATIBLE;
    reader.fields.forEach((field, i) => {
      const writerField =
        writer.fields.find((f) => f.name === field.name) ??
        field.aliases.map((a) => writer.fields.find((f) => f.name === a)).find((f) => f !== undefined);
      if (writerField === undefined) {
        if (!field.hasDefault) {
          result = merge(result, incompatible('READER_FIELD_MISSING_DEFAULT_VALUE', field.name, [...location, 'fields', String(i)]));
        }
      } else {
        result = merge(result, this.get(field.type, writerField.type, [...location, 'fields', String(i), 'type']));
      }
    });
    return result;
  }
}
