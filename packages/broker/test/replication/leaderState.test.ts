/**
 * The leader-side replication rules (LeaderState), read like Kafka's documentation: the HW is the
 * minimum LEO over the (maximal) ISR and never goes down; a follower leaves the ISR when it has
 * not caught up within replica.lag.time.max.ms and joins once it reaches the HW past the start of
 * the leader epoch; one ISR change at a time, counted only once committed.
 */
import { describe, expect, it } from 'vitest';
import { LeaderState, type LeaderStateConfig } from '../../src/replication/leaderState.js';

const LAG = 1_000;

function leader(
  opts: {
    replicas?: number[];
    isr?: number[];
    hw?: bigint;
    epochStart?: bigint;
    now?: number;
    eligible?: (id: number, epoch: bigint) => boolean;
  } = {},
): LeaderState {
  const config: LeaderStateConfig = {
    localBrokerId: 1,
    replicaLagTimeMaxMs: LAG,
    alterPartitionRetryBackoffMs: 100,
    isReplicaIsrEligible: opts.eligible ?? (() => true),
  };
  return new LeaderState(config, {
    replicas: opts.replicas ?? [1, 2, 3],
    isr: opts.isr ?? opts.replicas ?? [1, 2, 3],
    highWatermark: opts.hw ?? 0n,
    leaderEpochStartOffset: opts.epochStart ?? 0n,
    nowMs: opts.now ?? 0,
  });
}

const fetch = (offset: bigint, brokerEpoch = 7n) => ({ fetchOffset: offset, logStartOffset: 0n, brokerEpoch });

describe('high watermark', () => {
  it('a new leader moves the HW only once every ISR member has fetched, to the smallest LEO', () => {
    const s = leader();
    expect(s.maybeIncrementHighWatermark(10n)).toBe(false);
    expect(s.onFollowerFetch(2, fetch(10n), 10n, 1).highWatermarkChanged).toBe(false);
    expect(s.highWatermark).toBe(0n);
    expect(s.onFollowerFetch(3, fetch(6n), 10n, 2).highWatermarkChanged).toBe(true);
    expect(s.highWatermark).toBe(6n);
  });

  it('with the leader alone in the ISR, the HW follows its LEO', () => {
    const s = leader({ isr: [1] });
    expect(s.maybeIncrementHighWatermark(5n)).toBe(true);
    expect(s.highWatermark).toBe(5n);
  });

  it('never decreases, even when a follower reports a lower LEO', () => {
    const s = leader({ hw: 4n });
    s.onFollowerFetch(2, fetch(8n), 10n, 1);
    s.onFollowerFetch(3, fetch(8n), 10n, 1);
    expect(s.highWatermark).toBe(8n);
    s.onFollowerFetch(3, fetch(5n), 10n, 2);
    expect(s.highWatermark).toBe(8n);
    expect(s.maybeIncrementHighWatermark(10n)).toBe(false);
  });

  it('does not wait for followers outside the ISR', () => {
    const s = leader({ isr: [1, 2] });
    s.onFollowerFetch(2, fetch(10n), 10n, 1);
    expect(s.highWatermark).toBe(10n);
  });
});

describe('ISR shrink', () => {
  it('drops a follower that has not caught up within replica.lag.time.max.ms, and not before', () => {
    const s = leader({ now: 0 });
    s.onFollowerFetch(2, fetch(10n), 10n, 100);
    s.onFollowerFetch(3, fetch(10n), 10n, 100);
    // Broker 3 stops fetching; the leader appends.
    s.onFollowerFetch(2, fetch(20n), 20n, 600);
    expect(s.maybeShrinkIsr(20n, 100 + LAG)).toBeUndefined();
    s.onFollowerFetch(2, fetch(20n), 20n, 1_050);
    const proposal = s.maybeShrinkIsr(20n, 100 + LAG + 1);
    expect(proposal).toEqual({ kind: 'shrink', newIsr: [1, 2], brokers: [3] });
    expect(s.state.kind).toBe('pendingShrink');
  });

  it('keeps a follower that fetches behind but reaches what the leader had at its previous fetch', () => {
    const s = leader({ now: 0 });
    let leo = 0n;
    for (let t = 100; t <= 5_000; t += 100) {
      // Broker 2 always fetches exactly what the leader had at its previous fetch; the leader keeps appending.
      s.onFollowerFetch(2, fetch(leo), leo + 5n, t);
      s.onFollowerFetch(3, fetch(leo + 5n), leo + 5n, t);
      leo += 5n;
      expect(s.maybeShrinkIsr(leo, t)).toBeUndefined();
    }
  });

  it("keeps a silent follower whose LEO equals the leader's (an idle partition; the controller fences dead brokers)", () => {
    const s = leader();
    s.onFollowerFetch(2, fetch(10n), 10n, 1);
    s.onFollowerFetch(3, fetch(10n), 10n, 1);
    expect(s.maybeShrinkIsr(10n, 100_000)).toBeUndefined();
    expect(s.maybeShrinkIsr(11n, 100_000)).toEqual({ kind: 'shrink', newIsr: [1], brokers: [2, 3] });
  });

  it('a new leader gives ISR members a full lag window before judging them', () => {
    const s = leader({ now: 5_000 });
    expect(s.maybeShrinkIsr(10n, 5_000 + LAG)).toBeUndefined();
    expect(s.maybeShrinkIsr(10n, 5_000 + LAG + 1)?.brokers).toEqual([2, 3]);
  });

  it('the HW still waits for the replica being removed until the controller commits the shrink (maximal ISR)', () => {
    const s = leader({ now: 0 });
    s.onFollowerFetch(2, fetch(10n), 10n, 10);
    s.onFollowerFetch(3, fetch(4n), 10n, 10);
    expect(s.highWatermark).toBe(4n);
    s.onFollowerFetch(2, fetch(10n), 10n, 2_000);
    expect(s.maybeShrinkIsr(10n, 2_000)?.newIsr).toEqual([1, 2]);
    expect(s.isr).toEqual([1, 2, 3]);
    expect(s.maybeIncrementHighWatermark(10n)).toBe(false);
    expect(s.highWatermark).toBe(4n);
    expect(s.onIsrCommitted([1, 2], 10n)).toBe(true);
    expect(s.highWatermark).toBe(10n);
    expect(s.isr).toEqual([1, 2]);
  });
});

describe('ISR expansion', () => {
  it('adds a follower once it reaches the HW and the start of the leader epoch', () => {
    const s = leader({ isr: [1, 2], hw: 20n, epochStart: 30n });
    s.onFollowerFetch(2, fetch(40n), 40n, 1);
    expect(s.highWatermark).toBe(40n);
    expect(s.onFollowerFetch(3, fetch(25n), 40n, 2).proposal).toBeUndefined();
    expect(s.onFollowerFetch(3, fetch(35n), 40n, 3).proposal).toBeUndefined(); // past the epoch start, below HW
    expect(s.onFollowerFetch(3, fetch(40n), 40n, 4).proposal).toEqual({ kind: 'expand', newIsr: [1, 2, 3], brokers: [3] });
  });

  it("a replica past the HW but short of the epoch start does not join (it may still hold another leader's suffix)", () => {
    // A new leader's HW lags its LEO (50, where its epoch starts) until broker 3 fetches.
    const s = leader({ isr: [1, 3], hw: 20n, epochStart: 50n });
    expect(s.onFollowerFetch(2, fetch(30n), 60n, 1).proposal).toBeUndefined();
    expect(s.highWatermark).toBe(20n);
    expect(s.onFollowerFetch(2, fetch(50n), 60n, 2).proposal?.newIsr).toEqual([1, 3, 2]);
  });

  it('an ineligible replica (fenced, shutting down, or fetching with an old broker epoch) does not join', () => {
    const s = leader({ isr: [1], eligible: (_id, epoch) => epoch === 9n });
    expect(s.onFollowerFetch(2, fetch(0n, 8n), 0n, 1).proposal).toBeUndefined();
    expect(s.onFollowerFetch(2, fetch(0n, 9n), 0n, 2).proposal?.newIsr).toEqual([1, 2]);
  });

  it('while an expansion is pending the HW already waits for the replica being added', () => {
    const s = leader({ isr: [1], replicas: [1, 2] });
    s.maybeIncrementHighWatermark(10n);
    expect(s.highWatermark).toBe(10n);
    expect(s.onFollowerFetch(2, fetch(10n), 10n, 1).proposal).toBeDefined();
    expect(s.maximalIsr).toEqual([1, 2]);
    expect(s.isr).toEqual([1]);
    expect(s.maybeIncrementHighWatermark(15n)).toBe(false);
    expect(s.highWatermark).toBe(10n);
  });
});

describe('one ISR change in flight, counted once committed', () => {
  it('proposes nothing else while a change is pending', () => {
    const s = leader({ now: 0 });
    s.onFollowerFetch(2, fetch(0n), 5n, 0);
    expect(s.maybeShrinkIsr(5n, 2_000)).toBeDefined();
    expect(s.maybeShrinkIsr(6n, 10_000)).toBeUndefined();
  });

  it('a refused change is dropped after the backoff, and the rules may propose again', () => {
    const s = leader({ now: 0 });
    expect(s.maybeShrinkIsr(5n, 2_000)).toBeDefined();
    s.onIsrChangeFailed(2_000, 'refused');
    expect(s.state.kind).toBe('pendingShrink');
    expect(s.maybeShrinkIsr(5n, 2_050)).toBeUndefined();
    expect(s.maybeShrinkIsr(5n, 2_100)).toEqual({ kind: 'shrink', newIsr: [1], brokers: [2, 3] });
  });

  it('an expansion whose outcome is unknown is sent again, never dropped; the HW keeps waiting for the replica', () => {
    const s = leader({ isr: [1], replicas: [1, 2] });
    s.maybeIncrementHighWatermark(10n);
    const first = s.onFollowerFetch(2, fetch(10n), 10n, 0).proposal!;
    s.onIsrChangeFailed(10, 'unknown');
    expect(s.maybeShrinkIsr(20n, 50)).toBeUndefined();
    expect(s.maybeShrinkIsr(20n, 110)).toEqual(first);
    // The resend fails its compare-and-set (the first attempt did commit): only metadata can settle it.
    s.onIsrChangeFailed(120, 'stale');
    for (const t of [300, 1_000, 60_000]) expect(s.maybeShrinkIsr(20n, t)).toBeUndefined();
    expect(s.maximalIsr).toEqual([1, 2]);
    expect(s.maybeIncrementHighWatermark(20n)).toBe(false);
    s.updateAssignment([1, 2], [1, 2]);
    expect(s.state).toEqual({ kind: 'committed', isr: [1, 2] });
  });

  it('an unknown outcome becomes known when a later answer checked the partition epoch and refused', () => {
    const s = leader({ isr: [1], replicas: [1, 2] });
    s.onFollowerFetch(2, fetch(0n), 0n, 0);
    s.onIsrChangeFailed(0, 'unknown');
    expect(s.maybeShrinkIsr(0n, 100)).toBeDefined();
    s.onIsrChangeFailed(100, 'refused');
    expect(s.maybeShrinkIsr(0n, 200)).toBeUndefined();
    expect(s.state).toEqual({ kind: 'committed', isr: [1] });
  });

  it('metadata with the same leader epoch replaces the committed ISR and ends a pending change', () => {
    const s = leader({ now: 0 });
    s.maybeShrinkIsr(5n, 2_000);
    s.updateAssignment([1, 2, 3, 4], [1, 2]);
    expect(s.state).toEqual({ kind: 'committed', isr: [1, 2] });
    expect(s.follower(4)?.logEndOffset).toBe(-1n);
  });
});
