/**
 * TLS and SASL for the SDK's gRPC connections, in KafkaJS's shapes (`ssl`, `sasl: { mechanism,
 * username, password }`). The broker binds a SASL session to the HTTP/2 connection (design:
 * packages/broker/src/security/README.md, "gRPC"), so a `SaslSession` authenticates one channel:
 * SaslHandshake, then SaslAuthenticate rounds (PLAIN: one; SCRAM: client-first, client-final, and
 * the server's signature checked, as Kafka's ScramSaslClient does). A call answered
 * ILLEGAL_SASL_STATE on a channel that had authenticated means grpc-js reconnected underneath (a
 * new, unauthenticated connection): the session authenticates again and the call is retried once.
 * A wrong password fails with SaslAuthenticationError, never retried.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, ScramClient, ScramError, grpc, plainToken } from '@samsa/protocol';
import type { SaslAuthenticateResponse__Output, SaslHandshakeResponse__Output } from '@samsa/protocol';
import { SaslAuthenticationError, SamsaError, errorFromCode } from '../errors.js';

export type SaslMechanismName = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** KafkaJS's `sasl` option. */
export interface SaslOptions {
  mechanism: SaslMechanismName;
  username: string;
  password: string;
}

/** KafkaJS's `ssl` object (PEM strings or Buffers, as node:tls takes them). */
export interface SslOptions {
  /** Trusted CA certificates; default: Node's built-in roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key, for brokers with ssl.client.auth=required|requested. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true; false accepts any server certificate (testing only). */
  rejectUnauthorized?: boolean;
}

export interface ConnectionSecurity {
  /** true: TLS with Node's trusted roots; an object: TLS with these settings. */
  ssl?: boolean | SslOptions;
  sasl?: SaslOptions;
}

/** Validates the user's `sasl` option, with a sentence saying what is wrong. */
export function checkSaslOptions(sasl: unknown): SaslOptions {
  const s = sasl as Partial<SaslOptions> | null;
  if (!s || typeof s !== 'object') throw new TypeError('sasl must be { mechanism, username, password }');
  const mechanism = typeof s.mechanism === 'string' ? s.mechanism.toLowerCase() : '';
  if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512')
    throw new TypeError(`sasl.mechanism must be 'plain', 'scram-sha-256' or 'scram-sha-512', got ${JSON.stringify(s.mechanism)}`);
  if (typeof s.username !== 'string' || s.username === '') throw new TypeError('sasl.username must be a non-empty string');
  if (typeof s.password !== 'string') throw new TypeError('sasl.password must be a string');
  return { mechanism, username: s.username, password: s.password };
}

const pem = (v: string | Buffer | Array<string | Buffer>): Buffer =>
  Array.isArray(v) ? Buffer.concat(v.map((x) => Buffer.from(typeof x === 'string' ? `${x}\n` : x))) : Buffer.from(v);

/** The channel credentials for `ssl`: insecure without it. */
export function channelCredentials(ssl: ConnectionSecurity['ssl']): grpc.ChannelCredentials {
  if (!ssl) return grpc.credentials.createInsecure();
  const o: SslOptions = ssl === true ? {} : ssl;
  if ((o.cert === undefined) !== (o.key === undefined)) throw new TypeError('ssl.cert and ssl.key go together');
  return grpc.credentials.createSsl(
    o.ca === undefined ? null : pem(o.ca),
    o.key === undefined ? null : pem(o.key),
    o.cert === undefined ? null : pem(o.cert),
    o.rejectUnauthorized === false ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

/**
 * Channel options for a secured connection: with SASL the channel gets its own TCP connection
 * (grpc-js otherwise shares one between channels of the same target and options, and a second
 * client with another user would ride on the first one's authenticated connection).
 */
export function securityChannelOptions(security: ConnectionSecurity): grpc.ChannelOptions {
  return security.sasl ? { 'grpc.use_local_subchannel_pool': 1 } : {};
}

/** The two SASL RPCs of one channel (GrpcConnection binds them to its Samsa client). */
export interface SaslRpc {
  handshake(mechanism: string): Promise<SaslHandshakeResponse__Output>;
  authenticate(bytes: Buffer): Promise<SaslAuthenticateResponse__Output>;
}

/** Runs one complete exchange; resolves when the broker accepted, rejects with a typed error otherwise. */
export async function saslExchange(rpc: SaslRpc, sasl: SaslOptions, address: string, nonce: () => string = defaultNonce): Promise<void> {
  const mechanism = sasl.mechanism.toUpperCase();
  const hs = await rpc.handshake(mechanism);
  if (hs.errorCode !== ErrorCode.NONE) {
    const why =
      hs.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM
        ? `${address} does not enable SASL mechanism ${mechanism} (it offers ${hs.mechanisms.join(', ') || 'none'})`
        : `${address} refused the SASL handshake (is it a listener with SASL, SASL_PLAINTEXT or SASL_SSL?)`;
    throw errorFromCode(hs.errorCode, why);
  }
  const step = async (bytes: Buffer): Promise<Buffer> => {
    const res = await rpc.authenticate(bytes);
    if (res.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED)
      throw new SaslAuthenticationError(`${address}: ${res.errorMessage || 'SASL authentication failed'} (user ${sasl.username})`);
    if (res.errorCode !== ErrorCode.NONE)
      throw errorFromCode(res.errorCode, `${address}: ${res.errorMessage || 'SASL authentication refused'}`);
    return Buffer.from(res.authBytes);
  };
  if (mechanism === 'PLAIN') {
    await step(plainToken(sasl.username, sasl.password));
    return;
  }
  const client = new ScramClient(mechanism as 'SCRAM-SHA-256' | 'SCRAM-SHA-512', sasl.username, sasl.password, nonce());
  const serverFirst = await step(Buffer.from(client.first(), 'utf8'));
  let final: string;
  try {
    final = client.final(serverFirst.toString('utf8'));
  } catch (err) {
    if (err instanceof ScramError) throw new SaslAuthenticationError(`${address}: ${err.message}`, { cause: err });
    throw err;
  }
  const serverFinal = await step(Buffer.from(final, 'utf8'));
  // Mutual: the broker proves it knows the credential too (a man in the middle does not).
  if (!client.verify(serverFinal.toString('utf8')))
    throw new SaslAuthenticationError(`${address}: the broker's SCRAM signature does not verify; not trusting this connection`);
}

function defaultNonce(): string {
  return randomBytes(24).toString('base64');
}

/**
 * One channel's authentication: `ensure()` authenticates once (concurrent callers share the
 * exchange); `run(fn)` runs a call after it and, when the call says the connection is not
 * authenticated (a reconnect), authenticates again and retries it once.
 */
export class SaslSession {
  private authenticated: Promise<void> | undefined;

  constructor(
    private readonly exchange: () => Promise<void>,
    /** Told when an exchange failed: the channel is replaced, so the next try is a fresh connection. */
    private readonly onFailure: () => void,
  ) {}

  ensure(): Promise<void> {
    if (!this.authenticated) {
      const attempt = this.exchange();
      this.authenticated = attempt;
      attempt.catch(() => {
        if (this.authenticated === attempt) this.authenticated = undefined;
        this.onFailure();
      });
    }
    return this.authenticated;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const before = this.ensure();
    await before;
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof SamsaError) || err.code !== ErrorCode.ILLEGAL_SASL_STATE) throw err;
      // Only the exchange that authenticated the connection this call saw is redone.
      if (this.authenticated === before) this.authenticated = undefined;
      await this.ensure();
      return call();
    }
  }
}
