import { expect } from 'vitest';
import { SamsaProtocolError, type ErrorName } from '../../src/index.js';

/** Runs `fn` and asserts it threw a SamsaProtocolError named `name` (not a RangeError or TypeError). */
export function expectProtocolError(fn: () => unknown, name: ErrorName = 'CORRUPT_MESSAGE'): SamsaProtocolError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected a SamsaProtocolError').toBeInstanceOf(SamsaProtocolError);
  const err = thrown as SamsaProtocolError;
  expect(err.errorName).toBe(name);
  return err;
}
