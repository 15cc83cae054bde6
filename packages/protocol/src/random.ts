/**
 * The one seeded PRNG of the project (the mulberry32 construction: a Weyl sequence through an
 * xorshift-multiply mix), so a seed replays a simulation, a chaos schedule or a randomized test
 * exactly. Fast and small; not for cryptography. Randomness reaches pure code as a `Random`
 * (or any `{ next(): number }`), never as a global.
 */

/** Uniform in [0, 1), like Math.random. */
export type Random = () => number;

export class SeededRng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** n uniform bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.nextUint32() & 0xff;
    return out;
  }

  /** An independent generator seeded from this one (to give each component its own stream). */
  fork(): SeededRng {
    return new SeededRng(Math.floor(this.next() * 4294967296) ^ 0x9e3779b9);
  }
}

/** A seeded `Random`: the same seed, the same sequence. */
export function seededRandom(seed: number): Random {
  const rng = new SeededRng(seed);
  return () => rng.next();
}
