/** The seeded nemesis schedule: a seed replays the same faults; faults stay apart and inside the run. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NEMESES,
  NEMESIS_TYPES,
  parseNemeses,
  planNemeses,
  reassignmentTarget,
  type ScheduleOptions,
} from '../src/chaos/schedule.js';

const base: ScheduleOptions = { seed: 42, durationMs: 60_000, types: NEMESIS_TYPES, brokers: 3, sessionTimeoutMs: 3_000 };

describe('nemesis schedule', () => {
  it('is a function of the seed', () => {
    expect(planNemeses(base)).toEqual(planNemeses({ ...base }));
    expect(planNemeses({ ...base, seed: 43 })).not.toEqual(planNemeses(base));
  });

  it('never overlaps two faults and ends every fault inside the run', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const events = planNemeses({ ...base, seed });
      expect(events.length).toBeGreaterThan(0);
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        expect(e.atMs).toBeGreaterThanOrEqual(5_000);
        expect(e.atMs + e.holdMs).toBeLessThanOrEqual(55_000);
        if (i > 0) expect(e.atMs).toBeGreaterThanOrEqual(events[i - 1]!.atMs + events[i - 1]!.holdMs + 3_000);
        expect(e.id).toBe(i);
        if (e.type === 'kill' || e.type === 'pause' || e.type === 'partition') expect(e.target).toBeGreaterThanOrEqual(0);
        if (e.type === 'kill' || e.type === 'pause' || e.type === 'partition') expect(e.target).toBeLessThan(3);
        // A pause or partition outlasts the session timeout, so the broker is fenced meanwhile.
        if (e.type === 'pause' || e.type === 'partition') expect(e.holdMs).toBeGreaterThan(3_000);
      }
    }
  });

  it('covers every enabled type when the run is long enough', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const types = new Set(
        planNemeses({ ...base, seed, types: ['kill', 'pause', 'controller-kill'], durationMs: 40_000 }).map((e) => e.type),
      );
      expect([...types].sort()).toEqual(['controller-kill', 'kill', 'pause']);
    }
  });

  it('leaves the coordinator-kill target to the run (the coordinator when it fires)', () => {
    const events = planNemeses({ ...base, types: ['coordinator-kill', 'kill'], durationMs: 40_000 });
    expect(events.some((e) => e.type === 'coordinator-kill')).toBe(true);
    for (const e of events) expect(e.target === -1).toBe(e.type === 'coordinator-kill');
  });

  it('plans nothing without types or time', () => {
    expect(planNemeses({ ...base, types: [] })).toEqual([]);
    expect(planNemeses({ ...base, durationMs: 1_000 })).toEqual([]);
  });

  it('parses --nemesis and refuses unknown names', () => {
    expect(parseNemeses('kill, pause,kill')).toEqual(['kill', 'pause']);
    expect(() => parseNemeses('kill,flood')).toThrow(/unknown nemesis 'flood'/);
  });
});

describe('reassign and disk-full nemeses', () => {
  it('give reassign a seeded partition of the topic and disk-full a broker, outlasting the session for disk-full', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const events = planNemeses({ ...base, seed, types: ['reassign', 'disk-full'], partitions: 6 });
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        expect(e.target).toBeGreaterThanOrEqual(0);
        expect(e.target).toBeLessThan(3);
        if (e.type === 'reassign') {
          expect(e.partition).toBeGreaterThanOrEqual(0);
          expect(e.partition).toBeLessThan(6);
        } else {
          expect(e.partition).toBeUndefined();
          expect(e.holdMs).toBeGreaterThan(3_000);
        }
      }
    }
    const types = new Set(planNemeses({ ...base, types: ['reassign', 'disk-full'] }).map((e) => e.type));
    expect([...types].sort()).toEqual(['disk-full', 'reassign']);
  });

  it('are asked for by name, not run by default', () => {
    expect(parseNemeses('reassign,disk-full')).toEqual(['reassign', 'disk-full']);
    expect(DEFAULT_NEMESES).not.toContain('reassign');
    expect(DEFAULT_NEMESES).not.toContain('disk-full');
    expect(NEMESIS_TYPES).toEqual(expect.arrayContaining([...DEFAULT_NEMESES, 'reassign', 'disk-full']));
  });
});

describe('reassignmentTarget', () => {
  it('moves the victim’s replica to a broker that holds none, keeping the order', () => {
    expect(reassignmentTarget([1, 2, 3], [1, 2, 3, 4], 2)).toEqual([1, 4, 3]);
    expect(reassignmentTarget([4, 1, 2], [1, 2, 3, 4], 4)).toEqual([3, 1, 2]);
  });

  it('drops the victim’s replica when every broker holds one (the move back re-adds it)', () => {
    expect(reassignmentTarget([1, 2, 3], [1, 2, 3], 1)).toEqual([2, 3]);
    expect(reassignmentTarget([3, 1, 2], [1, 2, 3], 2)).toEqual([3, 1]);
  });

  it('moves nothing when the victim holds no replica', () => {
    expect(reassignmentTarget([1, 2], [1, 2, 3], 3)).toBeUndefined();
  });
});
