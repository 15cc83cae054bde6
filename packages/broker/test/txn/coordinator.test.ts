/**
 * The coordinator shell under a seeded simulation: log appends and marker writes are slow and
 * fail at random, the coordinator fails over to a new one loaded from the persisted log, and
 * transactions are left open to time out. Once faults stop and time passes, every transaction is
 * complete, and every commit a producer was told about has a COMMIT marker on each of its
 * partitions (and no ABORT for it), every acknowledged abort an ABORT marker. The partitions check
 * markers as a leader does (ProducerTxnState), so a deposed coordinator's late marker is fenced.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, SeededRng } from '@samsa/protocol';
import { manualTimers } from '@samsa/testkit';
import { TransactionCoordinator, appendErrorToCoordinatorError, type TxnMarker } from '../../src/txn/coordinator.js';
import { ProducerTxnState } from '../../src/txn/producerTxnState.js';
import { TransactionCoordinatorState, type TopicPartition, type TransactionLogRecord } from '../../src/txn/transactionCoordinatorState.js';

const tpKey = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

describe('appendErrorToCoordinatorError', () => {
  it("maps append errors as Kafka's TransactionStateManager", () => {
    expect(appendErrorToCoordinatorError(ErrorCode.NOT_ENOUGH_REPLICAS)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(appendErrorToCoordinatorError(ErrorCode.NOT_LEADER_OR_FOLLOWER)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(appendErrorToCoordinatorError(ErrorCode.MESSAGE_TOO_LARGE)).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
  });
});

describe('TransactionCoordinator simulation', () => {
  for (const seed of [21, 22, 23, 24]) {
    it(`completes every transaction and writes the promised markers despite faults and a failover (seed ${seed})`, () => {
      const rng = new SeededRng(seed);
      const timers = manualTimers(0);
      const log: TransactionLogRecord[] = [];
      const markers = new Map<string, Array<TxnMarker & { at: number }>>();
      const partitions = new Map<string, ProducerTxnState>();
      // Orders acknowledgements and marker writes (several may share a millisecond).
      let events = 0;
      let faults = true;
      let nextPid = 100n;
      const alloc = () => nextPid++;
      const config = {
        transactionMaxTimeoutMs: 30_000,
        transactionalIdExpirationMs: 10_000_000,
        coordinatorEpoch: 0,
        offsetsTopicPartitions: 50,
      };
      let current: TransactionCoordinator;
      const make = (epoch: number): TransactionCoordinator => {
        const state = new TransactionCoordinatorState({ ...config, coordinatorEpoch: epoch }, alloc);
        for (const r of log) state.replay(r);
        const c: TransactionCoordinator = new TransactionCoordinator(
          state,
          {
            persist: (records, done) => {
              timers.setTimeout(() => {
                // A deposed coordinator's append is refused (its leader epoch is fenced).
                if (c !== current) return done(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'not the leader');
                if (faults && rng.chance(0.15)) return done(ErrorCode.NOT_ENOUGH_REPLICAS, 'not enough replicas');
                log.push(...records);
                done(ErrorCode.NONE, '');
              }, rng.int(40));
            },
            writeMarker: (tp, marker, done) => {
              timers.setTimeout(() => {
                if (faults && rng.chance(0.25)) return done(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'leader moved');
                // The partition's own check: a marker from a deposed coordinator (older coordinator epoch) is fenced.
                const partition = partitions.get(tpKey(tp)) ?? new ProducerTxnState();
                partitions.set(tpKey(tp), partition);
                const batch = {
                  producerId: marker.producerId,
                  producerEpoch: marker.producerEpoch,
                  baseOffset: 0n,
                  lastOffset: 0n,
                  isTransactional: true,
                  isControl: true,
                  controlType: marker.result === 'COMMIT' ? (1 as const) : (0 as const),
                  coordinatorEpoch: marker.coordinatorEpoch,
                };
                const refused = partition.checkLeaderAppend(batch);
                if (refused !== null) return done(refused.errorCode, refused.errorMessage);
                partition.append(batch);
                const list = markers.get(tpKey(tp)) ?? [];
                list.push({ ...marker, at: ++events });
                markers.set(tpKey(tp), list);
                done(ErrorCode.NONE, '');
              }, rng.int(60));
            },
          },
          timers,
          { markerRetryBackoffMs: 50, abortTimedOutTransactionsIntervalMs: 1_000 },
        );
        current = c;
        c.start();
        return c;
      };
      current = make(0);

      const ids = ['a', 'b', 'c'];
      const creds = new Map<string, { producerId: bigint; producerEpoch: number }>();
      // Outcomes a producer was told: EndTxn answered NONE for an Ongoing transaction.
      const promised: Array<{
        id: string;
        producerId: bigint;
        producerEpoch: number;
        commit: boolean;
        partitions: TopicPartition[];
        at: number;
      }> = [];
      let failovers = 0;
      for (let step = 0; step < 400; step++) {
        timers.advance(rng.int(80));
        if (step === 200) {
          current.stop();
          make(1);
          failovers++;
        }
        const id = ids[rng.int(ids.length)]!;
        const c = current;
        const cred = creds.get(id);
        const op = rng.int(10);
        if (cred === undefined || op === 0) {
          c.initProducerId(
            { transactionalId: id, transactionTimeoutMs: 5_000 + rng.int(20_000), producerId: -1n, producerEpoch: -1 },
            (r) => {
              if (r.errorCode === ErrorCode.NONE) creds.set(id, { producerId: r.producerId, producerEpoch: r.producerEpoch });
            },
          );
        } else if (op < 6) {
          const partitions = Array.from({ length: 1 + rng.int(2) }, () => ({
            topic: rng.chance(0.5) ? 'in' : 'out',
            partition: rng.int(3),
          }));
          c.addPartitionsToTxn({ transactionalId: id, ...cred, partitions }, () => undefined);
        } else if (op < 9) {
          const commit = rng.chance(0.6);
          const before = c.state.describe(id);
          c.endTxn({ transactionalId: id, ...cred, committed: commit }, (r) => {
            if (r.errorCode === ErrorCode.NONE && before?.state === 'Ongoing' && before.pendingState === null) {
              promised.push({ id, ...cred, commit, partitions: before.topicPartitions, at: ++events });
            }
          });
        }
        // op 9: the producer goes quiet (its transaction may time out).
      }
      // Faults stop; time passes beyond every timeout and retry.
      faults = false;
      for (let i = 0; i < 200; i++) timers.advance(500);

      const state = current.state;
      expect(state.markerRequests()).toEqual([]);
      for (const d of state.list()) expect(['Empty', 'CompleteCommit', 'CompleteAbort']).toContain(d.state);
      expect(failovers).toBe(1);
      expect(promised.filter((p) => p.commit).length).toBeGreaterThan(3);
      expect(promised.filter((p) => !p.commit).length).toBeGreaterThan(1);
      for (const p of promised) {
        for (const tp of p.partitions) {
          const got = (markers.get(tpKey(tp)) ?? []).filter(
            (m) => m.producerId === p.producerId && m.producerEpoch === p.producerEpoch && m.at > p.at,
          );
          const next = promised.find((q) => q !== p && q.producerId === p.producerId && q.producerEpoch === p.producerEpoch && q.at > p.at);
          // Markers for this transaction: after its EndTxn, before the next transaction of the same epoch ended.
          const mine = got.filter((m) => next === undefined || m.at < next.at);
          expect(mine.length, `${p.id} ${tpKey(tp)}`).toBeGreaterThan(0);
          expect(new Set(mine.map((m) => m.result)), `${p.id} ${tpKey(tp)}`).toEqual(new Set([p.commit ? 'COMMIT' : 'ABORT']));
        }
      }
      current.stop();
    });
  }
});
