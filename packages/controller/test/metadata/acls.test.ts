import {
  AclOperation as Op,
  AclPatternType as Pat,
  AclPermissionType as Perm,
  AclResourceType as Res,
  type AclBinding,
  type AclBindingFilter,
} from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { QuorumController, type ControllerResult } from '../../src/metadata/index.js';

const read: AclBinding = {
  resourceType: Res.TOPIC,
  resourceName: 'orders',
  patternType: Pat.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: Op.READ,
  permissionType: Perm.ALLOW,
};
const write: AclBinding = { ...read, resourceName: 'ord', patternType: Pat.PREFIXED, operation: Op.WRITE };
const anyFilter: AclBindingFilter = {
  resourceType: Res.ANY,
  resourceName: null,
  patternType: Pat.ANY,
  principal: null,
  host: null,
  operation: Op.ANY,
  permissionType: Perm.ANY,
};

let offset = 0;
function commit<T>(c: QuorumController, result: ControllerResult<T>): T {
  for (const r of result.records) c.replay(r, ++offset);
  return result.response;
}

describe('QuorumController ACLs', () => {
  it('creates ACLs as AccessControlEntry records; creating one that exists writes nothing', () => {
    const c = new QuorumController();
    const first = c.createAcls([read, write, read]);
    expect(first.response.map((r) => r.errorCode)).toEqual([0, 0, 0]);
    expect(first.records.map((r) => r.type)).toEqual(['AccessControlEntry', 'AccessControlEntry']);
    commit(c, first);
    expect(c.image.acls()).toHaveLength(2);
    const again = c.createAcls([read]);
    expect(again.response[0]!.errorCode).toBe(0);
    expect(again.records).toEqual([]);
  });

  it('refuses an invalid binding with INVALID_REQUEST and a sentence, and still creates the valid ones', () => {
    const c = new QuorumController();
    const r = c.createAcls([{ ...read, patternType: Pat.MATCH }, { ...read, principal: 'alice' }, read]);
    expect(r.response.map((x) => x.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, 0]);
    expect('errorMessage' in r.response[0]! && r.response[0].errorMessage).toMatch(/LITERAL or PREFIXED/);
    expect(r.records).toHaveLength(1);
  });

  it('every controller derives the same records for the same request', () => {
    expect(new QuorumController().createAcls([read, write]).records).toEqual(new QuorumController().createAcls([read, write]).records);
  });

  it('deletes what each filter matches; an ACL matched by two filters is removed once and reported by both', () => {
    const c = new QuorumController();
    commit(c, c.createAcls([read, write]));
    const r = c.deleteAcls([anyFilter, { ...anyFilter, operation: Op.READ }, { ...anyFilter, principal: 'User:nobody' }]);
    expect(r.records.map((x) => x.type)).toEqual(['RemoveAccessControlEntry', 'RemoveAccessControlEntry']);
    const [all, reads, none] = r.response;
    expect(all!.errorCode === 0 && all!.deleted).toHaveLength(2);
    expect(reads!.errorCode === 0 && reads!.deleted).toEqual([read]);
    expect(none!.errorCode === 0 && none!.deleted).toEqual([]);
    commit(c, r);
    expect(c.image.acls()).toEqual([]);
  });

  it('refuses a filter with an unknown code', () => {
    const c = new QuorumController();
    const r = c.deleteAcls([{ ...anyFilter, operation: 42 }]);
    expect(r.response[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(r.records).toEqual([]);
  });

  it('ACLs survive a snapshot and its reload', () => {
    const c = new QuorumController();
    commit(c, c.createAcls([read, write]));
    const d = new QuorumController();
    d.loadSnapshot(c.image.toSnapshot(), offset, 1);
    expect(d.image.acls()).toEqual(expect.arrayContaining([read, write]));
  });
});
