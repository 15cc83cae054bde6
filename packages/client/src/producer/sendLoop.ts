/**
 * Drives the accumulator: decides which batches are ready (full, older than lingerMs, flushed, or
 * memory is short), groups the heads of the partition queues by leader broker into Produce requests
 * (one batch per partition per request, at most maxRequestSize bytes, at most maxInFlightRequests
 * per broker), answers each record, and retries retriable failures with exponential backoff until
 * `retries` or deliveryTimeoutMs runs out. Wakes on appends, on answers and on the injected clock.
 *
 * Ordering: a partition's batches leave in order. Without idempotence, with maxInFlightRequests > 1
 * a retried batch may land after a later one (as in Kafka); use maxInFlightRequests: 1 to forbid
 * it. With idempotence (idempotence.ts) batches carry sequences, retries keep them and go back in
 * sequence order, and the broker's duplicate and gap checks keep each partition exactly in order.
 */
import { SLEEP_CANCELLED, type Clock, type Random } from '../clock.js';
import type { Cluster, LeaderRoute } from '../cluster/cluster.js';
import { SamsaClosedError, SamsaError, isRetriable, needsMetadataRefresh } from '../errors.js';
import { ErrorCode, hopEnd, hopStart, topicPartitionKey } from '@samsa/protocol';
import type { Logger } from '../logger.js';
import { backoffMs } from '../retry.js';
import type { ResolvedRetryOptions } from '../retry.js';
import type { ProducerBatch, RecordAccumulator } from './accumulator.js';
import type { BufferMemory } from './bufferMemory.js';
import { DeliveryTimeoutError } from './errors.js';
import type { IdempotenceManager } from './idempotence.js';
import type { Sender } from './sender.js';
import { unlimitedListeners } from '../signals.js';

export interface SendLoopOptions {
  lingerMs: number;
  maxRequestSize: number;
  maxInFlightRequests: number;
  deliveryTimeoutMs: number;
  /** Retries after the first attempt; Infinity: bounded by deliveryTimeoutMs only. */
  retries: number;
  /** Backoff shape (initial, cap, multiplier, jitter); its `retries` is ignored. */
  backoff: ResolvedRetryOptions;
  /** Transport deadline of one Produce request; undefined: the cluster's, plus the broker's ack wait. */
  requestTimeoutMs: number | undefined;
  /** At most one "still waiting" warning per partition this often (default 1000 ms). */
  retryWarningIntervalMs?: number;
}

export interface SendLoopDeps {
  cluster: Cluster;
  sender: Sender;
  accumulator: RecordAccumulator;
  memory: BufferMemory;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Present when the producer is idempotent. */
  idempotence?: IdempotenceManager;
}

export class SendLoop {
  private readonly inFlight = new Map<number, number>();
  private readonly inFlightBatches = new Set<ProducerBatch>();
  private scheduled = false;
  private timer: { at: number; abort: AbortController } | undefined;
  private refreshing = false;
  private lastRefreshMs = -Infinity;
  private flushing = 0;
  private readonly abort = new AbortController();
  private forcedClose = false;
  /** When each waiting partition (`topic-partition`) was last warned about. */
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly options: SendLoopOptions,
    private readonly deps: SendLoopDeps,
  ) {
    unlimitedListeners(this.abort);
  }

  /** Runs the loop soon (after the current tick, so one send()'s records share batches). */
  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  /**
   * Sends everything now (no lingering) and resolves when every batch accepted so far is answered,
   * either way; also waits for `appending` (sends still on their way into the accumulator).
   */
  async flush(appending: readonly Promise<unknown>[] = []): Promise<void> {
    this.flushing++;
    this.wake();
    try {
      await Promise.allSettled(appending);
      await Promise.all([...this.deps.accumulator.batches(), ...this.inFlightBatches].map((b) => b.done));
    } finally {
      this.flushing--;
    }
  }

  /** From now on nothing lingers (the producer is closing). */
  drain(): void {
    this.flushing++;
    this.wake();
  }

  /**
   * Fails every batch not yet sent with `error` (abortTransaction: Kafka's abortUndrainedBatches);
   * batches in flight are left to their answers.
   */
  discardQueued(error: unknown): void {
    for (const queue of this.deps.accumulator.queues.values()) for (const batch of queue.splice(0)) this.complete(batch, error);
  }

  /** Fails every batch not yet answered (close() timed out); aborts the requests in flight. */
  failAll(error: unknown): void {
    this.forcedClose = true;
    this.timer?.abort.abort();
    this.abort.abort(error);
    for (const batch of [...this.deps.accumulator.batches(), ...this.inFlightBatches]) this.complete(batch, error);
    for (const queue of this.deps.accumulator.queues.values()) queue.length = 0;
    this.inFlightBatches.clear();
  }

  private run(): void {
    if (this.forcedClose) return;
    const { accumulator, cluster, clock, memory } = this.deps;
    const now = clock.now();
    const flushing = this.flushing > 0 || memory.hasWaiters;
    let nextWake = Infinity;
    const requests = new Map<number, { route: LeaderRoute; batches: ProducerBatch[]; size: number; mode: string }[]>();
    const leaderless = new Set<string>();

    const idem = this.deps.idempotence;
    let idemBlocked = false;
    if (idem) {
      if (!idem.ready && !idem.fatal) idem.ensureInitialized(() => this.wake());
      // An epoch bump waits for every idempotent batch in flight to be answered.
      if (idem.bumpPending && ![...this.inFlightBatches].some((b) => b.idempotent)) {
        idem.bumpEpoch([...accumulator.batches()].filter((b) => b.idempotent));
        if (!idem.ready) idem.ensureInitialized(() => this.wake());
      }
      idemBlocked = !idem.ready || idem.bumpPending;
    }

    for (const queue of accumulator.queues.values()) {
      // Expire what waited too long without being sent (e.g. no leader).
      while (queue.length > 0 && now >= this.deadlineOf(queue[0]!)) this.expire(queue.shift()!, now);
      const head = queue[0];
      // No timer for the delivery deadline itself: every batch that waits has a linger, backoff or
      // metadata-refresh wake-up before it, and each run expires what is due.
      if (head === undefined) continue;
      if (head.retryAtMs > now) {
        nextWake = Math.min(nextWake, head.retryAtMs);
        continue;
      }
      const ready = flushing || head.closed || queue.length > 1 || now - head.createdMs >= this.options.lingerMs;
      if (!ready) {
        nextWake = Math.min(nextWake, head.createdMs + this.options.lingerMs);
        continue;
      }
      let sequences;
      if (idem && head.idempotent) {
        if (idem.fatal) {
          for (const b of queue.splice(0)) this.complete(b, idem.fatal);
          continue;
        }
        if (idemBlocked) continue; // woken when InitProducerId or the in-flight batches answer
        sequences = idem.partition(head.topic, head.partition);
        if (!idem.maySend(head, sequences)) continue; // woken when the partition's in-flight batches answer
      }
      const route = cluster.cachedLeader(head.topic, head.partition);
      if (!route) {
        leaderless.add(head.topic);
        this.warnWaiting(
          head,
          now,
          'LEADER_NOT_AVAILABLE',
          `topic-partition ${head.topic}-${head.partition} has no leader (LEADER_NOT_AVAILABLE); waiting for one, records expire ${Math.max(0, this.deadlineOf(head) - now)} ms from now (delivery.timeout.ms)`,
        );
        continue;
      }
      // Idempotent: never send a partition's batch to another broker while an earlier one is still
      // unanswered by the old leader. The new leader may not know the producer yet and would take
      // the later sequence as the first (KIP-360 accepts any sequence from an unknown producer),
      // and the earlier batch's retry would then be out of order for good. Once the old leader
      // answers (NOT_LEADER_OR_FOLLOWER), the earlier batch goes first to the new one.
      if (sequences && sentElsewhere(sequences.inFlight, route.nodeId)) continue;
      let forNode = requests.get(route.nodeId);
      if (!forNode) requests.set(route.nodeId, (forNode = []));
      const mode = `${head.acks}/${head.timeoutMs}`;
      const size = head.sizeInBytes;
      let request = forNode.find((r) => r.mode === mode && r.size + size <= this.options.maxRequestSize);
      if (!request) {
        if ((this.inFlight.get(route.nodeId) ?? 0) + forNode.length >= this.options.maxInFlightRequests) continue;
        forNode.push((request = { route, batches: [], size: 0, mode }));
      }
      queue.shift();
      head.build();
      if (idem && sequences) {
        idem.sequence(head, sequences);
        head.sentBehindUnanswered = idem.hasEarlierInFlight(head, sequences);
        head.sentToNode = route.nodeId;
        sequences.inFlight.add(head);
      }
      request.batches.push(head);
      request.size += size;
      if (queue.length > 0) nextWake = now; // the next batch of this partition goes in a later request
    }

    for (const forNode of requests.values()) for (const r of forNode) void this.produce(r.route, r.batches);
    if (leaderless.size > 0) this.refresh([...leaderless]);
    if (nextWake <= now) {
      if (requests.size > 0 && [...requests.values()].some((r) => r.length > 0)) this.wake();
    } else if (nextWake < Infinity) {
      this.schedule(nextWake);
    }
  }

  private deadlineOf(batch: ProducerBatch): number {
    return batch.createdMs + this.options.deliveryTimeoutMs;
  }

  private expire(batch: ProducerBatch, now: number): void {
    const cause = batch.lastError;
    this.complete(
      batch,
      new DeliveryTimeoutError(
        `${batch.count} record(s) for ${batch.topic}-${batch.partition} expired: not acknowledged within deliveryTimeoutMs ${this.options.deliveryTimeoutMs} (${now - batch.createdMs} ms since the batch was created, ${batch.attempts} attempt(s))`,
        { topic: batch.topic, partition: batch.partition, ...(cause === undefined ? {} : { cause }) },
      ),
    );
  }

  private schedule(at: number): void {
    if (this.timer && this.timer.at <= at) return;
    this.timer?.abort.abort(SLEEP_CANCELLED);
    const timer = { at, abort: new AbortController() };
    this.timer = timer;
    this.deps.clock.sleep(Math.max(0, at - this.deps.clock.now()), timer.abort.signal).then(
      () => {
        if (this.timer === timer) this.timer = undefined;
        this.run();
      },
      () => {},
    );
  }

  /** Metadata for topics whose partitions have no known leader, at most once per backoff. */
  private refresh(topics: string[]): void {
    const { cluster, clock } = this.deps;
    const now = clock.now();
    const wait = this.lastRefreshMs + this.options.backoff.initialRetryTimeMs - now;
    if (this.refreshing) return;
    if (wait > 0) {
      this.schedule(now + wait);
      return;
    }
    this.refreshing = true;
    this.lastRefreshMs = now;
    cluster.invalidateTopics(topics);
    cluster
      .refreshMetadata(topics)
      .catch((error: unknown) => {
        this.deps.logger.debug('producer metadata refresh failed', { topics, error: (error as Error).message });
      })
      .finally(() => {
        this.refreshing = false;
        this.wake();
      });
  }

  private async produce(route: LeaderRoute, batches: ProducerBatch[]): Promise<void> {
    const { sender, cluster } = this.deps;
    this.inFlight.set(route.nodeId, (this.inFlight.get(route.nodeId) ?? 0) + 1);
    for (const b of batches) {
      b.attempts++;
      this.inFlightBatches.add(b);
    }
    const { acks, timeoutMs } = batches[0]!;
    const requestOptions =
      this.options.requestTimeoutMs === undefined
        ? cluster.requestOptions(timeoutMs, this.abort.signal)
        : { timeoutMs: this.options.requestTimeoutMs, signal: this.abort.signal };
    // acks=0 completes at once but holds its in-flight slot until the broker's error-only answer.
    let answered = false;
    const done = () => {
      if (answered) return;
      answered = true;
      this.inFlight.set(route.nodeId, this.inFlight.get(route.nodeId)! - 1);
      if (acks === 0) this.wake();
    };
    let outcomes: unknown[];
    try {
      const building = hopStart();
      const built = batches.map((b) => ({ topic: b.topic, partition: b.partition, records: b.build(), recordCount: b.count }));
      hopEnd('client.build', building);
      outcomes = await sender.produceOnce(route, built, { acks, timeoutMs }, requestOptions, acks === 0 ? done : undefined);
    } catch (error) {
      outcomes = batches.map(() => error);
      done();
    } finally {
      if (acks !== 0) done();
    }
    const idem = this.deps.idempotence;
    batches.forEach((batch, i) => {
      this.inFlightBatches.delete(batch);
      if (idem && batch.idempotent) idem.partition(batch.topic, batch.partition).inFlight.delete(batch);
      const outcome = outcomes[i];
      if (outcome instanceof Error || !(typeof outcome === 'object' && outcome !== null && 'baseOffset' in outcome))
        this.failed(batch, outcome);
      else this.complete(batch, undefined, outcome as Parameters<ProducerBatch['succeed']>[0]);
    });
    this.wake();
  }

  private failed(batch: ProducerBatch, error: unknown): void {
    if (this.forcedClose)
      return this.complete(
        batch,
        error instanceof SamsaClosedError
          ? error
          : new SamsaClosedError('the producer was closed before the record was acknowledged', { cause: error }),
      );
    batch.lastError = error;
    const now = this.deps.clock.now();
    const retry = batch.attempts - 1;
    const delay = backoffMs(retry, this.options.backoff, this.deps.random);
    // A gap behind a batch that was still unanswered is filled by that batch's retry (Kafka's
    // canRetry); any other sequence error is unresolvable: the batch fails and the epoch is bumped.
    const sequenceError =
      error instanceof SamsaError &&
      (error.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER ||
        error.code === ErrorCode.INVALID_PRODUCER_EPOCH ||
        error.code === ErrorCode.UNKNOWN_PRODUCER_ID);
    // UNKNOWN_PRODUCER_ID behind an unanswered batch: a new leader saw this batch before the
    // earlier one (which it refused to take as the producer's first); the earlier one's retry
    // comes first.
    const retriable = sequenceError
      ? (error.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || error.code === ErrorCode.UNKNOWN_PRODUCER_ID) &&
        batch.sentBehindUnanswered
      : isRetriable(error);
    if (!retriable || batch.attempts > this.options.retries) return this.complete(batch, error);
    if (now + delay >= this.deadlineOf(batch)) return this.expire(batch, now);
    this.deps.logger.debug('retrying a produce batch', {
      topic: batch.topic,
      partition: batch.partition,
      attempt: batch.attempts,
      delayMs: delay,
      error: (error as Error).message,
    });
    const errorName = error instanceof SamsaError ? error.errorName : 'UNKNOWN_SERVER_ERROR';
    const left =
      this.options.retries === Infinity
        ? `until delivery.timeout.ms, ${this.deadlineOf(batch) - now} ms left`
        : `${this.options.retries - batch.attempts + 1} attempt(s) left`;
    this.warnWaiting(
      batch,
      now,
      errorName,
      `got ${errorName} producing to topic-partition ${batch.topic}-${batch.partition}, retrying (${left}): ${(error as Error).message}`,
    );
    if (needsMetadataRefresh(error)) this.deps.cluster.invalidateTopics([batch.topic]);
    batch.retryAtMs = now + delay;
    this.deps.accumulator.reenqueue(batch);
  }

  /**
   * Kafka's producer logs a WARN for each retried batch; here at most one per partition per
   * retryWarningIntervalMs, since a leaderless partition is looked at on every metadata backoff.
   */
  private warnWaiting(batch: ProducerBatch, now: number, errorName: string, message: string): void {
    const key = topicPartitionKey(batch.topic, batch.partition);
    const last = this.warnedAt.get(key);
    if (last !== undefined && now - last < (this.options.retryWarningIntervalMs ?? 1_000)) return;
    this.warnedAt.set(key, now);
    this.deps.logger.warn(message, { topic: batch.topic, partition: batch.partition, error: errorName });
  }

  private complete(batch: ProducerBatch, error: unknown, result?: Parameters<ProducerBatch['succeed']>[0]): void {
    // A sequenced batch that fails for good leaves a gap the broker will never see filled.
    const idem = this.deps.idempotence;
    if (!result && idem && batch.idempotent && batch.baseSequence >= 0 && batch.producerEpoch === idem.epoch && !this.forcedClose)
      idem.bumpPending = true;
    if (idem && batch.idempotent) idem.done(batch);
    this.deps.memory.release(batch.reservedBytes);
    batch.reservedBytes = 0;
    // The partition serves again (or gave up): its next trouble is warned about at once.
    this.warnedAt.delete(topicPartitionKey(batch.topic, batch.partition));
    if (result) batch.succeed(result);
    else batch.fail(error instanceof SamsaError || error instanceof Error ? error : new SamsaClosedError(String(error)));
  }
}

/** Whether a batch in `inFlight` went to a broker other than `nodeId`. */
function sentElsewhere(inFlight: Iterable<ProducerBatch>, nodeId: number): boolean {
  for (const b of inFlight) if (b.sentToNode !== nodeId) return true;
  return false;
}
