/**
 * Ports for test servers and the nodes tests start as child processes, free of collisions between
 * test files running at once (vitest workers of one run, and other runs on the same machine).
 *
 * Asking the kernel for port 0 and closing the socket before a child binds the number leaves a
 * gap in which the number can go to someone else: Linux hands the same ephemeral range
 * (32768-60999) to every outgoing connection, and a suite full of gRPC clients makes many. So:
 * - ports come from 20000-31999, below the ephemeral range, where nothing is handed out on its own;
 * - each port is leased by an exclusive lock file (`<tmpdir>/samsa-test-ports/<port>`, created
 *   with O_EXCL, holding the leasing PID); a lease whose process has exited is taken over; a
 *   process's leases are removed when it exits;
 * - a leased port is checked by binding it on 127.0.0.1 (something outside the tests may hold it);
 * - each vitest worker starts its search in its own stretch (VITEST_POOL_ID), so concurrent
 *   workers rarely even look at the same files.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOW = 20_000;
const HIGH = 32_000; // exclusive
const STRETCH = 1_000;
const leaseDir = join(tmpdir(), 'samsa-test-ports');
const held = new Set<number>();
let cursor: number | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseAll(): void {
  for (const port of held) {
    try {
      unlinkSync(join(leaseDir, String(port)));
    } catch {
      // already gone
    }
  }
  held.clear();
}

let hooked = false;

/** Takes the lease on `port` (true), or finds it held by a live process (false). */
function lease(port: number): boolean {
  const file = join(leaseDir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(port);
      if (!hooked) {
        hooked = true;
        process.once('exit', releaseAll);
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // released meanwhile: try again
    }
    // A lease being written (empty) or held by a live process is not ours to take.
    if (!Number.isInteger(holder) || holder <= 0 || alive(holder)) return false;
    try {
      unlinkSync(file);
    } catch {
      // someone else took it over first
    }
  }
  return false;
}

function unlease(port: number): void {
  held.delete(port);
  try {
    unlinkSync(join(leaseDir, String(port)));
  } catch {
    // already gone
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function startCursor(): number {
  const pool = Number(process.env.VITEST_POOL_ID ?? 0);
  const stretches = (HIGH - LOW) / STRETCH;
  const stretch = Number.isInteger(pool) && pool > 0 ? pool % stretches : Math.floor(Math.random() * stretches);
  return LOW + stretch * STRETCH + Math.floor(Math.random() * (STRETCH / 2));
}

/** `count` consecutive ports (a node given one base port and offsets from it), all leased. */
export async function freePortBlock(count: number): Promise<number> {
  mkdirSync(leaseDir, { recursive: true });
  cursor ??= startCursor();
  for (let tried = 0; tried < HIGH - LOW; tried += count) {
    if (cursor + count > HIGH) cursor = LOW;
    const base = cursor;
    cursor += count;
    const taken: number[] = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      if (lease(port)) taken.push(port);
      else ok = false;
    }
    for (let i = 0; ok && i < taken.length; i++) ok = await bindable(taken[i]!);
    if (ok) return base;
    for (const port of taken) unlease(port);
  }
  throw new Error(`no ${count} free consecutive ports in ${LOW}-${HIGH - 1}`);
}

/** One port no other test (here or in another process using this module) is given until we exit. */
export async function freePort(): Promise<number> {
  return freePortBlock(1);
}

/** `n` distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  return ports;
}
