import { describe, expect, it } from 'vitest';
import {
  AclOperation as Op,
  AclPatternType as Pat,
  AclPermissionType as Perm,
  AclResourceType as Res,
  MetadataImage,
  MetadataReplayError,
  aclBindingProblem,
  aclFilterMatches,
  aclFilterProblem,
  parseOperation,
  type AclBinding,
  type AclBindingFilter,
} from '../src/index.js';

const readOrders: AclBinding = {
  resourceType: Res.TOPIC,
  resourceName: 'orders',
  patternType: Pat.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: Op.READ,
  permissionType: Perm.ALLOW,
};
const prefixOrd: AclBinding = { ...readOrders, resourceName: 'ord', patternType: Pat.PREFIXED };
const wildcard: AclBinding = { ...readOrders, resourceName: '*' };
const any: AclBindingFilter = {
  resourceType: Res.ANY,
  resourceName: null,
  patternType: Pat.ANY,
  principal: null,
  host: null,
  operation: Op.ANY,
  permissionType: Perm.ANY,
};

describe('ACL bindings and filters', () => {
  it('the ANY filter matches every binding', () => {
    for (const b of [readOrders, prefixOrd, wildcard]) expect(aclFilterMatches(any, b)).toBe(true);
  });

  it('a LITERAL or PREFIXED filter matches bindings of exactly that pattern and name', () => {
    const lit = { ...any, resourceName: 'orders', patternType: Pat.LITERAL };
    expect([readOrders, prefixOrd, wildcard].map((b) => aclFilterMatches(lit, b))).toEqual([true, false, false]);
    const pre = { ...any, resourceName: 'ord', patternType: Pat.PREFIXED };
    expect([readOrders, prefixOrd, wildcard].map((b) => aclFilterMatches(pre, b))).toEqual([false, true, false]);
    const anyNamed = { ...any, resourceName: 'ord' };
    expect([readOrders, prefixOrd, wildcard].map((b) => aclFilterMatches(anyNamed, b))).toEqual([false, true, false]);
  });

  it('MATCH matches every binding that applies to the named resource', () => {
    const match = { ...any, resourceName: 'orders', patternType: Pat.MATCH };
    expect([readOrders, prefixOrd, wildcard].map((b) => aclFilterMatches(match, b))).toEqual([true, true, true]);
    const other = { ...any, resourceName: 'payments', patternType: Pat.MATCH };
    expect([readOrders, prefixOrd, wildcard].map((b) => aclFilterMatches(other, b))).toEqual([false, false, true]);
  });

  it('principal, host, operation and permission filters match exactly', () => {
    expect(aclFilterMatches({ ...any, principal: 'User:bob' }, readOrders)).toBe(false);
    expect(aclFilterMatches({ ...any, host: '10.0.0.1' }, readOrders)).toBe(false);
    expect(aclFilterMatches({ ...any, operation: Op.WRITE }, readOrders)).toBe(false);
    expect(aclFilterMatches({ ...any, permissionType: Perm.DENY }, readOrders)).toBe(false);
    expect(aclFilterMatches({ ...any, resourceType: Res.GROUP }, readOrders)).toBe(false);
  });

  it('refuses bindings Kafka refuses, with a sentence', () => {
    expect(aclBindingProblem(readOrders)).toBeUndefined();
    expect(aclBindingProblem({ ...readOrders, patternType: Pat.MATCH })).toMatch(/LITERAL or PREFIXED/);
    expect(aclBindingProblem({ ...readOrders, resourceType: Res.ANY })).toMatch(/resource type ANY/);
    expect(aclBindingProblem({ ...readOrders, principal: 'alice' })).toMatch(/Type:name/);
    expect(aclBindingProblem({ ...readOrders, resourceName: '' })).toMatch(/empty/);
    expect(aclBindingProblem({ ...readOrders, operation: Op.CLUSTER_ACTION })).toMatch(/not valid for resource type TOPIC/);
    expect(aclBindingProblem({ ...readOrders, resourceType: Res.CLUSTER, operation: Op.ALTER })).toMatch(/kafka-cluster/);
    expect(aclBindingProblem({ ...readOrders, permissionType: Perm.ANY })).toMatch(/ALLOW or DENY/);
    expect(aclFilterProblem({ ...any, operation: 99 })).toMatch(/unknown operation/);
    expect(aclFilterProblem(any)).toBeUndefined();
  });

  it("parses Kafka's operation names in any case", () => {
    expect(parseOperation('Read')).toBe(Op.READ);
    expect(parseOperation('IdempotentWrite')).toBe(Op.IDEMPOTENT_WRITE);
    expect(parseOperation('describe_configs')).toBe(Op.DESCRIBE_CONFIGS);
    expect(parseOperation('fly')).toBeUndefined();
  });
});

describe('ACLs in the metadata image', () => {
  it('replays AccessControlEntry and RemoveAccessControlEntry, and snapshots them', () => {
    const image = new MetadataImage();
    const before = image.acls();
    const delta = image.replay({ type: 'AccessControlEntry', id: 'x1', ...readOrders }, 1);
    expect(delta.aclsChanged).toBe(true);
    image.replay({ type: 'AccessControlEntry', id: 'x2', ...prefixOrd }, 2);
    const after = image.acls();
    expect(after).not.toBe(before);
    expect(image.acls()).toBe(after);
    expect(after).toHaveLength(2);
    const restored = MetadataImage.fromSnapshot(image.toSnapshot(), 2);
    expect(restored.acls()).toEqual(expect.arrayContaining([readOrders, prefixOrd]));
    image.replay({ type: 'RemoveAccessControlEntry', id: 'x1' }, 3);
    expect(image.acls()).toEqual([prefixOrd]);
  });

  it('refuses an invalid or duplicate ACL and an unknown removal, leaving the image unchanged', () => {
    const image = new MetadataImage();
    image.replay({ type: 'AccessControlEntry', id: 'x1', ...readOrders }, 1);
    expect(() => image.replay({ type: 'AccessControlEntry', id: 'x1', ...prefixOrd }, 2)).toThrow(MetadataReplayError);
    expect(() => image.replay({ type: 'AccessControlEntry', id: 'x3', ...readOrders, patternType: Pat.ANY }, 2)).toThrow(
      MetadataReplayError,
    );
    expect(() => image.replay({ type: 'RemoveAccessControlEntry', id: 'nope' }, 2)).toThrow(MetadataReplayError);
    expect(image.acls()).toEqual([readOrders]);
  });
});
