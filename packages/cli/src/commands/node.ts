/**
 * `samsa node`: one node in the foreground with the roles it is given — broker, controller, or
 * both (combined) — until SIGTERM or SIGINT. A controller joins the Raft quorum named by
 * --controller-quorum-voters; a broker registers with that quorum and follows its metadata log.
 * A single machine can run one combined node with a one-voter quorum:
 *   samsa node --roles broker,controller --node-id 1 --controller-quorum-voters 1@127.0.0.1:9093
 */
import { join } from 'node:path';
import type { BrokerNode } from '@samsa/broker';
import { DataDirLock } from '@samsa/server';
import type { ControllerNode } from '@samsa/controller';
import { effectiveTopicConfig } from '@samsa/metadata';
import { Option, type Command } from 'commander';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { startMetricsServer, type MetricsServer } from '../metricsServer.js';
import { loadNodeSettings, settingFlags, type NodeSettings } from '../nodeConfig.js';

export { parseVoters, type Voter } from '../nodeConfig.js';

export interface RunningNode {
  nodeId: number;
  broker?: BrokerNode;
  controller?: ControllerNode;
  /** The Prometheus endpoint's port, with metrics.port set. */
  metricsPort?: number;
  close(): Promise<void>;
}

export async function runNode(settings: NodeSettings): Promise<RunningNode> {
  const { roles, nodeId, voters } = settings;
  const self = voters.find((v) => v.id === nodeId);
  const topicDefaults = effectiveTopicConfig(settings.topicDefaults);
  const logger = pino({ name: 'samsa', level: settings.logLevel }).child({ nodeId });
  // One registry for the node's roles; node_id on every series tells the nodes apart.
  let metrics: Registry | undefined;
  if (settings.metricsPort !== undefined) {
    // Loaded only when asked for: prom-client costs ~100 ms of start-up CPU.
    const { Registry, collectDefaultMetrics } = await import('prom-client');
    metrics = new Registry();
    metrics.setDefaultLabels({ node_id: String(nodeId) });
    collectDefaultMetrics({ register: metrics });
  }
  // Bound before the roles start: a taken port fails at once, and start-up can be watched.
  const metricsServer: MetricsServer | undefined = metrics
    ? await startMetricsServer(metrics, settings.metricsHost, settings.metricsPort!)
    : undefined;
  if (metricsServer)
    logger.info(
      { metricsHost: metricsServer.host, metricsPort: metricsServer.port },
      `metrics at http://${metricsServer.host}:${metricsServer.port}/metrics`,
    );

  let controller: ControllerNode | undefined;
  let lock: DataDirLock | undefined;
  if (roles.has('controller')) {
    // In a combined node the broker takes the data-dir lock; a controller alone takes it here.
    if (!roles.has('broker')) lock = DataDirLock.acquire(settings.dataDir);
    const listen = settings.controllerListen ?? settings.controllerOnlyListen ?? { host: self!.host, port: self!.port };
    try {
      // Each role's package is loaded only by a node that has the role: a controller alone does
      // not load the broker (~90 modules, ~100 ms of start-up CPU), nor a broker the controller.
      const { startControllerNode } = await import('@samsa/controller');
      controller = await startControllerNode({
        nodeId,
        listenHost: listen.host,
        listenPort: listen.port,
        advertisedHost: self!.host,
        advertisedPort: self!.port,
        dataDir: roles.has('broker') ? join(settings.dataDir, 'controller') : settings.dataDir,
        voters,
        logger: logger.child({ role: 'controller' }),
        ...(settings.sessionTimeoutMs === undefined ? {} : { brokerSessionTimeoutMs: settings.sessionTimeoutMs }),
        ...(settings.autoLeaderRebalanceEnable === undefined ? {} : { autoLeaderRebalanceEnable: settings.autoLeaderRebalanceEnable }),
        ...(settings.defaultNumPartitions === undefined ? {} : { defaultNumPartitions: settings.defaultNumPartitions }),
        ...(settings.defaultReplicationFactor === undefined ? {} : { defaultReplicationFactor: settings.defaultReplicationFactor }),
        ...(settings.leaderImbalanceCheckIntervalMs === undefined
          ? {}
          : { leaderImbalanceCheckIntervalMs: settings.leaderImbalanceCheckIntervalMs }),
        ...(settings.leaderImbalancePerBrokerPercentage === undefined
          ? {}
          : { leaderImbalancePerBrokerPercentage: settings.leaderImbalancePerBrokerPercentage }),
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
    const listeners = settings.listeners.map((l) => ({
      name: l.name,
      host: l.host,
      port: l.port,
      advertisedHost: l.advertisedHost,
      ...(l.advertisedPort === undefined ? {} : { advertisedPort: l.advertisedPort }),
      securityProtocol: l.securityProtocol,
    }));
    const single = listeners.length === 1 && !settings.namedListeners ? listeners[0]! : undefined;
    try {
      const { startBrokerNode } = await import('@samsa/broker');
      broker = await startBrokerNode({
        nodeId,
        // One unnamed listener registers host:port only, as before listeners had names.
        ...(single !== undefined
          ? {
              listenHost: single.host,
              listenPort: single.port,
              advertisedHost: single.advertisedHost,
              advertisedPort: single.advertisedPort,
            }
          : { listeners, interBrokerListenerName: settings.interBrokerListenerName }),
        dataDir: settings.dataDir,
        logger: logger.child({ role: 'broker' }),
        topicDefaults,
        controllers: voters,
        ...(settings.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: settings.heartbeatIntervalMs }),
        ...(settings.replicaLagTimeMaxMs === undefined ? {} : { replicaLagTimeMaxMs: settings.replicaLagTimeMaxMs }),
        ...(settings.retentionCheckIntervalMs === undefined ? {} : { retentionCheckIntervalMs: settings.retentionCheckIntervalMs }),
        ...(settings.autoCreateTopicsEnable === undefined ? {} : { autoCreateTopicsEnable: settings.autoCreateTopicsEnable }),
        ...(settings.authorizer === undefined ? {} : { authorizer: settings.authorizer }),
        ...(settings.auditLogIntervalMs === undefined ? {} : { auditLogIntervalMs: settings.auditLogIntervalMs }),
        ...(settings.socketRequestMaxBytes === undefined ? {} : { socketRequestMaxBytes: settings.socketRequestMaxBytes }),
        ...(settings.connectionsMaxIdleMs === undefined ? {} : { connectionsMaxIdleMs: settings.connectionsMaxIdleMs }),
        groups: settings.groups,
        ...(metrics === undefined ? {} : { metrics }),
        ...(settings.saslEnabledMechanisms === undefined ? {} : { saslEnabledMechanisms: settings.saslEnabledMechanisms }),
        ...(settings.ssl === undefined ? {} : { ssl: settings.ssl }),
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
  const command = program
    .command('node')
    .description(
      'run one Samsa node (broker, controller, or both) in the foreground; every setting is a flag, a SAMSA_* environment variable or a key in the --config file (flag > env > file > default)',
    )
    .option('--config <file>', 'a properties file of settings (key=value lines, Kafka server.properties style); also SAMSA_CONFIG');
  // No commander defaults: a flag's absence must be visible, so env, file and defaults can apply.
  for (const { flag, doc, alias } of settingFlags()) {
    const option = new Option(`${flag} <value>`, doc);
    if (alias) option.hideHelp();
    command.addOption(option);
  }
  command.action(async (opts: Record<string, unknown>) => {
    const settings = loadNodeSettings({
      flags: opts,
      env: process.env,
      ...(opts['config'] === undefined ? {} : { configFile: String(opts['config']) }),
    });
    const node = await runNode(settings);
    stopOnSignals(() => node.close());
  });
}
