// The metadata state machine of @samsa/controller: records, image, deltas and the controller's
// request logic. Pure: no Raft wiring, network or disk.
export { assignReplicas, leastLoadedIndex } from './placement.js';
export { BrokerHeartbeatManager } from './heartbeats.js';
export {
  TOPIC_CONFIG_KEYS,
  MAX_TOPIC_NAME_LENGTH,
  topicCollisionKey,
  validateKnownTopicConfigs,
  validateTopicName,
} from './validation.js';
export type { TopicConfigValidator } from './validation.js';

export { QuorumController, UNCLEAN_LEADER_ELECTION_ENABLE, isInternalTopic } from './controller.js';
export type {
  AllocateProducerIdsResponse,
  AlterConfigOp,
  AlterConfigsResource,
  AlterConfigsResult,
  AlterPartitionRequest,
  AlterPartitionResponse,
  BrokerHeartbeatRequest,
  BrokerHeartbeatResponse,
  ControllerResult,
  CreateTopicRequest,
  CreatePartitionsRequest,
  CreatePartitionsResult,
  CreateTopicResult,
  DeleteTopicResult,
  ElectionRequest,
  ElectionResponse,
  ElectionType,
  Failure,
  FenceStaleBrokersResponse,
  Outcome,
  QuorumControllerOptions,
  PartitionElectionResult,
  ReassignPartitionRequest,
  ReassignPartitionResult,
  RegisterBrokerRequest,
  RegisterBrokerResponse,
  UnregisterBrokerResponse,
} from './controller.js';
export { aclId, MAX_ACLS_PER_REQUEST } from './aclControl.js';
export type { CreateAclResult, DeleteAclsFilterResult } from './aclControl.js';
