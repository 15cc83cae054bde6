/**
 * Version ranges as Kafka's message definitions write them: "0+", "3-7", "5", "none".
 */

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const NONE: VersionRange = { min: 1, max: 0 };
const cache = new Map<string, VersionRange>();

export function parseVersions(text: string | undefined): VersionRange {
  if (text === undefined || text === 'none') return NONE;
  const hit = cache.get(text);
  if (hit) return hit;
  let range: VersionRange;
  const plus = /^(\d+)\+$/.exec(text);
  const span = /^(\d+)-(\d+)$/.exec(text);
  if (plus) range = { min: Number(plus[1]), max: Infinity };
  else if (span) range = { min: Number(span[1]), max: Number(span[2]) };
  else if (/^\d+$/.test(text)) range = { min: Number(text), max: Number(text) };
  else throw new Error(`bad version range ${JSON.stringify(text)}`);
  cache.set(text, range);
  return range;
}

export function inRange(version: number, text: string | undefined): boolean {
  const r = parseVersions(text);
  return version >= r.min && version <= r.max;
}
