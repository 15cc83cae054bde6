/**
 * A small file system mounted at a directory, for the disk-full nemesis and its tests: a tmpfs
 * of a given size (`mount -t tmpfs -o size=N`), grown or shrunk in place with
 * `mount -o remount,size=N` (tmpfs keeps its files across a remount, so "space returns" without
 * losing the broker's logs). Needs root (CAP_SYS_ADMIN); without it, or where `mount` refuses,
 * mountTinyFs answers why, and the caller reports the nemesis unavailable or skips its test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export interface TinyFs {
  readonly dir: string;
  /** Changes the size (bytes). Shrinking below what is used leaves it full. */
  resize(bytes: number): void;
  /** Unmounts (idempotent); the files on it are gone. */
  unmount(): void;
}

export type TinyFsResult = { ok: true; fs: TinyFs } | { ok: false; reason: string };

function run(args: string[]): string | undefined {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return r.error.message;
  if (r.status !== 0) return (r.stderr || r.stdout || `exit ${r.status}`).trim();
  return undefined;
}

/** Mounts a tmpfs of `bytes` at `dir` (created if missing), or says why it cannot. */
export function mountTinyFs(dir: string, bytes: number): TinyFsResult {
  if (!Number.isSafeInteger(bytes) || bytes < 4096) return { ok: false, reason: `size must be at least 4096 bytes, got ${bytes}` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'mounting a small file system needs root (mount -t tmpfs)' };
  }
  mkdirSync(dir, { recursive: true });
  const failed = run(['mount', '-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  if (failed !== undefined) return { ok: false, reason: `mount -t tmpfs at ${dir} failed: ${failed}` };
  let mounted = true;
  return {
    ok: true,
    fs: {
      dir,
      resize(size: number) {
        const err = run(['mount', '-o', `remount,size=${size}`, dir]);
        if (err !== undefined) throw new Error(`resizing the tmpfs at ${dir} to ${size} bytes failed: ${err}`);
      },
      unmount() {
        if (!mounted) return;
        const err = run(['umount', dir]) === undefined ? undefined : run(['umount', '-l', dir]);
        if (err !== undefined) throw new Error(`unmounting ${dir} failed: ${err}`);
        mounted = false;
      },
    },
  };
}
