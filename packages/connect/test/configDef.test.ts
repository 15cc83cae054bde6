import { describe, expect, it } from 'vitest';
import { ConfigDef, ConfigException, builtinPlugins, parseProperties, validateConnectorConfig, validators } from '../src/index.js';

const def = () =>
  new ConfigDef()
    .define({ name: 'file', type: 'STRING', importance: 'HIGH', documentation: 'a file' })
    .define({
      name: 'batch.size',
      type: 'INT',
      defaultValue: 2000,
      importance: 'LOW',
      documentation: 'n',
      validator: validators.atLeast(1),
    })
    .define({
      name: 'mode',
      type: 'STRING',
      defaultValue: 'bulk',
      importance: 'LOW',
      documentation: 'm',
      validator: validators.in('bulk', 'incrementing'),
    })
    .define({ name: 'flag', type: 'BOOLEAN', defaultValue: false, importance: 'LOW', documentation: 'f' })
    .define({ name: 'tables', type: 'LIST', defaultValue: [], importance: 'LOW', documentation: 't' });

describe('ConfigDef', () => {
  it('fills in defaults and parses types', () => {
    const c = def().parse({ file: '/tmp/x', flag: 'TRUE', tables: 'a, b' });
    expect(c.string('file')).toBe('/tmp/x');
    expect(c.int('batch.size')).toBe(2000);
    expect(c.boolean('flag')).toBe(true);
    expect(c.list('tables')).toEqual(['a', 'b']);
  });

  it("gives Kafka's messages for a missing key, a bad type and a failed validator", () => {
    const { errors } = def().validateAll({ 'batch.size': 'many', mode: 'fast', flag: 'yes' });
    expect(errors.get('file')).toEqual(['Missing required configuration "file" which has no default value.']);
    expect(errors.get('batch.size')).toEqual(['Invalid value many for configuration batch.size: Not a number of type INT']);
    expect(errors.get('mode')).toEqual(['Invalid value fast for configuration mode: String must be one of: bulk, incrementing']);
    expect(errors.get('flag')).toEqual(['Invalid value yes for configuration flag: Expected value to be either true or false']);
    expect(def().validateAll({ file: 'f', 'batch.size': '0' }).errors.get('batch.size')).toEqual([
      'Invalid value 0 for configuration batch.size: Value must be at least 1',
    ]);
    expect(() => def().parse({})).toThrow(ConfigException);
  });

  it("answers the validate endpoint's ConfigInfos shape", () => {
    const infos = def().infos('X', { 'batch.size': '0' });
    expect(infos.name).toBe('X');
    expect(infos.error_count).toBe(2);
    expect(infos.configs[0]).toEqual({
      definition: {
        name: 'file',
        type: 'STRING',
        required: true,
        default_value: null,
        importance: 'HIGH',
        documentation: 'a file',
        group: null,
        width: 'NONE',
        display_name: 'file',
        dependents: [],
        order: 0,
      },
      value: {
        name: 'file',
        value: null,
        recommended_values: [],
        errors: ['Missing required configuration "file" which has no default value.'],
        visible: true,
      },
    });
  });
});

describe('connector config validation', () => {
  const plugins = builtinPlugins();
  it("checks the common keys, the connector's keys and the sink topics together", () => {
    const r = validateConnectorConfig(plugins, { name: 'n', 'connector.class': 'FileStreamSink', 'tasks.max': '0' });
    expect(r.errors).toContain('Invalid value 0 for configuration tasks.max: Value must be at least 1');
    expect(r.errors).toContain('Missing required configuration "file" which has no default value.');
    expect(r.errors).toContain('Must configure one of topics or topics.regex');
    expect(r.infos!.name).toBe('org.apache.kafka.connect.file.FileStreamSinkConnector');
  });
  it('names an unknown class and a broken transform', () => {
    expect(validateConnectorConfig(plugins, { name: 'n', 'connector.class': 'Nope' }).errors).toEqual([
      'Failed to find any class that implements Connector and which name matches Nope',
    ]);
    const r = validateConnectorConfig(plugins, {
      name: 'n',
      'connector.class': 'FileStreamSource',
      file: 'f',
      topic: 't',
      transforms: 'x',
      'transforms.x.type': 'org.apache.kafka.connect.transforms.Nope',
    });
    expect(r.errors).toEqual(['Class org.apache.kafka.connect.transforms.Nope could not be found.']);
    expect(validateConnectorConfig(plugins, { name: 'n', 'connector.class': 'FileStreamSource', file: 'f', topic: 't' }).errors).toEqual(
      [],
    );
  });
});

describe('parseProperties', () => {
  it('reads Java properties: comments, separators, continuations and escapes', () => {
    expect(parseProperties('# c\n! c2\na=1\nb : two\nc three\nlong=x\\\n   y\nesc=tab\\there\\u0041\n\n  spaced.key = v \n')).toEqual({
      a: '1',
      b: 'two',
      c: 'three',
      long: 'xy',
      esc: 'tab\there' + 'A',
      'spaced.key': 'v ',
    });
  });
});
