import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { GrpcSaslSessions, connectionKey, socketKey } from '../../src/security/grpcSaslSessions.js';
import { SaslServerAuthenticator } from '../../src/security/sasl.js';
import { ScramClient, type ScramCredential, credentialFromPassword, type ScramMechanism } from '../../src/security/scram.js';

const salt = Buffer.from('a-salt-for-tests');
const users = new Map<string, ScramCredential>([['alice/SCRAM-SHA-256', credentialFromPassword('sha256', 'alice-secret', salt, 4096)]]);

function sessions() {
  let n = 0;
  return new GrpcSaslSessions(
    () =>
      new SaslServerAuthenticator({
        enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'],
        credentials: { credential: (user: string, mechanism: ScramMechanism) => users.get(`${user}/${mechanism}`) },
        nonce: () => `srv${++n}`,
        decoySecret: Buffer.from('decoy'),
      }),
  );
}

function scram(s: GrpcSaslSessions, peer: string, password: string) {
  expect(s.handshake(peer, 'SCRAM-SHA-256').errorCode).toBe(ErrorCode.NONE);
  const client = new ScramClient('SCRAM-SHA-256', 'alice', password, 'cli');
  const first = s.authenticate(peer, Buffer.from(client.first()));
  expect(first.errorCode).toBe(ErrorCode.NONE);
  return s.authenticate(peer, Buffer.from(client.final(first.authBytes.toString())));
}

describe('connection keys', () => {
  it('a grpc-js peer and the socket it came from name the same connection', () => {
    expect(connectionKey('ipv4:127.0.0.1:5555')).toBe(socketKey('127.0.0.1', 5555));
    expect(connectionKey('127.0.0.1:5555')).toBe(socketKey('127.0.0.1', 5555));
    expect(connectionKey('ipv6:[::1]:5555')).toBe(socketKey('::1', 5555));
    // grpc-js 1.14's own form: the socket's address and port, IPv6 unbracketed.
    expect(connectionKey('::1:5555')).toBe(socketKey('::1', 5555));
    expect(connectionKey('[::1]:5555')).toBe(socketKey('::1', 5555));
    expect(socketKey('127.0.0.1', 5555)).not.toBe(socketKey('127.0.0.1', 5556));
  });
});

describe('GrpcSaslSessions (SASL bound to the HTTP/2 connection)', () => {
  it('SCRAM on one connection authenticates that connection only', () => {
    const s = sessions();
    s.open('127.0.0.1:1000');
    s.open('127.0.0.1:1001');
    expect(s.principal('ipv4:127.0.0.1:1000')).toBeUndefined();
    const last = scram(s, 'ipv4:127.0.0.1:1000', 'alice-secret');
    expect(last.errorCode).toBe(ErrorCode.NONE);
    expect(s.principal('ipv4:127.0.0.1:1000')).toEqual({ principalType: 'User', name: 'alice' });
    expect(s.principal('ipv4:127.0.0.1:1001')).toBeUndefined();
  });

  it('a wrong password fails with SASL_AUTHENTICATION_FAILED, asks for the close, leaves no principal', () => {
    const s = sessions();
    s.open('127.0.0.1:1000');
    const last = scram(s, '127.0.0.1:1000', 'wrong');
    expect(last.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(last.close).toBeDefined();
    expect(s.principal('127.0.0.1:1000')).toBeUndefined();
    // The failed session takes no second attempt on the same connection (Kafka closes it).
    expect(s.handshake('127.0.0.1:1000', 'PLAIN').errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
  });

  it('closing the connection forgets its principal; a new connection on the same port starts unauthenticated', () => {
    const s = sessions();
    s.open('127.0.0.1:1000');
    expect(s.handshake('127.0.0.1:1000', 'PLAIN').errorCode).toBe(ErrorCode.NONE);
    expect(s.authenticate('127.0.0.1:1000', Buffer.from('\0alice\0alice-secret')).errorCode).toBe(ErrorCode.NONE);
    expect(s.principal('127.0.0.1:1000')?.name).toBe('alice');
    s.close('127.0.0.1:1000');
    expect(s.size).toBe(0);
    expect(s.has('127.0.0.1:1000')).toBe(false);
    expect(s.open('127.0.0.1:1000')).toBe(true);
    expect(s.principal('127.0.0.1:1000')).toBeUndefined();
  });

  it('a second live connection with the same key is refused and does not inherit the principal', () => {
    const s = sessions();
    expect(s.open('127.0.0.1:1000')).toBe(true);
    s.handshake('127.0.0.1:1000', 'PLAIN');
    s.authenticate('127.0.0.1:1000', Buffer.from('\0alice\0alice-secret'));
    expect(s.open('127.0.0.1:1000')).toBe(false);
    expect(s.size).toBe(1);
  });

  it('a peer the listener never opened gets ILLEGAL_SASL_STATE and creates nothing', () => {
    const s = sessions();
    expect(s.handshake('10.0.0.1:9', 'PLAIN')).toMatchObject({ errorCode: ErrorCode.ILLEGAL_SASL_STATE });
    expect(s.authenticate('10.0.0.1:9', Buffer.from('\0alice\0alice-secret'))).toMatchObject({
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
    });
    expect(s.principal('10.0.0.1:9')).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('an unsupported mechanism is answered with the enabled list and the session may try again', () => {
    const s = sessions();
    s.open('127.0.0.1:1000');
    const answer = s.handshake('127.0.0.1:1000', 'GSSAPI');
    expect(answer.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    expect(answer.mechanisms).toEqual(['PLAIN', 'SCRAM-SHA-256']);
    expect(scram(s, '127.0.0.1:1000', 'alice-secret').errorCode).toBe(ErrorCode.NONE);
  });
});

describe('GrpcSaslSessions: state and disconnect', () => {
  it('state follows the exchange; disconnect calls the listener back for that connection only', () => {
    const s = sessions();
    const closed: string[] = [];
    s.open('127.0.0.1:1000', () => closed.push('1000'));
    s.open('127.0.0.1:1001', () => closed.push('1001'));
    expect(s.state('127.0.0.1:1000')).toBe('handshake');
    expect(scram(s, '127.0.0.1:1000', 'wrong').errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(s.state('127.0.0.1:1000')).toBe('failed');
    s.disconnect('127.0.0.1:1000');
    expect(closed).toEqual(['1000']);
    s.close('127.0.0.1:1000');
    expect(s.state('127.0.0.1:1000')).toBeUndefined();
    s.disconnect('127.0.0.1:1000');
    expect(closed).toEqual(['1000']);
  });
});
