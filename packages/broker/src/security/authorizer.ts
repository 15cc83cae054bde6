/**
 * The ACL authorizer (Kafka's KRaft StandardAuthorizer / StandardAuthorizerData, KIP-801), pure:
 * ACLs go in (from the broker's metadata image), `authorize(principal, host, operation, resource)`
 * answers ALLOWED or DENIED. The rules (README.md, "The decision"): super users may do anything;
 * no ACL at all on the resource means `allow.everyone.if.no.acl.found`; else a matching DENY wins
 * over a matching ALLOW, and nothing matching is a denial. An ALLOW of READ/WRITE/DELETE/ALTER
 * implies DESCRIBE and an ALLOW of ALTER_CONFIGS implies DESCRIBE_CONFIGS; a DENY implies nothing.
 *
 * The index: per resource type, LITERAL ACLs by name and PREFIXED ACLs by prefix. A lookup reads
 * the literal name, the literal `*`, and each prefix of the name (names are at most a few hundred
 * characters), so it costs O(name length + matching ACLs) however many ACLs exist.
 */
import { AclOperation, AclPatternType, AclPermissionType, type AclBinding, WILDCARD, WILDCARD_PRINCIPAL } from '@samsa/metadata';
import { type KafkaPrincipal, parsePrincipal, principalToString } from '@samsa/server';

/** Kafka's authorizer.class.name values that turn the authorizer on. */
export const AUTHORIZER_CLASS_NAMES: readonly string[] = [
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'kafka.security.authorizer.AclAuthorizer',
  'samsa',
];

export interface AuthorizerConfig {
  /** Kafka's super.users, as principals (`User:admin`). */
  readonly superUsers: readonly string[];
  /** Kafka's allow.everyone.if.no.acl.found (default false). */
  readonly allowEveryoneIfNoAclFound: boolean;
}

/** Parses Kafka's `super.users` (`User:a;User:b`); throws on an entry that is not `Type:name`. */
export function parseSuperUsers(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  return text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const p = parsePrincipal(s);
      if (p === undefined) throw new Error(`super.users entry '${s}' is not a principal of the form User:name`);
      return principalToString(p);
    });
}

/** The ALLOW operations that also allow `op` (itself, ALL, and Kafka's implying operations). */
function allowCovering(op: number): readonly number[] {
  if (op === AclOperation.DESCRIBE)
    return [AclOperation.DESCRIBE, AclOperation.ALL, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER];
  if (op === AclOperation.DESCRIBE_CONFIGS) return [AclOperation.DESCRIBE_CONFIGS, AclOperation.ALL, AclOperation.ALTER_CONFIGS];
  return [op, AclOperation.ALL];
}

interface TypeIndex {
  readonly literal: Map<string, AclBinding[]>;
  readonly prefixed: Map<string, AclBinding[]>;
}

export class StandardAuthorizer {
  private readonly superUsers: ReadonlySet<string>;
  private index = new Map<number, TypeIndex>();
  private source: readonly AclBinding[] | undefined;

  constructor(readonly config: AuthorizerConfig) {
    this.superUsers = new Set(config.superUsers);
  }

  /** Replaces every ACL. Cheap to call with the same array again (the image hands out a new array on each change). */
  setAcls(acls: readonly AclBinding[]): void {
    if (acls === this.source) return;
    this.source = acls;
    const index = new Map<number, TypeIndex>();
    for (const acl of acls) {
      let t = index.get(acl.resourceType);
      if (t === undefined) index.set(acl.resourceType, (t = { literal: new Map(), prefixed: new Map() }));
      const byName = acl.patternType === AclPatternType.PREFIXED ? t.prefixed : t.literal;
      const list = byName.get(acl.resourceName);
      if (list === undefined) byName.set(acl.resourceName, [acl]);
      else list.push(acl);
    }
    this.index = index;
  }

  isSuperUser(principal: KafkaPrincipal): boolean {
    return this.superUsers.has(principalToString(principal));
  }

  /** The ACLs that apply to a resource, for any principal. */
  private applicable(resourceType: number, resourceName: string): AclBinding[] {
    const t = this.index.get(resourceType);
    if (t === undefined) return [];
    const out: AclBinding[] = [];
    const literal = t.literal.get(resourceName);
    if (literal) out.push(...literal);
    if (resourceName !== WILDCARD) {
      const wildcard = t.literal.get(WILDCARD);
      if (wildcard) out.push(...wildcard);
    }
    if (t.prefixed.size > 0) {
      for (let end = 1; end <= resourceName.length; end++) {
        const prefixed = t.prefixed.get(resourceName.slice(0, end));
        if (prefixed) out.push(...prefixed);
      }
    }
    return out;
  }

  /**
   * May `principal`, connected from `host` (an address, no leading '/'), perform `operation` on
   * the resource? `operation` is a concrete operation (not ALL or ANY).
   */
  authorize(principal: KafkaPrincipal, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    const who = principalToString(principal);
    if (this.superUsers.has(who)) return true;
    const acls = this.applicable(resourceType, resourceName);
    if (acls.length === 0) return this.config.allowEveryoneIfNoAclFound;
    const allowOps = allowCovering(operation);
    let allowed = false;
    for (const acl of acls) {
      if (acl.principal !== who && !(acl.principal === WILDCARD_PRINCIPAL && principal.principalType === 'User')) continue;
      if (acl.host !== WILDCARD && acl.host !== host) continue;
      if (acl.permissionType === AclPermissionType.DENY) {
        if (acl.operation === operation || acl.operation === AclOperation.ALL) return false;
      } else if (acl.permissionType === AclPermissionType.ALLOW && allowOps.includes(acl.operation)) {
        allowed = true;
      }
    }
    return allowed;
  }

  /**
   * Kafka's authorizeByResourceType (KIP-679, used for idempotent produce): may the principal
   * perform `operation` on at least one resource of the type? True when some ALLOW (literal or
   * prefixed, any name) would let it and no DENY of the same scope takes it back: a literal `*`
   * DENY denies every name, a PREFIXED DENY denies the names under its prefix.
   */
  authorizeByResourceType(principal: KafkaPrincipal, host: string, operation: number, resourceType: number): boolean {
    const who = principalToString(principal);
    if (this.superUsers.has(who)) return true;
    const t = this.index.get(resourceType);
    const matches = (acl: AclBinding) =>
      (acl.principal === who || (acl.principal === WILDCARD_PRINCIPAL && principal.principalType === 'User')) &&
      (acl.host === WILDCARD || acl.host === host);
    const all = t === undefined ? [] : [...[...t.literal.values()].flat(), ...[...t.prefixed.values()].flat()];
    if (all.length === 0) return this.config.allowEveryoneIfNoAclFound;
    const denies = all.filter(
      (a) => matches(a) && a.permissionType === AclPermissionType.DENY && (a.operation === operation || a.operation === AclOperation.ALL),
    );
    if (denies.some((d) => d.patternType === AclPatternType.LITERAL && d.resourceName === WILDCARD)) return false;
    const allowOps = allowCovering(operation);
    const deniedBy = (name: string, prefixed: boolean) =>
      denies.some((d) =>
        d.patternType === AclPatternType.PREFIXED
          ? name.startsWith(d.resourceName)
          : !prefixed && d.patternType === AclPatternType.LITERAL && d.resourceName === name,
      );
    return all.some(
      (a) =>
        matches(a) &&
        a.permissionType === AclPermissionType.ALLOW &&
        allowOps.includes(a.operation) &&
        !deniedBy(a.resourceName, a.patternType === AclPatternType.PREFIXED),
    );
  }
}
