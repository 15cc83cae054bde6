/**
 * ControllerChannel's leader hints (Kafka's NodeToControllerChannelManager keeps the newest
 * controller it heard of): every controller answer carries leader_id and leader_epoch, and a hint
 * from an epoch older than one already seen is stale.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ControllerChannel } from '../src/metadata/controllerChannel.js';
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
