// Randomness comes in through this interface so that a seed replays a run exactly. The core owns
// no generator: callers pass one (the project's seeded one is @samsa/protocol's SeededRng).

/** A source of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}
