/**
 * Typed errors of the client. Every wire error code from the one table in @samsa/protocol maps to a
 * class here (a dedicated subclass for the codes callers branch on, the SamsaError base for the
 * rest), carrying the code, the table's name, whether it is retriable, and an ES2022 `cause`.
 */
import { ErrorCode, errorInfo } from '@samsa/protocol';
import type { ErrorName } from '@samsa/protocol';

export interface SamsaErrorOptions {
  cause?: unknown;
  /** Overrides the table's retriable flag (rarely needed). */
  retriable?: boolean;
  topic?: string;
  partition?: number;
}

/** Base of every error the client throws on purpose. `name` is the class name; `errorName` the table's. */
export class SamsaError extends Error {
  /** A code from the error table (Kafka's numbering). */
  readonly code: number;
  /** The code's name in the table, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly errorName: ErrorName;
  /** True when the same request may succeed if retried (after a metadata refresh and a backoff). */
  readonly retriable: boolean;
  readonly topic?: string;
  readonly partition?: number;

  constructor(code: number, message?: string, options: SamsaErrorOptions = {}) {
    const info = errorInfo(code);
    super(message || info.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.errorName = info.name;
    this.retriable = options.retriable ?? info.retriable;
    if (options.topic !== undefined) this.topic = options.topic;
    if (options.partition !== undefined) this.partition = options.partition;
  }
}

type CodeErrorClass = new (message?: string, options?: SamsaErrorOptions) => SamsaError;

export class UnknownServerError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.UNKNOWN_SERVER_ERROR, message, options);
  }
}
export class OffsetOutOfRangeError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.OFFSET_OUT_OF_RANGE, message, options);
  }
}
/**
 * KIP-320 (Kafka's LogTruncationException): the leader's log no longer holds what this consumer
 * read up to `offset`; it diverges at `divergentOffset` (undefined when the leader could not say).
 * Raised to the caller of poll()/run() when autoOffsetReset is 'none'; the position stays, so the
 * caller decides (seek to `divergentOffset` to continue from where the logs agree).
 */
export class LogTruncationError extends OffsetOutOfRangeError {
  readonly offset: bigint;
  readonly divergentOffset: bigint | undefined;

  constructor(message: string, options: { topic: string; partition: number; offset: bigint; divergentOffset: bigint | undefined }) {
    super(message, { topic: options.topic, partition: options.partition, retriable: false });
    this.offset = options.offset;
    this.divergentOffset = options.divergentOffset;
  }
}
export class CorruptMessageError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.CORRUPT_MESSAGE, message, options);
  }
}
export class UnknownTopicOrPartitionError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message, options);
  }
}
export class LeaderNotAvailableError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.LEADER_NOT_AVAILABLE, message, options);
  }
}
export class NotLeaderOrFollowerError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.NOT_LEADER_OR_FOLLOWER, message, options);
  }
}
/** The broker gave up waiting (e.g. for acks=all replication); distinct from a transport deadline (SamsaConnectionError). */
export class RequestTimedOutError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.REQUEST_TIMED_OUT, message, options);
  }
}
export class BrokerNotAvailableError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.BROKER_NOT_AVAILABLE, message, options);
  }
}
export class MessageTooLargeError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.MESSAGE_TOO_LARGE, message, options);
  }
}
export class InvalidTopicError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_TOPIC_EXCEPTION, message, options);
  }
}
export class RecordListTooLargeError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.RECORD_LIST_TOO_LARGE, message, options);
  }
}
export class NotEnoughReplicasError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.NOT_ENOUGH_REPLICAS, message, options);
  }
}
export class NotEnoughReplicasAfterAppendError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, message, options);
  }
}
export class InvalidRequiredAcksError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_REQUIRED_ACKS, message, options);
  }
}
export class InvalidTimestampError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_TIMESTAMP, message, options);
  }
}
export class TopicAlreadyExistsError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.TOPIC_ALREADY_EXISTS, message, options);
  }
}
export class InvalidPartitionsError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_PARTITIONS, message, options);
  }
}
export class InvalidReplicationFactorError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_REPLICATION_FACTOR, message, options);
  }
}
export class InvalidConfigError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_CONFIG, message, options);
  }
}
export class NotControllerError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.NOT_CONTROLLER, message, options);
  }
}
/** The request was malformed; also thrown by the client itself for bad arguments (nothing is sent). */
export class InvalidRequestError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_REQUEST, message, options);
  }
}
export class FencedLeaderEpochError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.FENCED_LEADER_EPOCH, message, options);
  }
}
export class UnknownLeaderEpochError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.UNKNOWN_LEADER_EPOCH, message, options);
  }
}
export class UnsupportedCompressionTypeError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message, options);
  }
}
export class InvalidRecordError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_RECORD, message, options);
  }
}
export class ControllerQuorumUnavailableError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE, message, options);
  }
}
/** Kafka's ProducerFencedException: a newer producer with the same transactional id exists; fatal for this producer. */
export class ProducerFencedError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.PRODUCER_FENCED, message, { ...options, retriable: false });
  }
}
/** INVALID_PRODUCER_EPOCH: the broker knows a newer epoch of this producer id (a transactional producer treats it as fenced). */
export class InvalidProducerEpochError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_PRODUCER_EPOCH, message, { ...options, retriable: false });
  }
}
/** A transactional call in a state that does not allow it (send outside a transaction, commit with none open...). */
export class InvalidTxnStateError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_TXN_STATE, message, { ...options, retriable: false });
  }
}
/**
 * Kafka's TransactionAbortedException: a record of a transaction that was aborted before it was
 * sent, so it never reached the broker (no wire code of its own: INVALID_TXN_STATE).
 */
export class TransactionAbortedError extends SamsaError {
  constructor(message = 'the transaction was aborted before this record was sent', options?: SamsaErrorOptions) {
    super(ErrorCode.INVALID_TXN_STATE, message, { ...options, retriable: false });
  }
}

export interface ConnectionErrorOptions extends SamsaErrorOptions {
  /** The broker address (host:port) the request went to. */
  address?: string;
  /** The gRPC status code, when the failure came from gRPC. */
  grpcCode?: number;
}

/** SASL authentication failed: wrong user name or password, or the broker could not be trusted (SCRAM). Never retried. */
export class SaslAuthenticationError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.SASL_AUTHENTICATION_FAILED, message, options);
  }
}
/** A call on a SASL listener's connection before it authenticated (the SDK re-authenticates and retries once). */
export class IllegalSaslStateError extends SamsaError {
  constructor(message?: string, options?: SamsaErrorOptions) {
    super(ErrorCode.ILLEGAL_SASL_STATE, message, options);
  }
}
/**
 * The request never got an answer: the broker was unreachable, the connection dropped, or the
 * transport deadline passed. Code NETWORK_EXCEPTION or REQUEST_TIMED_OUT; always retriable (after a
 * metadata refresh, since the broker may be gone).
 */
export class SamsaConnectionError extends SamsaError {
  readonly address?: string;
  readonly grpcCode?: number;

  constructor(
    message: string,
    options: ConnectionErrorOptions & { code?: typeof ErrorCode.NETWORK_EXCEPTION | typeof ErrorCode.REQUEST_TIMED_OUT } = {},
  ) {
    super(options.code ?? ErrorCode.NETWORK_EXCEPTION, message, { retriable: true, ...options });
    if (options.address !== undefined) this.address = options.address;
    if (options.grpcCode !== undefined) this.grpcCode = options.grpcCode;
  }
}

/**
 * Several independent operations failed (e.g. createTopics for three topics, two of which exist).
 * `errors` holds one typed error per failure, each naming its topic; `code` and `errorName` are the
 * first failure's; retriable only when every failure is.
 */
export class SamsaAggregateError extends SamsaError {
  readonly errors: readonly SamsaError[];

  constructor(errors: readonly SamsaError[], message?: string) {
    const first = errors[0];
    super(first?.code ?? ErrorCode.UNKNOWN_SERVER_ERROR, message ?? errors.map((e) => e.message).join('; '), {
      retriable: errors.length > 0 && errors.every((e) => e.retriable),
      cause: first,
    });
    this.errors = errors;
  }
}

/** Thrown by a pending operation (e.g. a long poll) when its client is closed under it. */
export class SamsaClosedError extends SamsaError {
  constructor(message = 'the client is closed', options?: SamsaErrorOptions) {
    super(ErrorCode.UNKNOWN_SERVER_ERROR, message, { retriable: false, ...options });
  }
}

const CLASSES = new Map<number, CodeErrorClass>([
  [ErrorCode.UNKNOWN_SERVER_ERROR, UnknownServerError],
  [ErrorCode.OFFSET_OUT_OF_RANGE, OffsetOutOfRangeError],
  [ErrorCode.CORRUPT_MESSAGE, CorruptMessageError],
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UnknownTopicOrPartitionError],
  [ErrorCode.LEADER_NOT_AVAILABLE, LeaderNotAvailableError],
  [ErrorCode.NOT_LEADER_OR_FOLLOWER, NotLeaderOrFollowerError],
  [ErrorCode.REQUEST_TIMED_OUT, RequestTimedOutError],
  [ErrorCode.BROKER_NOT_AVAILABLE, BrokerNotAvailableError],
  [ErrorCode.MESSAGE_TOO_LARGE, MessageTooLargeError],
  [ErrorCode.INVALID_TOPIC_EXCEPTION, InvalidTopicError],
  [ErrorCode.RECORD_LIST_TOO_LARGE, RecordListTooLargeError],
  [ErrorCode.NOT_ENOUGH_REPLICAS, NotEnoughReplicasError],
  [ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, NotEnoughReplicasAfterAppendError],
  [ErrorCode.INVALID_REQUIRED_ACKS, InvalidRequiredAcksError],
  [ErrorCode.INVALID_TIMESTAMP, InvalidTimestampError],
  [ErrorCode.TOPIC_ALREADY_EXISTS, TopicAlreadyExistsError],
  [ErrorCode.INVALID_PARTITIONS, InvalidPartitionsError],
  [ErrorCode.INVALID_REPLICATION_FACTOR, InvalidReplicationFactorError],
  [ErrorCode.INVALID_CONFIG, InvalidConfigError],
  [ErrorCode.NOT_CONTROLLER, NotControllerError],
  [ErrorCode.INVALID_REQUEST, InvalidRequestError],
  [ErrorCode.FENCED_LEADER_EPOCH, FencedLeaderEpochError],
  [ErrorCode.UNKNOWN_LEADER_EPOCH, UnknownLeaderEpochError],
  [ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, UnsupportedCompressionTypeError],
  [ErrorCode.INVALID_RECORD, InvalidRecordError],
  [ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE, ControllerQuorumUnavailableError],
  [ErrorCode.PRODUCER_FENCED, ProducerFencedError],
  [ErrorCode.INVALID_PRODUCER_EPOCH, InvalidProducerEpochError],
  [ErrorCode.INVALID_TXN_STATE, InvalidTxnStateError],
  [ErrorCode.SASL_AUTHENTICATION_FAILED, SaslAuthenticationError],
  [ErrorCode.ILLEGAL_SASL_STATE, IllegalSaslStateError],
]);

/**
 * The typed error for a wire error code: the dedicated subclass when there is one, else a
 * SamsaError carrying the code. An empty message falls back to the table's sentence.
 */
export function errorFromCode(code: number, message?: string, cause?: unknown, context: Omit<SamsaErrorOptions, 'cause'> = {}): SamsaError {
  const Class = CLASSES.get(code);
  const options: SamsaErrorOptions = cause === undefined ? { ...context } : { ...context, cause };
  return Class ? new Class(message, options) : new SamsaError(code, message, options);
}

/** True for errors worth retrying: typed retriable SamsaErrors only. */
export function isRetriable(error: unknown): boolean {
  return error instanceof SamsaError && error.retriable;
}

/** Codes after which the client's picture of partition leadership is stale and metadata must be refreshed. */
const STALE_METADATA_CODES = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.BROKER_NOT_AVAILABLE,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.UNKNOWN_TOPIC_ID,
]);

/** True when `error` means routing information is stale (leader moved, broker lost, topic changed). */
export function needsMetadataRefresh(error: unknown): boolean {
  if (error instanceof SamsaConnectionError) return true;
  return error instanceof SamsaError && STALE_METADATA_CODES.has(error.code);
}
