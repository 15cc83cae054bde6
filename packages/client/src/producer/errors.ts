/**
 * Client-side producer timeouts. Both carry REQUEST_TIMED_OUT (Kafka's TimeoutException has no
 * wire code) and are not retriable: the producer already retried for as long as it was allowed.
 */
import { ErrorCode } from '@samsa/protocol';
import { SamsaError } from '../errors.js';
import type { SamsaErrorOptions } from '../errors.js';

/** A record was not acknowledged within deliveryTimeoutMs of send(); `cause` is the last failure, if any. */
export class DeliveryTimeoutError extends SamsaError {
  constructor(message: string, options: SamsaErrorOptions = {}) {
    super(ErrorCode.REQUEST_TIMED_OUT, message, { ...options, retriable: false });
  }
}

/** send() waited longer than maxBlockMs for buffer memory or for the topic's metadata. */
export class MaxBlockTimeoutError extends SamsaError {
  constructor(message: string, options: SamsaErrorOptions = {}) {
    super(ErrorCode.REQUEST_TIMED_OUT, message, { ...options, retriable: false });
  }
}
