import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRAM_ITERATIONS, parseAddConfig, parseScramConfig } from '../src/commands/configs.js';
import { UsageError } from '../src/errors.js';

describe('parseScramConfig (kafka-configs --entity-type users)', () => {
  it("reads Kafka's SCRAM-SHA-256=[iterations=8192,password=...] form", () => {
    const [[mechanism, value]] = Object.entries(parseAddConfig('SCRAM-SHA-256=[iterations=8192,password=s3cr=t]')) as [[string, string]];
    expect(parseScramConfig(mechanism, value)).toEqual({ mechanism: 'SCRAM-SHA-256', iterations: 8192, password: 's3cr=t' });
    expect(parseScramConfig('SCRAM-SHA-512', 'password=x').iterations).toBe(DEFAULT_SCRAM_ITERATIONS);
  });

  it('refuses an unknown mechanism, a missing password, bad iterations and unknown keys, without echoing the password', () => {
    for (const [mech, value] of [
      ['SCRAM-MD5', 'password=hunter2'],
      ['SCRAM-SHA-256', 'iterations=8192'],
      ['SCRAM-SHA-256', 'iterations=many,password=hunter2'],
      ['SCRAM-SHA-256', 'salt=abc,password=hunter2'],
    ] as const) {
      let caught: unknown;
      try {
        parseScramConfig(mech, value);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as Error).message).not.toContain('hunter2');
    }
  });
});
