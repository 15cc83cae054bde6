/**
 * One stdin line into one record, as Kafka's console producer reads lines (its LineMessageReader,
 * `--property` keys parse.key, key.separator, parse.headers, headers.delimiter, headers.separator,
 * headers.key.separator, null.marker, ignore.error). Pure: a bad line throws a LineFormatError the
 * caller reports with the line's number, and the next line is read as usual.
 */
import { UsageError } from '../errors.js';
import { checkPropertyKeys } from '../options.js';

export const LINE_READER_PROPERTIES = [
  'parse.key',
  'key.separator',
  'parse.headers',
  'headers.delimiter',
  'headers.separator',
  'headers.key.separator',
  'null.marker',
  'ignore.error',
] as const;

export interface LineFormat {
  parseKey: boolean;
  keySeparator: string;
  parseHeaders: boolean;
  headersDelimiter: string;
  headersSeparator: string;
  headersKeySeparator: string;
  nullMarker: string | undefined;
  ignoreError: boolean;
}

export interface LineRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** The SDK's headers are a record: a repeated header key keeps its last value. */
  headers?: Record<string, Buffer>;
}

export class LineFormatError extends Error {}

function bool(props: Record<string, string>, key: string): boolean {
  const v = props[key];
  if (v === undefined) return false;
  if (v !== 'true' && v !== 'false') throw new UsageError(`--property ${key} must be true or false, got '${v}'`);
  return v === 'true';
}

/** The format from `--property` keys; an unknown key or a bad value is a usage error. */
export function lineFormatFrom(props: Record<string, string>): LineFormat {
  checkPropertyKeys(props, LINE_READER_PROPERTIES);
  const format: LineFormat = {
    parseKey: bool(props, 'parse.key'),
    keySeparator: props['key.separator'] ?? '\t',
    parseHeaders: bool(props, 'parse.headers'),
    headersDelimiter: props['headers.delimiter'] ?? '\t',
    headersSeparator: props['headers.separator'] ?? ',',
    headersKeySeparator: props['headers.key.separator'] ?? ':',
    nullMarker: props['null.marker'],
    ignoreError: bool(props, 'ignore.error'),
  };
  for (const k of ['key.separator', 'headers.delimiter', 'headers.separator', 'headers.key.separator'] as const) {
    if (props[k] === '') throw new UsageError(`--property ${k} must not be empty`);
  }
  if (format.nullMarker === '') throw new UsageError('--property null.marker must not be empty');
  return format;
}

const bytes = (s: string, f: LineFormat): Buffer | null => (f.nullMarker !== undefined && s === f.nullMarker ? null : Buffer.from(s));

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

export function parseLine(line: string, f: LineFormat): LineRecord {
  let rest = line;
  let headers: LineRecord['headers'];
  if (f.parseHeaders) {
    const at = rest.indexOf(f.headersDelimiter);
    if (at < 0) {
      if (!f.ignoreError) throw new LineFormatError(`no headers delimiter ${JSON.stringify(f.headersDelimiter)} in ${quote(line)}`);
    } else {
      const part = rest.slice(0, at);
      rest = rest.slice(at + f.headersDelimiter.length);
      headers = {};
      for (const pair of part === '' ? [] : part.split(f.headersSeparator)) {
        const k = pair.indexOf(f.headersKeySeparator);
        if (k < 0) throw new LineFormatError(`no header key separator ${JSON.stringify(f.headersKeySeparator)} in header ${quote(pair)}`);
        const key = pair.slice(0, k);
        const value = bytes(pair.slice(k + f.headersKeySeparator.length), f);
        if (f.nullMarker !== undefined && key === f.nullMarker)
          throw new LineFormatError(`header key ${quote(key)} is the null marker; a header key cannot be null`);
        if (value === null)
          throw new LineFormatError(`header ${quote(key)} has the null marker as its value; Samsa's headers cannot be null`);
        headers[key] = value;
      }
    }
  }
  let key: Buffer | null = null;
  if (f.parseKey) {
    const at = rest.indexOf(f.keySeparator);
    if (at < 0) {
      if (!f.ignoreError) throw new LineFormatError(`no key separator ${JSON.stringify(f.keySeparator)} in ${quote(line)}`);
    } else {
      key = bytes(rest.slice(0, at), f);
      rest = rest.slice(at + f.keySeparator.length);
    }
  }
  return { key, value: bytes(rest, f), ...(headers ? { headers } : {}) };
}
