/**
 * `samsa connect standalone worker.properties connector.properties ...` (Kafka's
 * connect-standalone): a Connect worker with file-stored source offsets and the REST API on
 * `rest.port`. `samsa connect distributed worker.properties` (connect-distributed): a worker of
 * the Connect cluster named by `group.id`, sharing the config/offset/status topics. Prints `Connect worker started: REST on HOST:PORT` once ready; stops cleanly
 * (offsets committed) on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { consoleLogger } from '@samsa/client';
import { parseProperties, startDistributedWorker, startStandaloneWorker } from '@samsa/connect';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

function readProps(file: string): Record<string, string> {
  try {
    return parseProperties(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export function registerConnect(program: Command): void {
  const connect = program.command('connect').description('run Samsa Connect workers (Kafka Connect)');
  connect
    .command('distributed')
    .description('a distributed worker: workers with one group.id share connectors through the config/offset/status topics')
    .argument('<worker.properties>')
    .option('--bootstrap-server <host:port>', 'overrides bootstrap.servers')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (workerFile: string, opts: { bootstrapServer?: string; logLevel: 'debug' | 'info' | 'warn' | 'error' }) => {
      const workerConfig = readProps(workerFile);
      if (opts.bootstrapServer) workerConfig['bootstrap.servers'] = opts.bootstrapServer;
      for (const key of ['bootstrap.servers', 'group.id', 'config.storage.topic', 'offset.storage.topic', 'status.storage.topic']) {
        if (!workerConfig[key]) throw new UsageError(`${key} is required in ${workerFile}`);
      }
      const worker = await startDistributedWorker(workerConfig, consoleLogger(opts.logLevel, 'samsa-connect'));
      process.stdout.write(`Connect worker started: REST on ${worker.herder.workerId}\n`);
      await untilSignal();
      await worker.stop();
      process.exit(0);
    });
  connect
    .command('standalone')
    .description('a standalone worker: worker.properties, then one properties file per connector')
    .argument('<worker.properties>')
    .argument('[connector.properties...]')
    .option('--bootstrap-server <host:port>', 'overrides bootstrap.servers')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(
      async (
        workerFile: string,
        connectorFiles: string[],
        opts: { bootstrapServer?: string; logLevel: 'debug' | 'info' | 'warn' | 'error' },
      ) => {
        const workerConfig = readProps(workerFile);
        if (opts.bootstrapServer) workerConfig['bootstrap.servers'] = opts.bootstrapServer;
        if (!workerConfig['bootstrap.servers'])
          throw new UsageError(`bootstrap.servers is required: set it in ${workerFile} or give --bootstrap-server`);
        const worker = await startStandaloneWorker(
          workerConfig,
          connectorFiles.map(readProps),
          consoleLogger(opts.logLevel, 'samsa-connect'),
        );
        process.stdout.write(`Connect worker started: REST on ${workerConfig['rest.host.name'] ?? '127.0.0.1'}:${worker.restPort}\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGTERM', stop);
            process.off('SIGINT', stop);
            resolve();
          };
          process.on('SIGTERM', stop);
          process.on('SIGINT', stop);
        });
        await worker.stop();
        process.exit(0);
      },
    );
}
