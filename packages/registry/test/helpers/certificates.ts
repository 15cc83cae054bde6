/**
 * A throwaway CA, a server certificate for 127.0.0.1 (key + chain in one PEM keystore,
 * `server.keystore.pem`) and a client certificate (`client.pem`, `client.key`), made by openssl
 * (installed by scripts/ci-deps.sh). For integration tests only: it spawns openssl.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 (key + chain in one PEM keystore) and a client certificate. */
export function makeCertificates(dir: string): void {
  const p = (f: string) => join(dir, f);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=registry-test-ca',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  ]);
  for (const [name, subject] of [
    ['server', '/CN=127.0.0.1'],
    ['client', '/CN=alice'],
  ] as const) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`)]);
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
