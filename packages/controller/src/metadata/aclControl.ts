/**
 * The controller's ACL logic (Kafka's AclControlManager, KIP-801): CreateAcls validates each
 * binding and proposes an AccessControlEntry record; DeleteAcls proposes a
 * RemoveAccessControlEntry for every stored binding a filter matches. Pure: image in, records and
 * answers out.
 *
 * An ACL's id is a hash of its binding, so every controller derives the same id, and creating an
 * ACL that exists (or twice in one request) proposes nothing and succeeds, as in Kafka.
 */
import { createHash } from 'node:crypto';
import {
  aclBindingKey,
  aclBindingProblem,
  aclFilterMatches,
  aclFilterProblem,
  type AclBinding,
  type AclBindingFilter,
  type MetadataImage,
  type MetadataRecord,
} from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import type { ControllerResult, Outcome } from './controller.js';

export type CreateAclResult = Outcome<{}>;
export type DeleteAclsFilterResult = Outcome<{ readonly deleted: readonly AclBinding[] }>;

/** Upper bound on one request, so bad input cannot make the controller build millions of records. */
export const MAX_ACLS_PER_REQUEST = 10_000;

export function aclId(binding: AclBinding): string {
  return createHash('sha256').update(aclBindingKey(binding)).digest('hex').slice(0, 32);
}

function binding(b: AclBinding): AclBinding {
  return {
    resourceType: b.resourceType,
    resourceName: b.resourceName,
    patternType: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permissionType: b.permissionType,
  };
}

export function createAcls(image: MetadataImage, creations: readonly AclBinding[]): ControllerResult<CreateAclResult[]> {
  if (creations.length > MAX_ACLS_PER_REQUEST) {
    const tooMany = {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `at most ${MAX_ACLS_PER_REQUEST} ACLs per request, got ${creations.length}`,
    } as const;
    return { response: creations.map(() => tooMany), records: [] };
  }
  const records: MetadataRecord[] = [];
  const proposed = new Set<string>();
  const response = creations.map((c): CreateAclResult => {
    const b = binding(c);
    const problem = aclBindingProblem(b);
    if (problem !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
    const id = aclId(b);
    if (image.acl(id) === undefined && !proposed.has(id)) {
      proposed.add(id);
      records.push({ type: 'AccessControlEntry', id, ...b });
    }
    return { errorCode: ErrorCode.NONE };
  });
  return { response, records };
}

export function deleteAcls(image: MetadataImage, filters: readonly AclBindingFilter[]): ControllerResult<DeleteAclsFilterResult[]> {
  const records: MetadataRecord[] = [];
  const removed = new Set<string>();
  const response = filters.map((filter): DeleteAclsFilterResult => {
    const problem = aclFilterProblem(filter);
    if (problem !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
    const deleted: AclBinding[] = [];
    for (const id of image.aclIds()) {
      const acl = image.acl(id)!;
      if (!aclFilterMatches(filter, acl)) continue;
      deleted.push(acl);
      // Two filters may match the same ACL: it is reported by both and removed once.
      if (!removed.has(id)) {
        removed.add(id);
        records.push({ type: 'RemoveAccessControlEntry', id });
      }
    }
    return { errorCode: ErrorCode.NONE, deleted };
  });
  return { response, records };
}
