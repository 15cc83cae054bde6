/**
 * What the PostgreSQL connectors share: `connection.url` (Kafka Connect JDBC's
 * `jdbc:postgresql://host:port/db`, or a `postgresql://` URL) to a `pg` client config, identifier
 * quoting, and the mapping between PostgreSQL column types and Connect schema types (the
 * `org.apache.kafka.connect.data.Timestamp` logical type for timestamps, as Kafka's).
 */
import pg from 'pg';
import type { Schema } from '../api.js';
import { ConnectError } from '../api.js';

export const TIMESTAMP_LOGICAL = 'org.apache.kafka.connect.data.Timestamp';

export function pgConfig(props: Record<string, string>): pg.ClientConfig {
  const raw = props['connection.url'] ?? '';
  let url: URL;
  try {
    url = new URL(raw.replace(/^jdbc:/, ''));
  } catch {
    throw new ConnectError(`Invalid value ${raw} for configuration connection.url: expected jdbc:postgresql://host:port/database`);
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:')
    throw new ConnectError(`Invalid value ${raw} for configuration connection.url: only postgresql is supported`);
  return {
    host: url.hostname,
    port: Number(url.port || '5432'),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    user: props['connection.user'] || url.searchParams.get('user') || 'postgres',
    ...((props['connection.password'] ?? url.searchParams.get('password'))
      ? { password: props['connection.password'] ?? url.searchParams.get('password')! }
      : {}),
  };
}

export async function connect(props: Record<string, string>): Promise<pg.Client> {
  const client = new pg.Client(pgConfig(props));
  await client.connect();
  // One time zone for timestamps read and compared as text.
  await client.query("SET TIME ZONE 'UTC'");
  return client;
}

export function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

/** Connect schema of a result column from its type OID (pg_type). */
export function schemaForOid(oid: number): Schema {
  switch (oid) {
    case 16:
      return { type: 'boolean', optional: true };
    case 21:
      return { type: 'int16', optional: true };
    case 23:
      return { type: 'int32', optional: true };
    case 20:
      return { type: 'int64', optional: true };
    case 700:
      return { type: 'float32', optional: true };
    case 701:
      return { type: 'float64', optional: true };
    case 17:
      return { type: 'bytes', optional: true };
    case 1114:
    case 1184:
      return { type: 'int64', name: TIMESTAMP_LOGICAL, version: 1, optional: true };
    default:
      return { type: 'string', optional: true };
  }
}

/** A row's value as Connect data for its column schema (int8 and numerics arrive as text from pg). */
export function connectValue(schema: Schema, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (schema.name === TIMESTAMP_LOGICAL) return v instanceof Date ? v.getTime() : Date.parse(String(v));
  if (schema.type === 'int64') return Number(v);
  if (schema.type === 'string' && typeof v === 'object' && !Buffer.isBuffer(v)) return JSON.stringify(v);
  return v;
}

/** PostgreSQL column type for a Connect schema (auto.create), or for a schemaless value. */
export function sqlType(schema: Schema | undefined, sample: unknown): string {
  if (schema) {
    if (schema.name === TIMESTAMP_LOGICAL) return 'TIMESTAMP';
    switch (schema.type) {
      case 'int8':
      case 'int16':
        return 'SMALLINT';
      case 'int32':
        return 'INT';
      case 'int64':
        return 'BIGINT';
      case 'float32':
        return 'REAL';
      case 'float64':
        return 'DOUBLE PRECISION';
      case 'boolean':
        return 'BOOLEAN';
      case 'bytes':
        return 'BYTEA';
      case 'string':
        return 'TEXT';
      default:
        return 'JSONB';
    }
  }
  if (typeof sample === 'number') return Number.isInteger(sample) ? 'BIGINT' : 'DOUBLE PRECISION';
  if (typeof sample === 'boolean') return 'BOOLEAN';
  if (typeof sample === 'string') return 'TEXT';
  if (Buffer.isBuffer(sample)) return 'BYTEA';
  return 'JSONB';
}
