/**
 * Instrumentation events, KafkaJS's `consumer.on(consumer.events.GROUP_JOIN, e => ...)` in a typed
 * form: `consumer.on('consumer.group_join', (e) => e.payload.memberId)`. Each emitter has one
 * table of event names to payload types; `on()` returns the function that removes the listener.
 * Event names are KafkaJS's own strings (`consumer.group_join`, `consumer.end_batch_process`...),
 * so code and dashboards written against KafkaJS find them; request events belong to the Samsa
 * client (`client.network.request`) because its connections are shared by every producer,
 * consumer and admin made from it. Listeners run synchronously; one that throws is logged and
 * never disturbs the client.
 */
import type { Clock } from './clock.js';
import type { ErrorCode } from '@samsa/protocol';
import type { Logger } from './logger.js';

export interface InstrumentationEvent<T extends string, P> {
  type: T;
  /** ms since the epoch, from the client's clock. */
  timestamp: number;
  payload: P;
}

export type RemoveListener = () => void;

/** What `on()` accepts for an event table E. */
export type Listener<E, N extends keyof E & string> = (event: InstrumentationEvent<N, E[N]>) => void;

export class Instrumentation<E extends object> {
  private readonly listeners = new Map<string, Set<(event: InstrumentationEvent<string, unknown>) => void>>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  on<N extends keyof E & string>(type: N, listener: Listener<E, N>): RemoveListener {
    if (typeof listener !== 'function') throw new TypeError(`on('${type}', listener): listener must be a function`);
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const entry = listener as (event: InstrumentationEvent<string, unknown>) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Whether anyone listens: lets a caller skip building a payload nobody reads. */
  has(type: keyof E & string): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0;
  }

  emit<N extends keyof E & string>(type: N, payload: E[N]): void {
    const set = this.listeners.get(type);
    if (!set || set.size === 0) return;
    const event = { type, timestamp: this.clock.now(), payload };
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error('an instrumentation listener threw', { event: type, error: (error as Error).message });
      }
    }
  }
}

/** Events of the Samsa client (its connections are shared by all its producers, consumers and admins). */
export interface ClientEvents {
  /** The first answer from any broker. */
  'client.connect': { broker: string };
  /** close() finished: every connection is released. */
  'client.disconnect': Record<string, never>;
  /** A request answered or failed (transport failures included). */
  'client.network.request': {
    broker: string;
    /** The RPC: 'produce', 'fetch', 'metadata', 'joinGroup', 'offsetCommit'... */
    apiName: string;
    clientId: string;
    /** When it was sent (ms since the epoch). */
    createdAt: number;
    /** Until its answer, ms. */
    duration: number;
    /** Set when it failed: the Kafka error code of a transport or request failure. */
    errorCode?: ErrorCode | number;
  };
  /** The number of requests in flight on one broker's connection changed. */
  'client.network.request_queue_size': { broker: string; clientId: string; queueSize: number };
}

export interface OffsetsByTopic {
  topic: string;
  /** The next offset to read, as committed. */
  partitions: Array<{ partition: number; offset: bigint }>;
}

/** Events of a consumer in a group (GroupConsumer.on). */
export interface ConsumerEvents {
  /** The consumer reached its group coordinator for the first time. */
  'consumer.connect': { groupId: string };
  /** close() finished (after the commit, revoke and LeaveGroup). */
  'consumer.disconnect': { groupId: string };
  /** A JoinGroup / SyncGroup round ended with an assignment. */
  'consumer.group_join': {
    groupId: string;
    memberId: string;
    leaderId: string;
    isLeader: boolean;
    /** topic → partitions assigned to this member in the new generation. */
    memberAssignment: Record<string, number[]>;
    groupProtocol: string;
    /** From the JoinGroup being sent to the SyncGroup answer, ms. */
    duration: number;
  };
  /** This member starts rebalancing (its JoinGroup is about to be sent). */
  'consumer.rebalancing': { groupId: string; memberId: string };
  /** A Heartbeat was answered without error. */
  'consumer.heartbeat': { groupId: string; memberId: string; groupGenerationId: number };
  /** An OffsetCommit succeeded. */
  'consumer.commit_offsets': { groupId: string; memberId: string; groupGenerationId: number; topics: OffsetsByTopic[] };
  /** A fetch returned records. */
  'consumer.fetch': { numberOfBatches: number; numberOfRecords: number; duration: number };
  /** run() hands one partition's records of a fetch to the handler. */
  'consumer.start_batch_process': BatchProcessPayload;
  /** The handler finished with them. */
  'consumer.end_batch_process': BatchProcessPayload & { duration: number };
  /**
   * A handler's error outlived its retries (restart: restartOnFailure's verdict, run() goes on when
   * true), or run() ended with an error (restart false: a non-retriable error, or a fatal one of the member).
   */
  'consumer.crash': { groupId: string; error: Error; restart: boolean };
  /** run() ended. */
  'consumer.stop': { groupId: string };
}

export interface BatchProcessPayload {
  topic: string;
  partition: number;
  /** As of the fetch; -1n when unknown. */
  highWatermark: bigint;
  /** highWatermark - 1 - lastOffset (0n when unknown). */
  offsetLag: bigint;
  /** highWatermark - 1 - firstOffset (0n when unknown). */
  offsetLagLow: bigint;
  batchSize: number;
  firstOffset: bigint;
  lastOffset: bigint;
}
