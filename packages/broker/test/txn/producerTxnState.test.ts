import { describe, expect, it } from 'vitest';
import {
  ControlRecordType,
  ErrorCode,
  SeededRng,
  decodeRecordsReadCommitted,
  encodeControlBatch,
  encodeRecordBatch,
} from '@samsa/protocol';
import {
  ABORTED_TXN_ENTRY_SIZE,
  ProducerTxnState,
  decodeTxnIndex,
  encodeAbortedTxn,
  type AbortedTxn,
  type TxnBatch,
} from '../../src/txn/producerTxnState.js';

const data = (producerId: bigint, producerEpoch: number, baseOffset: bigint, count = 1, isTransactional = true): TxnBatch => ({
  producerId,
  producerEpoch,
  baseOffset,
  lastOffset: baseOffset + BigInt(count - 1),
  isTransactional,
  isControl: false,
});
const marker = (producerId: bigint, producerEpoch: number, offset: bigint, commit: boolean, coordinatorEpoch = 0): TxnBatch => ({
  producerId,
  producerEpoch,
  baseOffset: offset,
  lastOffset: offset,
  isTransactional: true,
  isControl: true,
  controlType: commit ? 1 : 0,
  coordinatorEpoch,
});

describe('ProducerTxnState', () => {
  it('holds the LSO at the first open transaction until its marker is below the high watermark', () => {
    const s = new ProducerTxnState();
    s.append(data(1n, 0, 0n, 1, false)); // not transactional: never holds the LSO
    s.append(data(7n, 0, 1n, 3));
    s.append(data(8n, 0, 4n, 2));
    expect(s.lastStableOffset(6n)).toBe(1n);
    expect(s.lastStableOffset(0n)).toBe(0n); // capped by the high watermark
    s.append(marker(7n, 0, 6n, true));
    s.onHighWatermarkUpdated(6n);
    expect(s.lastStableOffset(6n)).toBe(1n); // the commit marker is not replicated yet
    s.onHighWatermarkUpdated(7n);
    expect(s.lastStableOffset(7n)).toBe(4n); // producer 8 still open
    s.append(marker(8n, 0, 7n, false));
    s.onHighWatermarkUpdated(8n);
    expect(s.lastStableOffset(8n)).toBe(8n);
    expect(s.abortedTxns()).toEqual([{ producerId: 8n, firstOffset: 4n, lastOffset: 7n, lastStableOffset: 8n }]);
  });

  it("records the LSO after an abort as the next open transaction's first offset", () => {
    const s = new ProducerTxnState();
    s.append(data(1n, 0, 0n));
    s.append(data(2n, 0, 1n));
    s.append(marker(1n, 0, 2n, false));
    expect(s.abortedTxns()).toEqual([{ producerId: 1n, firstOffset: 0n, lastOffset: 2n, lastStableOffset: 1n }]);
  });

  it('answers the read_committed query: aborted transactions overlapping [fetchOffset, upperBound)', () => {
    const s = new ProducerTxnState();
    s.append(data(1n, 0, 0n, 5));
    s.append(marker(1n, 0, 5n, false));
    s.append(data(2n, 0, 10n, 5));
    s.append(marker(2n, 0, 15n, false));
    expect(s.collectAbortedTxns(0n, 10n).map((t) => t.producerId)).toEqual([1n]);
    expect(s.collectAbortedTxns(5n, 11n).map((t) => t.producerId)).toEqual([1n, 2n]);
    expect(s.collectAbortedTxns(6n, 10n)).toEqual([]);
    expect(s.collectAbortedTxns(15n, 100n).map((t) => t.producerId)).toEqual([2n]);
  });

  it('refuses fenced markers and data, and a non-transactional write inside a transaction', () => {
    const s = new ProducerTxnState();
    s.append(data(1n, 2, 0n));
    expect(s.checkLeaderAppend(data(1n, 1, 1n))?.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(s.checkLeaderAppend(data(1n, 2, 1n, 1, false))?.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(s.checkLeaderAppend(marker(1n, 1, 1n, false))?.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    s.append(marker(1n, 3, 1n, false, 5)); // the coordinator's abort with a bumped epoch fences epoch 2
    expect(s.checkLeaderAppend(data(1n, 2, 2n))?.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(s.checkLeaderAppend(marker(1n, 3, 2n, true, 4))?.errorCode).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    expect(s.checkLeaderAppend(data(1n, 3, 2n))).toBeNull();
    expect(s.checkLeaderAppend(data(-1n, -1, 2n, 1, false))).toBeNull();
  });

  it('a marker for a producer with no open transaction changes nothing', () => {
    const s = new ProducerTxnState();
    expect(s.append(marker(4n, 0, 0n, true))).toEqual({ completed: null, abortedTxn: null });
    expect(s.lastStableOffset(1n)).toBe(1n);
    expect(s.abortedTxns()).toEqual([]);
  });

  it('.txnindex: 34-byte entries round-trip; a torn or unknown entry ends the valid part', () => {
    const entries: AbortedTxn[] = [
      { producerId: 1n, firstOffset: 0n, lastOffset: 5n, lastStableOffset: 6n },
      { producerId: 2n ** 40n, firstOffset: 2n ** 33n, lastOffset: 2n ** 33n + 9n, lastStableOffset: 2n ** 33n + 1n },
    ];
    const file = Buffer.concat(entries.map(encodeAbortedTxn));
    expect(file.length).toBe(2 * ABORTED_TXN_ENTRY_SIZE);
    expect(decodeTxnIndex(file)).toEqual({ entries, validBytes: file.length });
    expect(decodeTxnIndex(file.subarray(0, file.length - 3))).toEqual({ entries: entries.slice(0, 1), validBytes: ABORTED_TXN_ENTRY_SIZE });
    const badVersion = Buffer.from(file);
    badVersion.writeInt16BE(7, ABORTED_TXN_ENTRY_SIZE);
    expect(decodeTxnIndex(badVersion).entries).toHaveLength(1);
    const rng = new SeededRng(34);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(file);
      b[rng.int(b.length)] = rng.int(256);
      const { entries: got, validBytes } = decodeTxnIndex(b.subarray(0, rng.int(b.length + 1)));
      expect(validBytes).toBe(got.length * ABORTED_TXN_ENTRY_SIZE);
      for (const t of got) expect(t.lastOffset >= t.firstOffset).toBe(true);
    }
  });
});

// ---- seeded model test --------------------------------------------------------------------------

interface LoggedBatch {
  batch: TxnBatch;
  bytes: Buffer;
}

/** The reference: everything recomputed from the whole history on each question. */
interface RefTxn {
  producerId: bigint;
  firstOffset: bigint;
  markerOffset: bigint | undefined;
  committed: boolean | undefined;
}

function refTxns(history: readonly LoggedBatch[]): RefTxn[] {
  const open = new Map<bigint, RefTxn>();
  const all: RefTxn[] = [];
  for (const { batch } of history) {
    if (batch.producerId < 0n) continue;
    if (!batch.isControl) {
      if (batch.isTransactional && !open.has(batch.producerId)) {
        const t: RefTxn = { producerId: batch.producerId, firstOffset: batch.baseOffset, markerOffset: undefined, committed: undefined };
        open.set(batch.producerId, t);
        all.push(t);
      }
    } else {
      const t = open.get(batch.producerId);
      if (t !== undefined) {
        t.markerOffset = batch.baseOffset;
        t.committed = batch.controlType === 1;
        open.delete(batch.producerId);
      }
    }
  }
  return all;
}

function refLso(history: readonly LoggedBatch[], hw: bigint): bigint {
  let lso = hw;
  for (const t of refTxns(history)) if ((t.markerOffset === undefined || t.markerOffset >= hw) && t.firstOffset < lso) lso = t.firstOffset;
  return lso;
}

function refAborted(history: readonly LoggedBatch[]): AbortedTxn[] {
  const txns = refTxns(history);
  return txns
    .filter((t) => t.committed === false)
    .sort((a, b) => (a.markerOffset! < b.markerOffset! ? -1 : 1))
    .map((t) => {
      const m = t.markerOffset!;
      const stillOpen = txns
        .filter((o) => o !== t && o.firstOffset < m && (o.markerOffset === undefined || o.markerOffset > m))
        .map((o) => o.firstOffset);
      const lso = stillOpen.length === 0 ? m + 1n : stillOpen.reduce((a, b) => (a < b ? a : b));
      return { producerId: t.producerId, firstOffset: t.firstOffset, lastOffset: m, lastStableOffset: lso };
    });
}

describe('ProducerTxnState seeded model test', () => {
  for (const seed of [11, 12, 13, 14, 15]) {
    it(`agrees with a recompute-from-history reference; read_committed readers see exactly the committed data (seed ${seed})`, () => {
      const rng = new SeededRng(seed);
      const s = new ProducerTxnState();
      const history: LoggedBatch[] = [];
      const epochs = new Map<bigint, number>([
        [1n, 0],
        [2n, 0],
        [3n, 0],
        [4n, 0],
      ]);
      const openRef = new Set<bigint>();
      let leo = 0n;
      let hw = 0n;
      let coordinatorEpoch = 0;
      let aborts = 0;
      let commits = 0;
      let refusals = 0;
      for (let step = 0; step < 600; step++) {
        const ctx = `seed ${seed} step ${step}`;
        const op = rng.int(100);
        if (op < 20) {
          // The high watermark moves to a batch boundary at or below the log end.
          const boundaries = history.map((h) => h.batch.lastOffset + 1n).filter((o) => o > hw);
          if (boundaries.length > 0) {
            hw = boundaries[rng.int(boundaries.length)]!;
            s.onHighWatermarkUpdated(hw);
          }
        } else {
          const pid = BigInt(1 + rng.int(4));
          const known = epochs.get(pid)!;
          const epoch = rng.chance(0.1) ? Math.max(0, known - 1) : rng.chance(0.05) ? known + 1 : known;
          let batch: TxnBatch;
          let bytes: Buffer;
          if (op < 70) {
            const count = 1 + rng.int(3);
            const txn = !rng.chance(0.15);
            const p = rng.chance(0.05) ? -1n : pid;
            batch = {
              producerId: p,
              producerEpoch: p < 0n ? -1 : epoch,
              baseOffset: leo,
              lastOffset: leo + BigInt(count - 1),
              isTransactional: txn && p >= 0n,
              isControl: false,
            };
            bytes = encodeRecordBatch(
              Array.from({ length: count }, (_, i) => ({ value: Buffer.from(String(leo + BigInt(i))), timestamp: 0n })),
              {
                baseOffset: leo,
                producerId: p,
                producerEpoch: batch.producerEpoch,
                baseSequence: p < 0n ? -1 : 0,
                isTransactional: batch.isTransactional,
              },
            );
          } else {
            const commit = rng.chance(0.5);
            const ce = rng.chance(0.05) ? coordinatorEpoch - 1 : coordinatorEpoch + (rng.chance(0.05) ? 1 : 0);
            batch = marker(pid, epoch, leo, commit, ce);
            bytes = encodeControlBatch({
              type: commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
              coordinatorEpoch: ce,
              producerId: pid,
              producerEpoch: epoch,
              timestamp: 0n,
              baseOffset: leo,
            });
          }
          // The reference's rules: README section 2 and Kafka's ProducerAppendInfo.
          const knownCe = history
            .filter((h) => h.batch.isControl && h.batch.producerId === batch.producerId)
            .reduce((a, h) => Math.max(a, h.batch.coordinatorEpoch!), -1);
          let want: number | null = null;
          if (batch.producerId >= 0n && history.some((h) => h.batch.producerId === batch.producerId)) {
            if (batch.producerEpoch < known) want = ErrorCode.INVALID_PRODUCER_EPOCH;
            else if (batch.isControl && batch.coordinatorEpoch! < knownCe) want = ErrorCode.TRANSACTION_COORDINATOR_FENCED;
            else if (!batch.isControl && !batch.isTransactional && openRef.has(batch.producerId)) want = ErrorCode.INVALID_TXN_STATE;
          }
          expect(s.checkLeaderAppend(batch)?.errorCode ?? null, ctx).toBe(want);
          if (want !== null) {
            refusals++;
            continue;
          }
          s.append(batch);
          history.push({ batch, bytes });
          leo = batch.lastOffset + 1n;
          if (batch.producerId >= 0n) {
            epochs.set(batch.producerId, Math.max(known, batch.producerEpoch));
            if (batch.isControl) {
              coordinatorEpoch = Math.max(coordinatorEpoch, batch.coordinatorEpoch!);
              if (openRef.delete(batch.producerId)) {
                if (batch.controlType === 1) commits++;
                else aborts++;
              }
            } else if (batch.isTransactional) openRef.add(batch.producerId);
          }
        }
        const lso = s.lastStableOffset(hw);
        expect(lso, ctx).toBe(refLso(history, hw));
        expect(s.abortedTxns(), ctx).toEqual(refAborted(history));

        // A read_committed fetch from a batch boundary up to the LSO sees exactly the committed and
        // non-transactional records: nothing aborted, nothing undecided.
        const starts = [0n, ...history.map((h) => h.batch.lastOffset + 1n)].filter((o) => o <= lso);
        const fetchOffset = starts[rng.int(starts.length)]!;
        const inRange = history.filter((h) => h.batch.baseOffset >= fetchOffset && h.batch.baseOffset < lso);
        const aborted = s.collectAbortedTxns(fetchOffset, lso);
        expect(aborted, ctx).toEqual(refAborted(history).filter((t) => t.lastOffset >= fetchOffset && t.firstOffset < lso));
        const read = decodeRecordsReadCommitted(Buffer.concat(inRange.map((h) => h.bytes)), aborted).map((r) => r.offset);
        const txns = refTxns(history);
        const outcome = (b: TxnBatch): boolean | undefined => {
          const t = txns.filter((x) => x.producerId === b.producerId && x.firstOffset <= b.baseOffset).at(-1);
          return t?.committed;
        };
        const expected: bigint[] = [];
        for (const { batch } of inRange) {
          if (batch.isControl) continue;
          if (batch.isTransactional && outcome(batch) !== true) {
            expect(outcome(batch), `${ctx}: an undecided transaction below the LSO`).toBe(false);
            continue;
          }
          for (let o = batch.baseOffset; o <= batch.lastOffset; o++) expected.push(o);
        }
        expect(read, ctx).toEqual(expected);
      }
      // Recovery: replaying the stored bytes into a fresh state gives the same LSO, open transactions and index.
      const recovered = new ProducerTxnState();
      recovered.applyBatches(Buffer.concat(history.map((h) => h.bytes)));
      recovered.onHighWatermarkUpdated(hw);
      expect(recovered.lastStableOffset(hw)).toBe(s.lastStableOffset(hw));
      expect(recovered.abortedTxns()).toEqual(s.abortedTxns());
      expect(recovered.ongoingTxns()).toEqual(s.ongoingTxns());
      expect(decodeTxnIndex(Buffer.concat(s.abortedTxns().map(encodeAbortedTxn))).entries).toEqual(s.abortedTxns());
      expect(commits, `seed ${seed}: commits`).toBeGreaterThan(5);
      expect(aborts, `seed ${seed}: aborts`).toBeGreaterThan(5);
      expect(refusals, `seed ${seed}: refusals`).toBeGreaterThan(5);
    });
  }
});
