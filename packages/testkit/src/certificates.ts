/**
 * A throwaway CA and certificates for TLS tests, made by openssl (installed by scripts/ci-deps.sh):
 * `ca.pem`/`ca.key`, a server certificate for 127.0.0.1 (`server.pem`, `server.key`, and Kafka's PEM
 * keystore `server.keystore.pem`: the private key and the chain in one file) and a client
 * certificate for mutual TLS (`client.pem`, `client.key`). Spawns openssl, so only integration
 * tests may call it. Shared by the broker's TLS tests (packages/cli) and the registry's https tests.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificateOptions {
  /** The CA's subject (default `/CN=samsa-test-ca`). */
  readonly caSubject?: string;
  /** The client certificate's subject (default `/CN=alice`); its DN is the mutual-TLS principal. */
  readonly clientSubject?: string;
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** Writes the CA, server and client certificates into `dir` (valid for two days). */
export function makeCertificates(dir: string, options: CertificateOptions = {}): void {
  const p = (f: string) => join(dir, f);
  const ca = options.caSubject ?? '/CN=samsa-test-ca';
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', ca, '-keyout', p('ca.key'), '-out', p('ca.pem')]);
  for (const [name, subject] of [
    ['server', '/CN=127.0.0.1'],
    ['client', options.clientSubject ?? '/CN=alice'],
  ] as const) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`)]);
    // The server is reached by IP, so its name is an IP SAN; the client's key usage is client authentication.
    writeFileSync(p(`${name}.ext`), name === 'server' ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    openssl([
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    ]);
  }
  writeFileSync(p('server.keystore.pem'), readFileSync(p('server.key'), 'utf8') + readFileSync(p('server.pem'), 'utf8'));
}
