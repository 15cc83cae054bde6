/**
 * Real time with every armed timeout recorded: a test hands this to a node (the `Timers` shape)
 * and waits until the node has armed the timer it expects (a long poll held, a session timer
 * started), the positive event, instead of sleeping and hoping the node got there first.
 */
export class RecordingTimers {
  /** Durations of the timeouts armed and not yet fired or cleared. */
  private readonly armed = new Map<unknown, number>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle: unknown = setTimeout(() => {
      this.armed.delete(handle);
      fn();
    }, ms);
    this.armed.set(handle, ms);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.armed.delete(handle);
    clearTimeout(handle as NodeJS.Timeout);
  }

  setInterval(fn: () => void, ms: number): unknown {
    return setInterval(fn, ms);
  }

  clearInterval(handle: unknown): void {
    clearInterval(handle as NodeJS.Timeout);
  }

  /** How many armed timeouts are of exactly `ms`. */
  armedFor(ms: number): number {
    let n = 0;
    for (const d of this.armed.values()) if (d === ms) n++;
    return n;
  }
}
