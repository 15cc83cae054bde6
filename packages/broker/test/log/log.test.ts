import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { SamsaProtocolError, decodeRecords, encodeRecordBatch, readBatchHeader, verifyBatchCrc } from '@samsa/protocol';
import { Log } from '../../src/log/index.js';
import { appendSingles, batchOf, manualClock, offsetsOf, openLog, readAll, tempDir, valuesOf } from './helpers.js';

let dir: string;
let cleanup: () => void;
const logs: Log[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  cleanup();
});

function open(config: Parameters<typeof openLog>[1] = {}, clock = manualClock()): Log {
  const log = openLog(dir, config, clock);
  logs.push(log);
  return log;
}

function reopen(log: Log, config: Parameters<typeof openLog>[1] = {}, clock = manualClock()): Log {
  log.close();
  logs.splice(logs.indexOf(log), 1);
  return open(config, clock);
}

function errorOf(fn: () => unknown): SamsaProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SamsaProtocolError);
    return err as SamsaProtocolError;
  }
  throw new Error('expected an error');
}

const THREE = batchOf(3).length; // bytes of a 3-record batch from batchOf

describe('append and read', () => {
  it('starts empty at offset 0 with one empty segment', () => {
    const log = open();
    expect(log.logStartOffset).toBe(0n);
    expect(log.logEndOffset).toBe(0n);
    expect(log.size).toBe(0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n]);
    expect(existsSync(join(dir, '00000000000000000000.log'))).toBe(true);
    expect(log.read(0n, 1000)).toEqual({ records: Buffer.alloc(0) });
  });

  it('assigns consecutive offsets and stamps baseOffset and leader epoch in place, keeping the CRC valid', () => {
    const log = open();
    const a = batchOf(3, 'a');
    const b = batchOf(2, 'b');
    expect(log.appendAsLeader(a, 4)).toEqual({ baseOffset: 0n, lastOffset: 2n, logAppendTime: -1n });
    expect(log.appendAsLeader(b, 4)).toEqual({ baseOffset: 3n, lastOffset: 4n, logAppendTime: -1n });
    expect(readBatchHeader(b).baseOffset).toBe(3n);
    expect(readBatchHeader(b).partitionLeaderEpoch).toBe(4);
    expect(verifyBatchCrc(b)).toBe(true);
    expect(log.logEndOffset).toBe(5n);
    expect(log.size).toBe(a.length + b.length);

    const { records, firstOffset } = log.read(0n, 1 << 20);
    expect(firstOffset).toBe(0n);
    expect(records).toEqual(Buffer.concat([a, b])); // verbatim
    expect(valuesOf(records)).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1']);
    expect(offsetsOf(records)).toEqual([0n, 1n, 2n, 3n, 4n]);
  });

  it('round-trips many batches across many small segments', () => {
    const log = open({ segmentBytes: 1000, indexIntervalBytes: 150 });
    const offsets = appendSingles(log, 300);
    expect(offsets).toEqual(Array.from({ length: 300 }, (_, i) => BigInt(i)));
    const segments = log.segments;
    expect(segments.length).toBeGreaterThan(10);
    for (let i = 0; i < segments.length; i++) {
      expect(segments[i]!.sizeInBytes).toBeLessThanOrEqual(1000);
      if (i > 0) expect(segments[i]!.baseOffset).toBe(segments[i - 1]!.nextOffset);
    }
    const names = readdirSync(dir).filter((n) => n.endsWith('.log'));
    expect(names).toEqual(segments.map((s) => `${s.baseOffset.toString().padStart(20, '0')}.log`));
    const all = readAll(log);
    expect(all.map((r) => r.offset)).toEqual(offsets);
    expect(all.map((r) => r.value!.toString())).toEqual(offsets.map((o) => `r${o}`));
    expect(all.map((r) => r.key!.toString())).toEqual(offsets.map((o) => `k${o}`));

    const reopened = reopen(log, { segmentBytes: 1000, indexIntervalBytes: 150 });
    expect(reopened.logEndOffset).toBe(300n);
    expect(readAll(reopened).map((r) => r.value!.toString())).toEqual(offsets.map((o) => `r${o}`));
    expect(reopened.appendAsLeader(batchOf(1), 0).baseOffset).toBe(300n);
  });

  it('never returns bytes from two segments in one read', () => {
    const log = open({ segmentBytes: 3 * THREE });
    for (let i = 0; i < 7; i++) log.appendAsLeader(batchOf(3), 0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 9n, 18n]);
    expect(offsetsOf(log.read(0n, 1 << 20).records)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    expect(log.read(9n, 1 << 20).firstOffset).toBe(9n);
  });

  it('finds the batch holding any offset: at index entries, between them, first and last of each segment', () => {
    const config = { segmentBytes: 12 * THREE, indexIntervalBytes: 2 * THREE };
    let log = open(config);
    for (let i = 0; i < 40; i++) log.appendAsLeader(batchOf(3, `b${i}`), 0);
    const check = (l: Log): void => {
      // Index entries exist (so lookups really use them), and every offset resolves to its batch.
      const indexed = l.segments.filter((s) => statSync(s.logPath.replace(/\.log$/, '.index')).size > 0);
      expect(indexed.length).toBeGreaterThan(0);
      for (let o = 0n; o < l.logEndOffset; o++) {
        const { records, firstOffset } = l.read(o, 1);
        const batchBase = (o / 3n) * 3n;
        expect(firstOffset).toBe(batchBase);
        expect(offsetsOf(records)).toEqual([batchBase, batchBase + 1n, batchBase + 2n]);
        expect(valuesOf(records)[0]).toBe(`b${batchBase / 3n}-0`);
      }
    };
    for (const s of log.segments) log.read(s.baseOffset, 1); // touch every segment
    log.close(); // persists index entries
    logs.splice(0);
    log = open(config);
    check(log);
    // Check the entries on disk point at batch starts holding the offsets they name.
    for (const s of log.segments) {
      const index = readFileSync(s.logPath.replace(/\.log$/, '.index'));
      for (let at = 0; at < index.length; at += 8) {
        const offset = s.baseOffset + BigInt(index.readInt32BE(at));
        const position = index.readInt32BE(at + 4);
        const bytes = readFileSync(s.logPath);
        expect(readBatchHeader(bytes, position).baseOffset).toBe(offset);
        expect(log.read(offset, 1).firstOffset).toBe(offset);
      }
    }
  });

  it('honours maxBytes with whole batches, and returns one oversized batch only when minOneBatch', () => {
    const log = open();
    for (let i = 0; i < 4; i++) log.appendAsLeader(batchOf(3), 0);
    expect(offsetsOf(log.read(0n, 2 * THREE).records)).toHaveLength(6);
    expect(offsetsOf(log.read(0n, 2 * THREE - 1).records)).toHaveLength(3);
    expect(offsetsOf(log.read(0n, 2 * THREE + 60).records)).toHaveLength(6);
    expect(log.read(0n, 1).records.length).toBe(THREE); // KIP-74
    expect(log.read(0n, 0).records.length).toBe(THREE);
    expect(log.read(0n, 1, undefined, false)).toEqual({ records: Buffer.alloc(0) });
    expect(log.read(4n, 1, undefined, true).firstOffset).toBe(3n);
  });

  it('honours maxOffset as an exclusive bound on whole batches', () => {
    const log = open();
    for (let i = 0; i < 4; i++) log.appendAsLeader(batchOf(3), 0); // 0-2 3-5 6-8 9-11
    expect(offsetsOf(log.read(0n, 1 << 20, 6n).records)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    expect(offsetsOf(log.read(0n, 1 << 20, 5n).records)).toEqual([0n, 1n, 2n]); // 3-5 reaches 5
    expect(log.read(3n, 1 << 20, 5n)).toEqual({ records: Buffer.alloc(0) });
    expect(log.read(6n, 1 << 20, 6n)).toEqual({ records: Buffer.alloc(0) });
    expect(log.read(7n, 1 << 20, 6n)).toEqual({ records: Buffer.alloc(0) });
    expect(offsetsOf(log.read(4n, 1 << 20, 100n).records)).toHaveLength(9);
    expect(log.read(12n, 1 << 20)).toEqual({ records: Buffer.alloc(0) }); // at the log end
  });

  it('answers OFFSET_OUT_OF_RANGE below the log start and above the log end, naming both bounds', () => {
    const log = open({ segmentBytes: 2 * THREE });
    for (let i = 0; i < 6; i++) log.appendAsLeader(batchOf(3), 0);
    log.advanceLogStartOffset(7n);
    const above = errorOf(() => log.read(19n, 1000));
    expect(above.errorName).toBe('OFFSET_OUT_OF_RANGE');
    expect(above.message).toContain('19');
    expect(above.message).toContain('[7, 18)');
    const below = errorOf(() => log.read(6n, 1000));
    expect(below.errorName).toBe('OFFSET_OUT_OF_RANGE');
    expect(below.message).toContain('log start offset 7');
    expect(below.message).toContain('log end offset 18');
    expect(errorOf(() => log.read(-1n, 1000)).errorName).toBe('OFFSET_OUT_OF_RANGE');
    // The batch holding the log start offset is returned whole, as Kafka does.
    expect(log.read(7n, 1).firstOffset).toBe(6n);
  });

  it('rejects a batch with a bad CRC as CORRUPT_MESSAGE and writes nothing', () => {
    const log = open();
    log.appendAsLeader(batchOf(2), 0);
    const bad = batchOf(3);
    bad[bad.length - 1]! ^= 0xff;
    const before = Buffer.from(bad);
    const err = errorOf(() => log.appendAsLeader(bad, 0));
    expect(err.errorName).toBe('CORRUPT_MESSAGE');
    expect(err.message).toMatch(/CRC/);
    expect(bad).toEqual(before); // not stamped
    expect(log.logEndOffset).toBe(2n);
    expect(statSync(log.segments[0]!.logPath).size).toBe(log.size);
    expect(errorOf(() => log.appendAsLeader(Buffer.alloc(30), 0)).errorName).toBe('CORRUPT_MESSAGE');
    expect(errorOf(() => log.appendAsLeader(Buffer.concat([batchOf(1), batchOf(1)]), 0)).errorName).toBe('CORRUPT_MESSAGE');
    expect(log.logEndOffset).toBe(2n);
    expect(log.appendAsLeader(batchOf(1), 0).baseOffset).toBe(2n);
  });

  it('rejects a batch over maxMessageBytes as MESSAGE_TOO_LARGE and writes nothing', () => {
    const log = open({ maxMessageBytes: 200 });
    const big = batchOf(1, 'x', undefined, 300);
    const err = errorOf(() => log.appendAsLeader(big, 0));
    expect(err.errorName).toBe('MESSAGE_TOO_LARGE');
    expect(err.message).toContain(`${big.length} bytes`);
    expect(log.logEndOffset).toBe(0n);
    expect(log.size).toBe(0);
  });

  it('rejects a bad leader epoch and bad configs', () => {
    const log = open();
    expect(() => log.appendAsLeader(batchOf(1), -1)).toThrow(RangeError);
    expect(() => openLog(join(dir, 'other'), { segmentBytes: 2 ** 31 })).toThrow(/segmentBytes/);
    expect(() => openLog(join(dir, 'other'), { retentionMs: -2 })).toThrow(/retentionMs/);
  });

  it('reports LogAppendTime batches with their timestamp', async () => {
    const { setLogAppendTime } = await import('@samsa/protocol');
    const log = open();
    const batch = batchOf(2);
    setLogAppendTime(batch, 0, batch.length, 1234n);
    expect(log.appendAsLeader(batch, 0).logAppendTime).toBe(1234n);
  });

  it('refuses every operation after close', () => {
    const log = openLog(dir);
    log.close();
    log.close(); // idempotent
    expect(errorOf(() => log.appendAsLeader(batchOf(1), 0)).errorName).toBe('KAFKA_STORAGE_ERROR');
    expect(errorOf(() => log.read(0n, 10)).errorName).toBe('KAFKA_STORAGE_ERROR');
  });
});

describe('rolling segments', () => {
  it('rolls before an append that would pass segmentBytes, and puts an oversized batch alone in a segment', () => {
    const log = open({ segmentBytes: 3 * THREE });
    for (let i = 0; i < 3; i++) log.appendAsLeader(batchOf(3), 0);
    expect(log.segments).toHaveLength(1);
    log.appendAsLeader(batchOf(3), 0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 9n]);
    const huge = batchOf(1, 'h', undefined, 4 * THREE);
    log.appendAsLeader(huge, 0);
    log.appendAsLeader(batchOf(3), 0);
    expect(log.segments.map((s) => [s.baseOffset, s.sizeInBytes])).toEqual([
      [0n, 3 * THREE],
      [9n, THREE],
      [12n, huge.length],
      [13n, THREE],
    ]);
  });

  it('rolls by segmentMs measured from the first batch timestamp to the incoming one', () => {
    const log = open({ segmentMs: 1000 });
    const t = 1_700_000_000_000n;
    log.appendAsLeader(batchOf(1, 'a', t), 0);
    log.appendAsLeader(batchOf(1, 'b', t + 1000n), 0);
    expect(log.segments).toHaveLength(1);
    log.appendAsLeader(batchOf(1, 'c', t + 1001n), 0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 2n]);
  });

  it('rolls by segmentMs from the creation time on the clock when batches carry no timestamp', () => {
    const clock = manualClock(50_000);
    const log = open({ segmentMs: 1000 }, clock);
    log.appendAsLeader(batchOf(1, 'a', -1n), 0);
    clock.now += 1000;
    log.appendAsLeader(batchOf(1, 'b', -1n), 0);
    expect(log.segments).toHaveLength(1);
    clock.now += 1;
    log.appendAsLeader(batchOf(1, 'c', -1n), 0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 2n]);
  });

  it('does not roll an empty segment', () => {
    const log = open({ segmentBytes: 10 });
    log.roll();
    log.appendAsLeader(batchOf(1), 0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n]);
    log.roll();
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 1n]);
  });
});

describe('follower appends', () => {
  function leaderBatch(baseOffset: bigint, count: number, epoch: number, tag = 'f'): Buffer {
    const records = Array.from({ length: count }, (_, i) => ({
      value: Buffer.from(`${tag}${baseOffset + BigInt(i)}`),
      timestamp: 1000n + BigInt(i),
    }));
    return encodeRecordBatch(records, { baseOffset, partitionLeaderEpoch: epoch });
  }

  it('appends batches verbatim with their offsets and epochs, across a roll', () => {
    const log = open({ segmentBytes: 400 });
    const bytes = Buffer.concat([leaderBatch(0n, 3, 1), leaderBatch(3n, 2, 1), leaderBatch(5n, 4, 2)]);
    expect(log.appendAsFollower(bytes)).toEqual({ firstOffset: 0n, lastOffset: 8n });
    expect(log.logEndOffset).toBe(9n);
    expect(log.read(0n, 1 << 20).records).toEqual(bytes);
    expect(log.leaderEpochEntries).toEqual([
      { epoch: 1, startOffset: 0n },
      { epoch: 2, startOffset: 5n },
    ]);
    const more = Buffer.concat([leaderBatch(9n, 3, 2), leaderBatch(12n, 3, 2)]);
    log.appendAsFollower(more);
    expect(log.segments.length).toBeGreaterThan(1);
    expect(readAll(log).map((r) => r.value!.toString())).toEqual(Array.from({ length: 15 }, (_, i) => `f${i}`));
  });

  it('accepts a gap above the log end (compacted leader) but never offsets below it', () => {
    const log = open();
    log.appendAsFollower(leaderBatch(0n, 2, 0));
    log.appendAsFollower(leaderBatch(10n, 2, 0));
    expect(log.logEndOffset).toBe(12n);
    expect(log.read(5n, 1000).firstOffset).toBe(10n);
    const err = errorOf(() => log.appendAsFollower(leaderBatch(11n, 2, 0)));
    expect(err.errorName).toBe('INVALID_RECORD');
    expect(errorOf(() => log.appendAsFollower(Buffer.concat([leaderBatch(12n, 2, 0), leaderBatch(13n, 1, 0)]))).errorName).toBe(
      'INVALID_RECORD',
    );
    expect(log.logEndOffset).toBe(12n);
  });

  it('rejects a corrupt batch anywhere in the set and writes none of it', () => {
    const log = open();
    const good = leaderBatch(0n, 2, 0);
    const bad = leaderBatch(2n, 2, 0);
    bad[bad.length - 2]! ^= 1;
    expect(errorOf(() => log.appendAsFollower(Buffer.concat([good, bad]))).errorName).toBe('CORRUPT_MESSAGE');
    expect(log.logEndOffset).toBe(0n);
    expect(log.size).toBe(0);
  });

  it('ignores a partial batch at the end, like a fetch cut at max bytes', () => {
    const log = open();
    const a = leaderBatch(0n, 2, 0);
    const b = leaderBatch(2n, 2, 0);
    expect(log.appendAsFollower(Buffer.concat([a, b.subarray(0, 30)]))).toEqual({ firstOffset: 0n, lastOffset: 1n });
    expect(log.size).toBe(a.length);
    expect(log.appendAsFollower(Buffer.alloc(0))).toEqual({ firstOffset: 2n, lastOffset: 1n });
  });
});

describe('truncation', () => {
  it('truncateTo removes the batch holding the offset and everything after, across segments', () => {
    const T = batchOf(3, 't0').length;
    const log = open({ segmentBytes: 3 * T, indexIntervalBytes: T });
    for (let i = 0; i < 10; i++) log.appendAsLeader(batchOf(3, `t${i}`), i < 5 ? 0 : 1); // 30 offsets, epoch 1 from 15
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 9n, 18n, 27n]);
    expect(log.truncateTo(30n)).toBe(false);
    expect(log.truncateTo(13n)).toBe(true); // inside 12-14
    expect(log.logEndOffset).toBe(12n);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 9n]);
    expect(existsSync(join(dir, '00000000000000000018.log'))).toBe(false);
    expect(readAll(log).map((r) => r.offset)).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(i)));
    expect(log.leaderEpochEntries).toEqual([{ epoch: 0, startOffset: 0n }]);
    expect(log.appendAsLeader(batchOf(3, 'new'), 2).baseOffset).toBe(12n);
    expect(valuesOf(log.read(12n, 1000).records)).toEqual(['new-0', 'new-1', 'new-2']);
    expect(log.endOffsetForEpoch(0)).toEqual({ leaderEpoch: 0, endOffset: 12n });
    expect(log.endOffsetForEpoch(2)).toEqual({ leaderEpoch: 2, endOffset: 15n });

    const reopened = reopen(log, { segmentBytes: 3 * T, indexIntervalBytes: T });
    expect(reopened.logEndOffset).toBe(15n);
    expect(
      readAll(reopened)
        .map((r) => r.value!.toString())
        .slice(-3),
    ).toEqual(['new-0', 'new-1', 'new-2']);
  });

  it('truncateTo at a segment base empties that segment and keeps it active', () => {
    const log = open({ segmentBytes: 3 * THREE });
    for (let i = 0; i < 6; i++) log.appendAsLeader(batchOf(3), 0);
    log.truncateTo(9n);
    expect(log.segments.map((s) => [s.baseOffset, s.sizeInBytes])).toEqual([
      [0n, 3 * THREE],
      [9n, 0],
    ]);
    expect(log.appendAsLeader(batchOf(1), 0).baseOffset).toBe(9n);
  });

  it('lowers the recovery point with a truncation', async () => {
    const log = open();
    for (let i = 0; i < 4; i++) log.appendAsLeader(batchOf(3), 0);
    await log.flush();
    expect(log.recoveryPoint).toBe(12n);
    log.truncateTo(6n);
    expect(log.recoveryPoint).toBe(6n);
  });

  it('ends exactly at the last batch left when truncating into a gap of a segment loaded without a scan', () => {
    // Found by the model test: a segment loaded without a scan only knows the next segment's base as its end.
    const batch = (base: bigint): Buffer =>
      encodeRecordBatch([{ value: Buffer.from(`g${base}`) }], { baseOffset: base, partitionLeaderEpoch: 0 });
    const config = { segmentBytes: 2 * batch(0n).length };
    let log = open(config);
    log.appendAsFollower(batch(0n));
    log.appendAsFollower(batch(1n));
    log.appendAsFollower(batch(10n)); // rolls, and the new segment starts at the leader's offset, past the gap
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 10n]);
    log = reopen(log, config);
    expect(log.segments[0]!.nextOffset).toBe(10n); // an upper bound; the data ends at 2
    expect(log.truncateTo(5n)).toBe(true); // nothing in the first segment reaches 5
    expect(log.logEndOffset).toBe(2n);
    expect(log.segments.map((s) => [s.baseOffset, s.nextOffset])).toEqual([[0n, 2n]]);
    expect(log.appendAsLeader(batchOf(1), 0).baseOffset).toBe(2n);
    expect(readAll(log).map((r) => r.offset)).toEqual([0n, 1n, 2n]);
  });

  it('ends at the last batch left, not at the truncation target, when the target is in a gap', () => {
    const batch = (base: bigint): Buffer =>
      encodeRecordBatch([{ value: Buffer.from(`g${base}`) }], { baseOffset: base, partitionLeaderEpoch: 0 });
    let log = open();
    log.appendAsFollower(Buffer.concat([batch(0n), batch(1n), batch(10n)]));
    log.roll();
    log.appendAsFollower(batch(11n));
    log = reopen(log);
    expect(log.segments[0]!.nextOffset).toBe(11n); // an upper bound: the data ends at 11 only by chance of the layout
    expect(log.truncateTo(5n)).toBe(true);
    expect(log.logEndOffset).toBe(2n);
    const again = reopen(log);
    expect(again.logEndOffset).toBe(2n); // the same end after a restart: it comes from the data
  });

  it('truncateFullyAndStartAt empties the log and restarts numbering', () => {
    const log = open({ segmentBytes: 3 * THREE });
    for (let i = 0; i < 6; i++) log.appendAsLeader(batchOf(3), 3);
    log.truncateFullyAndStartAt(100n);
    expect(log.logStartOffset).toBe(100n);
    expect(log.logEndOffset).toBe(100n);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([100n]);
    expect(log.latestEpoch).toBeUndefined();
    expect(readdirSync(dir).filter((n) => n.endsWith('.log'))).toEqual(['00000000000000000100.log']);
    expect(log.appendAsLeader(batchOf(2), 4).baseOffset).toBe(100n);
    expect(errorOf(() => log.read(99n, 100)).errorName).toBe('OFFSET_OUT_OF_RANGE');
    const reopened = reopen(log, { segmentBytes: 3 * THREE });
    expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([100n, 102n]);
  });
});

describe('offsets by timestamp', () => {
  // Batch i holds offsets 3i..3i+2 with timestamps 1000+10i, +1, +2.
  function fill(log: Log, n: number): void {
    for (let i = 0; i < n; i++) log.appendAsLeader(batchOf(3, `ts${i}`, 1000n + 10n * BigInt(i)), 0);
  }

  it('finds the first record at or after a timestamp, to the record, across segments and after reopen', () => {
    const config = { segmentBytes: 4 * THREE, indexIntervalBytes: THREE };
    let log = open(config);
    fill(log, 20);
    const check = (l: Log): void => {
      expect(l.offsetForTimestamp(0n)).toEqual({ offset: 0n, timestamp: 1000n });
      expect(l.offsetForTimestamp(1000n)).toEqual({ offset: 0n, timestamp: 1000n });
      expect(l.offsetForTimestamp(1051n)).toEqual({ offset: 16n, timestamp: 1051n });
      expect(l.offsetForTimestamp(1053n)).toEqual({ offset: 18n, timestamp: 1060n });
      expect(l.offsetForTimestamp(1192n)).toEqual({ offset: 59n, timestamp: 1192n });
      expect(l.offsetForTimestamp(1193n)).toBeNull();
      for (let i = 0; i < 20; i++) {
        for (let j = 0; j < 3; j++) {
          const ts = 1000n + 10n * BigInt(i) + BigInt(j);
          expect(l.offsetForTimestamp(ts)?.offset).toBe(BigInt(3 * i + j));
        }
      }
      expect(l.offsetForTimestamp(-2n)).toEqual({ offset: l.logStartOffset, timestamp: -1n });
      expect(l.offsetForTimestamp(-1n)).toEqual({ offset: 60n, timestamp: -1n });
      expect(l.maxTimestampAndOffset()).toEqual({ offset: 59n, timestamp: 1192n });
    };
    check(log);
    log = reopen(log, config);
    check(log);
  });

  it('skips records below the log start offset', () => {
    const log = open({ segmentBytes: 4 * THREE });
    fill(log, 8);
    log.advanceLogStartOffset(4n);
    expect(log.offsetForTimestamp(0n)).toEqual({ offset: 4n, timestamp: 1011n });
  });

  it('uses the largest timestamp even when timestamps go backwards', () => {
    const log = open();
    log.appendAsLeader(batchOf(1, 'a', 5000n), 0);
    log.appendAsLeader(batchOf(1, 'b', 9000n), 0);
    log.appendAsLeader(batchOf(1, 'c', 7000n), 0);
    expect(log.offsetForTimestamp(6000n)).toEqual({ offset: 1n, timestamp: 9000n });
    expect(log.maxTimestampAndOffset()).toEqual({ offset: 1n, timestamp: 9000n });
    expect(open().maxTimestampAndOffset).toBeDefined();
  });
});

describe('flush and durability', () => {
  it('flush advances the recovery point and writes the offsets checkpoint', async () => {
    const log = open();
    for (let i = 0; i < 3; i++) log.appendAsLeader(batchOf(2), 0);
    expect(log.recoveryPoint).toBe(0n);
    await log.flush();
    expect(log.recoveryPoint).toBe(6n);
    expect(readFileSync(join(dir, 'log-offsets-checkpoint'), 'utf8')).toBe(
      '0\nrecovery-point 6\nlog-start-offset 0\nclean-shutdown false\n',
    );
  });

  it('flushes the old segment in the background after a roll', async () => {
    const log = open({ segmentBytes: 2 * THREE });
    for (let i = 0; i < 3; i++) log.appendAsLeader(batchOf(3), 0);
    await waitFor('the background flush of the rolled segment', () => log.recoveryPoint > 0n, 10_000);
    expect(log.recoveryPoint).toBe(6n);
  });

  it('merges flushes requested while one runs, and covers every caller', async () => {
    const log = open({ segmentBytes: THREE });
    for (let i = 0; i < 50; i++) log.appendAsLeader(batchOf(3), 0); // 49 rolls, each asking for a flush
    const flushes = [log.flush(), log.flush()];
    log.appendAsLeader(batchOf(3), 0);
    flushes.push(log.flush());
    await Promise.all(flushes);
    expect(log.recoveryPoint).toBe(153n);
  });

  it('rejects a flush after close', async () => {
    const log = openLog(dir);
    log.close();
    await expect(log.flush()).rejects.toThrow(/closed/);
  });

  it('starts a flush after flushIntervalMessages records', async () => {
    const log = open({ flushIntervalMessages: 5 });
    log.appendAsLeader(batchOf(3), 0);
    log.appendAsLeader(batchOf(3), 0);
    await waitFor('a flush after 5 messages', () => log.recoveryPoint > 0n, 10_000);
    expect(log.recoveryPoint).toBe(6n);
  });

  it('with fsyncEveryAppend, appends still work', () => {
    const log = open({ fsyncEveryAppend: true });
    log.appendAsLeader(batchOf(3), 0);
    expect(readAll(log).map((r) => r.offset)).toEqual([0n, 1n, 2n]);
  });

  it('close marks a clean shutdown that the next open clears durably', () => {
    const log = open();
    log.appendAsLeader(batchOf(3), 0);
    log.close();
    logs.splice(0);
    expect(readFileSync(join(dir, 'log-offsets-checkpoint'), 'utf8')).toContain('clean-shutdown true');
    expect(readFileSync(join(dir, 'log-offsets-checkpoint'), 'utf8')).toContain('recovery-point 3');
    const again = open();
    expect(readFileSync(join(dir, 'log-offsets-checkpoint'), 'utf8')).toContain('clean-shutdown false');
    expect(again.logEndOffset).toBe(3n);
    expect(decodeRecords(again.read(0n, 1000).records)).toHaveLength(3);
  });
});
