/**
 * Per-hop timing of the produce path for the request-cost benchmark (scripts/request-cost.mjs,
 * issue 17): where one produce request's time goes between client encode, transport, the
 * leader's append, the acks=all purgatory, the followers' fetches and the answer. Kafka keeps the
 * same breakdown as its RequestMetrics (RequestQueueTimeMs, LocalTimeMs, RemoteTimeMs,
 * ResponseSendTimeMs); here they are plain counters shared by client and broker, since both
 * import this package.
 *
 * Off unless the process starts with SAMSA_BENCH_REQUEST_COST_DIR set: then every hook is a test of one
 * constant, and nothing is allocated. When on, each hop keeps a count, a sum and a log2 histogram
 * of nanoseconds (hrtime), and the process writes `<dir>/<pid>.json` on SIGUSR2 and at exit, with
 * its CPU time (process.cpuUsage) now and when the first hop was recorded (the client's start-up
 * is then left out of its per-request cost).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = typeof process === 'object' ? process.env.SAMSA_BENCH_REQUEST_COST_DIR : undefined;

/** True when the hooks record (SAMSA_BENCH_REQUEST_COST_DIR is set). */
export const REQUEST_COST_ENABLED: boolean = dir !== undefined && dir !== '';

const BUCKETS = 40; // 2^40 ns is 18 minutes
interface HopStats {
  count: number;
  totalNs: number;
  /** buckets[i]: samples in [2^i, 2^(i+1)) ns. */
  buckets: number[];
}
const hops = new Map<string, HopStats>();
let cpuAtFirstHop: NodeJS.CpuUsage | undefined;

/** A start mark for hopEnd (0n when off, so the call costs nothing then). */
export function hopStart(): bigint {
  return REQUEST_COST_ENABLED ? process.hrtime.bigint() : 0n;
}

/** Records the time since `started` (from hopStart) under `hop`. */
export function hopEnd(hop: string, started: bigint): void {
  if (REQUEST_COST_ENABLED) hopRecord(hop, Number(process.hrtime.bigint() - started));
}

/** Records one sample of `ns` nanoseconds under `hop` (a count only: ns 0). */
export function hopRecord(hop: string, ns: number): void {
  if (!REQUEST_COST_ENABLED) return;
  cpuAtFirstHop ??= process.cpuUsage();
  let s = hops.get(hop);
  if (!s) hops.set(hop, (s = { count: 0, totalNs: 0, buckets: new Array<number>(BUCKETS).fill(0) }));
  s.count++;
  s.totalNs += ns;
  const b = ns < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(ns)));
  s.buckets[b]!++;
}

/** What the process writes: cumulative since start, so a reader takes differences of two dumps. */
export function requestCostSnapshot(): {
  pid: number;
  cpu: NodeJS.CpuUsage;
  cpuAtFirstHop: NodeJS.CpuUsage | null;
  hops: Record<string, HopStats>;
} {
  return { pid: process.pid, cpu: process.cpuUsage(), cpuAtFirstHop: cpuAtFirstHop ?? null, hops: Object.fromEntries(hops) };
}

function dump(): void {
  try {
    writeFileSync(join(dir!, `${process.pid}.json`), JSON.stringify(requestCostSnapshot()));
  } catch {
    // A benchmark aid: a dump that cannot be written must not disturb the process.
  }
}

if (REQUEST_COST_ENABLED) {
  process.on('SIGUSR2', dump);
  process.on('exit', dump);
}
