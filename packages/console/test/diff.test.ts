import { describe, expect, it } from 'vitest';
import { seededRandom } from '@samsa/client';
import { MAX_DIFF_LINES, lineDiff, schemaText } from '../src/diff.js';

describe('lineDiff', () => {
  it('marks the added and removed lines and keeps the rest', () => {
    expect(lineDiff('a\nb\nc', 'a\nx\nc\nd')).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'x' },
      { op: ' ', text: 'c' },
      { op: '+', text: 'd' },
    ]);
    expect(lineDiff('same', 'same')).toEqual([{ op: ' ', text: 'same' }]);
  });

  it('rebuilds both sides and keeps a longest common subsequence (seeded)', () => {
    const random = seededRandom(23);
    for (let n = 0; n < 300; n++) {
      const gen = () => Array.from({ length: Math.floor(random() * 12) }, () => 'abcd'[Math.floor(random() * 4)]!);
      const a = gen();
      const b = gen();
      const d = lineDiff(a.join('\n'), b.join('\n'));
      expect(d.filter((l) => l.op !== '+').map((l) => l.text)).toEqual(a.join('\n').split('\n'));
      expect(d.filter((l) => l.op !== '-').map((l) => l.text)).toEqual(b.join('\n').split('\n'));
      // The kept lines are as many as the longest common subsequence (brute-force LCS length).
      const lcs = (x: string[], y: string[]): number => {
        const t = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
        for (let i = 1; i <= x.length; i++)
          for (let j = 1; j <= y.length; j++)
            t[i]![j] = x[i - 1] === y[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
        return t[x.length]![y.length]!;
      };
      expect(d.filter((l) => l.op === ' ').length).toBe(lcs(a.join('\n').split('\n'), b.join('\n').split('\n')));
    }
  });

  it('refuses texts too long to diff', () => {
    expect(() => lineDiff('x\n'.repeat(MAX_DIFF_LINES + 1), 'x')).toThrow(RangeError);
  });
});

describe('schemaText', () => {
  it('pretty-prints JSON schemas and leaves other text alone', () => {
    expect(schemaText('{"type":"string"}')).toBe('{\n  "type": "string"\n}');
    expect(schemaText('syntax = "proto3";')).toBe('syntax = "proto3";');
  });
});
