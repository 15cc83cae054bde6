/**
 * The ACL APIs over the Kafka wire protocol (Kafka's KafkaApis.handleDescribeAcls /
 * handleCreateAcls / handleDeleteAcls with AclApis, KIP-140, pattern types KIP-290):
 * DescribeAcls is answered from this broker's metadata image; CreateAcls and DeleteAcls are
 * forwarded to the active controller (which validates and writes the records) and answered once
 * this broker's image shows the change.
 *
 * Authorization: DescribeAcls needs DESCRIBE on the cluster, CreateAcls and DeleteAcls ALTER on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED otherwise). With no authorizer configured Kafka answers
 * SECURITY_DISABLED; Samsa still stores ACLs then (so they can be set up before the authorizer is
 * switched on), which is what the KRaft controller does too.
 */
import { ApiKey } from '@samsa/kafka';
import {
  AclOperation,
  AclPatternType,
  aclFilterMatches,
  aclFilterProblem,
  compareStrings,
  type AclBinding,
  type AclBindingFilter,
} from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import type { MetadataSource } from '../metadata/image.js';
import type { RequestAuthorizer } from '../security/authorizerService.js';
import { type KafkaApiHandler } from './kafkaApis.js';

export interface AclApisDeps {
  metadata: MetadataSource;
  authorizer: RequestAuthorizer;
}

type Str = string | null | undefined;

interface DescribeAclsRequest {
  resourceTypeFilter: number;
  resourceNameFilter: Str;
  patternTypeFilter?: number;
  principalFilter: Str;
  hostFilter: Str;
  operation: number;
  permissionType: number;
}
interface CreateAclsRequest {
  creations: Array<{
    resourceType: number;
    resourceName: string;
    resourcePatternType?: number;
    principal: string;
    host: string;
    operation: number;
    permissionType: number;
  }>;
}
interface DeleteAclsRequest {
  filters: Array<{
    resourceTypeFilter: number;
    resourceNameFilter: Str;
    patternTypeFilter?: number;
    principalFilter: Str;
    hostFilter: Str;
    operation: number;
    permissionType: number;
  }>;
}

const CLUSTER_DENIED = 'Cluster authorization failed: this ACL operation needs it on the cluster';

/** The ACLs a filter matches, grouped by resource pattern as DescribeAcls answers them. */
export function describeAcls(acls: readonly AclBinding[], filter: AclBindingFilter) {
  const byResource = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: AclBinding[] }>();
  for (const acl of acls) {
    if (!aclFilterMatches(filter, acl)) continue;
    const key = JSON.stringify([acl.resourceType, acl.patternType, acl.resourceName]);
    let entry = byResource.get(key);
    if (entry === undefined)
      byResource.set(
        key,
        (entry = { resourceType: acl.resourceType, resourceName: acl.resourceName, patternType: acl.patternType, acls: [] }),
      );
    entry.acls.push(acl);
  }
  const out = [...byResource.values()];
  out.sort((a, b) => a.resourceType - b.resourceType || a.patternType - b.patternType || compareStrings(a.resourceName, b.resourceName));
  return out;
}

export function aclApis(deps: AclApisDeps): KafkaApiHandler[] {
  const { metadata, authorizer } = deps;
  // Before v1 every pattern was LITERAL.
  const patternOf = (version: number, given: number | undefined) => (version >= 1 && given !== undefined ? given : AclPatternType.LITERAL);

  const describe: KafkaApiHandler = {
    apiKey: ApiKey.DescribeAcls,
    minVersion: 0,
    maxVersion: 3,
    handle(req: DescribeAclsRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.DESCRIBE))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: CLUSTER_DENIED, resources: [] };
      const filter: AclBindingFilter = {
        resourceType: req.resourceTypeFilter,
        resourceName: req.resourceNameFilter ?? null,
        patternType: patternOf(ctx.header.apiVersion, req.patternTypeFilter),
        principal: req.principalFilter ?? null,
        host: req.hostFilter ?? null,
        operation: req.operation,
        permissionType: req.permissionType,
      };
      const problem = aclFilterProblem(filter);
      if (problem !== undefined) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, resources: [] };
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        resources: describeAcls(metadata.acls(), filter).map((r) => ({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          patternType: r.patternType,
          acls: r.acls.map((a) => ({ principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType })),
        })),
      };
    },
  };

  const create: KafkaApiHandler = {
    apiKey: ApiKey.CreateAcls,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: CreateAclsRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.ALTER)) {
        return {
          throttleTimeMs: 0,
          results: req.creations.map(() => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: CLUSTER_DENIED })),
        };
      }
      const results = await metadata.createAcls(
        req.creations.map((c) => ({
          resourceType: c.resourceType,
          resourceName: c.resourceName,
          patternType: patternOf(ctx.header.apiVersion, c.resourcePatternType),
          principal: c.principal,
          host: c.host,
          operation: c.operation,
          permissionType: c.permissionType,
        })),
      );
      return {
        throttleTimeMs: 0,
        results: results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorCode === 0 ? null : r.errorMessage })),
      };
    },
  };

  const remove: KafkaApiHandler = {
    apiKey: ApiKey.DeleteAcls,
    minVersion: 0,
    maxVersion: 3,
    async handle(req: DeleteAclsRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.ALTER)) {
        return {
          throttleTimeMs: 0,
          filterResults: req.filters.map(() => ({
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            errorMessage: CLUSTER_DENIED,
            matchingAcls: [],
          })),
        };
      }
      const results = await metadata.deleteAcls(
        req.filters.map((f) => ({
          resourceType: f.resourceTypeFilter,
          resourceName: f.resourceNameFilter ?? null,
          patternType: patternOf(ctx.header.apiVersion, f.patternTypeFilter),
          principal: f.principalFilter ?? null,
          host: f.hostFilter ?? null,
          operation: f.operation,
          permissionType: f.permissionType,
        })),
      );
      return {
        throttleTimeMs: 0,
        filterResults: results.map((r) => ({
          errorCode: r.errorCode,
          errorMessage: r.errorCode === 0 ? null : r.errorMessage,
          matchingAcls: r.deleted.map((a) => ({ errorCode: 0, errorMessage: null, ...a })),
        })),
      };
    },
  };

  return [describe, create, remove];
}
