/**
 * A log whose disk refuses writes (log/README.md): the segment file is a symlink to /dev/full,
 * where every write fails with ENOSPC. The append fails as KAFKA_STORAGE_ERROR that
 * isLogDirFailure recognises, nothing is appended, and closeHandles writes nothing.
 */
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ErrorCode, SamsaProtocolError } from '@samsa/protocol';
import { LOG_CHECKPOINT_FILE, isLogDirFailure, offsetFileName } from '../../src/log/index.js';
import { batchOf, openLog, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  symlinkSync('/dev/full', join(dir, offsetFileName(0n, '.log')));
});
afterEach(() => cleanup());

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

it('answers a leader append on a full disk with KAFKA_STORAGE_ERROR and appends nothing', () => {
  expect(existsSync('/dev/full')).toBe(true);
  const log = openLog(dir);
  const err = caught(() => log.appendAsLeader(batchOf(3), 0));
  expect(err).toBeInstanceOf(SamsaProtocolError);
  expect((err as SamsaProtocolError).code).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  expect(isLogDirFailure(err)).toBe(true);
  expect(log.logEndOffset).toBe(0n);
  expect(log.read(0n, 1 << 20).records.length).toBe(0);
  log.closeHandles();
});

it('answers a follower append on a full disk the same way', () => {
  const log = openLog(dir);
  const batch = batchOf(2);
  const err = caught(() => log.appendAsFollower(batch));
  expect(isLogDirFailure(err)).toBe(true);
  expect(log.logEndOffset).toBe(0n);
  log.closeHandles();
});

it('closeHandles closes without writing a checkpoint or a clean-shutdown mark', () => {
  const log = openLog(dir);
  const checkpoint = join(dir, LOG_CHECKPOINT_FILE);
  const before = existsSync(checkpoint) ? readFileSync(checkpoint, 'utf8') : undefined;
  log.closeHandles();
  expect(log.isClosed).toBe(true);
  const after = existsSync(checkpoint) ? readFileSync(checkpoint, 'utf8') : undefined;
  expect(after).toEqual(before);
  const err = caught(() => log.appendAsLeader(batchOf(1), 0));
  expect((err as SamsaProtocolError).code).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  expect(isLogDirFailure(err)).toBe(false); // closed, not a disk failure
  log.closeHandles(); // idempotent
});
