/**
 * The schema form: one `ApiSpec` per API, written as data in `apis/*.ts` from Kafka's message
 * definitions (clients/src/main/resources/common/message/*.json), and the TypeScript types derived
 * from it, so a request body's type and its codec cannot disagree.
 *
 * A field is `{ name, type, versions, nullableVersions?, taggedVersions?, tag?, default?, fields? }`
 * with Kafka's meanings; names are Kafka's in lowerCamelCase. Types: the primitives below,
 * `[]<primitive>`, `struct` (one nested struct) and `[]struct` (an array of them, with `fields`).
 */

export type PrimitiveType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint16'
  | 'uint32'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type FieldType = PrimitiveType | `[]${PrimitiveType}` | 'struct' | '[]struct';

export type DefaultValue = number | bigint | string | boolean | null;

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** The value a version without the field decodes to and a missing field encodes as. */
  readonly default?: DefaultValue;
  readonly fields?: readonly FieldSpec[];
}

export interface ApiSpec {
  readonly apiKey: number;
  readonly name: string;
  /** The versions Samsa advertises (ApiVersions) and decodes. */
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly request: readonly FieldSpec[];
  readonly response: readonly FieldSpec[];
}

/** A decoded tagged field whose tag this schema does not know: kept so re-encoding preserves it. */
export interface UnknownTaggedField {
  tag: number;
  data: Buffer;
}

interface PrimitiveTs {
  int8: number;
  int16: number;
  int32: number;
  int64: bigint;
  uint16: number;
  uint32: number;
  float64: number;
  bool: boolean;
  string: string;
  bytes: Buffer;
  records: Buffer | null;
  uuid: string;
}

type ValueOf<F> = F extends { type: 'struct'; fields: infer S extends readonly FieldSpec[] }
  ? StructOf<S>
  : F extends { type: '[]struct'; fields: infer S extends readonly FieldSpec[] }
    ? StructOf<S>[]
    : F extends { type: `[]${infer P extends PrimitiveType}` }
      ? PrimitiveTs[P][]
      : F extends { type: infer P extends PrimitiveType }
        ? PrimitiveTs[P]
        : never;

type MaybeNull<F, T> = F extends { nullableVersions: string } ? T | null : T;

/** A decoded struct: every field of every version, absent ones holding their default. */
export type StructOf<S extends readonly FieldSpec[]> = {
  -readonly [F in S[number] as F['name']]: MaybeNull<F, ValueOf<F>>;
} & { _unknownTaggedFields?: UnknownTaggedField[] };

type InputValueOf<F> = F extends { type: 'struct'; fields: infer S extends readonly FieldSpec[] }
  ? InputOf<S>
  : F extends { type: '[]struct'; fields: infer S extends readonly FieldSpec[] }
    ? readonly InputOf<S>[]
    : F extends { type: `[]${infer P extends PrimitiveType}` }
      ? readonly PrimitiveTs[P][]
      : F extends { type: infer P extends PrimitiveType }
        ? PrimitiveTs[P]
        : never;

/** What an encoder accepts: any field may be left out and takes its default. */
export type InputOf<S extends readonly FieldSpec[]> = {
  [F in S[number] as F['name']]?: MaybeNull<F, InputValueOf<F>>;
} & { _unknownTaggedFields?: UnknownTaggedField[] };

export type RequestOf<A extends ApiSpec> = StructOf<A['request']>;
export type ResponseOf<A extends ApiSpec> = StructOf<A['response']>;
export type RequestInputOf<A extends ApiSpec> = InputOf<A['request']>;
export type ResponseInputOf<A extends ApiSpec> = InputOf<A['response']>;
