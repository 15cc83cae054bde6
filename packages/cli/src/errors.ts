/**
 * How the CLI fails: one clear line on stderr and a non-zero exit; the stack only with --verbose.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `NAME: sentence` for errors that carry a table name (the client's SamsaError), else the sentence. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { errorName?: string; type?: string }).errorName ?? (err as { type?: string }).type;
  return code ? `${code}: ${err.message}` : err.message;
}

export function fail(err: unknown, verbose: boolean): never {
  process.stderr.write(`samsa: ${describeError(err)}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
}
