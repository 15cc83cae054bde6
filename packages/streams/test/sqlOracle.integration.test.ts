/**
 * The oracle: one seeded random input log (out-of-order and late records included) goes through the
 * Streams topology in the TopologyTestDriver and, as a table, into a throwaway PostgreSQL; the
 * windowed aggregations and joins are computed again in SQL from the README's rules (stream time =
 * running max of timestamps in arrival order), and the two results must be equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, serdes } from '@samsa/client';
import {
  JoinWindows,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  streamsSerdes,
} from '@samsa/streams';
import type { Windowed } from '@samsa/streams';
import { startPostgres } from './postgres.js';
import type { Postgres } from './postgres.js';

const SEED = Number(process.env.STREAMS_ORACLE_SEED ?? 20261207);
const S = serdes.string;
const L = streamsSerdes.long;

interface Rec {
  off: number;
  side: 'L' | 'R';
  key: string;
  value: string;
  ts: number;
}

/** Timestamps drift upward with jitter back in time, so some records are out of order and some late. */
function generate(seed: number, n: number): Rec[] {
  const rnd = seededRandom(seed);
  const out: Rec[] = [];
  for (let i = 0; i < n; i++) {
    const ts = Math.max(0, i * 7 + Math.floor(rnd() * 80) - 60);
    out.push({ off: i, side: rnd() < 0.5 ? 'L' : 'R', key: `k${Math.floor(rnd() * 4)}`, value: `v${i}`, ts });
  }
  return out;
}

let pg: Postgres;
const log = generate(SEED, 600);

beforeAll(async () => {
  pg = await startPostgres();
  const rows = log.map((r) => `${r.off},${r.side},${r.key},${r.value},${r.ts}`).join('\n');
  pg.query(`CREATE TABLE log(off int PRIMARY KEY, side text, k text, v text, ts bigint);
COPY log FROM STDIN WITH (FORMAT csv);
${rows}
\\.
CREATE VIEW timed AS SELECT *, max(ts) OVER (ORDER BY off ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS st FROM log;`);
}, 180_000);

afterAll(() => pg?.stop());

function streamsWindowed(build: (b: StreamsBuilder) => void): Map<string, number> {
  const b = new StreamsBuilder();
  build(b);
  const d = new TopologyTestDriver(b.build(), { applicationId: 'oracle' });
  const input = d.createInputTopic('events', S, S);
  for (const r of log) input.pipeInput(r.key, r.value, r.ts);
  const out = new Map<string, number>();
  for (const r of d.createOutputTopic('out', streamsSerdes.windowed(S), L).readRecordsToList()) {
    const k = keyOf(r.key);
    if (r.value === null) out.delete(k);
    else out.set(k, r.value);
  }
  return out;
}

const keyOf = (w: Windowed<string | null>) => `${w.key}|${w.window.start}|${w.window.end}`;

function sqlMap(rows: string[]): Map<string, number> {
  return new Map(
    rows.map((r) => {
      const [k, start, end, n] = r.split('|');
      return [`${k}|${start}|${end}`, Number(n)];
    }),
  );
}

describe('Streams windowed aggregations equal PostgreSQL', () => {
  it('the log has out-of-order and late records (the oracle is not vacuous)', () => {
    const rows = pg.query(`SELECT count(*) FILTER (WHERE ts < st), count(*) FILTER (WHERE ts + 20 + 15 <= st) FROM timed;`);
    const [outOfOrder, lateForTumbling] = rows[0]!.split('|').map(Number);
    expect(outOfOrder).toBeGreaterThan(100);
    expect(lateForTumbling).toBeGreaterThan(10);
  });

  it('tumbling count, size 20, grace 15', () => {
    const streams = streamsWindowed((b) =>
      b
        .stream('events', { keySerde: S, valueSerde: S })
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(20, 15))
        .count()
        .toStream()
        .to('out'),
    );
    const sql = sqlMap(
      pg.query(`
      SELECT k, ws, ws + 20, count(*) FROM (SELECT k, ts - ts % 20 AS ws, st FROM timed) x
      WHERE ws + 20 + 15 > st GROUP BY k, ws ORDER BY k, ws;`),
    );
    expect(sql.size).toBeGreaterThan(50);
    expect(streams).toEqual(sql);
  });

  it('hopping count, size 30, advance 10, grace 10', () => {
    const streams = streamsWindowed((b) =>
      b
        .stream('events', { keySerde: S, valueSerde: S })
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(30, 10).advanceBy(10))
        .count()
        .toStream()
        .to('out'),
    );
    const sql = sqlMap(
      pg.query(`
      SELECT k, ws, ws + 30, count(*) FROM timed, generate_series(0, ts, 10) AS ws
      WHERE ws > ts - 30 AND ws + 30 + 10 > st GROUP BY k, ws ORDER BY k, ws;`),
    );
    expect(sql.size).toBeGreaterThan(100);
    expect(streams).toEqual(sql);
  });

  it('session count, gap 12, grace large enough that nothing is late: sessions are the islands of each key', () => {
    const streams = streamsWindowed((b) =>
      b
        .stream('events', { keySerde: S, valueSerde: S })
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(12, 100_000))
        .count()
        .toStream()
        .to('out'),
    );
    const sql = sqlMap(
      pg.query(`
      WITH marked AS (SELECT k, ts, CASE WHEN ts - lag(ts) OVER w > 12 THEN 1 ELSE 0 END AS brk FROM log WINDOW w AS (PARTITION BY k ORDER BY ts, off)),
           numbered AS (SELECT k, ts, sum(brk) OVER (PARTITION BY k ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM marked)
      SELECT k, min(ts), max(ts), count(*) FROM numbered GROUP BY k, sid ORDER BY k, min(ts);`),
    );
    expect(sql.size).toBeGreaterThan(10);
    expect(streams).toEqual(sql);
  });

  it('sliding count, difference 15, grace large enough that nothing is late', () => {
    const streams = streamsWindowed((b) =>
      b
        .stream('events', { keySerde: S, valueSerde: S })
        .groupByKey()
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(15, 100_000))
        .count()
        .toStream()
        .to('out'),
    );
    const sql = sqlMap(
      pg.query(`
      WITH starts AS (
        SELECT DISTINCT k, greatest(0, ts - 15) AS ws FROM log
        UNION
        SELECT DISTINCT a.k, a.ts + 1 FROM log a WHERE EXISTS (SELECT 1 FROM log b WHERE b.k = a.k AND b.ts > a.ts AND b.ts <= a.ts + 16))
      SELECT s.k, s.ws, s.ws + 15, count(*) FROM starts s JOIN log l ON l.k = s.k AND l.ts BETWEEN s.ws AND s.ws + 15
      GROUP BY s.k, s.ws ORDER BY s.k, s.ws;`),
    );
    expect(sql.size).toBeGreaterThan(100);
    expect(streams).toEqual(sql);
  });
});

describe('Streams stream–stream joins equal PostgreSQL', () => {
  const D = 10;
  const G = 20;

  function streamsJoin(kind: 'join' | 'leftJoin' | 'outerJoin'): string[] {
    const b = new StreamsBuilder();
    const left = b.stream('left', { keySerde: S, valueSerde: S });
    const right = b.stream('right', { keySerde: S, valueSerde: S });
    (left as any)
      [kind](right, (l: string | null, r: string | null) => `${l}+${r}`, JoinWindows.ofTimeDifferenceAndGrace(D, G))
      .to('out', { valueSerde: S });
    const d = new TopologyTestDriver(b.build(), { applicationId: 'oracle' });
    const inputs = { L: d.createInputTopic('left', S, S), R: d.createInputTopic('right', S, S) };
    for (const r of log) inputs[r.side].pipeInput(r.key, r.value, r.ts);
    return d
      .createOutputTopic('out', S, S)
      .readRecordsToList()
      .map((r) => `${r.key}|${r.value}|${r.timestamp}`)
      .sort();
  }

  // A record is accepted when its own window is open at arrival; a pair forms when, at the later
  // arrival, both windows are open; an unmatched record of an outer side comes out once stream time
  // (final here) has passed its window's close.
  const pairs = `
    WITH acc AS (SELECT * FROM timed WHERE ts + ${D} + ${G} >= st),
    pairs AS (
      SELECT l.k, l.v AS lv, r.v AS rv, greatest(l.ts, r.ts) AS ts, l.off AS loff, r.off AS roff
      FROM acc l JOIN acc r ON l.k = r.k AND l.side = 'L' AND r.side = 'R' AND abs(l.ts - r.ts) <= ${D}
      WHERE (CASE WHEN l.off < r.off THEN l.ts ELSE r.ts END) + ${D} + ${G} >= (CASE WHEN l.off < r.off THEN r.st ELSE l.st END)),
    final AS (SELECT max(ts) AS st FROM log)`;
  const unmatched = (side: 'L' | 'R') => `
    SELECT a.k, ${side === 'L' ? "a.v || '+null'" : "'null+' || a.v"}, a.ts FROM acc a, final f
    WHERE a.side = '${side}' AND a.ts + ${D} + ${G} < f.st
      AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.${side === 'L' ? 'loff' : 'roff'} = a.off)`;
  const sqlRows = (sql: string) =>
    pg
      .query(sql)
      .map((r) => r)
      .sort();

  it('inner', () => {
    const sql = sqlRows(`${pairs} SELECT k, lv || '+' || rv, ts FROM pairs;`);
    expect(sql.length).toBeGreaterThan(50);
    expect(streamsJoin('join')).toEqual(sql);
  });

  it('left', () => {
    const sql = sqlRows(`${pairs} SELECT k, lv || '+' || rv, ts FROM pairs UNION ALL ${unmatched('L')};`);
    expect(sql.some((r) => r.includes('+null'))).toBe(true);
    expect(streamsJoin('leftJoin')).toEqual(sql);
  });

  it('outer', () => {
    const sql = sqlRows(`${pairs} SELECT k, lv || '+' || rv, ts FROM pairs UNION ALL ${unmatched('L')} UNION ALL ${unmatched('R')};`);
    expect(sql.some((r) => r.includes('|null+'))).toBe(true);
    expect(streamsJoin('outerJoin')).toEqual(sql);
  });
});
