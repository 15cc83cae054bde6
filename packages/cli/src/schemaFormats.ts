/**
 * `--key-format`/`--value-format avro` for `samsa produce` and `samsa consume`: the behaviour of
 * Confluent's kafka-avro-console-producer and -consumer. The producer reads each key or value as a
 * JSON line in Avro's JSON encoding (unions as `{"string": "x"}`), checks it against the schema
 * (given as text, registered under the topic's subject as the serializer's auto-registration does,
 * or named by a registered id) and writes it in Confluent's wire format (magic byte 0, 4-byte
 * schema id, Avro binary). The consumer reads the id of each record, fetches that schema from the
 * registry and prints the record in Avro's JSON encoding. Both use @samsa/registry's serdes,
 * loaded only when a format asks for them.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { parseInteger } from './options.js';

export type RecordFormat = 'string' | 'avro';

/** The flags both commands share, as commander names them. */
export interface FormatFlags {
  keyFormat?: string;
  valueFormat?: string;
  schemaRegistry?: string;
  /** basic.auth.user.info for the registry: `user:password`. */
  schemaRegistryUserInfo?: string;
  /** The same under `samsa schemas`' name (`--basic-auth-user-info`): either works. */
  basicAuthUserInfo?: string;
  /** PEM CAs an https registry chains to (schema.registry.ssl.truststore.location). */
  schemaRegistryCa?: string;
}

/**
 * The registry credentials from either flag name (`--basic-auth-user-info`, Confluent's
 * schema-registry tools, or `--schema-registry-user-info`, Samsa's produce/consume); both given
 * with different values is a usage error.
 */
export function registryUserInfo(flags: { basicAuthUserInfo?: string; schemaRegistryUserInfo?: string }): string | undefined {
  const { basicAuthUserInfo: a, schemaRegistryUserInfo: b } = flags;
  if (a !== undefined && b !== undefined && a !== b) {
    throw new UsageError('--basic-auth-user-info and --schema-registry-user-info name the same credentials; give one');
  }
  return a ?? b;
}

/** The registry client of the formats, with the flags' credentials and CA. */
async function registryClient(flags: FormatFlags, url: string) {
  const { SchemaRegistryClient, parseUserInfo } = await import('@samsa/registry');
  let basicAuth: { username: string; password: string } | undefined;
  const userInfo = registryUserInfo(flags);
  if (userInfo !== undefined) {
    try {
      basicAuth = parseUserInfo(userInfo);
    } catch {
      throw new UsageError("--schema-registry-user-info must be 'username:password'");
    }
  }
  let ca: string | undefined;
  if (flags.schemaRegistryCa !== undefined) {
    try {
      ca = readFileSync(flags.schemaRegistryCa, 'utf8');
    } catch (err) {
      throw new UsageError(`--schema-registry-ca ${flags.schemaRegistryCa} cannot be read: ${(err as Error).message}`);
    }
  }
  return new SchemaRegistryClient({ url, ...(basicAuth ? { basicAuth } : {}), ...(ca !== undefined ? { ca } : {}) });
}

/** The producer's schema flags. */
export interface ProducerFormatFlags extends FormatFlags {
  keySchema?: string;
  keySchemaId?: string;
  valueSchema?: string;
  valueSchemaId?: string;
}

/** Turns a line's key or value text into the bytes to send; throws on text its schema refuses. */
export type Encoder = (text: string) => Buffer;
/** Turns a record's key or value bytes into the text to print. */
export type Decoder = (bytes: Buffer) => Promise<Buffer>;

function formatOf(value: string | undefined, flag: string): RecordFormat {
  if (value === undefined || value === 'string') return 'string';
  if (value === 'avro') return 'avro';
  throw new UsageError(`${flag} must be string or avro, got '${value}'`);
}

function registryUrl(flags: FormatFlags, formats: RecordFormat[]): string | undefined {
  const wanted = formats.includes('avro');
  if (!wanted) {
    if (flags.schemaRegistry !== undefined) throw new UsageError('--schema-registry needs --key-format or --value-format avro');
    return undefined;
  }
  if (flags.schemaRegistry === undefined) throw new UsageError('--key-format/--value-format avro needs --schema-registry <url>');
  let url: URL;
  try {
    url = new URL(flags.schemaRegistry);
  } catch {
    throw new UsageError(`--schema-registry must be a URL such as http://127.0.0.1:8081, got '${flags.schemaRegistry}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--schema-registry must be an http(s) URL, got '${flags.schemaRegistry}'`);
  return flags.schemaRegistry;
}

/** Checks the format flags before any connection is made (a usage error exits 2 without touching the cluster). */
export function producerFormats(flags: ProducerFormatFlags): { key: RecordFormat; value: RecordFormat; url: string | undefined } {
  const key = formatOf(flags.keyFormat, '--key-format');
  const value = formatOf(flags.valueFormat, '--value-format');
  for (const [which, format, schema, id] of [
    ['key', key, flags.keySchema, flags.keySchemaId],
    ['value', value, flags.valueSchema, flags.valueSchemaId],
  ] as const) {
    if (format !== 'avro') {
      if (schema !== undefined || id !== undefined)
        throw new UsageError(`--${which}-schema and --${which}-schema-id need --${which}-format avro`);
      continue;
    }
    if ((schema === undefined) === (id === undefined))
      throw new UsageError(`--${which}-format avro needs one of --${which}-schema or --${which}-schema-id`);
    if (id !== undefined) parseInteger(id, `--${which}-schema-id`, 1);
    if (schema !== undefined) {
      try {
        JSON.parse(schema);
      } catch (err) {
        throw new UsageError(`--${which}-schema is not JSON: ${(err as Error).message}`);
      }
    }
  }
  return { key, value, url: registryUrl(flags, [key, value]) };
}

export function consumerFormats(flags: FormatFlags): { key: RecordFormat; value: RecordFormat; url: string | undefined } {
  const key = formatOf(flags.keyFormat, '--key-format');
  const value = formatOf(flags.valueFormat, '--value-format');
  return { key, value, url: registryUrl(flags, [key, value]) };
}

/**
 * The producer's encoders for `topic`: none for a string format. Registers the schema (or fetches
 * the one with the given id) before the first line is read, so a schema the registry refuses
 * stops the command at once.
 */
export async function producerEncoders(
  flags: ProducerFormatFlags,
  topic: string,
): Promise<{ key: Encoder | undefined; value: Encoder | undefined }> {
  const { key, value, url } = producerFormats(flags);
  if (url === undefined) return { key: undefined, value: undefined };
  const { avro } = await import('@samsa/registry');
  const client = await registryClient(flags, url);
  const encoder = async (isKey: boolean, schema: string | undefined, id: string | undefined): Promise<Encoder> => {
    const serde = await avro<unknown>({
      client,
      topic,
      isKey,
      ...(id === undefined ? { schema: schema! } : { schemaId: Number(id) }),
    });
    return (text) => serde.serialize(serde.fromJson(text))!;
  };
  return {
    key: key === 'avro' ? await encoder(true, flags.keySchema, flags.keySchemaId) : undefined,
    value: value === 'avro' ? await encoder(false, flags.valueSchema, flags.valueSchemaId) : undefined,
  };
}

/** The consumer's decoders: each record printed in Avro's JSON encoding of the schema it was written with. */
export async function consumerDecoders(flags: FormatFlags): Promise<{ key: Decoder | undefined; value: Decoder | undefined }> {
  const { key, value, url } = consumerFormats(flags);
  if (url === undefined) return { key: undefined, value: undefined };
  const { avroJsonReader } = await import('@samsa/registry');
  const read = avroJsonReader(await registryClient(flags, url));
  const decoder: Decoder = async (bytes) => Buffer.from(await read(bytes), 'utf8');
  return { key: key === 'avro' ? decoder : undefined, value: value === 'avro' ? decoder : undefined };
}
