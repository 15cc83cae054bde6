/**
 * Avro compatibility against an implementation written by no one here: Debian's python3-avro
 * (`avro.compatibility.ReaderWriterCompatibilityChecker`, a port of Avro Java's checker). A seeded
 * corpus of schema histories (v0 → v1 → v2, each step one to three rule-aimed mutations) is judged
 * pairwise by the oracle in one Python process; our checker must give the same verdict on every
 * pair, and our compatibility levels built on those verdicts must match the levels built on the
 * oracle's.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@samsa/client';
import { describe, expect, it } from 'vitest';
import { AvroCompatibilityChecker } from '../src/avro/compatibility.js';
import { resolveAvro, validateAvro } from '../src/avro/schema.js';
import { COMPATIBILITY_LEVELS, checkLevel } from '../src/compatibility.js';
import { AvroCorpus, qualifyAliases } from './helpers/avroCorpus.js';

const PYTHON = '/usr/bin/python3';
const ORACLE = fileURLToPath(new URL('./helpers/avro_oracle.py', import.meta.url));
const SEED = 20_261_207;

interface History {
  rules: string[];
  versions: unknown[];
}

function buildCorpus(seed: number, wanted: number): History[] {
  const random = seededRandom(seed);
  const gen = new AvroCorpus(random);
  const out: History[] = [];
  for (let attempt = 0; attempt < wanted * 10 && out.length < wanted; attempt++) {
    const v0 = gen.schema(3);
    const rules: string[] = [];
    const versions = [v0];
    for (let step = 0; step < 2; step++) {
      let s = versions[versions.length - 1];
      const count = 1 + Math.floor(random() * 3);
      for (let i = 0; i < count; i++) {
        const m = gen.mutate(s);
        rules.push(m.rule);
        s = m.schema;
      }
      versions.push(s);
    }
    try {
      for (const v of versions) validateAvro(JSON.parse(JSON.stringify(v)));
    } catch {
      continue; // a mutation left a dangling name or a duplicate union branch: not a valid history
    }
    out.push({ rules, versions: versions.map((v) => qualifyAliases(JSON.parse(JSON.stringify(v)))) });
  }
  return out;
}

function askOracle(pairs: { reader: unknown; writer: unknown }[]): ({ compatible: boolean } | { error: string })[] {
  const input = pairs.map((p) => JSON.stringify(p)).join('\n') + '\n';
  const result = spawnSync(PYTHON, [ORACLE], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  if (result.status !== 0) throw new Error(`oracle failed (${result.status}): ${result.stderr}`);
  return result.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

function ours(reader: unknown, writer: unknown): boolean {
  return AvroCompatibilityChecker.check(resolveAvro(reader), resolveAvro(writer)).compatible;
}

describe('Avro compatibility agrees with python3-avro', () => {
  const histories = buildCorpus(SEED, 400);
  // Every ordered pair of versions in a history, both directions: 6 per history.
  const pairs: { reader: unknown; writer: unknown; rules: string[] }[] = [];
  for (const h of histories) {
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) if (i !== j) pairs.push({ reader: h.versions[i], writer: h.versions[j], rules: h.rules });
  }

  it('the corpus has at least 1,000 valid pairs and exercises every rule', () => {
    expect(pairs.length).toBeGreaterThanOrEqual(1000);
    const rules = new Set(histories.flatMap((h) => h.rules));
    for (const rule of [
      'promotion',
      'string-bytes',
      'wrap-union',
      'primitive-change',
      'union-remove-branch',
      'union-add-branch',
      'union-reorder',
      'union-unwrap',
      'field-add',
      'field-remove',
      'field-rename',
      'field-default-toggle',
      'name-alias',
      'name-mismatch',
      'namespace-change',
      'recursion',
      'kind-change',
      'enum-add-symbol',
      'enum-remove-symbol',
      'enum-default',
      'fixed-size',
      'array-items',
      'map-values',
      'array-to-map',
      'map-to-array',
    ]) {
      expect(rules, rule).toContain(rule);
    }
  });

  it("gives the oracle's verdict on every pair, and the oracle's verdict for every compatibility level", () => {
    const verdicts = askOracle(pairs.map(({ reader, writer }) => ({ reader, writer })));
    expect(verdicts.length).toBe(pairs.length);
    const oracle = new Map<string, boolean>();
    const disagreements: string[] = [];
    let compatible = 0;
    pairs.forEach((p, i) => {
      const v = verdicts[i]!;
      if ('error' in v) throw new Error(`python3-avro rejected a schema avsc accepts: ${v.error}\n${JSON.stringify(p)}`);
      oracle.set(JSON.stringify([p.reader, p.writer]), v.compatible);
      if (v.compatible) compatible++;
      const mine = ours(p.reader, p.writer);
      if (mine !== v.compatible)
        disagreements.push(
          `oracle=${v.compatible} ours=${mine} rules=${p.rules.join(',')}\n reader=${JSON.stringify(p.reader)}\n writer=${JSON.stringify(p.writer)}`,
        );
    });
    expect(disagreements.slice(0, 5)).toEqual([]);
    // Both verdicts occur often: the corpus is not one-sided.
    expect(compatible).toBeGreaterThan(pairs.length / 5);
    expect(pairs.length - compatible).toBeGreaterThan(pairs.length / 5);

    // Every level, the new version v2 against the history [v0, v1].
    const levelDisagreements: string[] = [];
    for (const h of histories) {
      const [v0, v1, v2] = h.versions;
      for (const level of COMPATIBILITY_LEVELS) {
        const byOracle = checkLevel(level, v2, [v0, v1], (r, w) => (oracle.get(JSON.stringify([r, w])) ? [] : ['no'])).length === 0;
        const byUs = checkLevel(level, v2, [v0, v1], (r, w) => (ours(r, w) ? [] : ['no'])).length === 0;
        if (byOracle !== byUs) levelDisagreements.push(`${level}: oracle=${byOracle} ours=${byUs}`);
      }
    }
    expect(levelDisagreements).toEqual([]);
  });
});
