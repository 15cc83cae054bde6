/**
 * Registry-backed serdes in the shape of @samsa/client's `Serde`, writing Confluent's wire format
 * (mirrors Confluent's `KafkaAvroSerializer`/`KafkaAvroDeserializer` and `AbstractKafkaSchemaSerDe`):
 * magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro binary encoding.
 *
 * `Serde.serialize/deserialize` are synchronous, registry calls are not, so the async work happens
 * when the serde is made: it registers (or looks up) its schema and loads every version of its
 * subject. A record written with an id the serde has not seen yet throws `SchemaNotLoadedError`
 * and starts loading that id, so the consumer's next poll (which stays on the record) succeeds;
 * `deserializeAsync` never throws for that reason.
 */
import avsc from 'avsc';
import type { Serde } from '@samsa/client';
import { AvroCompatibilityChecker } from './avro/compatibility.js';
import { resolveAvro } from './avro/schema.js';
import type { RegisteredSchema, SchemaRegistryClient } from './client.js';
import { compileJsonSchema } from './formats.js';
import { parseProto, type ProtoSchema } from './protobuf/schema.js';

export const MAGIC_BYTE = 0;

/** Confluent's subject name strategies, or your own. */
export type SubjectNameStrategy =
  | 'TopicNameStrategy'
  | 'RecordNameStrategy'
  | 'TopicRecordNameStrategy'
  | ((topic: string, isKey: boolean, recordName: string | undefined) => string);

export function subjectName(strategy: SubjectNameStrategy, topic: string, isKey: boolean, recordName: string | undefined): string {
  if (typeof strategy === 'function') return strategy(topic, isKey, recordName);
  if (strategy === 'TopicNameStrategy') return `${topic}-${isKey ? 'key' : 'value'}`;
  if (recordName === undefined) throw new Error(`${strategy} needs a named (record) schema`);
  return strategy === 'RecordNameStrategy' ? recordName : `${topic}-${recordName}`;
}

export class SchemaNotLoadedError extends Error {
  override name = 'SchemaNotLoadedError';
  constructor(readonly schemaId: number) {
    super(`schema id ${schemaId} is not loaded yet; it is being fetched from the registry (retry the poll)`);
  }
}

export class WireFormatError extends Error {
  override name = 'WireFormatError';
}

/** Splits Confluent's framing: magic byte, schema id, payload. */
export function decodeFrame(bytes: Buffer): { id: number; payload: Buffer } {
  if (bytes.length < 5) throw new WireFormatError(`record of ${bytes.length} bytes is shorter than the 5-byte registry header`);
  if (bytes[0] !== MAGIC_BYTE) throw new WireFormatError(`unknown magic byte ${bytes[0]} (expected ${MAGIC_BYTE})`);
  return { id: bytes.readUInt32BE(1), payload: bytes.subarray(5) };
}

export function encodeFrame(id: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(id, 1);
  payload.copy(out, 5);
  return out;
}

export interface AvroSerdeOptions {
  client: SchemaRegistryClient;
  topic: string;
  isKey?: boolean;
  /** The schema this app writes and reads with (text or parsed JSON). Optional with useLatestVersion. */
  schema?: string | object;
  /** Register the schema when it is not yet under the subject. Default true. */
  autoRegister?: boolean;
  /** Write with the subject's latest version instead of registering `schema`. Default false. */
  useLatestVersion?: boolean;
  /**
   * Write with the schema registered under this id (Confluent's `use.schema.id`, the console
   * producer's `value.schema.id`): nothing is registered or looked up by subject.
   */
  schemaId?: number;
  subjectNameStrategy?: SubjectNameStrategy;
  normalize?: boolean;
  /**
   * Before registering, check here that `schema` can read every live version (BACKWARD_TRANSITIVE
   * from this reader's point of view) and refuse early with the reasons. Default false.
   */
  compatibilityPrecheck?: boolean;
}

export interface RegistrySerde<T> extends Serde<T | null> {
  readonly subject: string;
  /** The id written in every record this serde serializes. */
  readonly schemaId: number;
  deserializeAsync(bytes: Buffer | null): Promise<T | null>;
  /** Fetches a writer schema by id so `deserialize` can use it synchronously. */
  load(id: number): Promise<void>;
}

/** An Avro serde also reads and writes Avro's JSON encoding (unions as `{"type": value}`), as Confluent's console tools do. */
export interface AvroRegistrySerde<T> extends RegistrySerde<T> {
  /** A value from Avro's JSON encoding of the writer schema; throws AvroJsonError on text the schema refuses. */
  fromJson(text: string): T;
  /** The value in Avro's JSON encoding of the reader schema. */
  toJson(value: T): string;
}

export class AvroJsonError extends Error {
  override name = 'AvroJsonError';
}

/** Parses Avro's JSON encoding with `type`, turning avsc's refusal (or JSON's) into an AvroJsonError. */
function avroFromJson(type: avsc.Type, text: string): unknown {
  try {
    return type.fromString(text);
  } catch (err) {
    throw new AvroJsonError(`not a value of the Avro schema: ${(err as Error).message}`);
  }
}

/**
 * Every record written in Confluent's Avro wire format, as the JSON text of Avro's JSON encoding
 * of the schema it was written with (the id in its header): what kafka-avro-console-consumer
 * prints. Needs no schema of its own.
 */
export function avroJsonReader(client: SchemaRegistryClient): (bytes: Buffer) => Promise<string> {
  const types = new Map<number, avsc.Type>();
  return async (bytes) => {
    const { id, payload } = decodeFrame(bytes);
    let type = types.get(id);
    if (!type) {
      const schema = await client.getById(id);
      if (schema.schemaType !== 'AVRO') throw new WireFormatError(`schema id ${id} is ${schema.schemaType}, not AVRO`);
      types.set(id, (type = avsc.Type.forSchema(JSON.parse(schema.schema) as avsc.Schema)));
    }
    return type.toString(type.fromBuffer(payload));
  };
}

function recordNameOf(schema: unknown): string | undefined {
  if (schema && typeof schema === 'object' && !Array.isArray(schema)) {
    const o = schema as { type?: unknown; name?: unknown; namespace?: unknown };
    if ((o.type === 'record' || o.type === 'enum' || o.type === 'fixed') && typeof o.name === 'string') {
      return o.name.includes('.') || typeof o.namespace !== 'string' || o.namespace === '' ? o.name : `${o.namespace}.${o.name}`;
    }
  }
  return undefined;
}

/** An Avro serde backed by the registry. The type parameter is the value's TypeScript type. */
export async function avro<T>(options: AvroSerdeOptions): Promise<AvroRegistrySerde<T>> {
  const { client } = options;
  const isKey = options.isKey ?? false;
  const text =
    options.schema === undefined ? undefined : typeof options.schema === 'string' ? options.schema : JSON.stringify(options.schema);
  const readerJson = text === undefined ? undefined : (JSON.parse(text) as unknown);
  if (readerJson === undefined && !options.useLatestVersion && options.schemaId === undefined)
    throw new Error('serdes.avro needs a schema, a schemaId, or useLatestVersion: true');

  let subject: string;
  let writer: RegisteredSchema;
  if (options.schemaId !== undefined) {
    writer = await client.getById(options.schemaId);
    if (writer.schemaType !== 'AVRO') throw new Error(`schema id ${options.schemaId} is ${writer.schemaType}, not AVRO`);
    const strategy = options.subjectNameStrategy ?? 'TopicNameStrategy';
    subject = subjectName(strategy, options.topic, isKey, recordNameOf(JSON.parse(writer.schema)));
  } else if (options.useLatestVersion) {
    const latestSubject = subjectName(options.subjectNameStrategy ?? 'TopicNameStrategy', options.topic, isKey, recordNameOf(readerJson));
    writer = await client.getLatest(latestSubject);
    subject = latestSubject;
  } else {
    subject = subjectName(options.subjectNameStrategy ?? 'TopicNameStrategy', options.topic, isKey, recordNameOf(readerJson));
    const input = { schema: text! };
    if (options.compatibilityPrecheck) {
      const versions = await client.loadSubject(subject);
      const reader = resolveAvro(readerJson);
      const reasons = versions.flatMap((v) =>
        AvroCompatibilityChecker.check(reader, resolveAvro(JSON.parse(v.schema))).incompatibilities.map(
          (i) => `version ${v.version}: ${i.type} at ${i.location}: ${i.message}`,
        ),
      );
      if (reasons.length > 0) throw new Error(`schema cannot read earlier versions of ${subject}: ${reasons.join('; ')}`);
    }
    const id =
      options.autoRegister === false
        ? await client.lookup(subject, input, options.normalize)
        : await client.register(subject, input, options.normalize);
    writer = { id, schema: text!, schemaType: 'AVRO', references: [] };
  }
  if (options.schemaId === undefined) await client.loadSubject(subject);

  const writerType = avsc.Type.forSchema(JSON.parse(writer.schema) as avsc.Schema);
  const readerType = readerJson === undefined ? writerType : avsc.Type.forSchema(readerJson as avsc.Schema);
  const types = new Map<number, avsc.Type>([[writer.id, writerType]]);
  const resolvers = new Map<number, ReturnType<avsc.Type['createResolver']> | null>();

  const resolverFor = (id: number, schema: RegisteredSchema): ReturnType<avsc.Type['createResolver']> | null => {
    let r = resolvers.get(id);
    if (r === undefined) {
      let t = types.get(id);
      if (!t) types.set(id, (t = avsc.Type.forSchema(JSON.parse(schema.schema) as avsc.Schema)));
      r = t === readerType ? null : readerType.createResolver(t);
      resolvers.set(id, r);
    }
    return r;
  };

  const decodeWith = (id: number, schema: RegisteredSchema, payload: Buffer): T => {
    const resolver = resolverFor(id, schema);
    return (resolver ? readerType.fromBuffer(payload, resolver) : readerType.fromBuffer(payload)) as T;
  };

  return {
    subject,
    schemaId: writer.id,
    serialize(value: T | null): Buffer | null {
      if (value === null) return null;
      return encodeFrame(writer.id, writerType.toBuffer(value));
    },
    deserialize(bytes: Buffer | null): T | null {
      if (bytes === null) return null;
      const { id, payload } = decodeFrame(bytes);
      const schema = client.loaded.get(id);
      if (!schema) {
        void client.getById(id).catch(() => {});
        throw new SchemaNotLoadedError(id);
      }
      return decodeWith(id, schema, payload);
    },
    async deserializeAsync(bytes: Buffer | null): Promise<T | null> {
      if (bytes === null) return null;
      const { id, payload } = decodeFrame(bytes);
      return decodeWith(id, await client.getById(id), payload);
    },
    async load(id: number): Promise<void> {
      await client.getById(id);
    },
    fromJson: (text: string): T => avroFromJson(writerType, text) as T,
    toJson: (value: T): string => readerType.toString(value),
  };
}

export interface JsonSchemaSerdeOptions {
  client: SchemaRegistryClient;
  topic: string;
  isKey?: boolean;
  /** The JSON Schema (text or parsed). Optional with useLatestVersion. */
  schema?: string | object;
  autoRegister?: boolean;
  useLatestVersion?: boolean;
  /** The subject for RecordNameStrategy/TopicRecordNameStrategy is the schema's `title`. */
  subjectNameStrategy?: SubjectNameStrategy;
  normalize?: boolean;
  /** Validate values against the schema on serialize (default true) and on deserialize (default false). */
  validate?: boolean;
  validateOnRead?: boolean;
}

/**
 * A JSON Schema serde backed by the registry (Confluent's `KafkaJsonSchemaSerializer` format):
 * the 5-byte header, then the value as UTF-8 JSON text. Values are validated with ajv before they
 * are written, so a producer cannot send what the schema refuses.
 */
export async function jsonSchema<T>(options: JsonSchemaSerdeOptions): Promise<RegistrySerde<T>> {
  const { client } = options;
  const isKey = options.isKey ?? false;
  const text =
    options.schema === undefined ? undefined : typeof options.schema === 'string' ? options.schema : JSON.stringify(options.schema);
  const json = text === undefined ? undefined : (JSON.parse(text) as { title?: unknown });
  if (json === undefined && !options.useLatestVersion) throw new Error('serdes.jsonSchema needs a schema, or useLatestVersion: true');
  const recordName = typeof json?.title === 'string' ? json.title : undefined;
  const subject = subjectName(options.subjectNameStrategy ?? 'TopicNameStrategy', options.topic, isKey, recordName);
  let id: number;
  let schemaText: string;
  if (options.useLatestVersion) {
    const latest = await client.getLatest(subject);
    id = latest.id;
    schemaText = latest.schema;
  } else {
    const input = { schema: text!, schemaType: 'JSON' as const };
    id =
      options.autoRegister === false
        ? await client.lookup(subject, input, options.normalize)
        : await client.register(subject, input, options.normalize);
    schemaText = text!;
  }
  await client.loadSubject(subject);
  const validator = compileJsonSchema(JSON.parse(schemaText));
  const check = (value: unknown, when: string): void => {
    const result = validator(value);
    if (!result.valid) throw new Error(`value does not match the JSON Schema of ${subject} (${when}): ${result.errors}`);
  };
  const decode = (bytes: Buffer): T => {
    const { payload } = decodeFrame(bytes);
    const value = JSON.parse(payload.toString('utf8')) as T;
    if (options.validateOnRead) check(value, 'deserialize');
    return value;
  };
  return {
    subject,
    schemaId: id,
    serialize(value: T | null): Buffer | null {
      if (value === null) return null;
      if (options.validate !== false) check(value, 'serialize');
      return encodeFrame(id, Buffer.from(JSON.stringify(value), 'utf8'));
    },
    deserialize: (bytes) => (bytes === null ? null : decode(bytes)),
    deserializeAsync: async (bytes) => (bytes === null ? null : decode(bytes)),
    async load(schemaId: number): Promise<void> {
      await client.getById(schemaId);
    },
  };
}

/** Confluent's message indexes: zig-zag varint count, then each index; `[0]` is the single byte 0. */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const bytes: number[] = [];
  const varint = (n: number): void => {
    let z = ((n << 1) ^ (n >> 31)) >>> 0;
    while (z > 0x7f) {
      bytes.push((z & 0x7f) | 0x80);
      z >>>= 7;
    }
    bytes.push(z);
  };
  varint(indexes.length);
  for (const i of indexes) varint(i);
  return Buffer.from(bytes);
}

/** Reads message indexes at the start of `buf`; returns them and the bytes they took. */
export function decodeMessageIndexes(buf: Buffer): { indexes: number[]; length: number } {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new WireFormatError('truncated message indexes');
      if (shift > 28) throw new WireFormatError('message index varint too long');
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return (result >>> 1) ^ -(result & 1);
  };
  const count = varint();
  if (count === 0) return { indexes: [0], length: pos };
  if (count < 0 || count > 100) throw new WireFormatError(`invalid message index count ${count}`);
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const idx = varint();
    if (idx < 0) throw new WireFormatError(`invalid message index ${idx}`);
    indexes.push(idx);
  }
  return { indexes, length: pos };
}

export interface ProtobufSerdeOptions {
  client: SchemaRegistryClient;
  topic: string;
  isKey?: boolean;
  /** The `.proto` text. */
  schema: string;
  /** The message this serde writes, by full name (e.g. `shop.Order`). Default: the first message. */
  messageName?: string;
  autoRegister?: boolean;
  subjectNameStrategy?: SubjectNameStrategy;
  normalize?: boolean;
}

/**
 * A Protobuf serde backed by the registry (Confluent's `KafkaProtobufSerializer` format): the
 * 5-byte header, the message indexes of the message type within its file, then the Protobuf
 * binary encoding. Values are plain objects in protobufjs' shape (`toObject` with longs as
 * numbers, enums as names).
 */
export async function protobufSerde<T>(options: ProtobufSerdeOptions): Promise<RegistrySerde<T>> {
  const { client } = options;
  const own = parseProto(options.schema);
  const messageName = options.messageName ?? [...own.indexes.keys()][0];
  if (!messageName || !own.indexes.has(messageName)) throw new Error(`message ${String(options.messageName)} is not in the schema`);
  const subject = subjectName(options.subjectNameStrategy ?? 'TopicNameStrategy', options.topic, options.isKey ?? false, messageName);
  const input = { schema: options.schema, schemaType: 'PROTOBUF' as const };
  const id =
    options.autoRegister === false
      ? await client.lookup(subject, input, options.normalize)
      : await client.register(subject, input, options.normalize);
  await client.loadSubject(subject);
  const type = own.root.lookupType(messageName);
  const header = Buffer.concat([encodeFrame(id, Buffer.alloc(0)), encodeMessageIndexes(own.indexes.get(messageName)!)]);
  const parsedById = new Map<number, ProtoSchema>();
  const toObject = { longs: Number, enums: String, defaults: true } as const;

  const decodeWith = (schema: RegisteredSchema, schemaId: number, payload: Buffer): T => {
    let writer = parsedById.get(schemaId);
    if (!writer) parsedById.set(schemaId, (writer = parseProto(schema.schema)));
    const { indexes, length } = decodeMessageIndexes(payload);
    const name = [...writer.indexes].find(([, idx]) => idx.length === indexes.length && idx.every((v, i) => v === indexes[i]))?.[0];
    if (!name) throw new WireFormatError(`no message at indexes [${indexes.join(', ')}] in schema ${schemaId}`);
    // Read with our own type when it is the same message (new fields are skipped), else the writer's.
    const readType = name === messageName ? type : writer.root.lookupType(name);
    return readType.toObject(readType.decode(payload.subarray(length)), toObject) as T;
  };

  return {
    subject,
    schemaId: id,
    serialize(value: T | null): Buffer | null {
      if (value === null) return null;
      const problem = type.verify(enumNamesToNumbers(type, value) as Record<string, unknown>);
      if (problem) throw new Error(`value does not match ${messageName}: ${problem}`);
      return Buffer.concat([header, Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish())]);
    },
    deserialize(bytes: Buffer | null): T | null {
      if (bytes === null) return null;
      const { id: schemaId, payload } = decodeFrame(bytes);
      const schema = client.loaded.get(schemaId);
      if (!schema) {
        void client.getById(schemaId).catch(() => {});
        throw new SchemaNotLoadedError(schemaId);
      }
      return decodeWith(schema, schemaId, payload);
    },
    async deserializeAsync(bytes: Buffer | null): Promise<T | null> {
      if (bytes === null) return null;
      const { id: schemaId, payload } = decodeFrame(bytes);
      return decodeWith(await client.getById(schemaId), schemaId, payload);
    },
    async load(schemaId: number): Promise<void> {
      await client.getById(schemaId);
    },
  };
}

/**
 * protobufjs' `verify` wants enum numbers while `fromObject` (and our values) use names: map
 * known names to numbers first, so verify checks everything else and still refuses unknown names.
 */
function enumNamesToNumbers(type: ReturnType<ProtoSchema['root']['lookupType']>, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of type.fieldsArray) {
    const v = out[field.name];
    if (v === undefined || v === null) continue;
    const resolved = field.resolvedType as { values?: Record<string, number>; fieldsArray?: unknown } | null;
    const convert = (x: unknown): unknown => {
      if (resolved && resolved.values && typeof x === 'string' && x in resolved.values) return resolved.values[x];
      if (resolved && resolved.fieldsArray) return enumNamesToNumbers(resolved as never, x);
      return x;
    };
    if (field.map)
      out[field.name] = typeof v === 'object' ? Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, convert(x)])) : v;
    else out[field.name] = field.repeated && Array.isArray(v) ? v.map(convert) : convert(v);
  }
  return out;
}

/** Registry-backed serdes in Confluent's wire format. */
export const registrySerdes = { avro, jsonSchema, protobuf: protobufSerde } as const;
