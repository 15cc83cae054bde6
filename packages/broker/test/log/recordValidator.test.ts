/**
 * The per-record checks of a produced batch (Kafka's LogValidator, KIP-467 record errors): a
 * compacted topic refuses keyless records, CreateTime timestamps outside
 * message.timestamp.before.max.ms / after.max.ms (KIP-937) are refused; each refused record is
 * named by its index in the batch, and the leader writes nothing of the batch (or of an
 * idempotent producer's state).
 */
import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from '@samsa/metadata';
import { ErrorCode, RecordValidationError, encodeRecordBatch, type RecordInput } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log, recordChecksApply, validateRecords } from '../../src/log/index.js';
import { Partition } from '../../src/partition.js';
import { tempDir } from './helpers.js';

const NOW = 1_000_000;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function rec(key: string | null, timestamp = BigInt(NOW)): RecordInput {
  return { key: key === null ? null : Buffer.from(key), value: Buffer.from('v'), timestamp };
}

function caught(fn: () => void): RecordValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RecordValidationError) return err;
    throw err;
  }
  throw new Error('expected a RecordValidationError');
}

function leader(config: Partial<TopicConfig>): { p: Partition; log: Log } {
  const { dir, cleanup } = tempDir('samsa-record-validator-');
  const log = Log.open(dir, {}, { clock: () => NOW });
  cleanups.push(() => {
    log.close();
    cleanup();
  });
  const p = new Partition(
    't',
    0,
    log,
    { ...DEFAULT_TOPIC_CONFIG, ...config },
    1,
    { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] },
    () => NOW,
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

describe('validateRecords', () => {
  it('checks nothing under the defaults (delete policy, unbounded timestamps)', () => {
    expect(recordChecksApply(DEFAULT_TOPIC_CONFIG)).toBe(false);
    expect(() => validateRecords(encodeRecordBatch([rec(null, 0n)]), 't-0', DEFAULT_TOPIC_CONFIG, NOW)).not.toThrow();
  });

  it('names every keyless record of a compacted topic with INVALID_RECORD', () => {
    const config = { ...DEFAULT_TOPIC_CONFIG, 'cleanup.policy': 'compact' as const };
    expect(() => validateRecords(encodeRecordBatch([rec('a'), rec('b')]), 't-0', config, NOW)).not.toThrow();
    const err = caught(() => validateRecords(encodeRecordBatch([rec('a'), rec(null), rec('c'), rec(null)]), 't-0', config, NOW));
    expect(err.code).toBe(ErrorCode.INVALID_RECORD);
    expect(err.recordErrors.map((e) => e.batchIndex)).toEqual([1, 3]);
    expect(err.recordErrors[0]!.message).toContain('without a key');
    expect(err.message).toContain('t-0');
  });

  it('refuses CreateTime timestamps outside before.max.ms / after.max.ms with INVALID_TIMESTAMP', () => {
    const config = {
      ...DEFAULT_TOPIC_CONFIG,
      'message.timestamp.before.max.ms': 1_000,
      'message.timestamp.after.max.ms': 500,
    };
    const ok = [rec(null, BigInt(NOW - 1_000)), rec(null, BigInt(NOW + 500))];
    expect(() => validateRecords(encodeRecordBatch(ok), 't-0', config, NOW)).not.toThrow();
    const bad = [rec(null, BigInt(NOW)), rec(null, BigInt(NOW - 1_001)), rec(null, BigInt(NOW + 501))];
    const err = caught(() => validateRecords(encodeRecordBatch(bad), 't-0', config, NOW));
    expect(err.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.recordErrors.map((e) => e.batchIndex)).toEqual([1, 2]);
    expect(err.recordErrors[1]!.message).toContain(String(NOW + 501));
    // LogAppendTime topics restamp the batch: the producer's timestamps are not checked.
    expect(() =>
      validateRecords(encodeRecordBatch(bad), 't-0', { ...config, 'message.timestamp.type': 'LogAppendTime' }, NOW),
    ).not.toThrow();
  });

  it('answers INVALID_TIMESTAMP when keys and timestamps both fail, each record once (key first)', () => {
    const config = { ...DEFAULT_TOPIC_CONFIG, 'cleanup.policy': 'compact' as const, 'message.timestamp.after.max.ms': 0 };
    const err = caught(() =>
      validateRecords(encodeRecordBatch([rec(null, BigInt(NOW + 1)), rec('k', BigInt(NOW + 1))]), 't-0', config, NOW),
    );
    expect(err.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.recordErrors.map((e) => [e.batchIndex, e.message.includes('key')])).toEqual([
      [0, true],
      [1, false],
    ]);
  });
});

describe('a leader appending a batch with refused records', () => {
  it('writes nothing of the batch and keeps no producer state for it', () => {
    const { p, log } = leader({ 'message.timestamp.after.max.ms': 0 });
    const idempotent = { producerId: 7n, producerEpoch: 0, baseSequence: 0 };
    const bad = encodeRecordBatch([rec('a'), rec('b', BigInt(NOW + 60_000))], idempotent);
    const err = caught(() => p.appendRecordsToLeader(bad, -1));
    expect(err.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.recordErrors.map((e) => e.batchIndex)).toEqual([1]);
    expect(log.logEndOffset).toBe(0n);
    // The same sequence with valid records is then accepted as new (not answered as a duplicate).
    const good = encodeRecordBatch([rec('a'), rec('b')], idempotent);
    expect(p.appendRecordsToLeader(good, -1).baseOffset).toBe(0n);
    expect(log.logEndOffset).toBe(2n);
  });

  it('refuses a corrupt batch on a compacted topic with CORRUPT_MESSAGE before looking at its records', () => {
    const { p, log } = leader({ 'cleanup.policy': 'compact' });
    const corrupt = encodeRecordBatch([rec('a')]);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(() => p.appendRecordsToLeader(corrupt, -1)).toThrow(expect.objectContaining({ code: ErrorCode.CORRUPT_MESSAGE }));
    expect(log.logEndOffset).toBe(0n);
  });
});
