/** A partition registration's reassignment fields (KIP-455): merge, invariants and the derived replica lists. */
import { describe, expect, it } from 'vitest';
import {
  isReassigning,
  mergePartitionChange,
  originalReplicas,
  partitionFromRecord,
  partitionProblem,
  targetReplicas,
} from '../src/index.js';

const base = partitionFromRecord({
  type: 'Partition',
  topicId: 't',
  partition: 0,
  replicas: [1, 2],
  isr: [1, 2],
  leader: 1,
  leaderEpoch: 0,
  partitionEpoch: 0,
});

describe('partition reassignment fields', () => {
  it('start empty, merge as whole lists and keep their value when a change leaves them out', () => {
    expect(base).toMatchObject({ addingReplicas: [], removingReplicas: [] });
    expect(isReassigning(base)).toBe(false);
    const moving = mergePartitionChange(base, { replicas: [3, 1, 2], addingReplicas: [3], removingReplicas: [1, 2] });
    expect(isReassigning(moving)).toBe(true);
    expect(originalReplicas(moving)).toEqual([1, 2]);
    expect(targetReplicas(moving)).toEqual([3]);
    const isrChanged = mergePartitionChange(moving, { isr: [1, 2, 3] });
    expect(isrChanged).toMatchObject({ addingReplicas: [3], removingReplicas: [1, 2], partitionEpoch: 2, leaderEpoch: 0 });
    const done = mergePartitionChange(isrChanged, { replicas: [3], isr: [3], leader: 3, addingReplicas: [], removingReplicas: [] });
    expect(isReassigning(done)).toBe(false);
    expect(partitionProblem(done)).toBeUndefined();
  });

  it('must be subsets of the replicas and disjoint', () => {
    expect(partitionProblem(mergePartitionChange(base, { addingReplicas: [9] }))).toMatch(/adding replicas/);
    expect(partitionProblem(mergePartitionChange(base, { removingReplicas: [9] }))).toMatch(/removing replicas/);
    expect(partitionProblem(mergePartitionChange(base, { addingReplicas: [1], removingReplicas: [1] }))).toMatch(/removing replicas/);
  });
});
