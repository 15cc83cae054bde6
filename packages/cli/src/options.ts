/** Parsers for the flag values the commands share, each failing with a UsageError that names the flag. */
import { UsageError } from './errors.js';

export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value.trim());
  if (!match || !match[1]) throw new UsageError(`${flag} must be HOST:PORT, got '${value}'`);
  const port = Number(match[2]);
  if (port < 0 || port > 65535) throw new UsageError(`${flag} port must be between 0 and 65535, got ${port}`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

export function parseBootstrap(value: string | undefined): string[] {
  if (!value) throw new UsageError('--bootstrap-server HOST:PORT is required');
  const brokers = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of brokers) parseHostPort(b, '--bootstrap-server');
  return brokers;
}

export function parseInteger(value: string, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${flag} must be an integer, got '${value}'`);
  const n = Number(value);
  if (n < min) throw new UsageError(`${flag} must be at least ${min}, got ${n}`);
  return n;
}

/** Collects repeated `--config k=v` / `--property k=v` flags into a record. */
export function collectKeyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`expected key=value, got '${value}'`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

/** Human durations for flags such as --duration: 500ms, 30s, 2m, or a bare number of ms. */
export function parseDurationMs(value: string, flag: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new UsageError(`${flag} must be a duration such as 500ms, 30s or 2m, got '${value}'`);
  const n = Number(match[1]);
  const unit = match[2] ?? 'ms';
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[unit as 'ms' | 's' | 'm' | 'h'];
}
