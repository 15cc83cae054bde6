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
 */
import * as net from 'node:net';
import type { grpc } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { SaslServerAuthenticator } from '../security/sasl.js';
import { KafkaConnection, type KafkaRequestHandler } from './connection.js';

const HTTP2_PREFACE_FIRST_BYTE = 0x50;

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
  /**
   * Set on a SASL_PLAINTEXT/SASL_SSL listener: each Kafka connection's SASL state machine. gRPC
   * connections are then refused (closed at their first byte, with a log line) until gRPC
   * authentication lands (security/README.md): a SASL listener never serves anyone unauthenticated.
   */
  saslAuthenticator?: () => SaslServerAuthenticator;
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
  const server = net.createServer({ pauseOnConnect: false }, (socket) => {
    // Both protocols are request/response: Nagle's delay would hold small answers back.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Silent since it connected: neither protocol has it yet.
    socket.setTimeout(options.maxIdleMs, () => socket.destroy());
    // A connection that never sends a byte is closed with the listener; one that errors before its first byte is dropped.
    socket.once('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === HTTP2_PREFACE_FIRST_BYTE) {
        if (options.saslAuthenticator) {
          options.logger.info(
            { client: socket.remoteAddress, listener: options.name },
            'refusing a gRPC connection on a SASL listener: gRPC authentication is not served yet',
          );
          socket.destroy();
          return;
        }
        sockets.delete(socket);
        injector.injectConnection(socket);
        return;
      }
      const conn = new KafkaConnection(socket, options.kafka, {
        maxRequestBytes: options.maxRequestBytes,
        maxIdleMs: options.maxIdleMs,
        listenerName: options.name,
        logger: options.logger,
        ...(options.saslAuthenticator ? { sasl: options.saslAuthenticator() } : {}),
      });
      kafkaConnections.add(conn);
      socket.once('close', () => kafkaConnections.delete(conn));
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
