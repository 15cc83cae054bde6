import { describe, expect, expectTypeOf, it } from 'vitest';
import { serdes } from '../src/index.js';
import type { ConsumerRecord, Consumer, Producer, Serde } from '../src/index.js';
import { setup } from './helpers.js';

describe('serdes', () => {
  it('round-trip strings, JSON and bytes, with null carried through', () => {
    expect(serdes.string.deserialize(serdes.string.serialize('héllo'))).toBe('héllo');
    expect(serdes.string.serialize(null)).toBeNull();
    const order = { id: 7, lines: [{ sku: 'a', qty: 2 }] };
    const json = serdes.json<typeof order>();
    expect(json.deserialize(json.serialize(order))).toEqual(order);
    expect(json.deserialize(null)).toBeNull();
    const buf = Buffer.from([0, 255]);
    expect(serdes.bytes.deserialize(serdes.bytes.serialize(buf))).toBe(buf);
  });

  it('type producers and consumer records by the serdes passed in', () => {
    interface Order {
      id: number;
    }
    const { samsa } = setup([1]);
    const typed = samsa.producer({ key: serdes.string, value: serdes.json<Order>() });
    expectTypeOf(typed).toEqualTypeOf<Producer<string | null, Order | null>>();
    const raw = samsa.producer();
    expectTypeOf(raw).toEqualTypeOf<Producer<Buffer | null, Buffer | null>>();
    const strict: Serde<number> = { serialize: (n) => Buffer.from(String(n)), deserialize: (b) => Number(b) };
    const consumer = samsa.consumer({ value: strict });
    expectTypeOf(consumer).toEqualTypeOf<Consumer<Buffer | null, number>>();
    expectTypeOf<Awaited<ReturnType<typeof consumer.poll>>[number]>().toEqualTypeOf<ConsumerRecord<Buffer | null, number>>();
    // @ts-expect-error a number is not an Order
    void (() => typed.send({ topic: 't', messages: [{ value: 5 }] }));
  });
});
