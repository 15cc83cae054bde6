/**
 * Log compaction (src/log/cleaner.ts): what one cleaning keeps and how it rewrites batches, the
 * cleanable range and dirty ratio, tombstones and their delete horizon, the indexes of cleaned
 * segments, a crash at every step of the swap, cleaning racing with appends, retention and
 * truncation, followers fetching from a compacted leader, and the broker's LogCleaner.
 */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompressionType,
  DELETE_HORIZON_FLAG,
  decodeRecordBatch,
  deleteHorizonOf,
  encodeRecordBatch,
  hasCodec,
  iterateBatches,
  readBatchHeader,
  type Record,
  type RecordBatchHeader,
  type RecordInput,
} from '@samsa/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import {
  LogCleaner,
  cleanLog,
  cleanableRange,
  needsCleaning,
  readCleanerCheckpoint,
  type CleanResult,
  type Log,
  type LogConfig,
  type SwapStep,
} from '../../src/log/index.js';
import { manualClock, openLog, readAll, recordingLogger, tempDir, type ManualClock, type RecordingLogger } from './helpers.js';

let dir: string;
let cleanup: () => void;
const cleanups: (() => void)[] = [];
const logs: Log[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('samsa-cleaner-'));
});
afterEach(() => {
  for (const log of logs.splice(0)) if (!log.isClosed) log.close();
  for (const c of cleanups.splice(0)) c();
  cleanup();
});

const T0 = 1_700_000_000_000;
const DAY = 24 * 60 * 60 * 1000;
const COMPACT: LogConfig = { cleanupPolicy: 'compact', segmentBytes: 600, indexIntervalBytes: 100 };

function open(at = dir, config: LogConfig = COMPACT, clock: ManualClock = manualClock(T0), logger?: RecordingLogger): Log {
  const log = openLog(at, config, clock, logger);
  logs.push(log);
  return log;
}

function rec(key: string | null, value: string | null, timestamp: bigint = BigInt(T0)): RecordInput {
  return { key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp };
}

/** Appends one batch per entry; returns the base offsets. */
function append(log: Log, batches: RecordInput[][], opts: Parameters<typeof encodeRecordBatch>[1] = {}): bigint[] {
  return batches.map((records) => log.appendAsLeader(encodeRecordBatch(records, opts), 0).baseOffset);
}

/** A readable image of the records: "offset:key=value" (value "null" for a tombstone). */
function image(records: readonly Record[]): string[] {
  return records.map((r) => `${r.offset}:${r.key?.toString() ?? 'null'}=${r.value?.toString() ?? 'null'}`);
}

/** Whole raw batches of the log, as a follower would fetch them. */
function rawBatches(log: Log): { header: RecordBatchHeader; bytes: Buffer }[] {
  const out: { header: RecordBatchHeader; bytes: Buffer }[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, 1 << 20);
    if (records.length === 0) break;
    for (const { pos, size, header } of iterateBatches(records)) {
      out.push({ header, bytes: records.subarray(pos, pos + size) });
      offset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
    }
  }
  return out;
}

/** What compaction of everything below `end` must leave: per key the latest record below `end`, everything from `end` on. */
function expectedAfterCleaning(before: readonly Record[], end: bigint, dropTombstones = false): string[] {
  const latest = new Map<string, bigint>();
  for (const r of before) if (r.offset < end && r.key !== null) latest.set(r.key.toString('latin1'), r.offset);
  return image(
    before.filter((r) => {
      if (r.offset >= end) return true;
      if (r.key === null || latest.get(r.key.toString('latin1')) !== r.offset) return false;
      return !(dropTombstones && r.value === null);
    }),
  );
}

async function clean(log: Log, now = T0, extra: Partial<Parameters<typeof cleanLog>[1]> = {}): Promise<CleanResult> {
  return cleanLog(log, { now, highWatermark: log.logEndOffset, ...extra });
}

/** 10 single-record batches over keys k0..k4 twice, then a third round of k0..k2: several segments plus an active one. */
function fillRounds(log: Log): void {
  const batches: RecordInput[][] = [];
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < (round === 2 ? 3 : 5); k++) batches.push([rec(`k${k}`, `r${round}-k${k}`, BigInt(T0 + round * 10 + k))]);
  }
  append(log, batches);
}

describe('one cleaning', () => {
  it('keeps the latest record of each key at its original offset and leaves the active segment alone', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 250 });
    fillRounds(log);
    expect(log.segments.length).toBeGreaterThan(2);
    const before = readAll(log);
    const end = log.segments[log.segments.length - 1]!.baseOffset;
    const leo = log.logEndOffset;

    const result = await clean(log);

    expect(result.outcome).toBe('cleaned');
    expect(result.endOffset).toBe(end);
    expect(log.logEndOffset).toBe(leo);
    const after = readAll(log);
    expect(image(after)).toEqual(expectedAfterCleaning(before, end));
    // Strictly fewer records, none moved, and the latest value of every key is still readable.
    expect(after.length).toBeLessThan(before.length);
    const lastOf = (rs: readonly Record[]) => new Map(rs.map((r) => [r.key!.toString(), `${r.offset}=${r.value!.toString()}`]));
    expect(lastOf(after)).toEqual(lastOf(before));
    // The cleaned segments were merged (600-byte groups) and the checkpoint moved to the end of the cleaned range.
    expect(readCleanerCheckpoint(log.dir)).toEqual({ firstDirtyOffset: end, nextDeleteHorizonMs: -1n });
  });

  it('rewrites a partly kept batch with its base offset, last offset delta, producer fields, leader epoch and codec', async () => {
    const codecs = [CompressionType.NONE, CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD].filter(
      (c) => hasCodec(c),
    );
    expect(codecs.length).toBeGreaterThanOrEqual(2);
    const log = open(dir, { ...COMPACT, segmentBytes: 100_000 });
    const originals: RecordBatchHeader[] = [];
    codecs.forEach((compression, i) => {
      // Keys a, b, c, a: the first a is superseded inside the batch; b and c by the next batch.
      const batch = encodeRecordBatch([rec('a', `a${i}`), rec('b', `b${i}`), rec('c', `c${i}`), rec('a', `a${i}'`, BigInt(T0 + 5))], {
        compression,
        producerId: 1000n + BigInt(i),
        producerEpoch: 3,
        baseSequence: 40 * i,
      });
      const base = log.appendAsLeader(batch, 7 + i).baseOffset;
      originals.push(readBatchHeader(log.read(base, 1 << 20).records, 0));
    });
    log.appendAsLeader(encodeRecordBatch([rec('b', 'b-last'), rec('c', 'c-last')]), 20);
    log.roll();
    log.appendAsLeader(encodeRecordBatch([rec('z', 'active')]), 20);

    await clean(log);

    const batches = rawBatches(log);
    for (const [i, original] of originals.entries()) {
      const { header, bytes } = batches[i]!;
      const lastIndex = i === originals.length - 1;
      expect(header).toMatchObject({
        baseOffset: original.baseOffset,
        lastOffsetDelta: 3,
        partitionLeaderEpoch: original.partitionLeaderEpoch,
        producerId: original.producerId,
        producerEpoch: 3,
        baseSequence: original.baseSequence,
        // An emptied batch is Kafka's empty header: no records, so no compression.
        compression: lastIndex ? original.compression : CompressionType.NONE,
        timestampType: 'CreateTime',
      });
      // Only the last a of each batch survives ("a" is rewritten by every later batch except in the last one).
      const kept = decodeRecordBatch(bytes).records;
      expect(kept.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.timestamp])).toEqual(
        lastIndex ? [[original.baseOffset + 3n, 'a', `a${i}'`, BigInt(T0 + 5)]] : [],
      );
    }
    // Emptied batches of an idempotent producer that are its last keep their header (no records).
    for (const { header } of batches.slice(0, originals.length - 1)) expect(header.recordCount).toBe(0);
    const lastBase = originals.at(-1)!.baseOffset;
    expect(image(readAll(log))).toEqual([
      `${lastBase + 3n}:a=a${originals.length - 1}'`,
      `${lastBase + 4n}:b=b-last`,
      `${lastBase + 5n}:c=c-last`,
      `${lastBase + 6n}:z=active`,
    ]);
  });

  it('drops an emptied batch of a producer that wrote again later, and emptied batches of non-idempotent producers', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 100_000 });
    log.appendAsLeader(encodeRecordBatch([rec('a', '1')], { producerId: 5n, producerEpoch: 0, baseSequence: 0 }), 0);
    log.appendAsLeader(encodeRecordBatch([rec('a', '2')], { producerId: 5n, producerEpoch: 0, baseSequence: 1 }), 0);
    log.appendAsLeader(encodeRecordBatch([rec('b', '1')]), 0);
    log.appendAsLeader(encodeRecordBatch([rec('a', '3'), rec('b', '2')]), 0);
    log.roll();
    log.appendAsLeader(encodeRecordBatch([rec('z', 'active')]), 0);

    await clean(log);

    const batches = rawBatches(log);
    // Offset 0 (producer 5, not its last batch) and offset 2 (no producer id) are gone; offset 1 stays as an empty header.
    expect(batches.map((b) => [b.header.baseOffset, b.header.recordCount])).toEqual([
      [1n, 0],
      [3n, 2],
      [5n, 1],
    ]);
    expect(image(readAll(log))).toEqual(['3:a=3', '4:b=2', '5:z=active']);
  });

  it('keeps LogAppendTime batches LogAppendTime with their timestamp', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 100_000 });
    const batch = encodeRecordBatch([rec('a', '1'), rec('b', '1')]);
    // What the leader does for message.timestamp.type=LogAppendTime.
    const { setLogAppendTime } = await import('@samsa/protocol');
    setLogAppendTime(batch, 0, batch.length, 1_234n);
    log.appendAsLeader(batch, 0);
    log.appendAsLeader(encodeRecordBatch([rec('a', '2')]), 0);
    log.roll();
    log.appendAsLeader(encodeRecordBatch([rec('z', 'z')]), 0);

    await clean(log);

    const first = rawBatches(log)[0]!;
    expect(first.header).toMatchObject({ timestampType: 'LogAppendTime', maxTimestamp: 1_234n, recordCount: 1, lastOffsetDelta: 1 });
    expect(decodeRecordBatch(first.bytes).records.map((r) => [r.offset, r.key!.toString(), r.timestamp])).toEqual([[1n, 'b', 1_234n]]);
  });

  it('drops records without a key that predate the compact policy', async () => {
    const log = open(dir, { ...COMPACT, cleanupPolicy: 'delete', segmentBytes: 100_000 });
    append(log, [[rec(null, 'n0'), rec('a', '1')], [rec(null, 'n1')]]);
    log.updateConfig({ ...COMPACT, segmentBytes: 100_000 });
    log.roll();
    append(log, [[rec('z', 'z')]]);

    await clean(log);

    expect(image(readAll(log))).toEqual(['1:a=1', '3:z=z']);
  });

  it('does nothing to a log without cleanable segments, and swaps nothing when no record goes', async () => {
    const log = open();
    append(log, [[rec('a', '1')], [rec('b', '1')]]);
    expect(log.segments).toHaveLength(1);
    expect((await clean(log)).outcome).toBe('nothing');

    const other = open(join(dir, 'other'), { ...COMPACT, segmentBytes: 100_000 });
    append(other, [[rec('a', '1')], [rec('b', '1')]]);
    other.roll();
    append(other, [[rec('c', '1')]]);
    const files = readdirSync(other.dir).sort();
    const result = await clean(other);
    expect(result).toMatchObject({ outcome: 'cleaned', segmentsWritten: 0, recordsKept: 2 });
    expect(readdirSync(other.dir).sort()).toEqual([...files, 'cleaner-offset-checkpoint'].sort());
  });
});

describe('tombstones', () => {
  it('are kept delete.retention.ms after the cleaning that first saw them, then removed', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 100_000, deleteRetentionMs: DAY });
    append(log, [[rec('a', 'a1', 10n), rec('b', 'b1', 11n)], [rec('a', null, 12n)], [rec('c', 'c1', 13n)]]);
    log.roll();
    append(log, [[rec('z', 'z')]]);

    const first = await clean(log, T0);
    expect(image(readAll(log))).toEqual(['1:b=b1', '2:a=null', '3:c=c1', '4:z=z']);
    // The tombstone's batch now carries its delete horizon (KIP-534); its record keeps its timestamp.
    const tombstoneBatch = rawBatches(log).find((b) => b.header.baseOffset === 2n)!;
    expect(tombstoneBatch.header.attributes & DELETE_HORIZON_FLAG).toBe(DELETE_HORIZON_FLAG);
    expect(deleteHorizonOf(tombstoneBatch.header)).toBe(BigInt(T0 + DAY));
    expect(decodeRecordBatch(tombstoneBatch.bytes).records[0]!.timestamp).toBe(12n);
    expect(first.nextDeleteHorizonMs).toBe(BigInt(T0 + DAY));
    expect(readCleanerCheckpoint(log.dir)!.nextDeleteHorizonMs).toBe(BigInt(T0 + DAY));

    // Nothing dirty: the log is due only once the horizon has passed.
    const hw = log.logEndOffset;
    expect(needsCleaning(cleanableRange(log, readCleanerCheckpoint(log.dir), hw, T0 + DAY - 1), 0.5)).toBe(false);
    await clean(log, T0 + DAY - 1);
    expect(image(readAll(log))).toContain('2:a=null');
    // A later cleaning keeps the horizon it stamped first.
    expect(deleteHorizonOf(rawBatches(log).find((b) => b.header.baseOffset === 2n)!.header)).toBe(BigInt(T0 + DAY));

    const due = cleanableRange(log, readCleanerCheckpoint(log.dir), hw, T0 + DAY);
    expect(due.tombstonesDue).toBe(true);
    expect(needsCleaning(due, 0.5)).toBe(true);
    const last = await clean(log, T0 + DAY);
    expect(last.tombstonesRemoved).toBe(1);
    expect(image(readAll(log))).toEqual(['1:b=b1', '3:c=c1', '4:z=z']);
    expect(readCleanerCheckpoint(log.dir)!.nextDeleteHorizonMs).toBe(-1n);
  });

  it('a segment left with nothing is swapped in empty: the log reads across it, reopens and takes appends', async () => {
    // segment.bytes 100: each segment is its own group, so the first one is cleaned on its own.
    const config: LogConfig = { ...COMPACT, segmentBytes: 100, deleteRetentionMs: 0 };
    const log = open(dir, config);
    append(log, [[rec('a', null), rec('b', null)]]);
    log.roll();
    append(log, [[rec('c', 'c1')]]);
    log.roll();
    append(log, [[rec('z', 'z')]]);
    await clean(log, T0); // stamps the horizon (now + 0)
    const result = await clean(log, T0);
    expect(result.tombstonesRemoved).toBe(2);
    expect(log.segments.map((s) => [s.baseOffset, s.sizeInBytes === 0])).toEqual([
      [0n, true],
      [2n, false],
      [3n, false],
    ]);
    expect(image(readAll(log))).toEqual(['2:c=c1', '3:z=z']);
    log.close();
    const reopened = open(dir, config);
    expect(reopened.logStartOffset).toBe(0n);
    expect(image(readAll(reopened))).toEqual(['2:c=c1', '3:z=z']);
    reopened.appendAsLeader(encodeRecordBatch([rec('y', 'y')]), 0);
    expect(image(readAll(reopened))).toEqual(['2:c=c1', '3:z=z', '4:y=y']);
  });

  it('a newer value of the key supersedes a tombstone before its horizon', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 100_000 });
    append(log, [[rec('a', 'a1')], [rec('a', null)]]);
    log.roll();
    append(log, [[rec('a', 'a2')]]);
    log.roll();
    append(log, [[rec('z', 'z')]]);
    await clean(log);
    expect(image(readAll(log))).toEqual(['2:a=a2', '3:z=z']);
  });
});

describe('the cleanable range', () => {
  /** One batch per segment (segment.bytes below a batch): segments at 0..n-1, the last active. */
  function singles(log: Log, n: number, key = (i: number) => `k${i % 3}`, ts = (i: number) => BigInt(T0 + i * 1000)): void {
    for (let i = 0; i < n; i++) log.appendAsLeader(encodeRecordBatch([rec(key(i), `v${i}`, ts(i))]), 0);
  }

  it('measures the dirty ratio from the checkpoint, bounded by the active segment and the high watermark', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 50 });
    singles(log, 6);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    const size = log.segments[0]!.sizeInBytes;

    const fresh = cleanableRange(log, undefined, log.logEndOffset, T0);
    expect(fresh).toMatchObject({ firstDirtyOffset: 0n, cleanableEndOffset: 5n, cleanBytes: 0, dirtyBytes: 5 * size, dirtyRatio: 1 });
    // The HW inside segment 3 leaves segments 3 and 4 out.
    expect(cleanableRange(log, undefined, 3n, T0)).toMatchObject({ cleanableEndOffset: 3n, dirtyBytes: 3 * size });

    await clean(log, T0, { highWatermark: 3n });
    expect(image(readAll(log, 0n)).slice(0, 3)).toEqual(['0:k0=v0', '1:k1=v1', '2:k2=v2']);
    const after = cleanableRange(log, readCleanerCheckpoint(log.dir), log.logEndOffset, T0);
    expect(after.firstDirtyOffset).toBe(3n);
    expect(after.dirtyBytes).toBe(2 * size);
    expect(after.cleanBytes).toBeGreaterThan(0);
    expect(after.dirtyRatio).toBeCloseTo(after.dirtyBytes / (after.dirtyBytes + after.cleanBytes));
    expect(needsCleaning(after, after.dirtyRatio - 0.01)).toBe(true);
    expect(needsCleaning(after, after.dirtyRatio)).toBe(false);
  });

  it('holds back segments newer than min.compaction.lag.ms, and max.compaction.lag.ms makes an old dirty log due', () => {
    const clock = manualClock(T0 + 10_000);
    const log = open(dir, { ...COMPACT, segmentBytes: 50, minCompactionLagMs: 6_500 }, clock);
    singles(log, 6); // timestamps T0 .. T0 + 5000
    // Segments whose largest timestamp is newer than now - 6500 = T0 + 3500: from segment 4 on.
    expect(cleanableRange(log, undefined, log.logEndOffset, clock.now).cleanableEndOffset).toBe(4n);

    log.updateConfig({ ...COMPACT, segmentBytes: 50, maxCompactionLagMs: 9_000 });
    const range = cleanableRange(log, { firstDirtyOffset: 2n, nextDeleteHorizonMs: -1n }, log.logEndOffset, clock.now);
    // The first dirty record (T0 + 2000) is 8000 ms old: not yet.
    expect(range.needCompactionNow).toBe(false);
    const later = cleanableRange(log, { firstDirtyOffset: 2n, nextDeleteHorizonMs: -1n }, log.logEndOffset, clock.now + 1_001);
    expect(later.needCompactionNow).toBe(true);
    expect(needsCleaning(later, 0.99)).toBe(true);
  });

  it('max.compaction.lag.ms caps segment.ms for the active segment of a compacted log', () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 100_000, maxCompactionLagMs: 5_000 });
    log.appendAsLeader(encodeRecordBatch([rec('a', '1', BigInt(T0))]), 0);
    log.appendAsLeader(encodeRecordBatch([rec('a', '2', BigInt(T0 + 4_000))]), 0);
    expect(log.segments).toHaveLength(1);
    log.appendAsLeader(encodeRecordBatch([rec('a', '3', BigInt(T0 + 5_001))]), 0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 2n]);
  });

  it('a compact-only log is not subject to retention.ms or retention.bytes; compact,delete is', () => {
    const clock = manualClock(T0 + 100 * DAY);
    const compact = open(dir, { ...COMPACT, segmentBytes: 50, retentionMs: 1_000, retentionBytes: 10 }, clock);
    singles(compact, 4);
    expect(compact.deleteRetentionSegments()).toBe(0);
    const both = open(join(dir, 'both'), { ...COMPACT, cleanupPolicy: 'compact,delete', segmentBytes: 50, retentionMs: 1_000 }, clock);
    singles(both, 4);
    // Every segment, the expired active one included (rolled first): the log empties.
    expect(both.deleteRetentionSegments()).toBe(4);
    expect(both.size).toBe(0);
  });
});

describe('cleaned segments on disk', () => {
  it('have valid offset and time indexes: reopened cleanly, every offset reads its batch, timestamps are found', async () => {
    const logger = recordingLogger();
    const log = open(dir, { ...COMPACT, segmentBytes: 2_000, indexIntervalBytes: 60 }, manualClock(T0), logger);
    const batches: RecordInput[][] = [];
    for (let i = 0; i < 60; i++)
      batches.push([rec(`k${i % 7}`, `v${i}`, BigInt(T0 + i * 10)), rec(`j${i % 5}`, `w${i}`, BigInt(T0 + i * 10 + 1))]);
    append(log, batches);
    await clean(log);
    const batchesAfter = rawBatches(log);
    const end = log.logEndOffset;
    log.close();

    // Reopened after a clean close (indexes trusted) and after a crash (indexes sanity-checked or rebuilt): the same answers.
    const reopened = open(dir, { ...COMPACT, segmentBytes: 2_000, indexIntervalBytes: 60 }, manualClock(T0), logger);
    expect(logger.warnings()).toEqual([]);
    expect(reopened.logEndOffset).toBe(end);
    for (let offset = 0n; offset < reopened.logEndOffset; offset++) {
      const want = batchesAfter.find((b) => b.header.baseOffset + BigInt(b.header.lastOffsetDelta) >= offset);
      const got = reopened.read(offset, 1);
      if (!want) {
        expect(got.records.length).toBe(0);
        continue;
      }
      expect(got.firstOffset).toBe(want.header.baseOffset);
    }
    // The time index: the first kept record at or after each timestamp.
    const kept = readAll(reopened);
    for (const t of [T0, T0 + 101, T0 + 305, T0 + 590]) {
      const want = kept.find((r) => r.timestamp >= BigInt(t))!;
      expect(reopened.offsetForTimestamp(BigInt(t))).toEqual({ offset: want.offset, timestamp: want.timestamp });
    }
    expect(logger.warnings()).toEqual([]);
  });
});

describe('a crash during the swap', () => {
  /** Three segments of four batches over keys a..e, merged into one cleaned segment, plus the active segment. */
  function fillForSwap(log: Log): void {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (let i = 0; i < 12; i++) log.appendAsLeader(encodeRecordBatch([rec(keys[i % 5]!, `v${i}`), rec(keys[(i * 3) % 5]!, `w${i}`)]), 0);
    log.roll();
    log.appendAsLeader(encodeRecordBatch([rec('z', 'active')]), 0);
  }

  it('at every step leaves a log that opens with either all the old records or exactly the cleaned ones, and takes appends', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 4 * 100, indexIntervalBytes: 50 });
    fillForSwap(log);
    expect(log.segments.length).toBeGreaterThanOrEqual(4);
    // segment.bytes is live: the cleaner may now merge every inactive segment into one.
    const config: LogConfig = { ...COMPACT, segmentBytes: 100_000, indexIntervalBytes: 50 };
    log.updateConfig(config);
    const before = image(readAll(log));
    const leo = log.logEndOffset;

    const images: { step: SwapStep; at: string; committed: boolean }[] = [];
    let committed = false;
    const snapshot = (step: SwapStep): void => {
      const copy = tempDir('samsa-cleaner-crash-');
      cleanups.push(copy.cleanup);
      cpSync(dir, copy.dir, { recursive: true });
      images.push({ step, at: copy.dir, committed });
    };
    const result = await clean(log, T0, {
      onSwapStep: (step) => {
        if (step === 'delete-old-segment') committed = true;
        snapshot(step);
      },
    });
    expect(result.segmentsWritten).toBe(1);
    expect(result.segmentsCleaned).toBeGreaterThanOrEqual(3);
    const after = image(readAll(log));
    expect(after).not.toEqual(before);

    // A crash while the cleaned files were still being written leaves .cleaned files behind.
    const writing = tempDir('samsa-cleaner-crash-');
    cleanups.push(writing.cleanup);
    cpSync(images[0]!.at, writing.dir, { recursive: true });
    writeFileSync(join(writing.dir, '00000000000000000000.log.cleaned'), Buffer.alloc(100, 7));
    images.unshift({ step: 'rename-index-to-swap', at: writing.dir, committed: false });

    expect(images.map((i) => i.step)).toEqual([
      'rename-index-to-swap',
      'rename-index-to-swap',
      'rename-timeindex-to-swap',
      'rename-log-to-swap',
      ...Array<SwapStep>(result.segmentsCleaned).fill('delete-old-segment'),
      'rename-index-to-final',
      'rename-timeindex-to-final',
      'rename-log-to-final',
      'done',
    ]);
    for (const { step, at, committed: afterCommit } of images) {
      const logger = recordingLogger();
      const recovered = open(at, config, manualClock(T0), logger);
      expect(
        readdirSync(at).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap')),
        step,
      ).toEqual([]);
      expect(recovered.logEndOffset, step).toBe(leo);
      expect(image(readAll(recovered)), `crash before ${step}`).toEqual(afterCommit ? after : before);
      // Opening completed the committed swap, or discarded the uncommitted output.
      const warned = logger.warnings().join('\n');
      if (afterCommit && step !== 'done') expect(warned, step).toContain('completed the swap');
      if (!afterCommit) expect(warned, step).toMatch(/deleting .*\.cleaned|deleting stray/);
      recovered.appendAsLeader(encodeRecordBatch([rec('y', 'after-crash')]), 1);
      expect(image(readAll(recovered)).at(-1)).toBe(`${leo}:y=after-crash`);
      recovered.close();
      // And the reopened log is still whole.
      const again = open(at, config);
      expect(again.logEndOffset).toBe(leo + 1n);
    }
  });
});

describe('cleaning racing with the log', () => {
  function fill(log: Log): Record[] {
    for (let i = 0; i < 30; i++) log.appendAsLeader(encodeRecordBatch([rec(`k${i % 4}`, `v${i}`)]), 0);
    return readAll(log);
  }
  const config: LogConfig = { ...COMPACT, segmentBytes: 300 };
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('appends during a cleaning land in the active segment and survive it', async () => {
    const log = open(dir, config);
    const before = fill(log);
    const end = log.segments.at(-1)!.baseOffset;
    const running = clean(log, T0, { yieldEveryBytes: 1 });
    await nextTurn();
    const appended = log.appendAsLeader(encodeRecordBatch([rec('k0', 'during')]), 0).baseOffset;
    const result = await running;
    expect(result.outcome).toBe('cleaned');
    const after = readAll(log);
    expect(image(after).at(-1)).toBe(`${appended}:k0=during`);
    expect(image(after.filter((r) => r.offset < appended))).toEqual(expectedAfterCleaning(before, end));
  });

  it('a truncation during a cleaning aborts it: nothing swapped, no files left, the truncated log intact', async () => {
    const log = open(dir, config);
    const before = fill(log);
    const running = clean(log, T0, { yieldEveryBytes: 1 });
    await nextTurn();
    log.truncateTo(12n);
    const result = await running;
    expect(result.outcome).toBe('aborted');
    expect(readdirSync(dir).filter((n) => n.includes('.cleaned') || n.includes('.swap'))).toEqual([]);
    expect(image(readAll(log))).toEqual(image(before.filter((r) => r.offset < log.logEndOffset)));
    expect(log.logEndOffset).toBeLessThanOrEqual(12n);
  });

  it('retention deleting a segment being cleaned makes the swap refuse', async () => {
    const clock = manualClock(T0);
    const log = open(dir, { ...config, cleanupPolicy: 'compact,delete', retentionMs: 1_000 }, clock);
    const before = fill(log);
    let deleted = 0;
    const result = await clean(log, T0, {
      onSwapStep: () => undefined,
      yieldEveryBytes: 1,
      shouldStop: () => {
        if (deleted === 0) {
          clock.now = T0 + 10 * DAY;
          deleted = log.deleteRetentionSegments();
        }
        return false;
      },
    });
    expect(deleted).toBeGreaterThan(0);
    expect(result.outcome).toBe('aborted');
    expect(readdirSync(dir).filter((n) => n.includes('.cleaned') || n.includes('.swap'))).toEqual([]);
    expect(image(readAll(log))).toEqual(image(before.filter((r) => r.offset >= log.logStartOffset)));
  });

  it('a closed log aborts the cleaning', async () => {
    const log = open(dir, config);
    fill(log);
    const running = clean(log, T0, { yieldEveryBytes: 1 });
    await nextTurn();
    log.close();
    expect((await running).outcome).toBe('aborted');
  });
});

describe('replicas of a compacted log', () => {
  /** What a follower does: fetch from its log end offset and append verbatim, until caught up. */
  function catchUp(follower: Log, leader: Log, maxBytes = 200): void {
    for (let i = 0; i < 1_000 && follower.logEndOffset < leader.logEndOffset; i++) {
      const { records } = leader.read(follower.logEndOffset, maxBytes);
      if (records.length === 0) break;
      follower.appendAsFollower(records);
    }
    expect(follower.logEndOffset).toBe(leader.logEndOffset);
  }

  it('a follower fetching from a compacted leader gets its records at their offsets, gaps included', async () => {
    const leader = open(join(dir, 'leader'), { ...COMPACT, segmentBytes: 300 });
    for (let i = 0; i < 40; i++) leader.appendAsLeader(encodeRecordBatch([rec(`k${i % 6}`, `v${i}`)]), i < 20 ? 0 : 1);
    await clean(leader);
    const follower = open(join(dir, 'follower'), { ...COMPACT, segmentBytes: 300 });
    catchUp(follower, leader);
    expect(image(readAll(follower))).toEqual(image(readAll(leader)));
    expect(follower.latestEpoch).toBe(leader.latestEpoch);
  });

  it('a follower that compacted on its own truncates inside a cleaned segment and fetches back to the leader', async () => {
    const leader = open(join(dir, 'leader'), { ...COMPACT, segmentBytes: 300 });
    const follower = open(join(dir, 'follower'), { ...COMPACT, segmentBytes: 300 });
    for (let i = 0; i < 40; i++) leader.appendAsLeader(encodeRecordBatch([rec(`k${i % 6}`, `v${i}`)]), 0);
    catchUp(follower, leader);
    await clean(follower);
    const cleanedEnd = readCleanerCheckpoint(follower.dir)!.firstDirtyOffset;
    expect(cleanedEnd).toBeGreaterThan(20n);

    // Truncate inside the cleaned region, at an offset that is now a gap on the follower.
    const kept = new Set(readAll(follower).map((r) => r.offset));
    const target = [...Array(Number(cleanedEnd)).keys()].map(BigInt).find((o) => o > 10n && !kept.has(o))!;
    follower.truncateTo(target);
    expect(follower.logEndOffset).toBeLessThanOrEqual(target);
    // The cleaner checkpoint came down with it.
    expect(readCleanerCheckpoint(follower.dir)!.firstDirtyOffset).toBe(follower.logEndOffset);
    catchUp(follower, leader);
    const leaderRecords = new Map(readAll(leader).map((r) => [r.offset, image([r])[0]]));
    for (const r of readAll(follower)) expect(image([r])[0]).toBe(leaderRecords.get(r.offset));
    expect(
      readAll(follower)
        .filter((r) => r.offset >= target)
        .map((r) => image([r])[0]),
    ).toEqual(
      readAll(leader)
        .filter((r) => r.offset >= target)
        .map((r) => image([r])[0]),
    );
    // And it cleans again afterwards.
    expect((await clean(follower)).outcome).toBe('cleaned');
  });
});

describe('LogCleaner', () => {
  function timers(clock: ManualClock) {
    return {
      now: () => clock.now,
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
    };
  }

  it('takes the filthiest compacted log, leaves delete-policy logs alone, and starts cleaning a log altered to compact', async () => {
    const clock = manualClock(T0);
    const a = open(join(dir, 'a'), { ...COMPACT, segmentBytes: 50 }, clock);
    const b = open(join(dir, 'b'), { ...COMPACT, cleanupPolicy: 'delete', segmentBytes: 50 }, clock);
    for (const log of [a, b]) for (let i = 0; i < 6; i++) log.appendAsLeader(encodeRecordBatch([rec(`k${i % 2}`, `v${i}`)]), 0);
    const cleaner = new LogCleaner(
      { enabled: true, backoffMs: 60_000, dedupeBufferBytes: 1 << 20, ioBufferBytes: 1 << 16, yieldEveryBytes: 1 << 16 },
      {
        timers: timers(clock),
        logger: recordingLogger(),
        logs: () => [a, b].map((log, i) => ({ key: `t-${i}`, log, highWatermark: () => log.logEndOffset })),
      },
    );
    const first = await cleaner.runOnce();
    expect(first?.key).toBe('t-0');
    expect(first?.result.outcome).toBe('cleaned');
    // a is clean now, b is not compacted: nothing to do.
    expect(await cleaner.runOnce()).toBeUndefined();
    const bBefore = readAll(b).length;

    b.updateConfig({ ...COMPACT, segmentBytes: 50 });
    const second = await cleaner.runOnce();
    expect(second?.key).toBe('t-1');
    expect(readAll(b).length).toBeLessThan(bBefore);
    await cleaner.shutdown();
  });

  it('runs in the background on its timer and stops on shutdown', async () => {
    const clock = manualClock(T0);
    const log = open(dir, { ...COMPACT, segmentBytes: 50 }, clock);
    for (let i = 0; i < 8; i++) log.appendAsLeader(encodeRecordBatch([rec(`k${i % 2}`, `v${i}`)]), 0);
    const cleaner = new LogCleaner(
      { enabled: true, backoffMs: 10, dedupeBufferBytes: 1 << 20, ioBufferBytes: 1 << 16, yieldEveryBytes: 1 << 16 },
      {
        timers: timers(clock),
        logger: recordingLogger(),
        logs: () => [{ key: 't-0', log, highWatermark: () => log.logEndOffset }],
      },
    );
    cleaner.start();
    await waitFor('a background cleaner pass', () => readCleanerCheckpoint(log.dir), 10_000);
    expect(readCleanerCheckpoint(log.dir)?.firstDirtyOffset).toBe(7n);
    await cleaner.shutdown();
    expect(image(readAll(log))).toEqual(['5:k1=v5', '6:k0=v6', '7:k1=v7']);
  });

  it('a map smaller than the dirty section cleans in several passes, each ending at a batch boundary', async () => {
    const log = open(dir, { ...COMPACT, segmentBytes: 100_000 });
    for (let i = 0; i < 40; i++) log.appendAsLeader(encodeRecordBatch([rec(`key-${i % 10}`, `v${i}`)]), 0);
    log.roll();
    log.appendAsLeader(encodeRecordBatch([rec('z', 'z')]), 0);
    const before = readAll(log);
    // Room for about 3 keys per pass.
    const first = await clean(log, T0, { dedupeBufferBytes: 300 });
    expect(first.endOffset).toBeGreaterThan(0n);
    expect(first.endOffset).toBeLessThan(40n);
    let passes = 1;
    while (readCleanerCheckpoint(log.dir)!.firstDirtyOffset < 40n && passes < 50) {
      await clean(log, T0, { dedupeBufferBytes: 300 });
      passes++;
    }
    expect(passes).toBeGreaterThan(2);
    expect(image(readAll(log))).toEqual(expectedAfterCleaning(before, 40n));
  });
});
