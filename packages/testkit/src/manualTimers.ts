/**
 * A clock the test drives: the broker's `Timers` shape (now, setTimeout, setInterval and their
 * clears) where time moves only when the test calls `advance`. A test that must show something
 * does *not* happen within a period advances this clock past the period and checks, instead of
 * sleeping on the wall clock and hoping the machine was fast enough.
 */

interface Pending {
  id: number;
  at: number;
  fn: () => void;
  every: number | undefined;
}

export interface ManualTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** The delays of the timers now pending, soonest first. */
  pending(): number[];
  /** Moves time forward by `ms`, running every timer that falls due, in time order. */
  advance(ms: number): void;
}

export function manualTimers(start = 1_700_000_000_000): ManualTimers {
  let now = start;
  let seq = 0;
  const timers = new Map<number, Pending>();
  const add = (fn: () => void, ms: number, every: number | undefined) => {
    const id = ++seq;
    timers.set(id, { id, at: now + Math.max(0, ms), fn, every });
    return id;
  };
  const clear = (handle: unknown) => void timers.delete(handle as number);
  const due = () => [...timers.values()].sort((a, b) => a.at - b.at || a.id - b.id);
  return {
    now: () => now,
    setTimeout: (fn, ms) => add(fn, ms, undefined),
    clearTimeout: clear,
    setInterval: (fn, ms) => add(fn, ms, Math.max(1, ms)),
    clearInterval: clear,
    pending: () => due().map((t) => t.at - now),
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = due()[0];
        if (!next || next.at > until) break;
        now = next.at;
        if (next.every === undefined) timers.delete(next.id);
        else next.at += next.every;
        next.fn();
      }
      now = until;
    },
  };
}
