/**
 * A throwaway CA and one broker certificate for `samsa cluster up --tls` (what Kafka's docs do by
 * hand with keytool/openssl in "Encryption and Authentication using SSL"), made with the `openssl`
 * command: the CA (ca.pem, ca.key) and a broker key + certificate for the cluster's host (an IP
 * SAN for an address, a DNS SAN for a name), written as one PEM keystore (broker.keystore.pem, the
 * form `ssl.keystore.location` takes). Every broker of the local cluster shares it.
 */
import { spawnSync } from 'node:child_process';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

export interface ClusterCertificates {
  readonly caLocation: string;
  readonly keystoreLocation: string;
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`--tls needs the openssl command: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
}

export function makeClusterCertificates(dir: string, host: string, days = 365): ClusterCertificates {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    String(days),
    '-subj',
    '/CN=samsa-cluster-ca',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  ]);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${host}`, '-keyout', p('broker.key'), '-out', p('broker.csr')]);
  writeFileSync(p('broker.ext'), `subjectAltName=${isIP(host) ? 'IP' : 'DNS'}:${host}\n`);
  openssl([
    'x509',
    '-req',
    '-in',
    p('broker.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    String(days),
    '-extfile',
    p('broker.ext'),
    '-out',
    p('broker.pem'),
  ]);
  writeFileSync(p('broker.keystore.pem'), readFileSync(p('broker.key'), 'utf8') + readFileSync(p('broker.pem'), 'utf8'));
  for (const secret of ['ca.key', 'broker.key', 'broker.keystore.pem']) chmodSync(p(secret), 0o600);
  return { caLocation: p('ca.pem'), keystoreLocation: p('broker.keystore.pem') };
}
