/**
 * The bundled `samsa` (scripts/bundle.mjs, packages/cli/bundle; what `npm start` runs) behaves as
 * tsc's output does in the places bundling could break: `cluster up` starts its nodes and services
 * from the bundle (the entry file it names), the nodes serve (metrics through the lazily imported
 * prom-client), the console finds its web files (import.meta.url of a bundled file), a record
 * compressed with snappy and one with zstd round-trip (native addons loaded from the workspace), and
 * `perf produce` loads hdr-histogram-js (a dynamic import of a CommonJS package); the nodes' code
 * cache was recorded for this Node and the flags the nodes run with.
 *
 * The bundle is built by `node scripts/bootstrap.mjs`, which `npm test` runs first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterState } from '../src/cluster/state.js';
import { freePortBlock, freePorts } from '@samsa/testkit';
import { removeDir, tempDir } from './helpers/processes.js';
import { NODE_V8_FLAGS } from '../src/nodeRuntime.js';

const BUNDLE = fileURLToPath(new URL('../bundle/main.js', import.meta.url));

function bundled(args: string[], timeoutMs = 120_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the bundled samsa command', () => {
  const dirs: string[] = [];
  let recorded: number[] = [];

  afterAll(() => {
    // Only PIDs our own `cluster up` recorded, and only if `cluster down` left them running.
    for (const pid of recorded) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const d of dirs) removeDir(d);
  });

  it('is built by bootstrap and prints the CLI version', () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: run node scripts/bootstrap.mjs`).toBe(true);
    const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const r = bundled(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("carries a code cache of node.cjs recorded by this Node with the nodes' V8 flags", () => {
    const meta = JSON.parse(readFileSync(new URL('../bundle/node.cjs.cache.json', import.meta.url), 'utf8')) as {
      node: string;
      execArgv: string[];
      size: number;
    };
    expect(meta.node).toBe(process.version);
    expect(meta.execArgv).toEqual([...NODE_V8_FLAGS]);
    expect(meta.size).toBe(statSync(new URL('../bundle/node.cjs', import.meta.url)).size);
    expect(statSync(new URL('../bundle/node.cjs.cache', import.meta.url)).size).toBeGreaterThan(0);
  });

  it('runs a cluster from the bundle: nodes and console start from it, compressed records round-trip, perf runs', async () => {
    const dataDir = tempDir('bundle-cluster');
    dirs.push(dataDir);
    const base = await freePortBlock(204);
    const [registryPort, consolePort] = await freePorts(2);
    const up = bundled([
      'cluster',
      'up',
      '--detach',
      '--data-dir',
      dataDir,
      '--base-port',
      String(base),
      '--schema-registry-port',
      String(registryPort),
      '--console-port',
      String(consolePort),
      '--brokers',
      '1',
      '--controllers',
      '1',
    ]);
    const state = existsSync(join(dataDir, 'cluster.json'))
      ? (JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as ClusterState)
      : undefined;
    recorded = [...(state?.nodes ?? []), ...(state?.services ?? [])].map((n) => n.pid).filter((p): p is number => p !== undefined);
    try {
      expect(up.status, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/ready in \d+ ms/);
      // Every node and service runs the bundle's entry, not dist/main.js.
      for (const p of [...state!.nodes, ...(state!.services ?? [])]) expect(p.argv).toContain(BUNDLE);

      // The console's page: WEB_DIST is found from the bundle.
      const page = await fetch(`http://127.0.0.1:${consolePort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');

      // Metrics through prom-client, which a node imports lazily.
      const metricsPort = state!.nodes.find((n) => n.metricsPort !== undefined)!.metricsPort!;
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toContain('node_id=');

      const bootstrap = `127.0.0.1:${base}`;
      const created = bundled(['topics', '--create', '--bootstrap-server', bootstrap, '--topic', 'bundled', '--partitions', '1']);
      expect(created.status, created.stderr).toBe(0);
      for (const codec of ['snappy', 'zstd']) {
        const produced = spawnSync(
          process.execPath,
          [BUNDLE, 'produce', '--bootstrap-server', bootstrap, '--topic', 'bundled', '--compression-type', codec],
          { input: `${codec} record\n`, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' },
        );
        expect(produced.status, produced.stderr).toBe(0);
      }
      const consumed = bundled([
        'consume',
        '--bootstrap-server',
        bootstrap,
        '--topic',
        'bundled',
        '--from-beginning',
        '--max-messages',
        '2',
        '--timeout-ms',
        '30000',
      ]);
      expect(consumed.status, consumed.stderr).toBe(0);
      expect(consumed.stdout.split('\n').filter(Boolean)).toEqual(['snappy record', 'zstd record']);

      const perf = bundled(['perf', 'produce', '--bootstrap-server', bootstrap, '--topic', 'bundled', '--num-records', '1000']);
      expect(perf.status, perf.stderr).toBe(0);
      expect(perf.stdout).toMatch(/1000 records sent/);
    } finally {
      const down = bundled(['cluster', 'down', '--data-dir', dataDir]);
      expect(down.status, down.stderr).toBe(0);
    }
  }, 300_000);
});
