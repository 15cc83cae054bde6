import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSslClientAuth, subjectDn, tlsServerOptions } from '../../src/security/tls.js';

describe('TLS listener config', () => {
  it('ssl.client.auth is none, requested or required', () => {
    expect(parseSslClientAuth('Required')).toBe('required');
    expect(parseSslClientAuth(' none ')).toBe('none');
    expect(() => parseSslClientAuth('optional')).toThrow(/none, requested or required/);
  });

  it("the principal name is the subject DN, most specific first, as Kafka's DEFAULT mapping rule", () => {
    expect(subjectDn({ C: 'DE', O: 'acme', OU: ['eng', 'ops'], CN: 'alice' })).toBe('CN=alice,OU=ops,OU=eng,O=acme,C=DE');
    expect(subjectDn({ CN: 'a,b' })).toBe('CN=a\\,b');
    expect(subjectDn(undefined)).toBe('');
  });

  it('refuses a missing keystore file or one without a key and certificate, naming the setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-tls-'));
    try {
      expect(() => tlsServerOptions({ keystoreLocation: join(dir, 'missing.pem'), clientAuth: 'none' })).toThrow(
        /ssl.keystore.location .*missing.pem cannot be read/,
      );
      writeFileSync(join(dir, 'empty.pem'), 'not a pem file');
      expect(() => tlsServerOptions({ keystoreLocation: join(dir, 'empty.pem'), clientAuth: 'none' })).toThrow(
        /must hold a PEM private key and certificate chain/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
