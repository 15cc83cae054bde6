/**
 * One Kafka client connection (Kafka's SocketServer Processor + KafkaChannel): reads size-prefixed
 * frames, hands each to the API layer one at a time, and writes the answers in request order.
 *
 * Like Kafka, a connection is muted while one of its requests is being handled: the next frame is
 * read (and buffered) but not handled until the previous one has answered, so "responses in
 * request order" holds however long a fetch long-polls. Consecutive Produce requests are the
 * exception: each starts (and appends) once the previous one has appended, while the earlier ones
 * still wait for acks=all; their answers are still written in request order, and an idempotent
 * producer's in-flight batches still append in send order. Pipelined frames wait
 * in the socket buffer; reading pauses once `maxBufferedRequests` frames are queued.
 *
 * States: open → (frame too large | handler says close | peer ends | error) → closed. A closed
 * connection answers nothing more; nothing it had queued is handled.
 */
import type { Socket } from 'node:net';
import { ANONYMOUS, type KafkaPrincipal } from '@samsa/server';
import type { Logger } from 'pino';
import type { SaslServerAuthenticator } from '../security/sasl.js';

/** What the API layer answers to one frame. */
export type KafkaAnswer =
  /** Bytes to write, size prefix included; with `close`, the connection closes once they are written (a failed SaslAuthenticate). */
  | { kind: 'response'; bytes: Buffer; close?: string }
  /** acks=0 produce: nothing is written, the next request goes on. */
  | { kind: 'none' }
  /** Kafka closes the connection: unknown API, bad frame, failed acks=0 produce. */
  | { kind: 'close'; reason: string };

export interface KafkaRequestHandler {
  /** `frame`: the bytes after the 4-byte size. Must not throw for bad input; a throw closes the connection. */
  handle(frame: Buffer, connection: KafkaConnectionInfo): Promise<KafkaAnswer> | KafkaAnswer;
}

export interface KafkaConnectionInfo {
  /** Kafka's client host form, '/127.0.0.1'. */
  readonly clientHost: string;
  /** The listener this connection arrived on (Metadata answers its advertised addresses). */
  readonly listenerName: string;
  /**
   * Who the connection is (security/README.md): the SASL-authenticated user, else the TLS client
   * certificate's mapped subject, else User:ANONYMOUS. The authorizer reads it per request.
   */
  readonly principal: KafkaPrincipal;
  /** The SASL exchange of a SASL_PLAINTEXT/SASL_SSL listener's connection; absent on other listeners. */
  readonly sasl?: SaslServerAuthenticator;
}

export interface KafkaConnectionOptions {
  /** Kafka's socket.request.max.bytes (100 MiB): a larger frame closes the connection. */
  maxRequestBytes: number;
  /** Frames read ahead of the one being handled before reading pauses. */
  maxBufferedRequests?: number;
  /** Kafka's connections.max.idle.ms (10 minutes): a connection with no request in flight for this long is closed. */
  maxIdleMs?: number;
  listenerName: string;
  logger: Logger;
  /** Set on SASL listeners: this connection's SASL state machine. */
  sasl?: SaslServerAuthenticator;
  /** The principal the transport proved (a TLS client certificate), before any SASL. */
  transportPrincipal?: KafkaPrincipal;
}

/** Kafka's api key of Produce (read from the frame's first two bytes to decide whether it may overlap). */
const PRODUCE_API_KEY = 0;

interface Slot {
  produce: boolean;
  /** Set once the handler answered; written when every earlier slot has been. */
  answer: KafkaAnswer | undefined;
}

export const DEFAULT_SOCKET_REQUEST_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_CONNECTIONS_MAX_IDLE_MS = 600_000;

export class KafkaConnection implements KafkaConnectionInfo {
  readonly clientHost: string;
  readonly listenerName: string;
  readonly sasl: SaslServerAuthenticator | undefined;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly queue: Buffer[] = [];
  /** Requests started and not yet answered, in request order (more than one only for Produce). */
  private readonly inFlight: Slot[] = [];
  private closed = false;
  private readonly maxBuffered: number;

  constructor(
    private readonly socket: Socket,
    private readonly handler: KafkaRequestHandler,
    private readonly options: KafkaConnectionOptions,
  ) {
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`;
    this.listenerName = options.listenerName;
    this.sasl = options.sasl;
    this.maxBuffered = options.maxBufferedRequests ?? 64;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      options.logger.debug({ err, client: this.clientHost }, 'kafka connection error');
      this.close();
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('end', () => this.close());
    // Idle = nothing read or written for maxIdleMs; a long poll being handled is not idle.
    socket.setTimeout(options.maxIdleMs ?? DEFAULT_CONNECTIONS_MAX_IDLE_MS, () => {
      if (this.inFlight.length === 0)
        this.close(`idle for connections.max.idle.ms=${options.maxIdleMs ?? DEFAULT_CONNECTIONS_MAX_IDLE_MS}`);
    });
    socket.resume();
  }

  get principal(): KafkaPrincipal {
    return this.sasl?.principal ?? this.options.transportPrincipal ?? ANONYMOUS;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(reason?: string): void {
    if (reason) this.options.logger.info({ client: this.clientHost, reason }, 'closing kafka connection');
    this.closed = true;
    this.queue.length = 0;
    this.inFlight.length = 0;
    this.chunks = [];
    this.buffered = 0;
    // end() lets written answers reach the client first; destroy() follows if the peer lingers.
    if (!this.socket.destroyed) this.socket.end(() => this.socket.destroy());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const size = head.readInt32BE(0);
      if (size < 0 || size > this.options.maxRequestBytes) {
        this.close(`request frame of ${size} bytes is outside [0, socket.request.max.bytes=${this.options.maxRequestBytes}]`);
        return;
      }
      if (this.buffered < 4 + size) break;
      const frame = this.take(4 + size).subarray(4);
      this.queue.push(frame);
    }
    if (this.queue.length >= this.maxBuffered) this.socket.pause();
    this.handleNext();
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  /**
   * Starts queued frames in order: a loop, not recursion, so thousands of pipelined frames cannot
   * overflow the stack. One request at a time (Kafka's muted channel), with one exception: a
   * Produce may start while earlier Produces on this connection still wait for their acks (its
   * append happens synchronously when it starts, so appends stay in request order, as the gRPC
   * path's pipelined produce does). Without it an acks=all producer gets one request per
   * connection per replication round trip. Answers are written strictly in request order.
   */
  private handleNext(): void {
    while (!this.closed) {
      const frame = this.queue[0];
      if (frame === undefined) break;
      const produce = frame.length >= 2 && frame.readInt16BE(0) === PRODUCE_API_KEY;
      if (this.inFlight.length > 0 && !(produce && this.inFlight.every((s) => s.produce))) break;
      this.queue.shift();
      const slot: Slot = { produce, answer: undefined };
      this.inFlight.push(slot);
      let answer: Promise<KafkaAnswer> | KafkaAnswer;
      try {
        answer = this.handler.handle(frame, this);
      } catch (err) {
        answer = { kind: 'close', reason: `request handling failed: ${(err as Error).message}` };
      }
      if (answer instanceof Promise) {
        answer
          .then(
            (a) => this.settle(slot, a),
            (err: unknown) => this.settle(slot, { kind: 'close', reason: `request handling failed: ${(err as Error).message}` }),
          )
          .then(
            () => this.handleNext(),
            () => this.close('internal error'),
          );
      } else {
        this.settle(slot, answer);
      }
    }
    if (!this.closed && this.queue.length < this.maxBuffered && this.socket.isPaused()) this.socket.resume();
  }

  /** Records a slot's answer and writes every answer now at the head of the line. */
  private settle(slot: Slot, answer: KafkaAnswer): void {
    slot.answer = answer;
    while (this.inFlight.length > 0 && this.inFlight[0]!.answer !== undefined) {
      this.finish(this.inFlight.shift()!.answer!);
    }
  }

  private finish(answer: KafkaAnswer): void {
    if (this.closed) return;
    if (answer.kind === 'close') this.close(answer.reason);
    else if (answer.kind === 'response') {
      this.socket.write(answer.bytes);
      if (answer.close !== undefined) this.close(answer.close);
    }
  }
}
