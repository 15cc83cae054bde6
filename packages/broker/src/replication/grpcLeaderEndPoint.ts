/**
 * LeaderEndPoint over gRPC: samsa.v1.Replication/ReplicaFetch to the leader's advertised address.
 * int64s cross as decimal strings; record bytes pass through untouched.
 */
import {
  CHANNEL_OPTIONS, grpc, replicationProto, toBigInt, toWire,
  type ReplicaFetchRequest, type ReplicaFetchResponse__Output, type ReplicationClient,
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
  private readonly inFlight = new Set<grpc.ClientUnaryCall>();

  constructor(leaderId: number, host: string, port: number) {
    this.description = `broker ${leaderId} at ${host}:${port}`;
    const Ctor = replicationProto().samsa.v1.Replication;
    this.client = new Ctor(`${host}:${port}`, grpc.credentials.createInsecure(), REPLICA_CHANNEL_OPTIONS);
  }

  fetch(params: ReplicaFetchParams, timeoutMs: number): Promise<ReplicaFetchResult> {
    return new Promise((resolve, reject) => {
      const call = this.client.ReplicaFetch(toRequest(params), { deadline: Date.now() + Math.max(1, timeoutMs) }, (err, res) => {
        this.inFlight.delete(call);
        if (err || !res) reject(err ?? new Error('empty ReplicaFetch answer'));
        else resolve(fromResponse(res));
      });
      this.inFlight.add(call);
    });
  }

  close(): void {
    for (const call of this.inFlight) call.cancel();
    this.inFlight.clear();
    this.client.close();
  }
}

function toRequest(params: ReplicaFetchParams): ReplicaFetchRequest {
  const topics = new Map<string, ReplicaFetchParams['partitions']>();
  for (const p of params.partitions) {
    let list = topics.get(p.topic);
    if (!list) topics.set(p.topic, (list = []));
    list.push(p);
  }
  return {
    replicaId: params.replicaId,
    replicaEpoch: toWire(params.replicaEpoch),
    maxWaitMs: params.maxWaitMs,
    minBytes: params.minBytes,
    maxBytes: params.maxBytes,
    topics: [...topics].map(([name, parts]) => ({
      name,
      partitions: parts.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: p.currentLeaderEpoch,
        fetchOffset: toWire(p.fetchOffset),
        lastFetchedEpoch: p.lastFetchedEpoch,
        logStartOffset: toWire(p.logStartOffset),
        partitionMaxBytes: p.maxBytes,
      })),
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
        ...(p.divergingEpoch ? { divergingEpoch: { epoch: p.divergingEpoch.epoch, endOffset: toBigInt(p.divergingEpoch.endOffset, -1n) } } : {}),
        records: p.records,
      });
    }
  }
  return { errorCode: res.errorCode, errorMessage: res.errorMessage, partitions };
}
