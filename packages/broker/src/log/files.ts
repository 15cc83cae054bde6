/**
 * Small file helpers for the log: segment file names, whole reads and writes on a file
 * descriptor, atomic replacement of small checkpoint files, and fsync as a promise.
 */
import { closeSync, constants, fsync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const TMP_FILE_SUFFIX = '.tmp';

/** Read-write, created when missing, never O_APPEND: positional writes must land where we say. */
export const OPEN_RW_CREATE = constants.O_RDWR | constants.O_CREAT;
export const OPEN_RW_TRUNCATE = constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC;

/** Kafka's file name for an offset: 20 decimal digits, zero padded. */
export function offsetFileName(offset: bigint, suffix: string): string {
  return offset.toString().padStart(20, '0') + suffix;
}

export function segmentPaths(dir: string, baseOffset: bigint): { log: string; index: string; timeIndex: string } {
  return {
    log: join(dir, offsetFileName(baseOffset, LOG_FILE_SUFFIX)),
    index: join(dir, offsetFileName(baseOffset, INDEX_FILE_SUFFIX)),
    timeIndex: join(dir, offsetFileName(baseOffset, TIME_INDEX_FILE_SUFFIX)),
  };
}

/** The base offset named by a segment-style file name, or undefined if `name` is not one. */
export function parseOffsetFileName(name: string, suffix: string): bigint | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const digits = name.slice(0, name.length - suffix.length);
  return /^\d{20}$/.test(digits) ? BigInt(digits) : undefined;
}

/** Reads `length` bytes at `position` into `buf[offset..]`; returns how many were read (short only at EOF). */
export function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buf[offset, offset + length)` at `position`. */
export function writeFully(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, buf, offset + done, length - done, position + done);
}

export function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync a file or directory by path (a directory fsync makes renames and new files durable). */
export function fsyncPathSync(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with `content` atomically: write `path.tmp`, then rename over `path`. A reader
 * (or a crash) sees the old file or the new one, never half of one. With `durable`, the data and
 * the rename are fsynced before returning; without it they reach the page cache only and a later
 * fsyncPath(path) + fsyncPath(dir) makes them durable.
 */
export function writeFileAtomicSync(path: string, content: string, durable: boolean): void {
  const tmp = path + TMP_FILE_SUFFIX;
  const fd = openSync(tmp, OPEN_RW_TRUNCATE);
  try {
    const data = Buffer.from(content, 'utf8');
    writeFully(fd, data, 0, data.length, 0);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (durable) fsyncPathSync(dirname(path));
}

/**
 * writeFileAtomicSync(path, content, true) on libuv's threadpool: the event loop never waits on
 * the disk. An fsync on ext4 forces a journal commit and can take tens of milliseconds on a busy
 * disk, and a broker thread stopped that long stalls every produce and fetch it serves. Callers
 * must not run two of these on the same path at once (they share the temporary file).
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = path + TMP_FILE_SUFFIX;
  const file = await open(tmp, OPEN_RW_TRUNCATE);
  try {
    await file.writeFile(content, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), constants.O_RDONLY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
