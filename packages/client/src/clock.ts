/**
 * Time and randomness come in through these, so retry, backoff and poll timing can be tested
 * deterministically. The defaults are the real clock, real timers and Math.random.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Uniform in [0, 1), like Math.random. Pass a seeded one in tests. */
export type Random = () => number;

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
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
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

/** A small seeded PRNG (mulberry32), for tests and simulations. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
