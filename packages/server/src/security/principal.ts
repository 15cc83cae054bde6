/**
 * Who a request comes from (Kafka's KafkaPrincipal, `User:alice`). Shared by the authentication
 * side (TLS client certificates, SASL), which decides a connection's principal, and the authorizer,
 * which decides what that principal may do. A connection that has not authenticated, or arrives on
 * a PLAINTEXT listener, is `User:ANONYMOUS`, as in Kafka.
 */
export interface KafkaPrincipal {
  /** Kafka's principal type; `User` is the only one Kafka's built-in authenticators produce. */
  readonly principalType: string;
  readonly name: string;
}

export const ANONYMOUS: KafkaPrincipal = Object.freeze({ principalType: 'User', name: 'ANONYMOUS' });

/** `User:alice`: the form Kafka's ACLs, logs and `super.users` use. */
export function principalToString(principal: KafkaPrincipal): string {
  return `${principal.principalType}:${principal.name}`;
}

/** Parses `User:alice`; undefined when the text has no `type:` prefix or an empty name. */
export function parsePrincipal(text: string): KafkaPrincipal | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return undefined;
  return { principalType: text.slice(0, colon), name: text.slice(colon + 1) };
}
