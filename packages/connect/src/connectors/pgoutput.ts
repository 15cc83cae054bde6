/**
 * A decoder for PostgreSQL's logical replication protocol as the `pgoutput` plugin writes it
 * (protocol version 1: Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate;
 * TupleData with null, unchanged-TOAST and text columns), from PostgreSQL's "Logical Replication
 * Message Formats". Pure: bytes in, typed messages out; a malformed message throws
 * PgOutputError naming what was wrong and where, never reads past the buffer.
 */
export class PgOutputError extends Error {
  override readonly name = 'PgOutputError';
}

export interface RelationColumn {
  flags: number;
  name: string;
  typeOid: number;
  typeMod: number;
}
export type TupleValue = { kind: 'null' } | { kind: 'unchanged' } | { kind: 'text'; text: string } | { kind: 'binary'; bytes: Buffer };

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: 'origin'; lsn: bigint; name: string }
  | { tag: 'relation'; oid: number; namespace: string; name: string; replicaIdentity: string; columns: RelationColumn[] }
  | { tag: 'type'; oid: number; namespace: string; name: string }
  | { tag: 'insert'; oid: number; newTuple: TupleValue[] }
  | { tag: 'update'; oid: number; oldKind?: 'K' | 'O'; oldTuple?: TupleValue[]; newTuple: TupleValue[] }
  | { tag: 'delete'; oid: number; oldKind: 'K' | 'O'; oldTuple: TupleValue[] }
  | { tag: 'truncate'; options: number; oids: number[] };

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length)
      throw new PgOutputError(`pgoutput: ${what} needs ${n} bytes at offset ${this.pos}, message has ${this.buf.length}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  i16(what: string): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(what: string): bigint {
    this.need(8, what);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  cstring(what: string): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new PgOutputError(`pgoutput: ${what} at offset ${this.pos} has no terminating NUL`);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  done(): void {
    if (this.pos !== this.buf.length) throw new PgOutputError(`pgoutput: ${this.buf.length - this.pos} trailing bytes after the message`);
  }
}

function tuple(r: Reader): TupleValue[] {
  const n = r.i16('TupleData column count');
  if (n < 0) throw new PgOutputError(`pgoutput: negative column count ${n}`);
  const out: TupleValue[] = [];
  for (let i = 0; i < n; i++) {
    const kind = String.fromCharCode(r.u8('column kind'));
    if (kind === 'n') out.push({ kind: 'null' });
    else if (kind === 'u') out.push({ kind: 'unchanged' });
    else if (kind === 't' || kind === 'b') {
      const len = r.i32('column length');
      if (len < 0) throw new PgOutputError(`pgoutput: negative column length ${len}`);
      const bytes = r.bytes(len, 'column value');
      out.push(kind === 't' ? { kind: 'text', text: bytes.toString('utf8') } : { kind: 'binary', bytes: Buffer.from(bytes) });
    } else throw new PgOutputError(`pgoutput: unknown column kind '${kind}'`);
  }
  return out;
}

function tupleMarker(r: Reader, allowed: string, what: string): string {
  const m = String.fromCharCode(r.u8(what));
  if (!allowed.includes(m)) throw new PgOutputError(`pgoutput: expected one of ${allowed.split('').join(', ')} for ${what}, got '${m}'`);
  return m;
}

export function decodePgOutput(buf: Buffer): PgOutputMessage {
  const r = new Reader(buf);
  const tag = String.fromCharCode(r.u8('message tag'));
  let msg: PgOutputMessage;
  switch (tag) {
    case 'B':
      msg = { tag: 'begin', finalLsn: r.u64('final LSN'), commitTime: r.i64('commit time'), xid: r.u32('xid') };
      break;
    case 'C':
      msg = {
        tag: 'commit',
        flags: r.u8('flags'),
        commitLsn: r.u64('commit LSN'),
        endLsn: r.u64('end LSN'),
        commitTime: r.i64('commit time'),
      };
      break;
    case 'O':
      msg = { tag: 'origin', lsn: r.u64('origin LSN'), name: r.cstring('origin name') };
      break;
    case 'R': {
      const oid = r.u32('relation oid');
      const namespace = r.cstring('namespace');
      const name = r.cstring('relation name');
      const replicaIdentity = String.fromCharCode(r.u8('replica identity'));
      const n = r.i16('column count');
      if (n < 0) throw new PgOutputError(`pgoutput: negative column count ${n}`);
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++)
        columns.push({
          flags: r.u8('column flags'),
          name: r.cstring('column name'),
          typeOid: r.u32('column type'),
          typeMod: r.i32('type modifier'),
        });
      msg = { tag: 'relation', oid, namespace, name, replicaIdentity, columns };
      break;
    }
    case 'Y':
      msg = { tag: 'type', oid: r.u32('type oid'), namespace: r.cstring('namespace'), name: r.cstring('type name') };
      break;
    case 'I': {
      const oid = r.u32('relation oid');
      tupleMarker(r, 'N', 'insert tuple marker');
      msg = { tag: 'insert', oid, newTuple: tuple(r) };
      break;
    }
    case 'U': {
      const oid = r.u32('relation oid');
      const m = tupleMarker(r, 'KON', 'update tuple marker');
      if (m === 'N') {
        msg = { tag: 'update', oid, newTuple: tuple(r) };
      } else {
        const oldTuple = tuple(r);
        tupleMarker(r, 'N', 'update new tuple marker');
        msg = { tag: 'update', oid, oldKind: m as 'K' | 'O', oldTuple, newTuple: tuple(r) };
      }
      break;
    }
    case 'D': {
      const oid = r.u32('relation oid');
      const m = tupleMarker(r, 'KO', 'delete tuple marker') as 'K' | 'O';
      msg = { tag: 'delete', oid, oldKind: m, oldTuple: tuple(r) };
      break;
    }
    case 'T': {
      const n = r.i32('relation count');
      if (n < 0) throw new PgOutputError(`pgoutput: negative relation count ${n}`);
      const options = r.u8('truncate options');
      const oids: number[] = [];
      for (let i = 0; i < n; i++) oids.push(r.u32('relation oid'));
      msg = { tag: 'truncate', options, oids };
      break;
    }
    default:
      throw new PgOutputError(`pgoutput: unknown message tag '${tag}' (0x${tag.charCodeAt(0).toString(16)})`);
  }
  r.done();
  return msg;
}

/** `16/B374D848` → 0x16B374D848n, PostgreSQL's pg_lsn text form. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new PgOutputError(`not an LSN: '${text}'`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** A text-format column value as Connect data, by type OID. */
export function textValue(typeOid: number, v: TupleValue): unknown {
  if (v.kind === 'null') return null;
  if (v.kind === 'unchanged') return undefined;
  if (v.kind === 'binary') return v.bytes;
  switch (typeOid) {
    case 16:
      return v.text === 't';
    case 20:
    case 21:
    case 23:
    case 700:
    case 701:
      return Number(v.text);
    case 1114:
      return Date.parse(`${v.text.replace(' ', 'T')}Z`);
    case 1184:
      return Date.parse(v.text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
    default:
      return v.text;
  }
}
