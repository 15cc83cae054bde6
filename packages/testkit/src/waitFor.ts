/**
 * The one bounded poll of the test suites: `waitFor(what, probe, timeoutMs?, everyMs?)`.
 *
 * A test waits for the positive event it is about (a leader elected, a record replicated), never
 * for time to pass. The wait is bounded in time (and so in count: one probe per `everyMs`), and a
 * timeout names what was awaited and the probe's last error, so a failure under load says why.
 *
 * The timers are the real ones, taken when this module loads: a test that installs vi's fake
 * timers can still wait for a real process.
 */

const realSetTimeout = globalThis.setTimeout;
const realNow = performance.now.bind(performance);

export interface WaitForOptions {
  timeoutMs?: number;
  everyMs?: number;
}

/** Thrown from a probe to stop waiting at once (e.g. the process being waited for has exited). */
class GaveUp extends Error {}

/** Ends a `waitFor` at once with this error: for a probe that sees the awaited event can no longer happen. */
export function giveUp(message: string): never {
  throw new GaveUp(message);
}

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and resolves with
 * that. A probe that throws is retried (a process may not listen yet); `giveUp()` ends the wait.
 * Fails after `timeoutMs` (default 20 s: generous, as a loaded 2-core CI machine needs).
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = realNow() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof GaveUp) throw new Error(`gave up waiting for ${what}: ${err.message}`);
      lastError = err;
    }
    if (realNow() > deadline) {
      const why =
        lastError === undefined
          ? ''
          : `; the last check failed with: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => realSetTimeout(resolve, everyMs));
  }
}
