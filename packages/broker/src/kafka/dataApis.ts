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
import { errorOf, type ReplicaManager } from '../replicaManager.js';
import { ProducerIdManager } from '../server/producerIdManager.js';
import type { TransactionStateManager } from '../txn/transactionStateManager.js';
import { CLOSE, NO_RESPONSE, type KafkaApiHandler } from './kafkaApis.js';

export interface DataApisDeps {
  metadata: MetadataSource;
  replicaManager: ReplicaManager;
  logger: Logger;
  /** Upper bound on a fetch long-poll whatever the client asks. */
  maxFetchWaitMs: number;
  /** InitProducerId with a transactional id goes to the transaction coordinator; refused without one. */
  transactions?: TransactionStateManager;
}

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
    async handle(req: ProduceRequest) {
      const entries = req.topicData.flatMap((t) =>
        t.partitionData.map((p) => ({ topic: t.name, partition: p.index, records: p.records ?? EMPTY })),
      );
      // Without a transaction coordinator a transactional produce writes nothing (InitProducerId refused its id already).
      // With one, the batches' producer id and epoch carry the transaction: the partition checks them.
      const results =
        !deps.transactions && req.transactionalId !== null && req.transactionalId !== undefined
          ? entries.map((e) => ({
              topic: e.topic,
              partition: e.partition,
              errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
              errorMessage: 'transactions are not supported yet',
              baseOffset: -1n,
              logAppendTime: -1n,
              logStartOffset: -1n,
            }))
          : await replicaManager.appendRecords(req.acks, req.timeoutMs > 0 ? req.timeoutMs : 30_000, entries);
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
            recordErrors: [],
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
    async handle(req: FetchRequest) {
      if (req.sessionId !== 0) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
      }
      const partitions = req.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.topic,
          partition: p.partition,
          fetchOffset: p.fetchOffset,
          maxBytes: p.partitionMaxBytes > 0 ? p.partitionMaxBytes : 1024 * 1024,
          currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        })),
      );
      const results = await replicaManager.fetchMessages({
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
        responses: [...groupByTopic(results)].map(([topic, ps]) => ({
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
      };
    },
  };

  const listOffsets: KafkaApiHandler = {
    apiKey: ApiKey.ListOffsets,
    minVersion: 0,
    maxVersion: 7,
    handle(req: ListOffsetsRequest) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            try {
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
    handle(req: OffsetForLeaderEpochRequest) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            try {
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
    async handle(req: InitProducerIdRequest, ctx) {
      if (req.transactionalId !== null && req.transactionalId !== '') {
        // Without a transaction coordinator: refuse transactional producers as Kafka does one it may not serve.
        if (!deps.transactions)
          return { throttleTimeMs: 0, errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
        const r = await deps.transactions.initProducerId({
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
      // Idempotent producers: a fresh id at epoch 0 whatever id/epoch the request carries.
      const r = await producerIds.generateProducerId();
      if (r.errorCode !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: r.errorCode, producerId: -1n, producerEpoch: -1 };
      return { throttleTimeMs: 0, errorCode: 0, producerId: r.producerId, producerEpoch: 0 };
    },
  };

  return [produce, fetch, listOffsets, offsetForLeaderEpoch, initProducerId];
}
