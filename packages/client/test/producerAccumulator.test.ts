import { ErrorCode } from '@samsa/protocol';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  DeliveryTimeoutError,
  MaxBlockTimeoutError,
  MessageTooLargeError,
  NotEnoughReplicasError,
  Samsa,
  SamsaClosedError,
  defineTopic,
  seededRandom,
  serdes,
} from '../src/index.js';
import type { MetadataRequest, ProduceRequest, ProducerOptions, RecordMetadata } from '../src/index.js';
import { FakeCluster, ManualClock } from './fakes.js';
import type { Call } from './fakes.js';

function setup(brokerIds: number[] = [1]) {
  const fake = new FakeCluster(brokerIds);
  const clock = new ManualClock();
  const samsa = new Samsa({
    brokers: [fake.addressOf(brokerIds[0]!)],
    connectionFactory: fake.connectionFactory,
    clock,
    random: seededRandom(1),
    retry: { retries: 5, initialRetryTimeMs: 10, jitter: 0 },
  });
  return { fake, clock, samsa, producer: <K = Buffer | null, V = Buffer | null>(o: ProducerOptions<K, V> = {}) => samsa.producer<K, V>(o) };
}

/** Holds every Produce answer until release() (what a slow broker looks like). */
function holdProduces(fake: FakeCluster) {
  const held: { call: Call; resolve: () => void }[] = [];
  let holding = true;
  fake.hooks.push((call) => {
    if (call.method !== 'produce' || !holding) return undefined;
    return new Promise((resolve) => held.push({ call, resolve: () => resolve(fake.handle(call.nodeId, 'produce', call.request)) }));
  });
  return {
    held,
    release() {
      holding = false;
      for (const h of held.splice(0)) h.resolve();
    },
  };
}

const batchesOf = (call: Call) =>
  (call.request as ProduceRequest).topics!.flatMap((t) => t.partitions!.map((p) => `${t.name}-${p.partition}`));
const value = (n: number, fill = 'x') => Buffer.alloc(n, fill);
/** Tracks a promise's outcome without awaiting it. */
function track<T>(p: Promise<T>) {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then(
    (v) => {
      state.value = v;
      state.done = true;
    },
    (e: unknown) => {
      state.error = e;
      state.done = true;
    },
  );
  return state;
}

describe('Producer accumulator: linger and batch size', () => {
  it('holds a batch for lingerMs, gathering records of several sends into it', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ lingerMs: 50 });
    const a = track(p.send({ topic: 't', messages: [{ value: value(1, 'a') }] }));
    await clock.advance(20);
    const b = track(p.send({ topic: 't', messages: [{ value: value(1, 'b') }, { value: value(1, 'c') }] }));
    await clock.advance(29);
    expect(fake.callsOf('produce')).toHaveLength(0);
    expect(a.done).toBe(false);
    await clock.advance(1); // 50 ms after the batch's first record
    expect(fake.callsOf('produce')).toHaveLength(1);
    expect(a.value!.map((r) => r.offset)).toEqual([0n]);
    expect(b.value!.map((r) => r.offset)).toEqual([1n, 2n]);
    expect(fake.records('t', 0).map((r) => r.value!.toString())).toEqual(['a', 'b', 'c']);
  });

  it('sends a batch as soon as it is full, without waiting for linger', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    // 61-byte header + one 100-byte record (at most 136 bytes) fits in 200; a second does not.
    const p = producer({ lingerMs: 60_000, batchSize: 200 });
    const sent = track(p.send({ topic: 't', messages: [{ value: value(100) }, { value: value(100) }, { value: value(100) }] }));
    await clock.settle();
    const produces = fake.callsOf('produce');
    expect(produces.length).toBeGreaterThanOrEqual(1);
    expect(fake.records('t', 0)).toHaveLength(2); // two full batches of one record each went at once
    expect(sent.done).toBe(false); // the third record's batch still lingers
    await clock.advance(60_000);
    expect(sent.value!.map((r) => r.offset)).toEqual([0n, 1n, 2n]);
    expect(fake.topics.get('t')![0]!.log.map((b) => b.lastOffset - b.baseOffset + 1n)).toEqual([1n, 1n, 1n]);
  });

  it("puts several partitions' batches for one broker into one Produce request", async () => {
    const { fake, clock, producer } = setup([1, 2]);
    fake.createTopic('t', 3, [1, 1, 2]);
    const p = producer({ lingerMs: 10 });
    const sent = track(p.send({ topic: 't', messages: [0, 1, 2, 0].map((partition) => ({ partition, value: value(1) })) }));
    await clock.advance(10);
    expect(fake.callsOf('produce').map((c) => [c.nodeId, batchesOf(c).sort()])).toEqual(
      expect.arrayContaining([
        [1, ['t-0', 't-1']],
        [2, ['t-2']],
      ]),
    );
    expect(fake.callsOf('produce')).toHaveLength(2);
    expect(sent.value!.map((r) => [r.partition, r.offset])).toEqual([
      [0, 0n],
      [1, 0n],
      [2, 0n],
      [0, 1n],
    ]);
  });

  it('keeps the order of records within a partition across many sends and batches', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ lingerMs: 5, batchSize: 300, maxInFlightRequests: 2 });
    const sends = Array.from({ length: 40 }, (_, i) =>
      track(p.send({ topic: 't', messages: [{ value: Buffer.from(String(i).padStart(40, '0')) }] })),
    );
    await clock.advance(5);
    await p.flush();
    expect(sends.map((s) => s.value![0]!.offset)).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i)));
    expect(fake.records('t', 0).map((r) => Number(r.value!.toString()))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(fake.topics.get('t')![0]!.log.length).toBeGreaterThan(1);
  });
});

describe('Producer accumulator: sticky partitioning', () => {
  it('keeps null-key records on one partition until its batch is sent, then moves on', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 4);
    const p = producer({ lingerMs: 10 });
    const first = track(p.send({ topic: 't', messages: Array.from({ length: 5 }, () => ({ value: value(1) })) }));
    const more = track(p.send({ topic: 't', messages: [{ value: value(1) }] }));
    await clock.advance(10);
    const sticky = first.value![0]!.partition;
    expect([...first.value!, ...more.value!].map((r) => r.partition)).toEqual(Array(6).fill(sticky));
    const next = track(p.send({ topic: 't', messages: [{ value: value(1) }, { value: value(1) }] }));
    await clock.advance(10);
    const moved = next.value!.map((r) => r.partition);
    expect(moved[0]).not.toBe(sticky);
    expect(moved[1]).toBe(moved[0]);
  });
});

describe('Producer accumulator: buffer memory and sizes', () => {
  it('makes send() wait for buffer memory, then go on once acknowledgements free it', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    const hold = holdProduces(fake);
    const p = producer({ lingerMs: 0, bufferMemory: 300, maxBlockMs: 1_000 });
    const a = track(p.send({ topic: 't', messages: [{ value: value(100) }, { value: value(100) }] })); // 2 x 136 bytes
    await clock.settle();
    expect(hold.held).toHaveLength(1);
    const c = track(p.send({ topic: 't', messages: [{ value: value(100) }] }));
    await clock.advance(500);
    expect(c.done).toBe(false);
    expect(fake.callsOf('produce')).toHaveLength(1); // C is not even appended yet
    hold.release();
    await clock.settle();
    expect(a.value!.map((r) => r.offset)).toEqual([0n, 1n]);
    expect(c.value!.map((r) => r.offset)).toEqual([2n]);
  });

  it('fails a send that waited maxBlockMs for memory with MaxBlockTimeoutError', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    holdProduces(fake);
    const p = producer({ lingerMs: 0, bufferMemory: 300, maxBlockMs: 1_000 });
    track(p.send({ topic: 't', messages: [{ value: value(100) }, { value: value(100) }] }));
    const c = track(p.send({ topic: 't', messages: [{ value: value(100) }] }));
    await clock.advance(999);
    expect(c.done).toBe(false);
    await clock.advance(1);
    expect(c.error).toBeInstanceOf(MaxBlockTimeoutError);
    expect(c.error).toMatchObject({ retriable: false, errorName: 'REQUEST_TIMED_OUT' });
  });

  // sendBatch holds RECORD_BATCH_OVERHEAD (61) + 2 x 136 = 333 bytes per two-record batch: two fit in 700.
  for (const [how, options] of [
    ['idempotent (through the send loop)', {}],
    ['acks=1 (straight to the sender)', { acks: 1 as const }],
  ] as const) {
    it(`sendBatch, ${how}: blocks while bufferMemory is full and resumes when an earlier batch completes`, async () => {
      const { fake, clock, producer } = setup();
      fake.createTopic('t', 1);
      const hold = holdProduces(fake);
      const p = producer({ ...options, lingerMs: 0, bufferMemory: 700, maxBlockMs: 1_000 });
      const twoRecords = [{ value: value(100) }, { value: value(100) }];
      const a = track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      const b = track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      await clock.settle();
      const c = track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      await clock.advance(500);
      expect(c.done).toBe(false);
      const sentBeforeRelease = hold.held.length;
      expect(sentBeforeRelease).toBeGreaterThan(0);
      expect(sentBeforeRelease).toBeLessThanOrEqual(2); // C's batch is not even built yet
      hold.release();
      await clock.settle();
      expect(a.value!.baseOffset).toBe(0n);
      expect(b.value!.baseOffset).toBe(2n);
      expect(c.value!.baseOffset).toBe(4n);
    });

    it(`sendBatch, ${how}: fails with MaxBlockTimeoutError after maxBlockMs without memory, and frees nothing it did not take`, async () => {
      const { fake, clock, producer } = setup();
      fake.createTopic('t', 1);
      const hold = holdProduces(fake);
      const p = producer({ ...options, lingerMs: 0, bufferMemory: 700, maxBlockMs: 1_000 });
      const twoRecords = [{ value: value(100) }, { value: value(100) }];
      const a = track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      await clock.settle();
      const c = track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      await clock.advance(999);
      expect(c.done).toBe(false);
      await clock.advance(1);
      expect(c.error).toBeInstanceOf(MaxBlockTimeoutError);
      hold.release();
      await clock.settle();
      expect(a.value!.baseOffset).toBe(0n);
      // Both earlier batches answered: the whole pool is free again, so a new batch goes at once.
      const d = track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      const e = track(p.sendBatch({ topic: 't', partition: 0, messages: twoRecords }));
      await clock.settle();
      expect(d.value!.baseOffset).toBe(4n);
      expect(e.value!.baseOffset).toBe(6n);
    });
  }

  it('sendBatch rejects a batch larger than bufferMemory before sending anything', async () => {
    const { fake, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ bufferMemory: 300 });
    const error = await p
      .sendBatch({ topic: 't', partition: 0, messages: [{ value: value(100) }, { value: value(100) }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(fake.callsOf('produce')).toHaveLength(0);
  });

  it('rejects a record larger than maxRequestSize before sending anything', async () => {
    const { fake, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ maxRequestSize: 1_000 });
    const error = await p.send({ topic: 't', messages: [{ value: value(10) }, { value: value(2_000) }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toMatch(/maxRequestSize 1000/);
    await p.flush();
    expect(fake.callsOf('produce')).toHaveLength(0);
    expect(fake.callsOf('metadata')).toHaveLength(0);
  });
});

describe('Producer: records enter in send() order', () => {
  /** Holds every Metadata answer that asks for `topic` until release(). */
  function holdMetadataOf(fake: FakeCluster, topic: string, onlyAutoCreate = false) {
    const held: (() => void)[] = [];
    let holding = true;
    fake.hooks.push((call) => {
      if (call.method !== 'metadata' || !holding) return undefined;
      const request = call.request as MetadataRequest;
      if (!(request.topics ?? []).includes(topic) || (onlyAutoCreate && !request.allowAutoTopicCreation)) return undefined;
      return new Promise((resolve) => held.push(() => resolve(fake.handle(call.nodeId, 'metadata', call.request))));
    });
    return {
      held,
      release() {
        holding = false;
        for (const r of held.splice(0)) r();
      },
    };
  }

  it('a send waiting for metadata is not overtaken by a later send that needs none', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('known', 1);
    fake.createTopic('new', 1);
    const p = producer({ lingerMs: 0 });
    await p.send({ topic: 'known', messages: [{ value: value(1, 'k') }] }); // 'known' is cached now
    const hold = holdMetadataOf(fake, 'new');
    const a = track(p.send({ topic: 'new', messages: [{ value: value(1, 'a') }] }));
    const b = track(p.send({ topic: 'known', messages: [{ value: value(1, 'b') }] }));
    await clock.settle();
    expect(hold.held.length).toBeGreaterThan(0);
    // B's topic is known, but A came first: B waits for A to enter the accumulator.
    expect(fake.callsOf('produce')).toHaveLength(1);
    expect(b.done).toBe(false);
    hold.release();
    await clock.settle();
    expect(a.value!.map((r) => r.offset)).toEqual([0n]);
    expect(b.value!.map((r) => r.offset)).toEqual([1n]);
  });

  it('does not hold sends behind its own metadata lookup while the topic is known but stale', async () => {
    const { fake, clock, samsa, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ lingerMs: 0 });
    await p.send({ topic: 't', messages: [{ value: value(1, '0') }] });
    // The producer's own lookups (they may auto-create) hang; the send loop's leader refreshes do
    // not. Sends used to wait on the hung lookup while later ones went ahead on the fresh cache.
    const hold = holdMetadataOf(fake, 't', true);
    // Stale (as after a NOT_LEADER answer): the next sends must not wait for the refresh.
    (samsa as unknown as { cluster: { invalidateTopics(t: string[]): void } }).cluster.invalidateTopics(['t']);
    const sends = Array.from({ length: 5 }, (_, i) =>
      track(p.send({ topic: 't', messages: [{ value: value(1, String(i + 1)), partition: 0 }] })),
    );
    await clock.settle();
    expect(sends.every((s) => s.done)).toBe(true);
    expect(sends.map((s) => s.value![0]!.offset)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(hold.held.length).toBeGreaterThan(0); // a refresh was asked for all the same
    hold.release();
    await clock.settle();
    expect(fake.topics.get('t')![0]!.logEndOffset).toBe(6n);
  });
});

describe('Producer accumulator: retries and timeouts', () => {
  it('retries a retriable error with exponential backoff until deliveryTimeoutMs, then fails with DeliveryTimeoutError', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    fake.hooks.push((c) =>
      c.method === 'produce'
        ? {
            throttleTimeMs: 0,
            topics: [
              {
                name: 't',
                partitions: [
                  {
                    partition: 0,
                    errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
                    errorMessage: 'isr 1 < 2',
                    baseOffset: '-1',
                    logAppendTimeMs: '-1',
                    logStartOffset: '-1',
                    currentLeader: null,
                  },
                ],
              },
            ],
          }
        : undefined,
    );
    const p = producer({ lingerMs: 0, deliveryTimeoutMs: 1_000, retryBackoffMs: 100, retryBackoffMaxMs: 1_000 });
    const sent = track(p.send({ topic: 't', messages: [{ value: value(1) }] }));
    await clock.advance(1_000);
    expect(sent.error).toBeInstanceOf(DeliveryTimeoutError);
    expect((sent.error as Error).cause).toBeInstanceOf(NotEnoughReplicasError);
    expect(sent.error).toMatchObject({ topic: 't', partition: 0, retriable: false });
    // 100, 200, 400 ms backoffs fit in 1 s; the next (800) would pass the deadline.
    expect(fake.callsOf('produce')).toHaveLength(4);
    expect(clock.sleeps.filter((ms) => ms > 0)).toEqual([100, 200, 400]);
  });

  it('expires records of a partition that never gets a leader', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1, [-1]);
    const p = producer({ lingerMs: 0, deliveryTimeoutMs: 500 });
    const sent = track(p.send({ topic: 't', messages: [{ value: value(1) }] }));
    await clock.advance(499);
    expect(sent.done).toBe(false);
    expect(fake.callsOf('metadata').length).toBeGreaterThan(2); // kept looking for a leader
    await clock.advance(20);
    expect(sent.error).toBeInstanceOf(DeliveryTimeoutError);
    expect(fake.callsOf('produce')).toHaveLength(0);
  });

  it('waits for a topic that does not exist yet (bounded by maxBlockMs) instead of failing', async () => {
    const { fake, clock, producer } = setup();
    const p = producer({ lingerMs: 0, maxBlockMs: 5_000 });
    const early = track(p.send({ topic: 'late', messages: [{ value: value(1) }] }));
    await clock.advance(1_000);
    expect(early.done).toBe(false);
    fake.createTopic('late', 1);
    await clock.advance(2_000);
    expect(early.value!.map((r) => r.offset)).toEqual([0n]);

    const never = track(p.send({ topic: 'never', messages: [{ value: value(1) }] }));
    await clock.advance(5_000);
    expect(never.error).toBeInstanceOf(MaxBlockTimeoutError);
    expect((never.error as Error).message).toMatch(/never/);
  });

  it('moves to the new leader after NOT_LEADER_OR_FOLLOWER without losing order', async () => {
    const { fake, clock, producer } = setup([1, 2]);
    fake.createTopic('t', 1, [1]);
    const p = producer({ lingerMs: 0 });
    const a = track(p.send({ topic: 't', messages: [{ value: Buffer.from('a') }] }));
    await clock.settle();
    fake.moveLeader('t', 0, 2);
    const b = track(p.send({ topic: 't', messages: [{ value: Buffer.from('b') }] }));
    await clock.advance(100);
    expect(a.value![0]!.offset).toBe(0n);
    expect(b.value![0]!.offset).toBe(1n);
    expect(fake.callsOf('produce').map((c) => c.nodeId)).toEqual([1, 1, 2]);
  });
});

describe('Producer accumulator: flush and close', () => {
  it('flush() sends lingering batches now and resolves once they are acknowledged', async () => {
    const { fake, producer } = setup();
    fake.createTopic('t', 2);
    const p = producer({ lingerMs: 60_000 });
    const sent = track(
      p.send({
        topic: 't',
        messages: [
          { partition: 0, value: value(1) },
          { partition: 1, value: value(1) },
        ],
      }),
    );
    await p.flush();
    expect(sent.value!.map((r) => r.offset)).toEqual([0n, 0n]);
    await p.flush(); // nothing pending: resolves at once
  });

  it('close() drains what is accumulated and refuses new sends', async () => {
    const { fake, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ lingerMs: 60_000 });
    const sent = track(p.send({ topic: 't', messages: [{ value: value(1) }] }));
    await p.close();
    expect(sent.value![0]!.offset).toBe(0n);
    await expect(p.send({ topic: 't', messages: [{ value: value(1) }] })).rejects.toBeInstanceOf(SamsaClosedError);
  });

  it('close(timeoutMs) fails what is still unacknowledged when the timeout passes', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    holdProduces(fake);
    const p = producer({ lingerMs: 0 });
    const sent = track(p.send({ topic: 't', messages: [{ value: value(1) }] }));
    await clock.settle();
    const closed = track(p.close(1_000));
    await clock.advance(1_000);
    expect(closed.done).toBe(true);
    expect(sent.error).toBeInstanceOf(SamsaClosedError);
  });
});

describe('typed topics', () => {
  it("sends with the descriptor's serdes, and a wrong value type does not compile", async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('orders', 1);
    const orders = defineTopic('orders', { key: serdes.string, value: serdes.json<{ id: number; total: number }>() });
    const p = producer({ lingerMs: 0 });
    const sent = p.send(orders, [{ key: 'o-1', value: { id: 1, total: 9.5 } }]);
    expectTypeOf(sent).resolves.toEqualTypeOf<RecordMetadata[]>();
    expectTypeOf(orders.value.deserialize).returns.toEqualTypeOf<{ id: number; total: number } | null>();
    await clock.settle();
    expect((await sent)[0]!.offset).toBe(0n);
    const [stored] = fake.records('orders', 0);
    expect(stored!.key!.toString()).toBe('o-1');
    expect(JSON.parse(stored!.value!.toString())).toEqual({ id: 1, total: 9.5 });

    const typeOnly = () => {
      // @ts-expect-error the value must be an order, not a string
      void p.send(orders, [{ key: 'o-2', value: 'not an order' }]);
      // @ts-expect-error the key serde is for strings
      void p.send(orders, [{ key: 42, value: { id: 2, total: 1 } }]);
    };
    expect(typeOnly).toBeTypeOf('function');
  });
});
