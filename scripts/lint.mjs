#!/usr/bin/env node
// `npm run lint` (and the first step of `npm test`): ESLint's type-aware rules over every
// package's src and tests (eslint.config.mjs), then Biome's format check (biome.json). Either
// failing fails the run; `npm run format` rewrites the tree to Biome's format. ESLint reads the
// @samsa packages' built types, so run it after `node scripts/bootstrap.mjs`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const steps = [
  ['eslint', [join(root, 'node_modules/eslint/bin/eslint.js'), '--max-warnings=0', '.']],
  ['biome format', [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'format', '.']],
];
let failed = false;
for (const [name, args] of steps) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`lint: ${name} failed (exit ${result.status ?? result.signal})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
