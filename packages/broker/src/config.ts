/**
 * `@samsa/broker/config`: what a launcher needs to validate a broker's settings (Kafka's
 * KafkaConfig validation of listener.security.protocol.map, sasl.enabled.mechanisms,
 * ssl.client.auth, authorizer.class.name, super.users) without loading the broker itself. The
 * `samsa node` command parses its flags before it knows its roles; importing the whole package
 * for these few functions cost a controller-only node the broker's ~90 modules at start-up.
 */
export {
  SECURITY_PROTOCOLS,
  parseSaslMechanisms,
  parseSecurityProtocolMap,
  securityProtocolOf,
  type SecurityProtocol,
} from './security/saslConfig.js';
export { SASL_MECHANISMS, type SaslMechanism } from './security/sasl.js';
export { parseSslClientAuth, type SslClientAuth, type TlsListenerConfig } from './security/tls.js';
export { AUTHORIZER_CLASS_NAMES, parseSuperUsers, type AuthorizerConfig } from './security/authorizer.js';
