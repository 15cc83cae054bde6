/**
 * Kafka's ACL model (org.apache.kafka.common.acl / resource: AclBinding, AclBindingFilter,
 * ResourcePattern, AccessControlEntry; KIP-140, pattern types from KIP-290), shared by the
 * controller (which validates and stores ACLs as metadata records) and the brokers (which replay
 * them, authorize requests and answer DescribeAcls). Numbers are Kafka's wire codes so the Kafka
 * protocol's CreateAcls/DescribeAcls/DeleteAcls pass through unchanged.
 */

export const AclResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
} as const;
export type AclResourceType = (typeof AclResourceType)[keyof typeof AclResourceType];

export const AclPatternType = {
  UNKNOWN: 0,
  ANY: 1,
  MATCH: 2,
  LITERAL: 3,
  PREFIXED: 4,
} as const;
export type AclPatternType = (typeof AclPatternType)[keyof typeof AclPatternType];

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const;
export type AclOperation = (typeof AclOperation)[keyof typeof AclOperation];

export const AclPermissionType = {
  UNKNOWN: 0,
  ANY: 1,
  DENY: 2,
  ALLOW: 3,
} as const;
export type AclPermissionType = (typeof AclPermissionType)[keyof typeof AclPermissionType];

/** The one cluster resource's name, as in Kafka. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
/** A LITERAL resource name that matches every resource of its type; also the "any host" host. */
export const WILDCARD = '*';
/** `User:*`: every principal of type User. */
export const WILDCARD_PRINCIPAL = 'User:*';

/** One ACL: a resource pattern and an access control entry. Principal as `Type:name`. */
export interface AclBinding {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

/** DescribeAcls / DeleteAcls filter: ANY codes and null strings match anything. */
export interface AclBindingFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

function nameOf(table: Readonly<Record<string, number>>, code: number): string {
  for (const [name, value] of Object.entries(table)) if (value === code) return name;
  return `UNKNOWN(${code})`;
}

export const resourceTypeName = (code: number): string => nameOf(AclResourceType, code);
export const patternTypeName = (code: number): string => nameOf(AclPatternType, code);
export const operationName = (code: number): string => nameOf(AclOperation, code);
export const permissionTypeName = (code: number): string => nameOf(AclPermissionType, code);

/** Kafka's names, case-insensitive, with `_`/`-` optional (`Read`, `IdempotentWrite`, `DESCRIBE_CONFIGS`). */
function parseName(table: Readonly<Record<string, number>>, text: string): number | undefined {
  const wanted = text.replace(/[-_]/g, '').toUpperCase();
  for (const [name, value] of Object.entries(table)) if (name.replace(/_/g, '') === wanted) return value;
  return undefined;
}

export const parseResourceType = (text: string) => parseName(AclResourceType, text);
export const parsePatternType = (text: string) => parseName(AclPatternType, text);
export const parseOperation = (text: string) => parseName(AclOperation, text);
export const parsePermissionType = (text: string) => parseName(AclPermissionType, text);

const CONCRETE_RESOURCE_TYPES: readonly number[] = [
  AclResourceType.TOPIC,
  AclResourceType.GROUP,
  AclResourceType.CLUSTER,
  AclResourceType.TRANSACTIONAL_ID,
];

/** The operations Kafka allows on each resource type (ResourceType's ACL operations). */
export const OPERATIONS_BY_RESOURCE: Readonly<Record<number, readonly number[]>> = {
  [AclResourceType.TOPIC]: [
    AclOperation.ALL,
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [AclResourceType.GROUP]: [AclOperation.ALL, AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE],
  [AclResourceType.CLUSTER]: [
    AclOperation.ALL,
    AclOperation.CREATE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
  ],
  [AclResourceType.TRANSACTIONAL_ID]: [AclOperation.ALL, AclOperation.WRITE, AclOperation.DESCRIBE],
};

/**
 * Why a binding may not be stored (Kafka's CreateAcls validation), or undefined when it may. A
 * binding must be concrete: no ANY/MATCH/UNKNOWN, a `Type:name` principal, a non-empty name and host.
 */
export function aclBindingProblem(b: AclBinding): string | undefined {
  if (!CONCRETE_RESOURCE_TYPES.includes(b.resourceType))
    return `resource type ${resourceTypeName(b.resourceType)} cannot be used in an ACL`;
  if (b.patternType !== AclPatternType.LITERAL && b.patternType !== AclPatternType.PREFIXED)
    return `pattern type ${patternTypeName(b.patternType)} cannot be used in an ACL (LITERAL or PREFIXED)`;
  if (typeof b.resourceName !== 'string' || b.resourceName.length === 0) return 'the resource name is empty';
  if (b.resourceType === AclResourceType.CLUSTER && (b.resourceName !== CLUSTER_RESOURCE_NAME || b.patternType !== AclPatternType.LITERAL))
    return `the cluster resource is LITERAL '${CLUSTER_RESOURCE_NAME}', got ${patternTypeName(b.patternType)} '${b.resourceName}'`;
  if (typeof b.principal !== 'string' || !/^[^:]+:.+$/.test(b.principal)) return `principal '${b.principal}' is not of the form Type:name`;
  if (typeof b.host !== 'string' || b.host.length === 0) return 'the host is empty (use * for any host)';
  const ops = OPERATIONS_BY_RESOURCE[b.resourceType]!;
  if (!ops.includes(b.operation))
    return `operation ${operationName(b.operation)} is not valid for resource type ${resourceTypeName(b.resourceType)}`;
  if (b.permissionType !== AclPermissionType.ALLOW && b.permissionType !== AclPermissionType.DENY)
    return `permission type ${permissionTypeName(b.permissionType)} cannot be used in an ACL (ALLOW or DENY)`;
  return undefined;
}

/** Why a filter cannot be used (an UNKNOWN code, an out-of-range number), or undefined. */
export function aclFilterProblem(f: AclBindingFilter): string | undefined {
  if (f.resourceType === AclResourceType.UNKNOWN || resourceTypeName(f.resourceType).startsWith('UNKNOWN'))
    return `unknown resource type ${f.resourceType}`;
  if (f.patternType === AclPatternType.UNKNOWN || patternTypeName(f.patternType).startsWith('UNKNOWN'))
    return `unknown pattern type ${f.patternType}`;
  if (f.operation === AclOperation.UNKNOWN || operationName(f.operation).startsWith('UNKNOWN')) return `unknown operation ${f.operation}`;
  if (f.permissionType === AclPermissionType.UNKNOWN || permissionTypeName(f.permissionType).startsWith('UNKNOWN'))
    return `unknown permission type ${f.permissionType}`;
  return undefined;
}

/** Does a concrete binding's resource pattern match the filter's (Kafka's ResourcePatternFilter.matches)? */
function patternMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== AclResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== AclPatternType.ANY && f.patternType !== AclPatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === AclPatternType.ANY || f.patternType === b.patternType) return f.resourceName === b.resourceName;
  // MATCH: every binding that would apply to the named resource.
  if (b.patternType === AclPatternType.LITERAL) return b.resourceName === f.resourceName || b.resourceName === WILDCARD;
  if (b.patternType === AclPatternType.PREFIXED) return f.resourceName.startsWith(b.resourceName);
  return false;
}

/** Kafka's AclBindingFilter.matches. */
export function aclFilterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  return (
    patternMatches(f, b) &&
    (f.principal === null || f.principal === b.principal) &&
    (f.host === null || f.host === b.host) &&
    (f.operation === AclOperation.ANY || f.operation === b.operation) &&
    (f.permissionType === AclPermissionType.ANY || f.permissionType === b.permissionType)
  );
}

/** Canonical text of a binding: equal bindings, equal keys (the id of its metadata record is derived from this). */
export function aclBindingKey(b: AclBinding): string {
  return JSON.stringify([b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permissionType]);
}

/** `(principal=User:alice, host=*, operation=READ, permissionType=ALLOW) on TOPIC:LITERAL:orders`, for CLI and logs. */
export function describeAclBinding(b: AclBinding): string {
  return `(principal=${b.principal}, host=${b.host}, operation=${operationName(b.operation)}, permissionType=${permissionTypeName(b.permissionType)}) on ${resourceTypeName(b.resourceType)}:${patternTypeName(b.patternType)}:${b.resourceName}`;
}
