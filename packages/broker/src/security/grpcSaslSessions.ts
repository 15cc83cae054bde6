/**
 * SASL on gRPC, bound to the HTTP/2 connection (design: README.md, "gRPC"). Kafka authenticates a
 * connection once (SaslServerAuthenticator per channel); grpc-js gives a handler no connection
 * object, but every call names its connection by its peer (the client's address and ephemeral
 * port), and the dual listener sees each gRPC socket before grpc-js does. So the listener `open`s a
 * session per accepted gRPC socket and `close`s it when the socket closes; the SaslHandshake /
 * SaslAuthenticate RPCs drive that connection's own SaslServerAuthenticator; `principal(peer)` is
 * what every other RPC on the connection runs as.
 *
 * Pure: no sockets, no clock. A peer the listener never opened has no session (calls from it are
 * refused on a SASL listener), so the map holds at most one entry per open connection.
 */
import { ErrorCode } from '@samsa/protocol';
import type { KafkaPrincipal } from '@samsa/server';
import type { SaslAuthenticateAnswer, SaslServerAuthenticator, SaslState } from './sasl.js';

/**
 * The key of a connection from a grpc-js peer string. grpc-js 1.14 names a server call's peer
 * `${remoteAddress}:${remotePort}` of its socket (IPv6 unbracketed, '::1:5555'); older forms
 * ('ipv4:127.0.0.1:5555', 'ipv6:[::1]:5555') are accepted too. '127.0.0.1:5555', '::1:5555'.
 */
export function connectionKey(peer: string): string {
  const rest = peer.replace(/^(ipv4|ipv6):/, '');
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(rest);
  return v6 ? `${v6[1]}:${v6[2]}` : rest;
}

/** The key of an accepted socket, as grpc-js will name its calls' peer. */
export function socketKey(address: string | undefined, port: number | undefined): string {
  return `${address ?? 'unknown'}:${port ?? 0}`;
}

export interface GrpcHandshakeAnswer {
  readonly errorCode: number;
  readonly mechanisms: readonly string[];
  /** Set: the connection must be closed after this answer. */
  readonly close?: string;
}

const NO_SESSION = 'no SASL session for this connection (it did not arrive through a SASL listener)';

export class GrpcSaslSessions {
  private readonly sessions = new Map<string, SaslServerAuthenticator>();
  private readonly disconnects = new Map<string, () => void>();

  constructor(private readonly newAuthenticator: () => SaslServerAuthenticator) {}

  /**
   * The listener accepted a gRPC connection: a fresh, unauthenticated session. False when a live
   * connection already has that key (same client address and port on another listener): the
   * listener refuses the newcomer rather than let it share the other's principal.
   */
  open(key: string, disconnect?: () => void): boolean {
    if (this.sessions.has(key)) return false;
    this.sessions.set(key, this.newAuthenticator());
    if (disconnect) this.disconnects.set(key, disconnect);
    return true;
  }

  /** The connection closed: its session and principal are gone. */
  close(key: string): void {
    this.sessions.delete(key);
    this.disconnects.delete(key);
  }

  /** Asks the listener to close the connection (after a failed exchange, as Kafka closes it). */
  disconnect(peer: string): void {
    this.disconnects.get(connectionKey(peer))?.();
  }

  /** The connection's SASL state; undefined for a connection without a session. */
  state(peer: string): SaslState | undefined {
    return this.sessions.get(connectionKey(peer))?.state;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Whether the connection came through a SASL listener (and has not closed). */
  has(peer: string): boolean {
    return this.sessions.has(connectionKey(peer));
  }

  /** The principal the connection authenticated as; undefined before (or without) authentication. */
  principal(peer: string): KafkaPrincipal | undefined {
    return this.sessions.get(connectionKey(peer))?.principal;
  }

  handshake(peer: string, mechanism: string): GrpcHandshakeAnswer {
    const session = this.sessions.get(connectionKey(peer));
    if (!session) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [], close: NO_SESSION };
    return session.handshake(mechanism);
  }

  authenticate(peer: string, token: Buffer): SaslAuthenticateAnswer {
    const session = this.sessions.get(connectionKey(peer));
    if (!session) {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: NO_SESSION,
        authBytes: Buffer.alloc(0),
        close: NO_SESSION,
      };
    }
    return session.authenticate(token);
  }
}
