import { ERROR_CODE_METADATA_KEY, ErrorCode, grpc } from '@samsa/protocol';
import { ANONYMOUS, PIPELINED, pipelinedHandler } from '@samsa/server';
import { describe, expect, it } from 'vitest';
import { authenticatedHandlers, callIdentity, principalOf, type GrpcListenerSecurity } from '../../src/security/grpcAuthentication.js';
import { GrpcSaslSessions } from '../../src/security/grpcSaslSessions.js';
import { SaslServerAuthenticator } from '../../src/security/sasl.js';
import { credentialFromPassword, type ScramMechanism } from '../../src/security/scram.js';

const alice = credentialFromPassword('sha256', 'pw', Buffer.from('salt'), 4096);

function saslListener(): { security: GrpcListenerSecurity; sessions: GrpcSaslSessions } {
  const sessions = new GrpcSaslSessions(
    () =>
      new SaslServerAuthenticator({
        enabledMechanisms: ['PLAIN'],
        credentials: { credential: (user: string, m: ScramMechanism) => (user === 'alice' && m === 'SCRAM-SHA-256' ? alice : undefined) },
        nonce: () => 'n',
        decoySecret: Buffer.from('d'),
      }),
  );
  return { security: { listenerName: 'CLIENT', securityProtocol: 'SASL_PLAINTEXT', sessions }, sessions };
}

const plain = (user: string, pw: string) => Buffer.from(`\u0000${user}\u0000${pw}`);

describe('callIdentity (who a gRPC call is)', () => {
  it('on a SASL listener: refused ILLEGAL_SASL_STATE before authentication, the user after', () => {
    const { security, sessions } = saslListener();
    sessions.open('127.0.0.1:7000');
    const before = callIdentity('127.0.0.1:7000', security, undefined);
    expect(before).toMatchObject({ refused: { errorCode: ErrorCode.ILLEGAL_SASL_STATE } });
    expect('refused' in before && before.refused.message).toContain('listener CLIENT is SASL_PLAINTEXT');
    sessions.handshake('127.0.0.1:7000', 'PLAIN');
    expect(sessions.authenticate('127.0.0.1:7000', plain('alice', 'pw')).errorCode).toBe(ErrorCode.NONE);
    expect(callIdentity('127.0.0.1:7000', security, undefined)).toEqual({ principal: { principalType: 'User', name: 'alice' } });
    // Another connection of the same client is not authenticated by this one.
    sessions.open('127.0.0.1:7001');
    expect(callIdentity('127.0.0.1:7001', security, undefined)).toMatchObject({ refused: { errorCode: ErrorCode.ILLEGAL_SASL_STATE } });
  });

  it('after a failed exchange: SASL_AUTHENTICATION_FAILED; a closed connection: ILLEGAL_SASL_STATE', () => {
    const { security, sessions } = saslListener();
    sessions.open('127.0.0.1:7000');
    sessions.handshake('127.0.0.1:7000', 'PLAIN');
    expect(sessions.authenticate('127.0.0.1:7000', plain('alice', 'nope')).errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(callIdentity('127.0.0.1:7000', security, undefined)).toMatchObject({
      refused: { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED },
    });
    sessions.close('127.0.0.1:7000');
    expect(callIdentity('127.0.0.1:7000', security, undefined)).toMatchObject({ refused: { errorCode: ErrorCode.ILLEGAL_SASL_STATE } });
  });

  it('on an SSL listener: the client certificate subject (Kafka DEFAULT rule), else ANONYMOUS', () => {
    const ssl: GrpcListenerSecurity = { listenerName: 'SSL', securityProtocol: 'SSL' };
    expect(callIdentity('127.0.0.1:1', ssl, { CN: 'alice', O: 'acme' })).toEqual({
      principal: { principalType: 'User', name: 'O=acme,CN=alice' },
    });
    expect(callIdentity('127.0.0.1:1', ssl, undefined)).toEqual({ principal: ANONYMOUS });
  });
});

describe('authenticatedHandlers', () => {
  const service = {
    Metadata: { path: '/samsa.v1.Samsa/Metadata', requestStream: false, responseStream: false, originalName: 'metadata' },
    SaslHandshake: { path: '/samsa.v1.Samsa/SaslHandshake', requestStream: false, responseStream: false, originalName: 'saslHandshake' },
    ProduceStream: { path: '/samsa.v1.Samsa/ProduceStream', requestStream: true, responseStream: true, originalName: 'produceStream' },
  } as unknown as grpc.ServiceDefinition;

  function unaryCall(peer: string) {
    return { getPeer: () => peer, request: {} } as unknown as grpc.ServerUnaryCall<unknown, unknown>;
  }

  it('refuses an unauthenticated unary call UNAUTHENTICATED with the code in the trailers, and never runs the handler', () => {
    const { security, sessions } = saslListener();
    sessions.open('127.0.0.1:7000');
    let ran = 0;
    const handlers = authenticatedHandlers(
      service,
      { Metadata: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => (ran++, cb(null, {})), SaslHandshake: () => undefined },
      security,
    );
    let error: (Partial<grpc.StatusObject> & Error) | null = null;
    (handlers.Metadata as grpc.handleUnaryCall<unknown, unknown>)(unaryCall('127.0.0.1:7000'), (e) => {
      error = e as typeof error;
    });
    expect(ran).toBe(0);
    expect(error!.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error!.metadata!.get(ERROR_CODE_METADATA_KEY)).toEqual([String(ErrorCode.ILLEGAL_SASL_STATE)]);
  });

  it('passes the SASL pair through and gives an authenticated call its principal', () => {
    const { security, sessions } = saslListener();
    sessions.open('127.0.0.1:7000');
    const handshake = () => undefined;
    const seen: string[] = [];
    const handlers = authenticatedHandlers(
      service,
      {
        Metadata: (c: object, cb: grpc.sendUnaryData<unknown>) => {
          seen.push(principalOf(c).name);
          cb(null, {});
        },
        SaslHandshake: handshake,
      },
      security,
    );
    expect(handlers.SaslHandshake).toBe(handshake);
    sessions.handshake('127.0.0.1:7000', 'PLAIN');
    sessions.authenticate('127.0.0.1:7000', plain('alice', 'pw'));
    (handlers.Metadata as grpc.handleUnaryCall<unknown, unknown>)(unaryCall('127.0.0.1:7000'), () => undefined);
    expect(seen).toEqual(['alice']);
  });

  it('a pipelined handler rebuilt by a later wrapper (metrics, start gate) keeps the check', () => {
    const { security, sessions } = saslListener();
    sessions.open('127.0.0.1:7000');
    const handlers = authenticatedHandlers(service, { ProduceStream: pipelinedHandler('ProduceStream', () => ({})) }, security);
    const rebuilt = (handlers.ProduceStream as unknown as { [PIPELINED]: (o: object) => (call: unknown) => void })[PIPELINED]({});
    const errors: unknown[] = [];
    const stream = {
      getPeer: () => '127.0.0.1:7000',
      emit: (event: string, e: unknown) => (event === 'error' ? errors.push(e) : undefined),
      on: () => {
        throw new Error('the pipelined handler must not start on an unauthenticated connection');
      },
    };
    rebuilt(stream);
    expect(errors).toHaveLength(1);
    expect((errors[0] as { code: number }).code).toBe(grpc.status.UNAUTHENTICATED);
  });
});
