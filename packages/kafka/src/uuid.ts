/**
 * Kafka's Uuid (topic ids, KIP-516) as text: the 16 bytes in URL-safe base64 without padding, 22
 * characters, exactly as Kafka's `Uuid.toString()` prints them (so ids match `kafka-topics
 * --describe` output). The all-zero id (`AAAAAAAAAAAAAAAAAAAAAA`) is Kafka's Uuid.ZERO_UUID.
 */
import { KafkaEncodeError } from './errors.js';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function uuidToString(bytes: Buffer): string {
  return bytes.toString('base64url');
}

const UUID_TEXT = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export function uuidToBytes(text: string): Buffer {
  // 22 base64 characters carry 132 bits; the last one may only use its top 2 bits (A, Q, g, w).
  if (!UUID_TEXT.test(text)) throw new KafkaEncodeError(`not a Kafka uuid (22 base64url characters): ${JSON.stringify(text)}`);
  return Buffer.from(text, 'base64url');
}
