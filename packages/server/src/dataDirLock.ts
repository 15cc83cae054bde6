/**
 * One node per data directory: a `.lock` file holding the owner's PID. A second node started on a
 * directory whose owner is still alive is refused with a clear message instead of corrupting it;
 * a lock left by a dead process (kill -9) is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DataDirLock {
  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, '.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new DataDirLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
        if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
          throw new Error(`data directory ${dataDir} is in use by process ${owner}; stop it first or choose another --data-dir`);
        }
        rmSync(file, { force: true });
      }
    }
    throw new Error(`could not lock data directory ${dataDir}`);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}
