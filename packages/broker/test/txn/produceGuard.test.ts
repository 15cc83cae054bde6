/**
 * Until transactions are wired end to end, a leader refuses transactional and control batches from
 * producers and writes nothing; plain and idempotent batches are appended as before.
 */
import { DEFAULT_TOPIC_CONFIG } from '@samsa/metadata';
import { ControlRecordType, ErrorCode, encodeControlBatch, encodeRecordBatch } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import { Partition } from '../../src/partition.js';
import { tempDir } from '../log/helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function leader(): { p: Partition; log: Log } {
  const { dir, cleanup } = tempDir('samsa-txn-guard-');
  const log = Log.open(dir, {}, { clock: () => 1_000 });
  cleanups.push(() => {
    log.close();
    cleanup();
  });
  const p = new Partition(
    't',
    0,
    log,
    { ...DEFAULT_TOPIC_CONFIG, 'min.insync.replicas': 1 },
    1,
    { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] },
    () => 1_000,
    {
      replicaLagTimeMaxMs: 1_000,
      alterPartitionRetryBackoffMs: 100,
      isReplicaIsrEligible: () => true,
      submitAlterPartition: () => new Promise(() => undefined),
      listener: { onHighWatermarkChanged: () => undefined, onIsrChanged: () => undefined },
      logger: pino({ level: 'silent' }),
    },
  );
  return { p, log };
}

describe('produce of transactional batches while transactions are not wired', () => {
  it('refuses a transactional batch with INVALID_TXN_STATE and a control batch with INVALID_RECORD, writing nothing', () => {
    const { p, log } = leader();
    const txn = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1n }], {
      producerId: 5n,
      producerEpoch: 0,
      baseSequence: 0,
      isTransactional: true,
    });
    expect(() => p.appendRecordsToLeader(txn, -1)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_TXN_STATE }));
    const control = encodeControlBatch({
      type: ControlRecordType.COMMIT,
      coordinatorEpoch: 0,
      producerId: 5n,
      producerEpoch: 0,
      timestamp: 1n,
    });
    expect(() => p.appendRecordsToLeader(control, -1)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_RECORD }));
    expect(log.logEndOffset).toBe(0n);
    // Plain and idempotent batches still go in.
    p.appendRecordsToLeader(encodeRecordBatch([{ value: Buffer.from('a'), timestamp: 1n }]), -1);
    p.appendRecordsToLeader(
      encodeRecordBatch([{ value: Buffer.from('b'), timestamp: 1n }], { producerId: 6n, producerEpoch: 0, baseSequence: 0 }),
      -1,
    );
    expect(log.logEndOffset).toBe(2n);
  });
});
