import { describe, expect, it } from 'vitest';
import { aclFilterToWire, aclFromWire, aclToWire, type AclBinding } from '../src/admin/acls.js';
import { InvalidRequestError } from '../src/errors.js';

describe('SDK ACL conversion', () => {
  it("round-trips a binding through Kafka's wire codes", () => {
    const b: AclBinding = {
      resourceType: 'transactionalId',
      resourceName: 'tx-',
      patternType: 'prefixed',
      principal: 'User:alice',
      host: '10.0.0.1',
      operation: 'idempotentWrite',
      permissionType: 'deny',
    };
    const wire = aclToWire(b);
    expect(wire).toEqual({
      resourceType: 5,
      resourceName: 'tx-',
      patternType: 4,
      principal: 'User:alice',
      host: '10.0.0.1',
      operation: 12,
      permissionType: 2,
    });
    expect(aclFromWire(wire)).toEqual(b);
  });

  it('an empty filter is ANY everywhere and empty strings (the wire form of "any")', () => {
    expect(aclFilterToWire({})).toEqual({
      resourceType: 1,
      resourceName: '',
      patternType: 1,
      principal: '',
      host: '',
      operation: 1,
      permissionType: 1,
    });
    expect(aclFilterToWire({ patternType: 'match', resourceName: 'orders' })).toMatchObject({ patternType: 2, resourceName: 'orders' });
  });

  it('refuses unknown names with InvalidRequestError', () => {
    expect(() =>
      aclToWire({
        resourceType: 'topic',
        resourceName: 't',
        patternType: 'literal',
        principal: 'User:a',
        host: '*',
        operation: 'fly' as never,
        permissionType: 'allow',
      }),
    ).toThrow(InvalidRequestError);
    expect(() =>
      aclFromWire({ resourceType: 99, resourceName: 't', patternType: 3, principal: 'User:a', host: '*', operation: 3, permissionType: 3 }),
    ).toThrow(/unknown ACL resource type/);
  });
});
