/**
 * The leader-epoch cache and its checkpoint file, Kafka's LeaderEpochFileCache: for each leader
 * epoch, the first offset written in it. Followers ask the leader for the end offset of their
 * last epoch (OffsetsForLeaderEpoch) and truncate to it (KIP-101/279).
 *
 * File `leader-epoch-checkpoint`, text, as Kafka writes it:
 *
 *   0                  version
 *   2                  number of entries
 *   0 0                epoch startOffset
 *   3 1500
 *
 * Every change rewrites the file atomically (tmp + rename). Ordinary changes (a new epoch on
 * append) reach the page cache only; flush() fsyncs the file before it advances the recovery
 * point, and recovery re-derives epochs from the batches it scans, so a lost entry above the
 * recovery point is restored. Truncations are written durably at once (rare, and losing one
 * would resurrect an epoch the log no longer holds).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncPath, fsyncPathSync, writeFileAtomicSync } from './files.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
const VERSION = 0;

/** The epoch and end offset OffsetsForLeaderEpoch answers with; -1 / -1n when undefined (Kafka's UNDEFINED_EPOCH). */
export interface EpochEndOffset {
  leaderEpoch: number;
  endOffset: bigint;
}

export interface EpochEntry {
  epoch: number;
  startOffset: bigint;
}

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1n;

export class LeaderEpochFileCache {
  readonly path: string;
  /** Ascending by epoch and by start offset. */
  private epochs: EpochEntry[] = [];
  private readonly logEndOffset: () => bigint;
  private readonly onWarn: ((message: string) => void) | undefined;
  /** Rewritten since the last fsync. */
  private dirty = false;

  private constructor(path: string, logEndOffset: () => bigint, onWarn?: (message: string) => void) {
    this.path = path;
    this.logEndOffset = logEndOffset;
    this.onWarn = onWarn;
  }

  /** Loads `dir/leader-epoch-checkpoint` (an absent file is an empty cache). Throws on a malformed file. */
  static load(dir: string, logEndOffset: () => bigint, onWarn?: (message: string) => void): LeaderEpochFileCache {
    const cache = new LeaderEpochFileCache(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), logEndOffset, onWarn);
    if (existsSync(cache.path)) cache.epochs = parseCheckpoint(cache.path, readFileSync(cache.path, 'utf8'));
    return cache;
  }

  get entries(): readonly EpochEntry[] {
    return this.epochs;
  }

  get latestEpoch(): number | undefined {
    return this.epochs.at(-1)?.epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset`. A repeat of the latest epoch is ignored; an
   * entry that conflicts with later ones (lower epoch or start offset) replaces them, with a
   * warning, as in Kafka.
   */
  assign(epoch: number, startOffset: bigint): void {
    if (epoch < 0) return;
    const latest = this.epochs.at(-1);
    if (latest && latest.epoch === epoch && latest.startOffset <= startOffset) return;
    let keep = this.epochs.length;
    while (keep > 0 && (this.epochs[keep - 1]!.epoch >= epoch || this.epochs[keep - 1]!.startOffset >= startOffset)) keep--;
    if (keep < this.epochs.length) {
      const removed = this.epochs
        .slice(keep)
        .map((e) => `${e.epoch}@${e.startOffset}`)
        .join(', ');
      this.onWarn?.(`leader epoch ${epoch} starting at ${startOffset} replaces later entries ${removed}`);
      this.epochs.length = keep;
    }
    this.epochs.push({ epoch, startOffset });
    this.write(false);
  }

  /**
   * Kafka's endOffsetFor: for the latest epoch, the log end offset; for an older epoch, the start
   * offset of the next higher epoch, paired with the largest known epoch <= the requested one (or
   * the requested epoch itself when it is below all known ones); undefined (-1, -1) otherwise.
   */
  endOffsetFor(requestedEpoch: number): EpochEndOffset {
    const latest = this.epochs.at(-1);
    if (requestedEpoch === UNDEFINED_EPOCH || !latest) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === latest.epoch) return { leaderEpoch: latest.epoch, endOffset: this.logEndOffset() };
    const higher = this.epochs.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const floor = higher === 0 ? undefined : this.epochs[higher - 1]!;
    return { leaderEpoch: floor ? floor.epoch : requestedEpoch, endOffset: this.epochs[higher]!.startOffset };
  }

  /** Removes entries starting at or after `endOffset` (the log was truncated to it). Durable. */
  truncateFromEnd(endOffset: bigint): void {
    let keep = this.epochs.length;
    while (keep > 0 && this.epochs[keep - 1]!.startOffset >= endOffset) keep--;
    if (keep === this.epochs.length) return;
    this.epochs.length = keep;
    this.write(true);
  }

  /**
   * The log now starts at `startOffset`: entries starting at or below it collapse into one, the
   * latest of them, moved up to start at `startOffset` (Kafka's truncateFromStart).
   */
  truncateFromStart(startOffset: bigint): void {
    let removed = 0;
    while (removed < this.epochs.length && this.epochs[removed]!.startOffset <= startOffset) removed++;
    if (removed === 0) return;
    const last = this.epochs[removed - 1]!;
    if (removed === 1 && last.startOffset === startOffset) return;
    this.epochs.splice(0, removed, { epoch: last.epoch, startOffset });
    this.write(false);
  }

  /** Forgets every epoch (the log was emptied). Durable. */
  clear(): void {
    if (this.epochs.length === 0 && !existsSync(this.path)) return;
    this.epochs = [];
    this.write(true);
  }

  /** fsyncs the checkpoint file and its directory (called by Log.flush). */
  async flush(): Promise<void> {
    if (!this.dirty || !existsSync(this.path)) return;
    this.dirty = false;
    await fsyncPath(this.path);
    await fsyncPath(dirname(this.path));
  }

  flushSync(): void {
    if (!this.dirty || !existsSync(this.path)) return;
    fsyncPathSync(this.path);
    fsyncPathSync(dirname(this.path));
    this.dirty = false;
  }

  private write(durable: boolean): void {
    const lines = [String(VERSION), String(this.epochs.length), ...this.epochs.map((e) => `${e.epoch} ${e.startOffset}`)];
    writeFileAtomicSync(this.path, lines.join('\n') + '\n', durable);
    this.dirty = !durable;
  }
}

function parseCheckpoint(path: string, text: string): EpochEntry[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const fail = (why: string): never => {
    throw new Error(`malformed leader epoch checkpoint ${path}: ${why}`);
  };
  if (lines[0]?.trim() !== String(VERSION)) fail(`unsupported version line '${lines[0] ?? ''}'`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0 || lines.length !== count + 2) fail(`expected ${lines[1]} entries, found ${lines.length - 2}`);
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) fail(`bad entry line '${line}'`);
    const entry = { epoch: Number(m![1]), startOffset: BigInt(m![2]!) };
    const prev = entries.at(-1);
    if (prev && (entry.epoch <= prev.epoch || entry.startOffset < prev.startOffset)) fail(`entries out of order at '${line}'`);
    entries.push(entry);
  }
  return entries;
}
