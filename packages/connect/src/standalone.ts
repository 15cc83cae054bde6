/**
 * A standalone worker, after Kafka's `ConnectStandalone`: one client of the cluster, a file offset
 * store (`offset.storage.file.filename`), the standalone herder, the REST server, and the
 * connectors given as properties files started at boot.
 */
import { Samsa, systemClock, type Logger } from '@samsa/client';
import { ConnectRestError, StandaloneHerder } from './herder.js';
import { ConnectMetrics } from './metrics.js';
import { FileOffsetStore, MemoryOffsetStore } from './offsetStore.js';
import { builtinPlugins } from './builtins.js';
import { loadPluginPath } from './pluginLoader.js';
import { ConnectRestServer } from './rest.js';

export interface StandaloneWorker {
  herder: StandaloneHerder;
  restPort: number;
  stop(): Promise<void>;
}

export async function startStandaloneWorker(
  workerConfig: Record<string, string>,
  connectorConfigs: Array<Record<string, string>>,
  logger: Logger,
): Promise<StandaloneWorker> {
  const bootstrap = workerConfig['bootstrap.servers'];
  if (!bootstrap) throw new ConnectRestError(400, 'Missing required configuration "bootstrap.servers" which has no default value.');
  const samsa = new Samsa({
    brokers: bootstrap.split(',').map((s) => s.trim()),
    clientId: workerConfig['client.id'] ?? 'connect-standalone',
    logger,
  });
  const offsetFile = workerConfig['offset.storage.file.filename'];
  const offsets = offsetFile ? new FileOffsetStore(offsetFile) : new MemoryOffsetStore();
  const metrics = new ConnectMetrics();
  const admin = samsa.admin();
  const producer = samsa.producer({ acks: -1, lingerMs: Number(workerConfig['producer.linger.ms'] ?? '5') });
  const host = workerConfig['rest.host.name'] ?? workerConfig['listeners']?.replace(/^https?:\/\//, '').split(':')[0] ?? '127.0.0.1';
  const port = Number(workerConfig['rest.port'] ?? workerConfig['listeners']?.split(':').pop() ?? '8083');
  let clusterId = '';
  const plugins = builtinPlugins();
  if (workerConfig['plugin.path']) {
    try {
      const loaded = await loadPluginPath(plugins, workerConfig['plugin.path']);
      logger.info('loaded connector plugins', { plugins: loaded });
    } catch (err) {
      await samsa.close();
      throw err;
    }
  }
  const herder = new StandaloneHerder({
    samsa,
    producer,
    admin,
    clock: systemClock,
    logger,
    metrics,
    offsets,
    plugins,
    workerConfig,
    workerId: `${host}:${port}`,
  });
  const rest = new ConnectRestServer({ herder, metrics, host, port, kafkaClusterId: () => clusterId });
  try {
    const described = await admin.describeCluster();
    clusterId = described.clusterId;
    for (const config of connectorConfigs) {
      const name = config.name;
      if (!name) throw new ConnectRestError(400, 'Connector config is missing "name"');
      await herder.putConnectorConfig(name, config, false);
    }
  } catch (err) {
    await herder.stopAll();
    await samsa.close();
    throw err;
  }
  const restPort = await rest.start();
  return {
    herder,
    restPort,
    stop: async () => {
      await rest.stop();
      await herder.stopAll();
      await samsa.close();
    },
  };
}
