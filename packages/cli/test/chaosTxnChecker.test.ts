/**
 * The exactly-once checker of `samsa chaos --workload transactions` on synthetic histories: a
 * clean consume-transform-produce history passes, and each planted fault (an aborted record read,
 * a committed transaction lost, a torn transaction, a duplicate, reordering, a wrong transform,
 * an unprocessed input, offsets without output, output without offsets, a live read the log does
 * not hold) fails exactly its own check.
 */
import { describe, expect, it } from 'vitest';
import { encodeTransformed, type HistoryEvent } from '../src/chaos/history.js';
import { checkTransactions, txnChecks, type TxnCheckResult } from '../src/chaos/txnChecker.js';

type Ev = HistoryEvent;
/** Distributes Omit over the union, so each literal is checked against its own event type. */
type WithoutT<E> = E extends HistoryEvent ? Omit<E, 't'> : never;

const inVal = (p: number, o: number) => `in-${p}-${o}`;
const outVal = (p: number, o: number, txn: string) => encodeTransformed({ src: `${p}@${o}`, v: inVal(p, o), txn });

/**
 * Input partitions 0 and 1, four records each. Worker 0: txn w0-0 commits inputs 0@0..1 and
 * 1@0..1 (output partition = input partition); w0-1 transforms 0@2..3 and aborts on purpose;
 * w0-2 transforms 0@2..3 again and commits; w0-3 transforms 1@2..3 and commits. The group's
 * committed offsets end at 4 and 4. The output log (read_uncommitted) holds the aborted records;
 * read_committed does not.
 */
function clean(): Ev[] {
  const h: Ev[] = [];
  let t = 0;
  const e = (ev: WithoutT<Ev>) => h.push({ ...ev, t: t++ } as Ev);
  for (const p of [0, 1])
    for (let o = 0; o < 4; o++) e({ type: 'read', reader: 'drain', partition: p, offset: String(o), key: null, value: inVal(p, o) });
  const outOffset = [0, 0];
  const log: { partition: number; offset: string; value: string; txn: string }[] = [];
  const txn = (name: string, inputs: [number, number][], end: 'committed' | 'aborted') => {
    e({ type: 'txn', worker: 0, txn: name, phase: 'begin', intent: end === 'aborted' ? 'abort' : 'commit' });
    for (const [p, o] of inputs) {
      const value = outVal(p, o, name);
      const offset = String(outOffset[p]!++);
      e({ type: 'txn-output', txn: name, value, partition: p, offset });
      log.push({ partition: p, offset, value, txn: name });
    }
    const offsets: Record<string, string> = {};
    for (const [p, o] of inputs) offsets[String(p)] = String(o + 1);
    e({ type: 'txn-offsets', txn: name, offsets });
    e({ type: 'txn', worker: 0, txn: name, phase: end });
    // The transaction's marker takes an offset.
    for (const p of new Set(inputs.map(([p]) => p))) outOffset[p]!++;
  };
  txn(
    'w0-0',
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ],
    'committed',
  );
  txn(
    'w0-1',
    [
      [0, 2],
      [0, 3],
    ],
    'aborted',
  );
  txn(
    'w0-2',
    [
      [0, 2],
      [0, 3],
    ],
    'committed',
  );
  txn(
    'w0-3',
    [
      [1, 2],
      [1, 3],
    ],
    'committed',
  );
  for (const r of log) {
    e({ type: 'out-read', reader: 'uncommitted', partition: r.partition, offset: r.offset, value: r.value });
    if (r.txn !== 'w0-1') {
      e({ type: 'out-read', reader: 'live', partition: r.partition, offset: r.offset, value: r.value });
      e({ type: 'out-read', reader: 'drain', partition: r.partition, offset: r.offset, value: r.value });
    }
  }
  for (const p of [0, 1]) e({ type: 'drain', topic: 'output', partition: p, highWatermark: String(outOffset[p]), complete: true });
  e({ type: 'group-offsets', offsets: { '0': '4', '1': '4' } });
  return h;
}

/** The names of the checks with a non-zero count. */
function failing(r: TxnCheckResult): string[] {
  return txnChecks(r)
    .filter(([, c]) => (c?.count ?? 0) > 0)
    .map(([name]) => name);
}

const isOut = (e: Ev, reader: string, txn: string, src?: string): boolean =>
  e.type === 'out-read' &&
  e.reader === reader &&
  (e.value ?? '').includes(`"txn":"${txn}"`) &&
  (src === undefined || e.value!.includes(`"src":"${src}"`));

describe('transactions checker', () => {
  it('passes a clean consume-transform-produce history, with its aborted records in the log', () => {
    const r = checkTransactions(clean());
    expect(failing(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.violations).toBe(0);
    expect(r.stats).toMatchObject({
      transactions: 4,
      committed: 3,
      aborted: 1,
      abortedOnPurpose: 1,
      unknown: 0,
      outputAcked: 10,
      inputRecords: 8,
      committedOutput: 8,
      abortedInLog: 2,
      liveCommittedReads: 8,
    });
    expect(r.offsetsWithoutOutput).not.toBeNull();
  });

  it('fails an aborted record read by read_committed', () => {
    const h = clean();
    const aborted = h.find((e) => isOut(e, 'uncommitted', 'w0-1'))!;
    h.push({ ...aborted, reader: 'live' } as Ev);
    const r = checkTransactions(h);
    expect(failing(r)).toEqual(['aborted records read (read_committed)', 'live read_committed reads not in the log']);
    expect(r.abortedReads.examples[0]).toMatchObject({ reader: 'live', txn: 'w0-1' });
    expect(r.ok).toBe(false);
  });

  it('fails a committed transaction whose records are gone from the log', () => {
    const h = clean().filter((e) => !(isOut(e, 'drain', 'w0-3') || isOut(e, 'uncommitted', 'w0-3') || isOut(e, 'live', 'w0-3')));
    const r = checkTransactions(h);
    // Its inputs are then without output although their offsets were committed.
    expect(failing(r)).toEqual(['committed transactions lost', 'offsets committed without their output']);
    expect(r.lostCommits.examples[0]!.txn).toBe('w0-3');
    expect(r.offsetsWithoutOutput!.count).toBe(2);
  });

  it('fails a transaction seen partially, even one whose outcome is unknown', () => {
    const h = clean().map((e) =>
      e.type === 'txn' && e.txn === 'w0-3' && e.phase === 'committed' ? { ...e, phase: 'commit-failed' as const } : e,
    );
    const torn = h.filter((e) => !isOut(e, 'drain', 'w0-3', '1@3') && !isOut(e, 'live', 'w0-3', '1@3'));
    const r = checkTransactions(torn);
    expect(failing(r)).toEqual(['transactions seen partially', 'offsets committed without their output']);
    expect(r.tornTransactions.examples[0]).toMatchObject({ txn: 'w0-3', outcome: 'unknown', visible: 1, total: 2 });
    // Whole, the same unknown transaction passes.
    expect(checkTransactions(h).ok).toBe(true);
  });

  it('fails an input record transformed twice', () => {
    const h = clean();
    // A zombie's transaction w1-0 re-transformed 0@0 and its commit went through.
    const value = outVal(0, 0, 'w1-0');
    h.push({ type: 'txn', t: 100, worker: 1, txn: 'w1-0', phase: 'begin', intent: 'commit' });
    h.push({ type: 'txn', t: 101, worker: 1, txn: 'w1-0', phase: 'committed' });
    h.push({ type: 'out-read', t: 102, reader: 'drain', partition: 0, offset: '20', value });
    const r = checkTransactions(h);
    expect(failing(r)).toEqual(['input records transformed twice']);
    expect(r.duplicates.examples[0]).toEqual({ src: '0@0', positions: ['0@0', '0@20'] });
  });

  it('fails output out of input order', () => {
    const h = clean().map((e) => {
      if (e.type !== 'out-read' || e.partition !== 1) return e;
      // Swap the values at output offsets 0 and 1 of partition 1 (inputs 1@0 and 1@1).
      if (e.offset === '0') return { ...e, value: outVal(1, 1, 'w0-0') };
      if (e.offset === '1') return { ...e, value: outVal(1, 0, 'w0-0') };
      return e;
    });
    const r = checkTransactions(h);
    expect(failing(r)).toEqual(['output out of input order']);
    expect(r.order.examples[0]).toMatchObject({ partition: 1, src: '1@0', after: '1@1' });
  });

  it('fails output that does not match its input', () => {
    const h = clean().map((e) =>
      isOut(e, 'drain', 'w0-3', '1@3') && e.type === 'out-read'
        ? { ...e, value: encodeTransformed({ src: '1@3', v: 'something else', txn: 'w0-3' }) }
        : e,
    );
    const r = checkTransactions(h);
    expect(failing(r)).toContain('output not matching its input');
    expect(r.transformMismatches.examples[0]).toMatchObject({ src: '1@3', expected: inVal(1, 3), found: 'something else' });
  });

  it('fails an input record the workers never got to, and output without its offsets', () => {
    const h = clean();
    // An input record past everything the workers read.
    h.push({ type: 'read', t: 200, reader: 'drain', partition: 1, offset: '4', key: null, value: inVal(1, 4) });
    expect(failing(checkTransactions(h))).toEqual(['input records missing from the output']);
    // Offsets that lag the output: the committed offset of partition 1 is 2, its output reaches 1@3.
    const lagging = clean().map((e) => (e.type === 'group-offsets' ? { ...e, offsets: { '0': '4', '1': '2' } } : e));
    const r = checkTransactions(lagging);
    expect(failing(r)).toEqual(['output without its offsets committed']);
    expect(r.outputWithoutOffsets!.examples.map((x) => x.src)).toEqual(['1@2', '1@3']);
  });

  it('fails offsets committed without their output', () => {
    // The committed offset of partition 0 ran past 4: a record there was skipped.
    const h = clean();
    h.push({ type: 'read', t: 200, reader: 'drain', partition: 0, offset: '4', key: null, value: inVal(0, 4) });
    const r = checkTransactions(h.map((e) => (e.type === 'group-offsets' ? { ...e, offsets: { '0': '5', '1': '4' } } : e)));
    expect(failing(r)).toEqual(['offsets committed without their output']);
    expect(r.offsetsWithoutOutput!.examples).toEqual([{ src: '0@4', committedOffset: '5' }]);
  });

  it('fails a live read_committed read the log does not hold', () => {
    const h = clean();
    h.push({ type: 'out-read', t: 300, reader: 'live', partition: 0, offset: '1', value: 'not what the log has' });
    const r = checkTransactions(h);
    expect(failing(r)).toEqual(['live read_committed reads not in the log']);
    // Past the drain's end nothing is judged (the drain did not read there).
    const past = clean();
    past.push({ type: 'out-read', t: 300, reader: 'live', partition: 0, offset: '99', value: 'anything' });
    expect(checkTransactions(past).ok).toBe(true);
  });

  it('makes no offset checks without committed group offsets', () => {
    const r = checkTransactions(clean().filter((e) => e.type !== 'group-offsets'));
    expect(r.offsetsWithoutOutput).toBeNull();
    expect(r.outputWithoutOffsets).toBeNull();
    expect(r.ok).toBe(true);
  });
});
