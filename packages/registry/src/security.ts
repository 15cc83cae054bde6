/**
 * The registry's listener security, as Confluent's Schema Registry configures it (rest-utils'
 * `ApplicationServer` + Jetty): `https://` listeners with `ssl.keystore.location` /
 * `ssl.key.password` / `ssl.truststore.location` / `ssl.client.authentication` (here PEM files,
 * the broker's `ssl.keystore.type=PEM` conventions), and HTTP basic authentication
 * (`authentication.method=BASIC`, `authentication.realm`, `authentication.roles`) against a users
 * file in the format of Jetty's `PropertyFileLoginModule` (`name: password[,role ...]`).
 *
 * A PEM loader of our own: the broker's (packages/broker/src/security/tls.ts) is not importable
 * from here (the registry depends on client and protocol only).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';

/** Confluent's `ssl.client.authentication`. */
export type SslClientAuthentication = 'NONE' | 'REQUESTED' | 'REQUIRED';

export function parseSslClientAuthentication(text: string): SslClientAuthentication {
  const v = text.trim().toUpperCase();
  if (v !== 'NONE' && v !== 'REQUESTED' && v !== 'REQUIRED')
    throw new Error(`ssl.client.authentication must be NONE, REQUESTED or REQUIRED, got '${text}'`);
  return v;
}

export interface RegistryTlsConfig {
  /** ssl.keystore.location: a PEM file with the private key and the certificate chain. */
  keystoreLocation: string;
  /** ssl.key.password: the private key's passphrase, if it is encrypted. */
  keyPassword?: string;
  /** ssl.truststore.location: PEM CA certificates; client certificates must chain to them, and
   * writes forwarded to another https instance trust them. */
  truststoreLocation?: string;
  clientAuthentication?: SslClientAuthentication;
}

/** Reads the PEM files once, at start; a bad file or passphrase is a sentence naming the setting. */
export function registryTlsOptions(config: RegistryTlsConfig): tls.TlsOptions {
  const read = (what: string, path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${what} ${path} cannot be read: ${(err as Error).message}`);
    }
  };
  const pem = read('ssl.keystore.location', config.keystoreLocation);
  const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/.exec(pem)?.[0];
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!key || !certs) throw new Error(`ssl.keystore.location ${config.keystoreLocation} must hold a PEM private key and certificate chain`);
  const clientAuth = config.clientAuthentication ?? 'NONE';
  if (clientAuth !== 'NONE' && config.truststoreLocation === undefined)
    throw new Error(`ssl.client.authentication=${clientAuth} needs ssl.truststore.location (the CAs client certificates chain to)`);
  const options: tls.TlsOptions = {
    key,
    cert: certs.join('\n'),
    ...(config.keyPassword === undefined ? {} : { passphrase: config.keyPassword }),
    ...(config.truststoreLocation === undefined ? {} : { ca: read('ssl.truststore.location', config.truststoreLocation) }),
    requestCert: clientAuth !== 'NONE',
    rejectUnauthorized: clientAuth === 'REQUIRED',
    minVersion: 'TLSv1.2',
  };
  // Fails here, at start, on a wrong passphrase or a key that does not match the certificate.
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new Error(`ssl.keystore.location ${config.keystoreLocation}: ${(err as Error).message}`);
  }
  return options;
}

/** One user of the users file. Only a digest of the password is kept. */
export interface BasicAuthUser {
  readonly name: string;
  readonly digest: Buffer;
  readonly roles: readonly string[];
}

export type BasicAuthUsers = ReadonlyMap<string, BasicAuthUser>;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Parses a users file: one `name: password[,role ...]` per line (Jetty's PropertyUserStore format,
 * which Confluent's PropertyFileLoginModule reads); `#` starts a comment line; blank lines are
 * skipped. Jetty's hashed forms (`MD5:`, `CRYPT:`, `OBF:`) are refused rather than taken as plain
 * text. Errors name the line, never the password.
 */
export function parseUsersFile(text: string): BasicAuthUsers {
  const users = new Map<string, BasicAuthUser>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const colon = line.indexOf(':');
    const eq = line.indexOf('=');
    // Java properties accept ':' or '=' as the separator; the first one wins.
    const at = colon < 0 ? eq : eq < 0 ? colon : Math.min(colon, eq);
    if (at <= 0) throw new Error(`users file line ${i + 1}: expected 'name: password[,role ...]'`);
    const name = line.slice(0, at).trim();
    const [password, ...roles] = line
      .slice(at + 1)
      .split(',')
      .map((s) => s.trim());
    if (name === '' || password === undefined || password === '')
      throw new Error(`users file line ${i + 1}: expected 'name: password[,role ...]'`);
    if (/^(MD5|CRYPT|OBF):/.test(password))
      throw new Error(`users file line ${i + 1}: hashed passwords (MD5:, CRYPT:, OBF:) are not supported; write the password itself`);
    if (users.has(name)) throw new Error(`users file line ${i + 1}: user '${name}' is listed twice`);
    users.set(name, Object.freeze({ name, digest: digest(password), roles: Object.freeze(roles.filter((r) => r !== '')) }));
  });
  return users;
}

export function loadUsersFile(path: string): BasicAuthUsers {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`users file ${path} cannot be read: ${(err as Error).message}`);
  }
  try {
    return parseUsersFile(text);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

export interface BasicAuthConfig {
  /** authentication.realm: named in `WWW-Authenticate`. */
  realm: string;
  users: BasicAuthUsers;
  /** authentication.roles: a user must hold one of these; empty or containing `*`: any user. */
  roles?: readonly string[];
}

/** The outcome of checking one request's `Authorization` header. */
export type BasicAuthResult = { ok: true; user: string } | { ok: false; status: 401 | 403 };

/** A digest no password has, compared against when the user is unknown (the same work either way). */
const NOBODY = digest('\u0000samsa-registry-no-such-user');

/**
 * Checks an `Authorization: Basic base64(name:password)` header (RFC 7617). 401 when it is missing,
 * malformed, names no user or carries the wrong password; 403 when the user holds none of the
 * required roles (Jetty's answer to an authenticated user outside the constraint).
 */
export function checkBasicAuth(header: string | undefined, config: BasicAuthConfig): BasicAuthResult {
  const m = header === undefined ? null : /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return { ok: false, status: 401 };
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, status: 401 };
  const name = decoded.slice(0, colon);
  const user = config.users.get(name);
  const match = timingSafeEqual(digest(decoded.slice(colon + 1)), user?.digest ?? NOBODY);
  if (!user || !match) return { ok: false, status: 401 };
  const roles = config.roles ?? [];
  if (roles.length > 0 && !roles.includes('*') && !user.roles.some((r) => roles.includes(r))) return { ok: false, status: 403 };
  return { ok: true, user: name };
}

/** Confluent's `basic.auth.user.info` (`name:password`) as an `Authorization` header value. */
export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** Splits `basic.auth.user.info` at its first colon (a password may contain colons). */
export function parseUserInfo(text: string): { username: string; password: string } {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Error("basic.auth.user.info must be 'username:password'");
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
