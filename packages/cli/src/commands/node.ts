/**
 * `samsa node`: one node in the foreground with the roles it is given — broker, controller, or
 * both (combined) — until SIGTERM or SIGINT. A controller joins the Raft quorum named by
 * --controller-quorum-voters; a broker registers with that quorum and follows its metadata log.
 * A single machine can run one combined node with a one-voter quorum:
 *   samsa node --roles broker,controller --node-id 1 --controller-quorum-voters 1@127.0.0.1:9093
 */
import { join } from 'node:path';
import { DataDirLock, startBrokerNode, type BrokerNode } from '@samsa/broker';
import { startControllerNode, type ControllerNode } from '@samsa/controller';
import { effectiveTopicConfig, validateTopicConfigs, type TopicConfig } from '@samsa/protocol';
import type { Command } from 'commander';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { UsageError } from '../errors.js';
import { startMetricsServer, type MetricsServer } from '../metricsServer.js';
import { collectKeyValue, parseHostPort, parseInteger } from '../options.js';

export interface NodeOptions {
  roles: string;
  nodeId: string;
  listen?: string;
  advertisedListener?: string;
  controllerListen?: string;
  controllerQuorumVoters?: string;
  dataDir: string;
  config?: Record<string, string>;
  logLevel: string;
  heartbeatIntervalMs?: string;
  sessionTimeoutMs?: string;
  replicaLagTimeMaxMs?: string;
  autoLeaderRebalanceEnable?: string;
  leaderImbalanceCheckIntervalMs?: string;
  leaderImbalancePerBrokerPercentage?: string;
  metricsPort?: string;
  metricsHost?: string;
}

export interface Voter {
  id: number;
  host: string;
  port: number;
}

/** Parses Kafka's controller.quorum.voters form: `1@host:port,2@host:port,3@host:port`. */
export function parseVoters(value: string): Voter[] {
  const voters = value.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const at = entry.indexOf('@');
    if (at <= 0) throw new UsageError(`--controller-quorum-voters entries are ID@HOST:PORT, got '${entry}'`);
    const id = parseInteger(entry.slice(0, at), '--controller-quorum-voters id', 0);
    return { id, ...parseHostPort(entry.slice(at + 1), '--controller-quorum-voters') };
  });
  if (voters.length === 0) throw new UsageError('--controller-quorum-voters names no voter');
  if (new Set(voters.map((v) => v.id)).size !== voters.length) throw new UsageError('--controller-quorum-voters repeats an id');
  return voters;
}

export interface RunningNode {
  nodeId: number;
  broker?: BrokerNode;
  controller?: ControllerNode;
  /** The Prometheus endpoint's port, with --metrics-port. */
  metricsPort?: number;
  close(): Promise<void>;
}

export async function runNode(opts: NodeOptions): Promise<RunningNode> {
  const roles = new Set(opts.roles.split(',').map((r) => r.trim()));
  for (const role of roles) {
    if (role !== 'broker' && role !== 'controller') throw new UsageError(`--roles takes broker, controller or broker,controller; got '${role}'`);
  }
  const nodeId = parseInteger(opts.nodeId, '--node-id', 0);
  const voters = opts.controllerQuorumVoters ? parseVoters(opts.controllerQuorumVoters) : undefined;
  if (!voters) throw new UsageError(`a ${roles.has('controller') ? 'controller' : 'broker'} needs --controller-quorum-voters ID@HOST:PORT,...`);
  const self = voters?.find((v) => v.id === nodeId);
  if (roles.has('controller') && !self) throw new UsageError(`--node-id ${nodeId} is not among --controller-quorum-voters`);
  let topicDefaults: TopicConfig;
  try {
    topicDefaults = effectiveTopicConfig(validateTopicConfigs(opts.config ?? {}));
  } catch (err) {
    throw new UsageError(`--config: ${(err as Error).message}`);
  }
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ? parseInteger(opts.heartbeatIntervalMs, '--heartbeat-interval-ms', 10) : undefined;
  const sessionTimeoutMs = opts.sessionTimeoutMs ? parseInteger(opts.sessionTimeoutMs, '--session-timeout-ms', 100) : undefined;
  const replicaLagTimeMaxMs = opts.replicaLagTimeMaxMs ? parseInteger(opts.replicaLagTimeMaxMs, '--replica-lag-time-max-ms', 10) : undefined;
  const rebalance = opts.autoLeaderRebalanceEnable?.trim().toLowerCase();
  if (rebalance !== undefined && rebalance !== 'true' && rebalance !== 'false') throw new UsageError(`--auto-leader-rebalance-enable must be true or false, got '${opts.autoLeaderRebalanceEnable}'`);
  const imbalanceIntervalMs = opts.leaderImbalanceCheckIntervalMs ? parseInteger(opts.leaderImbalanceCheckIntervalMs, '--leader-imbalance-check-interval-ms', 10) : undefined;
  const imbalancePercentage = opts.leaderImbalancePerBrokerPercentage ? parseInteger(opts.leaderImbalancePerBrokerPercentage, '--leader-imbalance-per-broker-percentage', 0) : undefined;
  const metricsPort = opts.metricsPort === undefined ? undefined : parseInteger(opts.metricsPort, '--metrics-port', 0);
  if (metricsPort !== undefined && metricsPort > 65535) throw new UsageError(`--metrics-port must be between 0 and 65535, got ${metricsPort}`);
  const logger = pino({ name: 'samsa', level: opts.logLevel }).child({ nodeId });
  // One registry for the node's roles; node_id on every series tells the nodes apart.
  let metrics: Registry | undefined;
  if (metricsPort !== undefined) {
    // Loaded only when asked for: prom-client costs ~100 ms of start-up CPU.
    const { Registry, collectDefaultMetrics } = await import('prom-client');
    metrics = new Registry();
    metrics.setDefaultLabels({ node_id: String(nodeId) });
    collectDefaultMetrics({ register: metrics });
  }
  // Bound before the roles start: a taken port fails at once, and start-up can be watched.
  const metricsServer: MetricsServer | undefined = metrics ? await startMetricsServer(metrics, opts.metricsHost ?? '127.0.0.1', metricsPort!) : undefined;
  if (metricsServer) logger.info({ metricsHost: metricsServer.host, metricsPort: metricsServer.port }, `metrics at http://${metricsServer.host}:${metricsServer.port}/metrics`);

  let controller: ControllerNode | undefined;
  let lock: DataDirLock | undefined;
  if (roles.has('controller')) {
    // In a combined node the broker takes the data-dir lock; a controller alone takes it here.
    if (!roles.has('broker')) lock = DataDirLock.acquire(opts.dataDir);
    const listen = opts.controllerListen
      ? parseHostPort(opts.controllerListen, '--controller-listen')
      : roles.has('broker') ? { host: self!.host, port: self!.port } : parseHostPort(opts.listen ?? `${self!.host}:${self!.port}`, '--listen');
    try {
      controller = await startControllerNode({
        nodeId,
        listenHost: listen.host,
        listenPort: listen.port,
        advertisedHost: self!.host,
        advertisedPort: self!.port,
        dataDir: roles.has('broker') ? join(opts.dataDir, 'controller') : opts.dataDir,
        voters: voters!,
        logger: logger.child({ role: 'controller' }),
        ...(sessionTimeoutMs === undefined ? {} : { brokerSessionTimeoutMs: sessionTimeoutMs }),
        ...(rebalance === undefined ? {} : { autoLeaderRebalanceEnable: rebalance === 'true' }),
        ...(imbalanceIntervalMs === undefined ? {} : { leaderImbalanceCheckIntervalMs: imbalanceIntervalMs }),
        ...(imbalancePercentage === undefined ? {} : { leaderImbalancePerBrokerPercentage: imbalancePercentage }),
        ...(metrics === undefined ? {} : { metrics }),
      });
    } catch (err) {
      lock?.release();
      await metricsServer?.close();
      throw err;
    }
  }

  let broker: BrokerNode | undefined;
  if (roles.has('broker')) {
    const listen = parseHostPort(opts.listen ?? '127.0.0.1:9092', '--listen');
    const advertised = opts.advertisedListener ? parseHostPort(opts.advertisedListener, '--advertised-listener') : undefined;
    try {
      broker = await startBrokerNode({
        nodeId,
        listenHost: listen.host,
        listenPort: listen.port,
        advertisedHost: advertised?.host,
        advertisedPort: advertised?.port,
        dataDir: opts.dataDir,
        logger: logger.child({ role: 'broker' }),
        topicDefaults,
        controllers: voters,
        ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
        ...(replicaLagTimeMaxMs === undefined ? {} : { replicaLagTimeMaxMs }),
        ...(metrics === undefined ? {} : { metrics }),
      });
    } catch (err) {
      await controller?.close();
      await metricsServer?.close();
      throw err;
    }
  }

  return {
    nodeId,
    broker,
    controller,
    ...(metricsServer === undefined ? {} : { metricsPort: metricsServer.port }),
    async close() {
      await metricsServer?.close();
      // Brokers first (controlled shutdown needs the quorum), then the controller.
      await broker?.close();
      await controller?.close();
      lock?.release();
    },
  };
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
    .description('run one Samsa node (broker, controller, or both) in the foreground')
    .option('--roles <roles>', 'broker, controller or broker,controller', 'broker')
    .requiredOption('--node-id <id>', 'this node\'s node.id')
    .option('--controller-quorum-voters <voters>', 'the controller quorum: ID@HOST:PORT,ID@HOST:PORT,...')
    .option('--listen <host:port>', 'broker address to listen on (a controller alone: its voter address)')
    .option('--advertised-listener <host:port>', 'broker address clients are told to use (defaults to --listen)')
    .option('--controller-listen <host:port>', 'controller address to bind, when it differs from its voter address')
    .option('--data-dir <dir>', 'where logs and metadata live', './data')
    .option('--config <key=value>', 'broker default for a topic config (repeatable), e.g. retention.ms=60000', collectKeyValue)
    .option('--heartbeat-interval-ms <ms>', 'broker heartbeat interval (Kafka broker.heartbeat.interval.ms, 2000)')
    .option('--session-timeout-ms <ms>', 'controller: fence a broker silent this long (Kafka broker.session.timeout.ms, 9000)')
    .option('--auto-leader-rebalance-enable <bool>', 'controller: move leadership back to preferred replicas periodically (Kafka auto.leader.rebalance.enable, true)')
    .option('--leader-imbalance-check-interval-ms <ms>', 'controller: how often to check (Kafka leader.imbalance.check.interval.seconds, 300 s)')
    .option('--leader-imbalance-per-broker-percentage <n>', 'controller: rebalance a broker once more than this share of its preferred partitions is led elsewhere (Kafka, 10)')
    .option('--replica-lag-time-max-ms <ms>', 'broker: drop a follower from the ISR that has not caught up this long (Kafka replica.lag.time.max.ms, 30000)')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (0 picks a free port, logged); off by default')
    .option('--metrics-host <host>', 'address the metrics endpoint binds', '127.0.0.1')
    .action(async (opts: NodeOptions) => {
      const node = await runNode(opts);
      stopOnSignals(() => node.close());
    });
}
