/**
 * The idempotent producer's client half against the fake cluster (which stores what it is sent
 * and checks no sequences: the broker's rules are tested in packages/broker): configuration rules
 * (Kafka 3.x), producer id / epoch / sequence stamping, a retry keeping its sequence and order,
 * and the epoch bump after an unresolvable sequence error.
 */
import { ErrorCode, readBatchHeader, verifyBatchCrc } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, Samsa, seededRandom } from '../src/index.js';
import type { ProducerOptions } from '../src/index.js';
import { incrementSequence } from '../src/producer/idempotence.js';
import { FakeCluster, ManualClock } from './fakes.js';

function setup() {
  const fake = new FakeCluster([1]);
  const clock = new ManualClock();
  const samsa = new Samsa({
    brokers: [fake.addressOf(1)],
    connectionFactory: fake.connectionFactory,
    clock,
    random: seededRandom(1),
    retry: { retries: 5, initialRetryTimeMs: 10, jitter: 0 },
  });
  return { fake, clock, samsa, producer: (o: ProducerOptions<Buffer | null, Buffer | null> = {}) => samsa.producer(o) };
}

const headers = (fake: FakeCluster, topic: string, partition: number) =>
  fake.topics.get(topic)![partition]!.log.map((b) => readBatchHeader(b.bytes, 0));
const produceError = (topic: string, code: number) => ({
  throttleTimeMs: 0,
  topics: [
    {
      name: topic,
      partitions: [
        {
          partition: 0,
          errorCode: code,
          errorMessage: 'injected',
          baseOffset: '-1',
          logAppendTimeMs: '-1',
          logStartOffset: '-1',
          currentLeader: null,
        },
      ],
    },
  ],
});

describe('idempotence configuration (Kafka 3.x rules)', () => {
  it('is on by default with acks=all and 5 in flight', () => {
    const { producer } = setup();
    expect(producer().idempotent).toBe(true);
    expect(producer({ acks: -1, maxInFlightRequestsPerConnection: 5 }).idempotent).toBe(true);
  });

  it('is turned off silently by acks 0/1, retries 0 or more than 5 in flight when only defaulted', () => {
    const { producer } = setup();
    expect(producer({ acks: 1 }).idempotent).toBe(false);
    expect(producer({ acks: 0 }).idempotent).toBe(false);
    expect(producer({ retries: 0 }).idempotent).toBe(false);
    expect(producer({ maxInFlightRequests: 6 }).idempotent).toBe(false);
    expect(producer({ enableIdempotence: false }).idempotent).toBe(false);
  });

  it('is a configuration error when set explicitly with a conflicting setting', () => {
    const { producer } = setup();
    expect(() => producer({ enableIdempotence: true, acks: 1 })).toThrow(InvalidRequestError);
    expect(() => producer({ enableIdempotence: true, maxInFlightRequestsPerConnection: 6 })).toThrow(/at most 5/);
    expect(() => producer({ enableIdempotence: true, retries: 0 })).toThrow(/retries/);
  });

  it('sequences wrap at int32 max', () => {
    expect(incrementSequence(0x7fffffff, 1)).toBe(0);
    expect(incrementSequence(0x7ffffffe, 5)).toBe(3);
    expect(incrementSequence(10, 5)).toBe(15);
  });
});

describe('idempotent batches', () => {
  it('calls InitProducerId once and stamps id, epoch and consecutive sequences per partition (valid CRCs)', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 2);
    const p = producer({ lingerMs: 0 });
    for (let i = 0; i < 3; i++) {
      await Promise.all([
        p.send({
          topic: 't',
          messages: [
            { value: Buffer.from('a'), partition: 0 },
            { value: Buffer.from('b'), partition: 0 },
          ],
        }),
        p.send({ topic: 't', messages: [{ value: Buffer.from('c'), partition: 1 }] }),
      ]);
      await clock.settle();
    }
    await p.sendBatch({ topic: 't', partition: 1, messages: [{ value: Buffer.from('d') }, { value: Buffer.from('e') }] });
    expect(fake.callsOf('initProducerId')).toHaveLength(1);
    const h0 = headers(fake, 't', 0);
    const h1 = headers(fake, 't', 1);
    expect(h0.map((h) => [h.producerId, h.producerEpoch, h.baseSequence])).toEqual([
      [1000n, 0, 0],
      [1000n, 0, 2],
      [1000n, 0, 4],
    ]);
    expect(h1.map((h) => h.baseSequence)).toEqual([0, 1, 2, 3]);
    for (const b of fake.topics.get('t')![0]!.log) expect(verifyBatchCrc(b.bytes, 0)).toBe(true);
  });

  it('per-send acks other than all are sent without a producer id', async () => {
    const { fake, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ lingerMs: 0 });
    await p.send({ topic: 't', messages: [{ value: Buffer.from('x') }], acks: 1 });
    expect(headers(fake, 't', 0)[0]!.producerId).toBe(-1n);
  });

  it('a retried batch keeps its sequence, and later batches wait behind it', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    fake.failOnce(
      (c) => c.method === 'produce',
      () => produceError('t', ErrorCode.NOT_ENOUGH_REPLICAS),
    );
    const p = producer({ lingerMs: 0, retryBackoffMs: 50 });
    const first = p.send({ topic: 't', messages: [{ value: Buffer.from('1') }] });
    await clock.settle();
    const second = p.send({ topic: 't', messages: [{ value: Buffer.from('2') }] });
    await clock.advance(200);
    expect((await first)[0]!.offset).toBe(0n);
    expect((await second)[0]!.offset).toBe(1n);
    expect(fake.records('t', 0).map((r) => r.value!.toString())).toEqual(['1', '2']);
    expect(headers(fake, 't', 0).map((h) => h.baseSequence)).toEqual([0, 1]);
  });

  it('OUT_OF_ORDER with nothing unanswered before it fails the batch and bumps the epoch; later batches restart at 0', async () => {
    const { fake, clock, producer } = setup();
    fake.createTopic('t', 1);
    const p = producer({ lingerMs: 0 });
    await p.send({ topic: 't', messages: [{ value: Buffer.from('1') }] });
    fake.failOnce(
      (c) => c.method === 'produce',
      () => produceError('t', ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
    );
    const lost = p.send({ topic: 't', messages: [{ value: Buffer.from('2') }] }).catch((e: unknown) => e);
    await clock.advance(100);
    expect(await lost).toMatchObject({ code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    await p.send({ topic: 't', messages: [{ value: Buffer.from('3') }] });
    expect(headers(fake, 't', 0).map((h) => [h.producerEpoch, h.baseSequence])).toEqual([
      [0, 0],
      [1, 0],
    ]);
  });
});

describe('idempotent batches across a leader move', () => {
  it('a new batch waits while an earlier one of its partition is unanswered by the old leader, then follows it to the new one', async () => {
    const fake = new FakeCluster([1, 2]);
    const clock = new ManualClock();
    const samsa = new Samsa({
      brokers: [fake.addressOf(1)],
      connectionFactory: fake.connectionFactory,
      clock,
      random: seededRandom(1),
      retry: { retries: 5, initialRetryTimeMs: 10, jitter: 0 },
    });
    fake.createTopic('t', 1, [1]);
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => {
      releaseFirst = r;
    });
    // The old leader holds the first batch's answer; meanwhile leadership moves to broker 2, which
    // knows nothing of the producer and would take any sequence as its first (KIP-360).
    fake.failOnce(
      (c) => c.method === 'produce' && c.nodeId === 1,
      async () => {
        await firstHeld;
        return produceError('t', ErrorCode.NOT_LEADER_OR_FOLLOWER);
      },
    );
    const p = samsa.producer({ lingerMs: 0, retryBackoffMs: 10 });
    const first = p.send({ topic: 't', messages: [{ value: Buffer.from('1') }] });
    await clock.settle();
    fake.moveLeader('t', 0, 2);
    (samsa as unknown as { cluster: { invalidateTopics(t: string[]): void } }).cluster.invalidateTopics(['t']);
    const second = p.send({ topic: 't', messages: [{ value: Buffer.from('2') }] });
    await clock.advance(100);
    // Nothing reached broker 2 while the first batch was unanswered.
    expect(fake.calls.filter((c) => c.method === 'produce' && c.nodeId === 2)).toEqual([]);
    releaseFirst();
    await clock.advance(200);
    expect((await first)[0]!.offset).toBe(0n);
    expect((await second)[0]!.offset).toBe(1n);
    expect(headers(fake, 't', 0).map((h) => h.baseSequence)).toEqual([0, 1]);
    await samsa.close();
  });
});
