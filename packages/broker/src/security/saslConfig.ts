/**
 * Which security protocol each listener speaks (Kafka's listener.security.protocol.map and
 * sasl.enabled.mechanisms, from SocketServerConfigs / BrokerSecurityConfigs). A listener whose
 * name is one of the four protocol names needs no map entry, as in Kafka.
 */
import { isSaslMechanism, type SaslMechanism } from './sasl.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export function isSecurityProtocol(name: string): name is SecurityProtocol {
  return (SECURITY_PROTOCOLS as readonly string[]).includes(name);
}

export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

/** Parses `NAME:PROTOCOL,NAME2:PROTOCOL`. Throws an Error whose message says what is wrong. */
export function parseSecurityProtocolMap(text: string): Map<string, SecurityProtocol> {
  const out = new Map<string, SecurityProtocol>();
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = item.indexOf(':');
    const name = colon < 0 ? '' : item.slice(0, colon).trim().toUpperCase();
    const protocol =
      colon < 0
        ? ''
        : item
            .slice(colon + 1)
            .trim()
            .toUpperCase();
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`'${item}' is not LISTENER_NAME:PROTOCOL`);
    if (!isSecurityProtocol(protocol)) throw new Error(`'${item}': protocol must be one of ${SECURITY_PROTOCOLS.join(', ')}`);
    if (out.has(name)) throw new Error(`listener ${name} appears more than once`);
    out.set(name, protocol);
  }
  return out;
}

/** A listener's protocol: its map entry, else its own name when that is a protocol name; undefined otherwise. */
export function securityProtocolOf(listenerName: string, map: ReadonlyMap<string, SecurityProtocol>): SecurityProtocol | undefined {
  return map.get(listenerName) ?? (isSecurityProtocol(listenerName) ? listenerName : undefined);
}

/** Parses sasl.enabled.mechanisms (`PLAIN,SCRAM-SHA-256`). */
export function parseSaslMechanisms(text: string): SaslMechanism[] {
  const out: SaslMechanism[] = [];
  for (const m of text
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean)) {
    if (!isSaslMechanism(m)) throw new Error(`unknown SASL mechanism '${m}' (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`);
    if (!out.includes(m)) out.push(m);
  }
  if (out.length === 0) throw new Error('names no SASL mechanism');
  return out;
}
