/**
 * No code path decides by an error's sentence: a controller or broker that rewords a message must
 * not change what a caller does (STYLE.md: carry a code or a field instead). This scans every
 * package's src for an error message (`.message`, `errorMessage`, gRPC's `.details`, `String(err)`)
 * fed to a regex or a string match or comparison. Nothing is allowed to remain.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** An expression that holds an error's sentence. */
const SENTENCE = String.raw`(?:\.message|\berrorMessage|\.details|\bString\(\s*err\w*\s*\))`;
const PATTERNS: ReadonlyArray<{ name: string; re: RegExp }> = [
  // err.message.includes('...'), res.errorMessage.startsWith(...), details?.match(/.../)
  {
    name: 'string match on a message',
    re: new RegExp(`${SENTENCE}\\??\\.(?:includes|match|matchAll|startsWith|endsWith|indexOf|lastIndexOf|search)\\(`),
  },
  // /active controller is (\d+)/.exec(message), /X/.test(err.message)
  {
    name: 'regex over a message',
    re: new RegExp(String.raw`\/[^/\n]+\/[dgimsuy]*\.(?:test|exec)\([^)]*(?:message|Message|details|String\(\s*err)`),
  },
  // new RegExp(...).test(errorMessage) and someRegex.test(err.message)
  { name: 'regex object over a message', re: new RegExp(`\\.(?:test|exec)\\(\\s*[\\w.?]*${SENTENCE}`) },
  // message === 'not the active controller', errorMessage !== `...`
  { name: 'comparison of a message', re: new RegExp(`${SENTENCE}\\s*[!=]==?\\s*['"\`]|['"\`]\\s*[!=]==?\\s*[\\w.?]*${SENTENCE}`) },
  // switch (err.message)
  { name: 'switch on a message', re: new RegExp(`switch\\s*\\(\\s*[\\w.?]*${SENTENCE}\\s*\\)`) },
];

/**
 * Source without comments (line and block), so prose about a pattern is not a finding, and without
 * `typeof x.message` (a type check reads no sentence).
 */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1')
    .replace(/typeof\s+[\w.?]+/g, 'typeof_');
}

export function findSentenceMatches(text: string): Array<{ line: number; rule: string; text: string }> {
  const found: Array<{ line: number; rule: string; text: string }> = [];
  code(text)
    .split('\n')
    .forEach((line, i) => {
      for (const { name, re } of PATTERNS) if (re.test(line)) found.push({ line: i + 1, rule: name, text: line.trim() });
    });
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'generated' || name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(?:ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('control flow never reads an error sentence', () => {
  it('finds the patterns it is meant to find (the ones this codebase used to have)', () => {
    const bad = [
      'const match = /active controller is (?:node )?(\\d+)/.exec(message);',
      "return /INVALID_UPDATE_VERSION/.test(errorMessage) ? 'stale' : 'refused';",
      "if (err.message.includes('ECONNREFUSED')) retry();",
      "if (res.errorMessage === 'not the active controller') follow();",
      'const known = HINT.test(err.message);',
      'if (String(err).startsWith("Error: stale")) x();',
      "switch (e.details) { case 'x': break; }",
    ];
    for (const line of bad) expect(findSentenceMatches(line), line).not.toEqual([]);
  });

  it('leaves alone what only carries or prints a sentence', () => {
    const fine = [
      'return { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: `controller ${id} is not the active controller` };',
      'logger.warn({ err }, `refused: ${res.errorMessage}`);',
      "if (res.errorCode === ErrorCode.INVALID_UPDATE_VERSION) return 'stale';",
      '// the old code ran /INVALID_UPDATE_VERSION/.test(errorMessage)',
      'if (topics.includes(state.tp.topic)) this.backoff(state, (error as Error).message);',
      'const prefix = code ? `${code}: ${err.message}` : err.message;',
      "if (typeof err.details === 'string' && err.details) return err.details;",
    ];
    for (const line of fine) expect(findSentenceMatches(line), line).toEqual([]);
  });

  it("holds for every package's src and the scripts", () => {
    const dirs = [...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src')), join(root, 'scripts')].filter(
      (d) => {
        try {
          return statSync(d).isDirectory();
        } catch {
          return false;
        }
      },
    );
    const findings = dirs
      .flatMap(sources)
      .flatMap((file) =>
        findSentenceMatches(readFileSync(file, 'utf8')).map((f) => `${relative(root, file)}:${f.line} ${f.rule}: ${f.text}`),
      );
    expect(findings).toEqual([]);
  });
});
