/**
 * run() as KafkaJS users drive it: eachBatch with resolveOffset / eachBatchAutoResolve,
 * commitOffsetsIfNecessary, isStale / isRunning, pause() returning resume; eachMessage's KafkaJS
 * payload; partitionsConsumedConcurrently keeping each partition's order. All on the fake cluster,
 * an in-memory coordinator and a manual clock.
 */
import { describe, expect, it } from 'vitest';
import type { EachBatchPayload } from '../src/index.js';
import { advanceUntil, batchOf, setupGroup } from './groupFixture.js';

describe('GroupConsumer.run', () => {
  it('eachBatch gets one partition at a time with its batch object; auto-resolved batches are committed on close', async () => {
    const { clock, coordinator, samsa, consumer } = setupGroup();
    const seen: Array<{ topic: string; partition: number; offsets: string[]; first: bigint | null; last: bigint; hw: bigint }> = [];
    const running = consumer.run({
      eachBatch: ({ batch }) => {
        seen.push({
          topic: batch.topic,
          partition: batch.partition,
          offsets: batch.messages.map((m) => `${m.offset}:${m.value}`),
          first: batch.firstOffset(),
          last: batch.lastOffset(),
          hw: batch.highWatermark,
        });
      },
    });
    expect(await advanceUntil(clock, () => seen.length >= 2)).toBe(true);
    const byPartition = Object.fromEntries(seen.map((s) => [s.partition, s]));
    expect(byPartition[0]).toMatchObject({ topic: 't', offsets: ['0:a', '1:b', '2:c'], first: 0n, last: 2n, hw: 3n });
    expect(byPartition[1]).toMatchObject({ offsets: ['0:d', '1:e'], first: 0n, last: 1n, hw: 2n });
    await samsa.close();
    await running;
    expect(Object.fromEntries(coordinator.offsets)).toEqual({ 't-0': '3', 't-1': '2' });
  });

  it('eachBatchAutoResolve false: only resolved offsets count; the unresolved records are read again', async () => {
    const { clock, coordinator, samsa, consumer } = setupGroup();
    const batches: Array<Array<string | null>> = [];
    const running = consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: ({ batch, resolveOffset }) => {
        if (batch.partition !== 0) return;
        batches.push(batch.messages.map((m) => m.value));
        // The first time, only 'a' is handled; after that everything.
        if (batches.length === 1) resolveOffset(batch.messages[0]!.offset);
        else resolveOffset(batch.lastOffset());
      },
    });
    expect(await advanceUntil(clock, () => batches.length >= 2)).toBe(true);
    expect(batches.slice(0, 2)).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
    ]);
    await samsa.close();
    await running;
    // Partition 1's batches were never resolved: nothing of it is committed.
    expect(Object.fromEntries(coordinator.offsets)).toEqual({ 't-0': '3' });
  });

  it('resolveOffset outside the batch is refused and ends run() with that error, committing what was resolved', async () => {
    const { clock, coordinator, samsa, consumer } = setupGroup();
    let failed: unknown;
    const running = consumer
      .run({
        eachBatchAutoResolve: false,
        eachBatch: ({ batch, resolveOffset }) => {
          if (batch.partition !== 0) return;
          resolveOffset(1n);
          resolveOffset(7n);
        },
      })
      .catch((error: unknown) => {
        failed = error;
      });
    expect(await advanceUntil(clock, () => failed !== undefined)).toBe(true);
    await running;
    expect((failed as Error).message).toMatch(/resolveOffset: 7 is not an offset of this batch \(0\.\.2\)/);
    await samsa.close();
    expect(coordinator.offsets.get('t-0')).toBe('2');
  });

  it('commitOffsetsIfNecessary commits once autoCommitIntervalMs passed since the last commit, and explicit offsets at once', async () => {
    const { clock, coordinator, samsa, consumer, fake } = setupGroup({ autoCommitIntervalMs: 60_000 });
    const calls: Array<Promise<void>> = [];
    let payload: EachBatchPayload<null, string | null> | undefined;
    const running = consumer.run({
      eachBatch: (p) => {
        if (p.partition !== 0) return;
        payload = p;
        p.resolveOffset(p.batch.lastOffset());
        calls.push(p.commitOffsetsIfNecessary());
      },
    });
    expect(await advanceUntil(clock, () => calls.length >= 1)).toBe(true);
    await Promise.all(calls);
    expect(coordinator.count('offsetCommit')).toBe(0); // the interval has not passed
    expect(payload!.uncommittedOffsets()).toContainEqual({ topic: 't', partition: 0, offset: 3n });
    await clock.advance(60_000);
    // The timer's commit: t-0 resolved, t-1 auto-resolved.
    expect(Object.fromEntries(coordinator.offsets)).toEqual({ 't-0': '3', 't-1': '2' });
    fake.append('t', 0, batchOf(['f']));
    expect(await advanceUntil(clock, () => calls.length >= 2)).toBe(true);
    await Promise.all(calls);
    const before = coordinator.count('offsetCommit');
    await payload!.commitOffsetsIfNecessary([{ topic: 't', partition: 0, offset: 4n }]);
    expect(coordinator.count('offsetCommit')).toBe(before + 1);
    expect(coordinator.offsets.get('t-0')).toBe('4');
    await samsa.close();
    await running;
  });

  it('isStale after seek() and isRunning false after close(); a stale batch resolves nothing', async () => {
    const { clock, coordinator, samsa, consumer } = setupGroup();
    const states: Array<{ stale: boolean; running: boolean }> = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let closing: Promise<void> | undefined;
    const running = consumer.run({
      eachBatch: async ({ batch, isStale, isRunning }) => {
        if (batch.partition !== 0) return;
        states.push({ stale: isStale(), running: isRunning() });
        await consumer.seek({ topic: 't', partition: 0, offset: 1n });
        states.push({ stale: isStale(), running: isRunning() });
        closing = samsa.close();
        await gate;
        states.push({ stale: isStale(), running: isRunning() });
      },
    });
    expect(await advanceUntil(clock, () => states.length >= 2)).toBe(true);
    release();
    expect(await advanceUntil(clock, () => states.length >= 3)).toBe(true);
    await closing;
    await running;
    expect(states).toEqual([
      { stale: false, running: true },
      { stale: true, running: true },
      { stale: true, running: false },
    ]);
    // The seek position is what counts for t-0, not the stale batch's end.
    expect(coordinator.offsets.get('t-0')).toBe('1');
  });

  it("eachBatch's pause() stops the partition; its unresolved records come again after resume()", async () => {
    const { clock, samsa, consumer } = setupGroup();
    const batches: Array<Array<string | null>> = [];
    let resume: (() => void) | undefined;
    const running = consumer.run({
      eachBatch: ({ batch, pause, resolveOffset }) => {
        if (batch.partition !== 0) return;
        batches.push(batch.messages.map((m) => m.value));
        if (batches.length === 1) {
          resolveOffset(batch.messages[0]!.offset);
          resume = pause();
        }
      },
    });
    expect(await advanceUntil(clock, () => batches.length >= 1)).toBe(true);
    await clock.advance(2_000);
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(consumer.paused()).toEqual([{ topic: 't', partition: 0 }]);
    resume!();
    expect(consumer.paused()).toEqual([]);
    expect(await advanceUntil(clock, () => batches.length >= 2)).toBe(true);
    expect(batches[1]).toEqual(['b', 'c']);
    await samsa.close();
    await running;
  });

  it('eachMessage gets the record with KafkaJS names (topic, partition, message, heartbeat, pause)', async () => {
    const { clock, coordinator, samsa, consumer } = setupGroup();
    const got: string[] = [];
    let resume: (() => void) | undefined;
    const running = consumer.run({
      eachMessage: async ({ topic, partition, message, heartbeat, pause, value }) => {
        expect(value).toBe(message.value);
        got.push(`${topic}-${partition}@${message.offset}:${message.value}`);
        await heartbeat();
        if (message.value === 'a') resume = pause();
      },
    });
    expect(await advanceUntil(clock, () => got.length >= 3)).toBe(true);
    await clock.advance(2_000);
    // t-0 paused after 'a'; t-1 went on.
    expect(got.filter((g) => g.startsWith('t-0'))).toEqual(['t-0@0:a']);
    expect(got.filter((g) => g.startsWith('t-1'))).toEqual(['t-1@0:d', 't-1@1:e']);
    resume!();
    expect(await advanceUntil(clock, () => got.length >= 5)).toBe(true);
    expect(got.filter((g) => g.startsWith('t-0'))).toEqual(['t-0@0:a', 't-0@1:b', 't-0@2:c']);
    expect(coordinator.count('heartbeat')).toBeGreaterThan(0);
    await samsa.close();
    await running;
  });

  it('heartbeat() sends one only when heartbeatIntervalMs passed since the last', async () => {
    const { clock, coordinator, samsa, consumer } = setupGroup();
    const counts: number[] = [];
    const running = consumer.run({
      eachBatch: async ({ batch, heartbeat }) => {
        if (batch.partition !== 0) return;
        await heartbeat(); // none sent yet: goes out
        counts.push(coordinator.count('heartbeat'));
        await heartbeat(); // just sent: skipped
        counts.push(coordinator.count('heartbeat'));
      },
    });
    expect(await advanceUntil(clock, () => counts.length >= 2)).toBe(true);
    expect(counts[1]).toBe(counts[0]);
    expect(counts[0]).toBeGreaterThan(0);
    await samsa.close();
    await running;
  });

  it('partitionsConsumedConcurrently handles partitions at once, each in order', async () => {
    // Each partition's first handler waits until the other partition's has started: one at a time
    // would wait forever, whichever partition came first.
    const { clock, samsa, consumer } = setupGroup();
    const order: string[] = [];
    const started = [0, 1].map(() => {
      let mark: () => void = () => {};
      const promise = new Promise<void>((r) => (mark = r));
      return { mark, promise };
    });
    const running = consumer.run({
      partitionsConsumedConcurrently: 2,
      eachMessage: async ({ partition, message }) => {
        order.push(`${partition}:${message.value}`);
        started[partition]!.mark();
        if (message.value === 'a' || message.value === 'd') await started[1 - partition]!.promise;
      },
    });
    expect(await advanceUntil(clock, () => order.length >= 5)).toBe(true);
    expect(order.filter((o) => o.startsWith('0:'))).toEqual(['0:a', '0:b', '0:c']);
    expect(order.filter((o) => o.startsWith('1:'))).toEqual(['1:d', '1:e']);
    expect(order.slice(0, 2).sort()).toEqual(['0:a', '1:d']);
    await samsa.close();
    await running;
  });

  it('refuses a partitionsConsumedConcurrently below 1', async () => {
    const { samsa, consumer } = setupGroup();
    await expect(consumer.run({ partitionsConsumedConcurrently: 0, eachMessage: () => {} })).rejects.toThrow(
      /partitionsConsumedConcurrently must be an integer >= 1/,
    );
    await samsa.close();
  });

  describe('a handler that throws (KafkaJS retry / restartOnFailure)', () => {
    it('is retried after the backoff on the clock, its records read again, and nothing crashes when a retry succeeds', async () => {
      const { clock, coordinator, samsa, consumer } = setupGroup({
        retry: { retries: 2, initialRetryTimeMs: 100, multiplier: 2, jitter: 0 },
      });
      const attempts: Array<{ at: number; values: Array<string | null> }> = [];
      const crashes: unknown[] = [];
      consumer.on('consumer.crash', (e) => crashes.push(e.payload));
      const running = consumer.run({
        eachBatch: ({ batch }) => {
          if (batch.partition !== 0) return;
          attempts.push({ at: clock.now(), values: batch.messages.map((m) => m.value) });
          if (attempts.length <= 2) throw new Error(`attempt ${attempts.length} fails`);
        },
      });
      expect(await advanceUntil(clock, () => attempts.length >= 3)).toBe(true);
      // The same records each time, after 100 then 200 ms (initialRetryTime, multiplier 2).
      expect(attempts.map((a) => a.values)).toEqual([
        ['a', 'b', 'c'],
        ['a', 'b', 'c'],
        ['a', 'b', 'c'],
      ]);
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(100);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(200);
      await samsa.close();
      await running;
      expect(crashes).toEqual([]);
      expect(coordinator.offsets.get('t-0')).toBe('3');
    });

    it('eachMessage: the records before the failing one stay processed; the retry starts at the failing one', async () => {
      const { clock, coordinator, samsa, consumer } = setupGroup({ retry: { retries: 1, initialRetryTimeMs: 10, jitter: 0 } });
      const seen: string[] = [];
      let failedOnce = false;
      const running = consumer.run({
        eachMessage: ({ partition, message }) => {
          if (partition !== 0) return;
          if (message.value === 'b' && !failedOnce) {
            failedOnce = true;
            throw new Error('b fails once');
          }
          seen.push(message.value!);
        },
      });
      expect(await advanceUntil(clock, () => seen.length >= 3)).toBe(true);
      expect(seen).toEqual(['a', 'b', 'c']);
      await samsa.close();
      await running;
      expect(coordinator.offsets.get('t-0')).toBe('3');
    });

    it('retries exhausted: consumer.crash with restart true (the default), then run() starts over and goes on', async () => {
      const { clock, coordinator, samsa, consumer } = setupGroup({ retry: { retries: 1, initialRetryTimeMs: 10, jitter: 0 } });
      let calls = 0;
      const crashes: Array<{ error: Error; restart: boolean }> = [];
      consumer.on('consumer.crash', (e) => crashes.push({ error: e.payload.error, restart: e.payload.restart }));
      const running = consumer.run({
        eachBatch: ({ batch }) => {
          if (batch.partition !== 0) return;
          calls++;
          // Two failures use up retries: 1; the third fails after the restart, the fourth succeeds.
          if (calls <= 3) throw new Error(`call ${calls} fails`);
        },
      });
      expect(await advanceUntil(clock, () => calls >= 4)).toBe(true);
      expect(crashes.map((c) => [c.error.message, c.restart])).toEqual([['call 2 fails', true]]);
      await samsa.close();
      await running;
      expect(coordinator.offsets.get('t-0')).toBe('3');
    });

    it('restartOnFailure false: crash with restart false and run() ends with the error, its records uncommitted', async () => {
      const asked: Error[] = [];
      const { clock, coordinator, samsa, consumer } = setupGroup({
        retry: {
          retries: 1,
          initialRetryTimeMs: 10,
          jitter: 0,
          restartOnFailure: async (error) => {
            asked.push(error);
            return false;
          },
        },
      });
      const crashes: boolean[] = [];
      consumer.on('consumer.crash', (e) => crashes.push(e.payload.restart));
      let failed: unknown;
      const running = consumer
        .run({
          eachBatch: ({ batch }) => {
            if (batch.partition === 0) throw new Error('always');
          },
        })
        .catch((error: unknown) => {
          failed = error;
        });
      expect(await advanceUntil(clock, () => failed !== undefined)).toBe(true);
      await running;
      expect((failed as Error).message).toBe('always');
      expect(asked.map((e) => e.message)).toEqual(['always']);
      expect(crashes).toEqual([false]);
      await samsa.close();
      expect(coordinator.offsets.get('t-0')).toBeUndefined();
    });

    it('a non-retriable SamsaError is neither retried nor offered to restartOnFailure', async () => {
      let asked = 0;
      const { clock, samsa, consumer } = setupGroup({ retry: { retries: 3, restartOnFailure: () => ++asked > 0 } });
      let calls = 0;
      let failed: unknown;
      const running = consumer
        .run({
          eachBatchAutoResolve: false,
          eachBatch: ({ batch, resolveOffset }) => {
            if (batch.partition !== 0) return;
            calls++;
            resolveOffset(99n);
          },
        })
        .catch((error: unknown) => {
          failed = error;
        });
      expect(await advanceUntil(clock, () => failed !== undefined)).toBe(true);
      await running;
      expect(calls).toBe(1);
      expect(asked).toBe(0);
      await samsa.close();
    });
  });
});
