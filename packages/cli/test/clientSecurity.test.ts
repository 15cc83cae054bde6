import { describe, expect, it } from 'vitest';
import { clientSecurityFromProperties, parseJaasConfig } from '../src/clientSecurity.js';

const read = (path: string) => {
  if (path === 'ca.pem') return '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n';
  if (path === 'client.pem')
    return '-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n';
  throw new Error(`unexpected ${path}`);
};

describe('client security from Kafka client configs', () => {
  it('SASL_SSL with SCRAM from sasl.jaas.config and a PEM truststore and keystore', () => {
    const s = clientSecurityFromProperties(
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\\"w";',
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': 'ca.pem',
        'ssl.keystore.location': 'client.pem',
      },
      'test',
      read,
    );
    expect(s.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: 'p"w' });
    expect(s.ssl).toMatchObject({ ca: read('ca.pem') });
    expect((s.ssl as { key: string }).key).toContain('PRIVATE KEY');
    expect((s.ssl as { cert: string }).cert).toContain('CERTIFICATE');
  });

  it('PLAINTEXT (or nothing) means no ssl and no sasl; SSL without a truststore means the default roots', () => {
    expect(clientSecurityFromProperties({}, 'test', read)).toEqual({});
    expect(clientSecurityFromProperties({ 'security.protocol': 'SSL' }, 'test', read)).toEqual({ ssl: true });
  });

  it('librdkafka names work; refusals say what is wrong and never echo the password', () => {
    expect(
      clientSecurityFromProperties(
        { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'bob', 'sasl.password': 'pw' },
        'test',
        read,
      ).sasl,
    ).toEqual({ mechanism: 'plain', username: 'bob', password: 'pw' });
    expect(() => clientSecurityFromProperties({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.password': 'secret-pw' }, 'f', read)).toThrow(
      /sasl.mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512/,
    );
    let message = '';
    try {
      clientSecurityFromProperties({ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN', 'sasl.password': 'secret-pw' }, 'f', read);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('needs sasl.jaas.config');
    expect(message).not.toContain('secret-pw');
    expect(() => clientSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.truststore.type': 'JKS' }, 'f', read)).toThrow(
      /give PEM files/,
    );
    expect(() => clientSecurityFromProperties({ 'security.protocol': 'TLS' }, 'f', read)).toThrow(/security.protocol must be/);
  });

  it('parseJaasConfig reads username and password, escaped quotes included', () => {
    expect(parseJaasConfig('x.PlainLoginModule required username="a b" password="c\\\\d";')).toEqual({ username: 'a b', password: 'c\\d' });
  });
});
