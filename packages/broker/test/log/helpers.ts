/** Shared fixtures for the log tests: temp directories, batches, a manual clock, a recording logger. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch, decodeRecords, type Record } from '@samsa/protocol';
import { Log, type LogConfig, type LogLogger } from '../../src/log/index.js';

export function tempDir(prefix = 'samsa-log-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ManualClock {
  now: number;
  (): number;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  const clock = (() => clock.now) as ManualClock;
  clock.now = start;
  return clock;
}

export interface RecordingLogger extends LogLogger {
  messages: { level: 'info' | 'warn' | 'error'; msg: string; obj: object }[];
  warnings(): string[];
}

export function recordingLogger(): RecordingLogger {
  const messages: RecordingLogger['messages'] = [];
  return {
    messages,
    info: (obj, msg) => void messages.push({ level: 'info', msg: msg ?? '', obj }),
    warn: (obj, msg) => void messages.push({ level: 'warn', msg: msg ?? '', obj }),
    error: (obj, msg) => void messages.push({ level: 'error', msg: msg ?? '', obj }),
    warnings: () => messages.filter((m) => m.level === 'warn').map((m) => m.msg),
  };
}

/** A batch of `count` records whose values are `${prefix}-${i}` and keys `k${i}`, at `timestamp`. */
export function batchOf(count: number, prefix = 'v', timestamp = 1_700_000_000_000n, valueBytes = 0): Buffer {
  const records = [];
  for (let i = 0; i < count; i++) {
    const text = `${prefix}-${i}`;
    const value =
      valueBytes > text.length ? Buffer.concat([Buffer.from(text), Buffer.alloc(valueBytes - text.length, 0x61)]) : Buffer.from(text);
    records.push({ key: Buffer.from(`k${i}`), value, timestamp: timestamp + BigInt(i) });
  }
  return encodeRecordBatch(records);
}

export function valuesOf(buf: Buffer): string[] {
  return decodeRecords(buf).map((r: Record) => r.value!.toString());
}

export function offsetsOf(buf: Buffer): bigint[] {
  return decodeRecords(buf).map((r) => r.offset);
}

export function openLog(dir: string, config: LogConfig = {}, clock: ManualClock = manualClock(), logger?: LogLogger): Log {
  return Log.open(dir, config, { clock, ...(logger ? { logger } : {}) });
}

/** Appends `n` single-record batches with values `${prefix}${i}`; returns their base offsets. */
export function appendSingles(log: Log, n: number, prefix = 'r', epoch = 0, timestamp?: (i: number) => bigint): bigint[] {
  const offsets: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const ts = timestamp ? timestamp(i) : 1_700_000_000_000n + BigInt(i);
    const batch = encodeRecordBatch([{ key: Buffer.from(`k${i}`), value: Buffer.from(`${prefix}${i}`), timestamp: ts }]);
    offsets.push(log.appendAsLeader(batch, epoch).baseOffset);
  }
  return offsets;
}

/** Reads every record from `from` to the end, following batches the way a consumer does. */
export function readAll(log: Log, from = log.logStartOffset, maxBytes = 1 << 20): Record[] {
  const out: Record[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, maxBytes);
    if (records.length === 0) break;
    for (const r of decodeRecords(records)) {
      if (r.offset >= offset) out.push(r);
    }
    offset = out.length > 0 ? out[out.length - 1]!.offset + 1n : offset;
  }
  return out;
}
