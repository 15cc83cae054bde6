/**
 * A broker node: metadata source, replica manager, the client gRPC service and the background
 * schedulers (interval flush, retention), assembled and torn down in order. Graceful shutdown
 * stops accepting requests, completes waiting operations, flushes and closes every log.
 *
 * With `controllers`, metadata comes from the controller quorum: the node binds its port first
 * (registration advertises it), registers, catches up on the metadata log and waits to be
 * unfenced before it reports 'broker started'; until then client calls answer UNAVAILABLE (which
 * clients retry).
 *
 * The node serves the replication API (samsa.v1.Replication) on the same port: followers fetch
 * from it for the partitions it leads, and it fetches from the leaders of those it follows.
 */
import { CHANNEL_OPTIONS, DEFAULT_TOPIC_CONFIG, clientProto, grpc, instrumentServer, replicationProto, type TopicConfig } from '@samsa/protocol';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DataDirLock } from './dataDirLock.js';
import type { ControllerAddress } from './metadata/controllerChannel.js';
import type { MetadataSource } from './metadata/image.js';
import { QuorumMetadataSource } from './metadata/quorumMetadata.js';
import type { BrokerMetrics } from './metrics.js';
import { ReplicaManager } from './replicaManager.js';
import { GrpcLeaderEndPoint } from './replication/grpcLeaderEndPoint.js';
import type { ReplicaFetcherConfig } from './replication/replicaFetcher.js';
import { clientServiceHandlers } from './server/clientService.js';
import { replicationServiceHandlers } from './server/replicationService.js';
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
  /** Kafka's replica.lag.time.max.ms (30000). */
  replicaLagTimeMaxMs?: number;
  /** Follower fetch settings (replica.fetch.wait.max.ms, backoff, ...). */
  replicaFetch?: Partial<ReplicaFetcherConfig>;
  /** The controller quorum's voters (controller.quorum.voters). */
  controllers: ControllerAddress[];
  /** Kafka's broker.heartbeat.interval.ms (2000). */
  heartbeatIntervalMs?: number;
  rack?: string;
  /** Aborts a start that is still waiting for the controller quorum. */
  signal?: AbortSignal;
  /** Registers the broker's metrics (metrics.ts) and instruments every gRPC service; none without it. */
  metrics?: Registry;
}

export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly replicaManager: ReplicaManager;
  readonly metadata: MetadataSource;
  /** With config.metrics: the broker's metrics (setGroupLagProvider feeds the consumer-group lag gauge). */
  readonly metrics: BrokerMetrics | undefined;
  close(): Promise<void>;
}

export async function startBrokerNode(config: BrokerNodeConfig): Promise<BrokerNode> {
  const logger = config.logger ?? pino({ name: 'samsa', level: 'info' }).child({ nodeId: config.nodeId });
  const timers = config.timers ?? realTimers;
  // prom-client is loaded only when metrics are asked for (it costs ~100 ms of start-up CPU).
  const metrics = config.metrics
    ? new (await import('./metrics.js')).BrokerMetrics(config.metrics, () => replicaManager?.localPartitions() ?? [])
    : undefined;
  const lock = DataDirLock.acquire(config.dataDir);
  const server = new grpc.Server(CHANNEL_OPTIONS);
  // Every service added below (and any added later) is timed and counted per method.
  if (metrics) instrumentServer(server, metrics.rpc);
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
  let quorum: QuorumMetadataSource;
  let replicaManager: ReplicaManager | undefined;
  try {
    quorum = new QuorumMetadataSource({
      brokerId: config.nodeId,
      host,
      port,
      ...(config.rack === undefined ? {} : { rack: config.rack }),
      controllers: config.controllers,
      ...(config.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: config.heartbeatIntervalMs }),
      logger: logger.child({ component: 'metadata' }),
      timers,
    });
    replicaManager = new ReplicaManager({
      brokerId: config.nodeId,
      dataDir: config.dataDir,
      metadata: quorum,
      timers,
      logger,
      ...(metrics === undefined ? {} : { metrics }),
      topicDefaults: { ...DEFAULT_TOPIC_CONFIG, ...config.topicDefaults },
      replication: {
        ...(config.replicaLagTimeMaxMs === undefined ? {} : { replicaLagTimeMaxMs: config.replicaLagTimeMaxMs }),
        ...(config.replicaFetch === undefined ? {} : { fetcher: config.replicaFetch }),
        leaderEndPoint: (leaderId) => {
          const b = quorum.metadataImage.broker(leaderId);
          return b === undefined ? undefined : new GrpcLeaderEndPoint(leaderId, b.host, b.port);
        },
        alterPartition: quorum,
        isReplicaIsrEligible: (brokerId, brokerEpoch) => {
          const b = quorum.metadataImage.broker(brokerId);
          return b !== undefined && !b.fenced && !b.inControlledShutdown && BigInt(b.brokerEpoch) === brokerEpoch;
        },
        brokerEpoch: () => {
          const epoch = quorum.status.brokerEpoch;
          return epoch === undefined ? -1n : BigInt(epoch);
        },
      },
    });
    // Subscribes before the quorum source starts, so no metadata change goes unseen.
    replicaManager.startup();
  } catch (err) {
    server.forceShutdown();
    lock.release();
    throw err;
  }
  let serving = false;
  server.addService(clientProto().samsa.v1.Samsa.service, gateUntil(clientServiceHandlers({
    metadata: quorum, replicaManager, logger, maxFetchWaitMs: config.maxFetchWaitMs,
  }), () => serving, () => `broker ${config.nodeId} is starting: ${quorum.describeProgress()}`));
  server.addService(replicationProto().samsa.v1.Replication.service, gateUntil(replicationServiceHandlers({
    brokerId: config.nodeId, replicaManager, logger,
  }), () => serving, () => `broker ${config.nodeId} is starting: ${quorum.describeProgress()}`));

  quorum.start();
  try {
    await waitUntilReady(quorum, logger, timers, config.signal);
  } catch (err) {
    server.forceShutdown();
    await quorum.close();
    await replicaManager.shutdown();
    lock.release();
    throw err;
  }
  serving = true;

  const flushTimer = timers.setInterval(() => replicaManager.runHousekeeping(), config.flushCheckIntervalMs ?? 200);
  const retentionTimer = timers.setInterval(() => replicaManager.runRetention(), config.retentionCheckIntervalMs ?? 300_000);
  logger.info({
    host, port, dataDir: config.dataDir, partitions: replicaManager.partitionCount,
    brokerEpoch: quorum.status.brokerEpoch, metadataOffset: quorum.appliedOffset, clusterId: quorum.clusterId,
  }, 'broker started');

  let closing: Promise<void> | undefined;
  return {
    nodeId: config.nodeId,
    host,
    port,
    replicaManager,
    metadata: quorum,
    metrics,
    close() {
      closing ??= (async () => {
        timers.clearInterval(flushTimer);
        timers.clearInterval(retentionTimer);
        // Controlled shutdown first (bounded): the controller moves leadership away while we still serve.
        await quorum.close();
        // Refuse new calls, let in-flight ones finish (bounded), then flush and close the logs.
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => { server.forceShutdown(); resolve(); }, 2_000);
          server.tryShutdown(() => { clearTimeout(force); resolve(); });
          // Waiting fetches and produces hold calls open; answering them lets tryShutdown finish.
          replicaManager.completeDelayedOperations();
        });
        await replicaManager.shutdown();
        lock.release();
        logger.info('broker stopped');
      })();
      return closing;
    },
  };
}

/** Waits for the quorum source to be ready, logging where it is every few seconds. */
async function waitUntilReady(quorum: QuorumMetadataSource, logger: Logger, timers: Timers, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  let lastPhase = quorum.phase;
  const progress = timers.setInterval(() => {
    const phase = quorum.phase;
    const status = quorum.status;
    const fields = { phase, controller: status.controllerId, appliedOffset: status.appliedOffset, highWatermark: status.highWatermark };
    if (phase !== lastPhase) logger.info(fields, `waiting for the controller quorum: ${quorum.describeProgress()}`);
    else logger.info(fields, `still waiting for the controller quorum: ${quorum.describeProgress()}`);
    lastPhase = phase;
  }, 5_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new Error(`broker start aborted while ${quorum.describeProgress()}`));
      signal?.addEventListener('abort', onAbort, { once: true });
      quorum.ready().then(resolve, reject).finally(() => signal?.removeEventListener('abort', onAbort));
    });
  } finally {
    timers.clearInterval(progress);
  }
}

/** Until `isOpen()`, every call answers UNAVAILABLE with `why()` (clients treat it as retriable). */
function gateUntil<H extends grpc.UntypedServiceImplementation>(handlers: H, isOpen: () => boolean, why: () => string): H {
  const gated: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    gated[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (isOpen()) return (handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
      callback({ code: grpc.status.UNAVAILABLE, details: why() });
    }) as grpc.UntypedHandleCall;
  }
  return gated as H;
}
