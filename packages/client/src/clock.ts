/**
 * Time and randomness come in through these, so retry, backoff and poll timing can be tested
 * deterministically. The defaults are the real clock, real timers and Math.random.
 */
import type { Random } from '@samsa/protocol';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Uniform in [0, 1), like Math.random; pass a seeded one (seededRandom) in tests. */
export type { Random } from '@samsa/protocol';
export { seededRandom } from '@samsa/protocol';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export const systemRandom: Random = Math.random;

/**
 * The abort reason for cancelling a sleep nobody waits on any more. AbortController.abort()
 * without a reason builds a DOMException, stack and all, which on a hot path (a consumer waits
 * once per fetch answer) was ~10% of the process's CPU.
 */
export const SLEEP_CANCELLED: unknown = Object.freeze({ reason: 'sleep cancelled' });
