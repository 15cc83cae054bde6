/**
 * KIP-227 incremental fetch sessions (src/replication/fetchSessions.ts): the leader's cache and the
 * follower's handler on their own, then the two together over a seeded random walk of fetches,
 * where an incremental session must always read exactly what a full fetch would have.
 */
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { FetchSessionHandler, ReplicaFetchSessionCache, nextSessionEpoch, type SessionFetch } from '../../src/replication/fetchSessions.js';
import type { ReplicaFetchPartitionRequest, ReplicaFetchPartitionResult } from '../../src/replication/leaderEndPoint.js';
import { seededRandom } from '@samsa/protocol';

const req = (partition: number, fetchOffset: bigint, topic = 't'): ReplicaFetchPartitionRequest => ({
  topic,
  partition,
  currentLeaderEpoch: 3,
  fetchOffset,
  lastFetchedEpoch: 3,
  logStartOffset: 0n,
  maxBytes: 1 << 20,
});

const result = (p: ReplicaFetchPartitionRequest, over: Partial<ReplicaFetchPartitionResult> = {}): ReplicaFetchPartitionResult => ({
  topic: p.topic,
  partition: p.partition,
  errorCode: 0,
  errorMessage: '',
  highWatermark: 10n,
  logStartOffset: 0n,
  logEndOffset: 10n,
  records: Buffer.alloc(0),
  ...over,
});

function cache(now = () => 0, options: { maxSessions?: number; evictAfterMs?: number } = {}): ReplicaFetchSessionCache {
  let next = 0;
  return new ReplicaFetchSessionCache({ now, random: () => (next++ * 0.37) % 1, ...options });
}

function ok(fetch: SessionFetch): Extract<SessionFetch, { ok: true }> {
  if (!fetch.ok) throw new Error(`expected a session fetch, got ${fetch.errorCode}: ${fetch.errorMessage}`);
  return fetch;
}

const keys = (ps: Array<{ topic: string; partition: number }>) => ps.map((p) => `${p.topic}-${p.partition}`).sort();

describe("the leader's fetch session cache", () => {
  it('opens a session on a full fetch and then reads every session partition from an incremental one naming only what changed', () => {
    const c = cache();
    const full = ok(c.begin({ replicaId: 2, sessionId: 0, sessionEpoch: 0, partitions: [req(0, 5n), req(1, 7n), req(2, 9n)] }));
    expect(full.incremental).toBe(false);
    expect(full.session).toBeDefined();
    const id = c.sessionIdOf(full);
    expect(id).toBeGreaterThan(0);
    expect(
      c.respond(
        full,
        full.partitions.map((p) => result(p)),
      ),
    ).toHaveLength(3);

    const inc = ok(c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 1, partitions: [req(1, 8n)], forgotten: [] }));
    expect(inc.incremental).toBe(true);
    expect(keys(inc.partitions)).toEqual(['t-0', 't-1', 't-2']);
    expect(inc.partitions.find((p) => p.partition === 1)!.fetchOffset).toBe(8n);
    expect(inc.partitions.find((p) => p.partition === 0)!.fetchOffset).toBe(5n);
  });

  it('answers an incremental fetch only for partitions with records, errors, divergence or a moved HW or log start offset', () => {
    const c = cache();
    const parts = [req(0, 5n), req(1, 7n), req(2, 9n), req(3, 1n), req(4, 2n)];
    const full = ok(c.begin({ replicaId: 2, sessionId: 0, sessionEpoch: 0, partitions: parts }));
    c.respond(
      full,
      parts.map((p) => result(p)),
    );
    const inc = ok(c.begin({ replicaId: 2, sessionId: c.sessionIdOf(full), sessionEpoch: 1, partitions: [] }));
    const shown = c.respond(inc, [
      result(parts[0]!), // nothing new
      result(parts[1]!, { records: Buffer.from('batch') }),
      result(parts[2]!, { highWatermark: 11n }),
      result(parts[3]!, { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }),
      result(parts[4]!, { divergingEpoch: { epoch: 2, endOffset: 1n } }),
    ]);
    expect(keys(shown)).toEqual(['t-1', 't-2', 't-3', 't-4']);
    // The HW change was told once: the next answer leaves it out.
    const again = ok(c.begin({ replicaId: 2, sessionId: c.sessionIdOf(full), sessionEpoch: 2, partitions: [] }));
    expect(
      c.respond(again, [result(parts[2]!, { highWatermark: 11n }), result(parts[0]!, { logStartOffset: 3n })]).map((r) => r.partition),
    ).toEqual([0]);
  });

  it('tells the HW and log start offset again after an answer carrying an error or a divergence', () => {
    // The follower truncates on a divergence (or backs off on an error) without applying the HW
    // that came with it; if the session counted it as told, an idle partition would never carry it.
    const c = cache();
    const parts = [req(0, 110n), req(1, 5n)];
    const full = ok(c.begin({ replicaId: 2, sessionId: 0, sessionEpoch: 0, partitions: parts }));
    c.respond(full, [
      result(parts[0]!, { highWatermark: 100n, divergingEpoch: { epoch: 5, endOffset: 100n } }),
      result(parts[1]!, { highWatermark: 100n, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }),
    ]);
    const id = c.sessionIdOf(full);
    const after = ok(c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 1, partitions: [req(0, 100n)] }));
    const shown = c.respond(after, [result(req(0, 100n), { highWatermark: 100n }), result(parts[1]!, { highWatermark: 100n })]);
    expect(shown.map((r) => [r.partition, r.highWatermark])).toEqual([
      [0, 100n],
      [1, 100n],
    ]);
    // Told now: the next idle answer leaves both out.
    const idle = ok(c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 2, partitions: [] }));
    expect(c.respond(idle, [result(req(0, 100n), { highWatermark: 100n }), result(parts[1]!, { highWatermark: 100n })])).toEqual([]);
  });

  it("refuses an unknown session, another replica's session and a wrong epoch, changing nothing", () => {
    const c = cache();
    const full = ok(c.begin({ replicaId: 2, sessionId: 0, sessionEpoch: 0, partitions: [req(0, 5n)] }));
    const id = c.sessionIdOf(full);
    const unknown = c.begin({ replicaId: 2, sessionId: id + 1, sessionEpoch: 1, partitions: [] });
    expect(unknown).toMatchObject({ ok: false, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
    expect(c.begin({ replicaId: 3, sessionId: id, sessionEpoch: 1, partitions: [] })).toMatchObject({
      ok: false,
      errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    });
    const wrongEpoch = c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 2, partitions: [req(0, 6n)] });
    expect(wrongEpoch).toMatchObject({ ok: false, errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
    if (!wrongEpoch.ok) expect(wrongEpoch.errorMessage).toContain('expects epoch 1');
    // The refused fetches changed nothing: epoch 1 still works and the offset is the old one.
    const inc = ok(c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 1, partitions: [] }));
    expect(inc.partitions.map((p) => p.fetchOffset)).toEqual([5n]);
  });

  it("forgets partitions, replaces a follower's session on its next full fetch, and runs without one on epoch -1", () => {
    const c = cache();
    const first = ok(c.begin({ replicaId: 2, sessionId: 0, sessionEpoch: 0, partitions: [req(0, 5n), req(1, 7n)] }));
    const id = c.sessionIdOf(first);
    const inc = ok(
      c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 1, partitions: [req(2, 0n)], forgotten: [{ topic: 't', partition: 0 }] }),
    );
    expect(keys(inc.partitions)).toEqual(['t-1', 't-2']);
    const second = ok(c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 0, partitions: [req(0, 5n)] }));
    expect(c.size).toBe(1);
    expect(c.sessionIdOf(second)).not.toBe(id);
    expect(c.begin({ replicaId: 2, sessionId: id, sessionEpoch: 2, partitions: [] })).toMatchObject({
      ok: false,
      errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    });
    // An answer to the replaced session's fetch still goes out in full, with no session id.
    expect(c.respond(inc, [result(req(1, 7n))])).toHaveLength(1);
    expect(c.sessionIdOf(inc)).toBe(0);
    const sessionless = ok(c.begin({ replicaId: 2, sessionId: 0, sessionEpoch: -1, partitions: [req(0, 5n)] }));
    expect(sessionless.session).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('holds at most maxSessions, evicting only one idle for evictAfterMs, else answering without a session', () => {
    let now = 0;
    const c = cache(() => now, { maxSessions: 2, evictAfterMs: 1_000 });
    ok(c.begin({ replicaId: 1, sessionId: 0, sessionEpoch: 0, partitions: [req(0, 0n)] }));
    ok(c.begin({ replicaId: 2, sessionId: 0, sessionEpoch: 0, partitions: [req(0, 0n)] }));
    const third = ok(c.begin({ replicaId: 3, sessionId: 0, sessionEpoch: 0, partitions: [req(0, 0n)] }));
    expect(c.sessionIdOf(third)).toBe(0);
    expect(c.size).toBe(2);
    now = 5_000;
    const later = ok(c.begin({ replicaId: 3, sessionId: 0, sessionEpoch: 0, partitions: [req(0, 0n)] }));
    expect(c.sessionIdOf(later)).toBeGreaterThan(0);
    expect(c.size).toBe(2);
  });

  it('wraps the epoch after 2^31-1 to 1, never to 0 (a full fetch) or -1 (no session)', () => {
    expect(nextSessionEpoch(1)).toBe(2);
    expect(nextSessionEpoch(0x7fff_ffff)).toBe(1);
  });
});

describe("the follower's fetch session handler", () => {
  it('sends a full fetch first, then only changed and forgotten partitions', () => {
    const h = new FetchSessionHandler();
    const first = h.build([req(0, 5n), req(1, 7n)]);
    expect(first).toMatchObject({ sessionId: 0, sessionEpoch: 0, forgotten: [] });
    expect(first.partitions).toHaveLength(2);
    expect(h.onResponse(0, 42)).toBe(true);
    const second = h.build([req(0, 5n), req(1, 9n), req(2, 0n)]);
    expect(second).toMatchObject({ sessionId: 42, sessionEpoch: 1, forgotten: [] });
    expect(keys(second.partitions)).toEqual(['t-1', 't-2']);
    h.onResponse(0, 42);
    const third = h.build([req(1, 9n)]);
    expect(third.sessionEpoch).toBe(2);
    expect(third.partitions).toEqual([]);
    expect(keys(third.forgotten)).toEqual(['t-0', 't-2']);
  });

  it('starts over with a full fetch after a failure or a refused session, and stays full against a leader without sessions', () => {
    const h = new FetchSessionHandler();
    h.build([req(0, 5n)]);
    h.onResponse(0, 42);
    h.build([req(0, 6n)]);
    h.onFailure();
    expect(h.build([req(0, 6n)])).toMatchObject({ sessionId: 42, sessionEpoch: 0 }); // closes 42 on the leader
    h.onResponse(0, 43);
    h.build([req(0, 7n)]);
    expect(h.onResponse(ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0)).toBe(false);
    expect(h.build([req(0, 7n)])).toMatchObject({ sessionId: 43, sessionEpoch: 0 });
    h.onResponse(0, 44);
    h.build([req(0, 7n)]);
    expect(h.onResponse(ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 0)).toBe(false);
    expect(h.build([req(0, 7n)])).toMatchObject({ sessionId: 0, sessionEpoch: 0 });
    h.onResponse(0, 0); // a leader that keeps no session
    expect(h.build([req(0, 8n)])).toMatchObject({ sessionId: 0, sessionEpoch: 0 });
  });
});

describe('follower and leader together', () => {
  it('an incremental session reads exactly what a full fetch would, over 2,000 random fetches, failures and resets', () => {
    const random = seededRandom(227);
    const leader = cache();
    const follower = new FetchSessionHandler();
    // The follower's true positions; some partitions come and go (moved leadership, backoff).
    const positions = new Map<number, bigint>();
    for (let p = 0; p < 12; p++) positions.set(p, 0n);
    let incrementals = 0;
    for (let step = 0; step < 2_000; step++) {
      for (const [p, offset] of positions) if (random() < 0.2) positions.set(p, offset + BigInt(1 + Math.floor(random() * 5)));
      if (random() < 0.05) {
        const p = Math.floor(random() * 16);
        if (positions.has(p)) positions.delete(p);
        else positions.set(p, 0n);
      }
      const fetchable = [...positions].map(([p, offset]) => req(p, offset));
      const wire = follower.build(fetchable);
      if (random() < 0.02) {
        follower.onFailure(); // lost on the way: the leader never saw it
        continue;
      }
      const fetch = leader.begin({ replicaId: 2, ...wire });
      if (!fetch.ok) {
        expect(follower.onResponse(fetch.errorCode, 0)).toBe(false);
        continue;
      }
      if (fetch.incremental) incrementals++;
      // The leader reads exactly the follower's partitions at the follower's positions.
      expect(fetch.partitions.map((p) => `${p.partition}@${p.fetchOffset}`).sort()).toEqual(
        fetchable.map((p) => `${p.partition}@${p.fetchOffset}`).sort(),
      );
      const shown = leader.respond(
        fetch,
        fetch.partitions.map((p) => result(p, { records: random() < 0.3 ? Buffer.from('x') : Buffer.alloc(0) })),
      );
      if (random() < 0.02) {
        follower.onFailure(); // the answer was lost: the next fetch starts over
        continue;
      }
      for (const r of shown) expect(follower.positionOf(r)).toBeDefined();
      expect(follower.onResponse(0, leader.sessionIdOf(fetch))).toBe(true);
    }
    expect(incrementals).toBeGreaterThan(1_500);
  });
});
