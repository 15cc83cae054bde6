/** The client's picture of the cluster, parsed from Metadata answers. */
import { brokerAddress } from '../connection/connection.js';
import type { BrokerMetadataWire, TopicMetadataWire } from '../wire.js';

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** host:port, the key of its connection. */
  address: string;
}

export interface PartitionInfo {
  partition: number;
  /** -1 when no leader is known. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  /** A partition-level error from the broker (e.g. LEADER_NOT_AVAILABLE), 0 for none. */
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  /** The topic's id in Kafka's Uuid text form ('' from a broker that does not send it). */
  topicId: string;
  isInternal: boolean;
  /** Sorted by partition id. */
  partitions: PartitionInfo[];
  configs: Record<string, string>;
}

export interface ClusterInfo {
  clusterId: string;
  controllerId: number;
  brokers: BrokerInfo[];
}

export function parseBroker(b: BrokerMetadataWire): BrokerInfo {
  return { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ? b.rack : null, address: brokerAddress(b.host, b.port) };
}

export function parseTopic(t: TopicMetadataWire): TopicInfo {
  const partitions = t.partitions
    .map(
      (p): PartitionInfo => ({
        partition: p.partition,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: [...p.replicas],
        isr: [...p.isr],
        offlineReplicas: [...p.offlineReplicas],
        errorCode: p.errorCode,
      }),
    )
    .sort((a, b) => a.partition - b.partition);
  return { name: t.name, topicId: t.topicId ?? '', isInternal: t.isInternal, partitions, configs: { ...t.configs } };
}
