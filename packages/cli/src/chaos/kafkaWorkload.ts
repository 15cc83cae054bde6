/**
 * The chaos workload through the Kafka wire protocol (`samsa chaos --workload kafka`): KafkaJS
 * 2.2.4 producers (idempotent, acks=-1) and a KafkaJS consumer group, writing and reading the same
 * self-describing values as the SDK workload (workload.ts), so the same checker judges them.
 *
 * One send() in flight per producer and partition, by design: KafkaJS hands out a partition's
 * sequence numbers when a request goes out and rewinds them when it fails, so a second send() to
 * the same partition entering between a failed request and its retry would reuse the failed one's
 * sequences and be taken by the broker for a duplicate of it (acknowledged at the other record's
 * offset). Each producer therefore sends, per partition, whatever accumulated since that
 * partition's last answer as one send() naming that partition alone, and waits for the answer:
 * every retry is the same records with the same sequences.
 *
 * Partitions are chosen here with Kafka's murmur2 (KafkaJS's default partitioner does the same),
 * so each record's offset follows from its partition's base offset in the answer.
 */
import { performance } from 'node:perf_hooks';
import { partitionForKey } from '@samsa/protocol';
import type { Consumer, Kafka as KafkaClient, Producer } from 'kafkajs';
import { encodeValue, type History } from './history.js';
import type { ReadRecord, Reader } from './workload.js';

type KafkaJs = typeof import('kafkajs');

/**
 * KafkaJS, loaded when the Kafka workload runs (a dependency of @samsa/cli; the import is lazy so
 * the rest of the CLI never loads it), with a clear error when an install left it out.
 */
export async function loadKafkaJs(): Promise<KafkaJs> {
  try {
    const mod = (await import('kafkajs')) as KafkaJs & { default?: KafkaJs };
    return mod.Kafka ? mod : mod.default!;
  } catch (err) {
    throw new Error(
      `--workload kafka needs the kafkajs package (2.2.4), a dependency of @samsa/cli that could not be loaded: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export interface KafkaWorkloadOptions {
  bootstrap: string[];
  topic: string;
  partitions: number;
  producers: number;
  ratePerSec: number;
  keysPerProducer: number;
  deliveryTimeoutMs: number;
  history: History;
}

/** The label a KafkaJS error goes to the history with: the Kafka error name where it has one. */
export function kafkaJsErrorLabel(err: unknown): string {
  const e = err as { type?: unknown; name?: unknown; originalError?: unknown } | undefined;
  if (e && typeof e.type === 'string') return e.type;
  if (e && e.name === 'KafkaJSNumberOfRetriesExceeded' && e.originalError)
    return `${kafkaJsErrorLabel(e.originalError)} (retries exceeded)`;
  return e && typeof e.name === 'string' ? e.name : 'unknown';
}

function kafkaClient(kafkajs: KafkaJs, bootstrap: string[], clientId: string): KafkaClient {
  return new kafkajs.Kafka({
    clientId,
    brokers: bootstrap,
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 },
  });
}

interface Pending {
  key: string;
  value: string;
  partition: number;
  t0: number;
}

/** Records not yet answered, per producer, beyond which sending pauses (bounds memory in an outage). */
const MAX_OUTSTANDING = 5_000;
/** Records per send() at most (one request). */
const MAX_PER_SEND = 500;

interface Lane {
  queue: Pending[];
  wake: (() => void) | undefined;
}

export class KafkaWorkload {
  /** The current producer of each workload producer, and its generation (bumped when replaced). */
  private readonly producers: Producer[] = [];
  private readonly generation: number[] = [];
  /** Producers replaced but perhaps still finishing sends of other partitions: disconnected at stop(). */
  private readonly retired: Producer[] = [];
  /** One lane per producer and partition: its queue and the wake-up of its send loop. */
  private readonly lanes: Lane[][] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly sent: number[] = [];
  private readonly inFlight: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stopping = false;
  /** Producers replaced by a fresh one (a new producer id) after a failed send. */
  replaced = 0;

  constructor(
    private readonly kafkajs: KafkaJs,
    private readonly o: KafkaWorkloadOptions,
  ) {}

  private async newProducer(i: number): Promise<Producer> {
    const producer = kafkaClient(this.kafkajs, this.o.bootstrap, `chaos-producer-${i}`).producer({
      idempotent: true,
      // KafkaJS's default for an idempotent producer (it warns when limited): retry until the
      // delivery timeout below gives up waiting.
      retry: { initialRetryTime: 50, maxRetryTime: 1_000, retries: Number.MAX_SAFE_INTEGER },
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    return producer;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.o.producers; i++) {
      this.producers.push(await this.newProducer(i));
      this.generation.push(0);
      this.lanes.push(Array.from({ length: this.o.partitions }, () => ({ queue: [], wake: undefined })));
      this.sent.push(0);
      this.inFlight.push(0);
    }
    for (let p = 0; p < this.producers.length; p++)
      for (let partition = 0; partition < this.o.partitions; partition++) this.loops.push(this.sendLoop(p, partition));
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), 10);
  }

  private tick(): void {
    const elapsedS = (performance.now() - this.startedAt) / 1000;
    const perProducer = this.o.ratePerSec / this.o.producers;
    for (let p = 0; p < this.producers.length; p++) {
      const due = Math.floor(perProducer * elapsedS) - this.sent[p]!;
      for (let i = 0; i < due && this.inFlight[p]! < MAX_OUTSTANDING; i++) this.enqueue(p);
      // Behind because of backpressure: skip what was not sent, keep the steady rate from here.
      if (this.inFlight[p]! >= MAX_OUTSTANDING) this.sent[p] = Math.floor(perProducer * elapsedS);
      for (const lane of this.lanes[p]!) if (lane.queue.length > 0) lane.wake?.();
    }
  }

  private enqueue(p: number): void {
    const seq = this.sent[p]!++;
    const key = `p${p}-k${seq % this.o.keysPerProducer}`;
    const value = encodeValue({ p, k: key, s: seq });
    this.o.history.log({ type: 'send', producer: p, key, value, seq });
    this.inFlight[p]!++;
    const partition = partitionForKey(key, this.o.partitions);
    this.lanes[p]![partition]!.queue.push({ key, value, partition, t0: performance.now() });
  }

  /**
   * One producer's sends to one partition, one at a time. A send() naming one partition goes to
   * one broker, which keeps KafkaJS 2.2.4 out of a retry bug: after a multi-broker send half
   * failed and a leader moved onto a broker that had already answered, it re-sends a partition
   * that was already written (with new sequences: a duplicate) or resolves without it.
   */
  private async sendLoop(p: number, partition: number): Promise<void> {
    const { history, topic } = this.o;
    const lane = this.lanes[p]![partition]!;
    for (;;) {
      if (lane.queue.length === 0) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          lane.wake = resolve;
        });
        lane.wake = undefined;
        continue;
      }
      const batch = lane.queue.splice(0, MAX_PER_SEND);
      const generation = this.generation[p]!;
      let healthy = true;
      try {
        const answer = await withTimeout(
          this.producers[p]!.send({
            topic,
            acks: -1,
            // The broker's wait for the ISR: short, so a write to a cut-off leader fails over quickly.
            timeout: 5_000,
            messages: batch.map((r) => ({ key: r.key, value: r.value, partition })),
          }),
          this.o.deliveryTimeoutMs,
        );
        const answers = answer.filter((m) => m.partition === partition);
        const base = answers.length === 1 ? BigInt(answers[0]!.baseOffset ?? '-1') : -1n;
        const now = performance.now();
        batch.forEach((r, i) => {
          const latencyMs = Math.round((now - r.t0) * 10) / 10;
          if (base < 0n) {
            healthy = false;
            history.log({
              type: 'fail',
              value: r.value,
              error: 'NO_ANSWER_FOR_PARTITION',
              message: `KafkaJS answered with ${answers.length} results for this partition`,
              latencyMs,
            });
          } else {
            history.log({ type: 'ack', value: r.value, partition, offset: (base + BigInt(i)).toString(), latencyMs });
          }
        });
      } catch (err) {
        healthy = false;
        const now = performance.now();
        for (const r of batch) {
          history.log({
            type: 'fail',
            value: r.value,
            error: kafkaJsErrorLabel(err),
            message: (err as Error)?.message ?? String(err),
            latencyMs: Math.round(now - r.t0),
          });
        }
      } finally {
        this.inFlight[p]! -= batch.length;
      }
      // A failure on a producer already replaced says nothing about the current one.
      if (!healthy && generation === this.generation[p]) await this.replaceProducer(p);
    }
  }

  /**
   * After a failed send KafkaJS's sequence numbers may no longer match the broker's (it rewinds a
   * partition's sequence when a request failed, though the batch may have been written; after a
   * timeout it may still be retrying). KafkaJS never resets them itself, so every later batch would
   * be refused with OUT_OF_ORDER_SEQUENCE_NUMBER, or worse, taken for a duplicate. The Java client
   * bumps its producer epoch here; we start a fresh producer (a new producer id) instead. The old
   * one keeps serving the sends of other partitions it has in flight (disconnected at stop()).
   */
  private async replaceProducer(p: number): Promise<void> {
    this.replaced++;
    const generation = ++this.generation[p]!;
    this.retired.push(this.producers[p]!);
    for (let attempt = 0; ; attempt++) {
      try {
        const fresh = await withTimeout(this.newProducer(p), 10_000);
        // Another lane may have replaced it meanwhile: keep the newest.
        if (generation === this.generation[p]) this.producers[p] = fresh;
        else this.retired.push(fresh);
        return;
      } catch {
        // The cluster is in a fault: keep trying, but give up once stopping (the records are answered already).
        if (this.stopping && attempt >= 3) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Stops sending and waits (bounded by the delivery timeout) for every queued record to be answered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    for (const lanes of this.lanes) for (const lane of lanes) lane.wake?.();
    await Promise.all(this.loops);
    await Promise.all([...this.producers, ...this.retired].map((p) => withTimeout(p.disconnect(), 10_000).catch(() => undefined)));
  }
}

class TimeoutError extends Error {
  override readonly name = 'DELIVERY_TIMEOUT';
}

/** `promise`, or a rejection after `ms` (KafkaJS retries an idempotent send for ever). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`no answer within the delivery timeout (${ms} ms)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface KafkaGroupReaderOptions {
  bootstrap: string[];
  topic: string;
  groupId: string;
  members: number;
  sessionTimeoutMs: number;
  onRebalance?: (member: string, change: 'assigned' | 'revoked' | 'lost', partitions: number[]) => void;
}

/** KafkaJS's own assignor (the only one it ships): eager, so every rebalance revokes everything. */
export const KAFKA_GROUP_READER_ASSIGNOR = 'RoundRobinAssigner';

/**
 * A KafkaJS consumer group reading the whole topic from the beginning: at-least-once (KafkaJS
 * commits an offset once eachMessage returned for it, every second here). A member that KafkaJS
 * does not restart after a crash is replaced by a fresh member of the same group, which resumes
 * from the commits.
 */
export class KafkaGroupReader implements Reader {
  private readonly current: Consumer[] = [];
  private stopping = false;
  private onRecord: ((r: ReadRecord) => void) | undefined;
  errors = 0;
  replaced = 0;
  private readonly starting: Promise<void>[] = [];

  constructor(
    private readonly kafkajs: KafkaJs,
    private readonly o: KafkaGroupReaderOptions,
  ) {}

  start(onRecord: (r: ReadRecord) => void): void {
    this.onRecord = onRecord;
    for (let i = 0; i < this.o.members; i++) this.starting.push(this.startMember(i));
  }

  private async startMember(i: number): Promise<void> {
    const consumer = kafkaClient(this.kafkajs, this.o.bootstrap, `chaos-reader-${i}`).consumer({
      groupId: this.o.groupId,
      sessionTimeout: this.o.sessionTimeoutMs,
      heartbeatInterval: Math.max(1, Math.floor(this.o.sessionTimeoutMs / 3)),
      rebalanceTimeout: 30_000,
      maxWaitTimeInMs: 300,
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 },
    });
    this.current[i] = consumer;
    let memberId = `chaos-reader-${i}`;
    let assigned: number[] = [];
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (assigned.length > 0) this.o.onRebalance?.(memberId, 'revoked', assigned);
      memberId = payload.memberId;
      assigned = [...(payload.memberAssignment[this.o.topic] ?? [])].sort((a, b) => a - b);
      if (assigned.length > 0) this.o.onRebalance?.(memberId, 'assigned', assigned);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.errors++;
      // KafkaJS restarts a member after a retriable crash; one it gave up on is replaced.
      if (!payload.restart && !this.stopping) {
        this.replaced++;
        void withTimeout(consumer.disconnect(), 15_000)
          .catch(() => undefined)
          .then(() => (this.stopping ? undefined : this.startMember(i)))
          .catch(() => {
            this.errors++;
          });
      }
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
      await consumer.run({
        autoCommitInterval: 1_000,
        eachMessage: async ({ partition, message }) => {
          this.onRecord?.({
            partition,
            offset: BigInt(message.offset),
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            member: memberId,
          });
        },
      });
    } catch {
      // The cluster is in a fault: try again shortly with a fresh member (bounded by stop()).
      this.errors++;
      await withTimeout(consumer.disconnect(), 15_000).catch(() => undefined);
      if (!this.stopping) {
        await new Promise((r) => setTimeout(r, 500));
        if (!this.stopping) await this.startMember(i);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.starting.map((s) => withTimeout(s, 20_000).catch(() => undefined)));
    // Members leave the group (committing what they read) one by one, each bounded.
    for (const c of this.current) await withTimeout(c.disconnect(), 15_000).catch(() => undefined);
  }
}
