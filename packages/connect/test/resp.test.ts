import { describe, expect, it } from 'vitest';
import { RedisReplyError, RespError, decodeReply, encodeCommand } from '../src/connectors/resp.js';
import { seededRandom as seededRng } from '@samsa/protocol';

describe('RESP2', () => {
  it('encodes a command as an array of bulk strings', () => {
    expect(encodeCommand(['XADD', 's', '*', 'k', Buffer.from('v'), 7]).toString()).toBe(
      '*6\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\n7\r\n',
    );
  });

  it('decodes every reply type, nested and null, and reports the bytes used', () => {
    expect(decodeReply(Buffer.from('+OK\r\n'))).toEqual({ value: 'OK', end: 5 });
    expect(decodeReply(Buffer.from(':-12\r\n'))!.value).toBe(-12);
    expect(decodeReply(Buffer.from('$-1\r\n'))!.value).toBeNull();
    expect(decodeReply(Buffer.from('*-1\r\n'))!.value).toBeNull();
    const err = decodeReply(Buffer.from('-ERR wrong type\r\n'))!.value;
    expect(err).toBeInstanceOf(RedisReplyError);
    expect((err as Error).message).toBe('ERR wrong type');
    const xread = Buffer.from('*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n+next');
    const r = decodeReply(xread)!;
    expect(r.value).toEqual([[Buffer.from('s'), [[Buffer.from('1-0'), [Buffer.from('a'), Buffer.from('b')]]]]]);
    expect(xread.subarray(r.end).toString()).toBe('+next');
  });

  it('asks for more bytes on a partial reply and refuses malformed ones', () => {
    for (const partial of ['', '+OK', '$5\r\nab', '*2\r\n:1\r\n', '$3\r\nabc\r']) expect(decodeReply(Buffer.from(partial))).toBeUndefined();
    expect(() => decodeReply(Buffer.from('?x\r\n'))).toThrow("RESP: unknown reply type '?' (0x3f)");
    expect(() => decodeReply(Buffer.from('$x\r\n'))).toThrow("RESP: bulk length 'x' is not an integer");
    expect(() => decodeReply(Buffer.from('$2\r\nabcd\r\n'))).toThrow('bulk string not followed by CRLF');
    expect(() => decodeReply(Buffer.from('*-3\r\n'))).toThrow('RESP: array length -3');
    expect(() => decodeReply(Buffer.from('*1\r\n'.repeat(40) + ':1\r\n'))).toThrow('nested deeper than 32');
  });

  it('never crashes on random or cut bytes (seeded fuzz)', () => {
    const rng = seededRng(4242);
    const alphabet = Buffer.from('+-:$*\r\n0123456789-abc');
    const seed = Buffer.from('*2\r\n$3\r\nfoo\r\n*2\r\n:5\r\n$-1\r\n');
    for (let i = 0; i < 5000; i++) {
      const buf =
        i % 2 === 0
          ? Buffer.from(Array.from({ length: Math.floor(rng() * 30) }, () => alphabet[Math.floor(rng() * alphabet.length)]!))
          : Buffer.from(seed.subarray(0, Math.floor(rng() * (seed.length + 1))));
      if (i % 3 === 0 && buf.length > 0) buf[Math.floor(rng() * buf.length)] = alphabet[Math.floor(rng() * alphabet.length)]!;
      try {
        const r = decodeReply(buf);
        if (r) expect(r.end).toBeLessThanOrEqual(buf.length);
      } catch (err) {
        expect(err, buf.toString('hex')).toBeInstanceOf(RespError);
      }
    }
  });
});
