/**
 * Pipelined calls over one gRPC bidirectional stream (pipeline.ts), against a real grpc-js server
 * on 127.0.0.1 with a JSON-coded test method: answers reach the right caller in any order, errors
 * and deadlines fail only their own call, a broken stream fails what is open and the next call
 * opens a new one, and a draining server answers what it holds, refuses the rest and ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { PipelinedClient, grpc, type PipelineCall, type PipelineReply } from '@samsa/protocol';
import { PipelineHub, instrumentHandlers, pipelinedHandler, type PipelinedHandlerOptions } from '../src/index.js';

interface Req {
  n: number;
  delayMs?: number;
  fail?: string;
  hang?: boolean;
}
interface Res {
  n: number;
  doubled: number;
}

const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
const service = {
  EchoStream: {
    path: '/samsa.test.Echo/EchoStream',
    requestStream: true,
    responseStream: true,
    originalName: 'echoStream',
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} as unknown as grpc.ServiceDefinition;
const Client = grpc.makeGenericClientConstructor(service as grpc.ServiceDefinition, 'Echo');
type Stream = grpc.ClientDuplexStream<PipelineCall<Req>, PipelineReply<Res>>;

/** What the test server has received and answered (the `n` of each call), for tests to wait on. */
const received: number[] = [];
const answered: number[] = [];

async function answer(req: Req): Promise<Res> {
  received.push(req.n);
  if (req.hang) return new Promise<Res>(() => undefined);
  if (req.delayMs) await new Promise((r) => setTimeout(r, req.delayMs));
  if (req.fail) throw new Error(req.fail);
  answered.push(req.n);
  return { n: req.n, doubled: req.n * 2 };
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
  received.length = 0;
  answered.length = 0;
});

async function serve(options: PipelinedHandlerOptions = {}, port = 0, wrap = (h: grpc.UntypedServiceImplementation) => h) {
  const server = new grpc.Server();
  server.addService(service, wrap({ EchoStream: pipelinedHandler('EchoStream', answer, options) as grpc.UntypedHandleCall }));
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  cleanup.push(() => server.forceShutdown());
  return { server, port: bound };
}

function connect(port: number) {
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let opened = 0;
  const pipe = new PipelinedClient<Req, Res>(() => {
    opened++;
    return (client as unknown as { EchoStream: () => Stream }).EchoStream();
  });
  cleanup.push(() => {
    pipe.close();
    client.close();
  });
  return { pipe, opened: () => opened };
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (e: { code?: number }) => grpc.status[e.code ?? -1] ?? String(e),
  );

describe('pipelined calls', () => {
  it('answers many concurrent calls on one stream, each to its own caller, in completion order', async () => {
    const { port } = await serve();
    const { pipe, opened } = connect(port);
    const order: number[] = [];
    const calls = Array.from({ length: 50 }, (_, n) =>
      pipe.call({ n, delayMs: (50 - n) % 7 }, { timeoutMs: 5_000 }).then((r) => {
        order.push(r.n);
        return r;
      }),
    );
    const results = await Promise.all(calls);
    expect(results.map((r) => r.doubled)).toEqual(Array.from({ length: 50 }, (_, n) => n * 2));
    expect(order).not.toEqual([...order].sort((a, b) => a - b)); // answered out of order, matched by id
    expect(opened()).toBe(1);
    expect(pipe.pending).toBe(0);
  });

  it('fails only the call whose handler threw, as INTERNAL with its message', async () => {
    const errors: unknown[] = [];
    const { port } = await serve({ onError: (e) => errors.push(e) });
    const { pipe, opened } = connect(port);
    const bad = pipe.call({ n: 1, fail: 'disk on fire' }, { timeoutMs: 5_000 });
    await expect(bad).rejects.toMatchObject({ code: grpc.status.INTERNAL, details: 'EchoStream failed: disk on fire' });
    expect(await pipe.call({ n: 2 }, { timeoutMs: 5_000 })).toEqual({ n: 2, doubled: 4 });
    expect(errors).toHaveLength(1);
    expect(opened()).toBe(1);
  });

  it('times a call out with DEADLINE_EXCEEDED and keeps the stream for the others', async () => {
    const { port } = await serve();
    const { pipe, opened } = connect(port);
    const slow = pipe.call({ n: 1, delayMs: 300 }, { timeoutMs: 50 });
    const fast = pipe.call({ n: 2 }, { timeoutMs: 5_000 });
    expect(await code(slow)).toBe('DEADLINE_EXCEEDED');
    expect(await fast).toEqual({ n: 2, doubled: 4 });
    // The late answer goes out on the stream before the next call does, and is dropped.
    await waitFor('the server to send the late answer', () => answered.includes(1), 10_000, 10);
    expect(await pipe.call({ n: 3 }, { timeoutMs: 5_000 })).toEqual({ n: 3, doubled: 6 });
    expect(opened()).toBe(1);
  });

  it("rejects an aborted call with the signal's reason", async () => {
    const { port } = await serve();
    const { pipe } = connect(port);
    const abort = new AbortController();
    const call = pipe.call({ n: 1, hang: true }, { timeoutMs: 5_000, signal: abort.signal });
    abort.abort(new Error('not needed any more'));
    await expect(call).rejects.toThrow('not needed any more');
    expect(pipe.pending).toBe(0);
    await expect(pipe.call({ n: 2 }, { timeoutMs: 5_000, signal: abort.signal })).rejects.toThrow('not needed any more');
  });

  it('fails the open calls when the server goes away, and opens a new stream for the next call', async () => {
    const first = await serve();
    const { pipe, opened } = connect(first.port);
    expect(await pipe.call({ n: 1 }, { timeoutMs: 5_000 })).toEqual({ n: 1, doubled: 2 });
    const hanging = pipe.call({ n: 2, hang: true }, { timeoutMs: 10_000 });
    first.server.forceShutdown();
    expect(['UNAVAILABLE', 'CANCELLED', 'INTERNAL']).toContain(await code(hanging));
    await serve({}, first.port); // back on the same port
    const again = await waitFor('a call answered on a new stream', () => pipe.call({ n: 3 }, { timeoutMs: 2_000 }), 20_000, 100);
    expect(again).toEqual({ n: 3, doubled: 6 });
    expect(opened()).toBeGreaterThanOrEqual(2);
  });

  it('a draining server answers the calls it holds, refuses new ones UNAVAILABLE and ends the stream', async () => {
    const hub = new PipelineHub();
    const { server, port } = await serve({ hub });
    const { pipe } = connect(port);
    expect(await pipe.call({ n: 0 }, { timeoutMs: 5_000 })).toEqual({ n: 0, doubled: 0 });
    const held = pipe.call({ n: 1, delayMs: 200 }, { timeoutMs: 5_000 });
    await waitFor('the server to hold call 1', () => received.includes(1), 10_000, 10);
    const shutDown = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    hub.drain();
    const refused = code(pipe.call({ n: 2 }, { timeoutMs: 5_000 }));
    expect(await held).toEqual({ n: 1, doubled: 2 });
    expect(await refused).toBe('UNAVAILABLE');
    // tryShutdown finishes only because the stream was ended.
    await shutDown;
  });

  it("answers UNAVAILABLE with the gate's reason while gated", async () => {
    let starting = true;
    const { port } = await serve({ gate: () => (starting ? 'broker 4 is starting' : undefined) });
    const { pipe } = connect(port);
    await expect(pipe.call({ n: 1 }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: 'broker 4 is starting',
    });
    starting = false;
    expect(await pipe.call({ n: 1 }, { timeoutMs: 5_000 })).toEqual({ n: 1, doubled: 2 });
  });

  it('refuses calls after close()', async () => {
    const { port } = await serve();
    const { pipe } = connect(port);
    const open = pipe.call({ n: 1, hang: true }, { timeoutMs: 5_000 });
    pipe.close();
    expect(await code(open)).toBe('CANCELLED');
    expect(await code(pipe.call({ n: 2 }, { timeoutMs: 5_000 }))).toBe('CANCELLED');
  });

  it('instrumentHandlers reports each call on the stream with its status, under the unary name', async () => {
    const seen: Array<[string, string, string]> = [];
    const observer = {
      observe: (s: string, m: string, c: string) => {
        seen.push([s, m, c]);
      },
    };
    const { port } = await serve({}, 0, (impl) => instrumentHandlers(service, impl, observer));
    const { pipe } = connect(port);
    await pipe.call({ n: 1 }, { timeoutMs: 5_000 });
    await pipe.call({ n: 2, fail: 'no' }, { timeoutMs: 5_000 }).catch(() => undefined);
    expect(seen).toEqual([
      ['samsa.test.Echo', 'Echo', 'OK'],
      ['samsa.test.Echo', 'Echo', 'INTERNAL'],
    ]);
  });
});
