/**
 * One address for both protocols (Kafka's listener, shared with gRPC): every accepted TCP
 * connection is classified by its first byte. An HTTP/2 connection starts with the client preface
 * `PRI * HTTP/2.0` ('P', 0x50) and goes to grpc-js through `Server.createConnectionInjector`; a
 * Kafka request starts with a 4-byte big-endian size, whose first byte is 0 for any frame below
 * 16 MiB and at most 0x06 for one below socket.request.max.bytes (100 MiB), so everything that is
 * not 'P' stays with the Kafka connection handler (which refuses frames that are too large).
 *
 * The first chunk is put back into the socket (`unshift`) before it is handed on, so neither
 * protocol handler sees a difference from a plain accepted socket.
 *
 * On an SSL/SASL_SSL listener the TLS handshake comes first and ALPN decides instead: a gRPC
 * client offers `h2`, a Kafka client offers nothing (security/tls.ts).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { grpc } from '@samsa/protocol';
import type { Logger } from 'pino';
import { type GrpcSaslSessions, socketKey } from '../security/grpcSaslSessions.js';
import type { SaslServerAuthenticator } from '../security/sasl.js';
import { principalFromCertificate } from '../security/tls.js';
import type { KafkaPrincipal } from '@samsa/server';
import { KafkaConnection, type KafkaRequestHandler } from './connection.js';

const HTTP2_PREFACE_FIRST_BYTE = 0x50;
/** How long a gRPC connection that failed SASL stays open for its answer to be read. */
const FAILED_SASL_CLOSE_DELAY_MS = 1_000;

export interface DualListenerOptions {
  name: string;
  host: string;
  port: number;
  grpcServer: grpc.Server;
  grpcCredentials: grpc.ServerCredentials;
  kafka: KafkaRequestHandler;
  maxRequestBytes: number;
  /** Kafka's connections.max.idle.ms; also bounds how long a connection may stay silent before its first byte. */
  maxIdleMs: number;
  logger: Logger;
  /** Set on a SASL_PLAINTEXT/SASL_SSL listener: each Kafka connection's SASL state machine. */
  saslAuthenticator?: () => SaslServerAuthenticator;
  /**
   * Set on a SASL_PLAINTEXT/SASL_SSL listener: each gRPC connection gets a session here when it
   * is handed to grpc-js and loses it when it closes (security/grpcSaslSessions.ts); the listener's
   * gRPC services refuse calls until the session authenticated (security/grpcAuthentication.ts).
   */
  grpcSessions?: GrpcSaslSessions;
  /**
   * Set on an SSL/SASL_SSL listener (security/tls.ts): every connection is TLS; ALPN `h2` hands it
   * to gRPC, no ALPN keeps it with Kafka. A client that does not speak TLS fails the handshake and
   * is dropped (logged at debug); the listener goes on.
   */
  tls?: tls.TlsOptions;
}

export interface DualListener {
  readonly port: number;
  /** Open Kafka connections (tests, diagnostics). */
  readonly kafkaConnections: number;
  /** Stops accepting and closes every Kafka connection; gRPC sessions close with the gRPC server's shutdown. */
  close(): void;
}

export async function startDualListener(options: DualListenerOptions): Promise<DualListener> {
  const injector = options.grpcServer.createConnectionInjector(options.grpcCredentials);
  const kafkaConnections = new Set<KafkaConnection>();
  const sockets = new Set<net.Socket>();
  const toGrpc = (conn: net.Socket) => {
    const sessions = options.grpcSessions;
    if (sessions) {
      const key = socketKey(conn.remoteAddress, conn.remotePort);
      // After a failed exchange: closed a moment later, so the answer saying why reaches the client first.
      const disconnect = () => setTimeout(() => conn.destroy(), FAILED_SASL_CLOSE_DELAY_MS).unref();
      if (!sessions.open(key, disconnect)) {
        options.logger.warn(
          { client: key, listener: options.name },
          'refusing a gRPC connection whose address and port belong to a live one',
        );
        conn.destroy();
        return;
      }
      conn.once('close', () => sessions.close(key));
    }
    injector.injectConnection(conn);
  };
  const toKafka = (conn: net.Socket, transportPrincipal?: KafkaPrincipal) => {
    const kafka = new KafkaConnection(conn, options.kafka, {
      maxRequestBytes: options.maxRequestBytes,
      maxIdleMs: options.maxIdleMs,
      listenerName: options.name,
      logger: options.logger,
      ...(options.saslAuthenticator ? { sasl: options.saslAuthenticator() } : {}),
      ...(transportPrincipal === undefined ? {} : { transportPrincipal }),
    });
    kafkaConnections.add(kafka);
    conn.once('close', () => kafkaConnections.delete(kafka));
  };
  const tlsServer = options.tls
    ? tls.createServer(options.tls, (secure) => {
        secure.setTimeout(0);
        if (secure.alpnProtocol === 'h2') toGrpc(secure);
        else toKafka(secure, principalFromCertificate(secure));
      })
    : undefined;
  tlsServer?.on('tlsClientError', (err, secure) => {
    options.logger.debug({ err: err.message, client: secure.remoteAddress, listener: options.name }, 'TLS handshake failed');
    secure.destroy();
  });
  const server = net.createServer({ pauseOnConnect: false }, (socket) => {
    // Both protocols are request/response: Nagle's delay would hold small answers back.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Silent since it connected: neither protocol has it yet.
    socket.setTimeout(options.maxIdleMs, () => socket.destroy());
    // A connection that never sends a byte is closed with the listener; one that errors before its first byte is dropped.
    socket.once('error', () => socket.destroy());
    if (tlsServer) {
      // The TLS server bounds the handshake (handshakeTimeout); the Kafka connection the idle time after it.
      socket.setTimeout(0);
      tlsServer.emit('connection', socket);
      return;
    }
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === HTTP2_PREFACE_FIRST_BYTE) {
        sockets.delete(socket);
        toGrpc(socket);
      } else {
        toKafka(socket);
      }
    });
  });
  server.on('error', (err) => options.logger.error({ err, listener: options.name }, 'listener error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get kafkaConnections() {
      return kafkaConnections.size;
    },
    close: () => {
      server.close();
      for (const conn of kafkaConnections) conn.close();
      for (const s of sockets) s.destroy();
    },
  };
}
