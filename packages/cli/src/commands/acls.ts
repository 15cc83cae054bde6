/**
 * `samsa acls`: kafka-acls, with Kafka's flags.
 *
 *   samsa acls --bootstrap-server H:P --add --allow-principal User:alice --operation Read --topic orders
 *   samsa acls --bootstrap-server H:P --add --deny-principal User:bob --operation Write --topic sales- --resource-pattern-type prefixed
 *   samsa acls --bootstrap-server H:P --add --allow-principal User:alice --operation Read --group g1
 *   samsa acls --bootstrap-server H:P --list [--topic orders] [--principal User:alice]
 *   samsa acls --bootstrap-server H:P --remove --allow-principal User:alice --operation Read --topic orders
 *
 * Resources: --topic, --group, --transactional-id (each repeatable) and --cluster. Every
 * principal × host × operation × resource is one ACL. --allow-host/--deny-host default to '*'.
 * --resource-pattern-type: literal (default) or prefixed for --add; also any or match for --list and
 * --remove (a --list/--remove without resources matches every resource). Output is Kafka's:
 * "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:"
 * followed by one "(principal=..., host=..., operation=..., permissionType=...)" line per ACL.
 */
import type { AclBinding, AclBindingFilter, AclOperation, AclPatternType, AclResourceType } from '@samsa/client';
import type { Command } from 'commander';
import { withClient } from '../client.js';
import { UsageError } from '../errors.js';

interface AclsOptions {
  bootstrapServer?: string;
  add?: boolean;
  remove?: boolean;
  list?: boolean;
  allowPrincipal: string[];
  denyPrincipal: string[];
  allowHost: string[];
  denyHost: string[];
  principal: string[];
  operation: string[];
  topic: string[];
  group: string[];
  transactionalId: string[];
  cluster?: boolean;
  resourcePatternType?: string;
}

const OPERATIONS: Record<string, AclOperation> = {
  all: 'all',
  read: 'read',
  write: 'write',
  create: 'create',
  delete: 'delete',
  alter: 'alter',
  describe: 'describe',
  clusteraction: 'clusterAction',
  describeconfigs: 'describeConfigs',
  alterconfigs: 'alterConfigs',
  idempotentwrite: 'idempotentWrite',
};

const collect = (value: string, previous: string[]) => [...previous, value];

/** Kafka's name for a CLI operation ('Read', 'IdempotentWrite', 'describe_configs'). */
export function parseAclOperation(text: string): AclOperation {
  const op = OPERATIONS[text.replace(/[-_]/g, '').toLowerCase()];
  if (op === undefined) throw new UsageError(`unknown --operation '${text}' (one of ${Object.keys(OPERATIONS).join(', ')})`);
  return op;
}

function checkPrincipal(p: string, flag: string): string {
  if (!/^[^:]+:.+$/.test(p)) throw new UsageError(`${flag} '${p}' is not a principal of the form User:name`);
  return p;
}

const UPPER: Record<string, string> = {
  topic: 'TOPIC',
  group: 'GROUP',
  cluster: 'CLUSTER',
  transactionalId: 'TRANSACTIONAL_ID',
  literal: 'LITERAL',
  prefixed: 'PREFIXED',
  clusterAction: 'CLUSTER_ACTION',
  describeConfigs: 'DESCRIBE_CONFIGS',
  alterConfigs: 'ALTER_CONFIGS',
  idempotentWrite: 'IDEMPOTENT_WRITE',
};
const upper = (s: string) => UPPER[s] ?? s.toUpperCase();

export function formatAcl(a: AclBinding): string {
  return `(principal=${a.principal}, host=${a.host}, operation=${upper(a.operation)}, permissionType=${upper(a.permissionType)})`;
}

/** ACLs grouped by resource pattern, in Kafka's kafka-acls --list layout. */
export function formatAclList(acls: readonly AclBinding[]): string {
  const byResource = new Map<string, AclBinding[]>();
  for (const a of acls) {
    const key = `ResourcePattern(resourceType=${upper(a.resourceType)}, name=${a.resourceName}, patternType=${upper(a.patternType)})`;
    byResource.set(key, [...(byResource.get(key) ?? []), a]);
  }
  let out = '';
  for (const [resource, list] of [...byResource].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out += `Current ACLs for resource \`${resource}\`: \n`;
    for (const a of list) out += ` \t${formatAcl(a)} \n`;
    out += '\n';
  }
  return out;
}

export function registerAcls(program: Command): void {
  program
    .command('acls')
    .option(
      '--command-config <file>',
      'client configs from a properties file: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location (PEM)',
    )
    .description('add, remove or list ACLs (kafka-acls)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--add', 'add ACLs')
    .option('--remove', 'remove ACLs')
    .option('--list', 'list ACLs')
    .option('--allow-principal <principal>', 'User:name allowed (repeatable)', collect, [])
    .option('--deny-principal <principal>', 'User:name denied (repeatable)', collect, [])
    .option('--allow-host <host>', "host the allow principals may connect from (default '*'; repeatable)", collect, [])
    .option('--deny-host <host>', "host the deny principals are denied from (default '*'; repeatable)", collect, [])
    .option('--principal <principal>', 'with --list: only ACLs of this principal (repeatable)', collect, [])
    .option(
      '--operation <op>',
      'Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All (repeatable)',
      collect,
      [],
    )
    .option('--topic <name>', 'a topic (repeatable; * for every topic)', collect, [])
    .option('--group <name>', 'a consumer group (repeatable; * for every group)', collect, [])
    .option('--transactional-id <id>', 'a transactional id (repeatable)', collect, [])
    .option('--cluster', 'the cluster resource')
    .option('--resource-pattern-type <type>', 'literal (default) or prefixed; also any or match for --list and --remove')
    .action(async (opts: AclsOptions) => {
      const actions = [opts.add, opts.remove, opts.list].filter(Boolean).length;
      if (actions !== 1) throw new UsageError('exactly one of --add, --remove or --list is required');
      const patternText = (opts.resourcePatternType ?? (opts.add ? 'literal' : opts.list ? 'any' : 'literal')).toLowerCase();
      if (!['literal', 'prefixed', 'any', 'match'].includes(patternText))
        throw new UsageError(`--resource-pattern-type must be literal, prefixed, any or match, got '${opts.resourcePatternType}'`);
      if (opts.add && (patternText === 'any' || patternText === 'match'))
        throw new UsageError('--add needs --resource-pattern-type literal or prefixed');
      const resources: Array<{ resourceType: AclResourceType; resourceName: string }> = [
        ...opts.topic.map((name) => ({ resourceType: 'topic' as const, resourceName: name })),
        ...opts.group.map((name) => ({ resourceType: 'group' as const, resourceName: name })),
        ...opts.transactionalId.map((name) => ({ resourceType: 'transactionalId' as const, resourceName: name })),
        ...(opts.cluster ? [{ resourceType: 'cluster' as const, resourceName: 'kafka-cluster' }] : []),
      ];
      for (const r of resources) if (r.resourceName === '') throw new UsageError(`--${r.resourceType} must not be empty`);
      const operations = opts.operation.map(parseAclOperation);
      const allow = opts.allowPrincipal.map((p) => checkPrincipal(p, '--allow-principal'));
      const deny = opts.denyPrincipal.map((p) => checkPrincipal(p, '--deny-principal'));

      if (opts.list) {
        const principals = opts.principal.map((p) => checkPrincipal(p, '--principal'));
        await withClient(opts.bootstrapServer, async (samsa) => {
          const admin = samsa.admin();
          const filters: AclBindingFilter[] = (resources.length === 0 ? [undefined] : resources).flatMap((r) =>
            (principals.length === 0 ? [undefined] : principals).map((principal) => ({
              ...(r === undefined ? {} : r),
              ...(patternText === 'any' ? {} : { patternType: patternText as AclPatternType | 'match' }),
              ...(principal === undefined ? {} : { principal }),
            })),
          );
          const found: AclBinding[] = [];
          const seen = new Set<string>();
          for (const f of filters) {
            for (const a of await admin.describeAcls(f)) {
              const key = JSON.stringify(a);
              if (!seen.has(key)) {
                seen.add(key);
                found.push(a);
              }
            }
          }
          process.stdout.write(formatAclList(found));
        });
        return;
      }

      if (resources.length === 0) throw new UsageError('give at least one resource: --topic, --group, --transactional-id or --cluster');
      if (allow.length + deny.length === 0) throw new UsageError('give at least one --allow-principal or --deny-principal');
      if (operations.length === 0 && opts.add) throw new UsageError('give at least one --operation');
      const allowHosts = opts.allowHost.length > 0 ? opts.allowHost : ['*'];
      const denyHosts = opts.denyHost.length > 0 ? opts.denyHost : ['*'];
      const entries = [
        ...allow.flatMap((principal) => allowHosts.map((host) => ({ principal, host, permissionType: 'allow' as const }))),
        ...deny.flatMap((principal) => denyHosts.map((host) => ({ principal, host, permissionType: 'deny' as const }))),
      ];

      await withClient(opts.bootstrapServer, async (samsa) => {
        const admin = samsa.admin();
        if (opts.add) {
          const acls: AclBinding[] = resources.flatMap((r) =>
            entries.flatMap((e) => operations.map((operation) => ({ ...r, patternType: patternText as AclPatternType, ...e, operation }))),
          );
          await admin.createAcls(acls);
          process.stdout.write(`Adding ACLs:\n${formatAclList(acls)}`);
          return;
        }
        const filters: AclBindingFilter[] = resources.flatMap((r) =>
          entries.flatMap((e) =>
            (operations.length === 0 ? [undefined] : operations).map((operation) => ({
              ...r,
              ...(patternText === 'any' ? {} : { patternType: patternText as AclPatternType | 'match' }),
              principal: e.principal,
              ...(opts.allowHost.length + opts.denyHost.length === 0 ? {} : { host: e.host }),
              permissionType: e.permissionType,
              ...(operation === undefined ? {} : { operation }),
            })),
          ),
        );
        const removed = await admin.deleteAcls(filters);
        process.stdout.write(removed.length === 0 ? 'No matching ACLs to remove.\n' : `Removed ACLs:\n${formatAclList(removed)}`);
      });
    });
}
