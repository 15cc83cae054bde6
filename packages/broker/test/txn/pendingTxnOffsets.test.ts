import { describe, expect, it } from 'vitest';
import { SeededRng } from '@samsa/protocol';
import { PendingTxnOffsets, type CommittedOffset, type TxnOffset } from '../../src/txn/pendingTxnOffsets.js';

const off = (topic: string, partition: number, offset: bigint): TxnOffset => ({
  topic,
  partition,
  offset,
  leaderEpoch: 0,
  metadata: '',
  commitTimestamp: 0,
});

describe('PendingTxnOffsets', () => {
  it('keeps transactional offsets invisible until COMMIT, then hands them over', () => {
    const p = new PendingTxnOffsets();
    p.prepare(7n, [off('in', 0, 10n), off('in', 1, 20n)]);
    expect(p.hasPendingForPartition('in', 0)).toBe(true);
    p.onAppended(7n, off('in', 0, 10n), 100n);
    p.onAppended(7n, off('in', 1, 20n), 100n);
    const visible = p.complete(7n, true, () => undefined);
    expect(visible.map((o) => [o.topic, o.partition, o.offset])).toEqual([
      ['in', 0, 10n],
      ['in', 1, 20n],
    ]);
    expect(p.hasPendingForPartition('in', 0)).toBe(false);
    expect(p.hasPendingFromProducer(7n)).toBe(false);
  });

  it('drops them on ABORT', () => {
    const p = new PendingTxnOffsets();
    p.prepare(7n, [off('in', 0, 10n)]);
    p.onAppended(7n, off('in', 0, 10n), 100n);
    expect(p.complete(7n, false, () => undefined)).toEqual([]);
    expect(p.hasPendingForPartition('in', 0)).toBe(false);
  });

  it('a failed append drops what was not written; a later plain commit in the log wins', () => {
    const p = new PendingTxnOffsets();
    p.prepare(7n, [off('in', 0, 10n), off('in', 1, 20n)]);
    p.onAppended(7n, off('in', 0, 10n), 100n);
    p.failAppend(7n, [
      { topic: 'in', partition: 0 },
      { topic: 'in', partition: 1 },
    ]);
    expect(p.hasPendingForPartition('in', 1)).toBe(false);
    expect(p.hasPendingForPartition('in', 0)).toBe(true);
    const newer: CommittedOffset = { ...off('in', 0, 50n), appendedBatchOffset: 150n };
    expect(p.complete(7n, true, () => newer)).toEqual([]);
  });

  it('seeded: committed offsets equal a reference that replays the log in order', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new SeededRng(seed);
      const p = new PendingTxnOffsets();
      const visible = new Map<string, CommittedOffset>();
      // Reference: per producer, the appended (logOffset, offset) list; applied in log order on commit.
      const refPending = new Map<bigint, Map<string, { offset: bigint; at: bigint }>>();
      const refVisible = new Map<string, { offset: bigint; at: bigint }>();
      let logOffset = 0n;
      for (let step = 0; step < 500; step++) {
        const pid = BigInt(rng.int(3));
        const tp = `in-${rng.int(3)}`;
        const [topic, partition] = ['in', Number(tp.split('-')[1])];
        const op = rng.int(10);
        if (op < 5) {
          const o = off(topic, partition, BigInt(rng.int(1000)));
          p.prepare(pid, [o]);
          p.onAppended(pid, o, logOffset);
          const m = refPending.get(pid) ?? new Map();
          m.set(tp, { offset: o.offset, at: logOffset });
          refPending.set(pid, m);
        } else if (op < 7) {
          // A plain (non-transactional) commit lands directly.
          const o: CommittedOffset = { ...off(topic, partition, BigInt(rng.int(1000))), appendedBatchOffset: logOffset };
          visible.set(tp, o);
          refVisible.set(tp, { offset: o.offset, at: logOffset });
        } else {
          const commit = rng.chance(0.6);
          for (const o of p.complete(pid, commit, (t, q) => visible.get(`${t}-${q}`))) visible.set(`${o.topic}-${o.partition}`, o);
          if (commit) for (const [k, v] of refPending.get(pid) ?? []) if ((refVisible.get(k)?.at ?? -1n) <= v.at) refVisible.set(k, v);
          refPending.delete(pid);
        }
        logOffset++;
        expect(new Map([...visible].map(([k, v]) => [k, v.offset]))).toEqual(new Map([...refVisible].map(([k, v]) => [k, v.offset])));
        for (const k of ['in-0', 'in-1', 'in-2']) {
          expect(p.hasPendingForPartition('in', Number(k.split('-')[1]))).toBe([...refPending.values()].some((m) => m.has(k)));
        }
      }
    }
  });
});
