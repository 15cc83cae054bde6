#!/usr/bin/env node
// The image's build stage (deploy/Dockerfile): brings the workspace to a built state and copies
// what `samsa node` needs at run time to OUT, so the final image carries no compiler, test runner
// or dev dependency. Plain node, no shell: it runs on a base image that has nothing but node.
//
//   node deploy/stage.mjs OUT
//
// 1. Install and build with scripts/bootstrap.mjs (pnpm from the lockfile via npx, then tsc -b),
//    unless node_modules is already in the context (an offline build), then only tsc -b.
// 2. Copy each workspace package's package.json and dist/ (protocol's carries the gRPC
//    descriptor generated from proto/), the root package.json and deploy/healthcheck.mjs.
// 3. Copy the production dependency closure out of pnpm's store layout: every package a
//    workspace package lists under "dependencies", then, transitively, the siblings pnpm links
//    next to it in node_modules/.pnpm/<id>/node_modules (its own dependencies). The relative
//    symlinks pnpm made stay valid because the layout is copied as is.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
if (!out) {
  console.error('usage: node deploy/stage.mjs OUT');
  process.exit(2);
}

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`stage: 'node ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

if (existsSync(join(root, 'node_modules/.modules.yaml'))) run([join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli']);
else run([join(root, 'scripts/bootstrap.mjs')]);

const copy = (from, to = from) => cpSync(join(root, from), join(out, to), { recursive: true, verbatimSymlinks: true });
mkdirSync(out, { recursive: true });
copy('package.json');
copy('deploy/healthcheck.mjs');

const store = join(root, 'node_modules/.pnpm');
const storeIds = new Set();
/** Adds the .pnpm/<id> holding the package that `link` resolves to, and its dependencies. */
function addClosure(link) {
  const real = realpathSync(link);
  const rel = relative(store, real);
  if (rel.startsWith('..')) return; // a workspace package: copied on its own
  const id = rel.split(sep)[0];
  if (storeIds.has(id)) return;
  storeIds.add(id);
  const modules = join(store, id, 'node_modules');
  for (const entry of readdirSync(modules)) {
    const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) addClosure(join(modules, name));
  }
}

for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join('packages', pkg);
  // Test-only packages (@samsa/testkit) have no build and are never loaded at run time.
  if (!existsSync(join(root, dir, 'package.json')) || !existsSync(join(root, dir, 'dist'))) continue;
  copy(join(dir, 'package.json'));
  copy(join(dir, 'dist'));
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const link = join(root, dir, 'node_modules', name);
    if (!lstatSync(link).isSymbolicLink()) throw new Error(`${link} is not a pnpm link`);
    mkdirSync(dirname(join(out, dir, 'node_modules', name)), { recursive: true });
    symlinkSync(readlinkSync(link), join(out, dir, 'node_modules', name));
    addClosure(link);
  }
}
for (const id of storeIds) copy(join('node_modules/.pnpm', id));
mkdirSync(`${out}-data`, { recursive: true });
console.log(`stage: ${out} holds the workspace's dist/ and ${storeIds.size} production packages`);
