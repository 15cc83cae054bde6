/**
 * Pipelined calls (proto/samsa/v1/pipeline.proto): many request/answer pairs of one RPC over one
 * long-lived gRPC bidirectional stream, so a hot path pays for an HTTP/2 stream once instead of per
 * call. Both ends live here; the services pass the same handler they serve unary calls with.
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
 * Server (pipelinedHandler), per stream:
 *   serving   each `{ id, request }` runs the handler; its answer is written as `{ id, response }`
 *             when ready, a thrown error as `{ id, error: INTERNAL }`, in completion order.
 *   draining  PipelineHub.drain() (shutdown): new calls are answered UNAVAILABLE, and the stream
 *             is ended once its open calls have answered, so grpc-js's tryShutdown can finish.
 *   gone      the client went away (cancelled, error, end): answers still to come are dropped.
 */
import * as grpc from '@grpc/grpc-js';

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

  constructor(private readonly open: OpenPipeline<Req, Res>) {}

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
      const timer = setTimeout(() => {
        if (this.settle(id)) reject(pipelineError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      }, Math.max(1, options.timeoutMs));
      let onAbort: (() => void) | undefined;
      if (signal) {
        onAbort = () => { if (this.settle(id)) reject(signal.reason); };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.waiting.set(id, { resolve, reject, timer, signal, onAbort });
      stream.write({ id, request });
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
    do this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1; while (this.waiting.has(this.nextId));
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

type ServerStream<Req, Res> = grpc.ServerDuplexStream<PipelineCall<Req>, PipelineReply<Res>>;

/** Open server streams, so a shutting-down server can end them (see the header). */
export class PipelineHub {
  private readonly streams = new Set<{ drain: () => void }>();
  private draining = false;

  get isDraining(): boolean {
    return this.draining;
  }

  /** @internal */
  add(stream: { drain: () => void }): () => void {
    this.streams.add(stream);
    if (this.draining) stream.drain();
    return () => this.streams.delete(stream);
  }

  /** Answers new calls UNAVAILABLE and ends every stream once its open calls answered. */
  drain(): void {
    this.draining = true;
    for (const s of [...this.streams]) s.drain();
  }
}

export interface PipelinedHandlerOptions {
  /** Told about a handler that threw (the call is answered INTERNAL). */
  onError?: (error: unknown, method: string) => void;
  hub?: PipelineHub;
  /** Per answered call: its gRPC status name and seconds from arrival to answer (metrics). */
  observe?: (code: string, seconds: number) => void;
  /** Run once per new stream with the grpc-js call (e.g. to widen its flow-control window). */
  onStream?: (call: ServerStream<unknown, unknown>) => void;
  /** Asked per call: a reason to refuse it UNAVAILABLE (e.g. still starting), or undefined to serve it. */
  gate?: () => string | undefined;
}

/**
 * Marks a pipelined handler and rebuilds it with more options (an observer from instrumentHandlers
 * in metrics.ts, a gate from the broker), since wrapping it as a unary handler would not work.
 */
export const PIPELINED = Symbol('samsa.pipelined');

export interface PipelinedHandler<Req, Res> extends grpc.handleBidiStreamingCall<PipelineCall<Req>, PipelineReply<Res>> {
  [PIPELINED]: (more: PipelinedHandlerOptions) => PipelinedHandler<Req, Res>;
}

/** The server side of a pipelined method: `fn` answers each call as the unary handler would. */
export function pipelinedHandler<Req, Res>(
  method: string,
  fn: (request: Req) => Promise<Res> | Res,
  options: PipelinedHandlerOptions = {},
): PipelinedHandler<Req, Res> {
  const { observe, gate } = options;
  const handler = ((call: ServerStream<Req, Res>): void => {
    options.onStream?.(call as ServerStream<unknown, unknown>);
    let open = 0;
    let draining = false;
    let gone = false;
    let ended = false;
    const maybeEnd = (): void => {
      if (draining && open === 0 && !gone && !ended) {
        ended = true;
        call.end();
      }
    };
    const stream = { drain: () => { draining = true; maybeEnd(); } };
    const remove = options.hub?.add(stream);
    const leave = (): void => {
      gone = true;
      remove?.();
    };
    call.on('error', leave);
    call.on('cancelled', leave);
    call.on('end', () => {
      // The client half-closed: answer what is open, then end our half.
      draining = true;
      remove?.();
      maybeEnd();
    });
    call.on('data', (message: PipelineCall<Req>) => {
      const id = message.id ?? 0;
      const started = observe ? process.hrtime.bigint() : 0n;
      const answer = (reply: PipelineReply<Res>, code: string): void => {
        open--;
        if (observe) observe(code, Number(process.hrtime.bigint() - started) / 1e9);
        if (!gone && !ended) call.write(reply);
        maybeEnd();
      };
      open++;
      if (draining) {
        answer({ id, error: { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' } }, 'UNAVAILABLE');
        return;
      }
      const refused = gate?.();
      if (refused !== undefined) {
        answer({ id, error: { code: grpc.status.UNAVAILABLE, details: refused } }, 'UNAVAILABLE');
        return;
      }
      if (!message.request) {
        answer({ id, error: { code: grpc.status.INVALID_ARGUMENT, details: `${method}: call ${id} has no request` } }, 'INVALID_ARGUMENT');
        return;
      }
      const request = message.request;
      let result: Promise<Res> | Res;
      try {
        result = fn(request);
      } catch (err) {
        fail(err);
        return;
      }
      if (result instanceof Promise) result.then((response) => answer({ id, response }, 'OK'), fail);
      else answer({ id, response: result }, 'OK');

      function fail(err: unknown): void {
        options.onError?.(err, method);
        answer({ id, error: { code: grpc.status.INTERNAL, details: `${method} failed: ${err instanceof Error ? err.message : String(err)}` } }, 'INTERNAL');
      }
    });
  }) as PipelinedHandler<Req, Res>;
  handler[PIPELINED] = (more) => pipelinedHandler(method, fn, { ...options, ...more });
  return handler;
}
