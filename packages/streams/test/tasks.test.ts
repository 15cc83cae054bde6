/**
 * Several tasks of one topology side by side, as the runtime runs them (the driver has one task per
 * sub-topology): each task's processors must use that task's stores. A lookup kept in a closure
 * shared by the topology once made every task read the last-initialized task's table.
 */
import { describe, expect, it } from 'vitest';
import { serdes, type Serde } from '@samsa/client';
import { StreamTask, StreamsBuilder } from '@samsa/streams';
import type { Topology } from '@samsa/streams';

const S = serdes.string;
/** A string serde for streams whose values are never null (join results, mapped values). */
const Str = serdes.string as Serde<string>;
const bytes = (s: string) => Buffer.from(s);

function tasks(topology: Topology, partitions: number) {
  const out: Array<{ topic: string; value: string | null }> = [];
  const sub = topology.subTopologies()[0]!;
  const list = Array.from(
    { length: partitions },
    (_, partition) =>
      new StreamTask({
        applicationId: 'app',
        subTopology: sub,
        topology,
        partition,
        now: () => 0,
        globalStores: new Map(),
        deserializationHandler: 'fail',
        collector: {
          send: (topic, _p, _k, value) => {
            if (!topic.endsWith('-changelog')) out.push({ topic, value: value?.toString() ?? null });
          },
        },
      }),
  );
  return { list, out };
}

describe('tasks of one topology keep to their own stores', () => {
  it("stream–table join: each partition's task looks up its own table", () => {
    const b = new StreamsBuilder();
    const table = b.table('customers', { keySerde: S, valueSerde: S });
    b.stream('orders', { keySerde: S, valueSerde: S })
      .join(table, (o, c) => `${o}@${c}`)
      .to('out', { valueSerde: Str });
    const {
      list: [t0, t1],
      out,
    } = tasks(b.build(), 2);
    t0!.process('customers', 0, bytes('a'), bytes('Ann'), 1);
    t1!.process('customers', 0, bytes('b'), bytes('Bob'), 1);
    t0!.process('orders', 0, bytes('a'), bytes('o1'), 2);
    t1!.process('orders', 0, bytes('b'), bytes('o2'), 2);
    expect(out).toEqual([
      { topic: 'out', value: 'o1@Ann' },
      { topic: 'out', value: 'o2@Bob' },
    ]);
  });

  it('table–table join: each task joins against its own other side', () => {
    const b = new StreamsBuilder();
    const left = b.table('L', { keySerde: S, valueSerde: S });
    const right = b.table('R', { keySerde: S, valueSerde: S });
    left
      .join(right, (l, r) => `${l}+${r}`)
      .toStream()
      .to('out', { valueSerde: S });
    const {
      list: [t0, t1],
      out,
    } = tasks(b.build(), 2);
    t0!.process('R', 0, bytes('a'), bytes('ra'), 1);
    t1!.process('R', 0, bytes('b'), bytes('rb'), 1);
    t0!.process('L', 0, bytes('a'), bytes('la'), 2);
    t1!.process('L', 0, bytes('b'), bytes('lb'), 2);
    expect(out).toEqual([
      { topic: 'out', value: 'la+ra' },
      { topic: 'out', value: 'lb+rb' },
    ]);
  });
});
