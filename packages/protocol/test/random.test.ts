/** The one seeded PRNG (random.ts): replayable per seed, uniform, and the same sequence through both shapes. */
import { describe, expect, it } from 'vitest';
import { SeededRng, seededRandom } from '../src/index.js';

describe('SeededRng', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = new SeededRng(7);
    const b = new SeededRng(7);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(new SeededRng(8).next()).not.toBe(xs[0]);
  });

  it('spreads integers evenly', () => {
    const rng = new SeededRng(1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) counts[rng.int(10)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it('seededRandom gives the sequence SeededRng.next gives for the same seed', () => {
    const rng = new SeededRng(42);
    const random = seededRandom(42);
    expect(Array.from({ length: 100 }, () => random())).toEqual(Array.from({ length: 100 }, () => rng.next()));
  });

  it('a fork is its own stream, replayable from the parent seed', () => {
    const a = new SeededRng(3).fork();
    const b = new SeededRng(3).fork();
    expect(a.next()).toBe(b.next());
    expect(new SeededRng(3).fork().next()).not.toBe(new SeededRng(3).next());
  });
});
