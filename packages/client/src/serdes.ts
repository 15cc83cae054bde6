/**
 * Serdes turn typed keys and values into record bytes and back. Kafka keys and values may be null
 * (a null key; a tombstone value), so the built-in serdes carry null through: their types include
 * `null`, and a consumer record's key/value is typed by the serde it was read with.
 */

export interface Serde<T> {
  serialize(value: T): Buffer | null;
  deserialize(bytes: Buffer | null): T;
}

/** The type a serde produces. */
export type SerdeType<S> = S extends Serde<infer T> ? T : never;

const bytes: Serde<Buffer | null> = {
  serialize: (value) => value,
  deserialize: (data) => data,
};

const string: Serde<string | null> = {
  serialize: (value) => (value === null ? null : Buffer.from(value, 'utf8')),
  deserialize: (data) => (data === null ? null : data.toString('utf8')),
};

function json<T>(): Serde<T | null> {
  return {
    serialize: (value) => (value === null ? null : Buffer.from(JSON.stringify(value), 'utf8')),
    deserialize: (data) => (data === null ? null : (JSON.parse(data.toString('utf8')) as T)),
  };
}

export const serdes = {
  /** Buffers as they are (the default when no serde is given). */
  bytes,
  /** UTF-8 strings. */
  string,
  /** JSON text in UTF-8. The type parameter is a claim, not a check: validate if the topic is shared. */
  json,
} as const;
