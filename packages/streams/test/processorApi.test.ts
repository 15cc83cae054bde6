import { describe, expect, it } from 'vitest';
import { serdes, type Serde } from '@samsa/client';
import {
  KeyValueStore,
  SessionStore,
  StreamsBuilder,
  Stores,
  TopologyTestDriver,
  WindowStore,
  streamsSerdes,
  TimeWindows,
} from '@samsa/streams';
import type { ProcessorContext, StreamRecord } from '@samsa/streams';

const S = serdes.string;
/** A string serde for streams whose values are never null (join results, mapped values). */
const Str = serdes.string as Serde<string>;
const L = streamsSerdes.long;

describe('Processor API', () => {
  it('process() with a store, context.forward, and stream-time and wall-clock punctuation', () => {
    const b = new StreamsBuilder();
    b.addStateStore(Stores.keyValue('totals', S, L));
    const fired: string[] = [];
    b.stream('in', { keySerde: S, valueSerde: L })
      .process<string, number>(() => {
        let ctx: ProcessorContext<string, number>;
        let store: KeyValueStore<string, number>;
        return {
          init(c) {
            ctx = c;
            store = c.getStateStore('totals');
            c.schedule(10, 'STREAM_TIME', (ts) => {
              fired.push(`stream@${ts}`);
              for (const { key, value } of store.all()) ctx.forward({ key, value, timestamp: ts, headers: {} });
            });
            c.schedule(1000, 'WALL_CLOCK_TIME', (ts) => fired.push(`wall@${ts}`));
          },
          process(r: StreamRecord<string | null, number | null>) {
            expect(ctx.recordMetadata()).toMatchObject({ topic: 'in', partition: 0 });
            store.put(r.key!, (store.get(r.key!) ?? 0) + r.value!);
          },
        };
      }, 'totals')
      .to('totals-out', { keySerde: Str, valueSerde: L as Serde<number> });
    const d = new TopologyTestDriver(b.build(), { applicationId: 'p', initialWallClockTimeMs: 5000 });
    const input = d.createInputTopic('in', S, L);
    input.pipeInput('a', 1, 100); // first record: the stream-time schedule starts (fires at 100)
    input.pipeInput('a', 2, 105);
    input.pipeInput('b', 5, 111); // 111 >= 110: fires
    input.pipeInput('b', 5, 115);
    d.advanceWallClockTime(999);
    d.advanceWallClockTime(1);
    expect(fired).toEqual(['stream@100', 'stream@111', 'wall@6000']);
    expect(d.createOutputTopic('totals-out', S, L).readKeyValuesToList()).toEqual([
      { key: 'a', value: 1 },
      { key: 'a', value: 3 },
      { key: 'b', value: 5 },
    ]);
    expect(d.getKeyValueStore('totals').get('b')).toBe(10);
  });

  it('a processor cannot reach a store it was not connected to', () => {
    const b = new StreamsBuilder();
    b.addStateStore(Stores.keyValue('secret', S, S));
    b.stream('in').process(() => ({
      init(c: ProcessorContext) {
        c.getStateStore('secret');
      },
      process() {},
    }));
    expect(() => new TopologyTestDriver(b.build())).toThrowError(/has no access to store secret/);
  });
});

describe('stores restore from their changelogs', () => {
  function replay(
    source: { all(): unknown },
    target: { restore(k: Buffer, v: Buffer | null): void; all(): unknown },
    log: Array<{ key: Buffer; value: Buffer | null }>,
  ) {
    for (const r of log) target.restore(r.key, r.value);
    expect(target.all()).toEqual(source.all());
  }

  it('key-value, window (with duplicates) and session stores rebuilt from their changelog equal the originals', () => {
    const log: Array<{ key: Buffer; value: Buffer | null }> = [];
    const writer = (key: Buffer, value: Buffer | null) => log.push({ key, value });

    const kv = new KeyValueStore('kv', S, L);
    kv.attachChangelog(writer);
    kv.put('a', 1);
    kv.put('b', 2);
    kv.put('a', 3);
    kv.delete('b');
    kv.put('c', 4);
    replay(kv, new KeyValueStore('kv', S, L), log.splice(0));

    const opts = { retentionMs: 100, windowSizeMs: 10, retainDuplicates: true };
    const ws = new WindowStore('ws', S, S, opts);
    ws.attachChangelog(writer);
    ws.put('a', 'x', 0);
    ws.put('a', 'y', 0);
    ws.put('b', 'z', 50);
    ws.put('a', 'w', 200); // 200 expires the start-0 entries
    expect(ws.fetchRange('a', 0, 1000).map((e) => e.value)).toEqual(['w']);
    const restored = new WindowStore('ws', S, S, opts);
    replay(ws, restored, log.splice(0));
    // Sequence numbers continue after a restore, so new duplicates do not overwrite restored ones.
    restored.put('a', 'v', 200);
    expect(restored.fetchRange('a', 200, 200).map((e) => e.value)).toEqual(['w', 'v']);

    const ss = new SessionStore('ss', S, L, { retentionMs: 100 });
    ss.attachChangelog(writer);
    ss.put({ key: 'a', window: { start: 0, end: 5 } }, 2);
    ss.put({ key: 'a', window: { start: 20, end: 20 } }, 1);
    ss.remove({ key: 'a', window: { start: 0, end: 5 } });
    ss.put({ key: 'a', window: { start: 0, end: 20 } }, 3);
    replay(ss, new SessionStore('ss', S, L, { retentionMs: 100 }), log.splice(0));
  });

  it("a topology's store rebuilt from the driver's changelog output equals the live store", () => {
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: S, valueSerde: S }).groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(10, 100)).count({ name: 'w' });
    const d = new TopologyTestDriver(b.build(), { applicationId: 'r' });
    const input = d.createInputTopic('in', S, S);
    for (const [k, t] of [
      ['a', 1],
      ['b', 3],
      ['a', 12],
      ['a', 5],
      ['c', 29],
    ] as const)
      input.pipeInput(k, 'x', t);
    const changelog = d.createOutputTopic('r-w-changelog', serdes.bytes, serdes.bytes).readRecordsToList();
    const rebuilt = new WindowStore('w', S, L, { retentionMs: 110, windowSizeMs: 10, retainDuplicates: false });
    for (const r of changelog) rebuilt.restore(r.key!, r.value);
    expect(rebuilt.all()).toEqual(d.getWindowStore('w').all());
    expect(rebuilt.all().length).toBe(4);
  });
});

describe('describe()', () => {
  it('prints sub-topologies with deterministic names, and two builds of one program are identical', () => {
    const program = () => {
      const b = new StreamsBuilder();
      const words = b.stream('text', { keySerde: S, valueSerde: S }).flatMapValues((v) => v!.split(' '));
      words
        .groupBy((_k, w) => w, { keySerde: S })
        .count({ name: 'counts' })
        .toStream()
        .to('counts');
      words.filter((_k, w) => w!.length > 3).to('long-words');
      return b.build();
    };
    const text = program().describe();
    expect(program().describe()).toBe(text);
    expect(text).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [text])',
        '      --> KSTREAM-FLATMAPVALUES-0000000001',
        '    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])',
        '      --> KSTREAM-KEY-SELECT-0000000002, KSTREAM-FILTER-0000000008',
        '      <-- KSTREAM-SOURCE-0000000000',
        '    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])',
        '      --> KSTREAM-SINK-0000000004',
        '      <-- KSTREAM-FLATMAPVALUES-0000000001',
        '    Sink: KSTREAM-SINK-0000000004 (topic: counts-repartition)',
        '      <-- KSTREAM-KEY-SELECT-0000000002',
        '    Processor: KSTREAM-FILTER-0000000008 (stores: [])',
        '      --> KSTREAM-SINK-0000000009',
        '      <-- KSTREAM-FLATMAPVALUES-0000000001',
        '    Sink: KSTREAM-SINK-0000000009 (topic: long-words)',
        '      <-- KSTREAM-FILTER-0000000008',
        '   Sub-topology: 1',
        '    Source: KSTREAM-SOURCE-0000000005 (topics: [counts-repartition])',
        '      --> KSTREAM-AGGREGATE-0000000003',
        '    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts])',
        '      --> KTABLE-TOSTREAM-0000000006',
        '      <-- KSTREAM-SOURCE-0000000005',
        '    Processor: KTABLE-TOSTREAM-0000000006 (stores: [])',
        '      --> KSTREAM-SINK-0000000007',
        '      <-- KSTREAM-AGGREGATE-0000000003',
        '    Sink: KSTREAM-SINK-0000000007 (topic: counts)',
        '      <-- KTABLE-TOSTREAM-0000000006',
        '',
      ].join('\n'),
    );
    expect(
      program()
        .internalTopics()
        .map((t) => [t.name, t.kind, t.configs['cleanup.policy']]),
    ).toEqual([
      ['counts-changelog', 'changelog', 'compact'],
      ['counts-repartition', 'repartition', 'delete'],
    ]);
  });
});
