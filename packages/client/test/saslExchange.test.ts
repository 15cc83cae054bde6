import { ErrorCode, ScramClient } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { IllegalSaslStateError, SaslAuthenticationError, SamsaError } from '../src/errors.js';
import { type SaslRpc, SaslSession, checkSaslOptions, saslExchange } from '../src/connection/security.js';

const ok = (authBytes = Buffer.alloc(0)) => ({ errorCode: 0, errorMessage: '', authBytes });

describe('saslExchange (the SDK side of SaslHandshake / SaslAuthenticate)', () => {
  it('PLAIN sends one token: empty authzid, user, password', async () => {
    const sent: string[] = [];
    const rpc: SaslRpc = {
      handshake: async (m) => (sent.push(`handshake ${m}`), { errorCode: 0, mechanisms: ['PLAIN'] }),
      authenticate: async (b) => (sent.push(b.toString('utf8')), ok()),
    };
    await saslExchange(rpc, { mechanism: 'plain', username: 'alice', password: 'pw' }, 'b:1');
    expect(sent).toEqual(['handshake PLAIN', '\u0000alice\u0000pw']);
  });

  it('SCRAM: client-first, client-final, and a server signature that does not verify is refused', async () => {
    const sent: string[] = [];
    const rpc: SaslRpc = {
      handshake: async () => ({ errorCode: 0, mechanisms: ['SCRAM-SHA-256'] }),
      authenticate: async (b) => {
        sent.push(b.toString('utf8'));
        if (sent.length === 1) return ok(Buffer.from(`r=cnonce-snonce,s=${Buffer.from('salt').toString('base64')},i=4096`));
        return ok(Buffer.from('v=AAAA'));
      },
    };
    const failure = await saslExchange(rpc, { mechanism: 'scram-sha-256', username: 'alice', password: 'pw' }, 'b:1', () => 'cnonce').catch(
      (e: unknown) => e,
    );
    expect(sent[0]).toBe('n,,n=alice,r=cnonce');
    // The proof is the one the RFC 5802 client computes for this server-first.
    const reference = new ScramClient('SCRAM-SHA-256', 'alice', 'pw', 'cnonce');
    reference.first();
    expect(sent[1]).toBe(reference.final(`r=cnonce-snonce,s=${Buffer.from('salt').toString('base64')},i=4096`));
    expect(failure).toBeInstanceOf(SaslAuthenticationError);
    expect((failure as Error).message).toContain('signature does not verify');
  });

  it('SASL_AUTHENTICATION_FAILED becomes SaslAuthenticationError with the broker sentence; not retriable', async () => {
    const rpc: SaslRpc = {
      handshake: async () => ({ errorCode: 0, mechanisms: ['PLAIN'] }),
      authenticate: async () => ({
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: 'Authentication failed ...',
        authBytes: Buffer.alloc(0),
      }),
    };
    const e = await saslExchange(rpc, { mechanism: 'plain', username: 'alice', password: 'x' }, 'b:1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SaslAuthenticationError);
    expect((e as SamsaError).retriable).toBe(false);
    expect((e as Error).message).toContain('Authentication failed ...');
  });

  it('an unsupported mechanism names what the broker offers', async () => {
    const rpc: SaslRpc = {
      handshake: async () => ({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['SCRAM-SHA-512'] }),
      authenticate: async () => ok(),
    };
    const e = await saslExchange(rpc, { mechanism: 'plain', username: 'a', password: 'b' }, 'b:1').catch((x: unknown) => x);
    expect((e as SamsaError).code).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    expect((e as Error).message).toContain('it offers SCRAM-SHA-512');
  });

  it('checkSaslOptions refuses a bad mechanism or missing user with a sentence', () => {
    expect(() => checkSaslOptions({ mechanism: 'gssapi', username: 'a', password: 'b' })).toThrow(/sasl.mechanism must be/);
    expect(() => checkSaslOptions({ mechanism: 'plain', password: 'b' })).toThrow(/sasl.username/);
    expect(checkSaslOptions({ mechanism: 'SCRAM-SHA-512', username: 'a', password: 'b' }).mechanism).toBe('scram-sha-512');
  });
});

describe('SaslSession (one connection authentication)', () => {
  it('authenticates once for concurrent calls, and again once when a call finds the connection unauthenticated', async () => {
    let exchanges = 0;
    const session = new SaslSession(
      async () => {
        exchanges++;
      },
      () => undefined,
    );
    await Promise.all([session.run(async () => 1), session.run(async () => 2)]);
    expect(exchanges).toBe(1);
    let attempts = 0;
    const result = await session.run(async () => {
      attempts++;
      if (attempts === 1) throw new IllegalSaslStateError('reconnected');
      return 'done';
    });
    expect(result).toBe('done');
    expect(exchanges).toBe(2);
    // A second refusal in a row is not retried again (no loop).
    await expect(
      session.run(async () => {
        throw new IllegalSaslStateError('still not');
      }),
    ).rejects.toBeInstanceOf(IllegalSaslStateError);
    expect(exchanges).toBe(3);
  });

  it('a failed exchange is reported to every waiting call, drops the connection, and the next call tries anew', async () => {
    let exchanges = 0;
    let dropped = 0;
    const session = new SaslSession(
      async () => {
        exchanges++;
        if (exchanges === 1) throw new SaslAuthenticationError('wrong password');
      },
      () => dropped++,
    );
    const calls = await Promise.allSettled([session.run(async () => 1), session.run(async () => 2)]);
    expect(calls.map((c) => c.status)).toEqual(['rejected', 'rejected']);
    expect(dropped).toBe(1);
    expect(await session.run(async () => 3)).toBe(3);
    expect(exchanges).toBe(2);
  });
});
