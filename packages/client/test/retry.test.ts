import { describe, expect, it } from 'vitest';
import {
  MessageTooLargeError,
  NotLeaderOrFollowerError,
  Retrier,
  backoffMs,
  noopLogger,
  resolveRetryOptions,
  seededRandom,
} from '../src/index.js';
import { FakeClock } from './fakes.js';

describe('backoff', () => {
  const options = resolveRetryOptions({ initialRetryTimeMs: 100, maxRetryTimeMs: 1000, multiplier: 2, jitter: 0.2 });

  it('grows exponentially from the initial time and is capped', () => {
    const mid = () => 0.5; // no jitter at the midpoint
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n, options, mid))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('jitters within ±jitter and never exceeds the cap', () => {
    expect(backoffMs(0, options, () => 0)).toBe(80);
    expect(backoffMs(0, options, () => 0.999999)).toBe(120);
    expect(backoffMs(10, options, () => 0.999999)).toBe(1000);
    expect(backoffMs(10, options, () => 0)).toBe(800);
    const random = seededRandom(42);
    for (let n = 0; n < 20; n++) {
      const d = backoffMs(n, options, random);
      expect(d).toBeGreaterThanOrEqual(Math.min(1000, 100 * 2 ** n) * 0.8 - 1);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it('is reproducible from a seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    expect([0, 1, 2].map((n) => backoffMs(n, options, a))).toEqual([0, 1, 2].map((n) => backoffMs(n, options, b)));
  });

  it('rejects nonsense options', () => {
    expect(() => resolveRetryOptions({ retries: -1 })).toThrow(RangeError);
    expect(() => resolveRetryOptions({ jitter: 2 })).toThrow(RangeError);
  });
});

describe('Retrier', () => {
  const make = (retries = 3) => {
    const clock = new FakeClock();
    const retrier = new Retrier({
      retry: resolveRetryOptions({ retries, initialRetryTimeMs: 100, jitter: 0 }),
      clock,
      random: () => 0.5,
      logger: noopLogger,
    });
    return { clock, retrier };
  };

  it('retries retriable errors, sleeping the backoff from the injected clock', async () => {
    const { clock, retrier } = make();
    let calls = 0;
    const refreshed: number[] = [];
    const result = await retrier.run(
      async ({ attempt }) => {
        calls++;
        if (attempt < 2) throw new NotLeaderOrFollowerError();
        return 'ok';
      },
      { onRetriableError: (_e, { attempt }) => void refreshed.push(attempt) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(clock.sleeps).toEqual([100, 200]);
    expect(refreshed).toEqual([0, 1]);
  });

  it('does not retry non-retriable errors', async () => {
    const { clock, retrier } = make();
    let calls = 0;
    await expect(
      retrier.run(async () => {
        calls++;
        throw new MessageTooLargeError();
      }),
    ).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up after the configured retries with the last typed error', async () => {
    const { clock, retrier } = make(2);
    let calls = 0;
    const error = await retrier
      .run(async () => {
        calls++;
        throw new NotLeaderOrFollowerError(`attempt ${calls}`);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotLeaderOrFollowerError);
    expect((error as Error).message).toBe('attempt 3');
    expect(clock.sleeps).toEqual([100, 200]);
  });
});
