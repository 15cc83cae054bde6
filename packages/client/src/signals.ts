/** AbortSignal helpers. */
import { setMaxListeners } from 'node:events';

/**
 * Lifts Node's warning threshold (10 listeners) on a long-lived controller's signal that every
 * request or wait in flight listens on: more than 10 at once is the design, not a leak (each
 * listener is removed when its request answers).
 */
export function unlimitedListeners(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
