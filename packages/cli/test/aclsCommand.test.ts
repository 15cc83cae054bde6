import { describe, expect, it } from 'vitest';
import { formatAclList, parseAclOperation } from '../src/commands/acls.js';
import { UsageError } from '../src/errors.js';

describe('samsa acls formatting', () => {
  it("parses kafka-acls operation names in Kafka's spellings", () => {
    expect(parseAclOperation('Read')).toBe('read');
    expect(parseAclOperation('IdempotentWrite')).toBe('idempotentWrite');
    expect(parseAclOperation('DESCRIBE_CONFIGS')).toBe('describeConfigs');
    expect(() => parseAclOperation('Fly')).toThrow(UsageError);
  });

  it("prints ACLs grouped by resource pattern, in kafka-acls' layout", () => {
    const out = formatAclList([
      {
        resourceType: 'topic',
        resourceName: 'orders',
        patternType: 'literal',
        principal: 'User:alice',
        host: '*',
        operation: 'read',
        permissionType: 'allow',
      },
      {
        resourceType: 'topic',
        resourceName: 'orders',
        patternType: 'literal',
        principal: 'User:bob',
        host: '10.0.0.1',
        operation: 'clusterAction',
        permissionType: 'deny',
      },
      {
        resourceType: 'group',
        resourceName: 'g',
        patternType: 'prefixed',
        principal: 'User:alice',
        host: '*',
        operation: 'read',
        permissionType: 'allow',
      },
    ]);
    expect(out).toBe(
      'Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=g, patternType=PREFIXED)`: \n' +
        ' \t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW) \n\n' +
        'Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: \n' +
        ' \t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW) \n' +
        ' \t(principal=User:bob, host=10.0.0.1, operation=CLUSTER_ACTION, permissionType=DENY) \n\n',
    );
  });
});
