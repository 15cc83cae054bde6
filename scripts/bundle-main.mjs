#!/usr/bin/env node
/**
 * The bundle's main.js (scripts/bundle.mjs copies this file to packages/cli/bundle/main.js): the
 * `samsa` command of the bundled build.
 *
 * - `samsa node ...` runs node.cjs, one CommonJS file holding `samsa node` and both roles, compiled
 *   with V8's code cache (node.cjs.cache) when the cache was made for exactly this file, this Node
 *   and these V8 flags. Node 20 has no module compile cache (module.enableCompileCache is Node 22),
 *   so the cache is vm.Script's cachedData: the build runs this file once with
 *   --write-code-cache (and the nodes' V8 flags), which initialises both roles' modules and saves the bytecode of every
 *   function compiled so far. A node then deserialises that instead of parsing and compiling ~2.5 MB
 *   of JavaScript. A cache that does not match (or V8 rejects) is ignored: the file then compiles
 *   as any script does.
 * - Any other command imports cli.js, the split ES module bundle (each command its own chunk).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const NODE_BUNDLE = join(here, 'node.cjs');
const CACHE = join(here, 'node.cjs.cache');
const CACHE_META = join(here, 'node.cjs.cache.json');

/** What the cache must have been made for: this node.cjs, this Node, these V8 flags. */
function cacheKey() {
  const s = statSync(NODE_BUNDLE);
  return JSON.stringify({ size: s.size, mtimeMs: s.mtimeMs, node: process.version, execArgv: process.execArgv });
}

function cachedData() {
  try {
    return readFileSync(CACHE_META, 'utf8') === cacheKey() ? readFileSync(CACHE) : undefined;
  } catch {
    return undefined;
  }
}

/** Compiles and runs node.cjs as Node's CommonJS loader would (the same wrapper and arguments); returns its exports and the script. */
function loadNodeBundle(useCache) {
  const source = readFileSync(NODE_BUNDLE, 'utf8');
  // The wrapper opens on the file's first line, so line numbers in stack traces stay the file's.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: NODE_BUNDLE,
    ...(useCache ? { cachedData: cachedData() } : {}),
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(NODE_BUNDLE), module, NODE_BUNDLE, here);
  return { exports: module.exports, script };
}

const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
if (process.argv[2] === '--write-code-cache') {
  const { exports, script } = loadNodeBundle(false);
  await exports.loadRoles();
  writeFileSync(CACHE, script.createCachedData());
  writeFileSync(CACHE_META, cacheKey());
} else if (command === 'node' && existsSync(NODE_BUNDLE)) {
  await loadNodeBundle(true).exports.main(process.argv);
} else {
  await import('./cli.js');
}
