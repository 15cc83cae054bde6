/**
 * The nemesis schedule: a pure function of the seed, the run's length and the nemesis types, so a
 * failing run's seed replays the same faults in the same order on the same targets. Faults come
 * one at a time with a recovery gap between them: the guarantee under test (RF=3,
 * min.insync.replicas=2, acks=all) holds while at most one replica of a partition is lost at once.
 */
import { seededRandom, type Random } from '@samsa/client';

export const NEMESIS_TYPES = [
  'kill',
  'pause',
  'partition',
  'controller-kill',
  'rolling-restart',
  'coordinator-kill',
  'reassign',
  'disk-full',
] as const;
export type NemesisType = (typeof NEMESIS_TYPES)[number];
/** What `samsa chaos` runs without --nemesis: reassign and disk-full are asked for by name. */
export const DEFAULT_NEMESES: readonly NemesisType[] = [
  'kill',
  'pause',
  'partition',
  'controller-kill',
  'rolling-restart',
  'coordinator-kill',
];

export interface NemesisEvent {
  /** Position in the schedule, from 0. */
  id: number;
  type: NemesisType;
  /** Planned start, ms after the workload started. The run starts it no earlier than this. */
  atMs: number;
  /**
   * Broker index (0-based) it hits; -1 for controller-kill (the active controller when it fires),
   * coordinator-kill (the transaction coordinator, or the group coordinator, when it fires) and
   * rolling-restart. For reassign: the broker whose replica of `partition` moves away (and back).
   */
  target: number;
  /** reassign only: the partition of the chaos topic that is moved. */
  partition?: number;
  /** How long the fault lasts before it is undone (for rolling-restart: the time budgeted for it). */
  holdMs: number;
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  types: readonly NemesisType[];
  brokers: number;
  /** The controller's broker session timeout: a pause or partition must outlast it to fence. */
  sessionTimeoutMs: number;
  /** Partitions of the chaos topic (reassign picks one; default 6). */
  partitions?: number;
  /** No fault before this (the workload warms up). Default: 10 % of the duration, at most 5 s. */
  warmupMs?: number;
  /** Every fault ends this long before the duration (the cluster is left alone). Default as warmup. */
  tailMs?: number;
}

/** Milliseconds a rolling restart is budgeted per broker (SIGTERM, restart, catch up). */
export const ROLLING_RESTART_MS_PER_BROKER = 6_000;

export function parseNemeses(value: string): NemesisType[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out: NemesisType[] = [];
  for (const n of names) {
    if (!(NEMESIS_TYPES as readonly string[]).includes(n))
      throw new Error(`unknown nemesis '${n}'; choose from ${NEMESIS_TYPES.join(', ')}`);
    if (!out.includes(n as NemesisType)) out.push(n as NemesisType);
  }
  return out;
}

const between = (rng: Random, lo: number, hi: number): number => Math.round(lo + rng() * (hi - lo));

function holdFor(type: NemesisType, rng: Random, o: ScheduleOptions): number {
  switch (type) {
    case 'kill':
      return between(rng, 2_000, 6_000);
    case 'controller-kill':
      return between(rng, 1_000, 4_000);
    case 'coordinator-kill':
      return between(rng, 2_000, 6_000);
    // Longer than the session timeout, so the controller fences the broker meanwhile.
    case 'pause':
      return between(rng, o.sessionTimeoutMs + 1_000, o.sessionTimeoutMs + 4_000);
    case 'partition':
      return between(rng, o.sessionTimeoutMs + 1_000, o.sessionTimeoutMs + 5_000);
    case 'rolling-restart':
      return o.brokers * ROLLING_RESTART_MS_PER_BROKER;
    // The moved replica stays away this long (the moves there and back are waited for on top).
    case 'reassign':
      return between(rng, 4_000, 8_000);
    // Full long enough for the controller to fence the broker and move leadership; the restart
    // after space returns comes on top.
    case 'disk-full':
      return between(rng, o.sessionTimeoutMs + 1_000, o.sessionTimeoutMs + 4_000);
  }
}

/**
 * Rounds of the enabled types in a seeded order (so every type appears once the run is long
 * enough), each fault followed by a 3-6 s recovery gap. A fault that would not end by
 * `durationMs - tail` is left out and the next type is tried.
 */
export function planNemeses(o: ScheduleOptions): NemesisEvent[] {
  if (o.types.length === 0 || o.brokers < 1) return [];
  const rng = seededRandom(o.seed);
  const edge = Math.min(5_000, Math.round(o.durationMs * 0.1));
  const warmup = o.warmupMs ?? edge;
  const end = o.durationMs - (o.tailMs ?? edge);
  const events: NemesisEvent[] = [];
  let t = warmup;
  for (let round = 0; round < 1_000; round++) {
    const order = [...o.types];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let placed = 0;
    for (const type of order) {
      const holdMs = holdFor(type, rng, o);
      const target =
        type === 'controller-kill' || type === 'rolling-restart' || type === 'coordinator-kill' ? -1 : Math.floor(rng() * o.brokers);
      const partition = type === 'reassign' ? Math.floor(rng() * (o.partitions ?? 6)) : undefined;
      const gap = between(rng, 3_000, 6_000);
      if (t + holdMs > end) continue;
      events.push({ id: events.length, type, atMs: t, target, holdMs, ...(partition === undefined ? {} : { partition }) });
      placed++;
      t += holdMs + gap;
    }
    if (placed === 0) break;
  }
  return events;
}

/**
 * The reassign nemesis' move (KIP-455 target replicas): the replica on `victim` goes to a broker
 * that holds none of the partition when there is one (a real move: the new replica catches up
 * from nothing), else it is dropped (the partition runs at one replica fewer, its log on
 * `victim` deleted, until the move back re-adds it, which then catches up from nothing). The
 * leader's position is kept, so a move never needs an election unless the leader is the victim.
 * Returns undefined when `victim` holds no replica (nothing to move).
 */
export function reassignmentTarget(replicas: readonly number[], brokers: readonly number[], victim: number): number[] | undefined {
  const at = replicas.indexOf(victim);
  if (at < 0) return undefined;
  const spare = brokers.find((b) => !replicas.includes(b));
  if (spare !== undefined) return replicas.map((r) => (r === victim ? spare : r));
  return replicas.filter((r) => r !== victim);
}
