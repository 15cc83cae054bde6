/**
 * The users file (Jetty's PropertyUserStore format, Confluent's PropertyFileLoginModule) and the
 * basic-auth check: right and wrong credentials, malformed headers, roles, `basic.auth.user.info`.
 */
import { describe, expect, it } from 'vitest';
import { basicAuthHeader, checkBasicAuth, parseSslClientAuthentication, parseUserInfo, parseUsersFile } from '../src/security.js';

const users = parseUsersFile(['# admins', 'alice: wonder,admin,developer', '', 'bob=build:er', '  carol : s3cret  '].join('\n'));

describe('parseUsersFile', () => {
  it('reads names, passwords and roles, skipping comments and blank lines', () => {
    expect([...users.keys()]).toEqual(['alice', 'bob', 'carol']);
    expect(users.get('alice')!.roles).toEqual(['admin', 'developer']);
    expect(users.get('bob')!.roles).toEqual([]);
    expect(users.get('carol')!.roles).toEqual([]);
  });

  it('keeps only a digest of each password', () => {
    const u = users.get('alice')!;
    expect(Object.values(u).some((v) => typeof v === 'string' && v.includes('wonder'))).toBe(false);
    expect(u.digest.length).toBe(32);
  });

  it('refuses malformed lines with the line number and without the password', () => {
    expect(() => parseUsersFile('ok: pw\nnocolon')).toThrow(/line 2/);
    expect(() => parseUsersFile(': pw')).toThrow(/line 1/);
    expect(() => parseUsersFile('dave:')).toThrow(/line 1/);
    expect(() => parseUsersFile('dave: secret-pw\ndave: other')).toThrow(/listed twice/);
    const hashed = (): unknown => parseUsersFile('erin: MD5:164c88b302622e17050af52c89945d44');
    expect(hashed).toThrow(/not supported/);
    expect(hashed).not.toThrow(/164c88/);
  });
});

describe('checkBasicAuth', () => {
  const config = { realm: 'SchemaRegistry', users };

  it('accepts the right password and names the user', () => {
    expect(checkBasicAuth(basicAuthHeader('alice', 'wonder'), config)).toEqual({ ok: true, user: 'alice' });
    // The password may contain a colon: only the first colon splits.
    expect(checkBasicAuth(basicAuthHeader('bob', 'build:er'), config)).toEqual({ ok: true, user: 'bob' });
    expect(checkBasicAuth(basicAuthHeader('carol', 's3cret'), config)).toEqual({ ok: true, user: 'carol' });
    expect(checkBasicAuth(`basic ${Buffer.from('carol:s3cret').toString('base64')}`, config).ok).toBe(true);
  });

  it('answers 401 to a missing, malformed or wrong credential and to an unknown user', () => {
    for (const header of [
      undefined,
      '',
      'Bearer abc',
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from('alice').toString('base64')}`,
      basicAuthHeader('alice', 'wonderX'),
      basicAuthHeader('alice', 'wonde'),
      basicAuthHeader('alice', ''),
      basicAuthHeader('mallory', 'wonder'),
      basicAuthHeader('', ''),
    ]) {
      expect(checkBasicAuth(header, config), String(header)).toEqual({ ok: false, status: 401 });
    }
  });

  it('with authentication.roles answers 403 to a user without one of them', () => {
    const roles = { ...config, roles: ['admin'] };
    expect(checkBasicAuth(basicAuthHeader('alice', 'wonder'), roles).ok).toBe(true);
    expect(checkBasicAuth(basicAuthHeader('carol', 's3cret'), roles)).toEqual({ ok: false, status: 403 });
    // A wrong password is still 401, not 403.
    expect(checkBasicAuth(basicAuthHeader('carol', 'nope'), roles)).toEqual({ ok: false, status: 401 });
    expect(checkBasicAuth(basicAuthHeader('carol', 's3cret'), { ...config, roles: ['*'] }).ok).toBe(true);
  });
});

describe('settings', () => {
  it('parses basic.auth.user.info at the first colon', () => {
    expect(parseUserInfo('alice:pa:ss')).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(() => parseUserInfo('alice')).toThrow(/username:password/);
    expect(() => parseUserInfo(':pw')).toThrow(/username:password/);
  });

  it('parses ssl.client.authentication', () => {
    expect(parseSslClientAuthentication('required')).toBe('REQUIRED');
    expect(parseSslClientAuthentication('NONE')).toBe('NONE');
    expect(() => parseSslClientAuthentication('want')).toThrow(/NONE, REQUESTED or REQUIRED/);
  });
});
