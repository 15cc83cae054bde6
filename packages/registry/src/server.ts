/**
 * One schema registry instance: a Samsa client, the `_schemas` log, the state, the HTTP API
 * (mirrors Confluent's `SchemaRegistryRestApplication`). What `samsa schema-registry` runs.
 */
import { Samsa, noopLogger, type Logger } from '@samsa/client';
import { RegistryHttpServer } from './http.js';
import { DEFAULT_REGISTRY_OPTIONS } from './registry.js';
import { type BasicAuthConfig, type RegistryTlsConfig, registryTlsOptions } from './security.js';
import { SchemaRegistry } from './service.js';
import { RegistryState } from './state.js';
import { SamsaLog } from './store.js';

export interface SchemaRegistryServerOptions {
  bootstrapServers: string[];
  /** e.g. http://127.0.0.1:8081 or https://127.0.0.1:8081 (port 0: any free port). */
  listener: string;
  /** Required for an https:// listener: Confluent's `ssl.*` settings, PEM files. */
  ssl?: RegistryTlsConfig;
  /** authentication.method=BASIC: realm, users (see `loadUsersFile`) and required roles. */
  basicAuth?: BasicAuthConfig;
  /** The URL other instances forward writes to. Default: the listener with the bound port. */
  advertisedUrl?: string;
  topic?: string;
  instanceId?: string;
  leaseMs?: number;
  maxSchemaBytes?: number;
  logger?: Logger;
}

export interface RunningSchemaRegistry {
  url: string;
  log: SamsaLog;
  registry: SchemaRegistry;
  close(): Promise<void>;
}

export async function startSchemaRegistryServer(options: SchemaRegistryServerOptions): Promise<RunningSchemaRegistry> {
  const listener = new URL(options.listener);
  if (listener.protocol !== 'http:' && listener.protocol !== 'https:')
    throw new Error(`listener ${options.listener}: expected http://host:port or https://host:port`);
  const https = listener.protocol === 'https:';
  if (https && !options.ssl) throw new Error(`listener ${options.listener}: an https listener needs ssl.keystore.location`);
  if (!https && options.ssl) throw new Error(`listener ${options.listener}: ssl.* settings need an https:// listener`);
  // Read the PEM files before anything connects: a bad file fails the start with its name.
  const tls = options.ssl ? registryTlsOptions(options.ssl) : undefined;
  const logger = options.logger ?? noopLogger;
  const samsa = new Samsa({ brokers: options.bootstrapServers, clientId: 'samsa-schema-registry', logger });
  const state = new RegistryState();
  const maxSchemaBytes = options.maxSchemaBytes ?? DEFAULT_REGISTRY_OPTIONS.maxSchemaBytes;
  // The HTTP server needs the log, the log needs the URL (a bound port): build, listen, then start.
  let log: SamsaLog | null = null;
  const notStarted = (): never => {
    throw new Error('the schema registry is still starting');
  };
  const registry = new SchemaRegistry(
    state,
    {
      sync: () => (log ? log.sync() : notStarted()),
      append: (r) => (log ? log.append(r) : notStarted()),
      writerUrl: () => log?.writerUrl() ?? null,
      close: async () => log?.close(),
    },
    { maxSchemaBytes },
  );
  const http = new RegistryHttpServer(registry, {
    maxBodyBytes: maxSchemaBytes + 64 * 1024,
    forwardTimeoutMs: 30_000,
    ...(tls ? { tls } : {}),
    ...(options.basicAuth ? { basicAuth: options.basicAuth } : {}),
  });
  const port = await http.listen(Number(listener.port || (https ? 443 : 80)), listener.hostname);
  const url = options.advertisedUrl ?? `${listener.protocol}//${listener.hostname}:${port}`;
  log = new SamsaLog(samsa, state, {
    url,
    logger,
    ...(options.topic ? { topic: options.topic } : {}),
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
  });
  try {
    await log.start();
  } catch (err) {
    await http.close();
    await samsa.close();
    throw err;
  }
  return {
    url,
    log,
    registry,
    async close() {
      await http.close();
      await log!.close();
      await samsa.close();
    },
  };
}
