/**
 * Client security from Kafka's client config names (CommonClientConfigs, SaslConfigs, SslConfigs),
 * as a `client.properties` for kafka-topics --command-config or kafka-console-producer
 * --producer.config holds them, turned into the SDK's `ssl` / `sasl` options:
 *
 *   security.protocol=SASL_SSL                      PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
 *   sasl.mechanism=SCRAM-SHA-256                    PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
 *   sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="...";
 *   ssl.truststore.type=PEM                         PEM only (JKS/PKCS12 stores are refused with a sentence)
 *   ssl.truststore.location=/path/ca.pem            or ssl.truststore.certificates=<PEM text>
 *   ssl.keystore.location=/path/client.pem          key + certificate chain in one PEM, for mutual TLS
 *
 * librdkafka's `sasl.username` / `sasl.password` are accepted as well (kcat users have them).
 * Pure apart from reading the PEM files it names.
 */
import { readFileSync } from 'node:fs';
import type { SaslOptions, SslOptions } from '@samsa/client';
import { UsageError } from './errors.js';

export interface ClientSecurity {
  ssl?: boolean | SslOptions;
  sasl?: SaslOptions;
}

/** The keys this module reads (a tool that checks its properties lets these through). */
export const SECURITY_CONFIG_KEYS: readonly string[] = [
  'security.protocol',
  'sasl.mechanism',
  'sasl.jaas.config',
  'sasl.username',
  'sasl.password',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.certificates',
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.endpoint.identification.algorithm',
];

/** username="..." and password="..." of a JAAS login module line (Kafka's JaasConfig; quotes may be escaped). */
export function parseJaasConfig(text: string): { username?: string; password?: string } {
  const out: { username?: string; password?: string } = {};
  const option = /(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"/g;
  for (let m = option.exec(text); m !== null; m = option.exec(text)) {
    const value = m[2]!.replace(/\\(.)/g, '$1');
    if (m[1] === 'username') out.username = value;
    if (m[1] === 'password') out.password = value;
  }
  return out;
}

export function clientSecurityFromProperties(props: Record<string, string>, source: string, read = readPem): ClientSecurity {
  const protocol = (props['security.protocol'] ?? 'PLAINTEXT').trim().toUpperCase();
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol))
    throw new UsageError(
      `${source}: security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got '${props['security.protocol']}'`,
    );
  const out: ClientSecurity = {};
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    for (const key of ['ssl.truststore.type', 'ssl.keystore.type']) {
      const type = props[key];
      if (type !== undefined && type.trim().toUpperCase() !== 'PEM')
        throw new UsageError(`${source}: ${key}=${type} is not supported; give PEM files (${key}=PEM)`);
    }
    const ssl: SslOptions = {};
    const truststore = props['ssl.truststore.location'];
    if (truststore !== undefined) ssl.ca = read(truststore, `${source}: ssl.truststore.location`);
    else if (props['ssl.truststore.certificates'] !== undefined) ssl.ca = props['ssl.truststore.certificates'];
    const keystore = props['ssl.keystore.location'];
    if (keystore !== undefined) {
      const pem = read(keystore, `${source}: ssl.keystore.location`);
      const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/.exec(pem)?.[0];
      const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
      if (!key || !certs)
        throw new UsageError(`${source}: ssl.keystore.location ${keystore} must hold a PEM private key and certificate chain`);
      ssl.key = key;
      ssl.cert = certs.join('\n');
    }
    out.ssl = Object.keys(ssl).length === 0 ? true : ssl;
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const mechanism = (props['sasl.mechanism'] ?? 'GSSAPI').trim().toUpperCase();
    if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512')
      throw new UsageError(
        `${source}: sasl.mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (Kafka's default GSSAPI is not served), got '${mechanism}'`,
      );
    const jaas = props['sasl.jaas.config'] === undefined ? {} : parseJaasConfig(props['sasl.jaas.config']);
    const username = jaas.username ?? props['sasl.username'];
    const password = jaas.password ?? props['sasl.password'];
    if (username === undefined || password === undefined)
      throw new UsageError(
        `${source}: ${protocol} needs sasl.jaas.config with username="..." and password="..." (or sasl.username and sasl.password)`,
      );
    out.sasl = { mechanism: mechanism.toLowerCase() as SaslOptions['mechanism'], username, password };
  }
  return out;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
