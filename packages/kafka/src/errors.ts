/**
 * The one error a decoder throws (Kafka's SchemaException / InvalidRequestException analogue): a
 * malformed frame must never crash the node with a RangeError or an allocation of absurd size, so
 * every bounds, length and varint check ends here, carrying the Kafka error code a listener answers
 * with (or closes on).
 */

export type KafkaDecodeErrorKind =
  | 'truncated'
  | 'negative-length'
  | 'oversized'
  | 'invalid-varint'
  | 'invalid-value'
  | 'unknown-api'
  | 'unsupported-version';

/** Kafka's codes for the two answers a broken request can get. */
export const INVALID_REQUEST = 42;
export const UNSUPPORTED_VERSION = 35;

export class KafkaDecodeError extends Error {
  override readonly name = 'KafkaDecodeError';
  readonly kind: KafkaDecodeErrorKind;
  /** The Kafka error code this maps to: 35 UNSUPPORTED_VERSION or 42 INVALID_REQUEST. */
  readonly errorCode: number;
  /** Set by decodeRequestHeader when the fixed header start was readable but the rest was not. */
  partialHeader?: { apiKey: number; apiVersion: number; correlationId: number };

  constructor(kind: KafkaDecodeErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.errorCode = kind === 'unsupported-version' || kind === 'unknown-api' ? UNSUPPORTED_VERSION : INVALID_REQUEST;
  }
}

/** An encoder was handed a body that cannot be written in the asked version (a caller bug). */
export class KafkaEncodeError extends Error {
  override readonly name = 'KafkaEncodeError';
}
