/**
 * KIP-320 truncation detection in the consumer (Kafka's SubscriptionState AWAIT_VALIDATION): the
 * fake cluster stamps partitionLeaderEpoch on appended batches and answers OffsetForLeaderEpoch from
 * its log, so an "unclean election" is a truncate + moveLeader.
 */
import { encodeRecordBatch } from '@samsa/protocol';
import type { FetchRequest, MetadataRequest, OffsetForLeaderEpochRequest } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { LogTruncationError, OffsetOutOfRangeError, serdes } from '../src/index.js';
import type { AutoOffsetReset, Consumer } from '../src/index.js';
import { setupGroup } from './groupFixture.js';
import { setup } from './helpers.js';

const batchOf = (values: string[]) => encodeRecordBatch(values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: 1n })));
const tp = { topic: 't', partition: 0 };

/** Polls until `n` records arrived or an error is thrown; bounded in rounds. */
async function pollValues(consumer: Consumer<Buffer | null, string | null>, n: number): Promise<Array<string | null>> {
  const got: Array<string | null> = [];
  for (let i = 0; i < 20 && got.length < n; i++) got.push(...(await consumer.poll()).map((r) => r.value));
  return got;
}

/** Leader 1 holds a,b (epoch 0) and c,d (epoch 0); the consumer read all four (position 4, epoch 0). */
async function consumedFourAtEpochZero(autoOffsetReset: AutoOffsetReset) {
  const ctx = setup([1, 2]);
  ctx.fake.createTopic('t', 1);
  ctx.fake.append('t', 0, batchOf(['a', 'b']));
  ctx.fake.append('t', 0, batchOf(['c', 'd']));
  const consumer = ctx.samsa.consumer({ value: serdes.string, autoOffsetReset });
  consumer.assign([tp]);
  if (autoOffsetReset === 'none') await consumer.seek({ ...tp, offset: 0n });
  else await consumer.seek({ ...tp, offset: 'earliest' });
  expect(await pollValues(consumer, 4)).toEqual(['a', 'b', 'c', 'd']);
  expect(consumer.position(tp)).toBe(4n);
  expect(consumer.positionLeaderEpoch(tp)).toBe(0);
  return { ...ctx, consumer };
}

const validations = (fake: ReturnType<typeof setup>['fake']) =>
  fake.callsOf('offsetForLeaderEpoch').map((c) => {
    const p = (c.request as OffsetForLeaderEpochRequest).topics![0]!.partitions![0]!;
    return { nodeId: c.nodeId, currentLeaderEpoch: p.currentLeaderEpoch, leaderEpoch: p.leaderEpoch };
  });

describe('Consumer truncation detection (KIP-320)', () => {
  it('sends no OffsetForLeaderEpoch while the leader epoch is unchanged', async () => {
    const { fake, consumer } = await consumedFourAtEpochZero('earliest');
    fake.append('t', 0, batchOf(['e']));
    expect(await pollValues(consumer, 1)).toEqual(['e']);
    expect(fake.callsOf('offsetForLeaderEpoch')).toHaveLength(0);
    await consumer.close();
  });

  it('validates the position after a leader change and keeps it when the new leader has the log', async () => {
    const { fake, consumer } = await consumedFourAtEpochZero('earliest');
    fake.moveLeader('t', 0, 2);
    fake.append('t', 0, batchOf(['e'])); // offset 4, epoch 1
    expect(await pollValues(consumer, 1)).toEqual(['e']);
    expect(validations(fake)).toEqual([{ nodeId: 2, currentLeaderEpoch: 1, leaderEpoch: 0 }]);
    // The validation came before any fetch from the new leader.
    const firstToNew = fake.calls.findIndex((c) => c.nodeId === 2 && c.method === 'fetch');
    const validation = fake.calls.findIndex((c) => c.method === 'offsetForLeaderEpoch');
    expect(validation).toBeGreaterThanOrEqual(0);
    expect(validation).toBeLessThan(firstToNew);
    expect(consumer.position(tp)).toBe(5n);
    expect(consumer.positionLeaderEpoch(tp)).toBe(1);
    await consumer.close();
  });

  it('on truncation resets to the divergence point under earliest/latest', async () => {
    for (const reset of ['earliest', 'latest'] as const) {
      const { fake, consumer } = await consumedFourAtEpochZero(reset);
      // Unclean election: the new leader never got c,d (offsets 2-3) and writes x at offset 2.
      fake.truncate('t', 0, 2n);
      fake.moveLeader('t', 0, 2);
      fake.append('t', 0, batchOf(['x', 'y']));
      expect(await pollValues(consumer, 2)).toEqual(['x', 'y']);
      expect(validations(fake)).toEqual([{ nodeId: 2, currentLeaderEpoch: 1, leaderEpoch: 0 }]);
      expect(consumer.position(tp)).toBe(4n);
      await consumer.close();
    }
  });

  it("raises LogTruncationError with the offset and the divergent offset under 'none', and keeps the position", async () => {
    const { fake, consumer } = await consumedFourAtEpochZero('none');
    fake.truncate('t', 0, 2n);
    fake.moveLeader('t', 0, 2);
    fake.append('t', 0, batchOf(['x']));
    let error: unknown;
    for (let i = 0; i < 20 && error === undefined; i++)
      error = await consumer.poll().then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(LogTruncationError);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect(error).toMatchObject({ topic: 't', partition: 0, offset: 4n, divergentOffset: 2n, retriable: false });
    expect(consumer.position(tp)).toBe(4n);
    // The caller decides: seek to the divergence point and continue.
    await consumer.seek({ ...tp, offset: (error as LogTruncationError).divergentOffset! });
    expect(await pollValues(consumer, 1)).toEqual(['x']);
    await consumer.close();
  });

  it('validates a position restored with its committed leader epoch before fetching', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a', 'b']));
    fake.append('t', 0, batchOf(['c', 'd']));
    fake.truncate('t', 0, 2n);
    fake.moveLeader('t', 0, 2);
    fake.moveLeader('t', 0, 1);
    fake.append('t', 0, batchOf(['x'])); // offset 2, epoch 2
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([tp]);
    await consumer.seek({ ...tp, offset: 4n, leaderEpoch: 0 });
    expect(await pollValues(consumer, 1)).toEqual(['x']);
    expect(validations(fake)).toEqual([{ nodeId: 1, currentLeaderEpoch: 2, leaderEpoch: 0 }]);
    const firstFetch = fake.calls.findIndex((c) => c.method === 'fetch');
    expect(fake.calls.findIndex((c) => c.method === 'offsetForLeaderEpoch')).toBeLessThan(firstFetch);
    expect(consumer.position(tp)).toBe(3n);
    await consumer.close();
  });

  it('resets per autoOffsetReset when the leader knows no epoch at or before the position', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.moveLeader('t', 0, 1);
    fake.moveLeader('t', 0, 1); // epoch 2, empty log
    fake.append('t', 0, batchOf(['z'])); // offset 0, epoch 2
    const none = samsa.consumer({ value: serdes.string, autoOffsetReset: 'none' });
    none.assign([tp]);
    await none.seek({ ...tp, offset: 7n, leaderEpoch: 1 });
    let error: unknown;
    for (let i = 0; i < 20 && error === undefined; i++)
      error = await none.poll().then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(LogTruncationError);
    expect(error).toMatchObject({ offset: 7n, divergentOffset: undefined });
    await none.close();
    const earliest = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    earliest.assign([tp]);
    await earliest.seek({ ...tp, offset: 7n, leaderEpoch: 1 });
    expect(await pollValues(earliest, 1)).toEqual(['z']);
    await earliest.close();
  });

  it('a group member commits the epoch of the last record consumed', async () => {
    const { clock, coordinator, samsa, poll } = setupGroup();
    const got: Array<{ partition: number; offset: bigint; value: string | null }> = [];
    for (let i = 0; i < 10 && got.length < 5; i++) got.push(...(await poll()));
    expect(got).toHaveLength(5);
    await poll(); // marks them processed
    await clock.advance(5_000);
    expect(Object.fromEntries(coordinator.offsets)).toEqual({ 't-0': '3', 't-1': '2' });
    expect(Object.fromEntries(coordinator.epochs)).toEqual({ 't-0': 0, 't-1': 0 });
    await samsa.close();
  });

  it('a group member restarting from a committed offset with its epoch validates it and resets at the divergence point', async () => {
    const { fake, coordinator, samsa, poll } = setupGroup();
    fake.append('t', 0, batchOf(['c2'])); // offset 3, epoch 0
    coordinator.offsets.set('t-0', '4');
    coordinator.epochs.set('t-0', 0);
    // Unclean election: offset 3 is lost, the new leader writes x there under epoch 1.
    fake.truncate('t', 0, 3n);
    fake.moveLeader('t', 0, 1);
    fake.append('t', 0, batchOf(['x']));
    const got: Array<{ partition: number; offset: bigint; value: string | null }> = [];
    for (let i = 0; i < 10 && !got.some((r) => r.partition === 0); i++) got.push(...(await poll()));
    expect(got.filter((r) => r.partition === 0).map((r) => [r.offset, r.value])).toEqual([[3n, 'x']]);
    expect(validations(fake)).toEqual([{ nodeId: 1, currentLeaderEpoch: 1, leaderEpoch: 0 }]);
    await samsa.close();
  });
});

/** Per partition of each call of `method`: `topic-partition@currentLeaderEpoch`, as the request carried them. */
const epochsSent = (fake: ReturnType<typeof setup>['fake'], method: 'fetch' | 'listOffsets' | 'offsetForLeaderEpoch') =>
  fake.callsOf(method).map((c) => ({
    nodeId: c.nodeId,
    epochs: (c.request as { topics: Array<{ name: string; partitions: Array<{ partition: number; currentLeaderEpoch?: number }> }> }).topics
      .flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partition}@${p.currentLeaderEpoch}`))
      .sort(),
  }));

describe('Leader epochs per partition (KIP-320)', () => {
  /**
   * t-0 and t-1 both led by broker 1, each holding two records written at epoch 0; then t-0's
   * leadership moved to broker 2 and back (epoch 2) while t-1 stayed at epoch 0.
   */
  function oneLeaderTwoEpochs() {
    const ctx = setup([1, 2]);
    ctx.fake.createTopic('t', 2, [1, 1]);
    ctx.fake.append('t', 0, batchOf(['p0-a', 'p0-b']));
    ctx.fake.append('t', 1, batchOf(['p1-a', 'p1-b']));
    ctx.fake.moveLeader('t', 0, 2);
    ctx.fake.moveLeader('t', 0, 1);
    return ctx;
  }
  const both = [tp, { topic: 't', partition: 1 }];

  it('sends each partition its own leader epoch when one leader holds partitions at different epochs', async () => {
    const { fake, samsa } = oneLeaderTwoEpochs();
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign(both);
    const got = await pollValues(consumer, 4);
    expect(got.sort()).toEqual(['p0-a', 'p0-b', 'p1-a', 'p1-b']);
    // One fetch to broker 1 for both partitions, each with the epoch Metadata gave for it.
    const fetches = epochsSent(fake, 'fetch');
    expect(fetches[0]).toEqual({ nodeId: 1, epochs: ['t-0@2', 't-1@0'] });
    expect(fetches.every((f) => f.epochs.every((e) => e === 't-0@2' || e === 't-1@0'))).toBe(true);
    expect(epochsSent(fake, 'listOffsets')).toEqual([{ nodeId: 1, epochs: ['t-0@2', 't-1@0'] }]);
    await consumer.close();
  });

  it('validates two positions at one leader, each under its own leader epoch', async () => {
    const { fake, samsa } = oneLeaderTwoEpochs();
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign(both);
    // Committed positions with the epoch of the last record consumed: t-0's came before both moves.
    await consumer.seek({ ...tp, offset: 1n, leaderEpoch: 0 });
    await consumer.seek({ topic: 't', partition: 1, offset: 1n, leaderEpoch: 0 });
    expect((await pollValues(consumer, 2)).sort()).toEqual(['p0-b', 'p1-b']);
    expect(epochsSent(fake, 'offsetForLeaderEpoch')).toEqual([{ nodeId: 1, epochs: ['t-0@2', 't-1@0'] }]);
    await consumer.close();
  });

  it('answers the admin listOffsets of two partitions at one leader at different epochs in one request', async () => {
    const { fake, samsa } = oneLeaderTwoEpochs();
    const ends = await samsa.admin().listOffsets('t', [
      { partition: 0, timestamp: 'latest' },
      { partition: 1, timestamp: 'latest' },
    ]);
    expect(ends.map((e) => [e.partition, e.offset])).toEqual([
      [0, 2n],
      [1, 2n],
    ]);
    // One request: with one epoch for both, t-1 was refused (UNKNOWN_LEADER_EPOCH) and asked again.
    expect(epochsSent(fake, 'listOffsets')).toEqual([{ nodeId: 1, epochs: ['t-0@2', 't-1@0'] }]);
  });

  it('on UNKNOWN_LEADER_EPOCH (the leader has not applied the epoch Metadata reports) refreshes metadata before each retry, backing off longer each time', async () => {
    const { fake, clock, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.moveLeader('t', 0, 1); // epoch 1 in Metadata
    fake.append('t', 0, batchOf(['a']));
    // The leader lags: its first three fetch answers are for epoch 0.
    let lagging = 3;
    const fetchTimes: number[] = [];
    fake.hooks.push((call) => {
      if (call.method !== 'fetch') return undefined;
      fetchTimes.push(clock.now());
      if (lagging === 0) return undefined;
      lagging--;
      const p = fake.topics.get('t')![0]!;
      p.leaderEpoch--;
      try {
        return fake.fetch(call.nodeId, call.request as FetchRequest);
      } finally {
        p.leaderEpoch++;
      }
    });
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([tp]);
    expect(await pollValues(consumer, 1)).toEqual(['a']);
    expect(lagging).toBe(0);
    // Between two fetches there is always a Metadata request: never the same stale answer again.
    const order = fake.calls.filter((c) => c.method === 'fetch' || c.method === 'metadata').map((c) => c.method);
    const fetchesAt = order.flatMap((m, i) => (m === 'fetch' ? [i] : []));
    expect(fetchesAt.length).toBeGreaterThanOrEqual(4);
    for (let k = 1; k < 4; k++) expect(order.slice(fetchesAt[k - 1]! + 1, fetchesAt[k]!)).toContain('metadata');
    // Bounded exponential backoff between the retries (initialRetryTimeMs 10, no jitter).
    const gaps = fetchTimes.slice(1, 4).map((t, k) => t - fetchTimes[k]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(10);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]).toBeGreaterThan(gaps[1]!);
    await consumer.close();
  });

  it('on FENCED_LEADER_EPOCH from a stale Metadata answer refreshes until Metadata catches up, then fetches', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a']));
    fake.moveLeader('t', 0, 1);
    fake.moveLeader('t', 0, 1); // epoch 2 on the leader
    // The broker answering Metadata lags: its first three answers still say epoch 0.
    let staleAnswers = 3;
    fake.hooks.push((call) => {
      if (call.method !== 'metadata' || staleAnswers === 0) return undefined;
      staleAnswers--;
      const p = fake.topics.get('t')![0]!;
      const epoch = p.leaderEpoch;
      p.leaderEpoch = 0;
      try {
        return fake.metadata(call.request as MetadataRequest);
      } finally {
        p.leaderEpoch = epoch;
      }
    });
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([tp]);
    await consumer.seek({ ...tp, offset: 0n });
    expect(await pollValues(consumer, 1)).toEqual(['a']);
    expect(staleAnswers).toBe(0);
    const fetched = epochsSent(fake, 'fetch').map((f) => f.epochs[0]);
    expect(fetched.filter((e) => e === 't-0@0').length).toBeGreaterThanOrEqual(1);
    expect(fetched.at(-1)).toBe('t-0@2');
    await consumer.close();
  });

  it("with topic ids, a FENCED_LEADER_EPOCH answer's current leader outranks lagging Metadata answers", async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 1);
    fake.topicIds.set('t', 'id-1');
    fake.append('t', 0, batchOf(['a']));
    fake.moveLeader('t', 0, 1);
    fake.moveLeader('t', 0, 1); // epoch 2 on the leader
    let staleAnswers = 3;
    fake.hooks.push((call) => {
      if (call.method !== 'metadata' || staleAnswers === 0) return undefined;
      staleAnswers--;
      const p = fake.topics.get('t')![0]!;
      const epoch = p.leaderEpoch;
      p.leaderEpoch = 0;
      try {
        return fake.metadata(call.request as MetadataRequest);
      } finally {
        p.leaderEpoch = epoch;
      }
    });
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([tp]);
    await consumer.seek({ ...tp, offset: 0n });
    expect(await pollValues(consumer, 1)).toEqual(['a']);
    // Fenced once at the epoch of the first (lagging) answer; the refresh after it lagged too, but
    // the epoch the broker named was kept.
    expect(epochsSent(fake, 'fetch').map((f) => f.epochs[0])).toEqual(['t-0@0', 't-0@2']);
    expect(staleAnswers).toBe(1);
    await consumer.close();
  });
});
