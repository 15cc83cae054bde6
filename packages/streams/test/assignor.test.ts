import { describe, expect, it } from 'vitest';
import { CopartitionError, placeTasks, streamsAssignor, tasksFor } from '../src/runtime/assignor.js';

const member = (id: string) => ({
  memberId: `m-${id}`,
  groupInstanceId: id,
  subscription: { topics: ['a', 'b', 'r'], userData: null, ownedPartitions: [], generationId: -1 },
});

describe('the Streams assignor', () => {
  const subs = [
    { id: 0, topics: ['a', 'b'] },
    { id: 1, topics: ['r'] },
  ];

  it('a task takes the same partition of every co-partitioned source topic', () => {
    const tasks = tasksFor(
      subs,
      new Map([
        ['a', 2],
        ['b', 2],
        ['r', 3],
      ]),
    );
    expect(tasks.map((t) => [t.id, t.partitions.map((p) => `${p.topic}-${p.partition}`)])).toEqual([
      ['0_0', ['a-0', 'b-0']],
      ['0_1', ['a-1', 'b-1']],
      ['1_0', ['r-0']],
      ['1_1', ['r-1']],
      ['1_2', ['r-2']],
    ]);
    expect(() =>
      tasksFor(
        subs,
        new Map([
          ['a', 2],
          ['b', 3],
        ]),
      ),
    ).toThrowError(CopartitionError);
  });

  it('spreads tasks evenly and keeps them where they were when members come and go', () => {
    const assignor = streamsAssignor(subs);
    const counts = new Map([
      ['a', 4],
      ['b', 4],
      ['r', 4],
    ]);
    const first = assignor.assign([member('x'), member('y')], counts);
    expect([...first.values()].map((l) => l.length)).toEqual([6, 6]); // 4 tasks of 2 partitions + 4 of 1
    const ownersBefore = new Map(assignor.lastTaskOwners());
    const second = assignor.assign([member('x'), member('y'), member('z')], counts);
    expect(second.size).toBe(3);
    const after = assignor.lastTaskOwners();
    const perOwner = ['x', 'y', 'z'].map((o) => [...after.values()].filter((v) => v === o).length);
    expect(perOwner.sort()).toEqual([2, 3, 3]); // 8 tasks over 3 members
    const moved = [...after].filter(([task, owner]) => ownersBefore.get(task) !== owner);
    expect(moved.every(([, owner]) => owner === 'z')).toBe(true); // only what the newcomer takes moves
    expect(moved.length).toBe(2);
    // z leaves: its tasks go back, x and y keep theirs.
    assignor.assign([member('x'), member('y')], counts);
    const back = assignor.lastTaskOwners();
    for (const [task, owner] of after) if (owner !== 'z') expect(back.get(task)).toBe(owner);
  });

  it('placement is balanced for any sticky history', () => {
    const prev = new Map(Array.from({ length: 10 }, (_, i) => [`t${i}`, 'a'] as [string, string]));
    const placed = placeTasks([...prev.keys()], ['a', 'b', 'c'], prev);
    expect([...placed.values()].map((l) => l.length).sort()).toEqual([3, 3, 4]);
  });
});
