#!/usr/bin/env node
// Type-checks every test file (tsconfig.test.json: tests and the sources they import, no emit),
// then runs the tests with the root vitest config: the `unit:<package>` projects and the
// `integration` project (multi-process tests; they spawn packages/cli/dist/main.js, which
// `npm test` builds first). Extra args pass through to vitest, e.g.
//   node scripts/run-tests.mjs --project integration
//   node scripts/run-tests.mjs --project 'unit:*'
// --no-typecheck skips the type check (it is incremental: a few seconds once warm).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const typecheck = !args.includes('--no-typecheck');
const vitestArgs = args.filter((a) => a !== '--no-typecheck');

function run(what, argv) {
  const started = Date.now();
  const result = spawnSync(process.execPath, argv, { cwd: root, stdio: 'inherit' });
  const status = result.status ?? 1;
  console.log(
    `run-tests: ${what} ${status === 0 ? 'passed' : `failed (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return status;
}

if (typecheck) {
  const status = run('type check of the tests (tsc -p tsconfig.test.json)', [
    join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.test.json',
  ]);
  if (status !== 0) process.exit(status);
}
process.exit(run('vitest', [join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...vitestArgs]));
