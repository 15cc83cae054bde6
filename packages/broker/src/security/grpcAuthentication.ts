/**
 * Who a gRPC call is, and the refusal of calls that have not authenticated (design: README.md,
 * "gRPC"). Kafka's SocketServer gives each request its connection's principal (set by the
 * SaslServerAuthenticator or the SSL principal builder); grpc-js gives a handler only the call, so
 * every service of a SASL or SSL listener's gRPC server is wrapped once, at `addService`: the
 * wrapper finds the call's connection (its peer) in the listener's GrpcSaslSessions, refuses it
 * (UNAUTHENTICATED, with the error table's code in `samsa-error-code`) when the connection has not
 * authenticated, and otherwise records the principal for `principalOf(call)`, which the
 * authorizer reads. SaslHandshake and SaslAuthenticate themselves pass through.
 *
 * `callIdentity` is the pure decision; `requireAuthentication` the grpc-js edge.
 */
import { ERROR_CODE_METADATA_KEY, ErrorCode, grpc } from '@samsa/protocol';
import { ANONYMOUS, type KafkaPrincipal, PIPELINED, type PipelinedHandler } from '@samsa/server';
import type { GrpcSaslSessions } from './grpcSaslSessions.js';
import type { SecurityProtocol } from './saslConfig.js';
import { subjectDn } from './tls.js';

/** The methods a connection may call before it authenticated. */
export const SASL_METHOD_PATHS: ReadonlySet<string> = new Set(['/samsa.v1.Samsa/SaslHandshake', '/samsa.v1.Samsa/SaslAuthenticate']);

export interface GrpcListenerSecurity {
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** Set on a SASL_PLAINTEXT / SASL_SSL listener: its connections' sessions. */
  readonly sessions?: GrpcSaslSessions;
}

export type CallIdentity =
  | { readonly principal: KafkaPrincipal }
  | { readonly refused: { readonly errorCode: number; readonly message: string } };

/**
 * The principal of a call on `security`'s listener, or why it is refused. `certificateSubject` is
 * the verified client certificate's subject (grpc-js's auth context), if the connection has one.
 */
export function callIdentity(
  peer: string,
  security: GrpcListenerSecurity,
  certificateSubject: Record<string, string | string[]> | undefined,
): CallIdentity {
  const { sessions } = security;
  if (sessions) {
    const principal = sessions.principal(peer);
    if (principal) return { principal };
    const state = sessions.state(peer);
    if (state === 'failed')
      return {
        refused: {
          errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
          message: `this connection failed SASL authentication on listener ${security.listenerName}; connect again with valid credentials`,
        },
      };
    return {
      refused: {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        message:
          state === undefined
            ? `no SASL session for this connection on listener ${security.listenerName} (it is closing); connect again`
            : `listener ${security.listenerName} is ${security.securityProtocol}: authenticate this connection with SaslHandshake and SaslAuthenticate first (configure the client's sasl mechanism, username and password)`,
      },
    };
  }
  // SSL with a verified client certificate: its subject, Kafka's DEFAULT principal mapping rule.
  const dn = subjectDn(certificateSubject);
  return { principal: dn === '' ? ANONYMOUS : Object.freeze({ principalType: 'User', name: dn }) };
}

const principals = new WeakMap<object, KafkaPrincipal>();

/** The principal of a gRPC call (the call or stream object a handler got); User:ANONYMOUS on a PLAINTEXT listener. */
export function principalOf(call: object): KafkaPrincipal {
  return principals.get(call) ?? ANONYMOUS;
}

interface SecurableCall {
  getPeer(): string;
  getAuthContext?(): { sslPeerCertificate?: { subject?: unknown } };
}

function identify(call: SecurableCall, security: GrpcListenerSecurity): CallIdentity {
  let peer = 'unknown';
  let subject: Record<string, string | string[]> | undefined;
  try {
    peer = call.getPeer();
    subject = call.getAuthContext?.().sslPeerCertificate?.subject as Record<string, string | string[]> | undefined;
  } catch {
    // A call whose connection is gone has no session: refused below.
  }
  const identity = callIdentity(peer, security, subject);
  if ('principal' in identity) principals.set(call, identity.principal);
  return identity;
}

function refusal(refused: { errorCode: number; message: string }): Partial<grpc.StatusObject> & Error {
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, String(refused.errorCode));
  return Object.assign(new Error(refused.message), { code: grpc.status.UNAUTHENTICATED, details: refused.message, metadata });
}

/** The same handlers, each refusing a call whose connection has not authenticated. */
export function authenticatedHandlers(
  service: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
  security: GrpcListenerSecurity,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [name, def] of Object.entries(service)) {
    if (SASL_METHOD_PATHS.has(def.path)) continue;
    const key = implementation[name] !== undefined ? name : typeof def.originalName === 'string' ? def.originalName : name;
    const handler = implementation[key];
    if (handler === undefined) continue;
    out[key] = wrap(handler, def, security);
  }
  return out;
}

function wrap(
  handler: grpc.UntypedHandleCall,
  def: grpc.MethodDefinition<unknown, unknown>,
  security: GrpcListenerSecurity,
): grpc.UntypedHandleCall {
  let wrapped: grpc.UntypedHandleCall;
  if (!def.requestStream) {
    // Unary and server-streaming: the answer callback (unary) or the stream's status (server streaming).
    wrapped = ((
      call: grpc.ServerUnaryCall<unknown, unknown> & grpc.ServerWritableStream<unknown, unknown>,
      callback?: grpc.sendUnaryData<unknown>,
    ) => {
      const identity = identify(call, security);
      if ('refused' in identity) {
        if (callback) callback(refusal(identity.refused));
        else call.emit('error', refusal(identity.refused));
        return;
      }
      (handler as (call: unknown, callback?: unknown) => void)(call, callback);
    }) as grpc.UntypedHandleCall;
  } else {
    wrapped = ((
      call: grpc.ServerDuplexStream<unknown, unknown> & grpc.ServerReadableStream<unknown, unknown>,
      callback?: grpc.sendUnaryData<unknown>,
    ) => {
      const identity = identify(call, security);
      if ('refused' in identity) {
        if (callback && !def.responseStream) callback(refusal(identity.refused));
        else call.emit('error', refusal(identity.refused));
        return;
      }
      (handler as (call: unknown, callback?: unknown) => void)(call, callback);
    }) as grpc.UntypedHandleCall;
  }
  // A pipelined handler is rebuilt by later wrappers (metrics, the start gate) from PIPELINED:
  // every rebuild keeps this check in front.
  const pipelined = (handler as Partial<PipelinedHandler<unknown, unknown>>)[PIPELINED];
  if (pipelined) {
    Object.assign(wrapped, { [PIPELINED]: (more: object) => wrap(pipelined(more) as grpc.UntypedHandleCall, def, security) });
  }
  return wrapped;
}

/** Wraps `server.addService`: every service added from now on refuses unauthenticated calls. */
export function requireAuthentication(server: grpc.Server, security: GrpcListenerSecurity): void {
  const addService = server.addService.bind(server);
  server.addService = (service, implementation) => addService(service, authenticatedHandlers(service, implementation, security));
}
