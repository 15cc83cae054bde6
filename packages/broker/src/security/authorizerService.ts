/**
 * The broker's authorization entry point for request handlers of both protocols (the part of
 * Kafka's KafkaApis/AuthHelper that calls the authorizer and its audit logging): who is asking
 * (principal, client address, API), what they want (operation on a resource), and the answer.
 *
 * Off (no `authorizer.class.name`): everything is allowed, as in Kafka. On: the StandardAuthorizer
 * decides from the ACLs in the broker's metadata image, read at each check (the image hands out a
 * new ACL array when ACLs change, so the index is rebuilt only then).
 *
 * Audit (issue 19 item 4): a denial is logged at warn with principal, client address, API,
 * operation and resource, at most once per principal + resource + operation per interval; the
 * next line after a quiet interval carries how many were suppressed. Nothing from the request body
 * beyond the resource name is logged (no credentials, no record data). Time comes from `now`.
 */
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME, type AclBinding, operationName, resourceTypeName } from '@samsa/metadata';
import { ANONYMOUS, type KafkaPrincipal, principalToString } from '@samsa/server';
import type { Logger } from 'pino';
import { StandardAuthorizer, type AuthorizerConfig } from './authorizer.js';

/** Who asks: the connection's principal and address, and the API being served. */
export interface RequestIdentity {
  readonly principal: KafkaPrincipal;
  /** The client's address without Kafka's leading '/' ('127.0.0.1'). */
  readonly clientAddress: string;
  readonly api: string;
}

export const DEFAULT_AUDIT_INTERVAL_MS = 60_000;

/** Rate-limits denial lines per principal/resource/operation. Pure apart from the logger call. */
export class DenialAuditLog {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly now: () => number,
    private readonly intervalMs = DEFAULT_AUDIT_INTERVAL_MS,
  ) {}

  denied(who: RequestIdentity, operation: number, resourceType: number, resourceName: string): void {
    const principal = principalToString(who.principal);
    const key = `${principal}\0${resourceType}\0${resourceName}\0${operation}`;
    const now = this.now();
    const entry = this.lastLogged.get(key);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    // Bound the map: entries older than the interval can go, they would log again anyway.
    if (this.lastLogged.size >= 10_000) {
      for (const [k, e] of this.lastLogged) if (now - e.at >= this.intervalMs) this.lastLogged.delete(k);
    }
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    this.logger.warn(
      {
        audit: 'denied',
        principal,
        client: who.clientAddress,
        api: who.api,
        operation: operationName(operation),
        resourceType: resourceTypeName(resourceType),
        resourceName,
        ...(entry !== undefined && entry.suppressed > 0 ? { suppressedSinceLast: entry.suppressed } : {}),
      },
      'authorization denied',
    );
  }
}

export interface RequestAuthorizerOptions {
  /** Undefined: the authorizer is off, every request is allowed. */
  readonly config?: AuthorizerConfig;
  /** The current ACLs (the broker's metadata image). */
  readonly acls: () => readonly AclBinding[];
  readonly logger: Pick<Logger, 'warn'>;
  readonly now: () => number;
  readonly auditIntervalMs?: number;
}

export class RequestAuthorizer {
  private readonly authorizer: StandardAuthorizer | undefined;
  private readonly audit: DenialAuditLog;

  constructor(private readonly options: RequestAuthorizerOptions) {
    this.authorizer = options.config === undefined ? undefined : new StandardAuthorizer(options.config);
    this.audit = new DenialAuditLog(options.logger, options.now, options.auditIntervalMs);
  }

  get enabled(): boolean {
    return this.authorizer !== undefined;
  }

  private decide(who: RequestIdentity, operation: number, resourceType: number, resourceName: string): boolean {
    const a = this.authorizer;
    if (a === undefined) return true;
    a.setAcls(this.options.acls());
    return a.authorize(who.principal, who.clientAddress, operation, resourceType, resourceName);
  }

  /** May `who` do `operation` on the resource? A denial is audited (logDenial false: a filter, as Metadata's topic listing, that Kafka does not log). */
  authorize(who: RequestIdentity, operation: number, resourceType: number, resourceName: string, logDenial = true): boolean {
    const ok = this.decide(who, operation, resourceType, resourceName);
    if (!ok && logDenial) this.audit.denied(who, operation, resourceType, resourceName);
    return ok;
  }

  topic(who: RequestIdentity, operation: number, topic: string, logDenial = true): boolean {
    return this.authorize(who, operation, AclResourceType.TOPIC, topic, logDenial);
  }

  group(who: RequestIdentity, operation: number, group: string, logDenial = true): boolean {
    return this.authorize(who, operation, AclResourceType.GROUP, group, logDenial);
  }

  cluster(who: RequestIdentity, operation: number, logDenial = true): boolean {
    return this.authorize(who, operation, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, logDenial);
  }

  transactionalId(who: RequestIdentity, operation: number, transactionalId: string): boolean {
    return this.authorize(who, operation, AclResourceType.TRANSACTIONAL_ID, transactionalId);
  }

  /** Idempotent produce (KIP-679): IDEMPOTENT_WRITE on the cluster, or WRITE on any topic. */
  idempotentWrite(who: RequestIdentity): boolean {
    const a = this.authorizer;
    if (a === undefined) return true;
    if (this.cluster(who, AclOperation.IDEMPOTENT_WRITE, false)) return true;
    a.setAcls(this.options.acls());
    if (a.authorizeByResourceType(who.principal, who.clientAddress, AclOperation.WRITE, AclResourceType.TOPIC)) return true;
    this.audit.denied(who, AclOperation.IDEMPOTENT_WRITE, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
    return false;
  }
}

/** Everything allowed: the broker without `authorizer.class.name`, and tests of handlers that do not care. */
export function allowAllAuthorizer(): RequestAuthorizer {
  return new RequestAuthorizer({ acls: () => [], logger: { warn: () => {} }, now: () => 0 });
}

/** The identity of a request from a connection that has not authenticated. */
export function anonymousIdentity(clientAddress: string, api: string): RequestIdentity {
  return { principal: ANONYMOUS, clientAddress, api };
}
