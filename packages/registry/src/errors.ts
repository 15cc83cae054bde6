/**
 * Confluent Schema Registry's error codes (its `Errors` class and `RestException` subclasses): the
 * HTTP status is the code's first three digits. One table; handlers throw `RegistryError` with a
 * code and a sentence, and the HTTP layer writes `{"error_code", "message"}`.
 */

export const ErrorCode = {
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  SUBJECT_SOFT_DELETED: 40404,
  SUBJECT_NOT_SOFT_DELETED: 40405,
  SCHEMA_VERSION_SOFT_DELETED: 40406,
  SCHEMA_VERSION_NOT_SOFT_DELETED: 40407,
  SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED: 40408,
  SUBJECT_LEVEL_MODE_NOT_CONFIGURED: 40409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INCOMPATIBLE_SCHEMA: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BAD_REQUEST: 400,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  INVALID_MODE: 42204,
  OPERATION_NOT_PERMITTED: 42205,
  REFERENCE_EXISTS: 42206,
  ID_DOES_NOT_MATCH: 42207,
  INVALID_SUBJECT: 42208,
  SCHEMA_TOO_LARGE: 42209,
  STORE_ERROR: 50001,
  OPERATION_TIMEOUT: 50002,
  REQUEST_FORWARDING_FAILED: 50003,
  UNKNOWN_LEADER: 50004,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** HTTP status: the first three digits of the error code. */
  get status(): number {
    const s = String(this.errorCode);
    return Number(s.slice(0, 3));
  }

  toJSON(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const errors = {
  subjectNotFound: (s: string) => new RegistryError(ErrorCode.SUBJECT_NOT_FOUND, `Subject '${s}' not found.`),
  versionNotFound: (v: number | string) => new RegistryError(ErrorCode.VERSION_NOT_FOUND, `Version ${v} not found.`),
  schemaNotFound: (what = 'Schema not found') => new RegistryError(ErrorCode.SCHEMA_NOT_FOUND, what),
  invalidVersion: (v: string) =>
    new RegistryError(
      ErrorCode.INVALID_VERSION,
      `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    ),
  invalidSchema: (m: string) => new RegistryError(ErrorCode.INVALID_SCHEMA, m),
} as const;
