/**
 * ACLs in the SDK (Kafka's Admin createAcls / describeAcls / deleteAcls with AclBinding and
 * AclBindingFilter, KIP-140): readable names here, Kafka's wire codes on the wire (the mapping
 * below, the numbers of org.apache.kafka.common.acl / resource). Pure conversion; admin.ts makes
 * the calls.
 */
import { InvalidRequestError } from '../errors.js';
import type { AclBindingWire } from '../wire.js';

export type AclResourceType = 'topic' | 'group' | 'cluster' | 'transactionalId';
export type AclPatternType = 'literal' | 'prefixed';
export type AclOperation =
  | 'all'
  | 'read'
  | 'write'
  | 'create'
  | 'delete'
  | 'alter'
  | 'describe'
  | 'clusterAction'
  | 'describeConfigs'
  | 'alterConfigs'
  | 'idempotentWrite';
export type AclPermissionType = 'allow' | 'deny';

/** One ACL: `principal` from `host` may (allow) or may not (deny) do `operation` on the resource pattern. */
export interface AclBinding {
  resourceType: AclResourceType;
  /** The name, prefix, or '*' (every resource of the type); the cluster is 'kafka-cluster'. */
  resourceName: string;
  patternType: AclPatternType;
  /** `User:alice`, or `User:*`. */
  principal: string;
  /** '*' or one client address. */
  host: string;
  operation: AclOperation;
  permissionType: AclPermissionType;
}

/** Which ACLs to describe or delete: an absent field matches anything; patternType 'match' matches every ACL that applies to the named resource. */
export interface AclBindingFilter {
  resourceType?: AclResourceType;
  resourceName?: string;
  patternType?: AclPatternType | 'match';
  principal?: string;
  host?: string;
  operation?: AclOperation;
  permissionType?: AclPermissionType;
}

const RESOURCE_TYPES: Record<AclResourceType, number> = { topic: 2, group: 3, cluster: 4, transactionalId: 5 };
const PATTERN_TYPES: Record<AclPatternType | 'match', number> = { match: 2, literal: 3, prefixed: 4 };
const OPERATIONS: Record<AclOperation, number> = {
  all: 2,
  read: 3,
  write: 4,
  create: 5,
  delete: 6,
  alter: 7,
  describe: 8,
  clusterAction: 9,
  describeConfigs: 10,
  alterConfigs: 11,
  idempotentWrite: 12,
};
const PERMISSION_TYPES: Record<AclPermissionType, number> = { deny: 2, allow: 3 };
const ANY = 1;

function codeOf<K extends string>(table: Record<K, number>, value: K | undefined, what: string, anyAllowed: boolean): number {
  if (value === undefined) {
    if (anyAllowed) return ANY;
    throw new InvalidRequestError(`an ACL needs a ${what}`);
  }
  const code = (table as Record<string, number>)[value];
  if (code === undefined) throw new InvalidRequestError(`unknown ACL ${what} '${String(value)}' (one of ${Object.keys(table).join(', ')})`);
  return code;
}

function nameOf<K extends string>(table: Record<K, number>, code: number, what: string): K {
  for (const [name, c] of Object.entries(table)) if (c === code) return name as K;
  throw new InvalidRequestError(`the broker answered an unknown ACL ${what} code ${code}`);
}

export function aclToWire(b: AclBinding) {
  return {
    resourceType: codeOf(RESOURCE_TYPES, b.resourceType, 'resource type', false),
    resourceName: b.resourceName,
    patternType: codeOf(PATTERN_TYPES, b.patternType, 'pattern type', false),
    principal: b.principal,
    host: b.host,
    operation: codeOf(OPERATIONS, b.operation, 'operation', false),
    permissionType: codeOf(PERMISSION_TYPES, b.permissionType, 'permission type', false),
  };
}

/** An absent name, principal or host is '' on the wire, which the broker reads as "any". */
export function aclFilterToWire(f: AclBindingFilter) {
  return {
    resourceType: codeOf(RESOURCE_TYPES, f.resourceType, 'resource type', true),
    resourceName: f.resourceName ?? '',
    patternType: codeOf(PATTERN_TYPES, f.patternType, 'pattern type', true),
    principal: f.principal ?? '',
    host: f.host ?? '',
    operation: codeOf(OPERATIONS, f.operation, 'operation', true),
    permissionType: codeOf(PERMISSION_TYPES, f.permissionType, 'permission type', true),
  };
}

export function aclFromWire(w: AclBindingWire): AclBinding {
  return {
    resourceType: nameOf(RESOURCE_TYPES, w.resourceType, 'resource type'),
    resourceName: w.resourceName,
    patternType: nameOf(PATTERN_TYPES, w.patternType, 'pattern type') as AclPatternType,
    principal: w.principal,
    host: w.host,
    operation: nameOf(OPERATIONS, w.operation, 'operation'),
    permissionType: nameOf(PERMISSION_TYPES, w.permissionType, 'permission type'),
  };
}
