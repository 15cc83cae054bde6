/**
 * A line diff between two schema texts for the Schemas view: the longest common subsequence of
 * lines (the classic dynamic program, as `diff` without its heuristics), rendered as kept, added
 * and removed lines. Schemas are small (the registry caps them), so O(n·m) is fine; texts over
 * MAX_DIFF_LINES lines on either side are refused rather than slow the server.
 */

export interface DiffLine {
  op: ' ' | '+' | '-';
  text: string;
}

export const MAX_DIFF_LINES = 5_000;

/** The lines of `before` and `after` in order, each kept (' '), removed ('-') or added ('+'). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES)
    throw new RangeError(`a schema over ${MAX_DIFF_LINES} lines is too long to diff`);
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs: Uint32Array[] = [];
  for (let i = 0; i <= a.length; i++) lcs.push(new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: '-', text: a[i++]! });
    else out.push({ op: '+', text: b[j++]! });
  }
  while (i < a.length) out.push({ op: '-', text: a[i++]! });
  while (j < b.length) out.push({ op: '+', text: b[j++]! });
  return out;
}

/** A schema as the view shows and diffs it: JSON (Avro, JSON Schema) pretty-printed, other text as is. */
export function schemaText(schema: string): string {
  try {
    return JSON.stringify(JSON.parse(schema), null, 2);
  } catch {
    return schema;
  }
}
