import { describe, expect, it } from 'vitest';
import { ByteArrayConverter, ConnectError, JsonConverter, StringConverter, createConverter, type Schema } from '../src/index.js';

const userSchema: Schema = {
  type: 'struct',
  name: 'user',
  optional: false,
  fields: [
    { field: 'id', type: 'int64', optional: false },
    { field: 'name', type: 'string', optional: true },
    { field: 'avatar', type: 'bytes', optional: true },
  ],
};

describe('JsonConverter', () => {
  it("writes the schemas.enable envelope exactly as Kafka's JsonConverter", () => {
    const bytes = new JsonConverter(true).fromConnectData('t', userSchema, { id: 7, name: 'ann', avatar: Buffer.from([1, 2]) });
    expect(bytes!.toString()).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},' +
        '{"type":"bytes","optional":true,"field":"avatar"}],"optional":false,"name":"user"},"payload":{"id":7,"name":"ann","avatar":"AQI="}}',
    );
  });

  it('reads the envelope back into the same schema and value (bytes from base64)', () => {
    const c = new JsonConverter(true);
    const value = { id: 7, name: null, avatar: Buffer.from('hi') };
    const back = c.toConnectData('t', c.fromConnectData('t', userSchema, value));
    expect(back.value).toEqual(value);
    expect(back.schema).toMatchObject({ type: 'struct', name: 'user' });
  });

  it('writes a schemaless value with a null schema, and plain JSON with schemas.enable=false', () => {
    expect(new JsonConverter(true).fromConnectData('t', null, { a: 1 })!.toString()).toBe('{"schema":null,"payload":{"a":1}}');
    expect(new JsonConverter(false).fromConnectData('t', null, { a: 1 })!.toString()).toBe('{"a":1}');
    expect(new JsonConverter(false).toConnectData('t', Buffer.from('[1,2]')).value).toEqual([1, 2]);
  });

  it('turns null into a tombstone and back', () => {
    const c = new JsonConverter(true);
    expect(c.fromConnectData('t', userSchema, null)).toBeNull();
    expect(c.toConnectData('t', null)).toEqual({ schema: null, value: null });
  });

  it("refuses plain JSON with schemas.enable=true with Kafka's message, and bad JSON", () => {
    expect(() => new JsonConverter(true).toConnectData('t', Buffer.from('{"a":1}'))).toThrow(
      /requires "schema" and "payload" fields and may not contain additional fields/,
    );
    expect(() => new JsonConverter(false).toConnectData('t', Buffer.from('{"a":'))).toThrow(ConnectError);
  });
});

describe('String and ByteArray converters', () => {
  it('round-trip strings and bytes', () => {
    const s = new StringConverter();
    expect(s.fromConnectData('t', null, 'héllo')!.toString('utf8')).toBe('héllo');
    expect(s.toConnectData('t', Buffer.from('x'))).toEqual({ schema: { type: 'string', optional: true }, value: 'x' });
    expect(s.fromConnectData('t', null, 42)!.toString()).toBe('42');
    const b = new ByteArrayConverter();
    expect(b.fromConnectData('t', null, Buffer.from([9]))).toEqual(Buffer.from([9]));
    expect(() => b.fromConnectData('t', null, 'no')).toThrow(/ByteArrayConverter is not compatible/);
  });

  it("are found by Kafka's class names and short names; an unknown class is named", () => {
    expect(createConverter('org.apache.kafka.connect.storage.StringConverter', {})).toBeInstanceOf(StringConverter);
    expect(createConverter('org.apache.kafka.connect.converters.ByteArrayConverter', {})).toBeInstanceOf(ByteArrayConverter);
    expect(
      (createConverter('org.apache.kafka.connect.json.JsonConverter', { 'schemas.enable': 'false' }) as JsonConverter).schemasEnable,
    ).toBe(false);
    expect(() => createConverter('com.example.Nope', {})).toThrow('Class com.example.Nope could not be found.');
  });
});
