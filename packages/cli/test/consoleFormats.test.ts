/** The console producer's line reader and the console consumer's formatter, as pure functions. */
import { describe, expect, it } from 'vitest';
import { formatRecord, messageFormatFrom } from '../src/consume/messageFormatter.js';
import { LineFormatError, lineFormatFrom, parseLine } from '../src/produce/lineReader.js';

const text = (b: Buffer | null | undefined) => (b === null || b === undefined ? b : b.toString());

describe('console producer lines (LineMessageReader)', () => {
  it('reads a plain line as the value with a null key', () => {
    const r = parseLine('hello\tworld', lineFormatFrom({}));
    expect([text(r.key), text(r.value), r.headers]).toEqual([null, 'hello\tworld', undefined]);
  });

  it('splits the key at the first key.separator and maps null.marker to null', () => {
    const f = lineFormatFrom({ 'parse.key': 'true', 'key.separator': '::', 'null.marker': 'NULL' });
    expect([text(parseLine('k::v::w', f).key), text(parseLine('k::v::w', f).value)]).toEqual(['k', 'v::w']);
    expect([text(parseLine('NULL::v', f).key), text(parseLine('k::NULL', f).value)]).toEqual([null, null]);
  });

  it('reads headers before the key and value with parse.headers', () => {
    const f = lineFormatFrom({ 'parse.headers': 'true', 'parse.key': 'true' });
    const r = parseLine('a:1,b:2\tk\tv', f);
    expect(Object.fromEntries(Object.entries(r.headers!).map(([k, v]) => [k, v.toString()]))).toEqual({ a: '1', b: '2' });
    expect(parseLine('\tk\tv', f).headers).toEqual({});
  });

  it('throws a LineFormatError for a line without separators, or takes it whole with ignore.error', () => {
    expect(() => parseLine('novalue', lineFormatFrom({ 'parse.key': 'true' }))).toThrow(LineFormatError);
    expect(() => parseLine('a=1\tk\tv', lineFormatFrom({ 'parse.headers': 'true' }))).toThrow(
      /no header key separator ":" in header "a=1"/,
    );
    const r = parseLine('novalue', lineFormatFrom({ 'parse.key': 'true', 'ignore.error': 'true' }));
    expect([text(r.key), text(r.value)]).toEqual([null, 'novalue']);
  });

  it('refuses unknown --property keys and non-boolean flags', () => {
    expect(() => lineFormatFrom({ 'parse.kye': 'true' })).toThrow(/unknown --property parse.kye/);
    expect(() => lineFormatFrom({ 'parse.key': 'yes' })).toThrow(/parse.key must be true or false/);
  });
});

describe('console consumer lines (DefaultMessageFormatter)', () => {
  const record = {
    topic: 't',
    partition: 2,
    offset: 7n,
    timestamp: 1700000000000n,
    key: Buffer.from('k'),
    value: null,
    headers: { h1: Buffer.from('x'), h2: null },
  };

  it('prints the value only by default, null as null.literal', () => {
    expect(formatRecord(record, messageFormatFrom({}))).toBe('null\n');
    expect(formatRecord(record, messageFormatFrom({ 'null.literal': '<none>' }))).toBe('<none>\n');
  });

  it("prints timestamp, partition, offset, headers, key and value in Kafka's order", () => {
    const all = messageFormatFrom({
      'print.timestamp': 'true',
      'print.partition': 'true',
      'print.offset': 'true',
      'print.headers': 'true',
      'print.key': 'true',
    });
    expect(formatRecord(record, all)).toBe('CreateTime:1700000000000\tPartition:2\tOffset:7\th1:x,h2:null\tk\tnull\n');
    const noValue = messageFormatFrom({ 'print.key': 'true', 'print.value': 'false', 'print.headers': 'true', 'key.separator': ' | ' });
    expect(formatRecord({ ...record, headers: {} }, noValue)).toBe('NO_HEADERS | k\n');
  });

  it('refuses unknown --property keys', () => {
    expect(() => messageFormatFrom({ 'print.offsets': 'true' })).toThrow(/unknown --property print.offsets/);
  });
});
