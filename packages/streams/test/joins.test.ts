import { describe, expect, it } from 'vitest';
import { serdes, type Serde } from '@samsa/client';
import { JoinWindows, StreamsBuilder, TopologyTestDriver } from '@samsa/streams';

const S = serdes.string;
/** A string serde for streams whose values are never null (join results, mapped values). */
const Str = serdes.string as Serde<string>;

function streamStream(kind: 'join' | 'leftJoin' | 'outerJoin') {
  const b = new StreamsBuilder();
  const left = b.stream('left', { keySerde: S, valueSerde: S });
  const right = b.stream('right', { keySerde: S, valueSerde: S });
  const joiner = (l: string | null, r: string | null) => `${l}+${r}`;
  // d = 10, grace = 5: a record's window [t-10, t+10] closes when stream time passes t + 15.
  (left as any)[kind](right, joiner, JoinWindows.ofTimeDifferenceAndGrace(10, 5)).to('joined', { valueSerde: S });
  const d = new TopologyTestDriver(b.build(), { applicationId: 'j' });
  return {
    d,
    l: d.createInputTopic('left', S, S),
    r: d.createInputTopic('right', S, S),
    out: () =>
      d
        .createOutputTopic('joined', S, S)
        .readRecordsToList()
        .map((x) => `${x.key}:${x.value}@${x.timestamp}`),
  };
}

describe('stream–stream windowed joins', () => {
  it('inner: pairs within the window in either arrival order; out-of-window, closed and null-key records do not join', () => {
    const { d, l, r, out } = streamStream('join');
    l.pipeInput('a', 'L1', 100);
    r.pipeInput('a', 'R1', 105); // pairs with L1
    r.pipeInput('a', 'R2', 111); // |111 - 100| > 10
    l.pipeInput('a', 'L2', 101); // out of order: pairs with R1 (105) and R2 (111)
    r.pipeInput('b', 'R3', 101); // other key
    l.pipeInput(null, 'L3', 101); // null key: dropped
    expect(out()).toEqual(['a:L1+R1@105', 'a:L2+R1@105', 'a:L2+R2@111']);
    r.pipeInput('z', 'Rz', 200); // stream time 200
    l.pipeInput('a', 'L4', 185); // 185 + 15 >= 200: on time, but R1/R2's windows have closed
    l.pipeInput('a', 'L5', 120); // 120 + 15 < 200: late
    expect(out()).toEqual([]);
    expect(d.droppedRecords()).toEqual({ '0_0': 2 });
  });

  it('left: a left record without a partner is emitted once, with null, when its window closes', () => {
    const { d, l, r, out } = streamStream('leftJoin');
    l.pipeInput('a', 'L1', 100);
    r.pipeInput('a', 'R1', 105); // pairs with L1
    l.pipeInput('a', 'L2', 110); // pairs with R1
    l.pipeInput('a', 'L3', 130); // no partner within 10: waits
    expect(out()).toEqual(['a:L1+R1@105', 'a:L2+R1@110']);
    r.pipeInput('a', 'R2', 150); // stream time 150 closes L3 (130 + 15 < 150): emitted with null
    expect(out()).toEqual(['a:L3+null@130']);
    l.pipeInput('a', 'L4', 140); // out of order, on time (140 + 15 >= 150): pairs with R2
    expect(out()).toEqual(['a:L4+R2@150']);
    r.pipeInput('x', 'Rx', 200); // closes L4, which had a partner: nothing more
    l.pipeInput('a', 'L5', 120); // late: dropped, never emitted
    r.pipeInput('x', 'Ry', 300);
    expect(out()).toEqual([]);
    expect(d.droppedRecords()).toEqual({ '0_0': 1 });
  });

  it('outer: unmatched records of both sides come out with null on the missing side, in time order', () => {
    const { l, r, out } = streamStream('outerJoin');
    r.pipeInput('a', 'R1', 10);
    l.pipeInput('b', 'L1', 12);
    l.pipeInput('a', 'L2', 15); // pairs with R1: R1 is no longer waiting
    expect(out()).toEqual(['a:L2+R1@15']);
    l.pipeInput('c', 'L3', 40); // closes everything at or before 24
    expect(out()).toEqual(['b:L1+null@12']); // R1 and L2 found each other: only L1 waited in vain
    r.pipeInput('c', 'R4', 100);
    expect(out()).toEqual(['c:L3+null@40']);
  });

  it('left/outer waiting records live in a logged outer store', () => {
    const { d, l, r } = streamStream('leftJoin');
    l.pipeInput('a', 'L1', 100);
    r.pipeInput('b', 'R1', 100);
    const names = d.producedTopicNames();
    expect(names.filter((n) => n.endsWith('-changelog'))).toHaveLength(3); // this, other, outer-shared
    expect(names.some((n) => /^j-KSTREAM-OUTERSHARED-\d{10}-store-changelog$/.test(n))).toBe(true);
  });
});

describe('stream–table, stream–globalTable and table–table joins', () => {
  it('stream–table: each order looks up the customer as of its arrival; the table side never triggers output', () => {
    const b = new StreamsBuilder();
    const customers = b.table('customers', { keySerde: S, valueSerde: S });
    const orders = b.stream('orders', { keySerde: S, valueSerde: S });
    orders.join(customers, (o, c) => `${o} for ${c}`).to('enriched', { valueSerde: Str });
    orders.leftJoin(customers, (o, c) => `${o} for ${c ?? '?'}`).to('enriched-left', { valueSerde: Str });
    const d = new TopologyTestDriver(b.build());
    const c = d.createInputTopic('customers', S, S);
    const o = d.createInputTopic('orders', S, S);
    o.pipeInput('c1', 'o1', 1); // no customer yet
    c.pipeInput('c1', 'Ann', 2);
    o.pipeInput('c1', 'o2', 3);
    c.pipeInput('c1', 'Anne', 4);
    o.pipeInput('c1', 'o3', 5);
    c.pipeInput('c1', null, 6);
    o.pipeInput('c1', 'o4', 7);
    expect(
      d
        .createOutputTopic('enriched', S, S)
        .readKeyValuesToList()
        .map((x) => x.value),
    ).toEqual(['o2 for Ann', 'o3 for Anne']);
    expect(
      d
        .createOutputTopic('enriched-left', S, S)
        .readKeyValuesToList()
        .map((x) => x.value),
    ).toEqual(['o1 for ?', 'o2 for Ann', 'o3 for Anne', 'o4 for ?']);
  });

  it("stream–table through a filtered, mapped table uses the table's value getter", () => {
    const b = new StreamsBuilder();
    const vip = b
      .table('customers', { keySerde: S, valueSerde: S })
      .filter((_k, v) => v !== null && v.startsWith('VIP'))
      .mapValues((v) => v!.slice(4));
    b.stream('orders', { keySerde: S, valueSerde: S })
      .join(vip, (o, name) => `${o}:${name}`)
      .to('vip-orders', { valueSerde: Str });
    const d = new TopologyTestDriver(b.build());
    d.createInputTopic('customers', S, S).pipeInput('c1', 'VIP Ann', 1);
    d.createInputTopic('customers', S, S).pipeInput('c2', 'Bob', 1);
    const o = d.createInputTopic('orders', S, S);
    o.pipeInput('c1', 'o1', 2);
    o.pipeInput('c2', 'o2', 3);
    expect(d.createOutputTopic('vip-orders', S, S).readKeyValuesToList()).toEqual([{ key: 'c1', value: 'o1:Ann' }]);
  });

  it('stream–globalTable joins by a key chosen from the record, without co-partitioning', () => {
    const b = new StreamsBuilder();
    const products = b.globalTable('products', { keySerde: S, valueSerde: S }, { name: 'products-store' });
    const orders = b.stream('orders', { keySerde: S, valueSerde: serdes.json<{ product: string }>() });
    orders
      .join(
        products,
        (_k, v) => v!.product,
        (o, p) => `${o!.product}=${p}`,
      )
      .to('priced', { valueSerde: Str });
    orders
      .leftJoin(
        products,
        (_k, v) => v!.product,
        (o, p) => `${o!.product}=${p}`,
      )
      .to('priced-left', { valueSerde: Str });
    const d = new TopologyTestDriver(b.build());
    d.createInputTopic('products', S, S).pipeInput('p1', 'Lamp', 0);
    const o = d.createInputTopic('orders', S, serdes.json<{ product: string }>());
    o.pipeInput('order-1', { product: 'p1' }, 1);
    o.pipeInput('order-2', { product: 'p9' }, 2);
    expect(d.createOutputTopic('priced', S, S).readKeyValuesToList()).toEqual([{ key: 'order-1', value: 'p1=Lamp' }]);
    expect(d.createOutputTopic('priced-left', S, S).readKeyValuesToList()).toEqual([
      { key: 'order-1', value: 'p1=Lamp' },
      { key: 'order-2', value: 'p9=null' },
    ]);
    expect(d.getKeyValueStore('products-store').get('p1')).toBe('Lamp');
    // A global store has no changelog: its topic is its log.
    expect(d.producedTopicNames().some((t) => t.includes('products-store'))).toBe(false);
  });

  it('table–table inner, left and outer joins update on either side and retract with tombstones', () => {
    const b = new StreamsBuilder();
    const left = b.table('L', { keySerde: S, valueSerde: S });
    const right = b.table('R', { keySerde: S, valueSerde: S });
    left
      .join(right, (l, r) => `${l}+${r}`)
      .toStream()
      .to('inner', { valueSerde: S });
    left
      .leftJoin(right, (l, r) => `${l}+${r}`)
      .toStream()
      .to('left', { valueSerde: S });
    left
      .outerJoin(right, (l, r) => `${l}+${r}`)
      .toStream()
      .to('outer', { valueSerde: S });
    const d = new TopologyTestDriver(b.build());
    const L = d.createInputTopic('L', S, S);
    const R = d.createInputTopic('R', S, S);
    L.pipeInput('k', 'l1', 1);
    R.pipeInput('k', 'r1', 2);
    L.pipeInput('k', 'l2', 3);
    R.pipeInput('k', null, 4);
    L.pipeInput('k', null, 5);
    const read = (t: string) =>
      d
        .createOutputTopic(t, S, S)
        .readKeyValuesToList()
        .map((x) => x.value);
    expect(read('inner')).toEqual(['l1+r1', 'l2+r1', null]);
    expect(read('left')).toEqual(['l1+null', 'l1+r1', 'l2+r1', 'l2+null', null]);
    expect(read('outer')).toEqual(['l1+null', 'l1+r1', 'l2+r1', 'l2+null', null]);
    R.pipeInput('j', 'r-only', 6);
    expect(read('outer')).toEqual(['null+r-only']);
    expect(read('left')).toEqual([]);
  });
});
