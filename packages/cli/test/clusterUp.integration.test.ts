/**
 * `samsa cluster up` as a user runs it: three controllers and three brokers become ready, the
 * bootstrap line comes first, and SIGTERM stops every node it started.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/cluster.js';
import { CLI, freePort, removeDir, stopProcess, tempDir } from './helpers/processes.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('samsa cluster up', () => {
  const dataDir = tempDir('cluster-up');
  const pids: number[] = [];

  afterAll(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    removeDir(dataDir);
  });

  it('starts 3 controllers and 3 brokers, prints the bootstrap line, and stops them all on SIGTERM', async () => {
    // A base port with room above it: brokers at +0/+100/+200, controllers at +1/+101/+201.
    const base = 20_000 + ((await freePort()) % 20_000);
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, 'cluster', 'up', '--data-dir', dataDir, '--base-port', String(base)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await waitFor('the cluster to be ready', () => {
        if (child.exitCode !== null) throw new Error(`cluster up exited ${child.exitCode}:\n${out}`);
        return out.includes('ready in');
      }, 60_000, 50);
      console.log(`cluster up: ready ${Date.now() - t0} ms after start`);
      const lines = out.split('\n');
      const first = lines.findIndex((l) => l.startsWith('bootstrap-server: '));
      expect(lines[first]).toBe(`bootstrap-server: 127.0.0.1:${base},127.0.0.1:${base + 100},127.0.0.1:${base + 200}`);
      const rows = lines.slice(first + 2).filter((l) => /^(controller|broker)-\d/.test(l));
      expect(rows).toHaveLength(6);
      for (const row of rows) pids.push(Number(row.trim().split(/\s+/).at(-1)));
      expect(pids.every(alive)).toBe(true);
    } finally {
      await stopProcess(child, 'SIGTERM', 30_000);
    }
    await waitFor('every node to exit', () => pids.every((pid) => !alive(pid)), 20_000);
  }, 120_000);

  it('--combined runs nodes with both roles', async () => {
    const base = 20_000 + ((await freePort()) % 20_000);
    const dir = tempDir('cluster-combined');
    const child = spawn(process.execPath, [CLI, 'cluster', 'up', '--combined', '--brokers', '1', '--controllers', '1', '--data-dir', dir, '--base-port', String(base)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await waitFor('the combined node to be ready', () => {
        if (child.exitCode !== null) throw new Error(`cluster up exited ${child.exitCode}:\n${out}`);
        return out.includes('ready in');
      }, 60_000, 50);
      expect(out).toContain(`bootstrap-server: 127.0.0.1:${base}\n`);
      expect(out).toMatch(new RegExp(`node-1\\s+1\\s+broker,controller\\s+127\\.0\\.0\\.1:${base}\\s+127\\.0\\.0\\.1:${base + 1}`));
      const pid = Number(out.split('\n').find((l) => l.startsWith('node-1'))!.trim().split(/\s+/).at(-1));
      pids.push(pid);
    } finally {
      await stopProcess(child, 'SIGTERM', 30_000);
      removeDir(dir);
    }
    await waitFor('the node to exit', () => pids.every((p) => !alive(p)), 20_000);
  }, 90_000);
});
