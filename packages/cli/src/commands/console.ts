/**
 * `samsa console --bootstrap-server B [--listen 127.0.0.1:8080] [--metrics-servers H:P,...]
 * [--schema-registry URL] [--connect URL]`: the
 * Samsa Console, a web console for the cluster (as Redpanda Console or AKHQ are for Kafka), served
 * until SIGINT/SIGTERM. Loopback unless --listen names another address.
 */
import { startConsoleServer } from '@samsa/console';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseBootstrap, parseHostPort } from '../options.js';

interface ConsoleOptions {
  bootstrapServer?: string;
  listen: string;
  metricsServers?: string;
  schemaRegistry?: string;
  connect?: string;
}

/** An http:// base URL for --schema-registry / --connect. */
function serviceUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} ${value}: not a URL (http://host:port)`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`${flag} ${value}: only http:// is supported`);
  return value;
}

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description('serve the Samsa Console, a web console for the cluster')
    .requiredOption('--bootstrap-server <host:port,...>', 'brokers to ask')
    .option('--listen <host:port>', 'where the console listens', '127.0.0.1:8080')
    .option('--metrics-servers <host:port,...>', "the nodes' metrics listeners (/metrics) for the metrics view")
    .option('--schema-registry <url>', 'the schema registry for the Schemas view (http://127.0.0.1:8081)')
    .option('--connect <url>', "a Kafka Connect worker's REST API for the Connect view (http://127.0.0.1:8083)")
    .action(async (opts: ConsoleOptions) => {
      const schemaRegistry = serviceUrl(opts.schemaRegistry, '--schema-registry');
      const connect = serviceUrl(opts.connect, '--connect');
      const { host, port } = parseHostPort(opts.listen, '--listen');
      const metrics = opts.metricsServers
        ? opts.metricsServers
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
      const server = await startConsoleServer({
        bootstrap: parseBootstrap(opts.bootstrapServer),
        host,
        port,
        metrics,
        ...(schemaRegistry ? { schemaRegistry } : {}),
        ...(connect ? { connect } : {}),
      });
      process.stdout.write(`Samsa Console: ${server.url}/\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
