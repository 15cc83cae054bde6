/**
 * @samsa/kafka — the Kafka wire protocol as pure codecs: primitive types, request/response
 * headers, and a schema per API for every version Samsa advertises. No sockets, no other @samsa
 * packages. See README.md for the schema form and the version table.
 */
export { KafkaDecodeError, KafkaEncodeError, INVALID_REQUEST, UNSUPPORTED_VERSION, type KafkaDecodeErrorKind } from './errors.js';
export { isValidClientSoftware } from './clientSoftware.js';
export { Reader } from './reader.js';
export { Writer } from './writer.js';
export { ZERO_UUID, uuidToBytes, uuidToString } from './uuid.js';
export { parseVersions, inRange, type VersionRange } from './versions.js';
export type { ApiSpec, FieldSpec, FieldType, PrimitiveType, DefaultValue, StructOf, InputOf, UnknownTaggedField } from './schema.js';
export { compile, decodeStruct, encodeStruct, readTaggedFields, writeTaggedFields, type CompiledStruct } from './codec.js';
export { readRequestHeader, writeRequestHeader, readResponseHeader, writeResponseHeader, type RequestHeader } from './headers.js';
export {
  API_SPECS,
  ApiKey,
  ALL_APIS,
  SUPPORTED_APIS,
  NOT_YET_SERVED,
  specFor,
  isSupported,
  isFlexible,
  requestHeaderVersion,
  responseHeaderVersion,
  type ApiKeyNumber,
  type SpecByKey,
  type SupportedApi,
} from './registry.js';
export {
  decodeRequestHeader,
  decodeRequest,
  encodeResponse,
  encodeResponseChunks,
  encodeRequest,
  decodeResponse,
  type Frame,
  type RequestFor,
  type ResponseFor,
  type RequestInputFor,
  type ResponseInputFor,
} from './messages.js';
export type * from './types.js';
