import { cpSync, existsSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SamsaProtocolError } from '@samsa/protocol';
import { Log } from '../../src/log/index.js';
import { batchOf, manualClock, offsetsOf, openLog, readAll, recordingLogger, tempDir, type RecordingLogger } from './helpers.js';

let dir: string;
let cleanup: () => void;
const cleanups: (() => void)[] = [];
const logs: Log[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  for (const c of cleanups.splice(0)) c();
  cleanup();
});

// Size of every batch fillTen writes (values b0-0 .. b9-2).
const THREE = batchOf(3, 'b0').length;

function open(at: string, config = {}, logger?: RecordingLogger): Log {
  const log = openLog(at, config, manualClock(), logger);
  logs.push(log);
  return log;
}

function closeLog(log: Log): void {
  log.close();
  logs.splice(logs.indexOf(log), 1);
}

/**
 * What a crash leaves: a copy of the directory as the page cache holds it right now (the log is
 * still open, so nothing is marked clean and nothing has been fsynced).
 */
function crashImage(): string {
  const image = tempDir('samsa-crash-');
  cleanups.push(image.cleanup);
  cpSync(dir, image.dir, { recursive: true });
  return image.dir;
}

function segmentFile(at: string, base: bigint, suffix = '.log'): string {
  return join(at, base.toString().padStart(20, '0') + suffix);
}

function flipByte(path: string, position: number): void {
  const bytes = readFileSync(path);
  bytes[position]! ^= 0x5a;
  writeFileSync(path, bytes);
}

function storageErrorOf(fn: () => unknown): SamsaProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SamsaProtocolError);
    expect((err as SamsaProtocolError).errorName).toBe('KAFKA_STORAGE_ERROR');
    return err as SamsaProtocolError;
  }
  throw new Error('expected the log to refuse to load');
}

function fillTen(config = {}): Log {
  const log = open(dir, config);
  for (let i = 0; i < 10; i++) log.appendAsLeader(batchOf(3, `b${i}`), 0);
  return log;
}

describe('recovery of a torn tail', () => {
  it('cuts a batch torn mid-way in the last segment and continues appending from the last whole batch', () => {
    fillTen();
    const image = crashImage();
    const file = segmentFile(image, 0n);
    truncateSync(file, 10 * THREE - 10);
    const logger = recordingLogger();
    const log = open(image, {}, logger);
    expect(log.logEndOffset).toBe(27n);
    expect(statSync(file).size).toBe(9 * THREE);
    expect(logger.warnings().some((w) => w.includes('torn tail') && w.includes(file) && w.includes(`byte ${9 * THREE}`))).toBe(true);
    expect(readAll(log).map((r) => r.offset)).toEqual(Array.from({ length: 27 }, (_, i) => BigInt(i)));
    expect(log.appendAsLeader(batchOf(3, 'after'), 1).baseOffset).toBe(27n);
    closeLog(log);
    const again = open(image);
    expect(again.logEndOffset).toBe(30n);
    expect(
      readAll(again)
        .slice(-3)
        .map((r) => r.value!.toString()),
    ).toEqual(['after-0', 'after-1', 'after-2']);
  });

  it('cuts a tail torn inside a batch header', () => {
    fillTen();
    const image = crashImage();
    truncateSync(segmentFile(image, 0n), 9 * THREE + 7);
    expect(open(image).logEndOffset).toBe(27n);
  });

  it('cuts a final batch whose CRC does not match', () => {
    fillTen();
    const image = crashImage();
    flipByte(segmentFile(image, 0n), 10 * THREE - 1);
    const log = open(image);
    expect(log.logEndOffset).toBe(27n);
    expect(statSync(segmentFile(image, 0n)).size).toBe(9 * THREE);
  });

  it('cuts zeros after the last batch (space allocated but never written)', () => {
    fillTen();
    const image = crashImage();
    appendFileSync(segmentFile(image, 0n), Buffer.alloc(5000));
    const log = open(image);
    expect(log.logEndOffset).toBe(30n);
    expect(statSync(segmentFile(image, 0n)).size).toBe(10 * THREE);
  });

  it('rebuilds the indexes of recovered segments', () => {
    const config = { indexIntervalBytes: THREE };
    const log = fillTen(config);
    closeLog(log);
    const index = readFileSync(segmentFile(dir, 0n, '.index'));
    const timeIndex = readFileSync(segmentFile(dir, 0n, '.timeindex'));
    expect(index.length).toBeGreaterThan(0);
    // Reopen unclean with a stale recovery point and empty index files.
    writeFileSync(join(dir, 'log-offsets-checkpoint'), '0\nrecovery-point 0\nlog-start-offset 0\nclean-shutdown false\n');
    writeFileSync(segmentFile(dir, 0n, '.index'), Buffer.alloc(0));
    writeFileSync(segmentFile(dir, 0n, '.timeindex'), Buffer.alloc(0));
    const reopened = open(dir, config);
    expect(reopened.logEndOffset).toBe(30n);
    closeLog(reopened);
    expect(readFileSync(segmentFile(dir, 0n, '.index'))).toEqual(index);
    expect(readFileSync(segmentFile(dir, 0n, '.timeindex'))).toEqual(timeIndex);
  });

  it('cuts a torn non-last segment when every later segment is empty (a crash right after a roll), deleting those', () => {
    const log = open(dir);
    for (let i = 0; i < 3; i++) log.appendAsLeader(batchOf(3, 'b0'), 0);
    log.roll();
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 9n]);
    const image = crashImage();
    truncateSync(segmentFile(image, 0n), 3 * THREE - 5);
    const recovered = open(image);
    expect(recovered.logEndOffset).toBe(6n);
    expect(recovered.segments.map((s) => s.baseOffset)).toEqual([0n]);
    expect(existsSync(segmentFile(image, 9n))).toBe(false);
    expect(recovered.appendAsLeader(batchOf(1), 0).baseOffset).toBe(6n);
  });

  it('recovers only from the segment holding the recovery point; older segments are trusted', async () => {
    const log = open(dir, { segmentBytes: 3 * THREE });
    for (let i = 0; i < 6; i++) log.appendAsLeader(batchOf(3, 'b0'), 0);
    await log.flush();
    expect(log.recoveryPoint).toBe(18n);
    for (let i = 0; i < 2; i++) log.appendAsLeader(batchOf(3, 'b0'), 0);
    const image = crashImage();
    // Damage in a flushed, older segment is not rescanned (it would be found by consumers' CRC checks).
    flipByte(segmentFile(image, 0n), THREE + 70);
    truncateSync(segmentFile(image, 18n), 2 * THREE - 1);
    const recovered = open(image, { segmentBytes: 3 * THREE });
    expect(recovered.logEndOffset).toBe(21n);
    expect(recovered.recoveryPoint).toBe(18n);
  });
});

describe('corruption that recovery refuses to repair', () => {
  it('refuses a bad batch in the middle of the last segment, naming the file and byte position', () => {
    fillTen();
    const image = crashImage();
    const file = segmentFile(image, 0n);
    flipByte(file, 3 * THREE + 70); // inside batch 3's records
    const err = storageErrorOf(() => open(image));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`byte position ${3 * THREE}`);
    expect(err.message).toMatch(/CRC/);
    expect(statSync(file).size).toBe(10 * THREE); // nothing was cut
  });

  it('refuses a garbled batch header followed by valid batches', () => {
    fillTen();
    const image = crashImage();
    const file = segmentFile(image, 0n);
    flipByte(file, 4 * THREE + 16); // magic of batch 4
    const err = storageErrorOf(() => open(image));
    expect(err.message).toContain(`byte position ${4 * THREE}`);
    expect(err.message).toContain(`valid batch at byte ${5 * THREE}`);
  });

  it('refuses a bad batch in a segment that is followed by a non-empty segment', () => {
    const log = open(dir, { segmentBytes: 3 * THREE });
    for (let i = 0; i < 9; i++) log.appendAsLeader(batchOf(3, 'b0'), 0);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0n, 9n, 18n]);
    const image = crashImage();
    const file = segmentFile(image, 0n);
    flipByte(file, 3 * THREE - 3); // the last batch of the first segment
    const err = storageErrorOf(() => open(image, { segmentBytes: 3 * THREE }));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`byte position ${2 * THREE}`);
    expect(err.message).toContain(segmentFile(image, 9n));
  });

  it('refuses batches whose offsets go backwards', () => {
    const log = open(dir);
    log.appendAsLeader(batchOf(3, 'b0'), 0);
    log.appendAsLeader(batchOf(3, 'b0'), 0);
    log.appendAsLeader(batchOf(3, 'b0'), 0);
    const image = crashImage();
    const file = segmentFile(image, 0n);
    const bytes = readFileSync(file);
    bytes.writeBigInt64BE(1n, THREE); // batch 1 claims base offset 1 (outside the CRC)
    writeFileSync(file, bytes);
    const err = storageErrorOf(() => open(image));
    expect(err.message).toContain(`byte position ${THREE}`);
    expect(err.message).toMatch(/not above the previous last offset 2/);
  });
});

describe('index files', () => {
  it('rebuilds missing index files of a cleanly closed log, identical to the originals', () => {
    const config = { segmentBytes: 4 * THREE, indexIntervalBytes: THREE };
    const log = fillTen(config);
    closeLog(log);
    const originals = readdirSync(dir)
      .filter((n) => n.endsWith('index'))
      .map((n) => [n, readFileSync(join(dir, n))] as const);
    expect(originals.length).toBe(6);
    for (const [name] of originals) unlinkSync(join(dir, name));
    const logger = recordingLogger();
    const reopened = open(dir, config, logger);
    expect(logger.warnings().filter((w) => w.includes('missing')).length).toBe(3);
    expect(readAll(reopened).map((r) => r.offset)).toHaveLength(30);
    expect(reopened.offsetForTimestamp(1_700_000_000_001n)?.offset).toBe(1n);
    closeLog(reopened);
    for (const [name, bytes] of originals) expect(readFileSync(join(dir, name)), name).toEqual(bytes);
  });

  it('rebuilds an index file that is not a whole number of entries', () => {
    const config = { indexIntervalBytes: THREE };
    const log = fillTen(config);
    log.roll();
    closeLog(log);
    const path = segmentFile(dir, 0n, '.index');
    const original = readFileSync(path);
    writeFileSync(path, original.subarray(0, 7));
    const logger = recordingLogger();
    const reopened = open(dir, config, logger);
    expect(logger.warnings().some((w) => w.includes('not a multiple'))).toBe(true);
    expect(offsetsOf(reopened.read(20n, 1).records)).toEqual([18n, 19n, 20n]);
    closeLog(reopened);
    expect(readFileSync(path)).toEqual(original);
  });

  it('rebuilds an index whose entries are out of order when it is first used', () => {
    const config = { indexIntervalBytes: THREE };
    const log = fillTen(config);
    log.roll();
    closeLog(log);
    const path = segmentFile(dir, 0n, '.index');
    const original = readFileSync(path);
    expect(original.length).toBeGreaterThanOrEqual(16);
    const swapped = Buffer.from(original);
    original.copy(swapped, 0, 8, 16);
    original.copy(swapped, 8, 0, 8);
    writeFileSync(path, swapped);
    const logger = recordingLogger();
    const reopened = open(dir, config, logger);
    for (let o = 0n; o < 30n; o++) expect(reopened.read(o, 1).firstOffset).toBe((o / 3n) * 3n);
    expect(logger.warnings().some((w) => w.includes('out of order') && w.includes('rebuilding'))).toBe(true);
    closeLog(reopened);
    expect(readFileSync(path)).toEqual(original);
  });

  it('rebuilds a time index whose last entry points before the segment', () => {
    const log = fillTen();
    log.roll();
    closeLog(log);
    const path = segmentFile(dir, 0n, '.timeindex');
    const original = readFileSync(path);
    const bad = Buffer.from(original);
    bad.writeInt32BE(-5, bad.length - 4);
    writeFileSync(path, bad);
    const reopened = open(dir);
    // Every batch has the same timestamps: the first record carrying the largest one wins.
    expect(reopened.maxTimestampAndOffset()).toEqual({ offset: 2n, timestamp: 1_700_000_000_002n });
    closeLog(reopened);
    expect(readFileSync(path)).toEqual(original);
  });

  it('deletes orphan index files and leftovers of interrupted atomic writes', () => {
    const log = fillTen();
    closeLog(log);
    writeFileSync(segmentFile(dir, 500n, '.index'), Buffer.alloc(8));
    writeFileSync(join(dir, 'log-offsets-checkpoint.tmp'), 'half');
    open(dir);
    expect(existsSync(segmentFile(dir, 500n, '.index'))).toBe(false);
    expect(existsSync(join(dir, 'log-offsets-checkpoint.tmp'))).toBe(false);
  });
});

describe('clean shutdown and checkpoints', () => {
  it('skips the recovery scan after a clean close', () => {
    const log = fillTen();
    closeLog(log);
    const logger = recordingLogger();
    const reopened = open(dir, {}, logger);
    expect(reopened.logEndOffset).toBe(30n);
    expect(logger.messages.find((m) => m.msg === 'loaded log')?.obj).toMatchObject({ clean: true });
  });

  it('recovers a cleanly closed last segment that does not end on a batch boundary', () => {
    const log = fillTen();
    closeLog(log);
    appendFileSync(segmentFile(dir, 0n), Buffer.alloc(20, 1));
    const logger = recordingLogger();
    const reopened = open(dir, {}, logger);
    expect(reopened.logEndOffset).toBe(30n);
    expect(statSync(segmentFile(dir, 0n)).size).toBe(10 * THREE);
    expect(logger.warnings().some((w) => w.includes('batch boundary'))).toBe(true);
  });

  it("keeps the leader-epoch checkpoint across reopen, in Kafka's text format", () => {
    const log = open(dir);
    log.appendAsLeader(batchOf(2), 0);
    log.appendAsLeader(batchOf(2), 0);
    log.appendAsLeader(batchOf(2), 3);
    log.appendAsLeader(batchOf(2), 7);
    log.appendAsLeader(batchOf(2), 7);
    expect(readFileSync(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n3\n0 0\n3 4\n7 6\n');
    closeLog(log);
    const reopened = open(dir);
    expect(reopened.latestEpoch).toBe(7);
    expect(reopened.leaderEpochEntries).toEqual([
      { epoch: 0, startOffset: 0n },
      { epoch: 3, startOffset: 4n },
      { epoch: 7, startOffset: 6n },
    ]);
    expect(reopened.endOffsetForEpoch(0)).toEqual({ leaderEpoch: 0, endOffset: 4n });
    expect(reopened.endOffsetForEpoch(3)).toEqual({ leaderEpoch: 3, endOffset: 6n });
    expect(reopened.endOffsetForEpoch(5)).toEqual({ leaderEpoch: 3, endOffset: 6n });
    expect(reopened.endOffsetForEpoch(7)).toEqual({ leaderEpoch: 7, endOffset: 10n });
    expect(reopened.endOffsetForEpoch(8)).toEqual({ leaderEpoch: -1, endOffset: -1n });
  });

  it('re-derives leader epochs from the batches it recovers when the checkpoint is lost or malformed', () => {
    const log = open(dir);
    log.appendAsLeader(batchOf(2), 1);
    log.appendAsLeader(batchOf(2), 4);
    const image = crashImage();
    unlinkSync(join(image, 'leader-epoch-checkpoint'));
    expect(open(image).leaderEpochEntries).toEqual([
      { epoch: 1, startOffset: 0n },
      { epoch: 4, startOffset: 2n },
    ]);
    closeLog(log);
    writeFileSync(join(dir, 'leader-epoch-checkpoint'), 'garbage\n');
    const logger = recordingLogger();
    const reopened = open(dir, {}, logger);
    expect(reopened.leaderEpochEntries).toEqual([
      { epoch: 1, startOffset: 0n },
      { epoch: 4, startOffset: 2n },
    ]);
    expect(logger.warnings().some((w) => w.includes('malformed leader epoch checkpoint'))).toBe(true);
  });

  it('drops epoch entries past the recovered log end', () => {
    const log = open(dir);
    log.appendAsLeader(batchOf(2), 1);
    log.appendAsLeader(batchOf(2), 2);
    const image = crashImage();
    truncateSync(segmentFile(image, 0n), statSync(segmentFile(image, 0n)).size - 3);
    const recovered = open(image);
    expect(recovered.logEndOffset).toBe(2n);
    expect(recovered.leaderEpochEntries).toEqual([{ epoch: 1, startOffset: 0n }]);
  });

  it('survives an unreadable offsets checkpoint by recovering everything', () => {
    const log = fillTen();
    closeLog(log);
    writeFileSync(join(dir, 'log-offsets-checkpoint'), '');
    const logger = recordingLogger();
    const reopened = open(dir, {}, logger);
    expect(reopened.logEndOffset).toBe(30n);
    expect(logger.warnings().some((w) => w.includes('unreadable offsets checkpoint'))).toBe(true);
  });
});
