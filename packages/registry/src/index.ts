// The public surface of @samsa/registry.
export { AvroCompatibilityChecker } from './avro/compatibility.js';
export type { AvroCompatibilityResult, AvroIncompatibility, AvroIncompatibilityType } from './avro/compatibility.js';
export { AvroSchemaError, parseAvroJson, resolveAvro, validateAvro } from './avro/schema.js';
export type { AvroField, AvroNode, AvroPrimitive } from './avro/schema.js';
export { COMPATIBILITY_LEVELS, checkLevel, isCompatibilityLevel } from './compatibility.js';
export type { CompatibilityLevel, ReadCheck } from './compatibility.js';
