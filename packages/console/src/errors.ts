/**
 * Errors the console's HTTP API answers with: a Kafka error name (`UNKNOWN_TOPIC_OR_PARTITION`,
 * `INVALID_CONFIG`, ...), its numeric code from Kafka's error table, a human sentence, and the HTTP
 * status that fits. Errors from the cluster keep the code the broker gave.
 */
import { ErrorCode, errorInfo } from '@samsa/protocol';
import { SamsaAggregateError, SamsaError } from '@samsa/client';

export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    /** For an answer relayed from the schema registry or Connect: its HTTP status and `error_code`. */
    readonly upstream?: { status: number; errorCode: number | null },
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: {
    code: number;
    name: string;
    message: string;
    retriable: boolean;
    upstream?: { status: number; errorCode: number | null };
  };
}

export function badRequest(message: string, code: number = ErrorCode.INVALID_REQUEST): ConsoleError {
  return new ConsoleError(400, code, message);
}

/** The HTTP status for a Kafka error code: the caller's fault (4xx) or the cluster's (5xx/503). */
function statusFor(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.GROUP_ID_NOT_FOUND:
      return 404;
    case ErrorCode.TOPIC_ALREADY_EXISTS:
      return 409;
    case ErrorCode.TOPIC_AUTHORIZATION_FAILED:
    case ErrorCode.GROUP_AUTHORIZATION_FAILED:
    case ErrorCode.CLUSTER_AUTHORIZATION_FAILED:
    case ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      // The brokers' ACLs refused: the page shows a no-permission state, not a retry.
      return 403;
    case ErrorCode.UNSUPPORTED_VERSION:
      return 501;
    default: {
      const info = errorInfo(code);
      return info.retriable ? 503 : 400;
    }
  }
}

export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ConsoleError) {
    const info = errorInfo(err.code);
    const error = { code: err.code, name: info.name, message: err.message, retriable: info.retriable };
    return { status: err.status, body: { error: err.upstream ? { ...error, upstream: err.upstream } : error } };
  }
  const first = err instanceof SamsaAggregateError && err.errors.length > 0 ? err.errors[0]! : err;
  if (first instanceof SamsaError) {
    return {
      status: statusFor(first.code),
      body: { error: { code: first.code, name: first.errorName, message: first.message, retriable: first.retriable } },
    };
  }
  const info = errorInfo(ErrorCode.UNKNOWN_SERVER_ERROR);
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { error: { code: info.code, name: info.name, message, retriable: false } } };
}
