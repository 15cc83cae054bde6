// The public surface of @samsa/broker.
export * from './log/index.js';
export { startBrokerNode, type BrokerNode, type BrokerNodeConfig } from './node.js';
export { ReplicaManager, type FetchParams, type FetchPartitionResult, type ProducePartitionResult } from './replicaManager.js';
export { Partition } from './partition.js';
export { Purgatory, DelayedOperation } from './purgatory.js';
export { realTimers, type Timers } from './timers.js';
export {
  QuorumMetadataSource, type BrokerLifecyclePhase, type QuorumMetadataOptions, type QuorumMetadataStatus,
} from './metadata/quorumMetadata.js';
export { ControllerUnavailableError, type ControllerAddress } from './metadata/controllerChannel.js';
export { clusterIdOf } from './metadata/imageView.js';
export type {
  BrokerInfo, MetadataSource, PartitionInfo, TopicInfo, MetadataChange, CreateTopicRequest, TopicResult, DeleteTopicResult,
} from './metadata/image.js';
export { DataDirLock } from './dataDirLock.js';
