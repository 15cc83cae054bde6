/**
 * One schema registry instance: a Samsa client, the `_schemas` log, the state, the HTTP API
 * (mirrors Confluent's `SchemaRegistryRestApplication`). What `samsa schema-registry` runs.
 */
import { Samsa, noopLogger, type Logger } from '@samsa/client';
import { RegistryHttpServer } from './http.js';
import { DEFAULT_REGISTRY_OPTIONS } from './registry.js';
import { SchemaRegistry } from './service.js';
import { RegistryState } from './state.js';
import { SamsaLog } from './store.js';

export interface SchemaRegistryServerOptions {
  bootstrapServers: string[];
  /** e.g. http://127.0.0.1:8081 (port 0: any free port). */
  listener: string;
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
  if (listener.protocol !== 'http:')
    throw new Error(`listener ${options.listener}: only http:// is supported (TLS comes with the security issue)`);
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
  const http = new RegistryHttpServer(registry, { maxBodyBytes: maxSchemaBytes + 64 * 1024, forwardTimeoutMs: 30_000 });
  const port = await http.listen(Number(listener.port || 80), listener.hostname);
  const url = options.advertisedUrl ?? `http://${listener.hostname}:${port}`;
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
