/**
 * `samsa schema-registry`: runs one instance of the Confluent-compatible schema registry
 * (@samsa/registry) against a Samsa cluster, like Confluent's `schema-registry-start`
 * (`--listeners` mirrors its `listeners` setting, `--bootstrap-server` its
 * `kafkastore.bootstrap.servers`).
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import type { Logger } from '@samsa/client';
import { startSchemaRegistryServer } from '@samsa/registry';
import { UsageError } from '../errors.js';
import { parseBootstrap, parseInteger } from '../options.js';

interface SchemaRegistryOptions {
  bootstrapServer?: string;
  listeners: string;
  advertisedUrl?: string;
  topic: string;
  instanceId?: string;
  leaseMs: string;
  maxSchemaBytes: string;
  logLevel: string;
}

export function registerSchemaRegistry(program: Command): void {
  program
    .command('schema-registry')
    .description('run a Confluent-compatible schema registry on the cluster (schemas in the _schemas topic)')
    .option('--bootstrap-server <host:port>', 'a broker to connect to (comma-separated list allowed)')
    .option('--listeners <url>', 'where to serve the HTTP API', 'http://127.0.0.1:8081')
    .option('--advertised-url <url>', 'the URL other instances forward writes to (default: the listener)')
    .option('--topic <name>', 'the topic holding schemas, configs and modes', '_schemas')
    .option('--instance-id <id>', 'this instance\'s name in the writer election (default: random)')
    .option('--lease-ms <ms>', 'a writer not heard from for this long is replaced', '10000')
    .option('--max-schema-bytes <n>', 'largest schema accepted (42209 above)', String(1024 * 1024))
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (opts: SchemaRegistryOptions) => {
      const listener = opts.listeners.split(',')[0]!.trim();
      if (!/^http:\/\/[^/]+:\d+\/?$/.test(listener)) throw new UsageError(`--listeners: expected http://host:port, got ${listener}`);
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
}
