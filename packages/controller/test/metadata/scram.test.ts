import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@samsa/protocol';
import { Harness } from './harness.js';

const salt = Buffer.from('0123456789abcdef0123456789abcdef');
const salted256 = pbkdf2Sync('alice-secret', salt, 8192, 32, 'sha256');

describe('alterUserScramCredentials', () => {
  it('stores StoredKey and ServerKey derived from SaltedPassword, never SaltedPassword itself', () => {
    const h = new Harness();
    const result = h.controller.alterUserScramCredentials(
      [],
      [{ name: 'alice', mechanism: 'SCRAM-SHA-256', iterations: 8192, salt, saltedPassword: salted256 }],
    );
    expect(result.response).toEqual([{ user: 'alice', errorCode: 0, errorMessage: '' }]);
    const clientKey = createHmac('sha256', salted256).update('Client Key').digest();
    expect(result.records).toEqual([
      {
        type: 'UserScramCredential',
        name: 'alice',
        mechanism: 'SCRAM-SHA-256',
        salt: salt.toString('base64'),
        storedKey: createHash('sha256').update(clientKey).digest('base64'),
        serverKey: createHmac('sha256', salted256).update('Server Key').digest('base64'),
        iterations: 8192,
      },
    ]);
    expect(JSON.stringify(result.records)).not.toContain(salted256.toString('base64'));
    h.commit(result);
    expect(h.image.scramCredential('alice', 'SCRAM-SHA-256')?.iterations).toBe(8192);

    const removed = h.controller.alterUserScramCredentials([{ name: 'alice', mechanism: 'SCRAM-SHA-256' }], []);
    expect(removed.records).toEqual([{ type: 'RemoveUserScramCredential', name: 'alice', mechanism: 'SCRAM-SHA-256' }]);
    h.commit(removed);
    expect(h.image.scramUsers()).toEqual([]);
  });

  it("refuses bad items per user with Kafka's codes, and writes nothing for that user", () => {
    const h = new Harness();
    const up = (name: string, mechanism: string, iterations: number, saltedPassword = salted256) => ({
      name,
      mechanism,
      iterations,
      salt,
      saltedPassword,
    });
    const result = h.controller.alterUserScramCredentials(
      [
        { name: 'nobody', mechanism: 'SCRAM-SHA-256' },
        { name: 'dup', mechanism: 'SCRAM-SHA-256' },
      ],
      [
        up('md5', 'SCRAM-MD5', 8192),
        up('proto', 'toString', 8192),
        up('few', 'SCRAM-SHA-256', 100),
        up('short', 'SCRAM-SHA-512', 8192),
        up('dup', 'SCRAM-SHA-256', 8192),
        up('', 'SCRAM-SHA-256', 8192),
        up('ok', 'SCRAM-SHA-256', 4096),
      ],
    );
    expect(result.response.map((r) => [r.user, r.errorCode])).toEqual([
      ['nobody', ErrorCode.RESOURCE_NOT_FOUND],
      ['dup', ErrorCode.DUPLICATE_RESOURCE],
      ['md5', ErrorCode.UNSUPPORTED_SASL_MECHANISM],
      ['proto', ErrorCode.UNSUPPORTED_SASL_MECHANISM],
      ['few', ErrorCode.UNACCEPTABLE_CREDENTIAL],
      ['short', ErrorCode.UNACCEPTABLE_CREDENTIAL],
      ['', ErrorCode.UNACCEPTABLE_CREDENTIAL],
      ['ok', ErrorCode.NONE],
    ]);
    expect(result.records.map((r) => r.type === 'UserScramCredential' && r.name)).toEqual(['ok']);
  });
});
