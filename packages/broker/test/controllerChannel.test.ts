/**
 * ControllerChannel's leader hints (Kafka's NodeToControllerChannelManager keeps the newest
 * controller it heard of): every controller answer carries leader_id and leader_epoch, and a hint
 * from an epoch older than one already seen is stale.
 */
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { manualTimers } from '@samsa/testkit';
import { ControllerChannel, type Verdict } from '../src/metadata/controllerChannel.js';
import { realTimers } from '@samsa/server';

function channel(): ControllerChannel {
  return new ControllerChannel({
    controllers: [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 1 })),
    logger: pino({ level: 'silent' }),
    timers: realTimers,
  });
}

describe('ControllerChannel.learnLeader', () => {
  it('takes a hint from the same or a newer epoch and ignores one from an older epoch', () => {
    const c = channel();
    expect(c.learnLeader(2, 5)).toBe(true);
    expect(c.activeControllerId).toBe(2);
    expect(c.learnLeader(3, 4)).toBe(false);
    expect(c.activeControllerId).toBe(2);
    expect(c.learnLeader(3, 5)).toBe(true);
    expect(c.activeControllerId).toBe(3);
    expect(c.learnLeader(1, 6)).toBe(true);
    expect(c.learnLeader(2, 5)).toBe(false);
    expect(c.activeControllerId).toBe(1);
    c.close();
  });

  it('takes a hint without an epoch (0) as it is, and -1 as "no leader known"', () => {
    const c = channel();
    c.learnLeader(2, 7);
    expect(c.learnLeader(3, 0)).toBe(true);
    expect(c.activeControllerId).toBe(3);
    expect(c.learnLeader(-1, 7)).toBe(true);
    expect(c.activeControllerId).toBe(-1);
    // A newer epoch still wins after an epoch-less hint: the epoch seen stays 7.
    expect(c.learnLeader(1, 6)).toBe(false);
    c.close();
  });

  it('ignores a leader that is not a voter', () => {
    const c = channel();
    c.learnLeader(2, 1);
    expect(c.learnLeader(9, 2)).toBe(false);
    expect(c.activeControllerId).toBe(2);
    c.close();
  });
});

describe('ControllerChannel.callActive while the quorum has no leader', () => {
  /** Lets the channel's promise chain run (its timers are manual, so nothing else moves). */
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };

  it('backs off after every voter said "no leader", and retries at once when a new active controller becomes known', async () => {
    const timers = manualTimers();
    const ch = new ControllerChannel({
      controllers: [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 1 })),
      logger: pino({ level: 'silent' }),
      timers,
      random: () => 0.5,
    });
    const asked: number[] = [];
    let leader = -1;
    // Each controller answers as a voter of a quorum that elects: no leader until `leader` is set.
    vi.spyOn(ch, 'call').mockImplementation((target) => {
      asked.push(target.id);
      return Promise.resolve({ leaderId: leader } as never);
    });
    const judge = (res: { leaderId: number }): Verdict =>
      res.leaderId === -1 ? { kind: 'notController', leaderId: -1, leaderEpoch: 0 } : { kind: 'answer' };
    const answer = ch.callActive('RegisterBroker', () => ({}) as never, judge as never, timers.now() + 60_000);
    await settle();
    expect(asked).toEqual([1]);
    expect(timers.pending()).toEqual([100]); // backing off: 100 ms, the first round
    timers.advance(100);
    await settle();
    timers.advance(100);
    await settle();
    expect(asked).toEqual([1, 2, 3]);
    expect(timers.pending()).toEqual([100]);
    // The metadata follower hears of the new leader: the backoff ends now, not 100 ms later.
    leader = 2;
    expect(ch.learnLeader(2, 1)).toBe(true);
    await settle();
    expect(asked).toEqual([1, 2, 3, 2]);
    await expect(answer).resolves.toEqual({ leaderId: 2 });
    expect(timers.pending()).toEqual([]);
    ch.close();
  });
});
