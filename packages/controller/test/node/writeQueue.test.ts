/**
 * The write queue serialises the active controller's operations: the next operation is computed
 * only once the previous one's entry is applied or can no longer be (a caller's timeout answers the
 * caller, not the queue), records-free operations answer in order without proposing, and failures
 * map to NOT_CONTROLLER / REQUEST_TIMED_OUT / UNKNOWN_SERVER_ERROR.
 *
 * The queue runs on a manual clock (testkit) and promises only, so `quiescent()` means "everything
 * that can happen without the clock or an applied entry has happened": no test sleeps.
 */
import { ErrorCode } from '@samsa/protocol';
import type { MetadataRecord } from '@samsa/metadata';
import type { ProposeResult } from '@samsa/raft';
import { describe, expect, it } from 'vitest';
import type { ActiveState, WriteContext, WriteFailure } from '../../src/node/writeQueue.js';
import { WriteQueue } from '../../src/node/writeQueue.js';
import { manualTimers, type ManualTimers } from '@samsa/testkit';
import { quiescent, silentLogger } from './helpers.js';

class FakeContext implements WriteContext {
  readonly selfId = 1;
  readonly logger = silentLogger;
  leader = true;
  active = true;
  lastIndex = 10;
  readonly proposed: number[] = [];
  private readonly waiting = new Map<number, (applied: boolean) => void>();

  isLeader(): boolean {
    return this.leader;
  }

  awaitActive(): Promise<ActiveState> {
    return Promise.resolve(this.active ? 'active' : 'notActive');
  }

  propose(): ProposeResult {
    this.lastIndex++;
    this.proposed.push(this.lastIndex);
    return { ok: true, index: this.lastIndex, term: 3 };
  }

  awaitApplied(index: number): Promise<boolean> {
    return new Promise((resolve) => this.waiting.set(index, resolve));
  }

  notActive(): WriteFailure {
    return { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not active', leaderId: 2, leaderEpoch: 4 };
  }

  leaderEpoch(): number {
    return 3;
  }

  /** The entry at `index` was applied (true) or lost (false). */
  settle(index: number, applied = true): void {
    this.waiting.get(index)!(applied);
    this.waiting.delete(index);
  }
}

const record: MetadataRecord = { type: 'Topic', name: 't', topicId: '00000000-0000-5000-8000-000000000000' };
const write = (response: string) => () => ({ response, records: [record] });
const read = (response: string) => () => ({ response, records: [] });

function setup(): { ctx: FakeContext; clock: ManualTimers; queue: WriteQueue } {
  const ctx = new FakeContext();
  const clock = manualTimers();
  return { ctx, clock, queue: new WriteQueue(ctx, clock) };
}

describe('WriteQueue', () => {
  it('computes the next operation only after the previous entry is applied', async () => {
    const { ctx, queue } = setup();
    const computed: string[] = [];
    const a = queue.submit(
      'a',
      () => {
        computed.push('a');
        return write('A')();
      },
      5_000,
    );
    const b = queue.submit(
      'b',
      () => {
        computed.push('b');
        return write('B')();
      },
      5_000,
    );
    await quiescent();
    expect(ctx.proposed).toEqual([11]);
    expect(computed).toEqual(['a']);
    ctx.settle(11);
    expect(await a).toEqual({ ok: true, response: 'A' });
    await quiescent();
    expect(computed).toEqual(['a', 'b']);
    ctx.settle(12);
    expect(await b).toEqual({ ok: true, response: 'B' });
  });

  it('answers a timed-out caller but still waits for its entry before computing the next operation', async () => {
    const { ctx, clock, queue } = setup();
    const computed: string[] = [];
    const a = queue.submit(
      'CreateTopics',
      () => {
        computed.push('a');
        return write('A')();
      },
      50,
    );
    const b = queue.submit(
      'b',
      () => {
        computed.push('b');
        return write('B')();
      },
      5_000,
    );
    await quiescent();
    clock.advance(49);
    await quiescent();
    expect(await Promise.race([a, Promise.resolve('pending')])).toBe('pending');
    clock.advance(1);
    expect(await a).toMatchObject({ ok: false, errorCode: ErrorCode.REQUEST_TIMED_OUT, leaderId: 1, leaderEpoch: 3 });
    await quiescent();
    expect(computed).toEqual(['a']); // a's entry may still commit: b must see it first
    ctx.settle(11);
    await quiescent();
    expect(computed).toEqual(['a', 'b']);
    ctx.settle(12);
    expect(await b).toEqual({ ok: true, response: 'B' });
  });

  it('never computes an operation whose caller gave up while it was queued', async () => {
    const { ctx, clock, queue } = setup();
    const computed: string[] = [];
    void queue.submit(
      'a',
      () => {
        computed.push('a');
        return write('A')();
      },
      5_000,
    );
    const b = queue.submit(
      'b',
      () => {
        computed.push('b');
        return write('B')();
      },
      20,
    );
    await quiescent();
    clock.advance(20);
    expect(await b).toMatchObject({ ok: false, errorCode: ErrorCode.REQUEST_TIMED_OUT });
    ctx.settle(11);
    await quiescent();
    expect(computed).toEqual(['a']);
    expect(ctx.proposed).toEqual([11]);
  });

  it('answers operations without records in queue order, proposing nothing', async () => {
    const { ctx, queue } = setup();
    const order: string[] = [];
    const a = queue.submit('a', write('A'), 5_000).then((r) => {
      order.push('a');
      return r;
    });
    const b = queue.submit('b', read('B'), 5_000).then((r) => {
      order.push('b');
      return r;
    });
    await quiescent();
    expect(order).toEqual([]);
    ctx.settle(11);
    expect(await b).toEqual({ ok: true, response: 'B' });
    expect(await a).toEqual({ ok: true, response: 'A' });
    expect(order).toEqual(['a', 'b']);
    expect(ctx.proposed).toEqual([11]);
  });

  it('answers NOT_CONTROLLER when not the leader, or when the entry is lost with leadership', async () => {
    const { ctx, queue } = setup();
    const lost = queue.submit('a', write('A'), 5_000);
    await quiescent();
    ctx.settle(11, false);
    expect(await lost).toEqual({ ok: false, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not active', leaderId: 2, leaderEpoch: 4 });
    ctx.leader = false;
    expect(await queue.submit('b', write('B'), 5_000)).toMatchObject({
      ok: false,
      errorCode: ErrorCode.NOT_CONTROLLER,
      leaderId: 2,
      leaderEpoch: 4,
    });
  });

  it('turns an exception in an operation into UNKNOWN_SERVER_ERROR and carries on', async () => {
    const { queue } = setup();
    const failed = queue.submit(
      'boom',
      () => {
        throw new Error('kaput');
      },
      5_000,
    );
    const next = queue.submit('b', read('B'), 5_000);
    expect(await failed).toMatchObject({ ok: false, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
    expect(await next).toEqual({ ok: true, response: 'B' });
  });

  it('clears the timeout of an answered operation (no timer left behind)', async () => {
    const { ctx, clock, queue } = setup();
    const a = queue.submit('a', write('A'), 5_000);
    await quiescent();
    expect(clock.pending().length).toBe(1);
    ctx.settle(11);
    expect(await a).toEqual({ ok: true, response: 'A' });
    expect(clock.pending().length).toBe(0);
  });
});
