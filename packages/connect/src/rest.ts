/**
 * Kafka Connect's REST API (`ConnectorsResource`, `ConnectorPluginsResource`, `RootResource`) over
 * node:http: the same paths, status codes and JSON shapes, errors as `{ error_code, message }`
 * (Kafka's `ErrorMessage`). Also `/metrics` (Prometheus text) for this worker.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectRestError, ForwardRequest, type Herder, type TargetState } from './herder.js';
import type { ConnectMetrics } from './metrics.js';

export const CONNECT_VERSION = '0.1.0';

export interface RestServerOptions {
  herder: Herder;
  metrics: ConnectMetrics;
  host: string;
  port: number;
  kafkaClusterId: () => string;
}

type Handler = (ctx: {
  params: string[];
  query: URLSearchParams;
  body: () => Promise<unknown>;
}) => Promise<{ status: number; body?: unknown }>;

function bool(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? 'false').toLowerCase() === 'true';
}

function stringMap(body: unknown, allowNull = false): Record<string, string> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ConnectRestError(400, 'Request body must be a JSON object of config properties');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === null && allowNull) out[k] = null as unknown as string;
    else if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new ConnectRestError(400, `Config property ${k} must be a string`);
  }
  return out;
}

function taskId(s: string): number {
  if (!/^\d+$/.test(s)) throw new ConnectRestError(404, `Task not found: ${s}`);
  return Number(s);
}

export class ConnectRestServer {
  private server: Server | undefined;
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];

  constructor(private readonly opts: RestServerOptions) {
    const h = opts.herder;
    const route = (method: string, path: string, handler: Handler) => {
      this.routes.push({ method, pattern: new RegExp(`^${path.replace(/\{[a-z]+\}/g, '([^/]+)')}/?$`), handler });
    };
    route('GET', '/', async () => ({
      status: 200,
      body: { version: CONNECT_VERSION, commit: 'samsa', kafka_cluster_id: opts.kafkaClusterId() },
    }));
    route('GET', '/connectors', async ({ query }) => {
      const expand = query.getAll('expand');
      const names = h.connectorNames();
      if (expand.length === 0) return { status: 200, body: names };
      const out: Record<string, Record<string, unknown>> = {};
      for (const n of names) {
        const e: Record<string, unknown> = {};
        if (expand.includes('status')) e.status = h.connectorStatus(n);
        if (expand.includes('info')) e.info = h.connectorInfo(n);
        out[n] = e;
      }
      return { status: 200, body: out };
    });
    route('POST', '/connectors', async ({ body }) => {
      const req = (await body()) as { name?: unknown; config?: unknown; initial_state?: unknown } | null;
      const config = stringMap(req?.config ?? {});
      const name = typeof req?.name === 'string' ? req.name : config.name;
      if (typeof name !== 'string') throw new ConnectRestError(400, 'Connector name must be specified');
      const initial = typeof req?.initial_state === 'string' ? req.initial_state.toUpperCase() : 'RUNNING';
      const target: TargetState = initial === 'PAUSED' ? 'PAUSED' : initial === 'STOPPED' ? 'STOPPED' : 'STARTED';
      const { info } = await h.putConnectorConfig(name, config, false, target);
      return { status: 201, body: info };
    });
    route('GET', '/connectors/{name}', async ({ params }) => ({ status: 200, body: h.connectorInfo(params[0]!) }));
    route('DELETE', '/connectors/{name}', async ({ params }) => {
      await h.deleteConnector(params[0]!);
      return { status: 204 };
    });
    route('GET', '/connectors/{name}/config', async ({ params }) => ({ status: 200, body: h.connectorConfig(params[0]!) }));
    route('PUT', '/connectors/{name}/config', async ({ params, body }) => {
      const { created, info } = await h.putConnectorConfig(params[0]!, stringMap(await body()), true);
      return { status: created ? 201 : 200, body: info };
    });
    route('PATCH', '/connectors/{name}/config', async ({ params, body }) => ({
      status: 200,
      body: await h.patchConnectorConfig(params[0]!, stringMap(await body(), true)),
    }));
    route('GET', '/connectors/{name}/status', async ({ params }) => ({ status: 200, body: h.connectorStatus(params[0]!) }));
    route('POST', '/connectors/{name}/restart', async ({ params, query }) => {
      const status = await h.restartConnector(params[0]!, bool(query, 'includeTasks'), bool(query, 'onlyFailed'));
      return status ? { status: 202, body: status } : { status: 204 };
    });
    for (const [verb, target] of [
      ['pause', 'PAUSED'],
      ['resume', 'STARTED'],
      ['stop', 'STOPPED'],
    ] as const) {
      route('PUT', `/connectors/{name}/${verb}`, async ({ params }) => {
        await h.setTargetState(params[0]!, target);
        return { status: 202 };
      });
    }
    route('GET', '/connectors/{name}/tasks', async ({ params }) => ({ status: 200, body: h.taskConfigs(params[0]!) }));
    route('GET', '/connectors/{name}/tasks/{task}/status', async ({ params }) => ({
      status: 200,
      body: h.taskStatus(params[0]!, taskId(params[1]!)),
    }));
    route('POST', '/connectors/{name}/tasks/{task}/restart', async ({ params }) => {
      await h.restartTask(params[0]!, taskId(params[1]!));
      return { status: 204 };
    });
    route('GET', '/connectors/{name}/offsets', async ({ params }) => ({ status: 200, body: await h.offsets(params[0]!) }));
    route('PATCH', '/connectors/{name}/offsets', async ({ params, body }) => ({
      status: 200,
      body: await h.alterOffsets(params[0]!, await body()),
    }));
    route('DELETE', '/connectors/{name}/offsets', async ({ params }) => ({ status: 200, body: await h.resetOffsets(params[0]!) }));
    route('GET', '/connector-plugins', async () => ({ status: 200, body: h.plugins() }));
    route('PUT', '/connector-plugins/{plugin}/config/validate', async ({ params, body }) => ({
      status: 200,
      body: h.validate(params[0]!, stringMap(await body())),
    }));
    route('GET', '/metrics', async () => ({ status: 200, body: opts.metrics.render() }));
  }

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, { error_code: 500, message: err instanceof Error ? err.message : String(err) });
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://worker');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = async (): Promise<unknown> => {
        if (text.trim() === '') return null;
        try {
          return JSON.parse(text);
        } catch (err) {
          throw new ConnectRestError(400, `Cannot deserialize JSON request body: ${(err as Error).message}`);
        }
      };
      try {
        const result = await r.handler({ params: m.slice(1).map(decodeURIComponent), query: url.searchParams, body });
        this.send(res, result.status, result.body);
      } catch (err) {
        if (err instanceof ForwardRequest) {
          // Kafka Connect forwards to the leader (or the owner) and relays its answer.
          try {
            const fwd = await fetch(`${err.url}${url.pathname}${url.search}`, {
              method: req.method!,
              headers: { 'content-type': 'application/json' },
              ...(text === '' ? {} : { body: text }),
              signal: AbortSignal.timeout(60_000),
            });
            const answer = await fwd.text();
            res.writeHead(fwd.status, { 'content-type': fwd.headers.get('content-type') ?? 'application/json' }).end(answer);
          } catch (fwdErr) {
            this.send(res, 500, {
              error_code: 500,
              message: `Error trying to forward REST request: ${fwdErr instanceof Error ? fwdErr.message : String(fwdErr)}`,
            });
          }
        } else if (err instanceof ConnectRestError) this.send(res, err.status, { error_code: err.status, message: err.message });
        else this.send(res, 500, { error_code: 500, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    if (pathMatched) this.send(res, 405, { error_code: 405, message: 'HTTP 405 Method Not Allowed' });
    else this.send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    if (typeof body === 'string') {
      res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
