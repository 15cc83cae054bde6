/**
 * Test helpers for real-process tests: start `samsa` nodes and commands as child processes on
 * 127.0.0.1, wait for them with bounded loops, and always stop exactly the PIDs we started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, giveUp, waitFor } from '@samsa/testkit';
import { NODE_V8_FLAGS } from '../../src/nodeRuntime.js';

/** Ports are leased by @samsa/testkit: collision-free between test files running at once. */
export { freePort } from '@samsa/testkit';

export const CLI = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const started = new Set<ChildProcess>();

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `samsa-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface NodeProcess {
  child: ChildProcess;
  port: number;
  controllerPort: number;
  address: string;
  dataDir: string;
  output(): string;
}

/**
 * Starts one combined `samsa node` (broker and a one-voter controller quorum) and resolves once it
 * logs 'broker started' (at most timeoutMs). Pass the previous ports to restart it in place.
 */
export async function startNode(opts: {
  dataDir: string;
  port?: number;
  controllerPort?: number;
  nodeId?: number;
  timeoutMs?: number;
  extraArgs?: string[];
}): Promise<NodeProcess> {
  const port = opts.port ?? (await freePort());
  const controllerPort = opts.controllerPort ?? (await freePort());
  const nodeId = opts.nodeId ?? 1;
  const child = spawn(
    process.execPath,
    [
      ...NODE_V8_FLAGS,
      CLI,
      'node',
      '--roles',
      'broker,controller',
      '--node-id',
      String(nodeId),
      '--listen',
      `127.0.0.1:${port}`,
      '--controller-quorum-voters',
      `${nodeId}@127.0.0.1:${controllerPort}`,
      '--data-dir',
      opts.dataDir,
      // One broker: __consumer_offsets with one replica (cluster up --brokers 1 does the same).
      '--offsets-topic-replication-factor',
      '1',
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.add(child);
  child.once('exit', () => started.delete(child));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  try {
    await waitFor(
      'the node to log "broker started"',
      () => {
        if (child.exitCode !== null) giveUp(`node exited with ${child.exitCode} before starting:\n${out}`);
        return out.includes('"broker started"');
      },
      timeoutMs,
      25,
    );
  } catch (err) {
    await stopProcess(child, 'SIGKILL');
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  return { child, port, controllerPort, address: `127.0.0.1:${port}`, dataDir: opts.dataDir, output: () => out };
}

/** Sends `signal` to the child (by its PID) and waits for it to exit (bounded). */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every child this module started that is still running. Call from afterAll/afterEach. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((c) => stopProcess(c, 'SIGKILL')));
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (bounded by timeoutMs) with optional stdin. */
export function runCli(args: string[], opts: { input?: string; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Async variant so a test can run the CLI while its event loop serves other things. */
export async function runCliAsync(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin!.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  started.delete(child);
  return { status, stdout, stderr };
}
