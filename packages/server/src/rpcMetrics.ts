/**
 * Per-RPC instrumentation of a gRPC server, applied once where the server is made
 * (`instrumentServer`): every unary handler of every service added afterwards reports its
 * service, method, gRPC status and latency to an observer, so no handler needs to know.
 * `rpcObserver(registry)` is the one observer brokers and controllers use: it feeds prom-client
 * with the metric definitions below, created once per registry so a combined node shares them.
 */
import * as grpc from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { PIPELINED, type PipelinedHandler } from './pipeline.js';

export interface RpcObserver {
  /** One finished call: `code` is the gRPC status name (OK, UNAVAILABLE, ...). */
  observe(service: string, method: string, code: string, seconds: number): void;
}

/**
 * The RPC metrics every node exposes, defined once so a combined node (broker and controller in
 * one process, one registry) registers them once and both roles feed the same series.
 */
export const RPC_METRICS = {
  requests: {
    name: 'samsa_rpc_requests_total',
    help: 'gRPC calls served, by service, method and gRPC status code',
    labelNames: ['service', 'method', 'code'] as const,
  },
  duration: {
    name: 'samsa_rpc_request_duration_seconds',
    help: 'gRPC call latency from the handler being called to its answer (long polls included), by service and method',
    labelNames: ['service', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
};

/**
 * The RPC metrics in `registry`, created on first use: a combined node's broker and controller
 * share them, so both roles feed the same series.
 */
export function rpcObserver(registry: Registry): RpcObserver {
  const requests =
    (registry.getSingleMetric(RPC_METRICS.requests.name) as Counter<'service' | 'method' | 'code'> | undefined) ??
    new Counter({ ...RPC_METRICS.requests, labelNames: [...RPC_METRICS.requests.labelNames], registers: [registry] });
  const duration =
    (registry.getSingleMetric(RPC_METRICS.duration.name) as Histogram<'service' | 'method'> | undefined) ??
    new Histogram({ ...RPC_METRICS.duration, labelNames: [...RPC_METRICS.duration.labelNames], registers: [registry] });
  return {
    observe(service, method, code, seconds) {
      requests.inc({ service, method, code });
      duration.observe({ service, method }, seconds);
    },
  };
}

/** Wraps `server.addService` so every service added from now on is instrumented. */
export function instrumentServer(server: grpc.Server, observer: RpcObserver): void {
  const addService = server.addService.bind(server);
  server.addService = (service, implementation) => addService(service, instrumentHandlers(service, implementation, observer));
}

/**
 * The same handlers, each reporting to `observer` when it answers. A pipelined method
 * (pipeline.ts) reports each call on its stream, under the unary method's name; other streaming
 * methods are left as they are.
 */
export function instrumentHandlers(
  service: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
  observer: RpcObserver,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [name, def] of Object.entries(service)) {
    // grpc-js looks a handler up by the method's name, then by its original (camelCase) name.
    const key = implementation[name] !== undefined ? name : typeof def.originalName === 'string' ? def.originalName : name;
    const handler = implementation[key];
    if (handler === undefined) continue;
    const { serviceName, methodName } = splitPath(def.path, name);
    const pipelined = (handler as Partial<PipelinedHandler<unknown, unknown>>)[PIPELINED];
    if (pipelined) {
      // Under its unary twin's name (ProduceStream → Produce): a dashboard counts produce calls
      // whichever way they came.
      const unaryName = methodName.replace(/Stream$/, '');
      out[key] = pipelined({
        observe: (code, seconds) => observer.observe(serviceName, unaryName, code, seconds),
      }) as grpc.UntypedHandleCall;
      continue;
    }
    if (def.requestStream || def.responseStream) continue;
    out[key] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const started = process.hrtime.bigint();
      let reported = false;
      const report = (code: string): void => {
        if (reported) return;
        reported = true;
        observer.observe(serviceName, methodName, code, Number(process.hrtime.bigint() - started) / 1e9);
      };
      const answer: grpc.sendUnaryData<unknown> = (err, value, trailer, flags) => {
        report(err ? statusName(err.code) : 'OK');
        callback(err, value, trailer, flags);
      };
      try {
        (handler as grpc.handleUnaryCall<unknown, unknown>).call(implementation, call, answer);
      } catch (err) {
        report('UNKNOWN');
        throw err;
      }
    }) as grpc.UntypedHandleCall;
  }
  return out;
}

/** '/samsa.v1.Samsa/Produce' → samsa.v1.Samsa, Produce. */
function splitPath(path: string, fallback: string): { serviceName: string; methodName: string } {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? { serviceName: match[1]!, methodName: match[2]! } : { serviceName: 'unknown', methodName: fallback };
}

function statusName(code: number | undefined): string {
  const name = code === undefined ? undefined : (grpc.status as unknown as Record<number, string>)[code];
  return name ?? 'UNKNOWN';
}
