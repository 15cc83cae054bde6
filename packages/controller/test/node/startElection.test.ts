/**
 * A controller campaigns as soon as it starts (ControllerNode.start), not one randomized election
 * timeout later: on a clock that never moves (testkit's manualTimers, so no tick ever fires) a
 * lone voter still becomes the active controller. Before, it waited electionTicks..2×electionTicks
 * ticks, and `samsa cluster up` waited 0.5-1 s for its first active controller.
 */
import { manualTimers } from '@samsa/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './helpers.js';

let c: TestCluster | undefined;

afterEach(async () => {
  await c?.destroy();
  c = undefined;
});

describe('the first election', () => {
  it('a lone voter is active at start, with no election timeout elapsed (its clock never moves)', async () => {
    const clock = manualTimers();
    c = await TestCluster.create(1, {}, clock);
    await c.startAll();
    const active = await c.waitForActive(10_000);
    expect(active.nodeId).toBe(1);
    expect(active.isActive()).toBe(true);
  });
});
