/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), the way Kafka's ScramFormatter,
 * ScramMessages and ScramSaslServer do it: pure functions over bytes and strings. Randomness (the
 * server nonce) comes in from the caller, so every exchange here is reproducible in tests.
 *
 * Not supported, as in Kafka: channel binding (a gs2 header of `p=...` is refused; `y` and `n` are
 * accepted), extensions other than none (Kafka's `tokenauth` delegation tokens are not served), and
 * SASLprep of passwords beyond taking them as UTF-8 (Kafka does not normalise either).
 */
import { ErrorCode } from '@samsa/protocol';
import {
  HASH_OF,
  SCRAM_NONCE as NONCE,
  ScramError,
  type ScramCredential,
  type ScramHash,
  type ScramMechanism,
  decodeSaslName,
  h,
  hmac,
  sameBytes,
  scramAttributes as attributes,
  xor,
} from '@samsa/protocol';

// The primitives and the client half live in @samsa/protocol (the SDK needs them too).
export {
  SCRAM_MAX_ITERATIONS,
  SCRAM_MECHANISMS,
  SCRAM_MIN_ITERATIONS,
  ScramClient,
  ScramError,
  clientKey,
  credentialFromPassword,
  credentialFromSaltedPassword,
  decodeSaslName,
  encodeSaslName,
  h,
  hashOf,
  hmac,
  isScramMechanism,
  passwordMatches,
  sameBytes,
  saltedPassword,
  serverKey,
} from '@samsa/protocol';
export type { ScramCredential, ScramHash, ScramMechanism } from '@samsa/protocol';

export interface ClientFirstMessage {
  readonly gs2Header: string;
  readonly authzid: string | undefined;
  readonly username: string;
  readonly nonce: string;
  /** `n=...,r=...`: the part that enters AuthMessage. */
  readonly bare: string;
}

export function parseClientFirst(text: string): ClientFirstMessage {
  const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/.exec(text);
  if (!m) throw new ScramError('the client-first message has no valid gs2 header');
  if (m[1]!.startsWith('p=')) throw new ScramError('channel binding is not supported');
  const bare = m[3]!;
  const attrs = attributes(bare, 'the client-first message');
  if (attrs[0]?.[0] === 'm') throw new ScramError('mandatory SCRAM extensions are not supported');
  if (attrs.length < 2 || attrs[0]![0] !== 'n' || attrs[1]![0] !== 'r')
    throw new ScramError('the client-first message must be n=...,r=...');
  const username = decodeSaslName(attrs[0]![1]);
  const nonce = attrs[1]![1];
  if (username === '') throw new ScramError('the user name is empty');
  if (!NONCE.test(nonce)) throw new ScramError('the client nonce is empty or not printable');
  // Extensions after r= (Kafka: tokenauth=true for delegation tokens) are not served.
  if (attrs.slice(2).some(([k, v]) => k === 't' || v === 'tokenauth')) throw new ScramError('SCRAM extensions are not supported');
  const authzid = m[2] === undefined ? undefined : decodeSaslName(m[2].slice(2));
  return { gs2Header: `${m[1]},${m[2] ?? ''},`, authzid, username, nonce, bare };
}

export interface ClientFinalMessage {
  readonly channelBinding: string;
  readonly nonce: string;
  readonly proof: Buffer;
  /** Everything before `,p=`: the part that enters AuthMessage. */
  readonly withoutProof: string;
}

export function parseClientFinal(text: string): ClientFinalMessage {
  const at = text.lastIndexOf(',p=');
  if (at < 0) throw new ScramError('the client-final message has no proof');
  const withoutProof = text.slice(0, at);
  const attrs = attributes(withoutProof, 'the client-final message');
  if (attrs.length < 2 || attrs[0]![0] !== 'c' || attrs[1]![0] !== 'r')
    throw new ScramError('the client-final message must be c=...,r=...,p=...');
  const proofText = text.slice(at + 3);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(proofText)) throw new ScramError('the client proof is not base64');
  return { channelBinding: attrs[0]![1], nonce: attrs[1]![1], proof: Buffer.from(proofText, 'base64'), withoutProof };
}

// ---- the server (Kafka's ScramSaslServer) ----

/** One step's result: bytes to send back and whether the exchange is over. */
export type ScramStep =
  | { readonly kind: 'challenge'; readonly bytes: Buffer }
  | { readonly kind: 'done'; readonly bytes: Buffer; readonly username: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly username?: string };

export interface ScramServerOptions {
  readonly mechanism: ScramMechanism;
  /** The user's stored credential, undefined when the user has none for this mechanism. */
  readonly credentialOf: (username: string) => ScramCredential | undefined;
  /** The server's nonce part (printable, no ','): random in production, fixed in tests. */
  readonly serverNonce: string;
  /**
   * What to answer for an unknown user, so server-first looks the same whether or not the user
   * exists (the exchange then fails at the proof). Derived from the name, so it is stable.
   */
  readonly decoyCredential: (username: string) => ScramCredential;
  /** Overrides the mechanism's hash: only for RFC 5802's SHA-1 test vector. */
  readonly hash?: ScramHash;
}

/**
 * States: awaiting client-first → awaiting client-final → done | failed. Every step after done or
 * failed fails. No step throws: a malformed message is a failed step with a loggable reason.
 */
export class ScramServer {
  private state: 'first' | 'final' | 'over' = 'first';
  private clientFirst: ClientFirstMessage | undefined;
  private serverFirst = '';
  private credential: ScramCredential | undefined;
  private known = false;
  private readonly hash: ScramHash;

  constructor(private readonly options: ScramServerOptions) {
    this.hash = options.hash ?? HASH_OF[options.mechanism];
  }

  evaluate(bytes: Buffer): ScramStep {
    const state = this.state;
    this.state = 'over';
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return { kind: 'failed', reason: 'the SCRAM message is not UTF-8' };
    }
    try {
      if (state === 'first') return this.first(text);
      if (state === 'final') return this.final(text);
      return { kind: 'failed', reason: 'the SCRAM exchange is already over' };
    } catch (err) {
      if (err instanceof ScramError)
        return { kind: 'failed', reason: err.message, ...(this.clientFirst ? { username: this.clientFirst.username } : {}) };
      throw err;
    }
  }

  private first(text: string): ScramStep {
    const cf = parseClientFirst(text);
    if (cf.authzid !== undefined && cf.authzid !== cf.username)
      throw new ScramError('an authorization id different from the user name is not supported');
    if (!NONCE.test(this.options.serverNonce)) throw new ScramError('the server nonce is not printable');
    const stored = this.options.credentialOf(cf.username);
    this.known = stored !== undefined;
    this.credential = stored ?? this.options.decoyCredential(cf.username);
    this.clientFirst = cf;
    this.serverFirst = `r=${cf.nonce}${this.options.serverNonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.state = 'final';
    return { kind: 'challenge', bytes: Buffer.from(this.serverFirst, 'utf8') };
  }

  private final(text: string): ScramStep {
    const cf = this.clientFirst!;
    const cred = this.credential!;
    const msg = parseClientFinal(text);
    if (msg.channelBinding !== Buffer.from(cf.gs2Header, 'utf8').toString('base64'))
      throw new ScramError('the channel binding does not match the gs2 header');
    // Kafka's ScramSaslServer checks endsWith, not equality: librdkafka sends its client nonce
    // again in front of the combined nonce, and Kafka clients must keep working here.
    if (!msg.nonce.endsWith(`${cf.nonce}${this.options.serverNonce}`)) throw new ScramError('the nonce does not match');
    const authMessage = `${cf.bare},${this.serverFirst},${msg.withoutProof}`;
    const signature = hmac(this.hash, cred.storedKey, authMessage);
    if (msg.proof.length !== signature.length) throw new ScramError('invalid credentials');
    const key = xor(msg.proof, signature);
    if (!sameBytes(h(this.hash, key), cred.storedKey) || !this.known) throw new ScramError('invalid credentials');
    const serverSignature = hmac(this.hash, cred.serverKey, authMessage);
    return { kind: 'done', bytes: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), username: cf.username };
  }
}

/** One user's DescribeUserScramCredentials answer, protocol-neutral (both listeners map it). */
export interface ScramUserDescription {
  user: string;
  /** 0, or RESOURCE_NOT_FOUND (91) for a user without credentials. */
  errorCode: number;
  errorMessage: string | null;
  /** Mechanism and iterations only: never the salt or the keys (Kafka's answer has the same fields). */
  credentials: Array<{ mechanism: string; iterations: number }>;
}

/**
 * DescribeUserScramCredentials over the users in the metadata image: `asked` empty or absent
 * means every user (Kafka's rule), repeated names are answered once.
 */
export function describeScramUsers(
  all: ReadonlyArray<{ name: string; credentials: ReadonlyArray<{ mechanism: string; iterations: number }> }>,
  asked: readonly string[] | undefined,
): ScramUserDescription[] {
  const pick = asked === undefined || asked.length === 0 ? all.map((u) => u.name) : [...new Set(asked)];
  return pick.map((user) => {
    const found = all.find((u) => u.name === user);
    if (!found)
      return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `user '${user}' has no SCRAM credential`, credentials: [] };
    return {
      user,
      errorCode: 0,
      errorMessage: null,
      credentials: found.credentials.map((c) => ({ mechanism: c.mechanism, iterations: c.iterations })),
    };
  });
}
