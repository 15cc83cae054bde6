/**
 * Seeded model test of the producer state across replication: two replicas of one partition with
 * small segments (a snapshot per roll) take leader appends (in-sequence, duplicate, out-of-order,
 * non-idempotent, new epochs), follower fetches (cut at random byte counts), follower
 * truncations, clean and crashed restarts and leadership swaps. After every step each replica's
 * incremental producer state must equal a from-scratch rebuild of its log (no snapshots): what a
 * new leader accepts must depend on its log only, not on how its state got there.
 *
 * It caught a replay that skipped batches: a rebuild (load after a crash, a follower truncation)
 * read the log one segment (or 1 MiB) at a time but marked the state complete up to the log end
 * after the first read, so a new leader could expect a sequence its log already held.
 */
import { DEFAULT_TOPIC_CONFIG } from '@samsa/metadata';
import { SamsaProtocolError, encodeRecordBatch } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import { ProducerStateManager, type ProducerStateLog } from '../../src/log/producerStateManager.js';
import type { PartitionInfo } from '../../src/metadata/image.js';
import { Partition } from '../../src/partition.js';
import { seededRandom } from '@samsa/protocol';
import { tempDir } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

interface Replica {
  id: number;
  dir: string;
  log: Log;
  p: Partition;
}

function infoOf(leader: number, leaderEpoch: number): PartitionInfo {
  return { partition: 0, leader, leaderEpoch, partitionEpoch: leaderEpoch, replicas: [1, 2], isr: [1, 2] };
}

function open(id: number, dir: string, info: PartitionInfo, segmentBytes: number): Replica {
  const log = Log.open(dir, { segmentBytes }, { clock: () => Date.now() });
  const p = new Partition('t', 0, log, { ...DEFAULT_TOPIC_CONFIG, 'min.insync.replicas': 1 }, id, info, () => Date.now(), {
    replicaLagTimeMaxMs: 1_000,
    alterPartitionRetryBackoffMs: 100,
    isReplicaIsrEligible: () => true,
    submitAlterPartition: () => new Promise(() => {}),
    listener: { onHighWatermarkChanged: () => {}, onIsrChanged: () => {} },
    logger: pino({ level: 'silent' }),
  });
  return { id, dir, log, p };
}

/** The state a replica would have if it rebuilt it from its log alone (no snapshot). */
function rebuilt(log: Log, emptyDir: string): ProducerStateManager {
  const view: ProducerStateLog = {
    dir: emptyDir,
    get logStartOffset() {
      return log.logStartOffset;
    },
    get logEndOffset() {
      return log.logEndOffset;
    },
    read: (offset, maxBytes, maxOffset, minOneBatch) => log.read(offset, maxBytes, maxOffset, minOneBatch),
  };
  return ProducerStateManager.load(view);
}

function stateOf(m: ProducerStateManager, ids: readonly bigint[]) {
  return { end: m.mapEndOffset, count: m.producerCount, producers: ids.map((id) => m.entry(id) ?? null) };
}

const PIDS = [7n, 8n];

function runSeed(seed: number, steps: number): void {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const segmentBytes = 250 + Math.floor(rnd() * 400);
  const dirs = [tempDir('samsa-psm-'), tempDir('samsa-psm-'), tempDir('samsa-psm-empty-')];
  let leaderEpoch = 0;
  let leaderId = 1;
  const replicas = new Map<number, Replica>([
    [1, open(1, dirs[0]!.dir, infoOf(1, 0), segmentBytes)],
    [2, open(2, dirs[1]!.dir, infoOf(1, 0), segmentBytes)],
  ]);
  cleanups.push(() => {
    for (const r of replicas.values()) if (!r.log.isClosed) r.log.close();
    for (const d of dirs) d.cleanup();
  });
  const epochs = new Map<bigint, number>(PIDS.map((id) => [id, 0]));
  const recent: Buffer[] = [];
  let value = 0;
  const history: string[] = [];

  const check = (what: string) => {
    for (const r of replicas.values()) {
      const fresh = rebuilt(r.log, dirs[2]!.dir);
      const context = `seed ${seed}, after ${what} on replica ${r.id}; history:\n${history.slice(-15).join('\n')}`;
      expect(r.p.producerState.mapEndOffset, context).toBe(r.log.logEndOffset);
      expect(stateOf(r.p.producerState, PIDS), context).toEqual(stateOf(fresh, PIDS));
    }
  };
  const leader = () => replicas.get(leaderId)!;
  const follower = () => replicas.get(3 - leaderId)!;

  for (let step = 0; step < steps; step++) {
    const roll = rnd();
    if (roll < 0.45) {
      // A produce to the leader: usually the next sequence, sometimes a duplicate, a gap, a new epoch or no producer id.
      const kind = rnd();
      const pid = pick(PIDS);
      let bytes: Buffer;
      if (kind < 0.1 && recent.length > 0) {
        bytes = Buffer.from(pick(recent));
      } else if (kind < 0.15) {
        bytes = encodeRecordBatch([{ key: null, value: Buffer.from(`plain${value++}`), timestamp: BigInt(Date.now()) }], {});
      } else {
        const entry = leader().p.producerState.entry(pid);
        let epoch = epochs.get(pid)!;
        if (kind > 0.97) epochs.set(pid, ++epoch);
        let seq = entry && entry.epoch === epoch ? entry.batches.at(-1)!.lastSeq + 1 : 0;
        if (kind > 0.93 && kind <= 0.97) seq += 1 + Math.floor(rnd() * 3);
        const count = 1 + Math.floor(rnd() * 3);
        bytes = encodeRecordBatch(
          Array.from({ length: count }, () => ({ key: null, value: Buffer.from(`v${value++}`), timestamp: BigInt(Date.now()) })),
          { producerId: pid, producerEpoch: epoch, baseSequence: seq },
        );
        recent.push(Buffer.from(bytes));
        if (recent.length > 8) recent.shift();
      }
      let outcome = 'ok';
      try {
        leader().p.appendRecordsToLeader(bytes, 1);
      } catch (err) {
        if (!(err instanceof SamsaProtocolError)) throw err;
        outcome = err.message;
      }
      history.push(`produce to ${leaderId}: ${outcome} (leo ${leader().log.logEndOffset})`);
      check('a produce');
    } else if (roll < 0.75) {
      // The follower fetches from its log end; the answer may be cut inside a batch.
      const f = follower();
      const l = leader();
      if (f.log.logEndOffset < l.log.logEndOffset) {
        let records = l.log.read(f.log.logEndOffset, 64 + Math.floor(rnd() * 2_000), undefined, true).records;
        if (rnd() < 0.3) records = records.subarray(0, Math.floor(rnd() * records.length));
        f.p.appendRecordsAsFollower(records);
        history.push(`follower ${f.id} fetched ${records.length} bytes (leo ${f.log.logEndOffset})`);
        check('a follower fetch');
      }
    } else if (roll < 0.82) {
      // The follower truncates (divergence found) and fetches again later.
      const f = follower();
      const end = f.log.logEndOffset;
      const start = f.log.logStartOffset;
      if (end > start) {
        const to = start + BigInt(Math.floor(rnd() * Number(end - start + 1n)));
        f.p.truncateTo(to);
        history.push(`follower ${f.id} truncated to ${to} (leo ${f.log.logEndOffset})`);
        check('a truncation');
      }
    } else if (roll < 0.92) {
      // A restart of either replica: clean (shutdown snapshot) or a crash.
      const r = pick([...replicas.values()]);
      const clean = rnd() < 0.6;
      if (clean) r.p.snapshotProducerState();
      r.log.close();
      replicas.set(r.id, open(r.id, r.dir, infoOf(leaderId, leaderEpoch), segmentBytes));
      history.push(`replica ${r.id} restarted ${clean ? 'cleanly' : 'after a crash'} (leo ${replicas.get(r.id)!.log.logEndOffset})`);
      check('a restart');
    } else {
      // Leadership moves to the follower; the old leader truncates to the new leader's end, as
      // OffsetsForLeaderEpoch would make it (the follower's log is a prefix of the leader's).
      leaderEpoch++;
      leaderId = 3 - leaderId;
      for (const r of replicas.values()) r.p.applyRegistration(infoOf(leaderId, leaderEpoch));
      const f = follower();
      if (f.log.logEndOffset > leader().log.logEndOffset) f.p.truncateTo(leader().log.logEndOffset);
      history.push(`leader is now ${leaderId} epoch ${leaderEpoch} (leo ${leader().log.logEndOffset})`);
      check('a leader change');
    }
  }
}

describe('producer state across replication, restarts and truncation (seeded)', () => {
  // One test per seed: each is CPU work with its own time limit, not 15 seeds under one.
  it.each(Array.from({ length: 15 }, (_, i) => i + 1))(
    'always equals a rebuild from the log (seed %i)',
    (seed) => {
      runSeed(seed, 150);
    },
    120_000,
  );
});
