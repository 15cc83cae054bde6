/**
 * The HTTP API of Confluent's Schema Registry, v1, on node:http (mirrors its JAX-RS resources:
 * `SubjectsResource`, `SubjectVersionsResource`, `SchemasResource`, `CompatibilityResource`,
 * `ConfigResource`, `ModeResource`). Thin: parse the path, query and body, call the service, write
 * the answer or `{"error_code","message"}` with the status from the code's first three digits.
 * Writes that reach an instance that is not the writer are forwarded to the writer's URL.
 * With `tls` the server is https; with `basicAuth` every request needs valid basic credentials
 * before it is routed (Jetty's security handler runs before the resources), and a forwarded write
 * carries the caller's `Authorization` header to the writer.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { TlsOptions } from 'node:tls';
import { ErrorCode, RegistryError } from './errors.js';
import { FORMATS } from './formats.js';
import { NotWriterError } from './log.js';
import type { RegisterRequest } from './registry.js';
import { type BasicAuthConfig, checkBasicAuth } from './security.js';
import type { SchemaRegistry } from './service.js';
import type { SchemaVersion } from './state.js';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const ACCEPTED_TYPES = [
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
  'application/json',
  'application/octet-stream',
];
const FORWARDED = 'x-samsa-registry-forwarded';

type Query = URLSearchParams;
interface Req {
  method: string;
  params: string[];
  query: Query;
  body: unknown;
  raw: IncomingMessage;
  rawBody: Buffer;
}
type Handler = (r: Req) => Promise<unknown>;

function flag(q: Query, name: string): boolean {
  return q.get(name) === 'true';
}

function versionBody(v: SchemaVersion): Record<string, unknown> {
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    ...(v.schemaType !== 'AVRO' ? { schemaType: v.schemaType } : {}),
    ...(v.references.length > 0 ? { references: v.references } : {}),
    schema: v.schema,
  };
}

function registerRequest(body: unknown): RegisterRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new RegistryError(ErrorCode.INVALID_SCHEMA, 'Invalid schema: the request body must be a JSON object with a "schema" field');
  const b = body as Record<string, unknown>;
  if (typeof b.schema !== 'string') throw new RegistryError(ErrorCode.INVALID_SCHEMA, 'Invalid schema: "schema" must be a string');
  if (b.schemaType !== undefined && b.schemaType !== null && typeof b.schemaType !== 'string')
    throw new RegistryError(ErrorCode.INVALID_SCHEMA, 'Invalid schema: "schemaType" must be a string');
  const refs = b.references ?? [];
  if (
    !Array.isArray(refs) ||
    !refs.every((r) => r && typeof r.name === 'string' && typeof r.subject === 'string' && Number.isInteger(r.version))
  ) {
    throw new RegistryError(ErrorCode.INVALID_SCHEMA, 'Invalid schema: "references" must be a list of {name, subject, version}');
  }
  return {
    schema: b.schema,
    ...(typeof b.schemaType === 'string' ? { schemaType: b.schemaType as RegisterRequest['schemaType'] } : {}),
    references: refs,
    ...(Number.isInteger(b.id) ? { id: b.id as number } : {}),
    ...(Number.isInteger(b.version) ? { version: b.version as number } : {}),
  };
}

function schemaId(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw new RegistryError(ErrorCode.SCHEMA_NOT_FOUND, `Schema ${s} not found`);
  return Number(s);
}

export interface RegistryHttpOptions {
  /** Request bodies above this many bytes are refused with 42209 before parsing. */
  maxBodyBytes: number;
  /** How long a forwarded write may take. */
  forwardTimeoutMs: number;
  /** Serve https with these options (see `registryTlsOptions`); also used to reach an https writer. */
  tls?: TlsOptions;
  /** authentication.method=BASIC. */
  basicAuth?: BasicAuthConfig;
}

export class RegistryHttpServer {
  readonly server: Server;
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[] = [];

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly options: RegistryHttpOptions = { maxBodyBytes: 1024 * 1024 + 64 * 1024, forwardTimeoutMs: 30_000 },
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    // A client that speaks plain HTTP (or fails the handshake) to an https listener only loses its
    // own connection: https.Server destroys the socket on 'tlsClientError'.
    this.server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
    this.defineRoutes();
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private route(method: string, path: string, handler: Handler): void {
    // `{x}` matches one percent-encoded path segment.
    const pattern = new RegExp('^' + path.replace(/\{[a-z]+\}/g, '([^/]+)') + '/?$');
    this.routes.push({ method, pattern, handler });
  }

  private defineRoutes(): void {
    const reg = this.registry;
    const read = <T>(fn: Parameters<SchemaRegistry['read']>[0]) => reg.read(fn) as Promise<T>;

    this.route('GET', '/', async () => ({}));
    this.route('GET', '/subjects', async ({ query }) =>
      read((o) =>
        o.listSubjects({ deleted: flag(query, 'deleted'), ...(query.has('subjectPrefix') ? { prefix: query.get('subjectPrefix')! } : {}) }),
      ),
    );
    this.route('GET', '/subjects/{s}/versions', async ({ params: [s], query }) => read((o) => o.listVersions(s!, flag(query, 'deleted'))));
    this.route('POST', '/subjects/{s}/versions', async ({ params: [s], query, body }) => {
      const req = registerRequest(body);
      return reg.write((o) => o.register(s!, req, flag(query, 'normalize')));
    });
    this.route('GET', '/subjects/{s}/versions/{v}', async ({ params: [s, v], query }) =>
      read((o) => versionBody(o.getVersion(s!, v!, flag(query, 'deleted')))),
    );
    this.route('GET', '/subjects/{s}/versions/{v}/schema', async ({ params: [s, v], query }) => ({
      raw: await read<SchemaVersion>((o) => o.getVersion(s!, v!, flag(query, 'deleted'))).then((x) => x.schema),
    }));
    this.route('GET', '/subjects/{s}/versions/{v}/referencedby', async ({ params: [s, v] }) => read((o) => o.referencedBy(s!, v!)));
    this.route('DELETE', '/subjects/{s}/versions/{v}', async ({ params: [s, v], query }) =>
      reg.write((o) => o.deleteVersion(s!, v!, flag(query, 'permanent'))),
    );
    this.route('POST', '/subjects/{s}', async ({ params: [s], query, body }) => {
      const req = registerRequest(body);
      return read((o) => versionBody(o.lookup(s!, req, flag(query, 'normalize'), flag(query, 'deleted'))));
    });
    this.route('DELETE', '/subjects/{s}', async ({ params: [s], query }) =>
      reg.write((o) => o.deleteSubject(s!, flag(query, 'permanent'))),
    );

    this.route('GET', '/schemas/types', async () => Object.keys(FORMATS));
    this.route('GET', '/schemas/ids/{id}', async ({ params: [id] }) =>
      read((o) => {
        const s = o.getSchemaById(schemaId(id!));
        return {
          ...(s.schemaType !== 'AVRO' ? { schemaType: s.schemaType } : {}),
          ...(s.references.length > 0 ? { references: s.references } : {}),
          schema: s.schema,
        };
      }),
    );
    this.route('GET', '/schemas/ids/{id}/schema', async ({ params: [id] }) => ({
      raw: await read<{ schema: string }>((o) => o.getSchemaById(schemaId(id!))).then((s) => s.schema),
    }));
    this.route('GET', '/schemas/ids/{id}/subjects', async ({ params: [id], query }) =>
      read((o) => o.subjectsById(schemaId(id!), flag(query, 'deleted'))),
    );
    this.route('GET', '/schemas/ids/{id}/versions', async ({ params: [id], query }) =>
      read((o) => o.subjectVersionsById(schemaId(id!), flag(query, 'deleted'))),
    );

    const compat = async (s: string, v: string | undefined, query: Query, body: unknown): Promise<unknown> => {
      const req = registerRequest(body);
      const reasons = await read<string[]>((o) => o.checkCompatibility(s, v, req));
      return flag(query, 'verbose') ? { is_compatible: reasons.length === 0, messages: reasons } : { is_compatible: reasons.length === 0 };
    };
    this.route('POST', '/compatibility/subjects/{s}/versions', async ({ params: [s], query, body }) => compat(s!, undefined, query, body));
    this.route('POST', '/compatibility/subjects/{s}/versions/{v}', async ({ params: [s, v], query, body }) => compat(s!, v!, query, body));

    this.route('GET', '/config', async () => read((o) => o.getConfig(null)));
    this.route('PUT', '/config', async ({ body }) => reg.write((o) => o.setConfig(null, body)));
    this.route('DELETE', '/config', async () => reg.write((o) => o.deleteConfig(null)));
    this.route('GET', '/config/{s}', async ({ params: [s], query }) => read((o) => o.getConfig(s!, flag(query, 'defaultToGlobal'))));
    this.route('PUT', '/config/{s}', async ({ params: [s], body }) => reg.write((o) => o.setConfig(s!, body)));
    this.route('DELETE', '/config/{s}', async ({ params: [s] }) => reg.write((o) => o.deleteConfig(s!)));

    this.route('GET', '/mode', async () => read((o) => o.getMode(null)));
    this.route('PUT', '/mode', async ({ body, query }) => reg.write((o) => o.setMode(null, body, flag(query, 'force'))));
    this.route('GET', '/mode/{s}', async ({ params: [s], query }) => read((o) => o.getMode(s!, flag(query, 'defaultToGlobal'))));
    this.route('PUT', '/mode/{s}', async ({ params: [s], body, query }) => reg.write((o) => o.setMode(s!, body, flag(query, 'force'))));
    this.route('DELETE', '/mode/{s}', async ({ params: [s] }) => reg.write((o) => o.deleteMode(s!)));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (this.options.basicAuth) {
        const auth = checkBasicAuth(req.headers.authorization, this.options.basicAuth);
        if (!auth.ok) {
          // Drain the body so a keep-alive connection stays usable; the answer does not wait for it.
          req.resume();
          const headers: Record<string, string> = { 'content-type': CONTENT_TYPE };
          if (auth.status === 401) headers['www-authenticate'] = `Basic realm="${this.options.basicAuth.realm.replace(/["\\]/g, '\\$&')}"`;
          res.writeHead(auth.status, headers);
          res.end(JSON.stringify({ error_code: auth.status, message: auth.status === 401 ? 'Unauthorized' : 'Forbidden' }));
          return;
        }
      }
      const url = new URL(req.url ?? '/', 'http://registry');
      const method = req.method ?? 'GET';
      const candidates = this.routes.map((r) => ({ r, m: r.pattern.exec(url.pathname) })).filter((x) => x.m !== null);
      if (candidates.length === 0) throw new RegistryError(ErrorCode.NOT_FOUND, `HTTP 404 Not Found: ${url.pathname}`);
      const match = candidates.find((x) => x.r.method === method);
      if (!match) throw new RegistryError(ErrorCode.METHOD_NOT_ALLOWED, `HTTP 405 Method Not Allowed: ${method} ${url.pathname}`);
      const rawBody = await this.readBody(req);
      let body: unknown = null;
      if (method === 'POST' || method === 'PUT') {
        const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
        if (!ACCEPTED_TYPES.includes(type))
          throw new RegistryError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, `HTTP 415 Unsupported Media Type: ${type}`);
        try {
          body = rawBody.length === 0 ? null : JSON.parse(rawBody.toString('utf8'));
        } catch (err) {
          throw new RegistryError(ErrorCode.BAD_REQUEST, `Unexpected character in the request body: ${(err as Error).message}`);
        }
      }
      let params: string[];
      try {
        params = match.m!.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        throw new RegistryError(ErrorCode.NOT_FOUND, `HTTP 404 Not Found: ${url.pathname}`);
      }
      const result = await this.runOrForward(match.r.handler, { method, params, query: url.searchParams, body, raw: req, rawBody });
      if (result && typeof result === 'object' && 'forwarded' in result) {
        const f = result as { forwarded: { status: number; body: Buffer; contentType: string } };
        res.writeHead(f.forwarded.status, { 'content-type': f.forwarded.contentType });
        res.end(f.forwarded.body);
        return;
      }
      if (result && typeof result === 'object' && 'raw' in result) {
        res.writeHead(200, { 'content-type': CONTENT_TYPE });
        res.end((result as { raw: string }).raw);
        return;
      }
      res.writeHead(200, { 'content-type': CONTENT_TYPE });
      res.end(JSON.stringify(result));
    } catch (err) {
      const e =
        err instanceof RegistryError
          ? err
          : err instanceof NotWriterError
            ? new RegistryError(ErrorCode.UNKNOWN_LEADER, err.message)
            : new RegistryError(ErrorCode.STORE_ERROR, `Error in the backend data store: ${(err as Error).message}`, { cause: err });
      if (!res.headersSent) res.writeHead(e.status, { 'content-type': CONTENT_TYPE });
      res.end(JSON.stringify(e.toJSON()));
    }
  }

  private async runOrForward(handler: Handler, r: Req): Promise<unknown> {
    try {
      return await handler(r);
    } catch (err) {
      if (!(err instanceof NotWriterError) || err.url === null || r.raw.headers[FORWARDED]) throw err;
      return { forwarded: await this.forward(err.url, r) };
    }
  }

  /** Sends the original request to the writer and relays its answer (Confluent's leader forwarding). */
  private forward(writerUrl: string, r: Req): Promise<{ status: number; body: Buffer; contentType: string }> {
    return new Promise((resolve, reject) => {
      const target = new URL(r.raw.url ?? '/', writerUrl);
      const headers: Record<string, string> = { 'content-type': r.raw.headers['content-type'] ?? 'application/json', [FORWARDED]: '1' };
      if (r.raw.headers.authorization !== undefined) headers.authorization = r.raw.headers.authorization;
      const t = this.options.tls;
      const https = target.protocol === 'https:';
      // To an https writer: trust the truststore and present our own certificate (needed when the
      // writer requires client certificates), as Confluent's inter-instance client does.
      const tlsOptions = https && t ? { key: t.key, cert: t.cert, ca: t.ca, passphrase: t.passphrase } : {};
      const req = (https ? httpsRequest : httpRequest)(
        target,
        { method: r.method, headers, timeout: this.options.forwardTimeoutMs, ...tlsOptions },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 500,
              body: Buffer.concat(chunks),
              contentType: String(res.headers['content-type'] ?? CONTENT_TYPE),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('forwarding timed out')));
      req.on('error', (err) =>
        reject(
          new RegistryError(
            ErrorCode.REQUEST_FORWARDING_FAILED,
            `Error while forwarding the request to the writer ${writerUrl}: ${err.message}`,
          ),
        ),
      );
      req.end(r.rawBody);
    });
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.options.maxBodyBytes) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => {
        if (tooLarge)
          reject(
            new RegistryError(ErrorCode.SCHEMA_TOO_LARGE, `Request body is larger than the limit of ${this.options.maxBodyBytes} bytes`),
          );
        else resolve(Buffer.concat(chunks));
      });
      req.on('error', reject);
    });
  }
}
