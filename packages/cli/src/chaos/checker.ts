/**
 * The checker: a pure function from a run's history to its verdict. The drain reads (every
 * partition from 0 to its high watermark after healing) are the log as the cluster kept it; acks
 * are what clients were promised; live reads are what readers saw meanwhile.
 *
 * - lost write: an acknowledged value not at its acknowledged partition and offset in the drain.
 * - duplicate: one value at two different positions (judged only with idempotence: without it a
 *   retried batch can legitimately be written twice, as in Kafka).
 * - inconsistent offset: two reads of one partition and offset that returned different values.
 * - per-key order: within a partition, a key's records not in their producer's send order
 *   (a second copy of a value already seen is a duplicate, not a reordering).
 * - divergent replicas: partitions whose replicas' bytes below the high watermark differ.
 * - group read gaps (only when the history says the live reader was a consumer group): an
 *   acknowledged record that no group member read, at its acknowledged partition and offset,
 *   by the end of the run. The group promises at-least-once, so this must be 0. A lost write is
 *   counted once, as a lost write (no reader can be blamed for not reading what the log lost), so
 *   this check measures the group alone against the log the cluster kept.
 * - unavailability: the longest time without an acknowledged write, per nemesis type active in it
 *   (reported, never judged).
 */
import { decodeValue, type HistoryEvent, type ReadEvent } from './history.js';
import type { NemesisType } from './schedule.js';
import type { TxnCheckResult } from './txnChecker.js';

export interface CheckOptions {
  /** Judge duplicates (producers ran with enableIdempotence). */
  idempotence: boolean;
  /** Examples kept per check. Default 10. */
  examples?: number;
}

export interface CheckCount<E> {
  count: number;
  /** Whether this count fails the run. */
  judged: boolean;
  examples: E[];
}

export interface LostWrite {
  value: string;
  partition: number;
  offset: string;
  found: string | null;
}
export interface Duplicate {
  value: string;
  positions: string[];
}
export interface InconsistentOffset {
  partition: number;
  offset: string;
  values: (string | null)[];
}
export interface OrderViolation {
  partition: number;
  offset: string;
  key: string;
  seq: number;
  after: number;
}
export interface Divergence {
  partition: number;
  highWatermark: string;
  detail: string;
}
export interface GroupReadGap {
  value: string;
  partition: number;
  offset: string;
}

export interface Window {
  fromMs: number;
  toMs: number;
  ms: number;
}

export interface Unavailability {
  /** The longest window without an ack over the whole workload. */
  overall: Window | null;
  /** Per nemesis type: the longest window that overlapped a fault of that type. */
  byNemesis: Partial<Record<NemesisType, Window>>;
  /** The longest window that overlapped no fault. */
  quiet: Window | null;
}

export interface Stats {
  sends: number;
  acks: number;
  failures: number;
  /** Sends with neither an ack nor a failure logged (the run ended first). */
  unanswered: number;
  failuresByError: Record<string, number>;
  nemesisEvents: Partial<Record<NemesisType, number>>;
  nemesisSkipped: Partial<Record<NemesisType, number>>;
  liveReads: number;
  drainReads: number;
  /** Live reads of a position the live reader had read before (the group re-reading after a rebalance). */
  liveRereads: number;
}

export interface CheckResult {
  stats: Stats;
  lostWrites: CheckCount<LostWrite>;
  duplicates: CheckCount<Duplicate>;
  inconsistentOffsets: CheckCount<InconsistentOffset>;
  perKeyOrder: CheckCount<OrderViolation>;
  divergentReplicas: CheckCount<Divergence>;
  /** Judged when the live reader was a consumer group; null when it was not (nothing to check). */
  groupReadGaps: CheckCount<GroupReadGap> | null;
  /** Partitions the drain could not read to their high watermark (the verdict cannot be trusted). */
  incompleteDrain: number[];
  unavailability: Unavailability;
  /** The exactly-once checks of `--workload transactions` (txnChecker.ts), counted in `violations`. */
  transactions?: TxnCheckResult;
  /** Sum of the judged counts. */
  violations: number;
  ok: boolean;
}

const position = (partition: number, offset: string): string => `${partition}@${offset}`;

function count<E>(items: E[], judged: boolean, max: number): CheckCount<E> {
  return { count: items.length, judged, examples: items.slice(0, max) };
}

export function checkHistory(history: readonly HistoryEvent[], options: CheckOptions): CheckResult {
  const max = options.examples ?? 10;
  const acks = history.filter((e) => e.type === 'ack');
  const reads = history.filter((e): e is ReadEvent => e.type === 'read');
  const drain = reads.filter((r) => r.reader === 'drain');

  // The kept log: what the drain found at each position.
  const drained = new Map<string, string | null>();
  for (const r of drain) drained.set(position(r.partition, r.offset), r.value);

  const lost: LostWrite[] = [];
  for (const a of acks) {
    const at = position(a.partition, a.offset);
    const found = drained.has(at) ? drained.get(at)! : null;
    if (found !== a.value) lost.push({ value: a.value, partition: a.partition, offset: a.offset, found });
  }

  // Every position each value was seen at, by any reader.
  const positionsOf = new Map<string, Set<string>>();
  const valuesAt = new Map<string, Set<string | null>>();
  for (const r of reads) {
    const at = position(r.partition, r.offset);
    if (r.value !== null) {
      let set = positionsOf.get(r.value);
      if (!set) positionsOf.set(r.value, (set = new Set()));
      set.add(at);
    }
    let values = valuesAt.get(at);
    if (!values) valuesAt.set(at, (values = new Set()));
    values.add(r.value);
  }
  const duplicates: Duplicate[] = [];
  for (const [value, at] of positionsOf) if (at.size > 1) duplicates.push({ value, positions: [...at].sort() });
  const inconsistent: InconsistentOffset[] = [];
  for (const [at, values] of valuesAt) {
    if (values.size > 1) {
      const [partition, offset] = at.split('@');
      inconsistent.push({ partition: Number(partition), offset: offset!, values: [...values] });
    }
  }

  // Per-key order over the kept log, partition by partition in offset order.
  const order: OrderViolation[] = [];
  const byPartition = new Map<number, ReadEvent[]>();
  for (const r of drain) {
    let list = byPartition.get(r.partition);
    if (!list) byPartition.set(r.partition, (list = []));
    list.push(r);
  }
  for (const [partition, list] of byPartition) {
    const seen = new Set<string>();
    const sorted = [...new Map(list.map((r) => [r.offset, r])).values()].sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    const lastSeq = new Map<string, number>();
    for (const r of sorted) {
      const v = decodeValue(r.value);
      if (!v || seen.has(r.value!)) continue;
      seen.add(r.value!);
      const key = `${v.p}/${v.k}`;
      const last = lastSeq.get(key);
      if (last !== undefined && v.s < last) order.push({ partition, offset: r.offset, key: v.k, seq: v.s, after: last });
      else lastSeq.set(key, v.s);
    }
  }

  // Group read gaps: every acknowledged record must have been read by some group member.
  let groupReadGaps: CheckCount<GroupReadGap> | null = null;
  if (history.some((e) => e.type === 'reader' && e.kind === 'group')) {
    const groupRead = new Set<string>();
    for (const r of reads) if (r.reader === 'live' && r.value !== null) groupRead.add(`${position(r.partition, r.offset)}\0${r.value}`);
    const lostAt = new Set(lost.map((l) => position(l.partition, l.offset)));
    const gaps = acks
      .filter((a) => !lostAt.has(position(a.partition, a.offset)) && !groupRead.has(`${position(a.partition, a.offset)}\0${a.value}`))
      .map((a) => ({ value: a.value, partition: a.partition, offset: a.offset }));
    groupReadGaps = count(gaps, true, max);
  }

  const divergent: Divergence[] = history.flatMap((e) =>
    e.type === 'replicas' && !e.identical ? [{ partition: e.partition, highWatermark: e.highWatermark, detail: e.detail }] : [],
  );
  const incompleteDrain = history.flatMap((e) => (e.type === 'drain' && !e.complete ? [e.partition] : []));

  const result: CheckResult = {
    stats: stats(history, reads),
    lostWrites: count(lost, true, max),
    duplicates: count(duplicates, options.idempotence, max),
    inconsistentOffsets: count(inconsistent, true, max),
    perKeyOrder: count(order, true, max),
    divergentReplicas: count(divergent, true, max),
    groupReadGaps,
    incompleteDrain,
    unavailability: unavailability(history),
    violations: 0,
    ok: false,
  };
  result.violations = [
    result.lostWrites,
    result.duplicates,
    result.inconsistentOffsets,
    result.perKeyOrder,
    result.divergentReplicas,
    ...(groupReadGaps ? [groupReadGaps] : []),
  ].reduce((n, c) => n + (c.judged ? c.count : 0), 0);
  result.ok = result.violations === 0 && incompleteDrain.length === 0;
  return result;
}

function stats(history: readonly HistoryEvent[], reads: ReadEvent[]): Stats {
  const s: Stats = {
    sends: 0,
    acks: 0,
    failures: 0,
    unanswered: 0,
    failuresByError: {},
    nemesisEvents: {},
    nemesisSkipped: {},
    liveReads: 0,
    drainReads: 0,
    liveRereads: 0,
  };
  for (const e of history) {
    if (e.type === 'send') s.sends++;
    else if (e.type === 'ack') s.acks++;
    else if (e.type === 'fail') {
      s.failures++;
      s.failuresByError[e.error] = (s.failuresByError[e.error] ?? 0) + 1;
    } else if (e.type === 'nemesis' && e.phase === 'start') s.nemesisEvents[e.nemesis] = (s.nemesisEvents[e.nemesis] ?? 0) + 1;
    else if (e.type === 'nemesis' && e.phase === 'skipped') s.nemesisSkipped[e.nemesis] = (s.nemesisSkipped[e.nemesis] ?? 0) + 1;
  }
  s.unanswered = Math.max(0, s.sends - s.acks - s.failures);
  const liveSeen = new Set<string>();
  for (const r of reads) {
    if (r.reader === 'drain') {
      s.drainReads++;
      continue;
    }
    s.liveReads++;
    const at = position(r.partition, r.offset);
    if (liveSeen.has(at)) s.liveRereads++;
    else liveSeen.add(at);
  }
  return s;
}

/** Faults as intervals: a start paired with its end (or the workload's end if it never ended). */
export function nemesisIntervals(history: readonly HistoryEvent[]): { type: NemesisType; fromMs: number; toMs: number; node?: string }[] {
  const end = history.reduce((t, e) => Math.max(t, e.t), 0);
  const open = new Map<number, { type: NemesisType; fromMs: number; node?: string }>();
  const out: { type: NemesisType; fromMs: number; toMs: number; node?: string }[] = [];
  for (const e of history) {
    if (e.type !== 'nemesis') continue;
    if (e.phase === 'start') open.set(e.id, { type: e.nemesis, fromMs: e.t, ...(e.node ? { node: e.node } : {}) });
    else if (e.phase === 'end' && open.has(e.id)) {
      out.push({ ...open.get(e.id)!, toMs: e.t });
      open.delete(e.id);
    }
  }
  for (const o of open.values()) out.push({ ...o, toMs: end });
  return out.sort((a, b) => a.fromMs - b.fromMs);
}

function unavailability(history: readonly HistoryEvent[]): Unavailability {
  const start = history.find((e) => e.type === 'phase' && e.phase === 'workload-start')?.t;
  const end = history.find((e) => e.type === 'phase' && e.phase === 'workload-end')?.t;
  const out: Unavailability = { overall: null, byNemesis: {}, quiet: null };
  if (start === undefined) return out;
  const stop = end ?? history.reduce((t, e) => Math.max(t, e.t), start);
  const times = [
    start,
    ...history
      .filter((e) => e.type === 'ack')
      .map((e) => e.t)
      .filter((t) => t >= start && t <= stop)
      .sort((a, b) => a - b),
    stop,
  ];
  const faults = nemesisIntervals(history);
  const longer = (w: Window, than: Window | null | undefined): boolean => !than || w.ms > than.ms;
  for (let i = 1; i < times.length; i++) {
    const w: Window = { fromMs: times[i - 1]!, toMs: times[i]!, ms: times[i]! - times[i - 1]! };
    if (w.ms <= 0) continue;
    if (longer(w, out.overall)) out.overall = w;
    const overlapping = faults.filter((f) => f.fromMs < w.toMs && f.toMs > w.fromMs);
    if (overlapping.length === 0 && longer(w, out.quiet)) out.quiet = w;
    for (const f of overlapping) if (longer(w, out.byNemesis[f.type])) out.byNemesis[f.type] = w;
  }
  return out;
}
