/**
 * The console's HTTP server (node:http): routes `/api/*` to ConsoleApi, serves the built front end
 * from web/dist (no CDN, no outside URL), and answers every failure as JSON with a Kafka error
 * code. Binds to 127.0.0.1 unless told otherwise. Live views poll the JSON endpoints every second;
 * the API caches what many browsers ask at once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '@samsa/protocol';
import { ConsoleApi, type ConsoleApiOptions } from './api.js';
import { ConsoleError, badRequest, toErrorBody } from './errors.js';

/** The front end that `node scripts/bootstrap.mjs` builds (vite build). */
export const WEB_DIST = fileURLToPath(new URL('../web/dist', import.meta.url));

export interface ConsoleServerOptions extends ConsoleApiOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  webDir?: string;
}

export interface ConsoleServer {
  url: string;
  api: ConsoleApi;
  server: Server;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

const MAX_BODY = 1024 * 1024;

type Handler = (api: ConsoleApi, params: string[], url: URL, body: () => Promise<Record<string, unknown>>) => Promise<unknown>;

/** Method, path pattern (segments; ':' is a parameter) and handler. */
const ROUTES: Array<[string, string, Handler]> = [
  ['GET', '/api/overview', (api) => api.overview()],
  ['GET', '/api/topics', (api, _p, url) => api.topics(url.searchParams)],
  ['POST', '/api/topics', async (api, _p, _u, body) => api.createTopic(await body())],
  ['GET', '/api/topics/:', (api, [name], url) => api.topic(name!, url.searchParams)],
  ['DELETE', '/api/topics/:', (api, [name]) => api.deleteTopic(name!)],
  ['GET', '/api/topics/:/configs', (api, [name]) => api.configs(name!)],
  ['PATCH', '/api/topics/:/configs', async (api, [name], _u, body) => api.alterConfigs(name!, await body())],
  ['POST', '/api/topics/:/partitions', (api, [name]) => Promise.resolve().then(() => api.addPartitions(name!))],
  ['GET', '/api/topics/:/messages', (api, [name], url) => api.messages(name!, url.searchParams)],
  ['POST', '/api/topics/:/messages', async (api, [name], _u, body) => api.produce(name!, await body())],
  ['GET', '/api/groups', (api) => api.groups()],
  ['GET', '/api/groups/:', (api, [id]) => api.group(id!)],
  ['POST', '/api/groups/:/reset-offsets', async (api, [id], _u, body) => api.resetOffsets(id!, await body())],
  ['GET', '/api/metrics', (api) => api.metrics()],
  ['GET', '/api/schemas/subjects', (api) => api.ecosystem.subjects()],
  ['GET', '/api/schemas/subjects/:/versions', (api, [s]) => api.ecosystem.versions(s!)],
  ['GET', '/api/schemas/subjects/:/versions/:', (api, [s, v]) => api.ecosystem.version(s!, v!)],
  ['GET', '/api/schemas/subjects/:/diff', (api, [s], url) => api.ecosystem.diff(s!, url.searchParams)],
  ['POST', '/api/schemas/subjects/:/versions', async (api, [s], _u, body) => api.ecosystem.register(s!, await body())],
  ['POST', '/api/schemas/subjects/:/compatibility', async (api, [s], _u, body) => api.ecosystem.compatibility(s!, await body())],
  ['GET', '/api/connect/connectors', (api) => api.ecosystem.connectors()],
  ['POST', '/api/connect/connectors/:/:', (api, [n, action]) => api.ecosystem.connectorAction(n!, action!)],
];

function match(pattern: string, path: string): string[] | undefined {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ':') {
      if (s[i] === '') return undefined;
      params.push(decodeURIComponent(s[i]!));
    } else if (p[i] !== s[i]) return undefined;
  }
  return params;
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(badRequest('the request body is larger than 1 MiB'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve({});
        return;
      }
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(badRequest('the request body must be a JSON object'));
      }
    });
  });
}

/** JSON with int64s as strings. */
function send(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

function serveStatic(webDir: string, path: string, res: ServerResponse): void {
  const rel = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
  let file = join(webDir, rel);
  if (!file.startsWith(webDir + sep) && file !== webDir) {
    res.writeHead(403).end();
    return;
  }
  // Client-side routes (#/topics ...) all load index.html.
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(webDir, 'index.html');
  if (!existsSync(file)) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('The console front end is not built: run node scripts/bootstrap.mjs\n');
    return;
  }
  res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}

export async function startConsoleServer(opts: ConsoleServerOptions): Promise<ConsoleServer> {
  const api = new ConsoleApi(opts);
  const webDir = opts.webDir ?? WEB_DIST;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (!url.pathname.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, toErrorBody(badRequest(`${req.method} is not allowed here`)).body);
        return;
      }
      serveStatic(webDir, url.pathname, res);
      return;
    }
    const path = url.pathname.replace(/\/+$/, '');
    let found: [Handler, string[]] | undefined;
    let pathKnown = false;
    for (const [method, pattern, handler] of ROUTES) {
      const params = match(pattern, path);
      if (!params) continue;
      pathKnown = true;
      if (method === req.method) {
        found = [handler, params];
        break;
      }
    }
    if (!found) {
      const err = pathKnown
        ? new ConsoleError(405, ErrorCode.INVALID_REQUEST, `${req.method} is not allowed on ${path}`)
        : new ConsoleError(404, ErrorCode.INVALID_REQUEST, `no such endpoint: ${path}`);
      const { status, body } = toErrorBody(err);
      send(res, status, body);
      return;
    }
    const [handler, params] = found;
    handler(api, params, url, () => readBody(req)).then(
      (value) => send(res, 200, value),
      (err: unknown) => {
        const { status, body } = toErrorBody(err);
        send(res, status, body);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 8080);
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    api,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}
