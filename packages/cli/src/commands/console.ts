/**
 * `samsa console --bootstrap-server B [--listen 127.0.0.1:8080] [--metrics-servers H:P,...]`: the
 * Samsa Console, a web console for the cluster (as Redpanda Console or AKHQ are for Kafka), served
 * until SIGINT/SIGTERM. Loopback unless --listen names another address.
 */
import { startConsoleServer } from '@samsa/console';
import type { Command } from 'commander';
import { parseBootstrap, parseHostPort } from '../options.js';

interface ConsoleOptions {
  bootstrapServer?: string;
  listen: string;
  metricsServers?: string;
}

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description('serve the Samsa Console, a web console for the cluster')
    .requiredOption('--bootstrap-server <host:port,...>', 'brokers to ask')
    .option('--listen <host:port>', 'where the console listens', '127.0.0.1:8080')
    .option('--metrics-servers <host:port,...>', "the nodes' metrics listeners (/metrics) for the metrics view")
    .action(async (opts: ConsoleOptions) => {
      const { host, port } = parseHostPort(opts.listen, '--listen');
      const metrics = opts.metricsServers
        ? opts.metricsServers
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
      const server = await startConsoleServer({ bootstrap: parseBootstrap(opts.bootstrapServer), host, port, metrics });
      process.stdout.write(`Samsa Console: ${server.url}/\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
