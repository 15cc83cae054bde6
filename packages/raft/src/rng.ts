// Randomness comes in through this interface so that a seed replays a run exactly.

/** A source of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/**
 * A small, fast, seeded PRNG (the mulberry32 construction: a Weyl sequence through an
 * xorshift-multiply mix). Good enough for timeouts and simulation, not for cryptography.
 */
export class SeededRng implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An independent generator seeded from this one (to give each component its own stream). */
  fork(): SeededRng {
    return new SeededRng(Math.floor(this.next() * 4294967296) ^ 0x9e3779b9);
  }
}

export function createRng(seed: number): SeededRng {
  return new SeededRng(seed);
}
