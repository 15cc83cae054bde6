/**
 * HTTP/2 flow control for the broker's gRPC server.
 *
 * A produce request body flows client -> broker, so its pace is set by the window the *broker*
 * advertises. Node's HTTP/2 default is 64 KiB for each stream and for the whole connection, so a
 * 256 KiB batch needs several WINDOW_UPDATE round trips, and each one waits for a turn of both
 * event loops. With a busy producer (building batches, GC) that stalled the pipe: the broker sat
 * ~70% idle at ~50 MB/s. Clients raise their receive window with `grpc-node.flow_control_window`
 * (CHANNEL_OPTIONS), but grpc-js 1.14 ignores that option on the server (grpc/grpc-node#3058, open,
 * adds it). Until it lands we widen each server session once, from the first call on it.
 *
 * This reaches into grpc-js internals (ServerUnaryCall.call -> ...nextCall -> .stream.session), so
 * every step is feature-checked: if the shape changes, we silently keep the 64 KiB default (slower,
 * never wrong). Flow control never changes what is delivered, only when.
 */
import type { Http2Session } from 'node:http2';
import { CHANNEL_OPTIONS } from '@samsa/protocol';
import { type PipelineHub, type PipelinedHandlerOptions } from '@samsa/server';
import type { Logger } from 'pino';

/** Bytes the broker lets a client send ahead, per stream and per connection. */
export const SERVER_FLOW_CONTROL_WINDOW: number = CHANNEL_OPTIONS['grpc-node.flow_control_window'] ?? 65_535;

const widened = new WeakSet<Http2Session>();

interface MaybeInterceptingCall {
  stream?: { session?: Http2Session };
  nextCall?: MaybeInterceptingCall;
}

/** The HTTP/2 session a grpc-js server call arrived on, if it can be found. */
function sessionOf(call: unknown): Http2Session | undefined {
  let c = (call as { call?: MaybeInterceptingCall } | null)?.call;
  // Server interceptors wrap the base call in ServerInterceptingCall(nextCall); walk down a few.
  for (let depth = 0; c && depth < 8; depth++) {
    const session = c.stream?.session;
    if (session) return session;
    c = c.nextCall;
  }
  return undefined;
}

/**
 * Raises the session's stream window (SETTINGS_INITIAL_WINDOW_SIZE, which also applies to streams
 * already open) and its connection window, the first time a call arrives on it. Cheap afterwards.
 */
export function widenFlowControlWindow(call: unknown, window = SERVER_FLOW_CONTROL_WINDOW): void {
  if (window <= 65_535) return;
  const session = sessionOf(call);
  if (!session || widened.has(session)) return;
  widened.add(session);
  if (session.destroyed || session.closed) return;
  try {
    session.settings({ initialWindowSize: window });
    session.setLocalWindowSize(window);
  } catch {
    // A session closing under us, or an HTTP/2 implementation without these: keep the defaults.
  }
}

/**
 * What every pipelined method of the broker shares (pipeline.ts): its streams registered with the
 * hub that drains them at shutdown, a failed call logged, and each new stream's session widened.
 */
export function brokerPipelineOptions(logger: Logger, hub: PipelineHub | undefined): PipelinedHandlerOptions {
  return {
    ...(hub ? { hub } : {}),
    onError: (err, rpc) => logger.error({ err, rpc }, 'request failed'),
    onStream: widenFlowControlWindow,
  };
}
