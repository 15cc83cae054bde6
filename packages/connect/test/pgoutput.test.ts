import { describe, expect, it } from 'vitest';
import { PgOutputError, decodePgOutput, formatLsn, parseLsn, textValue } from '../src/connectors/pgoutput.js';
import { seededRandom as seededRng } from '@samsa/protocol';

/** Message builders in the wire layout of PostgreSQL's "Logical Replication Message Formats". */
const u8 = (v: number) => Buffer.from([v]);
const i16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const i32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};
const cstr = (s: string) => Buffer.concat([Buffer.from(s), u8(0)]);
const ch = (c: string) => Buffer.from(c);
const text = (s: string) => Buffer.concat([ch('t'), i32(Buffer.byteLength(s)), Buffer.from(s)]);
const tupleData = (...cols: Buffer[]) => Buffer.concat([i16(cols.length), ...cols]);

describe('pgoutput decoder', () => {
  it('decodes begin, relation, insert, update with an old tuple, delete, truncate and commit', () => {
    expect(decodePgOutput(Buffer.concat([ch('B'), u64(0x1_0000_0010n), u64(123n), i32(77)]))).toEqual({
      tag: 'begin',
      finalLsn: 0x1_0000_0010n,
      commitTime: 123n,
      xid: 77,
    });
    expect(
      decodePgOutput(
        Buffer.concat([
          ch('R'),
          i32(16384),
          cstr('public'),
          cstr('users'),
          ch('f'),
          i16(2),
          u8(1),
          cstr('id'),
          i32(23),
          i32(-1),
          u8(0),
          cstr('name'),
          i32(25),
          i32(-1),
        ]),
      ),
    ).toEqual({
      tag: 'relation',
      oid: 16384,
      namespace: 'public',
      name: 'users',
      replicaIdentity: 'f',
      columns: [
        { flags: 1, name: 'id', typeOid: 23, typeMod: -1 },
        { flags: 0, name: 'name', typeOid: 25, typeMod: -1 },
      ],
    });
    expect(decodePgOutput(Buffer.concat([ch('I'), i32(16384), ch('N'), tupleData(text('1'), ch('n'))]))).toEqual({
      tag: 'insert',
      oid: 16384,
      newTuple: [{ kind: 'text', text: '1' }, { kind: 'null' }],
    });
    expect(
      decodePgOutput(
        Buffer.concat([ch('U'), i32(16384), ch('O'), tupleData(text('1'), text('ann')), ch('N'), tupleData(text('1'), ch('u'))]),
      ),
    ).toEqual({
      tag: 'update',
      oid: 16384,
      oldKind: 'O',
      oldTuple: [
        { kind: 'text', text: '1' },
        { kind: 'text', text: 'ann' },
      ],
      newTuple: [{ kind: 'text', text: '1' }, { kind: 'unchanged' }],
    });
    expect(decodePgOutput(Buffer.concat([ch('U'), i32(5), ch('N'), tupleData(text('x'))]))).toEqual({
      tag: 'update',
      oid: 5,
      newTuple: [{ kind: 'text', text: 'x' }],
    });
    expect(decodePgOutput(Buffer.concat([ch('D'), i32(16384), ch('K'), tupleData(text('1'), ch('n'))]))).toMatchObject({
      tag: 'delete',
      oldKind: 'K',
    });
    expect(decodePgOutput(Buffer.concat([ch('T'), i32(2), u8(1), i32(10), i32(11)]))).toEqual({
      tag: 'truncate',
      options: 1,
      oids: [10, 11],
    });
    expect(decodePgOutput(Buffer.concat([ch('C'), u8(0), u64(100n), u64(148n), u64(5n)]))).toEqual({
      tag: 'commit',
      flags: 0,
      commitLsn: 100n,
      endLsn: 148n,
      commitTime: 5n,
    });
    expect(decodePgOutput(Buffer.concat([ch('O'), u64(9n), cstr('node2')]))).toEqual({ tag: 'origin', lsn: 9n, name: 'node2' });
    expect(decodePgOutput(Buffer.concat([ch('Y'), i32(600), cstr('public'), cstr('mood')]))).toEqual({
      tag: 'type',
      oid: 600,
      namespace: 'public',
      name: 'mood',
    });
  });

  it('names what is wrong in a malformed message', () => {
    expect(() => decodePgOutput(Buffer.from('Z'))).toThrow("pgoutput: unknown message tag 'Z' (0x5a)");
    expect(() => decodePgOutput(Buffer.concat([ch('B'), u64(1n)]))).toThrow(
      'pgoutput: commit time needs 8 bytes at offset 9, message has 9',
    );
    expect(() => decodePgOutput(Buffer.concat([ch('I'), i32(1), ch('X')]))).toThrow(
      "pgoutput: expected one of N for insert tuple marker, got 'X'",
    );
    expect(() => decodePgOutput(Buffer.concat([ch('I'), i32(1), ch('N'), i16(1), ch('t'), i32(-5)]))).toThrow('negative column length -5');
    expect(() => decodePgOutput(Buffer.concat([ch('O'), u64(1n), Buffer.from('abc')]))).toThrow('has no terminating NUL');
    expect(() => decodePgOutput(Buffer.concat([ch('T'), i32(0), u8(0), u8(9)]))).toThrow('1 trailing bytes after the message');
  });

  it('never crashes on random bytes: every input decodes or throws PgOutputError (seeded fuzz)', () => {
    const rng = seededRng(20261207);
    const seeds = [
      Buffer.concat([ch('U'), i32(16384), ch('O'), tupleData(text('1'), text('ann')), ch('N'), tupleData(text('1'), ch('u'))]),
      Buffer.concat([ch('R'), i32(16384), cstr('public'), cstr('users'), ch('f'), i16(1), u8(1), cstr('id'), i32(23), i32(-1)]),
      Buffer.concat([ch('C'), u8(0), u64(100n), u64(148n), u64(5n)]),
    ];
    for (let i = 0; i < 5000; i++) {
      const base = seeds[i % seeds.length]!;
      const buf =
        i % 4 === 0
          ? Buffer.from(Array.from({ length: Math.floor(rng() * 40) }, () => Math.floor(rng() * 256)))
          : Buffer.from(base.subarray(0, Math.floor(rng() * (base.length + 1))));
      if (i % 4 === 1 && buf.length > 0) buf[Math.floor(rng() * buf.length)] = Math.floor(rng() * 256);
      try {
        decodePgOutput(buf);
      } catch (err) {
        expect(err, `input ${buf.toString('hex')}`).toBeInstanceOf(PgOutputError);
      }
    }
  });

  it('parses and formats LSNs and text column values', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(parseLsn('0/0'))).toBe('0/0');
    expect(() => parseLsn('nope')).toThrow("not an LSN: 'nope'");
    expect(textValue(23, { kind: 'text', text: '42' })).toBe(42);
    expect(textValue(16, { kind: 'text', text: 't' })).toBe(true);
    expect(textValue(1114, { kind: 'text', text: '2024-01-01 00:00:01.5' })).toBe(Date.UTC(2024, 0, 1, 0, 0, 1, 500));
    expect(textValue(1184, { kind: 'text', text: '2024-01-01 02:00:00+02' })).toBe(Date.UTC(2024, 0, 1));
    expect(textValue(25, { kind: 'null' })).toBeNull();
    expect(textValue(25, { kind: 'unchanged' })).toBeUndefined();
  });
});
