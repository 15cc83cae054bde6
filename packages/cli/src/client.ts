/** Opens a client for a CLI command and makes sure it is closed whatever happens. */
import { Samsa, type Logger } from '@samsa/client';
import type { ClientSecurity } from './clientSecurity.js';
import { parseBootstrap } from './options.js';

let security: ClientSecurity = {};

/** TLS/SASL for every client this process opens (main.ts sets it from the command's properties file). */
export function setClientSecurity(value: ClientSecurity): void {
  security = value;
}

export async function withClient<T>(
  bootstrap: string | undefined,
  fn: (samsa: Samsa) => Promise<T>,
  opts: { requestTimeoutMs?: number; logger?: Logger; clientId?: string } = {},
): Promise<T> {
  const brokers = parseBootstrap(bootstrap);
  const samsa = new Samsa({
    brokers,
    clientId: opts.clientId ?? 'samsa-cli',
    requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
    // A CLI user wants a quick, clear failure when the broker is down, not minutes of retries.
    retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...security,
  });
  try {
    await samsa.connect();
    return await fn(samsa);
  } finally {
    await samsa.close();
  }
}

/**
 * The client's warnings on stderr the way Kafka's tools log them (`WARN [Producer clientId=...] ...`),
 * one line each; debug and info stay quiet.
 */
export function stderrWarnings(component: string): Logger {
  const quiet = (): void => {};
  return {
    debug: quiet,
    info: quiet,
    warn: (message) => {
      process.stderr.write(`WARN [${component}] ${message}\n`);
    },
    error: (message) => {
      process.stderr.write(`ERROR [${component}] ${message}\n`);
    },
  };
}
