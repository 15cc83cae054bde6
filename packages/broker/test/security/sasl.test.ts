import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { SaslServerAuthenticator, type SaslMechanism } from '../../src/security/sasl.js';
import { parseSaslMechanisms, parseSecurityProtocolMap, securityProtocolOf } from '../../src/security/saslConfig.js';
import { ScramClient, type ScramCredential, credentialFromPassword, type ScramMechanism } from '../../src/security/scram.js';

const salt = Buffer.from('a-salt-for-tests');
const users = new Map<string, ScramCredential>([
  ['alice/SCRAM-SHA-256', credentialFromPassword('sha256', 'alice-secret', salt, 4096)],
  ['alice/SCRAM-SHA-512', credentialFromPassword('sha512', 'alice-secret', salt, 4096)],
]);

function authenticator(enabled: SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
  let n = 0;
  return new SaslServerAuthenticator({
    enabledMechanisms: enabled,
    credentials: { credential: (user: string, mechanism: ScramMechanism) => users.get(`${user}/${mechanism}`) },
    nonce: () => `srv${++n}`,
    decoySecret: Buffer.from('decoy'),
  });
}

function scram(a: SaslServerAuthenticator, mechanism: ScramMechanism, user: string, password: string) {
  expect(a.handshake(mechanism).errorCode).toBe(ErrorCode.NONE);
  const client = new ScramClient(mechanism, user, password, 'cli');
  const first = a.authenticate(Buffer.from(client.first()));
  if (first.errorCode !== ErrorCode.NONE) return first;
  return a.authenticate(Buffer.from(client.final(first.authBytes.toString())));
}

describe('SaslServerAuthenticator (KIP-152 state machine)', () => {
  it('SCRAM: handshake → two SaslAuthenticate rounds → authenticated as User:alice', () => {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
      const a = authenticator();
      expect(a.state).toBe('handshake');
      const last = scram(a, mechanism, 'alice', 'alice-secret');
      expect(last.errorCode).toBe(ErrorCode.NONE);
      expect(last.close).toBeUndefined();
      expect(last.authBytes.toString()).toMatch(/^v=/);
      expect(a.state).toBe('authenticated');
      expect(a.principal).toEqual({ principalType: 'User', name: 'alice' });
    }
  });

  it('PLAIN: one round against the SCRAM credential', () => {
    const a = authenticator();
    a.handshake('PLAIN');
    expect(a.authenticate(Buffer.from('\0alice\0alice-secret')).errorCode).toBe(ErrorCode.NONE);
    expect(a.principal?.name).toBe('alice');
  });

  it('a wrong password: SASL_AUTHENTICATION_FAILED with Kafka sentence, then close, and no principal', () => {
    const a = authenticator();
    const last = scram(a, 'SCRAM-SHA-256', 'alice', 'nope');
    expect(last.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(last.errorMessage).toBe(
      'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
    );
    expect(last.close).toBeDefined();
    expect(last.failedUser).toBe('alice');
    expect(JSON.stringify(last)).not.toContain('nope');
    expect(a.state).toBe('failed');
    expect(a.principal).toBeUndefined();
    // Nothing more is accepted on that connection.
    expect(a.authenticate(Buffer.from('\0alice\0alice-secret')).errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
  });

  it('PLAIN with a wrong password or an unknown user fails the same way', () => {
    for (const token of ['\0alice\0nope', '\0bob\0alice-secret', 'garbage']) {
      const a = authenticator();
      a.handshake('PLAIN');
      expect(a.authenticate(Buffer.from(token)).errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    }
  });

  it('a mechanism not enabled: UNSUPPORTED_SASL_MECHANISM with the enabled list, and the handshake may be retried', () => {
    const a = authenticator(['SCRAM-SHA-512']);
    expect(a.handshake('PLAIN')).toEqual({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['SCRAM-SHA-512'] });
    expect(a.handshake('GSSAPI').errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    expect(a.state).toBe('handshake');
    expect(scram(a, 'SCRAM-SHA-512', 'alice', 'alice-secret').errorCode).toBe(ErrorCode.NONE);
  });

  it('out of turn: SaslAuthenticate before the handshake, or a second handshake, is ILLEGAL_SASL_STATE and closes', () => {
    const a = authenticator();
    const early = a.authenticate(Buffer.from('\0alice\0alice-secret'));
    expect(early.errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    expect(early.close).toBeDefined();
    const b = authenticator();
    scram(b, 'SCRAM-SHA-256', 'alice', 'alice-secret');
    const again = b.handshake('PLAIN');
    expect(again.errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    expect(again.close).toBeDefined();
    expect(b.principal?.name).toBe('alice');
  });
});

describe('listener security config', () => {
  it('parses listener.security.protocol.map and falls back to a listener named after a protocol', () => {
    const map = parseSecurityProtocolMap('client:sasl_plaintext, INTERNAL:PLAINTEXT');
    expect([...map]).toEqual([
      ['CLIENT', 'SASL_PLAINTEXT'],
      ['INTERNAL', 'PLAINTEXT'],
    ]);
    expect(securityProtocolOf('CLIENT', map)).toBe('SASL_PLAINTEXT');
    expect(securityProtocolOf('SASL_SSL', map)).toBe('SASL_SSL');
    expect(securityProtocolOf('OTHER', map)).toBeUndefined();
  });

  it('refuses malformed maps and unknown mechanisms with a sentence', () => {
    expect(() => parseSecurityProtocolMap('CLIENT')).toThrow(/LISTENER_NAME:PROTOCOL/);
    expect(() => parseSecurityProtocolMap('CLIENT:TLS')).toThrow(/protocol must be one of/);
    expect(() => parseSecurityProtocolMap('A:SSL,A:PLAINTEXT')).toThrow(/more than once/);
    expect(parseSaslMechanisms('scram-sha-512, PLAIN')).toEqual(['SCRAM-SHA-512', 'PLAIN']);
    expect(() => parseSaslMechanisms('GSSAPI')).toThrow(/unknown SASL mechanism/);
    expect(() => parseSaslMechanisms('')).toThrow(/no SASL mechanism/);
  });
});
