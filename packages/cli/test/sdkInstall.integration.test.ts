/**
 * The SDK and the CLI as an outside user installs them: `scripts/pack.mjs` writes the tarballs,
 * an app in a temp dir outside the workspace installs the SDK's with plain npm (third-party
 * dependencies from the npm registry or cache), compiles a strict TypeScript file using a
 * producer, a consumer and a group member, and runs it against a node; the CLI tarball installs
 * globally (into a temp prefix) as a working `samsa`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startNode, stopAll, tempDir, type NodeProcess } from './helpers/processes.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the packed SDK and CLI', () => {
  let work: string;
  let packages: string;
  let node: NodeProcess;

  beforeAll(async () => {
    work = tempDir('sdk-install');
    packages = join(work, 'packages');
    node = await startNode({ dataDir: join(work, 'node') });
    run(process.execPath, [join(ROOT, 'scripts/pack.mjs'), '--out', packages], ROOT);
  }, 600_000);

  afterAll(async () => {
    await stopAll();
    removeDir(work);
  });

  it('packs tarballs without workspace: specs', () => {
    const files = readdirSync(packages).sort();
    expect(files).toEqual(['samsa-cli-0.1.0.tgz', 'samsa-client-0.1.0.tgz', 'samsa-protocol-0.1.0.tgz']);
    const client = JSON.parse(run('tar', ['-xzOf', join(packages, 'samsa-client-0.1.0.tgz'), 'package/package.json'], work)) as {
      dependencies: Record<string, string>;
      files: string[];
    };
    expect(client.dependencies['@samsa/protocol']).toBe('0.1.0');
    const listing = run('tar', ['-tzf', join(packages, 'samsa-client-0.1.0.tgz')], work);
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).not.toContain('package/src/');
  });

  it('installs into an outside app with npm, compiles strict TypeScript against it, and runs it', () => {
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'outside-app', private: true, type: 'module' }));
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(packages, 'samsa-protocol-0.1.0.tgz'),
        join(packages, 'samsa-client-0.1.0.tgz'),
        `typescript@${rootManifest.devDependencies.typescript}`,
        `@types/node@${rootManifest.devDependencies['@types/node']}`,
      ],
      app,
      {},
      600_000,
    );
    copyFileSync(fileURLToPath(new URL('./fixtures/sdk-app.ts', import.meta.url)), join(app, 'app.ts'));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          types: ['node'],
          noUncheckedIndexedAccess: true,
          outDir: 'out',
        },
        files: ['app.ts'],
      }),
    );
    run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', app], app);
    const out = run(process.execPath, [join(app, 'out/app.js')], app, { BOOTSTRAP: node.address }, 120_000);
    expect(out.split('\n')).toEqual(['produced 3 at offsets 0,1,2', 'consumed k1=1,k2=2,k3=3', 'group member consumed 1,2,3', '']);
  }, 900_000);

  it('installs the CLI globally from its tarball as a working samsa', () => {
    const prefix = join(work, 'global');
    run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--offline', join(packages, 'samsa-cli-0.1.0.tgz')],
      work,
      {},
      600_000,
    );
    const samsa = join(prefix, 'bin', 'samsa');
    expect(run(samsa, ['--version'], work)).toBe('0.1.0\n');
    expect(run(samsa, ['topics', '--list', '--bootstrap-server', node.address], work).split('\n')).toContain('sdk-app-orders');
  }, 900_000);
});
