// Runs many seeds of the simulation for one cluster size. Environment:
//   RAFT_SEED=<n>    run only that seed (and print its statistics)
//   RAFT_NODES=<n>   only that cluster size (3 or 5)
//   RAFT_SEEDS=<n>   how many seeds per size (default 500)
//   RAFT_EVENTS=<n>  events per run before the liveness phase (default 20000)
//   RAFT_TRACE=<n>   how many of the last events a failure shows (default 40)
import { describe, expect, it } from 'vitest';
import { runSimulation } from './simulator.js';
import type { SimStats } from './simulator.js';

const only = process.env.RAFT_SEED ? Number(process.env.RAFT_SEED) : undefined;
const onlyNodes = process.env.RAFT_NODES ? Number(process.env.RAFT_NODES) : undefined;
const seeds = Number(process.env.RAFT_SEEDS ?? 500);
const events = Number(process.env.RAFT_EVENTS ?? 20_000);
const traceLength = process.env.RAFT_TRACE ? Number(process.env.RAFT_TRACE) : undefined;

/** Seeds per test: each chunk is CPU work with its own time limit, scaled to its share of the runs. */
const CHUNK = 25;

export function describeSeeds(nodes: number): void {
  describe.skipIf(onlyNodes !== undefined && onlyNodes !== nodes)(`${nodes}-node cluster simulation`, () => {
    const list = only !== undefined ? [only] : Array.from({ length: seeds }, (_, i) => i + 1);
    const chunks = Array.from({ length: Math.ceil(list.length / CHUNK) }, (_, i) => list.slice(i * CHUNK, (i + 1) * CHUNK));
    const stats: SimStats[] = [];
    for (const chunk of chunks) {
      const what = chunk.length === 1 ? `seed ${chunk[0]}` : `seeds ${chunk[0]}-${chunk.at(-1)}`;
      it(`keeps every safety invariant and recovers liveness: ${what} × ${events} events`, () => {
        // A violation throws a SimulationFailure naming the seed and how to replay it.
        for (const seed of chunk) stats.push(runSimulation({ seed, nodes, events, ...(traceLength ? { traceLength } : {}) }));
        if (only !== undefined) console.log(stats[0]);
      }, 120_000);
    }
    it.skipIf(only !== undefined)(`the ${list.length} runs exercise elections, crashes, partitions and snapshots`, () => {
      expect(stats).toHaveLength(list.length);
      const sum = (f: (s: SimStats) => number): number => stats.reduce((a, s) => a + f(s), 0);
      // The runs must actually exercise the hard paths.
      expect(sum((s) => s.elections)).toBeGreaterThan(stats.length * 3);
      expect(sum((s) => s.crashes)).toBeGreaterThan(stats.length);
      expect(sum((s) => s.partitions)).toBeGreaterThan(stats.length);
      expect(sum((s) => s.snapshotsSent)).toBeGreaterThan(stats.length);
    });
  });
}
