import { describe, expect, it } from 'vitest';
import { authenticatePlain, parsePlain } from '../../src/security/saslPlain.js';
import {
  ScramClient,
  type ScramCredential,
  ScramServer,
  clientKey,
  credentialFromPassword,
  h,
  hmac,
  saltedPassword,
  decodeSaslName,
  encodeSaslName,
  parseClientFirst,
} from '../../src/security/scram.js';

const decoy = (): ScramCredential => credentialFromPassword('sha256', 'decoy', Buffer.from('decoy-salt'), 4096);

function exchange(server: ScramServer, client: ScramClient) {
  const first = server.evaluate(Buffer.from(client.first()));
  if (first.kind !== 'challenge') return { first, final: undefined };
  const final = server.evaluate(Buffer.from(client.final(first.bytes.toString())));
  return { first, final };
}

describe('SCRAM test vectors', () => {
  it('RFC 5802 section 5 (SHA-1): the server accepts the proof and answers the RFC signature', () => {
    const salt = Buffer.from('QSXCR+Q6sek8bf92', 'base64');
    const server = new ScramServer({
      mechanism: 'SCRAM-SHA-256',
      hash: 'sha1',
      credentialOf: (u) => (u === 'user' ? credentialFromPassword('sha1', 'pencil', salt, 4096) : undefined),
      serverNonce: '3rfcNHYJY1ZVvWVs7j',
      decoyCredential: decoy,
    });
    const first = server.evaluate(Buffer.from('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    expect(first).toEqual({
      kind: 'challenge',
      bytes: Buffer.from('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'),
    });
    const final = server.evaluate(Buffer.from('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
    expect(final).toEqual({ kind: 'done', bytes: Buffer.from('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='), username: 'user' });
  });

  it('RFC 7677 section 3 (SCRAM-SHA-256): the server accepts the proof and answers the RFC signature', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const server = new ScramServer({
      mechanism: 'SCRAM-SHA-256',
      credentialOf: (u) => (u === 'user' ? credentialFromPassword('sha256', 'pencil', salt, 4096) : undefined),
      serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
      decoyCredential: decoy,
    });
    const first = server.evaluate(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(first.kind === 'challenge' && first.bytes.toString()).toBe(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    );
    const final = server.evaluate(
      Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='),
    );
    expect(final).toEqual({ kind: 'done', bytes: Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), username: 'user' });
  });

  it('the client side reproduces the RFC 7677 client-final and verifies the server signature', () => {
    const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(client.first()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(client.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(client.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toBe(true);
    expect(client.verify('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toBe(false);
  });
});

describe('SCRAM server', () => {
  const salt = Buffer.from('0123456789abcdef');
  const users = new Map<string, ScramCredential>([['alice', credentialFromPassword('sha512', 'alice-secret', salt, 4096)]]);
  const server512 = () =>
    new ScramServer({ mechanism: 'SCRAM-SHA-512', credentialOf: (u) => users.get(u), serverNonce: 'srvnonce', decoyCredential: decoy });

  it('SCRAM-SHA-512 with the right password: done, and the client verifies the server', () => {
    const client = new ScramClient('SCRAM-SHA-512', 'alice', 'alice-secret', 'clinonce');
    const { final } = exchange(server512(), client);
    expect(final?.kind).toBe('done');
    expect(final?.kind === 'done' && client.verify(final.bytes.toString())).toBe(true);
  });

  it('a wrong password fails at the proof, naming the user and never the password', () => {
    const { final } = exchange(server512(), new ScramClient('SCRAM-SHA-512', 'alice', 'wrong', 'clinonce'));
    expect(final).toEqual({ kind: 'failed', reason: 'invalid credentials', username: 'alice' });
  });

  it('an unknown user gets a server-first like a known one, then fails at the proof', () => {
    const { first, final } = exchange(server512(), new ScramClient('SCRAM-SHA-512', 'mallory', 'x', 'clinonce'));
    expect(first.kind).toBe('challenge');
    expect(final).toEqual({ kind: 'failed', reason: 'invalid credentials', username: 'mallory' });
  });

  it('the decoy credential itself never authenticates an unknown user', () => {
    const server = new ScramServer({
      mechanism: 'SCRAM-SHA-256',
      credentialOf: () => undefined,
      serverNonce: 'srv',
      decoyCredential: decoy,
    });
    const { final } = exchange(server, new ScramClient('SCRAM-SHA-256', 'ghost', 'decoy', 'cli'));
    expect(final?.kind).toBe('failed');
  });

  it.each([
    ['no gs2 header', 'n=alice,r=abc'],
    ['channel binding', 'p=tls-unique,,n=alice,r=abc'],
    ['empty user', 'n,,n=,r=abc'],
    ['bad escape', 'n,,n=al=ice,r=abc'],
    ['no nonce', 'n,,n=alice'],
    ['mandatory extension', 'n,,m=ext,n=alice,r=abc'],
    ['token auth', 'n,,n=alice,r=abc,tokenauth=true'],
    ['other authzid', 'n,a=bob,n=alice,r=abc'],
  ])('a malformed client-first (%s) fails without throwing', (_what, text) => {
    expect(server512().evaluate(Buffer.from(text)).kind).toBe('failed');
  });

  it('a client-final with a changed nonce, bad channel binding or no proof fails', () => {
    for (const mutate of [
      (s: string) => s.replace('r=clinonce', 'r=other'),
      (s: string) => s.replace('c=biws', 'c=eSws'),
      (s: string) => s.slice(0, s.indexOf(',p=')),
    ]) {
      const server = server512();
      const client = new ScramClient('SCRAM-SHA-512', 'alice', 'alice-secret', 'clinonce');
      const first = server.evaluate(Buffer.from(client.first()));
      const final = server.evaluate(Buffer.from(mutate(client.final(first.kind === 'challenge' ? first.bytes.toString() : ''))));
      expect(final.kind).toBe('failed');
    }
  });

  it("accepts librdkafka's client-final, which repeats its client nonce before the combined nonce (Kafka checks endsWith)", () => {
    const server = server512();
    const first = server.evaluate(Buffer.from('n,,n=alice,r=clinonce'));
    const serverFirst = first.kind === 'challenge' ? first.bytes.toString() : '';
    const combined = /^r=([^,]+)/.exec(serverFirst)![1]!;
    const withoutProof = `c=biws,r=clinonce${combined}`;
    const authMessage = `n=alice,r=clinonce,${serverFirst},${withoutProof}`;
    const salted = saltedPassword('sha512', 'alice-secret', salt, 4096);
    const key = clientKey('sha512', salted);
    const signature = hmac('sha512', h('sha512', key), authMessage);
    const proof = Buffer.from(key.map((b, i) => b ^ signature[i]!));
    const result = server.evaluate(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
    expect(result.kind).toBe('done');
  });

  it('a third message after done fails', () => {
    const server = server512();
    const client = new ScramClient('SCRAM-SHA-512', 'alice', 'alice-secret', 'clinonce');
    exchange(server, client);
    expect(server.evaluate(Buffer.from('n,,n=alice,r=abc')).kind).toBe('failed');
  });

  it('seeded garbage never throws', () => {
    let seed = 19;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(Array.from({ length: next() % 40 }, () => next() % 256));
      const server = server512();
      expect(() => server.evaluate(bytes)).not.toThrow();
      expect(() => server.evaluate(bytes)).not.toThrow();
    }
  });

  it('user names escape , and = both ways', () => {
    expect(encodeSaslName('a,b=c')).toBe('a=2Cb=3Dc');
    expect(decodeSaslName('a=2Cb=3Dc')).toBe('a,b=c');
    expect(parseClientFirst('n,,n=a=2Cb,r=x').username).toBe('a,b');
  });
});

describe('PLAIN', () => {
  const cred = credentialFromPassword('sha256', 'alice-secret', Buffer.from('salt-salt'), 4096);
  const lookup = (u: string) => (u === 'alice' ? [{ mechanism: 'SCRAM-SHA-256' as const, credential: cred }] : []);

  it('parses authzid NUL user NUL password', () => {
    expect(parsePlain(Buffer.from('\0alice\0pw'))).toEqual({ authzid: '', username: 'alice', password: 'pw' });
    expect(parsePlain(Buffer.from('alice\0pw'))).toBeUndefined();
    expect(parsePlain(Buffer.from('\0\0pw'))).toBeUndefined();
  });

  it('accepts the password of the SCRAM credential, refuses a wrong one and an unknown user', () => {
    expect(authenticatePlain(Buffer.from('\0alice\0alice-secret'), lookup)).toEqual({ ok: true, username: 'alice' });
    expect(authenticatePlain(Buffer.from('\0alice\0nope'), lookup)).toEqual({
      ok: false,
      reason: 'invalid credentials',
      username: 'alice',
    });
    expect(authenticatePlain(Buffer.from('\0bob\0alice-secret'), lookup).ok).toBe(false);
    expect(authenticatePlain(Buffer.from('bob\0alice\0alice-secret'), lookup).ok).toBe(false);
  });
});
