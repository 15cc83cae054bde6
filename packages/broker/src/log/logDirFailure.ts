/**
 * Kafka's LogDirFailureChannel (KIP-112): where any part of the broker reports that a write to a
 * log directory failed, and the one place that decides the directory is offline. The first
 * failure of a directory takes it offline and tells the listeners once; later ones only count.
 * See README.md in this directory for the states and what the broker does on the transition.
 *
 * Pure: no I/O, no clock. `isLogDirFailure` tells a failing disk (a Node system-call error with
 * one of LOG_DIR_FAILURE_ERRNOS, directly or as the cause of the KAFKA_STORAGE_ERROR the log wraps
 * it in) from the log's own refusals (corruption it will not repair, bad input) and from races
 * (ENOENT of a log deleted meanwhile), which are not directory failures.
 */

/** What the channel remembers of an offline directory. */
export interface OfflineLogDir {
  readonly dir: string;
  /** The first failure's message, repeated in every KAFKA_STORAGE_ERROR the directory answers. */
  readonly reason: string;
  /** The first failure's errno name (ENOSPC, EIO, ...) when known. */
  readonly errno: string | undefined;
  /** Failures reported after the first one. */
  readonly laterFailures: number;
}

export type LogDirFailureListener = (offline: OfflineLogDir) => void;

const MAX_CAUSE_DEPTH = 8;

/**
 * The errno names that mean the disk under the directory refuses writes: full (ENOSPC, EDQUOT,
 * EFBIG), failing (EIO, ENXIO, ENODEV) or remounted read-only (EROFS). Others (ENOENT, EBADF,
 * EACCES ...) come from races or bugs in the broker (a flush of a log deleted meanwhile) and must
 * not take a healthy directory offline. Kafka's rule is any IOException; this is narrower on purpose.
 */
export const LOG_DIR_FAILURE_ERRNOS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'ENXIO', 'ENODEV', 'EROFS']);

/** The Node system-call error (code + syscall) at `err` or in its `cause` chain, if any. */
export function systemCallErrorOf(err: unknown): (Error & { code: string; syscall: string }) | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    const e = current as Error & { code?: unknown; syscall?: unknown };
    if (typeof e.code === 'string' && typeof e.syscall === 'string') return e as Error & { code: string; syscall: string };
    current = e.cause;
  }
  return undefined;
}

/** Whether `err` is a failure of the disk under a log directory (a system-call error with one of LOG_DIR_FAILURE_ERRNOS). */
export function isLogDirFailure(err: unknown): boolean {
  const e = systemCallErrorOf(err);
  return e !== undefined && LOG_DIR_FAILURE_ERRNOS.has(e.code);
}

export class LogDirFailureChannel {
  private readonly offline = new Map<string, { reason: string; errno: string | undefined; laterFailures: number }>();
  private readonly listeners: LogDirFailureListener[] = [];

  onOffline(listener: LogDirFailureListener): void {
    this.listeners.push(listener);
  }

  /**
   * Reports a failure in `dir`. Returns true (and tells the listeners) when it takes the
   * directory offline; false when it already was (the failure is counted) or `err` is not a
   * directory failure (nothing changes).
   */
  maybeAddOfflineLogDir(dir: string, err: unknown): boolean {
    if (!isLogDirFailure(err)) return false;
    const known = this.offline.get(dir);
    if (known) {
      known.laterFailures++;
      return false;
    }
    const errno = systemCallErrorOf(err)?.code;
    const reason = err instanceof Error ? err.message : String(err);
    this.offline.set(dir, { reason, errno, laterFailures: 0 });
    const view = this.describe(dir)!;
    for (const listener of this.listeners) listener(view);
    return true;
  }

  isOffline(dir: string): boolean {
    return this.offline.has(dir);
  }

  describe(dir: string): OfflineLogDir | undefined {
    const known = this.offline.get(dir);
    return known === undefined ? undefined : { dir, ...known };
  }

  /** The offline directories, in the order they failed (what the broker's heartbeats carry). */
  get offlineLogDirs(): string[] {
    return [...this.offline.keys()];
  }
}
