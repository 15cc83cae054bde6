/**
 * `samsa schema-registry`: runs one instance of the Confluent-compatible schema registry
 * (@samsa/registry) against a Samsa cluster, like Confluent's `schema-registry-start`
 * (`--listeners` mirrors its `listeners` setting, `--bootstrap-server` its
 * `kafkastore.bootstrap.servers`); `samsa schema-registry codegen` prints TypeScript types for a
 * subject's Avro schema. `samsa schemas` is a command-line client of the registry's HTTP API.
 * Security mirrors Confluent's settings: `--ssl-keystore-location` & co. for an https listener,
 * `--authentication-method BASIC` with a users file; clients pass `--basic-auth-user-info` and
 * `--schema-registry-ca` (its `schema.registry.ssl.truststore.location`, PEM).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import type { Logger } from '@samsa/client';
import {
  avroToTypeScript,
  basicAuthHeader,
  loadUsersFile,
  nodeFetch,
  parseSslClientAuthentication,
  parseUserInfo,
  startSchemaRegistryServer,
} from '@samsa/registry';
import { UsageError } from '../errors.js';
import { parseBootstrap, parseInteger } from '../options.js';
import { registryUserInfo } from '../schemaFormats.js';

const DEFAULT_URL = 'http://127.0.0.1:8081';

/** The registry flags every client command shares. */
export interface RegistryClientFlags {
  /** Confluent's basic.auth.user.info: `user:password`. */
  basicAuthUserInfo?: string;
  /** The same, under the name `samsa produce`/`consume` use: either flag works on every command. */
  schemaRegistryUserInfo?: string;
  /** A PEM file of CAs (schema.registry.ssl.truststore.location). */
  schemaRegistryCa?: string;
}

/** Where and how to call the registry. */
export interface RegistryTarget {
  base: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
}

export function registryTarget(url: string, flags: RegistryClientFlags): RegistryTarget {
  const headers: Record<string, string> = {};
  const userInfo = registryUserInfo(flags);
  if (userInfo !== undefined) {
    try {
      const { username, password } = parseUserInfo(userInfo);
      headers.authorization = basicAuthHeader(username, password);
    } catch {
      throw new UsageError("--basic-auth-user-info must be 'username:password'");
    }
  }
  let ca: string | undefined;
  if (flags.schemaRegistryCa !== undefined) {
    try {
      ca = readFileSync(flags.schemaRegistryCa, 'utf8');
    } catch (err) {
      throw new UsageError(`--schema-registry-ca ${flags.schemaRegistryCa} cannot be read: ${(err as Error).message}`);
    }
  }
  return { base: url.replace(/\/+$/, ''), headers, fetch: ca === undefined ? fetch : nodeFetch({ ca }) };
}

/** One call to the registry; an error answer becomes an Error carrying Confluent's code. */
async function registryCall(target: RegistryTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const base = target.base;
  let res: Response;
  try {
    res = await target.fetch(base + path, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...target.headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Error(`cannot reach the schema registry at ${base}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  if (!res.ok) {
    const e = parsed as { error_code?: number; message?: string };
    throw Object.assign(new Error(`${e?.message ?? text} (error_code ${e?.error_code ?? res.status})`), {
      errorName: `REGISTRY_${e?.error_code ?? res.status}`,
    });
  }
  return parsed;
}

const enc = encodeURIComponent;

function print(value: unknown): void {
  process.stdout.write(typeof value === 'string' ? `${value}\n` : `${JSON.stringify(value, null, 2)}\n`);
}

interface SchemasOptions extends RegistryClientFlags {
  register?: boolean;
  list?: boolean;
  describe?: boolean;
  compatibility?: boolean;
  delete?: boolean;
  config?: boolean;
  schemaRegistryUrl: string;
  subject?: string;
  version?: string;
  schema?: string;
  schemaFile?: string;
  schemaType?: string;
  references?: string;
  level?: string;
  permanent?: boolean;
  deleted?: boolean;
  subjectPrefix?: string;
  normalize?: boolean;
}

function schemaBody(opts: SchemasOptions): Record<string, unknown> {
  if (!!opts.schema === !!opts.schemaFile) throw new UsageError('exactly one of --schema or --schema-file is required');
  const schema = opts.schema ?? readFileSync(opts.schemaFile!, 'utf8');
  let references: unknown;
  if (opts.references) {
    try {
      references = JSON.parse(opts.references);
    } catch {
      throw new UsageError('--references must be JSON: [{"name":..,"subject":..,"version":..}]');
    }
  }
  return { schema, ...(opts.schemaType ? { schemaType: opts.schemaType.toUpperCase() } : {}), ...(references ? { references } : {}) };
}

function requireSubject(opts: SchemasOptions): string {
  if (!opts.subject) throw new UsageError('--subject is required');
  return opts.subject;
}

export function registerSchemas(program: Command): void {
  program
    .command('schemas')
    .description('register, list, describe, check, delete schemas and set compatibility on a schema registry')
    .option('--register', 'register a schema under --subject (prints its id)')
    .option('--list', 'list subjects (or the versions of --subject)')
    .option('--describe', 'print a version of --subject (default: latest)')
    .option('--compatibility', 'check a schema against --subject (its level, or --version only)')
    .option('--delete', 'delete --subject, or one --version of it (soft unless --permanent)')
    .option('--config', 'print the compatibility level (global, or of --subject); set it with --level')
    .option('--schema-registry-url <url>', 'the registry', DEFAULT_URL)
    .option('--basic-auth-user-info <user:password>', 'HTTP basic credentials (basic.auth.user.info)')
    .option('--schema-registry-user-info <user:password>', 'the same as --basic-auth-user-info (the name produce and consume use)')
    .option('--schema-registry-ca <pem>', 'CA certificates (PEM) an https registry chains to')
    .option('--subject <name>', 'the subject')
    .option('--version <n>', 'a version number or latest')
    .option('--schema <text>', 'the schema text')
    .option('--schema-file <path>', 'a file holding the schema text')
    .option('--schema-type <type>', 'AVRO (default), JSON or PROTOBUF')
    .option('--references <json>', 'schema references as JSON')
    .option('--level <level>', 'with --config: NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE')
    .option('--permanent', 'with --delete: hard delete (after a soft delete)')
    .option('--deleted', 'with --list/--describe: include soft-deleted')
    .option('--subject-prefix <prefix>', 'with --list: only subjects starting with this')
    .option('--normalize', 'with --register: normalize the schema first')
    .action(async (opts: SchemasOptions) => {
      const actions = (['register', 'list', 'describe', 'compatibility', 'delete', 'config'] as const).filter((a) => opts[a]);
      if (actions.length !== 1)
        throw new UsageError('exactly one of --register, --list, --describe, --compatibility, --delete or --config is required');
      const url = registryTarget(opts.schemaRegistryUrl, opts);
      const q = (pairs: Record<string, string | boolean | undefined>): string => {
        const s = new URLSearchParams(
          Object.entries(pairs)
            .filter(([, v]) => v !== undefined && v !== false)
            .map(([k, v]): [string, string] => [k, String(v)]),
        ).toString();
        return s ? `?${s}` : '';
      };
      switch (actions[0]) {
        case 'register': {
          const r = (await registryCall(
            url,
            'POST',
            `/subjects/${enc(requireSubject(opts))}/versions${q({ normalize: opts.normalize })}`,
            schemaBody(opts),
          )) as { id: number };
          print(`Registered schema id ${r.id} under subject ${opts.subject}.`);
          return;
        }
        case 'list':
          print(
            opts.subject
              ? await registryCall(url, 'GET', `/subjects/${enc(opts.subject)}/versions${q({ deleted: opts.deleted })}`)
              : await registryCall(url, 'GET', `/subjects${q({ deleted: opts.deleted, subjectPrefix: opts.subjectPrefix })}`),
          );
          return;
        case 'describe':
          print(
            await registryCall(
              url,
              'GET',
              `/subjects/${enc(requireSubject(opts))}/versions/${enc(opts.version ?? 'latest')}${q({ deleted: opts.deleted })}`,
            ),
          );
          return;
        case 'compatibility': {
          const path = `/compatibility/subjects/${enc(requireSubject(opts))}/versions${opts.version ? `/${enc(opts.version)}` : ''}?verbose=true`;
          const r = (await registryCall(url, 'POST', path, schemaBody(opts))) as { is_compatible: boolean; messages?: string[] };
          print(r.is_compatible ? 'Compatible.' : `Incompatible:\n${(r.messages ?? []).map((m) => `  ${m}`).join('\n')}`);
          if (!r.is_compatible) process.exitCode = 1;
          return;
        }
        case 'delete': {
          const subject = requireSubject(opts);
          const path = opts.version ? `/subjects/${enc(subject)}/versions/${enc(opts.version)}` : `/subjects/${enc(subject)}`;
          const r = await registryCall(url, 'DELETE', path + q({ permanent: opts.permanent }));
          print(`Deleted ${opts.permanent ? 'permanently' : '(soft)'}: ${JSON.stringify(r)}`);
          return;
        }
        case 'config': {
          const path = opts.subject ? `/config/${enc(opts.subject)}` : '/config';
          if (opts.level) print(await registryCall(url, 'PUT', path, { compatibility: opts.level.toUpperCase() }));
          else print(await registryCall(url, 'GET', opts.subject ? `${path}?defaultToGlobal=true` : path));
          return;
        }
      }
    });
}

interface SchemaRegistryOptions {
  bootstrapServer?: string;
  listeners: string;
  advertisedUrl?: string;
  topic: string;
  instanceId?: string;
  leaseMs: string;
  maxSchemaBytes: string;
  logLevel: string;
  sslKeystoreLocation?: string;
  sslKeyPassword?: string;
  sslTruststoreLocation?: string;
  sslClientAuthentication: string;
  authenticationMethod: string;
  authenticationRealm: string;
  authenticationRoles?: string;
  basicAuthUsersFile?: string;
}

export function registerSchemaRegistry(program: Command): void {
  registerSchemas(program);
  const command = program
    .command('schema-registry')
    .description('run a Confluent-compatible schema registry on the cluster (schemas in the _schemas topic)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--listeners <url>', 'where to serve the HTTP API', 'http://127.0.0.1:8081')
    .option('--advertised-url <url>', 'the URL other instances forward writes to (default: the listener)')
    .option('--topic <name>', 'the topic holding schemas, configs and modes', '_schemas')
    .option('--instance-id <id>', "this instance's name in the writer election (default: random)")
    .option('--lease-ms <ms>', 'a writer not heard from for this long is replaced', '10000')
    .option('--max-schema-bytes <n>', 'largest schema accepted (42209 above)', String(1024 * 1024))
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--ssl-keystore-location <pem>', 'https: a PEM file with the private key and certificate chain')
    .option('--ssl-key-password <password>', "https: the private key's passphrase")
    .option('--ssl-truststore-location <pem>', 'https: CA certificates client certificates (and other instances) chain to')
    .option('--ssl-client-authentication <mode>', 'https: NONE, REQUESTED or REQUIRED', 'NONE')
    .option('--authentication-method <method>', 'NONE or BASIC (HTTP basic auth against --basic-auth-users-file)', 'NONE')
    .option('--authentication-realm <realm>', 'the realm named in WWW-Authenticate', 'SchemaRegistry')
    .option('--authentication-roles <roles>', 'with BASIC: users need one of these roles (comma-separated; * = any)')
    .option('--basic-auth-users-file <path>', "with BASIC: lines 'name: password[,role ...]'")
    .action(async (opts: SchemaRegistryOptions) => {
      const listener = opts.listeners.split(',')[0]!.trim();
      if (!/^https?:\/\/[^/]+:\d+\/?$/.test(listener))
        throw new UsageError(`--listeners: expected http://host:port or https://host:port, got ${listener}`);
      const https = listener.startsWith('https:');
      if (https !== (opts.sslKeystoreLocation !== undefined))
        throw new UsageError(
          https ? 'an https listener needs --ssl-keystore-location' : '--ssl-keystore-location needs an https:// listener',
        );
      let clientAuthentication;
      try {
        clientAuthentication = parseSslClientAuthentication(opts.sslClientAuthentication);
      } catch (err) {
        throw new UsageError(`--ssl-client-authentication: ${(err as Error).message}`);
      }
      const method = opts.authenticationMethod.toUpperCase();
      if (method !== 'NONE' && method !== 'BASIC')
        throw new UsageError(`--authentication-method must be NONE or BASIC, got ${opts.authenticationMethod}`);
      if ((method === 'BASIC') !== (opts.basicAuthUsersFile !== undefined))
        throw new UsageError('--authentication-method BASIC and --basic-auth-users-file go together');
      const log = pino({ name: 'samsa-schema-registry', level: opts.logLevel });
      const logger: Logger = {
        debug: (m, f) => log.debug(f ?? {}, m),
        info: (m, f) => log.info(f ?? {}, m),
        warn: (m, f) => log.warn(f ?? {}, m),
        error: (m, f) => log.error(f ?? {}, m),
      };
      const running = await startSchemaRegistryServer({
        bootstrapServers: parseBootstrap(opts.bootstrapServer),
        listener,
        topic: opts.topic,
        leaseMs: parseInteger(opts.leaseMs, '--lease-ms'),
        maxSchemaBytes: parseInteger(opts.maxSchemaBytes, '--max-schema-bytes'),
        logger,
        ...(opts.advertisedUrl ? { advertisedUrl: opts.advertisedUrl } : {}),
        ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
        ...(opts.sslKeystoreLocation
          ? {
              ssl: {
                keystoreLocation: opts.sslKeystoreLocation,
                clientAuthentication,
                ...(opts.sslKeyPassword !== undefined ? { keyPassword: opts.sslKeyPassword } : {}),
                ...(opts.sslTruststoreLocation !== undefined ? { truststoreLocation: opts.sslTruststoreLocation } : {}),
              },
            }
          : {}),
        ...(opts.basicAuthUsersFile
          ? {
              basicAuth: {
                realm: opts.authenticationRealm,
                users: loadUsersFile(opts.basicAuthUsersFile),
                roles: (opts.authenticationRoles ?? '')
                  .split(',')
                  .map((r) => r.trim())
                  .filter((r) => r !== ''),
              },
            }
          : {}),
      });
      log.info({ url: running.url, instanceId: running.log.instanceId }, 'schema registry started');
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void running.close().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  command
    .command('codegen')
    .description("print TypeScript types for a subject's Avro schema")
    .requiredOption('--subject <name>', 'the subject')
    .option('--version <n>', 'a version number or latest', 'latest')
    .option('--schema-registry-url <url>', 'the registry', DEFAULT_URL)
    .option('--basic-auth-user-info <user:password>', 'HTTP basic credentials (basic.auth.user.info)')
    .option('--schema-registry-user-info <user:password>', 'the same as --basic-auth-user-info (the name produce and consume use)')
    .option('--schema-registry-ca <pem>', 'CA certificates (PEM) an https registry chains to')
    .option('--type-name <name>', 'also export the top-level type under this name')
    .action(async (opts: { subject: string; version: string; schemaRegistryUrl: string; typeName?: string } & RegistryClientFlags) => {
      const v = (await registryCall(
        registryTarget(opts.schemaRegistryUrl, opts),
        'GET',
        `/subjects/${enc(opts.subject)}/versions/${enc(opts.version)}`,
      )) as {
        schema: string;
        schemaType?: string;
      };
      if (v.schemaType && v.schemaType !== 'AVRO')
        throw new UsageError(`codegen supports Avro schemas; ${opts.subject} is ${v.schemaType}`);
      process.stdout.write(avroToTypeScript(JSON.parse(v.schema), opts.typeName));
    });
}
