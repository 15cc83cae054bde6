/**
 * Retry of retriable errors with capped exponential backoff and jitter. Time and randomness are
 * injected (Clock, Random) so tests drive them; nothing here reads the environment.
 */
import type { Clock, Random } from './clock.js';
import { isRetriable } from './errors.js';
import type { Logger } from './logger.js';

export interface RetryOptions {
  /** Retries after the first attempt (so at most retries + 1 attempts). Default 5. */
  retries?: number;
  /** Backoff before the first retry. Default 100 ms. */
  initialRetryTimeMs?: number;
  /** Cap on any single backoff. Default 5000 ms. */
  maxRetryTimeMs?: number;
  /** Growth per retry. Default 2. */
  multiplier?: number;
  /** Jitter: each backoff is scaled by a uniform factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryOptions = {
  retries: 5,
  initialRetryTimeMs: 100,
  maxRetryTimeMs: 5_000,
  multiplier: 2,
  jitter: 0.2,
};

export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved = { ...DEFAULT_RETRY, ...stripUndefined(options) };
  if (!Number.isInteger(resolved.retries) || resolved.retries < 0)
    throw new RangeError(`retry.retries must be a non-negative integer, got ${resolved.retries}`);
  if (!(resolved.initialRetryTimeMs >= 0))
    throw new RangeError(`retry.initialRetryTimeMs must be >= 0, got ${resolved.initialRetryTimeMs}`);
  if (!(resolved.maxRetryTimeMs >= resolved.initialRetryTimeMs))
    throw new RangeError('retry.maxRetryTimeMs must be >= retry.initialRetryTimeMs');
  if (!(resolved.multiplier >= 1)) throw new RangeError(`retry.multiplier must be >= 1, got ${resolved.multiplier}`);
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) throw new RangeError(`retry.jitter must be within [0, 1], got ${resolved.jitter}`);
  return resolved;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Backoff before retry number `retry` (0-based): min(cap, initial * multiplier^retry), jittered, never above the cap. */
export function backoffMs(retry: number, options: ResolvedRetryOptions, random: Random): number {
  const exponential = Math.min(options.maxRetryTimeMs, options.initialRetryTimeMs * options.multiplier ** retry);
  const scale = 1 - options.jitter + 2 * options.jitter * random();
  return Math.min(options.maxRetryTimeMs, Math.max(0, Math.round(exponential * scale)));
}

export interface RetrierDeps {
  retry: ResolvedRetryOptions;
  clock: Clock;
  random: Random;
  logger: Logger;
}

export interface RetryContext {
  /** 0 for the first attempt. */
  attempt: number;
}

/**
 * Runs an operation, retrying retriable failures. `onRetriableError` runs before each backoff (the
 * place to refresh metadata). The last error is rethrown as is once retries are exhausted, so
 * callers see the typed error of the final attempt.
 */
export class Retrier {
  constructor(private readonly deps: RetrierDeps) {}

  get options(): ResolvedRetryOptions {
    return this.deps.retry;
  }

  async run<T>(
    operation: (context: RetryContext) => Promise<T>,
    hooks: { what?: string; onRetriableError?: (error: unknown, context: RetryContext) => Promise<void> | void; signal?: AbortSignal } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation({ attempt });
      } catch (error) {
        if (!isRetriable(error) || attempt >= this.deps.retry.retries || hooks.signal?.aborted) throw error;
        const delay = backoffMs(attempt, this.deps.retry, this.deps.random);
        this.deps.logger.debug('retrying after a retriable error', {
          what: hooks.what,
          attempt,
          delayMs: delay,
          error: (error as Error).message,
        });
        await hooks.onRetriableError?.(error, { attempt });
        await this.deps.clock.sleep(delay, hooks.signal);
      }
    }
  }
}
