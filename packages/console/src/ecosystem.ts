/**
 * The console's views of the ecosystem services, asked over their own REST APIs (as Redpanda
 * Console and AKHQ do): the schema registry (Confluent's Schema Registry API v1: `/subjects`,
 * `/subjects/{s}/versions/{v}`, `/compatibility/...`) and Kafka Connect (`ConnectorsResource`:
 * `/connectors?expand=status`, `PUT .../pause|resume`, `POST .../restart`). Nothing is cached:
 * these views poll less often than the cluster's and the services answer from memory.
 *
 * Errors: a service that is not configured is `UNSUPPORTED_VERSION` (501), one that does not
 * answer is `NETWORK_EXCEPTION` (503); an answer the service refused keeps its HTTP status and
 * `error_code` (as `upstream`) with its own sentence; bad input is refused before any request.
 */
import { ErrorCode } from '@samsa/protocol';
import { lineDiff, schemaText, type DiffLine } from './diff.js';
import { ConsoleError, badRequest } from './errors.js';

export interface EcosystemOptions {
  /** Base URL of the schema registry (e.g. http://127.0.0.1:8081). */
  schemaRegistry?: string;
  /** Base URL of a Kafka Connect worker's REST API (e.g. http://127.0.0.1:8083). */
  connect?: string;
  /** Per request to a service. Default 5 s. */
  serviceTimeoutMs?: number;
}

export interface SchemaVersionView {
  subject: string;
  version: number;
  id: number;
  schemaType: string;
  /** The schema as the registry stores it. */
  schema: string;
  /** Pretty-printed when it is JSON (Avro, JSON Schema): what the page shows and diffs. */
  text: string;
  references: unknown[];
}

export interface ConnectorView {
  name: string;
  type: string | null;
  state: string;
  workerId: string | null;
  trace: string | null;
  tasks: Array<{ id: number; state: string; workerId: string | null; trace: string | null }>;
}

const SCHEMA_TYPES = ['AVRO', 'JSON', 'PROTOBUF'];
const SERVICES = {
  registry: { name: 'schema registry', flag: '--schema-registry' },
  connect: { name: 'Kafka Connect', flag: '--connect' },
} as const;

function subjectName(s: string): string {
  if (s.length === 0 || s.length > 255) throw badRequest('a subject name is 1 to 255 characters');
  return s;
}

/** A version: a positive integer or `latest` (the registry's -1 is not offered). */
function versionParam(v: unknown, what: string): string {
  const s = typeof v === 'number' ? String(v) : v;
  if (s === 'latest') return s;
  if (typeof s !== 'string' || !/^[1-9][0-9]{0,9}$/.test(s) || Number(s) > 2_147_483_647)
    throw badRequest(`${what} must be a version number (1, 2, ...) or "latest"`);
  return s;
}

function upstreamError(service: keyof typeof SERVICES, status: number, body: unknown): ConsoleError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { error_code?: unknown; message?: unknown };
  const errorCode = typeof b.error_code === 'number' ? b.error_code : null;
  // The service's sentence is shown, never matched on; an empty one is replaced by the status.
  const said = (typeof b.message === 'string' ? b.message : '') || `HTTP ${status}`;
  const code = status >= 500 ? ErrorCode.UNKNOWN_SERVER_ERROR : ErrorCode.INVALID_REQUEST;
  return new ConsoleError(status >= 400 && status < 600 ? status : 502, code, `${SERVICES[service].name}: ${said}`, { status, errorCode });
}

export class EcosystemApi {
  private readonly timeoutMs: number;

  constructor(private readonly opts: EcosystemOptions) {
    this.timeoutMs = opts.serviceTimeoutMs ?? 5_000;
  }

  /** One request to a service; its JSON answer, or a ConsoleError that says what went wrong. */
  private async call(service: keyof typeof SERVICES, method: string, path: string, body?: unknown): Promise<unknown> {
    const base = service === 'registry' ? this.opts.schemaRegistry : this.opts.connect;
    const { name, flag } = SERVICES[service];
    if (!base) throw new ConsoleError(501, ErrorCode.UNSUPPORTED_VERSION, `no ${name} is configured: start the console with ${flag} URL`);
    let res: Response;
    try {
      res = await fetch(base.replace(/\/+$/, '') + path, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined
            ? {}
            : { 'content-type': service === 'registry' ? 'application/vnd.schemaregistry.v1+json' : 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ConsoleError(503, ErrorCode.NETWORK_EXCEPTION, `the ${name} at ${base} does not answer (${why})`);
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { message: text.slice(0, 200) };
      }
    }
    if (!res.ok) throw upstreamError(service, res.status, parsed);
    return parsed;
  }

  // --- schema registry ---

  /** Every subject with its versions and compatibility level. */
  async subjects(): Promise<{ subjects: Array<{ subject: string; versions: number[] }> }> {
    const names = (await this.call('registry', 'GET', '/subjects')) as string[];
    const subjects = await Promise.all(
      names.map(async (subject) => ({
        subject,
        versions: (await this.call('registry', 'GET', `/subjects/${encodeURIComponent(subject)}/versions`)) as number[],
      })),
    );
    return { subjects: subjects.sort((a, b) => a.subject.localeCompare(b.subject)) };
  }

  async versions(subject: string): Promise<{ subject: string; versions: number[]; compatibility: string | null }> {
    const s = encodeURIComponent(subjectName(subject));
    const versions = (await this.call('registry', 'GET', `/subjects/${s}/versions`)) as number[];
    let compatibility: string | null = null;
    try {
      const config = (await this.call('registry', 'GET', `/config/${s}?defaultToGlobal=true`)) as { compatibilityLevel?: string };
      compatibility = config.compatibilityLevel ?? null;
    } catch (err) {
      if (!(err instanceof ConsoleError) || err.upstream === undefined) throw err;
    }
    return { subject, versions, compatibility };
  }

  async version(subject: string, version: string): Promise<SchemaVersionView> {
    const v = versionParam(version, 'the version');
    const r = (await this.call('registry', 'GET', `/subjects/${encodeURIComponent(subjectName(subject))}/versions/${v}`)) as {
      subject: string;
      version: number;
      id: number;
      schemaType?: string;
      schema: string;
      references?: unknown[];
    };
    return {
      subject: r.subject,
      version: r.version,
      id: r.id,
      schemaType: r.schemaType ?? 'AVRO',
      schema: r.schema,
      text: schemaText(r.schema),
      references: r.references ?? [],
    };
  }

  /** A line diff of version `from` → `to` (query parameters). */
  async diff(subject: string, query: URLSearchParams): Promise<{ subject: string; from: number; to: number; lines: DiffLine[] }> {
    const from = versionParam(query.get('from') ?? undefined, 'from');
    const to = versionParam(query.get('to') ?? undefined, 'to');
    const [a, b] = await Promise.all([this.version(subject, from), this.version(subject, to)]);
    return { subject, from: a.version, to: b.version, lines: lineDiff(a.text, b.text) };
  }

  /** Whether `{schema, schemaType?, version?}` could be registered after that version (default latest). */
  async compatibility(subject: string, body: Record<string, unknown>): Promise<{ isCompatible: boolean; messages: string[] }> {
    const s = encodeURIComponent(subjectName(subject));
    if (typeof body.schema !== 'string' || body.schema.trim() === '') throw badRequest('schema must be a non-empty string');
    const schemaType = body.schemaType ?? 'AVRO';
    if (typeof schemaType !== 'string' || !SCHEMA_TYPES.includes(schemaType))
      throw badRequest(`schemaType must be one of ${SCHEMA_TYPES.join(', ')}`);
    const v = versionParam(body.version ?? 'latest', 'version');
    const request = schemaType === 'AVRO' ? { schema: body.schema } : { schema: body.schema, schemaType };
    const r = (await this.call('registry', 'POST', `/compatibility/subjects/${s}/versions/${v}?verbose=true`, request)) as {
      is_compatible: boolean;
      messages?: string[];
    };
    return { isCompatible: r.is_compatible, messages: r.messages ?? [] };
  }

  /**
   * Registers `{schema, schemaType?, references?}` as the subject's next version (the registry's
   * `POST /subjects/{s}/versions`); the registry decides compatibility and its refusal (409
   * incompatible, 422 invalid) is relayed with its own sentence. Answers the id and the version
   * the registry gave it (an identical schema is not registered twice: the same id comes back).
   */
  async register(subject: string, body: Record<string, unknown>): Promise<{ subject: string; id: number; version: number | null }> {
    const s = encodeURIComponent(subjectName(subject));
    if (typeof body.schema !== 'string' || body.schema.trim() === '') throw badRequest('schema must be a non-empty string');
    const schemaType = body.schemaType ?? 'AVRO';
    if (typeof schemaType !== 'string' || !SCHEMA_TYPES.includes(schemaType))
      throw badRequest(`schemaType must be one of ${SCHEMA_TYPES.join(', ')}`);
    if (body.references !== undefined && !Array.isArray(body.references)) throw badRequest('references must be an array');
    const request: Record<string, unknown> = schemaType === 'AVRO' ? { schema: body.schema } : { schema: body.schema, schemaType };
    if (Array.isArray(body.references) && body.references.length > 0) request.references = body.references;
    const r = (await this.call('registry', 'POST', `/subjects/${s}/versions`, request)) as { id: number };
    // The registry answers only the id; the version comes from a lookup of the same schema.
    let version: number | null = null;
    try {
      const found = (await this.call('registry', 'POST', `/subjects/${s}`, request)) as { version?: number };
      version = typeof found.version === 'number' ? found.version : null;
    } catch (err) {
      if (!(err instanceof ConsoleError) || err.upstream === undefined) throw err;
    }
    return { subject, id: r.id, version };
  }

  // --- Connect ---

  async connectors(): Promise<{ connectors: ConnectorView[] }> {
    const r = (await this.call('connect', 'GET', '/connectors?expand=status&expand=info')) as Record<
      string,
      {
        status?: {
          type?: string;
          connector?: { state?: string; worker_id?: string; trace?: string };
          tasks?: Array<{ id: number; state?: string; worker_id?: string; trace?: string }>;
        };
        info?: { type?: string };
      }
    >;
    const connectors = Object.entries(r).map(([name, e]) => ({
      name,
      type: e.status?.type ?? e.info?.type ?? null,
      state: e.status?.connector?.state ?? 'UNKNOWN',
      workerId: e.status?.connector?.worker_id ?? null,
      trace: e.status?.connector?.trace ?? null,
      tasks: (e.status?.tasks ?? [])
        .map((t) => ({ id: t.id, state: t.state ?? 'UNKNOWN', workerId: t.worker_id ?? null, trace: t.trace ?? null }))
        .sort((a, b) => a.id - b.id),
    }));
    return { connectors: connectors.sort((a, b) => a.name.localeCompare(b.name)) };
  }

  /** pause / resume (PUT, 202) or restart with its tasks (POST ?includeTasks=true). */
  async connectorAction(name: string, action: string): Promise<{ name: string; action: string }> {
    if (name.length === 0) throw badRequest('a connector name is required');
    const n = encodeURIComponent(name);
    if (action === 'pause' || action === 'resume') await this.call('connect', 'PUT', `/connectors/${n}/${action}`);
    else if (action === 'restart') await this.call('connect', 'POST', `/connectors/${n}/restart?includeTasks=true`);
    else throw badRequest(`unknown action ${JSON.stringify(action)}: pause, resume or restart`);
    return { name, action };
  }
}
