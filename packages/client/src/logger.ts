/** A minimal structured logger. The client logs nothing unless given one. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Logs at `level` and above to the console (stderr for warn and error), one JSON line per entry. */
export function consoleLogger(level: LogLevel = 'info', namespace = 'samsa-client'): Logger {
  const at =
    (l: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (RANK[l] < RANK[level]) return;
      const line = JSON.stringify({ level: l, namespace, message, ...fields }, (_k, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : v instanceof Error ? { name: v.name, message: v.message } : v,
      );
      if (RANK[l] >= RANK.warn) console.error(line);
      else console.log(line);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
