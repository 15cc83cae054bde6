import {
  AclOperation as Op,
  AclPatternType as Pat,
  AclPermissionType as Perm,
  AclResourceType as Res,
  type AclBinding,
} from '@samsa/metadata';
import { ANONYMOUS, type KafkaPrincipal } from '@samsa/server';
import { describe, expect, it } from 'vitest';
import { parseSuperUsers, StandardAuthorizer } from '../../src/security/authorizer.js';
import { DenialAuditLog, RequestAuthorizer } from '../../src/security/authorizerService.js';

const alice: KafkaPrincipal = { principalType: 'User', name: 'alice' };
const bob: KafkaPrincipal = { principalType: 'User', name: 'bob' };

function acl(
  resourceType: number,
  resourceName: string,
  patternType: number,
  principal: string,
  operation: number,
  permissionType: number,
  host = '*',
): AclBinding {
  return { resourceType, resourceName, patternType, principal, host, operation, permissionType };
}

function authz(acls: AclBinding[], opts: { superUsers?: string[]; allowEveryone?: boolean } = {}): StandardAuthorizer {
  const a = new StandardAuthorizer({ superUsers: opts.superUsers ?? [], allowEveryoneIfNoAclFound: opts.allowEveryone ?? false });
  a.setAcls(acls);
  return a;
}

describe('StandardAuthorizer decision table', () => {
  it('denies by default when no ACL exists for the resource', () => {
    expect(authz([]).authorize(alice, '127.0.0.1', Op.READ, Res.TOPIC, 'orders')).toBe(false);
  });

  it('allows everyone when no ACL exists for the resource and allow.everyone.if.no.acl.found is set', () => {
    const a = authz([acl(Res.TOPIC, 'other', Pat.LITERAL, 'User:bob', Op.READ, Perm.ALLOW)], { allowEveryone: true });
    expect(a.authorize(alice, '127.0.0.1', Op.READ, Res.TOPIC, 'orders')).toBe(true);
  });

  it('does not allow everyone once the resource has an ACL for someone else (KAFKA-14435)', () => {
    const a = authz([acl(Res.TOPIC, 'orders', Pat.LITERAL, 'User:bob', Op.READ, Perm.ALLOW)], { allowEveryone: true });
    expect(a.authorize(alice, '127.0.0.1', Op.READ, Res.TOPIC, 'orders')).toBe(false);
    expect(a.authorize(bob, '127.0.0.1', Op.READ, Res.TOPIC, 'orders')).toBe(true);
  });

  it('a literal ALLOW allows only that operation, principal and name', () => {
    const a = authz([acl(Res.TOPIC, 'orders', Pat.LITERAL, 'User:alice', Op.READ, Perm.ALLOW)]);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'orders')).toBe(true);
    expect(a.authorize(alice, 'h', Op.WRITE, Res.TOPIC, 'orders')).toBe(false);
    expect(a.authorize(bob, 'h', Op.READ, Res.TOPIC, 'orders')).toBe(false);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'orders2')).toBe(false);
    expect(a.authorize(alice, 'h', Op.READ, Res.GROUP, 'orders')).toBe(false);
  });

  it('DENY wins over ALLOW, whatever the pattern', () => {
    const a = authz([
      acl(Res.TOPIC, 'orders', Pat.LITERAL, 'User:alice', Op.ALL, Perm.ALLOW),
      acl(Res.TOPIC, 'ord', Pat.PREFIXED, 'User:alice', Op.WRITE, Perm.DENY),
    ]);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'orders')).toBe(true);
    expect(a.authorize(alice, 'h', Op.WRITE, Res.TOPIC, 'orders')).toBe(false);
  });

  it('a DENY for User:* denies a principal that has its own ALLOW', () => {
    const a = authz([
      acl(Res.TOPIC, 'orders', Pat.LITERAL, 'User:alice', Op.READ, Perm.ALLOW),
      acl(Res.TOPIC, '*', Pat.LITERAL, 'User:*', Op.READ, Perm.DENY),
    ]);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'orders')).toBe(false);
  });

  it('PREFIXED matches names starting with the prefix only', () => {
    const a = authz([acl(Res.TOPIC, 'sales-', Pat.PREFIXED, 'User:alice', Op.READ, Perm.ALLOW)]);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'sales-eu')).toBe(true);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'sales-')).toBe(true);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'sales')).toBe(false);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'presales-eu')).toBe(false);
  });

  it('the literal * matches every name; a PREFIXED * matches only names starting with *', () => {
    const a = authz([
      acl(Res.GROUP, '*', Pat.LITERAL, 'User:alice', Op.READ, Perm.ALLOW),
      acl(Res.TOPIC, '*', Pat.PREFIXED, 'User:alice', Op.READ, Perm.ALLOW),
    ]);
    expect(a.authorize(alice, 'h', Op.READ, Res.GROUP, 'any-group')).toBe(true);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 'orders')).toBe(false);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, '*orders')).toBe(true);
  });

  it('User:* matches every user', () => {
    const a = authz([acl(Res.TOPIC, 'orders', Pat.LITERAL, 'User:*', Op.WRITE, Perm.ALLOW)]);
    expect(a.authorize(alice, 'h', Op.WRITE, Res.TOPIC, 'orders')).toBe(true);
    expect(a.authorize(ANONYMOUS, 'h', Op.WRITE, Res.TOPIC, 'orders')).toBe(true);
  });

  it('super users may do everything, even against a DENY', () => {
    const a = authz([acl(Res.CLUSTER, 'kafka-cluster', Pat.LITERAL, 'User:*', Op.ALL, Perm.DENY)], { superUsers: ['User:alice'] });
    expect(a.authorize(alice, 'h', Op.ALTER, Res.CLUSTER, 'kafka-cluster')).toBe(true);
    expect(a.authorize(bob, 'h', Op.ALTER, Res.CLUSTER, 'kafka-cluster')).toBe(false);
  });

  it('READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS', () => {
    for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) {
      const a = authz([acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', op, Perm.ALLOW)]);
      expect(a.authorize(alice, 'h', Op.DESCRIBE, Res.TOPIC, 't')).toBe(true);
      expect(a.authorize(alice, 'h', Op.DESCRIBE_CONFIGS, Res.TOPIC, 't')).toBe(false);
    }
    const a = authz([acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.ALTER_CONFIGS, Perm.ALLOW)]);
    expect(a.authorize(alice, 'h', Op.DESCRIBE_CONFIGS, Res.TOPIC, 't')).toBe(true);
    expect(a.authorize(alice, 'h', Op.DESCRIBE, Res.TOPIC, 't')).toBe(false);
    const c = authz([acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.CREATE, Perm.ALLOW)]);
    expect(c.authorize(alice, 'h', Op.DESCRIBE, Res.TOPIC, 't')).toBe(false);
  });

  it('a DENY implies nothing: DENY READ leaves DESCRIBE (from ALLOW WRITE) allowed', () => {
    const a = authz([
      acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.WRITE, Perm.ALLOW),
      acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.READ, Perm.DENY),
    ]);
    expect(a.authorize(alice, 'h', Op.DESCRIBE, Res.TOPIC, 't')).toBe(true);
    expect(a.authorize(alice, 'h', Op.READ, Res.TOPIC, 't')).toBe(false);
  });

  it('ALL allows and denies every operation', () => {
    const a = authz([acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.ALL, Perm.ALLOW)]);
    for (const op of [Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS])
      expect(a.authorize(alice, 'h', op, Res.TOPIC, 't')).toBe(true);
    const d = authz([
      acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.ALL, Perm.ALLOW),
      acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.ALL, Perm.DENY),
    ]);
    expect(d.authorize(alice, 'h', Op.DESCRIBE, Res.TOPIC, 't')).toBe(false);
  });

  it('matches the host exactly or by *', () => {
    const a = authz([
      acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.READ, Perm.ALLOW, '10.0.0.1'),
      acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.READ, Perm.DENY, '10.0.0.2'),
      acl(Res.TOPIC, 't', Pat.LITERAL, 'User:alice', Op.WRITE, Perm.ALLOW, '*'),
    ]);
    expect(a.authorize(alice, '10.0.0.1', Op.READ, Res.TOPIC, 't')).toBe(true);
    expect(a.authorize(alice, '10.0.0.3', Op.READ, Res.TOPIC, 't')).toBe(false);
    expect(a.authorize(alice, '10.0.0.2', Op.READ, Res.TOPIC, 't')).toBe(false);
    expect(a.authorize(alice, '10.0.0.9', Op.WRITE, Res.TOPIC, 't')).toBe(true);
  });

  it('idempotent write by resource type: WRITE on some topic, unless a wildcard or covering prefix DENY takes it back', () => {
    const a = authz([acl(Res.TOPIC, 'orders', Pat.LITERAL, 'User:alice', Op.WRITE, Perm.ALLOW)]);
    expect(a.authorizeByResourceType(alice, 'h', Op.WRITE, Res.TOPIC)).toBe(true);
    expect(a.authorizeByResourceType(bob, 'h', Op.WRITE, Res.TOPIC)).toBe(false);
    const d = authz([
      acl(Res.TOPIC, 'ord', Pat.PREFIXED, 'User:alice', Op.WRITE, Perm.ALLOW),
      acl(Res.TOPIC, 'o', Pat.PREFIXED, 'User:alice', Op.WRITE, Perm.DENY),
    ]);
    expect(d.authorizeByResourceType(alice, 'h', Op.WRITE, Res.TOPIC)).toBe(false);
    const w = authz([
      acl(Res.TOPIC, 'orders', Pat.LITERAL, 'User:alice', Op.WRITE, Perm.ALLOW),
      acl(Res.TOPIC, '*', Pat.LITERAL, 'User:alice', Op.WRITE, Perm.DENY),
    ]);
    expect(w.authorizeByResourceType(alice, 'h', Op.WRITE, Res.TOPIC)).toBe(false);
  });

  it('parses super.users and refuses an entry without a type', () => {
    expect(parseSuperUsers('User:admin; User:broker ;')).toEqual(['User:admin', 'User:broker']);
    expect(parseSuperUsers(undefined)).toEqual([]);
    expect(() => parseSuperUsers('admin')).toThrow(/User:name/);
  });
});

// ---- seeded model test: the indexed authorizer against a naive reading of the rules ----

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function naive(
  acls: AclBinding[],
  superUsers: string[],
  allowEveryone: boolean,
  principal: KafkaPrincipal,
  host: string,
  op: number,
  resourceType: number,
  name: string,
): boolean {
  const who = `${principal.principalType}:${principal.name}`;
  if (superUsers.includes(who)) return true;
  const onResource = acls.filter(
    (a) =>
      a.resourceType === resourceType &&
      ((a.patternType === Pat.LITERAL && (a.resourceName === name || a.resourceName === '*')) ||
        (a.patternType === Pat.PREFIXED && name.startsWith(a.resourceName))),
  );
  if (onResource.length === 0) return allowEveryone;
  const mine = onResource.filter((a) => (a.principal === who || a.principal === 'User:*') && (a.host === '*' || a.host === host));
  if (mine.some((a) => a.permissionType === Perm.DENY && (a.operation === op || a.operation === Op.ALL))) return false;
  const implies = (granted: number): boolean => {
    if (granted === op || granted === Op.ALL) return true;
    if (op === Op.DESCRIBE) return [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER].includes(granted as 3);
    if (op === Op.DESCRIBE_CONFIGS) return granted === Op.ALTER_CONFIGS;
    return false;
  };
  return mine.some((a) => a.permissionType === Perm.ALLOW && implies(a.operation));
}

describe('StandardAuthorizer against a naive reference (seeded)', () => {
  const names = ['*', 'a', 'ab', 'abc', 'abd', 'b', 'ba', ''];
  const principals = ['User:alice', 'User:bob', 'User:*', 'User:ANONYMOUS'];
  const hosts = ['*', '127.0.0.1', '10.0.0.1'];
  const ops = [Op.ALL, Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS];
  const types = [Res.TOPIC, Res.GROUP];
  for (const seed of [1, 2, 3, 42, 1234, 99991]) {
    it(`agrees on 2000 random decisions (seed ${seed})`, () => {
      const rnd = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      for (let round = 0; round < 20; round++) {
        const acls: AclBinding[] = [];
        const n = Math.floor(rnd() * 8);
        for (let i = 0; i < n; i++) {
          const name = pick(names.filter((x) => x !== ''));
          acls.push(
            acl(
              pick(types),
              name,
              rnd() < 0.5 ? Pat.LITERAL : Pat.PREFIXED,
              pick(principals),
              pick(ops),
              rnd() < 0.3 ? Perm.DENY : Perm.ALLOW,
              pick(hosts),
            ),
          );
        }
        const superUsers = rnd() < 0.2 ? ['User:bob'] : [];
        const allowEveryone = rnd() < 0.3;
        const a = authz(acls, { superUsers, allowEveryone });
        for (let q = 0; q < 100; q++) {
          const principalText = pick(principals.filter((p) => p !== 'User:*'));
          const principal = { principalType: 'User', name: principalText.slice(5) };
          const host = pick(hosts.filter((h) => h !== '*'));
          const op = pick(ops.filter((o) => o !== Op.ALL));
          const type = pick(types);
          const name = pick(names.filter((x) => x !== '*'));
          const expected = naive(acls, superUsers, allowEveryone, principal, host, op, type, name);
          const actual = a.authorize(principal, host, op, type, name);
          if (actual !== expected) {
            throw new Error(
              `seed ${seed} round ${round}: ${principalText}@${host} op ${op} on ${type}:${name} gave ${actual}, expected ${expected}; acls ${JSON.stringify(acls)}`,
            );
          }
        }
      }
    });
  }
});

describe('denial audit', () => {
  it('logs a denial once per principal/resource/operation per interval, then with the suppressed count', () => {
    const lines: Array<Record<string, unknown>> = [];
    let now = 1_000;
    const log = new DenialAuditLog({ warn: ((obj: Record<string, unknown>) => lines.push(obj)) as never }, () => now, 60_000);
    const who = { principal: alice, clientAddress: '127.0.0.1', api: 'Produce' };
    log.denied(who, Op.WRITE, Res.TOPIC, 'orders');
    log.denied(who, Op.WRITE, Res.TOPIC, 'orders');
    log.denied(who, Op.WRITE, Res.TOPIC, 'orders');
    log.denied(who, Op.READ, Res.TOPIC, 'orders');
    log.denied({ ...who, principal: bob }, Op.WRITE, Res.TOPIC, 'orders');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      audit: 'denied',
      principal: 'User:alice',
      client: '127.0.0.1',
      api: 'Produce',
      operation: 'WRITE',
      resourceType: 'TOPIC',
      resourceName: 'orders',
    });
    now += 60_000;
    log.denied(who, Op.WRITE, Res.TOPIC, 'orders');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ principal: 'User:alice', suppressedSinceLast: 2 });
  });

  it('RequestAuthorizer: off allows all; on decides from the current ACLs and audits denials', () => {
    const lines: unknown[] = [];
    let acls: AclBinding[] = [];
    const r = new RequestAuthorizer({
      config: { superUsers: [], allowEveryoneIfNoAclFound: false },
      acls: () => acls,
      logger: { warn: ((o: unknown) => lines.push(o)) as never },
      now: () => 0,
    });
    const who = { principal: ANONYMOUS, clientAddress: '127.0.0.1', api: 'Fetch' };
    expect(r.topic(who, Op.READ, 'orders')).toBe(false);
    expect(lines).toHaveLength(1);
    acls = [acl(Res.TOPIC, 'ord', Pat.PREFIXED, 'User:ANONYMOUS', Op.READ, Perm.ALLOW)];
    expect(r.topic(who, Op.READ, 'orders')).toBe(true);
    expect(r.topic(who, Op.DESCRIBE, 'other', false)).toBe(false);
    expect(lines).toHaveLength(1);
    const off = new RequestAuthorizer({ acls: () => [], logger: { warn: () => {} }, now: () => 0 });
    expect(off.enabled).toBe(false);
    expect(off.topic(who, Op.WRITE, 'x')).toBe(true);
  });
});
