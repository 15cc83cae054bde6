/** Opens a client for a CLI command and makes sure it is closed whatever happens. */
import { Samsa } from '@samsa/client';
import { parseBootstrap } from './options.js';

export async function withClient<T>(bootstrap: string | undefined, fn: (samsa: Samsa) => Promise<T>, opts: { requestTimeoutMs?: number } = {}): Promise<T> {
  const brokers = parseBootstrap(bootstrap);
  const samsa = new Samsa({
    brokers,
    clientId: 'samsa-cli',
    requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
    // A CLI user wants a quick, clear failure when the broker is down, not minutes of retries.
    retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
  });
  try {
    await samsa.connect();
    return await fn(samsa);
  } finally {
    await samsa.close();
  }
}
