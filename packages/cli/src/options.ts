/** Parsers for the flag values the commands share, each failing with a UsageError that names the flag. */
import { readFileSync } from 'node:fs';
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
  const brokers = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
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

/**
 * A Java .properties file as Kafka's tools read --producer.config / --consumer.config / --command-config:
 * `key=value` or `key: value` lines, `#` and `!` comments, blank lines skipped.
 */
export function readPropertiesFile(path: string, flag: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const at = line.search(/[=:]/);
    if (at <= 0) throw new UsageError(`${flag}: ${path} line ${i + 1} is not key=value: '${line}'`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  });
  return out;
}

/** --bootstrap-server, or Kafka's older --broker-list, or bootstrap.servers from a config file. */
export function bootstrapFrom(
  opts: { bootstrapServer?: string; brokerList?: string },
  config: Record<string, string> = {},
): string | undefined {
  if (opts.bootstrapServer !== undefined && opts.brokerList !== undefined && opts.bootstrapServer !== opts.brokerList) {
    throw new UsageError('--bootstrap-server and --broker-list disagree; give one');
  }
  return opts.bootstrapServer ?? opts.brokerList ?? config['bootstrap.servers'];
}

/** Refuses --property keys a tool does not know (Kafka ignores them silently; a typo then does nothing). */
export function checkPropertyKeys(props: Record<string, string>, known: readonly string[], flag = '--property'): void {
  for (const key of Object.keys(props)) {
    if (!known.includes(key)) throw new UsageError(`unknown ${flag} ${key} (known: ${known.join(', ')})`);
  }
}
