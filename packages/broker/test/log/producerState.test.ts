/**
 * Idempotent-producer rules on a partition replica (log/producerStateManager.ts): duplicates of
 * the last 5 batches answer with the original offsets and write nothing; gaps are
 * OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH; a new epoch restarts at
 * 0; sequences wrap at int32 max; followers take what the leader wrote; the state survives a
 * restart (snapshot + replay, or replay alone) and follows truncation.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TOPIC_CONFIG } from '@samsa/metadata';
import { ErrorCode, SamsaProtocolError, encodeRecordBatch } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import { ProducerStateManager, lastSequenceOf, snapshotFileName } from '../../src/log/producerStateManager.js';
import type { PartitionInfo } from '../../src/metadata/image.js';
import { Partition } from '../../src/partition.js';
import { tempDir } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

const LEADER: PartitionInfo = { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] };
const FOLLOWER: PartitionInfo = { partition: 0, leader: 2, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1, 2] };

function open(dir: string, info: PartitionInfo = LEADER, segmentBytes?: number) {
  const log = Log.open(dir, segmentBytes === undefined ? {} : { segmentBytes }, { clock: () => Date.now() });
  const p = new Partition('t', 0, log, { ...DEFAULT_TOPIC_CONFIG, 'min.insync.replicas': 1 }, 1, info, () => Date.now(), {
    replicaLagTimeMaxMs: 1_000,
    alterPartitionRetryBackoffMs: 100,
    isReplicaIsrEligible: () => true,
    submitAlterPartition: () => new Promise(() => {}),
    listener: { onHighWatermarkChanged: () => {}, onIsrChanged: () => {} },
    logger: pino({ level: 'silent' }),
  });
  return { p, log };
}

function setup(info: PartitionInfo = LEADER, segmentBytes?: number) {
  const { dir, cleanup } = tempDir('samsa-pstate-');
  let current = open(dir, info, segmentBytes);
  cleanups.push(() => {
    current.log.close();
    cleanup();
  });
  return {
    dir,
    get p() {
      return current.p;
    },
    get log() {
      return current.log;
    },
    /** Closes the log (clean: with a shutdown snapshot; crash: without) and opens it again. */
    restart(clean: boolean) {
      if (clean) current.p.snapshotProducerState();
      current.log.close();
      current = open(dir, info, segmentBytes);
    },
  };
}

let seqValue = 0;
function batch(producerId: bigint, producerEpoch: number, baseSequence: number, count = 2): Buffer {
  return encodeRecordBatch(
    Array.from({ length: count }, () => ({ key: null, value: Buffer.from(`v${seqValue++}`), timestamp: BigInt(Date.now()) })),
    { producerId, producerEpoch, baseSequence },
  );
}

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof SamsaProtocolError) return err.code;
    throw err;
  }
  return ErrorCode.NONE;
}

describe('producer state on the leader', () => {
  it('a duplicate of any of the last 5 batches answers with the original offsets and writes nothing', () => {
    const s = setup();
    const batches = Array.from({ length: 6 }, (_, i) => batch(7n, 0, i * 2));
    const offsets = batches.map((b) => s.p.appendRecordsToLeader(Buffer.from(b), 1).baseOffset);
    expect(offsets).toEqual([0n, 2n, 4n, 6n, 8n, 10n]);
    for (let i = 1; i < 6; i++) {
      const again = s.p.appendRecordsToLeader(Buffer.from(batches[i]!), 1);
      expect(again.baseOffset).toBe(offsets[i]);
      expect(again.lastOffset).toBe(offsets[i]! + 1n);
    }
    expect(s.log.logEndOffset).toBe(12n);
    // The first batch is no longer among the 5 cached: it is out of order now, not a duplicate.
    expect(codeOf(() => s.p.appendRecordsToLeader(Buffer.from(batches[0]!), 1))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(s.log.logEndOffset).toBe(12n);
  });

  it('a gap in the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER and writes nothing', () => {
    const s = setup();
    s.p.appendRecordsToLeader(batch(7n, 0, 0), 1);
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(7n, 0, 3), 1))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(s.log.logEndOffset).toBe(2n);
    expect(s.p.appendRecordsToLeader(batch(7n, 0, 2), 1).baseOffset).toBe(2n);
  });

  it('an older epoch is fenced; a newer epoch must start at sequence 0', () => {
    const s = setup();
    s.p.appendRecordsToLeader(batch(7n, 3, 0), 1);
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(7n, 2, 2), 1))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(7n, 4, 2), 1))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(s.p.appendRecordsToLeader(batch(7n, 4, 0), 1).baseOffset).toBe(2n);
    // The old epoch's batches no longer count as duplicates, and the old epoch is now fenced.
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(7n, 3, 2), 1))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(s.log.logEndOffset).toBe(4n);
  });

  it('an unknown producer must start at sequence 0 (UNKNOWN_PRODUCER_ID otherwise); producers do not interfere', () => {
    const s = setup();
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(9n, 0, 500), 1))).toBe(ErrorCode.UNKNOWN_PRODUCER_ID);
    expect(s.log.logEndOffset).toBe(0n);
    expect(s.p.appendRecordsToLeader(batch(9n, 0, 0, 500), 1).baseOffset).toBe(0n);
    expect(s.p.appendRecordsToLeader(batch(10n, 0, 0), 1).baseOffset).toBe(500n);
    expect(s.p.appendRecordsToLeader(batch(9n, 0, 500), 1).baseOffset).toBe(502n);
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(10n, 0, 4), 1))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // Batches without a producer id are never checked.
    expect(s.p.appendRecordsToLeader(batch(-1n, -1, -1), 1).baseOffset).toBe(504n);
    expect(s.p.appendRecordsToLeader(batch(-1n, -1, -1), 1).baseOffset).toBe(506n);
  });

  it('sequences wrap from int32 max to 0', () => {
    expect(lastSequenceOf(0x7fffffff - 1, 3)).toBe(1);
    // Replicated first (followers take batches unchecked), so the producer is at MAX-1, MAX here.
    const s = setup(FOLLOWER);
    s.p.appendRecordsAsFollower(batch(7n, 0, 0x7fffffff - 1, 2));
    s.p.applyRegistration({ ...FOLLOWER, leader: 1, leaderEpoch: 1 });
    expect(s.p.appendRecordsToLeader(batch(7n, 0, 0, 2), 1).baseOffset).toBe(2n);
    const wrapping = batch(7n, 0, 2, 2);
    s.p.appendRecordsToLeader(Buffer.from(wrapping), 1);
    expect(s.p.appendRecordsToLeader(Buffer.from(wrapping), 1).baseOffset).toBe(4n);
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(7n, 0, 0x7fffffff, 1), 1))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });
});

describe('producer state on followers, restarts and truncation', () => {
  it('a follower takes replicated batches unchecked and then enforces them as leader', () => {
    const leader = setup();
    const sent = [batch(7n, 0, 0), batch(7n, 0, 2), batch(7n, 0, 4)];
    for (const b of sent) leader.p.appendRecordsToLeader(b, 1);
    const follower = setup(FOLLOWER);
    follower.p.appendRecordsAsFollower(leader.log.read(0n, 1 << 20).records);
    expect(follower.p.producerState.entry(7n)?.batches.map((b) => b.firstOffset)).toEqual([0n, 2n, 4n]);
    follower.p.applyRegistration({ ...FOLLOWER, leader: 1, leaderEpoch: 1 });
    // The new leader answers a retried batch with its original offset.
    expect(follower.p.appendRecordsToLeader(Buffer.from(sent[1]!), -1).baseOffset).toBe(2n);
    expect(codeOf(() => follower.p.appendRecordsToLeader(batch(7n, 0, 8), 1))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(follower.p.appendRecordsToLeader(batch(7n, 0, 6), 1).baseOffset).toBe(6n);
  });

  it('survives a clean restart (snapshot), a crash (replay from the log) and a corrupt snapshot', () => {
    const s = setup();
    const b2 = batch(7n, 0, 2);
    s.p.appendRecordsToLeader(batch(7n, 0, 0), 1);
    s.p.appendRecordsToLeader(Buffer.from(b2), 1);
    s.restart(true);
    expect(readdirSync(s.dir)).toContain(snapshotFileName(4n));
    expect(s.p.appendRecordsToLeader(Buffer.from(b2), 1).baseOffset).toBe(2n);
    const b4 = batch(7n, 0, 4);
    s.p.appendRecordsToLeader(Buffer.from(b4), 1);
    s.restart(false); // no new snapshot: offsets 4-5 are replayed from the log after the one at 4
    expect(s.p.appendRecordsToLeader(Buffer.from(b4), 1).baseOffset).toBe(4n);
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(7n, 0, 9), 1))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    writeFileSync(join(s.dir, snapshotFileName(4n)), '123\n{"version":1}');
    s.restart(false); // the snapshot fails its checksum: everything is replayed from the log
    expect(s.p.appendRecordsToLeader(Buffer.from(b2), 1).baseOffset).toBe(2n);
    expect(s.p.appendRecordsToLeader(batch(7n, 0, 6), 1).baseOffset).toBe(6n);
    expect(s.log.logEndOffset).toBe(8n);
  });

  it('takes a snapshot when the log rolls and loads from it', () => {
    const s = setup(LEADER, 300);
    for (let i = 0; i < 20; i++) s.p.appendRecordsToLeader(batch(7n, 0, i * 2), 1);
    expect(s.log.segments.length).toBeGreaterThan(2);
    const snapshots = ProducerStateManager.load(s.log).snapshotOffsets();
    expect(snapshots.length).toBeGreaterThan(0);
    expect(snapshots.length).toBeLessThanOrEqual(2);
    s.restart(false);
    expect(s.p.producerState.entry(7n)?.batches.at(-1)?.lastSeq).toBe(39);
    expect(s.p.appendRecordsToLeader(batch(7n, 0, 40), 1).baseOffset).toBe(40n);
  });

  it('a rebuild replays every segment after the snapshot, not only the first one read', () => {
    const s = setup(LEADER, 300);
    for (let i = 0; i < 20; i++) s.p.appendRecordsToLeader(batch(7n, 0, i * 2), 1);
    expect(s.log.segments.length).toBeGreaterThan(2);
    // No snapshot left (lost, or all above a truncation point): the state comes from the log alone.
    for (const name of readdirSync(s.dir)) if (name.endsWith('.snapshot')) rmSync(join(s.dir, name));
    s.restart(false);
    expect(s.p.producerState.entry(7n)?.batches.map((b) => b.lastSeq)).toEqual([31, 33, 35, 37, 39]);
    expect(codeOf(() => s.p.appendRecordsToLeader(batch(7n, 0, 38), 1))).toBe(ErrorCode.NONE); // a duplicate
    expect(s.log.logEndOffset).toBe(40n);
    expect(s.p.appendRecordsToLeader(batch(7n, 0, 40), 1).baseOffset).toBe(40n);
  });

  it('truncation on a follower rolls the state back with the log', () => {
    const leader = setup();
    for (let i = 0; i < 4; i++) leader.p.appendRecordsToLeader(batch(7n, 0, i * 2), 1);
    const follower = setup(FOLLOWER);
    follower.p.appendRecordsAsFollower(leader.log.read(0n, 1 << 20).records);
    follower.p.snapshotProducerState(); // a snapshot above the truncation point must be dropped
    follower.p.truncateTo(4n);
    expect(follower.p.producerState.entry(7n)?.batches.map((b) => b.lastSeq)).toEqual([1, 3]);
    expect(readdirSync(follower.dir).filter((n) => n.endsWith('.snapshot'))).toEqual([]);
    follower.p.applyRegistration({ ...FOLLOWER, leader: 1, leaderEpoch: 1 });
    // Sequence 4 was truncated away: the producer's retry of it is appended again, not a duplicate.
    expect(follower.p.appendRecordsToLeader(batch(7n, 0, 4), 1).baseOffset).toBe(4n);
    follower.p.applyRegistration({ ...FOLLOWER, leader: 2, leaderEpoch: 2 });
    follower.p.truncateFullyAndStartAt(100n);
    expect(follower.p.producerState.producerCount).toBe(0);
  });
});
