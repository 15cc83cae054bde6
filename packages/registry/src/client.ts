/**
 * A client of the registry's HTTP API with caches (mirrors Confluent's
 * `CachedSchemaRegistryClient`): ids and schemas never change once assigned, so they are cached
 * for good; "latest version" answers are cached for `latestTtlMs`.
 */
import type { SchemaReference, SchemaType } from './records.js';

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
  url: string;
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

  constructor(options: RegistryClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.latestTtlMs = options.latestTtlMs ?? 60_000;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.doFetch(this.base + path, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', accept: 'application/vnd.schemaregistry.v1+json' },
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
