import { describe, expect, it } from 'vitest';
import { serdes } from '@samsa/client';
import { JoinWindows, StreamsBuilder, StreamsError, planInternalTopics } from '@samsa/streams';

const S = serdes.string;

describe('internal topic planning', () => {
  it("changelogs get their sub-topology's partition count; a repartition topic joined with a source takes its count", () => {
    const b = new StreamsBuilder();
    const clicks = b.stream('clicks', { keySerde: S, valueSerde: S });
    const users = b.stream('users', { keySerde: S, valueSerde: S });
    clicks
      .selectKey((_k, v) => v)
      .join(users, (c, u) => `${c}${u}`, JoinWindows.ofTimeDifferenceWithNoGrace(10))
      .to('out');
    clicks.groupByKey().count({ name: 'per-key' });
    const plan = planInternalTopics(
      b.build(),
      new Map([
        ['clicks', 8],
        ['users', 3],
      ]),
    );
    expect(plan.topics.map((t) => [t.name.replace(/\d{10}/, 'N'), t.kind, t.partitions])).toEqual([
      ['KSTREAM-JOINOTHER-N-store-changelog', 'changelog', 3],
      ['KSTREAM-JOINTHIS-N-store-changelog', 'changelog', 3],
      ['KSTREAM-REPARTITION-N-repartition', 'repartition', 3], // co-partitioned with users, not 8
      ['per-key-changelog', 'changelog', 8],
    ]);
    expect(plan.topics.find((t) => t.name === 'per-key-changelog')!.configs['cleanup.policy']).toBe('compact');
    expect(plan.storeTasks.get('per-key')).toEqual({ subTopology: 0, partitions: 8 });
  });

  it('a join of topics with different partition counts is refused with a clear error', () => {
    const b = new StreamsBuilder();
    const t = b.table('users', { keySerde: S, valueSerde: S });
    b.stream('clicks', { keySerde: S, valueSerde: S })
      .join(t, (c, u) => `${c}${u}`)
      .to('out');
    expect(() =>
      planInternalTopics(
        b.build(),
        new Map([
          ['clicks', 8],
          ['users', 3],
        ]),
      ),
    ).toThrowError(StreamsError);
    expect(() =>
      planInternalTopics(
        b.build(),
        new Map([
          ['clicks', 8],
          ['users', 3],
        ]),
      ),
    ).toThrowError(/not co-partitioned \(users: 3, clicks: 8\)/);
    expect(() => planInternalTopics(b.build(), new Map([['clicks', 8]]))).toThrowError(/source topic users does not exist/);
  });

  it('a fixed repartition count that contradicts its co-partitioned sibling is refused', () => {
    const b = new StreamsBuilder();
    const t = b.table('users', { keySerde: S, valueSerde: S });
    b.stream('clicks', { keySerde: S, valueSerde: S })
      .repartition({ numberOfPartitions: 5 })
      .join(t, (c, u) => `${c}${u}`)
      .to('out');
    expect(() =>
      planInternalTopics(
        b.build(),
        new Map([
          ['clicks', 8],
          ['users', 3],
        ]),
      ),
    ).toThrowError(/asks for 5 partitions but is read with topics of 3/);
  });
});
