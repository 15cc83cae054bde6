import { SeededRng } from '../../src/index.js';

/** The project's seeded PRNG with what the codec tests draw besides: int64s weighted to the edges. */
export class Rng extends SeededRng {
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
