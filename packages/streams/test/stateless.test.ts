import { describe, expect, it } from 'vitest';
import { serdes, type Serde } from '@samsa/client';
import { StreamsBuilder, TopologyTestDriver, StreamsError } from '@samsa/streams';

const S = serdes.string;
/** A string serde for streams whose values are never null (join results, mapped values). */
const Str = serdes.string as Serde<string>;
interface Tweet {
  user: string;
  followers: number;
  text: string;
}
const T = serdes.json<Tweet>();

function run(build: (b: StreamsBuilder) => void, feed: (d: TopologyTestDriver) => void): TopologyTestDriver {
  const b = new StreamsBuilder();
  build(b);
  const d = new TopologyTestDriver(b.build(), { applicationId: 'app' });
  feed(d);
  return d;
}

describe('stateless operators through the test driver', () => {
  it('filter keeps tweets from users with more than 10,000 followers (the course example)', () => {
    const d = run(
      (b) =>
        b
          .stream('tweets', { keySerde: S, valueSerde: T })
          .filter((_k, t) => t!.followers > 10_000)
          .to('important_tweets'),
      (d) => {
        const input = d.createInputTopic('tweets', S, T);
        input.pipeInput('a', { user: 'a', followers: 50, text: 'x' }, 1);
        input.pipeInput('b', { user: 'b', followers: 20_000, text: 'y' }, 2);
        input.pipeInput('c', { user: 'c', followers: 10_000, text: 'z' }, 3);
      },
    );
    const out = d.createOutputTopic('important_tweets', S, T).readRecordsToList();
    expect(out.map((r) => [r.key, r.value!.followers, r.timestamp])).toEqual([['b', 20_000, 2]]);
  });

  it('filterNot, map, mapValues, flatMap, flatMapValues, selectKey, peek and foreach', () => {
    const peeked: string[] = [];
    const seen: string[] = [];
    const d = run(
      (b) => {
        const s = b.stream<string | null, string | null>('in', { keySerde: S, valueSerde: S });
        s.filterNot((_k, v) => v === 'skip')
          .mapValues((v) => v!.toUpperCase())
          .to('upper', { keySerde: S, valueSerde: Str });
        s.map((k, v) => [v, k] as [string | null, string | null]).to('swapped', { keySerde: S, valueSerde: S });
        s.flatMap((k, v) => v!.split(',').map((p) => [`${k}-${p}`, p] as [string, string])).to('fm', { keySerde: Str, valueSerde: Str });
        s.flatMapValues((v) => v!.split(','))
          .peek((k, v) => peeked.push(`${k}:${v}`))
          .to('fmv', { keySerde: S, valueSerde: Str });
        s.selectKey((_k, v) => v!.length).to('bylen', { keySerde: serdes.json<number>() as Serde<number>, valueSerde: S });
        s.foreach((k, v) => seen.push(`${k}=${v}`));
      },
      (d) => {
        const input = d.createInputTopic('in', S, S);
        input.pipeInput('k1', 'a,b', 10);
        input.pipeInput('k2', 'skip', 11);
      },
    );
    expect(d.createOutputTopic('upper', S, S).readKeyValuesToList()).toEqual([{ key: 'k1', value: 'A,B' }]);
    expect(d.createOutputTopic('swapped', S, S).readKeyValuesToList()).toEqual([
      { key: 'a,b', value: 'k1' },
      { key: 'skip', value: 'k2' },
    ]);
    expect(d.createOutputTopic('fm', S, S).readKeyValuesToList()).toEqual([
      { key: 'k1-a', value: 'a' },
      { key: 'k1-b', value: 'b' },
      { key: 'k2-skip', value: 'skip' },
    ]);
    expect(
      d
        .createOutputTopic('fmv', S, S)
        .readRecordsToList()
        .map((r) => [r.key, r.value, r.timestamp]),
    ).toEqual([
      ['k1', 'a', 10],
      ['k1', 'b', 10],
      ['k2', 'skip', 11],
    ]);
    expect(peeked).toEqual(['k1:a', 'k1:b', 'k2:skip']);
    expect(d.createOutputTopic('bylen', serdes.json<number>(), S).readKeyValuesToList()).toEqual([
      { key: 3, value: 'a,b' },
      { key: 4, value: 'skip' },
    ]);
    expect(seen).toEqual(['k1=a,b', 'k2=skip']);
  });

  it('split routes each record to its first matching branch; branch() gives an array; merge joins streams', () => {
    const d = run(
      (b) => {
        const s = b.stream<string | null, string | null>('in', { keySerde: S, valueSerde: S });
        const branches = s
          .split({ name: 'by-' })
          .branch((_k, v) => v!.startsWith('a'), 'a')
          .branch((_k, v) => v!.startsWith('b'), 'b')
          .defaultBranch('rest');
        expect(Object.keys(branches)).toEqual(['by-a', 'by-b', 'by-rest']);
        branches['by-a']!.to('A');
        branches['by-b']!.to('B');
        branches['by-rest']!.to('R');
        const [x, y] = s.branch(
          (_k, v) => v!.length === 1,
          (_k, v) => v!.length >= 1,
        );
        x!.to('len1');
        x!.merge(y!).to('merged');
      },
      (d) => {
        const input = d.createInputTopic('in', S, S);
        for (const v of ['apple', 'b', 'cherry', 'a']) input.pipeInput('k', v, 0);
      },
    );
    const read = (t: string) =>
      d
        .createOutputTopic(t, S, S)
        .readKeyValuesToList()
        .map((r) => r.value);
    expect(read('A')).toEqual(['apple', 'a']);
    expect(read('B')).toEqual(['b']);
    expect(read('R')).toEqual(['cherry']);
    expect(read('len1')).toEqual(['b', 'a']);
    expect(read('merged')).toEqual(['apple', 'b', 'cherry', 'a']);
  });

  it('to() with a per-record topic, through() and repartition() read back what they wrote', () => {
    const d = run(
      (b) => {
        const s = b.stream<string | null, string | null>('in', { keySerde: S, valueSerde: S });
        s.to((_k, v) => `out-${v!.length % 2 === 0 ? 'even' : 'odd'}`);
        s.through('mid')
          .mapValues((v) => `${v}!`)
          .to('after-through', { valueSerde: Str }); // mapValues drops the value serde, as in Kafka
        s.selectKey((_k, v) => v)
          .repartition({ name: 'rekeyed', keySerde: S })
          .to('after-repartition');
      },
      (d) => {
        const input = d.createInputTopic('in', S, S);
        input.pipeInput('k', 'ab', 5);
        input.pipeInput('k', 'abc', 6);
      },
    );
    const read = (t: string) => d.createOutputTopic(t, S, S).readKeyValuesToList();
    expect(read('out-even')).toEqual([{ key: 'k', value: 'ab' }]);
    expect(read('out-odd')).toEqual([{ key: 'k', value: 'abc' }]);
    expect(read('mid')).toEqual([
      { key: 'k', value: 'ab' },
      { key: 'k', value: 'abc' },
    ]);
    expect(read('after-through')).toEqual([
      { key: 'k', value: 'ab!' },
      { key: 'k', value: 'abc!' },
    ]);
    expect(read('app-rekeyed-repartition')).toEqual([
      { key: 'ab', value: 'ab' },
      { key: 'abc', value: 'abc' },
    ]);
    expect(read('after-repartition')).toEqual([
      { key: 'ab', value: 'ab' },
      { key: 'abc', value: 'abc' },
    ]);
  });

  it('an undeserializable record fails the task by default, is skipped and counted with "continue", and copied to a DLQ', () => {
    const build = (b: StreamsBuilder) =>
      b.stream('in', { keySerde: S, valueSerde: serdes.json<number>() }).to('out', { keySerde: S, valueSerde: serdes.json<number>() });
    const bad = Buffer.from('{not json');
    const b1 = new StreamsBuilder();
    build(b1);
    const failing = new TopologyTestDriver(b1.build());
    expect(() => failing.createInputTopic('in', S, serdes.bytes).pipeInput('k', bad, 1)).toThrowError(StreamsError);

    const b2 = new StreamsBuilder();
    build(b2);
    const skipping = new TopologyTestDriver(b2.build(), { deserializationExceptionHandler: 'continue' });
    skipping.createInputTopic('in', S, serdes.bytes).pipeInput('k', bad, 1);
    skipping.createInputTopic('in', S, serdes.json<number>()).pipeInput('k', 7, 2);
    expect(skipping.createOutputTopic('out', S, serdes.json<number>()).readKeyValuesToList()).toEqual([{ key: 'k', value: 7 }]);
    expect(skipping.droppedRecords()).toEqual({ '0_0': 1 });

    const b3 = new StreamsBuilder();
    build(b3);
    const dlq = new TopologyTestDriver(b3.build(), { deserializationExceptionHandler: { deadLetterQueue: 'in-dlq' } });
    dlq.createInputTopic('in', S, serdes.bytes).pipeInput('k', bad, 1);
    const dead = dlq.createOutputTopic('in-dlq', S, serdes.bytes).readRecord();
    expect(dead.key).toBe('k');
    expect(dead.value).toEqual(bad);
    expect(dead.headers['__streams.errors.topic']?.toString()).toBe('in');
    expect(dead.headers['__streams.errors.offset']?.toString()).toBe('0');
    expect(dlq.createOutputTopic('out', S, S).isEmpty()).toBe(true);
  });

  it('piping to a topic the topology does not read is a clear error', () => {
    const b = new StreamsBuilder();
    b.stream('in').to('out');
    const d = new TopologyTestDriver(b.build());
    expect(() => d.createInputTopic('nope', S, S).pipeInput('k', 'v', 0)).toThrowError(/does not read topic nope/);
  });
});
