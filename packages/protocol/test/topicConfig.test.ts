import { ErrorCode, SamsaProtocolError } from '../src/index.js';
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
  it.each(['', '.', '..', 'x'.repeat(250), 'has space', 'slash/no', 'ünïcode', 'colon:'])('refuses %j with INVALID_TOPIC_EXCEPTION', (name) => {
    expect(codeOf(() => validateTopicName(name))).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });
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
