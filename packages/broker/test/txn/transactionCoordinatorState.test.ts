import { describe, expect, it } from 'vitest';
import { ErrorCode, SeededRng } from '@samsa/protocol';
import {
  MAX_PRODUCER_EPOCH,
  TransactionCoordinatorState,
  transactionStatePartitionFor,
  type TopicPartition,
  type TransactionLogRecord,
  type TransactionLogValue,
  type TxnState,
} from '../../src/txn/transactionCoordinatorState.js';
import { partitionFor } from '../../src/group/hash.js';
import { decodeTransactionLogRecord, encodeTransactionLogRecord } from '../../src/txn/records.js';

const MAX_TIMEOUT = 60_000;
const EXPIRATION = 600_000;

function counter(start = 1000n): (() => bigint) & { next: bigint } {
  const f = Object.assign(() => f.next++, { next: start });
  return f;
}

function coordinator(alloc = counter()): TransactionCoordinatorState {
  return new TransactionCoordinatorState(
    { transactionMaxTimeoutMs: MAX_TIMEOUT, transactionalIdExpirationMs: EXPIRATION, coordinatorEpoch: 4, offsetsTopicPartitions: 50 },
    alloc,
  );
}

/** Appends and applies: what the broker shell does once the append succeeds. */
function written<R>(
  c: TransactionCoordinatorState,
  log: TransactionLogRecord[],
  result: { response: R; records: TransactionLogRecord[] },
): R {
  for (const r of result.records) {
    log.push(r);
    c.replay(r);
  }
  return result.response;
}

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

describe('TransactionCoordinatorState', () => {
  it('runs a transaction: InitProducerId, AddPartitions, AddOffsets, EndTxn commit, markers, CompleteCommit', () => {
    const c = coordinator();
    const log: TransactionLogRecord[] = [];
    const init = written(
      c,
      log,
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 }, 0),
    );
    expect(init).toMatchObject({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    expect(c.describe('t')?.state).toBe('Empty');
    const p = { transactionalId: 't', producerId: 1000n, producerEpoch: 0 };
    expect(written(c, log, c.addPartitionsToTxn({ ...p, partitions: [tp('a', 0), tp('b', 1)] }, 5)).errorCode).toBe(ErrorCode.NONE);
    expect(written(c, log, c.addOffsetsToTxn({ ...p, groupId: 'g' }, 6)).errorCode).toBe(ErrorCode.NONE);
    expect(c.describe('t')).toMatchObject({ state: 'Ongoing', txnStartTimestamp: 5 });
    // Adding a partition already in the transaction writes nothing.
    expect(c.addPartitionsToTxn({ ...p, partitions: [tp('a', 0)] }, 7).records).toEqual([]);
    expect(written(c, log, c.endTxn({ ...p, committed: true }, 8)).errorCode).toBe(ErrorCode.NONE);
    expect(c.describe('t')?.state).toBe('PrepareCommit');
    expect(c.markerRequests()).toEqual([
      {
        transactionalId: 't',
        producerId: 1000n,
        producerEpoch: 0,
        coordinatorEpoch: 4,
        result: 'COMMIT',
        partitions: [tp('a', 0), tp('b', 1), tp('__consumer_offsets', partitionFor('g', 50))],
      },
    ]);
    // While the markers are written the next transaction must wait.
    expect(c.addPartitionsToTxn({ ...p, partitions: [tp('a', 0)] }, 9).response.errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(c.endTxn({ ...p, committed: true }, 9).response.errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(c.endTxn({ ...p, committed: false }, 9).response.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 }, 9).response.errorCode,
    ).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    for (const r of c.markersWritten('t', 1000n, 0, 10)) c.replay(r);
    expect(c.describe('t')?.state).toBe('CompleteCommit');
    expect(c.markerRequests()).toEqual([]);
    // A retried EndTxn(commit) is answered NONE; an abort after the commit is a state error.
    expect(c.endTxn({ ...p, committed: true }, 11).response.errorCode).toBe(ErrorCode.NONE);
    expect(c.endTxn({ ...p, committed: false }, 11).response.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('fences a zombie: a second InitProducerId bumps the epoch and the old epoch gets PRODUCER_FENCED', () => {
    const c = coordinator();
    const log: TransactionLogRecord[] = [];
    written(c, log, c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 }, 0));
    const second = written(
      c,
      log,
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 }, 1),
    );
    expect(second).toMatchObject({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 1 });
    const zombie = { transactionalId: 't', producerId: 1000n, producerEpoch: 0 };
    expect(c.addPartitionsToTxn({ ...zombie, partitions: [tp('a', 0)] }, 2).response.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(c.endTxn({ ...zombie, committed: true }, 2).response.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(c.addPartitionsToTxn({ ...zombie, producerEpoch: 5, partitions: [tp('a', 0)] }, 2).response.errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    expect(c.addPartitionsToTxn({ ...zombie, producerId: 7n, partitions: [tp('a', 0)] }, 2).response.errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    // KIP-360: re-initializing with the epoch just replaced is a retry whose answer was lost: same epoch, nothing written.
    expect(c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: 1000n, producerEpoch: 0 }, 3)).toMatchObject({
      response: { errorCode: ErrorCode.NONE, producerEpoch: 1 },
      records: [],
    });
    written(c, log, c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: 1000n, producerEpoch: 1 }, 4));
    // Any older epoch is fenced.
    expect(
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: 1000n, producerEpoch: 0 }, 5).response.errorCode,
    ).toBe(ErrorCode.PRODUCER_FENCED);
    expect(c.describe('t')?.producerEpoch).toBe(2);
  });

  it('aborts the open transaction of a new instance first (PrepareEpochFence), answering CONCURRENT_TRANSACTIONS', () => {
    const c = coordinator();
    const log: TransactionLogRecord[] = [];
    written(c, log, c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 }, 0));
    written(c, log, c.addPartitionsToTxn({ transactionalId: 't', producerId: 1000n, producerEpoch: 0, partitions: [tp('a', 0)] }, 1));
    const res = c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 }, 2);
    expect(res.response.errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(c.describe('t')).toMatchObject({ state: 'PrepareEpochFence', pendingState: 'PrepareAbort' });
    written(c, log, res);
    expect(c.describe('t')).toMatchObject({ state: 'PrepareAbort', producerEpoch: 1 });
    expect(c.markerRequests()).toMatchObject([{ result: 'ABORT', producerEpoch: 1, partitions: [tp('a', 0)] }]);
    for (const r of c.markersWritten('t', 1000n, 1, 3)) c.replay(r);
    const retried = written(
      c,
      log,
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 }, 4),
    );
    expect(retried).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 2 });
  });

  it('aborts a transaction past its timeout with an epoch bump, and expires an idle id', () => {
    const c = coordinator();
    const log: TransactionLogRecord[] = [];
    written(c, log, c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 1_000, producerId: -1n, producerEpoch: -1 }, 0));
    written(c, log, c.addPartitionsToTxn({ transactionalId: 't', producerId: 1000n, producerEpoch: 0, partitions: [tp('a', 0)] }, 100));
    expect(c.tick(1_100)).toEqual([]);
    const aborts = c.tick(1_101);
    expect(aborts).toHaveLength(1);
    written(c, log, { response: null, records: aborts });
    expect(c.describe('t')).toMatchObject({ state: 'PrepareAbort', producerEpoch: 1 });
    expect(c.endTxn({ transactionalId: 't', producerId: 1000n, producerEpoch: 0, committed: true }, 1_101).response.errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    for (const r of c.markersWritten('t', 1000n, 1, 1_200)) c.replay(r);
    expect(c.tick(1_200 + EXPIRATION - 1)).toEqual([]);
    const expired = c.tick(1_200 + EXPIRATION);
    expect(expired).toEqual([{ transactionalId: 't', value: null }]);
    expect(c.describe('t')?.state).toBe('Dead');
    written(c, log, { response: null, records: expired });
    expect(c.describe('t')).toBeUndefined();
  });

  it('refuses a timeout above transaction.max.timeout.ms and an empty id, changing nothing', () => {
    const c = coordinator();
    expect(
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: MAX_TIMEOUT + 1, producerId: -1n, producerEpoch: -1 }, 0),
    ).toMatchObject({ response: { errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT }, records: [] });
    expect(
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 0, producerId: -1n, producerEpoch: -1 }, 0).response.errorCode,
    ).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect(
      c.initProducerId({ transactionalId: '', transactionTimeoutMs: 10, producerId: -1n, producerEpoch: -1 }, 0).response.errorCode,
    ).toBe(ErrorCode.INVALID_REQUEST);
    expect(c.snapshot().size).toBe(0);
  });

  it('moves to a new producer id when the epoch is exhausted', () => {
    const c = coordinator();
    c.replay({
      transactionalId: 't',
      value: {
        producerId: 5n,
        lastProducerId: -1n,
        producerEpoch: MAX_PRODUCER_EPOCH,
        lastProducerEpoch: MAX_PRODUCER_EPOCH - 1,
        txnTimeoutMs: 1000,
        state: 'CompleteCommit',
        topicPartitions: [],
        txnStartTimestamp: 0,
        txnLastUpdateTimestamp: 0,
      },
    });
    const res = written(
      c,
      [],
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 }, 1),
    );
    expect(res).toMatchObject({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    expect(
      c.addPartitionsToTxn({ transactionalId: 't', producerId: 5n, producerEpoch: MAX_PRODUCER_EPOCH, partitions: [tp('a', 0)] }, 2)
        .response.errorCode,
    ).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('a failed write changes nothing and releases the id', () => {
    const c = coordinator();
    const first = c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 }, 0);
    expect(
      c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 }, 0).response.errorCode,
    ).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(first.records).toHaveLength(1);
    c.writeFailed('t');
    expect(c.describe('t')).toBeUndefined();
    written(c, [], c.initProducerId({ transactionalId: 't', transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 }, 0));
    const add = c.addPartitionsToTxn({ transactionalId: 't', producerId: 1001n, producerEpoch: 0, partitions: [tp('a', 0)] }, 1);
    c.writeFailed('t');
    expect(add.records).toHaveLength(1);
    expect(c.describe('t')).toMatchObject({ state: 'Empty', pendingState: null, topicPartitions: [] });
  });

  it('maps a transactional id to its __transaction_state partition as Kafka (Java hashCode)', () => {
    expect(transactionStatePartitionFor('my-txn')).toBe(partitionFor('my-txn', 50));
    expect(transactionStatePartitionFor('')).toBe(0);
  });
});

// ---- seeded model test --------------------------------------------------------------------------

/** The reference: the README's tables, written as plainly as possible, applied at once (no records in flight). */
interface RefTxn {
  pid: bigint;
  lastPid: bigint;
  epoch: number;
  lastEpoch: number;
  timeout: number;
  state: TxnState;
  parts: string[];
  start: number;
  updated: number;
}

class Reference {
  txns = new Map<string, RefTxn>();
  constructor(private readonly alloc: () => bigint) {}

  private bump(t: RefTxn): void {
    if (t.epoch >= MAX_PRODUCER_EPOCH) {
      t.lastPid = t.pid;
      t.pid = this.alloc();
      t.lastEpoch = -1;
      t.epoch = 0;
    } else {
      t.lastEpoch = t.epoch;
      t.epoch += 1;
    }
  }

  init(id: string, timeout: number, pid: bigint, epoch: number, now: number): { code: number; pid: bigint; epoch: number } {
    const none = (code: number) => ({ code, pid: -1n, epoch: -1 });
    if (timeout <= 0 || timeout > MAX_TIMEOUT) return none(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let t = this.txns.get(id);
    if (t === undefined) {
      t = { pid: this.alloc(), lastPid: -1n, epoch: 0, lastEpoch: -1, timeout, state: 'Empty', parts: [], start: -1, updated: now };
      this.txns.set(id, t);
      return { code: 0, pid: t.pid, epoch: 0 };
    }
    if (t.state === 'PrepareCommit' || t.state === 'PrepareAbort') return none(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (t.state === 'Ongoing') {
      this.abortWithBump(t, now);
      return none(ErrorCode.CONCURRENT_TRANSACTIONS);
    }
    if (pid !== -1n || epoch !== -1) {
      const current = pid === t.pid && epoch === t.epoch;
      if (!current && (pid === t.pid || pid === t.lastPid) && epoch === t.lastEpoch) return { code: 0, pid: t.pid, epoch: t.epoch };
      if (!current) return none(ErrorCode.PRODUCER_FENCED);
    }
    this.bump(t);
    Object.assign(t, { timeout, state: 'Empty', parts: [], start: -1, updated: now });
    return { code: 0, pid: t.pid, epoch: t.epoch };
  }

  private abortWithBump(t: RefTxn, now: number): void {
    if (t.epoch < MAX_PRODUCER_EPOCH) {
      t.lastEpoch = t.epoch;
      t.epoch += 1;
    }
    t.state = 'PrepareAbort';
    t.updated = now;
  }

  private check(id: string, pid: bigint, epoch: number): number {
    const t = this.txns.get(id);
    if (t === undefined) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (pid !== t.pid) return pid === t.lastPid ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (epoch < t.epoch) return ErrorCode.PRODUCER_FENCED;
    if (epoch > t.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    return 0;
  }

  add(id: string, pid: bigint, epoch: number, parts: string[], now: number): number {
    const code = this.check(id, pid, epoch);
    if (code !== 0) return code;
    const t = this.txns.get(id)!;
    if (t.state === 'PrepareCommit' || t.state === 'PrepareAbort') return ErrorCode.CONCURRENT_TRANSACTIONS;
    const before = t.state === 'Ongoing' ? t.parts : [];
    const after = [...before, ...parts.filter((p, i) => !before.includes(p) && parts.indexOf(p) === i)];
    if (t.state === 'Ongoing' && after.length === before.length) return 0;
    if (t.state !== 'Ongoing') t.start = now;
    Object.assign(t, { state: 'Ongoing', parts: after, updated: now });
    return 0;
  }

  end(id: string, pid: bigint, epoch: number, commit: boolean, now: number): number {
    const code = this.check(id, pid, epoch);
    if (code !== 0) return code;
    const t = this.txns.get(id)!;
    const prepare = commit ? 'PrepareCommit' : 'PrepareAbort';
    const complete = commit ? 'CompleteCommit' : 'CompleteAbort';
    if (t.state === 'Ongoing') {
      Object.assign(t, { state: prepare, updated: now });
      return 0;
    }
    if (t.state === complete) return 0;
    if (t.state === prepare) return ErrorCode.CONCURRENT_TRANSACTIONS;
    return ErrorCode.INVALID_TXN_STATE;
  }

  complete(id: string, now: number): void {
    const t = this.txns.get(id)!;
    Object.assign(t, { state: t.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort', parts: [], updated: now });
  }

  tick(now: number): void {
    for (const [id, t] of this.txns) {
      if (t.state === 'Ongoing' && t.start + t.timeout < now) this.abortWithBump(t, now);
      else if (['Empty', 'CompleteCommit', 'CompleteAbort'].includes(t.state) && t.updated + EXPIRATION <= now) this.txns.delete(id);
    }
  }
}

function asRef(v: TransactionLogValue): RefTxn {
  return {
    pid: v.producerId,
    lastPid: v.lastProducerId,
    epoch: v.producerEpoch,
    lastEpoch: v.lastProducerEpoch,
    timeout: v.txnTimeoutMs,
    state: v.state,
    parts: v.topicPartitions.map((p) => `${p.topic}-${p.partition}`),
    start: v.state === 'Ongoing' || v.state.startsWith('Prepare') ? v.txnStartTimestamp : -1,
    updated: v.txnLastUpdateTimestamp,
  };
}

function refView(ref: Reference): Map<string, RefTxn> {
  const out = new Map<string, RefTxn>();
  for (const [id, t] of ref.txns)
    out.set(id, { ...t, parts: [...t.parts], start: t.state === 'Ongoing' || t.state.startsWith('Prepare') ? t.start : -1 });
  return out;
}

function realView(c: TransactionCoordinatorState): Map<string, RefTxn> {
  const out = new Map<string, RefTxn>();
  for (const [id, v] of c.snapshot()) out.set(id, asRef(v));
  return out;
}

describe('TransactionCoordinatorState seeded model test', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`agrees with the reference and survives failover (seed ${seed})`, () => {
      const rng = new SeededRng(seed);
      const ids = ['t0', 't1', 't2'];
      const topics = ['a-0', 'a-1', 'b-0', 'c-3'];
      // Producer ids come from the controller, one allocator for every coordinator of the cluster.
      const alloc = counter();
      const refAlloc = counter();
      let c = coordinator(alloc);
      const ref = new Reference(refAlloc);
      const log: TransactionLogRecord[] = [];
      // Every (pid, epoch) a client of an id ever got: current ones and zombies.
      const clients = new Map<string, Array<{ pid: bigint; epoch: number }>>();
      let now = 0;
      const ctx = (step: number, op: string) => `seed ${seed} step ${step} ${op}`;
      const statesSeen = new Set<TxnState>();
      const codesSeen = new Set<number>();

      /** Writes the records unless the "append" fails; returns whether they were applied. */
      const apply = (id: string, records: TransactionLogRecord[]): boolean => {
        if (records.length > 0 && rng.chance(0.08)) {
          c.writeFailed(id);
          // A producer id drawn for a write that failed is lost, as in Kafka.
          refAlloc.next = alloc.next;
          return false;
        }
        for (const r of records) {
          log.push(r);
          c.replay(r);
        }
        return true;
      };

      for (let step = 0; step < 1500; step++) {
        now += rng.int(4) === 0 ? rng.int(70_000) : rng.int(500);
        const id = ids[rng.int(ids.length)]!;
        const known = clients.get(id) ?? [];
        const who =
          known.length > 0 && rng.chance(0.85)
            ? known[rng.chance(0.7) ? known.length - 1 : rng.int(known.length)]!
            : { pid: BigInt(1000 + rng.int(8)), epoch: rng.int(3) };
        const op = rng.int(100);
        if (op < 15) {
          const timeout = rng.chance(0.05) ? MAX_TIMEOUT + 1 : 1 + rng.int(MAX_TIMEOUT);
          const kip360 = rng.chance(0.3);
          const pid = kip360 ? who.pid : -1n;
          const epoch = kip360 ? who.epoch : -1;
          const res = c.initProducerId({ transactionalId: id, transactionTimeoutMs: timeout, producerId: pid, producerEpoch: epoch }, now);
          if (!apply(id, res.records)) continue;
          const want = ref.init(id, timeout, pid, epoch, now);
          expect([res.response.errorCode, res.response.producerId, res.response.producerEpoch], ctx(step, 'init')).toEqual([
            want.code,
            want.pid,
            want.epoch,
          ]);
          if (want.code === 0) clients.set(id, [...known, { pid: want.pid, epoch: want.epoch }]);
          codesSeen.add(want.code);
        } else if (op < 45) {
          const parts = Array.from({ length: 1 + rng.int(2) }, () => topics[rng.int(topics.length)]!);
          const offsets = rng.chance(0.2);
          const res = offsets
            ? c.addOffsetsToTxn({ transactionalId: id, producerId: who.pid, producerEpoch: who.epoch, groupId: 'g' }, now)
            : c.addPartitionsToTxn(
                {
                  transactionalId: id,
                  producerId: who.pid,
                  producerEpoch: who.epoch,
                  partitions: parts.map((p) => tp(p.split('-')[0]!, Number(p.split('-')[1]))),
                },
                now,
              );
          if (!apply(id, res.records)) continue;
          const want = ref.add(id, who.pid, who.epoch, offsets ? [`__consumer_offsets-${partitionFor('g', 50)}`] : parts, now);
          expect(res.response.errorCode, ctx(step, 'add')).toBe(want);
          codesSeen.add(want);
        } else if (op < 65) {
          const commit = rng.chance(0.6);
          const res = c.endTxn({ transactionalId: id, producerId: who.pid, producerEpoch: who.epoch, committed: commit }, now);
          if (!apply(id, res.records)) continue;
          const want = ref.end(id, who.pid, who.epoch, commit, now);
          expect(res.response.errorCode, ctx(step, 'end')).toBe(want);
          codesSeen.add(want);
        } else if (op < 85) {
          // The marker writer finishes some of what is owed.
          const owed = c.markerRequests();
          const refOwed = [...ref.txns.entries()].filter(([, t]) => t.state === 'PrepareCommit' || t.state === 'PrepareAbort');
          expect(
            owed.map((m) => [
              m.transactionalId,
              m.producerId,
              m.producerEpoch,
              m.result,
              m.partitions.map((p) => `${p.topic}-${p.partition}`),
            ]),
            ctx(step, 'markers'),
          ).toEqual(refOwed.map(([tid, t]) => [tid, t.pid, t.epoch, t.state === 'PrepareCommit' ? 'COMMIT' : 'ABORT', t.parts]));
          for (const m of owed) {
            if (!rng.chance(0.7)) continue;
            if (apply(m.transactionalId, c.markersWritten(m.transactionalId, m.producerId, m.producerEpoch, now)))
              ref.complete(m.transactionalId, now);
          }
        } else if (op < 95) {
          const records = c.tick(now);
          for (const r of records) {
            log.push(r);
            c.replay(r);
          }
          ref.tick(now);
        } else {
          // Failover: a new coordinator loads the log and must hold the same state.
          const loaded = coordinator(alloc);
          // Through the bytes of __transaction_state, as a load reads them.
          for (const r of log) {
            const { key, value } = encodeTransactionLogRecord(r);
            loaded.replay(decodeTransactionLogRecord(key, value));
          }
          expect(realView(loaded), ctx(step, 'failover')).toEqual(realView(c));
          expect(loaded.markerRequests(), ctx(step, 'failover markers')).toEqual(c.markerRequests());
          c = loaded;
        }
        expect(realView(c), ctx(step, 'state')).toEqual(refView(ref));
        for (const t of ref.txns.values()) statesSeen.add(t.state);
        for (const [tid, t] of ref.txns) {
          // Every client's epoch ever handed out for the current producer id is at most the current one.
          for (const cl of clients.get(tid) ?? []) if (cl.pid === t.pid) expect(cl.epoch).toBeLessThanOrEqual(t.epoch);
        }
      }
      // The run went through every live state and the interesting answers, so agreement means something.
      for (const s of ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort'] as const)
        expect(statesSeen, `seed ${seed}: ${s}`).toContain(s);
      for (const code of [
        ErrorCode.NONE,
        ErrorCode.PRODUCER_FENCED,
        ErrorCode.CONCURRENT_TRANSACTIONS,
        ErrorCode.INVALID_TXN_STATE,
        ErrorCode.INVALID_PRODUCER_ID_MAPPING,
      ]) {
        expect(codesSeen, `seed ${seed}: code ${code}`).toContain(code);
      }
    });
  }
});
