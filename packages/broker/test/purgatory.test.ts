import { describe, expect, it } from 'vitest';
import { DelayedOperation, Purgatory } from '../src/purgatory.js';
import { manualTimers } from '@samsa/testkit';

class Waiter extends DelayedOperation {
  ready = false;
  completions = 0;
  expirations = 0;
  tryComplete(): boolean {
    return this.ready ? this.forceComplete() : false;
  }
  protected override onComplete(): void {
    this.completions++;
  }
  protected override onExpiration(): void {
    this.expirations++;
  }
}

describe('Purgatory', () => {
  it('completes an operation at once when it can', () => {
    const purgatory = new Purgatory<Waiter>(manualTimers());
    const op = new Waiter(100);
    op.ready = true;
    expect(purgatory.tryCompleteElseWatch(op, ['t-0'])).toBe(true);
    expect(op.completions).toBe(1);
    expect(purgatory.watched).toBe(0);
  });

  it('completes a watched operation when its key is poked after it became ready', () => {
    const timers = manualTimers();
    const purgatory = new Purgatory<Waiter>(timers);
    const op = new Waiter(100);
    expect(purgatory.tryCompleteElseWatch(op, ['t-0', 't-1'])).toBe(false);
    expect(purgatory.checkAndComplete('t-0')).toBe(0);
    op.ready = true;
    expect(purgatory.checkAndComplete('t-1')).toBe(1);
    expect(purgatory.checkAndComplete('t-0')).toBe(1); // already completed: just removed
    timers.advance(1000);
    expect(op.completions).toBe(1);
    expect(op.expirations).toBe(0);
    expect(purgatory.watched).toBe(0);
  });

  it('expires an operation exactly once after its delay', () => {
    const timers = manualTimers();
    const purgatory = new Purgatory<Waiter>(timers);
    const op = new Waiter(100);
    purgatory.tryCompleteElseWatch(op, ['t-0']);
    timers.advance(99);
    expect(op.completions).toBe(0);
    timers.advance(1);
    expect(op.expirations).toBe(1);
    expect(op.completions).toBe(1);
    op.ready = true;
    expect(purgatory.checkAndComplete('t-0')).toBe(0);
    expect(op.completions).toBe(1);
  });

  it('completeAll answers everything still waiting', () => {
    const purgatory = new Purgatory<Waiter>(manualTimers());
    const ops = [new Waiter(100), new Waiter(100)];
    for (const op of ops) purgatory.tryCompleteElseWatch(op, ['t-0']);
    purgatory.completeAll();
    expect(ops.map((o) => o.completions)).toEqual([1, 1]);
    expect(purgatory.watched).toBe(0);
  });
});
