// The public surface of @samsa/broker.
export * from './log/index.js';
export { startBrokerNode, type BrokerNode, type BrokerNodeConfig } from './node.js';
export { ReplicaManager, type FetchParams, type FetchPartitionResult, type ProducePartitionResult } from './replicaManager.js';
export { Partition } from './partition.js';
export { Purgatory, DelayedOperation } from './purgatory.js';
export { realTimers, type Timers } from './timers.js';
export { LocalMetadataSource } from './metadata/localMetadata.js';
export type { BrokerInfo, MetadataSource, PartitionInfo, TopicInfo, MetadataChange, CreateTopicRequest, TopicResult } from './metadata/image.js';
export { DataDirLock } from './dataDirLock.js';
