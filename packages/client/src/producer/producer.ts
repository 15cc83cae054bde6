/**
 * The producer: serializes typed messages, picks each one's partition and appends them to the
 * record accumulator (per-partition batches up to batchSize, sent after lingerMs or when full,
 * buffer memory bounded with backpressure); the SendLoop turns ready batches into Produce requests
 * and retries until deliveryTimeoutMs. `send` answers per record once its batch is acknowledged;
 * `sendBatch` is the lean path for many records to one partition (one batch, one promise, no
 * accumulator, the client's retry options).
 */
import { CompressionType, RECORD_BATCH_OVERHEAD, RecordBatchBuilder, maxRecordSize } from '@samsa/protocol';
import type { RecordInput } from '@samsa/protocol';
import type { Clock, Random } from '../clock.js';
import type { Cluster, TopicLookup } from '../cluster/cluster.js';
import type { PartitionInfo, TopicInfo } from '../cluster/metadata.js';
import {
  InvalidRequestError,
  InvalidTxnStateError,
  MessageTooLargeError,
  SamsaClosedError,
  UnknownTopicOrPartitionError,
  isRetriable,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { Retrier, backoffMs, resolveRetryOptions } from '../retry.js';
import type { ResolvedRetryOptions, RetryOptions } from '../retry.js';
import { serdes } from '../serdes.js';
import type { Serde } from '../serdes.js';
import { RecordAccumulator } from './accumulator.js';
import type { RecordResult } from './accumulator.js';
import { BufferMemory } from './bufferMemory.js';
import { MaxBlockTimeoutError } from './errors.js';
import { defaultPartitioner } from './partitioner.js';
import type { Partitioner, PartitionerArgs } from './partitioner.js';
import { IdempotenceManager, MAX_IN_FLIGHT_FOR_IDEMPOTENCE } from './idempotence.js';
import { SendLoop } from './sendLoop.js';
import { TransactionManager } from './transactionManager.js';
import type { TransactionOffsets, TransactionState } from './transactionManager.js';
import type { GroupRouter } from '../consumer/group/coordinator.js';
import { Sender } from './sender.js';
import type { Acks, ProduceBatchResult } from './sender.js';
import type { TopicDescriptor } from './topic.js';

export interface Message<K, V> {
  /** Omitted or undefined: a null key (sticky partitioning). */
  key?: K;
  value: V;
  /**
   * Record headers: an object (one value per key), or Kafka's ordered list, where a key may repeat
   * and a value may be null (Kafka's Headers).
   */
  headers?: Record<string, string | Buffer> | ReadonlyArray<{ key: string; value: string | Buffer | null }>;
  /** Explicit partition; otherwise the partitioner decides. */
  partition?: number;
  /** Create time in ms since the epoch; defaults to the clock's now. */
  timestamp?: bigint | number;
}

export interface ProducerRecord<K, V> {
  topic: string;
  messages: readonly Message<K, V>[];
  acks?: Acks;
  /** How long the broker may wait for replication (acks=-1). */
  timeoutMs?: number;
}

/** Per-call options of `send(topic, messages, options)`. */
export interface SendCallOptions {
  acks?: Acks;
  timeoutMs?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1n with acks=0. */
  offset: bigint;
  /** The create time sent, or the broker's LogAppendTime when the topic uses it. */
  timestamp: bigint;
}

export interface BatchRecord<K, V> {
  topic: string;
  /** Default: round-robin over the topic's partitions, one pick per batch. */
  partition?: number;
  /** `partition` on a message is ignored here. */
  messages: readonly Message<K, V>[];
  acks?: Acks;
  timeoutMs?: number;
}

/** KafkaJS's `sendBatch({ topicMessages })`: records for several topics in one call. */
export interface TopicMessagesBatch<K, V> {
  topicMessages: ReadonlyArray<{ topic: string; messages: readonly Message<K, V>[] }>;
  acks?: Acks;
  timeoutMs?: number;
}

export interface BatchMetadata {
  topic: string;
  partition: number;
  /** Offset of the first record (the rest follow contiguously); -1n with acks=0. */
  baseOffset: bigint;
  count: number;
  /** -1n unless the topic uses LogAppendTime. */
  logAppendTime: bigint;
}

export interface ProducerOptions<K, V> {
  key?: Serde<K>;
  value?: Serde<V>;
  /** Default -1 (all in-sync replicas). */
  acks?: Acks;
  /** Broker-side replication wait. Default 30 s. */
  timeoutMs?: number;
  /** Default none. Applied per batch. */
  compression?: CompressionType;
  /** Default: murmur2 for keys, sticky for null keys (defaultPartitioner). */
  partitioner?: Partitioner;
  /** Overrides the client's retry options (backoff shape) for this producer. */
  retry?: RetryOptions;
  /** Produce requests in flight per broker. Default 5. Alias of maxInFlightRequestsPerConnection. */
  maxInFlightRequests?: number;
  /** max.in.flight.requests.per.connection: Produce requests in flight per broker. Default 5; at most 5 with idempotence. */
  maxInFlightRequestsPerConnection?: number;
  /**
   * enable.idempotence: batches carry a producer id and per-partition sequences so that retries
   * never duplicate or reorder records. Default true unless acks (0/1), retries (0) or more than
   * 5 requests in flight were set, which turn it off silently (Kafka 3.x); set explicitly to true
   * with any of those, it is a configuration error.
   */
  enableIdempotence?: boolean;
  /** batch.size: a partition's batch is sent once this many (uncompressed) bytes are in it. Default 16384. */
  batchSize?: number;
  /** linger.ms: how long a batch that is not full waits for more records. Default 5. */
  lingerMs?: number;
  /** buffer.memory: bytes of records waiting to be acknowledged; send() waits beyond it. Default 32 MiB. */
  bufferMemory?: number;
  /** max.block.ms: how long send() may wait for buffer memory or topic metadata. Default 60000. */
  maxBlockMs?: number;
  /** max.request.size: bytes of one Produce request; a larger record fails with MessageTooLargeError. Default 1 MiB. */
  maxRequestSize?: number;
  /** Retries of a batch after its first attempt. Default unlimited (bounded by deliveryTimeoutMs). */
  retries?: number;
  /** retry.backoff.ms: the first backoff, doubling per retry with jitter. Default: retry.initialRetryTimeMs. */
  retryBackoffMs?: number;
  /** retry.backoff.max.ms: the cap on a backoff. Default: retry.maxRetryTimeMs. */
  retryBackoffMaxMs?: number;
  /** delivery.timeout.ms: a record not acknowledged this long after send() fails with DeliveryTimeoutError. Default 120000. */
  deliveryTimeoutMs?: number;
  /** request.timeout.ms: transport deadline of one Produce request. Default: the client's requestTimeoutMs plus timeoutMs. */
  requestTimeoutMs?: number;
  /**
   * allow.auto.create.topics: the metadata lookup of a missing topic asks the broker to create it
   * (with the controller's num.partitions and default.replication.factor), which it does when its
   * auto.create.topics.enable is on. Default true, as Kafka's producer.
   */
  allowAutoTopicCreation?: boolean;
  /**
   * transactional.id: makes a transactional producer (KIP-98; packages/client/README.md):
   * initTransactions() once, then records are sent only inside beginTransaction() ...
   * commitTransaction() / abortTransaction(). Implies idempotence and acks=-1.
   */
  transactionalId?: string;
  /** transaction.timeout.ms: the coordinator aborts a transaction open longer than this. Default 60000. */
  transactionTimeoutMs?: number;
}

/** KafkaJS's transaction object: the producer's calls bound to one transaction. */
export interface Transaction<K, V> {
  send: Producer<K, V>['send'];
  sendBatch: Producer<K, V>['sendBatch'];
  sendOffsets(request: TransactionOffsets): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

export interface ProducerDeps {
  cluster: Cluster;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** The client's retry options (ProducerOptions.retry overrides them). */
  retry: ResolvedRetryOptions;
  /** FindCoordinator and the group coordinators (a transactional producer's). */
  groups?: GroupRouter;
}

interface Prepared {
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[] | undefined;
  timestamp: bigint;
}

function checkNumber(name: string, value: number, min: number, allowInfinity = false): number {
  if (!(allowInfinity && value === Infinity) && (!Number.isInteger(value) || value < min)) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

function checkAcks(acks: unknown): Acks {
  if (acks !== 0 && acks !== 1 && acks !== -1) throw new InvalidRequestError(`acks must be 0, 1 or -1, got ${String(acks)}`);
  return acks;
}

export class Producer<K = Buffer | null, V = Buffer | null> {
  private readonly keySerde: Serde<K>;
  private readonly valueSerde: Serde<V>;
  private readonly acks: Acks;
  private readonly timeoutMs: number;
  private readonly compression: CompressionType;
  private readonly partitioner: Partitioner;
  private readonly retrier: Retrier;
  private readonly sender: Sender;
  private readonly accumulator: RecordAccumulator;
  private readonly memory: BufferMemory;
  private readonly loop: SendLoop;
  private readonly maxBlockMs: number;
  private readonly maxRequestSize: number;
  private readonly topicBackoff: ResolvedRetryOptions;
  private readonly lookup: TopicLookup;
  private readonly pending = new Set<Promise<unknown>>();
  /** Settles when the latest send has entered the accumulator (inOrder); undefined when none is entering. */
  private entering: Promise<void> | undefined;
  /** The value serde passes Buffers through unchanged (serdes.bytes, the default). */
  private readonly valueIsBytes: boolean;
  private closed = false;
  /** enable.idempotence as resolved from the options. */
  readonly idempotent: boolean;
  /** Set for a producer with a transactionalId. */
  private readonly txn: TransactionManager | undefined;

  constructor(
    options: ProducerOptions<K, V>,
    private readonly deps: ProducerDeps,
  ) {
    this.keySerde = options.key ?? (serdes.bytes as unknown as Serde<K>);
    this.valueSerde = options.value ?? (serdes.bytes as unknown as Serde<V>);
    this.valueIsBytes = (this.valueSerde as unknown) === serdes.bytes;
    this.acks = checkAcks(options.acks ?? -1);
    const inFlightOption = options.maxInFlightRequestsPerConnection ?? options.maxInFlightRequests;
    const conflicts = [
      ...(this.acks !== -1 ? [`acks=${this.acks} (needs acks=-1/all)`] : []),
      ...(options.retries === 0 ? ['retries=0 (needs retries > 0)'] : []),
      ...(inFlightOption !== undefined && inFlightOption > MAX_IN_FLIGHT_FOR_IDEMPOTENCE
        ? [`maxInFlightRequestsPerConnection=${inFlightOption} (at most ${MAX_IN_FLIGHT_FOR_IDEMPOTENCE})`]
        : []),
    ];
    const transactional = options.transactionalId !== undefined;
    if ((options.enableIdempotence === true || transactional) && conflicts.length > 0) {
      throw new InvalidRequestError(
        `${transactional ? 'transactionalId' : 'enableIdempotence: true'} conflicts with ${conflicts.join(', ')}`,
      );
    }
    if (transactional && options.enableIdempotence === false)
      throw new InvalidRequestError('transactionalId needs idempotence: enableIdempotence: false conflicts with it');
    this.idempotent = options.enableIdempotence ?? conflicts.length === 0;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.lookup = { allowAutoTopicCreation: options.allowAutoTopicCreation ?? true };
    this.compression = options.compression ?? CompressionType.NONE;
    this.partitioner = options.partitioner ?? defaultPartitioner(deps.random);
    const retry = options.retry ? resolveRetryOptions({ ...deps.retry, ...options.retry }) : deps.retry;
    this.retrier = new Retrier({ retry, clock: deps.clock, random: deps.random, logger: deps.logger });
    const maxInFlightRequests = inFlightOption ?? 5;
    if (!Number.isInteger(maxInFlightRequests) || maxInFlightRequests < 1)
      throw new RangeError(`maxInFlightRequests must be a positive integer, got ${maxInFlightRequests}`);
    this.sender = new Sender({ cluster: deps.cluster, retrier: this.retrier, logger: deps.logger, maxInFlightRequests });

    const batchSize = checkNumber('batchSize', options.batchSize ?? 16_384, 1);
    const lingerMs = checkNumber('lingerMs', options.lingerMs ?? 5, 0);
    const bufferMemory = checkNumber('bufferMemory', options.bufferMemory ?? 32 * 1024 * 1024, 1);
    this.maxBlockMs = checkNumber('maxBlockMs', options.maxBlockMs ?? 60_000, 0);
    this.maxRequestSize = checkNumber('maxRequestSize', options.maxRequestSize ?? 1024 * 1024, RECORD_BATCH_OVERHEAD + 1);
    const retries = checkNumber('retries', options.retries ?? Infinity, 0, true);
    const deliveryTimeoutMs = checkNumber('deliveryTimeoutMs', options.deliveryTimeoutMs ?? 120_000, 1);
    const requestTimeoutMs =
      options.requestTimeoutMs === undefined ? undefined : checkNumber('requestTimeoutMs', options.requestTimeoutMs, 1);
    const backoff = resolveRetryOptions({
      ...retry,
      ...(options.retryBackoffMs === undefined ? {} : { initialRetryTimeMs: options.retryBackoffMs }),
      ...(options.retryBackoffMaxMs === undefined ? {} : { maxRetryTimeMs: options.retryBackoffMaxMs }),
      ...(options.retryBackoffMs !== undefined && options.retryBackoffMaxMs === undefined
        ? { maxRetryTimeMs: Math.max(retry.maxRetryTimeMs, options.retryBackoffMs) }
        : {}),
    });
    this.topicBackoff = backoff;
    this.accumulator = new RecordAccumulator({ batchSize, compression: this.compression, idempotent: this.idempotent, transactional });
    this.memory = new BufferMemory(bufferMemory, deps.clock);
    const idempotence = this.idempotent
      ? new IdempotenceManager({
          cluster: deps.cluster,
          clock: deps.clock,
          random: deps.random,
          logger: deps.logger,
          backoff,
          transactional,
        })
      : undefined;
    this.loop = new SendLoop(
      { lingerMs, maxRequestSize: this.maxRequestSize, maxInFlightRequests, deliveryTimeoutMs, retries, backoff, requestTimeoutMs },
      {
        cluster: deps.cluster,
        sender: this.sender,
        accumulator: this.accumulator,
        memory: this.memory,
        clock: deps.clock,
        random: deps.random,
        logger: deps.logger,
        ...(idempotence ? { idempotence } : {}),
      },
    );
    if (transactional) {
      if (!deps.groups)
        throw new InvalidRequestError("a transactional producer needs the client's group router (make it with samsa.producer())");
      this.txn = new TransactionManager({
        transactionalId: options.transactionalId!,
        transactionTimeoutMs: options.transactionTimeoutMs ?? 60_000,
        cluster: deps.cluster,
        groups: deps.groups,
        retrier: this.retrier,
        logger: deps.logger,
        clock: deps.clock,
        idempotence: idempotence!,
        flush: () => this.flush(),
        // Sends still entering the accumulator (waiting for AddPartitionsToTxn) are let in first, so
        // none of their records slips past the discard.
        discardQueued: async (error) => {
          await this.entering;
          this.loop.discardQueued(error);
        },
      });
    }
  }

  /** Kafka's TransactionManager state; undefined for a producer without a transactionalId. */
  get transactionState(): TransactionState | undefined {
    return this.txn?.state;
  }

  /** Kafka's initTransactions: gets the producer id and epoch for the transactionalId, fencing older producers of it. */
  initTransactions(): Promise<void> {
    return Promise.resolve().then(() => this.transactional('initTransactions').initTransactions());
  }

  /** Kafka's beginTransaction: from here until commit or abort, sends belong to the transaction. */
  beginTransaction(): void {
    this.transactional('beginTransaction').beginTransaction();
  }

  /** Kafka's sendOffsetsToTransaction: the consumer offsets to commit with the transaction (KIP-447). */
  sendOffsetsToTransaction(request: TransactionOffsets): Promise<void> {
    return Promise.resolve().then(() => this.transactional('sendOffsetsToTransaction').sendOffsetsToTransaction(request));
  }

  /** Kafka's commitTransaction: waits for every record of the transaction, then commits it. */
  commitTransaction(): Promise<void> {
    return Promise.resolve().then(() => this.transactional('commitTransaction').commitTransaction());
  }

  /** Kafka's abortTransaction: records not yet sent are dropped, then the transaction is aborted. */
  abortTransaction(): Promise<void> {
    return Promise.resolve().then(() => this.transactional('abortTransaction').abortTransaction());
  }

  /** KafkaJS's producer.transaction(): begins a transaction and returns its calls. */
  async transaction(): Promise<Transaction<K, V>> {
    const txn = this.transactional('transaction');
    if (txn.state === 'UNINITIALIZED') await txn.initTransactions();
    txn.beginTransaction();
    let active = true;
    const end = async (f: () => Promise<void>) => {
      await f();
      active = false;
    };
    return {
      send: this.send.bind(this) as Producer<K, V>['send'],
      sendBatch: this.sendBatch.bind(this) as Producer<K, V>['sendBatch'],
      sendOffsets: (request) => this.sendOffsetsToTransaction(request),
      commit: () => end(() => this.commitTransaction()),
      abort: () => end(() => this.abortTransaction()),
      isActive: () => active && (txn.state === 'IN_TRANSACTION' || txn.state === 'ABORTABLE_ERROR'),
    };
  }

  private transactional(call: string): TransactionManager {
    if (!this.txn) throw new InvalidTxnStateError(`${call} needs a producer made with a transactionalId`);
    if (this.closed) throw new SamsaClosedError('the producer is closed');
    return this.txn;
  }

  /**
   * Writes `messages` to `topic` and resolves with each record's partition, offset and timestamp,
   * in input order, once the batches holding them are acknowledged. Records accumulate per
   * partition (batchSize, lingerMs) with those of other sends; within a partition they keep their
   * order. Waits up to maxBlockMs for buffer memory or the topic's metadata.
   *
   * With a TopicDescriptor (defineTopic), the topic's own serdes are used and typed.
   */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata[]>;
  send<TK, TV>(topic: TopicDescriptor<TK, TV>, messages: readonly Message<TK, TV>[], options?: SendCallOptions): Promise<RecordMetadata[]>;
  send(
    target: ProducerRecord<K, V> | TopicDescriptor<unknown, unknown>,
    messages?: readonly Message<unknown, unknown>[],
    options: SendCallOptions = {},
  ): Promise<RecordMetadata[]> {
    if (isDescriptor(target)) {
      return this.track(
        this.doSend(
          { topic: target.name, messages: messages as readonly Message<unknown, unknown>[], ...options },
          target.key,
          target.value,
        ),
      );
    }
    return this.track(
      this.doSend(target as ProducerRecord<unknown, unknown>, this.keySerde as Serde<unknown>, this.valueSerde as Serde<unknown>),
    );
  }

  /** Sends every accumulated record now and resolves when all sent so far are answered (either way). */
  async flush(): Promise<void> {
    await this.loop.flush([...this.pending]);
  }

  /**
   * Kafka's partitionsFor: the topic's partitions, waiting up to maxBlockMs for its metadata (a
   * topic being auto-created has none at first); MaxBlockTimeoutError when none came.
   */
  async partitionsFor(topic: string): Promise<PartitionInfo[]> {
    if (typeof topic !== 'string' || topic.length === 0) throw new InvalidRequestError('partitionsFor needs a topic name');
    const info = await this.waitForTopic(topic, this.deps.clock.now() + this.maxBlockMs);
    return info.partitions;
  }

  /**
   * Writes many records to one partition as one batch: one request, one result. With
   * `{ topicMessages }` (KafkaJS's sendBatch): the records of several topics go through the
   * accumulator together, so records for one broker share its Produce requests; resolves with
   * every record's metadata, topic by topic in input order. Every topic is checked before anything
   * is sent; a failure of one topic rejects the call, though other topics' records may be written.
   */
  sendBatch(batch: BatchRecord<K, V>): Promise<BatchMetadata>;
  sendBatch(batch: TopicMessagesBatch<K, V>): Promise<RecordMetadata[]>;
  sendBatch(batch: BatchRecord<K, V> | TopicMessagesBatch<K, V>): Promise<BatchMetadata | RecordMetadata[]> {
    if (batch !== null && typeof batch === 'object' && 'topicMessages' in batch) return this.track(this.doSendTopicMessages(batch));
    return this.track(this.doSendBatch(batch));
  }

  /**
   * Stops accepting sends, sends what is accumulated without lingering, and waits for every
   * answer. With `timeoutMs`, gives up after that long: whatever is still unanswered then fails
   * with SamsaClosedError.
   */
  async close(timeoutMs?: number): Promise<void> {
    this.closed = true;
    this.loop.drain();
    const drained = this.loop.flush([...this.pending]);
    if (timeoutMs === undefined) return drained;
    const abort = new AbortController();
    const timedOut = this.deps.clock.sleep(timeoutMs, abort.signal).then(
      () => true,
      () => false,
    );
    const done = await Promise.race([drained.then(() => false), timedOut]);
    abort.abort();
    if (done) {
      this.loop.failAll(new SamsaClosedError(`the producer was closed (close timeout ${timeoutMs} ms) before the record was acknowledged`));
      await Promise.allSettled([...this.pending]);
    }
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = (): void => void this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private async doSend(
    record: ProducerRecord<unknown, unknown>,
    keySerde: Serde<unknown>,
    valueSerde: Serde<unknown>,
  ): Promise<RecordMetadata[]> {
    const { topic, messages } = this.checkRecord(record);
    const acks = checkAcks(record.acks ?? this.acks);
    const timeoutMs = record.timeoutMs ?? this.timeoutMs;
    const now = BigInt(this.deps.clock.now());
    const prepared = messages.map((m) => this.prepare(m, now, keySerde, valueSerde));
    if (prepared.length === 0) return [];
    const sizes = prepared.map((p) => maxRecordSize(p));
    for (const size of sizes) {
      // An upper bound of the record's encoded size (widest varints) plus the batch header.
      if (RECORD_BATCH_OVERHEAD + size > this.maxRequestSize) {
        throw new MessageTooLargeError(
          `a record of up to ${RECORD_BATCH_OVERHEAD + size} bytes (with its batch header) exceeds maxRequestSize ${this.maxRequestSize}`,
          { topic, retriable: false },
        );
      }
      if (size > this.memory.total) {
        throw new MessageTooLargeError(`a record of up to ${size} bytes exceeds bufferMemory ${this.memory.total}`, {
          topic,
          retriable: false,
        });
      }
    }
    const deadline = this.deps.clock.now() + this.maxBlockMs;
    // The wait for metadata and buffer memory and the appends run in send() order (inOrder): the
    // caller gets the completion, which resolves when every record is acknowledged.
    const [completion] = await this.inOrder(async (): Promise<[Promise<RecordMetadata[]>]> => {
      let info = await this.waitForTopic(topic, deadline);
      const explicit = messages.map((m) => m.partition);
      if (explicit.some((p) => p !== undefined))
        info = await this.checkPartitions(
          topic,
          info,
          explicit.filter((p): p is number => p !== undefined),
        );

      const out = new Array<RecordMetadata>(prepared.length);
      let remaining = prepared.length;
      let settle!: { resolve: (r: RecordMetadata[]) => void; reject: (e: unknown) => void };
      const all = new Promise<RecordMetadata[]>((resolve, reject) => {
        settle = { resolve, reject };
      });
      const reject = (error: unknown): void => settle.reject(error);
      const txn = this.txn;
      // A failed record of a transaction leaves it only abortable (Kafka's TransactionManager).
      if (txn) all.catch((error: unknown) => txn.recordFailed(error));
      for (let i = 0; i < prepared.length; i++) {
        const size = sizes[i]!;
        if (!this.memory.tryReserve(size)) await this.memory.reserve(size, deadline);
        const r = prepared[i]!;
        let partition = explicit[i];
        if (partition === undefined) {
          const args = this.partitionerArgs(topic, r.key, info);
          partition = this.partitioner(args);
          // The sticky partitioner moves on when its partition's batch is closed or sent.
          if (
            r.key === null &&
            this.partitioner.onNewBatch &&
            this.accumulator.wouldStartNewBatch(topic, partition, acks, timeoutMs, size)
          ) {
            this.partitioner.onNewBatch(topic, partition, args);
            partition = this.partitioner(args);
          }
        }
        // The partition joins the transaction (AddPartitionsToTxn) before its first record is queued.
        const adding = txn?.addPartition(topic, partition);
        if (adding) {
          try {
            await adding;
          } catch (error) {
            this.memory.release(size);
            all.catch(() => undefined); // the caller gets `error`; records already queued settle unobserved
            throw error;
          }
        }
        this.accumulator.append(
          topic,
          partition,
          acks,
          timeoutMs,
          this.deps.clock.now(),
          r,
          size,
          (result: RecordResult) => {
            out[i] = { topic, partition: result.partition, offset: result.offset, timestamp: result.timestamp };
            if (--remaining === 0) settle.resolve(out);
          },
          reject,
        );
        this.loop.wake();
      }
      return [all];
    });
    return completion;
  }

  /**
   * Runs `enter` (a send's wait for metadata and buffer memory, and its appends to the
   * accumulator) after every earlier send's has finished, so records reach the accumulator, and so
   * each partition, in the order send() was called: what a Kafka producer's blocking send()
   * guarantees per thread. Without it a send that waited for a metadata refresh (or for memory)
   * was overtaken by a later one that found the cache fresh, and a key's records were written out
   * of order although every batch kept its sequence.
   */
  private async inOrder<T>(enter: () => Promise<T>): Promise<T> {
    const before = this.entering;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.entering = mine;
    try {
      if (before) await before;
      return await enter();
    } finally {
      done();
      if (this.entering === mine) this.entering = undefined;
    }
  }

  private partitionerArgs(topic: string, key: Buffer | null, info: TopicInfo): PartitionerArgs {
    const available = info.partitions.filter((p) => p.leader >= 0).map((p) => p.partition);
    return { topic, key, partitionCount: info.partitions.length, availablePartitions: available };
  }

  /** The topic's metadata, waiting (retriable errors, no partitions yet) until `deadlineMs`. */
  private async waitForTopic(topic: string, deadlineMs: number): Promise<TopicInfo> {
    const { cluster, clock } = this.deps;
    let lastError: unknown;
    // Known partitions serve while a refresh is due (stale after an error, or older than
    // metadataMaxAgeMs), as in Kafka's producer, which waits only for a topic it has no partitions
    // of; the refresh runs meanwhile, and the send loop routes by the fresh leaders.
    const known = cluster.knownTopic(topic);
    if (known && known.partitions.length > 0) {
      if (!cluster.cachedTopic(topic)) cluster.topic(topic, this.lookup).catch(() => undefined);
      return known;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const info = cluster.cachedTopic(topic) ?? (await cluster.topic(topic, this.lookup));
        if (info.partitions.length > 0) return info;
        lastError = undefined;
      } catch (error) {
        if (!isRetriable(error)) throw error;
        lastError = error;
      }
      cluster.invalidateTopics([topic]);
      const delay = backoffMs(attempt, this.topicBackoff, this.deps.random);
      const now = clock.now();
      if (now >= deadlineMs) {
        throw new MaxBlockTimeoutError(`topic ${topic} has no usable metadata after maxBlockMs ${this.maxBlockMs}`, {
          topic,
          ...(lastError === undefined ? {} : { cause: lastError }),
        });
      }
      await clock.sleep(Math.min(delay, deadlineMs - now));
    }
  }

  private async doSendTopicMessages(batch: TopicMessagesBatch<K, V>): Promise<RecordMetadata[]> {
    if (!Array.isArray(batch.topicMessages) || batch.topicMessages.length === 0)
      throw new InvalidRequestError('sendBatch: topicMessages must be a non-empty array of { topic, messages }');
    const records = batch.topicMessages.map((t) =>
      this.checkRecord({
        topic: t?.topic,
        messages: t?.messages,
        ...(batch.acks === undefined ? {} : { acks: batch.acks }),
        ...(batch.timeoutMs === undefined ? {} : { timeoutMs: batch.timeoutMs }),
      }),
    );
    checkAcks(batch.acks ?? this.acks);
    const results = await Promise.all(
      records.map((r) =>
        this.doSend(r as ProducerRecord<unknown, unknown>, this.keySerde as Serde<unknown>, this.valueSerde as Serde<unknown>),
      ),
    );
    return results.flat();
  }

  private async doSendBatch(batch: BatchRecord<K, V>): Promise<BatchMetadata> {
    const { topic, messages } = this.checkRecord(batch);
    const acks = checkAcks(batch.acks ?? this.acks);
    if (messages.length === 0) throw new InvalidRequestError('sendBatch needs at least one message');
    const now = BigInt(this.deps.clock.now());
    // Serialize everything first so the batch buffer is sized once: growing it by doubling
    // allocated and copied ~2x the batch, and those large Buffers drove most of the producer's GC.
    const inputs = new Array<RecordInput>(messages.length);
    let capacity = RECORD_BATCH_OVERHEAD;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      // Fast path: a plain { value } under the pass-through bytes serde is already a RecordInput
      // (null key, no headers, the builder stamps `now`); skip the per-record Prepared object.
      const input =
        this.valueIsBytes && m.key === undefined && m.headers === undefined && m.timestamp === undefined && m.partition === undefined
          ? (m as unknown as RecordInput)
          : this.prepare(m, now, this.keySerde, this.valueSerde);
      inputs[i] = input;
      capacity += maxRecordSize(input);
    }
    const timeoutMs = batch.timeoutMs ?? this.timeoutMs;
    // buffer.memory bounds sendBatch as it bounds send(): the batch's bytes are held from here until
    // its answer, and a batch that does not fit waits up to maxBlockMs (Kafka's BufferPool). Without
    // it a caller with thousands of batches in flight grew the producer without limit.
    if (capacity > this.memory.total) {
      throw new MessageTooLargeError(`a batch of up to ${capacity} bytes exceeds bufferMemory ${this.memory.total}`, {
        topic,
        retriable: false,
      });
    }
    const reserve = async () => {
      if (!this.memory.tryReserve(capacity)) await this.memory.reserve(capacity, this.deps.clock.now() + this.maxBlockMs);
    };
    if (this.idempotent && acks === -1) {
      // Through the accumulator, so the batch gets a sequence and the send loop's ordered retries,
      // entering it in call order (inOrder); the send loop releases the reservation when the batch
      // completes, either way.
      const [partition, completion] = await this.inOrder(async (): Promise<[number, Promise<ProduceBatchResult>]> => {
        await reserve();
        let partition: number;
        try {
          partition = await this.pickBatchPartition(topic, batch.partition);
          await this.txn?.addPartition(topic, partition);
        } catch (error) {
          this.memory.release(capacity);
          throw error;
        }
        const completion = new Promise<ProduceBatchResult>((resolve, reject) => {
          const closed = this.accumulator.appendClosedBatch(topic, partition, acks, timeoutMs, this.deps.clock.now(), capacity, () => now);
          for (let i = 0; i < inputs.length; i++) closed.appendRecord(inputs[i]!);
          closed.reservedBytes = capacity;
          closed.onBatch = { resolve, reject };
          this.loop.wake();
        });
        return [partition, completion];
      });
      if (this.txn) {
        const txn = this.txn;
        completion.catch((error: unknown) => txn.recordFailed(error));
      }
      const result = await completion;
      return { topic, partition, baseOffset: result.baseOffset, count: messages.length, logAppendTime: result.logAppendTime };
    }
    await reserve();
    try {
      const builder = new RecordBatchBuilder({ compression: this.compression, initialCapacity: capacity, now: () => now });
      for (let i = 0; i < inputs.length; i++) builder.append(inputs[i]!);
      const records = builder.build();
      const partition = await this.pickBatchPartition(topic, batch.partition);
      const [result] = await this.sender.send([{ topic, partition, records, recordCount: messages.length }], { acks, timeoutMs });
      return { topic, partition, baseOffset: result!.baseOffset, count: messages.length, logAppendTime: result!.logAppendTime };
    } finally {
      this.memory.release(capacity);
    }
  }

  /** sendBatch's partition: the explicit one (checked), or the partitioner's pick, one per batch. */
  private async pickBatchPartition(topic: string, explicit: number | undefined): Promise<number> {
    const info = await this.topicInfo(topic);
    let partition = explicit;
    if (partition === undefined) {
      const args = this.partitionerArgs(topic, null, info);
      partition = this.partitioner(args);
      this.partitioner.onNewBatch?.(topic, partition, args); // one pick per batch: the next sendBatch moves on
    }
    await this.checkPartitions(topic, info, [partition]);
    return partition;
  }

  private checkRecord<R extends { topic: string; messages: readonly Message<any, any>[]; acks?: Acks }>(record: R): R {
    if (this.closed) throw new SamsaClosedError('the producer is closed');
    if (this.txn) {
      this.txn.checkSend();
      if (record?.acks !== undefined && record.acks !== -1)
        throw new InvalidRequestError(`a transactional producer sends with acks=-1, got acks=${String(record.acks)}`);
    }
    if (typeof record?.topic !== 'string' || record.topic.length === 0) throw new InvalidRequestError('topic must be a non-empty string');
    if (!Array.isArray(record.messages)) throw new InvalidRequestError('messages must be an array');
    return record;
  }

  private prepare<PK, PV>(m: Message<PK, PV>, now: bigint, keySerde: Serde<PK>, valueSerde: Serde<PV>): Prepared {
    if (m.partition !== undefined && (!Number.isInteger(m.partition) || m.partition < 0)) {
      throw new InvalidRequestError(`partition must be a non-negative integer, got ${m.partition}`);
    }
    let timestamp = now;
    if (m.timestamp !== undefined) {
      if (typeof m.timestamp === 'bigint') timestamp = m.timestamp;
      else if (Number.isSafeInteger(m.timestamp)) timestamp = BigInt(m.timestamp);
      else throw new InvalidRequestError(`timestamp must be an integer (ms), got ${m.timestamp}`);
    }
    let headers: Prepared['headers'];
    if (Array.isArray(m.headers)) {
      const list = m.headers as ReadonlyArray<{ key: string; value: string | Buffer | null }>;
      headers = list.map((h, i) => {
        if (typeof h?.key !== 'string') throw new InvalidRequestError(`headers[${i}].key must be a string`);
        return { key: h.key, value: typeof h.value === 'string' ? Buffer.from(h.value, 'utf8') : h.value };
      });
    } else if (m.headers) {
      const byKey = m.headers as Record<string, string | Buffer>;
      headers = [];
      for (const key of Object.keys(byKey)) {
        const v = byKey[key]!;
        headers.push({ key, value: typeof v === 'string' ? Buffer.from(v, 'utf8') : v });
      }
    }
    return {
      key: m.key === undefined ? null : keySerde.serialize(m.key),
      value: valueSerde.serialize(m.value),
      headers,
      timestamp,
    };
  }

  private topicInfo(topic: string): Promise<TopicInfo> {
    const cached = this.deps.cluster.cachedTopic(topic);
    if (cached) return Promise.resolve(cached);
    return this.retrier.run(() => this.deps.cluster.topic(topic, this.lookup), { what: `metadata of ${topic}` });
  }

  /** An explicit partition beyond the topic's count gets one metadata refresh (it may have grown), then fails. */
  private async checkPartitions(topic: string, info: TopicInfo, partitions: readonly number[]): Promise<TopicInfo> {
    let max = -1;
    for (const p of partitions) if (p > max) max = p;
    if (max < info.partitions.length) return info;
    this.deps.cluster.invalidateTopics([topic]);
    const fresh = await this.topicInfo(topic);
    const count = fresh.partitions.length;
    if (max >= count) {
      throw new UnknownTopicOrPartitionError(`partition ${max} of topic ${topic} does not exist (it has ${count})`, {
        topic,
        partition: max,
        retriable: false,
      });
    }
    return fresh;
  }
}

function isDescriptor(x: unknown): x is TopicDescriptor<unknown, unknown> {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { name?: unknown }).name === 'string' &&
    typeof (x as { key?: { serialize?: unknown } }).key?.serialize === 'function' &&
    !('messages' in x)
  );
}
