import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serdes } from '@samsa/client';
import { PersistentKeyValueStore, StreamsBuilder, TopologyTestDriver, streamsSerdes } from '@samsa/streams';

const S = serdes.string;
const L = streamsSerdes.long;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'samsa-streams-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('persistent key-value store (LevelDB)', () => {
  it('a reopened store holds exactly what was committed with its checkpoint; uncommitted writes are gone', async () => {
    const dir = tempDir();
    const a = new PersistentKeyValueStore('s', S, L);
    expect(await a.open(dir)).toBe(0n);
    a.put('x', 1);
    a.put('y', 2);
    await a.commitToDisk(7n);
    a.put('x', 10); // not committed: a crash would lose it, and the changelog from 7 replays it
    a.delete('y');
    await a.closeDb();

    const b = new PersistentKeyValueStore('s', S, L);
    expect(await b.open(dir)).toBe(7n);
    expect(b.all()).toEqual([
      { key: 'x', value: 1 },
      { key: 'y', value: 2 },
    ]);
    b.delete('y');
    b.restore(Buffer.from('z'), L.serialize(3));
    await b.commitToDisk(9n);
    await b.closeDb();

    const c = new PersistentKeyValueStore('s', S, L);
    expect(await c.open(dir)).toBe(9n);
    expect(c.all()).toEqual([
      { key: 'x', value: 1 },
      { key: 'z', value: 3 },
    ]);
    await c.wipe();
    expect(c.all()).toEqual([]);
    await c.closeDb();
    const d = new PersistentKeyValueStore('s', S, L);
    expect(await d.open(dir)).toBe(0n);
    expect(d.all()).toEqual([]);
    await d.closeDb();
  });

  it('Materialized({ persistent: true }) runs in memory in the test driver with the same results', () => {
    const b = new StreamsBuilder();
    b.stream('words', { keySerde: S, valueSerde: S }).groupByKey().count({ name: 'counts', persistent: true }).toStream().to('out');
    const d = new TopologyTestDriver(b.build(), { applicationId: 'p' });
    const input = d.createInputTopic('words', S, S);
    for (const w of ['a', 'b', 'a']) input.pipeInput(w, 'x', 1);
    expect(d.getStateStore('counts')).toBeInstanceOf(PersistentKeyValueStore);
    expect(d.getKeyValueStore('counts').all()).toEqual([
      { key: 'a', value: 2 },
      { key: 'b', value: 1 },
    ]);
    expect(d.createOutputTopic('p-counts-changelog', S, L).readKeyValuesToList()).toHaveLength(3);
  });
});
