/**
 * RESP2, the Redis serialization protocol: commands out as arrays of bulk strings, replies in as
 * simple strings, errors, integers, bulk strings and arrays (nested, nullable). Pure: the decoder
 * takes a buffer and returns a reply and the bytes it used, or undefined when more bytes are needed;
 * malformed input throws RespError. A small connection over node:net sits on top.
 */
import { Socket } from 'node:net';

export class RespError extends Error {
  override readonly name = 'RespError';
}

/** An error reply from the server (`-ERR ...`). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

export type RespValue = string | number | Buffer | null | RedisReplyError | RespValue[];

export function encodeCommand(args: ReadonlyArray<string | Buffer | number>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const MAX_DEPTH = 32;

export function decodeReply(buf: Buffer, start = 0, depth = 0): { value: RespValue; end: number } | undefined {
  if (depth > MAX_DEPTH) throw new RespError(`RESP: arrays nested deeper than ${MAX_DEPTH}`);
  if (start >= buf.length) return undefined;
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[start]!);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  const int = (what: string): number => {
    if (!/^-?\d+$/.test(line)) throw new RespError(`RESP: ${what} '${line}' is not an integer`);
    return Number(line);
  };
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisReplyError(line), end: next };
    case ':':
      return { value: int('integer'), end: next };
    case '$': {
      const len = int('bulk length');
      if (len === -1) return { value: null, end: next };
      if (len < 0) throw new RespError(`RESP: bulk length ${len}`);
      if (buf.length < next + len + 2) return undefined;
      if (buf[next + len] !== 13 || buf[next + len + 1] !== 10) throw new RespError('RESP: bulk string not followed by CRLF');
      return { value: Buffer.from(buf.subarray(next, next + len)), end: next + len + 2 };
    }
    case '*': {
      const n = int('array length');
      if (n === -1) return { value: null, end: next };
      if (n < 0) throw new RespError(`RESP: array length ${n}`);
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = decodeReply(buf, pos, depth + 1);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new RespError(`RESP: unknown reply type '${type}' (0x${buf[start]!.toString(16)})`);
  }
}

/** One connection; replies are matched to commands in order (Redis answers in order). */
export class RedisConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (v: RespValue) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    const fail = (err: Error) => {
      this.failure = err;
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new RespError('connection to Redis closed')));
  }

  static connect(host: string, port: number): Promise<RedisConnection> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.connect(port, host, () => {
        socket.off('error', reject);
        resolve(new RedisConnection(socket));
      });
    });
  }

  private onData(d: Buffer): void {
    this.buffer = this.buffer.length === 0 ? d : Buffer.concat([this.buffer, d]);
    for (;;) {
      let decoded;
      try {
        decoded = decodeReply(this.buffer);
      } catch (err) {
        this.socket.destroy(err as Error);
        return;
      }
      if (!decoded) return;
      this.buffer = this.buffer.subarray(decoded.end);
      this.waiting.shift()?.resolve(decoded.value);
    }
  }

  async command(...args: Array<string | Buffer | number>): Promise<RespValue> {
    if (this.failure) throw this.failure;
    const reply = await new Promise<RespValue>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
    if (reply instanceof RedisReplyError) throw reply;
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `redis://host:port` (or host:port). */
export function redisAddress(uri: string): { host: string; port: number } {
  const m = /^(?:redis:\/\/)?([^:/]+)(?::(\d+))?\/?$/.exec(uri.trim());
  if (!m) throw new RespError(`not a Redis address: '${uri}' (expected redis://host:port)`);
  return { host: m[1]!, port: Number(m[2] ?? '6379') };
}
