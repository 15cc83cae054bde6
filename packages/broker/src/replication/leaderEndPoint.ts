/**
 * How a follower's fetcher reaches the leader of the partitions it follows (Kafka's
 * LeaderEndPoint), in domain types (offsets as bigint). The real one speaks gRPC
 * (grpcLeaderEndPoint.ts); tests put a fake behind the same interface.
 */

export interface ReplicaFetchPartitionRequest {
  topic: string;
  partition: number;
  currentLeaderEpoch: number;
  /** The follower's LEO. */
  fetchOffset: bigint;
  /** Leader epoch of the last batch the follower holds; -1 when none. */
  lastFetchedEpoch: number;
  logStartOffset: bigint;
  maxBytes: number;
}

export interface ReplicaFetchParams {
  replicaId: number;
  /** The follower's broker epoch; -1n when not registered. */
  replicaEpoch: bigint;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  /**
   * A full fetch: every partition to fetch. An incremental fetch (sessionEpoch > 0): only those
   * added to the session or changed since the last fetch (fetchSessions.ts).
   */
  partitions: ReplicaFetchPartitionRequest[];
  /** KIP-227 fetch session (proto/samsa/v1/replication.proto); absent: a full fetch without one. */
  sessionId?: number;
  sessionEpoch?: number;
  /** Incremental fetch: partitions to drop from the session. */
  forgotten?: PartitionId[];
}

export interface PartitionId {
  topic: string;
  partition: number;
}

export interface EpochEndOffset {
  epoch: number;
  endOffset: bigint;
}

export interface ReplicaFetchPartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string;
  highWatermark: bigint;
  logStartOffset: bigint;
  logEndOffset: bigint;
  /** Set when the follower's log diverges from the leader's (records are then empty). */
  divergingEpoch?: EpochEndOffset;
  records: Buffer;
}

export interface ReplicaFetchResult {
  errorCode: number;
  errorMessage: string;
  /** Every partition of a full fetch; of an incremental one only those with something new. */
  partitions: ReplicaFetchPartitionResult[];
  /** The fetch session the leader keeps for this follower; 0 or absent when none. */
  sessionId?: number;
}

export interface LeaderEndPoint {
  /** For logs: which broker and where. */
  readonly description: string;
  /**
   * One fetch (a long poll of up to params.maxWaitMs on the leader). Rejects when the leader
   * cannot be reached or does not answer within `timeoutMs`.
   */
  fetch(params: ReplicaFetchParams, timeoutMs: number): Promise<ReplicaFetchResult>;
  close(): void;
}
