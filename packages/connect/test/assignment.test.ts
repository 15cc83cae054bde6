/**
 * The distributed assignment rule and the generation fence (src/assignment.ts): tasks spread one by
 * one, incremental on join and death, stale generations start nothing, stale statuses are ignored;
 * plus a seeded run of random joins, deaths and connector changes checking the invariants.
 */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ASSIGNMENT,
  acceptStatus,
  assignedTo,
  computeAssignment,
  mayStart,
  parseAssignment,
  taskKey,
  type Assignment,
  type ConnectorWork,
} from '../src/assignment.js';

const W = ['w1', 'w2', 'w3'];

describe('computeAssignment', () => {
  it("spreads one connector's three tasks over three workers, one each", () => {
    const a = computeAssignment(EMPTY_ASSIGNMENT, W, [{ name: 'c', taskCount: 3 }], 'w1')!;
    expect(a.generation).toBe(1);
    expect(a.members).toEqual(W);
    expect(a.connectors).toEqual({ c: 'w1' });
    expect(new Set(Object.values(a.tasks))).toEqual(new Set(W));
    for (const w of W) expect(assignedTo(a, w).tasks).toHaveLength(1);
  });

  it('answers undefined when nothing changed', () => {
    const a = computeAssignment(EMPTY_ASSIGNMENT, W, [{ name: 'c', taskCount: 3 }], 'w1')!;
    expect(computeAssignment(a, [...W].reverse(), [{ name: 'c', taskCount: 3 }], 'w1')).toBeUndefined();
  });

  it("moves only a dead worker's tasks; the others keep theirs", () => {
    const a = computeAssignment(EMPTY_ASSIGNMENT, W, [{ name: 'c', taskCount: 3 }], 'w1')!;
    const victim = a.tasks[taskKey('c', 1)]!;
    const live = W.filter((w) => w !== victim);
    const b = computeAssignment(a, live, [{ name: 'c', taskCount: 3 }], live[0]!)!;
    expect(b.generation).toBe(2);
    expect(b.members).toEqual(live);
    for (const i of [0, 2]) expect(b.tasks[taskKey('c', i)]).toBe(a.tasks[taskKey('c', i)]);
    expect(live).toContain(b.tasks[taskKey('c', 1)]);
    if (a.connectors.c !== victim) expect(b.connectors.c).toBe(a.connectors.c);
    else expect(live).toContain(b.connectors.c);
  });

  it('gives a joining worker only new work and a new generation (nothing revoked)', () => {
    const a = computeAssignment(EMPTY_ASSIGNMENT, ['w1', 'w2'], [{ name: 'c', taskCount: 2 }], 'w1')!;
    const b = computeAssignment(a, W, [{ name: 'c', taskCount: 2 }], 'w1')!;
    expect(b.generation).toBe(a.generation + 1);
    expect(b.members).toEqual(W);
    expect(b.tasks).toEqual(a.tasks);
    expect(b.connectors).toEqual(a.connectors);
    const c = computeAssignment(
      b,
      W,
      [
        { name: 'c', taskCount: 2 },
        { name: 'd', taskCount: 1 },
      ],
      'w1',
    )!;
    expect(c.tasks[taskKey('d', 0)]).toBe('w3');
    // w1 runs connector c; the connector goes to the least loaded of the others.
    expect(c.connectors.d).toBe('w2');
  });

  it('drops tasks beyond a lowered count and the tasks of a STOPPED (0 task) or deleted connector', () => {
    const a = computeAssignment(
      EMPTY_ASSIGNMENT,
      W,
      [
        { name: 'c', taskCount: 3 },
        { name: 'd', taskCount: 1 },
      ],
      'w1',
    )!;
    const b = computeAssignment(
      a,
      W,
      [
        { name: 'c', taskCount: 1 },
        { name: 'd', taskCount: 0 },
      ],
      'w1',
    )!;
    expect(Object.keys(b.tasks)).toEqual([taskKey('c', 0)]);
    expect(b.tasks[taskKey('c', 0)]).toBe(a.tasks[taskKey('c', 0)]);
    expect(b.connectors).toEqual({ c: a.connectors.c, d: a.connectors.d });
    const c = computeAssignment(b, W, [{ name: 'd', taskCount: 0 }], 'w1')!;
    expect(c.connectors).toEqual({ d: a.connectors.d });
    expect(c.tasks).toEqual({});
  });

  it('keeps its invariants through a seeded run of joins, deaths and connector changes', () => {
    // mulberry32, seeded.
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let live = ['w1', 'w2', 'w3'];
    let work: ConnectorWork[] = [];
    let a: Assignment = EMPTY_ASSIGNMENT;
    let nextWorker = 4;
    for (let step = 0; step < 500; step++) {
      const op = rnd(4);
      if (op === 0 && live.length > 1) {
        const dead = rnd(live.length);
        live = live.filter((_, i) => i !== dead);
      } else if (op === 1) live = [...live, `w${nextWorker++}`];
      else if (op === 2) work = [...work.filter((c) => c.name !== `c${step % 7}`), { name: `c${step % 7}`, taskCount: rnd(5) }];
      else if (work.length > 0) {
        const gone = rnd(work.length);
        work = work.filter((_, i) => i !== gone);
      }
      const next = computeAssignment(a, live, work, live[0]!);
      if (next === undefined) continue;
      expect(next.generation).toBe(a.generation + 1);
      // Every unit placed exactly on a live member; nothing else.
      expect(Object.keys(next.connectors).sort()).toEqual(work.map((c) => c.name).sort());
      expect(Object.keys(next.tasks).sort()).toEqual(
        work.flatMap((c) => Array.from({ length: c.taskCount }, (_, i) => taskKey(c.name, i))).sort(),
      );
      for (const w of [...Object.values(next.connectors), ...Object.values(next.tasks)]) expect(live).toContain(w);
      // Incremental: a unit whose worker is still live did not move.
      for (const [k, w] of Object.entries(a.tasks)) if (live.includes(w) && next.tasks[k] !== undefined) expect(next.tasks[k]).toBe(w);
      for (const [k, w] of Object.entries(a.connectors))
        if (live.includes(w) && next.connectors[k] !== undefined) expect(next.connectors[k]).toBe(w);
      a = next;
    }
    expect(a.generation).toBeGreaterThan(100);
  });
});

describe('generation fence', () => {
  const a = computeAssignment(EMPTY_ASSIGNMENT, W, [{ name: 'c', taskCount: 3 }], 'w1')!;
  const b = computeAssignment(a, ['w1', 'w2'], [{ name: 'c', taskCount: 3 }], 'w1')!;

  it('lets a member start work from the latest generation only', () => {
    expect(mayStart(a.generation, a, 'w2')).toBe(true);
    expect(mayStart(a.generation, b, 'w2')).toBe(false);
    expect(mayStart(b.generation, b, 'w2')).toBe(true);
  });

  it('refuses a worker the latest generation does not name, and generation 0', () => {
    expect(mayStart(b.generation, b, 'w3')).toBe(false);
    expect(mayStart(0, EMPTY_ASSIGNMENT, 'w1')).toBe(false);
  });

  it("ignores another worker's status from an older generation", () => {
    const current = { state: 'RUNNING', worker_id: 'w1', generation: 5 };
    expect(acceptStatus(current, { state: 'RUNNING', worker_id: 'w3', generation: 4 })).toBe(false);
    expect(acceptStatus(current, { state: 'FAILED', worker_id: 'w3', generation: 5 })).toBe(true);
    expect(acceptStatus(current, { state: 'PAUSED', worker_id: 'w1', generation: 4 })).toBe(true);
    expect(acceptStatus(undefined, { state: 'RUNNING', worker_id: 'w3', generation: 1 })).toBe(true);
  });

  it("never lets another worker's UNASSIGNED (its own copy stopped) replace the owner's status", () => {
    const current = { state: 'RUNNING', worker_id: 'w2', generation: 7 };
    expect(acceptStatus(current, { state: 'UNASSIGNED', worker_id: 'w1', generation: 7 })).toBe(false);
    expect(acceptStatus(current, { state: 'UNASSIGNED', worker_id: 'w1', generation: 9 })).toBe(false);
    expect(acceptStatus(current, { state: 'UNASSIGNED', worker_id: 'w2', generation: 7 })).toBe(true);
  });

  it('reads older assignment records (owners only) and junk without throwing', () => {
    expect(parseAssignment({ generation: 3, leader: 'w1', owners: { c: 'w2' } })).toEqual({
      generation: 3,
      leader: 'w1',
      members: [],
      connectors: { c: 'w2' },
      tasks: {},
    });
    expect(parseAssignment(null)).toEqual(EMPTY_ASSIGNMENT);
    expect(parseAssignment({ generation: 'x', tasks: { a: 1 }, members: [1, 'w1'] })).toEqual({ ...EMPTY_ASSIGNMENT, members: ['w1'] });
  });
});
