/**
 * A consumer in a group: Kafka's classic group protocol on top of the assign/seek/poll Consumer.
 * This is the I/O shell: the member's states and rebalance decisions are the pure
 * MemberStateMachine (memberState.ts), fed events here (answers, timer ticks with `now`, the safe
 * point in poll) and obeyed through its actions (which partitions to fetch, lost partitions,
 * LeaveGroup, re-finding the coordinator). This file performs the calls (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, commits), runs the timers and calls the listeners. README.md next to
 * this file has the states, events and the cooperative two-phase revoke.
 */
import { ErrorCode, nestByTopic, toBigInt, topicPartitionKey as tpKey } from '@samsa/protocol';
import type { Cluster } from '../../cluster/cluster.js';
import { InvalidRequestError, SamsaClosedError, SamsaError, errorFromCode, isRetriable } from '../../errors.js';
import { SLEEP_CANCELLED, type Clock, type Random } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { Retrier, backoffMs, resolveRetryOptions } from '../../retry.js';
import type { ResolvedRetryOptions, RetryOptions } from '../../retry.js';
import type { TopicDescriptor } from '../../producer/topic.js';
import { Consumer } from '../consumer.js';
import type { ConsumerOptions, ConsumerRecord, PollOptions, SeekOffset, TopicPartition } from '../consumer.js';
import { BUILTIN_ASSIGNORS } from './assignors.js';
import type { PartitionAssignor, RebalanceProtocol } from './assignors.js';
import { isCoordinatorMoved } from './coordinator.js';
import type { GroupRouter } from './coordinator.js';
import { MemberStateMachine, type MemberAction, type MemberState, type PendingAssignment } from './memberState.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  fromTopicPartitions,
  toTopicPartitions,
} from './protocol.js';
import { unlimitedListeners } from '../../signals.js';
import { Instrumentation } from '../../instrumentation.js';
import type { BatchProcessPayload, ConsumerEvents, Listener, OffsetsByTopic, RemoveListener } from '../../instrumentation.js';

export interface RebalanceListener {
  /** Partitions added to this member (after their committed offsets were looked up; seek here to override). */
  assigned?(partitions: TopicPartition[]): Promise<void> | void;
  /** Partitions taken away in an orderly rebalance; their processed offsets were committed just before. */
  revoked?(partitions: TopicPartition[]): Promise<void> | void;
  /** Partitions this member lost without a rebalance (fenced, poll interval exceeded); nothing was committed. */
  lost?(partitions: TopicPartition[]): Promise<void> | void;
}

/**
 * The consumer's retry options (KafkaJS's `retry`): they pace its requests and, in run(), the
 * retries of a handler that threw. `restartOnFailure` decides, once those retries are exhausted,
 * whether run() starts over (true) or ends with the error (false).
 */
export interface GroupRetryOptions extends RetryOptions {
  /** Called with the handler's error after its retries; resolve true to restart. Default: restart. */
  restartOnFailure?: (error: Error) => Promise<boolean> | boolean;
}

export interface GroupConsumerOptions<K, V> extends Omit<ConsumerOptions<K, V>, 'minBytes' | 'maxWaitMs' | 'maxPartitionBytes' | 'retry'> {
  groupId: string;
  retry?: GroupRetryOptions;
  /** Static membership (KIP-345): a restart within sessionTimeoutMs keeps the assignment without a rebalance. */
  groupInstanceId?: string;
  /** A typed topic (defineTopic): its serdes type the records, and the consumer subscribes to it. */
  topic?: TopicDescriptor<K, V>;
  /** Default 45000. */
  sessionTimeoutMs?: number;
  /** Default 3000. */
  heartbeatIntervalMs?: number;
  /** A member that does not poll for this long leaves the group. Also the rebalance timeout. Default 300000. */
  maxPollIntervalMs?: number;
  /** Default true. */
  autoCommit?: boolean;
  /** Default 5000. */
  autoCommitIntervalMs?: number;
  /** Assignor names in preference order. Default ['range', 'cooperative-sticky'] (Kafka 3's). */
  partitionAssignors?: Array<string | PartitionAssignor>;
  /** Fetch tuning, Kafka's names. Defaults 1 byte, 500 ms, 1 MiB. */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  maxPartitionFetchBytes?: number;
  /** How often a RegExp subscription is re-matched and the leader re-checks partition counts. Default 300000. */
  metadataMaxAgeMs?: number;
  rebalanceListener?: RebalanceListener;
  /** Kafka's client.id, shown by describeGroups. Default the client's. */
  clientId?: string;
}

export interface GroupDeps {
  cluster: Cluster;
  clock: Clock;
  random: Random;
  logger: Logger;
  retry: ResolvedRetryOptions;
  groups: GroupRouter;
  clientId: string;
}

/**
 * What eachMessage gets: the record itself (so `(record) => record.value` reads), plus KafkaJS's
 * payload names: `message` (the same record), `heartbeat()` and `pause()`.
 */
export interface EachMessagePayload<K, V> extends ConsumerRecord<K, V> {
  /** The record (KafkaJS's `({ topic, partition, message })`). */
  message: ConsumerRecord<K, V>;
  /** Sends a Heartbeat now if heartbeatIntervalMs passed since the last one (they also run in the background). */
  heartbeat(): Promise<void>;
  /** Pauses this partition: the rest of the fetched records are read again after the returned resume(). */
  pause(): () => void;
}

/** One partition's records of one fetch (KafkaJS's `batch`). */
export interface Batch<K, V> {
  topic: string;
  partition: number;
  /** The partition's high watermark as of the fetch; -1n when unknown. */
  highWatermark: bigint;
  messages: ConsumerRecord<K, V>[];
  isEmpty(): boolean;
  firstOffset(): bigint | null;
  lastOffset(): bigint;
  /** highWatermark - 1 - lastOffset: records after this batch, as of the fetch. */
  offsetLag(): bigint;
}

export interface EachBatchPayload<K, V> {
  batch: Batch<K, V>;
  /** Shorthands of batch.topic, batch.partition, batch.messages. */
  topic: string;
  partition: number;
  messages: ConsumerRecord<K, V>[];
  /** Marks the record at `offset` (and those before it) processed: it is committed and not read again. */
  resolveOffset(offset: bigint): void;
  /** Sends a Heartbeat now if heartbeatIntervalMs passed since the last one (they also run in the background). */
  heartbeat(): Promise<void>;
  /**
   * With offsets: commits them. Without: commits the processed offsets when autoCommit is on and
   * autoCommitIntervalMs passed since the last commit (otherwise does nothing).
   */
  commitOffsetsIfNecessary(offsets?: readonly OffsetToCommit[]): Promise<void>;
  /** Processed offsets of owned partitions not committed yet. */
  uncommittedOffsets(): OffsetToCommit[];
  /** False once the consumer is closing: stop processing and return. */
  isRunning(): boolean;
  /** True once these records no longer count: the member lost the partition, moved generation, or seek() moved it. */
  isStale(): boolean;
  /** Pauses this partition; unresolved records are read again after the returned resume(). */
  pause(): () => void;
}

export interface RunOptions<K, V> {
  eachMessage?: (payload: EachMessagePayload<K, V>) => Promise<void> | void;
  eachBatch?: (payload: EachBatchPayload<K, V>) => Promise<void> | void;
  /** After eachBatch returns, its last record counts as processed (unless the partition was paused). Default true. */
  eachBatchAutoResolve?: boolean;
  /** Partitions handled at once; each partition's records stay in order. Default 1. */
  partitionsConsumedConcurrently?: number;
}

export interface OffsetToCommit extends TopicPartition {
  /** The next offset to read (last processed + 1). */
  offset: bigint;
  /** KIP-320: the leader epoch of the last processed record (ConsumerRecord.leaderEpoch); lets a restart detect truncation. */
  leaderEpoch?: number;
  metadata?: string;
}

export type { MemberState } from './memberState.js';

export class GroupConsumer<K = Buffer | null, V = Buffer | null> {
  readonly groupId: string;
  readonly groupInstanceId: string | undefined;
  private readonly inner: Consumer<K, V>;
  private readonly retrier: Retrier;
  private readonly assignors: PartitionAssignor[];
  private readonly protocol: RebalanceProtocol;
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly metadataMaxAgeMs: number;
  private readonly pollWaitMs: number;
  private readonly maxPollRecords: number;
  private readonly listener: RebalanceListener;
  private readonly clientId: string;

  private subscribedTopics = new Set<string>();
  private pattern: RegExp | undefined;
  /** The member's states and decisions (pure); this class performs what it asks for. */
  private readonly member: MemberStateMachine;
  /** Partition counts the leader assigned from, to notice a change. */
  private leaderSnapshot = new Map<string, number>();
  /** Next offset after the last record handed to the application / known processed / committed. */
  private readonly consumed = new Map<string, bigint>();
  private readonly processed = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();
  private joinTask: Promise<void> | undefined;
  private commitChain: Promise<unknown> = Promise.resolve();
  private polling = false;
  private timersStarted = false;
  /** Every fetch or wait in flight listens on it: more than Node's warning threshold of 10 is expected. */
  private readonly stopping = unlimitedListeners(new AbortController());
  private lastBatch: ConsumerRecord<K, V>[] = [];
  /** seek() calls per partition: a batch handed out before a seek is stale. */
  private readonly seekCount = new Map<string, number>();
  private readonly restartOnFailure: (error: Error) => Promise<boolean> | boolean;
  /** The error whose consumer.crash runLoop already reported (with its restart verdict). */
  private crashReported: unknown;
  private lastHeartbeatSentAt = -Infinity;
  private lastCommitAt: number;
  private readonly events: Instrumentation<ConsumerEvents>;
  private reachedCoordinator = false;
  /**
   * KIP-447: a read_committed member asks for stable offsets, so an offset still pending in a
   * transaction (its marker not yet written) is waited for instead of read as the one before it.
   */
  private readonly requireStable: boolean;

  constructor(
    options: GroupConsumerOptions<K, V>,
    private readonly deps: GroupDeps,
  ) {
    if (typeof options.groupId !== 'string' || options.groupId.length === 0)
      throw new InvalidRequestError('groupId must be a non-empty string');
    this.groupId = options.groupId;
    this.groupInstanceId = options.groupInstanceId || undefined;
    this.requireStable = options.isolationLevel === 'read_committed';
    this.sessionTimeoutMs = int('sessionTimeoutMs', options.sessionTimeoutMs ?? 45_000, 1);
    this.heartbeatIntervalMs = int('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 3_000, 1);
    if (this.heartbeatIntervalMs >= this.sessionTimeoutMs) throw new RangeError('heartbeatIntervalMs must be lower than sessionTimeoutMs');
    this.maxPollIntervalMs = int('maxPollIntervalMs', options.maxPollIntervalMs ?? 300_000, 1);
    this.autoCommit = options.autoCommit ?? true;
    this.autoCommitIntervalMs = int('autoCommitIntervalMs', options.autoCommitIntervalMs ?? 5_000, 1);
    this.metadataMaxAgeMs = int('metadataMaxAgeMs', options.metadataMaxAgeMs ?? 300_000, 1);
    this.pollWaitMs = int('fetchMaxWaitMs', options.fetchMaxWaitMs ?? 500, 0);
    this.maxPollRecords = int('maxPollRecords', options.maxPollRecords ?? 500, 1);
    this.listener = options.rebalanceListener ?? {};
    this.clientId = options.clientId ?? deps.clientId;
    this.assignors = (options.partitionAssignors ?? ['range', 'cooperative-sticky']).map((a) => {
      if (typeof a !== 'string') return a;
      const found = BUILTIN_ASSIGNORS[a];
      if (!found) throw new InvalidRequestError(`unknown partition assignor '${a}' (range, roundrobin, cooperative-sticky)`);
      return found;
    });
    if (this.assignors.length === 0) throw new InvalidRequestError('partitionAssignors must name at least one assignor');
    // Kafka's rule: cooperative only when every configured assignor supports it.
    this.protocol = this.assignors.every((a) => a.protocol === 'cooperative') ? 'cooperative' : 'eager';
    const { restartOnFailure, ...retryOptions } = options.retry ?? {};
    this.restartOnFailure = restartOnFailure ?? (() => true);
    const retry = options.retry ? resolveRetryOptions({ ...deps.retry, ...retryOptions }) : deps.retry;
    this.retrier = new Retrier({ retry, clock: deps.clock, random: deps.random, logger: deps.logger });
    const { topic, ...rest } = options;
    this.inner = new Consumer<K, V>(
      {
        ...rest,
        ...(options.retry ? { retry: retryOptions } : {}),
        ...(topic ? { key: topic.key, value: topic.value } : {}),
        maxWaitMs: this.pollWaitMs,
        minBytes: options.fetchMinBytes ?? 1,
        maxPartitionBytes: options.maxPartitionFetchBytes ?? 1024 * 1024,
        prefetch: true,
      },
      deps,
    );
    this.lastCommitAt = deps.clock.now();
    this.events = new Instrumentation<ConsumerEvents>(deps.clock, deps.logger);
    this.member = new MemberStateMachine(
      {
        protocol: this.protocol,
        sessionTimeoutMs: this.sessionTimeoutMs,
        maxPollIntervalMs: this.maxPollIntervalMs,
        staticMember: this.groupInstanceId !== undefined,
      },
      deps.clock.now(),
    );
    if (topic) this.subscribe([topic.name]);
  }

  /**
   * Listens to the consumer's events, KafkaJS's names: 'consumer.connect', 'consumer.disconnect',
   * 'consumer.group_join', 'consumer.rebalancing', 'consumer.heartbeat', 'consumer.commit_offsets',
   * 'consumer.fetch', 'consumer.start_batch_process', 'consumer.end_batch_process',
   * 'consumer.crash', 'consumer.stop' (payloads in instrumentation.ts). Request events are the
   * client's: samsa.on('client.network.request'). Returns the function that removes the listener.
   */
  on<N extends keyof ConsumerEvents & string>(type: N, listener: Listener<ConsumerEvents, N>): RemoveListener {
    return this.events.on(type, listener);
  }

  /** Topics by name (or typed descriptors), or every topic matching a RegExp, re-checked every metadataMaxAgeMs. */
  subscribe(topics: string | RegExp | TopicDescriptor<K, V> | ReadonlyArray<string | TopicDescriptor<K, V>>): void {
    this.checkOpen();
    if (topics instanceof RegExp) {
      this.pattern = topics;
      this.subscribedTopics = new Set();
    } else {
      const list = (Array.isArray(topics) ? topics : [topics]) as Array<string | TopicDescriptor<K, V>>;
      const names = list.map((t) => (typeof t === 'string' ? t : t?.name));
      for (const n of names)
        if (typeof n !== 'string' || n.length === 0) throw new InvalidRequestError('subscribe: topic names must be non-empty strings');
      this.pattern = undefined;
      this.subscribedTopics = new Set(names);
    }
    this.perform(this.member.requestRejoin('subscription changed'));
    this.startTimers();
  }

  subscription(): string[] {
    return [...this.subscribedTopics].sort();
  }

  /** The partitions this member owns now. */
  assignment(): TopicPartition[] {
    return this.member.owned().map((tp) => ({ ...tp }));
  }

  /** Kafka's consumer.groupMetadata(), plus the member state. */
  groupMetadata(): {
    groupId: string;
    generationId: number;
    memberId: string;
    groupInstanceId: string | undefined;
    state: MemberState;
    protocol: string;
  } {
    const m = this.member;
    return {
      groupId: this.groupId,
      generationId: m.generationId,
      memberId: m.memberId,
      groupInstanceId: this.groupInstanceId,
      state: m.state,
      protocol: m.protocolName,
    };
  }

  /**
   * Records of the owned partitions. Calling poll() again marks the records of the previous poll as
   * processed (auto commit commits only those). Rebalances happen inside poll().
   */
  async poll(options: PollOptions = {}): Promise<ConsumerRecord<K, V>[]> {
    markUpTo(this.processed, this.lastBatch);
    this.lastBatch = [];
    const records = await this.pollInternal(options);
    this.lastBatch = records;
    return records;
  }

  /** Yields records until close(); a record counts as processed once the loop asks for the next. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord<K, V>, void, undefined> {
    while (!this.closed) {
      const records = await this.pollInternal({});
      for (const r of records) {
        if (!this.member.owns(r)) continue;
        yield r;
        this.processed.set(tpKey(r.topic, r.partition), r.offset + 1n);
        if (this.closed) return;
      }
    }
  }

  /**
   * Calls eachMessage (or eachBatch, one partition's records at a time) for every record until
   * close(). A record is processed once its handler resolved (eachBatch: once resolved, or the
   * whole batch when eachBatchAutoResolve). A handler that throws is retried as KafkaJS does (see
   * runLoop); its unprocessed records are never committed. With partitionsConsumedConcurrently > 1, up to that
   * many partitions of one fetch are handled at once; the next fetch waits for all of them.
   */
  async run(handlers: RunOptions<K, V>): Promise<void> {
    if (!handlers?.eachMessage && !handlers?.eachBatch) throw new InvalidRequestError('run() needs eachMessage or eachBatch');
    const concurrency = int('partitionsConsumedConcurrently', handlers.partitionsConsumedConcurrently ?? 1, 1);
    const autoResolve = handlers.eachBatchAutoResolve ?? true;
    try {
      await this.runLoop(handlers, concurrency, autoResolve);
    } catch (error) {
      if (error !== this.crashReported)
        this.events.emit('consumer.crash', { groupId: this.groupId, error: error as Error, restart: false });
      throw error;
    } finally {
      this.events.emit('consumer.stop', { groupId: this.groupId });
    }
  }

  /**
   * KafkaJS's runner around the handlers. A handler error (other than a non-retriable SamsaError,
   * which ends run() at once) rewinds every partition of that poll to its first unprocessed record
   * and, after backoffMs(n) on the consumer's clock, the records are read again: up to
   * retry.retries times in a row. Then consumer.crash is emitted with `restart` =
   * restartOnFailure(error): true waits backoffMs(0) and starts the count again; false (or a
   * restartOnFailure that throws) ends run() with the handler's error.
   */
  private async runLoop(handlers: RunOptions<K, V>, concurrency: number, autoResolve: boolean): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const failure = await this.runPoll(handlers, concurrency, autoResolve);
      if (failure === undefined) {
        failures = 0;
        continue;
      }
      const error = failure.error as Error;
      if (this.closed || (error instanceof SamsaError && !error.retriable)) throw error;
      const retry = this.retrier.options;
      if (failures < retry.retries) {
        this.deps.logger.warn('a handler failed; its records are read again after a backoff', {
          groupId: this.groupId,
          retry: failures + 1,
          error: error.message,
        });
        await this.backoff(backoffMs(failures++, retry, this.deps.random));
        continue;
      }
      let restart: boolean;
      try {
        restart = (await this.restartOnFailure(error)) === true;
      } catch (thrown) {
        this.deps.logger.warn('restartOnFailure threw; not restarting', { groupId: this.groupId, error: (thrown as Error).message });
        restart = false;
      }
      this.events.emit('consumer.crash', { groupId: this.groupId, error, restart });
      if (!restart) {
        this.crashReported = error;
        throw error;
      }
      failures = 0;
      await this.backoff(backoffMs(0, retry, this.deps.random));
    }
  }

  /** A backoff that close() cuts short. */
  private async backoff(ms: number): Promise<void> {
    await this.deps.clock.sleep(ms, this.stopping.signal).catch(() => undefined);
  }

  /** Records whose handler did not finish are read again: the partition goes back to its first unprocessed one. */
  private async rewind(list: readonly ConsumerRecord<K, V>[]): Promise<void> {
    const { topic, partition } = list[0]!;
    if (this.closed || !this.member.owns({ topic, partition })) return;
    const k = tpKey(topic, partition);
    const done = this.processed.get(k);
    const from = done !== undefined && done > list[0]!.offset ? done : list[0]!.offset;
    if (from > list[list.length - 1]!.offset) return;
    await this.inner.seek({ topic, partition, offset: from });
    this.consumed.set(k, from);
  }

  /** One poll's records through the handlers; the first handler error, once its poll is rewound. */
  private async runPoll(handlers: RunOptions<K, V>, concurrency: number, autoResolve: boolean): Promise<{ error: unknown } | undefined> {
    {
      const records = await this.pollInternal({});
      const byPartition = new Map<string, ConsumerRecord<K, V>[]>();
      for (const r of records) {
        const k = tpKey(r.topic, r.partition);
        let list = byPartition.get(k);
        if (!list) byPartition.set(k, (list = []));
        list.push(r);
      }
      const work = [...byPartition.values()];
      const handle = async (list: ConsumerRecord<K, V>[]) => {
        const report = this.events.has('consumer.start_batch_process') || this.events.has('consumer.end_batch_process');
        const payload = report ? this.batchProcessPayload(list) : undefined;
        const started = this.deps.clock.now();
        if (payload) this.events.emit('consumer.start_batch_process', payload);
        await (handlers.eachBatch ? this.runBatch(handlers.eachBatch, list, autoResolve) : this.runMessages(handlers.eachMessage!, list));
        if (payload) this.events.emit('consumer.end_batch_process', { ...payload, duration: this.deps.clock.now() - started });
      };
      let failure: { error: unknown } | undefined;
      const unfinished: ConsumerRecord<K, V>[][] = [];
      const worker = async () => {
        for (let list = work.shift(); list !== undefined && !failure && !this.closed; list = work.shift()) {
          try {
            await handle(list);
          } catch (error) {
            failure ??= { error };
            unfinished.push(list);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
      if (failure) for (const list of [...unfinished, ...work]) await this.rewind(list);
      return failure;
    }
  }

  private async runMessages(
    eachMessage: NonNullable<RunOptions<K, V>['eachMessage']>,
    list: readonly ConsumerRecord<K, V>[],
  ): Promise<void> {
    const { topic, partition } = list[0]!;
    const k = tpKey(topic, partition);
    const tp = { topic, partition };
    for (const r of list) {
      if (this.closed) return;
      await eachMessage({ ...r, message: r, heartbeat: () => this.heartbeatIfDue(), pause: () => this.pauseFromHandler(tp) });
      this.processed.set(k, r.offset + 1n);
      // A handler that paused its partition: the rest of the batch is read again after resume().
      if (this.inner.paused().some((p) => p.topic === topic && p.partition === partition)) {
        if (r !== list[list.length - 1]) await this.inner.seek({ topic, partition, offset: r.offset + 1n });
        this.consumed.set(k, r.offset + 1n);
        return;
      }
    }
  }

  private async runBatch(
    eachBatch: NonNullable<RunOptions<K, V>['eachBatch']>,
    messages: ConsumerRecord<K, V>[],
    autoResolve: boolean,
  ): Promise<void> {
    const { topic, partition } = messages[0]!;
    const k = tpKey(topic, partition);
    const tp = { topic, partition };
    const first = messages[0]!.offset;
    const last = messages[messages.length - 1]!.offset;
    const generation = this.member.generationId;
    const seeks = this.seekCount.get(k) ?? 0;
    const highWatermark = this.highWatermarkOf(topic, partition);
    let resolved = first; // the next offset not yet processed
    let paused = false;
    const isStale = () =>
      this.closed || this.member.generationId !== generation || !this.member.owns(tp) || (this.seekCount.get(k) ?? 0) !== seeks;
    const batch: Batch<K, V> = {
      topic,
      partition,
      highWatermark,
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => first,
      lastOffset: () => last,
      offsetLag: () => (highWatermark < 0n ? 0n : highWatermark - 1n - last > 0n ? highWatermark - 1n - last : 0n),
    };
    const resolveOffset = (offset: bigint) => {
      if (typeof offset !== 'bigint' || offset < first || offset > last)
        throw new InvalidRequestError(`resolveOffset: ${String(offset)} is not an offset of this batch (${first}..${last})`);
      if (isStale() || offset + 1n <= resolved) return;
      resolved = offset + 1n;
      this.processed.set(k, resolved);
    };
    await eachBatch({
      batch,
      topic,
      partition,
      messages,
      resolveOffset,
      heartbeat: () => this.heartbeatIfDue(),
      commitOffsetsIfNecessary: (offsets) => this.commitIfNecessary(offsets),
      uncommittedOffsets: () => [...this.pendingCommit(this.processed).values()].map(({ tp: p, offset }) => ({ ...p, offset })),
      isRunning: () => !this.closed,
      isStale,
      pause: () => {
        paused = true;
        return this.pauseFromHandler(tp);
      },
    });
    if (isStale()) return;
    if (autoResolve && !paused) resolveOffset(last);
    if (resolved <= last) {
      // Unresolved records are read again: from the first one not processed.
      await this.inner.seek({ topic, partition, offset: resolved });
      this.consumed.set(k, resolved);
    }
  }

  private batchProcessPayload(list: readonly ConsumerRecord<K, V>[]): BatchProcessPayload {
    const { topic, partition } = list[0]!;
    const firstOffset = list[0]!.offset;
    const lastOffset = list[list.length - 1]!.offset;
    const highWatermark = this.highWatermarkOf(topic, partition);
    const lagFrom = (offset: bigint) => (highWatermark < 0n || highWatermark - 1n - offset < 0n ? 0n : highWatermark - 1n - offset);
    return {
      topic,
      partition,
      highWatermark,
      offsetLag: lagFrom(lastOffset),
      offsetLagLow: lagFrom(firstOffset),
      batchSize: list.length,
      firstOffset,
      lastOffset,
    };
  }

  /** As of the last fetch; -1n when unknown. */
  private highWatermarkOf(topic: string, partition: number): bigint {
    return this.inner.lag().find((l) => l.topic === topic && l.partition === partition)?.highWatermark ?? -1n;
  }

  /** pause() from inside a handler: returns the resume function KafkaJS hands back. */
  private pauseFromHandler(tp: TopicPartition): () => void {
    this.pause([tp]);
    return () => {
      if (!this.closed && this.member.owns(tp)) this.resume([tp]);
    };
  }

  /** A Heartbeat now unless one was sent within heartbeatIntervalMs (the timer sends them anyway). */
  private async heartbeatIfDue(): Promise<void> {
    if (this.closed || this.deps.clock.now() - this.lastHeartbeatSentAt < this.heartbeatIntervalMs) return;
    await this.heartbeat();
  }

  private async commitIfNecessary(offsets?: readonly OffsetToCommit[]): Promise<void> {
    if (offsets !== undefined) return this.commit(offsets);
    if (!this.autoCommit || this.closed) return;
    if (this.deps.clock.now() - this.lastCommitAt < this.autoCommitIntervalMs) return;
    await this.commitOffsets(this.pendingCommit(this.processed));
  }

  /**
   * Commits offsets and waits for the coordinator. Without arguments: every record handed to the
   * application so far (Kafka's commitSync). Offsets are the next record to read.
   */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    this.checkOpen();
    let map: Map<string, { tp: TopicPartition; offset: bigint; leaderEpoch?: number; metadata?: string }>;
    if (offsets === undefined) {
      map = this.pendingCommit(this.consumed);
    } else {
      map = new Map();
      for (const o of offsets) {
        if (typeof o.offset !== 'bigint' || o.offset < 0n)
          throw new InvalidRequestError(`offset must be a non-negative bigint, got ${String(o.offset)}`);
        map.set(tpKey(o.topic, o.partition), {
          tp: { topic: o.topic, partition: o.partition },
          offset: o.offset,
          ...(o.leaderEpoch === undefined ? {} : { leaderEpoch: o.leaderEpoch }),
          ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
        });
      }
    }
    await this.commitOffsets(map);
  }

  /** The last committed offset of each partition, from the coordinator. */
  async committedOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const found = await this.fetchCommitted(partitions);
    return new Map([...found].map(([k, v]) => [k.replace('\0', '-'), v.offset]));
  }

  async seek(target: TopicPartition & { offset: SeekOffset }): Promise<void> {
    this.checkOwned(target);
    await this.inner.seek(target);
    const position = this.inner.position(target);
    const k = tpKey(target.topic, target.partition);
    this.seekCount.set(k, (this.seekCount.get(k) ?? 0) + 1);
    // As in Kafka, the position is what gets committed next: the seek target.
    if (position !== undefined) {
      this.consumed.set(k, position);
      this.processed.set(k, position);
    }
    this.lastBatch = this.lastBatch.filter((r) => r.topic !== target.topic || r.partition !== target.partition);
  }

  position(tp: TopicPartition): bigint | undefined {
    this.checkOwned(tp);
    return this.inner.position(tp);
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.checkOwned(tp);
    this.inner.pause(partitions);
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.checkOwned(tp);
    this.inner.resume(partitions);
  }

  paused(): TopicPartition[] {
    return this.inner.paused();
  }

  /** Position, high watermark and lag of the owned partitions, as of the last fetch. */
  lag() {
    return this.inner.lag();
  }

  /**
   * Commits processed offsets, revokes the partitions (listener), leaves the group (a static member
   * does not: it keeps its identity for a restart within the session timeout), stops the timers.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    markUpTo(this.processed, this.lastBatch);
    this.lastBatch = [];
    this.member.close();
    this.stopping.abort(new SamsaClosedError('the consumer is closed'));
    await this.joinTask?.catch(() => {});
    try {
      const owned = this.member.owned();
      if (owned.length > 0 && this.member.generationId >= 0 && this.autoCommit) {
        await this.commitOffsets(this.pendingCommit(this.processed), true).catch((error: unknown) => {
          this.deps.logger.warn('commit on close failed', { groupId: this.groupId, error: (error as Error).message });
        });
      }
      if (owned.length > 0) await this.callListener('revoked', owned);
      if (!this.groupInstanceId && this.member.memberId) await this.leaveGroup(this.member.memberId, 'the consumer is closing');
    } finally {
      this.perform(this.member.closedOut());
      await this.inner.close();
      this.events.emit('consumer.disconnect', { groupId: this.groupId });
    }
  }

  private get closed(): boolean {
    return this.member.closed;
  }

  /** Carries out the state machine's actions (the synchronous ones; `lost` is awaited by the safe point). */
  private perform(actions: readonly MemberAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'fetch':
          this.fetchOnly(action.partitions);
          break;
        case 'lost':
          // Only takeLost() asks for it, and the safe point awaits the listener itself.
          break;
        case 'leave':
          void this.leaveGroup(action.memberId, action.reason);
          break;
        case 'findCoordinator':
          this.deps.groups.invalidate(this.groupId);
          break;
        case 'log':
          this.deps.logger[action.level](action.message, { groupId: this.groupId, ...action.fields });
          break;
      }
    }
  }

  /** The fetcher reads exactly `partitions` (what the member owns); offsets of the others are forgotten. */
  private fetchOnly(partitions: readonly TopicPartition[]): void {
    const keep = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
    for (const map of [this.consumed, this.processed, this.committed]) for (const k of [...map.keys()]) if (!keep.has(k)) map.delete(k);
    this.lastBatch = this.lastBatch.filter((r) => keep.has(tpKey(r.topic, r.partition)));
    this.inner.assign(partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition })));
  }

  // ---- rebalancing, at poll() ----

  private async pollInternal(options: PollOptions): Promise<ConsumerRecord<K, V>[]> {
    if (this.closed) return [];
    if (this.polling) throw new InvalidRequestError('poll() is already running; await it before polling again');
    if (!this.pattern && this.subscribedTopics.size === 0) throw new InvalidRequestError('subscribe() to topics before polling');
    const maxRecords = options.maxRecords ?? this.maxPollRecords;
    const deadline = this.deps.clock.now() + (options.maxWaitMs ?? this.pollWaitMs);
    this.polling = true;
    this.member.pollStarted(this.deps.clock.now());
    try {
      for (;;) {
        if (this.member.fatal !== undefined) throw this.member.fatal;
        await this.rebalanceIfNeeded();
        if (this.closed) return [];
        const remaining = deadline - this.deps.clock.now();
        // Eager: nothing is owned while joining. Cooperative: owned partitions keep flowing.
        if (this.joinTask && this.member.owned().length === 0) {
          if (remaining <= 0) return [];
          await this.waitFor(this.joinTask, remaining);
          continue;
        }
        let records: ConsumerRecord<K, V>[];
        const fetchStarted = this.deps.clock.now();
        try {
          records = await this.inner.poll({ maxWaitMs: Math.max(0, Math.min(remaining, this.pollWaitMs)), maxRecords });
        } catch (error) {
          // E.g. ListOffsets for a reset while leaders move: the group goes on; try again shortly.
          if (!isRetriable(error) || this.closed) throw error;
          this.deps.logger.debug('fetching failed, retrying', { groupId: this.groupId, error: (error as Error).message });
          if (this.deps.clock.now() >= deadline) return [];
          await this.waitFor(new Promise(() => {}), Math.min(200, Math.max(1, deadline - this.deps.clock.now())));
          continue;
        }
        // Fenced or removed while the fetch ran: those records belong to whoever owns the partitions
        // now. The safe point at the top of the loop drops the partitions first (Kafka returns no
        // records of lost partitions either); the new owner reads from the committed offsets.
        if (this.member.lostAwaiting) continue;
        this.member.recordsReturned(this.deps.clock.now());
        if (records.length > 0) {
          if (this.events.has('consumer.fetch'))
            this.events.emit('consumer.fetch', {
              numberOfBatches: countPartitions(records),
              numberOfRecords: records.length,
              duration: this.deps.clock.now() - fetchStarted,
            });
          markUpTo(this.consumed, records);
          return records;
        }
        if (this.closed || this.deps.clock.now() >= deadline) return [];
      }
    } finally {
      this.polling = false;
      this.member.pollEnded(this.deps.clock.now());
    }
  }

  /** The safe point: loses, applies a finished assignment, or revokes and starts a join (the machine decides which). */
  private async rebalanceIfNeeded(): Promise<void> {
    const lostActions = this.member.takeLost();
    this.perform(lostActions);
    for (const action of lostActions) if (action.type === 'lost') await this.callListener('lost', [...action.partitions]);
    const taken = this.member.takeAssignment();
    if (taken) {
      try {
        await this.applyAssignment(taken.pending, taken.added, taken.revoked);
      } catch (error) {
        if (!isRetriable(error) || this.closed) throw error;
        this.deps.logger.debug('could not apply the assignment yet; retrying at the next poll', {
          groupId: this.groupId,
          error: (error as Error).message,
        });
        this.member.assignmentFailed(taken.pending);
      }
    }
    const join = this.member.joinNeeded();
    if (join) {
      if (join.revokeFirst.length > 0) await this.revoke(join.revokeFirst);
      this.member.joinStarted();
      this.events.emit('consumer.rebalancing', { groupId: this.groupId, memberId: this.member.memberId });
      this.joinTask = this.joinAndSync().finally(() => {
        this.joinTask = undefined;
        this.member.joinEnded();
      });
    }
  }

  private async applyAssignment(pending: PendingAssignment, added: TopicPartition[], revoked: TopicPartition[]): Promise<void> {
    // First the one step that can fail (the coordinator may be moving): nothing has changed yet,
    // so the caller can simply try again at the next poll.
    const committed = added.length > 0 ? await this.fetchCommitted(added) : new Map<string, { offset: bigint; leaderEpoch: number }>();
    if (revoked.length > 0) await this.revoke(revoked);
    // Cooperative (KIP-429): having given partitions up, the machine asks to rejoin so the
    // follow-up rebalance can hand them over.
    this.perform(this.member.assignmentApplied(pending.partitions, revoked.length > 0));
    for (const tp of added) {
      const found = committed.get(tpKey(tp.topic, tp.partition));
      const offset = found?.offset;
      if (found !== undefined && offset !== undefined && offset >= 0n) {
        // KIP-320: a committed epoch makes the consumer validate the position before fetching.
        await this.inner.seek({ ...tp, offset, ...(found.leaderEpoch >= 0 ? { leaderEpoch: found.leaderEpoch } : {}) });
        this.committed.set(tpKey(tp.topic, tp.partition), offset);
      }
    }
    this.deps.logger.info('partitions assigned', {
      groupId: this.groupId,
      memberId: this.member.memberId,
      generationId: this.member.generationId,
      assigned: pending.partitions.map((tp) => `${tp.topic}-${tp.partition}`),
      added: added.length,
      revoked: revoked.length,
    });
    await this.callListener('assigned', added);
  }

  /** Commits processed offsets of `partitions`, tells the listener, stops fetching them. */
  private async revoke(partitions: TopicPartition[]): Promise<void> {
    if (this.autoCommit && this.member.generationId >= 0) {
      const keys = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
      const offsets = new Map([...this.pendingCommit(this.processed)].filter(([k]) => keys.has(k)));
      await this.commitOffsets(offsets, true).catch((error: unknown) => {
        this.deps.logger.warn('commit before revoking failed; the next owner re-reads from the last commit', {
          groupId: this.groupId,
          error: (error as Error).message,
        });
      });
    }
    await this.callListener('revoked', partitions);
    this.perform(this.member.partitionsRevoked(partitions));
  }

  // ---- JoinGroup / SyncGroup (background once started) ----

  private async joinAndSync(): Promise<void> {
    let attempt = 0;
    const backoff = async () => {
      await this.deps.clock
        .sleep(backoffMs(Math.min(attempt++, 10), this.retrier.options, this.deps.random), this.stopping.signal)
        .catch(() => {});
    };
    while (!this.closed) {
      const request = this.member.joinAttempt();
      let coordinator;
      try {
        coordinator = await this.deps.groups.coordinator(this.groupId, this.deps.cluster.requestTimeoutMs);
        if (!this.reachedCoordinator) {
          this.reachedCoordinator = true;
          this.events.emit('consumer.connect', { groupId: this.groupId });
        }
        const joinSentAt = this.deps.clock.now();
        const topics = await this.currentTopics();
        const join = await coordinator.connection.joinGroup(
          {
            groupId: this.groupId,
            sessionTimeoutMs: this.sessionTimeoutMs,
            rebalanceTimeoutMs: this.maxPollIntervalMs,
            memberId: request.memberId,
            groupInstanceId: this.groupInstanceId ?? '',
            protocolType: 'consumer',
            protocols: this.assignors.map((a) => ({
              name: a.name,
              metadata: encodeSubscription({
                topics,
                userData: null,
                ownedPartitions: toTopicPartitions(request.ownedPartitions),
                generationId: request.ownedGeneration,
              }),
            })),
            clientId: this.clientId,
          },
          { timeoutMs: this.deps.cluster.requestTimeoutMs + this.maxPollIntervalMs, signal: this.stopping.signal },
        );
        const joined = this.member.joinAnswered(join);
        if (joined.next === 'rejoin') continue;
        if (joined.next !== 'sync') {
          const error = errorFromCode(join.errorCode, join.errorMessage);
          if (joined.next === 'stop') return this.member.failed(error);
          throw error;
        }
        const m = this.member;
        const assignments = joined.assign ? await this.leaderAssign(join.protocolName, join.members) : [];
        const sync = await coordinator.connection.syncGroup(
          {
            groupId: this.groupId,
            generationId: m.generationId,
            memberId: m.memberId,
            groupInstanceId: this.groupInstanceId ?? '',
            protocolType: 'consumer',
            protocolName: m.protocolName,
            assignments,
          },
          { timeoutMs: this.deps.cluster.requestTimeoutMs + this.maxPollIntervalMs, signal: this.stopping.signal },
        );
        const partitions =
          sync.errorCode === ErrorCode.NONE ? fromTopicPartitions(decodeAssignment(Buffer.from(sync.assignment)).partitions) : [];
        const synced = m.syncAnswered({ errorCode: sync.errorCode, partitions }, this.deps.clock.now());
        this.perform(synced.actions);
        if (synced.verdict.next === 'done') {
          const memberAssignment: Record<string, number[]> = {};
          for (const tp of partitions) (memberAssignment[tp.topic] ??= []).push(tp.partition);
          this.events.emit('consumer.group_join', {
            groupId: this.groupId,
            memberId: m.memberId,
            leaderId: join.leader,
            isLeader: m.isLeader,
            memberAssignment,
            groupProtocol: m.protocolName,
            duration: this.deps.clock.now() - joinSentAt,
          });
          return;
        }
        const error = errorFromCode(sync.errorCode, sync.errorMessage);
        if (synced.verdict.next === 'stop') {
          // Fenced (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION): the machine already lost the partitions.
          if (sync.errorCode === ErrorCode.FENCED_INSTANCE_ID) this.member.failed(error);
          return;
        }
        throw error;
      } catch (error) {
        if (this.closed) return;
        if (!isRetriable(error)) return this.member.failed(error);
        if (isCoordinatorMoved(error)) this.deps.groups.invalidate(this.groupId, coordinator);
        this.deps.logger.debug('join failed, retrying', { groupId: this.groupId, error: (error as Error).message });
        await backoff();
      }
    }
  }

  private async leaderAssign(protocolName: string, members: Array<{ memberId: string; groupInstanceId: string; metadata: Buffer }>) {
    const assignor = this.assignors.find((a) => a.name === protocolName);
    if (!assignor)
      throw new InvalidRequestError(`the coordinator chose assignor '${protocolName}', which this member does not have`, {
        retriable: false,
      });
    const decoded = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId || null,
      subscription: decodeSubscription(Buffer.from(m.metadata)),
    }));
    const topics = [...new Set(decoded.flatMap((m) => m.subscription.topics))];
    const counts = await this.partitionCounts(topics);
    this.leaderSnapshot = counts;
    const result = assignor.assign(decoded, counts);
    return [...result].map(([memberId, tps]) => ({
      memberId,
      assignment: encodeAssignment({ partitions: toTopicPartitions(tps), userData: null }),
    }));
  }

  private async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (topics.length === 0) return counts;
    const response = await this.deps.cluster.refreshMetadata(topics);
    for (const t of response.topics) if (t.errorCode === 0) counts.set(t.name, t.partitions.length);
    return counts;
  }

  /** The subscribed topic names; a RegExp is matched against every (non-internal) topic now. */
  private async currentTopics(): Promise<string[]> {
    if (this.pattern) {
      const response = await this.deps.cluster.refreshAllTopics();
      const pattern = this.pattern;
      this.subscribedTopics = new Set(
        response.topics.filter((t) => t.errorCode === 0 && !t.isInternal && matches(pattern, t.name)).map((t) => t.name),
      );
    }
    return [...this.subscribedTopics].sort();
  }

  // ---- offsets ----

  private pendingCommit(source: Map<string, bigint>): Map<string, { tp: TopicPartition; offset: bigint; leaderEpoch?: number }> {
    const out = new Map<string, { tp: TopicPartition; offset: bigint; leaderEpoch?: number }>();
    for (const [k, offset] of source) {
      const [topic, partition] = k.split('\0') as [string, string];
      const tp = { topic, partition: Number(partition) };
      if (this.member.owns(tp) && this.committed.get(k) !== offset) {
        // KIP-320: the position's epoch is that of the record before it; an offset behind the
        // position (records still buffered) commits without one (-1: no validation on restart).
        const leaderEpoch = this.inner.position(tp) === offset ? this.inner.positionLeaderEpoch(tp) : undefined;
        out.set(k, leaderEpoch === undefined ? { tp, offset } : { tp, offset, leaderEpoch });
      }
    }
    return out;
  }

  /** One commit at a time, in order, so an older commit never lands after a newer one. */
  private commitOffsets(
    offsets: Map<string, { tp: TopicPartition; offset: bigint; leaderEpoch?: number; metadata?: string }>,
    allowClosed = false,
  ): Promise<void> {
    if (offsets.size === 0) return Promise.resolve();
    if (!allowClosed) this.checkOpen();
    const run = async () => {
      const generation = this.member.commitGeneration();
      if (generation === undefined) {
        throw new SamsaError(
          ErrorCode.ILLEGAL_GENERATION,
          'cannot commit: this member is not in an active generation of the group (it is rebalancing or was fenced)',
          { retriable: false },
        );
      }
      const request = {
        groupId: this.groupId,
        generationId: generation.generationId,
        memberId: generation.memberId,
        groupInstanceId: this.groupInstanceId ?? '',
        topics: nestByTopic(
          [...offsets.values()].map((o) => ({ topic: o.tp.topic, ...o })),
          ({ tp, offset, leaderEpoch, metadata }) => ({
            partition: tp.partition,
            committedOffset: offset.toString(),
            committedLeaderEpoch: leaderEpoch ?? -1,
            committedMetadata: metadata ?? '',
          }),
        ),
      };
      this.lastCommitAt = this.deps.clock.now();
      await this.deps.groups.withCoordinator(this.groupId, this.retrier, async (c) => {
        const response = await c.connection.offsetCommit(request, this.deps.cluster.requestOptions());
        let firstError: SamsaError | undefined;
        for (const t of response.topics) {
          for (const p of t.partitions) {
            const k = tpKey(t.name, p.partition);
            if (p.errorCode === ErrorCode.NONE) {
              const sent = offsets.get(k);
              if (sent) this.committed.set(k, sent.offset);
              continue;
            }
            const error = errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: t.name, partition: p.partition });
            if (
              p.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
              p.errorCode === ErrorCode.ILLEGAL_GENERATION ||
              p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID
            ) {
              // Retrying cannot help until this member rejoins (at the next poll).
              this.perform(this.member.commitRefused(p.errorCode));
              firstError ??= errorFromCode(p.errorCode, `commit failed: ${error.message}`, undefined, {
                topic: t.name,
                partition: p.partition,
                retriable: false,
              });
            } else {
              firstError ??= error;
            }
          }
        }
        if (firstError) throw firstError;
      });
      if (this.events.has('consumer.commit_offsets')) {
        const topics = new Map<string, OffsetsByTopic>();
        for (const { tp, offset } of offsets.values()) {
          let t = topics.get(tp.topic);
          if (!t) topics.set(tp.topic, (t = { topic: tp.topic, partitions: [] }));
          t.partitions.push({ partition: tp.partition, offset });
        }
        this.events.emit('consumer.commit_offsets', {
          groupId: this.groupId,
          memberId: generation.memberId,
          groupGenerationId: generation.generationId,
          topics: [...topics.values()],
        });
      }
    };
    const result = this.commitChain.then(run, run);
    this.commitChain = result.catch(() => {});
    return result;
  }

  private async fetchCommitted(partitions: readonly TopicPartition[]): Promise<Map<string, { offset: bigint; leaderEpoch: number }>> {
    const response = await this.deps.groups.withCoordinator(
      this.groupId,
      this.retrier,
      async (c) => {
        const r = await c.connection.offsetFetch(
          { groupId: this.groupId, topics: nestByTopic(partitions, (tp) => tp.partition), requireStable: this.requireStable },
          this.deps.cluster.requestOptions(),
        );
        if (r.errorCode !== ErrorCode.NONE) throw errorFromCode(r.errorCode, r.errorMessage);
        for (const t of r.topics)
          for (const p of t.partitions)
            if (p.errorCode !== ErrorCode.NONE)
              throw errorFromCode(p.errorCode, p.errorMessage, undefined, { topic: t.name, partition: p.partition });
        return r;
      },
      this.stopping.signal,
    );
    const out = new Map<string, { offset: bigint; leaderEpoch: number }>();
    for (const t of response.topics)
      for (const p of t.partitions)
        out.set(tpKey(t.name, p.partition), { offset: toBigInt(p.committedOffset, -1n), leaderEpoch: p.committedLeaderEpoch ?? -1 });
    return out;
  }

  // ---- timers ----

  private startTimers(): void {
    if (this.timersStarted) return;
    this.timersStarted = true;
    void this.loop(
      'heartbeat',
      () => this.heartbeatIntervalMs,
      () => this.heartbeat(),
    );
    void this.loop(
      'poll interval',
      () => this.member.pollIntervalDelay(this.deps.clock.now()),
      async () => {
        if (!this.polling) this.perform(this.member.pollIntervalCheck(this.deps.clock.now()));
      },
    );
    if (this.autoCommit) {
      void this.loop(
        'auto commit',
        () => this.autoCommitIntervalMs,
        async () => {
          if (this.member.state !== 'stable' && this.member.state !== 'rebalancing') return;
          await this.commitOffsets(this.pendingCommit(this.processed)).catch((error: unknown) => {
            this.deps.logger.warn('auto commit failed', { groupId: this.groupId, error: (error as Error).message });
          });
        },
      );
    }
    void this.loop(
      'metadata',
      () => this.metadataMaxAgeMs,
      () => this.checkMetadata(),
    );
  }

  /** Runs `tick` after each `delay()` until close; a failing tick is logged, never fatal to the loop. */
  private async loop(name: string, delay: () => number, tick: () => Promise<void>): Promise<void> {
    while (!this.closed) {
      try {
        await this.deps.clock.sleep(delay(), this.stopping.signal);
      } catch {
        return;
      }
      if (this.closed) return;
      try {
        await tick();
      } catch (error) {
        this.deps.logger.debug(`${name} timer failed`, { groupId: this.groupId, error: (error as Error).message });
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const request = this.member.heartbeatDue();
    if (request === undefined) return;
    this.lastHeartbeatSentAt = this.deps.clock.now();
    let coordinator;
    try {
      coordinator = await this.deps.groups.coordinator(this.groupId, Math.min(this.deps.cluster.requestTimeoutMs, this.sessionTimeoutMs));
      const r = await coordinator.connection.heartbeat(
        {
          groupId: this.groupId,
          generationId: request.generationId,
          memberId: request.memberId,
          groupInstanceId: this.groupInstanceId ?? '',
        },
        { timeoutMs: Math.min(this.deps.cluster.requestTimeoutMs, this.sessionTimeoutMs), signal: this.stopping.signal },
      );
      const verdict = this.member.heartbeatAnswered(request.generationId, r.errorCode, this.deps.clock.now());
      this.perform(verdict.actions);
      if (r.errorCode === ErrorCode.NONE)
        this.events.emit('consumer.heartbeat', {
          groupId: this.groupId,
          memberId: request.memberId,
          groupGenerationId: request.generationId,
        });
      if (verdict.fatal)
        this.member.failed(errorFromCode(r.errorCode, r.errorMessage || `another consumer took group instance id ${this.groupInstanceId}`));
      if (verdict.coordinatorError && isCoordinatorMoved(errorFromCode(r.errorCode, r.errorMessage)))
        this.deps.groups.invalidate(this.groupId, coordinator);
    } catch (error) {
      if (this.closed) return;
      if (isCoordinatorMoved(error)) this.deps.groups.invalidate(this.groupId, coordinator);
    } finally {
      this.perform(this.member.sessionCheck(this.deps.clock.now()));
    }
  }

  private async checkMetadata(): Promise<void> {
    if (this.member.state !== 'stable') return;
    if (this.pattern) {
      const before = [...this.subscribedTopics].sort().join('\0');
      const after = (await this.currentTopics()).join('\0');
      if (before !== after) return this.perform(this.member.requestRejoin('the subscription pattern matches other topics now'));
    }
    if (this.member.isLeader) {
      const counts = await this.partitionCounts([...new Set([...this.leaderSnapshot.keys(), ...this.subscribedTopics])]);
      const changed = [...new Set([...counts.keys(), ...this.leaderSnapshot.keys()])].some(
        (t) => counts.get(t) !== this.leaderSnapshot.get(t),
      );
      if (changed) this.perform(this.member.requestRejoin('partition counts of subscribed topics changed'));
    }
  }

  private async leaveGroup(memberId: string, reason: string): Promise<void> {
    if (!memberId) return;
    try {
      const c = await this.deps.groups.coordinator(this.groupId, 5_000);
      await c.connection.leaveGroup(
        { groupId: this.groupId, members: [{ memberId, groupInstanceId: this.groupInstanceId ?? '', reason }] },
        { timeoutMs: 5_000 },
      );
    } catch (error) {
      this.deps.logger.debug('LeaveGroup failed; the session timeout will remove the member', {
        groupId: this.groupId,
        error: (error as Error).message,
      });
    }
  }

  // ---- small helpers ----

  private async callListener(which: keyof RebalanceListener, partitions: TopicPartition[]): Promise<void> {
    const fn = this.listener[which];
    if (!fn) return;
    try {
      await fn.call(
        this.listener,
        partitions.map((tp) => ({ ...tp })),
      );
    } catch (error) {
      this.deps.logger.error(`rebalance listener ${which} threw`, { groupId: this.groupId, error: (error as Error).message });
    }
  }

  private async waitFor(p: Promise<unknown>, ms: number): Promise<void> {
    const timer = new AbortController();
    const onStop = () => timer.abort();
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    try {
      await Promise.race([p, this.deps.clock.sleep(ms, timer.signal).catch(() => {})]);
    } finally {
      this.stopping.signal.removeEventListener('abort', onStop);
      timer.abort(SLEEP_CANCELLED);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new SamsaClosedError('the consumer is closed');
  }

  private checkOwned(tp: TopicPartition): void {
    this.checkOpen();
    if (!this.member.owns(tp)) throw new InvalidRequestError(`${tp.topic}-${tp.partition} is not assigned to this member`);
  }
}

/** Sets `map[tp]` to the offset after each partition's last record in `records` (once per run, not per record). */
function markUpTo(map: Map<string, bigint>, records: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>): void {
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const next = records[i + 1];
    if (next && next.partition === r.partition && next.topic === r.topic) continue;
    map.set(tpKey(r.topic, r.partition), r.offset + 1n);
  }
}

function countPartitions(records: ReadonlyArray<{ topic: string; partition: number }>): number {
  let n = 0;
  for (let i = 0; i < records.length; i++) {
    const prev = records[i - 1];
    if (!prev || prev.topic !== records[i]!.topic || prev.partition !== records[i]!.partition) n++;
  }
  return n;
}

function matches(pattern: RegExp, name: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(name);
}

function int(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}
