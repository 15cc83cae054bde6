import { ErrorCode, partitionForKey } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import {
  CorruptMessageError,
  DeliveryTimeoutError,
  MessageTooLargeError,
  NotEnoughReplicasError,
  SamsaConnectionError,
  UnknownTopicOrPartitionError,
  defaultPartitioner,
  roundRobinPartitioner,
  seededRandom,
  serdes,
} from '../src/index.js';
import type { ProduceRequest } from '../src/index.js';
import { setup } from './helpers.js';

const produced = (request: unknown) =>
  (request as ProduceRequest).topics!.flatMap((t) => t.partitions!.map((p) => `${t.name}-${p.partition}`));

describe('Producer.send', () => {
  it('sends one Produce request per leader broker, one batch per partition', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('orders', 4, [1, 2, 1, 2]);
    const producer = samsa.producer({ value: serdes.string });
    const results = await producer.send({
      topic: 'orders',
      messages: [0, 1, 2, 3, 0, 2].map((partition, i) => ({ partition, value: `m${i}` })),
    });
    const produces = fake.callsOf('produce');
    expect(produces).toHaveLength(2);
    const byNode = Object.fromEntries(produces.map((c) => [c.nodeId, produced(c.request).sort()]));
    expect(byNode).toEqual({ 1: ['orders-0', 'orders-2'], 2: ['orders-1', 'orders-3'] });
    // Per record, in input order; offsets contiguous within a partition.
    expect(results.map((r) => [r.partition, r.offset])).toEqual([
      [0, 0n],
      [1, 0n],
      [2, 0n],
      [3, 0n],
      [0, 1n],
      [2, 1n],
    ]);
    expect(fake.records('orders', 0).map((r) => r.value!.toString())).toEqual(['m0', 'm4']);
  });

  it('partitions keyed records like partitionForKey (murmur2)', async () => {
    const { fake, samsa } = setup([1, 2, 3]);
    fake.createTopic('keyed', 7);
    const producer = samsa.producer({ key: serdes.string, value: serdes.string });
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', '', 'ünïcode'];
    const results = await producer.send({ topic: 'keyed', messages: keys.map((key) => ({ key, value: 'v' })) });
    expect(results.map((r) => r.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 7)));
    for (const r of results) {
      const stored = fake.records('keyed', r.partition).map((x) => x.key!.toString());
      expect(stored).toContain(keys[results.indexOf(r)]);
    }
  });

  it('roundRobinPartitioner round-robins records with null keys across partitions', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('rr', 3);
    const producer = samsa.producer({ partitioner: roundRobinPartitioner(seededRandom(3)) });
    const results = await producer.send({ topic: 'rr', messages: Array.from({ length: 9 }, () => ({ value: Buffer.from('x') })) });
    const partitions = results.map((r) => r.partition);
    const first = partitions[0]!;
    expect(partitions).toEqual(Array.from({ length: 9 }, (_, i) => (first + i) % 3));
    const next = await producer.send({ topic: 'rr', messages: [{ value: null }] });
    expect(next[0]!.partition).toBe((first + 9) % 3);
  });

  it('roundRobinPartitioner round-robins over partitions that have a leader', () => {
    const partitioner = roundRobinPartitioner(() => 0);
    const picks = Array.from({ length: 4 }, () => partitioner({ topic: 't', key: null, partitionCount: 4, availablePartitions: [1, 3] }));
    expect(picks).toEqual([1, 3, 1, 3]);
  });

  it('the default partitioner sticks to one available partition for null keys until told of a new batch', () => {
    const partitioner = defaultPartitioner(seededRandom(5));
    const args = { topic: 't', key: null, partitionCount: 4, availablePartitions: [1, 3] };
    const first = partitioner(args);
    expect([1, 3]).toContain(first);
    expect(Array.from({ length: 5 }, () => partitioner(args))).toEqual(Array(5).fill(first));
    partitioner.onNewBatch!('t', first, args);
    const second = partitioner(args);
    expect(second).toBe(first === 1 ? 3 : 1);
    partitioner.onNewBatch!('t', first, args); // not the sticky one any more: no move
    expect(partitioner(args)).toBe(second);
  });

  it('refreshes metadata and retries on NOT_LEADER_OR_FOLLOWER, then writes to the new leader', async () => {
    const { fake, clock, samsa } = setup([1, 2]);
    fake.createTopic('moving', 1, [1]);
    const producer = samsa.producer();
    await producer.send({ topic: 'moving', messages: [{ value: Buffer.from('a') }] });
    fake.moveLeader('moving', 0, 2);
    const metadataBefore = fake.callsOf('metadata').length;

    const [result] = await producer.send({ topic: 'moving', messages: [{ value: Buffer.from('b') }] });
    expect(result!.offset).toBe(1n);
    const produces = fake.callsOf('produce').map((c) => c.nodeId);
    expect(produces).toEqual([1, 1, 2]);
    expect(fake.callsOf('metadata').length).toBeGreaterThan(metadataBefore);
    expect(clock.sleeps).toEqual([5, 5, 10]); // two lingers, one backoff, from the injected clock
  });

  it("warns once per partition and interval while it retries (Kafka's WARN per retried batch), not on success", async () => {
    const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, ...(fields ? { fields } : {}) }),
    };
    const { fake, samsa } = setup([1], { logger, retry: { retries: 10, initialRetryTimeMs: 10, jitter: 0 } });
    fake.createTopic('t', 1);
    let failures = 3;
    fake.hooks.push((c) =>
      c.method === 'produce' && failures-- > 0
        ? {
            throttleTimeMs: 0,
            topics: [
              {
                name: 't',
                partitions: [
                  {
                    partition: 0,
                    errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
                    errorMessage: 'not the leader',
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
    const [r] = await samsa.producer().send({ topic: 't', messages: [{ value: Buffer.from('a') }] });
    expect(r!.offset).toBe(0n);
    expect(fake.callsOf('produce')).toHaveLength(4);
    // Three retries within 70 ms of fake time: one warning, naming the partition and the error.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(
      /^got NOT_LEADER_OR_FOLLOWER producing to topic-partition t-0, retrying \(until delivery.timeout.ms, \d+ ms left\)/,
    );
    expect(warnings[0]!.fields).toMatchObject({ topic: 't', partition: 0, error: 'NOT_LEADER_OR_FOLLOWER' });
    await samsa.producer().send({ topic: 't', messages: [{ value: Buffer.from('b') }] });
    expect(warnings).toHaveLength(1);
  });

  it('warns LEADER_NOT_AVAILABLE per partition while it has no leader, then fails at deliveryTimeoutMs', async () => {
    const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, ...(fields ? { fields } : {}) }),
    };
    const { fake, samsa } = setup([1], { logger });
    fake.createTopic('t', 2);
    const producer = samsa.producer({ deliveryTimeoutMs: 5_000 });
    await producer.send({ topic: 't', messages: [{ value: Buffer.from('warm'), partition: 1 }] });
    fake.moveLeader('t', 1, -1);
    const error = await producer.send({ topic: 't', messages: [{ value: Buffer.from('a'), partition: 1 }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    const leaderless = warnings.filter((w) => w.fields?.error === 'LEADER_NOT_AVAILABLE');
    expect(leaderless.length).toBeGreaterThanOrEqual(1);
    // Rate-limited to one a second of (fake) time: at most one per second of the 5 s it waited, plus the first.
    expect(leaderless.length).toBeLessThanOrEqual(6);
    expect(leaderless[0]!.message).toMatch(
      /^topic-partition t-1 has no leader \(LEADER_NOT_AVAILABLE\); waiting for one, records expire \d+ ms from now \(delivery.timeout.ms\)$/,
    );
    expect(leaderless.every((w) => w.fields?.partition === 1)).toBe(true);
  });

  it('retries a connection loss to the leader after a metadata refresh', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 1, [2]);
    const producer = samsa.producer();
    fake.failOnce(
      (c) => c.method === 'produce',
      (c) => {
        throw new SamsaConnectionError('connection reset', { address: c.address });
      },
    );
    const [r] = await producer.send({ topic: 't', messages: [{ value: Buffer.from('a') }] });
    expect(r!.offset).toBe(0n);
    expect(fake.callsOf('produce')).toHaveLength(2);
  });

  it('surfaces non-retriable errors as their typed class without retrying', async () => {
    const { fake, clock, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.failOnce(
      (c) => c.method === 'produce',
      () => ({
        throttleTimeMs: 0,
        topics: [
          {
            name: 't',
            partitions: [
              {
                partition: 0,
                errorCode: ErrorCode.MESSAGE_TOO_LARGE,
                errorMessage: 'batch of 2 MiB > 1 MiB',
                baseOffset: '-1',
                logAppendTimeMs: '-1',
                logStartOffset: '-1',
                currentLeader: null,
              },
            ],
          },
        ],
      }),
    );
    const error = await samsa
      .producer()
      .send({ topic: 't', messages: [{ value: Buffer.alloc(10) }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error).toMatchObject({
      topic: 't',
      partition: 0,
      retriable: false,
      errorName: 'MESSAGE_TOO_LARGE',
      message: 'batch of 2 MiB > 1 MiB',
    });
    expect(fake.callsOf('produce')).toHaveLength(1);
    expect(clock.sleeps).toEqual([5]); // the linger only, no backoff
  });

  it('gives up after the configured retries with the last retriable error', async () => {
    const { fake, clock, samsa } = setup([1], { retry: { retries: 2, initialRetryTimeMs: 10, jitter: 0 } });
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
    await expect(samsa.producer({ retries: 2 }).send({ topic: 't', messages: [{ value: null }] })).rejects.toBeInstanceOf(
      NotEnoughReplicasError,
    );
    expect(fake.callsOf('produce')).toHaveLength(3);
    expect(clock.sleeps).toEqual([5, 10, 20]); // linger, then exponential backoff
  });

  it('retries only the failed partitions of a multi-partition send', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 2, [1, 2]);
    const producer = samsa.producer();
    await producer.send({ topic: 't', messages: [{ partition: 0, value: null }] }); // caches: t-1 led by 2
    fake.moveLeader('t', 1, 1);
    const before = fake.callsOf('produce').length;
    const results = await producer.send({
      topic: 't',
      messages: [
        { partition: 0, value: null },
        { partition: 1, value: null },
      ],
    });
    expect(results.map((r) => r.offset)).toEqual([1n, 0n]);
    const rounds = fake
      .callsOf('produce')
      .slice(before)
      .map((c) => [c.nodeId, produced(c.request)]);
    expect(rounds).toEqual(
      expect.arrayContaining([
        [1, ['t-0']],
        [2, ['t-1']],
      ]),
    );
    expect(rounds[2]).toEqual([1, ['t-1']]); // the retry carries only the failed partition
    expect(fake.records('t', 0)).toHaveLength(2);
    expect(fake.records('t', 1)).toHaveLength(1);
  });

  it('acks=0 resolves without offsets', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const results = await samsa.producer({ acks: 0 }).send({ topic: 't', messages: [{ value: null, timestamp: 5 }] });
    expect(results).toEqual([{ topic: 't', partition: 0, offset: -1n, timestamp: 5n }]);
    expect((fake.callsOf('produce')[0]!.request as ProduceRequest).acks).toBe(0);
  });

  it('acks=0 does not wait, and an error answer from a former leader sends the next records to the new one', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 1, [1]);
    // Lets the fake's answers (microtasks and immediates) arrive without moving the fake clock.
    const settle = async () => {
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const producer = samsa.producer({ acks: 0, lingerMs: 0 });
    const send = (v: string) => producer.send({ topic: 't', messages: [{ partition: 0, value: Buffer.from(v) }] });
    await send('a');
    fake.moveLeader('t', 0, 2);
    const [lost] = await send('b'); // broker 1 is no longer the leader: the record is lost, as in Kafka
    expect(lost!.offset).toBe(-1n);
    await settle(); // its NOT_LEADER_OR_FOLLOWER answer arrives
    await send('c');
    await settle();
    expect(fake.callsOf('produce').map((c) => c.nodeId)).toEqual([1, 1, 2]);
    expect(fake.records('t', 0)).toHaveLength(2);
  });

  it('writes headers, timestamps and keys into the batch', async () => {
    const { fake, clock, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const sentAt = BigInt(clock.now());
    const [r] = await samsa.producer({ key: serdes.string, value: serdes.json<{ n: number }>() }).send({
      topic: 't',
      messages: [{ key: 'k', value: { n: 1 }, headers: { trace: 'abc', bin: Buffer.from([1, 2]) } }],
    });
    expect(r!.timestamp).toBe(sentAt);
    const [stored] = fake.records('t', 0);
    expect(stored!.key!.toString()).toBe('k');
    expect(JSON.parse(stored!.value!.toString())).toEqual({ n: 1 });
    expect(stored!.headers.map((h) => [h.key, h.value])).toEqual([
      ['trace', Buffer.from('abc')],
      ['bin', Buffer.from([1, 2])],
    ]);
    expect(stored!.timestamp).toBe(sentAt);
  });

  it("keeps repeated header keys in order, null values included (Kafka's Headers), and a consumer reads them back in order", async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    await samsa.producer({ value: serdes.string }).send({
      topic: 't',
      messages: [
        {
          value: 'v',
          headers: [
            { key: 'hop', value: 'a' },
            { key: 'x', value: null },
            { key: 'hop', value: Buffer.from('b') },
          ],
        },
      ],
    });
    expect(fake.records('t', 0)[0]!.headers).toEqual([
      { key: 'hop', value: Buffer.from('a') },
      { key: 'x', value: null },
      { key: 'hop', value: Buffer.from('b') },
    ]);
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 't', partition: 0 }]);
    const [record] = await consumer.poll();
    expect(record!.headerList).toEqual([
      { key: 'hop', value: Buffer.from('a') },
      { key: 'x', value: null },
      { key: 'hop', value: Buffer.from('b') },
    ]);
    expect(record!.headers).toEqual({ hop: Buffer.from('b'), x: null });
    await expect(
      samsa.producer().send({ topic: 't', messages: [{ value: null, headers: [{ key: 1 as unknown as string, value: 'v' }] }] }),
    ).rejects.toThrow('headers[0].key must be a string');
  });

  it('rejects a partition the topic does not have, after one metadata refresh', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 2);
    const error = await samsa
      .producer()
      .send({ topic: 't', messages: [{ partition: 5, value: null }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTopicOrPartitionError);
    expect(fake.callsOf('produce')).toHaveLength(0);
  });

  it('sendBatch writes many records to one partition as one batch', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('perf', 2, [1, 2]);
    const producer = samsa.producer();
    const messages = Array.from({ length: 1000 }, (_, i) => ({ value: Buffer.from(`v${i}`) }));
    const a = await producer.sendBatch({ topic: 'perf', partition: 1, messages });
    const b = await producer.sendBatch({ topic: 'perf', partition: 1, messages: messages.slice(0, 10) });
    expect(a).toMatchObject({ partition: 1, baseOffset: 0n, count: 1000 });
    expect(b).toMatchObject({ partition: 1, baseOffset: 1000n, count: 10 });
    expect(fake.callsOf('produce').map((c) => c.nodeId)).toEqual([2, 2]);
    expect(fake.records('perf', 1)).toHaveLength(1010);
  });

  it('sendBatch encodes plain and fully specified messages alike in one batch', async () => {
    // Plain { value } messages take a fast path (no per-record Prepared object); the others
    // (key, headers, timestamp, null value) go through prepare(). Both must encode the same way.
    const { fake, clock, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const producer = samsa.producer();
    const now = BigInt(clock.now());
    await producer.sendBatch({
      topic: 't',
      partition: 0,
      messages: [
        { value: Buffer.from('a') },
        { key: Buffer.from('k'), value: Buffer.from('b') },
        { value: Buffer.from('c'), timestamp: 7 },
        { value: null },
        { value: Buffer.from('d'), headers: { h: 'x' } },
        { value: Buffer.from('e') },
      ],
    });
    const stored = fake.records('t', 0);
    expect(stored.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null, r.timestamp])).toEqual([
      [0n, null, 'a', now],
      [1n, 'k', 'b', now],
      [2n, null, 'c', 7n],
      [3n, null, null, now],
      [4n, null, 'd', now],
      [5n, null, 'e', now],
    ]);
    expect(stored[4]!.headers).toEqual([{ key: 'h', value: Buffer.from('x') }]);
    // A value serde still runs on every message (no fast path for it).
    const strings = samsa.producer({ value: serdes.string });
    await strings.sendBatch({ topic: 't', partition: 0, messages: [{ value: 'f' }, { value: 'g' }] });
    expect(
      fake
        .records('t', 0)
        .slice(6)
        .map((r) => r.value!.toString()),
    ).toEqual(['f', 'g']);
  });

  it('keeps several requests in flight and reports corrupt batches', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const producer = samsa.producer({ maxInFlightRequests: 2 });
    const sends = Array.from({ length: 6 }, (_, i) =>
      producer.sendBatch({ topic: 't', partition: 0, messages: [{ value: Buffer.from(String(i)) }] }),
    );
    const offsets = (await Promise.all(sends)).map((r) => r.baseOffset).sort();
    expect(offsets).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);

    fake.failOnce(
      (c) => c.method === 'produce',
      () => ({
        throttleTimeMs: 0,
        topics: [
          {
            name: 't',
            partitions: [
              {
                partition: 0,
                errorCode: ErrorCode.CORRUPT_MESSAGE,
                errorMessage: 'crc',
                baseOffset: '-1',
                logAppendTimeMs: '-1',
                logStartOffset: '-1',
                currentLeader: null,
              },
            ],
          },
        ],
      }),
    );
    // CORRUPT_MESSAGE is retriable in the table (a bit flip on the way): the retry succeeds.
    const r = await producer.sendBatch({ topic: 't', partition: 0, messages: [{ value: null }] });
    expect(r.baseOffset).toBe(6n);
    expect(CorruptMessageError).toBeDefined();
  });

  it('refuses sends after close and validates input', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const producer = samsa.producer();
    await expect(producer.send({ topic: '', messages: [] })).rejects.toMatchObject({ errorName: 'INVALID_REQUEST' });
    await expect(producer.send({ topic: 't', messages: [{ value: null, partition: -1 }] })).rejects.toMatchObject({
      errorName: 'INVALID_REQUEST',
    });
    await expect(producer.send({ topic: 't', messages: [] })).resolves.toEqual([]);
    await producer.close();
    await expect(producer.send({ topic: 't', messages: [{ value: null }] })).rejects.toThrow(/closed/);
  });
});
