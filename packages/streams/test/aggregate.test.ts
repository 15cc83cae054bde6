import { describe, expect, it } from 'vitest';
import { serdes, type Serde } from '@samsa/client';
import { StreamsBuilder, Suppressed, TopologyTestDriver, streamsSerdes } from '@samsa/streams';
import type { Windowed } from '@samsa/streams';

const S = serdes.string;
/** A string serde for streams whose values are never null (join results, mapped values). */
const Str = serdes.string as Serde<string>;
const L = streamsSerdes.long;
const N = serdes.json<number>();

describe('groupBy / count / reduce / aggregate and KTable operators', () => {
  it('groupByKey().count() keeps a logged count per key and forwards every update', () => {
    const b = new StreamsBuilder();
    b.stream('words', { keySerde: S, valueSerde: S }).groupByKey().count({ name: 'counts' }).toStream().to('counts-out');
    const d = new TopologyTestDriver(b.build(), { applicationId: 'wc' });
    const input = d.createInputTopic('words', S, S);
    for (const w of ['a', 'b', 'a', 'a']) input.pipeInput(w, 'x', 1);
    expect(d.createOutputTopic('counts-out', S, L).readKeyValuesToList()).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 1 },
      { key: 'a', value: 2 },
      { key: 'a', value: 3 },
    ]);
    expect(d.getKeyValueStore<string, number>('counts').all()).toEqual([
      { key: 'a', value: 3 },
      { key: 'b', value: 1 },
    ]);
    // Every store write went to the changelog.
    expect(
      d
        .createOutputTopic('wc-counts-changelog', S, L)
        .readKeyValuesToList()
        .map((r) => `${r.key}=${r.value}`),
    ).toEqual(['a=1', 'b=1', 'a=2', 'a=3']);
  });

  it('groupBy repartitions through <app>-<store>-repartition, and null keys/values are dropped and counted', () => {
    const b = new StreamsBuilder();
    b.stream('lines', { keySerde: S, valueSerde: S })
      .flatMapValues((v) => v!.split(' '))
      .groupBy((_k, word) => (word === 'null' ? null : word), { keySerde: S, valueSerde: Str })
      .count({ name: 'word-counts' });
    const d = new TopologyTestDriver(b.build(), { applicationId: 'wc' });
    d.createInputTopic('lines', S, S).pipeInput(null, 'to be or not to be null', 1);
    expect(d.producedTopicNames()).toEqual(['wc-word-counts-changelog', 'wc-word-counts-repartition']);
    expect(
      Object.fromEntries(
        d
          .getKeyValueStore<string, number>('word-counts')
          .all()
          .map((e) => [e.key, e.value]),
      ),
    ).toEqual({ be: 2, not: 1, or: 1, to: 2 });
    expect(d.droppedRecords()['1_0']).toBe(1);
  });

  it('reduce and aggregate; KTable filter/mapValues send tombstones when a key stops passing', () => {
    const b = new StreamsBuilder();
    const grouped = b.stream('nums', { keySerde: S, valueSerde: N }).groupByKey();
    grouped
      .reduce((a, v) => a! + v!, { name: 'sum' })
      .toStream()
      .to('sum-out', { valueSerde: N });
    const agg = grouped.aggregate(
      () => [] as number[],
      (_k, v, list) => [...list, v!],
      { name: 'lists' },
    );
    agg
      .mapValues((l) => l.length)
      .filter((_k, n) => n % 2 === 1)
      .toStream()
      .to('odd-lengths', { valueSerde: N });
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('nums', S, N);
    input.pipeInput('k', 5, 1);
    input.pipeInput('k', 7, 2);
    input.pipeInput('j', 1, 3);
    expect(d.createOutputTopic('sum-out', S, N).readKeyValuesToList()).toEqual([
      { key: 'k', value: 5 },
      { key: 'k', value: 12 },
      { key: 'j', value: 1 },
    ]);
    expect(d.createOutputTopic('odd-lengths', S, N).readKeyValuesToList()).toEqual([
      { key: 'k', value: 1 },
      { key: 'k', value: null },
      { key: 'j', value: 1 },
    ]);
    expect(d.getKeyValueStore<string, number[]>('lists').get('k')).toEqual([5, 7]);
  });

  it('a table from a topic keeps the latest value per key; a tombstone deletes it', () => {
    const b = new StreamsBuilder();
    b.table('users', { keySerde: S, valueSerde: S }, { name: 'users-store' }).toStream().to('users-out');
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('users', S, S);
    input.pipeInput('u1', 'ann', 1);
    input.pipeInput('u1', 'anne', 2);
    input.pipeInput('u2', 'bob', 3);
    input.pipeInput('u2', null, 4);
    expect(d.getKeyValueStore('users-store').all()).toEqual([{ key: 'u1', value: 'anne' }]);
    expect(d.createOutputTopic('users-out', S, S).readKeyValuesToMap()).toEqual(new Map([['"u1"', 'anne']]));
  });
});

describe('windowed aggregations with grace and stream time', () => {
  const key = (w: Windowed<string | null>) => `${w.key}@${w.window.start}-${w.window.end}`;

  it('tumbling: out-of-order records within grace count; late records are dropped and counted', () => {
    const b = new StreamsBuilder();
    b.stream('clicks', { keySerde: S, valueSerde: S })
      .groupByKey()
      .windowedBy(TimeWindowsOf(10, 5))
      .count({ name: 'tumbling' })
      .toStream()
      .to('out');
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('clicks', S, S);
    input.pipeInput('a', 'x', 3); // [0,10)
    input.pipeInput('a', 'x', 12); // [10,20), stream time 12
    input.pipeInput('a', 'x', 7); // [0,10) still open: 10 + 5 > 12
    input.pipeInput('a', 'x', 16); // stream time 16: [0,10) closes (10 + 5 <= 16)
    input.pipeInput('a', 'x', 8); // late: dropped
    const out = d
      .createOutputTopic('out', streamsSerdes.windowed(S), L)
      .readKeyValuesToList()
      .map((r) => `${key(r.key)}=${r.value}`);
    expect(out).toEqual(['a@0-10=1', 'a@10-20=1', 'a@0-10=2', 'a@10-20=2']);
    expect(d.droppedRecords()).toEqual({ '0_0': 1 });
    expect(
      d
        .getWindowStore<string, number>('tumbling')
        .fetchRange('a', 0, 100)
        .map((e) => [e.start, e.value]),
    ).toEqual([
      [0, 2],
      [10, 2],
    ]);
  });

  it('hopping: a record updates each window it falls in, and only the closed ones drop it', () => {
    const b = new StreamsBuilder();
    b.stream('c', { keySerde: S, valueSerde: S }).groupByKey().windowedBy(TimeWindowsOf(10, 0).advanceBy(5)).count().toStream().to('out');
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('c', S, S);
    input.pipeInput('a', 'x', 7); // [0,10) and [5,15)
    input.pipeInput('a', 'x', 12); // [5,15) and [10,20); stream time 12 closes [0,10)
    input.pipeInput('a', 'x', 6); // [0,10) closed, [5,15) open: counted once, not dropped
    input.pipeInput('a', 'x', 1); // only [0,10): dropped
    const out = d
      .createOutputTopic('out', streamsSerdes.windowed(S), L)
      .readKeyValuesToList()
      .map((r) => `${key(r.key)}=${r.value}`);
    expect(out).toEqual(['a@0-10=1', 'a@5-15=1', 'a@5-15=2', 'a@10-20=1', 'a@5-15=3']);
    expect(d.droppedRecords()).toEqual({ '0_0': 1 });
  });

  it('suppress(untilWindowCloses) emits one final result per window, when stream time closes it', () => {
    const b = new StreamsBuilder();
    b.stream('c', { keySerde: S, valueSerde: S })
      .groupByKey()
      .windowedBy(TimeWindowsOf(10, 2))
      .count()
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('final');
    const d = new TopologyTestDriver(b.build(), { applicationId: 'sup' });
    const input = d.createInputTopic('c', S, S);
    const final = d.createOutputTopic('final', streamsSerdes.windowed(S), L);
    input.pipeInput('a', 'x', 1);
    input.pipeInput('b', 'x', 2);
    input.pipeInput('a', 'x', 9);
    input.pipeInput('a', 'x', 11); // stream time 11 < 10 + 2: nothing final yet
    expect(final.isEmpty()).toBe(true);
    input.pipeInput('b', 'x', 12); // closes [0,10)
    expect(final.readKeyValuesToList().map((r) => `${key(r.key)}=${r.value}`)).toEqual(['a@0-10=2', 'b@0-10=1']);
    input.pipeInput('a', 'x', 30);
    expect(final.readKeyValuesToList().map((r) => `${key(r.key)}=${r.value}`)).toEqual(['a@10-20=1', 'b@10-20=1']);
    expect(d.producedTopicNames().filter((t) => /^sup-KTABLE-SUPPRESS-\d{10}-store-changelog$/.test(t))).toHaveLength(1);
  });

  it('sliding: one window per distinct set of records at most d apart; late records dropped', () => {
    const b = new StreamsBuilder();
    b.stream('c', { keySerde: S, valueSerde: S }).groupByKey().windowedBy(SlidingOf(10, 5)).count({ name: 'sliding' }).toStream().to('out');
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('c', S, S);
    input.pipeInput('a', 'x', 20);
    input.pipeInput('a', 'x', 25);
    input.pipeInput('a', 'x', 40); // stream time 40
    input.pipeInput('a', 'x', 27); // 27 + 10 + 5 >= 40: on time, out of order
    input.pipeInput('a', 'x', 22); // 22 + 10 + 5 < 40: late
    const store = d.getWindowStore<string, number>('sliding');
    const windows = store.fetchRange('a', 0, 100).map((e) => `${e.start}-${e.start + 10}=${e.value}`);
    // 27 arrives at stream time 40: its windows [17,27] and [21,31] have closed (end + 5 < 40), only
    // [26,36] (right after 25) is open and takes it. [10,20] has expired from the store.
    expect(windows).toEqual(['15-25=2', '21-31=1', '26-36=1', '30-40=1']);
    expect(d.droppedRecords()).toEqual({ '0_0': 1 });
    const out = d
      .createOutputTopic('out', streamsSerdes.windowed(S), L)
      .readKeyValuesToList()
      .map((r) => `${key(r.key)}=${r.value}`);
    expect(out).toEqual([
      'a@10-20=1', // 20
      'a@15-25=2',
      'a@21-31=1', // 25: the window ending at 25, and the new one right after 20
      'a@30-40=1', // 40: nothing within 10 before it
      'a@26-36=1', // 27
    ]);
  });

  it('session: records closer than the gap merge; merged sessions are replaced with tombstones; late ones dropped', () => {
    const b = new StreamsBuilder();
    b.stream('c', { keySerde: S, valueSerde: S }).groupByKey().windowedBy(SessionOf(5, 3)).count({ name: 'sessions' }).toStream().to('out');
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('c', S, S);
    input.pipeInput('a', 'x', 0);
    input.pipeInput('a', 'x', 10); // a new session: 10 - 0 > 5
    input.pipeInput('a', 'x', 5); // bridges [0,0] and [10,10] into [0,10]
    input.pipeInput('a', 'x', 30); // stream time 30: sessions ending before 27 are closed
    input.pipeInput('a', 'x', 12); // would merge [0,10] -> end 12 < 27: late
    const out = d
      .createOutputTopic('out', streamsSerdes.windowed(S), L)
      .readKeyValuesToList()
      .map((r) => `${key(r.key)}=${r.value}`);
    expect(out).toEqual(['a@0-0=1', 'a@10-10=1', 'a@0-0=null', 'a@10-10=null', 'a@0-10=3', 'a@30-30=1']);
    expect(
      d
        .getSessionStore<string, number>('sessions')
        .all()
        .map((e) => `${key(e.key)}=${e.value}`),
    ).toEqual(['a@30-30=1']); // [0,10] closed and expired
    expect(d.droppedRecords()).toEqual({ '0_0': 1 });
  });

  it('session: an on-time record still bridges an older session into an open one', () => {
    const b = new StreamsBuilder();
    b.stream('c', { keySerde: S, valueSerde: S }).groupByKey().windowedBy(SessionOf(5, 3)).count({ name: 'sessions' });
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('c', S, S);
    for (const t of [0, 10, 15]) input.pipeInput('a', 'x', t); // [0,0] and [10,15]; [0,0] is past retention
    input.pipeInput('a', 'x', 5); // touches both; the merged end 15 >= 15 - 3
    expect(
      d
        .getSessionStore<string, number>('sessions')
        .all()
        .map((e) => `${key(e.key)}=${e.value}`),
    ).toEqual(['a@0-15=4']);
    expect(d.droppedRecords()).toEqual({ '0_0': 0 });
  });
});

import { SessionWindows, SlidingWindows, TimeWindows } from '@samsa/streams';
function TimeWindowsOf(size: number, grace: number): TimeWindows {
  return TimeWindows.ofSizeAndGrace(size, grace);
}
function SlidingOf(d: number, grace: number): SlidingWindows {
  return SlidingWindows.ofTimeDifferenceAndGrace(d, grace);
}
function SessionOf(gap: number, grace: number): SessionWindows {
  return SessionWindows.ofInactivityGapAndGrace(gap, grace);
}
