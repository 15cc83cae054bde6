/** `samsa node`: runs one node in the foreground until SIGTERM or SIGINT. */
import { startBrokerNode, type BrokerNode } from '@samsa/broker';
import { effectiveTopicConfig, validateTopicConfigs } from '@samsa/protocol';
import type { Command } from 'commander';
import { pino } from 'pino';
import { UsageError } from '../errors.js';
import { collectKeyValue, parseHostPort, parseInteger } from '../options.js';

export interface NodeOptions {
  roles: string;
  nodeId: string;
  listen: string;
  advertisedListener?: string;
  dataDir: string;
  config?: Record<string, string>;
  logLevel: string;
}

export async function runNode(opts: NodeOptions): Promise<BrokerNode> {
  const roles = opts.roles.split(',').map((r) => r.trim());
  for (const role of roles) {
    if (role !== 'broker' && role !== 'controller') throw new UsageError(`--roles takes broker, controller or broker,controller; got '${role}'`);
  }
  if (!roles.includes('broker')) {
    throw new UsageError('controller-only nodes arrive with the controller quorum; run --roles broker for now');
  }
  const nodeId = parseInteger(opts.nodeId, '--node-id', 0);
  const listen = parseHostPort(opts.listen, '--listen');
  const advertised = opts.advertisedListener ? parseHostPort(opts.advertisedListener, '--advertised-listener') : undefined;
  let topicDefaults;
  try {
    topicDefaults = effectiveTopicConfig(validateTopicConfigs(opts.config ?? {}));
  } catch (err) {
    throw new UsageError(`--config: ${(err as Error).message}`);
  }
  const logger = pino({ name: 'samsa', level: opts.logLevel }).child({ nodeId });
  const node = await startBrokerNode({
    nodeId,
    listenHost: listen.host,
    listenPort: listen.port,
    advertisedHost: advertised?.host,
    advertisedPort: advertised?.port,
    dataDir: opts.dataDir,
    logger,
    topicDefaults,
  });
  return node;
}

/** Closes the node on SIGTERM/SIGINT and exits; a second signal exits at once. */
export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`samsa: shutdown after ${signal} failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export function registerNode(program: Command): void {
  program
    .command('node')
    .description('run one Samsa node (broker) in the foreground')
    .option('--roles <roles>', 'broker, controller or broker,controller', 'broker')
    .requiredOption('--node-id <id>', 'this node\'s node.id')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:9092')
    .option('--advertised-listener <host:port>', 'address clients are told to use (defaults to --listen)')
    .option('--data-dir <dir>', 'where logs and metadata live', './data')
    .option('--config <key=value>', 'broker default for a topic config (repeatable), e.g. retention.ms=60000', collectKeyValue)
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (opts: NodeOptions) => {
      const node = await runNode(opts);
      stopOnSignals(() => node.close());
    });
}
