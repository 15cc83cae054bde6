/**
 * Converters between Connect data (schema + plain value) and record bytes, after Kafka's
 * `StringConverter`, `ByteArrayConverter` and `JsonConverter`. With `schemas.enable=true` (the
 * default, as Kafka's) JSON is the envelope `{"schema":{...},"payload":...}`; a schemaless value
 * is written with `"schema":null`; bytes travel as base64 strings, as Kafka's JsonConverter does.
 */
import type { Schema } from './api.js';
import { ConnectError } from './api.js';

export interface SchemaAndValue {
  schema: Schema | null;
  value: unknown;
}

export interface Converter {
  fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null;
  toConnectData(topic: string, bytes: Buffer | null): SchemaAndValue;
}

export class StringConverter implements Converter {
  fromConnectData(_topic: string, _schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    return Buffer.from(typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value), 'utf8');
  }
  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: { type: 'string', optional: true }, value: bytes === null ? null : bytes.toString('utf8') };
  }
}

export class ByteArrayConverter implements Converter {
  fromConnectData(_topic: string, _schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (!Buffer.isBuffer(value)) throw new ConnectError(`ByteArrayConverter is not compatible with objects of type ${typeof value}`);
    return value;
  }
  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: { type: 'bytes', optional: true }, value: bytes };
  }
}

export class JsonConverter implements Converter {
  constructor(readonly schemasEnable = true) {}

  fromConnectData(_topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) {
      // Kafka writes a tombstone for a null value whatever schemas.enable says.
      return null;
    }
    const payload = toJsonValue(schema ?? null, value);
    const doc = this.schemasEnable ? { schema: schema ? schemaToJson(schema) : null, payload } : payload;
    return Buffer.from(JSON.stringify(doc), 'utf8');
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null) return { schema: null, value: null };
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new ConnectError('Converting byte[] to Kafka Connect data failed due to serialization error: ', { cause: err });
    }
    if (!this.schemasEnable) return { schema: null, value: doc };
    if (
      typeof doc !== 'object' ||
      doc === null ||
      Array.isArray(doc) ||
      !('schema' in doc) ||
      !('payload' in doc) ||
      Object.keys(doc).length !== 2
    ) {
      throw new ConnectError(
        'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. ' +
          'If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
      );
    }
    const env = doc as { schema: Schema | null; payload: unknown };
    return { schema: env.schema, value: env.schema ? fromJsonValue(env.schema, env.payload) : env.payload };
  }
}

/** Kafka's JSON schema form: key order type, fields/items, optional, name... as JsonConverter writes it. */
function schemaToJson(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = { type: schema.type };
  if (schema.type === 'struct') out.fields = (schema.fields ?? []).map((f) => ({ ...schemaToJson(f), field: f.field }));
  if (schema.type === 'array' && schema.items) out.items = schemaToJson(schema.items);
  if (schema.type === 'map') {
    if (schema.keys) out.keys = schemaToJson(schema.keys);
    if (schema.values) out.values = schemaToJson(schema.values);
  }
  out.optional = schema.optional ?? false;
  if (schema.default !== undefined) out.default = schema.default;
  if (schema.name !== undefined) out.name = schema.name;
  if (schema.version !== undefined) out.version = schema.version;
  if (schema.doc !== undefined) out.doc = schema.doc;
  if (schema.parameters !== undefined) out.parameters = schema.parameters;
  return out;
}

function toJsonValue(schema: Schema | null, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map((v) => toJsonValue(schema?.items ?? null, v));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const fields = schema?.type === 'struct' ? (schema.fields ?? []) : null;
    if (fields) for (const f of fields) out[f.field] = toJsonValue(f, (value as Record<string, unknown>)[f.field]);
    else for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(schema?.values ?? null, v);
    return out;
  }
  return value;
}

function fromJsonValue(schema: Schema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (schema.type) {
    case 'bytes':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.field] = fromJsonValue(f, (value as Record<string, unknown>)[f.field]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((v) => (schema.items ? fromJsonValue(schema.items, v) : v));
    default:
      return value;
  }
}

/** A converter by Kafka's class name (or a short alias) and its `<prefix>.`-stripped config. */
export function createConverter(className: string, config: Record<string, string>): Converter {
  switch (className) {
    case 'org.apache.kafka.connect.storage.StringConverter':
    case 'string':
      return new StringConverter();
    case 'org.apache.kafka.connect.converters.ByteArrayConverter':
    case 'bytearray':
      return new ByteArrayConverter();
    case 'org.apache.kafka.connect.json.JsonConverter':
    case 'json':
      return new JsonConverter((config['schemas.enable'] ?? 'true').toLowerCase() !== 'false');
    default:
      throw new ConnectError(`Class ${className} could not be found.`);
  }
}

/** `key.converter.schemas.enable=false` → `{ 'schemas.enable': 'false' }` for prefix `key.converter`. */
export function subConfig(props: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v;
  return out;
}
