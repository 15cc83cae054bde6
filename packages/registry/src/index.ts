// The public surface of @samsa/registry.
export { AvroCompatibilityChecker } from './avro/compatibility.js';
export type { AvroCompatibilityResult, AvroIncompatibility, AvroIncompatibilityType } from './avro/compatibility.js';
export { AvroSchemaError, parseAvroJson, resolveAvro, validateAvro } from './avro/schema.js';
export type { AvroField, AvroNode, AvroPrimitive } from './avro/schema.js';
export { COMPATIBILITY_LEVELS, checkLevel, isCompatibilityLevel } from './compatibility.js';
export type { CompatibilityLevel, ReadCheck } from './compatibility.js';
export { canonicalAvro, normalizeAvro } from './avro/canonical.js';
export { ErrorCode, RegistryError } from './errors.js';
export { FORMATS, formatFor } from './formats.js';
export type { ParsedSchema, SchemaFormat } from './formats.js';
export { MemoryLog, NotWriterError } from './log.js';
export type { RegistryLog } from './log.js';
export { configKey, decodeRecord, encodeRecord, modeKey, schemaKey, WRITER_KEY } from './records.js';
export type {
  ConfigValue,
  ModeValue,
  RegistryKey,
  RegistryRecord,
  SchemaReference,
  SchemaType,
  SchemaValue,
  WriterValue,
} from './records.js';
export { DEFAULT_COMPATIBILITY, DEFAULT_REGISTRY_OPTIONS, MODES, RegistryOps, parseVersion } from './registry.js';
export type { Mode, RegisterRequest, RegistryOptions, WritePlan } from './registry.js';
export { RegistryState, schemaFingerprint } from './state.js';
export type { SchemaVersion, StoredSchema, WriterState } from './state.js';
export { SchemaRegistry } from './service.js';
export { CONTENT_TYPE, RegistryHttpServer } from './http.js';
export type { RegistryHttpOptions } from './http.js';
export { SamsaLog } from './store.js';
export type { SamsaLogOptions } from './store.js';
export { startSchemaRegistryServer } from './server.js';
export type { RunningSchemaRegistry, SchemaRegistryServerOptions } from './server.js';
export { RegistryClientError, SchemaRegistryClient, nodeFetch } from './client.js';
export type { RegisteredSchema, RegistryClientOptions, SchemaInput } from './client.js';
export {
  AvroJsonError,
  MAGIC_BYTE,
  SchemaNotLoadedError,
  WireFormatError,
  avro,
  avroJsonReader,
  decodeFrame,
  decodeMessageIndexes,
  encodeFrame,
  encodeMessageIndexes,
  jsonSchema,
  protobufSerde,
  registrySerdes,
  subjectName,
} from './serdes.js';
export type {
  AvroRegistrySerde,
  AvroSerdeOptions,
  JsonSchemaSerdeOptions,
  ProtobufSerdeOptions,
  RegistrySerde,
  SubjectNameStrategy,
} from './serdes.js';
export { avroToTypeScript } from './avro/codegen.js';
export { JsonSchemaCompatibilityChecker } from './json/compatibility.js';
export { compileJsonSchema } from './formats.js';
export { checkProtobuf } from './protobuf/compatibility.js';
export { canonicalProto, parseProto } from './protobuf/schema.js';
export type { ProtoSchema } from './protobuf/schema.js';
export {
  basicAuthHeader,
  checkBasicAuth,
  loadUsersFile,
  parseSslClientAuthentication,
  parseUserInfo,
  parseUsersFile,
  registryTlsOptions,
} from './security.js';
export type { BasicAuthConfig, BasicAuthResult, BasicAuthUsers, RegistryTlsConfig, SslClientAuthentication } from './security.js';
