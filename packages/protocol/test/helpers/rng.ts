/** A seeded PRNG (mulberry32) so randomized tests replay exactly from their seed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.nextUint32() / 0x1_0000_0000) * n);
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.nextUint32() & 0xff;
    return out;
  }

  /** Any int64, with extra weight on small magnitudes and on the edges. */
  int64(): bigint {
    switch (this.int(4)) {
      case 0:
        return BigInt(this.int(2000)) - 1000n;
      case 1:
        return BigInt.asIntN(64, (BigInt(this.nextUint32()) << 32n) | BigInt(this.nextUint32()));
      case 2: {
        // A random bit width, so every varlong length from 1 to 10 bytes shows up.
        const bits = BigInt(this.int(64));
        const magnitude = BigInt.asUintN(64, (BigInt(this.nextUint32()) << 32n) | BigInt(this.nextUint32())) & ((1n << bits) - 1n);
        return this.int(2) === 0 ? magnitude : -magnitude - 1n;
      }
      default:
        return [0n, -1n, 1n, (1n << 63n) - 1n, -(1n << 63n), 1n << 31n, -(1n << 31n), 1n << 53n, -(1n << 53n)][this.int(9)]!;
    }
  }
}
