/**
 * TLS for a listener (Kafka's SslFactory / DefaultSslEngineFactory with `ssl.keystore.type=PEM`):
 * a server context from PEM files, `ssl.client.auth`, and the principal a client certificate
 * proves (Kafka's DefaultKafkaPrincipalBuilder with `ssl.principal.mapping.rules=DEFAULT`: the
 * certificate's whole subject distinguished name, `User:CN=alice,OU=eng,O=acme`).
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import type { KafkaPrincipal } from '@samsa/server';

export type SslClientAuth = 'none' | 'requested' | 'required';

export interface TlsListenerConfig {
  /** ssl.keystore.location: a PEM file with the private key and the certificate chain. */
  readonly keystoreLocation: string;
  /** ssl.key.password: the private key's passphrase, if it is encrypted. */
  readonly keyPassword?: string;
  /** ssl.truststore.location: PEM CA certificates that client certificates must chain to. */
  readonly truststoreLocation?: string;
  readonly clientAuth: SslClientAuth;
}

export function parseSslClientAuth(text: string): SslClientAuth {
  const v = text.trim().toLowerCase();
  if (v !== 'none' && v !== 'requested' && v !== 'required') throw new Error(`must be none, requested or required, got '${text}'`);
  return v;
}

/** Reads the PEM files once (the listener keeps the context); throws a sentence naming the file. */
export function tlsServerOptions(config: TlsListenerConfig): tls.TlsOptions {
  const read = (what: string, path: string) => {
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
  const options: tls.TlsOptions = {
    key,
    cert: certs.join('\n'),
    ...(config.keyPassword === undefined ? {} : { passphrase: config.keyPassword }),
    ...(config.truststoreLocation === undefined ? {} : { ca: read('ssl.truststore.location', config.truststoreLocation) }),
    requestCert: config.clientAuth !== 'none',
    rejectUnauthorized: config.clientAuth === 'required',
    // gRPC clients offer h2; Kafka clients offer nothing (kafka/listener.ts splits on the result).
    ALPNProtocols: ['h2'],
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

/** The subject DN in RFC 2253 order (most specific first), as Kafka's X500Principal.getName(). */
export function subjectDn(subject: Record<string, string | string[]> | undefined): string {
  if (!subject) return '';
  const parts = Object.entries(subject).flatMap(([k, v]) =>
    (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x.replace(/([,+"\\<>;])/g, '\\$1')}`),
  );
  return parts.reverse().join(',');
}

/** The principal of a verified client certificate; undefined without one (then User:ANONYMOUS). */
export function principalFromCertificate(socket: tls.TLSSocket): KafkaPrincipal | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const dn = subjectDn(cert.subject as unknown as Record<string, string | string[]>);
  return dn === '' ? undefined : Object.freeze({ principalType: 'User', name: dn });
}
