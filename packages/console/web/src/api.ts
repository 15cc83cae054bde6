// The console server's JSON API as the page sees it, and a polling hook for the live views
// (one request a second per view; the server caches so that many tabs cost the cluster little).
import { useEffect, useState } from 'preact/hooks';

export interface ApiErrorBody {
  error: { code: number; name: string; message: string; retriable: boolean; upstream?: { status: number; errorCode: number | null } };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly kafkaName: string,
    message: string,
    /** A refusal relayed from the schema registry or Connect: its HTTP status and error_code. */
    readonly upstream?: { status: number; errorCode: number | null },
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init?.method ?? 'GET',
      headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
      ...(init?.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch (err) {
    throw new ApiError(0, -1, 'CONSOLE_UNREACHABLE', `The console server does not answer (${String(err)})`);
  }
  const text = await res.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, -1, 'BAD_RESPONSE', text.slice(0, 200));
  }
  if (!res.ok) {
    const e = (value as ApiErrorBody).error;
    throw new ApiError(res.status, e?.code ?? -1, e?.name ?? 'UNKNOWN', e?.message ?? text, e?.upstream);
  }
  return value as T;
}

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | undefined;
  refresh: () => void;
}

/**
 * GETs `path` now and then every `everyMs` (≤ 1 s for live views) while mounted. With `keep`, a new
 * path (another page or sort of a server-paged table) keeps showing the last answer until its own
 * arrives, instead of blanking the table. An answer to a path no longer asked for is dropped.
 */
export function usePoll<T>(path: string | null, everyMs = 1000, keep = false): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    if (!keep) setData(undefined);
    setError(undefined);
    if (path === null) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      api<T>(path)
        .then(
          (v) => {
            if (alive) {
              setData(v);
              setError(undefined);
            }
          },
          (e: unknown) => {
            if (alive) setError(e instanceof ApiError ? e : new ApiError(0, -1, 'UNKNOWN', String(e)));
          },
        )
        .finally(() => {
          if (alive && everyMs > 0) timer = setTimeout(run, everyMs);
        });
    };
    run();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [path, everyMs, tick]);
  return { data, error, refresh: () => setTick((t) => t + 1) };
}

export { failureKind } from './states.js';

export const enc = encodeURIComponent;

/** Kafka's error name and code, the service's own status and error_code when it refused, and the sentence. */
export function refusal(e: ApiError): string {
  const up = e.upstream ? ` (HTTP ${e.upstream.status}${e.upstream.errorCode !== null ? `, error_code ${e.upstream.errorCode}` : ''})` : '';
  return `${e.kafkaName} [${e.code}]${up}: ${e.message}`;
}
