/**
 * Incremental fetch sessions for replication (Kafka's KIP-227): the leader's session cache
 * (FetchSessionCache) and the follower's side of one session (FetchSessionHandler). Pure logic: no
 * I/O, an injected clock.
 *
 * Without sessions every follower fetch names every partition the follower follows from that
 * leader, and every answer carries every one of them, idle or not; with a cluster of many quiet
 * partitions the fetch that carries one new batch still encodes, sends and decodes all of them.
 * With a session:
 *
 *   follower                                         leader
 *   full fetch {id 0 | old id, epoch 0, all}    →    drop the follower's old session, open a new
 *                                                    one (id N, next epoch 1) holding every
 *                                                    partition with its fetch position
 *                                               ←    every partition; session_id N
 *   incremental {id N, epoch 1, changed, forgotten} → epoch must be 1: apply the changed and
 *                                                    forgotten partitions, next epoch 2; read ALL
 *                                                    of the session's partitions (the follower's
 *                                                    progress on each is still recorded)
 *                                               ←    only partitions with records, an error, a
 *                                                    divergence, or a HW / log start offset other
 *                                                    than the last one this session answered
 *                                                    (with records or nothing else: an error or a
 *                                                    divergence does not count as telling them)
 *   ... epoch 2, 3, ... (after 2^31-1 it wraps to 1)
 *
 *   unknown id                                  ←    FETCH_SESSION_ID_NOT_FOUND  ┐ the follower's
 *   epoch other than the expected one           ←    INVALID_FETCH_SESSION_EPOCH ┘ next fetch is full
 *   epoch -1 (FINAL)                                 full fetch, no session (answer id 0)
 *
 * A changed partition is one whose current_leader_epoch, fetch_offset, last_fetched_epoch,
 * log_start_offset or partition_max_bytes differ from what the session holds; in steady state
 * only the partitions that just received records are named, because their fetch offset moved.
 * A follower whose fetch failed in any way (timeout, broken stream) cannot know whether the leader
 * applied it, so its next fetch is full (closing the old session by its id).
 *
 * The leader keeps one session per follower (a follower has one fetcher per leader) and at most
 * `maxSessions` in all: when full, a session unused for `evictAfterMs` makes room, else the fetch
 * is answered without a session (id 0) and the follower keeps sending full fetches — correct, just
 * not incremental (Kafka's max.incremental.fetch.session.cache.slots, 1000, and its 2-minute
 * eviction floor).
 */
import { ErrorCode, topicPartitionKey } from '@samsa/protocol';
import type { PartitionId, ReplicaFetchParams, ReplicaFetchPartitionRequest, ReplicaFetchPartitionResult } from './leaderEndPoint.js';

export const INITIAL_SESSION_EPOCH = 0;
export const FINAL_SESSION_EPOCH = -1;

export function nextSessionEpoch(epoch: number): number {
  return epoch >= 0x7fff_ffff ? 1 : epoch + 1;
}

function keyOf(p: PartitionId): string {
  return topicPartitionKey(p.topic, p.partition);
}

function samePosition(a: ReplicaFetchPartitionRequest, b: ReplicaFetchPartitionRequest): boolean {
  return (
    a.fetchOffset === b.fetchOffset &&
    a.currentLeaderEpoch === b.currentLeaderEpoch &&
    a.lastFetchedEpoch === b.lastFetchedEpoch &&
    a.logStartOffset === b.logStartOffset &&
    a.maxBytes === b.maxBytes
  );
}

// ---- leader side ----

interface CachedPartition {
  request: ReplicaFetchPartitionRequest;
  /** What this session last answered for the partition (-2n: nothing yet). */
  highWatermark: bigint;
  logStartOffset: bigint;
}

interface FetchSession {
  readonly id: number;
  readonly replicaId: number;
  /** The epoch the next incremental fetch must carry. */
  epoch: number;
  readonly partitions: Map<string, CachedPartition>;
  /** Rotates which partition is read first (only the first may exceed its byte limit, KIP-74). */
  rotation: number;
  lastUsedMs: number;
}

/** A fetch resolved against the cache: the partitions to read, or a top-level error. */
export type SessionFetch =
  | { ok: false; errorCode: ErrorCode; errorMessage: string }
  | { ok: true; incremental: boolean; session: FetchSession | undefined; partitions: ReplicaFetchPartitionRequest[] };

export interface FetchSessionCacheOptions {
  now: () => number;
  /** A random 31-bit number, for session ids. */
  random: () => number;
  maxSessions?: number;
  evictAfterMs?: number;
}

export class ReplicaFetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  /** replica id → its session id. */
  private readonly byReplica = new Map<number, number>();
  private readonly maxSessions: number;
  private readonly evictAfterMs: number;

  constructor(private readonly options: FetchSessionCacheOptions) {
    this.maxSessions = options.maxSessions ?? 1_000;
    this.evictAfterMs = options.evictAfterMs ?? 120_000;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Partitions held over all sessions (Kafka's NumIncrementalFetchPartitionsCached). */
  get partitionsCached(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.partitions.size;
    return n;
  }

  /** Resolves a follower's fetch into every partition to read (the session's, for an incremental one). */
  begin(params: Pick<ReplicaFetchParams, 'replicaId' | 'sessionId' | 'sessionEpoch' | 'partitions' | 'forgotten'>): SessionFetch {
    const sessionId = params.sessionId ?? 0;
    const epoch = params.sessionEpoch ?? FINAL_SESSION_EPOCH;
    const now = this.options.now();
    if (epoch === INITIAL_SESSION_EPOCH || epoch === FINAL_SESSION_EPOCH) {
      // A full fetch ends the follower's previous session (by id, and any other it holds).
      const named = this.sessions.get(sessionId);
      if (named && named.replicaId === params.replicaId) this.remove(named);
      const previous = this.byReplica.get(params.replicaId);
      if (previous !== undefined) this.remove(this.sessions.get(previous)!);
      const session = epoch === INITIAL_SESSION_EPOCH ? this.open(params.replicaId, now) : undefined;
      if (session)
        for (const p of params.partitions) session.partitions.set(keyOf(p), { request: p, highWatermark: -2n, logStartOffset: -2n });
      return { ok: true, incremental: false, session, partitions: params.partitions };
    }
    const session = this.sessions.get(sessionId);
    if (!session || session.replicaId !== params.replicaId) {
      return {
        ok: false,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        errorMessage: `fetch session ${sessionId} of broker ${params.replicaId} is not known here; send a full fetch`,
      };
    }
    if (epoch !== session.epoch) {
      return {
        ok: false,
        errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
        errorMessage: `fetch session ${sessionId} expects epoch ${session.epoch}, not ${epoch}; send a full fetch`,
      };
    }
    session.epoch = nextSessionEpoch(epoch);
    session.lastUsedMs = now;
    for (const p of params.forgotten ?? []) session.partitions.delete(keyOf(p));
    for (const p of params.partitions) {
      const cached = session.partitions.get(keyOf(p));
      if (cached) cached.request = p;
      else session.partitions.set(keyOf(p), { request: p, highWatermark: -2n, logStartOffset: -2n });
    }
    const all = [...session.partitions.values()].map((c) => c.request);
    const start = all.length === 0 ? 0 : session.rotation++ % all.length;
    return { ok: true, incremental: true, session, partitions: start === 0 ? all : [...all.slice(start), ...all.slice(0, start)] };
  }

  /**
   * What the follower is told: every result of a full fetch; of an incremental one only the
   * partitions with something new. Records what the session answered.
   */
  respond(fetch: Extract<SessionFetch, { ok: true }>, results: ReplicaFetchPartitionResult[]): ReplicaFetchPartitionResult[] {
    const session = fetch.session;
    // A session replaced while this fetch waited: the follower has started over, answer in full.
    if (!session || this.sessions.get(session.id) !== session) return results;
    const shown: ReplicaFetchPartitionResult[] = [];
    for (const r of results) {
      const cached = session.partitions.get(keyOf(r));
      const news =
        !fetch.incremental ||
        !cached ||
        r.errorCode !== ErrorCode.NONE ||
        r.records.length > 0 ||
        r.divergingEpoch !== undefined ||
        r.highWatermark !== cached.highWatermark ||
        r.logStartOffset !== cached.logStartOffset;
      if (!news) continue;
      if (cached) {
        // An error or a divergence is not applied by the follower with its HW and log start
        // offset (it truncates, backs off, or waits for metadata): count them as not told, so the
        // next answer carries them again (Kafka's CachedPartition does the same on errors).
        const applied = r.errorCode === ErrorCode.NONE && r.divergingEpoch === undefined;
        cached.highWatermark = applied ? r.highWatermark : -2n;
        cached.logStartOffset = applied ? r.logStartOffset : -2n;
      }
      shown.push(r);
    }
    return shown;
  }

  /** The session id to send back: the session this fetch used, if it still exists. */
  sessionIdOf(fetch: Extract<SessionFetch, { ok: true }>): number {
    return fetch.session && this.sessions.get(fetch.session.id) === fetch.session ? fetch.session.id : 0;
  }

  private open(replicaId: number, now: number): FetchSession | undefined {
    if (this.sessions.size >= this.maxSessions && !this.evictOne(now)) return undefined;
    let id = 0;
    while (id === 0 || this.sessions.has(id)) id = Math.floor(this.options.random() * 0x7fff_ffff) + 1;
    const session: FetchSession = { id, replicaId, epoch: 1, partitions: new Map(), rotation: 0, lastUsedMs: now };
    this.sessions.set(id, session);
    this.byReplica.set(replicaId, id);
    return session;
  }

  private evictOne(now: number): boolean {
    let oldest: FetchSession | undefined;
    for (const s of this.sessions.values()) if (!oldest || s.lastUsedMs < oldest.lastUsedMs) oldest = s;
    if (!oldest || now - oldest.lastUsedMs < this.evictAfterMs) return false;
    this.remove(oldest);
    return true;
  }

  private remove(session: FetchSession): void {
    this.sessions.delete(session.id);
    if (this.byReplica.get(session.replicaId) === session.id) this.byReplica.delete(session.replicaId);
  }
}

// ---- follower side ----

/** The session fields and partitions of the next fetch to one leader. */
export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  /** Full fetch: all; incremental: the added and changed ones. */
  partitions: ReplicaFetchPartitionRequest[];
  forgotten: PartitionId[];
}

/**
 * One follower's session with one leader (Kafka's FetchSessionHandler). `build` turns the
 * partitions to fetch now into a full or incremental request; after the answer, `onResponse`
 * (a top-level error code and the leader's session id) or `onFailure` (no answer).
 */
export class FetchSessionHandler {
  private sessionId = 0;
  private nextEpoch = INITIAL_SESSION_EPOCH;
  /** The leader's view of the session after the last request built. */
  private readonly sent = new Map<string, ReplicaFetchPartitionRequest>();

  /** `fetchable`: every partition to fetch now, with its current position. */
  build(fetchable: ReplicaFetchPartitionRequest[]): SessionRequest {
    if (this.nextEpoch === INITIAL_SESSION_EPOCH) {
      this.sent.clear();
      for (const p of fetchable) this.sent.set(keyOf(p), p);
      return { sessionId: this.sessionId, sessionEpoch: INITIAL_SESSION_EPOCH, partitions: fetchable, forgotten: [] };
    }
    const changed: ReplicaFetchPartitionRequest[] = [];
    const wanted = new Set<string>();
    for (const p of fetchable) {
      const key = keyOf(p);
      wanted.add(key);
      const before = this.sent.get(key);
      if (before && samePosition(before, p)) continue;
      changed.push(p);
      this.sent.set(key, p);
    }
    const forgotten: PartitionId[] = [];
    for (const [key, p] of this.sent) {
      if (wanted.has(key)) continue;
      forgotten.push({ topic: p.topic, partition: p.partition });
      this.sent.delete(key);
    }
    return { sessionId: this.sessionId, sessionEpoch: this.nextEpoch, partitions: changed, forgotten };
  }

  /**
   * After an answer. Returns false when the leader refused the session (the fetch did nothing;
   * the next one is full and may be sent at once).
   */
  onResponse(errorCode: number, leaderSessionId: number | undefined): boolean {
    if (errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND) {
      this.sessionId = 0;
      this.nextEpoch = INITIAL_SESSION_EPOCH;
      return false;
    }
    if (errorCode === ErrorCode.INVALID_FETCH_SESSION_EPOCH) {
      this.nextEpoch = INITIAL_SESSION_EPOCH; // the full fetch closes the session by its id
      return false;
    }
    if (errorCode !== ErrorCode.NONE) {
      this.onFailure();
      return true;
    }
    const id = leaderSessionId ?? 0;
    if (this.nextEpoch === INITIAL_SESSION_EPOCH) {
      this.sessionId = id;
      this.nextEpoch = id === 0 ? INITIAL_SESSION_EPOCH : 1;
    } else if (id !== this.sessionId) {
      // The leader answered outside our session (it was evicted meanwhile): start over.
      this.nextEpoch = INITIAL_SESSION_EPOCH;
    } else {
      this.nextEpoch = nextSessionEpoch(this.nextEpoch);
    }
    return true;
  }

  /** No answer (timeout, broken connection): the leader may or may not have applied it. */
  onFailure(): void {
    this.nextEpoch = INITIAL_SESSION_EPOCH;
  }

  /** The leader's view: what a partition's answer was read at (undefined: not in the session). */
  positionOf(p: PartitionId): ReplicaFetchPartitionRequest | undefined {
    return this.sent.get(keyOf(p));
  }

  get id(): number {
    return this.sessionId;
  }
}
