#!/usr/bin/env node
// Brings a fresh clone (Node 20 and npm only) to a runnable state: fetches the pinned pnpm through
// npx when it is not installed, installs the workspace from the committed lockfile when
// node_modules is missing or older than the lockfile, and builds every package with tsc -b
// (incremental, so a second run costs little).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bootstrap: '${cmd} ${args.join(' ')}' failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function pnpm(args) {
  let local = null;
  try {
    local = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  if (local === pnpmVersion) run('pnpm', args);
  else run('npx', ['--yes', `pnpm@${pnpmVersion}`, ...args]);
}

const marker = join(root, 'node_modules/.modules.yaml');
const lock = join(root, 'pnpm-lock.yaml');
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  // The committed lockfile pins every version. pnpm 12 refuses a frozen install here because it
  // wants to record packageManagerDependencies that the registry cannot give it (pnpm issue
  // #14124), and CI=true implies --frozen-lockfile; so ask for a normal install, which leaves an
  // up-to-date lockfile untouched.
  pnpm(['install', '--no-frozen-lockfile', '--prefer-offline']);
}
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli']);
// The `samsa` command bundled into a few files (what `npm start` runs: a node then loads a handful
// of files instead of hundreds; scripts/bundle.mjs says why). Rebuilt only when tsc wrote something
// newer than the last bundle, so a second run costs a directory walk.
const bundled = join(root, 'packages/cli/bundle/main.js');
const bundleInputs = ['packages', 'scripts/bundle.mjs', 'scripts/bundle-main.mjs'];
function newestBuilt(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return /\.(m?js|json)$/.test(path) ? s.mtimeMs : 0;
  let m = 0;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'bundle' || name === 'src' || name === 'test' || name === 'web') continue;
    m = Math.max(m, newestBuilt(join(path, name)));
  }
  return m;
}
if (!existsSync(bundled) || Math.max(...bundleInputs.map((p) => newestBuilt(join(root, p)))) > statSync(bundled).mtimeMs) {
  run(process.execPath, [join(root, 'scripts/bundle.mjs')]);
}

// The Samsa Console's front end (Preact + Vite): rebuilt only when a source is newer than the
// last build, so a second run costs a directory walk.
const web = join(root, 'packages/console/web');
const built = join(web, 'dist/index.html');
function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = s.mtimeMs;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}
const webSources = [join(web, 'src'), join(web, 'index.html'), join(web, 'vite.config.ts'), join(root, 'packages/console/package.json')];
if (!existsSync(built) || Math.max(...webSources.map(newest)) > statSync(built).mtimeMs) {
  run(process.execPath, [join(root, 'packages/console/node_modules/vite/bin/vite.js'), 'build', '--config', join(web, 'vite.config.ts')]);
}
