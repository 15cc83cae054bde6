// The public surface of @samsa/metadata: the cluster metadata model shared by controllers (which
// write it) and brokers (which follow it), not shipped to clients: KRaft-style records, the
// in-memory image they replay into, the deltas brokers act on, topic configs and listeners.
export {
  METADATA_RECORD_FORMAT,
  MetadataRecordError,
  checkRecord,
  decodeMetadataEntry,
  decodeMetadataRecord,
  encodeMetadataEntry,
  encodeMetadataRecord,
} from './records.js';
export type {
  AccessControlEntryRecord,
  RemoveAccessControlEntryRecord,
  BrokerControlledShutdownRecord,
  ConfigRecord,
  ConfigResourceType,
  FenceBrokerRecord,
  MetadataRecord,
  MetadataRecordType,
  PartitionChangeRecord,
  PartitionRecord,
  ProducerIdsBlockRecord,
  RegisterBrokerRecord,
  RemoveTopicRecord,
  RemoveUserScramCredentialRecord,
  UserScramCredentialRecord,
  TopicRecord,
  UnfenceBrokerRecord,
  UnregisterBrokerRecord,
} from './records.js';
export { MetadataImage, MetadataReplayError, NO_OFFSET, compareStrings } from './image.js';
export type { BrokerRegistration, OngoingReassignment, ScramCredentialImage, TopicImage } from './image.js';
export { localChanges } from './delta.js';
export type { BrokerDelta, ConfigDelta, LocalChanges, LocalPartitionChange, MetadataDelta, PartitionDelta, TopicRef } from './delta.js';
export {
  NO_LEADER,
  isReassigning,
  mergePartitionChange,
  originalReplicas,
  partitionFromRecord,
  partitionProblem,
  sameReplicaList,
  targetReplicas,
} from './partitions.js';
export type { PartitionChangeFields, PartitionRegistration } from './partitions.js';
export * from './topicConfig.js';
export * from './listeners.js';
export * from './acls.js';
