/**
 * Compatibility levels over a subject's history, as Confluent's `CompatibilityLevel` and
 * `CompatibilityChecker` define them: BACKWARD — the new schema can read data written with the
 * latest one; FORWARD — the latest can read data written with the new one; FULL — both;
 * `_TRANSITIVE` — against every live version instead of only the latest; NONE — no check.
 * The format-specific question (can reader R read writer W?) is a parameter.
 */

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export function isCompatibilityLevel(x: unknown): x is CompatibilityLevel {
  return typeof x === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(x);
}

/** Messages explaining why `reader` cannot read `writer`; empty when it can. */
export type ReadCheck<S> = (reader: S, writer: S) => string[];

/**
 * Checks `candidate` against `previous` (oldest first, live versions only) under `level`; returns
 * the reasons it is incompatible (empty = compatible). Confluent checks the newest first and
 * stops at the first failing version; we do the same so the messages match its verbose output.
 */
export function checkLevel<S>(level: CompatibilityLevel, candidate: S, previous: readonly S[], canRead: ReadCheck<S>): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const against = transitive ? [...previous].reverse() : [previous[previous.length - 1]!];
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  for (const old of against) {
    const messages: string[] = [];
    if (backward) messages.push(...canRead(candidate, old));
    if (forward) messages.push(...canRead(old, candidate));
    if (messages.length > 0) return messages;
  }
  return [];
}
