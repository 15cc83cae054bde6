/**
 * Repeated warnings about the controller quorum (unreachable, refusing, leaderless) at most once
 * per interval per key, with a count of what was held back, and one info line when a key recovers.
 * Shared by the broker's lifecycle manager and metadata follower, which retry forever.
 */
import type { Logger } from 'pino';
import type { Timers } from '@samsa/server';

/** Repeated warnings at most this often; also how long registration retries between reports. */
export const LOG_EVERY_MS = 10_000;

export class ThrottledWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly timers: Timers,
    private readonly everyMs = LOG_EVERY_MS,
  ) {}

  warn(key: string, message: string): void {
    const now = this.timers.now();
    const last = this.last.get(key);
    if (last && now - last.at < this.everyMs) {
      last.suppressed++;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger.warn({ ...(last?.suppressed ? { similarSince: last.suppressed } : {}) }, message);
  }

  /** Logs `message` once if `key` had warned; the next failure warns at once. */
  recovered(key: string, message: string): void {
    if (this.last.delete(key)) this.logger.info(message);
  }

  /** Forgets `key` without a message (the next failure warns at once). */
  reset(key: string): void {
    this.last.delete(key);
  }
}
