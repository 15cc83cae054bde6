/**
 * instrumentHandlers: every unary handler reports its service, method, status and latency once,
 * whether it answers OK, with an error, or throws; the answer reaches the caller unchanged.
 */
import { describe, expect, it } from 'vitest';
import { grpc } from '@samsa/protocol';
import { instrumentHandlers, instrumentServer } from '../src/index.js';

const service = {
  Produce: { path: '/samsa.v1.Samsa/Produce', requestStream: false, responseStream: false, originalName: 'produce' },
  Watch: { path: '/samsa.v1.Samsa/Watch', requestStream: false, responseStream: true, originalName: 'watch' },
} as unknown as grpc.ServiceDefinition;

type Observed = [string, string, string, number];

function observer(into: Observed[]) {
  return {
    observe: (s: string, m: string, c: string, secs: number) => {
      into.push([s, m, c, secs]);
    },
  };
}

function call(handler: grpc.UntypedHandleCall): Promise<{ err: unknown; value: unknown }> {
  return new Promise((resolve) =>
    (handler as grpc.handleUnaryCall<unknown, unknown>)({} as grpc.ServerUnaryCall<unknown, unknown>, (err, value) =>
      resolve({ err, value }),
    ),
  );
}

describe('instrumentHandlers', () => {
  it('reports OK with the latency and passes the answer through', async () => {
    const seen: Observed[] = [];
    const wrapped = instrumentHandlers(
      service,
      {
        Produce: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => setTimeout(() => cb(null, { ok: 1 }), 20),
      },
      observer(seen),
    );
    expect(await call(wrapped.Produce!)).toEqual({ err: null, value: { ok: 1 } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.slice(0, 3)).toEqual(['samsa.v1.Samsa', 'Produce', 'OK']);
    expect(seen[0]![3]).toBeGreaterThanOrEqual(0.015);
  });

  it('reports the gRPC status name of an error answer', async () => {
    const seen: Observed[] = [];
    const wrapped = instrumentHandlers(
      service,
      {
        Produce: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNAVAILABLE, details: 'starting' }),
      },
      observer(seen),
    );
    const { err } = await call(wrapped.Produce!);
    expect((err as { details: string }).details).toBe('starting');
    expect(seen.map((s) => s[2])).toEqual(['UNAVAILABLE']);
  });

  it('reports a handler that throws as UNKNOWN and rethrows', () => {
    const seen: Observed[] = [];
    const wrapped = instrumentHandlers(
      service,
      {
        produce: () => {
          throw new Error('boom');
        },
      },
      observer(seen),
    );
    // Found under its original (camelCase) name, as grpc-js would.
    expect(() =>
      (wrapped.produce as grpc.handleUnaryCall<unknown, unknown>)({} as grpc.ServerUnaryCall<unknown, unknown>, () => undefined),
    ).toThrow('boom');
    expect(seen.map((s) => s.slice(0, 3))).toEqual([['samsa.v1.Samsa', 'Produce', 'UNKNOWN']]);
  });

  it('leaves streaming handlers alone', () => {
    const watch = () => undefined;
    expect(instrumentHandlers(service, { Watch: watch }, observer([])).Watch).toBe(watch);
  });

  it('instrumentServer wraps every service added afterwards', () => {
    const added: grpc.UntypedServiceImplementation[] = [];
    const server = {
      addService: (_s: unknown, impl: grpc.UntypedServiceImplementation) => {
        added.push(impl);
      },
    } as unknown as grpc.Server;
    const seen: Observed[] = [];
    instrumentServer(server, observer(seen));
    server.addService(service, { Produce: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}) });
    (added[0]!.Produce as grpc.handleUnaryCall<unknown, unknown>)({} as grpc.ServerUnaryCall<unknown, unknown>, () => undefined);
    expect(seen.map((s) => s[1])).toEqual(['Produce']);
  });
});
