import { describe, expect, it } from 'vitest';
import { assignReplicas, leastLoadedIndex } from '../../src/index.js';

function leaderCounts(assignment: number[][]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const replicas of assignment) counts.set(replicas[0]!, (counts.get(replicas[0]!) ?? 0) + 1);
  return counts;
}

describe('replica placement', () => {
  it('spreads leaders evenly: 3 brokers × 6 partitions RF3 → each broker leads 2', () => {
    const assignment = assignReplicas([1, 2, 3], 6, 3, 0);
    expect([...leaderCounts(assignment).values()]).toEqual([2, 2, 2]);
    for (const replicas of assignment) expect(new Set(replicas).size).toBe(3);
  });

  it("keeps every partition's replicas distinct and leaders within one of even, for many shapes", () => {
    const problems: string[] = [];
    for (let n = 1; n <= 7; n++) {
      const brokers = Array.from({ length: n }, (_, i) => 10 + i);
      for (let rf = 1; rf <= n; rf++) {
        for (const partitions of [1, n - 1, n, 2 * n + 1, 50]) {
          if (partitions < 1) continue;
          for (let start = 0; start < n; start++) {
            const shape = `n=${n} rf=${rf} partitions=${partitions} start=${start}`;
            const assignment = assignReplicas(brokers, partitions, rf, start);
            if (assignment.length !== partitions) problems.push(`${shape}: ${assignment.length} partitions`);
            for (const replicas of assignment) {
              if (replicas.length !== rf || new Set(replicas).size !== rf || !replicas.every((r) => brokers.includes(r))) {
                problems.push(`${shape}: replicas [${replicas.join(',')}]`);
              }
            }
            const counts = [...leaderCounts(assignment).values()];
            if (partitions >= n && Math.max(...counts) - Math.min(...counts) > 1) problems.push(`${shape}: leaders ${counts.join(',')}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('varies the followers of a leader as partitions wrap around the brokers', () => {
    const assignment = assignReplicas([1, 2, 3, 4], 8, 2, 0);
    expect(assignment.slice(0, 4)).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 1],
    ]);
    expect(assignment.slice(4)).toEqual([
      [1, 3],
      [2, 4],
      [3, 1],
      [4, 2],
    ]);
  });

  it('starts at the broker leading the fewest partitions', () => {
    expect(
      leastLoadedIndex(
        [1, 2, 3],
        new Map([
          [1, 4],
          [2, 1],
          [3, 1],
        ]),
      ),
    ).toBe(1);
    expect(leastLoadedIndex([1, 2, 3], new Map())).toBe(0);
  });

  it('refuses a replication factor the brokers cannot meet', () => {
    expect(() => assignReplicas([1, 2], 1, 3, 0)).toThrow(RangeError);
  });
});
