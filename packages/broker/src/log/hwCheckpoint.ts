/**
 * The broker's high-watermark checkpoint, Kafka's `replication-offset-checkpoint`: one file in the
 * data directory with the HW of every local replica, so a restarted broker serves consumers up to
 * the HW it had instead of starting from its log start and waiting for the ISR to report again
 * (a leader elected right after a restart would otherwise show consumers a HW that went back).
 *
 *   0                  version
 *   2                  number of entries
 *   orders 0 1500      topic partition high-watermark
 *   orders 1 1432
 *
 * Written atomically (tmp + rename, fsynced) every replica.high.watermark.checkpoint.interval.ms
 * (Kafka's default 5000), off the event loop (writeFileAtomic), and at shutdown, synchronously. A checkpointed HW is only a starting point: the
 * partition caps it at its log end offset (records above may have been lost with an unflushed page
 * cache) and raises it to its log start. Topic names cannot contain spaces, so the line splits on
 * whitespace unambiguously.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from './files.js';

export const HW_CHECKPOINT_FILE = 'replication-offset-checkpoint';
const VERSION = '0';

/** `topic-partition` → HW. Undefined file → empty map. Throws an Error naming the problem when malformed. */
export function readHighWatermarkCheckpoint(dataDir: string): Map<string, bigint> {
  const path = join(dataDir, HW_CHECKPOINT_FILE);
  const out = new Map<string, bigint>();
  if (!existsSync(path)) return out;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== VERSION) throw new Error(`${path}: unsupported version line '${lines[0] ?? ''}'`);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`${path}: bad entry count '${lines[1] ?? ''}'`);
  const entries = lines.slice(2);
  if (entries.length !== count) throw new Error(`${path}: says ${count} entries but has ${entries.length}`);
  for (const line of entries) {
    const m = /^\s*(\S+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) throw new Error(`${path}: bad line '${line}'`);
    out.set(`${m[1]!}-${m[2]!}`, BigInt(m[3]!));
  }
  return out;
}

type HwEntries = ReadonlyArray<{ topic: string; partition: number; highWatermark: bigint }>;

function checkpointText(entries: HwEntries): string {
  return `${VERSION}\n${entries.length}\n${entries.map((e) => `${e.topic} ${e.partition} ${e.highWatermark}\n`).join('')}`;
}

export function writeHighWatermarkCheckpoint(dataDir: string, entries: HwEntries): void {
  writeFileAtomicSync(join(dataDir, HW_CHECKPOINT_FILE), checkpointText(entries), true);
}

/** The same, with the disk work off the event loop; one at a time per data directory. */
export function writeHighWatermarkCheckpointAsync(dataDir: string, entries: HwEntries): Promise<void> {
  return writeFileAtomic(join(dataDir, HW_CHECKPOINT_FILE), checkpointText(entries));
}
