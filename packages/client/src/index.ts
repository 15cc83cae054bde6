// The public surface of @samsa/client.
export { Samsa } from './samsa.js';
export type { SamsaConfig } from './samsa.js';

export { Admin } from './admin/admin.js';
export type { AclBinding, AclBindingFilter, AclOperation, AclPatternType, AclPermissionType, AclResourceType } from './admin/acls.js';
export type {
  CommittedOffset,
  DeletedOffset,
  GroupDescription,
  GroupMemberDescription,
  ListedGroup,
  PartitionGroupLag,
} from './admin/groups.js';
export type {
  AbortTransactionSpec,
  ListedTransaction,
  ListTransactionsOptions,
  ProducerState,
  TransactionDescription,
} from './admin/transactions.js';
export type {
  AlterConfigsOptions,
  BrokerConfigAlteration,
  BrokerConfigDescription,
  BrokerResource,
  ClusterDescription,
  ConfigEntry,
  ConfigSource,
  CreatedTopic,
  CreateTopicsOptions,
  NewPartitions,
  RecordsToDelete,
  DeletedRecords,
  NewTopic,
  OffsetQuery,
  ElectLeadersOptions,
  OngoingPartitionReassignment,
  PartitionReassignment,
  PartitionReassignmentResult,
  ElectionType,
  PartitionElectionResult,
  PartitionDescription,
  TopicConfigAlteration,
  TopicConfigDescription,
  TopicDescription,
  AdminDeps,
} from './admin/admin.js';

export { Producer } from './producer/producer.js';
export type {
  BatchMetadata,
  BatchRecord,
  Message,
  ProducerDeps,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
  SendCallOptions,
  TopicMessagesBatch,
  Transaction,
} from './producer/producer.js';
export type { ConsumerGroupMetadata, TransactionOffsets, TransactionState } from './producer/transactionManager.js';
export { Sender } from './producer/sender.js';
export type { Acks, ProduceBatch, ProduceBatchResult, SendOptions, SenderDeps } from './producer/sender.js';
export { DeliveryTimeoutError, MaxBlockTimeoutError } from './producer/errors.js';
export { defineTopic } from './producer/topic.js';
export type { TopicDescriptor } from './producer/topic.js';
export { defaultPartitioner, roundRobinPartitioner } from './producer/partitioner.js';
export type { Partitioner, PartitionerArgs } from './producer/partitioner.js';

export { Consumer, DeserializationError } from './consumer/consumer.js';
export type {
  AutoOffsetReset,
  ConsumerDeps,
  ConsumerOptions,
  ConsumerRecord,
  IsolationLevel,
  PartitionLag,
  PollOptions,
  SeekOffset,
  TopicPartition,
} from './consumer/consumer.js';

export { GroupConsumer } from './consumer/group/groupConsumer.js';
export type {
  Batch,
  EachBatchPayload,
  EachMessagePayload,
  GroupConsumerOptions,
  GroupDeps,
  MemberState,
  OffsetToCommit,
  RebalanceListener,
  RunOptions,
} from './consumer/group/groupConsumer.js';
export {
  BUILTIN_ASSIGNORS,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from './consumer/group/assignors.js';
export type { AssignorMember, GroupAssignment, PartitionAssignor, RebalanceProtocol } from './consumer/group/assignors.js';
export { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from './consumer/group/protocol.js';
export type { Assignment, Subscription, TopicPartitions } from './consumer/group/protocol.js';
export { GroupRouter } from './consumer/group/coordinator.js';
export type { Coordinator } from './consumer/group/coordinator.js';
export { GrpcGroupsConnection, grpcGroupsConnectionFactory } from './consumer/group/groupsConnection.js';
export type { GroupsConnection, GroupsConnectionFactory } from './consumer/group/groupsConnection.js';

export { Instrumentation } from './instrumentation.js';
export type {
  BatchProcessPayload,
  ClientEvents,
  ConsumerEvents,
  InstrumentationEvent,
  Listener,
  OffsetsByTopic,
  RemoveListener,
} from './instrumentation.js';

export { serdes } from './serdes.js';
export type { Serde, SerdeType } from './serdes.js';

export { Cluster } from './cluster/cluster.js';
export type { ClusterDeps, ClusterOptions, LeaderRoute, TopicLookup } from './cluster/cluster.js';
export type { BrokerInfo, ClusterInfo, PartitionInfo, TopicInfo } from './cluster/metadata.js';
export { listOffsets } from './cluster/offsets.js';
export type { OffsetSpec, PartitionOffset } from './cluster/offsets.js';

export { brokerAddress } from './connection/connection.js';
export type { BrokerConnection, ConnectionFactory, RequestOptions } from './connection/connection.js';
export { GrpcConnection, errorFromGrpc, grpcConnectionFactory } from './connection/grpcConnection.js';
export type { GrpcConnectionOptions } from './connection/grpcConnection.js';
export { ConnectionPool } from './connection/pool.js';
export { channelCredentials, checkSaslOptions, saslExchange } from './connection/security.js';
export type { ConnectionSecurity, SaslMechanismName, SaslOptions, SslOptions } from './connection/security.js';

export {
  BrokerNotAvailableError,
  ControllerQuorumUnavailableError,
  CorruptMessageError,
  FencedLeaderEpochError,
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidProducerEpochError,
  InvalidTxnStateError,
  ProducerFencedError,
  TransactionAbortedError,
  InvalidRecordError,
  InvalidReplicationFactorError,
  InvalidRequestError,
  InvalidRequiredAcksError,
  InvalidTimestampError,
  InvalidTopicError,
  LeaderNotAvailableError,
  MessageTooLargeError,
  NotControllerError,
  NotEnoughReplicasAfterAppendError,
  NotEnoughReplicasError,
  NotLeaderOrFollowerError,
  OffsetOutOfRangeError,
  LogTruncationError,
  RecordListTooLargeError,
  RequestTimedOutError,
  SaslAuthenticationError,
  IllegalSaslStateError,
  SamsaAggregateError,
  SamsaClosedError,
  SamsaConnectionError,
  SamsaError,
  TopicAlreadyExistsError,
  UnknownLeaderEpochError,
  UnknownServerError,
  UnknownTopicOrPartitionError,
  UnsupportedCompressionTypeError,
  errorFromCode,
  isRetriable,
  needsMetadataRefresh,
} from './errors.js';
export type { ConnectionErrorOptions, SamsaErrorOptions } from './errors.js';

export { Retrier, DEFAULT_RETRY, backoffMs, resolveRetryOptions } from './retry.js';
export type { ResolvedRetryOptions, RetrierDeps, RetryContext, RetryOptions } from './retry.js';
export { seededRandom, systemClock, systemRandom } from './clock.js';
export type { Clock, Random } from './clock.js';
export { consoleLogger, noopLogger } from './logger.js';
export type { LogLevel, Logger } from './logger.js';

export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from './wire.js';
export type {
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  FetchRequest,
  FetchResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from './wire.js';
