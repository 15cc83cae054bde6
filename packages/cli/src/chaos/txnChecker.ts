/**
 * The exactly-once checker of `samsa chaos --workload transactions`: a pure function from a run's
 * history to Kafka's transactional guarantees (KIP-98, KIP-447) as a consume-transform-produce
 * application sees them. The input topic's drain is the input log; the output topic's
 * read_committed drain is what a read_committed reader gets after healing; its read_uncommitted
 * drain is the whole output log (aborted records included); `txn` events say what each worker was
 * told; `group-offsets` are the transform group's committed input offsets at the end.
 *
 * Judged (each must be 0):
 * - aborted reads: a record of a transaction the client was told aborted, read by read_committed
 *   (the live reader or the drain).
 * - lost commits: a transaction the client was told committed whose acknowledged output records
 *   are not all in the read_committed drain.
 * - torn transactions: a transaction of which read_committed sees some records but not all (all =
 *   its records anywhere in the log, plus its acknowledged ones).
 * - duplicates: one input record transformed into more than one visible output record.
 * - order: within an output partition, visible output records whose input offsets do not rise
 *   (the worker writes each input partition to the same output partition, in input order).
 * - transform mismatches: a visible output record whose input position is not in the input log or
 *   holds another value.
 * - missing output: an input record never transformed (no visible output), at or past the group's
 *   committed offset (the workers did not get to it).
 * - offsets without output: an input record below the group's committed offset with no visible
 *   output (the offset commit went through without the output: the record is skipped for ever).
 * - output without offsets: a visible output record at or past the group's committed offset (the
 *   output went through without the offset commit: a restart transforms the record again).
 * - inconsistent reads: a live read_committed read that the read_committed drain does not hold at
 *   that partition and offset (a record read and later gone, or another value there).
 */
import {
  decodeTransformed,
  type GroupOffsetsEvent,
  type HistoryEvent,
  type OutputReadEvent,
  type ReadEvent,
  type TxnEvent,
} from './history.js';

export interface TxnCount<E> {
  count: number;
  /** Every transactional check is judged; kept for the report's shape (checker.ts's CheckCount). */
  judged: true;
  examples: E[];
}

export type TxnOutcome = 'committed' | 'aborted' | 'unknown';

export interface AbortedRead {
  reader: 'live' | 'drain';
  partition: number;
  offset: string;
  txn: string;
}
export interface LostCommit {
  txn: string;
  missing: string[];
}
export interface TornTransaction {
  txn: string;
  outcome: TxnOutcome;
  visible: number;
  total: number;
}
export interface OutputDuplicate {
  src: string;
  positions: string[];
}
export interface OutputOrder {
  partition: number;
  offset: string;
  src: string;
  after: string;
}
export interface TransformMismatch {
  partition: number;
  offset: string;
  src: string;
  expected: string | null | undefined;
  found: string | null;
}
export interface MissingOutput {
  src: string;
  committedOffset: string | null;
}
export interface OutputPastOffsets {
  src: string;
  committedOffset: string;
}
export interface InconsistentRead {
  partition: number;
  offset: string;
  live: string | null;
  drained: string | null | undefined;
}

export interface TxnStats {
  /** Transactions begun, and how they ended as the workers were told. */
  transactions: number;
  committed: number;
  aborted: number;
  /** Aborted on purpose (the worker's `intent`); the rest ended by a fault. */
  abortedOnPurpose: number;
  unknown: number;
  /** Output records acknowledged inside transactions. */
  outputAcked: number;
  inputRecords: number;
  /** Output records visible to the read_committed drain. */
  committedOutput: number;
  /** Output records in the log (read_uncommitted drain) whose transaction was aborted: what read_committed must hide. */
  abortedInLog: number;
  liveCommittedReads: number;
}

export interface TxnCheckResult {
  stats: TxnStats;
  abortedReads: TxnCount<AbortedRead>;
  lostCommits: TxnCount<LostCommit>;
  tornTransactions: TxnCount<TornTransaction>;
  duplicates: TxnCount<OutputDuplicate>;
  order: TxnCount<OutputOrder>;
  transformMismatches: TxnCount<TransformMismatch>;
  missingOutput: TxnCount<MissingOutput>;
  /** null when the history has no committed group offsets (the two offset checks cannot be made). */
  offsetsWithoutOutput: TxnCount<MissingOutput> | null;
  outputWithoutOffsets: TxnCount<OutputPastOffsets> | null;
  inconsistentReads: TxnCount<InconsistentRead>;
  violations: number;
  ok: boolean;
}

const at = (partition: number | string, offset: string | bigint): string => `${partition}@${offset}`;

function judged<E>(items: E[], max: number): TxnCount<E> {
  return { count: items.length, judged: true, examples: items.slice(0, max) };
}

/** The last word each transaction got: committed or aborted as the client was told, else unknown. */
export function txnOutcomes(history: readonly HistoryEvent[]): Map<string, TxnOutcome> {
  const out = new Map<string, TxnOutcome>();
  for (const e of history) {
    if (e.type !== 'txn') continue;
    out.set(e.txn, e.phase === 'committed' ? 'committed' : e.phase === 'aborted' ? 'aborted' : 'unknown');
  }
  return out;
}

const byOffset = (a: { offset: string }, b: { offset: string }): number => {
  const x = BigInt(a.offset),
    y = BigInt(b.offset);
  return x < y ? -1 : x > y ? 1 : 0;
};

export function checkTransactions(history: readonly HistoryEvent[], options: { examples?: number } = {}): TxnCheckResult {
  const max = options.examples ?? 10;
  const outcomes = txnOutcomes(history);
  const txnEvents = history.filter((e): e is TxnEvent => e.type === 'txn');
  const outReads = history.filter((e): e is OutputReadEvent => e.type === 'out-read');
  // One read per position and reader kind (a drain retried after a fault may log a position twice).
  const unique = (reader: OutputReadEvent['reader']) => [
    ...new Map(outReads.filter((r) => r.reader === reader).map((r) => [at(r.partition, r.offset), r])).values(),
  ];
  const drained = unique('drain');
  const wholeLog = unique('uncommitted');
  const live = outReads.filter((r) => r.reader === 'live');
  const input = new Map<string, string | null>();
  for (const r of history) if (r.type === 'read' && r.reader === 'drain') input.set(at(r.partition, r.offset), (r as ReadEvent).value);
  const groupOffsets = [...history].reverse().find((e): e is GroupOffsetsEvent => e.type === 'group-offsets');
  const committedOffset = (partition: number): bigint | undefined =>
    groupOffsets?.offsets[String(partition)] === undefined ? undefined : BigInt(groupOffsets.offsets[String(partition)]!);

  // Aborted reads: read_committed never returns a record of an aborted transaction.
  const abortedReads: AbortedRead[] = [];
  for (const r of [...live, ...drained]) {
    const v = decodeTransformed(r.value);
    if (v && outcomes.get(v.txn) === 'aborted')
      abortedReads.push({ reader: r.reader as 'live' | 'drain', partition: r.partition, offset: r.offset, txn: v.txn });
  }

  // Per transaction: what read_committed sees of it, and everything of it anywhere.
  const visibleOf = new Map<string, Set<string>>();
  const allOf = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, txn: string, value: string) => {
    let s = m.get(txn);
    if (!s) m.set(txn, (s = new Set()));
    s.add(value);
  };
  for (const r of drained) {
    const v = decodeTransformed(r.value);
    if (v) {
      add(visibleOf, v.txn, r.value!);
      add(allOf, v.txn, r.value!);
    }
  }
  for (const r of wholeLog) {
    const v = decodeTransformed(r.value);
    if (v) add(allOf, v.txn, r.value!);
  }
  const ackedOf = new Map<string, Set<string>>();
  for (const e of history)
    if (e.type === 'txn-output') {
      add(ackedOf, e.txn, e.value);
      add(allOf, e.txn, e.value);
    }

  const lostCommits: LostCommit[] = [];
  for (const [txn, outcome] of outcomes) {
    if (outcome !== 'committed') continue;
    const missing = [...(ackedOf.get(txn) ?? [])].filter((value) => !visibleOf.get(txn)?.has(value));
    if (missing.length > 0) lostCommits.push({ txn, missing: missing.slice(0, 3) });
  }
  const tornTransactions: TornTransaction[] = [];
  for (const [txn, all] of allOf) {
    const visible = visibleOf.get(txn)?.size ?? 0;
    if (visible > 0 && visible < all.size)
      tornTransactions.push({ txn, outcome: outcomes.get(txn) ?? 'unknown', visible, total: all.size });
  }

  // The visible output, partition by partition in offset order, against the input log.
  const positionsOfSrc = new Map<string, string[]>();
  const order: OutputOrder[] = [];
  const mismatches: TransformMismatch[] = [];
  const outputWithoutOffsets: OutputPastOffsets[] = [];
  const byPartition = new Map<number, OutputReadEvent[]>();
  for (const r of drained) {
    let list = byPartition.get(r.partition);
    if (!list) byPartition.set(r.partition, (list = []));
    list.push(r);
  }
  for (const [partition, list] of byPartition) {
    let last: { offset: bigint; src: string } | undefined;
    for (const r of list.sort(byOffset)) {
      const v = decodeTransformed(r.value);
      if (!v) {
        mismatches.push({ partition, offset: r.offset, src: '?', expected: undefined, found: r.value });
        continue;
      }
      const positions = positionsOfSrc.get(v.src);
      if (positions) {
        positions.push(at(partition, r.offset));
        continue;
      }
      positionsOfSrc.set(v.src, [at(partition, r.offset)]);
      const [srcPartition, srcOffsetText] = v.src.split('@');
      const srcOffset = BigInt(srcOffsetText ?? '-1');
      if (!input.has(v.src) || input.get(v.src) !== v.v)
        mismatches.push({ partition, offset: r.offset, src: v.src, expected: input.get(v.src), found: v.v });
      if (Number(srcPartition) === partition) {
        if (last && srcOffset <= last.offset) order.push({ partition, offset: r.offset, src: v.src, after: last.src });
        else last = { offset: srcOffset, src: v.src };
      } else {
        order.push({ partition, offset: r.offset, src: v.src, after: `input partition ${srcPartition} in output partition ${partition}` });
      }
      const committed = committedOffset(Number(srcPartition));
      if (committed !== undefined && srcOffset >= committed)
        outputWithoutOffsets.push({ src: v.src, committedOffset: committed.toString() });
    }
  }
  const duplicates: OutputDuplicate[] = [];
  for (const [src, positions] of positionsOfSrc) if (positions.length > 1) duplicates.push({ src, positions });

  // Input records without visible output: below the committed offset the offsets went without
  // their output; at or past it the workers never got to them.
  const missing: MissingOutput[] = [];
  const offsetsWithoutOutput: MissingOutput[] = [];
  for (const src of [...input.keys()].sort()) {
    if (positionsOfSrc.has(src)) continue;
    const [partition, offset] = src.split('@');
    const committed = committedOffset(Number(partition));
    if (committed !== undefined && BigInt(offset!) < committed) offsetsWithoutOutput.push({ src, committedOffset: committed.toString() });
    else missing.push({ src, committedOffset: committed === undefined ? null : committed.toString() });
  }

  // Live read_committed reads against the read_committed drain, position by position.
  const drainedAt = new Map(drained.map((r) => [at(r.partition, r.offset), r.value]));
  const drainEnd = new Map<number, bigint>();
  for (const e of history) if (e.type === 'drain' && e.topic === 'output' && e.complete) drainEnd.set(e.partition, BigInt(e.highWatermark));
  const inconsistent: InconsistentRead[] = [];
  const seenLive = new Set<string>();
  for (const r of live) {
    const p = at(r.partition, r.offset);
    const seen = `${p}\0${r.value}`;
    if (seenLive.has(seen)) continue;
    seenLive.add(seen);
    const end = drainEnd.get(r.partition);
    // Only where the drain read that far (an incomplete drain is reported on its own).
    if (end === undefined || BigInt(r.offset) >= end) continue;
    if (drainedAt.get(p) !== r.value)
      inconsistent.push({ partition: r.partition, offset: r.offset, live: r.value, drained: drainedAt.get(p) });
  }

  const stats: TxnStats = {
    transactions: txnEvents.filter((e) => e.phase === 'begin').length,
    committed: [...outcomes.values()].filter((o) => o === 'committed').length,
    aborted: [...outcomes.values()].filter((o) => o === 'aborted').length,
    abortedOnPurpose: txnEvents.filter((e) => e.phase === 'begin' && e.intent === 'abort' && outcomes.get(e.txn) === 'aborted').length,
    unknown: [...outcomes.values()].filter((o) => o === 'unknown').length,
    outputAcked: history.filter((e) => e.type === 'txn-output').length,
    inputRecords: input.size,
    committedOutput: drained.length,
    abortedInLog: wholeLog.filter((r) => {
      const v = decodeTransformed(r.value);
      return v !== undefined && outcomes.get(v.txn) === 'aborted';
    }).length,
    liveCommittedReads: live.length,
  };
  const result: TxnCheckResult = {
    stats,
    abortedReads: judged(abortedReads, max),
    lostCommits: judged(lostCommits, max),
    tornTransactions: judged(tornTransactions, max),
    duplicates: judged(duplicates, max),
    order: judged(order, max),
    transformMismatches: judged(mismatches, max),
    missingOutput: judged(missing, max),
    offsetsWithoutOutput: groupOffsets ? judged(offsetsWithoutOutput, max) : null,
    outputWithoutOffsets: groupOffsets ? judged(outputWithoutOffsets, max) : null,
    inconsistentReads: judged(inconsistent, max),
    violations: 0,
    ok: false,
  };
  result.violations = txnChecks(result).reduce((n, [, c]) => n + (c?.count ?? 0), 0);
  result.ok = result.violations === 0;
  return result;
}

/** The judged checks with their names, in report order (null: could not be made). */
export function txnChecks(r: TxnCheckResult): [string, TxnCount<unknown> | null][] {
  return [
    ['aborted records read (read_committed)', r.abortedReads],
    ['committed transactions lost', r.lostCommits],
    ['transactions seen partially', r.tornTransactions],
    ['input records transformed twice', r.duplicates],
    ['output out of input order', r.order],
    ['output not matching its input', r.transformMismatches],
    ['input records missing from the output', r.missingOutput],
    ['offsets committed without their output', r.offsetsWithoutOutput],
    ['output without its offsets committed', r.outputWithoutOffsets],
    ['live read_committed reads not in the log', r.inconsistentReads],
  ];
}
