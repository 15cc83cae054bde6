/**
 * TxnOffsetCommit in the group state machine (KIP-98/447, txn/pendingTxnOffsets.ts wired into
 * GroupCoordinatorState): the offsets are written as the producer's transactional batch, stay
 * invisible to OffsetFetch until the COMMIT marker, are dropped by an ABORT, lose to a plain
 * commit written after them, and a failed write leaves nothing pending.
 */
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { GroupCoordinatorState, type CommitPartitionResult } from '../../src/group/groupCoordinatorState.js';
import type { CoordinatorRecord } from '../../src/group/records.js';

interface Write {
  records: CoordinatorRecord[];
  txn: { producerId: bigint; producerEpoch: number } | undefined;
  done: (code: number, message: string, baseOffset: bigint) => void;
}

function harness() {
  const writes: Write[] = [];
  let logOffset = 0n;
  const state = new GroupCoordinatorState(
    {
      persist: (_groupId, records, done, txn) => writes.push({ records, txn, done }),
    },
    { groupInitialRebalanceDelayMs: 0, groupMinSessionTimeoutMs: 1_000 },
  );
  const complete = (w: Write, code = 0) => {
    const base = logOffset;
    logOffset += BigInt(w.records.length);
    w.done(code, code === 0 ? '' : 'failed', base);
  };
  const txnCommit = (producerId: bigint, offset: bigint): { result?: CommitPartitionResult[] } => {
    const box: { result?: CommitPartitionResult[] } = {};
    state.txnCommitOffsets(
      {
        groupId: 'g',
        generationId: -1,
        memberId: '',
        groupInstanceId: '',
        producerId,
        producerEpoch: 3,
        offsets: [{ topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: '' }],
      },
      1_000,
      (r) => {
        box.result = r;
      },
    );
    return box;
  };
  const plainCommit = (offset: bigint) =>
    state.commitOffsets(
      {
        groupId: 'g',
        generationId: -1,
        memberId: '',
        groupInstanceId: '',
        offsets: [{ topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: '' }],
      },
      1_000,
      () => undefined,
    );
  const committed = () => state.fetchOffsets('g', [{ topic: 't', partitions: [0] }])[0]!.offset;
  const all = () => true;
  return { state, writes, complete, txnCommit, plainCommit, committed, all };
}

describe('transactional offset commits', () => {
  it('are written as the producer transactional batch and become visible only at the COMMIT marker', () => {
    const h = harness();
    const box = h.txnCommit(7n, 5n);
    expect(h.writes[0]!.txn).toEqual({ producerId: 7n, producerEpoch: 3 });
    h.complete(h.writes[0]!);
    expect(box.result).toEqual([{ topic: 't', partition: 0, errorCode: ErrorCode.NONE, errorMessage: '' }]);
    expect(h.committed()).toBe(-1n);
    expect(h.state.hasPendingTxnOffset('g', 't', 0)).toBe(true);
    // A marker of another producer changes nothing.
    h.state.completeTxn(8n, true, h.all, 2_000);
    expect(h.committed()).toBe(-1n);
    h.state.completeTxn(7n, true, h.all, 2_000);
    expect(h.committed()).toBe(5n);
    expect(h.state.hasPendingTxnOffset('g', 't', 0)).toBe(false);
  });

  it('are dropped by an ABORT marker, and only for the groups of the marker partition', () => {
    const h = harness();
    h.txnCommit(7n, 5n);
    h.complete(h.writes[0]!);
    h.state.completeTxn(7n, true, () => false, 2_000);
    expect(h.state.hasPendingTxnOffset('g', 't', 0)).toBe(true);
    h.state.completeTxn(7n, false, h.all, 2_000);
    expect(h.committed()).toBe(-1n);
    expect(h.state.hasPendingTxnOffset('g', 't', 0)).toBe(false);
  });

  it('lose to a plain commit written after them', () => {
    const h = harness();
    h.txnCommit(7n, 5n);
    h.complete(h.writes[0]!);
    h.plainCommit(9n);
    h.complete(h.writes[1]!);
    expect(h.committed()).toBe(9n);
    h.state.completeTxn(7n, true, h.all, 2_000);
    expect(h.committed()).toBe(9n);
  });

  it('a failed write answers the error and leaves nothing pending', () => {
    const h = harness();
    const box = h.txnCommit(7n, 5n);
    h.complete(h.writes[0]!, ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(box.result![0]!.errorCode).not.toBe(ErrorCode.NONE);
    expect(h.state.hasPendingTxnOffset('g', 't', 0)).toBe(false);
    h.state.completeTxn(7n, true, h.all, 2_000);
    expect(h.committed()).toBe(-1n);
  });

  it('read back while loading, they wait for a marker that comes later', () => {
    const h = harness();
    h.state.loadPendingTxnOffset('g', 7n, 't', 0, { offset: 4n, leaderEpoch: -1, metadata: '', commitTimestamp: 1 }, 10n);
    expect(h.state.hasPendingTxnOffset('g', 't', 0)).toBe(true);
    h.state.completeTxn(7n, true, h.all, 2_000);
    expect(h.committed()).toBe(4n);
  });
});
