#!/usr/bin/env node
/**
 * Bundles the `samsa` command (tsc's output, packages/cli/dist) with esbuild into packages/cli/bundle/,
 * all in that one folder:
 * - cli.js and its chunks: every command, an ES module bundle split per lazily loaded part;
 * - node.cjs: `samsa node` and both roles in one CommonJS file (entry dist/nodeMain.js), with
 *   node.cjs.cache, V8's code cache of it, recorded here by running it once;
 * - main.js (a copy of scripts/bundle-main.mjs): runs node.cjs through the code cache for `samsa
 *   node`, cli.js for anything else.
 * Run by scripts/bootstrap.mjs after `tsc -b`; `npm start` and the
 * start-up benchmarks run the bundle, the tests and the root `bin` run dist/ (the development path,
 * which keeps working without it).
 *
 * Why: a node's start-up was mostly module loading, not our code. Under tsc's output one `samsa
 * node` resolves, reads and compiles ~180 of our ES modules and a few hundred of grpc-js's,
 * protobufjs's, pino's and commander's CommonJS files; on Node 20 the resolution and loading alone
 * (node:internal/modules, path, fs, url in `--cpu-prof`) was about half of a node's start-up CPU,
 * and six nodes start at once on two cores. In the bundle a node loads a handful of files.
 *
 * What the bundle keeps exactly as under dist/:
 * - Native addons (NATIVE below) stay outside: each is imported by a relative path to the copy the
 *   workspace installed for the package that depends on it, resolved here at build time from that
 *   package's own folder (pnpm gives each package only its own dependencies).
 * - `import.meta.url` in a bundled file means that file's original place (packages/protocol/dist/
 *   codecs/native.js still requires its lazily loaded compressors from packages/protocol,
 *   packages/console finds its web/dist), written as a URL relative to the bundle so the checkout
 *   may move. Only packages/cli/dist/entry.js keeps the bundle's own URL: it names the file that
 *   `cluster up` starts its nodes with, the bundle's main.js.
 * - CommonJS dependencies get a `require` (createRequire of the chunk) for Node's built-ins.
 * - keepNames: esbuild renames clashing top-level names across modules; without it a class's
 *   `.name` (in errors and logs) could read `BrokerNode2`.
 *
 *   node scripts/bundle.mjs
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/cli');
const entry = join(cli, 'dist/main.js');
const nodeEntry = join(cli, 'dist/nodeMain.js');
const outdir = join(cli, 'bundle');
/** The one bundled file whose import.meta.url is the bundle's own (see above). */
const OWN_URL = join(cli, 'dist/entry.js');
/** Packages with a compiled addon (.node): loaded from the workspace's install, never bundled. */
const NATIVE = ['@node-rs/crc32', 'snappy', 'lz4-napi', '@toondepauw/node-zstd', 'classic-level'];

if (!existsSync(entry)) {
  console.error(`bundle: ${relative(root, entry)} is missing; run tsc -b packages/cli first`);
  process.exit(1);
}

/** A path relative to the bundle folder, as an import specifier (forward slashes, leading ./ or ../). */
function fromBundle(file) {
  const rel = relative(outdir, file).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

const samsaBundle = {
  name: 'samsa-bundle',
  setup(b) {
    const natives = new RegExp(`^(${NATIVE.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter: natives }, (args) => {
      // Resolved as Node would from the importing file, so each package gets the copy pnpm gave it.
      const resolved = createRequire(args.importer).resolve(args.path);
      return { path: fromBundle(resolved), external: true };
    });
    // `await import('prom-client')` of a CommonJS package: Node gives the module's named exports
    // (cjs-module-lexer), esbuild's split chunk only `default`; so a dynamic import of a package
    // goes through a small module that names each export the package has (read here, at build time).
    // It takes module.exports by require(), as Node does: esbuild's own interop would take `default`
    // from a module marked __esModule (hdr-histogram-js), where Node takes module.exports.
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind !== 'dynamic-import' || args.path.startsWith('@samsa/') || natives.test(args.path)) return undefined;
      return { path: args.path, namespace: 'samsa-cjs-named', pluginData: { resolveDir: args.resolveDir } };
    });
    b.onLoad({ filter: /.*/, namespace: 'samsa-cjs-named' }, (args) => {
      const { resolveDir } = args.pluginData;
      const mod = createRequire(join(resolveDir, 'noop.js'))(args.path);
      const names = Object.keys(mod).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
      const spec = JSON.stringify(args.path);
      const contents =
        `const m = require(${spec});\nexport default m;\n` +
        names.map((n, i) => `const n${i} = m[${JSON.stringify(n)}];\nexport { n${i} as ${n} };`).join('\n');
      return { contents, loader: 'js', resolveDir };
    });
    b.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (args.path === OWN_URL || !text.includes('import.meta.url')) return undefined;
      const own = `new URL(${JSON.stringify(fromBundle(args.path))}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', own), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
  plugins: [samsaBundle],
};
// Every command: an ES module bundle split per lazily loaded part (main.js imports cli.js).
const cliBuild = await build({
  ...common,
  entryPoints: { cli: entry },
  outdir,
  splitting: true,
  format: 'esm',
  chunkNames: 'chunk-[hash]',
  banner: {
    js: "import { createRequire as __samsaCreateRequire } from 'node:module';\nconst require = __samsaCreateRequire(import.meta.url);",
  },
});
// `samsa node` alone, one CommonJS file: what vm.Script compiles with the code cache. Its
// import.meta.url (after the rewrite above) is node.cjs's own URL.
const nodeBuild = await build({
  ...common,
  entryPoints: [nodeEntry],
  outfile: join(outdir, 'node.cjs'),
  format: 'cjs',
  define: { 'import.meta.url': '__samsaImportMetaUrl' },
  banner: { js: "var __samsaImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
copyFileSync(join(root, 'scripts/bundle-main.mjs'), join(outdir, 'main.js'));
chmodSync(join(outdir, 'main.js'), 0o755);
// The code cache, recorded with the V8 flags the nodes run with (V8 refuses a cache made under other flags).
const { NODE_V8_FLAGS } = await import(pathToFileURL(join(cli, 'dist/nodeRuntime.js')).href);
const cache = spawnSync(process.execPath, [...NODE_V8_FLAGS, join(outdir, 'main.js'), '--write-code-cache'], { stdio: 'inherit' });
if (cache.status !== 0) {
  console.error(`bundle: recording the code cache failed (exit ${cache.status ?? cache.signal})`);
  process.exit(1);
}
const inputs = new Set([...Object.keys(cliBuild.metafile.inputs), ...Object.keys(nodeBuild.metafile.inputs)]);
const outputs = [...Object.keys(cliBuild.metafile.outputs), ...Object.keys(nodeBuild.metafile.outputs)].filter((f) => /\.c?js$/.test(f));
console.log(
  `bundle: ${inputs.size} modules into ${outputs.length + 1} files and a code cache in ${relative(root, outdir)} ` +
    `(${Date.now() - started} ms); run it as node ${relative(root, join(outdir, 'main.js'))}`,
);
