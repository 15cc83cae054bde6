/**
 * buffer.memory: bytes of records accepted by send() but not yet acknowledged. A send that does not
 * fit waits (first come, first served) until acknowledgements free enough, for at most its deadline.
 */
import type { Clock } from '../clock.js';
import { MaxBlockTimeoutError } from './errors.js';

interface Waiter {
  bytes: number;
  resolve: () => void;
  abort: AbortController;
}

export class BufferMemory {
  private available: number;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly total: number,
    private readonly clock: Clock,
  ) {
    this.available = total;
  }

  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  get availableBytes(): number {
    return this.available;
  }

  /** Takes `bytes` now (returns true) or returns false when it must wait: then call reserve(). */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length > 0 || bytes > this.available) return false;
    this.available -= bytes;
    return true;
  }

  /** Takes `bytes`, waiting until the clock reaches `deadlineMs` at most; then MaxBlockTimeoutError. */
  async reserve(bytes: number, deadlineMs: number): Promise<void> {
    if (this.tryReserve(bytes)) return;
    const abort = new AbortController();
    let granted = false;
    const waiter: Waiter = {
      bytes,
      abort,
      resolve: () => {
        granted = true;
        abort.abort();
      },
    };
    this.waiters.push(waiter);
    try {
      await this.clock.sleep(Math.max(0, deadlineMs - this.clock.now()), abort.signal);
    } catch {
      // aborted: granted, or the producer gave up on it (closed)
    }
    if (granted) return;
    this.waiters.splice(this.waiters.indexOf(waiter), 1);
    this.serve(); // a large head waiter leaving may let smaller ones through
    throw new MaxBlockTimeoutError(
      `send() waited for ${bytes} bytes of buffer memory (bufferMemory ${this.total}, ${this.available} free) longer than maxBlockMs`,
    );
  }

  release(bytes: number): void {
    this.available += bytes;
    this.serve();
  }

  private serve(): void {
    while (this.waiters.length > 0 && this.waiters[0]!.bytes <= this.available) {
      const w = this.waiters.shift()!;
      this.available -= w.bytes;
      w.resolve();
    }
  }
}
