/**
 * The sender: takes ready partition batches (RecordBatch v2 bytes, one per partition), groups them
 * by leader broker so each leader gets one Produce request, and retries the batches that failed
 * with retriable errors after refreshing metadata. It knows nothing of records or serdes.
 * Producer.sendBatch uses send(); the accumulator's SendLoop uses produceOnce() and does its own
 * retries (bounded by deliveryTimeoutMs).
 */
import { nestByTopic, toBigInt } from '@samsa/protocol';
import type { Cluster, LeaderRoute } from '../cluster/cluster.js';
import type { RequestOptions } from '../connection/connection.js';
import { SamsaError, UnknownServerError, errorFromCode, isRetriable, needsMetadataRefresh } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Retrier } from '../retry.js';
import { Semaphore } from '../semaphore.js';
import type { ProduceRequest, ProduceResponse } from '../wire.js';

export interface ProduceBatch {
  topic: string;
  partition: number;
  /** Exactly one RecordBatch v2. */
  records: Buffer;
  recordCount: number;
}

export interface ProduceBatchResult {
  /** Offset of the batch's first record; -1n with acks=0. */
  baseOffset: bigint;
  /** -1n unless the topic uses LogAppendTime. */
  logAppendTime: bigint;
  logStartOffset: bigint;
}

/** 0: no acknowledgement; 1: the leader's append; -1: the whole ISR (high watermark passed the batch). */
export type Acks = 0 | 1 | -1;

export interface SendOptions {
  acks: Acks;
  /** How long the broker may wait for acks=-1 replication. */
  timeoutMs: number;
}

export interface SenderDeps {
  cluster: Cluster;
  retrier: Retrier;
  logger: Logger;
  /** Produce requests in flight per broker at once. */
  maxInFlightRequests: number;
}

const NO_OFFSET: ProduceBatchResult = Object.freeze({ baseOffset: -1n, logAppendTime: -1n, logStartOffset: -1n });

export class Sender {
  private readonly inFlight = new Map<number, Semaphore>();

  constructor(private readonly deps: SenderDeps) {}

  /**
   * Sends every batch and resolves with one result per batch, in input order. Rejects with the
   * first non-retriable error, or with the last retriable one once retries run out; batches to
   * other partitions may have been written by then (as with Kafka's per-record futures).
   */
  async send(batches: readonly ProduceBatch[], options: SendOptions): Promise<ProduceBatchResult[]> {
    const results: (ProduceBatchResult | undefined)[] = new Array(batches.length);
    let pending = batches.map((_, i) => i);
    const staleTopics = new Set<string>();
    const { cluster } = this.deps;

    await this.deps.retrier.run(
      async () => {
        if (staleTopics.size > 0) {
          const topics = [...staleTopics];
          staleTopics.clear();
          cluster.invalidateTopics(topics);
          try {
            await cluster.refreshMetadata(topics);
          } catch (error) {
            for (const t of topics) staleTopics.add(t);
            throw error;
          }
        }
        const byLeader = new Map<number, { route: LeaderRoute; indices: number[] }>();
        const failures: { index: number; error: unknown }[] = [];
        for (const i of pending) {
          const batch = batches[i]!;
          try {
            const route = cluster.cachedLeader(batch.topic, batch.partition) ?? (await cluster.leaderFor(batch.topic, batch.partition));
            let group = byLeader.get(route.nodeId);
            if (!group) byLeader.set(route.nodeId, (group = { route, indices: [] }));
            group.indices.push(i);
          } catch (error) {
            failures.push({ index: i, error });
          }
        }
        await Promise.all(
          [...byLeader.values()].map(async ({ route, indices }) => {
            try {
              const response = await this.produceTo(
                route,
                indices.map((i) => batches[i]!),
                options,
              );
              indices.forEach((i, k) => {
                const outcome = response[k]!;
                if (outcome instanceof SamsaError) failures.push({ index: i, error: outcome });
                else results[i] = outcome;
              });
            } catch (error) {
              for (const i of indices) failures.push({ index: i, error });
            }
          }),
        );
        if (failures.length === 0) {
          pending = [];
          return;
        }
        pending = failures.map((f) => f.index).sort((a, b) => a - b);
        for (const f of failures) if (needsMetadataRefresh(f.error)) staleTopics.add(batches[f.index]!.topic);
        const fatal = failures.find((f) => !isRetriable(f.error));
        throw (fatal ?? failures[0]!).error;
      },
      { what: 'produce' },
    );

    return results as ProduceBatchResult[];
  }

  /** One Produce request to one leader, within this sender's in-flight cap for that broker. */
  private async produceTo(
    route: LeaderRoute,
    batches: readonly ProduceBatch[],
    options: SendOptions,
  ): Promise<(ProduceBatchResult | SamsaError)[]> {
    let semaphore = this.inFlight.get(route.nodeId);
    if (!semaphore) this.inFlight.set(route.nodeId, (semaphore = new Semaphore(this.deps.maxInFlightRequests)));
    await semaphore.acquire();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      semaphore!.release();
    };
    try {
      // acks=0 holds its in-flight slot until the broker's (error-only) answer, not longer.
      return await this.produceOnce(route, batches, options, undefined, options.acks === 0 ? release : undefined);
    } finally {
      if (options.acks !== 0) release();
    }
  }

  /**
   * One Produce request to one leader, no cap, no retry: resolves with a result or a typed error per
   * batch (applying leader hints to the metadata cache); rejects when the request got no answer.
   *
   * acks=0 (Kafka's producer completes such a record once its request is written): resolves at
   * once with no offsets and never waits for the answer. The broker answers only the partitions it
   * could not append to; when that answer (or a transport failure) comes, the leader hints are
   * applied and the topics marked stale, so the next send refreshes metadata and goes to the new
   * leader instead of losing records at the old one until metadata expires. `onAnswered` runs
   * then (the caller's in-flight accounting).
   */
  async produceOnce(
    route: LeaderRoute,
    batches: readonly ProduceBatch[],
    options: SendOptions,
    requestOptions?: RequestOptions,
    onAnswered?: () => void,
  ): Promise<(ProduceBatchResult | SamsaError)[]> {
    const request: ProduceRequest = {
      acks: options.acks,
      timeoutMs: options.timeoutMs,
      topics: nestByTopic(batches, (b) => ({ partition: b.partition, records: b.records })),
    };
    // The transport deadline must outlast the broker's own wait for replication.
    const answer = route.connection.produce(request, requestOptions ?? this.deps.cluster.requestOptions(options.timeoutMs));
    if (options.acks === 0) {
      void answer
        .then(
          (response) => this.noticeUnacknowledgedErrors(route, response),
          (error: unknown) => {
            this.deps.cluster.invalidateTopics(new Set(batches.map((b) => b.topic)));
            this.deps.logger.debug('acks=0 produce got no answer; refreshing metadata', {
              broker: route.nodeId,
              error: (error as Error).message,
            });
          },
        )
        .finally(() => onAnswered?.());
      return batches.map(() => NO_OFFSET);
    }
    const response: ProduceResponse = await answer;
    return batches.map((b) => {
      const p = response.topics.find((t) => t.name === b.topic)?.partitions.find((x) => x.partition === b.partition);
      if (!p)
        return new UnknownServerError(`Produce response from broker ${route.nodeId} has no answer for ${b.topic}-${b.partition}`, {
          topic: b.topic,
          partition: b.partition,
        });
      if (p.errorCode !== 0) {
        this.deps.cluster.updateLeader(b.topic, b.partition, p.currentLeader);
        return errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: b.topic, partition: b.partition });
      }
      return {
        baseOffset: toBigInt(p.baseOffset),
        logAppendTime: toBigInt(p.logAppendTimeMs, -1n),
        logStartOffset: toBigInt(p.logStartOffset, -1n),
      };
    });
  }

  /** An acks=0 answer lists only failed partitions: apply their leader hints and refresh their topics' metadata. */
  private noticeUnacknowledgedErrors(route: LeaderRoute, response: ProduceResponse): void {
    const stale = new Set<string>();
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === 0) continue;
        this.deps.cluster.updateLeader(t.name, p.partition, p.currentLeader);
        const error = errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: t.name, partition: p.partition });
        if (needsMetadataRefresh(error)) stale.add(t.name);
        this.deps.logger.warn(`acks=0 records for ${t.name}-${p.partition} were not written by broker ${route.nodeId}: ${error.message}`, {
          topic: t.name,
          partition: p.partition,
          error: error.errorName,
        });
      }
    }
    if (stale.size > 0) this.deps.cluster.invalidateTopics(stale);
  }
}
