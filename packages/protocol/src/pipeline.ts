/**
 * Pipelined calls (proto/samsa/v1/pipeline.proto): many request/answer pairs of one RPC over one
 * long-lived gRPC bidirectional stream, so a hot path pays for an HTTP/2 stream once instead of per
 * call. The client half lives here (clients and servers both call pipelined methods); the server
 * half, pipelinedHandler and PipelineHub, lives in @samsa/server.
 *
 * Client (PipelinedClient), one per (peer, method):
 *   idle    no stream. call() opens one and goes to open.
 *   open    each call is written at once as `{ id, request }` and waits for the answer with its
 *           id, its own deadline (DEADLINE_EXCEEDED) or its abort signal (rejects with the
 *           signal's reason). An answer whose id is no longer waiting is dropped.
 *   broken  the stream failed (its gRPC status) or ended (UNAVAILABLE): every waiting call fails
 *           with that error, the stream is dropped → idle; the next call opens a new one.
 *   closed  close(): the stream is cancelled, waiting calls fail CANCELLED and new ones are refused.
 * Errors are shaped like grpc.ServiceError (code, details, metadata), so callers map them exactly
 * as they map a failed unary call.
 *
 * Server: see @samsa/server's pipeline.ts.
 */
import * as grpc from '@grpc/grpc-js';
import { hopEnd, hopStart } from './requestCost.js';

export interface PipelineCall<Req> {
  id?: number;
  request?: Req | null;
}

export interface PipelineReply<Res> {
  id?: number;
  response?: Res | null;
  error?: { code?: number; details?: string } | null;
}

/** Opens the method's stream (e.g. `() => client.ProduceStream()`). */
export type OpenPipeline<Req, Res> = () => grpc.ClientDuplexStream<PipelineCall<Req>, PipelineReply<Res>>;

export interface PipelineCallOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

interface Waiting<Res> {
  resolve: (value: Res) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** hopStart() at the call (request-cost timing; 0n when off). */
  started: bigint;
}

/** A grpc.ServiceError-shaped error for a call that failed on a pipeline. */
export function pipelineError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code] ?? ''}: ${details}`), { code, details, metadata: new grpc.Metadata() });
}

const MAX_ID = 0xffff_ffff;

export class PipelinedClient<Req, Res> {
  private stream: grpc.ClientDuplexStream<PipelineCall<Req>, PipelineReply<Res>> | undefined;
  private readonly waiting = new Map<number, Waiting<Res>>();
  private nextId = 1;
  private closed = false;

  private readonly rttHop: string;
  private readonly writeHop: string;

  /** `name` labels this pipeline's round-trip and write timings (requestCost.ts), e.g. 'client.Produce'. */
  constructor(
    private readonly open: OpenPipeline<Req, Res>,
    name = 'pipeline',
  ) {
    this.rttHop = `${name}.rtt`;
    this.writeHop = `${name}.write`;
  }

  /** Calls waiting for an answer. */
  get pending(): number {
    return this.waiting.size;
  }

  call(request: Req, options: PipelineCallOptions): Promise<Res> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.reject(pipelineError(grpc.status.CANCELLED, 'the connection is closed'));
    const stream = this.stream ?? this.openStream();
    const id = this.takeId();
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          if (this.settle(id)) reject(pipelineError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
        },
        Math.max(1, options.timeoutMs),
      );
      let onAbort: (() => void) | undefined;
      if (signal) {
        onAbort = () => {
          if (this.settle(id)) reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const started = hopStart();
      this.waiting.set(id, { resolve, reject, timer, signal, onAbort, started });
      stream.write({ id, request });
      hopEnd(this.writeHop, started);
    });
  }

  /** Cancels the stream; waiting calls fail CANCELLED; later calls are refused. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const stream = this.stream;
    this.stream = undefined;
    this.failAll(pipelineError(grpc.status.CANCELLED, 'the connection was closed'));
    stream?.cancel();
  }

  private takeId(): number {
    // Skip ids still waiting (only after 2^32 calls on one stream with a call left hanging).
    do this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    while (this.waiting.has(this.nextId));
    return this.nextId;
  }

  private openStream(): grpc.ClientDuplexStream<PipelineCall<Req>, PipelineReply<Res>> {
    const stream = this.open();
    this.stream = stream;
    const broken = (error: grpc.ServiceError): void => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.failAll(error);
    };
    stream.on('data', (reply: PipelineReply<Res>) => {
      const id = reply.id ?? 0;
      const waiting = this.waiting.get(id);
      if (!waiting || !this.settle(id)) return;
      hopEnd(this.rttHop, waiting.started);
      if (reply.error && reply.error.code) {
        waiting.reject(pipelineError(reply.error.code as grpc.status, reply.error.details ?? ''));
      } else if (reply.response) {
        waiting.resolve(reply.response);
      } else {
        waiting.reject(pipelineError(grpc.status.INTERNAL, `answer ${id} carried neither a response nor an error`));
      }
    });
    stream.on('error', (err: grpc.ServiceError) => broken(err));
    stream.on('end', () => broken(pipelineError(grpc.status.UNAVAILABLE, 'the peer ended the stream')));
    stream.on('close', () => broken(pipelineError(grpc.status.UNAVAILABLE, 'the stream closed')));
    return stream;
  }

  /** Removes a waiting call (clearing its timer and abort listener); false if it was not waiting. */
  private settle(id: number): boolean {
    const waiting = this.waiting.get(id);
    if (!waiting) return false;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    if (waiting.onAbort) waiting.signal!.removeEventListener('abort', waiting.onAbort);
    return true;
  }

  private failAll(error: grpc.ServiceError): void {
    for (const [id, waiting] of [...this.waiting]) {
      this.settle(id);
      waiting.reject(error);
    }
  }
}
