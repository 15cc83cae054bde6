/**
 * Delayed operations, in the shape of Kafka's purgatory. An operation that cannot complete at once
 * (a fetch waiting for min_bytes, a produce waiting for the high watermark) is watched under the
 * keys of the partitions it depends on; whoever moves a partition's offsets calls
 * `checkAndComplete(key)`. Each operation completes exactly once: by `tryComplete()` succeeding,
 * by expiry (`onExpiration()` then `onComplete()`), or by `forceComplete()`.
 */
import type { Timers } from '@samsa/server';

export abstract class DelayedOperation {
  private completed = false;
  timer: unknown = undefined;

  constructor(readonly delayMs: number) {}

  /** Checks whether the operation can complete now; if so calls forceComplete() and returns true. */
  abstract tryComplete(): boolean;
  /** Produces the answer; called exactly once. */
  protected abstract onComplete(): void;
  /** Called once, before onComplete(), when the delay ran out. */
  protected onExpiration(): void {}

  get isCompleted(): boolean {
    return this.completed;
  }

  /** Completes the operation if nobody did yet; true when this call did it. */
  forceComplete(): boolean {
    if (this.completed) return false;
    this.completed = true;
    this.onComplete();
    return true;
  }

  expire(): void {
    if (this.completed) return;
    this.onExpiration();
    this.forceComplete();
  }
}

export class Purgatory<T extends DelayedOperation> {
  private readonly watchers = new Map<string, Set<T>>();

  constructor(private readonly timers: Timers) {}

  /**
   * Completes `op` at once if it can; otherwise watches it under `keys` until it completes or its
   * delay expires. Returns true when it completed immediately.
   */
  tryCompleteElseWatch(op: T, keys: string[]): boolean {
    if (op.tryComplete()) return true;
    for (const key of keys) {
      let set = this.watchers.get(key);
      if (!set) this.watchers.set(key, (set = new Set()));
      set.add(op);
    }
    // A change may have slipped in between the first check and the watch (not in single-threaded
    // Node today, but cheap insurance once appends become asynchronous).
    if (op.tryComplete()) {
      this.unwatch(op, keys);
      return true;
    }
    op.timer = this.timers.setTimeout(() => {
      this.unwatch(op, keys);
      op.expire();
    }, op.delayMs);
    return false;
  }

  /** Re-checks every operation watched under `key`; returns how many completed. */
  checkAndComplete(key: string): number {
    const set = this.watchers.get(key);
    if (!set) return 0;
    let done = 0;
    for (const op of [...set]) {
      if (op.isCompleted || op.tryComplete()) {
        set.delete(op);
        if (op.timer !== undefined) this.timers.clearTimeout(op.timer);
        done++;
      }
    }
    if (set.size === 0) this.watchers.delete(key);
    return done;
  }

  /** Number of operations being watched (an operation watched under two keys counts twice). */
  get watched(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Completes everything still waiting (shutdown). */
  completeAll(): void {
    for (const set of this.watchers.values()) {
      for (const op of set) {
        if (op.timer !== undefined) this.timers.clearTimeout(op.timer);
        op.forceComplete();
      }
    }
    this.watchers.clear();
  }

  private unwatch(op: T, keys: string[]): void {
    for (const key of keys) {
      const set = this.watchers.get(key);
      if (!set) continue;
      set.delete(op);
      if (set.size === 0) this.watchers.delete(key);
    }
  }
}
