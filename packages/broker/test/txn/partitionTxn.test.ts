/**
 * The partition side of transactions wired into Partition (txn/README.md section 2): a leader
 * accepts transactional batches, holds the last stable offset at the first open transaction,
 * appends the coordinator's markers with their fencing checks, answers the aborted transactions of
 * a range, refuses control batches from clients, and a reopened replica (or a follower) rebuilds
 * the same state from the log.
 */
import { DEFAULT_TOPIC_CONFIG } from '@samsa/metadata';
import { ControlRecordType, ErrorCode, decodeRecordsReadCommitted, encodeControlBatch, encodeRecordBatch } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import { Partition } from '../../src/partition.js';
import { tempDir } from '../log/helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

const ctx = {
  replicaLagTimeMaxMs: 1_000,
  alterPartitionRetryBackoffMs: 100,
  isReplicaIsrEligible: () => true,
  submitAlterPartition: () => new Promise<never>(() => undefined),
  listener: { onHighWatermarkChanged: () => undefined, onIsrChanged: () => undefined },
  logger: pino({ level: 'silent' }),
};

function open(dir: string, leaderId = 1): { p: Partition; log: Log } {
  const log = Log.open(dir, {}, { clock: () => 1_000 });
  const p = new Partition(
    't',
    0,
    log,
    { ...DEFAULT_TOPIC_CONFIG, 'min.insync.replicas': 1 },
    1,
    { partition: 0, leader: leaderId, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] },
    () => 1_000,
    ctx,
    // A follower starts at its checkpointed HW; give it the log end so reads see everything.
    leaderId === 1 ? undefined : log.logEndOffset,
  );
  return { p, log };
}

function leader(): { p: Partition; log: Log; dir: string } {
  const { dir, cleanup } = tempDir('samsa-txn-partition-');
  const opened = open(dir);
  cleanups.push(() => {
    if (!opened.log.isClosed) opened.log.close();
    cleanup();
  });
  return { ...opened, dir };
}

function txnBatch(producerId: bigint, epoch: number, seq: number, values: string[]): Buffer {
  return encodeRecordBatch(
    values.map((v) => ({ value: Buffer.from(v), timestamp: 1n })),
    { producerId, producerEpoch: epoch, baseSequence: seq, isTransactional: true },
  );
}

function committedValues(p: Partition): string[] {
  const upTo = p.lastStableOffset;
  const records = p.readRecords(0n, 1 << 20, true, upTo);
  const aborted = p.abortedTransactions(0n, upTo).map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
  return decodeRecordsReadCommitted(records, aborted).map((r) => r.value!.toString());
}

describe('Partition with transactions', () => {
  it('refuses a control batch from a client (INVALID_RECORD) and writes nothing', () => {
    const { p, log } = leader();
    const control = encodeControlBatch({
      type: ControlRecordType.COMMIT,
      coordinatorEpoch: 0,
      producerId: 5n,
      producerEpoch: 0,
      timestamp: 1n,
    });
    expect(() => p.appendRecordsToLeader(control, -1)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_RECORD }));
    expect(log.logEndOffset).toBe(0n);
  });

  it('refuses a transactional batch without a producer id (INVALID_RECORD)', () => {
    const { p, log } = leader();
    const bad = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1n }], { isTransactional: true });
    expect(() => p.appendRecordsToLeader(bad, -1)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_RECORD }));
    expect(log.logEndOffset).toBe(0n);
  });

  it('holds the LSO at an open transaction and releases it on COMMIT', () => {
    const { p } = leader();
    p.appendRecordsToLeader(encodeRecordBatch([{ value: Buffer.from('plain'), timestamp: 1n }]), -1);
    p.appendRecordsToLeader(txnBatch(7n, 0, 0, ['a', 'b']), -1);
    expect(p.highWatermark).toBe(3n);
    expect(p.lastStableOffset).toBe(1n);
    expect(p.ongoingTransactions()).toEqual([{ producerId: 7n, firstOffset: 1n }]);
    expect(committedValues(p)).toEqual(['plain']);
    p.appendTxnMarkerToLeader({ producerId: 7n, producerEpoch: 0, coordinatorEpoch: 0, committed: true }, -1);
    expect(p.lastStableOffset).toBe(4n);
    expect(p.ongoingTransactions()).toEqual([]);
    expect(committedValues(p)).toEqual(['plain', 'a', 'b']);
  });

  it('an ABORT adds an aborted transaction the read_committed reader drops', () => {
    const { p } = leader();
    p.appendRecordsToLeader(txnBatch(7n, 0, 0, ['a']), -1);
    p.appendRecordsToLeader(txnBatch(8n, 0, 0, ['x']), -1);
    p.appendTxnMarkerToLeader({ producerId: 7n, producerEpoch: 0, coordinatorEpoch: 0, committed: false }, -1);
    expect(p.lastStableOffset).toBe(1n);
    p.appendTxnMarkerToLeader({ producerId: 8n, producerEpoch: 0, coordinatorEpoch: 0, committed: true }, -1);
    expect(p.lastStableOffset).toBe(4n);
    expect(p.abortedTransactions(0n, 4n)).toEqual([{ producerId: 7n, firstOffset: 0n, lastOffset: 2n, lastStableOffset: 1n }]);
    expect(p.abortedTransactions(3n, 4n)).toEqual([]);
    expect(committedValues(p)).toEqual(['x']);
  });

  it('fences a producer epoch older than a marker, a deposed coordinator, and a plain write inside a transaction', () => {
    const { p, log } = leader();
    p.appendRecordsToLeader(txnBatch(7n, 0, 0, ['a']), -1);
    expect(() =>
      p.appendRecordsToLeader(
        encodeRecordBatch([{ value: Buffer.from('p'), timestamp: 1n }], { producerId: 7n, producerEpoch: 0, baseSequence: 1 }),
        -1,
      ),
    ).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_TXN_STATE }));
    // The coordinator fenced the producer: the abort marker carries epoch 1.
    p.appendTxnMarkerToLeader({ producerId: 7n, producerEpoch: 1, coordinatorEpoch: 3, committed: false }, -1);
    const end = log.logEndOffset;
    expect(() => p.appendRecordsToLeader(txnBatch(7n, 0, 1, ['zombie']), -1)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_PRODUCER_EPOCH }),
    );
    expect(() => p.appendTxnMarkerToLeader({ producerId: 7n, producerEpoch: 0, coordinatorEpoch: 3, committed: true }, -1)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_PRODUCER_EPOCH }),
    );
    expect(() => p.appendTxnMarkerToLeader({ producerId: 7n, producerEpoch: 1, coordinatorEpoch: 2, committed: true }, -1)).toThrow(
      expect.objectContaining({ code: ErrorCode.TRANSACTION_COORDINATOR_FENCED }),
    );
    expect(log.logEndOffset).toBe(end);
    // The new epoch starts at sequence 0 and is accepted.
    p.appendRecordsToLeader(txnBatch(7n, 2, 0, ['b']), -1);
    expect(p.ongoingTransactions()).toEqual([{ producerId: 7n, firstOffset: end }]);
  });

  it('a reopened replica rebuilds open transactions, the LSO and the aborted transactions from its log', () => {
    const { p, log, dir } = leader();
    p.appendRecordsToLeader(txnBatch(7n, 0, 0, ['a']), -1);
    p.appendTxnMarkerToLeader({ producerId: 7n, producerEpoch: 0, coordinatorEpoch: 0, committed: false }, -1);
    p.appendRecordsToLeader(txnBatch(8n, 0, 0, ['b']), -1);
    const before = { lso: p.lastStableOffset, aborted: p.abortedTransactions(0n, 10n), ongoing: p.ongoingTransactions() };
    p.snapshotProducerState();
    log.close();
    const again = open(dir);
    cleanups.push(() => again.log.close());
    expect({
      lso: again.p.lastStableOffset,
      aborted: again.p.abortedTransactions(0n, 10n),
      ongoing: again.p.ongoingTransactions(),
    }).toEqual(before);
    expect(before.lso).toBe(2n);
  });

  it('a follower tracks the transactions in the batches it appends', () => {
    const { p, log } = leader();
    p.appendRecordsToLeader(txnBatch(7n, 0, 0, ['a']), -1);
    p.appendTxnMarkerToLeader({ producerId: 7n, producerEpoch: 0, coordinatorEpoch: 0, committed: false }, -1);
    p.appendRecordsToLeader(txnBatch(8n, 0, 0, ['b']), -1);
    const bytes = log.read(0n, 1 << 20).records;
    const { dir, cleanup } = tempDir('samsa-txn-follower-');
    const f = open(dir, 2);
    cleanups.push(() => {
      f.log.close();
      cleanup();
    });
    f.p.appendRecordsAsFollower(Buffer.from(bytes));
    f.p.updateFollowerHighWatermark(3n);
    expect(f.p.ongoingTransactions()).toEqual([{ producerId: 8n, firstOffset: 2n }]);
    expect(f.p.lastStableOffset).toBe(2n);
    expect(f.p.abortedTransactions(0n, 3n)).toEqual(p.abortedTransactions(0n, 3n));
  });
});
