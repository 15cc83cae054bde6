/**
 * The samsa.v1.Replication gRPC service, the leader side of follower fetches: translates the wire
 * (int64 as strings) to ReplicaManager.fetchForReplica and back. Per-partition problems are error
 * codes in the answer; only a malformed request as a whole gets a top-level error.
 */
import {
  ErrorCode,
  grpc,
  nestByTopic,
  toBigInt,
  toWire,
  type ReplicaFetchRequest__Output,
  type ReplicaFetchResponse,
  type ReplicationHandlers,
  type WriteTxnMarkersRequest__Output,
  type WriteTxnMarkersResponse,
} from '@samsa/protocol';
import { AclOperation } from '@samsa/metadata';
import { pipelinedHandler, type PipelineHub } from '@samsa/server';
import type { RequestAuthorizer, RequestIdentity } from '../security/authorizerService.js';
import { identityOf } from './principal.js';
import type { Logger } from 'pino';
import type { ReplicaFetchParams } from '../replication/leaderEndPoint.js';
import type { ReplicaManager } from '../replicaManager.js';
import { ReplicaFetchSessionCache } from '../replication/fetchSessions.js';
import { brokerPipelineOptions, widenFlowControlWindow } from './flowControl.js';

export interface ReplicationServiceDeps {
  brokerId: number;
  replicaManager: ReplicaManager;
  logger: Logger;
  /** Upper bound on a follower's long poll, whatever it asks. */
  maxFetchWaitMs?: number;
  /** Open ReplicaFetch streams, ended on shutdown. */
  pipelines?: PipelineHub;
  /** The followers' incremental fetch sessions (KIP-227); a new cache when absent. */
  fetchSessions?: ReplicaFetchSessionCache;
  /** CLUSTER_ACTION is checked on every replica fetch; undefined: allow all. */
  authorizer?: RequestAuthorizer;
}

export function replicationServiceHandlers(deps: ReplicationServiceDeps): ReplicationHandlers {
  const { replicaManager, logger } = deps;
  const maxWaitMs = deps.maxFetchWaitMs ?? 30_000;
  // The followers' incremental fetch sessions (KIP-227, replication/fetchSessions.ts).
  const sessions = deps.fetchSessions ?? new ReplicaFetchSessionCache({ now: Date.now, random: Math.random });
  return {
    ReplicaFetch: (
      call: grpc.ServerUnaryCall<ReplicaFetchRequest__Output, ReplicaFetchResponse>,
      callback: grpc.sendUnaryData<ReplicaFetchResponse>,
    ) => {
      widenFlowControlWindow(call);
      Promise.resolve()
        .then(() => replicaFetch(call.request, identityOf(call, 'ReplicaFetch')))
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            logger.error({ err, rpc: 'ReplicaFetch' }, 'request failed');
            callback({ code: grpc.status.INTERNAL, details: `ReplicaFetch failed: ${err instanceof Error ? err.message : String(err)}` });
          },
        );
    },
    // The same fetches over one long-lived stream per follower (proto/samsa/v1/pipeline.proto).
    ReplicaFetchStream: pipelinedHandler(
      'ReplicaFetchStream',
      (req, call) => replicaFetch(req, identityOf(call, 'ReplicaFetchStream')),
      brokerPipelineOptions(logger, deps.pipelines),
    ),
    // A transaction coordinator's markers for partitions this broker leads (txn/README.md).
    WriteTxnMarkers: (
      call: grpc.ServerUnaryCall<WriteTxnMarkersRequest__Output, WriteTxnMarkersResponse>,
      callback: grpc.sendUnaryData<WriteTxnMarkersResponse>,
    ) => {
      Promise.resolve()
        .then(() => writeTxnMarkers(call.request, identityOf(call, 'WriteTxnMarkers')))
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            logger.error({ err, rpc: 'WriteTxnMarkers' }, 'request failed');
            callback({
              code: grpc.status.INTERNAL,
              details: `WriteTxnMarkers failed: ${err instanceof Error ? err.message : String(err)}`,
            });
          },
        );
    },
  };

  async function writeTxnMarkers(req: WriteTxnMarkersRequest__Output, who: RequestIdentity): Promise<WriteTxnMarkersResponse> {
    // Kafka's rule for WriteTxnMarkers: CLUSTER_ACTION on the cluster (inter-broker).
    if (deps.authorizer !== undefined && !deps.authorizer.cluster(who, AclOperation.CLUSTER_ACTION)) {
      return {
        results: req.markers.map((m) => ({
          topic: m.topic,
          partition: m.partition,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'Cluster authorization failed: WriteTxnMarkers needs CLUSTER_ACTION on the cluster',
        })),
      };
    }
    const bad = req.markers.find((m) => toBigInt(m.producerId, -1n) < 0n || m.producerEpoch < 0 || m.producerEpoch > 32_767);
    if (bad) {
      return {
        results: req.markers.map((m) => ({
          topic: m.topic,
          partition: m.partition,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `a transaction marker needs a producer id >= 0 and an epoch in [0, 32767] (got ${bad.producerId}, ${bad.producerEpoch})`,
        })),
      };
    }
    const results = await replicaManager.writeTxnMarkers(
      Math.min(Math.max(req.timeoutMs, 1), 60_000),
      req.markers.map((m) => ({
        topic: m.topic,
        partition: m.partition,
        producerId: toBigInt(m.producerId),
        producerEpoch: m.producerEpoch,
        coordinatorEpoch: m.coordinatorEpoch,
        committed: m.committed,
      })),
    );
    return { results };
  }

  async function replicaFetch(req: ReplicaFetchRequest__Output, who: RequestIdentity): Promise<ReplicaFetchResponse> {
    // Kafka's rule for a follower's fetch: CLUSTER_ACTION on the cluster (brokers are normally super users).
    if (deps.authorizer !== undefined && !deps.authorizer.cluster(who, AclOperation.CLUSTER_ACTION)) {
      return {
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed: a replica fetch needs CLUSTER_ACTION on the cluster',
        topics: [],
      };
    }
    if (req.replicaId < 0 || req.replicaId === deps.brokerId) {
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `replica id ${req.replicaId} cannot fetch from broker ${deps.brokerId}`,
        topics: [],
      };
    }
    const params: ReplicaFetchParams = {
      replicaId: req.replicaId,
      replicaEpoch: toBigInt(req.replicaEpoch, -1n),
      maxWaitMs: Math.min(Math.max(req.maxWaitMs, 0), maxWaitMs),
      minBytes: Math.max(req.minBytes, 0),
      maxBytes: req.maxBytes > 0 ? req.maxBytes : 10 * 1024 * 1024,
      partitions: req.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partition,
          currentLeaderEpoch: p.currentLeaderEpoch,
          fetchOffset: toBigInt(p.fetchOffset),
          lastFetchedEpoch: p.lastFetchedEpoch,
          logStartOffset: toBigInt(p.logStartOffset),
          maxBytes: p.partitionMaxBytes > 0 ? p.partitionMaxBytes : 1024 * 1024,
        })),
      ),
      sessionId: req.sessionId,
      sessionEpoch: req.sessionEpoch,
      forgotten: req.forgottenTopics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition }))),
    };
    const fetch = sessions.begin(params);
    if (!fetch.ok) return { errorCode: fetch.errorCode, errorMessage: fetch.errorMessage, topics: [], sessionId: 0 };
    const results = sessions.respond(fetch, await replicaManager.fetchForReplica({ ...params, partitions: fetch.partitions }));
    const topics = nestByTopic(results, (r) => ({
      partition: r.partition,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      highWatermark: toWire(r.highWatermark),
      logStartOffset: toWire(r.logStartOffset),
      logEndOffset: toWire(r.logEndOffset),
      divergingEpoch: r.divergingEpoch ? { epoch: r.divergingEpoch.epoch, endOffset: toWire(r.divergingEpoch.endOffset) } : null,
      records: r.records,
    }));
    return { errorCode: ErrorCode.NONE, errorMessage: '', topics, sessionId: sessions.sessionIdOf(fetch) };
  }
}
