import { describe, expect, it } from 'vitest';
import { protocolError } from '@samsa/protocol';
import { LogDirFailureChannel, isLogDirFailure, type OfflineLogDir } from '../../src/log/index.js';

/** What Node's fs throws: an Error with code, errno and syscall. */
function systemError(code: string, syscall = 'write'): Error {
  return Object.assign(new Error(`${code}: failure, ${syscall}`), { code, syscall, errno: -28 });
}

describe('isLogDirFailure', () => {
  it('takes a failing disk: ENOSPC, EIO, EROFS, directly or as the cause the log wraps it in', () => {
    expect(isLogDirFailure(systemError('ENOSPC'))).toBe(true);
    expect(isLogDirFailure(systemError('EIO', 'fsync'))).toBe(true);
    expect(isLogDirFailure(systemError('EROFS', 'open'))).toBe(true);
    const wrapped = protocolError('KAFKA_STORAGE_ERROR', 'writing 100 bytes failed', systemError('ENOSPC'));
    expect(isLogDirFailure(wrapped)).toBe(true);
    expect(isLogDirFailure(new Error('outer', { cause: wrapped }))).toBe(true);
  });

  it('does not take races, bugs or the log refusing input as a failed disk', () => {
    expect(isLogDirFailure(systemError('ENOENT', 'open'))).toBe(false);
    expect(isLogDirFailure(systemError('EBADF', 'fsync'))).toBe(false);
    expect(isLogDirFailure(protocolError('KAFKA_STORAGE_ERROR', 'the log in /x is closed'))).toBe(false);
    expect(isLogDirFailure(protocolError('CORRUPT_MESSAGE', 'bad crc'))).toBe(false);
    expect(isLogDirFailure(Object.assign(new Error('no syscall'), { code: 'ENOSPC' }))).toBe(false);
    expect(isLogDirFailure('ENOSPC')).toBe(false);
    expect(isLogDirFailure(undefined)).toBe(false);
  });

  it('stops walking a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as Error & { cause: unknown }).cause = b;
    expect(isLogDirFailure(a)).toBe(false);
  });
});

describe('LogDirFailureChannel', () => {
  it('takes a directory offline on its first failure only, telling the listeners once', () => {
    const channel = new LogDirFailureChannel();
    const seen: OfflineLogDir[] = [];
    channel.onOffline((o) => seen.push(o));
    expect(channel.isOffline('/d')).toBe(false);
    expect(channel.maybeAddOfflineLogDir('/d', systemError('ENOSPC'))).toBe(true);
    expect(channel.maybeAddOfflineLogDir('/d', systemError('EIO'))).toBe(false);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ dir: '/d', errno: 'ENOSPC', laterFailures: 0 });
    expect(channel.describe('/d')).toMatchObject({ errno: 'ENOSPC', laterFailures: 1 });
    expect(channel.offlineLogDirs).toEqual(['/d']);
    expect(channel.isOffline('/other')).toBe(false);
  });

  it('ignores what is not a disk failure', () => {
    const channel = new LogDirFailureChannel();
    let told = 0;
    channel.onOffline(() => told++);
    expect(channel.maybeAddOfflineLogDir('/d', protocolError('CORRUPT_MESSAGE', 'bad crc'))).toBe(false);
    expect(channel.maybeAddOfflineLogDir('/d', systemError('ENOENT'))).toBe(false);
    expect(told).toBe(0);
    expect(channel.offlineLogDirs).toEqual([]);
  });
});
