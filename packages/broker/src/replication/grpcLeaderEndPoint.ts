/**
 * LeaderEndPoint over gRPC: samsa.v1.Replication/ReplicaFetchStream to the leader's advertised
 * address, one long-lived stream carrying this follower's fetches (pipeline.proto), so a fetch
 * costs a stream message rather than a new HTTP/2 stream. int64s cross as decimal strings; record
 * bytes pass through untouched.
 */
import {
  CHANNEL_OPTIONS,
  PipelinedClient,
  grpc,
  nestByTopic,
  replicationProto,
  toBigInt,
  toWire,
  type ReplicaFetchRequest,
  type ReplicaFetchResponse__Output,
  type ReplicationClient,
} from '@samsa/protocol';
import type { LeaderEndPoint, ReplicaFetchParams, ReplicaFetchPartitionResult, ReplicaFetchResult } from './leaderEndPoint.js';

/** Reconnect to a restarted leader quickly (gRPC's default backoff grows to 120 s). */
const REPLICA_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...CHANNEL_OPTIONS,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

export class GrpcLeaderEndPoint implements LeaderEndPoint {
  readonly description: string;
  private readonly client: ReplicationClient;
  private readonly fetches: PipelinedClient<ReplicaFetchRequest, ReplicaFetchResponse__Output>;

  constructor(leaderId: number, host: string, port: number) {
    this.description = `broker ${leaderId} at ${host}:${port}`;
    const Ctor = replicationProto().samsa.v1.Replication;
    const client = new Ctor(`${host}:${port}`, grpc.credentials.createInsecure(), REPLICA_CHANNEL_OPTIONS);
    this.client = client;
    this.fetches = new PipelinedClient(() => client.ReplicaFetchStream(), 'follower.ReplicaFetch');
  }

  async fetch(params: ReplicaFetchParams, timeoutMs: number): Promise<ReplicaFetchResult> {
    return fromResponse(await this.fetches.call(toRequest(params), { timeoutMs }));
  }

  close(): void {
    this.fetches.close();
    this.client.close();
  }
}

function toRequest(params: ReplicaFetchParams): ReplicaFetchRequest {
  return {
    replicaId: params.replicaId,
    replicaEpoch: toWire(params.replicaEpoch),
    maxWaitMs: params.maxWaitMs,
    minBytes: params.minBytes,
    maxBytes: params.maxBytes,
    sessionId: params.sessionId ?? 0,
    sessionEpoch: params.sessionEpoch ?? -1,
    forgottenTopics: nestByTopic(params.forgotten ?? [], (p) => p.partition),
    topics: nestByTopic(params.partitions, (p) => ({
      partition: p.partition,
      currentLeaderEpoch: p.currentLeaderEpoch,
      fetchOffset: toWire(p.fetchOffset),
      lastFetchedEpoch: p.lastFetchedEpoch,
      logStartOffset: toWire(p.logStartOffset),
      partitionMaxBytes: p.maxBytes,
    })),
  };
}

function fromResponse(res: ReplicaFetchResponse__Output): ReplicaFetchResult {
  const partitions: ReplicaFetchPartitionResult[] = [];
  for (const t of res.topics) {
    for (const p of t.partitions) {
      partitions.push({
        topic: t.name,
        partition: p.partition,
        errorCode: p.errorCode,
        errorMessage: p.errorMessage,
        highWatermark: toBigInt(p.highWatermark, -1n),
        logStartOffset: toBigInt(p.logStartOffset, -1n),
        logEndOffset: toBigInt(p.logEndOffset, -1n),
        ...(p.divergingEpoch
          ? { divergingEpoch: { epoch: p.divergingEpoch.epoch, endOffset: toBigInt(p.divergingEpoch.endOffset, -1n) } }
          : {}),
        records: p.records,
      });
    }
  }
  return { errorCode: res.errorCode, errorMessage: res.errorMessage, partitions, sessionId: res.sessionId };
}
