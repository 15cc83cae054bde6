/**
 * The follower's fetcher against a fake LeaderEndPoint that serves from a real leader Partition
 * (the same leader-side code the gRPC service runs): divergence is truncated where the leader
 * epochs say — KIP-101's uncommitted suffix and KIP-279's fast leader changes — never at the HW
 * alone; a follower behind the leader's log start starts over there; a fenced epoch waits for
 * metadata; and the follower ends byte-identical to the leader.
 */
import { DEFAULT_TOPIC_CONFIG } from '@samsa/metadata';
import { ErrorCode, SamsaProtocolError, encodeRecordBatch } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import type { PartitionInfo } from '../../src/metadata/image.js';
import { Partition, type ReplicationContext } from '../../src/partition.js';
import type { LeaderEndPoint, ReplicaFetchParams, ReplicaFetchResult } from '../../src/replication/leaderEndPoint.js';
import { ReplicaFetchSessionCache } from '../../src/replication/fetchSessions.js';
import { DEFAULT_REPLICA_FETCHER_CONFIG, ReplicaFetcherManager } from '../../src/replication/replicaFetcher.js';
import { realTimers, type Timers } from '@samsa/server';
import { manualTimers, waitFor } from '@samsa/testkit';
import { tempDir } from '../log/helpers.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const ctx: ReplicationContext = {
  replicaLagTimeMaxMs: 30_000,
  alterPartitionRetryBackoffMs: 100,
  isReplicaIsrEligible: () => true,
  submitAlterPartition: async () => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'not in this test' }),
  listener: { onHighWatermarkChanged() {}, onIsrChanged() {} },
  logger,
};

function openLog(): Log {
  const { dir, cleanup } = tempDir('samsa-fetcher-');
  const log = Log.open(dir, {}, { clock: () => Date.now() });
  cleanups.push(() => {
    log.close();
    cleanup();
  });
  return log;
}

const batch = (values: string[]) =>
  encodeRecordBatch(values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1_000n + BigInt(i) })));

/** Appends one batch per value list at `epoch`, as a leader of that epoch did. */
function write(log: Log, epoch: number, ...batches: string[][]): void {
  for (const values of batches) log.appendAsLeader(batch(values), epoch);
}

/** Every batch of a log, verbatim. */
function bytesOf(log: Log): Buffer {
  return log.read(log.logStartOffset, 1 << 24, undefined, true).records;
}

function replicaOn(brokerId: number, log: Log, info: PartitionInfo): Partition {
  return new Partition('t', 0, log, DEFAULT_TOPIC_CONFIG, brokerId, info, () => Date.now(), ctx);
}

/**
 * A leader endpoint that answers from a leader Partition in this process, through the same
 * incremental fetch session cache the gRPC service uses (KIP-227), so every test here also runs
 * the follower's session handling.
 */
class FakeLeader implements LeaderEndPoint {
  readonly description = 'the fake leader';
  readonly requests: ReplicaFetchParams[] = [];
  readonly sessions = new ReplicaFetchSessionCache({ now: Date.now, random: Math.random });
  /** Runs once the answer is read, before it is returned (to move the follower under a fetch). */
  beforeAnswer: ((params: ReplicaFetchParams, answered: number) => void) | undefined;

  constructor(private readonly leader: Partition) {}

  async fetch(params: ReplicaFetchParams): Promise<ReplicaFetchResult> {
    this.requests.push(params);
    await new Promise((r) => setTimeout(r, 2));
    const fetch = this.sessions.begin(params);
    if (!fetch.ok) return { errorCode: fetch.errorCode, errorMessage: fetch.errorMessage, partitions: [] };
    const partitions = fetch.partitions.map((req) => {
      const base = {
        topic: req.topic,
        partition: req.partition,
        errorCode: 0,
        errorMessage: '',
        highWatermark: this.leader.highWatermark,
        logStartOffset: this.leader.logStartOffset,
        logEndOffset: this.leader.logEndOffset,
        records: Buffer.alloc(0),
      };
      try {
        return { ...base, ...this.leader.fetchRecordsForFollower(params.replicaId, { ...req, brokerEpoch: params.replicaEpoch }, true) };
      } catch (err) {
        if (!(err instanceof SamsaProtocolError)) throw err;
        return { ...base, errorCode: err.code, errorMessage: err.message };
      }
    });
    if (partitions.every((p) => p.records.length === 0)) await new Promise((r) => setTimeout(r, 5)); // a short long poll
    const shown = this.sessions.respond(fetch, partitions);
    this.beforeAnswer?.(params, shown.length);
    return { errorCode: 0, errorMessage: '', partitions: shown, sessionId: this.sessions.sessionIdOf(fetch) };
  }

  close(): void {}
}

function fetcherFor(leader: FakeLeader | undefined, timers: Timers = realTimers): ReplicaFetcherManager {
  const manager = new ReplicaFetcherManager({
    brokerId: 2,
    brokerEpoch: () => 7n,
    leaderEndPoint: () => leader,
    timers,
    logger,
    random: () => 0.5,
    config: { ...DEFAULT_REPLICA_FETCHER_CONFIG, backoffMs: 20 },
  });
  cleanups.push(() => manager.shutdown());
  return manager;
}

/** Leader 1 at epoch 0 holding offsets 0..2 in two batches, and an empty follower 2; both in the ISR. */
function leaderWithEmptyFollower() {
  const leaderLog = openLog();
  write(leaderLog, 0, ['a', 'b'], ['c']);
  const info = { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1, 2] };
  const followerLog = openLog();
  return { leaderLog, leader: replicaOn(1, leaderLog, info), followerLog, follower: replicaOn(2, followerLog, info) };
}

/** Records every truncation of a follower replica. */
function spyTruncations(p: Partition): bigint[] {
  const seen: bigint[] = [];
  const truncateTo = p.truncateTo.bind(p);
  p.truncateTo = (offset: bigint) => {
    seen.push(offset);
    truncateTo(offset);
  };
  return seen;
}

describe('follower truncation on divergence', () => {
  it("KIP-101: drops the old leader's uncommitted suffix at the new leader's epoch end offset, not at the HW", async () => {
    // Broker 2 led epoch 0 and wrote offsets 0..9; only 0..7 reached broker 1, which leads epoch 1.
    const oldLeader = openLog();
    write(oldLeader, 0, ['a0', 'a1', 'a2'], ['a3', 'a4'], ['a5', 'a6', 'a7'], ['a8', 'a9']);
    const newLeader = openLog();
    newLeader.appendAsFollower(oldLeader.read(0n, 1 << 20, 8n, true).records);
    expect(newLeader.logEndOffset).toBe(8n);
    write(newLeader, 1, ['b8', 'b9', 'b10'], ['b11']);

    const info = { partition: 0, leader: 1, leaderEpoch: 1, partitionEpoch: 3, replicas: [1, 2], isr: [1, 2] };
    const leader = replicaOn(1, newLeader, info);
    const follower = replicaOn(2, oldLeader, info);
    // The follower's HW lags (it learns the HW a fetch late): it knows only 0..4 committed.
    follower.updateFollowerHighWatermark(5n);
    expect(follower.highWatermark).toBe(5n);
    const truncations = spyTruncations(follower);

    const endpoint = new FakeLeader(leader);
    fetcherFor(endpoint).addPartition(follower, 1, 1);
    await waitFor(
      'the follower to catch up',
      () => oldLeader.logEndOffset === newLeader.logEndOffset && follower.highWatermark === newLeader.logEndOffset,
      5_000,
    );

    expect(endpoint.requests[0]!.partitions[0]).toMatchObject({ fetchOffset: 10n, lastFetchedEpoch: 0, currentLeaderEpoch: 1 });
    expect(truncations).toEqual([8n]);
    expect(bytesOf(oldLeader).equals(bytesOf(newLeader))).toBe(true);
    // After the first (full) fetch the follower fetched incrementally, in the session it opened.
    expect(endpoint.requests[0]).toMatchObject({ sessionId: 0, sessionEpoch: 0 });
    expect(endpoint.requests.slice(1).some((r) => (r.sessionEpoch ?? 0) > 0 && r.sessionId === endpoint.requests[1]!.sessionId)).toBe(true);
    expect(oldLeader.leaderEpochEntries).toEqual(newLeader.leaderEpochEntries);
    // The leader learned where the follower is: HW at its LEO, the follower in sync.
    expect(leader.highWatermark).toBe(12n);
    expect(leader.leaderState!.follower(2)!.logEndOffset).toBe(12n);
  });

  it("KIP-279: after leader changes in quick succession, truncates to where both logs' epochs agree", async () => {
    // Follower: epoch 0 [0..4], then epoch 1 [5..7] from a leader that died. Leader: epoch 0 [0..4], then epoch 2 [5..9].
    const followerLog = openLog();
    write(followerLog, 0, ['x0', 'x1', 'x2', 'x3', 'x4']);
    const leaderLog = openLog();
    leaderLog.appendAsFollower(bytesOf(followerLog));
    write(followerLog, 1, ['y5', 'y6', 'y7']);
    write(leaderLog, 2, ['z5', 'z6'], ['z7', 'z8', 'z9']);

    const info = { partition: 0, leader: 1, leaderEpoch: 2, partitionEpoch: 5, replicas: [1, 2], isr: [1, 2] };
    const leader = replicaOn(1, leaderLog, info);
    const follower = replicaOn(2, followerLog, info);
    const truncations = spyTruncations(follower);
    fetcherFor(new FakeLeader(leader)).addPartition(follower, 1, 2);
    await waitFor('the follower to catch up', () => followerLog.logEndOffset === 10n, 5_000);

    expect(truncations).toEqual([5n]);
    expect(bytesOf(followerLog).equals(bytesOf(leaderLog))).toBe(true);
    expect(followerLog.leaderEpochEntries.map((e) => e.epoch)).toEqual([0, 2]);
  });

  it('a follower with nothing to drop appends from its log end, verbatim, and keeps following new appends', async () => {
    const { leaderLog, leader, followerLog, follower } = leaderWithEmptyFollower();
    const truncations = spyTruncations(follower);
    fetcherFor(new FakeLeader(leader)).addPartition(follower, 1, 0);
    await waitFor('the first batches', () => followerLog.logEndOffset === 3n, 5_000);
    leader.appendRecordsToLeader(batch(['d', 'e']), 1);
    await waitFor('the new batch and the HW', () => followerLog.logEndOffset === 5n && follower.highWatermark === 5n, 5_000);
    expect(truncations).toEqual([]);
    expect(bytesOf(followerLog).equals(bytesOf(leaderLog))).toBe(true);
  });
});

describe('follower fetch sessions', () => {
  it('an answer dropped because the follower moved during the fetch makes the next fetch full, so nothing the leader counts as told is lost', async () => {
    const { leaderLog, leader, followerLog, follower } = leaderWithEmptyFollower();
    const endpoint = new FakeLeader(leader);
    fetcherFor(endpoint).addPartition(follower, 1, 0);
    await waitFor('the follower to catch up', () => followerLog.logEndOffset === 3n && follower.highWatermark === 3n, 5_000);
    await waitFor('incremental fetches', () => (endpoint.requests.at(-1)!.sessionEpoch ?? 0) > 0, 5_000);

    // The next answer carrying the partition arrives after the follower's log moved (here: a
    // truncation under the fetch), so the fetcher drops it.
    let dropped = -1;
    endpoint.beforeAnswer = (params, answered) => {
      if (answered === 0 || dropped >= 0) return;
      dropped = endpoint.requests.length - 1;
      follower.truncateTo(2n);
    };
    leader.appendRecordsToLeader(batch(['d']), 1);
    await waitFor('the fetch after the dropped answer', () => dropped >= 0 && endpoint.requests.length > dropped + 1, 5_000);
    expect(endpoint.requests[dropped]!.sessionEpoch).toBeGreaterThan(0);
    expect(endpoint.requests[dropped + 1]).toMatchObject({ sessionEpoch: 0 });
    expect(endpoint.requests[dropped + 1]!.partitions.map((p) => p.fetchOffset)).toEqual([2n]);
    await waitFor('the follower to catch up again', () => followerLog.logEndOffset === 4n && follower.highWatermark === 4n, 5_000);
    expect(bytesOf(followerLog).equals(bytesOf(leaderLog))).toBe(true);
  });
});

describe('follower fetch errors', () => {
  it("OFFSET_OUT_OF_RANGE below the leader's log start: starts over at it", async () => {
    const leaderLog = openLog();
    write(leaderLog, 0, ['a', 'b', 'c'], ['d', 'e'], ['f']);
    leaderLog.advanceLogStartOffset(5n);
    const info = { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1, 2] };
    const leader = replicaOn(1, leaderLog, info);
    const followerLog = openLog();
    const follower = replicaOn(2, followerLog, info);
    fetcherFor(new FakeLeader(leader)).addPartition(follower, 1, 0);
    await waitFor("the follower to start over at the leader's log start", () => followerLog.logEndOffset === 6n, 5_000);
    expect(followerLog.logStartOffset).toBe(5n);
  });

  it("the leader's log start inside a batch (DeleteRecords): the empty follower takes that batch whole and keeps the same log start", async () => {
    const leaderLog = openLog();
    write(leaderLog, 0, ['a', 'b', 'c'], ['d', 'e'], ['f']);
    leaderLog.advanceLogStartOffset(4n);
    const info = { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1, 2] };
    const leader = replicaOn(1, leaderLog, info);
    const followerLog = openLog();
    fetcherFor(new FakeLeader(leader)).addPartition(replicaOn(2, followerLog, info), 1, 0);
    await waitFor('the follower to catch up', () => followerLog.logEndOffset === 6n, 5_000);
    expect(followerLog.logStartOffset).toBe(4n);
    expect(bytesOf(followerLog).equals(bytesOf(leaderLog))).toBe(true);
  });

  it('FENCED_LEADER_EPOCH: stops fetching the partition until metadata names a newer epoch', async () => {
    const leaderLog = openLog();
    write(leaderLog, 3, ['a']);
    const leader = replicaOn(1, leaderLog, { partition: 0, leader: 1, leaderEpoch: 3, partitionEpoch: 9, replicas: [1, 2], isr: [1, 2] });
    const followerLog = openLog();
    const stale = { partition: 0, leader: 1, leaderEpoch: 2, partitionEpoch: 7, replicas: [1, 2], isr: [1, 2] };
    const follower = replicaOn(2, followerLog, stale);
    const endpoint = new FakeLeader(leader);
    // The fetcher's clock is the test's: after the fenced answer it parks on a timer (nothing to
    // fetch), and however far the clock moves it asks the leader nothing more.
    const timers = manualTimers();
    const manager = fetcherFor(endpoint, timers);
    manager.addPartition(follower, 1, 2);
    await waitFor(
      'the fetcher to park after the fenced answer',
      () => endpoint.requests.length === 1 && timers.pending().length === 1,
      5_000,
    );
    for (let i = 0; i < 3; i++) {
      timers.advance(60_000);
      await waitFor('the fetcher to park again', () => timers.pending().length === 1, 5_000);
    }
    expect(endpoint.requests).toHaveLength(1);
    expect(followerLog.logEndOffset).toBe(0n);
    follower.applyRegistration({ ...stale, leaderEpoch: 3, partitionEpoch: 9 });
    manager.addPartition(follower, 1, 3);
    await waitFor('fetching at the new epoch', () => followerLog.logEndOffset === 1n, 5_000);
  });

  it('an unreachable leader: backs off and retries, and catches up once it answers', async () => {
    const leaderLog = openLog();
    write(leaderLog, 0, ['a']);
    const info = { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1, 2] };
    const real = new FakeLeader(replicaOn(1, leaderLog, info));
    let down = 3;
    const flaky: LeaderEndPoint = {
      description: 'a flaky leader',
      fetch: (params) => (down-- > 0 ? Promise.reject(new Error('connection refused')) : real.fetch(params)),
      close() {},
    };
    const followerLog = openLog();
    const manager = new ReplicaFetcherManager({
      brokerId: 2,
      brokerEpoch: () => 7n,
      leaderEndPoint: () => flaky,
      timers: realTimers,
      logger,
      random: () => 0.5,
      config: { ...DEFAULT_REPLICA_FETCHER_CONFIG, backoffMs: 10, backoffMaxMs: 40 },
    });
    cleanups.push(() => manager.shutdown());
    manager.addPartition(replicaOn(2, followerLog, info), 1, 0);
    await waitFor('the follower to catch up after the leader came back', () => followerLog.logEndOffset === 1n, 5_000);
    expect(down).toBeLessThan(0);
  });
});
