/**
 * The broker widens each HTTP/2 session's flow-control window from the first call on it, reaching
 * the session through grpc-js internals. These tests pin that path down, so a grpc-js upgrade that
 * moves it fails here instead of silently falling back to 64 KiB windows (a large produce slowdown).
 */
import type { Http2Session } from 'node:http2';
import { CHANNEL_OPTIONS, clientProto, grpc, type SamsaClient } from '@samsa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_FLOW_CONTROL_WINDOW, widenFlowControlWindow } from '../src/server/flowControl.js';

interface Seen {
  initialWindowSize: number | undefined;
  connectionWindow: number | undefined;
}

let server: grpc.Server | undefined;
let client: SamsaClient | undefined;

afterEach(() => {
  client?.close();
  server?.forceShutdown();
  client = undefined;
  server = undefined;
});

/** A server whose Metadata handler widens the window, then reports what the session shows. */
async function start(options: grpc.ServerOptions): Promise<{ seen: Seen[]; metadata: () => Promise<void> }> {
  const seen: Seen[] = [];
  server = new grpc.Server(options);
  server.addService(clientProto().samsa.v1.Samsa.service, {
    Metadata: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      widenFlowControlWindow(call);
      // The same internal path flowControl.ts walks (tests may know internals; the code checks).
      let c = (call as unknown as { call: { stream?: { session: Http2Session }; nextCall?: unknown } }).call;
      while (!c.stream) c = c.nextCall as typeof c;
      const session = c.stream.session;
      seen.push({ initialWindowSize: session.localSettings.initialWindowSize, connectionWindow: session.state.localWindowSize });
      callback(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  client = new (clientProto().samsa.v1.Samsa)(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  const metadata = () => new Promise<void>((resolve, reject) => client!.Metadata({}, (err) => (err ? reject(err) : resolve())));
  return { seen, metadata };
}

describe('widenFlowControlWindow', () => {
  it('is configured far above the HTTP/2 default of 64 KiB', () => {
    expect(SERVER_FLOW_CONTROL_WINDOW).toBeGreaterThanOrEqual(1024 * 1024);
  });

  for (const [name, options] of [
    ['a plain server', CHANNEL_OPTIONS],
    [
      'a server with an interceptor',
      {
        ...CHANNEL_OPTIONS,
        interceptors: [(_method: unknown, call: grpc.ServerInterceptingCallInterface) => new grpc.ServerInterceptingCall(call)],
      },
    ],
  ] as const) {
    it(`raises the stream and connection windows of ${name}'s session`, async () => {
      const { seen, metadata } = await start(options as grpc.ServerOptions);
      await metadata();
      // The client acknowledges the new SETTINGS before it sends the second call on the connection.
      await metadata();
      expect(seen[0]!.connectionWindow).toBeGreaterThan(SERVER_FLOW_CONTROL_WINDOW / 2);
      expect(seen[1]!.initialWindowSize).toBe(SERVER_FLOW_CONTROL_WINDOW);
      expect(seen[1]!.connectionWindow).toBeGreaterThan(SERVER_FLOW_CONTROL_WINDOW / 2);
    });
  }

  it('ignores anything that is not a grpc-js server call', () => {
    expect(() => widenFlowControlWindow(undefined)).not.toThrow();
    expect(() => widenFlowControlWindow({})).not.toThrow();
    expect(() => widenFlowControlWindow({ call: { nextCall: { nextCall: {} } } })).not.toThrow();
  });
});
