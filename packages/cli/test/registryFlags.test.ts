/** The registry credentials flag has two names across the CLI; either works everywhere, one answer. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { registryUserInfo } from '../src/schemaFormats.js';

describe('registry credentials flags', () => {
  it('takes --basic-auth-user-info or --schema-registry-user-info', () => {
    expect(registryUserInfo({ basicAuthUserInfo: 'alice:pw' })).toBe('alice:pw');
    expect(registryUserInfo({ schemaRegistryUserInfo: 'bob:pw' })).toBe('bob:pw');
    expect(registryUserInfo({ basicAuthUserInfo: 'alice:pw', schemaRegistryUserInfo: 'alice:pw' })).toBe('alice:pw');
    expect(registryUserInfo({})).toBeUndefined();
  });

  it('refuses both names with different credentials', () => {
    expect(() => registryUserInfo({ basicAuthUserInfo: 'alice:pw', schemaRegistryUserInfo: 'bob:pw' })).toThrow(UsageError);
  });
});
