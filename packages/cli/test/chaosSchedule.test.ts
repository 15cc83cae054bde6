/** The seeded nemesis schedule: a seed replays the same faults; faults stay apart and inside the run. */
import { describe, expect, it } from 'vitest';
import { NEMESIS_TYPES, parseNemeses, planNemeses, type ScheduleOptions } from '../src/chaos/schedule.js';

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
