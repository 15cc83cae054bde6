/**
 * Partition's leader-side wiring around LeaderState: ISR changes go out through AlterPartition and
 * count once the answer (or metadata with a newer partition epoch) says so; stale answers and
 * re-delivered metadata change nothing; a new leader records its epoch before appending, so a
 * follower from the previous epoch is told where that epoch ends; across seeded ISR and leader
 * changes the partition checks exactly the leader epoch Metadata reports (an ISR change moves
 * only the partition epoch).
 */
import { DEFAULT_TOPIC_CONFIG, mergePartitionChange, partitionFromRecord, type PartitionChangeFields } from '@samsa/metadata';
import { ErrorCode, encodeRecordBatch, seededRandom } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import type { PartitionInfo } from '../../src/metadata/image.js';
import { Partition } from '../../src/partition.js';
import type { AlterPartitionItem, AlterPartitionItemResult } from '../../src/replication/alterPartition.js';
import { tempDir } from '../log/helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

interface Sent {
  item: AlterPartitionItem;
  answer: (result: AlterPartitionItemResult) => void;
}

function leaderPartition(info: Partial<PartitionInfo> = {}, minIsr = 2) {
  const { dir, cleanup } = tempDir('samsa-partition-');
  const log = Log.open(dir, {}, { clock: () => Date.now() });
  cleanups.push(() => {
    log.close();
    cleanup();
  });
  const sent: Sent[] = [];
  let now = 1_000;
  const events: string[] = [];
  const p = new Partition(
    't',
    0,
    log,
    { ...DEFAULT_TOPIC_CONFIG, 'min.insync.replicas': minIsr },
    1,
    { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1], ...info },
    () => now,
    {
      replicaLagTimeMaxMs: 1_000,
      alterPartitionRetryBackoffMs: 100,
      isReplicaIsrEligible: () => true,
      submitAlterPartition: (item) => new Promise((answer) => sent.push({ item, answer })),
      listener: { onHighWatermarkChanged: () => events.push('hw'), onIsrChanged: () => events.push('isr') },
      logger: pino({ level: 'silent' }),
    },
  );
  return {
    p,
    log,
    sent,
    events,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const batch = (n: number) =>
  encodeRecordBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: 1n })));
const fetchAt = (offset: bigint, lastFetchedEpoch = 0, currentLeaderEpoch = 0) => ({
  currentLeaderEpoch,
  fetchOffset: offset,
  lastFetchedEpoch,
  logStartOffset: 0n,
  brokerEpoch: 5n,
  maxBytes: 1 << 20,
});
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('ISR changes through AlterPartition', () => {
  it('an expansion counts once answered; metadata at the same partition epoch changes nothing', async () => {
    const { p, sent, events } = leaderPartition();
    p.appendRecordsToLeader(batch(3), 1);
    expect(p.highWatermark).toBe(3n);
    p.fetchRecordsForFollower(2, fetchAt(3n), true);
    expect(sent.map((s) => s.item)).toEqual([{ topic: 't', partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2] }]);
    expect(p.isr).toEqual([1]);
    expect(p.maximalIsr).toEqual([1, 2]);
    // Re-delivered metadata for the epoch the request is based on must not drop the pending expansion.
    p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1] });
    expect(p.maximalIsr).toEqual([1, 2]);
    sent[0]!.answer({ errorCode: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2] });
    await flush();
    expect(p.isr).toEqual([1, 2]);
    expect(p.partitionEpoch).toBe(1);
    expect(events).toContain('isr');
    expect(p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 1, replicas: [1, 2], isr: [1, 2] })).toBe(
      'updated',
    );
    expect(p.leaderState!.state).toEqual({ kind: 'committed', isr: [1, 2] });
  });

  it('an answer for a leadership this broker no longer has is ignored', async () => {
    const { p, sent } = leaderPartition();
    p.fetchRecordsForFollower(2, fetchAt(0n), true);
    expect(sent).toHaveLength(1);
    p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2], isr: [1] });
    sent[0]!.answer({ errorCode: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2] });
    await flush();
    expect(p.isr).toEqual([1]);
    expect(p.leaderState!.state.kind).toBe('committed');
  });

  it('acks=all with a committed ISR below min.insync.replicas writes nothing', () => {
    const { p, log } = leaderPartition();
    expect(() => p.appendRecordsToLeader(batch(1), -1)).toThrow(expect.objectContaining({ code: ErrorCode.NOT_ENOUGH_REPLICAS }));
    expect(log.logEndOffset).toBe(0n);
    p.appendRecordsToLeader(batch(1), 1);
    expect(log.logEndOffset).toBe(1n);
  });
});

describe('leader epochs', () => {
  it('a new leader records its epoch at its log end before appending: an old-epoch follower learns where that epoch ends', () => {
    const { p, log } = leaderPartition({ isr: [1, 2] });
    p.appendRecordsToLeader(batch(4), 1);
    p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 3, partitionEpoch: 1, replicas: [1, 2], isr: [1, 2] });
    expect(log.leaderEpochEntries).toEqual([
      { epoch: 0, startOffset: 0n },
      { epoch: 3, startOffset: 4n },
    ]);
    // A follower that also has epoch-0 data past offset 4 (an old leader's uncommitted suffix).
    expect(p.fetchRecordsForFollower(2, fetchAt(6n, 0, 3), true).divergingEpoch).toEqual({ epoch: 0, endOffset: 4n });
    expect(() => p.fetchRecordsForFollower(2, fetchAt(4n, 0, 2), true)).toThrow(
      expect.objectContaining({ code: ErrorCode.FENCED_LEADER_EPOCH }),
    );
    expect(() => p.fetchRecordsForFollower(2, fetchAt(4n, 0, 4), true)).toThrow(
      expect.objectContaining({ code: ErrorCode.UNKNOWN_LEADER_EPOCH }),
    );
    expect(() => p.fetchRecordsForFollower(3, fetchAt(4n, 0, 3), true)).toThrow(
      expect.objectContaining({ code: ErrorCode.NOT_LEADER_OR_FOLLOWER }),
    );
    // Its HW waits for broker 2, whose LEO the new leader does not know yet.
    expect(p.highWatermark).toBe(0n);
    p.fetchRecordsForFollower(2, fetchAt(4n, 0, 3), true);
    expect(p.highWatermark).toBe(4n);
  });
});

describe('the leader epoch a client learns from Metadata is the one the partition checks (seeded)', () => {
  /**
   * Changes as the controller writes them: an ISR shrink or expand carries no `leader` (only the
   * partition epoch moves), a leader change carries one (the leader epoch moves too). Replay is the
   * metadata package's mergePartitionChange, as on every broker. After each change the partition
   * holds the registration's epochs, and a client request carrying the registration's leader epoch
   * (what Metadata answers) passes checkLeader on the leader; one below is FENCED, one above UNKNOWN.
   */
  it('holds for 30 seeds x 40 changes of ISR and leadership', () => {
    const replicas = [1, 2, 3];
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      let reg = partitionFromRecord({
        type: 'Partition',
        topicId: 'x',
        partition: 0,
        replicas,
        isr: replicas,
        leader: 1,
        leaderEpoch: 0,
        partitionEpoch: 0,
      });
      const { p } = leaderPartition({ replicas, isr: [...replicas] });
      let isrOnly = 0;
      for (let step = 0; step < 40; step++) {
        const before = reg;
        let change: PartitionChangeFields;
        const kind = rnd();
        if (kind < 0.5) {
          // AlterPartition / fencing: one replica other than the leader leaves or comes back.
          const others = replicas.filter((r) => r !== reg.leader);
          const r = pick(others);
          const isr = reg.isr.includes(r) ? reg.isr.filter((x) => x !== r) : [...reg.isr, r];
          if (isr.length === 0) continue;
          change = { isr };
          isrOnly++;
        } else {
          // A leader change: to an ISR member, as an election or a preferred election does; or the
          // same leader in a new epoch (a PartitionChange that names the leader bumps the epoch).
          change = { leader: pick(reg.isr) };
        }
        reg = mergePartitionChange(reg, change);
        const info = {
          partition: 0,
          leader: reg.leader,
          leaderEpoch: reg.leaderEpoch,
          partitionEpoch: reg.partitionEpoch,
          replicas,
          isr: [...reg.isr],
        };
        expect(p.applyRegistration(info), `seed ${seed} step ${step}`).not.toBe('stale');
        // Re-delivered (a second metadata batch, a restart's replay) changes nothing.
        expect(p.applyRegistration(info)).not.toBe('stale');
        if (change.leader === undefined) expect(reg.leaderEpoch, `seed ${seed} step ${step}: an ISR change`).toBe(before.leaderEpoch);
        expect([p.leaderEpoch, p.partitionEpoch, p.leaderId], `seed ${seed} step ${step}`).toEqual([
          reg.leaderEpoch,
          reg.partitionEpoch,
          reg.leader,
        ]);
        if (reg.leader === 1) {
          expect(() => p.checkLeader(reg.leaderEpoch)).not.toThrow();
          expect(() => p.checkLeader(reg.leaderEpoch + 1)).toThrow(expect.objectContaining({ code: ErrorCode.UNKNOWN_LEADER_EPOCH }));
          if (reg.leaderEpoch > 0)
            expect(() => p.checkLeader(reg.leaderEpoch - 1)).toThrow(expect.objectContaining({ code: ErrorCode.FENCED_LEADER_EPOCH }));
        } else {
          expect(() => p.checkLeader(reg.leaderEpoch)).toThrow(expect.objectContaining({ code: ErrorCode.NOT_LEADER_OR_FOLLOWER }));
        }
        // The registration before this change, delivered late, is refused as stale.
        expect(
          p.applyRegistration({
            partition: 0,
            leader: before.leader,
            leaderEpoch: before.leaderEpoch,
            partitionEpoch: before.partitionEpoch,
            replicas,
            isr: [...before.isr],
          }),
        ).toBe('stale');
      }
      expect(isrOnly).toBeGreaterThan(0);
    }
  }, 120_000); // every leader change writes the leader-epoch checkpoint: slow on a loaded disk
});
