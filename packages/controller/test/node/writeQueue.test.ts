/**
 * The write queue serialises the active controller's operations: the next operation is computed
 * only once the previous one's entry is applied or can no longer be (a caller's timeout answers the
 * caller, not the queue), records-free operations answer in order without proposing, and failures
 * map to NOT_CONTROLLER / REQUEST_TIMED_OUT / UNKNOWN_SERVER_ERROR.
 */
import { ErrorCode } from '@samsa/protocol';
import type { MetadataRecord } from '@samsa/protocol';
import type { ProposeResult } from '@samsa/raft';
import { describe, expect, it } from 'vitest';
import type { ActiveState, WriteContext, WriteFailure } from '../../src/node/writeQueue.js';
import { WriteQueue } from '../../src/node/writeQueue.js';
import { silentLogger, sleep } from './helpers.js';

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
    return { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not active', leaderId: 2 };
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

describe('WriteQueue', () => {
  it('computes the next operation only after the previous entry is applied', async () => {
    const ctx = new FakeContext();
    const queue = new WriteQueue(ctx);
    const computed: string[] = [];
    const a = queue.submit('a', () => { computed.push('a'); return write('A')(); }, 5_000);
    const b = queue.submit('b', () => { computed.push('b'); return write('B')(); }, 5_000);
    await sleep(20);
    expect(computed).toEqual(['a']);
    ctx.settle(11);
    expect(await a).toEqual({ ok: true, response: 'A' });
    await sleep(5);
    expect(computed).toEqual(['a', 'b']);
    ctx.settle(12);
    expect(await b).toEqual({ ok: true, response: 'B' });
  });

  it('answers a timed-out caller but still waits for its entry before computing the next operation', async () => {
    const ctx = new FakeContext();
    const queue = new WriteQueue(ctx);
    const computed: string[] = [];
    const a = queue.submit('CreateTopics', () => { computed.push('a'); return write('A')(); }, 50);
    const b = queue.submit('b', () => { computed.push('b'); return write('B')(); }, 5_000);
    // Answered although its entry never settled: by its own 50 ms timeout.
    const answer = await a;
    expect(answer).toMatchObject({ ok: false, errorCode: ErrorCode.REQUEST_TIMED_OUT });
    await sleep(30);
    expect(computed).toEqual(['a']); // a's entry may still commit: b must see it first
    ctx.settle(11);
    await sleep(5);
    expect(computed).toEqual(['a', 'b']);
    ctx.settle(12);
    expect(await b).toEqual({ ok: true, response: 'B' });
  });

  it('never computes an operation whose caller gave up while it was queued', async () => {
    const ctx = new FakeContext();
    const queue = new WriteQueue(ctx);
    const computed: string[] = [];
    void queue.submit('a', () => { computed.push('a'); return write('A')(); }, 5_000);
    const b = queue.submit('b', () => { computed.push('b'); return write('B')(); }, 20);
    expect(await b).toMatchObject({ ok: false, errorCode: ErrorCode.REQUEST_TIMED_OUT });
    ctx.settle(11);
    await sleep(10);
    expect(computed).toEqual(['a']);
    expect(ctx.proposed).toEqual([11]);
  });

  it('answers operations without records in queue order, proposing nothing', async () => {
    const ctx = new FakeContext();
    const queue = new WriteQueue(ctx);
    const order: string[] = [];
    const a = queue.submit('a', write('A'), 5_000).then((r) => { order.push('a'); return r; });
    const b = queue.submit('b', read('B'), 5_000).then((r) => { order.push('b'); return r; });
    await sleep(10);
    expect(order).toEqual([]);
    ctx.settle(11);
    expect(await b).toEqual({ ok: true, response: 'B' });
    expect(await a).toEqual({ ok: true, response: 'A' });
    expect(order).toEqual(['a', 'b']);
    expect(ctx.proposed).toEqual([11]);
  });

  it('answers NOT_CONTROLLER when not the leader, or when the entry is lost with leadership', async () => {
    const ctx = new FakeContext();
    const queue = new WriteQueue(ctx);
    const lost = queue.submit('a', write('A'), 5_000);
    await sleep(5);
    ctx.settle(11, false);
    expect(await lost).toEqual({ ok: false, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not active', leaderId: 2 });
    ctx.leader = false;
    expect(await queue.submit('b', write('B'), 5_000)).toMatchObject({ ok: false, errorCode: ErrorCode.NOT_CONTROLLER, leaderId: 2 });
  });

  it('turns an exception in an operation into UNKNOWN_SERVER_ERROR and carries on', async () => {
    const ctx = new FakeContext();
    const queue = new WriteQueue(ctx);
    const failed = queue.submit('boom', () => { throw new Error('kaput'); }, 5_000);
    const next = queue.submit('b', read('B'), 5_000);
    expect(await failed).toMatchObject({ ok: false, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
    expect(await next).toEqual({ ok: true, response: 'B' });
  });
});
