/**
 * The halves of SASL both ends need (RFC 4616 PLAIN, RFC 5802 / RFC 7677 SCRAM-SHA-256/512, as
 * Kafka's ScramFormatter, ScramMessages and ScramSaslClient do them): the SCRAM primitives, the
 * message attribute syntax and the client side of an exchange, shared by the broker (which keeps
 * the server side, broker/src/security/scram.ts) and the SDK (which authenticates gRPC
 * connections). Pure: nonces come from the caller.
 */
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** The hash behind a mechanism; `sha1` only for RFC 5802's own test vector. */
export type ScramHash = 'sha1' | 'sha256' | 'sha512';

export const HASH_OF: Record<ScramMechanism, ScramHash> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };
const LENGTH_OF: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** Kafka's bounds on iterations (ScramMechanism.minIterations / maxIterations). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

export function hashOf(mechanism: ScramMechanism): ScramHash {
  return HASH_OF[mechanism];
}

/** What the server keeps per user and mechanism (Kafka's ScramCredential): never the password. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

// ---- RFC 5802 section 3 primitives ----

/** Hi(password, salt, i): PBKDF2 with HMAC-H, one block. */
export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, LENGTH_OF[hash], hash);
}

export function hmac(hash: ScramHash, key: Buffer, text: string | Buffer): Buffer {
  return createHmac(hash, key).update(text).digest();
}

export function h(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

export function clientKey(hash: ScramHash, salted: Buffer): Buffer {
  return hmac(hash, salted, 'Client Key');
}

export function serverKey(hash: ScramHash, salted: Buffer): Buffer {
  return hmac(hash, salted, 'Server Key');
}

/** The stored credential from SaltedPassword (what the controller does with an AlterUserScramCredentials upsertion). */
export function credentialFromSaltedPassword(hash: ScramHash, salt: Buffer, salted: Buffer, iterations: number): ScramCredential {
  return { salt, iterations, storedKey: h(hash, clientKey(hash, salted)), serverKey: serverKey(hash, salted) };
}

export function credentialFromPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): ScramCredential {
  return credentialFromSaltedPassword(hash, salt, saltedPassword(hash, password, salt, iterations), iterations);
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Constant-time equality that also accepts different lengths (false). */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks a password against a stored credential (how PLAIN is checked against SCRAM users). */
export function passwordMatches(hash: ScramHash, password: string, credential: ScramCredential): boolean {
  const salted = saltedPassword(hash, password, credential.salt, credential.iterations);
  return sameBytes(h(hash, clientKey(hash, salted)), credential.storedKey);
}

// ---- messages (RFC 5802 section 7) ----

/** A malformed or refused SCRAM message; `message` is safe to log (it never holds a proof or password). */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

/** saslname: ',' and '=' are written =2C and =3D; any other '=' is malformed. */
export function decodeSaslName(text: string): string {
  if (/=(?!2C|3D)/.test(text)) throw new ScramError('a user name has an invalid = escape');
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export function encodeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Printable ASCII except ',' (RFC 5802 `printable`). */
export const SCRAM_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

export function scramAttributes(text: string, what: string): Array<[string, string]> {
  return text.split(',').map((part) => {
    if (part.length < 2 || part[1] !== '=' || !/^[a-zA-Z]$/.test(part[0]!)) throw new ScramError(`${what} has a malformed attribute`);
    return [part[0]!, part.slice(2)];
  });
}

// ---- the client side (Kafka's ScramSaslClient; the SDK's gRPC authentication, tests) ----

/** A SCRAM client for one exchange: `first()`, then `final(serverFirst)`, then `verify(serverFinal)`. */
export class ScramClient {
  private bare = '';
  private salted: Buffer | undefined;
  private authMessage = '';
  private readonly hash: ScramHash;

  constructor(
    hashOrMechanism: ScramMechanism | ScramHash,
    private readonly username: string,
    private readonly password: string,
    private readonly clientNonce: string,
  ) {
    this.hash = isScramMechanism(hashOrMechanism) ? HASH_OF[hashOrMechanism] : hashOrMechanism;
  }

  first(): string {
    this.bare = `n=${encodeSaslName(this.username)},r=${this.clientNonce}`;
    return `n,,${this.bare}`;
  }

  final(serverFirst: string): string {
    const attrs = new Map(scramAttributes(serverFirst, 'the server-first message'));
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce?.startsWith(this.clientNonce) || salt === undefined || !Number.isSafeInteger(iterations) || iterations < 1)
      throw new ScramError('the server-first message is malformed');
    this.salted = saltedPassword(this.hash, this.password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    this.authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const key = clientKey(this.hash, this.salted);
    const proof = xor(key, hmac(this.hash, h(this.hash, key), this.authMessage));
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** True when the server proved it knows the credential. */
  verify(serverFinal: string): boolean {
    if (!this.salted || !serverFinal.startsWith('v=')) return false;
    const expected = hmac(this.hash, serverKey(this.hash, this.salted), this.authMessage);
    return sameBytes(Buffer.from(serverFinal.slice(2), 'base64'), expected);
  }
}

/** PLAIN's one token (RFC 4616): authzid NUL authcid NUL passwd, with an empty authzid (as Kafka's PlainSaslClient). */
export function plainToken(username: string, password: string): Buffer {
  return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8');
}
