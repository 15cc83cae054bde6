/**
 * One consumed record as one output line, as Kafka's console consumer prints it (its
 * DefaultMessageFormatter, `--property` keys print.timestamp, print.partition, print.offset,
 * print.headers, print.key, print.value, key.separator, line.separator, headers.separator,
 * null.literal): the fields asked for, in that order, joined by key.separator.
 */
import type { ConsumerRecord } from '@samsa/client';
import { UsageError } from '../errors.js';
import { checkPropertyKeys } from '../options.js';

export const FORMATTER_PROPERTIES = [
  'print.timestamp',
  'print.partition',
  'print.offset',
  'print.headers',
  'print.key',
  'print.value',
  'key.separator',
  'line.separator',
  'headers.separator',
  'null.literal',
] as const;

export interface MessageFormat {
  timestamp: boolean;
  partition: boolean;
  offset: boolean;
  headers: boolean;
  key: boolean;
  value: boolean;
  keySeparator: string;
  lineSeparator: string;
  headersSeparator: string;
  nullLiteral: string;
}

function bool(props: Record<string, string>, key: string, fallback: boolean): boolean {
  const v = props[key];
  if (v === undefined) return fallback;
  if (v !== 'true' && v !== 'false') throw new UsageError(`--property ${key} must be true or false, got '${v}'`);
  return v === 'true';
}

/** The format from `--property` keys; an unknown key or a bad value is a usage error. */
export function messageFormatFrom(props: Record<string, string>): MessageFormat {
  checkPropertyKeys(props, FORMATTER_PROPERTIES);
  return {
    timestamp: bool(props, 'print.timestamp', false),
    partition: bool(props, 'print.partition', false),
    offset: bool(props, 'print.offset', false),
    headers: bool(props, 'print.headers', false),
    key: bool(props, 'print.key', false),
    value: bool(props, 'print.value', true),
    keySeparator: props['key.separator'] ?? '\t',
    lineSeparator: props['line.separator'] ?? '\n',
    headersSeparator: props['headers.separator'] ?? ',',
    nullLiteral: props['null.literal'] ?? 'null',
  };
}

export function formatRecord(r: ConsumerRecord<Buffer | null, Buffer | null>, f: MessageFormat): string {
  const fields: string[] = [];
  // Samsa's batches carry CreateTime (the producer's clock) unless the topic says LogAppendTime;
  // the consumer record does not say which, so CreateTime is printed.
  if (f.timestamp) fields.push(r.timestamp < 0n ? 'NO_TIMESTAMP' : `CreateTime:${r.timestamp}`);
  if (f.partition) fields.push(`Partition:${r.partition}`);
  if (f.offset) fields.push(`Offset:${r.offset}`);
  if (f.headers) {
    const entries = Object.entries(r.headers);
    fields.push(
      entries.length === 0
        ? 'NO_HEADERS'
        : entries.map(([k, v]) => `${k}:${v === null ? f.nullLiteral : v.toString()}`).join(f.headersSeparator),
    );
  }
  if (f.key) fields.push(r.key === null ? f.nullLiteral : r.key.toString());
  if (f.value) fields.push(r.value === null ? f.nullLiteral : r.value.toString());
  return fields.join(f.keySeparator) + f.lineSeparator;
}
