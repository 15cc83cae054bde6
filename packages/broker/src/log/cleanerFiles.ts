/**
 * The files of log compaction (design in cleaner.ts): the cleaned segment's names on its way in,
 * finishing or discarding an interrupted swap when a log is opened, and the per-partition
 * cleaner checkpoint.
 *
 *   <base>.log.cleaned, <base>.index.cleaned, <base>.timeindex.cleaned
 *       the cleaner's output while it is being written; never trusted: deleted on open.
 *   <base>.index.swap, <base>.timeindex.swap, then <base>.log.swap
 *       the fsynced output, renamed in that order. The rename of the .log file is the commit
 *       point: once `<base>.log.swap` exists the swap is completed on open, otherwise discarded.
 *   cleaner-offset-checkpoint
 *       "0" (version), then "<firstDirtyOffset> <nextDeleteHorizonMs>": where the next cleaning's
 *       dirty section starts and when the earliest tombstone kept by the last cleaning may go
 *       (-1: none). Kafka keeps the first per data directory; here it lives beside the log.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, constants } from 'node:fs';
import { join } from 'node:path';
import { HeaderReader } from './headerReader.js';
import {
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
  fsyncPathSync,
  offsetFileName,
  parseOffsetFileName,
  writeFileAtomicSync,
} from './files.js';

export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';
export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

const SEGMENT_SUFFIXES = [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX] as const;

export interface SegmentFileSet {
  log: string;
  index: string;
  timeIndex: string;
}

/** The three files of segment `base` with an extra suffix (.cleaned / .swap), or none. */
export function segmentFiles(dir: string, base: bigint, extra = ''): SegmentFileSet {
  return {
    log: join(dir, offsetFileName(base, LOG_FILE_SUFFIX) + extra),
    index: join(dir, offsetFileName(base, INDEX_FILE_SUFFIX) + extra),
    timeIndex: join(dir, offsetFileName(base, TIME_INDEX_FILE_SUFFIX) + extra),
  };
}

export function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Offset after the last whole batch of a segment-format file (its base when it holds none). */
function nextOffsetOfFile(path: string, base: bigint): bigint {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const size = fstatSync(fd).size;
    const reader = new HeaderReader(fd, size);
    let position = 0;
    let next = base;
    while (reader.load(position)) {
      const batchSize = reader.size;
      if (position + batchSize > size) break;
      next = reader.lastOffset + 1n;
      position += batchSize;
    }
    return next;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs first when a log is opened: deletes `.cleaned` files (a cleaning cut short before its
 * commit point, so the old segments are intact) and completes every committed swap: the old
 * segments the swap replaces are those whose base offset lies in [swap base, swap end) — with
 * swap end at least base + 1, since the swap takes the name of the first one — and are deleted;
 * then the swap files take their final names. A missing or stray index .swap is dropped; the
 * segment's missing index is then rebuilt by recovery.
 *
 * Consistent in every state a crash can leave: before the commit the old segments are all
 * there; after it the swap holds, for each offset of the range it replaces, either the record the
 * old segments had or nothing (the record was superseded by a later one with its key, or was an
 * expired tombstone), and any old segment past the swap's last batch is kept whole or deleted
 * whole (both are correct: cleaning removed it entirely or the later records it holds are intact).
 */
export function completeInterruptedCleaning(dir: string, warn: (message: string) => void): void {
  const names = readdirSync(dir);
  const swaps: bigint[] = [];
  for (const name of names) {
    if (name.endsWith(CLEANED_FILE_SUFFIX)) {
      warn(`deleting ${name}, left by a log cleaning that did not finish`);
      unlinkIfExists(join(dir, name));
      continue;
    }
    const base = parseOffsetFileName(name, LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX);
    if (base !== undefined) swaps.push(base);
  }
  swaps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const base of swaps) {
    const swap = segmentFiles(dir, base, SWAP_FILE_SUFFIX);
    const next = nextOffsetOfFile(swap.log, base);
    const end = next > base ? next : base + 1n;
    for (const name of readdirSync(dir)) {
      for (const suffix of SEGMENT_SUFFIXES) {
        const old = parseOffsetFileName(name, suffix);
        if (old !== undefined && old >= base && old < end) unlinkIfExists(join(dir, name));
      }
    }
    fsyncPathSync(dir);
    const final = segmentFiles(dir, base);
    for (const [from, to] of [
      [swap.index, final.index],
      [swap.timeIndex, final.timeIndex],
    ] as const) {
      if (existsSync(from)) renameSync(from, to);
    }
    renameSync(swap.log, final.log);
    warn(
      `completed the swap of cleaned segment ${offsetFileName(base, LOG_FILE_SUFFIX)} (offsets [${base}, ${end})) interrupted by a crash`,
    );
  }
  // Index .swap files whose log swap was already renamed (or never made): the index is rebuilt.
  for (const name of readdirSync(dir)) {
    if (name.endsWith(SWAP_FILE_SUFFIX)) {
      warn(`deleting stray ${name}`);
      unlinkIfExists(join(dir, name));
    }
  }
  if (swaps.length > 0) fsyncPathSync(dir);
}

// ---- the cleaner checkpoint ----

export interface CleanerCheckpoint {
  /** The first offset not yet cleaned: where the next cleaning's dirty section starts. */
  firstDirtyOffset: bigint;
  /** When the earliest tombstone the last cleaning kept may be removed; -1 when none was kept. */
  nextDeleteHorizonMs: bigint;
}

/** The checkpoint of the log in `dir`, undefined when there is none or it is unreadable (then the whole log is dirty). */
export function readCleanerCheckpoint(dir: string): CleanerCheckpoint | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, CLEANER_CHECKPOINT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const fields = (lines[1] ?? '').trim().split(/\s+/);
  if (lines[0]?.trim() !== '0' || fields.length !== 2 || !fields.every((f) => /^-?\d+$/.test(f))) return undefined;
  return { firstDirtyOffset: BigInt(fields[0]!), nextDeleteHorizonMs: BigInt(fields[1]!) };
}

export function writeCleanerCheckpoint(dir: string, checkpoint: CleanerCheckpoint, durable = false): void {
  writeFileAtomicSync(join(dir, CLEANER_CHECKPOINT_FILE), `0\n${checkpoint.firstDirtyOffset} ${checkpoint.nextDeleteHorizonMs}\n`, durable);
}

/**
 * The log was truncated to end at `logEndOffset`: a first dirty offset above it would treat the
 * records appended there later as already clean (Kafka's maybeTruncateCheckpoint). Written
 * durably, as truncation is.
 */
export function lowerCleanerCheckpoint(dir: string, logEndOffset: bigint): void {
  const checkpoint = readCleanerCheckpoint(dir);
  if (checkpoint && checkpoint.firstDirtyOffset > logEndOffset) {
    writeCleanerCheckpoint(dir, { ...checkpoint, firstDirtyOffset: logEndOffset }, true);
  }
}

// ---- the swap ----

/** The file steps of a swap, in order; a test hook sees each one before it runs. */
export type SwapStep =
  | 'rename-index-to-swap'
  | 'rename-timeindex-to-swap'
  | 'rename-log-to-swap'
  | 'delete-old-segment'
  | 'rename-index-to-final'
  | 'rename-timeindex-to-final'
  | 'rename-log-to-final'
  | 'done';

/**
 * Kafka's replaceSegments, for one cleaned segment named after the first old one (`base`): the
 * fsynced .cleaned files become .swap (the log file last: the commit point), the directory is
 * fsynced, the old segments are deleted (`deleteOld`, one call per segment) and the directory
 * fsynced again, so no old file can outlive the rename that follows; then the .swap files take
 * their final names (made durable by the log's next flush; until then a crash leaves a .swap
 * that opening completes). `onCommitted` runs right after the commit point.
 */
export function swapInCleanedFiles(
  dir: string,
  base: bigint,
  deleteOld: ReadonlyArray<() => void>,
  onCommitted: () => void,
  onStep?: (step: SwapStep) => void,
): void {
  const cleaned = segmentFiles(dir, base, CLEANED_FILE_SUFFIX);
  const swap = segmentFiles(dir, base, SWAP_FILE_SUFFIX);
  const final = segmentFiles(dir, base);
  onStep?.('rename-index-to-swap');
  renameSync(cleaned.index, swap.index);
  onStep?.('rename-timeindex-to-swap');
  renameSync(cleaned.timeIndex, swap.timeIndex);
  onStep?.('rename-log-to-swap');
  renameSync(cleaned.log, swap.log);
  fsyncPathSync(dir);
  onCommitted();
  for (const remove of deleteOld) {
    onStep?.('delete-old-segment');
    remove();
  }
  fsyncPathSync(dir);
  onStep?.('rename-index-to-final');
  renameSync(swap.index, final.index);
  onStep?.('rename-timeindex-to-final');
  renameSync(swap.timeIndex, final.timeIndex);
  onStep?.('rename-log-to-final');
  renameSync(swap.log, final.log);
  onStep?.('done');
}
