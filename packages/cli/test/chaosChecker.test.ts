/**
 * The chaos checker on planted histories: each kind of violation is found where it was planted,
 * a clean history passes, and duplicates count against the run only with idempotence on.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../src/chaos/checker.js';
import { encodeValue, type HistoryEvent } from '../src/chaos/history.js';

const v = (p: number, k: string, s: number) => encodeValue({ p, k, s });

/** A clean run: 2 keys of producer 0 on partition 0, 1 key of producer 1 on partition 1, read live and drained. */
function cleanHistory(): HistoryEvent[] {
  const h: HistoryEvent[] = [{ type: 'phase', t: 0, phase: 'workload-start' }];
  const writes = [
    { value: v(0, 'p0-k0', 0), partition: 0, offset: '0' },
    { value: v(0, 'p0-k1', 1), partition: 0, offset: '1' },
    { value: v(0, 'p0-k0', 2), partition: 0, offset: '2' },
    { value: v(1, 'p1-k0', 0), partition: 1, offset: '0' },
    { value: v(1, 'p1-k0', 1), partition: 1, offset: '1' },
  ];
  let t = 1;
  for (const w of writes) {
    const d = decode(w.value);
    h.push({ type: 'send', t: t++, producer: d.p, key: d.k, value: w.value, seq: d.s });
    h.push({ type: 'ack', t: t++, value: w.value, partition: w.partition, offset: w.offset, latencyMs: 1 });
    h.push({ type: 'read', t: t++, reader: 'live', partition: w.partition, offset: w.offset, key: d.k, value: w.value });
  }
  h.push({ type: 'phase', t: t++, phase: 'workload-end' });
  for (const w of writes)
    h.push({ type: 'read', t: t++, reader: 'drain', partition: w.partition, offset: w.offset, key: decode(w.value).k, value: w.value });
  h.push({ type: 'drain', t: t++, partition: 0, highWatermark: '3', complete: true });
  h.push({ type: 'drain', t: t++, partition: 1, highWatermark: '2', complete: true });
  h.push({ type: 'replicas', t: t++, partition: 0, highWatermark: '3', identical: true, detail: '3 replicas, 3 batches' });
  return h;
}

function decode(value: string) {
  return JSON.parse(value) as { p: number; k: string; s: number };
}

describe('chaos checker', () => {
  it('passes a clean history', () => {
    const r = checkHistory(cleanHistory(), { idempotence: true });
    expect(r.ok).toBe(true);
    expect(r.violations).toBe(0);
    expect(r.stats).toMatchObject({ sends: 5, acks: 5, failures: 0, liveReads: 5, drainReads: 5 });
  });

  it('finds a planted lost write: acknowledged at an offset the drain does not hold', () => {
    const h = cleanHistory();
    const lostValue = v(0, 'p0-k1', 3);
    h.splice(
      1,
      0,
      { type: 'send', t: 1, producer: 0, key: 'p0-k1', value: lostValue, seq: 3 },
      { type: 'ack', t: 1, value: lostValue, partition: 0, offset: '3', latencyMs: 2 },
    );
    const r = checkHistory(h, { idempotence: true });
    expect(r.lostWrites.count).toBe(1);
    expect(r.lostWrites.examples[0]).toEqual({ value: lostValue, partition: 0, offset: '3', found: null });
    expect(r.ok).toBe(false);
  });

  it('finds an acknowledged offset that holds another value as lost', () => {
    const h = cleanHistory();
    const drained = h.find((e) => e.type === 'read' && e.reader === 'drain' && e.partition === 1 && e.offset === '1')!;
    if (drained.type === 'read') drained.value = v(9, 'p9-k0', 0);
    const r = checkHistory(h, { idempotence: true });
    expect(r.lostWrites.count).toBe(1);
    expect(r.lostWrites.examples[0]).toMatchObject({ partition: 1, offset: '1', found: v(9, 'p9-k0', 0) });
    // The live read saw the original value there: that is also an inconsistent offset.
    expect(r.inconsistentOffsets.count).toBe(1);
  });

  it('finds a planted duplicate and judges it only with idempotence', () => {
    const h = cleanHistory();
    const dup = v(1, 'p1-k0', 1);
    h.push({ type: 'read', t: 99, reader: 'drain', partition: 1, offset: '2', key: 'p1-k0', value: dup });
    const judged = checkHistory(h, { idempotence: true });
    expect(judged.duplicates).toMatchObject({ count: 1, judged: true });
    expect(judged.duplicates.examples[0]).toEqual({ value: dup, positions: ['1@1', '1@2'] });
    expect(judged.ok).toBe(false);
    // A retried batch written twice is no order violation.
    expect(judged.perKeyOrder.count).toBe(0);
    const reported = checkHistory(h, { idempotence: false });
    expect(reported.duplicates).toMatchObject({ count: 1, judged: false });
    expect(reported.violations).toBe(0);
    expect(reported.ok).toBe(true);
  });

  it('finds a planted inconsistent offset: two reads of one position with different values', () => {
    const h = cleanHistory();
    h.push({ type: 'read', t: 99, reader: 'live', partition: 0, offset: '1', key: 'x', value: 'something else' });
    const r = checkHistory(h, { idempotence: false });
    expect(r.inconsistentOffsets.count).toBe(1);
    expect(r.inconsistentOffsets.examples[0]).toMatchObject({ partition: 0, offset: '1' });
    expect(r.inconsistentOffsets.examples[0]!.values).toHaveLength(2);
    expect(r.lostWrites.count).toBe(0);
    expect(r.ok).toBe(false);
  });

  it('finds a key out of send order within a partition', () => {
    const h = cleanHistory();
    // Swap the drained values at partition 0 offsets 0 and 2 (both key p0-k0: seq 2 before seq 0).
    const d0 = h.find((e) => e.type === 'read' && e.reader === 'drain' && e.partition === 0 && e.offset === '0')!;
    const d2 = h.find((e) => e.type === 'read' && e.reader === 'drain' && e.partition === 0 && e.offset === '2')!;
    if (d0.type === 'read' && d2.type === 'read') [d0.value, d2.value] = [d2.value, d0.value];
    const r = checkHistory(h, { idempotence: false });
    expect(r.perKeyOrder.count).toBe(1);
    expect(r.perKeyOrder.examples[0]).toMatchObject({ partition: 0, offset: '2', key: 'p0-k0', seq: 0, after: 2 });
  });

  it('counts divergent replicas and refuses a verdict on an incomplete drain', () => {
    const h = cleanHistory();
    h.push({ type: 'replicas', t: 99, partition: 1, highWatermark: '2', identical: false, detail: 'broker 5 differs at byte 70' });
    h.push({ type: 'drain', t: 99, partition: 2, highWatermark: '5', complete: false });
    const r = checkHistory(h, { idempotence: false });
    expect(r.divergentReplicas.count).toBe(1);
    expect(r.incompleteDrain).toEqual([2]);
    expect(r.ok).toBe(false);
  });

  it('checks group read gaps only when the live reader was a consumer group', () => {
    const h = cleanHistory();
    // Without a `reader` event (the assign reader, or an older history) there is nothing to check.
    expect(checkHistory(h, { idempotence: true }).groupReadGaps).toBeNull();
    h.unshift({ type: 'reader', t: 0, kind: 'group', groupId: 'chaos-readers', members: 2, assignor: 'cooperative-sticky' });
    const clean = checkHistory(h, { idempotence: true });
    expect(clean.groupReadGaps).toMatchObject({ count: 0, judged: true });
    expect(clean.ok).toBe(true);
  });

  it('finds a planted group read gap: an acknowledged record no member read', () => {
    const h: HistoryEvent[] = [{ type: 'reader', t: 0, kind: 'group', groupId: 'chaos-readers', members: 2 }, ...cleanHistory()];
    // The group never read partition 0 offset 1 (it is in the log: the drain has it, so no lost write).
    const gap = h.findIndex((e) => e.type === 'read' && e.reader === 'live' && e.partition === 0 && e.offset === '1');
    h.splice(gap, 1);
    // A re-read of another record after a rebalance is fine (at-least-once) and counted.
    h.push({
      type: 'read',
      t: 50,
      reader: 'live',
      partition: 1,
      offset: '0',
      key: 'p1-k0',
      value: v(1, 'p1-k0', 0),
      member: 'chaos-reader-1-x',
    });
    const r = checkHistory(h, { idempotence: true });
    expect(r.groupReadGaps).toMatchObject({ count: 1, judged: true });
    expect(r.groupReadGaps!.examples[0]).toEqual({ value: v(0, 'p0-k1', 1), partition: 0, offset: '1' });
    expect(r.lostWrites.count).toBe(0);
    expect(r.duplicates.count).toBe(0);
    expect(r.stats.liveRereads).toBe(1);
    expect(r.violations).toBe(1);
    expect(r.ok).toBe(false);
  });

  it('counts a lost write once, as a lost write, not also as a group read gap', () => {
    const h: HistoryEvent[] = [{ type: 'reader', t: 0, kind: 'group', groupId: 'chaos-readers', members: 2 }, ...cleanHistory()];
    const lostValue = v(0, 'p0-k1', 3);
    h.splice(
      2,
      0,
      { type: 'send', t: 1, producer: 0, key: 'p0-k1', value: lostValue, seq: 3 },
      { type: 'ack', t: 1, value: lostValue, partition: 0, offset: '3', latencyMs: 2 },
    );
    const r = checkHistory(h, { idempotence: true });
    expect(r.lostWrites.count).toBe(1);
    expect(r.groupReadGaps!.count).toBe(0);
    expect(r.violations).toBe(1);
  });

  it('does not count a group read of another value at the acknowledged offset as reading the record', () => {
    const h: HistoryEvent[] = [{ type: 'reader', t: 0, kind: 'group', groupId: 'chaos-readers', members: 2 }, ...cleanHistory()];
    const live = h.find((e) => e.type === 'read' && e.reader === 'live' && e.partition === 1 && e.offset === '1')!;
    if (live.type === 'read') live.value = v(7, 'p7-k0', 0);
    const r = checkHistory(h, { idempotence: true });
    expect(r.groupReadGaps!.count).toBe(1);
    expect(r.groupReadGaps!.examples[0]).toMatchObject({ partition: 1, offset: '1' });
  });

  it('reports the longest window without an ack per nemesis type', () => {
    const h: HistoryEvent[] = [
      { type: 'phase', t: 0, phase: 'workload-start' },
      { type: 'ack', t: 100, value: 'a', partition: 0, offset: '0', latencyMs: 1 },
      { type: 'nemesis', t: 150, id: 0, phase: 'start', nemesis: 'kill', node: 'broker-1' },
      { type: 'ack', t: 1_100, value: 'b', partition: 0, offset: '1', latencyMs: 1 },
      { type: 'ack', t: 1_200, value: 'c', partition: 0, offset: '2', latencyMs: 1 },
      { type: 'nemesis', t: 1_300, id: 0, phase: 'end', nemesis: 'kill', node: 'broker-1' },
      { type: 'ack', t: 1_500, value: 'd', partition: 0, offset: '3', latencyMs: 1 },
      { type: 'nemesis', t: 2_000, id: 1, phase: 'start', nemesis: 'pause', node: 'broker-2' },
      { type: 'ack', t: 5_500, value: 'e', partition: 0, offset: '4', latencyMs: 1 },
      { type: 'nemesis', t: 6_000, id: 1, phase: 'end', nemesis: 'pause', node: 'broker-2' },
      { type: 'ack', t: 6_100, value: 'f', partition: 0, offset: '5', latencyMs: 1 },
      { type: 'phase', t: 6_200, phase: 'workload-end' },
    ];
    const u = checkHistory(h, { idempotence: false }).unavailability;
    expect(u.overall).toEqual({ fromMs: 1_500, toMs: 5_500, ms: 4_000 });
    expect(u.byNemesis.pause).toEqual({ fromMs: 1_500, toMs: 5_500, ms: 4_000 });
    expect(u.byNemesis.kill).toEqual({ fromMs: 100, toMs: 1_100, ms: 1_000 });
    expect(u.quiet).toEqual({ fromMs: 0, toMs: 100, ms: 100 });
  });
});
