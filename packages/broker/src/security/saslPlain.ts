/**
 * SASL PLAIN (RFC 4616), as Kafka's PlainSaslServer: one client message
 * `[authzid] NUL authcid NUL passwd`, no server challenge. Samsa checks the password against the
 * user's SCRAM credential (README: "Where passwords live"), so PLAIN needs no password file.
 */
import { type ScramCredential, type ScramMechanism, hashOf, passwordMatches } from './scram.js';

export interface PlainMessage {
  readonly authzid: string;
  readonly username: string;
  readonly password: string;
}

/** Undefined when the message is not three NUL-separated UTF-8 parts with a user and a password. */
export function parsePlain(bytes: Buffer): PlainMessage | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const parts = text.split('\u0000');
  if (parts.length !== 3) return undefined;
  const [authzid, username, password] = parts as [string, string, string];
  if (username === '' || password === '') return undefined;
  return { authzid, username, password };
}

export type PlainOutcome =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly reason: string; readonly username?: string };

/**
 * Checks one PLAIN message. `credentialsOf` lists the user's SCRAM credentials, strongest first;
 * the first one decides (one PBKDF2 per attempt).
 */
export function authenticatePlain(
  bytes: Buffer,
  credentialsOf: (username: string) => ReadonlyArray<{ mechanism: ScramMechanism; credential: ScramCredential }>,
): PlainOutcome {
  const msg = parsePlain(bytes);
  if (!msg) return { ok: false, reason: 'the PLAIN message is not authzid NUL user NUL password' };
  // Kafka's PlainSaslServer: an authorization id must equal the user name.
  if (msg.authzid !== '' && msg.authzid !== msg.username)
    return { ok: false, reason: 'an authorization id different from the user name is not supported', username: msg.username };
  const first = credentialsOf(msg.username)[0];
  if (!first || !passwordMatches(hashOf(first.mechanism), msg.password, first.credential))
    return { ok: false, reason: 'invalid credentials', username: msg.username };
  return { ok: true, username: msg.username };
}
