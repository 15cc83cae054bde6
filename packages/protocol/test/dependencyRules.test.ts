/**
 * The package map of docs/DESIGN.md, enforced: which @samsa package may import which. It reads
 * every packages/<name>/package.json and every import in packages/<name>/src, and fails on a
 * dependency or import the table does not allow, on a relative import that leaves its package's
 * src, and on a package the table does not know (so a new package states its rules here first).
 * What protocol holds ships inside every app that uses the SDK; servers share through metadata
 * and server instead.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Package → the @samsa packages its src and package.json may depend on. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  protocol: [],
  raft: [],
  // The wire codec reads its fixed-width ints and zigzag varints with protocol's one big-endian Reader.
  kafka: ['protocol'],
  // Test-only (waitFor, port leases, manual timers): reached from tests through vitest's alias, never from src.
  testkit: [],
  metadata: ['protocol'],
  server: ['protocol'],
  client: ['protocol'],
  controller: ['protocol', 'metadata', 'server', 'raft'],
  broker: ['protocol', 'metadata', 'server', 'kafka'],
  registry: ['client', 'protocol'],
  connect: ['client', 'protocol', 'registry'],
  streams: ['client', 'protocol', 'registry'],
  console: ['client', 'protocol', 'registry'],
  cli: ['protocol', 'metadata', 'server', 'kafka', 'raft', 'controller', 'broker', 'client', 'registry', 'connect', 'streams', 'console'],
};

export interface PackageView {
  name: string;
  /** The @samsa/* names in package.json's dependencies, devDependencies excluded (tests only). */
  dependencies: string[];
  /** Each src file (path relative to the package) with the module specifiers it imports. */
  files: Array<{ path: string; specifiers: string[] }>;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

/** The module specifiers of a TypeScript source: static imports, re-exports, import(), require(). */
export function specifiersOf(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  return [...withoutComments.matchAll(SPECIFIER)].map((m) => m[1]!);
}

/** Every broken rule, as sentences naming the package, file and import. */
export function violations(packages: readonly PackageView[], allowed: Readonly<Record<string, readonly string[]>> = ALLOWED): string[] {
  const out: string[] = [];
  const may = (from: string, to: string): boolean => allowed[from]?.includes(to) ?? false;
  for (const pkg of packages) {
    if (allowed[pkg.name] === undefined) {
      out.push(`package ${pkg.name} has no entry in the dependency rules`);
      continue;
    }
    for (const dep of pkg.dependencies) {
      const to = dep.replace(/^@samsa\//, '');
      if (!may(pkg.name, to)) out.push(`${pkg.name}/package.json depends on ${dep}, which ${pkg.name} must not use`);
    }
    for (const file of pkg.files) {
      for (const spec of file.specifiers) {
        if (spec.startsWith('@samsa/')) {
          const to = spec.slice('@samsa/'.length).split('/')[0]!;
          if (to === pkg.name) out.push(`${pkg.name}/${file.path} imports its own package as ${spec}; use a relative import`);
          else if (!may(pkg.name, to)) out.push(`${pkg.name}/${file.path} imports ${spec}, which ${pkg.name} must not use`);
          else if (!pkg.dependencies.includes(`@samsa/${to}`))
            out.push(`${pkg.name}/${file.path} imports ${spec}, missing from its package.json`);
        } else if (spec.startsWith('.')) {
          const target = join(dirname(join('src', file.path)), spec);
          if (target.startsWith('..') || !target.startsWith(`src${sep}`)) {
            out.push(`${pkg.name}/${file.path} imports ${spec}, outside ${pkg.name}/src (import the package instead)`);
          }
        }
      }
    }
  }
  return out;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function readPackages(): PackageView[] {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .map((name) => {
      const manifest = JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      const src = join(dir, name, 'src');
      return {
        name,
        dependencies: Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@samsa/')),
        files: tsFiles(src).map((f) => ({ path: relative(src, f), specifiers: specifiersOf(readFileSync(f, 'utf8')) })),
      };
    });
}

describe('package dependency rules (docs/DESIGN.md)', () => {
  it('hold for every package.json and every import under packages/*/src', () => {
    const packages = readPackages();
    expect(packages.map((p) => p.name)).toEqual(
      expect.arrayContaining(['protocol', 'metadata', 'server', 'client', 'broker', 'controller', 'cli']),
    );
    expect(packages.every((p) => p.files.length > 0)).toBe(true);
    expect(violations(packages)).toEqual([]);
  });

  it('the client reaches nothing but protocol', () => {
    const client = readPackages().find((p) => p.name === 'client')!;
    const samsa = new Set(client.files.flatMap((f) => f.specifiers).filter((s) => s.startsWith('@samsa/')));
    expect([...samsa]).toEqual(['@samsa/protocol']);
  });

  it('reports a forbidden import, a forbidden dependency, an import leaving src and an unknown package', () => {
    const found = violations([
      {
        name: 'client',
        dependencies: ['@samsa/protocol', '@samsa/server'],
        files: [
          { path: 'a.ts', specifiers: ['@samsa/protocol', '@samsa/metadata', './b.js'] },
          { path: 'sub/c.ts', specifiers: ['../../../broker/src/x.js', '../b.js'] },
        ],
      },
      { name: 'broker', dependencies: ['@samsa/protocol'], files: [{ path: 'x.ts', specifiers: ['@samsa/server', '@samsa/broker'] }] },
      { name: 'mystery', dependencies: [], files: [] },
    ]);
    expect(found).toEqual([
      'client/package.json depends on @samsa/server, which client must not use',
      'client/a.ts imports @samsa/metadata, which client must not use',
      'client/sub/c.ts imports ../../../broker/src/x.js, outside client/src (import the package instead)',
      'broker/x.ts imports @samsa/server, missing from its package.json',
      'broker/x.ts imports its own package as @samsa/broker; use a relative import',
      'package mystery has no entry in the dependency rules',
    ]);
  });

  it('finds static imports, re-exports, import() and require(), not commented-out ones', () => {
    const source = [
      "import { a } from '@samsa/protocol';",
      "import type {\n  B,\n} from '@samsa/metadata';",
      "export * from './x.js';",
      "const m = await import('@samsa/server');",
      "import 'node:fs';",
      "// import { z } from '@samsa/broker';",
      "/* import { y } from '@samsa/client'; */",
    ].join('\n');
    expect(specifiersOf(source)).toEqual(['@samsa/protocol', '@samsa/metadata', './x.js', '@samsa/server', 'node:fs']);
  });
});
