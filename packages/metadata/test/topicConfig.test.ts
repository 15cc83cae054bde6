import { ErrorCode, SamsaProtocolError } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC_CONFIG, effectiveTopicConfig, validateTopicConfigs, validateTopicName } from '../src/index.js';

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SamsaProtocolError ? err.code : -999;
  }
  return undefined;
}

describe('topic names (Kafka rule)', () => {
  it.each(['orders', 'a.b_c-D9', 'x'.repeat(249)])('accepts %s', (name) => {
    expect(codeOf(() => validateTopicName(name))).toBeUndefined();
  });
  it.each(['', '.', '..', 'x'.repeat(250), 'has space', 'slash/no', 'ünïcode', 'colon:'])(
    'refuses %j with INVALID_TOPIC_EXCEPTION',
    (name) => {
      expect(codeOf(() => validateTopicName(name))).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    },
  );
});

describe('topic configs', () => {
  it('keeps Kafka defaults where nothing is set', () => {
    const config = effectiveTopicConfig({});
    expect(config['retention.ms']).toBe(7 * 24 * 3600 * 1000);
    expect(config['min.insync.replicas']).toBe(1);
    expect(config).toEqual(DEFAULT_TOPIC_CONFIG);
  });
  it('overlays explicit settings', () => {
    const config = effectiveTopicConfig(validateTopicConfigs({ 'min.insync.replicas': '2', 'cleanup.policy': 'delete,compact' }));
    expect(config['min.insync.replicas']).toBe(2);
    expect(config['cleanup.policy']).toBe('compact,delete');
  });
  it('refuses unknown keys and malformed values with INVALID_CONFIG', () => {
    expect(codeOf(() => validateTopicConfigs({ 'retention.msx': '1' }))).toBe(ErrorCode.INVALID_CONFIG);
    expect(codeOf(() => validateTopicConfigs({ 'retention.ms': 'soon' }))).toBe(ErrorCode.INVALID_CONFIG);
    expect(codeOf(() => validateTopicConfigs({ 'min.insync.replicas': '0' }))).toBe(ErrorCode.INVALID_CONFIG);
    expect(codeOf(() => validateTopicConfigs({ 'message.timestamp.type': 'Whenever' }))).toBe(ErrorCode.INVALID_CONFIG);
  });
});

describe('compaction topic configs', () => {
  it('have Kafka defaults and validate min.cleanable.dirty.ratio as a number in [0, 1]', () => {
    const config = effectiveTopicConfig({});
    expect(config['min.cleanable.dirty.ratio']).toBe(0.5);
    expect(config['min.compaction.lag.ms']).toBe(0);
    expect(config['max.compaction.lag.ms']).toBe(Number.MAX_SAFE_INTEGER);
    expect(validateTopicConfigs({ 'min.cleanable.dirty.ratio': '0.01', 'min.compaction.lag.ms': '5000' })).toEqual({
      'min.cleanable.dirty.ratio': '0.01',
      'min.compaction.lag.ms': '5000',
    });
    expect(effectiveTopicConfig({ 'min.cleanable.dirty.ratio': '.25' })['min.cleanable.dirty.ratio']).toBe(0.25);
    for (const bad of ['1.5', '-0.1', 'half', '']) {
      let code: number | undefined;
      try {
        validateTopicConfigs({ 'min.cleanable.dirty.ratio': bad });
      } catch (err) {
        code = (err as SamsaProtocolError).code;
      }
      expect(code, bad).toBe(ErrorCode.INVALID_CONFIG);
    }
  });
});
