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
import { randomBytes } from 'node:crypto';
import { DEFAULT_LISTENER_NAME, DEFAULT_TOPIC_CONFIG, formatEndpoints, type Endpoint, type TopicConfig } from '@samsa/metadata';
import { CHANNEL_OPTIONS, clientProto, groupsProto, grpc, replicationProto } from '@samsa/protocol';
import { PIPELINED, PipelineHub, instrumentServer, type PipelinedHandler } from '@samsa/server';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DataDirLock, realTimers, type Timers } from '@samsa/server';
import { GroupCoordinator, OFFSETS_TOPIC, type GroupCoordinatorSettings } from './group/coordinator.js';
import type { AuthorizerConfig } from './security/authorizer.js';
import { RequestAuthorizer } from './security/authorizerService.js';
import { ProducerIdManager } from './server/producerIdManager.js';
import { GrpcTxnMarkerChannel } from './txn/markerChannel.js';
import { TransactionStateManager, type TransactionStateManagerSettings } from './txn/transactionStateManager.js';
import { groupsServiceHandlers } from './group/groupsService.js';
import type { ControllerAddress } from './metadata/controllerChannel.js';
import type { MetadataSource } from './metadata/image.js';
import { QuorumMetadataSource } from './metadata/quorumMetadata.js';
import type { BrokerMetrics } from './metrics.js';
import { ReplicaFetchSessionCache } from './replication/fetchSessions.js';
import { ReplicaManager } from './replicaManager.js';
import { GrpcLeaderEndPoint } from './replication/grpcLeaderEndPoint.js';
import type { LogCleanerConfig } from './log/index.js';
import type { ReplicaFetcherConfig } from './replication/replicaFetcher.js';
import { DEFAULT_CONNECTIONS_MAX_IDLE_MS, DEFAULT_SOCKET_REQUEST_MAX_BYTES } from './kafka/connection.js';
import { LateKafkaHandler } from './kafka/kafkaApis.js';
import { kafkaApis } from './kafka/index.js';
import { startDualListener, type DualListener } from './kafka/listener.js';
import { requireAuthentication } from './security/grpcAuthentication.js';
import { grpcSaslHandlers } from './security/grpcSaslApis.js';
import { GrpcSaslSessions } from './security/grpcSaslSessions.js';
import { clientServiceHandlers } from './server/clientService.js';
import { replicationServiceHandlers } from './server/replicationService.js';
import {
  SASL_MECHANISMS,
  SaslServerAuthenticator,
  credentialFromImage,
  type SaslMechanism,
  type SaslServerOptions,
} from './security/sasl.js';
import { usesSasl, usesTls, type SecurityProtocol } from './security/saslConfig.js';
import { tlsServerOptions, type TlsListenerConfig } from './security/tls.js';

/** One named listener (Kafka's listeners + advertised.listeners entries of the same name). */
export interface BrokerListener {
  name: string;
  /** Address to bind (port 0 picks a free port). */
  host: string;
  port: number;
  /** Address clients that connect to this listener are told to use; defaults to the bound one. */
  advertisedHost?: string;
  advertisedPort?: number;
  /** Kafka's listener.security.protocol.map entry for this listener (PLAINTEXT by default). */
  securityProtocol?: SecurityProtocol;
}

export interface BrokerNodeConfig {
  nodeId: number;
  /** Address to bind, e.g. 127.0.0.1:9092 (port 0 picks a free port); ignored with `listeners`. */
  listenHost?: string;
  listenPort?: number;
  /** Address clients are told to use; defaults to the bound one. Ignored with `listeners`. */
  advertisedHost?: string;
  advertisedPort?: number;
  /**
   * Several named listeners, each on its own port (one gRPC server each): a Metadata request is
   * answered with every broker's advertised address on the listener it arrived on.
   */
  listeners?: BrokerListener[];
  /** Kafka's inter.broker.listener.name: whose advertised address is registered as host:port (first listener by default). */
  interBrokerListenerName?: string;
  dataDir: string;
  logger?: Logger;
  timers?: Timers;
  topicDefaults?: Partial<TopicConfig>;
  defaultNumPartitions?: number;
  /** How often flush.ms is checked (Kafka: log.flush.scheduler.interval.ms). */
  flushCheckIntervalMs?: number;
  /** How often retention runs (Kafka: log.retention.check.interval.ms, 5 minutes). */
  retentionCheckIntervalMs?: number;
  /** How often every replica's HW is checkpointed (Kafka: replica.high.watermark.checkpoint.interval.ms, 5000). */
  highWatermarkCheckpointIntervalMs?: number;
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
  /** Log compaction: log.cleaner.enable, log.cleaner.backoff.ms, ... (log/cleaner.ts). */
  logCleaner?: Partial<LogCleanerConfig>;
  /** Group coordinator settings (group.initial.rebalance.delay.ms, offsets.retention.minutes, ...). */
  groups?: Partial<GroupCoordinatorSettings>;
  /** Transaction coordinator settings (transaction.max.timeout.ms, transaction.state.log.*, ...). */
  transactions?: Partial<TransactionStateManagerSettings>;
  /** Registers the broker's metrics (metrics.ts) and instruments every gRPC service; none without it. */
  metrics?: Registry;
  /** Kafka's socket.request.max.bytes (100 MiB): a larger Kafka request frame closes its connection. */
  socketRequestMaxBytes?: number;
  /** Kafka's connections.max.idle.ms (600000): a Kafka connection idle this long is closed. */
  connectionsMaxIdleMs?: number;
  /** Kafka's auto.create.topics.enable (true): a Metadata request for an unknown topic creates it. */
  autoCreateTopicsEnable?: boolean;
  /**
   * The ACL authorizer (Kafka's authorizer.class.name, super.users, allow.everyone.if.no.acl.found;
   * security/README.md). Undefined: no authorization, every request allowed.
   */
  authorizer?: AuthorizerConfig;
  /** How often a repeated denial is logged again (audit.log.interval.ms here; default 60 s). */
  auditLogIntervalMs?: number;
  /** Kafka's sasl.enabled.mechanisms for SASL listeners (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 by default). */
  saslEnabledMechanisms?: SaslMechanism[];
  /** ssl.* for SSL/SASL_SSL listeners (PEM files; security/tls.ts). */
  ssl?: TlsListenerConfig;
}

export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly replicaManager: ReplicaManager;
  readonly metadata: MetadataSource;
  readonly groupCoordinator: GroupCoordinator;
  readonly transactionCoordinator: TransactionStateManager;
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
  const specs: BrokerListener[] = config.listeners ?? [
    {
      name: DEFAULT_LISTENER_NAME,
      host: config.listenHost ?? '127.0.0.1',
      port: config.listenPort ?? 0,
      ...(config.advertisedHost === undefined ? {} : { advertisedHost: config.advertisedHost }),
      ...(config.advertisedPort === undefined ? {} : { advertisedPort: config.advertisedPort }),
    },
  ];
  if (specs.length === 0) throw new Error('a broker needs at least one listener');
  const interName = config.interBrokerListenerName ?? specs[0]!.name;
  if (!specs.some((s) => s.name === interName))
    throw new Error(`inter-broker listener ${interName} is not among the listeners (${specs.map((s) => s.name).join(', ')})`);
  for (const spec of specs) {
    const protocol = spec.securityProtocol ?? 'PLAINTEXT';
    if (usesTls(protocol) && config.ssl === undefined)
      throw new Error(`listener ${spec.name} is ${protocol}: it needs ssl.keystore.location`);
    // Replication and broker-to-broker calls are gRPC, which a SASL listener does not serve yet.
    if (spec.name === interName && protocol !== 'PLAINTEXT')
      throw new Error(`the inter-broker listener ${interName} must be PLAINTEXT for now (inter-broker authentication is not built)`);
  }
  // SCRAM credentials come from the metadata image, which exists once the quorum source does.
  let credentialImage: MetadataSource | undefined;
  const saslOptions: Omit<SaslServerOptions, 'nonce'> = {
    enabledMechanisms: config.saslEnabledMechanisms ?? [...SASL_MECHANISMS],
    credentials: {
      credential: (user, mechanism) => {
        const c = credentialImage?.scramCredential?.(user, mechanism);
        return c === undefined ? undefined : credentialFromImage(c);
      },
    },
    decoySecret: randomBytes(32),
  };
  const tlsOptions = config.ssl === undefined ? undefined : tlsServerOptions(config.ssl);
  const tlsFor = (spec: BrokerListener) => (usesTls(spec.securityProtocol ?? 'PLAINTEXT') && tlsOptions ? { tls: tlsOptions } : {});
  const newSaslAuthenticator = () => new SaslServerAuthenticator({ ...saslOptions, nonce: () => randomBytes(24).toString('base64') });
  const saslAuthenticatorFor = (spec: BrokerListener) =>
    usesSasl(spec.securityProtocol ?? 'PLAINTEXT') ? { saslAuthenticator: newSaslAuthenticator } : {};
  const lock = DataDirLock.acquire(config.dataDir);
  const bound: Array<{
    spec: BrokerListener;
    server: grpc.Server;
    port: number;
    listener: DualListener;
    grpcSessions: GrpcSaslSessions | undefined;
  }> = [];
  // The Kafka wire protocol's API layer, set once the services it calls exist (kafka/README.md).
  const kafka = new LateKafkaHandler();
  try {
    for (const spec of specs) {
      const server = new grpc.Server(CHANNEL_OPTIONS);
      const securityProtocol = spec.securityProtocol ?? 'PLAINTEXT';
      const grpcSessions = usesSasl(securityProtocol) ? new GrpcSaslSessions(newSaslAuthenticator) : undefined;
      // On SASL and SSL listeners every service added below (and later) knows each call's
      // principal and refuses calls whose connection has not authenticated (security/README.md, "gRPC").
      if (securityProtocol !== 'PLAINTEXT')
        requireAuthentication(server, { listenerName: spec.name, securityProtocol, ...(grpcSessions ? { sessions: grpcSessions } : {}) });
      // Every service added below (and any added later) is timed and counted per method.
      if (metrics) instrumentServer(server, metrics.rpc);
      // One address, both protocols: gRPC connections are handed to `server`, Kafka ones stay (kafka/listener.ts).
      const listener = await startDualListener({
        name: spec.name,
        host: spec.host,
        port: spec.port,
        grpcServer: server,
        grpcCredentials: grpc.ServerCredentials.createInsecure(),
        kafka,
        maxRequestBytes: config.socketRequestMaxBytes ?? DEFAULT_SOCKET_REQUEST_MAX_BYTES,
        maxIdleMs: config.connectionsMaxIdleMs ?? DEFAULT_CONNECTIONS_MAX_IDLE_MS,
        logger,
        ...saslAuthenticatorFor(spec),
        ...(grpcSessions ? { grpcSessions } : {}),
        ...tlsFor(spec),
      }).catch((err: Error) => {
        server.forceShutdown();
        throw new Error(`cannot listen on ${spec.host}:${spec.port}${config.listeners ? ` (listener ${spec.name})` : ''}: ${err.message}`);
      });
      bound.push({ spec, server, port: listener.port, listener, grpcSessions });
    }
  } catch (err) {
    for (const b of bound) {
      b.listener.close();
      b.server.forceShutdown();
    }
    lock.release();
    throw err;
  }
  const advertised: Endpoint[] = bound.map((b) => ({
    name: b.spec.name,
    host: b.spec.advertisedHost ?? b.spec.host,
    port: b.spec.advertisedPort ?? b.port,
  }));
  const { host, port } = advertised.find((e) => e.name === interName)!;
  const forceShutdownAll = () => {
    for (const b of bound) {
      b.listener.close();
      b.server.forceShutdown();
    }
  };
  let quorum: QuorumMetadataSource;
  let replicaManager: ReplicaManager | undefined;
  let groupCoordinator: GroupCoordinator;
  let txnCoordinator: TransactionStateManager;
  try {
    quorum = new QuorumMetadataSource({
      brokerId: config.nodeId,
      host,
      port,
      ...(config.rack === undefined ? {} : { rack: config.rack }),
      ...(config.listeners === undefined ? {} : { endpoints: formatEndpoints(advertised) }),
      controllers: config.controllers,
      ...(config.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: config.heartbeatIntervalMs }),
      logger: logger.child({ component: 'metadata' }),
      timers,
    });
    credentialImage = quorum;
    replicaManager = new ReplicaManager({
      brokerId: config.nodeId,
      dataDir: config.dataDir,
      metadata: quorum,
      timers,
      logger,
      ...(metrics === undefined ? {} : { metrics }),
      topicDefaults: { ...DEFAULT_TOPIC_CONFIG, ...config.topicDefaults },
      ...(config.logCleaner === undefined ? {} : { cleaner: config.logCleaner }),
      onLogDirFailure: (offline) => quorum.logDirFailed(offline.dir),
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
    // After the replica manager: it must open a partition before the coordinator loads it.
    groupCoordinator = new GroupCoordinator({
      brokerId: config.nodeId,
      metadata: quorum,
      replicaManager,
      timers,
      logger,
      ...(config.groups ? { settings: config.groups } : {}),
    });
    groupCoordinator.startup();
    const gcForMarkers = groupCoordinator;
    // A marker on __consumer_offsets completes the transactional offsets of that producer.
    replicaManager.onTxnMarkerAppended = (marker) => {
      if (marker.topic === OFFSETS_TOPIC) gcForMarkers.onTxnMarker(marker.partition, marker.producerId, marker.committed);
    };
    const producerIds = new ProducerIdManager(quorum.allocateProducerIds.bind(quorum));
    txnCoordinator = new TransactionStateManager({
      brokerId: config.nodeId,
      metadata: quorum,
      replicaManager,
      timers,
      logger,
      producerIds: () => producerIds.generateProducerId(),
      markerChannel: new GrpcTxnMarkerChannel((id) => {
        const b = quorum.metadataImage.broker(id);
        return b === undefined ? undefined : { host: b.host, port: b.port };
      }),
      ...(config.transactions ? { settings: config.transactions } : {}),
    });
    txnCoordinator.startup();
    const tc = txnCoordinator;
    metrics?.setTransactionStatesProvider(() => tc.coordinatorStates());
    // samsa_consumer_group_lag: for the groups this broker coordinates, the high watermark of each
    // committed partition minus the committed offset, where this broker holds a replica of it (on
    // a cluster where every broker holds every partition: all of them).
    const rm = replicaManager;
    const gc = groupCoordinator;
    metrics?.setGroupLagProvider(() =>
      gc.committedOffsets().flatMap((g) =>
        g.offsets.flatMap((o) => {
          const p = rm.getPartition(o.topic, o.partition);
          if (p === undefined) return [];
          const lag = p.highWatermark - o.offset;
          return [{ group: g.groupId, topic: o.topic, partition: o.partition, lag: lag < 0n ? 0n : lag }];
        }),
      ),
    );
  } catch (err) {
    forceShutdownAll();
    lock.release();
    throw err;
  }
  const authorizer = new RequestAuthorizer({
    ...(config.authorizer === undefined ? {} : { config: config.authorizer }),
    acls: () => quorum.acls(),
    logger: logger.child({ component: 'audit' }),
    now: () => timers.now(),
    ...(config.auditLogIntervalMs === undefined ? {} : { auditIntervalMs: config.auditLogIntervalMs }),
  });
  if (config.authorizer !== undefined) {
    logger.info(
      { superUsers: config.authorizer.superUsers, allowEveryoneIfNoAclFound: config.authorizer.allowEveryoneIfNoAclFound },
      'ACL authorizer enabled',
    );
  }
  let serving = false;
  const starting = () => `broker ${config.nodeId} is starting: ${quorum.describeProgress()}`;
  // Pipelined Produce, Fetch and ReplicaFetch streams: ended on shutdown so tryShutdown can finish.
  const pipelines = new PipelineHub();
  // The followers' incremental fetch sessions (KIP-227), shared by every listener's Replication service.
  const fetchSessions = new ReplicaFetchSessionCache({ now: Date.now, random: Math.random });
  metrics?.setFetchSessions(fetchSessions);
  const replication = gateUntil(
    replicationServiceHandlers({ brokerId: config.nodeId, replicaManager, logger, pipelines, fetchSessions, authorizer }),
    () => serving,
    starting,
  );
  for (const { spec, server, grpcSessions } of bound) {
    server.addService(
      clientProto().samsa.v1.Samsa.service,
      gateUntil(
        {
          ...grpcSaslHandlers({ sessions: grpcSessions, listenerName: spec.name, logger }),
          ...clientServiceHandlers({
            metadata: quorum,
            replicaManager,
            logger,
            maxFetchWaitMs: config.maxFetchWaitMs,
            autoCreateTopicsEnable: config.autoCreateTopicsEnable ?? true,
            pipelines,
            authorizer,
            transactions: txnCoordinator,
            ...(config.listeners === undefined ? {} : { listenerName: spec.name }),
          }),
        },
        () => serving,
        starting,
      ),
    );
    server.addService(replicationProto().samsa.v1.Replication.service, replication);
    server.addService(
      groupsProto().samsa.v1.Groups.service,
      gateUntil(
        groupsServiceHandlers(groupCoordinator, logger, config.listeners === undefined ? undefined : spec.name, authorizer, txnCoordinator),
        () => serving,
        starting,
      ),
    );
  }

  kafka.set(
    kafkaApis({
      brokerId: config.nodeId,
      metadata: quorum,
      replicaManager,
      groupCoordinator,
      transactionCoordinator: txnCoordinator,
      logger: logger.child({ component: 'kafka' }),
      maxFetchWaitMs: config.maxFetchWaitMs ?? 30_000,
      autoCreateTopicsEnable: config.autoCreateTopicsEnable ?? true,
      authorizer,
      dataDir: config.dataDir,
      // Addresses on the connection's listener when the node names its listeners, else the registered host:port (as the gRPC path).
      listenerNameOf: (name) => (config.listeners === undefined ? undefined : name),
      isServing: () => serving,
      startingReason: starting,
      ...(metrics === undefined ? {} : { observer: metrics.kafka }),
    }),
  );

  quorum.start();
  try {
    await waitUntilReady(quorum, logger, timers, config.signal);
  } catch (err) {
    forceShutdownAll();
    groupCoordinator.shutdown();
    txnCoordinator.shutdown();
    await quorum.close();
    await replicaManager.shutdown();
    lock.release();
    throw err;
  }
  serving = true;

  const flushTimer = timers.setInterval(() => replicaManager.runHousekeeping(), config.flushCheckIntervalMs ?? 200);
  const retentionTimer = timers.setInterval(() => replicaManager.runRetention(), config.retentionCheckIntervalMs ?? 300_000);
  const hwCheckpointTimer = timers.setInterval(
    () => replicaManager.checkpointHighWatermarks(),
    config.highWatermarkCheckpointIntervalMs ?? 5_000,
  );
  logger.info(
    {
      host,
      port,
      ...(config.listeners === undefined ? {} : { listeners: formatEndpoints(advertised) }),
      dataDir: config.dataDir,
      partitions: replicaManager.partitionCount,
      brokerEpoch: quorum.status.brokerEpoch,
      metadataOffset: quorum.appliedOffset,
      clusterId: quorum.clusterId,
    },
    'broker started',
  );

  let closing: Promise<void> | undefined;
  return {
    nodeId: config.nodeId,
    host,
    port,
    replicaManager,
    metadata: quorum,
    groupCoordinator,
    transactionCoordinator: txnCoordinator,
    metrics,
    close() {
      closing ??= (async () => {
        timers.clearInterval(flushTimer);
        timers.clearInterval(retentionTimer);
        timers.clearInterval(hwCheckpointTimer);
        // Controlled shutdown first (bounded): the controller moves leadership away while we still serve.
        await quorum.close();
        // Waiting JoinGroup/SyncGroup calls answer NOT_COORDINATOR (they would hold tryShutdown for a rebalance timeout).
        groupCoordinator.shutdown();
        txnCoordinator.shutdown();
        // Refuse new calls, let in-flight ones finish (bounded), then flush and close the logs.
        // Kafka clients reconnect to another broker; their waiting requests are dropped with the connection.
        for (const b of bound) b.listener.close();
        const drained = Promise.all(
          bound.map(
            ({ server }) =>
              new Promise<void>((resolve) => {
                const force = setTimeout(() => {
                  server.forceShutdown();
                  resolve();
                }, 2_000);
                server.tryShutdown(() => {
                  clearTimeout(force);
                  resolve();
                });
              }),
          ),
        );
        // Waiting fetches and produces hold calls open; answering them lets tryShutdown finish.
        // Pipelined streams stay open until ended: each ends once its open calls have answered.
        pipelines.drain();
        replicaManager.completeDelayedOperations();
        await drained;
        await replicaManager.shutdown();
        lock.release();
        logger.info('broker stopped');
      })();
      return closing;
    },
  };
}

/** Waits for the quorum source to be ready, logging where it is every few seconds. */
async function waitUntilReady(
  quorum: QuorumMetadataSource,
  logger: Logger,
  timers: Timers,
  signal: AbortSignal | undefined,
): Promise<void> {
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
      quorum
        .ready()
        .then(resolve, reject)
        .finally(() => signal?.removeEventListener('abort', onAbort));
    });
  } finally {
    timers.clearInterval(progress);
  }
}

/** Until `isOpen()`, every call answers UNAVAILABLE with `why()` (clients treat it as retriable). */
function gateUntil<H extends grpc.UntypedServiceImplementation>(handlers: H, isOpen: () => boolean, why: () => string): H {
  const gated: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const pipelined = (handler as Partial<PipelinedHandler<unknown, unknown>>)[PIPELINED];
    if (pipelined) {
      gated[name] = pipelined({ gate: () => (isOpen() ? undefined : why()) }) as grpc.UntypedHandleCall;
      continue;
    }
    gated[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (isOpen()) return (handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
      callback({ code: grpc.status.UNAVAILABLE, details: why() });
    }) as grpc.UntypedHandleCall;
  }
  return gated as H;
}
