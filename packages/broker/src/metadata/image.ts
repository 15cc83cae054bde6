/**
 * The broker's view of cluster metadata: which brokers exist, which topics and partitions, who
 * leads each partition and which replicas are in sync. The broker reads it through
 * `MetadataSource`, implemented by a follower of the controller quorum's metadata log
 * (QuorumMetadataSource).
 */
import type { AclBinding, AclBindingFilter, OngoingReassignment, ScramCredentialImage } from '@samsa/metadata';
import type { DescribeQuorumResponse } from '@samsa/protocol';
import type { ScramAlterations, ScramAlterResult } from './controllerForwarder.js';

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack?: string;
  /** Every advertised listener, `NAME://HOST:PORT,...`; absent: host:port serves every client. */
  endpoints?: string;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  /** Bumped on every change of leader, ISR or replicas (AlterPartition's compare-and-set). */
  partitionEpoch: number;
  replicas: number[];
  isr: number[];
  /** KIP-455: replicas a running reassignment adds / removes; absent when none runs. */
  addingReplicas?: number[];
  removingReplicas?: number[];
}

export interface TopicInfo {
  name: string;
  topicId: string;
  /** Only the explicitly set configs; defaults are applied by effectiveTopicConfig. */
  configs: Record<string, string>;
  partitions: PartitionInfo[];
  isInternal: boolean;
}

export interface CreateTopicRequest {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** Per-topic outcome: the created topic, or an error code with a sentence. */
export type TopicResult = { name: string; errorCode: 0; topic: TopicInfo } | { name: string; errorCode: number; errorMessage: string };

/**
 * What one applied batch of metadata changed, in order: deletions first, then creations, then
 * changes to existing topics: their configs, then their partitions (new leader, leader epoch, ISR
 * or replicas).
 */
export type MetadataChange =
  | { type: 'topicCreated'; topic: TopicInfo }
  | { type: 'topicDeleted'; topic: TopicInfo }
  /** The explicitly set configs of an existing topic changed; `topic` as it is now. */
  | { type: 'topicConfigChanged'; topic: TopicInfo }
  /** `topic` as it is now; `partitions` only the changed ones (each in its new state). */
  | { type: 'partitionsChanged'; topic: TopicInfo; partitions: PartitionInfo[] }
  /**
   * The dynamic broker configs that apply to this broker changed (`--entity-type brokers`): the
   * cluster-wide defaults overlaid with this broker's own, under broker names (log.retention.ms).
   */
  | { type: 'brokerConfigsChanged'; configs: DynamicBrokerConfigs };

/** Dynamic broker configs as they apply to one broker: the cluster-wide default and its own. */
export interface DynamicBrokerConfigs {
  readonly clusterDefault: Readonly<Record<string, string>>;
  readonly broker: Readonly<Record<string, string>>;
}

/** One resource of an IncrementalAlterConfigs request (Kafka's numbering, as on the wire). */
export interface AlterConfigsRequest {
  /** 2 topic, 4 broker. */
  resourceType: number;
  resourceName: string;
  /** operation: 0 SET, 1 DELETE. */
  configs: Array<{ name: string; operation: number; value: string }>;
}

export interface AlterConfigsResult {
  resourceType: number;
  resourceName: string;
  errorCode: number;
  errorMessage: string;
}

/** One partition's outcome of ElectLeaders (error 0, ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ...). */
export interface ElectLeadersResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string;
}

/** Per-topic outcome of a deletion. */
export interface DeleteTopicResult {
  name: string;
  errorCode: number;
  errorMessage?: string;
}

/** An AllocateProducerIds answer: ids [start, start + length) on success. */
export interface ProducerIdBlockResult {
  errorCode: number;
  errorMessage: string;
  start: bigint;
  length: number;
}

/** One topic of a CreatePartitions request: its new total partition count. */
export interface CreatePartitionsItem {
  name: string;
  count: number;
}

/** One partition of an AlterPartitionReassignments request: the target replicas, or null to cancel. */
export interface ReassignmentItem {
  topic: string;
  partition: number;
  replicas: number[] | null;
}

/** One partition's outcome of AlterPartitionReassignments. */
export interface ReassignmentResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string;
}

/** One CreateAcls result. */
export interface AclCreateResult {
  errorCode: number;
  errorMessage: string;
}

/** One DeleteAcls filter's result: the ACLs it removed. */
export interface AclDeleteResult {
  errorCode: number;
  errorMessage: string;
  deleted: AclBinding[];
}

export interface MetadataSource {
  readonly clusterId: string;
  readonly controllerId: number;
  brokers(): BrokerInfo[];
  topic(name: string): TopicInfo | undefined;
  topics(): TopicInfo[];
  /**
   * Creates topics. `timeoutMs` bounds the whole operation (reaching the controller, and seeing
   * the change in this broker's metadata).
   */
  createTopics(requests: CreateTopicRequest[], validateOnly: boolean, timeoutMs?: number): Promise<TopicResult[]>;
  deleteTopics(names: string[], timeoutMs?: number): Promise<DeleteTopicResult[]>;
  /** Kafka's CreatePartitions: grows each topic to `count` partitions; `timeoutMs` as for createTopics. */
  createPartitions(requests: CreatePartitionsItem[], validateOnly: boolean, timeoutMs?: number): Promise<DeleteTopicResult[]>;
  /**
   * Sets or deletes configs (Kafka's IncrementalAlterConfigs), one result per resource in order;
   * `timeoutMs` as for createTopics.
   */
  incrementalAlterConfigs(resources: AlterConfigsRequest[], validateOnly: boolean, timeoutMs?: number): Promise<AlterConfigsResult[]>;
  /**
   * Kafka's ElectLeaders (electionType 0 PREFERRED, 1 UNCLEAN) for `partitions` (empty: all), one
   * result per partition; `timeoutMs` as for createTopics.
   */
  electLeaders(
    electionType: number,
    partitions: Array<{ topic: string; partition: number }>,
    timeoutMs?: number,
  ): Promise<ElectLeadersResult[]>;
  /**
   * Kafka's AlterPartitionReassignments (KIP-455), forwarded to the active controller; one result
   * per item, in order; `timeoutMs` as for createTopics.
   */
  alterPartitionReassignments(items: ReassignmentItem[], timeoutMs?: number): Promise<ReassignmentResult[]>;
  /** Kafka's ListPartitionReassignments from this broker's image: those running among `partitions` (all when absent). */
  listPartitionReassignments(partitions?: Array<{ topic: string; partition: number }>): OngoingReassignment[];
  /** The controller quorum as its active controller describes it. */
  describeQuorum(): Promise<DescribeQuorumResponse>;
  /** A block of producer ids from the active controller (AllocateProducerIds). */
  allocateProducerIds(): Promise<ProducerIdBlockResult>;
  /** Every ACL in this broker's metadata (the same array until ACLs change). */
  acls(): readonly AclBinding[];
  /** Kafka's CreateAcls, forwarded to the active controller; `timeoutMs` as for createTopics. */
  createAcls(creations: AclBinding[], timeoutMs?: number): Promise<AclCreateResult[]>;
  /** Kafka's DeleteAcls, forwarded to the active controller; `timeoutMs` as for createTopics. */
  deleteAcls(filters: AclBindingFilter[], timeoutMs?: number): Promise<AclDeleteResult[]>;
  /** AlterUserScramCredentials through the active controller (absent: this source has no controller). */
  alterUserScramCredentials?(request: ScramAlterations, timeoutMs?: number): Promise<ScramAlterResult[]>;
  /** A user's SCRAM credential as the metadata log holds it (absent: no SCRAM users at all). */
  scramCredential?(user: string, mechanism: string): ScramCredentialImage | undefined;
  scramUsers?(): Array<{ name: string; credentials: ScramCredentialImage[] }>;
  /** Dynamic broker configs of a resource: a broker id, or '' for the cluster-wide default. */
  brokerConfigs(resourceName: string): Readonly<Record<string, string>>;
  /** Called after each committed change, in order. Returns an unsubscribe function. */
  subscribe(listener: (change: MetadataChange) => void): () => void;
  close(): Promise<void>;
}
