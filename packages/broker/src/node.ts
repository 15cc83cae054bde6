/**
 * A broker node: metadata source, replica manager, the client gRPC service and the background
 * schedulers (interval flush, retention), assembled and torn down in order. Graceful shutdown
 * stops accepting requests, completes waiting operations, flushes and closes every log.
 */
import { CHANNEL_OPTIONS, DEFAULT_TOPIC_CONFIG, clientProto, grpc, type TopicConfig } from '@samsa/protocol';
import { pino, type Logger } from 'pino';
import { DataDirLock } from './dataDirLock.js';
import { LocalMetadataSource } from './metadata/localMetadata.js';
import type { MetadataSource } from './metadata/image.js';
import { ReplicaManager } from './replicaManager.js';
import { clientServiceHandlers } from './server/clientService.js';
import { realTimers, type Timers } from './timers.js';

export interface BrokerNodeConfig {
  nodeId: number;
  /** Address to bind, e.g. 127.0.0.1:9092 (port 0 picks a free port). */
  listenHost: string;
  listenPort: number;
  /** Address clients are told to use; defaults to the bound one. */
  advertisedHost?: string;
  advertisedPort?: number;
  dataDir: string;
  logger?: Logger;
  timers?: Timers;
  topicDefaults?: Partial<TopicConfig>;
  defaultNumPartitions?: number;
  /** How often flush.ms is checked (Kafka: log.flush.scheduler.interval.ms). */
  flushCheckIntervalMs?: number;
  /** How often retention runs (Kafka: log.retention.check.interval.ms, 5 minutes). */
  retentionCheckIntervalMs?: number;
  maxFetchWaitMs?: number;
}

export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly replicaManager: ReplicaManager;
  readonly metadata: MetadataSource;
  close(): Promise<void>;
}

export async function startBrokerNode(config: BrokerNodeConfig): Promise<BrokerNode> {
  const logger = config.logger ?? pino({ name: 'samsa', level: 'info' }).child({ nodeId: config.nodeId });
  const timers = config.timers ?? realTimers;
  const lock = DataDirLock.acquire(config.dataDir);
  const server = new grpc.Server(CHANNEL_OPTIONS);
  let boundPort: number;
  try {
    boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${config.listenHost}:${config.listenPort}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new Error(`cannot listen on ${config.listenHost}:${config.listenPort}: ${err.message}`)) : resolve(port),
      ),
    );
  } catch (err) {
    lock.release();
    throw err;
  }
  const host = config.advertisedHost ?? config.listenHost;
  const port = config.advertisedPort ?? boundPort;
  const metadata = new LocalMetadataSource({
    dataDir: config.dataDir,
    self: { nodeId: config.nodeId, host, port },
    defaultNumPartitions: config.defaultNumPartitions ?? 1,
  });
  const replicaManager = new ReplicaManager({
    brokerId: config.nodeId,
    dataDir: config.dataDir,
    metadata,
    timers,
    logger,
    topicDefaults: { ...DEFAULT_TOPIC_CONFIG, ...config.topicDefaults },
  });
  try {
    replicaManager.startup();
  } catch (err) {
    server.forceShutdown();
    lock.release();
    throw err;
  }
  server.addService(clientProto().samsa.v1.Samsa.service, clientServiceHandlers({
    metadata, replicaManager, logger, maxFetchWaitMs: config.maxFetchWaitMs,
  }));

  const flushTimer = timers.setInterval(() => replicaManager.runHousekeeping(), config.flushCheckIntervalMs ?? 200);
  const retentionTimer = timers.setInterval(() => replicaManager.runRetention(), config.retentionCheckIntervalMs ?? 300_000);
  logger.info({ host, port, dataDir: config.dataDir, partitions: replicaManager.partitionCount }, 'broker started');

  let closing: Promise<void> | undefined;
  return {
    nodeId: config.nodeId,
    host,
    port,
    replicaManager,
    metadata,
    close() {
      closing ??= (async () => {
        timers.clearInterval(flushTimer);
        timers.clearInterval(retentionTimer);
        // Refuse new calls, let in-flight ones finish (bounded), then flush and close the logs.
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => { server.forceShutdown(); resolve(); }, 2_000);
          server.tryShutdown(() => { clearTimeout(force); resolve(); });
          // Waiting fetches and produces hold calls open; answering them lets tryShutdown finish.
          replicaManager.completeDelayedOperations();
        });
        await replicaManager.shutdown();
        await metadata.close();
        lock.release();
        logger.info('broker stopped');
      })();
      return closing;
    },
  };
}
