/**
 * Instrumentation events (KafkaJS's names, typed): the group consumer's life cycle (connect,
 * rebalancing, group_join, fetch, batch processing, heartbeat, commit_offsets, crash, stop,
 * disconnect) and the client's request events, on the fake cluster and a manual clock.
 */
import { describe, expect, it } from 'vitest';
import { Instrumentation, noopLogger } from '../src/index.js';
import type { ConsumerEvents, InstrumentationEvent } from '../src/index.js';
import { ManualClock } from './fakes.js';
import { advanceUntil, setupGroup } from './groupFixture.js';

describe('instrumentation events', () => {
  it("a group consumer's run reports connect, rebalancing, group_join, fetch, batch processing, heartbeat, commit and disconnect", async () => {
    const { clock, samsa, consumer } = setupGroup();
    const events: Array<InstrumentationEvent<string, unknown>> = [];
    const names: Array<keyof ConsumerEvents> = [
      'consumer.connect',
      'consumer.rebalancing',
      'consumer.group_join',
      'consumer.fetch',
      'consumer.start_batch_process',
      'consumer.end_batch_process',
      'consumer.heartbeat',
      'consumer.commit_offsets',
      'consumer.crash',
      'consumer.stop',
      'consumer.disconnect',
    ];
    for (const name of names) consumer.on(name, (e) => events.push(e));
    const handled: string[] = [];
    const running = consumer.run({
      eachMessage: ({ message }) => {
        handled.push(message.value!);
      },
    });
    expect(await advanceUntil(clock, () => handled.length >= 5)).toBe(true);
    await clock.advance(5_000); // a heartbeat and an auto commit
    await samsa.close();
    await running;
    const types = events.map((e) => e.type);
    expect(types.indexOf('consumer.connect')).toBeLessThan(types.indexOf('consumer.group_join'));
    expect(types.indexOf('consumer.rebalancing')).toBeLessThan(types.indexOf('consumer.group_join'));
    const join = events.find((e) => e.type === 'consumer.group_join')!.payload;
    expect(join).toMatchObject({ groupId: 'g', memberId: 'member-1', leaderId: 'member-1', isLeader: true, groupProtocol: 'range' });
    expect(join).toMatchObject({ memberAssignment: { t: [0, 1] } });
    const fetched = events.filter((e) => e.type === 'consumer.fetch').map((e) => e.payload as ConsumerEvents['consumer.fetch']);
    expect(fetched.reduce((n, f) => n + f.numberOfRecords, 0)).toBe(5);
    const ends = events
      .filter((e) => e.type === 'consumer.end_batch_process')
      .map((e) => e.payload as ConsumerEvents['consumer.end_batch_process']);
    expect(
      ends
        .map((b) => `${b.topic}-${b.partition}:${b.firstOffset}..${b.lastOffset}/${b.batchSize} hw ${b.highWatermark} lag ${b.offsetLag}`)
        .sort(),
    ).toEqual(['t-0:0..2/3 hw 3 lag 0', 't-1:0..1/2 hw 2 lag 0']);
    expect(types.filter((t) => t === 'consumer.start_batch_process')).toHaveLength(2);
    expect(events.find((e) => e.type === 'consumer.heartbeat')!.payload).toEqual({
      groupId: 'g',
      memberId: 'member-1',
      groupGenerationId: 1,
    });
    const commits = events
      .filter((e) => e.type === 'consumer.commit_offsets')
      .map((e) => e.payload as ConsumerEvents['consumer.commit_offsets']);
    const committed = commits.flatMap((c) => c.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p.partition}@${p.offset}`)));
    expect(committed).toEqual(expect.arrayContaining(['t-0@3', 't-1@2']));
    expect(types).not.toContain('consumer.crash');
    expect(types.slice(-2)).toEqual(['consumer.stop', 'consumer.disconnect']);
    expect(events.every((e) => typeof e.timestamp === 'number')).toBe(true);
  });

  it('a handler that throws past its retries, not restarted: crash with its error, then stop', async () => {
    const { clock, samsa, consumer } = setupGroup({
      retry: { retries: 1, initialRetryTimeMs: 10, jitter: 0, restartOnFailure: () => false },
    });
    const types: string[] = [];
    let crashed: Error | undefined;
    let restart: boolean | undefined;
    consumer.on('consumer.crash', (e) => {
      types.push(e.type);
      crashed = e.payload.error;
      restart = e.payload.restart;
    });
    consumer.on('consumer.stop', (e) => types.push(e.type));
    let failed = false;
    const running = consumer
      .run({
        eachMessage: () => {
          throw new Error('handler broke');
        },
      })
      .catch(() => {
        failed = true;
      });
    expect(await advanceUntil(clock, () => failed)).toBe(true);
    await running;
    expect(types).toEqual(['consumer.crash', 'consumer.stop']);
    expect(crashed?.message).toBe('handler broke');
    expect(restart).toBe(false);
    await samsa.close();
  });

  it("the client's requests: each RPC with its broker, name and duration; the queue size up and down; connect once", async () => {
    const { clock, samsa, consumer } = setupGroup();
    const requests: Array<{ apiName: string; broker: string; errorCode?: number }> = [];
    const sizes: number[] = [];
    const connects: string[] = [];
    const remove = samsa.on('client.network.request', (e) => requests.push(e.payload));
    samsa.on('client.network.request_queue_size', (e) => sizes.push(e.payload.queueSize));
    samsa.on('client.connect', (e) => connects.push(e.payload.broker));
    let disconnected = 0;
    samsa.on('client.disconnect', () => disconnected++);
    const handled: unknown[] = [];
    const running = consumer.run({ eachMessage: (p) => void handled.push(p) });
    expect(await advanceUntil(clock, () => handled.length >= 5)).toBe(true);
    const apis = new Set(requests.map((r) => r.apiName));
    for (const api of ['metadata', 'findCoordinator', 'joinGroup', 'syncGroup', 'offsetFetch', 'fetch']) expect(apis).toContain(api);
    expect(requests.every((r) => r.broker.length > 0)).toBe(true);
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.min(...sizes)).toBe(0);
    expect(connects).toHaveLength(1);
    remove();
    const before = requests.length;
    await clock.advance(3_000);
    expect(requests.length).toBe(before);
    await samsa.close();
    await running;
    expect(disconnected).toBe(1);
  });

  it('on() returns a remover; a listener that throws is logged and the others still run', () => {
    const clock = new ManualClock(5);
    const logged: string[] = [];
    const bus = new Instrumentation<{ tick: { n: number } }>(clock, { ...noopLogger, error: (m) => void logged.push(m) });
    const got: number[] = [];
    bus.on('tick', () => {
      throw new Error('bad listener');
    });
    const remove = bus.on('tick', (e) => void got.push(e.payload.n + e.timestamp));
    bus.emit('tick', { n: 1 });
    remove();
    bus.emit('tick', { n: 2 });
    expect(got).toEqual([6]);
    expect(logged).toEqual(['an instrumentation listener threw', 'an instrumentation listener threw']);
    expect(bus.has('tick')).toBe(true);
  });
});
