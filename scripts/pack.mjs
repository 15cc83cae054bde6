#!/usr/bin/env node
/**
 * `npm run pack`: tarballs an outside app installs with plain npm, written to dist-packages/
 * (or --out DIR).
 *
 * - The SDK packages (SDK_PACKAGES, in dependency order): one tarball each, made by `pnpm pack`,
 *   which rewrites `workspace:*` to the workspace package's version. An app installs them
 *   together: `npm install dist-packages/samsa-protocol-0.1.0.tgz dist-packages/samsa-client-0.1.0.tgz`.
 * - The CLI: one tarball with everything it runs on bundled (bundleDependencies): the @samsa
 *   packages, which are on no registry, and so (npm fetches nothing below a bundled package) their
 *   third-party dependencies too, native modules included for the platform that packed it:
 *   `npm install -g dist-packages/samsa-cli-0.1.0.tgz` gives a working `samsa`, offline.
 *
 * A new SDK package (say @samsa/metadata) is one line in SDK_PACKAGES; the CLI's bundle follows
 * the workspace dependencies of packages/cli by itself. Run after a build (`npm run pack` runs
 * bootstrap first).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The SDK an app installs, dependencies first. */
export const SDK_PACKAGES = ['protocol', 'client'];
/** Files added to a package's tarball (what it reads at run time from outside its folder); such a package must have no workspace: dependencies. */
const EXTRA_FILES = {};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const out = resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] : join(root, 'dist-packages'));
const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];

function run(cmd, cmdArgs, cwd) {
  const result = spawnSync(cmd, cmdArgs, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `'${cmd} ${cmdArgs.join(' ')}' in ${cwd} failed (exit ${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

let pnpmCommand;
function pnpm(cmdArgs, cwd) {
  if (!pnpmCommand) {
    let local = null;
    try {
      local = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {}
    pnpmCommand = local === pnpmVersion ? ['pnpm'] : ['npx', '--yes', `pnpm@${pnpmVersion}`];
  }
  return run(pnpmCommand[0], [...pnpmCommand.slice(1), ...cmdArgs], cwd);
}

const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const dirOf = (name) => join(root, 'packages', name.replace(/^@samsa\//, ''));
const tarballName = (m) => `${m.name.replace(/^@/, '').replace('/', '-')}-${m.version}.tgz`;

const packed = new Map();
/** `pnpm pack` of one workspace package into `dest` (once per package); returns the tarball's path. */
function packOne(short, dest) {
  if (packed.has(short)) return packed.get(short);
  const dir = join(root, 'packages', short);
  const m = manifest(dir);
  if (!existsSync(join(dir, 'dist'))) throw new Error(`packages/${short}/dist is missing: build first (node scripts/bootstrap.mjs)`);
  const extras = EXTRA_FILES[short] ?? [];
  if (extras.length === 0) {
    pnpm(['pack', '--pack-destination', dest], dir);
  } else {
    // Packed from a copy with the extra files added: never written into the workspace, where a
    // test run at the same time would see them appear and vanish.
    const copy = join(dest, `.src-${short}`);
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(copy, { recursive: true });
    cpSync(join(dir, 'package.json'), join(copy, 'package.json'));
    for (const f of m.files ?? []) if (existsSync(join(dir, f))) cpSync(join(dir, f), join(copy, f), { recursive: true });
    for (const [from, to] of extras) cpSync(join(root, from), join(copy, to), { recursive: true });
    try {
      pnpm(['pack', '--pack-destination', dest], copy);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  const file = join(dest, tarballName(m));
  if (!existsSync(file)) throw new Error(`pnpm pack did not write ${file}`);
  const packedManifest = JSON.parse(run('tar', ['-xzOf', file, 'package/package.json'], root));
  for (const [dep, spec] of Object.entries(packedManifest.dependencies ?? {})) {
    if (String(spec).startsWith('workspace:')) throw new Error(`${file}: ${dep} is still ${spec}`);
  }
  if (short !== 'cli') packed.set(short, file);
  return file;
}

/** Every @samsa package `short` depends on, transitively. */
function workspaceDeps(short, seen = new Set()) {
  for (const dep of Object.keys(manifest(join(root, 'packages', short)).dependencies ?? {})) {
    if (!dep.startsWith('@samsa/') || seen.has(dep)) continue;
    seen.add(dep);
    workspaceDeps(dep.slice('@samsa/'.length), seen);
  }
  return seen;
}

function packCli(stage) {
  const cliTar = packOne('cli', stage);
  const pkgDir = join(stage, 'cli');
  mkdirSync(pkgDir, { recursive: true });
  run('tar', ['-xzf', cliTar, '-C', pkgDir, '--strip-components=1'], root);
  const cli = manifest(pkgDir);
  const bundled = [...workspaceDeps('cli')].sort();
  // Third-party dependencies of the CLI and of every @samsa package it bundles.
  const thirdParty = Object.fromEntries(Object.entries(cli.dependencies ?? {}).filter(([d]) => !d.startsWith('@samsa/')));
  const extracted = [];
  for (const name of bundled) {
    const short = name.slice('@samsa/'.length);
    const dir = join(stage, 'bundled', short);
    mkdirSync(dir, { recursive: true });
    run('tar', ['-xzf', packOne(short, stage), '-C', dir, '--strip-components=1'], root);
    extracted.push([name, dir]);
    for (const [dep, spec] of Object.entries(manifest(dir).dependencies ?? {})) {
      if (dep.startsWith('@samsa/')) continue;
      if (thirdParty[dep] !== undefined && thirdParty[dep] !== spec)
        throw new Error(`${name} wants ${dep}@${spec}, another package ${thirdParty[dep]}: align them`);
      thirdParty[dep] = spec;
    }
  }
  // npm counts the dependencies of a bundled package as part of the bundle (it fetches none of
  // them), so the whole tree goes in: installed here, then the @samsa packages placed beside it.
  writeFileSync(join(pkgDir, 'package.json'), `${JSON.stringify({ ...cli, dependencies: thirdParty }, null, 2)}\n`);
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-package-lock', '--no-audit', '--no-fund', '--prefer-offline'], pkgDir);
  for (const [name, dir] of extracted) cpSync(dir, join(pkgDir, 'node_modules', name), { recursive: true });
  const dependencies = { ...thirdParty, ...Object.fromEntries(bundled.map((n) => [n, manifest(join(pkgDir, 'node_modules', n)).version])) };
  writeFileSync(
    join(pkgDir, 'package.json'),
    `${JSON.stringify({ ...cli, dependencies, bundleDependencies: Object.keys(dependencies).sort() }, null, 2)}\n`,
  );
  run('npm', ['pack', '--pack-destination', out, '--silent'], pkgDir);
  return join(out, tarballName(cli));
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const written = SDK_PACKAGES.map((short) => packOne(short, out));
const stage = join(out, '.stage');
try {
  written.push(packCli(stage));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
// npm reads `dist-packages/x.tgz` as a GitHub repository: paths are printed with ./ in front.
const shown = (file) => {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') || isAbsolute(r) ? file : `./${r}`;
};
for (const file of written) console.log(shown(file));
console.log(`\nin an app:  npm install ${written.slice(0, -1).map(shown).join(' ')}`);
console.log(`the CLI:    npm install -g ${shown(written.at(-1))}`);
