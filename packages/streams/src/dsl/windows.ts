/**
 * Window specifications (Kafka's `TimeWindows`, `SlidingWindows`, `SessionWindows`, `JoinWindows`;
 * KIP-633 made grace explicit, so every factory names it). Each knows which windows a timestamp
 * falls into and when a window closes; the README states the rules.
 */
import type { Window } from '../record.js';

export class WindowsError extends Error {
  readonly code = 'INVALID_ARGUMENT';
}

function check(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new WindowsError(`${name} must be an integer >= ${min}, got ${value}`);
}

/** Tumbling (advance = size) and hopping windows, half-open [start, start + size). */
export class TimeWindows {
  readonly kind = 'time';
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    check('window size', sizeMs, 1);
    check('grace', graceMs, 0);
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }

  /** A hopping window: a new window every `advanceMs` (0 < advance <= size). */
  advanceBy(advanceMs: number): TimeWindows {
    check('advance', advanceMs, 1);
    if (advanceMs > this.sizeMs) throw new WindowsError(`advance (${advanceMs}) must not exceed the window size (${this.sizeMs})`);
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /** Windows containing `timestamp`, oldest first. */
  windowsFor(timestamp: number): Window[] {
    const out: Window[] = [];
    let start =
      Math.max(0, timestamp - this.sizeMs + this.advanceMs) - (Math.max(0, timestamp - this.sizeMs + this.advanceMs) % this.advanceMs);
    for (; start <= timestamp; start += this.advanceMs) out.push({ start, end: start + this.sizeMs });
    return out;
  }

  /** Closed once stream time reaches end + grace. */
  isClosed(window: Window, streamTime: number): boolean {
    return window.end + this.graceMs <= streamTime;
  }
}

/** Sliding windows over records at most `timeDifferenceMs` apart, closed [start, end]. */
export class SlidingWindows {
  readonly kind = 'sliding';
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    check('time difference', timeDifferenceMs, 1);
    check('grace', graceMs, 0);
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }

  isClosed(window: Window, streamTime: number): boolean {
    return window.end + this.graceMs < streamTime;
  }
}

/** Session windows: records of a key closer than the inactivity gap form one session [first, last]. */
export class SessionWindows {
  readonly kind = 'session';
  private constructor(
    readonly gapMs: number,
    readonly graceMs: number,
  ) {}

  static ofInactivityGapWithNoGrace(gapMs: number): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(gapMs, 0);
  }

  static ofInactivityGapAndGrace(gapMs: number, graceMs: number): SessionWindows {
    check('inactivity gap', gapMs, 1);
    check('grace', graceMs, 0);
    return new SessionWindows(gapMs, graceMs);
  }

  isClosed(window: Window, streamTime: number): boolean {
    return window.end + this.graceMs < streamTime;
  }
}

/** Stream–stream join windows: records join when their timestamps differ by at most `timeDifferenceMs`. */
export class JoinWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    check('time difference', timeDifferenceMs, 0);
    check('grace', graceMs, 0);
    return new JoinWindows(timeDifferenceMs, graceMs);
  }

  /** A record's join window [t - d, t + d] has closed once t + d + grace < stream time. */
  isClosed(timestamp: number, streamTime: number): boolean {
    return timestamp + this.timeDifferenceMs + this.graceMs < streamTime;
  }
}
