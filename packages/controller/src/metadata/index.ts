// The metadata state machine of @samsa/controller: records, image, deltas and the controller's
// request logic. Pure: no Raft wiring, network or disk.
export {
  METADATA_RECORD_FORMAT, MetadataRecordError, checkRecord, decodeRecord, decodeRecordBatch, encodeRecord, encodeRecordBatch,
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

export { assignReplicas, leastLoadedIndex } from './placement.js';
export { BrokerHeartbeatManager } from './heartbeats.js';
export {
  TOPIC_CONFIG_KEYS, MAX_TOPIC_NAME_LENGTH, topicCollisionKey, validateKnownTopicConfigs, validateTopicName,
} from './validation.js';
export type { TopicConfigValidator } from './validation.js';

export { QuorumController, UNCLEAN_LEADER_ELECTION_ENABLE } from './controller.js';
export type {
  AllocateProducerIdsResponse, AlterConfigOp, AlterConfigsResource, AlterConfigsResult, AlterPartitionRequest,
  AlterPartitionResponse, BrokerHeartbeatRequest, BrokerHeartbeatResponse, ControllerResult, CreateTopicRequest,
  CreateTopicResult, DeleteTopicResult, Failure, FenceStaleBrokersResponse, Outcome, QuorumControllerOptions,
  RegisterBrokerRequest, RegisterBrokerResponse, UnregisterBrokerResponse,
} from './controller.js';
