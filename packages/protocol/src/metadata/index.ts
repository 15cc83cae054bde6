// The cluster metadata model shared by controllers (which write it) and brokers (which follow it):
// KRaft-style records, the in-memory image they replay into, and the deltas brokers act on.
export {
  METADATA_RECORD_FORMAT, MetadataRecordError, checkRecord, decodeMetadataEntry, decodeMetadataRecord, encodeMetadataEntry,
  encodeMetadataRecord,
} from './records.js';
export type {
  BrokerControlledShutdownRecord, ConfigRecord, ConfigResourceType, FenceBrokerRecord, MetadataRecord, MetadataRecordType,
  PartitionChangeRecord, PartitionRecord, ProducerIdsBlockRecord, RegisterBrokerRecord, RemoveTopicRecord, TopicRecord,
  UnfenceBrokerRecord, UnregisterBrokerRecord,
} from './records.js';
export { MetadataImage, MetadataReplayError, NO_OFFSET, compareStrings } from './image.js';
export type { BrokerRegistration, TopicImage } from './image.js';
export { localChanges } from './delta.js';
export type { BrokerDelta, ConfigDelta, LocalChanges, LocalPartitionChange, MetadataDelta, PartitionDelta, TopicRef } from './delta.js';
export {
  NO_LEADER, changeElectingOfflineLeader, changeRemovingBroker, electLeader, mergePartitionChange, partitionFromRecord,
  partitionProblem, sameReplicaList,
} from './partitions.js';
export type { ElectionPolicy, ElectionResult, PartitionChangeFields, PartitionRegistration } from './partitions.js';
