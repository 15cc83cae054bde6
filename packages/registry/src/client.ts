/**
 * A client of the registry's HTTP API with caches (mirrors Confluent's
 * `CachedSchemaRegistryClient`): ids and schemas never change once assigned, so they are cached
 * for good; "latest version" answers are cached for `latestTtlMs`. Security as Confluent's client
 * configures it: `basic.auth.user.info` (or credentials in the URL,
 * `basic.auth.credentials.source=URL`) becomes an `Authorization: Basic` header, and
 * `schema.registry.ssl.truststore.location`'s PEM CAs are trusted for an https registry.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SchemaReference, SchemaType } from './records.js';
import { basicAuthHeader, parseUserInfo } from './security.js';

export interface RegisteredSchema {
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  subject?: string;
  version?: number;
}

export interface SchemaInput {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

/** An error answer of the registry: Confluent's `error_code` and message. */
export class RegistryClientError extends Error {
  override name = 'RegistryClientError';
  constructor(
    readonly errorCode: number,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface RegistryClientOptions {
  /** The registry; `https://user:pass@host:port` carries credentials like `basicAuth`. */
  url: string;
  /** HTTP basic credentials (Confluent's `basic.auth.user.info`, as an object or `user:pass`). */
  basicAuth?: { username: string; password: string } | string;
  /** PEM CA certificates an https registry's certificate must chain to (instead of Node's defaults). */
  ca?: string | Buffer;
  /** A client certificate and key (PEM) for a registry with ssl.client.authentication=REQUIRED. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** How long a "latest version" answer is reused. Default 60 s; 0 disables the cache. */
  latestTtlMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export class SchemaRegistryClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  private readonly now: () => number;
  private readonly latestTtlMs: number;
  private readonly byId = new Map<number, Promise<RegisteredSchema>>();
  private readonly idBySubjectSchema = new Map<string, Promise<number>>();
  private readonly latest = new Map<string, { at: number; value: Promise<RegisteredSchema> }>();
  /** Schemas already fetched, for synchronous use by serdes. */
  readonly loaded = new Map<number, RegisteredSchema>();

  private readonly authorization: string | undefined;

  constructor(options: RegistryClientOptions) {
    // fetch refuses URLs with credentials: move them into the header.
    const url = new URL(options.url);
    let auth = typeof options.basicAuth === 'string' ? parseUserInfo(options.basicAuth) : options.basicAuth;
    if (url.username !== '' || url.password !== '') {
      auth ??= { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
      url.username = '';
      url.password = '';
    }
    this.authorization = auth ? basicAuthHeader(auth.username, auth.password) : undefined;
    this.base = url.toString().replace(/\/+$/, '');
    const tls = options.ca !== undefined || options.cert !== undefined;
    this.doFetch = options.fetch ?? (tls ? nodeFetch({ ca: options.ca, cert: options.cert, key: options.key }) : fetch);
    this.now = options.now ?? Date.now;
    this.latestTtlMs = options.latestTtlMs ?? 60_000;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.doFetch(this.base + path, {
      method,
      headers: {
        'content-type': 'application/vnd.schemaregistry.v1+json',
        accept: 'application/vnd.schemaregistry.v1+json',
        ...(this.authorization ? { authorization: this.authorization } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const e = parsed as { error_code?: number; message?: string } | null;
      throw new RegistryClientError(e?.error_code ?? res.status, e?.message ?? `HTTP ${res.status}`, res.status);
    }
    return parsed as T;
  }

  private remember(s: RegisteredSchema): RegisteredSchema {
    this.loaded.set(s.id, s);
    return s;
  }

  private static key(subject: string, input: SchemaInput, normalize: boolean): string {
    return JSON.stringify([subject, input.schemaType ?? 'AVRO', input.schema, input.references ?? [], normalize]);
  }

  private static body(input: SchemaInput): Record<string, unknown> {
    return {
      schema: input.schema,
      ...(input.schemaType && input.schemaType !== 'AVRO' ? { schemaType: input.schemaType } : {}),
      ...(input.references?.length ? { references: input.references } : {}),
    };
  }

  /** Registers (or finds) `input` under `subject`; returns its id. */
  register(subject: string, input: SchemaInput, normalize = false): Promise<number> {
    const key = SchemaRegistryClient.key(subject, input, normalize);
    let p = this.idBySubjectSchema.get(key);
    if (!p) {
      p = this.call<{ id: number }>(
        'POST',
        `/subjects/${encodeURIComponent(subject)}/versions${normalize ? '?normalize=true' : ''}`,
        SchemaRegistryClient.body(input),
      ).then((r) => {
        this.remember({ id: r.id, schema: input.schema, schemaType: input.schemaType ?? 'AVRO', references: input.references ?? [] });
        return r.id;
      });
      p.catch(() => this.idBySubjectSchema.delete(key));
      this.idBySubjectSchema.set(key, p);
    }
    return p;
  }

  /** The id of `input` under `subject` without registering it (40403 when it is not there). */
  lookup(subject: string, input: SchemaInput, normalize = false): Promise<number> {
    const key = 'lookup:' + SchemaRegistryClient.key(subject, input, normalize);
    let p = this.idBySubjectSchema.get(key);
    if (!p) {
      p = this.call<RegisteredSchema>(
        'POST',
        `/subjects/${encodeURIComponent(subject)}${normalize ? '?normalize=true' : ''}`,
        SchemaRegistryClient.body(input),
      ).then((r) => {
        this.remember({ id: r.id, schema: r.schema, schemaType: r.schemaType ?? 'AVRO', references: r.references ?? [] });
        return r.id;
      });
      p.catch(() => this.idBySubjectSchema.delete(key));
      this.idBySubjectSchema.set(key, p);
    }
    return p;
  }

  getById(id: number): Promise<RegisteredSchema> {
    let p = this.byId.get(id);
    if (!p) {
      p = this.call<{ schema: string; schemaType?: SchemaType; references?: SchemaReference[] }>('GET', `/schemas/ids/${id}`).then((r) =>
        this.remember({ id, schema: r.schema, schemaType: r.schemaType ?? 'AVRO', references: r.references ?? [] }),
      );
      p.catch(() => this.byId.delete(id));
      this.byId.set(id, p);
    }
    return p;
  }

  getLatest(subject: string): Promise<RegisteredSchema> {
    const cached = this.latest.get(subject);
    if (cached && this.now() - cached.at < this.latestTtlMs) return cached.value;
    const value = this.call<RegisteredSchema & { schemaType?: SchemaType }>(
      'GET',
      `/subjects/${encodeURIComponent(subject)}/versions/latest`,
    ).then((r) => this.remember({ ...r, schemaType: r.schemaType ?? 'AVRO', references: r.references ?? [] }));
    value.catch(() => this.latest.delete(subject));
    this.latest.set(subject, { at: this.now(), value });
    return value;
  }

  /** Every version of `subject`, so their ids are known to synchronous deserializers. */
  async loadSubject(subject: string): Promise<RegisteredSchema[]> {
    let versions: number[];
    try {
      versions = await this.call<number[]>('GET', `/subjects/${encodeURIComponent(subject)}/versions`);
    } catch (err) {
      if (err instanceof RegistryClientError && err.errorCode === 40401) return [];
      throw err;
    }
    return Promise.all(
      versions.map(async (v) => {
        const r = await this.call<RegisteredSchema & { schemaType?: SchemaType }>(
          'GET',
          `/subjects/${encodeURIComponent(subject)}/versions/${v}`,
        );
        return this.remember({ ...r, schemaType: r.schemaType ?? 'AVRO', references: r.references ?? [] });
      }),
    );
  }

  async testCompatibility(subject: string, input: SchemaInput): Promise<{ compatible: boolean; messages: string[] }> {
    const r = await this.call<{ is_compatible: boolean; messages?: string[] }>(
      'POST',
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions?verbose=true`,
      SchemaRegistryClient.body(input),
    );
    return { compatible: r.is_compatible, messages: r.messages ?? [] };
  }
}

/**
 * The slice of fetch the client uses, on node:http(s), for what global fetch cannot take: a CA and
 * a client certificate per request.
 */
export function nodeFetch(tls: {
  ca?: string | Buffer | undefined;
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
}): typeof fetch {
  const f = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise((resolve, reject) => {
      const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const https = target.protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)(
        target,
        {
          method: init?.method ?? 'GET',
          headers: (init?.headers ?? {}) as Record<string, string>,
          ...(https ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 500;
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
            resolve(new Response([204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    });
  return f as typeof fetch;
}
