// The public surface of @samsa/broker.
export * from './log/index.js';
export {
  SECURITY_PROTOCOLS,
  parseSaslMechanisms,
  parseSecurityProtocolMap,
  securityProtocolOf,
  type SecurityProtocol,
} from './security/saslConfig.js';
export { SASL_MECHANISMS, type SaslMechanism } from './security/sasl.js';
export { principalOf } from './security/grpcAuthentication.js';
export { parseSslClientAuth, type SslClientAuth, type TlsListenerConfig } from './security/tls.js';
export { startBrokerNode, type BrokerListener, type BrokerNode, type BrokerNodeConfig } from './node.js';
export { ReplicaManager, type FetchParams, type FetchPartitionResult, type ProducePartitionResult } from './replicaManager.js';
export {
  Partition,
  type FollowerFetchRequest,
  type FollowerFetchResult,
  type PartitionListener,
  type ReplicationContext,
} from './partition.js';
export { DEFAULT_REPLICA_LAG_TIME_MAX_MS, type ReplicationOptions } from './replicaManager.js';
export {
  LeaderState,
  type FollowerState,
  type IsrChangeProposal,
  type IsrState,
  type LeaderStateConfig,
} from './replication/leaderState.js';
export type {
  EpochEndOffset,
  LeaderEndPoint,
  ReplicaFetchParams,
  ReplicaFetchPartitionRequest,
  ReplicaFetchPartitionResult,
  ReplicaFetchResult,
} from './replication/leaderEndPoint.js';
export { GrpcLeaderEndPoint } from './replication/grpcLeaderEndPoint.js';
export { DEFAULT_REPLICA_FETCHER_CONFIG, ReplicaFetcherManager, type ReplicaFetcherConfig } from './replication/replicaFetcher.js';
export type { AlterPartitionChannel, AlterPartitionItem, AlterPartitionItemResult } from './replication/alterPartition.js';
export { Purgatory, DelayedOperation } from './purgatory.js';
export {
  QuorumMetadataSource,
  type BrokerLifecyclePhase,
  type QuorumMetadataOptions,
  type QuorumMetadataStatus,
} from './metadata/quorumMetadata.js';
export { ControllerUnavailableError, type ControllerAddress } from './metadata/controllerChannel.js';
export { clusterIdOf } from './metadata/imageView.js';
export type {
  BrokerInfo,
  MetadataSource,
  PartitionInfo,
  TopicInfo,
  MetadataChange,
  CreateTopicRequest,
  TopicResult,
  DeleteTopicResult,
} from './metadata/image.js';
export {
  DEFAULT_GROUP_COORDINATOR_SETTINGS,
  GroupCoordinator,
  OFFSETS_TOPIC,
  type GroupCoordinatorSettings,
} from './group/coordinator.js';
export {
  GroupCoordinatorState,
  type GroupCoordinatorConfig,
  type GroupOffsetsView,
  type GroupStateName,
} from './group/groupCoordinatorState.js';
export { javaStringHashCode, partitionFor } from './group/hash.js';
// Types only: prom-client is loaded when a node is started with metrics, not by importing the package.
export type { BrokerMetrics, BrokerMetricEvents, GroupLag, GroupLagProvider } from './metrics.js';
export { AUTHORIZER_CLASS_NAMES, StandardAuthorizer, parseSuperUsers, type AuthorizerConfig } from './security/authorizer.js';
export {
  DEFAULT_AUDIT_INTERVAL_MS,
  DenialAuditLog,
  RequestAuthorizer,
  allowAllAuthorizer,
  type RequestIdentity,
} from './security/authorizerService.js';
