/**
 * The data path through the Kafka wire protocol: Produce, Fetch, ListOffsets,
 * OffsetForLeaderEpoch and InitProducerId (Kafka's KafkaApis.handleProduceRequest,
 * handleFetchRequest, ...). The same ReplicaManager calls as the gRPC handlers
 * (server/clientService.ts); record batches pass through as the bytes the client sent and the
 * bytes the log holds.
 *
 * Fetch sessions (KIP-227): declined. Every answer carries session_id 0, so clients keep sending
 * full fetches; a request naming a session we never created gets FETCH_SESSION_ID_NOT_FOUND.
 * read_committed (isolation_level 1) reads up to the last stable offset and answers the aborted
 * transactions of what it read, so the consumer drops them (KIP-98); ListOffsets latest under
 * read_committed is the LSO.
 */
import { ApiKey } from '@samsa/kafka';
import { ErrorCode, groupByTopic, protocolError } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { MetadataSource } from '../metadata/image.js';
import { errorOf, type ProducePartitionResult, type ReplicaManager } from '../replicaManager.js';
import { ProducerIdManager } from '../server/producerIdManager.js';
import { AclOperation } from '@samsa/metadata';
import type { RequestAuthorizer } from '../security/authorizerService.js';
import type { TransactionStateManager } from '../txn/transactionStateManager.js';
import { initTransactionalProducerId } from '../txn/txnRequests.js';
import { CLOSE, NO_RESPONSE, type KafkaApiHandler, type KafkaRequestContext } from './kafkaApis.js';

export interface DataApisDeps {
  metadata: MetadataSource;
  replicaManager: ReplicaManager;
  logger: Logger;
  /** Upper bound on a fetch long-poll whatever the client asks. */
  maxFetchWaitMs: number;
  authorizer: RequestAuthorizer;
  /** InitProducerId with a transactional id goes to the transaction coordinator; refused without one. */
  transactions?: TransactionStateManager;
}

const TOPIC_DENIED = 'Topic authorization failed: the principal lacks the ACL this operation needs on the topic';

const EMPTY = Buffer.alloc(0);
/** Kafka's code 53: a broker without a transaction coordinator refuses transactional ids with it. */
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;

interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topicData: Array<{ name: string; partitionData: Array<{ index: number; records: Buffer | null }> }>;
}

interface FetchRequest {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: Array<{
    topic: string;
    partitions: Array<{ partition: number; currentLeaderEpoch: number; fetchOffset: bigint; partitionMaxBytes: number }>;
  }>;
}

interface ListOffsetsRequest {
  isolationLevel?: number;
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; currentLeaderEpoch: number; timestamp: bigint }> }>;
}

interface OffsetForLeaderEpochRequest {
  topics: Array<{ topic: string; partitions: Array<{ partition: number; currentLeaderEpoch: number; leaderEpoch: number }> }>;
}

interface InitProducerIdRequest {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  producerId?: bigint;
  producerEpoch?: number;
}

export function dataApis(deps: DataApisDeps): KafkaApiHandler[] {
  const { replicaManager, logger } = deps;
  const producerIds = new ProducerIdManager(deps.metadata.allocateProducerIds?.bind(deps.metadata));

  const produce: KafkaApiHandler = {
    apiKey: ApiKey.Produce,
    minVersion: 3,
    maxVersion: 9,
    async handle(req: ProduceRequest, ctx: KafkaRequestContext) {
      const entries = req.topicData.flatMap((t) =>
        t.partitionData.map((p) => ({ topic: t.name, partition: p.index, records: p.records ?? EMPTY })),
      );
      const refused = (e: { topic: string; partition: number }, errorCode: number, errorMessage: string): ProducePartitionResult => ({
        topic: e.topic,
        partition: e.partition,
        errorCode,
        errorMessage,
        baseOffset: -1n,
        logAppendTime: -1n,
        logStartOffset: -1n,
      });
      // Kafka's rule: WRITE on each topic; a denied partition is answered TOPIC_AUTHORIZATION_FAILED
      // and nothing of it is appended, the others go ahead.
      const writable = new Map<string, boolean>();
      for (const e of entries)
        if (!writable.has(e.topic)) writable.set(e.topic, deps.authorizer.topic(ctx.identity, AclOperation.WRITE, e.topic));
      const allowed = entries.filter((e) => writable.get(e.topic));
      // Without a transaction coordinator a transactional produce writes nothing (InitProducerId refused its id already).
      // With one, the batches' producer id and epoch carry the transaction: the partition checks them.
      const appended: ProducePartitionResult[] =
        !deps.transactions && req.transactionalId !== null && req.transactionalId !== undefined
          ? allowed.map((e) => refused(e, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported yet'))
          : allowed.length === 0
            ? []
            : await replicaManager.appendRecords(req.acks, req.timeoutMs > 0 ? req.timeoutMs : 30_000, allowed);
      let next = 0;
      const results = entries.map((e) =>
        writable.get(e.topic) ? appended[next++]! : refused(e, ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPIC_DENIED),
      );
      if (req.acks === 0) {
        // Kafka answers nothing to acks=0; on an error it closes the connection so the client
        // refreshes its metadata (the only signal it can get).
        const failed = results.find((r) => r.errorCode !== ErrorCode.NONE);
        return failed ? { [CLOSE]: `acks=0 produce to ${failed.topic}-${failed.partition} failed: ${failed.errorMessage}` } : NO_RESPONSE;
      }
      return {
        throttleTimeMs: 0,
        responses: [...groupByTopic(results)].map(([name, ps]) => ({
          name,
          partitionResponses: ps.map((r) => ({
            index: r.partition,
            errorCode: r.errorCode,
            baseOffset: r.baseOffset,
            logAppendTimeMs: r.logAppendTime,
            logStartOffset: r.logStartOffset,
            recordErrors: (r.recordErrors ?? []).map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })),
            errorMessage: r.errorCode === ErrorCode.NONE ? null : r.errorMessage,
          })),
        })),
      };
    },
  };

  const fetch: KafkaApiHandler = {
    apiKey: ApiKey.Fetch,
    minVersion: 4,
    maxVersion: 12,
    async handle(req: FetchRequest, ctx: KafkaRequestContext) {
      if (req.sessionId !== 0) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
      }
      // A follower's fetch (replica id >= 0) needs CLUSTER_ACTION; a consumer's READ on each topic.
      if (req.replicaId >= 0 && !deps.authorizer.cluster(ctx.identity, AclOperation.CLUSTER_ACTION)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, sessionId: 0, responses: [] };
      }
      const readable = new Map<string, boolean>();
      for (const t of req.topics) {
        if (!readable.has(t.topic))
          readable.set(t.topic, req.replicaId >= 0 || deps.authorizer.topic(ctx.identity, AclOperation.READ, t.topic));
      }
      const denied = req.topics
        .filter((t) => !readable.get(t.topic))
        .map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition,
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            highWatermark: -1n,
            lastStableOffset: -1n,
            logStartOffset: -1n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: EMPTY,
          })),
        }));
      const partitions = req.topics
        .filter((t) => readable.get(t.topic))
        .flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.topic,
            partition: p.partition,
            fetchOffset: p.fetchOffset,
            maxBytes: p.partitionMaxBytes > 0 ? p.partitionMaxBytes : 1024 * 1024,
            currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
          })),
        );
      // Every topic denied: answer at once (an empty fetch still long-polls, as before).
      const results =
        partitions.length === 0 && denied.length > 0
          ? []
          : await replicaManager.fetchMessages({
              maxWaitMs: Math.min(Math.max(req.maxWaitMs, 0), deps.maxFetchWaitMs),
              minBytes: Math.max(req.minBytes, 0),
              maxBytes: req.maxBytes > 0 ? req.maxBytes : 50 * 1024 * 1024,
              partitions,
              isolationLevel: req.isolationLevel === 1 ? 1 : 0,
            });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        sessionId: 0,
        responses: [
          ...denied,
          ...[...groupByTopic(results)].map(([topic, ps]) => ({
            topic,
            partitions: ps.map((r) => ({
              partitionIndex: r.partition,
              errorCode: r.errorCode,
              highWatermark: r.highWatermark,
              lastStableOffset: r.lastStableOffset,
              logStartOffset: r.logStartOffset,
              abortedTransactions: r.abortedTransactions ?? null,
              preferredReadReplica: -1,
              records: r.records,
            })),
          })),
        ],
      };
    },
  };

  const listOffsets: KafkaApiHandler = {
    apiKey: ApiKey.ListOffsets,
    minVersion: 0,
    maxVersion: 7,
    handle(req: ListOffsetsRequest, ctx: KafkaRequestContext) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            try {
              if (!deps.authorizer.topic(ctx.identity, AclOperation.DESCRIBE, t.name))
                throw protocolError('TOPIC_AUTHORIZATION_FAILED', TOPIC_DENIED);
              const found = replicaManager.listOffset(
                t.name,
                p.partitionIndex,
                p.timestamp,
                p.currentLeaderEpoch ?? -1,
                req.isolationLevel === 1 ? 1 : 0,
              );
              return {
                partitionIndex: p.partitionIndex,
                errorCode: 0,
                timestamp: found.timestamp,
                offset: found.offset,
                leaderEpoch: found.leaderEpoch,
                // v0 answers a list of offsets (maxNumOffsets was honoured only for -1/-2, one each).
                oldStyleOffsets: found.offset >= 0n ? [found.offset] : [],
              };
            } catch (err) {
              const e = errorOf(err, logger);
              return {
                partitionIndex: p.partitionIndex,
                errorCode: e.errorCode,
                timestamp: -1n,
                offset: -1n,
                leaderEpoch: -1,
                oldStyleOffsets: [],
              };
            }
          }),
        })),
      };
    },
  };

  const offsetForLeaderEpoch: KafkaApiHandler = {
    apiKey: ApiKey.OffsetForLeaderEpoch,
    minVersion: 0,
    maxVersion: 4,
    handle(req: OffsetForLeaderEpochRequest, ctx: KafkaRequestContext) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            try {
              if (!deps.authorizer.topic(ctx.identity, AclOperation.DESCRIBE, t.topic))
                throw protocolError('TOPIC_AUTHORIZATION_FAILED', TOPIC_DENIED);
              const partition = replicaManager.getPartition(t.topic, p.partition);
              if (!partition) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `no replica of ${t.topic}-${p.partition} here`);
              partition.checkLeader(p.currentLeaderEpoch ?? -1);
              const end = partition.log.endOffsetForEpoch(p.leaderEpoch);
              return { errorCode: 0, partition: p.partition, leaderEpoch: end.leaderEpoch, endOffset: end.endOffset };
            } catch (err) {
              return { errorCode: errorOf(err, logger).errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
            }
          }),
        })),
      };
    },
  };

  const initProducerId: KafkaApiHandler = {
    apiKey: ApiKey.InitProducerId,
    minVersion: 0,
    maxVersion: 4,
    async handle(req: InitProducerIdRequest, ctx: KafkaRequestContext) {
      if (req.transactionalId !== null && req.transactionalId !== '') {
        const r = await initTransactionalProducerId({ transactions: deps.transactions, authorizer: deps.authorizer }, ctx.identity, {
          transactionalId: req.transactionalId,
          transactionTimeoutMs: req.transactionTimeoutMs,
          producerId: req.producerId ?? -1n,
          producerEpoch: req.producerEpoch ?? -1,
        });
        // Before v4 a client does not know PRODUCER_FENCED: Kafka answers INVALID_PRODUCER_EPOCH there.
        const errorCode =
          r.errorCode === ErrorCode.PRODUCER_FENCED && ctx.header.apiVersion < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : r.errorCode;
        return { throttleTimeMs: 0, errorCode, producerId: r.producerId, producerEpoch: r.producerEpoch };
      }
      // KIP-679: IDEMPOTENT_WRITE on the cluster, or WRITE on any topic.
      if (!deps.authorizer.idempotentWrite(ctx.identity))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
      // Idempotent producers: a fresh id at epoch 0 whatever id/epoch the request carries.
      const r = await producerIds.generateProducerId();
      if (r.errorCode !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: r.errorCode, producerId: -1n, producerEpoch: -1 };
      return { throttleTimeMs: 0, errorCode: 0, producerId: r.producerId, producerEpoch: 0 };
    },
  };

  return [produce, fetch, listOffsets, offsetForLeaderEpoch, initProducerId];
}
