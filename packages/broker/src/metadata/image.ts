/**
 * The broker's view of cluster metadata: which brokers exist, which topics and partitions, who
 * leads each partition and which replicas are in sync. The broker reads it through
 * `MetadataSource`; today a single node keeps it itself (LocalMetadataSource), and the controller
 * issue replaces that stand-in with a follower of the controller quorum's metadata log behind the
 * same interface.
 */

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack?: string;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  /** Bumped on every change of leader, ISR or replicas (AlterPartition's compare-and-set). */
  partitionEpoch: number;
  replicas: number[];
  isr: number[];
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
export type TopicResult =
  | { name: string; errorCode: 0; topic: TopicInfo }
  | { name: string; errorCode: number; errorMessage: string };

export type MetadataChange =
  | { type: 'topicCreated'; topic: TopicInfo }
  | { type: 'topicDeleted'; topic: TopicInfo };

export interface MetadataSource {
  readonly clusterId: string;
  readonly controllerId: number;
  brokers(): BrokerInfo[];
  topic(name: string): TopicInfo | undefined;
  topics(): TopicInfo[];
  createTopics(requests: CreateTopicRequest[], validateOnly: boolean): Promise<TopicResult[]>;
  deleteTopics(names: string[]): Promise<Array<{ name: string; errorCode: number; errorMessage?: string }>>;
  /** Called after each committed change, in order. Returns an unsubscribe function. */
  subscribe(listener: (change: MetadataChange) => void): () => void;
  close(): Promise<void>;
}
