/**
 * The one error table shared by broker and client: Kafka's numbering and names where the meaning
 * is the same, a retriable flag, and a default human sentence. Every error that crosses the wire
 * carries one of these codes.
 */

export const ErrorCode = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  STALE_CONTROLLER_EPOCH: 11,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  OPERATION_NOT_ATTEMPTED: 55,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_NOT_FOUND: 57,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  REASSIGNMENT_IN_PROGRESS: 60,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  STALE_BROKER_EPOCH: 77,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  PRODUCER_FENCED: 90,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
  INVALID_UPDATE_VERSION: 95,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  INELIGIBLE_REPLICA: 107,
  FENCED_MEMBER_EPOCH: 110,
  /** Samsa-specific: the metadata quorum has no leader right now. Retriable. */
  CONTROLLER_QUORUM_UNAVAILABLE: 1000,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
export type ErrorName = keyof typeof ErrorCode;

export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly name: ErrorName;
  readonly retriable: boolean;
  readonly message: string;
}

// Retriable as in Kafka's org.apache.kafka.common.errors (RetriableException subclasses).
const RETRIABLE = new Set<ErrorName>([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'CONCURRENT_TRANSACTIONS',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
  'UNSTABLE_OFFSET_COMMIT',
  'REBALANCE_IN_PROGRESS',
  'CORRUPT_MESSAGE',
  'BROKER_NOT_AVAILABLE',
  'CONTROLLER_QUORUM_UNAVAILABLE',
  'UNKNOWN_TOPIC_ID',
  'FETCH_SESSION_ID_NOT_FOUND',
  'INVALID_FETCH_SESSION_EPOCH',
]);

const MESSAGES: Partial<Record<ErrorName, string>> = {
  SASL_AUTHENTICATION_FAILED: 'SASL authentication failed: wrong user name or password, or an unsupported exchange',
  UNKNOWN_SERVER_ERROR: 'The server experienced an unexpected error when processing the request.',
  OFFSET_OUT_OF_RANGE: 'The requested offset is not within the range of offsets maintained by the server.',
  CORRUPT_MESSAGE:
    'The record batch failed its CRC check, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.',
  UNKNOWN_TOPIC_OR_PARTITION: 'This server does not host this topic-partition.',
  LEADER_NOT_AVAILABLE: 'There is no leader for this topic-partition as we are in the middle of a leadership election.',
  NOT_LEADER_OR_FOLLOWER: 'This server is not the leader or a follower of that topic-partition.',
  REQUEST_TIMED_OUT: 'The request timed out.',
  BROKER_NOT_AVAILABLE: 'The broker is not available.',
  MESSAGE_TOO_LARGE: 'The request included a record batch larger than the max message size the server will accept.',
  NETWORK_EXCEPTION: 'The server disconnected before a response was received.',
  INVALID_TOPIC_EXCEPTION: 'The request attempted to perform an operation on an invalid topic.',
  NOT_ENOUGH_REPLICAS: 'Messages are rejected since there are fewer in-sync replicas than required.',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'Messages are written to the log, but to fewer in-sync replicas than required.',
  INVALID_REQUIRED_ACKS: 'Produce request specified an invalid value for required acks.',
  INVALID_TIMESTAMP: 'The timestamp of the record is out of acceptable range.',
  TOPIC_ALREADY_EXISTS: 'Topic with this name already exists.',
  INVALID_PARTITIONS: 'Number of partitions is below 1.',
  INVALID_REPLICATION_FACTOR: 'Replication factor is below 1 or larger than the number of available brokers.',
  INVALID_CONFIG: 'Configuration is invalid.',
  NOT_CONTROLLER: 'This is not the correct controller for this cluster.',
  INVALID_REQUEST: 'This most likely occurs because of a request being malformed.',
  UNSUPPORTED_COMPRESSION_TYPE: 'The requesting client does not support the compression type of given partition.',
  FETCH_SESSION_ID_NOT_FOUND: 'The fetch session ID was not found.',
  INVALID_FETCH_SESSION_EPOCH: 'The fetch session epoch is invalid.',
  FENCED_LEADER_EPOCH: 'The leader epoch in the request is older than the epoch on the broker.',
  UNKNOWN_LEADER_EPOCH: 'The leader epoch in the request is newer than the epoch on the broker.',
  OUT_OF_ORDER_SEQUENCE_NUMBER: 'The broker received an out of order sequence number.',
  DUPLICATE_SEQUENCE_NUMBER: 'The broker received a duplicate sequence number.',
  INVALID_PRODUCER_EPOCH: 'Producer attempted to produce with an old epoch.',
  INVALID_TXN_STATE: 'The producer attempted a transactional operation in an invalid state.',
  OPERATION_NOT_ATTEMPTED: 'The broker did not attempt to execute this operation.',
  INVALID_PRODUCER_ID_MAPPING: 'The producer attempted to use a producer id which is not currently assigned to its transactional id.',
  INVALID_TRANSACTION_TIMEOUT:
    'The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).',
  CONCURRENT_TRANSACTIONS:
    'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.',
  TRANSACTION_COORDINATOR_FENCED:
    'Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.',
  PRODUCER_FENCED: 'There is a newer producer with the same transactionalId which fences the current one.',
  TRANSACTIONAL_ID_NOT_FOUND: 'The transactionalId could not be found.',
  KAFKA_STORAGE_ERROR: 'Disk error when trying to access log file on the disk.',
  INVALID_RECORD: 'This record has failed the validation on broker and hence will be rejected.',
  CONTROLLER_QUORUM_UNAVAILABLE: 'The controller quorum has no leader right now; try again shortly.',
  INVALID_UPDATE_VERSION: 'The given update version was invalid.',
  INELIGIBLE_REPLICA: 'The new ISR contains at least one ineligible replica.',
};

function humanize(name: string): string {
  const words = name.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1) + '.';
}

const BY_CODE = new Map<number, ErrorInfo>();
for (const [name, code] of Object.entries(ErrorCode) as [ErrorName, ErrorCode][]) {
  BY_CODE.set(code, Object.freeze({ code, name, retriable: RETRIABLE.has(name), message: MESSAGES[name] ?? humanize(name) }));
}

/** The table entry for a code; an unknown code maps to UNKNOWN_SERVER_ERROR's entry with its own code. */
export function errorInfo(code: number): ErrorInfo {
  return BY_CODE.get(code) ?? { ...BY_CODE.get(ErrorCode.UNKNOWN_SERVER_ERROR)!, code: code as ErrorCode };
}

export function allErrors(): ErrorInfo[] {
  return [...BY_CODE.values()];
}

/**
 * An error with a code from the table. Thrown inside the broker and mapped onto the wire as
 * (error_code, error_message); the client maps it back to a typed class of its own.
 */
export class SamsaProtocolError extends Error {
  readonly code: ErrorCode;
  readonly errorName: ErrorName;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const info = errorInfo(code);
    super(message ?? info.message, options);
    this.name = 'SamsaProtocolError';
    this.code = code;
    this.errorName = info.name;
    this.retriable = info.retriable;
  }
}

/** One record a leader refused inside a produced batch: its index in the batch and why (Kafka's ProduceResponse RecordError, KIP-467). */
export interface RecordError {
  batchIndex: number;
  message: string;
}

/**
 * A produced batch refused because of some of its records (Kafka's RecordValidationException):
 * INVALID_RECORD or INVALID_TIMESTAMP for the whole batch, plus each refused record. Produce v8+
 * answers the records as `record_errors`; nothing of the batch is written.
 */
export class RecordValidationError extends SamsaProtocolError {
  readonly recordErrors: readonly RecordError[];

  constructor(code: ErrorCode, message: string, recordErrors: readonly RecordError[]) {
    super(code, message);
    this.name = 'RecordValidationError';
    this.recordErrors = recordErrors;
  }
}

/** Shorthand used by broker code: `throw protocolError('MESSAGE_TOO_LARGE', 'batch of 2 MiB ...')`. */
export function protocolError(name: ErrorName, message?: string, cause?: unknown): SamsaProtocolError {
  return new SamsaProtocolError(ErrorCode[name], message, cause === undefined ? undefined : { cause });
}
