/**
 * Pipelined calls (proto/samsa/v1/pipeline.proto): many request/answer pairs of one RPC over one
 * long-lived gRPC bidirectional stream, so a hot path pays for an HTTP/2 stream once instead of per
 * call. This is the server half (the client half, PipelinedClient, is in @samsa/protocol); the
 * services pass the same handler they serve unary calls with.
 *
 * Server (pipelinedHandler), per stream:
 *   serving   each `{ id, request }` runs the handler; its answer is written as `{ id, response }`
 *             when ready, a thrown error as `{ id, error: INTERNAL }`, in completion order.
 *   draining  PipelineHub.drain() (shutdown): new calls are answered UNAVAILABLE, and the stream
 *             is ended once its open calls have answered, so grpc-js's tryShutdown can finish.
 *   gone      the client went away (cancelled, error, end): answers still to come are dropped.
 */
import * as grpc from '@grpc/grpc-js';
import { REQUEST_COST_ENABLED, hopEnd, hopStart, type PipelineCall, type PipelineReply } from '@samsa/protocol';

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
 * in rpcMetrics.ts, a gate from the broker), since wrapping it as a unary handler would not work.
 */
export const PIPELINED = Symbol('samsa.pipelined');

export interface PipelinedHandler<Req, Res> extends grpc.handleBidiStreamingCall<PipelineCall<Req>, PipelineReply<Res>> {
  [PIPELINED]: (more: PipelinedHandlerOptions) => PipelinedHandler<Req, Res>;
}

/** The server side of a pipelined method: `fn` answers each call as the unary handler would. */
export function pipelinedHandler<Req, Res>(
  method: string,
  /** `call` is the stream the request came on (its peer and principal, for authorization). */
  fn: (request: Req, call: grpc.ServerDuplexStream<unknown, unknown>) => Promise<Res> | Res,
  options: PipelinedHandlerOptions = {},
): PipelinedHandler<Req, Res> {
  const { observe, gate } = options;
  // Per-hop timing (request-cost benchmark, @samsa/protocol requestCost.ts): off by default.
  const serveHop = `${method}.serve`;
  const writeHop = `${method}.write`;
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
    const stream = {
      drain: () => {
        draining = true;
        maybeEnd();
      },
    };
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
      const started = observe || REQUEST_COST_ENABLED ? process.hrtime.bigint() : 0n;
      const answer = (reply: PipelineReply<Res>, code: string): void => {
        open--;
        if (observe) observe(code, Number(process.hrtime.bigint() - started) / 1e9);
        hopEnd(serveHop, started);
        const writing = hopStart();
        if (!gone && !ended) call.write(reply);
        hopEnd(writeHop, writing);
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
        result = fn(request, call as grpc.ServerDuplexStream<unknown, unknown>);
      } catch (err) {
        fail(err);
        return;
      }
      if (result instanceof Promise) result.then((response) => answer({ id, response }, 'OK'), fail);
      else answer({ id, response: result }, 'OK');

      function fail(err: unknown): void {
        options.onError?.(err, method);
        answer(
          { id, error: { code: grpc.status.INTERNAL, details: `${method} failed: ${err instanceof Error ? err.message : String(err)}` } },
          'INTERNAL',
        );
      }
    });
  }) as PipelinedHandler<Req, Res>;
  handler[PIPELINED] = (more) => pipelinedHandler(method, fn, { ...options, ...more });
  return handler;
}
