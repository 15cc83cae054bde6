/**
 * The chaos report: a summary table for the console, the same as JSON, and an SVG of acknowledged
 * throughput and latency per second with the nemesis windows drawn over them.
 */
import { formatTable } from '../commands/cluster.js';
import { nemesisIntervals, type CheckCount, type CheckResult, type Window } from './checker.js';
import type { HistoryEvent } from './history.js';
import { NEMESIS_TYPES, type NemesisEvent } from './schedule.js';
import { txnChecks } from './txnChecker.js';

export interface RunInfo {
  seed: number;
  command: string;
  durationMs: number;
  nemeses: string[];
  cluster: string;
  idempotence: boolean;
  /** Who wrote, in words (e.g. "KafkaJS over the Kafka listener: 3 idempotent acks=-1 producer(s)"). */
  workload?: string;
  /** The live reader, in words (e.g. "consumer group chaos-readers, 2 members, cooperative-sticky"). */
  reader?: string;
  partition: { supported: boolean; reason?: string };
  schedule: NemesisEvent[];
  /** Wall time of the whole run (start, nemeses, heal, drain, compare). */
  elapsedMs: number;
  /** Problems of the run itself (not of the system under test), e.g. the cluster did not heal. */
  notes: string[];
}

export interface SecondBucket {
  /** Seconds since the run started. */
  t: number;
  acks: number;
  failures: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface Report {
  run: RunInfo;
  result: CheckResult;
  series: SecondBucket[];
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Acks, failures and ack latency per second of the run. */
export function perSecond(history: readonly HistoryEvent[]): SecondBucket[] {
  const end = Math.ceil(history.reduce((t, e) => Math.max(t, e.t), 0) / 1000);
  const latencies: number[][] = Array.from({ length: end + 1 }, () => []);
  const failures = new Array<number>(end + 1).fill(0);
  for (const e of history) {
    const s = Math.floor(e.t / 1000);
    if (e.type === 'ack') latencies[s]!.push(e.latencyMs);
    else if (e.type === 'fail') failures[s]!++;
  }
  return latencies.map((l, t) => {
    const sorted = [...l].sort((a, b) => a - b);
    return {
      t,
      acks: l.length,
      failures: failures[t]!,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      maxMs: sorted.length ? sorted[sorted.length - 1]! : null,
    };
  });
}

const fmtWindow = (w: Window | null | undefined): string =>
  w ? `${(w.ms / 1000).toFixed(2)} s (${(w.fromMs / 1000).toFixed(1)}-${(w.toMs / 1000).toFixed(1)} s)` : '-';

function verdict(c: CheckCount<unknown>, why = ''): string {
  if (c.count === 0) return 'ok';
  return c.judged ? 'VIOLATION' : `reported${why}`;
}

export function summaryTable(report: Report): string {
  const { run, result } = report;
  const s = result.stats;
  const out: string[] = [];
  out.push(
    `samsa chaos: seed ${run.seed}, ${run.durationMs / 1000} s of nemeses (${run.nemeses.join(',') || 'none'}), ${run.cluster}, idempotence ${run.idempotence ? 'on' : 'off'}, run took ${(run.elapsedMs / 1000).toFixed(1)} s`,
  );
  out.push(`command: ${run.command}`);
  if (run.workload) out.push(`workload: ${run.workload}`);
  if (run.reader) out.push(`live reader: ${run.reader}`);
  if (!run.partition.supported && run.nemeses.includes('partition')) out.push(`partition nemesis SKIPPED: ${run.partition.reason}`);
  for (const n of run.notes) out.push(`note: ${n}`);
  out.push('');
  const failures = Object.entries(s.failuresByError).sort((a, b) => b[1] - a[1]);
  out.push(
    formatTable([
      ['WORKLOAD', 'COUNT'],
      ['sends', String(s.sends)],
      ['acks (acks=all)', String(s.acks)],
      ['failures', String(s.failures)],
      ...failures.map(([name, n]) => [`  ${name}`, String(n)]),
      ['unanswered at the end', String(s.unanswered)],
      [result.groupReadGaps ? 'records read by the consumer group' : 'records read live', String(s.liveReads)],
      ...(result.groupReadGaps ? [['  of them read again (after a rebalance)', String(s.liveRereads)]] : []),
      ['records read by the drain', String(s.drainReads)],
    ]),
  );
  const types = NEMESIS_TYPES.filter((t) => run.nemeses.includes(t));
  out.push(
    formatTable([
      ['NEMESIS', 'EVENTS', 'SKIPPED', 'LONGEST WINDOW WITHOUT AN ACK'],
      ...types.map((t) => [
        t,
        String(s.nemesisEvents[t] ?? 0),
        String(s.nemesisSkipped[t] ?? 0),
        fmtWindow(result.unavailability.byNemesis[t]),
      ]),
      ['(no nemesis active)', '-', '-', fmtWindow(result.unavailability.quiet)],
      ['(whole run)', '-', '-', fmtWindow(result.unavailability.overall)],
    ]),
  );
  out.push(
    formatTable([
      ['CHECK', 'COUNT', 'VERDICT'],
      ['lost writes', String(result.lostWrites.count), verdict(result.lostWrites)],
      ['duplicates', String(result.duplicates.count), verdict(result.duplicates, ' (not judged: idempotence off)')],
      ['inconsistent offsets', String(result.inconsistentOffsets.count), verdict(result.inconsistentOffsets)],
      ['per-key order', String(result.perKeyOrder.count), verdict(result.perKeyOrder)],
      ['divergent replicas', String(result.divergentReplicas.count), verdict(result.divergentReplicas)],
      ...(result.groupReadGaps ? [['group read gaps', String(result.groupReadGaps.count), verdict(result.groupReadGaps)]] : []),
      ['partitions not drained to the end', String(result.incompleteDrain.length), result.incompleteDrain.length ? 'INCOMPLETE' : 'ok'],
    ]),
  );
  const txn = result.transactions;
  if (txn) {
    const t = txn.stats;
    out.push(
      formatTable([
        ['TRANSACTIONS', 'COUNT'],
        ['begun', String(t.transactions)],
        ['committed (as the client was told)', String(t.committed)],
        ['aborted (as the client was told)', String(t.aborted)],
        ['  of them on purpose', String(t.abortedOnPurpose)],
        ['outcome unknown (failed; resolved by the next producer)', String(t.unknown)],
        ['input records', String(t.inputRecords)],
        ['output records acknowledged in transactions', String(t.outputAcked)],
        ['output records read_committed (drain)', String(t.committedOutput)],
        ['aborted output records in the log (hidden from read_committed)', String(t.abortedInLog)],
        ['live read_committed reads', String(t.liveCommittedReads)],
      ]),
    );
    out.push(
      formatTable([
        ['EXACTLY-ONCE CHECK', 'COUNT', 'VERDICT'],
        ...txnChecks(txn).map(([name, c]) => [name, c ? String(c.count) : '-', c ? verdict(c) : 'not checked (no committed offsets)']),
      ]),
    );
    for (const [name, c] of txnChecks(txn)) for (const e of c?.examples.slice(0, 3) ?? []) out.push(`  ${name}: ${JSON.stringify(e)}`);
  }
  const examples: [string, CheckCount<unknown>][] = [
    ['lost write', result.lostWrites],
    ['duplicate', result.duplicates],
    ['inconsistent offset', result.inconsistentOffsets],
    ['order', result.perKeyOrder],
    ['divergent replicas', result.divergentReplicas],
    ...(result.groupReadGaps ? [['group read gap', result.groupReadGaps] as [string, CheckCount<unknown>]] : []),
  ];
  for (const [name, c] of examples) for (const e of c.examples.slice(0, 3)) out.push(`  ${name}: ${JSON.stringify(e)}`);
  const why = [`${result.violations} violation(s)`];
  if (result.incompleteDrain.length) why.push('incomplete drain');
  const crashes = run.notes.filter((n) => n.startsWith('CRASH:')).length;
  if (crashes) why.push(`${crashes} node crash(es)`);
  if (run.notes.some((n) => n.startsWith('the run stopped early'))) why.push('the run stopped early');
  out.push(result.ok ? `PASS: 0 violations (seed ${run.seed})` : `FAIL: ${why.join(', ')}; seed ${run.seed} replays this nemesis schedule`);
  return out.join('\n') + '\n';
}

const COLORS: Record<string, string> = {
  kill: '#e4572e',
  pause: '#f3a712',
  partition: '#4e79a7',
  'controller-kill': '#a23b72',
  'rolling-restart': '#29bf12',
  reassign: '#59a5d8',
  'disk-full': '#7d5ba6',
  'coordinator-kill': '#6b4226',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two panels over time: acknowledged records/s, and ack latency (p50, p99, max) per second. */
export function svgPlot(report: Report, history: readonly HistoryEvent[]): string {
  const W = 1000,
    H = 520,
    left = 60,
    right = 20,
    top = 40,
    panel = 190,
    gap = 50;
  const series = report.series;
  const endS = Math.max(1, series.length);
  const x = (s: number) => left + (s / endS) * (W - left - right);
  const maxAcks = Math.max(1, ...series.map((b) => b.acks));
  const maxLat = Math.max(1, ...series.map((b) => b.maxMs ?? 0));
  const yA = (v: number) => top + panel - (v / maxAcks) * panel;
  const top2 = top + panel + gap;
  const yL = (v: number) => top2 + panel - (v / maxLat) * panel;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(
    `<text x="${left}" y="20" font-size="13">${esc(`samsa chaos, seed ${report.run.seed}: ${report.result.ok ? 'PASS' : 'FAIL'} (${report.result.violations} violations)`)}</text>`,
  );
  for (const [i, f] of nemesisIntervals(history).entries()) {
    const x0 = x(f.fromMs / 1000),
      x1 = Math.max(x0 + 1, x(f.toMs / 1000));
    for (const y0 of [top, top2])
      parts.push(
        `<rect x="${x0.toFixed(1)}" y="${y0}" width="${(x1 - x0).toFixed(1)}" height="${panel}" fill="${COLORS[f.type] ?? '#999'}" fill-opacity="0.18"><title>${esc(`${f.type} ${f.node ?? ''} ${(f.fromMs / 1000).toFixed(1)}-${(f.toMs / 1000).toFixed(1)} s`)}</title></rect>`,
      );
    parts.push(
      `<text x="${(x0 + 2).toFixed(1)}" y="${top + 10 + (i % 3) * 11}" fill="${COLORS[f.type] ?? '#999'}" font-size="9">${esc(`${f.type}${f.node ? ` ${f.node}` : ''}`)}</text>`,
    );
  }
  const line = (pts: [number, number][], color: string, width = 1.5) =>
    `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`;
  parts.push(
    line(
      series.map((b) => [x(b.t + 0.5), yA(b.acks)]),
      '#222',
    ),
  );
  for (const [key, color] of [
    ['maxMs', '#bbb'],
    ['p99Ms', '#e15759'],
    ['p50Ms', '#222'],
  ] as const) {
    const pts = series.filter((b) => b[key] !== null).map((b): [number, number] => [x(b.t + 0.5), yL(b[key]!)]);
    if (pts.length) parts.push(line(pts, color));
  }
  for (const [y0, label, max, unit] of [
    [top, 'acknowledged records/s', maxAcks, ''],
    [top2, 'ack latency per second: p50 (black), p99 (red), max (grey)', maxLat, ' ms'],
  ] as const) {
    parts.push(`<rect x="${left}" y="${y0}" width="${W - left - right}" height="${panel}" fill="none" stroke="#888"/>`);
    parts.push(`<text x="${left + 4}" y="${y0 + panel + 14}">${esc(label)}</text>`);
    parts.push(`<text x="${left - 4}" y="${y0 + 10}" text-anchor="end">${Math.round(max)}${unit}</text>`);
    parts.push(`<text x="${left - 4}" y="${y0 + panel}" text-anchor="end">0</text>`);
  }
  for (let s = 0; s <= endS; s += endS > 120 ? 30 : 10)
    parts.push(`<text x="${x(s).toFixed(1)}" y="${H - 8}" text-anchor="middle">${s} s</text>`);
  let lx = left + 420;
  for (const t of NEMESIS_TYPES) {
    parts.push(
      `<rect x="${lx}" y="10" width="10" height="10" fill="${COLORS[t]}" fill-opacity="0.5"/><text x="${lx + 13}" y="19">${t}</text>`,
    );
    lx += 14 + t.length * 6.5 + 10;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
