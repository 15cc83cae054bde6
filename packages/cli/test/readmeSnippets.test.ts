/**
 * Every ```ts block of README.md compiles under strict TypeScript against the workspace's
 * @samsa/client, each as its own module: a snippet a reader copies must type-check as shown.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// Inside packages/cli, so `@samsa/client` resolves to the workspace package (its built types).
const DIR = fileURLToPath(new URL('../.readme-snippets', import.meta.url));

export function tsSnippets(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('README.md TypeScript snippets', () => {
  it('finds the snippets', () => {
    expect(tsSnippets('a\n```ts\nconst x = 1;\n```\n```sh\nls\n```\n```ts\nlet y;\n```\n')).toEqual(['const x = 1;\n', 'let y;\n']);
  });

  it('each compiles with tsc --strict as a module of its own', () => {
    const snippets = tsSnippets(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    const files = snippets.map((code, i) => {
      const file = `snippet-${i + 1}.ts`;
      writeFileSync(join(DIR, file), `${code}\nexport {};\n`);
      return file;
    });
    writeFileSync(
      join(DIR, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          types: ['node'],
          skipLibCheck: true,
        },
        files,
      }),
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', DIR], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 150_000);
});
