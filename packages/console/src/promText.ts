/**
 * Reads the nodes' Prometheus text exposition (`/metrics`, format 0.0.4) and turns two scrapes into
 * rates and latency percentiles, as Prometheus's `rate()` and `histogram_quantile()` would. Pure:
 * the caller scrapes and passes the scrape time.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) for (const l of m[3].matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

export function sum(samples: readonly Sample[], name: string, where: (labels: Record<string, string>) => boolean = () => true): number {
  let total = 0;
  for (const s of samples) if (s.name === name && where(s.labels)) total += s.value;
  return total;
}

/** Cumulative bucket counts by upper bound `le`, summed over the matching series. */
export function buckets(samples: readonly Sample[], name: string, where: (labels: Record<string, string>) => boolean): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !where(s.labels)) continue;
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/**
 * The q-quantile of the observations between two cumulative histograms (before may be empty),
 * interpolated linearly inside the bucket as histogram_quantile does; undefined with no observations.
 */
export function histogramQuantile(q: number, after: Map<number, number>, before: Map<number, number> = new Map()): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => Math.max(0, (after.get(le) ?? 0) - (before.get(le) ?? 0)));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const upper = bounds[i]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      if (upper === Infinity) return lower;
      const below = i === 0 ? 0 : counts[i - 1]!;
      const inBucket = counts[i]! - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return bounds.at(-2);
}

export interface MetricsPoint {
  /** ms since the epoch of the later scrape. */
  time: number;
  produceRequestsPerSec: number;
  fetchRequestsPerSec: number;
  bytesInPerSec: number;
  bytesOutPerSec: number;
  /** Seconds, over the interval; null with no calls in it. */
  produceLatency: { p50: number | null; p99: number | null };
  fetchLatency: { p50: number | null; p99: number | null };
}

export interface Scrape {
  time: number;
  samples: Sample[];
}

// Unary calls and the calls pipelined over one stream (ProduceStream, FetchStream: each call is
// observed on its own). Consumers' fetches only, as Kafka's FetchConsumer: not the followers'
// ReplicaFetch. Fetch latency includes the long-poll wait (Kafka's FetchConsumer total time does too).
const isProduce = (l: Record<string, string>) => l['method'] === 'Produce' || l['method'] === 'ProduceStream';
const isFetch = (l: Record<string, string>) => l['method'] === 'Fetch' || l['method'] === 'FetchStream';

/** The rates and latency percentiles between two scrapes of all nodes (summed over nodes). */
export function metricsBetween(before: Scrape, after: Scrape): MetricsPoint {
  const seconds = Math.max(0.001, (after.time - before.time) / 1000);
  const rate = (name: string, where?: (l: Record<string, string>) => boolean) =>
    Math.max(0, sum(after.samples, name, where) - sum(before.samples, name, where)) / seconds;
  const latency = (where: (l: Record<string, string>) => boolean) => {
    const a = buckets(after.samples, 'samsa_rpc_request_duration_seconds', where);
    const b = buckets(before.samples, 'samsa_rpc_request_duration_seconds', where);
    return { p50: histogramQuantile(0.5, a, b) ?? null, p99: histogramQuantile(0.99, a, b) ?? null };
  };
  return {
    time: after.time,
    produceRequestsPerSec: rate('samsa_rpc_requests_total', isProduce),
    fetchRequestsPerSec: rate('samsa_rpc_requests_total', isFetch),
    bytesInPerSec: rate('samsa_broker_topic_bytes_in_total'),
    bytesOutPerSec: rate('samsa_broker_topic_bytes_out_total'),
    produceLatency: latency(isProduce),
    fetchLatency: latency(isFetch),
  };
}
